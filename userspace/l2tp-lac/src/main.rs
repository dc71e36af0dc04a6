//! `l2tp-lac`: open T tunnels × S PPP sessions to an LNS, bring IPCP up, send UDP probes
//! through every session at a given rate and size, and report set-up rate, packets per
//! second both ways, loss and latency.

use std::collections::{HashMap, HashSet, VecDeque};
use std::io::ErrorKind;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, ToSocketAddrs, UdpSocket};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::{Parser, ValueEnum};
use l2tp::TunnelId;
use l2tp::{CallInfo, Config, Engine, ResultCode};
use l2tp_lac::probe::{self, Probe};
use l2tp_lac::{CallId, Endpoint, EndpointEvent};
use ppp::lcp::AuthMethod;
use ppp::session::{Event as PppEvent, SessionConfig};
use rand_core::{OsRng, RngCore};
use serde::Serialize;

mod tun_bridge;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Auth {
    Pap,
    Chap,
}

/// LAC simulator and load generator for an L2TP network server.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// The LNS: HOST or HOST:PORT (port 1701 by default).
    #[arg(long)]
    lns: String,
    /// Local address to send from.
    #[arg(long, default_value = "0.0.0.0:0")]
    bind: SocketAddr,
    /// Tunnels to open.
    #[arg(short, long, default_value_t = 1)]
    tunnels: u16,
    /// Sessions per tunnel.
    #[arg(short, long, default_value_t = 1)]
    sessions: u16,
    /// PPP authentication the LAC accepts.
    #[arg(long, value_enum, default_value = "chap")]
    auth: Auth,
    /// PPP user name; `%d` is replaced by the session's number (0-based).
    #[arg(long, default_value = "user%d")]
    user: String,
    /// PPP password (or CHAP secret).
    #[arg(long, default_value = "password")]
    password: String,
    /// L2TP tunnel secret (tunnel authentication, RFC 2661 §5.1.1).
    #[arg(long)]
    secret: Option<String>,
    /// Host Name AVP we send.
    #[arg(long, default_value = "l2tp-lac")]
    hostname: String,
    /// Give up sessions not up after this many seconds.
    #[arg(long, default_value_t = 60)]
    setup_timeout: u64,
    /// Where the probes go (through the LNS): IPv4:PORT. No traffic without it.
    #[arg(long)]
    target: Option<SocketAddrV4>,
    /// Probes per second, all sessions together (fractions allowed: 0.5 is one every 2 s).
    #[arg(long, default_value_t = 1000.0)]
    rate: f64,
    /// Size of each probe's IPv4 packet in bytes.
    #[arg(long, default_value_t = 100)]
    size: usize,
    /// Seconds of traffic.
    #[arg(long, default_value_t = 5.0)]
    duration: f64,
    /// Seconds to wait for the last replies after sending stops.
    #[arg(long, default_value_t = 1.0)]
    drain: f64,
    /// Socket send and receive buffer size in bytes (capped by net.core.[rw]mem_max): room
    /// to absorb scheduling stalls on a busy host.
    #[arg(long, default_value_t = 4 << 20)]
    socket_buffer: usize,
    /// Calling Number AVP of each call (becomes the LNS's Calling-Station-Id); `%d` is
    /// replaced by the call's serial number.
    #[arg(long)]
    calling_number: Option<String>,
    /// Called Number AVP of each call (becomes the LNS's Called-Station-Id); `%d` as above.
    #[arg(long)]
    called_number: Option<String>,
    /// Stop answering LCP Echo-Requests this many seconds after the sessions are up (to test
    /// the LNS's keepalive timeout).
    #[arg(long)]
    ignore_echo_after: Option<f64>,
    /// Act as a LAC that negotiates LCP with its client itself (RFC 2661 §4.4.5): send the
    /// LCP Configure-Requests both sides exchanged in the ICCN (AVPs 26-28); the client then
    /// authenticates with the LNS over the call.
    #[arg(long)]
    proxy_lcp: bool,
    /// As --proxy-lcp, and authenticate the client too: its PAP password or CHAP
    /// challenge/response go to the LNS in the ICCN (AVPs 29-33), which answers it directly.
    #[arg(long)]
    proxy_auth: bool,
    /// At most this many sessions in set-up at once (0: every call placed as soon as its
    /// tunnel is up). Subscribers of a real LAC arrive over time; a window keeps a large run
    /// from measuring only how deep the LNS's and the RADIUS server's queues are.
    #[arg(long, default_value_t = 0)]
    setup_window: u32,
    /// Hand the session (with --tunnels 1 --sessions 1) to this TUN device, with the address
    /// IPCP gave, for the kernel's own traffic (iperf3, ping, ...) instead of probes; see
    /// --duration (0: until SIGINT or SIGTERM). Routes through it are the caller's.
    #[arg(long, value_name = "NAME")]
    tun: Option<String>,
    /// MTU of the --tun device: room for the L2TP, UDP and IP headers (about 40 bytes) below
    /// the path's MTU spares the LNS fragmenting each full-size packet.
    #[arg(long, default_value_t = 1400)]
    tun_mtu: u16,
    /// Tx Connect Speed AVP of each call in bit/s (RFC 2661 §4.4.5) [default: 10000000]
    #[arg(long)]
    tx_connect_speed: Option<u32>,
    /// Rx Connect Speed AVP of each call in bit/s (not sent without it)
    #[arg(long)]
    rx_connect_speed: Option<u32>,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize, Default, Debug)]
