//! Reliable delivery of control messages (RFC 2661 §5.8 and Appendix A): Ns/Nr, the peer's
//! receive window, retransmission with exponential backoff, an out-of-order queue and
//! duplicate detection.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::header;

/// Retransmission policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetransmitConfig {
    /// First retransmission timeout (RFC 2661 §5.8 recommends 1 s).
    pub initial: Duration,
    /// Cap of the exponential backoff (RFC 2661 §5.8: at least 8 s).
    pub max: Duration,
    /// Retransmissions of one message before the tunnel is given up.
    pub max_retries: u32,
}

impl Default for RetransmitConfig {
    fn default() -> Self {
        RetransmitConfig {
            initial: Duration::from_secs(1),
            max: Duration::from_secs(8),
            max_retries: 5,
        }
    }
}

impl RetransmitConfig {
    /// Timeout before retransmission number `tries + 1`: initial × 2^tries, capped.
    pub fn backoff(&self, tries: u32) -> Duration {
        self.initial
            .checked_mul(1u32.checked_shl(tries).unwrap_or(u32::MAX))
            .unwrap_or(self.max)
            .min(self.max)
    }

    /// How long a sender keeps retrying one message: the full retransmission cycle.
    pub fn cycle(&self) -> Duration {
        (0..=self.max_retries).map(|t| self.backoff(t)).sum()
    }
}

/// `a - b` in 16-bit serial arithmetic, as a signed distance.
pub(crate) fn seq_diff(a: u16, b: u16) -> i32 {
    a.wrapping_sub(b) as i16 as i32
}

struct InFlight {
    ns: u16,
    bytes: Vec<u8>,
    next_at: Instant,
    tries: u32,
}

/// What to do with a received control message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// In sequence: process it now, then call [`Reliable::delivered`].
    Deliver,
    /// A ZLB: only its Nr mattered.
    Ack,
    /// Already received: acknowledge with a ZLB at once (RFC 2661 §5.8).
    Duplicate,
    /// Ahead of sequence but within our window: queued until the gap fills.
    Queued,
    /// Beyond our receive window: dropped.
    OutOfWindow,
}

/// The reliable-delivery state of one control connection.
pub(crate) struct Reliable {
    /// Ns of the next message we send.
    pub ns_next: u16,
    /// Ns we expect next from the peer: our Nr.
    pub nr: u16,
    /// The peer's receive window: messages we may have unacknowledged (default 4, §5.8).
    pub peer_window: u16,
    /// Our receive window: how far ahead we queue.
    pub our_window: u16,
    cfg: RetransmitConfig,
    in_flight: VecDeque<InFlight>,
    waiting: VecDeque<(u16, Vec<u8>)>,
    out_of_order: Vec<(u16, Vec<u8>)>,
    /// We received something not yet acknowledged by an outgoing message.
    pub ack_needed: bool,
}

/// What [`Reliable::resumed`] continues from.
pub(crate) struct ResumedChannel {
    pub ns_next: u16,
    pub nr: u16,
    pub peer_window: u16,
    pub unacknowledged: Vec<(u16, Vec<u8>)>,
    pub ack_needed: bool,
}

/// The retransmission limit was reached for message `ns`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct GaveUp {
    pub ns: u16,
}

impl Reliable {
    pub fn new(our_window: u16, cfg: RetransmitConfig) -> Self {
        Reliable {
            ns_next: 0,
            nr: 0,
            peer_window: 4,
            our_window: our_window.max(1),
            cfg,
            in_flight: VecDeque::new(),
            waiting: VecDeque::new(),
            out_of_order: Vec::new(),
            ack_needed: false,
        }
    }

    /// Reserve the Ns of a new message.
    pub fn take_ns(&mut self) -> u16 {
        let ns = self.ns_next;
        self.ns_next = ns.wrapping_add(1);
        ns
    }

    /// Queue message `ns` (encoded with [`header::begin_control`]) for reliable delivery;
    /// it goes out at once if the peer's window allows.
    pub fn send(&mut self, now: Instant, ns: u16, bytes: Vec<u8>, out: &mut VecDeque<Vec<u8>>) {
        self.waiting.push_back((ns, bytes));
        self.fill_window(now, out);
    }

    fn fill_window(&mut self, now: Instant, out: &mut VecDeque<Vec<u8>>) {
        while self.in_flight.len() < self.peer_window as usize {
            let Some((ns, mut bytes)) = self.waiting.pop_front() else {
                break;
            };
            header::set_nr(&mut bytes, self.nr);
            out.push_back(bytes.clone());
            self.ack_needed = false;
            self.in_flight.push_back(InFlight {
                ns,
                bytes,
                next_at: now + self.cfg.backoff(0),
                tries: 0,
            });
        }
    }

    /// Whether the peer has acknowledged our message `ns` (it was sent: Ns handed out).
    pub fn is_acknowledged(&self, ns: u16) -> bool {
        let oldest = self
            .in_flight
            .front()
            .map(|f| f.ns)
            .or_else(|| self.waiting.front().map(|(n, _)| *n))
            .unwrap_or(self.ns_next);
        seq_diff(oldest, ns) > 0
    }

