//! Control packets shared by LCP and the NCPs (RFC 1661 §5): Code, Identifier, Length, Data, and
//! configuration option lists (RFC 1661 §6: Type, Length, Data).

use crate::error::DecodeError;

/// Control packet codes (RFC 1661 §5; 12/13 are RFC 1570).
pub mod code {
    /// Configure-Request.
    pub const CONFIGURE_REQUEST: u8 = 1;
    /// Configure-Ack.
    pub const CONFIGURE_ACK: u8 = 2;
    /// Configure-Nak.
    pub const CONFIGURE_NAK: u8 = 3;
    /// Configure-Reject.
    pub const CONFIGURE_REJECT: u8 = 4;
    /// Terminate-Request.
    pub const TERMINATE_REQUEST: u8 = 5;
    /// Terminate-Ack.
    pub const TERMINATE_ACK: u8 = 6;
    /// Code-Reject.
    pub const CODE_REJECT: u8 = 7;
    /// Protocol-Reject (LCP only).
    pub const PROTOCOL_REJECT: u8 = 8;
    /// Echo-Request (LCP only).
    pub const ECHO_REQUEST: u8 = 9;
    /// Echo-Reply (LCP only).
    pub const ECHO_REPLY: u8 = 10;
    /// Discard-Request (LCP only).
    pub const DISCARD_REQUEST: u8 = 11;
    /// Identification (LCP only, RFC 1570).
    pub const IDENTIFICATION: u8 = 12;
    /// Time-Remaining (LCP only, RFC 1570).
    pub const TIME_REMAINING: u8 = 13;
}

/// A control packet header with its data, borrowed from the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawPacket<'a> {
    /// Code field.
    pub code: u8,
    /// Identifier field.
    pub id: u8,
    /// Data: the bytes after the 4-octet header up to Length (padding past Length is ignored,
    /// RFC 1661 §5).
    pub data: &'a [u8],
}

impl<'a> RawPacket<'a> {
    /// Decodes the header of a control packet.
    pub fn decode(bytes: &'a [u8]) -> Result<Self, DecodeError> {
        let [code, id, l0, l1, ..] = *bytes else {
            return Err(DecodeError::Truncated {
                what: "control packet header",
                needed: 4,
                available: bytes.len(),
            });
        };
        let length = usize::from(u16::from_be_bytes([l0, l1]));
        if length < 4 || length > bytes.len() {
            return Err(DecodeError::BadLength {
                what: "control packet",
                length,
                available: bytes.len(),
            });
        }
        Ok(RawPacket {
            code,
            id,
            data: &bytes[4..length],
        })
    }
}

/// Encodes a control packet with the given data parts concatenated.
pub fn encode_packet(code: u8, id: u8, parts: &[&[u8]]) -> Vec<u8> {
    let len = 4 + parts.iter().map(|p| p.len()).sum::<usize>();
    let mut out = Vec::with_capacity(len);
    out.push(code);
    out.push(id);
    out.extend_from_slice(&(len.min(usize::from(u16::MAX)) as u16).to_be_bytes());
    for p in parts {
        out.extend_from_slice(p);
    }
    out.truncate(usize::from(u16::MAX));
    out
}

/// A configuration option type of one control protocol (LCP, IPCP, IPV6CP).
///
/// Options the implementation does not understand, or whose length is wrong for their type,
/// decode as an "other" variant so that they can be Configure-Rejected byte for byte
/// (RFC 1661 §5.4).
pub trait ConfigOption: Clone + std::fmt::Debug + PartialEq {
    /// Builds the option from its type and data (the bytes after Type and Length).
    fn from_parts(kind: u8, data: &[u8]) -> Self;
    /// The option's Type octet.
    fn kind(&self) -> u8;
    /// Appends Type, Length and Data to `out`.
    fn encode(&self, out: &mut Vec<u8>);
}

/// Iterates over the options of a Configure-* packet without allocating.
pub fn iter_options(data: &[u8]) -> OptionIter<'_> {
    OptionIter { rest: data }
}