struct Report {
    tunnels_requested: u32,
    sessions_requested: u32,
    tunnels_up: u32,
    sessions_up: u32,
    sessions_failed: u32,
    setup_seconds: f64,
    setup_rate: f64,
    traffic_seconds: f64,
    sent: u64,
    received: u64,
    /// Probes not answered (only meaningful when the target echoes).
    lost: u64,
    loss_percent: f64,
    tx_pps: f64,
    rx_pps: f64,
    latency_min_us: Option<f64>,
    latency_avg_us: Option<f64>,
    latency_p99_us: Option<f64>,
    l2tp_dropped: u64,
    ppp_malformed: u64,
    ppp_dropped: u64,
    not_probes: u64,
    /// LCP Echo-Requests left unanswered (`--ignore-echo-after`).
    echo_ignored: u64,
    /// LCP Configure-Requests from the LNS (0 when it took over the proxy LCP).
    lcp_confreqs_received: u64,
    /// LCP Terminate-Requests from the LNS (sessions it ended politely).
    lcp_terminates_received: u64,
    /// LCP Echo-Requests from the LNS (its keepalive), answered or not.
    lcp_echo_requests_received: u64,
    /// Addresses IPCP gave the sessions, sorted.
    addresses: Vec<Ipv4Addr>,
    /// DNS servers IPCP gave (RFC 1877), each distinct one once, in order of arrival.
    dns: Vec<Ipv4Addr>,
    /// --tun: packets from the device sent on the session.
    tun_to_session: u64,
    /// --tun: packets of the session written to the device.
    tun_to_device: u64,
    /// --tun: packets lost between the two (the session or the device refused them).
    tun_lost: u64,
}

fn resolve_lns(s: &str) -> Result<SocketAddr, String> {
    let with_port = if s.parse::<SocketAddr>().is_ok() || s.contains(':') {
        s.to_string()
    } else {
        format!("{s}:1701")
    };
    with_port
        .to_socket_addrs()
        .map_err(|e| format!("--lns {s}: {e}"))?
        .next()
        .ok_or_else(|| format!("--lns {s}: no address"))
}

/// The LAC: sockets and a clock around an [`Endpoint`].
struct Lac {
    sock: UdpSocket,
    lns: SocketAddr,
    ep: Endpoint,
    buf: Vec<u8>,
    start: Instant,
}

