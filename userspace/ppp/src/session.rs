//! One PPP link: LCP, then authentication, then IPCP and IPV6CP (RFC 1661 §3 phases), as a
//! sans-IO engine.
//!
//! The owner feeds received PPP frames ([`Session::handle_frame`]) and timer expiries
//! ([`Session::handle_timeout`]), sends what [`Session::poll_transmit`] yields, sleeps until
//! [`Session::poll_timeout`], and reacts to [`Session::poll_event`]. The authenticator asks
//! for a verdict with [`Event::AuthRequest`] and takes the answer later through
//! [`Session::auth_verdict`] (the daemon asks RADIUS in between).

use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::chap::{md5_response, ChapPacket};
use crate::entropy::Entropy;
use crate::error::DecodeError;
use crate::frame::{decode_frame, encode_frame, header_flags_for, protocol};
use crate::fsm::{Fsm, FsmConfig, FsmOutput, LayerSignal, Negotiator, Received, RequestVerdict};
use crate::ipcp::{Ipcp, IpcpConfig, IpcpNegotiated};
use crate::ipv6cp::{Ipv6cp, Ipv6cpConfig, Ipv6cpNegotiated};
use crate::lcp::{AuthMethod, Lcp, LcpConfig, LcpNegotiated, LcpRole};
use crate::options::LcpOption;
use crate::packet::{code, decode_options, encode_packet};
use crate::pap::PapPacket;
use crate::proxy::{ProxyAuth, ProxyAuthType, ProxyLcp};
use crate::queue::Queue;
use crate::snapshot::{AuthDecision, NcpSnapshot, NcpState, NotResumable, SessionSnapshot};
use crate::state_table::State;

/// Consecutive Magic-Number collisions after which the link is declared looped back.
const LOOP_THRESHOLD: u32 = 3;

/// Settings of one link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionConfig {
    /// LCP options policy; its role decides which side of authentication we are.
    pub lcp: LcpConfig,
    /// Restart timer and counters, shared by LCP, the NCPs and authentication retries.
    pub fsm: FsmConfig,
    /// Authenticator: our CHAP name. Peer: ignored.
    pub name: Vec<u8>,
    /// Peer: the user name and secret to authenticate with.
    pub credentials: Option<(Vec<u8>, Vec<u8>)>,
    /// Authenticator: our IPv4 address for IPCP. Peer: the address to ask for (0.0.0.0 = any).
    pub local_ipv4: Ipv4Addr,
    /// Peer: ask for DNS servers (RFC 1877).
    pub request_dns: bool,
    /// Run IPV6CP with this interface identifier (all zero = pick a random one); `None`
    /// Protocol-Rejects IPV6CP.
    pub ipv6_interface_id: Option<[u8; 8]>,
    /// Run IPCP. The authenticator also needs an address in the verdict.
    pub ipv4: bool,
    /// LCP Echo-Request after this much silence (keepalive); `None` disables it.
    pub echo_interval: Option<Duration>,
    /// Unanswered Echo-Requests after which the link is declared dead.
    pub echo_max_failures: u32,
}

impl SessionConfig {
    /// An LNS-side link: CHAP-MD5 then PAP, IPCP, no IPV6CP, echo every 10 s.
    pub fn authenticator(name: &[u8], local_ipv4: Ipv4Addr) -> Self {
        SessionConfig {
            lcp: LcpConfig::authenticator(),
            fsm: FsmConfig::default(),
            name: name.to_vec(),
            credentials: None,
            local_ipv4,
            request_dns: false,
            ipv6_interface_id: None,
            ipv4: true,
            echo_interval: Some(Duration::from_secs(10)),
            echo_max_failures: 5,
        }
    }

    /// A client-side link authenticating as `username`.
    pub fn peer(username: &[u8], secret: &[u8]) -> Self {
        SessionConfig {
            lcp: LcpConfig::peer(),
            credentials: Some((username.to_vec(), secret.to_vec())),
            local_ipv4: Ipv4Addr::UNSPECIFIED,
            request_dns: true,
            ..Self::authenticator(b"", Ipv4Addr::UNSPECIFIED)
        }
    }
}

/// RFC 1661 §3.2 link phases.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Not started or finished.
    Dead,
    /// LCP negotiating.
    Establish,
    /// Authentication in progress.
    Authenticate,
    /// NCPs running.
    Network,
    /// LCP terminating.
    Terminate,
}

/// What the peer presented, for the daemon to check (with RADIUS).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credentials {
    /// PAP: the password in clear (RADIUS User-Password).
    Pap {
        /// Authenticate-Request identifier.
        id: u8,
        /// Password.
        password: Vec<u8>,
    },
    /// CHAP-MD5: RADIUS CHAP-Password is `id ‖ response`, CHAP-Challenge is `challenge`.
    Chap {
        /// CHAP Identifier.
        id: u8,
        /// Our challenge.
        challenge: Vec<u8>,
        /// The peer's response.
        response: Vec<u8>,
    },
}

/// An authentication request for the daemon.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthRequest {
    /// User name.
    pub username: Vec<u8>,
    /// What to verify.
    pub credentials: Credentials,
    /// True when it came from L2TP proxy authentication rather than from the peer itself.
    pub proxied: bool,
}

/// What the authentication backend granted (RADIUS Access-Accept attributes).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Grant {
    /// Framed-IP-Address: the peer's IPv4 address (`None`: no IPCP).
    pub ipv4: Option<Ipv4Addr>,
    /// Primary and secondary DNS (RFC 1877).
    pub dns: [Option<Ipv4Addr>; 2],
    /// The peer's IPv6 interface identifier (Framed-Interface-Id); `None` accepts the peer's.
    pub ipv6_interface_id: Option<[u8; 8]>,
    /// Message for the PAP Ack / CHAP Success (Reply-Message).
    pub message: Vec<u8>,
}

/// The daemon's answer to an [`AuthRequest`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Access-Accept.
    Accept(Grant),
    /// Access-Reject, with the message for the peer.
    Reject {
        /// Reply-Message.
        message: Vec<u8>,
    },
}

