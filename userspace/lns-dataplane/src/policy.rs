//! Per-session policy in the data plane: token-bucket throttling each way, access lists
//! each way, and the interception copy. A session without a policy has `None` in its
//! [`crate::session_table::DataPath`] and pays one `Option` check per packet.
//!
//! Throttling shapes: a packet passes at once when the bucket holds its size in tokens and
//! nothing of the session waits before it; otherwise, while fewer than the queue's depth
//! wait, it is held until the bucket will have refilled for it ([`Admit::Later`]: the caller
//! keeps the packet and sends it then), and beyond that it is dropped and counted. Holding a
//! few packets rather than dropping them is what lets TCP settle at the rate: a pure policer
//! drops whole bursts, and TCP then waits out retransmission timeouts (measured: 40 to 70 % of
//! the rate through a policer, tests/l2tpns/test-daemon-shaping.sh). The bucket refills at the
//! rate (kbit/s, 1 kbit = 1000 bit) and holds [`BURST_MICROS`] of it (at least
//! [`MIN_BURST_BYTES`]), so a long burst cannot pass at line rate (the original's bucket held
//! 2 s).

use std::collections::VecDeque;
use std::net::SocketAddrV4;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use crate::acl::AccessList;

/// The bucket's depth, as time at the rate.
pub const BURST_MICROS: u64 = 100_000;
/// Never less than a few full-size frames.
pub const MIN_BURST_BYTES: u64 = 4 * 1600;
/// The longest a packet is held back, whatever the queue's depth in packets: at low rates a
/// deep queue would add seconds of delay (64 full-size packets are 0.7 s at 1 Mbit/s), which
/// hurts interactive traffic and only delays TCP's reaction to the rate.
pub const MAX_HOLD_MICROS: u64 = 100_000;

/// What the control plane decides for one session; `Default` is no policy.
#[derive(Debug, Clone, Default)]
pub struct PolicySpec {
    /// kbit/s from the user (upstream).
    pub throttle_in: Option<u32>,
    /// kbit/s to the user (downstream).
    pub throttle_out: Option<u32>,
    pub filter_in: Option<Arc<AccessList>>,
    pub filter_out: Option<Arc<AccessList>>,
    /// Copy every IP packet both ways, as it is, in UDP to this address.
    pub snoop: Option<SocketAddrV4>,
    /// Packets a throttled direction may hold back (0: none, a pure policer).
    pub throttle_queue: u32,
}

impl PolicySpec {
    pub fn is_empty(&self) -> bool {
        self.throttle_in.is_none()
            && self.throttle_out.is_none()
            && self.filter_in.is_none()
            && self.filter_out.is_none()
            && self.snoop.is_none()
    }
}

/// A bucket's figures.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BucketFigures {
    pub rate_kbps: u32,
    /// Packets sent, at once or after waiting.
    pub passed: u64,
    /// Of `passed`, those held back first.
    pub delayed: u64,
    pub dropped: u64,
}

/// What the bucket says of a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admit {
    /// Send it now.
    Now,
    /// Hold it and send it at this time (µs of [`now_us`]); its tokens are taken.
    Later(u64),
    /// Over the rate with the queue full.
    Drop,
}

#[derive(Debug)]
struct BucketState {
    /// Tokens in bytes × 1 000 000 (so that refills at any rate stay integral); below zero
    /// while held packets wait for their tokens.
    micro_tokens: i64,
    last_us: u64,
    /// Release times of the held packets not yet due, in order.
    held: VecDeque<u64>,
}

/// One direction's token bucket.
#[derive(Debug)]
pub struct Bucket {
    rate_kbps: u32,
    /// Bytes per second.
    rate: u64,
    depth_micro: i64,
    queue: usize,
    state: Mutex<BucketState>,
    passed: AtomicU64,
    delayed: AtomicU64,
    dropped: AtomicU64,
}

impl Bucket {
    /// A full bucket at `rate_kbps` (> 0) that may hold `queue` packets back.
    pub fn new(rate_kbps: u32, queue: u32, now_us: u64) -> Self {
        let rate = u64::from(rate_kbps.max(1)) * 1000 / 8;
        let depth = (rate * BURST_MICROS / 1_000_000).max(MIN_BURST_BYTES);
        let depth_micro = i64::try_from(depth.saturating_mul(1_000_000)).unwrap_or(i64::MAX);
        Bucket {
            rate_kbps,
            rate,
            depth_micro,
            queue: queue as usize,
            state: Mutex::new(BucketState {
                micro_tokens: depth_micro,
                last_us: now_us,
                held: VecDeque::new(),
            }),
            passed: AtomicU64::new(0),
            delayed: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
        }
    }

