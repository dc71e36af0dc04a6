//! Attribute value data types (RFC 8044) and their wire encodings.
//!
//! Each type implements [`AttrValue`]: `decode` returns `None` when the octets are not a valid
//! encoding of the type (the attribute then becomes [`crate::Attribute::Malformed`], which is the
//! "invalid attribute" handling of RFC 6929 §2.8), `encode` fails only for values that cannot be
//! represented on the wire.

use std::net::{Ipv4Addr, Ipv6Addr};

/// Largest attribute value: the Length octet covers Type and Length too (RFC 2865 §5).
pub const MAX_VALUE_LEN: usize = 253;

/// Why a value cannot be encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    #[error("attribute type {typ}: value of {len} bytes exceeds the 253-byte maximum")]
    AttributeTooLong { typ: u8, len: usize },
    #[error("attribute type {typ}: {reason}")]
    InvalidValue { typ: u8, reason: &'static str },
    #[error("packet of {0} bytes exceeds the 4096-byte maximum (RFC 2865 §3)")]
    PacketTooLong(usize),
}

/// A value type with a wire encoding.
pub trait AttrValue: Sized {
    fn decode(value: &[u8]) -> Option<Self>;
    /// Append the encoding; `Err` carries a reason for [`EncodeError::InvalidValue`].
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), &'static str>;
}

/// `string`/`text` (RFC 8044 §3.4-3.5). Kept as octets: text is UTF-8 by recommendation only,
/// and the decoder must be lossless for whatever a server sends.
impl AttrValue for Vec<u8> {
    fn decode(value: &[u8]) -> Option<Self> {
        Some(value.to_vec())
    }
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), &'static str> {
        out.extend_from_slice(self);
        Ok(())
    }
}

/// `integer` (RFC 8044 §3.1): 32-bit unsigned, network order.
impl AttrValue for u32 {
    fn decode(value: &[u8]) -> Option<Self> {
        Some(u32::from_be_bytes(value.try_into().ok()?))
    }
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), &'static str> {
        out.extend_from_slice(&self.to_be_bytes());
        Ok(())
    }
}

/// `ipv4addr` (RFC 8044 §3.8).
impl AttrValue for Ipv4Addr {
    fn decode(value: &[u8]) -> Option<Self> {
        let octets: [u8; 4] = value.try_into().ok()?;
        Some(Ipv4Addr::from(octets))
    }
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), &'static str> {
        out.extend_from_slice(&self.octets());
        Ok(())
    }
}

/// `ipv6addr` (RFC 8044 §3.9).
impl AttrValue for Ipv6Addr {
    fn decode(value: &[u8]) -> Option<Self> {
        let octets: [u8; 16] = value.try_into().ok()?;
        Some(Ipv6Addr::from(octets))
    }
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), &'static str> {
        out.extend_from_slice(&self.octets());
        Ok(())
    }
}

/// Fixed-size octets: Message-Authenticator (16), Framed-Interface-Id (8, `ifid`).
impl<const N: usize> AttrValue for [u8; N] {
    fn decode(value: &[u8]) -> Option<Self> {
        value.try_into().ok()
    }
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), &'static str> {
        out.extend_from_slice(self);
        Ok(())
    }
}

/// CHAP-Password (RFC 2865 §5.3): the PPP CHAP Identifier and the 16-octet MD5 response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChapPassword {
    pub ident: u8,
    pub response: [u8; 16],
}

impl AttrValue for ChapPassword {
    fn decode(value: &[u8]) -> Option<Self> {
        let (&ident, response) = value.split_first()?;
        Some(ChapPassword {
            ident,
            response: response.try_into().ok()?,
        })
    }
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), &'static str> {
        out.push(self.ident);
        out.extend_from_slice(&self.response);
        Ok(())
    }
}

/// `ipv6prefix` (RFC 3162 §2.3, RFC 8044 §3.10): Framed-IPv6-Prefix, Delegated-IPv6-Prefix.
///
/// Bits past `len` must be zero; a prefix violating that is treated as malformed rather than
/// silently masked, so a decoded value always re-encodes to the same meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv6Prefix {
    pub len: u8,
    pub prefix: Ipv6Addr,
}

impl Ipv6Prefix {
    fn significant_octets(len: u8) -> usize {
        usize::from(len).div_ceil(8)
    }

    fn host_bits_are_zero(&self) -> bool {
        let bits = u128::from(self.prefix);
        let mask = if self.len == 0 {
            0
        } else {
            u128::MAX << (128 - u32::from(self.len))
        };
        bits & !mask == 0
    }
}

impl AttrValue for Ipv6Prefix {
    fn decode(value: &[u8]) -> Option<Self> {
        let [reserved, len, prefix @ ..] = value else {
            return None;
        };
        if *reserved != 0 || *len > 128 || prefix.len() > 16 {
            return None;
        }
        if prefix.len() < Self::significant_octets(*len) {
            return None;
        }
        let mut octets = [0u8; 16];
        octets[..prefix.len()].copy_from_slice(prefix);
        let p = Ipv6Prefix {
            len: *len,
            prefix: Ipv6Addr::from(octets),
        };
        p.host_bits_are_zero().then_some(p)
    }
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), &'static str> {
        if self.len > 128 {
            return Err("IPv6 prefix length above 128");
        }
        if !self.host_bits_are_zero() {
            return Err("IPv6 prefix has bits set past its length");
        }
        out.extend_from_slice(&[0, self.len]);
        out.extend_from_slice(&self.prefix.octets()[..Self::significant_octets(self.len)]);
        Ok(())
    }
}

