//! The endpoint's per-session record (what RADIUS granted and what accounting needs; the
//! PPP link itself lives in the L2TP↔PPP composition), and the one way a session is named.

use std::fmt;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::{Duration, Instant};

use lns_dataplane::session_table::{CallId, SessionKey};
use radius::RequestId;

pub use crate::state_file::AddressSource;

/// Acct-Terminate-Cause values (RFC 2866 §5.10) the endpoint uses, by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum TerminateCause {
    UserRequest,
    LostCarrier,
    IdleTimeout,
    SessionTimeout,
    AdminReset,
    AdminReboot,
    NasError,
    NasRequest,
    UserError,
}

impl TerminateCause {
    /// The attribute's value on the wire.
    pub fn code(self) -> u32 {
        use radius::acct_terminate_cause as c;
        match self {
            TerminateCause::UserRequest => c::USER_REQUEST,
            TerminateCause::LostCarrier => c::LOST_CARRIER,
            TerminateCause::IdleTimeout => c::IDLE_TIMEOUT,
            TerminateCause::SessionTimeout => c::SESSION_TIMEOUT,
            TerminateCause::AdminReset => c::ADMIN_RESET,
            TerminateCause::AdminReboot => c::ADMIN_REBOOT,
            TerminateCause::NasError => c::NAS_ERROR,
            TerminateCause::NasRequest => c::NAS_REQUEST,
            TerminateCause::UserError => c::USER_ERROR,
        }
    }
}

impl fmt::Display for TerminateCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TerminateCause::UserRequest => "User-Request",
            TerminateCause::LostCarrier => "Lost-Carrier",
            TerminateCause::IdleTimeout => "Idle-Timeout",
            TerminateCause::SessionTimeout => "Session-Timeout",
            TerminateCause::AdminReset => "Admin-Reset",
            TerminateCause::AdminReboot => "Admin-Reboot",
            TerminateCause::NasError => "NAS-Error",
            TerminateCause::NasRequest => "NAS-Request",
            TerminateCause::UserError => "User-Error",
        })
    }
}

/// How every log line names a session: `session N`, N being the number nsctl, the CLI and
/// NAS-Port use; its first line adds the L2TP ids (`session 3 (tunnel 18629 call 15877)`).
#[derive(Debug, Clone, Copy)]
pub struct SessionName {
    pub key: SessionKey,
    pub ids: Option<CallId>,
}

impl SessionName {
    pub fn of(key: SessionKey) -> Self {
        SessionName { key, ids: None }
    }

    pub fn with_ids(key: SessionKey, ids: CallId) -> Self {
        SessionName {
            key,
            ids: Some(ids),
        }
    }
}

impl fmt::Display for SessionName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "session {}", self.key.index())?;
        if let Some(ids) = self.ids {
            write!(f, " (tunnel {} call {})", ids.tunnel, ids.session)?;
        }
        Ok(())
    }
}

/// Acct-Session-Id (RFC 2866 §5.5): this run's random 32-bit id, then the session's number in
/// the run, as 16 hex digits. A number in the session record, text only on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AcctSessionId(u64);

impl AcctSessionId {
    pub fn new(run: u32, sequence: u32) -> Self {
        AcctSessionId(u64::from(run) << 32 | u64::from(sequence))
    }

    /// One of ours, as [`fmt::Display`] wrote it (a resumed session's).
    pub fn parse(text: &str) -> Option<Self> {
        (text.len() == 16)
            .then(|| u64::from_str_radix(text, 16).ok())
            .flatten()
            .map(AcctSessionId)
    }
}

impl fmt::Display for AcctSessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016X}", self.0)
    }
}

/// The RADIUS Class attributes (RFC 2865 §5.25) a session echoes in accounting, in one
/// allocation: each value after a length byte (an attribute holds at most 253 bytes). A
/// `Vec<Vec<u8>>` took two allocations and 24 bytes inline for the usual single Class.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Classes(Option<Box<[u8]>>);

impl Classes {
    /// Appends one value (cut at 255 bytes, more than RADIUS can carry).
    pub fn push(&mut self, class: &[u8]) {
        let class = &class[..class.len().min(255)];
        let mut all = self.0.take().map(Vec::from).unwrap_or_default();
        all.push(class.len() as u8);
        all.extend_from_slice(class);
        self.0 = Some(all.into_boxed_slice());
    }

