//! The RFC 1661 §4.1 state transition table, as data.
//!
//! One pure function maps (state, event) to the actions and the next state; [`crate::fsm::Fsm`]
//! executes it. Options chosen from §4.1: the "restart" option (3r, 5r, 9r) is not implemented
//! (the state is kept), nor is the "passive" option (TO- in Req-Sent/Ack-Rcvd/Ack-Sent goes to
//! Stopped).

/// The ten automaton states (RFC 1661 §4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    /// 0: lower layer down, no Open.
    Initial,
    /// 1: Open issued, lower layer down.
    Starting,
    /// 2: lower layer up, no Open.
    Closed,
    /// 3: waiting for the peer after negotiation failed or a Terminate.
    Stopped,
    /// 4: Terminate-Request sent after Close.
    Closing,
    /// 5: Terminate-Request sent, not after Close.
    Stopping,
    /// 6: Configure-Request sent.
    ReqSent,
    /// 7: Configure-Ack received.
    AckRcvd,
    /// 8: Configure-Ack sent.
    AckSent,
    /// 9: negotiation complete.
    Opened,
}

impl State {
    /// All states in RFC order (their index is the RFC's state number).
    pub const ALL: [State; 10] = [
        State::Initial,
        State::Starting,
        State::Closed,
        State::Stopped,
        State::Closing,
        State::Stopping,
        State::ReqSent,
        State::AckRcvd,
        State::AckSent,
        State::Opened,
    ];

    /// States in which the restart timer runs (RFC 1661 §4.6).
    pub fn timer_runs(self) -> bool {
        matches!(
            self,
            State::Closing | State::Stopping | State::ReqSent | State::AckRcvd | State::AckSent
        )
    }
}

/// The sixteen events (RFC 1661 §4.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Event {
    /// Lower layer is Up.
    Up,
    /// Lower layer is Down.
    Down,
    /// Administrative Open.
    Open,
    /// Administrative Close.
    Close,
    /// Timeout with counter > 0.
    TimeoutRetry,
    /// Timeout with counter expired.
    TimeoutExpired,
    /// Receive-Configure-Request (Good).
    RcrGood,
    /// Receive-Configure-Request (Bad).
    RcrBad,
    /// Receive-Configure-Ack.
    Rca,
    /// Receive-Configure-Nak/Rej.
    Rcn,
    /// Receive-Terminate-Request.
    Rtr,
    /// Receive-Terminate-Ack.
    Rta,
    /// Receive-Unknown-Code.
    Ruc,
    /// Receive-Code-Reject (permitted) or Receive-Protocol-Reject (permitted).
    RxjGood,
    /// Receive-Code-Reject (catastrophic) or Receive-Protocol-Reject (catastrophic).
    RxjBad,
    /// Receive-Echo-Request, Receive-Echo-Reply or Receive-Discard-Request.
    Rxr,
}

impl Event {
    /// All events in RFC order.
    pub const ALL: [Event; 16] = [
        Event::Up,
        Event::Down,
        Event::Open,
        Event::Close,
        Event::TimeoutRetry,
        Event::TimeoutExpired,
        Event::RcrGood,
        Event::RcrBad,
        Event::Rca,
        Event::Rcn,
        Event::Rtr,
        Event::Rta,
        Event::Ruc,
        Event::RxjGood,
        Event::RxjBad,
        Event::Rxr,
    ];
}

/// The actions (RFC 1661 §4.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// This-Layer-Up.
    Tlu,
    /// This-Layer-Down.
    Tld,
    /// This-Layer-Started.
    Tls,
    /// This-Layer-Finished.
    Tlf,
    /// Initialize-Restart-Count.
    Irc,
    /// Zero-Restart-Count.
    Zrc,
    /// Send-Configure-Request.
    Scr,
    /// Send-Configure-Ack.
    Sca,
    /// Send-Configure-Nak/Rej.
    Scn,
    /// Send-Terminate-Request.
    Str,
    /// Send-Terminate-Ack.
    Sta,
    /// Send-Code-Reject.
    Scj,
    /// Send-Echo-Reply.
    Ser,
}

/// The outcome of one event in one state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    /// Actions, in the order the RFC lists them.
    pub actions: &'static [Action],
    /// The next state.
    pub next: State,
}

