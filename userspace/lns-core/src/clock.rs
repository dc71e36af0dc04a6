//! The endpoint's one time base: monotonic [`Instant`]s, with wall-clock seconds derived
//! from the pair of readings the daemon took at start (RADIUS Event-Timestamp, RFC 2869
//! §5.3; Acct-Session-Time across a restart; the accounting dump's header).

use std::time::{Duration, Instant};

/// The instant the endpoint started and the Unix time at that instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Clock {
    pub started: Instant,
    pub unix_at_start: u64,
}

impl Clock {
    pub fn new(started: Instant, unix_at_start: u64) -> Self {
        Clock {
            started,
            unix_at_start,
        }
    }

    /// Unix seconds at `now`.
    pub fn unix(&self, now: Instant) -> u64 {
        self.unix_at_start + now.saturating_duration_since(self.started).as_secs()
    }

    /// Whole seconds since start: the stamp the data plane puts on a session's last packet
    /// (`SessionCounters::last_packet_in`).
    pub fn secs(&self, now: Instant) -> u64 {
        now.saturating_duration_since(self.started).as_secs()
    }

    /// The instant a data-plane stamp stands for, rounded up (a user is never thought silent
    /// for longer than it was) and never after `now`; `None` for 0 (no packet yet).
    pub fn instant_of_stamp(&self, stamp: u64, now: Instant) -> Option<Instant> {
        (stamp != 0).then(|| (self.started + Duration::from_secs(stamp + 1)).min(now))
    }

    /// The instant of a Unix time in the past (a resumed session's opening).
    pub fn instant_of_unix(&self, unix: u64, now: Instant) -> Instant {
        let age = Duration::from_secs(self.unix(now).saturating_sub(unix));
        now.checked_sub(age).unwrap_or(now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_round_up_and_never_pass_now() {
        let t0 = Instant::now();
        let c = Clock::new(t0, 1_000_000);
        let now = t0 + Duration::from_secs(100);
        assert_eq!(c.unix(now), 1_000_100);
        assert_eq!(c.secs(now), 100);
        assert_eq!(c.instant_of_stamp(0, now), None);
        assert_eq!(
            c.instant_of_stamp(41, now),
            Some(t0 + Duration::from_secs(42))
        );
        assert_eq!(c.instant_of_stamp(100, now), Some(now));
        assert_eq!(
            c.instant_of_unix(1_000_090, now),
            t0 + Duration::from_secs(90)
        );
    }
}
