//! The duplicate-detection cache (RFC 5176 §2.3, RFC 5080 §2.2.2): requests by source,
//! Identifier and Request Authenticator, each awaiting its answer or holding it for
//! retransmissions. Bounded; expired answers go first, then the oldest answered ones; an entry
//! awaiting its answer is never evicted (the caller still owes it).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// What makes two datagrams the same request.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) struct DupKey {
    pub source: SocketAddr,
    pub identifier: u8,
    pub authenticator: [u8; 16],
}

#[derive(Debug)]
enum Slot {
    Pending,
    Answered { reply: Vec<u8>, expires: Instant },
}

#[derive(Debug)]
struct Entry {
    /// Arrival order, for evicting the oldest.
    seq: u64,
    slot: Slot,
}

pub(super) enum Lookup {
    Absent,
    Pending,
    Answered(Vec<u8>),
}

#[derive(Debug)]
pub(super) struct Cache {
    entries: HashMap<DupKey, Entry>,
    capacity: usize,
    window: Duration,
    next_seq: u64,
}

impl Cache {
    pub fn new(capacity: usize, window: Duration) -> Self {
        Cache {
            entries: HashMap::new(),
            capacity,
            window,
            next_seq: 0,
        }
    }

    pub fn lookup(&mut self, now: Instant, key: &DupKey) -> Lookup {
        match self.entries.get(key).map(|e| &e.slot) {
            None => Lookup::Absent,
            Some(Slot::Pending) => Lookup::Pending,
            Some(Slot::Answered { expires, .. }) if *expires <= now => {
                self.entries.remove(key);
                Lookup::Absent
            }
            Some(Slot::Answered { reply, .. }) => Lookup::Answered(reply.clone()),
        }
    }

    /// Remember a new request as awaiting its answer; false if every entry awaits one.
    pub fn insert_pending(&mut self, now: Instant, key: DupKey) -> bool {
        if self.entries.len() >= self.capacity {
            self.entries
                .retain(|_, e| !matches!(e.slot, Slot::Answered { expires, .. } if expires <= now));
        }
        if self.entries.len() >= self.capacity {
            let oldest = self
                .entries
                .iter()
                .filter(|(_, e)| matches!(e.slot, Slot::Answered { .. }))
                .min_by_key(|(_, e)| e.seq)
                .map(|(k, _)| k.clone());
            match oldest {
                Some(k) => {
                    self.entries.remove(&k);
                }
                None => return false,
            }
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        self.entries.insert(
            key,
            Entry {
                seq,
                slot: Slot::Pending,
            },
        );
        true
    }

    /// Record the answer of a pending request.
    pub fn answer(&mut self, now: Instant, key: &DupKey, reply: Vec<u8>) {
        if let Some(entry) = self.entries.get_mut(key) {
            entry.slot = Slot::Answered {
                reply,
                expires: now + self.window,
            };
        }
    }

    pub fn forget(&mut self, key: &DupKey) {
        self.entries.remove(key);
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.entries.len()
    }
}