/// Looks up RFC 1661 §4.1. `None` is the table's "-": the event cannot happen in that state
/// (for example a packet before the lower layer is up); the automaton ignores it.
pub fn transition(state: State, event: Event) -> Option<Transition> {
    use Action::*;
    use Event as E;
    use State as S;
    let t = |actions: &'static [Action], next: State| Some(Transition { actions, next });
    match (state, event) {
        (S::Initial, E::Up) => t(&[], S::Closed),
        (S::Initial, E::Open) => t(&[Tls], S::Starting),
        (S::Initial, E::Close) => t(&[], S::Initial),
        (S::Initial, _) => None,

        (S::Starting, E::Up) => t(&[Irc, Scr], S::ReqSent),
        (S::Starting, E::Open) => t(&[], S::Starting),
        (S::Starting, E::Close) => t(&[Tlf], S::Initial),
        (S::Starting, _) => None,

        (S::Closed, E::Down) => t(&[], S::Initial),
        (S::Closed, E::Open) => t(&[Irc, Scr], S::ReqSent),
        (S::Closed, E::Close) => t(&[], S::Closed),
        (S::Closed, E::RcrGood | E::RcrBad | E::Rca | E::Rcn | E::Rtr) => t(&[Sta], S::Closed),
        (S::Closed, E::Rta | E::RxjGood | E::Rxr) => t(&[], S::Closed),
        (S::Closed, E::Ruc) => t(&[Scj], S::Closed),
        (S::Closed, E::RxjBad) => t(&[Tlf], S::Closed),
        (S::Closed, _) => None,

        (S::Stopped, E::Down) => t(&[Tls], S::Starting),
        (S::Stopped, E::Open) => t(&[], S::Stopped),
        (S::Stopped, E::Close) => t(&[], S::Closed),
        (S::Stopped, E::RcrGood) => t(&[Irc, Scr, Sca], S::AckSent),
        (S::Stopped, E::RcrBad) => t(&[Irc, Scr, Scn], S::ReqSent),
        (S::Stopped, E::Rca | E::Rcn | E::Rtr) => t(&[Sta], S::Stopped),
        (S::Stopped, E::Rta | E::RxjGood | E::Rxr) => t(&[], S::Stopped),
        (S::Stopped, E::Ruc) => t(&[Scj], S::Stopped),
        (S::Stopped, E::RxjBad) => t(&[Tlf], S::Stopped),
        (S::Stopped, _) => None,

        (S::Closing, E::Down) => t(&[], S::Initial),
        (S::Closing, E::Open) => t(&[], S::Stopping),
        (S::Closing, E::Close) => t(&[], S::Closing),
        (S::Closing, E::TimeoutRetry) => t(&[Str], S::Closing),
        (S::Closing, E::TimeoutExpired) => t(&[Tlf], S::Closed),
        (S::Closing, E::RcrGood | E::RcrBad | E::Rca | E::Rcn | E::RxjGood | E::Rxr) => {
            t(&[], S::Closing)
        }
        (S::Closing, E::Rtr) => t(&[Sta], S::Closing),
        (S::Closing, E::Rta) => t(&[Tlf], S::Closed),
        (S::Closing, E::Ruc) => t(&[Scj], S::Closing),
        (S::Closing, E::RxjBad) => t(&[Tlf], S::Closed),
        (S::Closing, _) => None,

        (S::Stopping, E::Down) => t(&[], S::Starting),
        (S::Stopping, E::Open) => t(&[], S::Stopping),
        (S::Stopping, E::Close) => t(&[], S::Closing),
        (S::Stopping, E::TimeoutRetry) => t(&[Str], S::Stopping),
        (S::Stopping, E::TimeoutExpired) => t(&[Tlf], S::Stopped),
        (S::Stopping, E::RcrGood | E::RcrBad | E::Rca | E::Rcn | E::RxjGood | E::Rxr) => {
            t(&[], S::Stopping)
        }
        (S::Stopping, E::Rtr) => t(&[Sta], S::Stopping),
        (S::Stopping, E::Rta) => t(&[Tlf], S::Stopped),
        (S::Stopping, E::Ruc) => t(&[Scj], S::Stopping),
        (S::Stopping, E::RxjBad) => t(&[Tlf], S::Stopped),
        (S::Stopping, _) => None,

        (S::ReqSent, E::Down) => t(&[], S::Starting),
        (S::ReqSent, E::Open) => t(&[], S::ReqSent),
        (S::ReqSent, E::Close) => t(&[Irc, Str], S::Closing),
        (S::ReqSent, E::TimeoutRetry) => t(&[Scr], S::ReqSent),
        (S::ReqSent, E::TimeoutExpired) => t(&[Tlf], S::Stopped),
        (S::ReqSent, E::RcrGood) => t(&[Sca], S::AckSent),
        (S::ReqSent, E::RcrBad) => t(&[Scn], S::ReqSent),
        (S::ReqSent, E::Rca) => t(&[Irc], S::AckRcvd),
        (S::ReqSent, E::Rcn) => t(&[Irc, Scr], S::ReqSent),
        (S::ReqSent, E::Rtr) => t(&[Sta], S::ReqSent),
        (S::ReqSent, E::Rta | E::RxjGood | E::Rxr) => t(&[], S::ReqSent),
        (S::ReqSent, E::Ruc) => t(&[Scj], S::ReqSent),
        (S::ReqSent, E::RxjBad) => t(&[Tlf], S::Stopped),
        (S::ReqSent, _) => None,

        (S::AckRcvd, E::Down) => t(&[], S::Starting),
        (S::AckRcvd, E::Open) => t(&[], S::AckRcvd),
        (S::AckRcvd, E::Close) => t(&[Irc, Str], S::Closing),
        (S::AckRcvd, E::TimeoutRetry) => t(&[Scr], S::ReqSent),
        (S::AckRcvd, E::TimeoutExpired) => t(&[Tlf], S::Stopped),
        (S::AckRcvd, E::RcrGood) => t(&[Sca, Tlu], S::Opened),
        (S::AckRcvd, E::RcrBad) => t(&[Scn], S::AckRcvd),
        // "x": crossed connection (§4.1 notes).
        (S::AckRcvd, E::Rca | E::Rcn) => t(&[Scr], S::ReqSent),
        (S::AckRcvd, E::Rtr) => t(&[Sta], S::ReqSent),
        (S::AckRcvd, E::Rta) => t(&[], S::ReqSent),
        (S::AckRcvd, E::Ruc) => t(&[Scj], S::AckRcvd),
        (S::AckRcvd, E::RxjGood) => t(&[], S::ReqSent),
        (S::AckRcvd, E::RxjBad) => t(&[Tlf], S::Stopped),
        (S::AckRcvd, E::Rxr) => t(&[], S::AckRcvd),
        (S::AckRcvd, _) => None,

        (S::AckSent, E::Down) => t(&[], S::Starting),
        (S::AckSent, E::Open) => t(&[], S::AckSent),
        (S::AckSent, E::Close) => t(&[Irc, Str], S::Closing),
        (S::AckSent, E::TimeoutRetry) => t(&[Scr], S::AckSent),
        (S::AckSent, E::TimeoutExpired) => t(&[Tlf], S::Stopped),
        (S::AckSent, E::RcrGood) => t(&[Sca], S::AckSent),
        (S::AckSent, E::RcrBad) => t(&[Scn], S::ReqSent),
        (S::AckSent, E::Rca) => t(&[Irc, Tlu], S::Opened),
        (S::AckSent, E::Rcn) => t(&[Irc, Scr], S::AckSent),
        (S::AckSent, E::Rtr) => t(&[Sta], S::ReqSent),
        (S::AckSent, E::Rta | E::RxjGood | E::Rxr) => t(&[], S::AckSent),
        (S::AckSent, E::Ruc) => t(&[Scj], S::AckSent),
        (S::AckSent, E::RxjBad) => t(&[Tlf], S::Stopped),
        (S::AckSent, _) => None,

        (S::Opened, E::Down) => t(&[Tld], S::Starting),
        (S::Opened, E::Open) => t(&[], S::Opened),
        (S::Opened, E::Close) => t(&[Tld, Irc, Str], S::Closing),
        (S::Opened, E::RcrGood) => t(&[Tld, Scr, Sca], S::AckSent),
        (S::Opened, E::RcrBad) => t(&[Tld, Scr, Scn], S::ReqSent),
        (S::Opened, E::Rca | E::Rcn) => t(&[Tld, Scr], S::ReqSent),
        (S::Opened, E::Rtr) => t(&[Tld, Zrc, Sta], S::Stopping),
        (S::Opened, E::Rta) => t(&[Tld, Scr], S::ReqSent),
        (S::Opened, E::Ruc) => t(&[Scj], S::Opened),
        (S::Opened, E::RxjGood) => t(&[], S::Opened),
        (S::Opened, E::RxjBad) => t(&[Tld, Irc, Str], S::Stopping),
        (S::Opened, E::Rxr) => t(&[Ser], S::Opened),
        (S::Opened, _) => None,
    }
}
