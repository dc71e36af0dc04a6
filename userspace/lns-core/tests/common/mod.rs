//! The in-memory world of the lns-core tests: LACs built on the same L2TP↔PPP composition
//! the LNS uses, the LNS endpoint, and a RADIUS server built on the `radius` codec, over a
//! link that can drop, delay and so reorder L2TP control messages, on a fake clock. No
//! sockets, no root: everything the daemon would do is an [`Action`] the world carries out.
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use l2tp::{CallInfo, TunnelId};
use l2tp_ppp::{CallId, Endpoint as Calls, EndpointEvent};
use lns_core::config::Config;
use lns_core::ip_pool::IpPool;
use lns_core::{Action, Clock, Endpoint, Environment, RadiusClientKind};
use ppp::session::{Event as PppEvent, SessionConfig};
use radius::{Attribute, Code, Packet};
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

pub const SECRET: &str = "radius-secret";
pub const RADIUS: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 50);
pub const POOL_START: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
pub const UNIX_AT_START: u64 = 1_800_000_000;

pub fn lns_addr() -> SocketAddr {
    "192.0.2.2:1701".parse().unwrap()
}
pub fn lac_addr(i: u8) -> SocketAddr {
    SocketAddr::from((Ipv4Addr::new(192, 0, 2, 10 + i), 1701))
}

/// A startup-config for the tests: RADIUS at [`RADIUS`], accounting on, plus `extra` lines.
pub fn config(extra: &str) -> Config {
    let text = format!(
        "set primary_radius {RADIUS}\nset radius_secret \"{SECRET}\"\nset radius_accounting yes\n\
         set bind_address 192.0.2.2\n{extra}"
    );
    lns_core::config::parse("test", &text)
        .unwrap_or_else(|e| panic!("test config: {e}"))
        .config
}

/// What the in-memory RADIUS server grants a user.
#[derive(Debug, Clone, Default)]
pub struct Account {
    pub password: String,
    /// Extra reply attributes of the Access-Accept.
    pub reply: Vec<Attribute>,
}

/// A RADIUS server on the `radius` codec: Access-Request checked (PAP User-Password, CHAP
/// response), Access-Accept/-Reject signed; Accounting-Request checked and answered.
#[derive(Default)]
pub struct RadiusServer {
    pub accounts: HashMap<String, Account>,
    /// Every Accounting-Request received, decoded.
    pub accounting: Vec<Packet>,
    /// Requests whose authenticator did not verify (forged or wrong secret).
    pub bad_requests: usize,
    /// While > 0, requests are swallowed unanswered (a server that is down).
    pub unanswered: usize,
}

fn text(p: &Packet, f: impl Fn(&Attribute) -> Option<&[u8]>) -> Option<String> {
    p.attributes
        .iter()
        .find_map(f)
        .map(|v| String::from_utf8_lossy(v).into_owned())
}

impl RadiusServer {
    pub fn add(&mut self, user: &str, password: &str, reply: Vec<Attribute>) {
        self.accounts.insert(
            user.to_owned(),
            Account {
                password: password.to_owned(),
                reply,
            },
        );
    }

    /// The reply datagram to a request, or `None` (dropped).
    fn answer(&mut self, datagram: &[u8]) -> Option<Vec<u8>> {
        if self.unanswered > 0 {
            self.unanswered -= 1;
            return None;
        }
        let request = Packet::decode(datagram).ok()?;
        let authenticator = request.authenticator;
        let mut reply = match request.code {
            Code::AccessRequest => {
                let accepted = self.check_login(&request);
                match accepted {
                    Some(extra) => {
                        let mut p = Packet::new(Code::AccessAccept, request.identifier);
                        p.attributes = extra;
                        p
                    }
                    None => {
                        let mut p = Packet::new(Code::AccessReject, request.identifier);
                        p.attributes
                            .push(Attribute::ReplyMessage(b"go away".to_vec()));
                        p
                    }
                }
            }
            Code::AccountingRequest => {
                let raw = radius::RawPacket::parse(datagram).ok()?;
                if radius::auth::verify_request(&raw, SECRET.as_bytes()).is_err() {
                    self.bad_requests += 1;
                    return None;
                }
                self.accounting.push(request.clone());
                Packet::new(Code::AccountingResponse, request.identifier)
            }
            _ => return None,
        };
        if request
            .get(radius::attribute::types::MESSAGE_AUTHENTICATOR)
            .is_some()
        {
            reply
                .attributes
                .push(Attribute::MessageAuthenticator([0; 16]));
        }
        reply
            .encode_signed(SECRET.as_bytes(), Some(&authenticator))
            .ok()
    }

