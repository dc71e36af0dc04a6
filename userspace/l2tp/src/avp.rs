//! Attribute-Value Pairs (RFC 2661 §4.1 encoding, §4.4 the attribute list, RFC 3145 AVP 46).
//!
//! ```text
//! |M|H| rsvd  |      Length       |           Vendor ID           |
//! |         Attribute Type        |        Attribute Value...
//! ```

use crate::hidden::{self, HiddenError};
use crate::ids::{SessionId, TunnelId};

/// IETF attribute numbers (vendor 0).
pub mod attr {
    pub const MESSAGE_TYPE: u16 = 0;
    pub const RESULT_CODE: u16 = 1;
    pub const PROTOCOL_VERSION: u16 = 2;
    pub const FRAMING_CAPABILITIES: u16 = 3;
    pub const BEARER_CAPABILITIES: u16 = 4;
    pub const TIE_BREAKER: u16 = 5;
    pub const FIRMWARE_REVISION: u16 = 6;
    pub const HOST_NAME: u16 = 7;
    pub const VENDOR_NAME: u16 = 8;
    pub const ASSIGNED_TUNNEL_ID: u16 = 9;
    pub const RECEIVE_WINDOW_SIZE: u16 = 10;
    pub const CHALLENGE: u16 = 11;
    pub const Q931_CAUSE_CODE: u16 = 12;
    pub const CHALLENGE_RESPONSE: u16 = 13;
    pub const ASSIGNED_SESSION_ID: u16 = 14;
    pub const CALL_SERIAL_NUMBER: u16 = 15;
    pub const MINIMUM_BPS: u16 = 16;
    pub const MAXIMUM_BPS: u16 = 17;
    pub const BEARER_TYPE: u16 = 18;
    pub const FRAMING_TYPE: u16 = 19;
    pub const CALLED_NUMBER: u16 = 21;
    pub const CALLING_NUMBER: u16 = 22;
    pub const SUB_ADDRESS: u16 = 23;
    pub const TX_CONNECT_SPEED: u16 = 24;
    pub const PHYSICAL_CHANNEL_ID: u16 = 25;
    pub const INITIAL_RECEIVED_LCP_CONFREQ: u16 = 26;
    pub const LAST_SENT_LCP_CONFREQ: u16 = 27;
    pub const LAST_RECEIVED_LCP_CONFREQ: u16 = 28;
    pub const PROXY_AUTHEN_TYPE: u16 = 29;
    pub const PROXY_AUTHEN_NAME: u16 = 30;
    pub const PROXY_AUTHEN_CHALLENGE: u16 = 31;
    pub const PROXY_AUTHEN_ID: u16 = 32;
    pub const PROXY_AUTHEN_RESPONSE: u16 = 33;
    pub const CALL_ERRORS: u16 = 34;
    pub const ACCM: u16 = 35;
    pub const RANDOM_VECTOR: u16 = 36;
    pub const PRIVATE_GROUP_ID: u16 = 37;
    pub const RX_CONNECT_SPEED: u16 = 38;
    pub const SEQUENCING_REQUIRED: u16 = 39;
    /// RFC 3145.
    pub const PPP_DISCONNECT_CAUSE: u16 = 46;
}

const FLAG_M: u16 = 0x8000;
const FLAG_H: u16 = 0x4000;
const RESERVED: u16 = 0x3c00;
const LEN_MASK: u16 = 0x03ff;
/// AVP header length.
pub const AVP_HEADER_LEN: usize = 6;
/// Largest value that fits the 10-bit length.
pub const MAX_VALUE_LEN: usize = LEN_MASK as usize - AVP_HEADER_LEN;

/// Why an AVP could not be decoded. `attr` is the attribute type where known.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AvpError {
    #[error("AVP header truncated at offset {offset}")]
    Truncated { offset: usize },
    #[error("AVP {attr} length {len} is invalid")]
    BadLength { attr: u16, len: usize },
    #[error("AVP {attr} has reserved bits set")]
    ReservedBits { attr: u16 },
    #[error("AVP {attr} is hidden but no secret is configured")]
    HiddenWithoutSecret { attr: u16 },
    #[error("AVP {attr} is hidden but no Random Vector AVP precedes it")]
    HiddenWithoutRandomVector { attr: u16 },
    #[error("hidden AVP {attr}: {err}")]
    Hidden { attr: u16, err: HiddenError },
    #[error("AVP {attr} value is out of range")]
    OutOfRange { attr: u16 },
}

