//! The [`Endpoint`]: its state, its entry points and the dispatch of what the composition
//! and the RADIUS clients report. The session lifecycle is in `lifecycle.rs`, accounting in
//! `accounting.rs`, commands in `commands.rs`, the snapshot in `snapshot.rs`.

use std::collections::{HashMap, VecDeque};
use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use l2tp_ppp::{CallId, EndpointEvent};
use lns_config::config::{Config, LcpRenegotiation};
use lns_config::ip_pool::IpPool;
use lns_dataplane::session_table::{DataPlaneView, SessionKey, SessionTable};
use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};

use crate::action::{Action, RadiusClientKind};
use crate::clock::Clock;
use crate::radius_glue::{Radius, RadiusSetupError};
use crate::session::Sess;

/// How long a clean shutdown waits for StopCCN/CDN and Accounting-Stop acknowledgements.
pub const SHUTDOWN_BOUND: Duration = Duration::from_secs(5);

/// Closing tunnels linger in the engine to answer retransmissions (RFC 2661 §5.7), and its
/// API does not tell when a StopCCN is acknowledged: a second is time enough for the
/// acknowledgement or one retransmission on a working link.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(1);

/// Session timers (Session-Timeout, Idle-Timeout, interim accounting, dumps) run once a second.
pub(crate) const TICK: Duration = Duration::from_secs(1);

/// What the daemon found out about its host before the endpoint starts.
#[derive(Debug, Clone)]
pub struct Environment {
    /// The L2TP Host Name and NAS-Identifier (`-h`, `set hostname`, or the system's).
    pub host_name: String,
    /// How many sockets the daemon opened for each RADIUS client (authentication,
    /// accounting).
    pub radius_sockets: (usize, usize),
    pub clock: Clock,
}

