//! An L2TP engine whose sessions each carry a PPP link: the one composition the LNS
//! (`lns-core`) and the LAC simulator (`l2tp-lac`) are both built on.
//!
//! Still sans-IO: datagrams and `now` in, datagrams and events out. Each established L2TP
//! call (RFC 2661 §7.4) gets a [`ppp::session::Session`] built by the owner's
//! [`SessionFactory`]; PPP frames travel as L2TP data messages (RFC 2661 §3.1), and a PPP
//! link that closes clears its call with CDN.
//!
//! Call contract: after every `handle_*`, `close_*` or `open_*` call, drain
//! [`Endpoint::poll_event`] and [`Endpoint::poll_transmit`], then sleep until
//! [`Endpoint::poll_timeout`] (or the next datagram) and call [`Endpoint::handle_timeout`].

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use l2tp::{
    CallInfo, CloseCause, Dropped, Engine, Event as L2tpEvent, ResultCode, SessionId, TunnelId,
};
use ppp::frame::{decode_frame, encode_frame, protocol};
use ppp::fsm::State;
use ppp::session::{Event as PppEvent, Inbound, Session, SessionConfig, Verdict};

/// A call: our tunnel id and our session id.
pub use l2tp::CallId;

/// Builds the PPP configuration and 16-byte seed of a call when it comes up. The
/// configuration is shared (`Arc`): an LNS gives every link the same one, and a copy per link
/// was ~270 bytes of each session's memory.
pub type SessionFactory =
    Box<dyn FnMut(CallId, &CallInfo) -> (Arc<SessionConfig>, [u8; 16]) + Send>;

/// What the owner of an [`Endpoint`] must know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EndpointEvent {
    TunnelUp {
        tunnel: TunnelId,
    },
    TunnelDown {
        tunnel: TunnelId,
        cause: CloseCause,
    },
    /// A tunnel that never came up was closed (tunnel authentication failed, ...).
    TunnelRefused {
        peer: SocketAddr,
        cause: CloseCause,
    },
    /// The L2TP call is connected and its PPP link started; `info` is what the ICCN said
    /// of it (calling and called numbers, proxy AVPs, ...).
    CallUp {
        call: CallId,
        info: Box<CallInfo>,
    },
    /// The L2TP call is gone (CDN either way, or its tunnel went down).
    CallDown {
        call: CallId,
        cause: CloseCause,
    },
    /// An event of the call's PPP link (authentication requests, IPCP up, close, ...).
    Ppp {
        call: CallId,
        event: PppEvent,
    },
    /// An IPv4 datagram received over an opened IPCP.
    Ipv4 {
        call: CallId,
        packet: Vec<u8>,
    },
}

/// Counters of the composition (the engine and each PPP link keep their own).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EndpointStats {
    /// Datagrams the L2TP engine refused (malformed, unknown tunnel, ...).
    pub l2tp_dropped: u64,
    /// PPP frames that failed to decode.
    pub ppp_malformed: u64,
    /// PPP data frames dropped (no open NCP, IPv6, ...).
    pub ppp_dropped: u64,
    /// LCP Echo-Requests left unanswered on purpose ([`Endpoint::set_ignore_echo_requests`]).
    pub echo_ignored: u64,
    /// LCP Configure-Requests received from the peer over L2TP (none when the LNS took
    /// over the LAC's proxy LCP).
    pub lcp_confreqs_received: u64,
    /// LCP Terminate-Requests from the peer (the LNS ending a session the polite way).
    pub lcp_terminates_received: u64,
    /// LCP Echo-Requests from the peer, answered or not (keepalive of the LNS).
    pub lcp_echo_requests_received: u64,
    /// LNS: calls whose PPP link started from the LAC's proxy LCP.
    pub proxy_lcp_accepted: u64,
    /// LNS: calls whose proxy LCP was not acceptable, so LCP was renegotiated.
    pub proxy_lcp_renegotiated: u64,
}

