//! PAP packets (RFC 1334 §2.2).

use crate::error::DecodeError;
use crate::packet::{encode_packet, RawPacket};

/// PAP codes.
pub mod code {
    /// Authenticate-Request.
    pub const REQUEST: u8 = 1;
    /// Authenticate-Ack.
    pub const ACK: u8 = 2;
    /// Authenticate-Nak.
    pub const NAK: u8 = 3;
}

/// A PAP packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PapPacket {
    /// Authenticate-Request.
    Request {
        /// Identifier.
        id: u8,
        /// Peer-ID (user name).
        peer_id: Vec<u8>,
        /// Password.
        password: Vec<u8>,
    },
    /// Authenticate-Ack.
    Ack {
        /// Identifier.
        id: u8,
        /// Message.
        message: Vec<u8>,
    },
    /// Authenticate-Nak.
    Nak {
        /// Identifier.
        id: u8,
        /// Message.
        message: Vec<u8>,
    },
    /// Unknown code (RFC 1334 has no Code-Reject: silently dropped by the engine).
    Other {
        /// Code.
        code: u8,
        /// Identifier.
        id: u8,
        /// Data.
        data: Vec<u8>,
    },
}

fn length_prefixed<'a>(
    what: &'static str,
    data: &'a [u8],
) -> Result<(&'a [u8], &'a [u8]), DecodeError> {
    let (&len, rest) = data.split_first().ok_or(DecodeError::Truncated {
        what,
        needed: 1,
        available: 0,
    })?;
    let len = usize::from(len);
    if rest.len() < len {
        return Err(DecodeError::BadLength {
            what,
            length: len,
            available: rest.len(),
        });
    }
    Ok(rest.split_at(len))
}

impl PapPacket {
    /// Decodes a PAP packet.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let raw = RawPacket::decode(bytes)?;
        let id = raw.id;
        Ok(match raw.code {
            code::REQUEST => {
                let (peer_id, rest) = length_prefixed("PAP Peer-ID", raw.data)?;
                let (password, _) = length_prefixed("PAP Password", rest)?;
                PapPacket::Request {
                    id,
                    peer_id: peer_id.to_vec(),
                    password: password.to_vec(),
                }
            }
            code::ACK | code::NAK => {
                // Some implementations omit the Msg-Length octet: accept an empty body.
                let message = if raw.data.is_empty() {
                    &[][..]
                } else {
                    length_prefixed("PAP Message", raw.data)?.0
                };
                let message = message.to_vec();
                if raw.code == code::ACK {
                    PapPacket::Ack { id, message }
                } else {
                    PapPacket::Nak { id, message }
                }
            }
            c => PapPacket::Other {
                code: c,
                id,
                data: raw.data.to_vec(),
            },
        })
    }

    /// Encodes the packet (fields longer than 255 bytes are truncated to fit their length
    /// octet).
    pub fn encode(&self) -> Vec<u8> {
        let cut = |b: &[u8]| b[..b.len().min(255)].to_vec();
        match self {
            PapPacket::Request {
                id,
                peer_id,
                password,
            } => {
                let (p, w) = (cut(peer_id), cut(password));
                encode_packet(
                    code::REQUEST,
                    *id,
                    &[&[p.len() as u8], &p, &[w.len() as u8], &w],
                )
            }
            PapPacket::Ack { id, message } | PapPacket::Nak { id, message } => {
                let c = if matches!(self, PapPacket::Ack { .. }) {
                    code::ACK
                } else {
                    code::NAK
                };
                let m = cut(message);
                encode_packet(c, *id, &[&[m.len() as u8], &m])
            }
            PapPacket::Other { code, id, data } => encode_packet(*code, *id, &[data]),
        }
    }
}