/// See [`iter_options`]: yields `(type, data)` pairs or the first decoding error.
#[derive(Debug, Clone)]
pub struct OptionIter<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for OptionIter<'a> {
    type Item = Result<(u8, &'a [u8]), DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        match *self.rest {
            [] => None,
            [kind] => {
                self.rest = &[];
                Some(Err(DecodeError::BadOptionLength { kind, length: 0 }))
            }
            [kind, length, ..] => {
                let len = usize::from(length);
                if len < 2 || len > self.rest.len() {
                    self.rest = &[];
                    return Some(Err(DecodeError::BadOptionLength { kind, length }));
                }
                let data = &self.rest[2..len];
                self.rest = &self.rest[len..];
                Some(Ok((kind, data)))
            }
        }
    }
}

/// Decodes a whole option list.
pub fn decode_options<O: ConfigOption>(data: &[u8]) -> Result<Vec<O>, DecodeError> {
    iter_options(data)
        .map(|r| r.map(|(kind, data)| O::from_parts(kind, data)))
        .collect()
}

/// Encodes an option list.
pub fn encode_options<O: ConfigOption>(options: &[O]) -> Vec<u8> {
    let mut out = Vec::new();
    for o in options {
        o.encode(&mut out);
    }
    out
}

/// Appends one option with the given type and data (data longer than 253 bytes is truncated so
/// the length octet stays valid).
pub fn put_option(out: &mut Vec<u8>, kind: u8, data: &[u8]) {
    let data = &data[..data.len().min(253)];
    out.push(kind);
    out.push((data.len() + 2) as u8);
    out.extend_from_slice(data);
}

/// A typed control packet of a protocol whose options are `O`.
#[derive(Debug, Clone, PartialEq)]
pub enum ControlPacket<O> {
    /// Configure-Request (RFC 1661 §5.1).
    ConfigureRequest {
        /// Identifier.
        id: u8,
        /// Options requested.
        options: Vec<O>,
    },
    /// Configure-Ack (§5.2).
    ConfigureAck {
        /// Identifier.
        id: u8,
        /// Options acknowledged (a copy of the request's).
        options: Vec<O>,
    },
    /// Configure-Nak (§5.3).
    ConfigureNak {
        /// Identifier.
        id: u8,
        /// Suggested values.
        options: Vec<O>,
    },
    /// Configure-Reject (§5.4).
    ConfigureReject {
        /// Identifier.
        id: u8,
        /// Options rejected.
        options: Vec<O>,
    },
    /// Terminate-Request (§5.5).
    TerminateRequest {
        /// Identifier.
        id: u8,
        /// Uninterpreted data.
        data: Vec<u8>,
    },
    /// Terminate-Ack (§5.5).
    TerminateAck {
        /// Identifier.
        id: u8,
        /// Uninterpreted data.
        data: Vec<u8>,
    },
    /// Code-Reject (§5.6).
    CodeReject {
        /// Identifier.
        id: u8,
        /// The rejected packet (from its Code field on).
        rejected: Vec<u8>,
    },
    /// Protocol-Reject (§5.7, LCP only).
    ProtocolReject {
        /// Identifier.
        id: u8,
        /// The rejected protocol.
        protocol: u16,
        /// The rejected information field.
        information: Vec<u8>,
    },
    /// Echo-Request (§5.8, LCP only).
    EchoRequest {
        /// Identifier.
        id: u8,
        /// Sender's Magic-Number (0 if not negotiated).
        magic: u32,
        /// Uninterpreted data.
        data: Vec<u8>,
    },
    /// Echo-Reply (§5.8, LCP only).
    EchoReply {
        /// Identifier.
        id: u8,
        /// Sender's Magic-Number.
        magic: u32,
        /// Uninterpreted data.
        data: Vec<u8>,
    },
    /// Discard-Request (§5.9, LCP only).
    DiscardRequest {
        /// Identifier.
        id: u8,
        /// Sender's Magic-Number.
        magic: u32,
        /// Uninterpreted data.
        data: Vec<u8>,
    },
    /// Any other code (including RFC 1570's 12/13, and 8-11 when `O` is not LCP's): kept whole.
    Other {
        /// Code.
        code: u8,
        /// Identifier.
        id: u8,
        /// Data.
        data: Vec<u8>,
    },
}