impl AvpError {
    /// The RFC 2661 §4.1/§5.4 error code to report for this AVP (2 length, 3 field, 6 generic).
    pub fn error_code(&self) -> u16 {
        match self {
            AvpError::Truncated { .. } | AvpError::BadLength { .. } => error_code::LENGTH,
            AvpError::ReservedBits { .. } | AvpError::OutOfRange { .. } => error_code::FIELD,
            _ => error_code::VENDOR,
        }
    }
}

/// General error codes of the Result Code AVP (RFC 2661 §4.4.2).
pub mod error_code {
    pub const NONE: u16 = 0;
    pub const NO_CONTROL_CONNECTION: u16 = 1;
    pub const LENGTH: u16 = 2;
    pub const FIELD: u16 = 3;
    pub const RESOURCES: u16 = 4;
    pub const INVALID_SESSION: u16 = 5;
    pub const VENDOR: u16 = 6;
    pub const TRY_ANOTHER: u16 = 7;
    pub const UNKNOWN_MANDATORY_AVP: u16 = 8;
}

/// A Result Code AVP (RFC 2661 §4.4.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResultCode {
    pub result: u16,
    pub error: Option<u16>,
    /// An optional human-readable message; only present if `error` is.
    pub message: Option<Vec<u8>>,
}

impl ResultCode {
    /// StopCCN result 1: general request to clear control connection (RFC 2661 §4.4.2).
    pub const CLEAR_CONTROL_CONNECTION: ResultCode = ResultCode::named(1);
    /// StopCCN result 6: requester is being shut down (RFC 2661 §4.4.2).
    pub const SHUTTING_DOWN: ResultCode = ResultCode::named(6);
    /// CDN result 3: call disconnected for administrative reasons (RFC 2661 §4.4.2).
    pub const ADMINISTRATIVE: ResultCode = ResultCode::named(3);

    const fn named(result: u16) -> Self {
        ResultCode {
            result,
            error: None,
            message: None,
        }
    }

    pub fn new(result: u16) -> Self {
        ResultCode {
            result,
            error: None,
            message: None,
        }
    }
    pub fn with_error(result: u16, error: u16, message: &str) -> Self {
        ResultCode {
            result,
            error: Some(error),
            message: (!message.is_empty()).then(|| message.as_bytes().to_vec()),
        }
    }
}

/// "result 2, error 6: admin reset": the numbers and the peer's message as text, for logs.
impl std::fmt::Display for ResultCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "result {}", self.result)?;
        if let Some(e) = self.error {
            write!(f, ", error {e}")?;
        }
        if let Some(m) = self.message.as_deref().filter(|m| !m.is_empty()) {
            write!(f, ": {}", String::from_utf8_lossy(m).escape_debug())?;
        }
        Ok(())
    }
}

/// The Call Errors AVP carried by WEN (RFC 2661 §4.4.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CallErrors {
    pub crc: u32,
    pub framing: u32,
    pub hardware_overruns: u32,
    pub buffer_overruns: u32,
    pub timeouts: u32,
    pub alignment: u32,
}

/// The PPP Disconnect Cause Code AVP (RFC 3145 §3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PppDisconnectCause {
    pub code: u16,
    pub protocol: u16,
    pub direction: u8,
    pub message: Vec<u8>,
}