/// Why the link ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CloseReason {
    /// The peer sent Terminate-Request or the automaton gave up (Max-Configure).
    Finished,
    /// [`Session::close`] was called.
    Administrative,
    /// Authentication failed or timed out.
    AuthFailed,
    /// The peer refused every authentication method we allow.
    AuthRefused,
    /// LCP echo keepalive failed.
    EchoTimeout,
    /// The link is looped back (RFC 1661 §6.4).
    Looped,
    /// No network protocol could be opened.
    NoNetworkProtocol,
}

/// Something the owner must know or act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// LCP opened.
    LinkUp(LcpNegotiated),
    /// Authenticator: please verify; answer with [`Session::auth_verdict`].
    AuthRequest(AuthRequest),
    /// Authentication succeeded (both sides).
    Authenticated,
    /// Authentication failed (both sides), with the message seen or sent.
    AuthFailed {
        /// Message.
        message: Vec<u8>,
    },
    /// IPCP opened.
    Ipv4Up(IpcpNegotiated),
    /// IPCP left Opened.
    Ipv4Down,
    /// IPV6CP opened.
    Ipv6Up(Ipv6cpNegotiated),
    /// IPV6CP left Opened.
    Ipv6Down,
    /// The peer Protocol-Rejected one of our protocols.
    ProtocolRejected(u16),
    /// Proxy LCP was accepted and negotiation skipped.
    ProxyLcpAccepted,
    /// Proxy LCP did not satisfy our policy: LCP is renegotiated with the peer.
    ProxyLcpRejected {
        /// Why.
        reason: &'static str,
    },
    /// LCP finished: the link is down and the L2TP session can be torn down.
    Closed(CloseReason),
}

/// What a received frame was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inbound<'a> {
    /// A control frame, consumed by the engine.
    Control,
    /// An IPv4 datagram for the network (IPCP is Opened).
    Ipv4(&'a [u8]),
    /// An IPv6 datagram for the network (IPV6CP is Opened).
    Ipv6(&'a [u8]),
    /// Dropped: not valid now (data before its NCP is open, NCP before authentication, ...).
    Dropped,
}

/// Counters for operators.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SessionStats {
    /// Frames received.
    pub frames_in: u64,
    /// Frames or packets that failed to decode (counted and dropped).
    pub malformed: u64,
    /// Frames dropped because of the phase or state.
    pub dropped: u64,
    /// Protocol-Rejects sent (CCP, unknown protocols).
    pub protocol_rejects_sent: u64,
    /// LCP Echo-Requests sent.
    pub echo_requests_sent: u64,
}

/// Authenticator-side progress.
#[derive(Debug, Clone, PartialEq, Eq)]
enum AuthServer {
    Idle,
    /// Waiting for a Response (CHAP) or a Request (PAP); timer retransmits the challenge.
    Waiting {
        method: AuthMethod,
        id: u8,
        challenge: [u8; 16],
        retries_left: u32,
        deadline: Instant,
    },
    /// The daemon is deciding.
    Pending {
        method: AuthMethod,
        id: u8,
    },
    /// Decided; the reply is re-sent for duplicate requests (RFC 1994 §4.2, RFC 1334 §2.2).
    Done {
        method: AuthMethod,
        id: u8,
        accepted: bool,
        message: Vec<u8>,
    },
}

/// Peer-side progress.
#[derive(Debug, Clone, PartialEq, Eq)]
enum AuthClient {
    Idle,
    /// A PAP request or CHAP response is outstanding (`packet` is what we re-send).
    Sent {
        method: AuthMethod,
        id: u8,
        packet: Vec<u8>,
        retries_left: u32,
        deadline: Instant,
    },
    /// CHAP: waiting for the Challenge.
    AwaitChallenge {
        deadline: Instant,
    },
    Done,
}

/// One PPP link.
#[derive(Debug)]
///
/// Its size is a large part of an LNS's memory per session (one link per subscriber,
/// docs/BENCHMARKS.md "Where a session's bytes go"): the configuration is shared by every
/// link made from it, and what few links use (IPV6CP, a proxied login) is boxed.
pub struct Session {
    config: Arc<SessionConfig>,
    entropy: Entropy,
    phase: Phase,
    lcp: Fsm<Lcp>,
    ipcp: Option<Fsm<Ipcp>>,
    ipv6cp: Option<Box<Fsm<Ipv6cp>>>,
    auth_server: AuthServer,
    auth_client: AuthClient,
    grant: Grant,
    close_reason: Option<CloseReason>,
    proxy_request: Option<Box<AuthRequest>>,
    lcp_id: u8,
    echo_deadline: Option<Instant>,
    echo_outstanding: u32,
    loop_reported: bool,
    transmit: Queue<Vec<u8>>,
    events: Queue<Event>,
    stats: SessionStats,
}

impl Session {
    /// A new link in the Dead phase. `seed` must come from the OS CSPRNG: it drives magic
    /// numbers, identifiers and CHAP challenges.
    pub fn new(config: impl Into<Arc<SessionConfig>>, seed: [u8; 16]) -> Self {
        let config = config.into();
        let mut entropy = Entropy::new(seed);
        let lcp_entropy = Entropy::new(entropy.next_block());
        let id = entropy.next_u8();
        let lcp = Fsm::new(Lcp::new(config.lcp.clone(), lcp_entropy), config.fsm, id);
        Session {
            lcp_id: entropy.next_u8(),
            config,
            entropy,
            phase: Phase::Dead,
            lcp,
            ipcp: None,
            ipv6cp: None,
            auth_server: AuthServer::Idle,
            auth_client: AuthClient::Idle,
            grant: Grant::default(),
            close_reason: None,
            proxy_request: None,
            echo_deadline: None,
            echo_outstanding: 0,
            loop_reported: false,
            transmit: Queue::new(),
            events: Queue::new(),
            stats: SessionStats::default(),
        }
    }

    /// The current phase.
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// LCP's automaton state.
    pub fn lcp_state(&self) -> State {
        self.lcp.state()
    }

    /// IPCP's automaton state, if IPCP runs.
    pub fn ipcp_state(&self) -> Option<State> {
        self.ipcp.as_ref().map(|f| f.state())
    }

    /// IPV6CP's automaton state, if it runs.
    pub fn ipv6cp_state(&self) -> Option<State> {
        self.ipv6cp.as_ref().map(|f| f.state())
    }

