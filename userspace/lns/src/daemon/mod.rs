//! The daemon: a thin shell that moves bytes between the operating system and the LNS
//! endpoint ([`lns_core::Endpoint`]), which makes every protocol decision. One control loop
//! (mio/epoll, no async runtime) owns the endpoint, the UDP sockets, the TUN device, the
//! route socket, the RADIUS sockets, the nsctl socket and the signals, and drives the data
//! plane's batched I/O ([`data_path`]) between the UDP sockets and the TUN device.
//!
//! * [`data_path`]: TUN ↔ UDP bursts through [`lns_dataplane::data_plane`].
//! * [`workers`]: the data-plane threads (`--workers N`), each with a [`data_path::DataPath`]
//!   of its own, handing the endpoint's work to this loop.
//! * [`control`]: the nsctl socket, turned into [`lns_core::Command`]s.
//! * [`metrics`]: the HTTP metrics listener (`/metrics`, `/sessions`).
//! * [`cli`], [`cli_commands`]: the telnet CLI (port 23), its commands and tables.
//! * [`radius_sockets`]: the RADIUS clients' sockets.
//! * [`dae`]: the RADIUS Dynamic Authorization socket (RFC 5176), fed to the endpoint.
//! * [`signals`], [`notify`]: SIGHUP/SIGQUIT/SIGTERM and sd_notify.
//!
//! The loop sleeps until the endpoint's next deadline or the next counters line, or until a
//! socket, the TUN device or a signal is ready; after every wake-up it carries out the
//! endpoint's actions ([`lns_core::Action`]).

mod cli;
mod cli_commands;
mod control;
mod dae;
mod data_path;
mod garden;
mod held;
mod metrics;
pub mod notify;
mod radius_sockets;
pub mod signals;
mod workers;

use std::io::{self, Write as _};
use std::net::{Ipv4Addr, SocketAddr};
use std::os::fd::{AsFd, AsRawFd};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use chrono::{Datelike, TimeZone, Timelike};
use mio::net::UdpSocket;
use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token};

use lns_core::acct_dump::{self, LocalTime};
use lns_core::config::Config;
use lns_core::session_table::DataPlaneView;
use lns_core::{Action, Clock, Command, Endpoint, Environment, RadiusClientKind};
use lns_dataplane::data_plane::Counters;

use crate::routes::{RouteStyle, Routes};
use crate::startup::Startup;
use crate::state_io;
use crate::tun_device::TunDevice;

use data_path::{DataPath, PathSettings, PathStats, SlowPath};

use radius_sockets::RadiusSockets;
use signals::{Request, Signals};

const TOKEN_TUN: Token = Token(0);
const TOKEN_SIGNALS: Token = Token(1);
const TOKEN_CONTROL: Token = Token(4);
const TOKEN_METRICS: Token = Token(5);
/// Metrics connection i is Token(TOKEN_METRICS_CONN_BASE + i) (above the RADIUS sockets').
const TOKEN_METRICS_CONN_BASE: usize = 1 << 20;
const TOKEN_DAE: Token = Token(6);
const TOKEN_CLI: Token = Token(7);
/// The workers handed slow-path work over.
const TOKEN_WORKERS: Token = Token(8);
/// UDP bind socket i is Token(TOKEN_UDP_BASE + i).
const TOKEN_UDP_BASE: usize = 16;

/// How often the counters are logged (when they changed).
const STATS_LOG_INTERVAL: Duration = Duration::from_secs(5);
/// Site hooks running at once at most (a burst of logins queues rather than forks).
const HOOKS_AT_ONCE: usize = 4;

/// The daemon's own counters: what happens at the system calls (the endpoint and the data
/// plane count the rest).
#[derive(Debug, Default, Clone)]
///
/// What the data paths count at their system calls is in [`PathStats`], one per path.
pub struct Stats {
    pub radius_send_failed: u64,
    pub icmp_unreachable_sent: u64,
    /// nsctl requests answered.
    pub nsctl_requests: u64,
    /// nsctl datagrams that were not a request (counted and dropped, no answer).
    pub nsctl_malformed: u64,
    /// nsctl datagrams from outside the host on a loopback control socket, or from a
    /// local user other than root.
    pub nsctl_refused: u64,
    /// HTTP requests the metrics listener answered (200, 404, 405).
    pub metrics_requests: u64,
    /// Metrics connections refused or closed: a wrong or missing token, a malformed or
    /// oversized request, no progress before the deadline, too many connections.
    pub metrics_refused: u64,
    /// DAE answers the socket did not take.
    pub dae_send_failed: u64,
    /// Telnet CLI connections accepted.
    pub cli_connections: u64,
    /// Telnet CLI connections refused (too many, or remote without a users file).
    pub cli_refused: u64,
    /// Failed CLI logins and `enable` passwords.
    pub cli_logins_failed: u64,
    /// CLI connections closed at the login prompt or idle (`--cli-idle-timeout`).
    pub cli_timeouts: u64,
    /// CLI command lines run.
    pub cli_commands: u64,
}

