//! The RFC 1661 option negotiation automaton, written once and driven by a [`Negotiator`] that
//! knows one protocol's options (LCP, IPCP, IPV6CP).
//!
//! Sans-IO: every entry point takes `now`; packets and layer signals are queued and taken with
//! [`Fsm::poll_output`]; the restart timer deadline is [`Fsm::poll_timeout`].

use crate::queue::Queue;
use std::time::{Duration, Instant};

use crate::error::DecodeError;
use crate::frame::protocol;
use crate::packet::{code, encode_options, ConfigOption, ControlPacket, RawPacket};
pub use crate::state_table::{transition, Action, Event, State, Transition};

/// Restart timer and counters (RFC 1661 §4.6), with the RFC's suggested defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FsmConfig {
    /// Restart timer interval (default 3 s).
    pub restart_interval: Duration,
    /// Max-Terminate (default 2).
    pub max_terminate: u32,
    /// Max-Configure (default 10).
    pub max_configure: u32,
    /// Max-Failure (default 5): Configure-Naks sent without an Ack before Naks become Rejects.
    pub max_failure: u32,
}

impl Default for FsmConfig {
    fn default() -> Self {
        FsmConfig {
            restart_interval: Duration::from_secs(3),
            max_terminate: 2,
            max_configure: 10,
            max_failure: 5,
        }
    }
}

/// An automaton's copy of its [`FsmConfig`] in 16 bytes instead of 32 (two automata per PPP
/// link, one per subscriber): the restart interval in milliseconds (saturating at 49 days).
#[derive(Debug, Clone, Copy)]
struct Limits {
    restart_ms: u32,
    max_terminate: u32,
    max_configure: u32,
    max_failure: u32,
}

impl From<FsmConfig> for Limits {
    fn from(c: FsmConfig) -> Self {
        Limits {
            restart_ms: u32::try_from(c.restart_interval.as_millis()).unwrap_or(u32::MAX),
            max_terminate: c.max_terminate,
            max_configure: c.max_configure,
            max_failure: c.max_failure,
        }
    }
}

impl Limits {
    fn restart_interval(&self) -> Duration {
        Duration::from_millis(u64::from(self.restart_ms))
    }
}

/// What the negotiator thinks of a peer's Configure-Request.
#[derive(Debug, Clone, PartialEq)]
pub enum RequestVerdict<O> {
    /// Every option is acceptable (RCR+).
    Ack,
    /// Some values are not acceptable; these are our suggestions (RCR-).
    Nak(Vec<O>),
    /// Some options are not recognised or not negotiable; these are rejected verbatim (RCR-).
    /// Rejection takes precedence over Nak (RFC 1661 §5.3).
    Reject(Vec<O>),
}

/// One protocol's option policy, plugged into [`Fsm`].
pub trait Negotiator {
    /// The option type.
    type Opt: ConfigOption;
    /// The PPP protocol number (for Protocol-Reject matching).
    const PROTOCOL: u16;
    /// Our current Configure-Request options.
    fn request(&mut self) -> Vec<Self::Opt>;
    /// Judges the peer's Configure-Request. On [`RequestVerdict::Ack`] the negotiator records
    /// the peer's values as negotiated.
    fn check_request(&mut self, options: &[Self::Opt]) -> RequestVerdict<Self::Opt>;
    /// Our request was acknowledged with these (identical) options.
    fn acked(&mut self, options: &[Self::Opt]);
    /// The peer suggested other values.
    fn naked(&mut self, options: &[Self::Opt]);
    /// The peer rejected these options: do not send them again.
    fn rejected(&mut self, options: &[Self::Opt]);
    /// A new negotiation starts (This-Layer-Started, or the peer renegotiates): return to the
    /// configured wishes.
    fn reset(&mut self);
    /// Our Magic-Number for Echo-Reply (LCP only; 0 when none was negotiated).
    fn magic(&self) -> u32 {
        0
    }
}

/// This-Layer-* signals for the layer above (RFC 1661 §4.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LayerSignal {
    /// This-Layer-Up: the protocol is Opened.
    Up,
    /// This-Layer-Down: it left Opened.
    Down,
    /// This-Layer-Started: it needs the lower layer.
    Started,
    /// This-Layer-Finished: it no longer needs the lower layer.
    Finished,
}