    /// LCP's negotiated values (MRU, compression flags for the data path).
    pub fn lcp_negotiated(&self) -> &LcpNegotiated {
        self.lcp.negotiator().negotiated()
    }

    /// Counters.
    pub fn stats(&self) -> SessionStats {
        self.stats
    }

    /// The lower layer (the L2TP session) is up: start LCP (RFC 1661 Up + Open).
    pub fn start(&mut self, now: Instant) {
        self.phase = Phase::Establish;
        self.lcp.open(now);
        self.lcp.up(now);
        self.pump(now);
    }

    /// Starts from L2TP proxy LCP / proxy authentication (RFC 2661 §4.4.5) when the LAC's
    /// negotiation satisfies our policy; otherwise renegotiates LCP with the peer.
    pub fn start_with_proxy(&mut self, now: Instant, lcp: &ProxyLcp, auth: Option<&ProxyAuth>) {
        match self.check_proxy(lcp, auth) {
            Ok(negotiated) => {
                self.phase = Phase::Establish;
                self.proxy_request = auth.and_then(proxy_credentials).map(Box::new);
                self.lcp.negotiator_mut().install(negotiated);
                self.events.push_back(Event::ProxyLcpAccepted);
                // This-Layer-Up follows: authentication starts from the proxied credentials.
                self.lcp.assume_opened();
                self.pump(now);
            }
            Err(reason) => {
                self.events.push_back(Event::ProxyLcpRejected { reason });
                self.start(now);
            }
        }
    }

    /// Administrative close: LCP Terminate-Request (RFC 1661 Close event).
    pub fn close(&mut self, now: Instant, reason: &[u8]) {
        self.close_with(now, CloseReason::Administrative, reason);
    }

    /// The peer was heard from at `at` outside this link: data packets the caller forwards
    /// itself never reach it. Keepalive is for silent links, so the next Echo-Request waits
    /// one `echo_interval` after `at`, and echoes still unanswered are forgiven (the peer is
    /// alive). Without echoes configured, or before LCP is Opened, this changes nothing.
    pub fn peer_heard(&mut self, at: Instant) {
        let (Some(deadline), Some(interval)) = (self.echo_deadline, self.config.echo_interval)
        else {
            return;
        };
        let next = at + interval;
        if next > deadline {
            self.echo_deadline = Some(next);
            self.echo_outstanding = 0;
        }
    }

    /// The lower layer went away (L2TP CDN): RFC 1661 Down.
    pub fn lower_layer_down(&mut self, now: Instant) {
        self.lcp.down(now);
        self.pump(now);
    }

