//! Hidden AVP values (RFC 2661 §4.3).
//!
//! The plaintext is the 2-octet original length, the value, then optional padding. It is
//! XORed with an MD5 chain: `b1 = MD5(attribute type ‖ secret ‖ random vector)`,
//! `c1 = p1 ⊕ b1`, `b(i) = MD5(secret ‖ c(i-1))`. The last block may be shorter than 16.

use md5::{Digest, Md5};

/// Why a hidden value could not be recovered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum HiddenError {
    #[error("hidden value shorter than its 2-octet length field")]
    TooShort,
    #[error("hidden original length {original} exceeds the {available} bytes present")]
    BadOriginalLength { original: usize, available: usize },
}

fn xor_chain(attr: u16, secret: &[u8], random_vector: &[u8], data: &mut [u8], decrypt: bool) {
    let mut h = Md5::new();
    h.update(attr.to_be_bytes());
    h.update(secret);
    h.update(random_vector);
    let mut b: [u8; 16] = h.finalize().into();
    let mut chunks = data.chunks_mut(16).peekable();
    while let Some(chunk) = chunks.next() {
        // The next block key is MD5(secret ‖ ciphertext of this block).
        let mut next = Md5::new();
        next.update(secret);
        if decrypt {
            next.update(&*chunk);
        }
        for (p, k) in chunk.iter_mut().zip(b.iter()) {
            *p ^= k;
        }
        if !decrypt {
            next.update(&*chunk);
        }
        if chunks.peek().is_some() {
            b = next.finalize().into();
        }
    }
}

/// Append the hidden form of `value` (for AVP `attr`) to `out`, with `padding` extra
/// zero bytes hidden after the value (the RFC allows padding to conceal the length).
pub fn hide(
    attr: u16,
    secret: &[u8],
    random_vector: &[u8],
    value: &[u8],
    padding: usize,
    out: &mut Vec<u8>,
) {
    let start = out.len();
    out.extend_from_slice(&(value.len() as u16).to_be_bytes());
    out.extend_from_slice(value);
    out.resize(out.len() + padding, 0);
    xor_chain(attr, secret, random_vector, &mut out[start..], false);
}

/// Recover the value of a hidden AVP `attr`; the padding is discarded.
pub fn unhide(
    attr: u16,
    secret: &[u8],
    random_vector: &[u8],
    hidden: &[u8],
) -> Result<Vec<u8>, HiddenError> {
    if hidden.len() < 2 {
        return Err(HiddenError::TooShort);
    }
    let mut plain = hidden.to_vec();
    xor_chain(attr, secret, random_vector, &mut plain, true);
    let original = u16::from_be_bytes([plain[0], plain[1]]) as usize;
    if original > plain.len() - 2 {
        return Err(HiddenError::BadOriginalLength {
            original,
            available: plain.len() - 2,
        });
    }
    plain.truncate(2 + original);
    plain.drain(..2);
    Ok(plain)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_over_block_boundaries() {
        let rv = [7u8; 16];
        for len in [0, 1, 13, 14, 15, 16, 30, 31, 32, 33, 100] {
            for pad in [0, 5] {
                let value: Vec<u8> = (0..len as u8).collect();
                let mut out = Vec::new();
                hide(30, b"s3cr3t", &rv, &value, pad, &mut out);
                assert_eq!(out.len(), 2 + len + pad);
                assert_eq!(unhide(30, b"s3cr3t", &rv, &out).unwrap(), value);
                // The wrong attribute number keys a different chain.
                assert_ne!(unhide(31, b"s3cr3t", &rv, &out).ok(), Some(value.clone()));
            }
        }
    }

    #[test]
    fn first_block_is_md5_of_type_secret_vector() {
        let mut out = Vec::new();
        hide(0x1e, b"abc", b"RV", &[0; 14], 0, &mut out);
        let mut h = Md5::new();
        h.update([0, 0x1e]);
        h.update(b"abc");
        h.update(b"RV");
        let b1: [u8; 16] = h.finalize().into();
        // The plaintext starts with length 14 (0x000e) then zeros, so c1 = b1 ⊕ p1.
        assert_eq!(out[0], b1[0]);
        assert_eq!(out[1], b1[1] ^ 14);
        assert_eq!(&out[2..16], &b1[2..16]);
    }

    #[test]
    fn hostile_input() {
        assert_eq!(unhide(1, b"x", b"y", &[1]), Err(HiddenError::TooShort));
        // A truncated hidden value claims more bytes than it carries.
        let mut out = Vec::new();
        hide(1, b"x", b"y", b"ab", 0, &mut out);
        assert_eq!(
            unhide(1, b"x", b"y", &out[..3]),
            Err(HiddenError::BadOriginalLength {
                original: 2,
                available: 1
            })
        );
    }
}