/// Why the daemon could not start, or could not save its state.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    /// A system call failed; `what` names the socket, device or file.
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: io::Error,
    },
    #[error(transparent)]
    Core(#[from] lns_core::CoreError),
}

/// Names the resource of a failed system call.
fn io_err(what: impl Into<String>) -> impl FnOnce(io::Error) -> DaemonError {
    let what = what.into();
    move |source| DaemonError::Io { what, source }
}

/// The command line's data-plane choices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataPlaneOptions {
    /// Data-plane threads (`--workers`; `None`: `data_workers`, whose 0 means one per online
    /// core). One means no thread: the control loop moves the packets itself.
    pub workers: Option<usize>,
    /// UDP GSO where the kernel has it (`--no-udp-gso` turns it off, for A/B measurements).
    pub udp_gso: bool,
}

impl Default for DataPlaneOptions {
    fn default() -> Self {
        DataPlaneOptions {
            workers: None,
            udp_gso: true,
        }
    }
}

/// How the daemon ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// SIGQUIT/SIGINT: every peer and session cleared.
    Quit,
    /// SIGTERM.
    Terminate,
}

pub struct Daemon {
    core: Endpoint,
    config_path: PathBuf,
    /// The `-v` count added to `debug` on every (re)load.
    extra_debug: u8,
    poll: Poll,
    /// The control loop's data path: its sockets (index 0 of each reuseport group), and the
    /// TUN device (with workers: a duplicate of worker 0's queue, only written).
    path: DataPath,
    /// The running workers' counters; empty in single-loop mode.
    workers: Vec<workers::WorkerView>,
    /// The workers set up by [`Daemon::new`], started by [`Daemon::run`].
    pending_workers: Vec<workers::Worker>,
    /// Slow-path work from the workers.
    from_workers: Option<std::sync::mpsc::Receiver<Vec<SlowPath>>>,
    waker: Arc<mio::Waker>,
    path_settings: Arc<PathSettings>,
    /// [`PathStats`] and each path's packets at the last `clear counters`.
    path_baseline: [u64; 6],
    worker_baseline: Vec<u64>,
    routes: Routes,
    radius: RadiusSockets,
    /// The RFC 5176 socket; `None` with `radius_dae_port 0`.
    dae: Option<UdpSocket>,
    /// The nsctl socket, once [`Daemon::open_control`] opened it.
    control: Option<control::Control>,
    /// The metrics listener, once [`Daemon::open_metrics`] opened it.
    metrics: Option<metrics::Metrics>,
    /// The telnet CLI, once [`Daemon::open_cli`] opened it.
    cli: Option<cli::Cli>,
    /// The CLI's logins (the `users` file beside the startup-config).
    users: lns_config::users::Users,
    /// Whether that file exists: without it the CLI serves loopback clients only.
    users_file: bool,
    started: Instant,
    signals: Signals,
    /// The data plane's counters at the last `clear counters` (the log line, nsctl and the
    /// CLI show what came since; metrics stay monotonic).
    data_plane_baseline: lns_dataplane::data_plane::CounterValues,
    stats: Stats,
    icmp_limit: lns_dataplane::icmp::RateLimit,
    /// Raw IPv4 socket (IP_HDRINCL) for ICMP errors; `None` if it could not be opened.
    icmp_socket: Option<socket2::Socket>,
    next_stats_log: Instant,
    last_stats_line: String,
    /// `dump_speed`: when the next bandwidth line is due, and the counters at the last one.
    next_speed_dump: Instant,
    last_speed: (Instant, [u64; 4]),
    /// The walled garden's iptables calls, in order.
    garden: crate::runner::Runner,
    /// The site's hook, a few at a time.
    hooks: crate::runner::Runner,
}

pub(crate) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn system_host_name() -> String {
    let full = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    full.trim()
        .split('.')
        .next()
        .unwrap_or("l2tpns")
        .to_string()
}