    /// The next PPP frame to send on the L2TP session.
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        self.transmit.pop_front()
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// The earliest deadline at which [`Session::handle_timeout`] must be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let auth = match &self.auth_server {
            AuthServer::Waiting { deadline, .. } => Some(*deadline),
            _ => None,
        };
        let client = match &self.auth_client {
            AuthClient::Sent { deadline, .. } | AuthClient::AwaitChallenge { deadline } => {
                Some(*deadline)
            }
            _ => None,
        };
        [
            self.lcp.poll_timeout(),
            self.ipcp.as_ref().and_then(|f| f.poll_timeout()),
            self.ipv6cp.as_ref().and_then(|f| f.poll_timeout()),
            auth,
            client,
            self.echo_deadline,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Runs every timer due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.lcp.handle_timeout(now);
        if let Some(f) = &mut self.ipcp {
            f.handle_timeout(now);
        }
        if let Some(f) = &mut self.ipv6cp {
            f.handle_timeout(now);
        }
        self.auth_server_timeout(now);
        self.auth_client_timeout(now);
        self.echo_timeout(now);
        self.pump(now);
    }

    /// Feeds one received PPP frame (with or without `FF 03`). Malformed input is counted and
    /// returned as an error; it never changes state.
    pub fn handle_frame<'a>(
        &mut self,
        now: Instant,
        bytes: &'a [u8],
    ) -> Result<Inbound<'a>, DecodeError> {
        self.stats.frames_in += 1;
        let frame = decode_frame(bytes).inspect_err(|_| self.stats.malformed += 1)?;
        // Anything from the peer proves the link alive (keepalive).
        self.echo_outstanding = 0;
        let lcp_open = self.lcp.state() == State::Opened;
        let result = match frame.protocol {
            protocol::LCP => self.handle_lcp(now, frame.payload),
            protocol::PAP | protocol::CHAP if self.lcp.negotiator().negotiated().auth.is_none() => {
                // Not negotiated: RFC 1661 §5.7 says Protocol-Reject.
                self.protocol_reject(lcp_open, frame.protocol, frame.payload)
            }
            protocol::PAP if lcp_open => self.handle_pap(now, frame.payload),
            protocol::CHAP if lcp_open => self.handle_chap(now, frame.payload),
            protocol::IPCP if self.config.ipv4 => {
                self.handle_ncp(now, frame.protocol, frame.payload)
            }
            protocol::IPV6CP if self.config.ipv6_interface_id.is_some() => {
                self.handle_ncp(now, frame.protocol, frame.payload)
            }
            protocol::IPV4 => Ok(self.data(protocol::IPV4, frame.payload)),
            protocol::IPV6 => Ok(self.data(protocol::IPV6, frame.payload)),
            // CCP and everything else we do not implement: Protocol-Reject (see the crate's
            // README: the peer's CCP then stops cleanly, RFC 1661 §5.7, RFC 1962 §1).
            p => self.protocol_reject(lcp_open, p, frame.payload),
        };
        self.pump(now);
        if result.is_err() {
            self.stats.malformed += 1;
        }
        result
    }

    /// The daemon's verdict on the last [`Event::AuthRequest`]. Returns false (and does
    /// nothing) if no verdict was pending, e.g. the link went down meanwhile.
    pub fn auth_verdict(&mut self, now: Instant, verdict: Verdict) -> bool {
        let AuthServer::Pending { method, id } = self.auth_server else {
            return false;
        };
        let (accepted, message) = match &verdict {
            Verdict::Accept(g) => (true, g.message.clone()),
            Verdict::Reject { message } => (false, message.clone()),
        };
        self.auth_server = AuthServer::Done {
            method,
            id,
            accepted,
            message,
        };
        self.send_auth_reply(id);
        match verdict {
            Verdict::Accept(grant) => {
                self.grant = grant;
                self.events.push_back(Event::Authenticated);
                self.enter_network(now);
            }
            Verdict::Reject { message } => {
                self.events.push_back(Event::AuthFailed { message });
                // RFC 1994 §4.2 / RFC 1334 §2.2: the authenticator terminates the link.
                self.close_with(now, CloseReason::AuthFailed, b"Authentication failed");
            }
        }
        self.pump(now);
        true
    }

    // ---- internals ----

    fn close_with(&mut self, now: Instant, reason: CloseReason, text: &[u8]) {
        if self.close_reason.is_none() {
            self.close_reason = Some(reason);
        }
        self.lcp.close(now, text);
        self.pump(now);
        // Close in Initial/Closed/Stopped finishes nothing (This-Layer-Finished was already
        // reported, or never due): do not pin the reason on a later, unrelated finish.
        if self.lcp.state() != State::Closing {
            self.close_reason = None;
        }
    }

    fn send(&mut self, proto: u16, packet: &[u8]) {
        let n = self.lcp.negotiator().negotiated();
        let (acfc, pfc) = header_flags_for(proto, n.tx_acfc, n.tx_pfc);
        self.transmit
            .push_back(encode_frame(proto, packet, acfc, pfc));
    }

    fn next_lcp_id(&mut self) -> u8 {
        self.lcp_id = self.lcp_id.wrapping_add(1);
        self.lcp_id
    }

    fn protocol_reject(
        &mut self,
        lcp_open: bool,
        proto: u16,
        payload: &[u8],
    ) -> Result<Inbound<'static>, DecodeError> {
        // §5.7: only in the Opened state; otherwise silently discarded.
        if !lcp_open {
            self.stats.dropped += 1;
            return Ok(Inbound::Dropped);
        }
        let mru = usize::from(self.lcp.negotiator().negotiated().peer_mru.max(64));
        let info = &payload[..payload.len().min(mru.saturating_sub(6))];
        let id = self.next_lcp_id();
        let p = encode_packet(code::PROTOCOL_REJECT, id, &[&proto.to_be_bytes(), info]);
        self.send(protocol::LCP, &p);
        self.stats.protocol_rejects_sent += 1;
        Ok(Inbound::Control)
    }

    fn data<'a>(&mut self, proto: u16, payload: &'a [u8]) -> Inbound<'a> {
        let open = |s: Option<State>| s == Some(State::Opened);
        match proto {
            protocol::IPV4 if self.phase == Phase::Network && open(self.ipcp_state()) => {
                Inbound::Ipv4(payload)
            }
            protocol::IPV6 if self.phase == Phase::Network && open(self.ipv6cp_state()) => {
                Inbound::Ipv6(payload)
            }
            _ => {
                self.stats.dropped += 1;
                Inbound::Dropped
            }
        }
    }

    fn handle_lcp(
        &mut self,
        now: Instant,
        payload: &[u8],
    ) -> Result<Inbound<'static>, DecodeError> {
        let received = self.lcp.handle_packet(now, payload)?;
        match received {
            Received::ProtocolRejected(p) => {
                self.events.push_back(Event::ProtocolRejected(p));
                match p {
                    protocol::IPCP => {
                        if let Some(f) = &mut self.ipcp {
                            f.protocol_rejected(now)
                        }
                    }
                    protocol::IPV6CP => {
                        if let Some(f) = &mut self.ipv6cp {
                            f.protocol_rejected(now)
                        }
                    }
                    _ => {}
                }
            }
            Received::Looped => self.report_loop(now),
            _ => {}
        }
        if self.lcp.negotiator().magic_collisions() >= LOOP_THRESHOLD {
            self.report_loop(now);
        }
        if self.config.lcp.role == LcpRole::Authenticator && self.lcp.negotiator().auth_refused() {
            // Our own Configure-Reject of Authentication-Protocol coming back, after a
            // request carrying our magic number, is a loop rather than a refusing peer.
            if self.lcp.negotiator().magic_collisions() > 0 {
                self.report_loop(now);
            } else {
                self.close_with(now, CloseReason::AuthRefused, b"Authentication required");
            }
        }
        Ok(Inbound::Control)
    }

    fn report_loop(&mut self, now: Instant) {
        if !self.loop_reported {
            self.loop_reported = true;
            self.close_with(now, CloseReason::Looped, b"Looped-back link");
        }
    }

    fn handle_ncp(
        &mut self,
        now: Instant,
        proto: u16,
        payload: &[u8],
    ) -> Result<Inbound<'static>, DecodeError> {
        // RFC 1661 §3.4/3.5: NCP packets before the Network phase are silently discarded.
        let handled = match proto {
            protocol::IPCP => self.ipcp.as_mut().map(|f| f.handle_packet(now, payload)),
            _ => self.ipv6cp.as_mut().map(|f| f.handle_packet(now, payload)),
        };
        match handled {
            Some(r) => r.map(|_| Inbound::Control),
            // In the Network phase without this NCP (e.g. the grant has no IPv4 address):
            // Protocol-Reject, so the peer stops instead of retrying until Max-Configure.
            None if self.phase == Phase::Network => {
                let open = self.lcp.state() == State::Opened;
                self.protocol_reject(open, proto, payload)
            }
            None => {
                self.stats.dropped += 1;
                Ok(Inbound::Dropped)
            }
        }
    }

    fn handle_pap(
        &mut self,
        now: Instant,
        payload: &[u8],
    ) -> Result<Inbound<'static>, DecodeError> {
        let packet = PapPacket::decode(payload)?;
        match (self.config.lcp.role, packet) {
            (
                LcpRole::Authenticator,
                PapPacket::Request {
                    id,
                    peer_id,
                    password,
                },
            ) => {
                match &self.auth_server {
                    AuthServer::Waiting {
                        method: AuthMethod::Pap,
                        ..
                    } => {
                        self.auth_server = AuthServer::Pending {
                            method: AuthMethod::Pap,
                            id,
                        };
                        self.events.push_back(Event::AuthRequest(AuthRequest {
                            username: peer_id,
                            credentials: Credentials::Pap { id, password },
                            proxied: false,
                        }));
                    }
                    // The peer retransmitted because our answer was lost: answer again.
                    AuthServer::Done {
                        method: AuthMethod::Pap,
                        ..
                    } => self.send_auth_reply(id),
                    _ => self.stats.dropped += 1,
                }
            }
            (LcpRole::Peer, PapPacket::Ack { id, .. }) => {
                if matches!(self.auth_client, AuthClient::Sent { method: AuthMethod::Pap, id: sent, .. } if sent == id)
                {
                    self.auth_client = AuthClient::Done;
                    self.events.push_back(Event::Authenticated);
                    self.enter_network(now);
                }
            }
            (LcpRole::Peer, PapPacket::Nak { id, message }) => {
                if matches!(self.auth_client, AuthClient::Sent { method: AuthMethod::Pap, id: sent, .. } if sent == id)
                {
                    self.auth_client = AuthClient::Done;
                    self.events.push_back(Event::AuthFailed { message });
                }
            }
            _ => self.stats.dropped += 1,
        }
        Ok(Inbound::Control)
    }

    fn handle_chap(
        &mut self,
        now: Instant,
        payload: &[u8],
    ) -> Result<Inbound<'static>, DecodeError> {
        let packet = ChapPacket::decode(payload)?;
        match (self.config.lcp.role, packet) {
            (LcpRole::Authenticator, ChapPacket::Response { id, value, name }) => {
                match &self.auth_server {
                    AuthServer::Waiting {
                        method: AuthMethod::ChapMd5,
                        id: expected,
                        challenge,
                        ..
                    } if *expected == id => {
                        let challenge = challenge.to_vec();
                        self.auth_server = AuthServer::Pending {
                            method: AuthMethod::ChapMd5,
                            id,
                        };
                        self.events.push_back(Event::AuthRequest(AuthRequest {
                            username: name,
                            credentials: Credentials::Chap {
                                id,
                                challenge,
                                response: value,
                            },
                            proxied: false,
                        }));
                    }
                    // RFC 1994 §4.2: a retransmitted Response gets the same answer.
                    AuthServer::Done {
                        method: AuthMethod::ChapMd5,
                        id: done,
                        ..
                    } if *done == id => self.send_auth_reply(id),
                    _ => self.stats.dropped += 1,
                }
            }
            (LcpRole::Peer, ChapPacket::Challenge { id, value, .. }) => {
                let Some((user, secret)) = self.config.credentials.clone() else {
                    self.stats.dropped += 1;
                    return Ok(Inbound::Control);
                };
                let response = md5_response(id, &secret, &value);
                let packet = ChapPacket::Response {
                    id,
                    value: response.to_vec(),
                    name: user,
                }
                .encode();
                self.send(protocol::CHAP, &packet);
                if self.auth_client != AuthClient::Done {
                    self.auth_client = AuthClient::Sent {
                        method: AuthMethod::ChapMd5,
                        id,
                        packet,
                        retries_left: self.config.fsm.max_configure,
                        deadline: now + self.config.fsm.restart_interval,
                    };
                }
            }
            (LcpRole::Peer, ChapPacket::Success { id, .. }) => {
                if matches!(self.auth_client, AuthClient::Sent { method: AuthMethod::ChapMd5, id: sent, .. } if sent == id)
                {
                    self.auth_client = AuthClient::Done;
                    self.events.push_back(Event::Authenticated);
                    self.enter_network(now);
                }
            }
            (LcpRole::Peer, ChapPacket::Failure { id, message }) => {
                if matches!(self.auth_client, AuthClient::Sent { method: AuthMethod::ChapMd5, id: sent, .. } if sent == id)
                {
                    self.auth_client = AuthClient::Done;
                    self.events.push_back(Event::AuthFailed { message });
                }
            }
            _ => self.stats.dropped += 1,
        }
        Ok(Inbound::Control)
    }

    fn send_auth_reply(&mut self, id: u8) {
        let AuthServer::Done {
            method,
            accepted,
            message,
            ..
        } = &self.auth_server
        else {
            return;
        };
        let (proto, packet) = match (method, accepted) {
            (AuthMethod::Pap, true) => (
                protocol::PAP,
                PapPacket::Ack {
                    id,
                    message: message.clone(),
                }
                .encode(),
            ),
            (AuthMethod::Pap, false) => (
                protocol::PAP,
                PapPacket::Nak {
                    id,
                    message: message.clone(),
                }
                .encode(),
            ),
            (AuthMethod::ChapMd5, true) => (
                protocol::CHAP,
                ChapPacket::Success {
                    id,
                    message: message.clone(),
                }
                .encode(),
            ),
            (AuthMethod::ChapMd5, false) => (
                protocol::CHAP,
                ChapPacket::Failure {
                    id,
                    message: message.clone(),
                }
                .encode(),
            ),
        };
        self.send(proto, &packet);
    }

    fn start_authentication(&mut self, now: Instant) {
        let method = self.lcp.negotiator().negotiated().auth;
        let deadline = now + self.config.fsm.restart_interval;
        let retries = self.config.fsm.max_configure;
        match (self.config.lcp.role, method) {
            (_, None) => self.enter_network(now),
            (LcpRole::Authenticator, Some(method)) if self.proxy_request.is_some() => {
                // RFC 2661 §4.4.5: the LAC already collected the credentials; the peer waits
                // for our Success/Ack (or Failure/Nak) with the identifier it used.
                self.phase = Phase::Authenticate;
                if let Some(request) = self.proxy_request.take().map(|r| *r) {
                    let id = match request.credentials {
                        Credentials::Chap { id, .. } | Credentials::Pap { id, .. } => id,
                    };
                    self.auth_server = AuthServer::Pending { method, id };
                    self.events.push_back(Event::AuthRequest(request));
                }
            }
            (LcpRole::Authenticator, Some(method)) => {
                self.phase = Phase::Authenticate;
                let id = self.entropy.next_u8();
                let challenge = self.entropy.next_block();
                self.auth_server = AuthServer::Waiting {
                    method,
                    id,
                    challenge,
                    retries_left: retries.saturating_sub(1),
                    deadline,
                };
                if method == AuthMethod::ChapMd5 {
                    self.send_challenge();
                }
            }
            (LcpRole::Peer, Some(AuthMethod::Pap)) => {
                self.phase = Phase::Authenticate;
                let (user, secret) = self.config.credentials.clone().unwrap_or_default();
                let id = self.entropy.next_u8();
                let packet = PapPacket::Request {
                    id,
                    peer_id: user,
                    password: secret,
                }
                .encode();
                self.send(protocol::PAP, &packet);
                self.auth_client = AuthClient::Sent {
                    method: AuthMethod::Pap,
                    id,
                    packet,
                    retries_left: retries.saturating_sub(1),
                    deadline,
                };
            }
            (LcpRole::Peer, Some(AuthMethod::ChapMd5)) => {
                self.phase = Phase::Authenticate;
                // The authenticator retransmits its challenge; give up after as many
                // intervals as Max-Configure allows.
                self.auth_client = AuthClient::AwaitChallenge {
                    deadline: now
                        + self
                            .config
                            .fsm
                            .restart_interval
                            .saturating_mul(retries.max(1)),
                };
            }
        }
    }

    fn send_challenge(&mut self) {
        if let AuthServer::Waiting { id, challenge, .. } = &self.auth_server {
            let packet = ChapPacket::Challenge {
                id: *id,
                value: challenge.to_vec(),
                name: self.config.name.clone(),
            }
            .encode();
            self.send(protocol::CHAP, &packet);
        }
    }

    fn auth_server_timeout(&mut self, now: Instant) {
        let AuthServer::Waiting {
            method,
            retries_left,
            deadline,
            ..
        } = &mut self.auth_server
        else {
            return;
        };
        if now < *deadline {
            return;
        }
        if *retries_left == 0 {
            self.auth_server = AuthServer::Idle;
            self.events.push_back(Event::AuthFailed {
                message: b"Authentication timeout".to_vec(),
            });
            self.close_with(now, CloseReason::AuthFailed, b"Authentication timeout");
            return;
        }
        *retries_left -= 1;
        *deadline = now + self.config.fsm.restart_interval;
        if *method == AuthMethod::ChapMd5 {
            self.send_challenge();
        }
    }

    fn auth_client_timeout(&mut self, now: Instant) {
        let interval = self.config.fsm.restart_interval;
        match &mut self.auth_client {
            AuthClient::Sent {
                packet,
                retries_left,
                deadline,
                method,
                ..
            } if now >= *deadline => {
                if *retries_left == 0 {
                    self.auth_client = AuthClient::Done;
                    self.events.push_back(Event::AuthFailed {
                        message: b"Authentication timeout".to_vec(),
                    });
                    self.close_with(now, CloseReason::AuthFailed, b"Authentication timeout");
                    return;
                }
                *retries_left -= 1;
                *deadline = now + interval;
                let proto = match method {
                    AuthMethod::Pap => protocol::PAP,
                    AuthMethod::ChapMd5 => protocol::CHAP,
                };
                let packet = packet.clone();
                self.send(proto, &packet);
            }
            AuthClient::AwaitChallenge { deadline } if now >= *deadline => {
                self.auth_client = AuthClient::Done;
                self.events.push_back(Event::AuthFailed {
                    message: b"No CHAP challenge".to_vec(),
                });
                self.close_with(now, CloseReason::AuthFailed, b"Authentication timeout");
            }
            _ => {}
        }
    }

    fn echo_timeout(&mut self, now: Instant) {
        let (Some(deadline), Some(interval)) = (self.echo_deadline, self.config.echo_interval)
        else {
            return;
        };
        if now < deadline {
            return;
        }
        if self.echo_outstanding >= self.config.echo_max_failures {
            self.echo_deadline = None;
            self.close_with(now, CloseReason::EchoTimeout, b"Keepalive timeout");
            return;
        }
        self.echo_outstanding += 1;
        self.echo_deadline = Some(now + interval);
        let id = self.next_lcp_id();
        let magic = self.lcp.negotiator().negotiated().our_magic;
        let p = encode_packet(code::ECHO_REQUEST, id, &[&magic.to_be_bytes()]);
        self.send(protocol::LCP, &p);
        self.stats.echo_requests_sent += 1;
    }

    fn enter_network(&mut self, now: Instant) {
        if self.phase == Phase::Network {
            return;
        }
        self.phase = Phase::Network;
        let server = self.config.lcp.role == LcpRole::Authenticator;
        if self.config.ipv4 {
            let ipcp = if server {
                self.grant.ipv4.map(|peer| IpcpConfig::Server {
                    local: self.config.local_ipv4,
                    peer,
                    dns: self.grant.dns,
                })
            } else {
                Some(IpcpConfig::Client {
                    address: self.config.local_ipv4,
                    request_dns: self.config.request_dns,
                })
            };
            if let Some(cfg) = ipcp {
                let id = self.entropy.next_u8();
                let mut f = Fsm::new(Ipcp::new(cfg), self.config.fsm, id);
                f.open(now);
                f.up(now);
                self.ipcp = Some(f);
            }
        }
        if let Some(local) = self.config.ipv6_interface_id {
            let cfg = Ipv6cpConfig {
                local,
                peer: if server {
                    self.grant.ipv6_interface_id
                } else {
                    None
                },
            };
            let id = self.entropy.next_u8();
            let e = Entropy::new(self.entropy.next_block());
            let mut f = Fsm::new(Ipv6cp::new(cfg, e), self.config.fsm, id);
            f.open(now);
            f.up(now);
            self.ipv6cp = Some(Box::new(f));
        }
        if self.ipcp.is_none() && self.ipv6cp.is_none() {
            self.close_with(now, CloseReason::NoNetworkProtocol, b"No network protocol");
        }
    }

    /// Moves automaton output to the transmit queue and reacts to layer signals, until quiet.
    fn pump(&mut self, now: Instant) {
        loop {
            let mut progress = false;
            while let Some(o) = self.lcp.poll_output() {
                progress = true;
                match o {
                    FsmOutput::Send(p) => self.send(protocol::LCP, &p),
                    FsmOutput::Signal(s) => self.lcp_signal(now, s),
                }
            }
            if let Some(mut f) = self.ipcp.take() {
                while let Some(o) = f.poll_output() {
                    progress = true;
                    match o {
                        FsmOutput::Send(p) => self.send(protocol::IPCP, &p),
                        FsmOutput::Signal(LayerSignal::Up) => self
                            .events
                            .push_back(Event::Ipv4Up(f.negotiator().negotiated())),
                        FsmOutput::Signal(LayerSignal::Down) => {
                            self.events.push_back(Event::Ipv4Down)
                        }
                        FsmOutput::Signal(LayerSignal::Finished) => self.ncp_finished(now),
                        FsmOutput::Signal(LayerSignal::Started) => {}
                    }
                }
                if self.ipcp.is_none() && self.phase == Phase::Network {
                    self.ipcp = Some(f);
                }
            }
            if let Some(mut f) = self.ipv6cp.take() {
                while let Some(o) = f.poll_output() {
                    progress = true;
                    match o {
                        FsmOutput::Send(p) => self.send(protocol::IPV6CP, &p),
                        FsmOutput::Signal(LayerSignal::Up) => self
                            .events
                            .push_back(Event::Ipv6Up(f.negotiator().negotiated())),
                        FsmOutput::Signal(LayerSignal::Down) => {
                            self.events.push_back(Event::Ipv6Down)
                        }
                        FsmOutput::Signal(LayerSignal::Finished) => self.ncp_finished(now),
                        FsmOutput::Signal(LayerSignal::Started) => {}
                    }
                }
                if self.ipv6cp.is_none() && self.phase == Phase::Network {
                    self.ipv6cp = Some(f);
                }
            }
            if !progress {
                break;
            }
        }
    }

    /// An NCP gave up (Max-Configure, Protocol-Reject): with no NCP left open, the link is
    /// useless and LCP is closed (as pppd and l2tpns do).
    fn ncp_finished(&mut self, now: Instant) {
        let open = |s: Option<State>| {
            matches!(
                s,
                Some(State::Opened | State::ReqSent | State::AckRcvd | State::AckSent)
            )
        };
        if self.phase == Phase::Network && !open(self.ipcp_state()) && !open(self.ipv6cp_state()) {
            self.close_with(now, CloseReason::NoNetworkProtocol, b"No network protocol");
        }
    }

    fn lcp_signal(&mut self, now: Instant, s: LayerSignal) {
        match s {
            LayerSignal::Up => {
                self.events
                    .push_back(Event::LinkUp(self.lcp.negotiator().negotiated().clone()));
                self.echo_outstanding = 0;
                self.echo_deadline = self.config.echo_interval.map(|i| now + i);
                self.start_authentication(now);
            }
            LayerSignal::Down => {
                // RFC 1661 §3.7: leaving Opened takes the network layer down with it. The
                // automaton's new state says whether the link terminates or renegotiates.
                self.phase = match self.lcp.state() {
                    State::Closing | State::Stopping => Phase::Terminate,
                    State::Initial | State::Starting => Phase::Dead,
                    _ => Phase::Establish,
                };
                self.echo_deadline = None;
                if let Some(f) = &mut self.ipcp {
                    f.down(now);
                }
                if let Some(f) = &mut self.ipv6cp {
                    f.down(now);
                }
                self.drain_ncp_down();
                self.ipcp = None;
                self.ipv6cp = None;
                self.auth_server = AuthServer::Idle;
                self.auth_client = AuthClient::Idle;
            }
            LayerSignal::Started => {}
            LayerSignal::Finished => {
                self.phase = Phase::Dead;
                let reason = self.close_reason.take().unwrap_or(CloseReason::Finished);
                self.events.push_back(Event::Closed(reason));
            }
        }
    }

    fn drain_ncp_down(&mut self) {
        if let Some(f) = &mut self.ipcp {
            while let Some(o) = f.poll_output() {
                if o == FsmOutput::Signal(LayerSignal::Down) {
                    self.events.push_back(Event::Ipv4Down);
                }
            }
        }
        if let Some(f) = &mut self.ipv6cp {
            while let Some(o) = f.poll_output() {
                if o == FsmOutput::Signal(LayerSignal::Down) {
                    self.events.push_back(Event::Ipv6Down);
                }
            }
        }
    }

    fn check_proxy(
        &mut self,
        proxy: &ProxyLcp,
        auth: Option<&ProxyAuth>,
    ) -> Result<LcpNegotiated, &'static str> {
        if self.config.lcp.role != LcpRole::Authenticator {
            return Err("proxy LCP is for the authenticator");
        }
        let received: Vec<LcpOption> = decode_options(&proxy.last_received)
            .map_err(|_| "malformed Last Received LCP CONFREQ")?;
        let sent: Vec<LcpOption> =
            decode_options(&proxy.last_sent).map_err(|_| "malformed Last Sent LCP CONFREQ")?;
        let lcp = self.lcp.negotiator_mut();
        lcp.reset();
        if lcp.check_request(&received) != RequestVerdict::Ack {
            return Err("client's LCP options not acceptable");
        }
        let mut n = lcp.negotiated().clone();
        n.our_mru = 1500;
        n.auth = None;
        for o in &sent {
            match o {
                LcpOption::Mru(v) => n.our_mru = *v,
                LcpOption::MagicNumber(m) => n.our_magic = *m,
                LcpOption::AuthProtocol(a) => {
                    n.auth = AuthMethod::from_option(a);
                    if n.auth.is_none_or(|m| !self.config.lcp.auth.contains(&m)) {
                        return Err("LAC negotiated an authentication method we do not allow");
                    }
                }
                LcpOption::Pfc => n.tx_pfc = true,
                LcpOption::Acfc => n.tx_acfc = true,
                LcpOption::Accm(_)
                | LcpOption::Mrru(_)
                | LcpOption::EndpointDiscriminator { .. } => {}
                _ => return Err("LAC negotiated an LCP option we do not support"),
            }
        }
        if n.our_mru < self.config.lcp.min_peer_mru {
            return Err("LAC negotiated an MRU below our minimum");
        }
        if !self.config.lcp.auth.is_empty() {
            let Some(method) = n.auth else {
                return Err("LAC did not negotiate authentication");
            };
            let matches = match (method, auth.map(|a| a.auth_type)) {
                (_, None) => true, // we will authenticate ourselves
                (AuthMethod::Pap, Some(ProxyAuthType::Pap)) => true,
                (AuthMethod::ChapMd5, Some(ProxyAuthType::Chap)) => true,
                _ => false,
            };
            if !matches {
                return Err("proxy authentication type does not match the negotiated protocol");
            }
        }
        Ok(n)
    }
}