/// What the automaton wants done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FsmOutput {
    /// Send this control packet (without the PPP protocol header).
    Send(Vec<u8>),
    /// Tell the layer above.
    Signal(LayerSignal),
}

/// Packets the automaton handles but whose meaning is for the owner (LCP extensions).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Received {
    /// Handled entirely by the automaton.
    Handled,
    /// Ignored: not valid in this state, or a reply that does not match our last request.
    Ignored,
    /// LCP Echo-Reply (keepalive bookkeeping is the owner's).
    EchoReply {
        /// Identifier.
        id: u8,
        /// The peer's magic number.
        magic: u32,
    },
    /// LCP Echo-Request or Echo-Reply carrying our own magic number: a looped-back link
    /// (RFC 1661 §6.4).
    Looped,
    /// LCP Protocol-Reject of another protocol: the owner delivers RXJ- to that protocol.
    ProtocolRejected(u16),
}

/// Counters for operators.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FsmStats {
    /// Packets that failed to decode (counted and dropped).
    pub malformed: u64,
    /// Valid packets discarded (bad identifier, illegal in this state).
    pub discarded: u64,
    /// Configure-Requests sent.
    pub configure_requests_sent: u64,
    /// Naks turned into Rejects by Max-Failure.
    pub max_failure_hits: u64,
}

/// The automaton for one protocol.
#[derive(Debug)]
pub struct Fsm<N: Negotiator> {
    negotiator: N,
    config: Limits,
    lcp: bool,
    state: State,
    restart_count: u32,
    timer: Option<Instant>,
    failures: u32,
    next_id: u8,
    /// Identifier and encoded options of our outstanding Configure-Request.
    request_id: u8,
    request_options: Vec<u8>,
    reply_seen: bool,
    terminate_reason: Vec<u8>,
    output: Queue<FsmOutput>,
    stats: FsmStats,
}

enum Reply {
    Outstanding,
    Stale,
    NoRequest,
}

/// Per-event data the actions need (the packet to answer, the reply computed).
#[derive(Default)]
struct Context {
    peer_id: u8,
    reply: Option<Vec<u8>>,
    rejected_packet: Option<Vec<u8>>,
    echo_data: Option<Vec<u8>>,
}

impl<N: Negotiator> Fsm<N> {
    /// A new automaton in the Initial state. `initial_id` seeds the identifiers (pass
    /// randomness so that restarts do not reuse identifiers the peer may still hold).
    pub fn new(negotiator: N, config: FsmConfig, initial_id: u8) -> Self {
        Fsm {
            negotiator,
            config: Limits::from(config),
            lcp: N::PROTOCOL == protocol::LCP,
            state: State::Initial,
            restart_count: 0,
            timer: None,
            failures: 0,
            next_id: initial_id,
            request_id: 0,
            request_options: Vec::new(),
            reply_seen: false,
            terminate_reason: Vec::new(),
            output: Queue::new(),
            stats: FsmStats::default(),
        }
    }

    /// Current state.
    pub fn state(&self) -> State {
        self.state
    }

    /// Remaining restart count (exposed for tests and diagnostics).
    pub fn restart_count(&self) -> u32 {
        self.restart_count
    }

    /// The negotiator (negotiated values).
    pub fn negotiator(&self) -> &N {
        &self.negotiator
    }

    /// The negotiator, mutably (to change wishes before a negotiation).
    pub fn negotiator_mut(&mut self) -> &mut N {
        &mut self.negotiator
    }

    /// Counters.
    pub fn stats(&self) -> FsmStats {
        self.stats
    }