/// Highest tag value (RFC 2868 §3.1: tags 0x01-0x1F group attributes by tunnel).
pub const MAX_TAG: u8 = 0x1f;

/// Tagged integer (RFC 2868 §3.1 Tunnel-Type, §3.2 Tunnel-Medium-Type): tag + 24-bit value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaggedInt {
    pub tag: u8,
    pub value: u32,
}

impl AttrValue for TaggedInt {
    fn decode(value: &[u8]) -> Option<Self> {
        let [tag, a, b, c] = *value else { return None };
        (tag <= MAX_TAG).then_some(TaggedInt {
            tag,
            value: u32::from_be_bytes([0, a, b, c]),
        })
    }
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), &'static str> {
        if self.tag > MAX_TAG {
            return Err("tag above 0x1F");
        }
        if self.value > 0x00ff_ffff {
            return Err("tagged integer above 24 bits");
        }
        out.push(self.tag);
        out.extend_from_slice(&self.value.to_be_bytes()[1..]);
        Ok(())
    }
}

/// Tagged string (RFC 2868 §3.3 and following): an optional tag octet in 0x00..=0x1F.
///
/// RFC 2868: a first octet above 0x1F is the first octet of the string, not a tag. Encoding
/// `tag: None` with a string whose first octet is ≤ 0x1F would be read back as a tag, so the
/// encoder then writes a 0x00 tag to keep the string intact (it decodes as `Some(0)`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaggedText {
    pub tag: Option<u8>,
    pub value: Vec<u8>,
}

impl AttrValue for TaggedText {
    fn decode(value: &[u8]) -> Option<Self> {
        Some(match value.split_first() {
            Some((&tag, rest)) if tag <= MAX_TAG => TaggedText {
                tag: Some(tag),
                value: rest.to_vec(),
            },
            _ => TaggedText {
                tag: None,
                value: value.to_vec(),
            },
        })
    }
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), &'static str> {
        match self.tag {
            Some(tag) if tag > MAX_TAG => return Err("tag above 0x1F"),
            Some(tag) => out.push(tag),
            None if self.value.first().is_some_and(|&b| b <= MAX_TAG) => out.push(0),
            None => {}
        }
        out.extend_from_slice(&self.value);
        Ok(())
    }
}

/// Tunnel-Password value (RFC 2868 §3.5): tag, salt, and the encrypted string, as on the
/// wire. See [`crate::unhide_tunnel_password`] to read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TunnelPassword {
    pub tag: u8,
    /// Its most significant bit is set by the sender (RFC 2868 §3.5).
    pub salt: [u8; 2],
    /// A multiple of 16 octets, at least 16.
    pub encrypted: Vec<u8>,
}

impl AttrValue for TunnelPassword {
    fn decode(value: &[u8]) -> Option<Self> {
        let [tag, s0, s1, encrypted @ ..] = value else {
            return None;
        };
        let well_formed = *tag <= MAX_TAG && !encrypted.is_empty() && encrypted.len() % 16 == 0;
        well_formed.then(|| TunnelPassword {
            tag: *tag,
            salt: [*s0, *s1],
            encrypted: encrypted.to_vec(),
        })
    }
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), &'static str> {
        if self.tag > MAX_TAG {
            return Err("tag above 0x1F");
        }
        if self.encrypted.is_empty() || self.encrypted.len() % 16 != 0 {
            return Err("Tunnel-Password string must be a non-empty multiple of 16 octets");
        }
        out.push(self.tag);
        out.extend_from_slice(&self.salt);
        out.extend_from_slice(&self.encrypted);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc<T: AttrValue>(v: &T) -> Vec<u8> {
        let mut out = Vec::new();
        v.encode(&mut out).unwrap();
        out
    }

    #[test]
    fn ipv6_prefix_uses_only_significant_octets_and_rejects_host_bits() {
        let p = Ipv6Prefix {
            len: 56,
            prefix: "2001:db8:0:ab00::".parse().unwrap(),
        };
        let wire = enc(&p);
        assert_eq!(wire, [0, 56, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0xab]);
        assert_eq!(Ipv6Prefix::decode(&wire), Some(p));
        // A full 16-octet encoding of the same prefix is accepted too (RFC 3162 senders).
        let mut full = vec![0, 56];
        full.extend_from_slice(&p.prefix.octets());
        assert_eq!(Ipv6Prefix::decode(&full), Some(p));
        // Host bits set past /56: invalid.
        assert_eq!(
            Ipv6Prefix::decode(&[0, 56, 0x20, 1, 0xd, 0xb8, 0, 0, 0xab, 1]),
            None
        );
        assert_eq!(Ipv6Prefix::decode(&[0, 129]), None);
        assert_eq!(Ipv6Prefix::decode(&[0, 64, 0x20]), None);
    }

    #[test]
    fn tagged_values_follow_rfc_2868() {
        assert_eq!(
            enc(&TaggedInt { tag: 1, value: 3 }),
            [1, 0, 0, 3],
            "Tunnel-Type:1 = L2TP"
        );
        assert_eq!(TaggedInt::decode(&[0x20, 0, 0, 3]), None);
        assert_eq!(
            TaggedText::decode(b"\x02lns.example"),
            Some(TaggedText {
                tag: Some(2),
                value: b"lns.example".to_vec()
            })
        );
        assert_eq!(
            TaggedText::decode(b"lns"),
            Some(TaggedText {
                tag: None,
                value: b"lns".to_vec()
            })
        );
        let ambiguous = TaggedText {
            tag: None,
            value: vec![0x05, b'x'],
        };
        assert_eq!(enc(&ambiguous), [0, 5, b'x']);
    }
}