    /// What to do with a packet of `bytes` at `now_us` (a monotonic clock in µs); takes its
    /// tokens unless it is dropped.
    pub fn admit(&self, bytes: usize, now_us: u64) -> Admit {
        let verdict = {
            // A poisoned lock only means another worker panicked mid-update: the state is
            // plain integers, still usable.
            let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
            let elapsed = now_us.saturating_sub(s.last_us);
            s.last_us = s.last_us.max(now_us);
            // bytes/s × µs = bytes × 10^6: the unit of micro_tokens.
            let refill = i64::try_from(elapsed.saturating_mul(self.rate)).unwrap_or(i64::MAX);
            s.micro_tokens = s.micro_tokens.saturating_add(refill).min(self.depth_micro);
            while s.held.front().is_some_and(|&t| t <= now_us) {
                s.held.pop_front();
            }
            let need = i64::try_from(bytes)
                .unwrap_or(i64::MAX)
                .saturating_mul(1_000_000);
            if s.held.is_empty() && s.micro_tokens >= need {
                s.micro_tokens -= need;
                Admit::Now
            } else if s.held.len() < self.queue {
                // Owe the tokens; the packet leaves when the rate has paid them back, and
                // never before one held earlier.
                let tokens = s.micro_tokens.saturating_sub(need);
                let owed = u64::try_from(tokens.saturating_neg()).unwrap_or(0);
                let at = (now_us + owed.div_ceil(self.rate.max(1)))
                    .max(s.held.back().copied().unwrap_or(0));
                if at - now_us <= MAX_HOLD_MICROS {
                    s.micro_tokens = tokens;
                    s.held.push_back(at);
                    Admit::Later(at)
                } else {
                    Admit::Drop
                }
            } else {
                Admit::Drop
            }
        };
        let c = match verdict {
            Admit::Now => &self.passed,
            Admit::Later(_) => &self.delayed,
            Admit::Drop => &self.dropped,
        };
        c.fetch_add(1, Ordering::Relaxed);
        verdict
    }

    pub fn figures(&self) -> BucketFigures {
        BucketFigures {
            rate_kbps: self.rate_kbps,
            passed: self.passed.load(Ordering::Relaxed) + self.delayed.load(Ordering::Relaxed),
            delayed: self.delayed.load(Ordering::Relaxed),
            dropped: self.dropped.load(Ordering::Relaxed),
        }
    }
}

/// A published session's policy, as packet workers use it.
#[derive(Debug, Default)]
pub struct Policy {
    pub throttle_in: Option<Bucket>,
    pub throttle_out: Option<Bucket>,
    pub filter_in: Option<Arc<AccessList>>,
    pub filter_out: Option<Arc<AccessList>>,
    pub snoop: Option<SocketAddrV4>,
}

impl Policy {
    /// `None` for an empty spec: no per-packet cost.
    pub fn of(spec: PolicySpec) -> Option<Arc<Policy>> {
        if spec.is_empty() {
            return None;
        }
        let now = now_us();
        Some(Arc::new(Policy {
            throttle_in: spec
                .throttle_in
                .filter(|&r| r > 0)
                .map(|r| Bucket::new(r, spec.throttle_queue, now)),
            throttle_out: spec
                .throttle_out
                .filter(|&r| r > 0)
                .map(|r| Bucket::new(r, spec.throttle_queue, now)),
            filter_in: spec.filter_in,
            filter_out: spec.filter_out,
            snoop: spec.snoop,
        }))
    }
}

/// Both directions' bucket figures (upstream = from the user).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ThrottleFigures {
    pub upstream: Option<BucketFigures>,
    pub downstream: Option<BucketFigures>,
}

