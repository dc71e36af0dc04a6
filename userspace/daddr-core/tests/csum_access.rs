//! The bounds-checked word access of `rewrite::csum` (the kernel module's code has no slice
//! indexing): in-range words behave as before, out-of-range ones are `None`/0/not written,
//! never a panic.

use daddr_core::rewrite::csum::{
    fold, get_word, put_word, replace_checksum, set_word, sum_bytes, word, Delta,
};

#[test]
fn words_inside_and_outside_the_buffer() {
    let buf = [0x12, 0x34, 0x56];
    assert_eq!(get_word(&buf, 0), Some(u16::from_ne_bytes([0x12, 0x34])));
    assert_eq!(get_word(&buf, 1), Some(u16::from_ne_bytes([0x34, 0x56])));
    assert_eq!(get_word(&buf, 2), None);
    assert_eq!(get_word(&buf, 3), None);
    assert_eq!(get_word(&buf, usize::MAX), None);
    assert_eq!(get_word(&[], 0), None);
    assert_eq!(word(&buf, 2), 0);
    assert_eq!(word(&buf, usize::MAX - 1), 0);
}

#[test]
fn writes_only_inside_the_buffer() {
    let mut buf = [0u8; 3];
    assert_eq!(
        put_word(&mut buf, 1, u16::from_ne_bytes([0xab, 0xcd])),
        Some(())
    );
    assert_eq!(buf, [0, 0xab, 0xcd]);
    assert_eq!(put_word(&mut buf, 2, 0xffff), None);
    assert_eq!(put_word(&mut buf, usize::MAX, 0xffff), None);
    set_word(&mut buf, 2, 0xffff);
    assert_eq!(buf, [0, 0xab, 0xcd], "nothing written out of range");
    set_word(&mut buf, 0, u16::from_ne_bytes([1, 2]));
    assert_eq!(buf, [1, 2, 0xcd]);
}

#[test]
fn sums_and_deltas_over_odd_lengths() {
    // RFC 1071 §3 example: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2 (big-endian words).
    let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
    assert_eq!(u16::from_be(fold(sum_bytes(&data))), 0xddf2);
    // An odd trailing byte is padded with zero.
    assert_eq!(sum_bytes(&[0xab]), u32::from(u16::from_ne_bytes([0xab, 0])));
    assert_eq!(sum_bytes(&[]), 0);
    // A delta over equal bytes is a no-op; over the shorter of two slices otherwise.
    let old = [1, 2, 3, 4];
    let new = [5, 6, 7, 8];
    let same = Delta::ZERO.replace_bytes(&old, &old);
    assert_eq!(replace_checksum(0x1234, same), 0x1234);
    assert_eq!(
        Delta::ZERO.replace_bytes(&old, &new[..2]),
        Delta::ZERO.replace(u16::from_ne_bytes([1, 2]), u16::from_ne_bytes([5, 6]))
    );
    assert_eq!(
        Delta::ZERO.replace_bytes(&old[..3], &new),
        Delta::ZERO.replace(u16::from_ne_bytes([1, 2]), u16::from_ne_bytes([5, 6]))
    );
}