    fn check_login(&mut self, p: &Packet) -> Option<Vec<Attribute>> {
        let user = text(p, |a| match a {
            Attribute::UserName(u) => Some(u),
            _ => None,
        })?;
        let account = self.accounts.get(&user)?.clone();
        let pap = p.attributes.iter().find_map(|a| match a {
            Attribute::UserPassword(h) => Some(h.clone()),
            _ => None,
        });
        let good = if let Some(hidden) = pap {
            radius::auth::unhide_user_password(&hidden, SECRET.as_bytes(), &p.authenticator)
                .is_ok_and(|pw| pw == account.password.as_bytes())
        } else {
            let chap = p.attributes.iter().find_map(|a| match a {
                Attribute::ChapPassword(c) => Some(*c),
                _ => None,
            })?;
            let challenge = p
                .attributes
                .iter()
                .find_map(|a| match a {
                    Attribute::ChapChallenge(c) => Some(c.clone()),
                    _ => None,
                })
                .unwrap_or(p.authenticator.to_vec());
            radius::auth::chap_md5_response(chap.ident, account.password.as_bytes(), &challenge)
                == chap.response
        };
        good.then_some(account.reply)
    }

    /// The accounting records of a user: (Acct-Status-Type, the whole packet).
    pub fn records(&self, user: &str) -> Vec<(u32, &Packet)> {
        self.accounting
            .iter()
            .filter(|p| {
                text(p, |a| match a {
                    Attribute::UserName(u) => Some(u),
                    _ => None,
                })
                .as_deref()
                    == Some(user)
            })
            .filter_map(|p| {
                let status = p.find(|a| match a {
                    Attribute::AcctStatusType(s) => Some(*s),
                    _ => None,
                })?;
                Some((status, p))
            })
            .collect()
    }
}

pub fn terminate_cause(p: &Packet) -> Option<u32> {
    p.find(|a| match a {
        Attribute::AcctTerminateCause(c) => Some(*c),
        _ => None,
    })
}

/// How the link treats L2TP control messages (data always takes 1 ms).
#[derive(Clone)]
pub struct Link {
    pub control_loss_percent: u32,
    pub control_delay_ms: (u64, u64),
}

impl Link {
    pub fn clean() -> Self {
        Link {
            control_loss_percent: 0,
            control_delay_ms: (1, 1),
        }
    }
}

/// One LAC: the composition in the LAC role, and the logins its calls make.
pub struct Lac {
    pub addr: SocketAddr,
    pub calls: Calls,
    pub logins: Arc<Mutex<VecDeque<(String, String)>>>,
    /// Per call: the address IPCP gave, and whether the call is down.
    pub up: HashMap<CallId, Ipv4Addr>,
    pub down: BTreeSet<CallId>,
    pub auth_failed: BTreeSet<CallId>,
    pub tunnel_up: BTreeSet<TunnelId>,
    pub tunnel_down: BTreeSet<TunnelId>,
    /// IPv4 packets received per call.
    pub received: HashMap<CallId, Vec<Vec<u8>>>,
}

enum Delivery {
    ToLns {
        from: SocketAddr,
        bytes: Vec<u8>,
    },
    ToLac {
        lac: usize,
        bytes: Vec<u8>,
    },
    RadiusReply {
        client: RadiusClientKind,
        socket: usize,
        bytes: Vec<u8>,
    },
}

pub struct World {
    pub now: Instant,
    pub lns: Endpoint,
    pub lacs: Vec<Lac>,
    pub radius: RadiusServer,
    pub link: Link,
    rng: ChaCha8Rng,
    in_flight: BTreeMap<(Instant, u64), Delivery>,
    order: u64,
    /// What the LNS wrote to its TUN device.
    pub tun: Vec<Vec<u8>>,
    /// The routes the LNS holds on its TUN device.
    pub routes: BTreeSet<(Ipv4Addr, u8)>,
    /// `accounting_dir` dumps written.
    pub dumps: Vec<String>,
    /// DAE answers the LNS sent: (to, datagram).
    pub dae_sent: Vec<(SocketAddr, Vec<u8>)>,
    /// Garden and hook actions, in order.
    pub os_actions: Vec<Action>,
    pub control_dropped: u64,
    /// The data plane's global counters: every datagram to the LNS goes through
    /// `data_plane::upstream` first, as in the daemon.
    pub data_plane: lns_dataplane::data_plane::Counters,
    pool_size: u32,
}