/// Why an IPv4 datagram could not be sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    #[error("no PPP link on call {0:?}")]
    UnknownCall(CallId),
    #[error("IPCP is not open on call {0:?}")]
    NotOpen(CallId),
    #[error(transparent)]
    L2tp(#[from] l2tp::Error),
}

/// An LCP Echo-Request (RFC 1661 §5.8: code 9), with or without `FF 03`.
fn is_lcp(frame: &[u8], code: u8) -> bool {
    decode_frame(frame)
        .is_ok_and(|f| f.protocol == protocol::LCP && f.payload.first() == Some(&code))
}

fn is_lcp_echo_request(frame: &[u8]) -> bool {
    const ECHO_REQUEST: u8 = 9;
    is_lcp(frame, ECHO_REQUEST)
}

fn is_lcp_terminate_request(frame: &[u8]) -> bool {
    const TERMINATE_REQUEST: u8 = 5;
    is_lcp(frame, TERMINATE_REQUEST)
}

/// A call's PPP link and when the peer last sent a frame on it.
struct Link {
    session: Session,
    /// The last PPP frame from the peer through this composition (control frames, and data
    /// not taken by a fast path): with data a fast path counts, it tells an LNS when the
    /// user was last heard from.
    last_frame: Instant,
    /// The deadline last pushed on the timer heap, so that a link whose deadline did not move
    /// (every data frame passes `drain_link`) adds no entry. Kept in the link rather than in
    /// a map of its own: one table fewer per session.
    armed: Option<Instant>,
}

/// An L2TP engine plus one PPP link per established call.
pub struct Endpoint {
    engine: Engine,
    /// Boxed: a PPP link is large, and a hash table's empty buckets are interleaved with the
    /// full ones, so unboxed links made the table's spare capacity resident memory (1.3 KB
    /// more per session at 70 000 in tests/bench/host/l2tpns-scale.sh).
    links: HashMap<CallId, Box<Link>>,
    /// The links' deadlines, earliest first. Entries go stale when a deadline moves or a link
    /// goes; every change of a link ends in `drain_link`, which pushes its current deadline.
    /// Without it each timer query scanned every link: O(links) per datagram, the LAC's own
    /// limit at tens of thousands of sessions.
    timers: BinaryHeap<Reverse<(Instant, CallId)>>,
    factory: SessionFactory,
    events: VecDeque<EndpointEvent>,
    stats: EndpointStats,
    ignore_echo_requests: bool,
    /// LAC: links whose LCP and authentication the LAC already ran ([`crate::proxy`]),
    /// waiting for their call to connect.
    prepared: HashMap<CallId, Session>,
    /// LNS: start links from the ICCN's proxy LCP / proxy authentication when it has them.
    accept_proxy_lcp: bool,
}

