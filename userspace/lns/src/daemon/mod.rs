//! The daemon: one control loop (mio/epoll, no async runtime) that owns the L2TP engine, one
//! PPP link per call, the RADIUS clients, the IP pool and the session table, and drives the
//! data plane's batched I/O between the UDP sockets and the TUN device.
//!
//! * [`calls`]: L2TP engine events ↔ PPP links, the end of a session.
//! * [`radius_glue`]: Access-Request/-Accept/-Reject, accounting.
//! * [`data_path`]: TUN ↔ UDP bursts through [`crate::data_plane`].
//! * [`accounting`]: `accounting_dir` dumps.
//! * [`signals`], [`notify`]: SIGHUP/SIGQUIT/SIGTERM and sd_notify.
//!
//! The loop sleeps until the earliest deadline of the engine, the links, RADIUS and the 1 s
//! session tick, or until a socket, the TUN device or a signal is ready.

mod accounting;
mod calls;
mod control;
mod data_path;
pub mod notify;
mod proxy;
mod radius_glue;
mod session;
pub mod signals;
mod state;

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::os::fd::AsRawFd;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mio::net::UdpSocket;
use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token};

use l2tp::{Engine, ResultCode};

use crate::config::Config;
use crate::data_plane::Counters;
use crate::ip_pool::IpPool;
use crate::routes::{RouteStyle, Routes};
use crate::session_table::{DataPlaneView, SessionKey, SessionTable};
use crate::startup::Startup;
use crate::tun_device::TunDevice;
use crate::udp_batch::RecvBatch;

pub use radius_glue::parse_framed_route;

use accounting::Ended;
use radius_glue::Radius;
use session::Sess;
use signals::{Request, Signals};

const TOKEN_TUN: Token = Token(0);
const TOKEN_SIGNALS: Token = Token(1);
// Tokens 2 and 3 were the RADIUS sockets; they now have a range of their own
// (`radius_glue::socket_of_token`).
const TOKEN_CONTROL: Token = Token(4);
/// UDP bind socket i is Token(TOKEN_UDP_BASE + i).
const TOKEN_UDP_BASE: usize = 16;

/// How long a clean shutdown waits for StopCCN/CDN and Accounting-Stop acknowledgements.
const SHUTDOWN_BOUND: Duration = Duration::from_secs(5);

/// How often the counters are logged (when they changed).
const STATS_LOG_INTERVAL: Duration = Duration::from_secs(5);

/// Daemon counters beyond the data plane's and the engines' own.
#[derive(Debug, Default, Clone)]
pub struct Stats {
    pub control_dropped: u64,
    pub ppp_dropped: u64,
    pub ppp_malformed: u64,
    pub tun_write_dropped: u64,
    pub udp_send_dropped: u64,
    pub mss_clamped: u64,
    pub icmp_unreachable_sent: u64,
    pub auth_rejects: u64,
    pub acct_acked: u64,
    pub acct_timeouts: u64,
    /// Calls whose PPP link started from the LAC's proxy LCP (`lcp_renegotiation on-mismatch`).
    pub proxy_lcp_accepted: u64,
    /// Calls whose proxy LCP was not acceptable: LCP renegotiated with the client.
    pub proxy_lcp_renegotiated: u64,
    /// nsctl requests answered.
    pub nsctl_requests: u64,
    /// nsctl datagrams that were not a request (counted and dropped, no answer).
    pub nsctl_malformed: u64,
    /// nsctl datagrams from outside the host on a loopback control socket.
    pub nsctl_refused: u64,
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
    config: Config,
    config_path: PathBuf,
    /// The `-v` count added to `debug` on every (re)load.
    extra_debug: u8,
    host_name: String,
    nas_ip: Ipv4Addr,
    pool: IpPool,
    poll: Poll,
    udp: Vec<(Ipv4Addr, UdpSocket)>,
    tun: TunDevice,
    routes: Option<Routes>,
    engine: Engine,
    table: SessionTable<Sess>,
    view: DataPlaneView,
    counters: Arc<Counters>,
    peer_socket: HashMap<SocketAddr, u16>,
    radius: Option<Radius>,
    /// The nsctl socket, once [`Daemon::open_control`] opened it.
    control: Option<control::Control>,
    auth_pending: HashMap<radius::RequestId, SessionKey>,
    acct_in_flight: usize,
    /// Sessions whose links were closed from outside their own drain (duplicate logins).
    pending_drain: Vec<SessionKey>,
    signals: Signals,
    recv: RecvBatch,
    down: data_path::DownBuffers,
    stats: Stats,
    started: Instant,
    boot_id: u32,
    acct_seq: u64,
    control_dirty: bool,
    next_tick: Instant,
    next_full_dump: Instant,
    next_shut_dump: Instant,
    ended: Vec<Ended>,
    /// PPP link deadlines (min-heap, may hold stale entries: see `link_timers`).
    link_timers: BinaryHeap<Reverse<(Instant, SessionKey)>>,
    icmp_limit: crate::icmp::RateLimit,
    /// Raw IPv4 socket (IP_HDRINCL) for ICMP errors; `None` if it could not be opened.
    icmp_socket: Option<socket2::Socket>,
    next_stats_log: Instant,
    last_stats_line: String,
}