/// The value of an AVP, typed for every attribute this crate knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AvpValue {
    ResultCode(ResultCode),
    ProtocolVersion {
        version: u8,
        revision: u8,
    },
    FramingCapabilities(u32),
    BearerCapabilities(u32),
    TieBreaker([u8; 8]),
    FirmwareRevision(u16),
    HostName(Vec<u8>),
    VendorName(Vec<u8>),
    AssignedTunnelId(TunnelId),
    ReceiveWindowSize(u16),
    Challenge(Vec<u8>),
    Q931CauseCode {
        cause: u16,
        message: u8,
        advisory: Vec<u8>,
    },
    ChallengeResponse([u8; 16]),
    AssignedSessionId(SessionId),
    CallSerialNumber(u32),
    MinimumBps(u32),
    MaximumBps(u32),
    BearerType(u32),
    FramingType(u32),
    CalledNumber(Vec<u8>),
    CallingNumber(Vec<u8>),
    SubAddress(Vec<u8>),
    /// 4 octets per RFC; some LACs (AS5300) send ASCII digits, which we accept.
    TxConnectSpeed(u32),
    PhysicalChannelId(u32),
    InitialReceivedLcpConfReq(Vec<u8>),
    LastSentLcpConfReq(Vec<u8>),
    LastReceivedLcpConfReq(Vec<u8>),
    ProxyAuthenType(u16),
    ProxyAuthenName(Vec<u8>),
    ProxyAuthenChallenge(Vec<u8>),
    ProxyAuthenId(u8),
    ProxyAuthenResponse(Vec<u8>),
    CallErrors(CallErrors),
    Accm {
        send: u32,
        receive: u32,
    },
    RandomVector(Vec<u8>),
    PrivateGroupId(Vec<u8>),
    RxConnectSpeed(u32),
    SequencingRequired,
    PppDisconnectCause(PppDisconnectCause),
    /// Any other attribute (including all vendor AVPs), kept raw.
    Unknown {
        vendor: u16,
        attr: u16,
        value: Vec<u8>,
    },
}

/// One AVP with its flags. `hidden` means "was / will be hidden on the wire".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Avp {
    pub mandatory: bool,
    pub hidden: bool,
    pub value: AvpValue,
}

impl Avp {
    /// A mandatory, visible AVP (what RFC 2661 §4.4 requires for almost every attribute).
    pub fn m(value: AvpValue) -> Self {
        Avp {
            mandatory: true,
            hidden: false,
            value,
        }
    }
    /// An optional (M=0), visible AVP.
    pub fn opt(value: AvpValue) -> Self {
        Avp {
            mandatory: false,
            hidden: false,
            value,
        }
    }
    pub fn hidden(mut self) -> Self {
        self.hidden = true;
        self
    }
}

/// An AVP as it sits in the message: flags, ids, and the (possibly hidden) value bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawAvp<'a> {
    pub mandatory: bool,
    pub hidden: bool,
    pub vendor: u16,
    pub attr: u16,
    pub value: &'a [u8],
}

/// Iterate over the AVPs of a message body; stops after the first error.
pub struct RawAvps<'a> {
    buf: &'a [u8],
    pos: usize,
    failed: bool,
}

impl<'a> RawAvps<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        RawAvps {
            buf,
            pos: 0,
            failed: false,
        }
    }
}

impl<'a> Iterator for RawAvps<'a> {
    type Item = Result<RawAvp<'a>, AvpError>;
    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.pos >= self.buf.len() {
            return None;
        }
        let rest = &self.buf[self.pos..];
        if rest.len() < AVP_HEADER_LEN {
            self.failed = true;
            return Some(Err(AvpError::Truncated { offset: self.pos }));
        }
        let flags = u16::from_be_bytes([rest[0], rest[1]]);
        let vendor = u16::from_be_bytes([rest[2], rest[3]]);
        let attr = u16::from_be_bytes([rest[4], rest[5]]);
        let len = (flags & LEN_MASK) as usize;
        if len < AVP_HEADER_LEN || len > rest.len() {
            self.failed = true;
            return Some(Err(AvpError::BadLength { attr, len }));
        }
        if flags & RESERVED != 0 {
            self.failed = true;
            return Some(Err(AvpError::ReservedBits { attr }));
        }
        self.pos += len;
        Some(Ok(RawAvp {
            mandatory: flags & FLAG_M != 0,
            hidden: flags & FLAG_H != 0,
            vendor,
            attr,
            value: &rest[AVP_HEADER_LEN..len],
        }))
    }
}

