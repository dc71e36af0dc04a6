//! Control messages: a Message Type and a list of typed AVPs (RFC 2661 §3.2, §6).

use crate::avp::{self, attr, Avp, AvpError, AvpValue, EncodeError, RawAvps, ResultCode};
use crate::header;
use crate::hidden;
use crate::ids::{SessionId, TunnelId};

/// Control message types (RFC 2661 §3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageType {
    Sccrq,
    Sccrp,
    Scccn,
    StopCcn,
    Hello,
    Ocrq,
    Ocrp,
    Occn,
    Icrq,
    Icrp,
    Iccn,
    Cdn,
    Wen,
    Sli,
    /// A value this crate does not know (including the reserved 5 and 13).
    Other(u16),
}

impl MessageType {
    pub fn from_u16(v: u16) -> Self {
        use MessageType::*;
        match v {
            1 => Sccrq,
            2 => Sccrp,
            3 => Scccn,
            4 => StopCcn,
            6 => Hello,
            7 => Ocrq,
            8 => Ocrp,
            9 => Occn,
            10 => Icrq,
            11 => Icrp,
            12 => Iccn,
            14 => Cdn,
            15 => Wen,
            16 => Sli,
            x => Other(x),
        }
    }
    pub fn to_u16(self) -> u16 {
        use MessageType::*;
        match self {
            Sccrq => 1,
            Sccrp => 2,
            Scccn => 3,
            StopCcn => 4,
            Hello => 6,
            Ocrq => 7,
            Ocrp => 8,
            Occn => 9,
            Icrq => 10,
            Icrp => 11,
            Iccn => 12,
            Cdn => 14,
            Wen => 15,
            Sli => 16,
            Other(x) => x,
        }
    }
    /// Messages that belong to a call rather than to the control connection.
    pub fn is_session(self) -> bool {
        use MessageType::*;
        matches!(
            self,
            Icrq | Icrp | Iccn | Cdn | Wen | Sli | Ocrq | Ocrp | Occn
        )
    }
}

/// A decoded control message. The Message Type AVP is `kind`, not part of `avps`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub kind: MessageType,
    /// M bit of the Message Type AVP: an unknown type with M set tears the tunnel down.
    pub kind_mandatory: bool,
    pub avps: Vec<Avp>,
}

/// Why a control message body could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("empty message body (a ZLB carries no AVPs)")]
    Empty,
    #[error("the first AVP is not a Message Type AVP (RFC 2661 §4.4.1)")]
    NoMessageType,
    #[error(transparent)]
    Avp(#[from] AvpError),
}

impl DecodeError {
    /// The AVP attribute involved, if any.
    pub fn error_code(&self) -> u16 {
        match self {
            DecodeError::Avp(e) => e.error_code(),
            _ => avp::error_code::FIELD,
        }
    }
}

impl Message {
    pub fn new(kind: MessageType, avps: Vec<Avp>) -> Self {
        Message {
            kind,
            kind_mandatory: true,
            avps,
        }
    }

    /// Decode the AVPs of a control message. `secret` unhides hidden AVPs (RFC 2661 §4.3)
    /// with the last Random Vector AVP seen before them.
    pub fn decode(body: &[u8], secret: Option<&[u8]>) -> Result<Message, DecodeError> {
        let mut raw = RawAvps::new(body);
        let first = match raw.next() {
            None => return Err(DecodeError::Empty),
            Some(r) => r?,
        };
        if first.vendor != 0 || first.attr != attr::MESSAGE_TYPE || first.hidden {
            return Err(DecodeError::NoMessageType);
        }
        let kind = MessageType::from_u16(u16::from_be_bytes(first.value.try_into().map_err(
            |_| AvpError::BadLength {
                attr: attr::MESSAGE_TYPE,
                len: first.value.len() + avp::AVP_HEADER_LEN,
            },
        )?));
        let mut avps = Vec::new();
        let mut random_vector: Option<&[u8]> = None;
        for r in raw {
            let r = r?;
            let value = if r.hidden {
                let secret = secret.ok_or(AvpError::HiddenWithoutSecret { attr: r.attr })?;
                let rv =
                    random_vector.ok_or(AvpError::HiddenWithoutRandomVector { attr: r.attr })?;
                let plain = hidden::unhide(r.attr, secret, rv, r.value)
                    .map_err(|err| AvpError::Hidden { attr: r.attr, err })?;
                AvpValue::decode(r.vendor, r.attr, &plain)?
            } else {
                AvpValue::decode(r.vendor, r.attr, r.value)?
            };
            if r.vendor == 0 && r.attr == attr::RANDOM_VECTOR {
                random_vector = Some(r.value);
            }
            avps.push(Avp {
                mandatory: r.mandatory,
                hidden: r.hidden,
                value,
            });
        }
        Ok(Message {
            kind,
            kind_mandatory: first.mandatory,
            avps,
        })
    }

