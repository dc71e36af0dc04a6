//! Internet checksum arithmetic (RFC 1071) and incremental update (RFC 1624).
//!
//! Words are read and written in memory order (`from_ne_bytes`/`to_ne_bytes`), exactly like the
//! kernel's `__wsum`/`__sum16`: a one's-complement sum is independent of byte order (RFC 1071
//! §2(B)), and `skb->csum` is a native-order sum, so this is what keeps it consistent.

/// One's-complement addition of two 32-bit partial sums (end-around carry), like `csum_add()`.
pub fn add(a: u32, b: u32) -> u32 {
    let (sum, carry) = a.overflowing_add(b);
    sum.wrapping_add(u32::from(carry))
}

/// Fold a 32-bit partial sum to 16 bits, without complementing (`~csum_fold()` in the kernel).
pub fn fold(sum: u32) -> u16 {
    let s = (sum & 0xffff) + (sum >> 16);
    let s = (s & 0xffff) + (s >> 16);
    s as u16
}

/// The 16-bit word at `off` in memory order, `None` if it is not inside `buf`.
///
/// Every access of the rewrite goes through `get`/`get_mut` like this one: code compiled into
/// the kernel module must have no panicking path (no slice indexing, no overflow checks),
/// which objtool also rejects as code falling through into the next function.
pub fn get_word(buf: &[u8], off: usize) -> Option<u16> {
    match buf.get(off..off.checked_add(2)?)? {
        &[a, b] => Some(u16::from_ne_bytes([a, b])),
        _ => None,
    }
}

/// Write the 16-bit word at `off` in memory order; `None` (nothing written) if it is not
/// inside `buf`.
pub fn put_word(buf: &mut [u8], off: usize, value: u16) -> Option<()> {
    match buf.get_mut(off..off.checked_add(2)?)? {
        [a, b] => {
            [*a, *b] = value.to_ne_bytes();
            Some(())
        }
        _ => None,
    }
}

/// Read the 16-bit word at `off` in memory order. The caller has checked the bounds; a word
/// outside `buf` reads as 0 (never a panic).
pub fn word(buf: &[u8], off: usize) -> u16 {
    get_word(buf, off).unwrap_or(0)
}

/// Write the 16-bit word at `off` in memory order. The caller has checked the bounds; a word
/// outside `buf` is not written (never a panic).
pub fn set_word(buf: &mut [u8], off: usize, value: u16) {
    let _ = put_word(buf, off, value);
}

/// The one's-complement difference between old and new contents of some 16-bit words:
/// `sum(~old) + sum(new)`, the `m` to `m'` term of RFC 1624 eqn. 3.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Delta(u32);

impl Delta {
    /// No change.
    pub const ZERO: Delta = Delta(0);

    /// Account for one word changing from `old` to `new`.
    pub fn replace(self, old: u16, new: u16) -> Delta {
        Delta(add(add(self.0, u32::from(!old)), u32::from(new)))
    }

    /// Account for a run of bytes (even length) changing from `old` to `new`.
    /// Stops at the shorter of the two; an odd trailing byte is ignored. A plain loop over
    /// `get_word` rather than `chunks_exact().zip()`, whose monomorphs left panicking paths in
    /// the kernel object.
    pub fn replace_bytes(self, old: &[u8], new: &[u8]) -> Delta {
        let mut d = self;
        let mut off = 0usize;
        while let (Some(o), Some(n)) = (get_word(old, off), get_word(new, off)) {
            d = d.replace(o, n);
            // Cannot wrap: `off + 2` is inside both slices here.
            off = off.wrapping_add(2);
        }
        d
    }

    /// Combine two deltas.
    pub fn plus(self, other: Delta) -> Delta {
        Delta(add(self.0, other.0))
    }

    /// The raw 32-bit partial sum.
    pub fn sum(self) -> u32 {
        self.0
    }
}

/// New value of a finished (complemented) checksum field after the covered data changed by
/// `delta`: RFC 1624 eqn. 3, `HC' = ~(~HC + ~m + m')`, which is what `csum_replace4()` does.
/// For data that is not all zero this gives exactly the value a full recomputation gives.
pub fn replace_checksum(check: u16, delta: Delta) -> u16 {
    !fold(add(u32::from(!check), delta.sum()))
}

/// New value of a `CHECKSUM_PARTIAL` seed (the uncomplemented pseudo-header sum the device or
/// `skb_checksum_help()` finishes later) after pseudo-header data changed by `delta`.
pub fn replace_seed(seed: u16, delta: Delta) -> u16 {
    fold(add(u32::from(seed), delta.sum()))
}

/// New `skb->csum` for `CHECKSUM_COMPLETE` after the bytes it covers changed by `delta`.
pub fn replace_complete(csum: u32, delta: Delta) -> u32 {
    add(csum, delta.sum())
}

/// One's-complement sum of `buf` in memory order, odd trailing byte padded with zero
/// (`csum_partial()` without the seed).
pub fn sum_bytes(buf: &[u8]) -> u32 {
    let mut acc = 0u32;
    let mut off = 0usize;
    while let Some(w) = get_word(buf, off) {
        acc = add(acc, u32::from(w));
        // Cannot wrap: `off + 2` is inside `buf` here.
        off = off.wrapping_add(2);
    }
    if let Some(&last) = buf.get(off) {
        acc = add(acc, u32::from(u16::from_ne_bytes([last, 0])));
    }
    acc
}