fn fixed<const N: usize>(attr: u16, v: &[u8]) -> Result<[u8; N], AvpError> {
    v.try_into().map_err(|_| AvpError::BadLength {
        attr,
        len: v.len() + AVP_HEADER_LEN,
    })
}
fn u16v(attr: u16, v: &[u8]) -> Result<u16, AvpError> {
    Ok(u16::from_be_bytes(fixed(attr, v)?))
}
fn u32v(attr: u16, v: &[u8]) -> Result<u32, AvpError> {
    Ok(u32::from_be_bytes(fixed(attr, v)?))
}
fn u32_at(v: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([v[at], v[at + 1], v[at + 2], v[at + 3]])
}

/// Connect speeds are 4 octets; Cisco AS5300 sends decimal ASCII instead.
fn speed(attr: u16, v: &[u8]) -> Result<u32, AvpError> {
    if v.len() == 4 {
        return u32v(attr, v);
    }
    std::str::from_utf8(v)
        .ok()
        .and_then(|s| s.trim_end_matches('\0').trim().parse().ok())
        .ok_or(AvpError::BadLength {
            attr,
            len: v.len() + AVP_HEADER_LEN,
        })
}

impl AvpValue {
    /// Decode the (already unhidden) value of IETF attribute `attr`.
    pub fn decode(vendor: u16, attr: u16, v: &[u8]) -> Result<AvpValue, AvpError> {
        use crate::avp::attr as a;
        if vendor != 0 {
            return Ok(AvpValue::Unknown {
                vendor,
                attr,
                value: v.to_vec(),
            });
        }
        let bad = || AvpError::BadLength {
            attr,
            len: v.len() + AVP_HEADER_LEN,
        };
        Ok(match attr {
            a::RESULT_CODE => match v.len() {
                2 => AvpValue::ResultCode(ResultCode::new(u16v(attr, v)?)),
                0 | 1 | 3 => return Err(bad()),
                _ => AvpValue::ResultCode(ResultCode {
                    result: u16::from_be_bytes([v[0], v[1]]),
                    error: Some(u16::from_be_bytes([v[2], v[3]])),
                    message: (v.len() > 4).then(|| v[4..].to_vec()),
                }),
            },
            a::PROTOCOL_VERSION => {
                let [version, revision] = fixed(attr, v)?;
                AvpValue::ProtocolVersion { version, revision }
            }
            a::FRAMING_CAPABILITIES => AvpValue::FramingCapabilities(u32v(attr, v)?),
            a::BEARER_CAPABILITIES => AvpValue::BearerCapabilities(u32v(attr, v)?),
            a::TIE_BREAKER => AvpValue::TieBreaker(fixed(attr, v)?),
            a::FIRMWARE_REVISION => AvpValue::FirmwareRevision(u16v(attr, v)?),
            a::HOST_NAME if !v.is_empty() => AvpValue::HostName(v.to_vec()),
            a::VENDOR_NAME => AvpValue::VendorName(v.to_vec()),
            a::ASSIGNED_TUNNEL_ID => AvpValue::AssignedTunnelId(TunnelId(u16v(attr, v)?)),
            a::RECEIVE_WINDOW_SIZE => AvpValue::ReceiveWindowSize(u16v(attr, v)?),
            a::CHALLENGE if !v.is_empty() => AvpValue::Challenge(v.to_vec()),
            a::Q931_CAUSE_CODE if v.len() >= 3 => AvpValue::Q931CauseCode {
                cause: u16::from_be_bytes([v[0], v[1]]),
                message: v[2],
                advisory: v[3..].to_vec(),
            },
            a::CHALLENGE_RESPONSE => AvpValue::ChallengeResponse(fixed(attr, v)?),
            a::ASSIGNED_SESSION_ID => AvpValue::AssignedSessionId(SessionId(u16v(attr, v)?)),
            a::CALL_SERIAL_NUMBER => AvpValue::CallSerialNumber(u32v(attr, v)?),
            a::MINIMUM_BPS => AvpValue::MinimumBps(u32v(attr, v)?),
            a::MAXIMUM_BPS => AvpValue::MaximumBps(u32v(attr, v)?),
            a::BEARER_TYPE => AvpValue::BearerType(u32v(attr, v)?),
            a::FRAMING_TYPE => AvpValue::FramingType(u32v(attr, v)?),
            a::CALLED_NUMBER => AvpValue::CalledNumber(v.to_vec()),
            a::CALLING_NUMBER => AvpValue::CallingNumber(v.to_vec()),
            a::SUB_ADDRESS => AvpValue::SubAddress(v.to_vec()),
            a::TX_CONNECT_SPEED => AvpValue::TxConnectSpeed(speed(attr, v)?),
            a::PHYSICAL_CHANNEL_ID => AvpValue::PhysicalChannelId(u32v(attr, v)?),
            a::INITIAL_RECEIVED_LCP_CONFREQ => AvpValue::InitialReceivedLcpConfReq(v.to_vec()),
            a::LAST_SENT_LCP_CONFREQ => AvpValue::LastSentLcpConfReq(v.to_vec()),
            a::LAST_RECEIVED_LCP_CONFREQ => AvpValue::LastReceivedLcpConfReq(v.to_vec()),
            a::PROXY_AUTHEN_TYPE => AvpValue::ProxyAuthenType(u16v(attr, v)?),
            a::PROXY_AUTHEN_NAME => AvpValue::ProxyAuthenName(v.to_vec()),
            a::PROXY_AUTHEN_CHALLENGE => AvpValue::ProxyAuthenChallenge(v.to_vec()),
            // One reserved octet, then the PPP identifier (RFC 2661 §4.4.5).
            a::PROXY_AUTHEN_ID => AvpValue::ProxyAuthenId(fixed::<2>(attr, v)?[1]),
            a::PROXY_AUTHEN_RESPONSE => AvpValue::ProxyAuthenResponse(v.to_vec()),
            a::CALL_ERRORS if v.len() == 26 => AvpValue::CallErrors(CallErrors {
                crc: u32_at(v, 2),
                framing: u32_at(v, 6),
                hardware_overruns: u32_at(v, 10),
                buffer_overruns: u32_at(v, 14),
                timeouts: u32_at(v, 18),
                alignment: u32_at(v, 22),
            }),
            a::ACCM if v.len() == 10 => AvpValue::Accm {
                send: u32_at(v, 2),
                receive: u32_at(v, 6),
            },
            a::RANDOM_VECTOR if !v.is_empty() => AvpValue::RandomVector(v.to_vec()),
            a::PRIVATE_GROUP_ID => AvpValue::PrivateGroupId(v.to_vec()),
            a::RX_CONNECT_SPEED => AvpValue::RxConnectSpeed(speed(attr, v)?),
            a::SEQUENCING_REQUIRED if v.is_empty() => AvpValue::SequencingRequired,
            a::PPP_DISCONNECT_CAUSE if v.len() >= 5 => {
                AvpValue::PppDisconnectCause(PppDisconnectCause {
                    code: u16::from_be_bytes([v[0], v[1]]),
                    protocol: u16::from_be_bytes([v[2], v[3]]),
                    direction: v[4],
                    message: v[5..].to_vec(),
                })
            }
            a::HOST_NAME
            | a::CHALLENGE
            | a::Q931_CAUSE_CODE
            | a::CALL_ERRORS
            | a::ACCM
            | a::RANDOM_VECTOR
            | a::SEQUENCING_REQUIRED
            | a::PPP_DISCONNECT_CAUSE => return Err(bad()),
            _ => AvpValue::Unknown {
                vendor,
                attr,
                value: v.to_vec(),
            },
        })
    }