    /// Append the AVPs (Message Type first) to `out`. Hidden AVPs need `secret` and a
    /// Random Vector AVP earlier in `avps`.
    pub fn encode_body(&self, secret: Option<&[u8]>, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let kind = Avp {
            mandatory: self.kind_mandatory,
            hidden: false,
            value: AvpValue::Unknown {
                vendor: 0,
                attr: attr::MESSAGE_TYPE,
                value: self.kind.to_u16().to_be_bytes().to_vec(),
            },
        };
        avp::encode_avp(&kind, None, out)?;
        let mut random_vector: Option<&[u8]> = None;
        for a in &self.avps {
            let hiding = if a.hidden {
                let s = secret.ok_or(EncodeError::HiddenWithoutSecret {
                    attr: a.value.id().1,
                })?;
                let rv = random_vector.ok_or(EncodeError::HiddenWithoutRandomVector {
                    attr: a.value.id().1,
                })?;
                Some((s, rv))
            } else {
                None
            };
            avp::encode_avp(a, hiding, out)?;
            if let AvpValue::RandomVector(rv) = &a.value {
                random_vector = Some(rv);
            }
        }
        Ok(())
    }

    /// Encode a full control message with its header.
    pub fn encode(
        &self,
        tunnel_id: TunnelId,
        session_id: SessionId,
        ns: u16,
        nr: u16,
        secret: Option<&[u8]>,
    ) -> Result<Vec<u8>, EncodeError> {
        let mut out = Vec::with_capacity(128);
        header::begin_control(&mut out, tunnel_id, session_id, ns, nr);
        self.encode_body(secret, &mut out)?;
        header::finish_control(&mut out, 0);
        Ok(out)
    }

    /// The first AVP matching `f`.
    pub fn find<'a, T>(&'a self, f: impl Fn(&'a AvpValue) -> Option<T>) -> Option<T> {
        self.avps.iter().find_map(|a| f(&a.value))
    }

    pub fn assigned_tunnel_id(&self) -> Option<TunnelId> {
        self.find(|v| match v {
            AvpValue::AssignedTunnelId(x) => Some(*x),
            _ => None,
        })
    }
    pub fn assigned_session_id(&self) -> Option<SessionId> {
        self.find(|v| match v {
            AvpValue::AssignedSessionId(x) => Some(*x),
            _ => None,
        })
    }
    pub fn receive_window_size(&self) -> Option<u16> {
        self.find(|v| match v {
            AvpValue::ReceiveWindowSize(x) => Some(*x),
            _ => None,
        })
    }
    pub fn challenge(&self) -> Option<&[u8]> {
        self.find(|v| match v {
            AvpValue::Challenge(x) => Some(x.as_slice()),
            _ => None,
        })
    }
    pub fn challenge_response(&self) -> Option<&[u8; 16]> {
        self.find(|v| match v {
            AvpValue::ChallengeResponse(x) => Some(x),
            _ => None,
        })
    }
    pub fn host_name(&self) -> Option<&[u8]> {
        self.find(|v| match v {
            AvpValue::HostName(x) => Some(x.as_slice()),
            _ => None,
        })
    }
    pub fn result_code(&self) -> Option<&ResultCode> {
        self.find(|v| match v {
            AvpValue::ResultCode(x) => Some(x),
            _ => None,
        })
    }
    pub fn protocol_version(&self) -> Option<(u8, u8)> {
        self.find(|v| match v {
            AvpValue::ProtocolVersion { version, revision } => Some((*version, *revision)),
            _ => None,
        })
    }
    /// The first mandatory AVP this crate does not understand (RFC 2661 §4.1 M bit).
    pub fn unknown_mandatory(&self) -> Option<(u16, u16)> {
        self.avps.iter().find_map(|a| match a.value {
            AvpValue::Unknown { vendor, attr, .. } if a.mandatory => Some((vendor, attr)),
            _ => None,
        })
    }
}