impl Endpoint {
    pub fn new(engine: Engine, factory: SessionFactory) -> Self {
        Endpoint {
            engine,
            links: HashMap::new(),
            timers: BinaryHeap::new(),
            factory,
            events: VecDeque::new(),
            stats: EndpointStats::default(),
            ignore_echo_requests: false,
            prepared: HashMap::new(),
            accept_proxy_lcp: false,
        }
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    pub fn stats(&self) -> EndpointStats {
        self.stats
    }

    /// Replaces the factory of new calls' PPP links (an LNS whose configuration was reloaded).
    pub fn set_factory(&mut self, factory: SessionFactory) {
        self.factory = factory;
    }

    /// Replaces the engine's configuration (RFC 2661 §5.1 values: host name, secret, HELLO
    /// interval); what the tunnels read at each use takes effect at once, what they agreed at
    /// set-up stays until they end.
    pub fn reconfigure(&mut self, config: l2tp::Config) -> Result<(), l2tp::ConfigError> {
        self.engine.reconfigure(config)
    }

    /// Who may open tunnels and calls from now on (an LNS shutting down refuses new ones).
    pub fn set_admission(&mut self, admission: l2tp::Admission) {
        self.engine.set_admission(admission);
    }

    /// Drop every LCP Echo-Request received from now on instead of answering it: a peer
    /// whose keepalive fails (RFC 1661 §5.8), to test the other side's echo timeout.
    pub fn set_ignore_echo_requests(&mut self, ignore: bool) {
        self.ignore_echo_requests = ignore;
    }

    /// The PPP link of a call, while the call is up.
    pub fn link(&self, call: CallId) -> Option<&Session> {
        self.links.get(&call).map(|l| &l.session)
    }

    /// When the peer last sent a PPP frame on a call through this composition.
    pub fn last_frame(&self, call: CallId) -> Option<Instant> {
        self.links.get(&call).map(|l| l.last_frame)
    }

    pub fn link_count(&self) -> usize {
        self.links.len()
    }

    /// Open a tunnel (LAC role); [`EndpointEvent::TunnelUp`] follows.
    pub fn connect(&mut self, now: Instant, peer: SocketAddr) -> Result<TunnelId, l2tp::Error> {
        let t = self.engine.connect(now, peer);
        self.pump(now, &[]);
        t
    }

    /// Place a call on an established tunnel (LAC role); [`EndpointEvent::CallUp`] follows.
    pub fn open_session(
        &mut self,
        now: Instant,
        tunnel: TunnelId,
        call: CallInfo,
    ) -> Result<SessionId, l2tp::Error> {
        let s = self.engine.open_session(now, tunnel, call);
        self.pump(now, &[]);
        s
    }

    /// Place a call whose PPP link the LAC already brought through LCP and authentication
    /// (proxy LCP, RFC 2661 §4.4.5): `link` takes over the call once it connects, and `call`
    /// should carry the proxy AVPs.
    pub fn open_proxied_session(
        &mut self,
        now: Instant,
        tunnel: TunnelId,
        call: CallInfo,
        link: Session,
    ) -> Result<SessionId, l2tp::Error> {
        let s = self.engine.open_session(now, tunnel, call)?;
        self.prepared.insert(CallId::new(tunnel, s), link);
        self.pump(now, &[]);
        Ok(s)
    }

    /// LNS: start each call's PPP link from the ICCN's proxy LCP and proxy authentication when
    /// it carries them (`lcp_renegotiation on-mismatch`); a proxy the link's policy refuses
    /// falls back to negotiating LCP.
    pub fn set_accept_proxy_lcp(&mut self, accept: bool) {
        self.accept_proxy_lcp = accept;
    }

    /// Clear a tunnel and its calls with StopCCN (RFC 2661 §5.7).
    pub fn close_tunnel(
        &mut self,
        now: Instant,
        tunnel: TunnelId,
        result: ResultCode,
    ) -> Result<(), l2tp::Error> {
        let r = self.engine.close_tunnel(now, tunnel, result);
        self.pump(now, &[]);
        r
    }

    /// Clear a call at once with CDN (RFC 2661 §5.4), its PPP link dropped without LCP
    /// Terminate; [`EndpointEvent::CallDown`] follows.
    pub fn close_call(&mut self, now: Instant, call: CallId, result: ResultCode) {
        let _ = self
            .engine
            .close_session(now, call.tunnel, call.session, result.clone());
        self.drop_link(now, call, CloseCause::Local(result));
        self.pump(now, &[]);
    }

    /// Feed a received datagram. A refused datagram is counted and reported, never fatal.
    pub fn handle_datagram(
        &mut self,
        now: Instant,
        from: SocketAddr,
        bytes: &[u8],
    ) -> Result<(), Dropped> {
        let r = self.engine.handle_datagram(now, from, bytes);
        if r.is_err() {
            self.stats.l2tp_dropped += 1;
        }
        self.pump(now, &[]);
        r
    }

    /// Run the timers of the engine and of every PPP link that is due.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.handle_timeout_with(now, |_| None);
    }

