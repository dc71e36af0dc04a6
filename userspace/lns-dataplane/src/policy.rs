//! Per-session policy in the data plane: token-bucket throttling each way, access lists
//! each way, and the interception copy. A session without a policy has `None` in its
//! [`crate::session_table::DataPath`] and pays one `Option` check per packet.
//!
//! Throttling polices: a packet passes when the bucket holds its size in tokens, else it is
//! dropped and counted. The bucket refills at the rate (kbit/s, 1 kbit = 1000 bit) and holds
//! [`BURST`] of it (at least [`MIN_BURST_BYTES`]), enough for TCP to reach the rate without
//! letting a long burst through (the original's bucket held 2 s).

use std::net::SocketAddrV4;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use crate::acl::AccessList;

/// The bucket's depth, as time at the rate.
pub const BURST_MICROS: u64 = 100_000;
/// Never less than a few full-size frames.
pub const MIN_BURST_BYTES: u64 = 4 * 1600;

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
    pub passed: u64,
    pub dropped: u64,
}

#[derive(Debug)]
struct BucketState {
    /// Tokens in bytes × 1 000 000 (so that refills at any rate stay integral).
    micro_tokens: u64,
    last_us: u64,
}

/// One direction's token bucket.
#[derive(Debug)]
pub struct Bucket {
    rate_kbps: u32,
    /// Bytes per second.
    rate: u64,
    depth_micro: u64,
    state: Mutex<BucketState>,
    passed: AtomicU64,
    dropped: AtomicU64,
}

impl Bucket {
    /// A full bucket at `rate_kbps` (> 0).
    pub fn new(rate_kbps: u32, now_us: u64) -> Self {
        let rate = u64::from(rate_kbps.max(1)) * 1000 / 8;
        let depth = (rate * BURST_MICROS / 1_000_000).max(MIN_BURST_BYTES);
        Bucket {
            rate_kbps,
            rate,
            depth_micro: depth * 1_000_000,
            state: Mutex::new(BucketState {
                micro_tokens: depth * 1_000_000,
                last_us: now_us,
            }),
            passed: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
        }
    }

    /// Whether a packet of `bytes` may pass at `now_us` (a monotonic clock in µs); takes its
    /// tokens if so.
    pub fn admit(&self, bytes: usize, now_us: u64) -> bool {
        let ok = {
            // A poisoned lock only means another worker panicked mid-update: the state is
            // two integers, still usable.
            let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
            let elapsed = now_us.saturating_sub(s.last_us);
            s.last_us = s.last_us.max(now_us);
            // bytes/s × µs = bytes × 10^6: the unit of micro_tokens.
            s.micro_tokens = s
                .micro_tokens
                .saturating_add(elapsed.saturating_mul(self.rate))
                .min(self.depth_micro);
            let need = (bytes as u64).saturating_mul(1_000_000);
            if s.micro_tokens >= need {
                s.micro_tokens -= need;
                true
            } else {
                false
            }
        };
        let c = if ok { &self.passed } else { &self.dropped };
        c.fetch_add(1, Ordering::Relaxed);
        ok
    }

    pub fn figures(&self) -> BucketFigures {
        BucketFigures {
            rate_kbps: self.rate_kbps,
            passed: self.passed.load(Ordering::Relaxed),
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
                .map(|r| Bucket::new(r, now)),
            throttle_out: spec
                .throttle_out
                .filter(|&r| r > 0)
                .map(|r| Bucket::new(r, now)),
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
        let b = Bucket::new(8_000, 0);
        let mut sent = 0u64;
        // 1 000-byte packets offered every 100 µs (10 MB/s) for 10 s.
        for i in 0..100_000u64 {
            if b.admit(1000, i * 100) {
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
        let b = Bucket::new(1_000, 0); // 125 000 bytes/s, depth 12 500 bytes
        for i in 0..1000u64 {
            // 100 bytes every 10 ms = 10 000 bytes/s, well under the rate.
            assert!(b.admit(100, i * 10_000));
        }
        let b = Bucket::new(1_000, 0);
        let burst = (0..100).filter(|_| b.admit(1000, 0)).count();
        assert_eq!(burst, 12, "a full bucket lets 12 500 bytes through at once");
        // A clock that goes backwards adds nothing.
        assert!(!b.admit(1000, 0));
    }

    #[test]
    fn small_rates_keep_a_minimum_depth() {
        let b = Bucket::new(28, 0);
        assert_eq!((0..10).filter(|_| b.admit(1500, 0)).count(), 4);
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