/// Snapshot and resume (see [`crate::snapshot`] for what survives and why).
impl Session {
    /// The resumable state of a link in the Network phase with LCP opened and every NCP
    /// steady (Opened, Closed or Stopped).
    pub fn snapshot(&self) -> Result<SessionSnapshot, NotResumable> {
        if self.phase != Phase::Network || self.lcp.state() != State::Opened {
            return Err(NotResumable::NotOpened);
        }
        fn ncp<N: Negotiator, V>(
            f: Option<&Fsm<N>>,
            name: &'static str,
            negotiated: impl Fn(&N) -> V,
        ) -> Result<Option<NcpSnapshot<V>>, NotResumable> {
            let Some(f) = f else { return Ok(None) };
            let state = match f.state() {
                State::Opened => NcpState::Opened,
                State::Closed => NcpState::Closed,
                State::Stopped => NcpState::Stopped,
                _ => return Err(NotResumable::NcpNegotiating(name)),
            };
            Ok(Some(NcpSnapshot {
                state,
                next_id: f.next_id(),
                negotiated: negotiated(f.negotiator()),
            }))
        }
        let auth = match &self.auth_server {
            AuthServer::Done {
                method,
                id,
                accepted: true,
                message,
            } => Some(AuthDecision {
                method: *method,
                id: *id,
                message: message.clone(),
            }),
            _ => None,
        };
        Ok(SessionSnapshot {
            role: self.config.lcp.role,
            lcp: self.lcp_negotiated().clone(),
            lcp_next_id: self.lcp.next_id(),
            echo_id: self.lcp_id,
            echo_outstanding: self.echo_outstanding,
            auth,
            grant: self.grant.clone(),
            ipcp: ncp(self.ipcp.as_ref(), "IPCP", Ipcp::negotiated)?,
            ipv6cp: ncp(self.ipv6cp.as_deref(), "IPV6CP", Ipv6cp::negotiated)?,
            stats: self.stats,
        })
    }

