//! Zero-copy, validated view of a received RADIUS datagram (RFC 2865 §3, §5).
//!
//! [`RawPacket::parse`] checks the header and the framing of every attribute once, so the
//! attribute iterator afterwards cannot fail. Nothing here allocates: the client uses this view
//! to match and authenticate replies before anything is copied.

use crate::{Code, HEADER_LEN, MAX_PACKET_LEN};

/// Why a datagram is not a well-formed RADIUS packet.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("datagram is {0} bytes, shorter than the 20-byte RADIUS header")]
    TooShort(usize),
    #[error("Length field {0} is outside 20..=4096 (RFC 2865 §3)")]
    BadLength(u16),
    #[error("Length field {length} exceeds the {received} bytes received")]
    Truncated { length: u16, received: usize },
    #[error("unknown packet code {0}")]
    UnknownCode(u8),
    #[error("attribute at offset {offset} has length {length}, below the minimum of 2")]
    AttributeTooShort { offset: usize, length: u8 },
    #[error("attribute type {typ} at offset {offset} runs past the end of the packet")]
    AttributeOverrun { offset: usize, typ: u8 },
}

/// A received packet whose header and attribute framing have been validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawPacket<'a> {
    /// The packet, trimmed to its Length field (RFC 2865 §3: octets past Length are padding).
    bytes: &'a [u8],
    code: Code,
}

/// One attribute as it appears on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawAttribute<'a> {
    pub typ: u8,
    pub value: &'a [u8],
    /// Offset of the attribute's Type octet from the start of the packet.
    pub offset: usize,
}

impl<'a> RawPacket<'a> {
    /// Validate `datagram` as a RADIUS packet. Never panics, whatever the input.
    pub fn parse(datagram: &'a [u8]) -> Result<Self, DecodeError> {
        if datagram.len() < HEADER_LEN {
            return Err(DecodeError::TooShort(datagram.len()));
        }
        let length = u16::from_be_bytes([datagram[2], datagram[3]]);
        if usize::from(length) < HEADER_LEN || usize::from(length) > MAX_PACKET_LEN {
            return Err(DecodeError::BadLength(length));
        }
        if usize::from(length) > datagram.len() {
            return Err(DecodeError::Truncated {
                length,
                received: datagram.len(),
            });
        }
        let code = Code::from_u8(datagram[0]).ok_or(DecodeError::UnknownCode(datagram[0]))?;
        let bytes = &datagram[..usize::from(length)];
        let mut offset = HEADER_LEN;
        while offset < bytes.len() {
            let typ = bytes[offset];
            let Some(&len) = bytes.get(offset + 1) else {
                return Err(DecodeError::AttributeOverrun { offset, typ });
            };
            if len < 2 {
                return Err(DecodeError::AttributeTooShort {
                    offset,
                    length: len,
                });
            }
            if offset + usize::from(len) > bytes.len() {
                return Err(DecodeError::AttributeOverrun { offset, typ });
            }
            offset += usize::from(len);
        }
        Ok(RawPacket { bytes, code })
    }

    pub fn code(&self) -> Code {
        self.code
    }

    pub fn identifier(&self) -> u8 {
        self.bytes[1]
    }

    /// The Authenticator field (request or response authenticator depending on the code).
    pub fn authenticator(&self) -> &'a [u8; 16] {
        self.bytes[4..HEADER_LEN]
            .try_into()
            .expect("length checked in parse")
    }

    /// The packet bytes up to its Length field.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// The attributes in wire order.
    pub fn attributes(&self) -> RawAttributes<'a> {
        RawAttributes {
            bytes: self.bytes,
            offset: HEADER_LEN,
        }
    }

    /// The value of the first attribute of type `typ`.
    pub fn find(&self, typ: u8) -> Option<&'a [u8]> {
        self.attributes().find(|a| a.typ == typ).map(|a| a.value)
    }
}

/// Iterator over the attributes of a [`RawPacket`].
#[derive(Debug, Clone)]
pub struct RawAttributes<'a> {
    bytes: &'a [u8],
    offset: usize,
}

impl<'a> Iterator for RawAttributes<'a> {
    type Item = RawAttribute<'a>;

    fn next(&mut self) -> Option<Self::Item> {
        // Framing was validated by RawPacket::parse; `get` keeps this panic-free regardless.
        let offset = self.offset;
        let typ = *self.bytes.get(offset)?;
        let len = usize::from(*self.bytes.get(offset + 1)?);
        let value = self.bytes.get(offset + 2..offset + len)?;
        self.offset += len;
        Some(RawAttribute { typ, value, offset })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(code: u8, len: u16) -> Vec<u8> {
        let mut p = vec![code, 7];
        p.extend_from_slice(&len.to_be_bytes());
        p.extend_from_slice(&[0xaa; 16]);
        p
    }

    #[test]
    fn rejects_short_and_inconsistent_lengths() {
        assert_eq!(RawPacket::parse(&[1; 19]), Err(DecodeError::TooShort(19)));
        assert_eq!(
            RawPacket::parse(&header(1, 19)),
            Err(DecodeError::BadLength(19))
        );
        assert_eq!(
            RawPacket::parse(&header(1, 4097)),
            Err(DecodeError::BadLength(4097))
        );
        assert_eq!(
            RawPacket::parse(&header(1, 21)),
            Err(DecodeError::Truncated {
                length: 21,
                received: 20
            })
        );
        assert_eq!(
            RawPacket::parse(&header(99, 20)),
            Err(DecodeError::UnknownCode(99))
        );
    }

    #[test]
    fn rejects_bad_attribute_framing() {
        let mut p = header(1, 22);
        p.extend_from_slice(&[1, 1]);
        assert_eq!(
            RawPacket::parse(&p),
            Err(DecodeError::AttributeTooShort {
                offset: 20,
                length: 1
            })
        );
        let mut p = header(1, 23);
        p.extend_from_slice(&[1, 4, 0]);
        assert_eq!(
            RawPacket::parse(&p),
            Err(DecodeError::AttributeOverrun { offset: 20, typ: 1 })
        );
        let mut p = header(1, 21);
        p.push(5);
        assert_eq!(
            RawPacket::parse(&p),
            Err(DecodeError::AttributeOverrun { offset: 20, typ: 5 })
        );
    }

    #[test]
    fn trailing_padding_past_length_is_ignored() {
        let mut p = header(2, 26);
        p.extend_from_slice(&[27, 6, 0, 0, 0, 60]);
        p.extend_from_slice(&[0xff; 9]);
        let raw = RawPacket::parse(&p).unwrap();
        assert_eq!(raw.as_bytes().len(), 26);
        let attrs: Vec<_> = raw.attributes().collect();
        assert_eq!(attrs.len(), 1);
        assert_eq!(attrs[0].typ, 27);
        assert_eq!(attrs[0].value, &[0, 0, 0, 60]);
        assert_eq!(raw.find(27), Some(&[0u8, 0, 0, 60][..]));
        assert_eq!(raw.identifier(), 7);
        assert_eq!(raw.authenticator(), &[0xaa; 16]);
    }
}