    /// The values in the order received.
    pub fn iter(&self) -> impl Iterator<Item = &[u8]> {
        let mut rest: &[u8] = self.0.as_deref().unwrap_or_default();
        std::iter::from_fn(move || {
            let (&len, tail) = rest.split_first()?;
            let (value, tail) = tail.split_at(usize::from(len).min(tail.len()));
            rest = tail;
            Some(value)
        })
    }

    pub fn to_vec(&self) -> Vec<Vec<u8>> {
        self.iter().map(<[u8]>::to_vec).collect()
    }
}

impl<'a> FromIterator<&'a Vec<u8>> for Classes {
    fn from_iter<I: IntoIterator<Item = &'a Vec<u8>>>(values: I) -> Self {
        let mut c = Classes::default();
        for v in values {
            c.push(v);
        }
        c
    }
}

pub struct Sess {
    /// The LAC and which of our UDP sockets the tunnel arrived on.
    pub peer: SocketAddrV4,
    pub socket: u16,
    pub calling_station: Option<Vec<u8>>,
    pub called_station: Option<Vec<u8>>,
    /// Shared with the session table once it has the name ([`Sess::share_user`]).
    pub user: Option<std::sync::Arc<str>>,
    /// Access-Request in flight.
    pub auth_request: Option<RequestId>,
    pub address: Option<(Ipv4Addr, AddressSource)>,
    pub dns: [Option<Ipv4Addr>; 2],
    pub class: Classes,
    pub session_deadline: Option<Instant>,
    pub idle_timeout: Option<Duration>,
    pub interim: Option<Duration>,
    pub next_interim: Option<Instant>,
    /// IPCP came up (the session is "opened" for accounting): when, and its Unix time.
    pub opened: Option<(Instant, u64)>,
    pub acct_session_id: AcctSessionId,
    /// Octets already written to an `accounting_dir` dump.
    pub dumped: (u64, u64),
    /// Why it is ending, for Acct-Terminate-Cause (set by whoever ends it first).
    pub terminate_cause: Option<TerminateCause>,
    /// Throttling, interception, access lists, walled garden.
    pub policy: crate::policy::BoxedPolicy,
    /// The L2TP connect speeds of the call (bit/s; `setrxspeed` may fill in the receive one).
    pub tx_speed: Option<u32>,
    pub rx_speed: Option<u32>,
}

impl Sess {
    /// The user name, empty when none yet.
    pub fn user_name(&self) -> String {
        self.user.as_deref().unwrap_or_default().to_owned()
    }

    pub fn new(peer: SocketAddrV4, socket: u16, acct_session_id: AcctSessionId) -> Self {
        Sess {
            peer,
            socket,
            calling_station: None,
            called_station: None,
            user: None,
            auth_request: None,
            address: None,
            dns: [None, None],
            class: Classes::default(),
            session_deadline: None,
            idle_timeout: None,
            interim: None,
            next_interim: None,
            opened: None,
            acct_session_id,
            dumped: (0, 0),
            terminate_cause: None,
            policy: crate::policy::BoxedPolicy::default(),
            tx_speed: None,
            rx_speed: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_keep_values_and_order_in_one_buffer() {
        let mut c = Classes::default();
        assert_eq!(c.iter().count(), 0);
        c.push(b"netedge-class");
        c.push(b"");
        c.push(&[7u8; 253]);
        assert_eq!(
            c.to_vec(),
            vec![b"netedge-class".to_vec(), Vec::new(), vec![7u8; 253]]
        );
        let back: Classes = c.to_vec().iter().collect();
        assert_eq!(back, c);
    }

    #[test]
    fn acct_session_id_is_run_then_sequence_in_hex_and_parses_back() {
        let id = AcctSessionId::new(0x1234_ABCD, 7);
        // The same text the daemon always sent: 8 hex digits of each.
        assert_eq!(id.to_string(), format!("{:08X}{:08X}", 0x1234_ABCDu32, 7));
        assert_eq!(AcctSessionId::parse(&id.to_string()), Some(id));
        assert_eq!(AcctSessionId::parse("1234"), None);
        assert_eq!(AcctSessionId::parse("zzzzzzzzzzzzzzzz"), None);
    }
}