/// Binds UDP 1701 on each bind address: for each, the control loop's socket (registered
/// here) and, with `workers`, one socket per worker in the same reuseport group.
#[allow(clippy::type_complexity)]
fn bind_l2tp(
    poll: &Poll,
    addresses: &[Ipv4Addr],
    workers: usize,
) -> Result<(Vec<(Ipv4Addr, UdpSocket)>, Vec<Vec<(Ipv4Addr, UdpSocket)>>), DaemonError> {
    let mut udp = Vec::new();
    let mut per_worker: Vec<Vec<(Ipv4Addr, UdpSocket)>> =
        (0..workers).map(|_| Vec::new()).collect();
    for (i, &addr) in addresses.iter().enumerate() {
        let sa = SocketAddr::from((addr, 1701));
        let group = crate::reuseport::bind_group(sa, workers as u32)
            .map_err(io_err(format!("bind {sa}")))?;
        let mut group = group.into_iter().map(UdpSocket::from_std);
        let Some(mut sock) = group.next() else {
            continue;
        };
        poll.registry()
            .register(&mut sock, Token(TOKEN_UDP_BASE + i), Interest::READABLE)
            .map_err(io_err(format!("epoll: {sa}")))?;
        udp.push((addr, sock));
        for (w, sock) in per_worker.iter_mut().zip(group) {
            w.push((addr, sock));
        }
    }
    Ok((udp, per_worker))
}

/// Opens the TUN device: one queue with no workers, else one queue per worker (the kernel
/// picks a downstream packet's queue by its flow hash).
fn open_tun(name: &str, workers: usize) -> Result<(TunDevice, Vec<TunDevice>), DaemonError> {
    let what = || format!("TUN {name}");
    if workers == 0 {
        return Ok((TunDevice::open(name).map_err(io_err(what()))?, Vec::new()));
    }
    let first = TunDevice::open_queue(name).map_err(io_err(what()))?;
    let mut queues = vec![first];
    for _ in 1..workers {
        let q = TunDevice::open_queue(queues[0].name()).map_err(io_err(what()))?;
        queues.push(q);
    }
    let control = queues[0].try_clone().map_err(io_err(what()))?;
    Ok((control, queues))
}

