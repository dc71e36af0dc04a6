//! Save and resume an opened PPP link across a restart of the daemon (the l2tpns manual's
//! `save_state`). On SIGTERM the daemon takes [`Session::snapshot`] of each link in the
//! Network phase and stores it with the L2TP tunnel snapshot; the new process rebuilds the
//! link with [`Session::resume`] from the same [`SessionConfig`] it would give a new link.
//! The link comes back with LCP Opened and its NCPs in their state, without sending anything:
//! the peer must not notice a renegotiation, because there is none.
//!
//! What survives: LCP's negotiated values (MRUs, magic numbers, authentication method,
//! ACCM, compression, multilink options), the identifiers in use (LCP's and each NCP's next
//! Configure-Request id, the Echo-Request id), keepalive state, the authenticator's decision
//! (so a retransmitted PAP Request or CHAP Response gets the same Ack/Success again, RFC 1994
//! §4.2), the grant, IPCP's and IPV6CP's negotiated addresses and identifiers, and counters.
//!
//! What does not: a link still negotiating LCP, authenticating, or with an NCP between
//! Configure-Request and Opened ([`NotResumable`]). Those are in the middle of timed
//! exchanges whose retransmissions and answers the snapshot would have to freeze; a session
//! that is not up yet is cheaper to drop (the daemon clears its L2TP call, the LAC redials)
//! than to resume half-way. An NCP that finished (Closed or Stopped, e.g. the peer
//! Protocol-Rejected IPV6CP) is steady and is kept.
//!
//! Timers are re-armed from the `now` given to [`Session::resume`]: the next Echo-Request
//! goes out one `echo_interval` later. Resuming emits no [`crate::session::Event`].
//!
//! [`Session::snapshot`]: crate::session::Session::snapshot
//! [`Session::resume`]: crate::session::Session::resume
//! [`SessionConfig`]: crate::session::SessionConfig

use serde::{Deserialize, Serialize};

use crate::ipcp::IpcpNegotiated;
use crate::ipv6cp::Ipv6cpNegotiated;
use crate::lcp::{AuthMethod, LcpNegotiated, LcpRole};
use crate::session::{Grant, SessionStats};

/// An opened link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionSnapshot {
    /// Which side of authentication we were (must match the resuming configuration).
    pub role: LcpRole,
    /// LCP's negotiated values.
    pub lcp: LcpNegotiated,
    /// Identifier of LCP's next Configure-Request / Terminate-Request.
    pub lcp_next_id: u8,
    /// Identifier of the last Echo-Request / Protocol-Reject we sent.
    pub echo_id: u8,
    /// Echo-Requests sent without an answer.
    pub echo_outstanding: u32,
    /// The authenticator's answer, re-sent for retransmitted requests (authenticator only).
    pub auth: Option<AuthDecision>,
    /// What the authentication backend granted (authenticator only).
    pub grant: Grant,
    pub ipcp: Option<NcpSnapshot<IpcpNegotiated>>,
    pub ipv6cp: Option<NcpSnapshot<Ipv6cpNegotiated>>,
    pub stats: SessionStats,
}

/// The authenticator's accepted decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthDecision {
    pub method: AuthMethod,
    /// Identifier of the Request/Response that was answered.
    pub id: u8,
    /// The Ack/Success message.
    pub message: Vec<u8>,
}

/// A network control protocol in a steady state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NcpSnapshot<N> {
    pub state: NcpState,
    /// Identifier of its next Configure-Request.
    pub next_id: u8,
    pub negotiated: N,
}

/// The steady automaton states (RFC 1661 §4.2) a snapshot may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum NcpState {
    Opened,
    /// Finished after a Close or a Protocol-Reject.
    Closed,
    /// Finished after Max-Configure or a Terminate.
    Stopped,
}

/// Why a link cannot be snapshotted or resumed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotResumable {
    #[error("the link is not in the Network phase with LCP opened")]
    NotOpened,
    #[error("{0} is still negotiating")]
    NcpNegotiating(&'static str),
    #[error("the snapshot is for the other role of authentication")]
    RoleMismatch,
    #[error("the snapshot has {0} but this configuration does not run it")]
    NcpNotConfigured(&'static str),
    #[error("the snapshot has IPCP but no granted address")]
    NoGrantedAddress,
}