    /// Like [`Endpoint::handle_timeout`], but first tells each due link when its peer was
    /// last heard from outside this composition (`heard`: data a fast path forwarded), so a
    /// keepalive is deferred for a busy link ([`ppp::session::Session::peer_heard`]). Asked
    /// only when a link's timer is due: no per-packet work.
    pub fn handle_timeout_with(
        &mut self,
        now: Instant,
        mut heard: impl FnMut(CallId) -> Option<Instant>,
    ) {
        if self.engine.poll_timeout().is_some_and(|t| t <= now) {
            self.engine.handle_timeout(now);
        }
        let mut due = Vec::new();
        while let Some(&Reverse((at, id))) = self.timers.peek() {
            if at > now {
                break;
            }
            self.timers.pop();
            let Some(link) = self.links.get_mut(&id) else {
                continue;
            };
            if link.armed == Some(at) {
                link.armed = None;
            }
            if link.session.poll_timeout().is_some_and(|t| t <= now) {
                if let Some(at) = heard(id) {
                    link.session.peer_heard(at.max(link.last_frame));
                }
                link.session.handle_timeout(now);
                due.push(id);
            }
        }
        due.sort_unstable();
        due.dedup();
        self.pump(now, &due);
    }

    /// The earliest instant at which [`Endpoint::handle_timeout`] has work.
    pub fn poll_timeout(&self) -> Option<Instant> {
        // May be early (a stale entry): handle_timeout then finds nothing due.
        let links = self.timers.peek().map(|Reverse((t, _))| *t);
        match (self.engine.poll_timeout(), links) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    pub fn poll_transmit(&mut self) -> Option<l2tp::Transmit> {
        self.engine.poll_transmit()
    }

    pub fn poll_event(&mut self) -> Option<EndpointEvent> {
        self.events.pop_front()
    }

    /// The authenticator's verdict on a call's [`ppp::session::Event::AuthRequest`].
    pub fn auth_verdict(&mut self, now: Instant, call: CallId, verdict: Verdict) -> bool {
        let Some(link) = self.links.get_mut(&call) else {
            return false;
        };
        let taken = link.session.auth_verdict(now, verdict);
        self.pump(now, &[call]);
        taken
    }

    /// Close a call's PPP link (LCP Terminate-Request); the call is cleared once it is down.
    pub fn close_link(&mut self, now: Instant, call: CallId, reason: &[u8]) {
        if let Some(link) = self.links.get_mut(&call) {
            link.session.close(now, reason);
        }
        self.pump(now, &[call]);
    }

    /// Put back the PPP link of a call the engine resumed from a snapshot (an LNS restarted
    /// with its sessions): no LCP, no authentication, no event.
    pub fn resume_link(&mut self, now: Instant, call: CallId, session: Session) {
        self.links.insert(
            call,
            Box::new(Link {
                session,
                last_frame: now,
                armed: None,
            }),
        );
        self.pump(now, &[call]);
    }

    /// Resume a tunnel from an [`l2tp::TunnelSnapshot`] (see [`Endpoint::resume_link`]).
    pub fn resume_tunnel(
        &mut self,
        now: Instant,
        snapshot: l2tp::TunnelSnapshot,
    ) -> Result<TunnelId, l2tp::ResumeError> {
        let r = self.engine.resume(now, snapshot);
        self.pump(now, &[]);
        r
    }

    /// Send an IPv4 datagram over a call's opened IPCP (the slow path: one allocation).
    pub fn send_ipv4(&mut self, call: CallId, packet: &[u8]) -> Result<(), SendError> {
        let link = self.links.get(&call).ok_or(SendError::UnknownCall(call))?;
        if link.session.ipcp_state() != Some(State::Opened) {
            return Err(SendError::NotOpen(call));
        }
        let n = link.session.lcp_negotiated();
        let frame = encode_frame(protocol::IPV4, packet, n.tx_acfc, n.tx_pfc);
        self.engine.send_data(call.tunnel, call.session, &frame)?;
        Ok(())
    }

    /// Route engine events to the PPP links, then PPP output to the engine, until both
    /// are quiet. `touched` are links that may have output already.
    fn pump(&mut self, now: Instant, touched: &[CallId]) {
        let mut dirty: Vec<CallId> = touched.to_vec();
        loop {
            while let Some(e) = self.engine.poll_event() {
                self.on_l2tp_event(now, e, &mut dirty);
            }
            if dirty.is_empty() {
                return;
            }
            for call in std::mem::take(&mut dirty) {
                self.drain_link(now, call);
            }
        }
    }

    /// A new call's PPP link: from the ICCN's proxy LCP when accepted, else negotiating.
    fn start_link(&mut self, now: Instant, id: CallId, call: &CallInfo) -> Session {
        let (cfg, seed) = (self.factory)(id, call);
        let mut link = Session::new(cfg, seed);
        match crate::proxy::proxy_of(call).filter(|_| self.accept_proxy_lcp) {
            Some((lcp, auth)) => {
                link.start_with_proxy(now, &lcp, auth.as_ref());
                // An accepted proxy leaves LCP opened at once; a refused one negotiates.
                if link.lcp_state() == State::Opened {
                    self.stats.proxy_lcp_accepted += 1;
                } else {
                    self.stats.proxy_lcp_renegotiated += 1;
                }
            }
            None => link.start(now),
        }
        link
    }

    fn on_l2tp_event(&mut self, now: Instant, e: L2tpEvent, dirty: &mut Vec<CallId>) {
        match e {
            L2tpEvent::TunnelUp { tunnel, .. } => {
                self.events.push_back(EndpointEvent::TunnelUp { tunnel })
            }
            L2tpEvent::TunnelRefused { peer, cause } => self
                .events
                .push_back(EndpointEvent::TunnelRefused { peer, cause }),
            L2tpEvent::TunnelDown { tunnel, cause } => {
                // The engine reports no SessionDown for calls of a dead tunnel: end them here.
                self.prepared.retain(|c, _| c.tunnel != tunnel);
                let calls: Vec<CallId> = self
                    .links
                    .keys()
                    .filter(|c| c.tunnel == tunnel)
                    .copied()
                    .collect();
                for call in calls {
                    self.drop_link(now, call, cause.clone());
                }
                self.events
                    .push_back(EndpointEvent::TunnelDown { tunnel, cause });
            }
            L2tpEvent::SessionUp {
                tunnel,
                session,
                call,
            } => {
                let id = CallId::new(tunnel, session);
                let link = match self.prepared.remove(&id) {
                    Some(link) => link,
                    None => self.start_link(now, id, &call),
                };
                self.links.insert(
                    id,
                    Box::new(Link {
                        session: link,
                        last_frame: now,
                        armed: None,
                    }),
                );
                self.events.push_back(EndpointEvent::CallUp {
                    call: id,
                    info: call,
                });
                dirty.push(id);
            }
            L2tpEvent::SessionDown {
                tunnel,
                session,
                cause,
            } => self.drop_link(now, CallId::new(tunnel, session), cause),
            L2tpEvent::Payload {
                tunnel,
                session,
                data,
            } => {
                let id = CallId::new(tunnel, session);
                let Some(link) = self.links.get_mut(&id) else {
                    self.stats.ppp_dropped += 1;
                    return;
                };
                link.last_frame = now;
                if crate::proxy::lcp_confreq_options(&data).is_some() {
                    self.stats.lcp_confreqs_received += 1;
                }
                if is_lcp_terminate_request(&data) {
                    self.stats.lcp_terminates_received += 1;
                }
                let echo = is_lcp_echo_request(&data);
                if echo {
                    self.stats.lcp_echo_requests_received += 1;
                }
                if self.ignore_echo_requests && echo {
                    self.stats.echo_ignored += 1;
                    return;
                }
                match link.session.handle_frame(now, &data) {
                    Ok(Inbound::Ipv4(p)) => self.events.push_back(EndpointEvent::Ipv4 {
                        call: id,
                        packet: p.to_vec(),
                    }),
                    Ok(Inbound::Control) => {}
                    Ok(Inbound::Ipv6(_) | Inbound::Dropped) => self.stats.ppp_dropped += 1,
                    Err(_) => self.stats.ppp_malformed += 1,
                }
                dirty.push(id);
            }
            // Neither matters over UDP: there is no serial line behind the call.
            L2tpEvent::WanError { .. } | L2tpEvent::SetLinkInfo { .. } => {}
        }
    }

    fn drop_link(&mut self, now: Instant, call: CallId, cause: CloseCause) {
        // A call cleared before it connected leaves its prepared link behind.
        self.prepared.remove(&call);
        if let Some(mut link) = self.links.remove(&call) {
            link.session.lower_layer_down(now);
            self.events
                .push_back(EndpointEvent::CallDown { call, cause });
        }
    }

    /// Pushes a link's new deadline. The entries of deadlines that moved stay in the heap
    /// until they fall due, so with every link's keepalive moving it outgrew the links (at
    /// 10 000 sessions it held 65 536 entries: 157 bytes per session). Before the heap would
    /// grow, the stale entries are dropped by rebuilding it from the links' armed deadlines
    /// (O(links), after at least links/2 pushes: amortised O(1)).
    fn push_timer(&mut self, at: Instant, call: CallId) {
        let live = self.links.len();
        if self.timers.len() == self.timers.capacity() && self.timers.len() >= live + live / 2 + 64
        {
            let mut entries = std::mem::take(&mut self.timers).into_vec();
            entries.clear();
            entries.extend(
                self.links
                    .iter()
                    .filter_map(|(id, l)| l.armed.map(|t| Reverse((t, *id)))),
            );
            entries.shrink_to(live.max(64));
            self.timers = BinaryHeap::from(entries);
            // `call`'s link is armed already: the rebuild took its entry.
            return;
        }
        self.timers.push(Reverse((at, call)));
    }

    fn drain_link(&mut self, now: Instant, call: CallId) {
        let Some(link) = self.links.get_mut(&call) else {
            return;
        };
        let mut closed = false;
        while let Some(frame) = link.session.poll_transmit() {
            // A call cleared meanwhile has nowhere to send: the frame is moot.
            let _ = self.engine.send_data(call.tunnel, call.session, &frame);
        }
        while let Some(event) = link.session.poll_event() {
            closed |= matches!(event, PppEvent::Closed(_));
            self.events.push_back(EndpointEvent::Ppp { call, event });
        }
        if let Some(t) = link.session.poll_timeout().filter(|_| !closed) {
            if link.armed != Some(t) {
                link.armed = Some(t);
                self.push_timer(t, call);
            }
        }
        if closed {
            // RFC 2661 §5.4: the PPP link is over, clear the call it rode on.
            self.links.remove(&call);
            let result = ResultCode::ADMINISTRATIVE;
            let _ = self
                .engine
                .close_session(now, call.tunnel, call.session, result.clone());
            self.events.push_back(EndpointEvent::CallDown {
                call,
                cause: CloseCause::Local(result),
            });
            while let Some(e) = self.engine.poll_event() {
                let mut ignored = Vec::new();
                self.on_l2tp_event(now, e, &mut ignored);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_lcp_echo_requests_only() {
        // Echo-Request id 1, length 8, magic 0x01020304; with and without address/control.
        let echo = [0xc0, 0x21, 9, 1, 0, 8, 1, 2, 3, 4];
        assert!(is_lcp_echo_request(&echo));
        let mut full = vec![0xff, 0x03];
        full.extend_from_slice(&echo);
        assert!(is_lcp_echo_request(&full));
        // Echo-Reply (10), a Configure-Request (1), IPCP code 9, garbage: not echo requests.
        assert!(!is_lcp_echo_request(&[0xc0, 0x21, 10, 1, 0, 8, 1, 2, 3, 4]));
        assert!(!is_lcp_echo_request(&[0xc0, 0x21, 1, 1, 0, 4]));
        assert!(!is_lcp_echo_request(&[0x80, 0x21, 9, 1, 0, 4]));
        assert!(!is_lcp_echo_request(&[0xc0]));
        assert!(!is_lcp_echo_request(&[]));
    }
}