impl Daemon {
    /// Opens sockets, the TUN device and the route socket, and starts the endpoint; nothing
    /// is served until [`Daemon::run`].
    pub fn new(
        startup: Startup,
        extra_debug: u8,
        options: DataPlaneOptions,
    ) -> Result<Self, DaemonError> {
        let workers = options.workers;
        let config = startup.loaded.config;
        let s = &config.settings;
        let host_name = s.hostname.clone().unwrap_or_else(system_host_name);
        let poll = Poll::new().map_err(io_err("epoll"))?;
        let configured = (s.data_workers != 0).then_some(s.data_workers as usize);
        let worker_count = match workers::count(workers.or(configured)) {
            1 => 0,
            n => n,
        };
        let (udp, worker_udp) = bind_l2tp(&poll, &s.bind_addresses(), worker_count)?;
        let tun_name = s.tundevicename.clone().unwrap_or_else(|| "tun%d".into());
        let (tun, queues) = open_tun(&tun_name, worker_count)?;
        tun.configure(s.tun_address(), s.mru())
            .map_err(io_err(format!("TUN {}", tun.name())))?;
        if worker_count == 0 {
            poll.registry()
                .register(
                    &mut SourceFd(&tun.as_fd().as_raw_fd()),
                    TOKEN_TUN,
                    Interest::READABLE,
                )
                .map_err(io_err("epoll: TUN"))?;
        }
        let waker = Arc::new(
            mio::Waker::new(poll.registry(), TOKEN_WORKERS).map_err(io_err("epoll: waker"))?,
        );
        let mut routes = Routes::new(
            tun.name(),
            RouteStyle {
                protocol: s.route_protocol,
                metric: s.route_metric,
            },
        )
        .map_err(io_err("rtnetlink"))?;
        // ip_pool lines written as a.b.c.d/len are routed to the TUN device as a whole: free
        // addresses then reach us and get an ICMP unreachable.
        for (p, l) in startup.pool_file.routes_for(&s.bind_addresses()) {
            if let Err(e) = routes.add(p, l) {
                log::warn!("route {p}/{l} for ip_pool: {e}");
            }
        }
        // IPPROTO_RAW implies IP_HDRINCL (raw(7)): we send complete IPv4 packets.
        let icmp_socket = socket2::Socket::new(
            socket2::Domain::IPV4,
            socket2::Type::RAW,
            Some(socket2::Protocol::from(libc::IPPROTO_RAW)),
        )
        .and_then(|sock| sock.set_nonblocking(true).map(|()| sock))
        .map_err(|e| log::warn!("raw socket for ICMP unreachables: {e}; none will be sent"))
        .ok();
        let radius = RadiusSockets::open(s, poll.registry()).map_err(io_err("RADIUS"))?;
        let dae = dae::open(s, poll.registry());
        let signals = Signals::install().map_err(io_err("signals"))?;
        poll.registry()
            .register(
                &mut SourceFd(&signals.fd()),
                TOKEN_SIGNALS,
                Interest::READABLE,
            )
            .map_err(io_err("epoll: signals"))?;
        log::info!(
            "listening on {} UDP 1701, TUN {} {}, {} pool address(es)",
            udp.iter()
                .map(|(a, _)| a.to_string())
                .collect::<Vec<_>>()
                .join(","),
            tun.name(),
            s.tun_address(),
            startup.pool.len()
        );
        let now = Instant::now();
        let env = Environment {
            host_name,
            radius_sockets: radius.counts(),
            clock: Clock::new(now, unix_now()),
        };
        let clock = env.clock;
        let path_settings = Arc::new(PathSettings::new(&config.settings));
        let core = Endpoint::new(config, startup.pool, env, &mut rand_core::OsRng, now)?;
        let view: DataPlaneView = core.data_plane();
        let mut pending_workers = Vec::new();
        for (index, (queue, udp)) in queues.into_iter().zip(worker_udp).enumerate() {
            let mut path = DataPath::new(queue, udp, view.clone(), path_settings.clone(), clock);
            path.allow_gso(options.udp_gso);
            pending_workers
                .push(workers::Worker::new(index, path).map_err(io_err("epoll: worker"))?);
        }
        if worker_count == 0 {
            log::info!("data plane: one loop (no worker threads), single-queue TUN");
        } else {
            log::info!(
                "data plane: {worker_count} worker threads, multi-queue TUN ({worker_count} queues, kernel flow hash), \
                 UDP SO_REUSEPORT group per bind address steered by L2TP session id (classic BPF; control messages to the control loop)"
            );
        }
        let mut path = DataPath::new(tun, udp, view, path_settings.clone(), clock);
        path.allow_gso(options.udp_gso);
        log::info!(
            "data plane: UDP GSO (UDP_SEGMENT) {}",
            if path.gso() {
                "in use for runs of equal-size datagrams to one LAC"
            } else if !options.udp_gso {
                "off (--no-udp-gso): sendmmsg only"
            } else {
                "not supported by this kernel: sendmmsg only"
            }
        );
        let users_file =
            crate::startup::sibling(&startup.config_path, crate::startup::USERS_FILE).exists();
        Ok(Daemon {
            cli: None,
            users: startup.users,
            users_file,
            started: now,
            core,
            config_path: startup.config_path,
            extra_debug,
            poll,
            path,
            workers: Vec::new(),
            worker_baseline: vec![0; pending_workers.len()],
            pending_workers,
            from_workers: None,
            waker,
            path_settings,
            path_baseline: [0; 6],
            routes,
            radius,
            dae,
            control: None,
            metrics: None,
            signals,
            data_plane_baseline: Default::default(),
            stats: Stats::default(),
            icmp_limit: lns_dataplane::icmp::RateLimit::default(),
            icmp_socket,
            next_stats_log: now + STATS_LOG_INTERVAL,
            last_stats_line: String::new(),
            next_speed_dump: now + Duration::from_secs(1),
            last_speed: (now, [0; 4]),
            garden: crate::runner::Runner::new("garden", 1),
            hooks: crate::runner::Runner::new("hook", HOOKS_AT_ONCE),
        })
    }

    /// `save_state yes`: SIGTERM saves the sessions and a start resumes them.
    pub fn save_state_enabled(&self) -> bool {
        self.config().settings.save_state
    }

    /// `cli_bind_address`: where the telnet CLI listens unless `l2tpns --cli` says.
    pub fn cli_bind_address(&self) -> Ipv4Addr {
        self.config().settings.cli_bind_address
    }

    /// The TUN device's name (the kernel completes `tun%d`).
    pub fn tun_name(&self) -> &str {
        self.path.tun.name()
    }

    fn config(&self) -> &Config {
        self.core.config()
    }

