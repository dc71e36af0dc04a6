//! Typed decode errors. Every decoder in this crate takes hostile bytes and returns one of these
//! instead of panicking.

use std::fmt;

/// Why a PPP frame, control packet or option list could not be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecodeError {
    /// Fewer bytes than the fixed part of the structure needs.
    Truncated {
        /// What was being decoded.
        what: &'static str,
        /// Bytes needed.
        needed: usize,
        /// Bytes available.
        available: usize,
    },
    /// The PPP Protocol field violates RFC 1661 §2 (low octet must be odd, high octet even).
    BadProtocolField(u16),
    /// The Length field of a control packet is below the header size or beyond the buffer.
    BadLength {
        /// What was being decoded.
        what: &'static str,
        /// The length field's value.
        length: usize,
        /// Bytes available.
        available: usize,
    },
    /// A configuration option has a length below 2 or past the end of the packet.
    BadOptionLength {
        /// Option type.
        kind: u8,
        /// Its length octet.
        length: u8,
    },
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            DecodeError::Truncated {
                what,
                needed,
                available,
            } => write!(
                f,
                "{what}: truncated, need {needed} bytes, have {available}"
            ),
            DecodeError::BadProtocolField(p) => {
                write!(f, "PPP protocol field {p:#06x} is not valid (RFC 1661 §2)")
            }
            DecodeError::BadLength {
                what,
                length,
                available,
            } => write!(
                f,
                "{what}: length field {length} invalid for {available} bytes"
            ),
            DecodeError::BadOptionLength { kind, length } => {
                write!(f, "configuration option {kind}: invalid length {length}")
            }
        }
    }
}

impl std::error::Error for DecodeError {}
