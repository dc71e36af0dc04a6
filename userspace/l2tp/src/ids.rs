//! The ids that name tunnels and sessions (RFC 2661 §3.1).
//!
//! Each end assigns its own Tunnel ID and Session ID and the other end puts them in the
//! headers it sends, so a tunnel has two tunnel ids and a session two session ids. The types
//! below keep "which number is this" in the type system: every API of the engine takes and
//! returns *our* ids, and [`DataRoute`](crate::DataRoute) carries the peer's. They serialize
//! as the bare number, so snapshots and JSON replies read as before.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A Tunnel ID. 0 only addresses an SCCRQ (RFC 2661 §3.1); a tunnel's own id is never 0.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct TunnelId(pub u16);

impl TunnelId {
    /// 0: the header of an SCCRQ, and the peer's id before its Assigned Tunnel ID arrived.
    pub const UNASSIGNED: TunnelId = TunnelId(0);
}

/// A Session ID, unique within its tunnel (RFC 2661 §3.1); 0 addresses the tunnel itself.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct SessionId(pub u16);

impl SessionId {
    /// 0: a control message of the tunnel itself, and the peer's id before it is known.
    pub const CONTROL: SessionId = SessionId(0);
}

/// One call: our tunnel id and our session id in it.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
pub struct CallId {
    pub tunnel: TunnelId,
    pub session: SessionId,
}

impl CallId {
    pub const fn new(tunnel: TunnelId, session: SessionId) -> Self {
        CallId { tunnel, session }
    }
}

macro_rules! id_conversions {
    ($t:ident) => {
        impl $t {
            /// The number as it goes on the wire.
            pub const fn get(self) -> u16 {
                self.0
            }
        }
        impl From<u16> for $t {
            fn from(v: u16) -> Self {
                $t(v)
            }
        }
        impl From<$t> for u16 {
            fn from(v: $t) -> u16 {
                v.0
            }
        }
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }
        impl std::str::FromStr for $t {
            type Err = std::num::ParseIntError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.parse().map($t)
            }
        }
    };
}
id_conversions!(TunnelId);
id_conversions!(SessionId);

/// "tunnel 7 call 9", as logs name a call.
impl fmt::Display for CallId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "tunnel {} call {}", self.tunnel, self.session)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_serialize_as_the_bare_number() {
        assert_eq!(serde_json::to_string(&TunnelId(7)).unwrap(), "7");
        assert_eq!(
            serde_json::from_str::<SessionId>("9").unwrap(),
            SessionId(9)
        );
        assert_eq!(
            CallId::new(TunnelId(7), SessionId(9)).to_string(),
            "tunnel 7 call 9"
        );
        assert_eq!("65535".parse::<TunnelId>().unwrap(), TunnelId(u16::MAX));
    }
}