    /// (vendor, attribute type) of this value.
    pub fn id(&self) -> (u16, u16) {
        use crate::avp::attr as a;
        let t = match self {
            AvpValue::ResultCode(_) => a::RESULT_CODE,
            AvpValue::ProtocolVersion { .. } => a::PROTOCOL_VERSION,
            AvpValue::FramingCapabilities(_) => a::FRAMING_CAPABILITIES,
            AvpValue::BearerCapabilities(_) => a::BEARER_CAPABILITIES,
            AvpValue::TieBreaker(_) => a::TIE_BREAKER,
            AvpValue::FirmwareRevision(_) => a::FIRMWARE_REVISION,
            AvpValue::HostName(_) => a::HOST_NAME,
            AvpValue::VendorName(_) => a::VENDOR_NAME,
            AvpValue::AssignedTunnelId(_) => a::ASSIGNED_TUNNEL_ID,
            AvpValue::ReceiveWindowSize(_) => a::RECEIVE_WINDOW_SIZE,
            AvpValue::Challenge(_) => a::CHALLENGE,
            AvpValue::Q931CauseCode { .. } => a::Q931_CAUSE_CODE,
            AvpValue::ChallengeResponse(_) => a::CHALLENGE_RESPONSE,
            AvpValue::AssignedSessionId(_) => a::ASSIGNED_SESSION_ID,
            AvpValue::CallSerialNumber(_) => a::CALL_SERIAL_NUMBER,
            AvpValue::MinimumBps(_) => a::MINIMUM_BPS,
            AvpValue::MaximumBps(_) => a::MAXIMUM_BPS,
            AvpValue::BearerType(_) => a::BEARER_TYPE,
            AvpValue::FramingType(_) => a::FRAMING_TYPE,
            AvpValue::CalledNumber(_) => a::CALLED_NUMBER,
            AvpValue::CallingNumber(_) => a::CALLING_NUMBER,
            AvpValue::SubAddress(_) => a::SUB_ADDRESS,
            AvpValue::TxConnectSpeed(_) => a::TX_CONNECT_SPEED,
            AvpValue::PhysicalChannelId(_) => a::PHYSICAL_CHANNEL_ID,
            AvpValue::InitialReceivedLcpConfReq(_) => a::INITIAL_RECEIVED_LCP_CONFREQ,
            AvpValue::LastSentLcpConfReq(_) => a::LAST_SENT_LCP_CONFREQ,
            AvpValue::LastReceivedLcpConfReq(_) => a::LAST_RECEIVED_LCP_CONFREQ,
            AvpValue::ProxyAuthenType(_) => a::PROXY_AUTHEN_TYPE,
            AvpValue::ProxyAuthenName(_) => a::PROXY_AUTHEN_NAME,
            AvpValue::ProxyAuthenChallenge(_) => a::PROXY_AUTHEN_CHALLENGE,
            AvpValue::ProxyAuthenId(_) => a::PROXY_AUTHEN_ID,
            AvpValue::ProxyAuthenResponse(_) => a::PROXY_AUTHEN_RESPONSE,
            AvpValue::CallErrors(_) => a::CALL_ERRORS,
            AvpValue::Accm { .. } => a::ACCM,
            AvpValue::RandomVector(_) => a::RANDOM_VECTOR,
            AvpValue::PrivateGroupId(_) => a::PRIVATE_GROUP_ID,
            AvpValue::RxConnectSpeed(_) => a::RX_CONNECT_SPEED,
            AvpValue::SequencingRequired => a::SEQUENCING_REQUIRED,
            AvpValue::PppDisconnectCause(_) => a::PPP_DISCONNECT_CAUSE,
            AvpValue::Unknown { vendor, attr, .. } => return (*vendor, *attr),
        };
        (0, t)
    }