pub(crate) fn unix_now() -> u64 {
    std::time::SystemTime::now()
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

fn engine_config(config: &Config, host_name: &str) -> l2tp::Config {
    let s = &config.settings;
    l2tp::Config {
        host_name: host_name.as_bytes().to_vec(),
        secret: Some(s.l2tp_secret.as_bytes().to_vec()).filter(|v| !v.is_empty()),
        // RFC 2661 §6.5: HELLO keeps NATs and the peer's liveness check happy; some clients
        // (Apple) choke on it, hence the switch. A day is the engine's longest interval.
        hello_interval: if s.disable_sending_hello {
            Duration::from_secs(86_400)
        } else {
            Duration::from_secs(60)
        },
        ..l2tp::Config::default()
    }
}

impl Daemon {
    /// Opens sockets, the TUN device and the route socket; nothing is served until [`run`].
    pub fn new(startup: Startup, extra_debug: u8) -> Result<Self, String> {
        let config = startup.loaded.config;
        let s = &config.settings;
        let host_name = s.hostname.clone().unwrap_or_else(system_host_name);
        let poll = Poll::new().map_err(|e| format!("epoll: {e}"))?;
        let mut udp = Vec::new();
        for (i, addr) in s.bind_addresses().into_iter().enumerate() {
            let sa = SocketAddr::from((addr, 1701));
            let sock = socket2::Socket::new(
                socket2::Domain::IPV4,
                socket2::Type::DGRAM,
                Some(socket2::Protocol::UDP),
            )
            .map_err(|e| format!("UDP socket: {e}"))?;
            // Large buffers absorb bursts while the loop is busy with control work.
            let _ = sock.set_recv_buffer_size(8 << 20);
            let _ = sock.set_send_buffer_size(8 << 20);
            sock.set_nonblocking(true).map_err(|e| e.to_string())?;
            sock.bind(&sa.into())
                .map_err(|e| format!("bind {sa}: {e}"))?;
            let mut sock = UdpSocket::from_std(sock.into());
            poll.registry()
                .register(&mut sock, Token(TOKEN_UDP_BASE + i), Interest::READABLE)
                .map_err(|e| e.to_string())?;
            udp.push((addr, sock));
        }
        let tun_name = s.tundevicename.clone().unwrap_or_else(|| "tun%d".into());
        let tun = TunDevice::open(&tun_name).map_err(|e| format!("TUN {tun_name}: {e}"))?;
        tun.configure(s.tun_address(), s.mru())
            .map_err(|e| format!("TUN {}: {e}", tun.name()))?;
        poll.registry()
            .register(
                &mut SourceFd(&tun.as_fd().as_raw_fd()),
                TOKEN_TUN,
                Interest::READABLE,
            )
            .map_err(|e| e.to_string())?;
        let routes = match Routes::new(
            tun.name(),
            RouteStyle {
                protocol: s.route_protocol,
                metric: s.route_metric,
            },
        ) {
            Ok(r) => Some(r),
            Err(e) => return Err(format!("rtnetlink: {e}")),
        };
        let mut routes = routes;
        if let Some(r) = routes.as_mut() {
            // ip_pool lines written as a.b.c.d/len are routed to the TUN device as a whole
            // (reference §2.3): free addresses then reach us and get an ICMP unreachable.
            for (p, l) in startup.pool_file.routes_for(&s.bind_addresses()) {
                if let Err(e) = r.add(p, l) {
                    log::warn!("route {p}/{l} for ip_pool: {e}");
                }
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
        let mut radius = Radius::new(s)?;
        if let Some(r) = radius.as_mut() {
            r.register(poll.registry())
                .map_err(|e| format!("RADIUS sockets: {e}"))?;
        } else {
            log::warn!("no RADIUS server configured: every login will be refused");
        }
        let signals = Signals::install().map_err(|e| format!("signals: {e}"))?;
        poll.registry()
            .register(
                &mut SourceFd(&signals.fd()),
                TOKEN_SIGNALS,
                Interest::READABLE,
            )
            .map_err(|e| e.to_string())?;
        let engine = Engine::new(
            engine_config(&config, &host_name),
            Box::new(rand_core::OsRng),
        )
        .map_err(|e| format!("L2TP: {e}"))?;
        let table = SessionTable::new();
        let view = table.data_plane();
        let nas_ip = Some(s.bind_address)
            .filter(|a| !a.is_unspecified())
            .unwrap_or_else(|| s.tun_address());
        let now = Instant::now();
        let mut boot = [0u8; 4];
        rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut boot);
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
        Ok(Daemon {
            config_path: startup.config_path,
            extra_debug,
            host_name,
            nas_ip,
            pool: startup.pool,
            poll,
            udp,
            tun,
            routes,
            engine,
            table,
            view,
            counters: Arc::new(Counters::default()),
            peer_socket: HashMap::new(),
            radius,
            control: None,
            auth_pending: HashMap::new(),
            acct_in_flight: 0,
            pending_drain: Vec::new(),
            signals,
            recv: RecvBatch::new(data_path::BURST),
            down: data_path::DownBuffers::new(),
            stats: Stats::default(),
            started: now,
            boot_id: u32::from_be_bytes(boot) ^ unix_now() as u32,
            acct_seq: 0,
            control_dirty: true,
            next_tick: now,
            next_full_dump: now + Duration::from_secs(crate::acct_dump::DUMP_INTERVAL_SECS),
            next_shut_dump: now
                + Duration::from_secs(crate::acct_dump::SHUTDOWN_DUMP_INTERVAL_SECS),
            ended: Vec::new(),
            link_timers: BinaryHeap::new(),
            icmp_limit: crate::icmp::RateLimit::default(),
            icmp_socket,
            next_stats_log: now + STATS_LOG_INTERVAL,
            last_stats_line: String::new(),
            config,
        })
    }

    /// The TUN device's name (the kernel completes `tun%d`).
    pub fn tun_name(&self) -> &str {
        self.tun.name()
    }

    /// Serves until SIGQUIT/SIGINT (clean shutdown) or SIGTERM.
    pub fn run(&mut self) -> io::Result<Exit> {
        let mut events = Events::with_capacity(64);
        let mut deadline = Instant::now();
        notify::notify("READY=1");
        loop {
            let timeout = deadline.saturating_duration_since(Instant::now());
            match self.poll.poll(&mut events, Some(timeout)) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
            let now = Instant::now();
            let mut requests = Vec::new();
            for ev in events.iter() {
                match ev.token() {
                    TOKEN_TUN => self.tun_readable(),
                    TOKEN_SIGNALS => requests.extend(self.signals.take()),
                    TOKEN_CONTROL => self.control_readable(now),
                    t => self.socket_readable(now, t),
                }
            }
            for r in requests {
                match r {
                    Request::Reload => self.reload(now),
                    Request::Quit => {
                        self.shutdown();
                        return Ok(Exit::Quit);
                    }
                    Request::Terminate => {
                        notify::notify("STOPPING=1");
                        log::info!("SIGTERM: exiting without clearing sessions");
                        return Ok(Exit::Terminate);
                    }
                }
            }
            self.timers(now);
            self.flush_control();
            if self.control_dirty || now >= deadline {
                deadline = self.deadline(now);
                self.control_dirty = false;
            }
        }
    }

    /// A RADIUS socket or one of the L2TP sockets is readable.
    fn socket_readable(&mut self, now: Instant, token: Token) {
        if let Some((acct, i)) = radius_glue::socket_of_token(token) {
            self.radius_readable(now, acct, i);
        } else if token.0 >= TOKEN_UDP_BASE && token.0 < TOKEN_UDP_BASE + self.udp.len() {
            self.udp_readable((token.0 - TOKEN_UDP_BASE) as u16, now);
        }
    }

    fn timers(&mut self, now: Instant) {
        if self.engine.poll_timeout().is_some_and(|t| t <= now) {
            self.engine.handle_timeout(now);
            self.engine_events(now);
        }
        if let Some(r) = self.radius.as_mut() {
            if r.deadline().is_some_and(|t| t <= now) {
                r.auth.handle_timeout(now);
                r.acct.handle_timeout(now);
                self.radius_events(now);
            }
        }
        self.link_timers(now);
        if now >= self.next_tick {
            self.next_tick = now + Duration::from_secs(1);
            self.session_tick(now);
            self.dump_tick(now);
            if now >= self.next_stats_log {
                self.next_stats_log = now + STATS_LOG_INTERVAL;
                let line = self.counters_line();
                if line != self.last_stats_line {
                    log::info!("counters: {line}");
                    self.last_stats_line = line;
                }
            }
        }
        for key in std::mem::take(&mut self.pending_drain) {
            self.drain_link(now, key);
        }
    }

    fn deadline(&self, now: Instant) -> Instant {
        [
            self.engine.poll_timeout(),
            self.radius.as_ref().and_then(Radius::deadline),
            self.links_deadline(),
            Some(self.next_tick),
        ]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(now + Duration::from_secs(1))
    }

    /// Sends what the engine and the RADIUS clients queued.
    fn flush_control(&mut self) {
        while let Some(t) = self.engine.poll_transmit() {
            let i = self.socket_for(&t.destination);
            if let Err(e) = self.udp[i].1.send_to(&t.contents, t.destination) {
                log::debug!("send to {}: {e}", t.destination);
                self.stats.udp_send_dropped += 1;
            }
        }
        if let Some(r) = self.radius.as_mut() {
            r.flush();
        }
    }

    /// SIGHUP: re-read startup-config (live keys take effect, new-session keys apply to new
    /// sessions) and reopen the log; sessions are untouched.
    fn reload(&mut self, now: Instant) {
        notify::notify("RELOADING=1");
        let path = self.config_path.display().to_string();
        let text = match std::fs::read_to_string(&self.config_path) {
            Ok(t) => t,
            Err(e) => {
                log::error!("reload: {path}: {e}; keeping the running configuration");
                notify::notify("READY=1");
                return;
            }
        };
        match self.config.reload(&path, &text) {
            Ok((loaded, diff)) => {
                let s = &loaded.config.settings;
                crate::logging::reconfigure(
                    &s.log_file,
                    s.debug.saturating_add(self.extra_debug).min(5),
                );
                log::info!("reloaded {path}: {diff:?}");
                for n in &loaded.not_implemented {
                    log::warn!("{path}:{n}");
                }
                self.config = loaded.config;
                let same_radius = self
                    .radius
                    .as_ref()
                    .is_some_and(|r| r.matches(&self.config.settings));
                if !same_radius && self.auth_pending.is_empty() && self.acct_in_flight == 0 {
                    self.rebuild_radius();
                } else if !same_radius {
                    log::warn!(
                        "RADIUS settings changed with requests in flight: they apply at the next reload"
                    );
                }
            }
            Err(errors) => {
                for e in &errors.0 {
                    log::error!("reload: {e}");
                }
                log::error!("reload failed; keeping the running configuration");
            }
        }
        let _ = now;
        notify::notify("READY=1");
    }

    fn rebuild_radius(&mut self) {
        if let Some(mut old) = self.radius.take() {
            old.deregister(self.poll.registry());
        }
        match Radius::new(&self.config.settings) {
            Ok(Some(mut r)) => match r.register(self.poll.registry()) {
                Ok(()) => self.radius = Some(r),
                Err(e) => log::error!("RADIUS sockets: {e}"),
            },
            Ok(None) => log::warn!("no RADIUS server configured"),
            Err(e) => log::error!("RADIUS: {e}"),
        }
    }

    /// SIGQUIT: CDN for every session and StopCCN for every tunnel, Acct-Stop for every
    /// session, then wait (bounded) for the acknowledgements.
    fn shutdown(&mut self) {
        notify::notify("STOPPING=1");
        let now = Instant::now();
        log::info!("shutting down: clearing {} session(s)", self.table.len());
        let keys: Vec<SessionKey> = self.table.iter().map(|(k, _)| k).collect();
        let mut tunnels: Vec<u16> = Vec::new();
        for key in keys {
            if let Some(ids) = self.table.ids(key) {
                tunnels.push(ids.tunnel);
            }
            self.end_session(now, key, radius::acct_terminate_cause::ADMIN_REBOOT, true);
        }
        tunnels.extend(self.peer_tunnels());
        tunnels.sort_unstable();
        tunnels.dedup();
        // Result 6: "being shut down" (RFC 2661 §4.4.2).
        for t in tunnels {
            let _ = self.engine.close_tunnel(now, t, ResultCode::new(6));
        }
        self.engine.set_admission(l2tp::Admission::ShuttingDown);
        self.write_dump(true);
        let end = now + SHUTDOWN_BOUND;
        // Closing tunnels linger in the engine to answer retransmissions (RFC 2661 §5.7), and
        // its API does not tell when a StopCCN is acknowledged: a second is time enough for
        // the acknowledgement or one retransmission on a working link.
        let grace = now + Duration::from_secs(1);
        let mut events = Events::with_capacity(64);
        loop {
            let now = Instant::now();
            self.timers(now);
            self.flush_control();
            let tunnels_left = self.engine.tunnel_count();
            if self.acct_in_flight == 0 && (tunnels_left == 0 || now >= grace) {
                break;
            }
            if now >= end {
                log::warn!(
                    "shutdown: gave up waiting ({} accounting request(s), {tunnels_left} tunnel(s) left)",
                    self.acct_in_flight
                );
                break;
            }
            let wait = (end - now).min(Duration::from_millis(100));
            if self.poll.poll(&mut events, Some(wait)).is_ok() {
                for ev in events.iter() {
                    match ev.token() {
                        TOKEN_TUN | TOKEN_SIGNALS | TOKEN_CONTROL => {}
                        t => self.socket_readable(now, t),
                    }
                }
            }
        }
        log::info!("counters: {}", self.counters_line());
        log::info!("shut down");
    }

    fn peer_tunnels(&self) -> Vec<u16> {
        self.table
            .iter()
            .filter_map(|(k, _)| self.table.ids(k).map(|i| i.tunnel))
            .collect()
    }

    /// Counters for logs and tests: (data plane, daemon, engine).
    pub fn counters_line(&self) -> String {
        use std::sync::atomic::Ordering::Relaxed;
        let c = &self.counters;
        let e = self.engine.stats();
        format!(
            "sessions={} down_packets={} up_packets={} to_control={} not_ipv4={} no_session={} over_mru={} malformed={} spoofed={} l2tp_datagrams={} l2tp_malformed={} l2tp_unknown_tunnel={} l2tp_unknown_session={} control_dropped={} ppp_malformed={} ppp_dropped={} tun_write_dropped={} udp_send_dropped={} mss_clamped={} icmp_unreachable_sent={} auth_rejects={} acct_acked={} acct_timeouts={} proxy_lcp_accepted={} proxy_lcp_renegotiated={} nsctl_requests={} nsctl_malformed={} nsctl_refused={}",
            self.table.len(),
            c.down_packets.load(Relaxed),
            c.up_packets.load(Relaxed),
            c.to_control.load(Relaxed),
            c.not_ipv4.load(Relaxed),
            c.no_session.load(Relaxed),
            c.over_mru.load(Relaxed),
            c.malformed.load(Relaxed),
            c.spoofed.load(Relaxed),
            e.datagrams,
            e.malformed,
            e.unknown_tunnel,
            e.unknown_session,
            self.stats.control_dropped,
            self.stats.ppp_malformed,
            self.stats.ppp_dropped,
            self.stats.tun_write_dropped,
            self.stats.udp_send_dropped,
            self.stats.mss_clamped,
            self.stats.icmp_unreachable_sent,
            self.stats.auth_rejects,
            self.stats.acct_acked,
            self.stats.acct_timeouts,
            self.stats.proxy_lcp_accepted,
            self.stats.proxy_lcp_renegotiated,
            self.stats.nsctl_requests,
            self.stats.nsctl_malformed,
            self.stats.nsctl_refused,
        )
    }
}

use std::os::fd::AsFd;
