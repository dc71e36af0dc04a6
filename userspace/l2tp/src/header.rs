//! The L2TPv2 header (RFC 2661 §3.1), for control and data messages.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! |T|L|x|x|S|x|O|P|x|x|x|x|  Ver  |          Length (opt)         |
//! |           Tunnel ID           |           Session ID          |
//! |             Ns (opt)          |             Nr (opt)          |
//! |      Offset Size (opt)        |    Offset pad... (opt)
//! ```
//!
//! Data-plane helpers ([`parse_data_header`], [`write_data_header`]) never allocate: the
//! daemon's fast path uses them on every packet.

use std::ops::Range;

use crate::ids::{SessionId, TunnelId};

/// The only version this crate speaks (RFC 2661 §3.1: Ver MUST be 2).
pub const VERSION: u16 = 2;

pub(crate) const FLAG_T: u16 = 0x8000;
pub(crate) const FLAG_L: u16 = 0x4000;
pub(crate) const FLAG_S: u16 = 0x0800;
pub(crate) const FLAG_O: u16 = 0x0200;
pub(crate) const FLAG_P: u16 = 0x0100;
const VERSION_MASK: u16 = 0x000f;

/// Length of the control header we send: T, L, S set, no offset (RFC 2661 §5.1).
pub const CONTROL_HEADER_LEN: usize = 12;
/// Length of the minimal data header written by [`write_data_header`] (no L, S, O).
pub const DATA_HEADER_LEN: usize = 6;
/// Length of the data header with Ns/Nr written by [`write_sequenced_data_header`].
pub const SEQUENCED_DATA_HEADER_LEN: usize = 10;

/// Why a header was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    #[error("truncated header: need {need} bytes, have {have}")]
    Truncated { need: usize, have: usize },
    #[error("unsupported L2TP version {0} (only 2)")]
    BadVersion(u8),
    #[error("length field {declared} does not fit the datagram of {actual} bytes")]
    BadLength { declared: usize, actual: usize },
    #[error("control message without the L and S bits (RFC 2661 §3.1)")]
    ControlWithoutLengthOrSequence,
    #[error("offset {offset} points beyond the message end {end}")]
    BadOffset { offset: usize, end: usize },
    #[error("no room for a {need}-byte header before offset {have}")]
    NoHeadroom { need: usize, have: usize },
}

/// A parsed control header; the message body is `body` within the datagram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControlHeader {
    pub tunnel_id: TunnelId,
    pub session_id: SessionId,
    pub ns: u16,
    pub nr: u16,
    /// AVPs of the message; empty for a ZLB acknowledgement.
    pub body: Range<usize>,
}

/// A parsed data header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataHeader {
    pub tunnel_id: TunnelId,
    pub session_id: SessionId,
    /// `Some((ns, nr))` when the S bit is set (RFC 2661 §5.8 data sequencing).
    pub sequence: Option<(u16, u16)>,
    /// The P (priority) bit.
    pub priority: bool,
    /// Where the PPP frame starts in the datagram.
    pub payload_offset: usize,
    /// Where the PPP frame ends (the L field if present, else the datagram end).
    pub payload_end: usize,
}

impl DataHeader {
    pub fn payload(&self) -> Range<usize> {
        self.payload_offset..self.payload_end
    }
}

/// Either kind of message, as seen on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Header {
    Control(ControlHeader),
    Data(DataHeader),
}

fn be16(buf: &[u8], at: usize) -> Result<u16, HeaderError> {
    match buf.get(at..at + 2) {
        Some(b) => Ok(u16::from_be_bytes([b[0], b[1]])),
        None => Err(HeaderError::Truncated {
            need: at + 2,
            have: buf.len(),
        }),
    }
}

/// Peek at the T bit and version without parsing the rest.
pub fn is_control(buf: &[u8]) -> bool {
    buf.first().is_some_and(|b| b & 0x80 != 0)
}