    /// Append the plain value bytes to `out`.
    pub fn encode_value(&self, out: &mut Vec<u8>) {
        let u16b = |out: &mut Vec<u8>, x: u16| out.extend_from_slice(&x.to_be_bytes());
        let u32b = |out: &mut Vec<u8>, x: u32| out.extend_from_slice(&x.to_be_bytes());
        match self {
            AvpValue::ResultCode(r) => {
                u16b(out, r.result);
                if let Some(e) = r.error {
                    u16b(out, e);
                    if let Some(m) = &r.message {
                        out.extend_from_slice(m);
                    }
                }
            }
            AvpValue::ProtocolVersion { version, revision } => {
                out.extend_from_slice(&[*version, *revision])
            }
            AvpValue::AssignedTunnelId(x) => u16b(out, x.0),
            AvpValue::AssignedSessionId(x) => u16b(out, x.0),
            AvpValue::FirmwareRevision(x)
            | AvpValue::ReceiveWindowSize(x)
            | AvpValue::ProxyAuthenType(x) => u16b(out, *x),
            AvpValue::FramingCapabilities(x)
            | AvpValue::BearerCapabilities(x)
            | AvpValue::CallSerialNumber(x)
            | AvpValue::MinimumBps(x)
            | AvpValue::MaximumBps(x)
            | AvpValue::BearerType(x)
            | AvpValue::FramingType(x)
            | AvpValue::TxConnectSpeed(x)
            | AvpValue::PhysicalChannelId(x)
            | AvpValue::RxConnectSpeed(x) => u32b(out, *x),
            AvpValue::TieBreaker(b) => out.extend_from_slice(b),
            AvpValue::ChallengeResponse(b) => out.extend_from_slice(b),
            AvpValue::HostName(b)
            | AvpValue::VendorName(b)
            | AvpValue::Challenge(b)
            | AvpValue::CalledNumber(b)
            | AvpValue::CallingNumber(b)
            | AvpValue::SubAddress(b)
            | AvpValue::InitialReceivedLcpConfReq(b)
            | AvpValue::LastSentLcpConfReq(b)
            | AvpValue::LastReceivedLcpConfReq(b)
            | AvpValue::ProxyAuthenName(b)
            | AvpValue::ProxyAuthenChallenge(b)
            | AvpValue::ProxyAuthenResponse(b)
            | AvpValue::RandomVector(b)
            | AvpValue::PrivateGroupId(b)
            | AvpValue::Unknown { value: b, .. } => out.extend_from_slice(b),
            AvpValue::Q931CauseCode {
                cause,
                message,
                advisory,
            } => {
                u16b(out, *cause);
                out.push(*message);
                out.extend_from_slice(advisory);
            }
            AvpValue::ProxyAuthenId(id) => out.extend_from_slice(&[0, *id]),
            AvpValue::CallErrors(e) => {
                u16b(out, 0);
                for x in [
                    e.crc,
                    e.framing,
                    e.hardware_overruns,
                    e.buffer_overruns,
                    e.timeouts,
                    e.alignment,
                ] {
                    u32b(out, x);
                }
            }
            AvpValue::Accm { send, receive } => {
                u16b(out, 0);
                u32b(out, *send);
                u32b(out, *receive);
            }
            AvpValue::SequencingRequired => {}
            AvpValue::PppDisconnectCause(c) => {
                u16b(out, c.code);
                u16b(out, c.protocol);
                out.push(c.direction);
                out.extend_from_slice(&c.message);
            }
        }
    }
}

