//! The control loop's per-session record: the PPP link riding on one L2TP call plus what
//! RADIUS granted and what accounting needs.

use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::{Duration, Instant};

use ppp::session::Session as PppLink;
use radius::RequestId;

pub use crate::state_file::AddressSource;

pub struct Sess {
    pub link: PppLink,
    /// The LAC and which of our UDP sockets the tunnel arrived on.
    pub peer: SocketAddrV4,
    pub socket: u16,
    pub calling_station: Option<Vec<u8>>,
    pub called_station: Option<Vec<u8>>,
    pub user: Option<String>,
    /// Access-Request in flight.
    pub auth_request: Option<RequestId>,
    pub address: Option<(Ipv4Addr, AddressSource)>,
    pub dns: [Option<Ipv4Addr>; 2],
    pub class: Vec<Vec<u8>>,
    pub session_deadline: Option<Instant>,
    pub idle_timeout: Option<Duration>,
    pub interim: Option<Duration>,
    pub next_interim: Option<Instant>,
    /// IPCP came up (the session is "opened" for accounting): monotonic and wall-clock time.
    pub opened: Option<(Instant, u64)>,
    pub acct_session_id: String,
    /// Octets already written to an `accounting_dir` dump.
    pub dumped: (u64, u64),
    /// Why it is ending, for Acct-Terminate-Cause (set by whoever ends it first).
    pub terminate_cause: Option<u32>,
}

impl Sess {
    pub fn new(link: PppLink, peer: SocketAddrV4, socket: u16, acct_session_id: String) -> Self {
        Sess {
            link,
            peer,
            socket,
            calling_station: None,
            called_station: None,
            user: None,
            auth_request: None,
            address: None,
            dns: [None, None],
            class: Vec::new(),
            session_deadline: None,
            idle_timeout: None,
            interim: None,
            next_interim: None,
            opened: None,
            acct_session_id,
            dumped: (0, 0),
            terminate_cause: None,
        }
    }
}