/// Why the endpoint could not start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CoreError {
    #[error("L2TP: {0}")]
    L2tp(#[from] l2tp::ConfigError),
    #[error(transparent)]
    Radius(#[from] RadiusSetupError),
    #[error("DAE: {0}")]
    Dae(#[from] radius::dae::DaeConfigError),
}

/// The endpoint's own counters (the engine's, the composition's and the data plane's are
/// kept by them).
#[derive(Debug, Default, Clone)]
pub struct Stats {
    pub control_dropped: u64,
    pub ppp_dropped: u64,
    pub auth_rejects: u64,
    pub acct_acked: u64,
    pub acct_timeouts: u64,
    /// Users' packets on the slow path whose source was not theirs (anti-spoof).
    pub slow_path_spoofed: u64,
    /// MSS options lowered on the slow path (the data plane counts its own).
    pub mss_clamped: u64,
    /// Sessions whose IPCP opened (published to the data plane); resumed ones not counted.
    pub sessions_opened: u64,
    /// Rejected users the garden plugin took in.
    pub gardened: u64,
    /// Sessions refused before they opened, by reason (RADIUS rejects are `auth_rejects`).
    pub auth_timeouts: u64,
    pub pool_exhausted: u64,
    pub address_refused: u64,
}

pub struct Endpoint {
    pub(crate) config: Config,
    pub(crate) env: Environment,
    pub(crate) nas_ip: Ipv4Addr,
    pub(crate) calls: l2tp_ppp::Endpoint,
    pub(crate) pool: IpPool,
    pub(crate) table: SessionTable<Sess>,
    pub(crate) radius: Option<Radius>,
    /// RFC 5176 Disconnect / CoA (see `dae.rs`).
    pub(crate) dae: radius::dae::DaeServer,
    pub(crate) auth_pending: HashMap<radius::RequestId, SessionKey>,
    pub(crate) acct_in_flight: usize,
    pub(crate) rng: ChaCha20Rng,
    /// Acct-Session-Id is `boot_id` then a sequence number, unique across restarts.
    pub(crate) boot_id: u32,
    pub(crate) acct_seq: u32,
    pub(crate) actions: VecDeque<Action>,
    pub(crate) stats: Stats,
    /// The counters at the last `clear counters` ([`Command::ClearCounters`]): what
    /// [`Endpoint::counters`] subtracts, so the engine's and the composition's own counters
    /// need no reset of their own.
    pub(crate) counters_base: Vec<u64>,
    /// Which of our UDP sockets each LAC's tunnel arrived on (replies leave from it).
    pub(crate) peer_socket: HashMap<SocketAddr, u16>,
    pub(crate) next_tick: Instant,
    pub(crate) next_full_dump: Instant,
    pub(crate) next_shut_dump: Instant,
    pub(crate) ended: Vec<crate::accounting::EndedUsage>,
    pub(crate) shutdown_started: Option<Instant>,
    /// The built-in plugins loaded (`load plugin`), in load order.
    pub(crate) plugins: crate::plugins::Plugins,
    /// The configuration's access lists, compiled.
    pub(crate) acls: crate::policy::AccessLists,
    radius_buf: Vec<u8>,
}

/// The PPP link factory for the current configuration: every new call's link gets it, with
/// a seed drawn from the endpoint's RNG stream.
fn link_factory(config: ppp::session::SessionConfig, seed: [u8; 32]) -> l2tp_ppp::SessionFactory {
    let mut rng = ChaCha20Rng::from_seed(seed);
    let config = std::sync::Arc::new(config);
    Box::new(move |_, _| {
        let mut s = [0u8; 16];
        rng.fill_bytes(&mut s);
        (config.clone(), s)
    })
}

impl Endpoint {
    /// A new endpoint serving `config` with addresses from `pool`; all randomness is drawn
    /// from `rng` (a CSPRNG: tunnel and session ids, challenges, RADIUS authenticators).
    pub fn new(
        config: Config,
        pool: IpPool,
        env: Environment,
        rng: &mut dyn RngCore,
        now: Instant,
    ) -> Result<Self, CoreError> {
        let mut seed = [0u8; 32];
        rng.fill_bytes(&mut seed);
        let mut rng = ChaCha20Rng::from_seed(seed);
        let mut engine_seed = [0u8; 32];
        rng.fill_bytes(&mut engine_seed);
        let engine = l2tp::Engine::new(
            crate::lifecycle::engine_config(&config, &env.host_name),
            Box::new(ChaCha20Rng::from_seed(engine_seed)),
        )?;
        let mut factory_seed = [0u8; 32];
        rng.fill_bytes(&mut factory_seed);
        let mut calls = l2tp_ppp::Endpoint::new(
            engine,
            link_factory(
                crate::lifecycle::link_config(&config, &env.host_name),
                factory_seed,
            ),
        );
        calls.set_accept_proxy_lcp(
            config.settings.lcp_renegotiation == LcpRenegotiation::OnMismatch,
        );
        let mut seeds = [[0u8; 32]; 2];
        rng.fill_bytes(&mut seeds[0]);
        rng.fill_bytes(&mut seeds[1]);
        let radius = Radius::new(&config.settings, env.radius_sockets, seeds)?;
        if radius.is_none() {
            log::warn!("no RADIUS server configured: every login will be refused");
        }
        let s = &config.settings;
        let nas_ip = Some(s.bind_address)
            .filter(|a| !a.is_unspecified())
            .unwrap_or_else(|| s.tun_address());
        let boot_id = rng.next_u32() ^ env.clock.unix(now) as u32;
        let dae = crate::dae::server(s, nas_ip, &env.host_name)?;
        let plugins = crate::plugins::Plugins::from_names(&config.plugins);
        let mut actions = VecDeque::new();
        if plugins.is_loaded("garden") {
            actions.push_back(Action::GardenSetup);
        }
        let acls = crate::policy::AccessLists::compile(&config);
        Ok(Endpoint {
            plugins,
            acls,
            dae,
            nas_ip,
            calls,
            pool,
            table: SessionTable::new(),
            radius,
            auth_pending: HashMap::new(),
            acct_in_flight: 0,
            rng,
            boot_id,
            acct_seq: 0,
            actions,
            stats: Stats::default(),
            counters_base: Vec::new(),
            peer_socket: HashMap::new(),
            next_tick: now,
            next_full_dump: now + Duration::from_secs(crate::acct_dump::DUMP_INTERVAL_SECS),
            next_shut_dump: now
                + Duration::from_secs(crate::acct_dump::SHUTDOWN_DUMP_INTERVAL_SECS),
            ended: Vec::new(),
            shutdown_started: None,
            radius_buf: Vec::new(),
            config,
            env,
        })
    }

    /// The handle packet workers read the published sessions through.
    pub fn data_plane(&self) -> DataPlaneView {
        self.table.data_plane()
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn clock(&self) -> Clock {
        self.env.clock
    }

    pub fn host_name(&self) -> &str {
        &self.env.host_name
    }

    pub fn session_count(&self) -> usize {
        self.table.len()
    }

    pub fn tunnel_count(&self) -> usize {
        self.calls.engine().tunnel_count()
    }

    pub fn pool(&self) -> &IpPool {
        &self.pool
    }

    /// The RADIUS clients' counters (authentication, accounting), if RADIUS is configured.
    /// They start again from zero when a reload replaces the clients.
    pub fn radius_stats(&self) -> Option<(&radius::Stats, &radius::Stats)> {
        self.radius
            .as_ref()
            .map(|r| (r.auth.stats(), r.acct.stats()))
    }

    /// An L2TP datagram that arrived on our UDP socket number `socket` from `from`: control
    /// messages, and data the data plane did not take (PPP control frames, sessions not yet
    /// published).
    pub fn handle_l2tp(&mut self, now: Instant, socket: u16, from: SocketAddr, datagram: &[u8]) {
        self.peer_socket.insert(from, socket);
        if let Err(e) = self.calls.handle_datagram(now, from, datagram) {
            self.stats.control_dropped += 1;
            log::debug!("dropped datagram from {from}: {e}");
        }
        self.drive(now);
    }

    /// A datagram on socket `socket` of a RADIUS client.
    pub fn handle_radius(
        &mut self,
        now: Instant,
        client: RadiusClientKind,
        socket: usize,
        from: SocketAddr,
        datagram: &[u8],
    ) {
        let Some(r) = self.radius.as_mut() else {
            return;
        };
        let c = match client {
            RadiusClientKind::Authentication => &mut r.auth,
            RadiusClientKind::Accounting => &mut r.acct,
        };
        if let Err(e) = c.handle_datagram_on(now, socket, from, datagram) {
            log::warn!("RADIUS reply from {from} dropped: {e}");
        }
        self.drive(now);
    }

    /// An IPv4 packet from the TUN device that the data plane handed back: a session whose
    /// LAC asked for sequenced data (RFC 2661 §5.4, Sequencing Required), which only the
    /// engine can number. Counted like the data plane's.
    pub fn handle_tun_packet(&mut self, now: Instant, packet: &[u8]) {
        if packet.len() < 20 {
            return;
        }
        let dst = Ipv4Addr::new(packet[16], packet[17], packet[18], packet[19]);
        let view = self.table.data_plane();
        let pin = view.pin();
        let Some(path) = pin.by_destination(dst) else {
            return;
        };
        let call = path.ids;
        if self.calls.send_ipv4(call, packet).is_ok() {
            path.counters.count_out(packet.len());
        }
        drop(pin);
        self.drive(now);
    }

    /// Runs whatever is due.
    pub fn handle_timeout(&mut self, now: Instant) {
        let keepalive = self.config.settings.ppp_keepalive;
        let table = &self.table;
        let clock = self.env.clock;
        // With `ppp_keepalive yes` data from the user defers the next echo (looked at only
        // when the link's timer is due: no per-packet work on the data path).
        self.calls.handle_timeout_with(now, |call| {
            if !keepalive {
                return None;
            }
            let key = table.by_ids(call)?;
            let stamp = table
                .counters(key)?
                .last_packet_in
                .load(std::sync::atomic::Ordering::Relaxed);
            clock.instant_of_stamp(stamp, now)
        });
        if let Some(r) = self.radius.as_mut() {
            if r.deadline().is_some_and(|t| t <= now) {
                r.auth.handle_timeout(now);
                r.acct.handle_timeout(now);
            }
        }
        if now >= self.next_tick {
            self.next_tick = now + TICK;
            self.session_tick(now);
            self.dump_tick(now);
        }
        self.drive(now);
    }

    /// When [`Endpoint::handle_timeout`] next has work.
    pub fn poll_timeout(&self) -> Option<Instant> {
        [
            self.calls.poll_timeout(),
            self.radius.as_ref().and_then(Radius::deadline),
            Some(self.next_tick),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// The next thing for the daemon to do.
    pub fn poll_action(&mut self) -> Option<Action> {
        if let Some(a) = self.actions.pop_front() {
            return Some(a);
        }
        if let Some(t) = self.calls.poll_transmit() {
            let socket = self.peer_socket.get(&t.destination).copied().unwrap_or(0);
            return Some(Action::SendL2tp {
                socket,
                to: t.destination,
                datagram: t.contents,
            });
        }
        let r = self.radius.as_mut()?;
        for (kind, c) in [
            (RadiusClientKind::Authentication, &mut r.auth),
            (RadiusClientKind::Accounting, &mut r.acct),
        ] {
            if let Some(t) = c.poll_transmit(&mut self.radius_buf) {
                return Some(Action::SendRadius {
                    client: kind,
                    socket: t.socket,
                    to: t.destination,
                    datagram: self.radius_buf.clone(),
                });
            }
        }
        None
    }

    /// Counters for logs, nsctl and the CLI: the engine's, the composition's and the
    /// endpoint's own, by name.
    pub fn counters(&self) -> Vec<(&'static str, u64)> {
        let mut c = self.raw_counters();
        for ((_, v), base) in c.iter_mut().zip(&self.counters_base) {
            *v = v.saturating_sub(*base);
        }
        c
    }

    /// `clear counters`: from now on [`Endpoint::counters`] counts from zero.
    pub(crate) fn clear_counters(&mut self) {
        self.counters_base = self.raw_counters().into_iter().map(|(_, v)| v).collect();
    }

    fn raw_counters(&self) -> Vec<(&'static str, u64)> {
        let e = self.calls.engine().stats();
        let c = self.calls.stats();
        let mut out = vec![
            ("l2tp_datagrams", e.datagrams),
            ("l2tp_malformed", e.malformed),
            ("l2tp_unknown_tunnel", e.unknown_tunnel),
            ("l2tp_unknown_session", e.unknown_session),
            ("l2tp_wrong_peer", e.wrong_peer),
            ("l2tp_auth_failures", e.auth_failures),
            ("l2tp_retransmits", e.retransmits),
            ("control_dropped", self.stats.control_dropped),
            ("ppp_malformed", c.ppp_malformed),
            ("ppp_dropped", c.ppp_dropped + self.stats.ppp_dropped),
            ("auth_rejects", self.stats.auth_rejects),
            ("gardened", self.stats.gardened),
            ("acct_acked", self.stats.acct_acked),
            ("acct_timeouts", self.stats.acct_timeouts),
            ("proxy_lcp_accepted", c.proxy_lcp_accepted),
            ("proxy_lcp_renegotiated", c.proxy_lcp_renegotiated),
            ("slow_path_spoofed", self.stats.slow_path_spoofed),
            ("sessions_opened", self.stats.sessions_opened),
            ("auth_timeouts", self.stats.auth_timeouts),
            ("pool_exhausted", self.stats.pool_exhausted),
            ("address_refused", self.stats.address_refused),
        ];
        out.extend(crate::dae::counters(self.dae.stats()));
        out
    }

    /// MSS options the endpoint lowered on the slow path.
    pub fn slow_path_mss_clamped(&self) -> u64 {
        self.stats.mss_clamped
    }

    /// SIGQUIT: CDN for every session and StopCCN for every tunnel, Acct-Stop for every
    /// session, a last accounting dump; then [`Endpoint::is_shut_down`] tells when the
    /// acknowledgements are in (or [`SHUTDOWN_BOUND`] passed).
    pub fn begin_shutdown(&mut self, now: Instant) {
        log::info!("shutting down: clearing {} session(s)", self.table.len());
        let keys: Vec<SessionKey> = self.table.iter().map(|(k, _)| k).collect();
        for key in keys {
            self.end_session(now, key, crate::session::TerminateCause::AdminReboot, true);
        }
        let mut tunnels = self.calls.engine().tunnel_ids();
        tunnels.sort_unstable();
        for t in tunnels {
            let _ = self
                .calls
                .close_tunnel(now, t, l2tp::ResultCode::SHUTTING_DOWN);
        }
        self.calls.set_admission(l2tp::Admission::ShuttingDown);
        self.write_dump(now, true);
        self.shutdown_started = Some(now);
        self.drive(now);
    }

    /// The loaded plugins' names, in load order.
    pub fn plugin_names(&self) -> Vec<&'static str> {
        self.plugins.names()
    }

    /// The plugin an nsctl command needs when no loaded one provides it (the original's
    /// commands come from its plugins: `throttle` from throttlectl, and so on).
    pub fn plugin_missing_for(&self, command: &str) -> Option<&'static str> {
        self.plugins.missing_for(command)
    }

    /// Whether the walled garden's chains are set up (the garden plugin is loaded): the
    /// daemon removes them when it stops.
    pub fn garden_active(&self) -> bool {
        self.plugins.is_loaded("garden")
    }

    /// Whether a shutdown begun with [`Endpoint::begin_shutdown`] is over.
    pub fn is_shut_down(&self, now: Instant) -> bool {
        let Some(start) = self.shutdown_started else {
            return false;
        };
        let tunnels = self.tunnel_count();
        if self.acct_in_flight == 0 && (tunnels == 0 || now >= start + SHUTDOWN_GRACE) {
            return true;
        }
        if now >= start + SHUTDOWN_BOUND {
            log::warn!(
                "shutdown: gave up waiting ({} accounting request(s), {tunnels} tunnel(s) left)",
                self.acct_in_flight
            );
            return true;
        }
        false
    }

    /// Acts on everything the composition and the RADIUS clients reported, until both are
    /// quiet (acting on one may make the other report more).
    pub(crate) fn drive(&mut self, now: Instant) {
        loop {
            let mut busy = false;
            while let Some(e) = self.calls.poll_event() {
                busy = true;
                self.on_call_event(now, e);
            }
            busy |= self.radius_events(now);
            if !busy {
                return;
            }
        }
    }

    fn on_call_event(&mut self, now: Instant, e: EndpointEvent) {
        match e {
            EndpointEvent::TunnelUp { tunnel } => {
                let engine = self.calls.engine();
                let peer = engine.tunnel_peer(tunnel);
                let name = engine.tunnel_peer_host_name(tunnel).unwrap_or_default();
                log::info!(
                    "tunnel {tunnel} up with {} ({})",
                    peer.map_or("?".to_owned(), |p| p.to_string()),
                    String::from_utf8_lossy(name).escape_debug()
                );
            }
            EndpointEvent::TunnelDown { tunnel, cause } => {
                log::info!("tunnel {tunnel} down: {cause}")
            }
            EndpointEvent::TunnelRefused { peer, cause } => {
                log::warn!("tunnel from {peer} refused: {cause}")
            }
            EndpointEvent::CallUp { call, info } => self.call_up(now, call, &info),
            EndpointEvent::CallDown { call, cause } => {
                if let Some(key) = self.table.by_ids(call) {
                    log::info!("{}: call cleared: {cause}", crate::SessionName::of(key));
                    self.end_session(now, key, terminate_cause_of(&cause), false);
                }
            }
            EndpointEvent::Ppp { call, event } => {
                if let Some(key) = self.table.by_ids(call) {
                    self.ppp_event(now, key, call, event);
                }
            }
            EndpointEvent::Ipv4 { call, packet } => self.slow_path_ipv4(now, call, packet),
        }
    }

    /// Returns whether there was anything.
    fn radius_events(&mut self, now: Instant) -> bool {
        let Some(r) = self.radius.as_mut() else {
            return false;
        };
        let mut auth_events = Vec::new();
        while let Some(e) = r.auth.poll_event() {
            auth_events.push(e);
        }
        let mut any = !auth_events.is_empty();
        while let Some(e) = r.acct.poll_event() {
            any = true;
            self.acct_in_flight = self.acct_in_flight.saturating_sub(1);
            match e {
                radius::Event::Response { .. } => self.stats.acct_acked += 1,
                radius::Event::TimedOut { attempts, .. } => {
                    self.stats.acct_timeouts += 1;
                    log::warn!("Accounting-Request unanswered after {attempts} sends");
                }
            }
        }
        for e in auth_events {
            self.auth_event(now, e);
        }
        any
    }

    /// A fresh seed for something that needs its own randomness.
    pub(crate) fn seed(&mut self) -> [u8; 32] {
        let mut s = [0u8; 32];
        self.rng.fill_bytes(&mut s);
        s
    }

    /// The session record takes the table's copy of the user name (set just before), so a
    /// session holds its name once (docs/BENCHMARKS.md, "Where a session's bytes go").
    pub(crate) fn share_user(&mut self, key: SessionKey) {
        let name = self.table.user_shared(key);
        if let Some(s) = self.table.get_mut(key) {
            if name.is_some() {
                s.user = name;
            }
        }
    }

    pub(crate) fn call_of(&self, key: SessionKey) -> Option<CallId> {
        self.table.ids(key)
    }

    /// The PPP link factory for the running configuration (after a reload).
    pub(crate) fn refresh_link_factory(&mut self) {
        let seed = self.seed();
        let cfg = crate::lifecycle::link_config(&self.config, &self.env.host_name);
        self.calls.set_factory(link_factory(cfg, seed));
        self.calls.set_accept_proxy_lcp(
            self.config.settings.lcp_renegotiation == LcpRenegotiation::OnMismatch,
        );
    }
}

fn terminate_cause_of(c: &l2tp::CloseCause) -> crate::session::TerminateCause {
    use crate::session::TerminateCause as T;
    match c {
        l2tp::CloseCause::Peer(_) => T::UserRequest,
        l2tp::CloseCause::Local(_) => T::AdminReset,
        l2tp::CloseCause::Timeout => T::LostCarrier,
    }
}