/// Why an AVP could not be encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    #[error("AVP {attr} value of {len} bytes is too long for the 10-bit length")]
    TooLong { attr: u16, len: usize },
    #[error("AVP {attr} must be hidden but no secret was given")]
    HiddenWithoutSecret { attr: u16 },
    #[error("AVP {attr} must be hidden but no Random Vector AVP precedes it")]
    HiddenWithoutRandomVector { attr: u16 },
}

/// Append one AVP. `hiding` is `(secret, random vector)` when the AVP is to be hidden.
pub(crate) fn encode_avp(
    avp: &Avp,
    hiding: Option<(&[u8], &[u8])>,
    out: &mut Vec<u8>,
) -> Result<(), EncodeError> {
    let (vendor, attr) = avp.value.id();
    let start = out.len();
    out.extend_from_slice(&[0, 0]);
    out.extend_from_slice(&vendor.to_be_bytes());
    out.extend_from_slice(&attr.to_be_bytes());
    if avp.hidden {
        let Some((secret, rv)) = hiding else {
            out.truncate(start);
            return Err(EncodeError::HiddenWithoutSecret { attr });
        };
        let mut plain = Vec::new();
        avp.value.encode_value(&mut plain);
        hidden::hide(attr, secret, rv, &plain, 0, out);
    } else {
        avp.value.encode_value(out);
    }
    let len = out.len() - start;
    if len > LEN_MASK as usize {
        out.truncate(start);
        return Err(EncodeError::TooLong { attr, len });
    }
    let flags =
        (len as u16) | if avp.mandatory { FLAG_M } else { 0 } | if avp.hidden { FLAG_H } else { 0 };
    out[start..start + 2].copy_from_slice(&flags.to_be_bytes());
    Ok(())
}
