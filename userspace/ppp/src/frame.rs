//! PPP frame layer on an L2TP session (RFC 1661 §2, RFC 1662 §3.1 address/control, RFC 2661 §5.1:
//! L2TP carries the PPP frame without HDLC flags, FCS or byte stuffing).

use crate::error::DecodeError;

/// PPP protocol numbers this crate knows (RFC 1700 / IANA "PPP DLL Protocol Numbers").
pub mod protocol {
    /// Internet Protocol version 4.
    pub const IPV4: u16 = 0x0021;
    /// Internet Protocol version 6.
    pub const IPV6: u16 = 0x0057;
    /// Multilink PPP fragment (RFC 1990).
    pub const MP: u16 = 0x003d;
    /// IP Control Protocol (RFC 1332).
    pub const IPCP: u16 = 0x8021;
    /// IPv6 Control Protocol (RFC 5072).
    pub const IPV6CP: u16 = 0x8057;
    /// Compression Control Protocol (RFC 1962).
    pub const CCP: u16 = 0x80fd;
    /// Individual-link CCP (RFC 1962 §2).
    pub const CCP_LINK: u16 = 0x80fb;
    /// Link Control Protocol (RFC 1661).
    pub const LCP: u16 = 0xc021;
    /// Password Authentication Protocol (RFC 1334).
    pub const PAP: u16 = 0xc023;
    /// Link Quality Report (RFC 1989).
    pub const LQR: u16 = 0xc025;
    /// Challenge Handshake Authentication Protocol (RFC 1994).
    pub const CHAP: u16 = 0xc223;
}

/// A decoded PPP frame, borrowing its information field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame<'a> {
    /// The PPP protocol number.
    pub protocol: u16,
    /// The information field (the control packet or the datagram).
    pub payload: &'a [u8],
}

/// Decodes a PPP frame. Address/Control `FF 03` is optional (ACFC, RFC 1661 §6.6) and the
/// protocol may be compressed to one octet (PFC, RFC 1661 §6.5): both are accepted whatever was
/// negotiated, as RFC 1661 recommends for robustness.
pub fn decode_frame(bytes: &[u8]) -> Result<Frame<'_>, DecodeError> {
    let rest = match bytes {
        [0xff, 0x03, rest @ ..] => rest,
        _ => bytes,
    };
    let (protocol, payload) = match rest {
        [first, rest @ ..] if first & 1 == 1 => (u16::from(*first), rest),
        [hi, lo, rest @ ..] => {
            let protocol = u16::from_be_bytes([*hi, *lo]);
            // RFC 1661 §2: the least significant bit of the least significant octet is 1 and
            // the least significant bit of the most significant octet is 0.
            if lo & 1 == 0 || hi & 1 == 1 {
                return Err(DecodeError::BadProtocolField(protocol));
            }
            (protocol, rest)
        }
        _ => {
            return Err(DecodeError::Truncated {
                what: "PPP frame",
                needed: 2,
                available: rest.len(),
            })
        }
    };
    Ok(Frame { protocol, payload })
}

/// Writes the PPP header for `protocol` into `out`. `acfc` omits `FF 03`, `pfc` compresses a
/// protocol below 0x100. RFC 1661 §6.5/6.6 forbid compressing LCP frames: callers pass `false`
/// for those (see [`header_flags_for`]).
pub fn encode_header(protocol: u16, acfc: bool, pfc: bool, out: &mut Vec<u8>) {
    if !acfc {
        out.extend_from_slice(&[0xff, 0x03]);
    }
    if pfc && protocol < 0x100 && protocol & 1 == 1 {
        out.push(protocol as u8);
    } else {
        out.extend_from_slice(&protocol.to_be_bytes());
    }
}

/// Builds a whole frame: header then payload.
pub fn encode_frame(protocol: u16, payload: &[u8], acfc: bool, pfc: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 4);
    encode_header(protocol, acfc, pfc, &mut out);
    out.extend_from_slice(payload);
    out
}

/// RFC 1661 §6.5/§6.6: LCP packets are always sent with full address/control and protocol
/// fields, whatever was negotiated.
pub fn header_flags_for(protocol: u16, acfc: bool, pfc: bool) -> (bool, bool) {
    if protocol == protocol::LCP {
        (false, false)
    } else {
        (acfc, pfc)
    }
}
