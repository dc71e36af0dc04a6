//! Owned, typed RADIUS packets: decode and encode (RFC 2865 §3).
//!
//! Encoding here writes the Authenticator field as given; filling in computed authenticators
//! and Message-Authenticator is [`crate::auth::sign`]'s job ([`Packet::encode_signed`] does
//! both).

use crate::attribute::Attribute;
use crate::auth::{self, SignError};
use crate::value::EncodeError;
use crate::wire::{DecodeError, RawPacket};
use crate::{Code, HEADER_LEN, MAX_PACKET_LEN};

/// A RADIUS packet with typed attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet {
    pub code: Code,
    pub identifier: u8,
    /// Request or Response Authenticator, as on the wire.
    pub authenticator: [u8; 16],
    pub attributes: Vec<Attribute>,
}

impl Packet {
    /// A packet with no attributes and a zero authenticator.
    pub fn new(code: Code, identifier: u8) -> Self {
        Packet {
            code,
            identifier,
            authenticator: [0; 16],
            attributes: Vec::new(),
        }
    }

    /// Decode a datagram. Framing errors are returned; attribute values never fail (invalid
    /// ones become [`Attribute::Malformed`]). Authenticators are not checked here: see
    /// [`crate::auth::verify_response`] and [`crate::auth::verify_request`].
    pub fn decode(datagram: &[u8]) -> Result<Packet, DecodeError> {
        RawPacket::parse(datagram).map(|raw| Packet::from_raw(&raw))
    }

    /// Type the attributes of an already validated packet.
    pub fn from_raw(raw: &RawPacket<'_>) -> Packet {
        Packet {
            code: raw.code(),
            identifier: raw.identifier(),
            authenticator: *raw.authenticator(),
            attributes: raw
                .attributes()
                .map(|a| Attribute::decode(a.typ, a.value))
                .collect(),
        }
    }

    /// Encode as-is (the Authenticator field is written verbatim).
    pub fn encode(&self) -> Result<Vec<u8>, EncodeError> {
        let mut out = Vec::with_capacity(HEADER_LEN + 16 * self.attributes.len());
        self.encode_into(&mut out)?;
        Ok(out)
    }

    /// Append the encoding to `out` (which may hold other data before it).
    pub fn encode_into(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let start = out.len();
        out.extend_from_slice(&[self.code.to_u8(), self.identifier, 0, 0]);
        out.extend_from_slice(&self.authenticator);
        for attribute in &self.attributes {
            if let Err(e) = attribute.encode(out) {
                out.truncate(start);
                return Err(e);
            }
        }
        let len = out.len() - start;
        if len > MAX_PACKET_LEN {
            out.truncate(start);
            return Err(EncodeError::PacketTooLong(len));
        }
        out[start + 2..start + 4].copy_from_slice(&(len as u16).to_be_bytes());
        Ok(())
    }

    /// Encode and sign: computed authenticators and any Message-Authenticator attribute are
    /// filled in (its value in `self` is ignored). `request_authenticator` is required for
    /// replies: the authenticator of the request being answered.
    pub fn encode_signed(
        &self,
        secret: &[u8],
        request_authenticator: Option<&[u8; 16]>,
    ) -> Result<Vec<u8>, SignError> {
        let mut out = self.encode()?;
        auth::sign(&mut out, secret, request_authenticator)?;
        Ok(out)
    }

    /// The first attribute for which `f` returns `Some`.
    ///
    /// ```
    /// # use radius::{Attribute, Code, Packet};
    /// let mut p = Packet::new(Code::AccessAccept, 1);
    /// p.attributes.push(Attribute::SessionTimeout(3600));
    /// let t = p.find(|a| match a { Attribute::SessionTimeout(t) => Some(*t), _ => None });
    /// assert_eq!(t, Some(3600));
    /// ```
    pub fn find<'a, T>(&'a self, f: impl FnMut(&'a Attribute) -> Option<T>) -> Option<T> {
        self.attributes.iter().find_map(f)
    }

    /// The first attribute of wire type `typ`.
    pub fn get(&self, typ: u8) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.type_code() == typ)
    }

    /// True if any attribute failed to decode as its dictionary type.
    pub fn has_malformed_attribute(&self) -> bool {
        self.attributes
            .iter()
            .any(|a| matches!(a, Attribute::Malformed { .. }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packet_length_limit_is_enforced() {
        let mut p = Packet::new(Code::AccountingRequest, 1);
        // 16 × 255-byte attributes = 4080 + 20 header = 4100 > 4096.
        p.attributes = vec![Attribute::Class(vec![1; 253]); 16];
        assert_eq!(p.encode(), Err(EncodeError::PacketTooLong(4100)));
        p.attributes.pop();
        assert_eq!(p.encode().unwrap().len(), 20 + 15 * 255);
    }

    #[test]
    fn encode_into_appends_after_existing_bytes() {
        let mut p = Packet::new(Code::AccessReject, 9);
        p.attributes.push(Attribute::ReplyMessage(b"no".to_vec()));
        let mut out = vec![0xee];
        p.encode_into(&mut out).unwrap();
        assert_eq!(out[0], 0xee);
        assert_eq!(Packet::decode(&out[1..]).unwrap(), p);
    }
}
