//! Save and resume established tunnels across a restart of the daemon (the l2tpns manual's
//! `save_state`): on SIGTERM the daemon takes [`Engine::snapshot`], writes it to disk, exits;
//! the new process builds a fresh [`Engine`] and calls [`Engine::resume`] for each tunnel
//! before it reads its socket. The LAC sees at most a pause: Ns/Nr continue where they were,
//! its pending control messages are acknowledged by the next message or ZLB, and ours that it
//! had not acknowledged are sent again.
//!
//! What survives: the peer's address and ids, our ids, the reliable channel's Ns/Nr and peer
//! window, every unacknowledged control message we sent (already encoded, so hidden AVPs stay
//! valid), the peer's host name, and each established call (ids, whether it is sequenced, data Ns).
//!
//! What does not, and why:
//! * Tunnels and calls still in their handshake (SCCRQ..SCCCN, ICRQ..ICCN). Resuming half a
//!   handshake means replaying challenge/response and admission decisions the new process
//!   never made; dropping them is clean instead: the LAC's next setup message meets an unknown
//!   tunnel or call, its setup times out, and it retries. Closing tunnels are gone anyway.
//! * The out-of-order queue: those messages were not acknowledged, so the peer sends them again.
//! * Tunnel-authentication state: the challenge/response only matters during the handshake.
//!   The shared secret is configuration (the resumed engine's [`crate::Config::secret`]); it
//!   must not change across the restart or hidden AVPs the peer sends later will not decode.
//! * Counters ([`crate::Stats`]) restart from zero, as after any restart.
//!
//! Timers are re-armed relative to the `now` given to [`Engine::resume`]: retransmissions
//! of the unacknowledged messages go out at once with a fresh retry budget, and the HELLO
//! timer (RFC 2661 §6.5) counts silence from `now`.
//!
//! Resuming emits no [`crate::Event`]: the application restores its own per-session state
//! from its own snapshot (the PPP engine's `ppp::snapshot`) next to this one.

use std::collections::HashSet;
use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

use crate::call::CallInfo;
use crate::header::{self, Header};
use crate::ids::{SessionId, TunnelId};
use crate::Engine;

/// One established tunnel and its established calls.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TunnelSnapshot {
    /// Our tunnel id (the one the peer sends to).
    pub id: TunnelId,
    /// The peer's tunnel id.
    pub peer_id: TunnelId,
    /// The peer's UDP address.
    pub peer: SocketAddr,
    /// We sent the SCCRQ (LAC role).
    pub initiator: bool,
    /// The peer's Host Name AVP.
    pub peer_host_name: Vec<u8>,
    /// Ns of the next control message we send.
    pub ns_next: u16,
    /// Ns we expect next from the peer (our Nr).
    pub nr: u16,
    /// The peer's receive window (RFC 2661 §5.8).
    pub peer_window: u16,
    /// Control messages sent but not acknowledged (or waiting for the window), in Ns order:
    /// (Ns, the encoded datagram).
    pub unacknowledged: Vec<(u16, Vec<u8>)>,
    /// Something received was not yet acknowledged: a ZLB goes out on resume.
    pub ack_needed: bool,
    /// Established calls, by our session id.
    pub sessions: Vec<SessionSnapshot>,
}

/// One established call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionSnapshot {
    /// Our session id.
    pub id: SessionId,
    /// The peer's session id.
    pub peer_id: SessionId,
    /// What the engine keeps of the call's parameters after set-up: `sequencing_required`
    /// (the rest went to the application with `SessionUp`, which keeps what it needs).
    pub call: CallInfo,
    /// Ns of the next data message when the peer required sequencing.
    pub data_ns: u16,
}

/// Why a snapshot cannot be resumed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResumeError {
    #[error("tunnel id {0} is already in use")]
    TunnelIdInUse(TunnelId),
    #[error("tunnel {tunnel}: {what}")]
    Invalid { tunnel: TunnelId, what: String },
    #[error("limit reached: {0}")]
    Limit(&'static str),
}

impl TunnelSnapshot {
    /// Checks what [`Engine::resume`] relies on: non-zero and unique ids, and unacknowledged
    /// messages that are our own control messages with consecutive Ns ending before `ns_next`.
    pub fn validate(&self) -> Result<(), ResumeError> {
        let bad = |what: String| ResumeError::Invalid {
            tunnel: self.id,
            what,
        };
        if self.id.0 == 0 || self.peer_id.0 == 0 {
            return Err(bad("tunnel ids must not be 0".into()));
        }
        let mut ids = HashSet::new();
        for s in &self.sessions {
            if s.id.0 == 0 || s.peer_id.0 == 0 {
                return Err(bad(format!("session {}: ids must not be 0", s.id)));
            }
            if !ids.insert(s.id) {
                return Err(bad(format!("session {} appears twice", s.id)));
            }
        }
        let count = u16::try_from(self.unacknowledged.len())
            .map_err(|_| bad("too many unacknowledged messages".into()))?;
        let mut expected = self.ns_next.wrapping_sub(count);
        for (ns, bytes) in &self.unacknowledged {
            if *ns != expected {
                return Err(bad(format!("unacknowledged Ns {ns}, expected {expected}")));
            }
            expected = expected.wrapping_add(1);
            // The layout of `header::begin_control` (T, L, S set; version 2; no offset):
            // retransmission rewrites Nr at a fixed offset.
            let ours = bytes.len() > header::CONTROL_HEADER_LEN && bytes[..2] == [0xc8, 0x02];
            match header::parse(bytes) {
                Ok(Header::Control(h)) if ours && h.ns == *ns && h.tunnel_id == self.peer_id => {}
                _ => return Err(bad(format!("unacknowledged message {ns} is malformed"))),
            }
        }
        Ok(())
    }
}

impl Engine {
    /// Snapshots of every established tunnel with its established calls, by tunnel id.
    /// Call on SIGTERM after the last datagram was handled; the engine is unchanged.
    pub fn snapshot(&self) -> Vec<TunnelSnapshot> {
        let mut v: Vec<TunnelSnapshot> = self.tunnels_iter().filter_map(|t| t.snapshot()).collect();
        v.sort_unstable_by_key(|t| t.id);
        v
    }

    /// Rebuilds an established tunnel from `snap` at `now` (see the module docs); returns its
    /// id. Output (retransmissions, a ZLB) is ready in [`Engine::poll_transmit`].
    pub fn resume(
        &mut self,
        now: std::time::Instant,
        snap: TunnelSnapshot,
    ) -> Result<TunnelId, ResumeError> {
        snap.validate()?;
        self.insert_resumed(now, snap)
    }
}
