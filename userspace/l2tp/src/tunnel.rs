//! One control connection and its calls: the tunnel state machine (RFC 2661 §7.2), the
//! incoming-call state machines of both roles (§7.4.1 LAC, §7.4.2 LNS) and tunnel
//! authentication (§5.1.1).

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::time::Instant;

use crate::auth::{challenge_response, responses_equal};
use crate::avp::{error_code, Avp, AvpValue, CallErrors, ResultCode};
use crate::call::CallInfo;
use crate::engine::{result, Admission, CloseCause, Ctx, Error, Event};
use crate::header::{self, ControlHeader};
use crate::ids::{SessionId, TunnelId};
use crate::message::{Message, MessageType};
use crate::reliable::{Reliable, ResumedChannel, Verdict};
use crate::snapshot::{SessionSnapshot, TunnelSnapshot};

/// Which side opened the control connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// We sent the SCCRQ (LAC).
    Initiator,
    /// We answered an SCCRQ (LNS).
    Responder,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Responder before the SCCRQ is processed.
    Idle,
    /// Initiator: SCCRQ sent.
    WaitCtlReply,
    /// Responder: SCCRP sent.
    WaitCtlConn,
    Established,
    /// StopCCN sent or received; kept to acknowledge retransmissions until `until`.
    Closing {
        until: Instant,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SessionState {
    /// LAC: ICRQ sent.
    WaitReply,
    /// LNS: ICRP sent.
    WaitConnect,
    Established,
}

struct Session {
    peer_id: SessionId,
    state: SessionState,
    /// The call's parameters (ICRQ, ICCN) until the application has them with `SessionUp`;
    /// after that the engine needs only `sequencing_required`. Keeping ~300 bytes of them
    /// for the life of every call was an LNS's third largest cost per session
    /// (docs/BENCHMARKS.md, "Where a session's bytes go").
    call: Option<Box<CallInfo>>,
    /// The LAC required sequenced data (RFC 2661 §5.4), once `call` is handed over.
    sequencing_required: bool,
    /// When the setup started; only meaningful before `Established`.
    since: Instant,
    /// Ns of the next data message, used when the LAC required sequencing.
    data_ns: u16,
}

pub(crate) struct Tunnel {
    pub id: TunnelId,
    pub peer_id: TunnelId,
    pub peer: SocketAddr,
    pub role: Role,
    state: State,
    pub chan: Reliable,
    pub outbox: VecDeque<Vec<u8>>,
    our_challenge: Option<[u8; 16]>,
    pub(crate) peer_host_name: Vec<u8>,
    sessions: HashMap<SessionId, Session>,
    /// A lower bound of `since` over the calls still in setup (`None`: there are none), so
    /// the timer queries need not scan every call: with tens of thousands of calls a scan on
    /// each `poll_timeout` made every event loop turn O(calls). It may be early (a call that
    /// was pending got established); the scan in `expire_setups` then makes it exact.
    setup_floor: Option<Instant>,
    /// LAC calls whose ICCN is sent but not yet acknowledged, as (ICCN's Ns, session id), in
    /// Ns order: their `SessionUp` waits for the acknowledgement. The LNS knows the call only
    /// once it has the ICCN; PPP frames sent before that (the ICCN may still wait behind a
    /// full send window, or be reordered) are dropped there as data for an unknown session,
    /// and the LAC's LCP then waits a whole restart interval (3 s, RFC 1661 §4.6).
    unannounced: VecDeque<(u16, SessionId)>,
    pub last_rx: Instant,
    created: Instant,
    /// The application was told about this tunnel (it called `connect` or saw `TunnelUp`).
    announced: bool,
    /// The engine is at `max_tunnels`: refuse the SCCRQ.
    pub over_capacity: bool,
}

impl Session {
    fn new(peer_id: SessionId, state: SessionState, call: CallInfo, now: Instant) -> Self {
        Session {
            peer_id,
            state,
            sequencing_required: call.sequencing_required,
            call: Some(Box::new(call)),
            since: now,
            data_ns: 0,
        }
    }

    fn sequencing_required(&self) -> bool {
        self.call
            .as_ref()
            .map_or(self.sequencing_required, |c| c.sequencing_required)
    }

    /// The call's parameters for `SessionUp` (once); the session keeps what it still needs.
    fn hand_over_call(&mut self) -> Box<CallInfo> {
        let call = self.call.take().unwrap_or_default();
        self.sequencing_required = call.sequencing_required;
        call
    }
}

impl Tunnel {
    pub fn new(ctx: &Ctx, id: TunnelId, peer: SocketAddr, role: Role, now: Instant) -> Self {
        Tunnel {
            id,
            peer_id: TunnelId::UNASSIGNED,
            peer,
            role,
            state: if role == Role::Initiator {
                State::WaitCtlReply
            } else {
                State::Idle
            },
            chan: Reliable::new(ctx.cfg.receive_window, ctx.cfg.retransmit),
            outbox: VecDeque::new(),
            our_challenge: None,
            peer_host_name: Vec::new(),
            sessions: HashMap::new(),
            setup_floor: None,
            unannounced: VecDeque::new(),
            last_rx: now,
            created: now,
            announced: role == Role::Initiator,
            over_capacity: false,
        }
    }

    pub fn is_established(&self) -> bool {
        self.state == State::Established
    }
    /// An SCCRQ matching this tunnel is a retransmission (duplicate SCCRQ, RFC 2661 §5.8)
    /// only while our SCCRP may not have arrived, or while we refuse it; once established,
    /// a new SCCRQ from the same peer and id means the LAC restarted.
    pub fn absorbs_sccrq(&self) -> bool {
        self.role == Role::Responder
            && match self.state {
                State::Idle | State::WaitCtlConn => true,
                State::Closing { .. } => !self.announced,
                _ => false,
            }
    }
    pub fn never_started(&self) -> bool {
        self.state == State::Idle
    }
    pub fn awaiting_reply(&self) -> bool {
        self.state == State::WaitCtlReply
    }
    pub fn has_established_session(&self, id: SessionId) -> bool {
        self.established_peer_session(id).is_some()
    }
    pub fn established_peer_session(&self, id: SessionId) -> Option<SessionId> {
        if self.state != State::Established {
            return None;
        }
        self.sessions
            .get(&id)
            .filter(|s| s.state == SessionState::Established)
            .map(|s| s.peer_id)
    }
    /// Whether data of this call must carry Ns/Nr (Sequencing Required AVP, RFC 2661 §4.4.6).
    pub fn sequencing_required(&self, id: SessionId) -> bool {
        self.sessions
            .get(&id)
            .is_some_and(|s| s.sequencing_required())
    }
    /// Take the Ns for the next data message of call `id`.
    pub fn take_data_ns(&mut self, id: SessionId) -> u16 {
        self.sessions.get_mut(&id).map_or(0, |s| {
            let ns = s.data_ns;
            s.data_ns = ns.wrapping_add(1);
            ns
        })
    }
    pub fn established_sessions(&self) -> Vec<SessionId> {
        let mut v: Vec<SessionId> = self
            .sessions
            .iter()
            .filter(|(_, s)| s.state == SessionState::Established)
            .map(|(id, _)| *id)
            .collect();
        v.sort_unstable();
        v
    }

    /// The AVPs of SCCRQ/SCCRP/SCCCN that describe us (RFC 2661 §6.1, §6.2).
    fn own_avps(&self, ctx: &Ctx, avps: &mut Vec<Avp>) {
        avps.push(Avp::m(AvpValue::ProtocolVersion {
            version: 1,
            revision: 0,
        }));
        avps.push(Avp::m(AvpValue::FramingCapabilities(
            ctx.cfg.framing_capabilities,
        )));
        if self.role == Role::Initiator && ctx.cfg.bearer_capabilities != 0 {
            avps.push(Avp::m(AvpValue::BearerCapabilities(
                ctx.cfg.bearer_capabilities,
            )));
        }
        avps.push(Avp::opt(AvpValue::FirmwareRevision(
            ctx.cfg.firmware_revision,
        )));
        avps.push(Avp::m(AvpValue::HostName(ctx.cfg.host_name.clone())));
        if !ctx.cfg.vendor_name.is_empty() {
            avps.push(Avp::opt(AvpValue::VendorName(ctx.cfg.vendor_name.clone())));
        }
        avps.push(Avp::m(AvpValue::AssignedTunnelId(self.id)));
        avps.push(Avp::m(AvpValue::ReceiveWindowSize(ctx.cfg.receive_window)));
    }

    /// Initiator: send the SCCRQ.
    pub fn start(&mut self, ctx: &mut Ctx, now: Instant) -> Result<(), Error> {
        let mut avps = Vec::new();
        self.own_avps(ctx, &mut avps);
        if ctx.cfg.secret.is_some() {
            let c = ctx.random_bytes::<16>();
            self.our_challenge = Some(c);
            avps.push(Avp::m(AvpValue::Challenge(c.to_vec())));
        }
        self.send(
            ctx,
            now,
            SessionId::CONTROL,
            Message::new(MessageType::Sccrq, avps),
        )
    }

    /// Encode and queue a message for reliable delivery to session `peer_session`.
    fn send(
        &mut self,
        ctx: &mut Ctx,
        now: Instant,
        peer_session: SessionId,
        mut msg: Message,
    ) -> Result<(), Error> {
        let secret = ctx.cfg.secret.clone();
        if let Some(first_hidden) = msg.avps.iter().position(|a| a.hidden) {
            if secret.is_some() && ctx.cfg.hide_avps {
                // RFC 2661 §4.3: a Random Vector AVP precedes the hidden AVPs it keys.
                let rv = ctx.random_bytes::<16>().to_vec();
                msg.avps
                    .insert(first_hidden, Avp::m(AvpValue::RandomVector(rv)));
            } else {
                msg.avps.iter_mut().for_each(|a| a.hidden = false);
            }
        }
        let bytes = msg.encode(
            self.peer_id,
            peer_session,
            self.chan.ns_next,
            self.chan.nr,
            secret.as_deref(),
        )?;
        let ns = self.chan.take_ns();
        self.chan.send(now, ns, bytes, &mut self.outbox);
        Ok(())
    }

    pub fn send_zlb(&mut self) {
        let mut b = Vec::with_capacity(header::CONTROL_HEADER_LEN);
        header::begin_control(
            &mut b,
            self.peer_id,
            SessionId::CONTROL,
            self.chan.ns_next,
            self.chan.nr,
        );
        header::finish_control(&mut b, 0);
        self.outbox.push_back(b);
        self.chan.ack_needed = false;
    }

    /// Send StopCCN and tear everything down (RFC 2661 §5.7).
    pub fn close(&mut self, ctx: &mut Ctx, now: Instant, rc: ResultCode) {
        if matches!(self.state, State::Closing { .. }) {
            return;
        }
        let msg = Message::new(
            MessageType::StopCcn,
            vec![
                Avp::m(AvpValue::AssignedTunnelId(self.id)),
                Avp::m(AvpValue::ResultCode(rc.clone())),
            ],
        );
        // Our own StopCCN always encodes (short fixed AVPs, result text bounded by callers).
        let _ = self.send(ctx, now, SessionId::CONTROL, msg);
        self.enter_closing(ctx, now, CloseCause::Local(rc));
    }

    fn fail(&mut self, ctx: &mut Ctx, now: Instant, result: u16, error: u16, why: &str) {
        self.close(ctx, now, ResultCode::with_error(result, error, why));
    }

    fn enter_closing(&mut self, ctx: &mut Ctx, now: Instant, cause: CloseCause) {
        let mut ids: Vec<SessionId> = self.sessions.keys().copied().collect();
        ids.sort_unstable();
        for session in ids {
            ctx.events.push_back(Event::SessionDown {
                tunnel: self.id,
                session,
                cause: cause.clone(),
            });
        }
        self.sessions.clear();
        if self.announced {
            ctx.events.push_back(Event::TunnelDown {
                tunnel: self.id,
                cause,
            });
        } else {
            // Never up (tunnel authentication failed, a bad SCCRQ, the peer gave up): the
            // operator still needs to see who was turned away and why.
            ctx.events.push_back(Event::TunnelRefused {
                peer: self.peer,
                cause,
            });
        }
        self.state = State::Closing {
            until: now + ctx.cfg.retransmit.cycle(),
        };
    }

    /// A control datagram for this tunnel.
    pub fn receive(&mut self, ctx: &mut Ctx, now: Instant, hdr: &ControlHeader, datagram: &[u8]) {
        self.last_rx = now;
        let zlb = hdr.body.is_empty();
        match self
            .chan
            .receive(now, hdr.ns, hdr.nr, zlb, datagram, &mut self.outbox)
        {
            Verdict::Ack => {}
            Verdict::Duplicate => {
                ctx.stats.duplicates += 1;
                self.chan.ack_needed = true;
            }
            Verdict::Queued => ctx.stats.out_of_order += 1,
            Verdict::OutOfWindow => ctx.stats.out_of_window += 1,
            Verdict::Deliver => {
                // Advance Nr first so that our reply to this message acknowledges it.
                let mut next = self.chan.delivered();
                self.on_message(ctx, now, hdr.session_id, &datagram[hdr.body.clone()]);
                while let Some(d) = next {
                    next = self.chan.delivered();
                    // Queued datagrams were parsed once already; a failure here is impossible
                    // but would only skip the message.
                    if let Ok(header::Header::Control(h)) = header::parse(&d) {
                        self.chan
                            .receive(now, h.ns, h.nr, false, &d, &mut self.outbox);
                        self.on_message(ctx, now, h.session_id, &d[h.body.clone()]);
                    }
                }
            }
        }
        // Whatever the verdict, its Nr may have acknowledged an ICCN.
        self.announce_acknowledged(ctx);
    }

    /// `SessionUp` for the LAC calls whose ICCN the peer has acknowledged (see
    /// `unannounced`); calls cleared meanwhile are skipped.
    fn announce_acknowledged(&mut self, ctx: &mut Ctx) {
        while let Some(&(ns, session)) = self.unannounced.front() {
            if !self.chan.is_acknowledged(ns) {
                break;
            }
            self.unannounced.pop_front();
            if let Some(s) = self.sessions.get_mut(&session) {
                ctx.events.push_back(Event::SessionUp {
                    tunnel: self.id,
                    session,
                    call: s.hand_over_call(),
                });
            }
        }
    }

    fn on_message(&mut self, ctx: &mut Ctx, now: Instant, session_id: SessionId, body: &[u8]) {
        if matches!(self.state, State::Closing { .. }) {
            return;
        }
        let msg = match Message::decode(body, ctx.cfg.secret.as_deref()) {
            Ok(m) => m,
            Err(e) => {
                ctx.stats.malformed += 1;
                return self.fail(
                    ctx,
                    now,
                    result::GENERAL_ERROR,
                    e.error_code(),
                    &e.to_string(),
                );
            }
        };
        use MessageType as T;
        match msg.kind {
            T::Sccrq => self.on_sccrq(ctx, now, &msg),
            T::Sccrp => self.on_sccrp(ctx, now, &msg),
            T::Scccn => self.on_scccn(ctx, now, &msg),
            T::StopCcn => {
                let rc = msg
                    .result_code()
                    .cloned()
                    .unwrap_or(ResultCode::new(result::GENERAL_ERROR));
                self.enter_closing(ctx, now, CloseCause::Peer(rc));
            }
            T::Hello => {}
            T::Ocrp | T::Occn => {}
            T::Other(t) => {
                if msg.kind_mandatory {
                    self.fail(
                        ctx,
                        now,
                        result::GENERAL_ERROR,
                        error_code::FIELD,
                        &format!("unknown message type {t}"),
                    );
                }
            }
            T::Icrq | T::Icrp | T::Iccn | T::Cdn | T::Wen | T::Sli | T::Ocrq => {
                if self.state != State::Established {
                    return self.fail(
                        ctx,
                        now,
                        result::STOPCCN_FSM_ERROR,
                        error_code::NONE,
                        "call message before the tunnel is established",
                    );
                }
                self.on_session_message(ctx, now, session_id, &msg);
            }
        }
    }

    /// Checks common to SCCRQ and SCCRP; returns false after tearing the tunnel down.
    fn accept_peer_params(&mut self, ctx: &mut Ctx, now: Instant, msg: &Message) -> bool {
        if let Some(id) = msg.assigned_tunnel_id() {
            self.peer_id = id;
        }
        if let Some((v, a)) = msg.unknown_mandatory() {
            let why = format!("unknown mandatory AVP {a} (vendor {v})");
            self.fail(
                ctx,
                now,
                result::GENERAL_ERROR,
                error_code::UNKNOWN_MANDATORY_AVP,
                &why,
            );
            return false;
        }
        if msg
            .assigned_tunnel_id()
            .is_none_or(|id| id == TunnelId::UNASSIGNED)
        {
            self.fail(
                ctx,
                now,
                result::GENERAL_ERROR,
                error_code::FIELD,
                "missing or zero Assigned Tunnel ID",
            );
            return false;
        }
        // RFC 2661 §4.4.3 says 1.0; some old LACs send 0.0, which the original accepted too.
        if !matches!(msg.protocol_version(), Some((1, 0)) | Some((0, 0))) {
            self.fail(
                ctx,
                now,
                result::STOPCCN_BAD_VERSION,
                error_code::NONE,
                "protocol version 1.0 required",
            );
            return false;
        }
        if msg.host_name().is_none() {
            self.fail(
                ctx,
                now,
                result::GENERAL_ERROR,
                error_code::FIELD,
                "missing Host Name",
            );
            return false;
        }
        self.peer_host_name = msg.host_name().unwrap_or_default().to_vec();
        self.chan.set_peer_window(
            now,
            msg.receive_window_size().unwrap_or(4),
            &mut self.outbox,
        );
        true
    }

    /// Our answer to the peer's Challenge, or a StopCCN if we have no secret.
    fn answer_challenge(
        &mut self,
        ctx: &mut Ctx,
        now: Instant,
        msg: &Message,
        reply_type: MessageType,
        avps: &mut Vec<Avp>,
    ) -> bool {
        let Some(challenge) = msg.challenge() else {
            return true;
        };
        let Some(secret) = ctx.cfg.secret.as_deref() else {
            ctx.stats.auth_failures += 1;
            self.fail(
                ctx,
                now,
                result::STOPCCN_NOT_AUTHORIZED,
                error_code::NONE,
                "challenged but no secret configured",
            );
            return false;
        };
        let r = challenge_response(reply_type.to_u16(), secret, challenge);
        avps.push(Avp::m(AvpValue::ChallengeResponse(r)));
        true
    }

    /// Verify the peer's answer to our Challenge (the original never did: RFC 2661 §5.1.1).
    fn verify_response(&mut self, ctx: &mut Ctx, now: Instant, msg: &Message) -> bool {
        let Some(ours) = self.our_challenge else {
            return true;
        };
        let secret = ctx.cfg.secret.clone().unwrap_or_default();
        let expected = challenge_response(msg.kind.to_u16(), &secret, &ours);
        if msg
            .challenge_response()
            .is_some_and(|r| responses_equal(r, &expected))
        {
            return true;
        }
        ctx.stats.auth_failures += 1;
        let why = if msg.challenge_response().is_some() {
            "wrong challenge response"
        } else {
            "missing challenge response"
        };
        self.fail(
            ctx,
            now,
            result::STOPCCN_NOT_AUTHORIZED,
            error_code::NONE,
            why,
        );
        false
    }

    fn on_sccrq(&mut self, ctx: &mut Ctx, now: Instant, msg: &Message) {
        if self.state != State::Idle {
            return self.fail(
                ctx,
                now,
                result::STOPCCN_FSM_ERROR,
                error_code::NONE,
                "unexpected SCCRQ",
            );
        }
        if !self.accept_peer_params(ctx, now, msg) {
            return;
        }
        match ctx.admission {
            Admission::Accept if self.over_capacity => {
                return self.fail(
                    ctx,
                    now,
                    result::GENERAL_ERROR,
                    error_code::RESOURCES,
                    "too many tunnels",
                )
            }
            Admission::Accept => {}
            Admission::TryAnother => {
                return self.fail(
                    ctx,
                    now,
                    result::GENERAL_ERROR,
                    error_code::TRY_ANOTHER,
                    "try another LNS",
                )
            }
            Admission::ShuttingDown => {
                return self.fail(
                    ctx,
                    now,
                    result::STOPCCN_SHUTTING_DOWN,
                    error_code::NONE,
                    "",
                )
            }
        }
        let mut avps = Vec::new();
        self.own_avps(ctx, &mut avps);
        if !self.answer_challenge(ctx, now, msg, MessageType::Sccrp, &mut avps) {
            return;
        }
        if ctx.cfg.secret.is_some() {
            let c = ctx.random_bytes::<16>();
            self.our_challenge = Some(c);
            avps.push(Avp::m(AvpValue::Challenge(c.to_vec())));
        }
        self.state = State::WaitCtlConn;
        let _ = self.send(
            ctx,
            now,
            SessionId::CONTROL,
            Message::new(MessageType::Sccrp, avps),
        );
    }

    fn on_sccrp(&mut self, ctx: &mut Ctx, now: Instant, msg: &Message) {
        if self.state != State::WaitCtlReply {
            return self.fail(
                ctx,
                now,
                result::STOPCCN_FSM_ERROR,
                error_code::NONE,
                "unexpected SCCRP",
            );
        }
        if !self.accept_peer_params(ctx, now, msg) || !self.verify_response(ctx, now, msg) {
            return;
        }
        let mut avps = Vec::new();
        if !self.answer_challenge(ctx, now, msg, MessageType::Scccn, &mut avps) {
            return;
        }
        let _ = self.send(
            ctx,
            now,
            SessionId::CONTROL,
            Message::new(MessageType::Scccn, avps),
        );
        self.established(ctx);
    }

    fn on_scccn(&mut self, ctx: &mut Ctx, now: Instant, msg: &Message) {
        if self.state != State::WaitCtlConn {
            return self.fail(
                ctx,
                now,
                result::STOPCCN_FSM_ERROR,
                error_code::NONE,
                "unexpected SCCCN",
            );
        }
        if let Some((v, a)) = msg.unknown_mandatory() {
            let why = format!("unknown mandatory AVP {a} (vendor {v})");
            return self.fail(
                ctx,
                now,
                result::GENERAL_ERROR,
                error_code::UNKNOWN_MANDATORY_AVP,
                &why,
            );
        }
        if self.verify_response(ctx, now, msg) {
            self.established(ctx);
        }
    }

    fn established(&mut self, ctx: &mut Ctx) {
        self.state = State::Established;
        self.announced = true;
        ctx.events.push_back(Event::TunnelUp {
            tunnel: self.id,
            peer: self.peer,
            peer_host_name: self.peer_host_name.clone(),
        });
    }

    /// Send a CDN for a call; `local` is our session id (0 if none was assigned).
    fn send_cdn(
        &mut self,
        ctx: &mut Ctx,
        now: Instant,
        local: SessionId,
        peer: SessionId,
        rc: ResultCode,
    ) {
        let msg = Message::new(
            MessageType::Cdn,
            vec![
                Avp::m(AvpValue::ResultCode(rc)),
                Avp::m(AvpValue::AssignedSessionId(local)),
            ],
        );
        let _ = self.send(ctx, now, peer, msg);
    }

    fn drop_session(&mut self, ctx: &mut Ctx, now: Instant, local: SessionId, rc: ResultCode) {
        if let Some(s) = self.sessions.remove(&local) {
            self.send_cdn(ctx, now, local, s.peer_id, rc.clone());
            ctx.events.push_back(Event::SessionDown {
                tunnel: self.id,
                session: local,
                cause: CloseCause::Local(rc),
            });
        }
    }

    fn on_session_message(
        &mut self,
        ctx: &mut Ctx,
        now: Instant,
        session_id: SessionId,
        msg: &Message,
    ) {
        use MessageType as T;
        let unknown_m = msg.unknown_mandatory().map(|(v, a)| {
            ResultCode::with_error(
                result::GENERAL_ERROR,
                error_code::UNKNOWN_MANDATORY_AVP,
                &format!("unknown mandatory AVP {a} (vendor {v})"),
            )
        });
        match msg.kind {
            T::Icrq => {
                let Some(peer_sid) = msg
                    .assigned_session_id()
                    .filter(|s| *s != SessionId::CONTROL)
                else {
                    return self.fail(
                        ctx,
                        now,
                        result::GENERAL_ERROR,
                        error_code::FIELD,
                        "ICRQ without Assigned Session ID",
                    );
                };
                if let Some(rc) = unknown_m {
                    return self.send_cdn(ctx, now, SessionId::CONTROL, peer_sid, rc);
                }
                let refuse = if !ctx.cfg.accept_incoming {
                    Some(ResultCode::with_error(
                        result::GENERAL_ERROR,
                        error_code::VENDOR,
                        "no incoming calls here",
                    ))
                } else if ctx.admission != Admission::Accept {
                    // Both codes: result 2 "general error", error 7 "try another".
                    Some(ResultCode::with_error(
                        result::GENERAL_ERROR,
                        error_code::TRY_ANOTHER,
                        "try another LNS",
                    ))
                } else if self.sessions.len() >= ctx.cfg.max_sessions_per_tunnel {
                    Some(ResultCode::with_error(
                        result::CDN_TEMPORARY_RESOURCES,
                        error_code::RESOURCES,
                        "session limit",
                    ))
                } else {
                    None
                };
                if let Some(rc) = refuse {
                    return self.send_cdn(ctx, now, SessionId::CONTROL, peer_sid, rc);
                }
                let sessions = &self.sessions;
                let Some(local) = ctx.allocate_id(|id| sessions.contains_key(&id)) else {
                    let rc = ResultCode::with_error(
                        result::CDN_TEMPORARY_RESOURCES,
                        error_code::RESOURCES,
                        "no session id",
                    );
                    return self.send_cdn(ctx, now, SessionId::CONTROL, peer_sid, rc);
                };
                let mut call = CallInfo::default();
                call.absorb(msg);
                self.note_setup(now);
                self.sessions.insert(
                    local,
                    Session::new(peer_sid, SessionState::WaitConnect, call, now),
                );
                let icrp = Message::new(
                    MessageType::Icrp,
                    vec![Avp::m(AvpValue::AssignedSessionId(local))],
                );
                let _ = self.send(ctx, now, peer_sid, icrp);
            }
            T::Ocrq => {
                // We place no outgoing calls (RFC 2661 §6.7 is the LNS asking a LAC to dial).
                if let Some(peer_sid) = msg.assigned_session_id() {
                    let rc = ResultCode::with_error(
                        result::GENERAL_ERROR,
                        error_code::VENDOR,
                        "outgoing calls not supported",
                    );
                    self.send_cdn(ctx, now, SessionId::CONTROL, peer_sid, rc);
                }
            }
            T::Cdn => {
                let local = if session_id != SessionId::CONTROL {
                    Some(session_id)
                } else {
                    // A CDN answering our ICRQ before any ICRP names only its own id.
                    let peer = msg.assigned_session_id();
                    self.sessions
                        .iter()
                        .find(|(_, s)| Some(s.peer_id) == peer)
                        .map(|(id, _)| *id)
                };
                let rc = msg
                    .result_code()
                    .cloned()
                    .unwrap_or(ResultCode::new(result::GENERAL_ERROR));
                if let Some(local) = local {
                    if self.sessions.remove(&local).is_some() {
                        ctx.events.push_back(Event::SessionDown {
                            tunnel: self.id,
                            session: local,
                            cause: CloseCause::Peer(rc),
                        });
                    }
                }
            }
            T::Icrp | T::Iccn | T::Wen | T::Sli => {
                let Some(s) = self.sessions.get_mut(&session_id) else {
                    ctx.stats.unknown_session += 1;
                    return;
                };
                if let Some(rc) = unknown_m {
                    return self.drop_session(ctx, now, session_id, rc);
                }
                let state = s.state;
                match (msg.kind, state) {
                    (T::Icrp, SessionState::WaitReply) => {
                        let Some(peer_sid) = msg
                            .assigned_session_id()
                            .filter(|s| *s != SessionId::CONTROL)
                        else {
                            let rc = ResultCode::with_error(
                                result::GENERAL_ERROR,
                                error_code::FIELD,
                                "ICRP without Assigned Session ID",
                            );
                            return self.drop_session(ctx, now, session_id, rc);
                        };
                        s.peer_id = peer_sid;
                        let mut avps = Vec::new();
                        if let Some(call) = &s.call {
                            call.iccn_avps(ctx.cfg.hide_avps, &mut avps);
                        }
                        let iccn_ns = self.chan.ns_next;
                        if let Err(e) =
                            self.send(ctx, now, peer_sid, Message::new(MessageType::Iccn, avps))
                        {
                            let rc = ResultCode::with_error(
                                result::GENERAL_ERROR,
                                error_code::VENDOR,
                                &e.to_string(),
                            );
                            return self.drop_session(ctx, now, session_id, rc);
                        }
                        if let Some(s) = self.sessions.get_mut(&session_id) {
                            s.state = SessionState::Established;
                        }
                        // Announced by `announce_acknowledged` once the LNS has the ICCN.
                        self.unannounced.push_back((iccn_ns, session_id));
                    }
                    (T::Iccn, SessionState::WaitConnect) => {
                        if let Some(call) = &mut s.call {
                            call.absorb(msg);
                        }
                        s.state = SessionState::Established;
                        ctx.events.push_back(Event::SessionUp {
                            tunnel: self.id,
                            session: session_id,
                            call: s.hand_over_call(),
                        });
                    }
                    (T::Wen, SessionState::Established) => {
                        if let Some(errors) = msg.find(|v| match v {
                            AvpValue::CallErrors(e) => Some(*e),
                            _ => None,
                        }) {
                            ctx.events.push_back(Event::WanError {
                                tunnel: self.id,
                                session: session_id,
                                errors,
                            });
                        }
                    }
                    (T::Sli, SessionState::Established) => {
                        if let Some((send_accm, receive_accm)) = msg.find(|v| match v {
                            AvpValue::Accm { send, receive } => Some((*send, *receive)),
                            _ => None,
                        }) {
                            ctx.events.push_back(Event::SetLinkInfo {
                                tunnel: self.id,
                                session: session_id,
                                send_accm,
                                receive_accm,
                            });
                        }
                    }
                    _ => {
                        let rc = ResultCode::with_error(
                            result::GENERAL_ERROR,
                            error_code::NONE,
                            "message invalid in call state",
                        );
                        self.drop_session(ctx, now, session_id, rc);
                    }
                }
            }
            _ => {}
        }
    }

    /// LAC: place a call (ICRQ).
    pub fn open_session(
        &mut self,
        ctx: &mut Ctx,
        now: Instant,
        call: CallInfo,
    ) -> Result<SessionId, Error> {
        if self.state != State::Established {
            return Err(Error::TunnelNotEstablished(self.id));
        }
        if self.sessions.len() >= ctx.cfg.max_sessions_per_tunnel {
            return Err(Error::Limit("max_sessions_per_tunnel"));
        }
        let sessions = &self.sessions;
        let local = ctx
            .allocate_id(|id| sessions.contains_key(&id))
            .ok_or(Error::Limit("session ids"))?;
        // Check now that the ICCN will encode, so a bad CallInfo fails here, not later.
        let mut iccn = Vec::new();
        call.iccn_avps(false, &mut iccn);
        Message::new(MessageType::Iccn, iccn).encode(
            TunnelId::UNASSIGNED,
            SessionId::CONTROL,
            0,
            0,
            None,
        )?;
        let mut avps = vec![Avp::m(AvpValue::AssignedSessionId(local))];
        call.icrq_avps(&mut avps);
        self.send(
            ctx,
            now,
            SessionId::CONTROL,
            Message::new(MessageType::Icrq, avps),
        )?;
        self.note_setup(now);
        self.sessions.insert(
            local,
            Session::new(SessionId::CONTROL, SessionState::WaitReply, call, now),
        );
        Ok(local)
    }

    pub fn close_session(
        &mut self,
        ctx: &mut Ctx,
        now: Instant,
        session: SessionId,
        rc: ResultCode,
    ) -> Result<(), Error> {
        if !self.sessions.contains_key(&session) {
            return Err(Error::UnknownSession {
                tunnel: self.id,
                session,
            });
        }
        self.drop_session(ctx, now, session, rc);
        Ok(())
    }

    fn session_message(
        &mut self,
        ctx: &mut Ctx,
        now: Instant,
        session: SessionId,
        kind: MessageType,
        value: AvpValue,
    ) -> Result<(), Error> {
        let peer = self
            .established_peer_session(session)
            .ok_or(Error::SessionNotEstablished {
                tunnel: self.id,
                session,
            })?;
        self.send(ctx, now, peer, Message::new(kind, vec![Avp::m(value)]))
    }

    pub fn send_link_info(
        &mut self,
        ctx: &mut Ctx,
        now: Instant,
        session: SessionId,
        send: u32,
        receive: u32,
    ) -> Result<(), Error> {
        self.session_message(
            ctx,
            now,
            session,
            MessageType::Sli,
            AvpValue::Accm { send, receive },
        )
    }

    pub fn send_wan_error(
        &mut self,
        ctx: &mut Ctx,
        now: Instant,
        session: SessionId,
        e: CallErrors,
    ) -> Result<(), Error> {
        self.session_message(ctx, now, session, MessageType::Wen, AvpValue::CallErrors(e))
    }

    /// Timers; returns true when the tunnel is to be forgotten.
    pub fn on_timeout(&mut self, ctx: &mut Ctx, now: Instant) -> bool {
        match self.chan.on_timeout(now, &mut self.outbox) {
            Ok(n) => ctx.stats.retransmits += n as u64,
            Err(_) => {
                // The peer is gone: nothing left to retransmit to (RFC 2661 §5.8).
                if !matches!(self.state, State::Closing { .. }) {
                    self.enter_closing(ctx, now, CloseCause::Timeout);
                }
                self.outbox.clear();
                return true;
            }
        }
        self.expire_setups(ctx, now);
        match self.state {
            State::Closing { until } => return now >= until,
            // RFC 2661 §6.5: keepalive after a period of silence, unless something is
            // already in flight (its retransmissions probe the peer anyway).
            State::Established
                if self.chan.idle() && now >= self.last_rx + ctx.cfg.hello_interval =>
            {
                let _ = self.send(
                    ctx,
                    now,
                    SessionId::CONTROL,
                    Message::new(MessageType::Hello, vec![]),
                );
            }
            _ => {}
        }
        false
    }

    /// A call entered setup at `since` (see `setup_floor`).
    fn note_setup(&mut self, since: Instant) {
        self.setup_floor = Some(self.setup_floor.map_or(since, |f| f.min(since)));
    }

    fn setup_deadline(&self, ctx: &Ctx) -> Option<Instant> {
        let tunnel = match self.state {
            State::WaitCtlReply | State::WaitCtlConn => Some(self.created + ctx.cfg.setup_timeout),
            _ => None,
        };
        let calls = self.setup_floor.map(|f| f + ctx.cfg.setup_timeout);
        match (tunnel, calls) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Clear a tunnel or calls stuck in setup: the peer acknowledged our message but never
    /// sent the next one, which no retransmission timer would ever notice.
    fn expire_setups(&mut self, ctx: &mut Ctx, now: Instant) {
        if matches!(self.state, State::WaitCtlReply | State::WaitCtlConn)
            && now >= self.created + ctx.cfg.setup_timeout
        {
            return self.fail(
                ctx,
                now,
                result::GENERAL_ERROR,
                error_code::NONE,
                "tunnel setup timed out",
            );
        }
        // Scan the calls only once the earliest possible setup deadline has passed.
        if self
            .setup_floor
            .is_none_or(|f| now < f + ctx.cfg.setup_timeout)
        {
            return;
        }
        let mut stuck: Vec<SessionId> = Vec::new();
        let mut floor: Option<Instant> = None;
        for (id, s) in &self.sessions {
            if s.state == SessionState::Established {
                continue;
            }
            if now >= s.since + ctx.cfg.setup_timeout {
                stuck.push(*id);
            } else {
                floor = Some(floor.map_or(s.since, |f| f.min(s.since)));
            }
        }
        self.setup_floor = floor;
        stuck.sort_unstable();
        for id in stuck {
            let rc = ResultCode::with_error(
                result::GENERAL_ERROR,
                error_code::NONE,
                "call setup timed out",
            );
            self.drop_session(ctx, now, id, rc);
        }
    }

    pub fn poll_timeout(&self, ctx: &Ctx) -> Option<Instant> {
        let hello = match self.state {
            State::Established if self.chan.idle() => Some(self.last_rx + ctx.cfg.hello_interval),
            State::Closing { until } => Some(until),
            _ => None,
        };
        [self.chan.poll_timeout(), hello, self.setup_deadline(ctx)]
            .into_iter()
            .flatten()
            .min()
    }
}

/// Snapshot and resume (see [`crate::snapshot`] for what survives and why).
impl Tunnel {
    /// The resumable part of this tunnel: `None` unless it is established. Calls still in
    /// setup are left out (the peer's next setup message then meets an unknown call and the
    /// call fails cleanly, which a half-restored handshake could not guarantee).
    pub fn snapshot(&self) -> Option<TunnelSnapshot> {
        if self.state != State::Established {
            return None;
        }
        let mut sessions: Vec<SessionSnapshot> = self
            .sessions
            .iter()
            .filter(|(_, s)| s.state == SessionState::Established)
            .map(|(id, s)| SessionSnapshot {
                id: *id,
                peer_id: s.peer_id,
                // What the engine keeps of the call after set-up (see `Session::call`).
                call: CallInfo {
                    sequencing_required: s.sequencing_required(),
                    ..CallInfo::default()
                },
                data_ns: s.data_ns,
            })
            .collect();
        sessions.sort_unstable_by_key(|s| s.id);
        Some(TunnelSnapshot {
            id: self.id,
            peer_id: self.peer_id,
            peer: self.peer,
            initiator: self.role == Role::Initiator,
            peer_host_name: self.peer_host_name.clone(),
            ns_next: self.chan.ns_next,
            nr: self.chan.nr,
            peer_window: self.chan.peer_window,
            unacknowledged: self
                .chan
                .unacknowledged()
                .map(|(ns, b)| (ns, b.to_vec()))
                .collect(),
            ack_needed: self.chan.ack_needed,
            sessions,
        })
    }

    /// An established tunnel rebuilt from `snap` at `now`: retransmission timers restart at
    /// `now`, and the HELLO timer counts silence from `now` (we heard nothing while down).
    /// The snapshot must be valid ([`TunnelSnapshot::validate`]).
    pub fn resume(ctx: &Ctx, snap: TunnelSnapshot, now: Instant) -> Self {
        let role = if snap.initiator {
            Role::Initiator
        } else {
            Role::Responder
        };
        let mut t = Tunnel::new(ctx, snap.id, snap.peer, role, now);
        t.peer_id = snap.peer_id;
        t.state = State::Established;
        t.announced = true;
        t.peer_host_name = snap.peer_host_name;
        t.chan = Reliable::resumed(
            now,
            ctx.cfg.receive_window,
            ctx.cfg.retransmit,
            ResumedChannel {
                ns_next: snap.ns_next,
                nr: snap.nr,
                peer_window: snap.peer_window,
                unacknowledged: snap.unacknowledged,
                ack_needed: snap.ack_needed,
            },
            &mut t.outbox,
        );
        for s in snap.sessions {
            t.sessions.insert(
                s.id,
                Session {
                    peer_id: s.peer_id,
                    state: SessionState::Established,
                    call: None,
                    sequencing_required: s.call.sequencing_required,
                    since: now,
                    data_ns: s.data_ns,
                },
            );
        }
        t
    }
}