    /// Rebuilds an opened link from `snap` at `now`, with the configuration the link had
    /// (a changed configuration applies to later negotiations only) and a fresh `seed` from
    /// the OS CSPRNG. Nothing is sent; keepalive restarts one `echo_interval` after `now`.
    pub fn resume(
        config: impl Into<Arc<SessionConfig>>,
        seed: [u8; 16],
        snap: SessionSnapshot,
        now: Instant,
    ) -> Result<Self, NotResumable> {
        let config = config.into();
        if snap.role != config.lcp.role {
            return Err(NotResumable::RoleMismatch);
        }
        let mut s = Session::new(config, seed);
        s.phase = Phase::Network;
        s.lcp.negotiator_mut().install(snap.lcp);
        s.lcp.resume_in(State::Opened, snap.lcp_next_id);
        s.lcp_id = snap.echo_id;
        s.echo_outstanding = snap.echo_outstanding;
        s.echo_deadline = s.config.echo_interval.map(|i| now + i);
        s.grant = snap.grant;
        let server = s.config.lcp.role == LcpRole::Authenticator;
        if server {
            if let Some(a) = snap.auth {
                s.auth_server = AuthServer::Done {
                    method: a.method,
                    id: a.id,
                    accepted: true,
                    message: a.message,
                };
            }
        } else if s.lcp.negotiator().negotiated().auth.is_some() {
            s.auth_client = AuthClient::Done;
        }
        if let Some(n) = snap.ipcp {
            if !s.config.ipv4 {
                return Err(NotResumable::NcpNotConfigured("IPCP"));
            }
            let cfg = if server {
                let peer = s.grant.ipv4.ok_or(NotResumable::NoGrantedAddress)?;
                IpcpConfig::Server {
                    local: s.config.local_ipv4,
                    peer,
                    dns: s.grant.dns,
                }
            } else {
                IpcpConfig::Client {
                    address: s.config.local_ipv4,
                    request_dns: s.config.request_dns,
                }
            };
            let mut f = Fsm::new(Ipcp::new(cfg), s.config.fsm, n.next_id);
            f.negotiator_mut().install(n.negotiated);
            f.resume_in(n.state.into(), n.next_id);
            s.ipcp = Some(f);
        }
        if let Some(n) = snap.ipv6cp {
            let local = s
                .config
                .ipv6_interface_id
                .ok_or(NotResumable::NcpNotConfigured("IPV6CP"))?;
            let cfg = Ipv6cpConfig {
                local,
                peer: if server {
                    s.grant.ipv6_interface_id
                } else {
                    None
                },
            };
            let e = Entropy::new(s.entropy.next_block());
            let mut f = Fsm::new(Ipv6cp::new(cfg, e), s.config.fsm, n.next_id);
            f.negotiator_mut().install(n.negotiated);
            f.resume_in(n.state.into(), n.next_id);
            s.ipv6cp = Some(Box::new(f));
        }
        s.stats = snap.stats;
        Ok(s)
    }
}

impl From<NcpState> for State {
    fn from(s: NcpState) -> State {
        match s {
            NcpState::Opened => State::Opened,
            NcpState::Closed => State::Closed,
            NcpState::Stopped => State::Stopped,
        }
    }
}

fn proxy_credentials(a: &ProxyAuth) -> Option<AuthRequest> {
    let credentials = match a.auth_type {
        ProxyAuthType::Pap => Credentials::Pap {
            id: a.id as u8,
            password: a.response.clone(),
        },
        ProxyAuthType::Chap => Credentials::Chap {
            id: a.id as u8,
            challenge: a.challenge.clone(),
            response: a.response.clone(),
        },
        _ => return None,
    };
    Some(AuthRequest {
        username: a.name.clone(),
        credentials,
        proxied: true,
    })
}
