//! Deterministic randomness for magic numbers, identifiers and CHAP challenges.
//!
//! The engine reads no clock and no OS randomness (sans-IO). The owner passes a seed from the
//! OS CSPRNG (`getrandom`) when it creates a session; values are then MD5(seed ‖ counter),
//! which is unpredictable to a peer that does not know the seed and reproducible in tests.

use md5::{Digest, Md5};

/// MD5 in counter mode over a secret seed.
#[derive(Debug, Clone)]
pub struct Entropy {
    seed: [u8; 16],
    counter: u64,
}

impl Entropy {
    /// A generator from a 16-byte secret seed.
    pub fn new(seed: [u8; 16]) -> Self {
        Entropy { seed, counter: 0 }
    }

    /// The next 16 pseudo-random bytes.
    pub fn next_block(&mut self) -> [u8; 16] {
        let mut h = Md5::new();
        h.update(self.seed);
        h.update(self.counter.to_be_bytes());
        self.counter = self.counter.wrapping_add(1);
        h.finalize().into()
    }

    /// A non-zero 32-bit value (Magic-Number must not be zero, RFC 1661 §6.4).
    pub fn next_nonzero_u32(&mut self) -> u32 {
        loop {
            let b = self.next_block();
            let v = u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
            if v != 0 {
                return v;
            }
        }
    }

    /// One byte.
    pub fn next_u8(&mut self) -> u8 {
        self.next_block()[0]
    }
}
