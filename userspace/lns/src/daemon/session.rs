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
    /// The last PPP frame from the user on the control path (LCP, auth, NCPs); data packets
    /// are stamped by the data plane instead (`SessionCounters::last_packet_in`).
    pub last_frame: Instant,
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
            last_frame: Instant::now(),
        }
    }

    /// When we last heard anything from the user: a control frame, or a data packet stamped
    /// by the data plane in whole seconds since `started` (0: none yet). The second is
    /// rounded up, so a user is never thought silent for longer than it really was.
    pub fn last_heard(&self, now: Instant, started: Instant, last_data_secs: u64) -> Instant {
        if last_data_secs == 0 {
            return self.last_frame;
        }
        let data = (started + Duration::from_secs(last_data_secs + 1)).min(now);
        self.last_frame.max(data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ppp::session::SessionConfig;

    fn sess() -> Sess {
        let link = PppLink::new(
            SessionConfig::authenticator(b"lns", Ipv4Addr::new(10, 0, 0, 1)),
            [0; 16],
        );
        Sess::new(link, "192.0.2.1:1701".parse().unwrap(), 0, "0".into())
    }

    #[test]
    fn last_heard_takes_the_later_of_control_frames_and_data() {
        let started = Instant::now();
        let mut s = sess();
        s.last_frame = started + Duration::from_secs(5);
        let now = started + Duration::from_secs(100);
        // No data yet: the control frame.
        assert_eq!(s.last_heard(now, started, 0), s.last_frame);
        // Data in second 41 (rounded up to 42) is later than the frame at 5 s.
        assert_eq!(
            s.last_heard(now, started, 41),
            started + Duration::from_secs(42)
        );
        // Data older than the last frame does not move it back.
        s.last_frame = started + Duration::from_secs(60);
        assert_eq!(s.last_heard(now, started, 41), s.last_frame);
        // Rounding up never goes past `now`.
        let now = started + Duration::from_millis(99_500);
        assert_eq!(s.last_heard(now, started, 99), now);
    }
}
