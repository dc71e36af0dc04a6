//! Packets a throttled session's token bucket held back ([`lns_dataplane::policy::Admit::Later`]),
//! kept in release order and sent when their time comes: the loop wakes for the first of them.
//! The bucket bounds how many one session may have here (`throttle_queue` each way); the
//! whole store is bounded too, so that many saturated throttled sessions cannot grow it
//! without limit: past [`MAX_HELD`] a packet is dropped and counted.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::net::SocketAddrV4;

/// At most this many packets held at once (about 200 MB of full-size packets).
pub const MAX_HELD: usize = 131_072;

/// Where a held packet goes.
#[derive(Debug)]
pub enum Out {
    /// An L2TP datagram to the session's LAC, from bind socket `socket`.
    Peer {
        socket: u16,
        peer: SocketAddrV4,
        datagram: Vec<u8>,
    },
    /// An IP packet from the user, to the TUN device.
    Tun(Vec<u8>),
}

#[derive(Debug)]
struct Held {
    at_us: u64,
    /// Arrival order: packets due at the same µs leave in it.
    seq: u64,
    out: Out,
}

impl PartialEq for Held {
    fn eq(&self, other: &Self) -> bool {
        (self.at_us, self.seq) == (other.at_us, other.seq)
    }
}
impl Eq for Held {}
impl PartialOrd for Held {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Held {
    /// Reversed: `BinaryHeap` is a max-heap and the earliest must come out first.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.at_us, other.seq).cmp(&(self.at_us, self.seq))
    }
}

/// The held packets of every session.
#[derive(Debug, Default)]
pub struct HeldPackets {
    heap: BinaryHeap<Held>,
    seq: u64,
}

impl HeldPackets {
    /// Keeps `out` until `at_us`; `false` (the packet is lost) when the store is full.
    pub fn hold(&mut self, at_us: u64, out: Out) -> bool {
        if self.heap.len() >= MAX_HELD {
            return false;
        }
        self.seq += 1;
        self.heap.push(Held {
            at_us,
            seq: self.seq,
            out,
        });
        true
    }

    /// When the first held packet is due.
    pub fn next_due(&self) -> Option<u64> {
        self.heap.peek().map(|h| h.at_us)
    }

    /// The next packet due at or before `now_us`.
    pub fn pop_due(&mut self, now_us: u64) -> Option<Out> {
        if self.next_due()? > now_us {
            return None;
        }
        self.heap.pop().map(|h| h.out)
    }

    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tun(byte: u8) -> Out {
        Out::Tun(vec![byte])
    }
    fn byte(o: Out) -> u8 {
        match o {
            Out::Tun(v) => v[0],
            Out::Peer { .. } => unreachable!(),
        }
    }

    #[test]
    fn packets_leave_in_time_order_then_arrival_order() {
        let mut h = HeldPackets::default();
        assert!(h.hold(300, tun(3)));
        assert!(h.hold(100, tun(1)));
        assert!(h.hold(300, tun(4)));
        assert!(h.hold(200, tun(2)));
        assert_eq!(h.next_due(), Some(100));
        assert!(h.pop_due(99).is_none());
        let due: Vec<u8> = std::iter::from_fn(|| h.pop_due(300)).map(byte).collect();
        assert_eq!(due, [1, 2, 3, 4]);
        assert!(h.is_empty() && h.next_due().is_none());
    }

    #[test]
    fn the_store_is_bounded() {
        let mut h = HeldPackets::default();
        for i in 0..MAX_HELD {
            assert!(h.hold(i as u64, Out::Tun(Vec::new())));
        }
        assert!(!h.hold(0, Out::Tun(Vec::new())));
        assert_eq!(h.heap.len(), MAX_HELD);
    }
}