impl<O: ConfigOption> ControlPacket<O> {
    /// Decodes a control packet. `lcp` enables the LCP-only codes 8-11 (RFC 1661 §5.7-5.9);
    /// for an NCP those codes are unknown (RFC 1332 §2).
    pub fn decode(bytes: &[u8], lcp: bool) -> Result<Self, DecodeError> {
        let raw = RawPacket::decode(bytes)?;
        let id = raw.id;
        let magic_data = |what| -> Result<(u32, Vec<u8>), DecodeError> {
            match *raw.data {
                [a, b, c, d, ref rest @ ..] => {
                    Ok((u32::from_be_bytes([a, b, c, d]), rest.to_vec()))
                }
                _ => Err(DecodeError::Truncated {
                    what,
                    needed: 8,
                    available: raw.data.len() + 4,
                }),
            }
        };
        Ok(match raw.code {
            code::CONFIGURE_REQUEST => Self::ConfigureRequest {
                id,
                options: decode_options(raw.data)?,
            },
            code::CONFIGURE_ACK => Self::ConfigureAck {
                id,
                options: decode_options(raw.data)?,
            },
            code::CONFIGURE_NAK => Self::ConfigureNak {
                id,
                options: decode_options(raw.data)?,
            },
            code::CONFIGURE_REJECT => Self::ConfigureReject {
                id,
                options: decode_options(raw.data)?,
            },
            code::TERMINATE_REQUEST => Self::TerminateRequest {
                id,
                data: raw.data.to_vec(),
            },
            code::TERMINATE_ACK => Self::TerminateAck {
                id,
                data: raw.data.to_vec(),
            },
            code::CODE_REJECT => Self::CodeReject {
                id,
                rejected: raw.data.to_vec(),
            },
            code::PROTOCOL_REJECT if lcp => match *raw.data {
                [hi, lo, ref rest @ ..] => Self::ProtocolReject {
                    id,
                    protocol: u16::from_be_bytes([hi, lo]),
                    information: rest.to_vec(),
                },
                _ => {
                    return Err(DecodeError::Truncated {
                        what: "LCP Protocol-Reject",
                        needed: 6,
                        available: raw.data.len() + 4,
                    })
                }
            },
            code::ECHO_REQUEST if lcp => {
                let (magic, data) = magic_data("LCP Echo-Request")?;
                Self::EchoRequest { id, magic, data }
            }
            code::ECHO_REPLY if lcp => {
                let (magic, data) = magic_data("LCP Echo-Reply")?;
                Self::EchoReply { id, magic, data }
            }
            code::DISCARD_REQUEST if lcp => {
                let (magic, data) = magic_data("LCP Discard-Request")?;
                Self::DiscardRequest { id, magic, data }
            }
            code => Self::Other {
                code,
                id,
                data: raw.data.to_vec(),
            },
        })
    }

    /// Encodes the packet.
    pub fn encode(&self) -> Vec<u8> {
        match self {
            Self::ConfigureRequest { id, options } => {
                encode_packet(code::CONFIGURE_REQUEST, *id, &[&encode_options(options)])
            }
            Self::ConfigureAck { id, options } => {
                encode_packet(code::CONFIGURE_ACK, *id, &[&encode_options(options)])
            }
            Self::ConfigureNak { id, options } => {
                encode_packet(code::CONFIGURE_NAK, *id, &[&encode_options(options)])
            }
            Self::ConfigureReject { id, options } => {
                encode_packet(code::CONFIGURE_REJECT, *id, &[&encode_options(options)])
            }
            Self::TerminateRequest { id, data } => {
                encode_packet(code::TERMINATE_REQUEST, *id, &[data])
            }
            Self::TerminateAck { id, data } => encode_packet(code::TERMINATE_ACK, *id, &[data]),
            Self::CodeReject { id, rejected } => encode_packet(code::CODE_REJECT, *id, &[rejected]),
            Self::ProtocolReject {
                id,
                protocol,
                information,
            } => encode_packet(
                code::PROTOCOL_REJECT,
                *id,
                &[&protocol.to_be_bytes(), information],
            ),
            Self::EchoRequest { id, magic, data } => {
                encode_packet(code::ECHO_REQUEST, *id, &[&magic.to_be_bytes(), data])
            }
            Self::EchoReply { id, magic, data } => {
                encode_packet(code::ECHO_REPLY, *id, &[&magic.to_be_bytes(), data])
            }
            Self::DiscardRequest { id, magic, data } => {
                encode_packet(code::DISCARD_REQUEST, *id, &[&magic.to_be_bytes(), data])
            }
            Self::Other { code, id, data } => encode_packet(*code, *id, &[data]),
        }
    }
}