pub fn lac_engine_config(secret: Option<&str>) -> l2tp::Config {
    l2tp::Config {
        host_name: b"lac".to_vec(),
        secret: secret.map(|s| s.as_bytes().to_vec()),
        accept_incoming: false,
        ..l2tp::Config::default()
    }
}

impl World {
    /// An LNS serving `config` with a pool of `pool` addresses from [`POOL_START`].
    pub fn new(config: Config, pool: u32) -> World {
        Self::with_link(config, pool, Link::clean())
    }

    pub fn with_link(config: Config, pool: u32, link: Link) -> World {
        let now = Instant::now();
        let mut pool_ = IpPool::default();
        pool_.add_range(POOL_START, pool);
        let env = Environment {
            host_name: "lns".into(),
            radius_sockets: (4, 4),
            clock: Clock::new(now, UNIX_AT_START),
        };
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let lns = Endpoint::new(config, pool_, env, &mut rng, now).expect("endpoint");
        World {
            now,
            lns,
            lacs: Vec::new(),
            radius: RadiusServer::default(),
            link,
            rng: ChaCha8Rng::seed_from_u64(7),
            in_flight: BTreeMap::new(),
            order: 0,
            tun: Vec::new(),
            routes: BTreeSet::new(),
            dumps: Vec::new(),
            dae_sent: Vec::new(),
            os_actions: Vec::new(),
            control_dropped: 0,
            data_plane: Default::default(),
            pool_size: pool,
        }
    }

    /// SIGTERM and a restart: the endpoint's snapshot through the state file's encoding, a
    /// new endpoint with the same configuration, resumed from it `gap` later. Returns the
    /// sessions resumed.
    pub fn restart(&mut self, gap: Duration) -> usize {
        let saved_at = std::time::SystemTime::UNIX_EPOCH + Duration::from_secs(UNIX_AT_START);
        let state = self.lns.snapshot(self.now, saved_at, "boot");
        let bytes = lns_core::state_file::encode(&state);
        let state = lns_core::state_file::decode(&bytes).expect("state file decodes");
        self.now += gap;
        let mut pool = IpPool::default();
        pool.add_range(POOL_START, self.pool_size);
        let env = Environment {
            host_name: "lns".into(),
            radius_sockets: (4, 4),
            clock: Clock::new(self.now, UNIX_AT_START + gap.as_secs()),
        };
        let mut rng = ChaCha8Rng::seed_from_u64(12);
        let config = self.lns.config().clone();
        self.lns = Endpoint::new(config, pool, env, &mut rng, self.now).expect("endpoint");
        let n = self.lns.resume(self.now, state, gap);
        self.settle();
        n
    }

    /// Adds a LAC (tunnel secret `secret`); returns its index.
    pub fn add_lac(&mut self, secret: Option<&str>) -> usize {
        let i = self.lacs.len();
        let logins: Arc<Mutex<VecDeque<(String, String)>>> = Arc::default();
        let queue = logins.clone();
        let mut seed_rng = ChaCha8Rng::seed_from_u64(100 + i as u64);
        let factory: l2tp_ppp::SessionFactory = Box::new(move |_, _| {
            let (u, p) = queue.lock().unwrap().pop_front().unwrap_or_default();
            let mut seed = [0u8; 16];
            seed_rng.fill_bytes(&mut seed);
            // A client that sends no keepalives of its own: silent unless it has traffic or
            // answers the LNS's echoes.
            let mut cfg = SessionConfig::peer(u.as_bytes(), p.as_bytes());
            cfg.echo_interval = None;
            (cfg.into(), seed)
        });
        let engine = l2tp::Engine::new(
            lac_engine_config(secret),
            Box::new(ChaCha8Rng::seed_from_u64(200 + i as u64)),
        )
        .unwrap();
        self.lacs.push(Lac {
            addr: lac_addr(i as u8),
            calls: Calls::new(engine, factory),
            logins,
            up: HashMap::new(),
            down: BTreeSet::new(),
            auth_failed: BTreeSet::new(),
            tunnel_up: BTreeSet::new(),
            tunnel_down: BTreeSet::new(),
            received: HashMap::new(),
        });
        i
    }