    /// Apply the peer's receive window (AVP 10); 0 is treated as 1.
    pub fn set_peer_window(&mut self, now: Instant, w: u16, out: &mut VecDeque<Vec<u8>>) {
        self.peer_window = w.max(1);
        self.fill_window(now, out);
    }

    /// Process the peer's Nr: everything before it is acknowledged. An Nr that acknowledges
    /// more than we sent is ignored.
    fn ack(&mut self, now: Instant, nr: u16, out: &mut VecDeque<Vec<u8>>) {
        let Some(oldest) = self.in_flight.front().map(|f| f.ns) else {
            return;
        };
        let acked = seq_diff(nr, oldest);
        if acked <= 0 || acked as usize > self.in_flight.len() {
            return;
        }
        self.in_flight.drain(..acked as usize);
        self.fill_window(now, out);
    }

    /// Classify a received message (`zlb`: no AVPs) with its Ns and Nr.
    pub fn receive(
        &mut self,
        now: Instant,
        ns: u16,
        nr: u16,
        zlb: bool,
        datagram: &[u8],
        out: &mut VecDeque<Vec<u8>>,
    ) -> Verdict {
        self.ack(now, nr, out);
        if zlb {
            return Verdict::Ack;
        }
        let ahead = seq_diff(ns, self.nr);
        if ahead == 0 {
            Verdict::Deliver
        } else if ahead < 0 {
            Verdict::Duplicate
        } else if ahead < self.our_window as i32 {
            if !self.out_of_order.iter().any(|(n, _)| *n == ns) {
                self.out_of_order.push((ns, datagram.to_vec()));
            }
            Verdict::Queued
        } else {
            Verdict::OutOfWindow
        }
    }

    /// The in-sequence message was processed: advance Nr and return the next queued
    /// datagram if it is now in sequence.
    pub fn delivered(&mut self) -> Option<Vec<u8>> {
        self.nr = self.nr.wrapping_add(1);
        self.ack_needed = true;
        let i = self.out_of_order.iter().position(|(n, _)| *n == self.nr)?;
        Some(self.out_of_order.swap_remove(i).1)
    }

    /// Retransmit what timed out. Fails when a message ran out of retries.
    pub fn on_timeout(&mut self, now: Instant, out: &mut VecDeque<Vec<u8>>) -> Result<u32, GaveUp> {
        let mut sent = 0;
        for f in self.in_flight.iter_mut() {
            if f.next_at > now {
                continue;
            }
            if f.tries >= self.cfg.max_retries {
                return Err(GaveUp { ns: f.ns });
            }
            f.tries += 1;
            f.next_at = now + self.cfg.backoff(f.tries);
            header::set_nr(&mut f.bytes, self.nr);
            out.push_back(f.bytes.clone());
            sent += 1;
        }
        if sent > 0 {
            self.ack_needed = false;
        }
        Ok(sent)
    }

    pub fn poll_timeout(&self) -> Option<Instant> {
        self.in_flight.iter().map(|f| f.next_at).min()
    }

    /// Nothing sent is unacknowledged and nothing waits for the window.
    pub fn idle(&self) -> bool {
        self.in_flight.is_empty() && self.waiting.is_empty()
    }

    /// Every message not yet acknowledged (sent or waiting for the window), in Ns order,
    /// as (Ns, encoded datagram): what a snapshot must carry so nothing is lost.
    pub fn unacknowledged(&self) -> impl Iterator<Item = (u16, &[u8])> {
        self.in_flight
            .iter()
            .map(|f| (f.ns, f.bytes.as_slice()))
            .chain(self.waiting.iter().map(|(ns, b)| (*ns, b.as_slice())))
    }

    /// A channel resumed from a snapshot at `now`: the sequence numbers continue, and the
    /// unacknowledged messages go out again at once (the peer may have missed them while we
    /// were down; a duplicate only costs it a ZLB, RFC 2661 §5.8) with fresh retry budgets.
    pub fn resumed(
        now: Instant,
        our_window: u16,
        cfg: RetransmitConfig,
        state: ResumedChannel,
        out: &mut VecDeque<Vec<u8>>,
    ) -> Self {
        let mut r = Reliable::new(our_window, cfg);
        r.ns_next = state.ns_next;
        r.nr = state.nr;
        r.peer_window = state.peer_window.max(1);
        r.waiting = state.unacknowledged.into();
        r.fill_window(now, out);
        // A message that went out carries our Nr: it acknowledges as well as a ZLB would.
        r.ack_needed = state.ack_needed && r.in_flight.is_empty();
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        let c = RetransmitConfig::default();
        let v: Vec<u64> = (0..6).map(|t| c.backoff(t).as_secs()).collect();
        assert_eq!(v, [1, 2, 4, 8, 8, 8]);
        assert_eq!(c.backoff(200), Duration::from_secs(8));
        assert_eq!(c.cycle(), Duration::from_secs(1 + 2 + 4 + 8 + 8 + 8));
    }

    #[test]
    fn serial_arithmetic_wraps() {
        assert_eq!(seq_diff(0, 65535), 1);
        assert_eq!(seq_diff(65535, 0), -1);
        assert_eq!(seq_diff(10, 3), 7);
    }
}