impl Lac {
    fn flush(&mut self) -> std::io::Result<()> {
        while let Some(t) = self.ep.poll_transmit() {
            match self.sock.send_to(&t.contents, t.destination) {
                Ok(_) => {}
                // A full socket buffer loses the datagram like the network would.
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                // The LNS not (yet) listening: ICMP port unreachable; retransmission covers it.
                Err(e) if e.kind() == ErrorKind::ConnectionRefused => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Feeds the `n` bytes received in `buf` from `from` to the endpoint, if the LNS sent them.
    fn accept(&mut self, n: usize, from: SocketAddr) {
        if from == self.lns || from.ip() == self.lns.ip() {
            // Refused datagrams are counted by the endpoint.
            let _ = self
                .ep
                .handle_datagram(Instant::now(), from, &self.buf[..n]);
        }
    }

    /// Wait for datagrams until `deadline` (or the next timer), feed them, run timers.
    fn turn(&mut self, deadline: Instant) -> std::io::Result<()> {
        let now = Instant::now();
        let until = self.ep.poll_timeout().map_or(deadline, |t| t.min(deadline));
        let wait = until
            .saturating_duration_since(now)
            .max(Duration::from_micros(100));
        self.sock.set_read_timeout(Some(wait))?;
        let mut first = true;
        loop {
            match self.sock.recv_from(&mut self.buf) {
                Ok((n, from)) => self.accept(n, from),
                Err(e)
                    if matches!(
                        e.kind(),
                        ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::ConnectionRefused
                    ) =>
                {
                    break
                }
                Err(e) => return Err(e),
            }
            if first {
                // Drain what else is queued without sleeping.
                self.sock.set_nonblocking(true)?;
                first = false;
            }
        }
        if !first {
            self.sock.set_nonblocking(false)?;
        }
        self.ep.handle_timeout(Instant::now());
        self.flush()
    }

    fn ns(&self, t: Instant) -> u64 {
        t.duration_since(self.start).as_nanos() as u64
    }
}

/// What the run has seen so far.
struct Progress {
    tunnels: HashSet<TunnelId>,
    up: HashMap<CallId, Ipv4Addr>,
    last_up: Instant,
    /// Calls cleared (set-up failures, or drops once up).
    failed: u32,
    probes_in: Vec<probe::Received>,
    report: Report,
    /// Clients the LAC already ran LCP with (`--proxy-lcp`), numbering their `%d`.
    proxied: u32,
    /// Calls still to place: (tunnel, serial), see `open_more`.
    to_open: VecDeque<(TunnelId, u16)>,
    /// Calls placed so far.
    opened: u32,
}

impl Progress {
    /// Place the queued calls, at most `--setup-window` of them in set-up at once.
    fn open_more(&mut self, lac: &mut Lac, args: &Args) -> Result<(), String> {
        while let Some(&(tunnel, serial)) = self.to_open.front() {
            let settled = self.up.len() as u32 + self.failed;
            if args.setup_window > 0 && self.opened.saturating_sub(settled) >= args.setup_window {
                break;
            }
            self.to_open.pop_front();
            if !self.tunnels.contains(&tunnel) {
                // Its tunnel went down meanwhile: the call counts as failed.
                self.failed += 1;
                continue;
            }
            self.opened += 1;
            let number = |pattern: &Option<String>| {
                pattern
                    .as_ref()
                    .map(|p| p.replace("%d", &serial.to_string()).into_bytes())
            };
            let call = CallInfo {
                serial: u32::from(serial),
                bearer_type: Some(2),
                calling_number: number(&args.calling_number),
                called_number: number(&args.called_number),
                tx_connect_speed: args.tx_connect_speed,
                rx_connect_speed: args.rx_connect_speed,
                ..CallInfo::default()
            };
            let opened = if args.proxy_lcp || args.proxy_auth {
                let (link, call) = proxied_client(args, self.proxied, call)?;
                self.proxied += 1;
                lac.ep
                    .open_proxied_session(Instant::now(), tunnel, call, link)
            } else {
                lac.ep.open_session(Instant::now(), tunnel, call)
            };
            opened.map_err(|e| format!("open session: {e}"))?;
        }
        Ok(())
    }

    fn on_event(&mut self, e: EndpointEvent, lac: &mut Lac, args: &Args) -> Result<(), String> {
        match e {
            EndpointEvent::TunnelUp { tunnel } => {
                self.report.tunnels_up += 1;
                self.to_open
                    .extend((0..args.sessions).map(|serial| (tunnel, serial)));
                self.open_more(lac, args)?;
            }
            EndpointEvent::TunnelDown { tunnel, cause } => {
                self.tunnels.remove(&tunnel);
                eprintln!("tunnel {tunnel} down: {cause:?}");
            }
            EndpointEvent::CallDown { call, cause } => {
                self.up.remove(&call);
                self.failed += 1;
                eprintln!("session {call:?} down: {cause:?}");
            }
            EndpointEvent::Ppp {
                call,
                event: PppEvent::Ipv4Up(n),
            } => {
                if let Some(addr) = n.local {
                    self.up.insert(call, addr);
                    self.last_up = Instant::now();
                }
                for d in n.dns.into_iter().flatten() {
                    if !self.report.dns.contains(&d) {
                        self.report.dns.push(d);
                    }
                }
            }
            EndpointEvent::Ppp {
                call,
                event: PppEvent::AuthFailed { message },
            } => eprintln!(
                "session {call:?}: authentication failed: {}",
                String::from_utf8_lossy(&message)
            ),
            EndpointEvent::Ipv4 { packet, .. } => match probe::parse(&packet) {
                Some(r) => self.probes_in.push(r),
                None => self.report.not_probes += 1,
            },
            _ => {}
        }
        Ok(())
    }
}

/// The PPP client of session number `index`.
fn peer_config(user: &str, password: &str, auth: Auth, index: u32) -> SessionConfig {
    let user = user.replace("%d", &index.to_string());
    let mut c = SessionConfig::peer(user.as_bytes(), password.as_bytes());
    c.lcp.auth = vec![match auth {
        Auth::Pap => AuthMethod::Pap,
        Auth::Chap => AuthMethod::ChapMd5,
    }];
    c
}

/// Client number `index` after the LAC ran LCP and authentication with it, and `call` with
/// the proxy AVPs for the ICCN.
fn proxied_client(
    args: &Args,
    index: u32,
    mut call: CallInfo,
) -> Result<(ppp::session::Session, CallInfo), String> {
    let client = peer_config(&args.user, &args.password, args.auth, index);
    let mut lac = SessionConfig::authenticator(args.hostname.as_bytes(), Ipv4Addr::UNSPECIFIED);
    lac.lcp.auth = client.lcp.auth.clone();
    let mut seeds = [[0u8; 16]; 2];
    seeds.iter_mut().for_each(|s| OsRng.fill_bytes(s));
    let (link, values) =
        l2tp_lac::proxy::negotiate(Instant::now(), client, seeds[0], lac, seeds[1])
            .map_err(|e| format!("session {index}: {e}"))?;
    values.apply(&mut call, !args.proxy_auth);
    Ok((link, call))
}

fn run(args: &Args) -> Result<Report, String> {
    if args.tunnels == 0 || args.sessions == 0 {
        return Err("--tunnels and --sessions must be at least 1".into());
    }
    if !(args.duration.is_finite() && args.duration >= 0.0 && args.drain >= 0.0) {
        return Err("--duration and --drain must be non-negative".into());
    }
    if args
        .ignore_echo_after
        .is_some_and(|s| !(s.is_finite() && s >= 0.0))
    {
        return Err("--ignore-echo-after must be a non-negative number of seconds".into());
    }
    if args.tun.is_some() && (args.tunnels, args.sessions) != (1, 1) {
        return Err("--tun takes one session: --tunnels 1 --sessions 1".into());
    }
    if args.tun.is_some() && args.target.is_some() {
        return Err("--tun and --target exclude each other: the kernel's traffic or probes".into());
    }
    let lns = resolve_lns(&args.lns)?;
    let sock = UdpSocket::bind(args.bind).map_err(|e| format!("bind {}: {e}", args.bind))?;
    let sock2 = socket2::SockRef::from(&sock);
    sock2
        .set_recv_buffer_size(args.socket_buffer)
        .and_then(|()| sock2.set_send_buffer_size(args.socket_buffer))
        .map_err(|e| format!("socket buffers: {e}"))?;
    let cfg = Config {
        host_name: args.hostname.as_bytes().to_vec(),
        secret: args.secret.as_ref().map(|s| s.as_bytes().to_vec()),
        accept_incoming: false,
        ..Config::default()
    };
    let engine = Engine::new(cfg, Box::new(OsRng)).map_err(|e| format!("L2TP settings: {e}"))?;
    // Session numbers for `%d`, in the order calls come up.
    let idx = std::sync::atomic::AtomicU32::new(0);
    let (user, password, auth) = (args.user.clone(), args.password.clone(), args.auth);
    let ep = Endpoint::new(
        engine,
        Box::new(move |_, _| {
            let i = idx.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let mut seed = [0u8; 16];
            OsRng.fill_bytes(&mut seed);
            (peer_config(&user, &password, auth, i).into(), seed)
        }),
    );
    let start = Instant::now();
    let mut lac = Lac {
        sock,
        lns,
        ep,
        buf: vec![0u8; 65536],
        start,
    };
    let total = u32::from(args.tunnels) * u32::from(args.sessions);
    let report = Report {
        tunnels_requested: u32::from(args.tunnels),
        sessions_requested: total,
        ..Report::default()
    };

    // Set-up: every tunnel, then every call on each tunnel as soon as it is up.
    let mut tunnels = HashSet::new();
    let io = |e: std::io::Error| format!("socket: {e}");
    for _ in 0..args.tunnels {
        let t = lac
            .ep
            .connect(Instant::now(), lns)
            .map_err(|e| format!("connect: {e}"))?;
        tunnels.insert(t);
    }
    lac.flush().map_err(io)?;
    let setup_deadline = start + Duration::from_secs(args.setup_timeout);
    let mut p = Progress {
        tunnels,
        up: HashMap::new(),
        last_up: start,
        failed: 0,
        probes_in: Vec::new(),
        report,
        proxied: 0,
        to_open: VecDeque::new(),
        opened: 0,
    };
    while p.up.len() < total as usize && Instant::now() < setup_deadline {
        if p.tunnels.is_empty() {
            break;
        }
        if p.up.len() + p.failed as usize >= total as usize && p.report.tunnels_up > 0 {
            break;
        }
        lac.turn(setup_deadline).map_err(io)?;
        while let Some(e) = lac.ep.poll_event() {
            p.on_event(e, &mut lac, args)?;
        }
        p.open_more(&mut lac, args)?;
        lac.flush().map_err(io)?;
    }
    p.report.sessions_up = p.up.len() as u32;
    p.report.addresses = p.up.values().copied().collect();
    p.report.addresses.sort();
    p.report.sessions_failed = total - p.report.sessions_up;
    p.report.setup_seconds = p.last_up.duration_since(start).as_secs_f64();
    if p.report.setup_seconds > 0.0 {
        p.report.setup_rate = f64::from(p.report.sessions_up) / p.report.setup_seconds;
    }

    if let (Some(name), Some((&call, &address))) = (&args.tun, p.up.iter().next()) {
        let t0 = Instant::now();
        let f = tun_bridge::run(&mut lac, call, address, name, args.tun_mtu, args.duration)?;
        p.report.traffic_seconds = t0.elapsed().as_secs_f64();
        p.report.tun_to_session = f.to_session;
        p.report.tun_to_device = f.to_device;
        p.report.tun_lost = f.not_sent + f.not_written;
    }

    // Traffic: probes round-robin over the sessions, paced to the rate.
    if let (Some(target), false) = (args.target, p.up.is_empty()) {
        let mut calls: Vec<(CallId, Ipv4Addr)> = p.up.iter().map(|(c, a)| (*c, *a)).collect();
        calls.sort();
        let interval = Duration::from_secs_f64(1.0 / args.rate.max(0.001));
        let t0 = Instant::now();
        let stop = t0 + Duration::from_secs_f64(args.duration);
        let end = stop + Duration::from_secs_f64(args.drain);
        let mut next = t0;
        let mut seq = 0u64;
        let ignore_echo_at = args
            .ignore_echo_after
            .map(|s| t0 + Duration::from_secs_f64(s));
        while Instant::now() < end {
            let now = Instant::now();
            if ignore_echo_at.is_some_and(|t| t <= now) {
                lac.ep.set_ignore_echo_requests(true);
            }
            // Send what is due, in bursts small enough not to overflow the LNS's socket
            // after a stall of ours; receiving comes between bursts.
            let mut burst = 0;
            while args.rate > 0.0 && next <= now && next < stop && burst < 32 {
                let i = (seq % calls.len() as u64) as usize;
                let (call, addr) = calls[i];
                let header = Probe {
                    session: i as u32,
                    seq,
                    sent_ns: lac.ns(Instant::now()),
                };
                let from = SocketAddrV4::new(addr, 40000);
                let pkt = probe::build(from, target, header, args.size);
                if lac.ep.send_ipv4(call, &pkt).is_ok() {
                    p.report.sent += 1;
                }
                seq += 1;
                next += interval;
                burst += 1;
            }
            lac.flush().map_err(io)?;
            let mut wake = if next < stop { next } else { end };
            if let Some(t) = ignore_echo_at.filter(|&t| t > now) {
                wake = wake.min(t);
            }
            lac.turn(wake).map_err(io)?;
            while let Some(e) = lac.ep.poll_event() {
                let recv_ns = lac.ns(Instant::now());
                let before = p.probes_in.len();
                p.on_event(e, &mut lac, args)?;
                if let Some(r) = p.probes_in.get_mut(before) {
                    // Reuse sent_ns as the measured latency once received.
                    r.probe.sent_ns = recv_ns.saturating_sub(r.probe.sent_ns);
                }
            }
            lac.flush().map_err(io)?;
        }
        p.report.traffic_seconds = stop.duration_since(t0).as_secs_f64();
        let mut lat: Vec<u64> = p
            .probes_in
            .iter()
            .filter(|r| r.from == target)
            .map(|r| r.probe.sent_ns)
            .collect();
        p.report.received = lat.len() as u64;
        p.report.lost = p.report.sent.saturating_sub(p.report.received);
        if p.report.sent > 0 {
            p.report.loss_percent = 100.0 * p.report.lost as f64 / p.report.sent as f64;
        }
        if p.report.traffic_seconds > 0.0 {
            p.report.tx_pps = p.report.sent as f64 / p.report.traffic_seconds;
            p.report.rx_pps = p.report.received as f64 / p.report.traffic_seconds;
        }
        if !lat.is_empty() {
            lat.sort_unstable();
            let us = |ns: u64| ns as f64 / 1000.0;
            p.report.latency_min_us = Some(us(lat[0]));
            p.report.latency_avg_us = Some(us(lat.iter().sum::<u64>() / lat.len() as u64));
            let p99 = ((lat.len() * 99).div_ceil(100)).clamp(1, lat.len()) - 1;
            p.report.latency_p99_us = Some(us(lat[p99]));
        }
    }

    // Tear down: StopCCN on every tunnel, wait (bounded) for the acknowledgements.
    for t in p.tunnels.iter().copied().collect::<Vec<_>>() {
        let _ = lac
            .ep
            .close_tunnel(Instant::now(), t, ResultCode::CLEAR_CONTROL_CONNECTION);
    }
    lac.flush().map_err(io)?;
    let bye = Instant::now() + Duration::from_secs(2);
    while lac.ep.engine().tunnel_count() > 0 && Instant::now() < bye {
        lac.turn(bye).map_err(io)?;
        while lac.ep.poll_event().is_some() {}
    }
    let s = lac.ep.stats();
    p.report.l2tp_dropped = s.l2tp_dropped;
    p.report.ppp_malformed = s.ppp_malformed;
    p.report.ppp_dropped = s.ppp_dropped;
    p.report.echo_ignored = s.echo_ignored;
    p.report.lcp_confreqs_received = s.lcp_confreqs_received;
    p.report.lcp_terminates_received = s.lcp_terminates_received;
    p.report.lcp_echo_requests_received = s.lcp_echo_requests_received;
    Ok(p.report)
}

fn print_human(r: &Report) {
    println!(
        "sessions: {}/{} up ({} failed) over {}/{} tunnels in {:.3} s: {:.1} sessions/s",
        r.sessions_up,
        r.sessions_requested,
        r.sessions_failed,
        r.tunnels_up,
        r.tunnels_requested,
        r.setup_seconds,
        r.setup_rate
    );
    if r.sent > 0 {
        println!(
            "traffic: {} sent, {} received in {:.1} s: {:.0} pps out, {:.0} pps in, loss {} ({:.2} %)",
            r.sent, r.received, r.traffic_seconds, r.tx_pps, r.rx_pps, r.lost, r.loss_percent
        );
        if let (Some(min), Some(avg), Some(p99)) =
            (r.latency_min_us, r.latency_avg_us, r.latency_p99_us)
        {
            println!("latency: min {min:.0} us, avg {avg:.0} us, p99 {p99:.0} us");
        }
    }
    println!(
        "dropped: {} L2TP, {} malformed PPP, {} PPP data, {} non-probe packets",
        r.l2tp_dropped, r.ppp_malformed, r.ppp_dropped, r.not_probes
    );
    println!(
        "LCP from the LNS: {} Configure-Requests, {} Terminate-Requests, {} Echo-Requests",
        r.lcp_confreqs_received, r.lcp_terminates_received, r.lcp_echo_requests_received
    );
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(r) => {
            if args.json {
                println!("{}", serde_json::to_string_pretty(&r).expect("plain data"));
            } else {
                print_human(&r);
            }
            if r.sessions_up < r.sessions_requested {
                eprintln!(
                    "l2tp-lac: only {} of {} sessions came up",
                    r.sessions_up, r.sessions_requested
                );
                return ExitCode::from(1);
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("l2tp-lac: {e}");
            ExitCode::from(2)
        }
    }
}