    /// Opens a tunnel from LAC `lac` and waits for it; returns its LAC-side id.
    pub fn tunnel(&mut self, lac: usize) -> Option<TunnelId> {
        let t = self.lacs[lac].calls.connect(self.now, lns_addr()).ok()?;
        self.run_until(Duration::from_secs(30), |w| {
            w.lacs[lac].tunnel_up.contains(&t) || w.lacs[lac].tunnel_down.contains(&t)
        });
        self.lacs[lac].tunnel_up.contains(&t).then_some(t)
    }

    /// Places a call for `user` on tunnel `tunnel` of LAC `lac`; returns its call id.
    pub fn call(&mut self, lac: usize, tunnel: TunnelId, user: &str, password: &str) -> CallId {
        self.call_with(lac, tunnel, user, password, CallInfo::default())
    }

    pub fn call_with(
        &mut self,
        lac: usize,
        tunnel: TunnelId,
        user: &str,
        password: &str,
        info: CallInfo,
    ) -> CallId {
        self.lacs[lac]
            .logins
            .lock()
            .unwrap()
            .push_back((user.to_owned(), password.to_owned()));
        let s = self.lacs[lac]
            .calls
            .open_session(self.now, tunnel, info)
            .expect("open_session");
        CallId::new(tunnel, s)
    }

    /// Runs until `done` or `limit` of fake time passed; returns whether `done` held.
    pub fn run_until(&mut self, limit: Duration, mut done: impl FnMut(&World) -> bool) -> bool {
        let end = self.now + limit;
        loop {
            self.settle();
            if done(self) {
                return true;
            }
            let next = [
                self.in_flight.keys().next().map(|k| k.0),
                self.lns.poll_timeout(),
                self.lacs
                    .iter()
                    .filter_map(|l| l.calls.poll_timeout())
                    .min(),
            ]
            .into_iter()
            .flatten()
            .min();
            let Some(next) = next.filter(|&t| t <= end) else {
                self.now = end;
                self.settle();
                return done(self);
            };
            self.now = self.now.max(next);
            self.step();
        }
    }

    /// Lets `d` of fake time pass.
    pub fn advance(&mut self, d: Duration) {
        self.run_until(d, |_| false);
    }

    /// Delivers what is due and runs every timer that is due.
    fn step(&mut self) {
        let now = self.now;
        let due: Vec<(Instant, u64)> = self
            .in_flight
            .range(..=(now, u64::MAX))
            .map(|(k, _)| *k)
            .collect();
        for k in due {
            let d = self.in_flight.remove(&k).unwrap();
            match d {
                Delivery::ToLns { from, bytes } => self.deliver_to_lns(from, &bytes),
                Delivery::ToLac { lac, bytes } => {
                    let _ = self.lacs[lac]
                        .calls
                        .handle_datagram(now, lns_addr(), &bytes);
                }
                Delivery::RadiusReply {
                    client,
                    socket,
                    bytes,
                } => {
                    let port = match client {
                        RadiusClientKind::Authentication => 1812,
                        RadiusClientKind::Accounting => 1813,
                    };
                    self.lns.handle_radius(
                        now,
                        client,
                        socket,
                        SocketAddr::from((RADIUS, port)),
                        &bytes,
                    )
                }
            }
            self.settle();
        }
        if self.lns.poll_timeout().is_some_and(|t| t <= now) {
            self.lns.handle_timeout(now);
        }
        for l in &mut self.lacs {
            if l.calls.poll_timeout().is_some_and(|t| t <= now) {
                l.calls.handle_timeout(now);
            }
        }
        self.settle();
    }

    /// A datagram arriving at the LNS from `from`: the data plane first, as the daemon does;
    /// what it does not take goes to the endpoint.
    pub fn deliver_to_lns(&mut self, from: SocketAddr, bytes: &[u8]) {
        use lns_dataplane::data_plane::{upstream, Drop, Upstream};
        let SocketAddr::V4(from4) = from else {
            return;
        };
        let view = self.lns.data_plane();
        let secs = self.lns.clock().secs(self.now);
        let verdict = upstream(&view.pin(), &self.data_plane, bytes, from4, secs);
        match verdict {
            Ok(Upstream::ToTun { packet, .. }) => self.tun.push(bytes[packet].to_vec()),
            Ok(Upstream::ToControl) | Err(Drop::NoSession) => {
                self.lns.handle_l2tp(self.now, 0, from, bytes)
            }
            Err(_) => {}
        }
        self.settle();
    }