/// Parse any L2TPv2 header. A hostile `buf` yields an error, never a panic.
pub fn parse(buf: &[u8]) -> Result<Header, HeaderError> {
    let flags = be16(buf, 0)?;
    let version = flags & VERSION_MASK;
    if version != VERSION {
        return Err(HeaderError::BadVersion(version as u8));
    }
    let mut at = 2;
    let mut end = buf.len();
    if flags & FLAG_L != 0 {
        let declared = be16(buf, at)? as usize;
        if declared > buf.len() {
            return Err(HeaderError::BadLength {
                declared,
                actual: buf.len(),
            });
        }
        end = declared;
        at += 2;
    }
    let tunnel_id = TunnelId(be16(buf, at)?);
    let session_id = SessionId(be16(buf, at + 2)?);
    at += 4;
    let sequence = if flags & FLAG_S != 0 {
        let ns = be16(buf, at)?;
        let nr = be16(buf, at + 2)?;
        at += 4;
        Some((ns, nr))
    } else {
        None
    };
    if flags & FLAG_O != 0 {
        let pad = be16(buf, at)? as usize;
        at += 2 + pad;
    }
    if at > end {
        return Err(HeaderError::BadOffset { offset: at, end });
    }
    if flags & FLAG_T != 0 {
        // RFC 2661 §3.1: L and S MUST be set on control messages.
        let (Some((ns, nr)), true) = (sequence, flags & FLAG_L != 0) else {
            return Err(HeaderError::ControlWithoutLengthOrSequence);
        };
        Ok(Header::Control(ControlHeader {
            tunnel_id,
            session_id,
            ns,
            nr,
            body: at..end,
        }))
    } else {
        Ok(Header::Data(DataHeader {
            tunnel_id,
            session_id,
            sequence,
            priority: flags & FLAG_P != 0,
            payload_offset: at,
            payload_end: end,
        }))
    }
}

/// Parse a data message header for the fast path: no allocation, no copy.
/// Control messages are reported as `Ok(None)` so the caller hands them to the control loop.
pub fn parse_data_header(buf: &[u8]) -> Result<Option<DataHeader>, HeaderError> {
    match parse(buf)? {
        Header::Data(d) => Ok(Some(d)),
        Header::Control(_) => Ok(None),
    }
}

/// Write a minimal data header (flags 0x0002, tunnel, session: RFC 2661 §3.1) into the
/// [`DATA_HEADER_LEN`] bytes right before `payload_start`, and return where the datagram starts.
/// The buffer must have that much headroom in front of the payload.
pub fn write_data_header(
    buf: &mut [u8],
    payload_start: usize,
    peer_tunnel_id: TunnelId,
    peer_session_id: SessionId,
) -> Result<usize, HeaderError> {
    if payload_start < DATA_HEADER_LEN || payload_start > buf.len() {
        return Err(HeaderError::NoHeadroom {
            need: DATA_HEADER_LEN,
            have: payload_start,
        });
    }
    let start = payload_start - DATA_HEADER_LEN;
    let h = &mut buf[start..payload_start];
    h[0..2].copy_from_slice(&VERSION.to_be_bytes());
    h[2..4].copy_from_slice(&peer_tunnel_id.0.to_be_bytes());
    h[4..6].copy_from_slice(&peer_session_id.0.to_be_bytes());
    Ok(start)
}

/// Like [`write_data_header`] but with the S bit and Ns/Nr, for sessions whose LAC sent the
/// Sequencing Required AVP (RFC 2661 §4.4.6: the LNS then MUST sequence data messages).
/// Needs [`SEQUENCED_DATA_HEADER_LEN`] bytes of headroom.
pub fn write_sequenced_data_header(
    buf: &mut [u8],
    payload_start: usize,
    peer_tunnel_id: TunnelId,
    peer_session_id: SessionId,
    ns: u16,
    nr: u16,
) -> Result<usize, HeaderError> {
    if payload_start < SEQUENCED_DATA_HEADER_LEN || payload_start > buf.len() {
        return Err(HeaderError::NoHeadroom {
            need: SEQUENCED_DATA_HEADER_LEN,
            have: payload_start,
        });
    }
    let start = payload_start - SEQUENCED_DATA_HEADER_LEN;
    let h = &mut buf[start..payload_start];
    h[0..2].copy_from_slice(&(FLAG_S | VERSION).to_be_bytes());
    h[2..4].copy_from_slice(&peer_tunnel_id.0.to_be_bytes());
    h[4..6].copy_from_slice(&peer_session_id.0.to_be_bytes());
    h[6..8].copy_from_slice(&ns.to_be_bytes());
    h[8..10].copy_from_slice(&nr.to_be_bytes());
    Ok(start)
}