    /// Serves until SIGQUIT/SIGINT (clean shutdown) or SIGTERM.
    pub fn run(&mut self) -> io::Result<Exit> {
        let mut events = Events::with_capacity(64);
        self.start_workers()?;
        notify::notify("READY=1");
        loop {
            let now = Instant::now();
            let mut deadline = self
                .core
                .poll_timeout()
                .map_or(self.next_stats_log, |t| t.min(self.next_stats_log));
            if self.config().settings.dump_speed {
                deadline = deadline.min(self.next_speed_dump);
            }
            if let Some(t) = self.metrics_deadline(now) {
                deadline = deadline.min(t);
            }
            if let Some(t) = self.cli_timeout() {
                deadline = deadline.min(t);
            }
            if let Some(t) = self.path.held_deadline(now) {
                deadline = deadline.min(t);
            }
            if self.cli_busy() {
                deadline = now;
            }
            match self
                .poll
                .poll(&mut events, Some(deadline.saturating_duration_since(now)))
            {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
            let now = Instant::now();
            let mut requests = Vec::new();
            for ev in events.iter() {
                match ev.token() {
                    TOKEN_TUN => {
                        self.path.tun_readable();
                        self.slow_path(now);
                    }
                    TOKEN_WORKERS => self.workers_handed_over(now),
                    TOKEN_SIGNALS => requests.extend(self.signals.take()),
                    TOKEN_CONTROL => self.control_readable(now),
                    t if t == TOKEN_CLI || t.0 >= cli::TOKEN_CLI_BASE => self.cli_event(now, t),
                    TOKEN_METRICS => self.metrics_accept(now),
                    t if t.0 >= TOKEN_METRICS_CONN_BASE => self.metrics_event(now, t),
                    TOKEN_DAE => self.dae_readable(now),
                    t => self.socket_readable(now, t),
                }
                self.carry_out();
            }
            self.path.release_held();
            self.metrics_turn(now);
            self.metrics_expire(now);
            self.cli_tick(now);
            self.carry_out();
            for r in requests {
                match r {
                    Request::Reload => self.reload(now),
                    Request::Quit => {
                        self.shutdown();
                        self.stop_children();
                        return Ok(Exit::Quit);
                    }
                    Request::Terminate if self.config().settings.save_state => {
                        notify::notify("STOPPING=1");
                        log::info!("SIGTERM: exiting without clearing sessions");
                        self.stop_children();
                        return Ok(Exit::Terminate);
                    }
                    Request::Terminate => {
                        log::info!("SIGTERM with save_state no: clearing sessions");
                        self.shutdown();
                        self.stop_children();
                        return Ok(Exit::Quit);
                    }
                }
            }
            if self.core.poll_timeout().is_some_and(|t| t <= now) {
                self.core.handle_timeout(now);
            }
            self.carry_out();
            // `set` from the CLI or nsctl changes the settings without a reload: the data
            // paths read these two per burst.
            self.path_settings.update(&self.core.config().settings);
            if self.config().settings.dump_speed && now >= self.next_speed_dump {
                self.dump_speed(now);
            }
            if now >= self.next_stats_log {
                self.next_stats_log = now + STATS_LOG_INTERVAL;
                let line = self.counters_line();
                if line != self.last_stats_line {
                    log::info!("counters: {line}");
                    self.last_stats_line = line;
                }
            }
        }
    }

    /// Starts the workers [`Daemon::new`] set up (after the privileges were dropped: the
    /// threads inherit them).
    fn start_workers(&mut self) -> io::Result<()> {
        if self.pending_workers.is_empty() {
            return Ok(());
        }
        let (tx, rx) = workers::slow_queue();
        for w in std::mem::take(&mut self.pending_workers) {
            self.workers.push(w.view());
            w.spawn(tx.clone(), self.waker.clone())?;
        }
        self.from_workers = Some(rx);
        Ok(())
    }

    /// The workers handed work over: do it all.
    fn workers_handed_over(&mut self, now: Instant) {
        loop {
            let Some(batch) = self.from_workers.as_ref().and_then(|rx| rx.try_recv().ok()) else {
                return;
            };
            self.do_slow(now, batch);
            self.carry_out();
        }
    }

    /// What this loop's own data path collected for the endpoint.
    fn slow_path(&mut self, now: Instant) {
        let work = self.path.take_slow();
        self.do_slow(now, work);
    }

    fn do_slow(&mut self, now: Instant, work: Vec<SlowPath>) {
        for w in work {
            match w {
                SlowPath::L2tp {
                    socket,
                    from,
                    datagram,
                } => self
                    .core
                    .handle_l2tp(now, socket, SocketAddr::V4(from), &datagram),
                SlowPath::Sequenced(packet) => self.core.handle_tun_packet(now, &packet),
                SlowPath::Unreachable(start) => self.icmp_unreachable(now, &start),
            }
        }
    }

    /// ICMP host-unreachable for `original` (the start of a downstream packet no session
    /// has), at most `icmp_rate` per second.
    fn icmp_unreachable(&mut self, now: Instant, original: &[u8]) {
        let rate = self.config().settings.icmp_rate;
        if rate == 0 || !self.icmp_limit.allow(rate, self.core.clock().secs(now)) {
            return;
        }
        let mut out = Vec::new();
        let Some(raw) = self.icmp_socket.as_ref() else {
            return;
        };
        if lns_dataplane::icmp::host_unreachable(
            self.config().settings.tun_address(),
            original,
            &mut out,
        ) {
            // Through a raw socket, not the TUN device: the kernel drops packets that arrive
            // on an interface with one of its own addresses as the source.
            let dst = Ipv4Addr::new(out[16], out[17], out[18], out[19]);
            let to = socket2::SockAddr::from(std::net::SocketAddrV4::new(dst, 0));
            if raw.send_to(&out, &to).is_ok() {
                self.stats.icmp_unreachable_sent += 1;
            }
        }
    }

    /// The data plane's counters, the control loop's and every worker's added up.
    fn data_plane_sum(&self) -> lns_dataplane::data_plane::CounterValues {
        Counters::sum(
            std::iter::once(&*self.path.counters).chain(self.workers.iter().map(|w| &*w.counters)),
        )
    }

    /// The data paths' system-call counters, added up.
    fn path_stats(&self) -> [(&'static str, u64); 6] {
        PathStats::named(
            std::iter::once(&*self.path.stats).chain(self.workers.iter().map(|w| &*w.stats)),
        )
    }

    /// Packets each worker forwarded (both ways).
    fn worker_packets(&self) -> Vec<u64> {
        self.workers
            .iter()
            .map(|w| {
                let c = Counters::sum([&*w.counters]);
                c.up_packets + c.down_packets
            })
            .collect()
    }

    /// `clear counters`: the daemon's own reset, the atomics the workers write kept as a
    /// baseline.
    fn clear_counters(&mut self) {
        self.stats = Stats::default();
        self.data_plane_baseline = self.data_plane_sum();
        self.path_baseline = self.path_stats().map(|(_, v)| v);
        self.worker_baseline = self.worker_packets();
    }

    /// A RADIUS socket or one of the L2TP sockets is readable.
    fn socket_readable(&mut self, now: Instant, token: Token) {
        if let Some((client, i)) = radius_sockets::socket_of_token(token) {
            self.radius_readable(now, client, i);
        } else if token.0 >= TOKEN_UDP_BASE && token.0 < TOKEN_UDP_BASE + self.path.udp.len() {
            self.path
                .udp_readable((token.0 - TOKEN_UDP_BASE) as u16, now);
            self.slow_path(now);
        }
    }

    /// Receives the replies waiting on one RADIUS socket.
    fn radius_readable(&mut self, now: Instant, client: RadiusClientKind, index: usize) {
        let mut buf = [0u8; radius::MAX_PACKET_LEN];
        loop {
            let Some(sock) = self.radius.get(client, index) else {
                return;
            };
            match sock.recv_from(&mut buf) {
                Ok((n, from)) => self.core.handle_radius(now, client, index, from, &buf[..n]),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return,
            }
        }
    }

    /// Carries out what the endpoint asked for.
    fn carry_out(&mut self) {
        while let Some(a) = self.core.poll_action() {
            match a {
                Action::SendL2tp {
                    socket,
                    to,
                    datagram,
                } => {
                    // The socket the tunnel arrived on (bind address), or the first.
                    let Some((_, sock)) = self
                        .path
                        .udp
                        .get(usize::from(socket))
                        .or_else(|| self.path.udp.first())
                    else {
                        continue;
                    };
                    if let Err(e) = sock.send_to(&datagram, to) {
                        log::debug!("send to {to}: {e}");
                        PathStats::add(&self.path.stats.udp_send_dropped, 1);
                    }
                }
                Action::SendRadius {
                    client,
                    socket,
                    to,
                    datagram,
                } => {
                    let sent = self
                        .radius
                        .get(client, socket)
                        .map(|s| s.send_to(&datagram, to));
                    if !matches!(sent, Some(Ok(_))) {
                        self.stats.radius_send_failed += 1;
                        log::warn!("RADIUS send to {to}: {sent:?}");
                    }
                }
                Action::SendDae { to, datagram } => self.send_dae(to, &datagram),
                Action::WriteTun(packet) => self.path.write_tun(&packet),
                Action::AddRoute { prefix, len } => {
                    if let Err(e) = self.routes.add(prefix, len) {
                        log::warn!("route {prefix}/{len}: {e}");
                    }
                }
                Action::RemoveRoute { prefix, len } => {
                    let _ = self.routes.remove(prefix, len);
                }
                Action::WriteAccountingDump {
                    dir,
                    unix_time,
                    text,
                } => write_dump(&dir, unix_time, &text),
                Action::GardenSetup => {
                    for j in garden::setup(&self.config().settings) {
                        self.garden.submit(j);
                    }
                }
                Action::GardenTeardown => {
                    for j in garden::teardown(&self.config().settings) {
                        self.garden.submit(j);
                    }
                }
                Action::GardenAdd { address } => {
                    for j in garden::add(&self.config().settings, address) {
                        self.garden.submit(j);
                    }
                }
                Action::GardenRemove { address } => {
                    self.garden
                        .submit(garden::remove(&self.config().settings, address));
                }
                Action::RunHook { event, env } => {
                    if let Some(j) = garden::hook(&self.config().settings, event, env) {
                        self.hooks.submit(j);
                    }
                }
            }
        }
    }

    /// SIGHUP: re-read startup-config (live keys take effect, new-session keys apply to new
    /// sessions) and reopen the log; sessions are untouched.
    fn reload(&mut self, now: Instant) {
        notify::notify("RELOADING=1");
        self.reload_users();
        let path = self.config_path.display().to_string();
        match std::fs::read_to_string(&self.config_path) {
            Err(e) => log::error!("reload: {path}: {e}; keeping the running configuration"),
            Ok(text) => match self.config().reload(&path, &text) {
                Ok((loaded, _)) => {
                    let s = &loaded.config.settings;
                    crate::logging::reconfigure(
                        &s.log_file,
                        s.debug.saturating_add(self.extra_debug).min(5),
                    );
                    for n in &loaded.not_implemented {
                        log::warn!("{path}:{n}");
                    }
                    let reply = self
                        .core
                        .handle_command(now, Command::Reload(Box::new(loaded.config)));
                    log::info!("reloaded {path}: {}", reply.lines().join("; "));
                }
                Err(errors) => {
                    for e in &errors.0 {
                        log::error!("reload: {e}");
                    }
                    log::error!("reload failed; keeping the running configuration");
                }
            },
        }
        self.carry_out();
        notify::notify("READY=1");
    }

    /// Before exit: the walled garden's rules removed (a restart sets them up again), and
    /// the queued iptables calls and hooks let finish, each bounded by its timeout.
    fn stop_children(&mut self) {
        if self.core.garden_active() {
            for j in garden::teardown(&self.config().settings) {
                self.garden.submit(j);
            }
        }
        self.garden.finish();
        self.hooks.finish();
    }

    /// SIGQUIT: CDN for every session and StopCCN for every tunnel, Acct-Stop for every
    /// session, then wait (bounded) for the acknowledgements.
    fn shutdown(&mut self) {
        notify::notify("STOPPING=1");
        self.core.begin_shutdown(Instant::now());
        self.carry_out();
        let mut events = Events::with_capacity(64);
        loop {
            let now = Instant::now();
            if self.core.poll_timeout().is_some_and(|t| t <= now) {
                self.core.handle_timeout(now);
            }
            self.carry_out();
            if self.core.is_shut_down(now) {
                break;
            }
            if self
                .poll
                .poll(&mut events, Some(Duration::from_millis(100)))
                .is_ok()
            {
                for ev in events.iter() {
                    match ev.token() {
                        TOKEN_TUN | TOKEN_SIGNALS | TOKEN_CONTROL | TOKEN_DAE => {}
                        t => self.socket_readable(now, t),
                    }
                    self.carry_out();
                }
            }
        }
        log::info!("counters: {}", self.counters_line());
        log::info!("shut down");
    }

    /// Writes the state file for a restart (atomically, see [`state_io::save`]).
    pub fn save_state(&self, dir: &Path) -> Result<usize, DaemonError> {
        let boot = state_io::current_boot_id().map_err(io_err("boot_id"))?;
        let state = self.core.snapshot(Instant::now(), SystemTime::now(), &boot);
        let n = state.sessions.len();
        state_io::save(dir, &state).map_err(io_err(dir.display().to_string()))?;
        Ok(n)
    }

    /// Resumes what a SIGTERM saved, if the file is fresh; returns the sessions resumed.
    pub fn resume_state(&mut self, dir: &Path) -> usize {
        let boot = match state_io::current_boot_id() {
            Ok(b) => b,
            Err(e) => {
                log::warn!("boot_id: {e}: not resuming");
                return 0;
            }
        };
        let state = match state_io::load(dir, SystemTime::now(), &boot) {
            Ok(Some(s)) => s,
            Ok(None) => return 0,
            Err(e) => {
                log::warn!("saved state not resumed: {e}");
                return 0;
            }
        };
        let elapsed = state.elapsed(SystemTime::now());
        let n = self.core.resume(Instant::now(), state, elapsed);
        self.carry_out();
        n
    }

    /// Counters for logs and nsctl, `name=value` each: sessions, the data plane's, the
    /// endpoint's, the daemon's.
    pub fn counters(&self) -> Vec<(String, u64)> {
        let mut out: Vec<(String, u64)> =
            vec![("sessions".into(), self.core.session_count() as u64)];
        let data_plane = self.data_plane_sum().since(&self.data_plane_baseline);
        out.extend(data_plane.named().map(|(k, v)| (k.to_owned(), v)));
        out.extend(
            self.core
                .counters()
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v)),
        );
        for ((k, v), base) in self.path_stats().into_iter().zip(self.path_baseline) {
            let v = v.saturating_sub(base);
            let v = if k == "mss_clamped" {
                v + self.core.slow_path_mss_clamped()
            } else {
                v
            };
            out.push((k.into(), v));
        }
        for (i, (v, base)) in self
            .worker_packets()
            .into_iter()
            .zip(&self.worker_baseline)
            .enumerate()
        {
            out.push((format!("worker{i}_packets"), v.saturating_sub(*base)));
        }
        let s = &self.stats;
        for (k, v) in [
            ("radius_send_failed", s.radius_send_failed),
            ("icmp_unreachable_sent", s.icmp_unreachable_sent),
            ("nsctl_requests", s.nsctl_requests),
            ("nsctl_malformed", s.nsctl_malformed),
            ("nsctl_refused", s.nsctl_refused),
            ("metrics_requests", s.metrics_requests),
            ("metrics_refused", s.metrics_refused),
            ("dae_send_failed", s.dae_send_failed),
            ("cli_connections", s.cli_connections),
            ("cli_refused", s.cli_refused),
            ("cli_logins_failed", s.cli_logins_failed),
            ("cli_timeouts", s.cli_timeouts),
            ("cli_commands", s.cli_commands),
        ] {
            out.push((k.into(), v));
        }
        out
    }