/// The data plane's monotonic clock in µs (only throttled packets read it).
pub fn now_us() -> u64 {
    static BASE: OnceLock<Instant> = OnceLock::new();
    BASE.get_or_init(Instant::now).elapsed().as_micros() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_passes_its_rate_over_time_and_no_more() {
        // 8 000 kbit/s = 1 000 000 bytes/s; depth 100 ms = 100 000 bytes.
        let b = Bucket::new(8_000, 0, 0);
        let mut sent = 0u64;
        // 1 000-byte packets offered every 100 µs (10 MB/s) for 10 s.
        for i in 0..100_000u64 {
            if b.admit(1000, i * 100) == Admit::Now {
                sent += 1000;
            }
        }
        // 10 s at 1 MB/s plus the initial bucket.
        let expected = 10_000_000 + 100_000;
        assert!(
            sent.abs_diff(expected) <= 2_000,
            "sent {sent}, expected about {expected}"
        );
        let f = b.figures();
        assert_eq!(f.passed * 1000, sent);
        assert_eq!(f.passed + f.dropped, 100_000);
    }

    #[test]
    fn slow_traffic_is_never_dropped_and_the_burst_is_bounded() {
        let b = Bucket::new(1_000, 0, 0); // 125 000 bytes/s, depth 12 500 bytes
        for i in 0..1000u64 {
            // 100 bytes every 10 ms = 10 000 bytes/s, well under the rate.
            assert_eq!(b.admit(100, i * 10_000), Admit::Now);
        }
        let b = Bucket::new(1_000, 0, 0);
        let burst = (0..100).filter(|_| b.admit(1000, 0) == Admit::Now).count();
        assert_eq!(burst, 12, "a full bucket lets 12 500 bytes through at once");
        // A clock that goes backwards adds nothing.
        assert_eq!(b.admit(1000, 0), Admit::Drop);
    }

    #[test]
    fn small_rates_keep_a_minimum_depth() {
        let b = Bucket::new(28, 0, 0);
        assert_eq!(
            (0..10).filter(|_| b.admit(1500, 0) == Admit::Now).count(),
            4
        );
    }

    #[test]
    fn a_queue_holds_packets_until_their_tokens_are_due_in_order() {
        // 8 000 kbit/s = 1 000 bytes per ms; depth 100 000 bytes.
        let b = Bucket::new(8_000, 2, 0);
        // Empty the bucket.
        for _ in 0..100 {
            assert_eq!(b.admit(1000, 0), Admit::Now);
        }
        // The next two wait 1 and 2 ms; the third finds the queue full.
        assert_eq!(b.admit(1000, 0), Admit::Later(1000));
        assert_eq!(b.admit(1000, 0), Admit::Later(2000));
        assert_eq!(b.admit(1000, 0), Admit::Drop);
        // At 1 ms the first has left: one place free, and the new one queues behind the
        // second (3 ms), even though the bucket got 1 000 bytes meanwhile.
        assert_eq!(b.admit(1000, 1000), Admit::Later(3000));
        // Long after, the bucket is full again and nothing waits.
        assert_eq!(b.admit(1000, 1_000_000), Admit::Now);
        let f = b.figures();
        assert_eq!((f.passed, f.delayed, f.dropped), (104, 3, 1));
    }

    #[test]
    fn nothing_is_held_longer_than_the_bound() {
        // 80 kbit/s = 10 bytes per ms, depth 6 400 bytes (the minimum): six 1 000-byte
        // packets pass, the seventh waits 60 ms for the 600 bytes it lacks.
        let b = Bucket::new(80, 64, 0);
        assert_eq!((0..6).filter(|_| b.admit(1000, 0) == Admit::Now).count(), 6);
        assert_eq!(b.admit(1000, 0), Admit::Later(60_000));
        // The next would wait 160 ms: dropped, though the queue has room.
        assert_eq!(b.admit(1000, 0), Admit::Drop);
        // 100 ms on, the held one has left and 1 000 bytes came in: 60 ms to wait again.
        assert_eq!(b.admit(1000, 100_000), Admit::Later(160_000));
    }

    #[test]
    fn a_shaped_flow_leaves_at_the_rate() {
        // 1 500-byte packets offered at 4 times 10 000 kbit/s for 2 s into a queue of 8, the
        // sender slowing down while the queue is full (as TCP would): what passes, now or
        // later, adds up to the rate plus the initial bucket.
        let b = Bucket::new(10_000, 8, 0);
        let mut sent = 0u64;
        let mut last_release = 0;
        let mut t = 0u64;
        while t < 2_000_000 {
            match b.admit(1500, t) {
                Admit::Now => sent += 1500,
                Admit::Later(at) => {
                    assert!(at >= last_release, "held packets leave in order");
                    last_release = at;
                    if at <= 2_000_000 {
                        sent += 1500;
                    }
                }
                Admit::Drop => {}
            }
            t += 300;
        }
        let expected = 2 * 1_250_000 + 125_000;
        assert!(
            sent.abs_diff(expected) <= 3_000,
            "sent {sent}, expected about {expected}"
        );
    }

    #[test]
    fn an_empty_spec_is_no_policy() {
        assert!(Policy::of(PolicySpec::default()).is_none());
        let p = Policy::of(PolicySpec {
            throttle_out: Some(64),
            ..PolicySpec::default()
        })
        .unwrap();
        assert!(p.throttle_out.is_some() && p.throttle_in.is_none());
    }
}