/// Append a control header (T, L, S set) to `out`; the length is patched by
/// [`finish_control`] once the AVPs are written.
pub(crate) fn begin_control(
    out: &mut Vec<u8>,
    tunnel_id: TunnelId,
    session_id: SessionId,
    ns: u16,
    nr: u16,
) {
    out.extend_from_slice(&(FLAG_T | FLAG_L | FLAG_S | VERSION).to_be_bytes());
    out.extend_from_slice(&[0, 0]);
    out.extend_from_slice(&tunnel_id.0.to_be_bytes());
    out.extend_from_slice(&session_id.0.to_be_bytes());
    out.extend_from_slice(&ns.to_be_bytes());
    out.extend_from_slice(&nr.to_be_bytes());
}

/// Patch the length of a control message started with [`begin_control`] at `start`.
pub(crate) fn finish_control(out: &mut [u8], start: usize) {
    let len = (out.len() - start) as u16;
    out[start + 2..start + 4].copy_from_slice(&len.to_be_bytes());
}

/// Rewrite Nr of a message built by [`begin_control`] (retransmissions carry the current Nr).
pub(crate) fn set_nr(msg: &mut [u8], nr: u16) {
    msg[10..12].copy_from_slice(&nr.to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_header_round_trip_in_place() {
        let mut buf = [0u8; 64];
        buf[16..20].copy_from_slice(b"\xff\x03\xc0\x21");
        let start =
            write_data_header(&mut buf[..20], 16, TunnelId(0x1234), SessionId(0x5678)).unwrap();
        assert_eq!(start, 10);
        let h = parse_data_header(&buf[start..20]).unwrap().unwrap();
        assert_eq!(
            (h.tunnel_id, h.session_id),
            (TunnelId(0x1234), SessionId(0x5678))
        );
        assert_eq!(&buf[start..20][h.payload()], b"\xff\x03\xc0\x21");
        assert_eq!(
            write_data_header(&mut buf, 3, TunnelId(1), SessionId(1)),
            Err(HeaderError::NoHeadroom { need: 6, have: 3 })
        );
    }

    #[test]
    fn sequenced_data_header_round_trip() {
        let mut buf = [0u8; 32];
        buf[20..22].copy_from_slice(b"\x00\x21");
        let start =
            write_sequenced_data_header(&mut buf[..22], 20, TunnelId(7), SessionId(8), 300, 2)
                .unwrap();
        assert_eq!(start, 10);
        assert_eq!(&buf[10..12], &[0x08, 0x02]);
        let h = parse_data_header(&buf[start..22]).unwrap().unwrap();
        assert_eq!(
            (h.tunnel_id, h.session_id, h.sequence),
            (TunnelId(7), SessionId(8), Some((300, 2)))
        );
        assert_eq!(h.payload(), 10..12);
        assert!(write_sequenced_data_header(&mut buf, 9, TunnelId(1), SessionId(1), 0, 0).is_err());
    }

    #[test]
    fn data_header_with_all_options() {
        // T=0 L=1 S=1 O=1 P=1: length, ns/nr, offset size 2 plus two bytes of pad.
        let mut d = vec![
            0x4b, 0x02, 0, 18, 0, 7, 0, 9, 0, 1, 0, 2, 0, 2, 0xaa, 0xbb, 0xc0, 0x21,
        ];
        let h = parse_data_header(&d).unwrap().unwrap();
        assert_eq!(h.sequence, Some((1, 2)));
        assert!(h.priority);
        assert_eq!(h.payload(), 16..18);
        d[3] = 40;
        assert_eq!(
            parse(&d),
            Err(HeaderError::BadLength {
                declared: 40,
                actual: 18
            })
        );
    }

    #[test]
    fn control_requires_l_and_s() {
        assert_eq!(
            parse(&[0x80, 0x02, 0, 1, 0, 0]),
            Err(HeaderError::ControlWithoutLengthOrSequence)
        );
        assert_eq!(parse(&[0xc8, 0x03]), Err(HeaderError::BadVersion(3)));
        assert!(matches!(parse(&[0xc8]), Err(HeaderError::Truncated { .. })));
    }
}