    /// The restart timer deadline, if armed.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timer
    }

    /// Next queued output.
    pub fn poll_output(&mut self) -> Option<FsmOutput> {
        self.output.pop_front()
    }

    /// Lower layer up.
    pub fn up(&mut self, now: Instant) {
        self.run(now, Event::Up, Context::default());
    }

    /// Lower layer down.
    pub fn down(&mut self, now: Instant) {
        self.run(now, Event::Down, Context::default());
    }

    /// Administrative Open.
    pub fn open(&mut self, now: Instant) {
        self.run(now, Event::Open, Context::default());
    }

    /// Administrative Close; `reason` goes into the Terminate-Request data.
    pub fn close(&mut self, now: Instant, reason: &[u8]) {
        self.terminate_reason = reason.to_vec();
        self.run(now, Event::Close, Context::default());
    }

    /// RXJ- from outside: LCP received a Protocol-Reject for this protocol (RFC 1661 §5.7).
    pub fn protocol_rejected(&mut self, now: Instant) {
        self.run(now, Event::RxjBad, Context::default());
    }

    /// Enters Opened directly with options agreed elsewhere (L2TP proxy LCP, RFC 2661 §4.4.5):
    /// the negotiator has already been told the values.
    pub fn assume_opened(&mut self) {
        self.state = State::Opened;
        self.timer = None;
        self.output.push_back(FsmOutput::Signal(LayerSignal::Up));
    }

    /// The identifier of our next Configure-Request or Terminate-Request (for snapshots).
    pub(crate) fn next_id(&self) -> u8 {
        self.next_id
    }

    /// Puts a fresh automaton into a steady state taken from a snapshot: no timer, nothing
    /// outstanding, no signal (the layers above are restored by their owner). Only Opened,
    /// Closed and Stopped are steady; the caller checks.
    pub(crate) fn resume_in(&mut self, state: State, next_id: u8) {
        self.state = state;
        self.next_id = next_id;
        self.timer = None;
        self.restart_count = 0;
        self.failures = 0;
        self.output.clear();
    }

    /// Restart timer expiry: TO+ or TO- (RFC 1661 §4.3). Does nothing before the deadline.
    pub fn handle_timeout(&mut self, now: Instant) {
        match self.timer {
            Some(deadline) if now >= deadline => {
                self.timer = None;
                let event = if self.restart_count > 0 {
                    Event::TimeoutRetry
                } else {
                    Event::TimeoutExpired
                };
                self.run(now, event, Context::default());
            }
            _ => {}
        }
    }

    /// Feeds one control packet of this protocol (the PPP information field).
    pub fn handle_packet(&mut self, now: Instant, bytes: &[u8]) -> Result<Received, DecodeError> {
        let packet = match ControlPacket::<N::Opt>::decode(bytes, self.lcp) {
            Ok(p) => p,
            Err(e) => {
                self.stats.malformed += 1;
                return Err(e);
            }
        };
        let raw = RawPacket::decode(bytes)?;
        let mut ctx = Context {
            peer_id: raw.id,
            ..Context::default()
        };
        let mut received = Received::Handled;
        let event = match packet {
            ControlPacket::ConfigureRequest { id, options } => {
                self.judge_request(id, &options, &mut ctx)
            }
            ControlPacket::ConfigureAck { id, options } => {
                match self.classify_reply(id) {
                    Reply::Stale => return Ok(self.discard()),
                    // §5.2: the acknowledged options must be exactly those we sent.
                    Reply::Outstanding if raw.data != self.request_options.as_slice() => {
                        return Ok(self.discard())
                    }
                    Reply::Outstanding => {
                        self.reply_seen = true;
                        self.negotiator.acked(&options);
                    }
                    Reply::NoRequest => {}
                }
                Event::Rca
            }
            ControlPacket::ConfigureNak { id, options } => {
                match self.classify_reply(id) {
                    Reply::Stale => return Ok(self.discard()),
                    Reply::Outstanding => {
                        self.reply_seen = true;
                        self.negotiator.naked(&options);
                    }
                    Reply::NoRequest => {}
                }
                Event::Rcn
            }
            ControlPacket::ConfigureReject { id, options } => {
                match self.classify_reply(id) {
                    Reply::Stale => return Ok(self.discard()),
                    Reply::Outstanding => {
                        self.reply_seen = true;
                        self.negotiator.rejected(&options);
                    }
                    Reply::NoRequest => {}
                }
                Event::Rcn
            }
            ControlPacket::TerminateRequest { .. } => Event::Rtr,
            ControlPacket::TerminateAck { .. } => Event::Rta,
            ControlPacket::CodeReject { rejected, .. } => {
                // RFC 1661 §5.6: rejecting a code the automaton needs is catastrophic.
                match rejected.first() {
                    Some(c) if (code::CONFIGURE_REQUEST..=code::CODE_REJECT).contains(c) => {
                        Event::RxjBad
                    }
                    // LCP needs Protocol-Reject too (§5.7 makes it mandatory to implement).
                    Some(&code::PROTOCOL_REJECT) if self.lcp => Event::RxjBad,
                    _ => Event::RxjGood,
                }
            }
            ControlPacket::ProtocolReject { protocol, .. } => {
                if protocol == N::PROTOCOL {
                    Event::RxjBad
                } else {
                    received = Received::ProtocolRejected(protocol);
                    Event::RxjGood
                }
            }
            ControlPacket::EchoRequest { magic, data, .. } => {
                if magic != 0 && magic == self.negotiator.magic() {
                    received = Received::Looped;
                }
                ctx.echo_data = Some(data);
                Event::Rxr
            }
            ControlPacket::EchoReply { id, magic, .. } => {
                received = if magic != 0 && magic == self.negotiator.magic() {
                    Received::Looped
                } else {
                    Received::EchoReply { id, magic }
                };
                Event::Rxr
            }
            // Discard-Request is silently discarded (§5.9); RFC 1570 Identification and
            // Time-Remaining are informational and also need no answer.
            ControlPacket::DiscardRequest { .. } => Event::Rxr,
            ControlPacket::Other {
                code: code::IDENTIFICATION | code::TIME_REMAINING,
                ..
            } if self.lcp => Event::Rxr,
            ControlPacket::Other { .. } => {
                ctx.rejected_packet = Some(bytes[..4 + raw.data.len()].to_vec());
                Event::Ruc
            }
        };
        if self.run(now, event, ctx) {
            Ok(received)
        } else {
            Ok(Received::Ignored)
        }
    }

    fn discard(&mut self) -> Received {
        self.stats.discarded += 1;
        Received::Ignored
    }

    /// Only a reply to our outstanding request counts (RFC 1661 §5.2-5.4: the Identifier must
    /// match, otherwise the packet is silently discarded). Like pppd, a second reply to the same
    /// request is a duplicate (a retransmitted request answered twice on a lossy link) and is
    /// discarded too: taken literally, the table would renegotiate an Opened link for it.
    /// Outside negotiation the table decides (Terminate-Ack in Closed/Stopped, ignore in
    /// Closing/Stopping).
    fn classify_reply(&self, id: u8) -> Reply {
        match self.state {
            State::ReqSent | State::AckRcvd | State::AckSent | State::Opened => {
                if id == self.request_id && !self.reply_seen {
                    Reply::Outstanding
                } else {
                    Reply::Stale
                }
            }
            _ => Reply::NoRequest,
        }
    }

    /// Computes RCR+/RCR- and the reply, applying Max-Failure (RFC 1661 §4.6).
    fn judge_request(&mut self, id: u8, options: &[N::Opt], ctx: &mut Context) -> Event {
        // Only these states act on the request's content; elsewhere the table ignores it or
        // answers Terminate-Ack (Closed), so the negotiator is not consulted.
        if !matches!(
            self.state,
            State::Stopped | State::ReqSent | State::AckRcvd | State::AckSent | State::Opened
        ) {
            return Event::RcrGood;
        }
        // Entering negotiation afresh from Stopped or Opened: start again from our wishes.
        if matches!(self.state, State::Stopped | State::Opened) {
            self.negotiator.reset();
        }
        let verdict = self.negotiator.check_request(options);
        let verdict = match verdict {
            RequestVerdict::Nak(naks) if self.failures >= self.config.max_failure => {
                self.stats.max_failure_hits += 1;
                let rejects: Vec<N::Opt> = options
                    .iter()
                    .filter(|o| naks.iter().any(|n| n.kind() == o.kind()))
                    .cloned()
                    .collect();
                if rejects.is_empty() {
                    RequestVerdict::Ack
                } else {
                    RequestVerdict::Reject(rejects)
                }
            }
            v => v,
        };
        let (reply_code, opts, event) = match verdict {
            RequestVerdict::Ack => (code::CONFIGURE_ACK, options.to_vec(), Event::RcrGood),
            RequestVerdict::Nak(o) => (code::CONFIGURE_NAK, o, Event::RcrBad),
            RequestVerdict::Reject(o) => (code::CONFIGURE_REJECT, o, Event::RcrBad),
        };
        ctx.reply = Some(crate::packet::encode_packet(
            reply_code,
            id,
            &[&encode_options(&opts)],
        ));
        event
    }

    /// Executes one event. Returns false when the table says the event cannot happen.
    fn run(&mut self, now: Instant, event: Event, ctx: Context) -> bool {
        let Some(t) = transition(self.state, event) else {
            self.stats.discarded += 1;
            return false;
        };
        let terminating = t.actions.contains(&Action::Str);
        for action in t.actions {
            match action {
                Action::Tlu => self.signal(LayerSignal::Up),
                Action::Tld => self.signal(LayerSignal::Down),
                Action::Tls => {
                    self.negotiator.reset();
                    self.failures = 0;
                    self.signal(LayerSignal::Started)
                }
                Action::Tlf => self.signal(LayerSignal::Finished),
                Action::Irc => {
                    self.restart_count = if terminating {
                        self.config.max_terminate
                    } else {
                        self.config.max_configure
                    };
                }
                Action::Zrc => {
                    self.restart_count = 0;
                    self.timer = Some(now + self.config.restart_interval());
                }
                Action::Scr => self.send_configure_request(now, event),
                Action::Sca | Action::Scn => {
                    if *action == Action::Sca {
                        self.failures = 0;
                    } else {
                        self.failures = self.failures.saturating_add(1);
                    }
                    if let Some(reply) = &ctx.reply {
                        self.output.push_back(FsmOutput::Send(reply.clone()));
                    }
                }
                Action::Str => {
                    self.restart_count = self.restart_count.saturating_sub(1);
                    let id = self.fresh_id();
                    let p = crate::packet::encode_packet(
                        code::TERMINATE_REQUEST,
                        id,
                        &[&self.terminate_reason],
                    );
                    self.output.push_back(FsmOutput::Send(p));
                    self.timer = Some(now + self.config.restart_interval());
                }
                Action::Sta => {
                    let p = crate::packet::encode_packet(code::TERMINATE_ACK, ctx.peer_id, &[]);
                    self.output.push_back(FsmOutput::Send(p));
                }
                Action::Scj => {
                    if let Some(rejected) = &ctx.rejected_packet {
                        // Keep the reply within the minimum MRU (RFC 1661 §5.6: truncated to
                        // fit the peer's MRU; 1500 is the default).
                        let rejected = &rejected[..rejected.len().min(1496)];
                        let id = self.fresh_id();
                        let p = crate::packet::encode_packet(code::CODE_REJECT, id, &[rejected]);
                        self.output.push_back(FsmOutput::Send(p));
                    }
                }
                Action::Ser => {
                    if let Some(data) = &ctx.echo_data {
                        let p = crate::packet::encode_packet(
                            code::ECHO_REPLY,
                            ctx.peer_id,
                            &[&self.negotiator.magic().to_be_bytes(), data],
                        );
                        self.output.push_back(FsmOutput::Send(p));
                    }
                }
            }
        }
        self.state = t.next;
        if !self.state.timer_runs() {
            self.timer = None;
        }
        true
    }

    fn send_configure_request(&mut self, now: Instant, event: Event) {
        // RFC 1661 §5.1: a retransmission may keep the Identifier; anything else gets a new one
        // and the options are recomputed (the negotiator may have learnt from a Nak/Reject).
        let retransmit =
            event == Event::TimeoutRetry && !self.request_options.is_empty() && !self.reply_seen;
        if !retransmit {
            let options = self.negotiator.request();
            self.request_options = encode_options(&options);
            self.request_id = self.fresh_id();
            self.reply_seen = false;
        }
        self.restart_count = self.restart_count.saturating_sub(1);
        let p = crate::packet::encode_packet(
            code::CONFIGURE_REQUEST,
            self.request_id,
            &[&self.request_options],
        );
        self.stats.configure_requests_sent += 1;
        self.output.push_back(FsmOutput::Send(p));
        self.timer = Some(now + self.config.restart_interval());
    }

    fn fresh_id(&mut self) -> u8 {
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1);
        id
    }

    fn signal(&mut self, s: LayerSignal) {
        self.output.push_back(FsmOutput::Signal(s));
    }
}
