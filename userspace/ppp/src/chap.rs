//! CHAP packets and the MD5 response (RFC 1994 §4).

use md5::{Digest, Md5};

use crate::error::DecodeError;
use crate::packet::{encode_packet, RawPacket};

/// CHAP codes.
pub mod code {
    /// Challenge.
    pub const CHALLENGE: u8 = 1;
    /// Response.
    pub const RESPONSE: u8 = 2;
    /// Success.
    pub const SUCCESS: u8 = 3;
    /// Failure.
    pub const FAILURE: u8 = 4;
}

/// The CHAP-MD5 response value: MD5(Identifier ‖ secret ‖ challenge) (RFC 1994 §4.1).
pub fn md5_response(id: u8, secret: &[u8], challenge: &[u8]) -> [u8; 16] {
    let mut h = Md5::new();
    h.update([id]);
    h.update(secret);
    h.update(challenge);
    h.finalize().into()
}

/// A CHAP packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChapPacket {
    /// Challenge.
    Challenge {
        /// Identifier.
        id: u8,
        /// Challenge value.
        value: Vec<u8>,
        /// Authenticator's name.
        name: Vec<u8>,
    },
    /// Response.
    Response {
        /// Identifier (echoes the Challenge's).
        id: u8,
        /// Response value (16 bytes for MD5).
        value: Vec<u8>,
        /// Peer's name (the user name).
        name: Vec<u8>,
    },
    /// Success.
    Success {
        /// Identifier.
        id: u8,
        /// Message.
        message: Vec<u8>,
    },
    /// Failure.
    Failure {
        /// Identifier.
        id: u8,
        /// Message.
        message: Vec<u8>,
    },
    /// Unknown code (silently dropped by the engine).
    Other {
        /// Code.
        code: u8,
        /// Identifier.
        id: u8,
        /// Data.
        data: Vec<u8>,
    },
}

impl ChapPacket {
    /// Decodes a CHAP packet.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let raw = RawPacket::decode(bytes)?;
        let id = raw.id;
        let value_name = || -> Result<(Vec<u8>, Vec<u8>), DecodeError> {
            let (&size, rest) = raw.data.split_first().ok_or(DecodeError::Truncated {
                what: "CHAP Value-Size",
                needed: 5,
                available: 4,
            })?;
            let size = usize::from(size);
            if size == 0 || rest.len() < size {
                return Err(DecodeError::BadLength {
                    what: "CHAP Value",
                    length: size,
                    available: rest.len(),
                });
            }
            let (value, name) = rest.split_at(size);
            Ok((value.to_vec(), name.to_vec()))
        };
        Ok(match raw.code {
            code::CHALLENGE => {
                let (value, name) = value_name()?;
                ChapPacket::Challenge { id, value, name }
            }
            code::RESPONSE => {
                let (value, name) = value_name()?;
                ChapPacket::Response { id, value, name }
            }
            code::SUCCESS => ChapPacket::Success {
                id,
                message: raw.data.to_vec(),
            },
            code::FAILURE => ChapPacket::Failure {
                id,
                message: raw.data.to_vec(),
            },
            c => ChapPacket::Other {
                code: c,
                id,
                data: raw.data.to_vec(),
            },
        })
    }

    /// Encodes the packet (a value longer than 255 bytes is truncated).
    pub fn encode(&self) -> Vec<u8> {
        match self {
            ChapPacket::Challenge { id, value, name }
            | ChapPacket::Response { id, value, name } => {
                let c = if matches!(self, ChapPacket::Challenge { .. }) {
                    code::CHALLENGE
                } else {
                    code::RESPONSE
                };
                let v = &value[..value.len().min(255)];
                encode_packet(c, *id, &[&[v.len() as u8], v, name])
            }
            ChapPacket::Success { id, message } => encode_packet(code::SUCCESS, *id, &[message]),
            ChapPacket::Failure { id, message } => encode_packet(code::FAILURE, *id, &[message]),
            ChapPacket::Other { code, id, data } => encode_packet(*code, *id, &[data]),
        }
    }
}