    /// `dump_speed`: the bandwidth since the last line, once a second (the original printed
    /// it to standard output; here it is a log line).
    fn dump_speed(&mut self, now: Instant) {
        self.next_speed_dump = now + Duration::from_secs(1);
        let c = self.data_plane_sum();
        let current = [c.up_packets, c.up_octets, c.down_packets, c.down_octets];
        let (then, before) = self.last_speed;
        let secs = now.saturating_duration_since(then).as_secs_f64().max(0.001);
        let rate = |i: usize| current[i].saturating_sub(before[i]) as f64 / secs;
        log::info!(
            "speed: up {:.0} packets/s {:.1} kbit/s, down {:.0} packets/s {:.1} kbit/s",
            rate(0),
            rate(1) * 8.0 / 1000.0,
            rate(2),
            rate(3) * 8.0 / 1000.0
        );
        self.last_speed = (now, current);
    }

    pub fn counters_line(&self) -> String {
        self.counters()
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Appends an `accounting_dir` dump to the file named after `unix_time` in local time.
fn write_dump(dir: &Path, unix_time: u64, text: &str) {
    let Some(t) = chrono::Local
        .timestamp_opt(i64::try_from(unix_time).unwrap_or(0), 0)
        .single()
    else {
        return;
    };
    let name = acct_dump::file_name(LocalTime {
        year: t.year(),
        month: t.month() as u8,
        day: t.day() as u8,
        hour: t.hour() as u8,
        minute: t.minute() as u8,
        second: t.second() as u8,
    });
    let path = dir.join(name);
    let written = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .and_then(|mut f| f.write_all(text.as_bytes()));
    match written {
        Ok(()) => log::info!("accounting dump {}", path.display()),
        Err(e) => log::warn!("accounting dump {}: {e}", path.display()),
    }
}