    /// An IPv4 packet from the Internet to a user, through the data plane's downstream path:
    /// `Ok` if it was framed (and sent to its LAC), else why not.
    pub fn send_to_user(&mut self, packet: &[u8]) -> Result<(), lns_dataplane::data_plane::Drop> {
        use lns_dataplane::data_plane::{downstream, Drop, DOWN_HEADROOM};
        let mut buf = vec![0u8; DOWN_HEADROOM];
        buf.extend_from_slice(packet);
        let range = DOWN_HEADROOM..buf.len();
        let view = self.lns.data_plane();
        let r = downstream(&view.pin(), &self.data_plane, &mut buf, range);
        match r {
            Ok(d) => {
                let to = SocketAddr::V4(d.peer);
                if let Some(lac) = self.lacs.iter().position(|l| l.addr == to) {
                    let bytes = buf[d.datagram].to_vec();
                    self.send(Duration::from_millis(1), Delivery::ToLac { lac, bytes });
                }
                Ok(())
            }
            Err(Drop::Sequenced) => {
                self.lns.handle_tun_packet(self.now, packet);
                self.settle();
                Err(Drop::Sequenced)
            }
            Err(e) => Err(e),
        }
    }

    fn delay(&mut self, bytes: &[u8]) -> Option<Duration> {
        if !l2tp::header::is_control(bytes) {
            return Some(Duration::from_millis(1));
        }
        if self.rng.next_u32() % 100 < self.link.control_loss_percent {
            self.control_dropped += 1;
            return None;
        }
        let (lo, hi) = self.link.control_delay_ms;
        Some(Duration::from_millis(
            lo + self.rng.next_u64() % (hi - lo + 1),
        ))
    }

    fn send(&mut self, after: Duration, d: Delivery) {
        self.order += 1;
        self.in_flight.insert((self.now + after, self.order), d);
    }

    /// Moves every output onto the link and acts on every event, until all are quiet.
    pub fn settle(&mut self) {
        loop {
            let mut busy = false;
            while let Some(a) = self.lns.poll_action() {
                busy = true;
                self.carry_out(a);
            }
            for i in 0..self.lacs.len() {
                while let Some(t) = self.lacs[i].calls.poll_transmit() {
                    busy = true;
                    if let Some(d) = self.delay(&t.contents) {
                        let from = self.lacs[i].addr;
                        self.send(
                            d,
                            Delivery::ToLns {
                                from,
                                bytes: t.contents,
                            },
                        );
                    }
                }
                while let Some(e) = self.lacs[i].calls.poll_event() {
                    busy = true;
                    self.lac_event(i, e);
                }
            }
            if !busy {
                return;
            }
        }
    }

    fn carry_out(&mut self, a: Action) {
        match a {
            Action::SendL2tp { to, datagram, .. } => {
                let Some(lac) = self.lacs.iter().position(|l| l.addr == to) else {
                    return;
                };
                if let Some(d) = self.delay(&datagram) {
                    self.send(
                        d,
                        Delivery::ToLac {
                            lac,
                            bytes: datagram,
                        },
                    );
                }
            }
            Action::SendRadius {
                client,
                socket,
                datagram,
                ..
            } => {
                if let Some(bytes) = self.radius.answer(&datagram) {
                    self.send(
                        Duration::from_millis(2),
                        Delivery::RadiusReply {
                            client,
                            socket,
                            bytes,
                        },
                    );
                }
            }
            Action::WriteTun(p) => self.tun.push(p),
            Action::AddRoute { prefix, len } => {
                self.routes.insert((prefix, len));
            }
            Action::RemoveRoute { prefix, len } => {
                self.routes.remove(&(prefix, len));
            }
            Action::WriteAccountingDump { text, .. } => self.dumps.push(text),
            Action::SendDae { to, datagram } => self.dae_sent.push((to, datagram)),
            a @ (Action::GardenSetup
            | Action::GardenTeardown
            | Action::GardenAdd { .. }
            | Action::GardenRemove { .. }
            | Action::RunHook { .. }) => self.os_actions.push(a),
        }
    }

    fn lac_event(&mut self, i: usize, e: EndpointEvent) {
        let l = &mut self.lacs[i];
        match e {
            EndpointEvent::TunnelUp { tunnel } => {
                l.tunnel_up.insert(tunnel);
            }
            EndpointEvent::TunnelDown { tunnel, .. } => {
                l.tunnel_down.insert(tunnel);
            }
            EndpointEvent::CallDown { call, .. } => {
                l.down.insert(call);
                l.up.remove(&call);
            }
            EndpointEvent::Ppp {
                call,
                event: PppEvent::Ipv4Up(n),
            } => {
                if let Some(a) = n.local {
                    l.up.insert(call, a);
                }
            }
            EndpointEvent::Ppp {
                call,
                event: PppEvent::AuthFailed { .. },
            } => {
                l.auth_failed.insert(call);
            }
            EndpointEvent::Ipv4 { call, packet } => {
                l.received.entry(call).or_default().push(packet)
            }
            _ => {}
        }
    }

    /// Logs `user` in on a fresh tunnel of LAC `lac`; returns (tunnel, call) once IPCP is up.
    pub fn login(&mut self, lac: usize, user: &str, password: &str) -> Option<CallId> {
        let t = match self.lacs[lac].tunnel_up.iter().next() {
            Some(&t) if !self.lacs[lac].tunnel_down.contains(&t) => t,
            _ => self.tunnel(lac)?,
        };
        let call = self.call(lac, t, user, password);
        self.run_until(Duration::from_secs(30), |w| {
            w.lacs[lac].up.contains_key(&call) || w.lacs[lac].down.contains(&call)
        });
        self.lacs[lac].up.contains_key(&call).then_some(call)
    }

    /// A Dynamic Authorization request (RFC 5176) of `code` with `attributes` (and a
    /// Message-Authenticator), signed with `secret`, sent to the LNS's DAE socket from
    /// `from`; returns the decoded answer, if any, once the world has settled.
    pub fn dae(
        &mut self,
        from: SocketAddr,
        secret: &str,
        code: Code,
        attributes: Vec<Attribute>,
    ) -> Option<Packet> {
        self.order += 1;
        let mut p = Packet::new(code, self.order as u8);
        p.attributes = vec![Attribute::MessageAuthenticator([0; 16])];
        p.attributes.extend(attributes);
        let bytes = p.encode_signed(secret.as_bytes(), None).expect("encode");
        let sent = self.dae_sent.len();
        self.lns.handle_dae(self.now, from, &bytes);
        self.settle();
        let (to, reply) = self.dae_sent.get(sent)?.clone();
        assert_eq!(to, from, "answers go back to the requester");
        let raw = radius::RawPacket::parse(&reply).expect("answer parses");
        radius::auth::verify_response(&raw, &p_authenticator(&bytes), secret.as_bytes())
            .expect("answer signed with the request's authenticator");
        Some(Packet::decode(&reply).expect("answer decodes"))
    }

    pub fn address(&self, lac: usize, call: CallId) -> Option<Ipv4Addr> {
        self.lacs[lac].up.get(&call).copied()
    }

    pub fn sessions(&mut self) -> Vec<lns_core::command::SessionInfo> {
        match self
            .lns
            .handle_command(self.now, lns_core::Command::ShowSessions)
        {
            lns_core::Reply::Sessions(s) => s,
            other => panic!("show sessions: {other:?}"),
        }
    }
}

fn p_authenticator(datagram: &[u8]) -> [u8; 16] {
    datagram[4..20].try_into().unwrap()
}

/// The Error-Cause of a NAK.
pub fn error_cause(p: &Packet) -> Option<u32> {
    p.find(|a| match a {
        Attribute::ErrorCause(c) => Some(*c),
        _ => None,
    })
}

/// An IPv4/UDP packet (checksums are not checked on this path).
pub fn ipv4(src: Ipv4Addr, dst: Ipv4Addr, payload: usize) -> Vec<u8> {
    let len = 28 + payload;
    let mut p = vec![0u8; len];
    p[0] = 0x45;
    p[2..4].copy_from_slice(&(len as u16).to_be_bytes());
    p[8] = 64;
    p[9] = 17;
    p[12..16].copy_from_slice(&src.octets());
    p[16..20].copy_from_slice(&dst.octets());
    p[20..22].copy_from_slice(&9000u16.to_be_bytes());
    p[22..24].copy_from_slice(&9000u16.to_be_bytes());
    p[24..26].copy_from_slice(&((8 + payload) as u16).to_be_bytes());
    p
}
