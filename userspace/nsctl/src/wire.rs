//! The wire format (the C daemon's `control.h`):
//!
//! ```text
//! u16 magic 0x9013 (network order) | u8 type | u8 argc | argc × (u8 len, len bytes) | 0xFF
//! ```
//!
//! At most [`MAX_MESSAGE`] bytes. Request types have bit 0x10 set, responses bit 0x20.
//! The C client silently truncates arguments longer than 255 bytes; [`Message::encode`]
//! refuses them instead, so what arrives is what was typed.

use thiserror::Error;

/// The first two bytes of every message.
pub const MAGIC: u16 = 0x9013;
/// The largest message either side accepts (`NSCTL_MAX_PKT_SZ`).
pub const MAX_MESSAGE: usize = 4096;
/// The byte after the last argument.
const TERMINATOR: u8 = 0xFF;
const HEADER: usize = 4;

/// What a message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// `load_plugin NAME`.
    LoadPlugin,
    /// `unload_plugin NAME`.
    UnloadPlugin,
    /// `help`: the server answers with its command list.
    Help,
    /// Any other command, its words as arguments.
    Control,
    /// Response: done; the arguments are lines for standard output.
    Ok,
    /// Response: refused or failed; the arguments are lines for standard error.
    Err,
}

impl Kind {
    pub fn code(self) -> u8 {
        match self {
            Kind::LoadPlugin => 0x11,
            Kind::UnloadPlugin => 0x12,
            Kind::Help => 0x13,
            Kind::Control => 0x14,
            Kind::Ok => 0x21,
            Kind::Err => 0x22,
        }
    }

    pub fn from_code(code: u8) -> Option<Kind> {
        Some(match code {
            0x11 => Kind::LoadPlugin,
            0x12 => Kind::UnloadPlugin,
            0x13 => Kind::Help,
            0x14 => Kind::Control,
            0x21 => Kind::Ok,
            0x22 => Kind::Err,
            _ => return None,
        })
    }

    pub fn is_request(self) -> bool {
        self.code() & 0x10 != 0
    }

    pub fn is_response(self) -> bool {
        self.code() & 0x20 != 0
    }
}

/// One control message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub kind: Kind,
    pub args: Vec<Vec<u8>>,
}

/// Why bytes are not a message. The names are the C client's (`short packet`, `extra data`,
/// `bad magic`, `invalid type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum DecodeError {
    #[error("short packet")]
    Short,
    #[error("extra data")]
    Long,
    #[error("bad magic")]
    BadMagic,
    #[error("invalid type {0:#04x}")]
    BadType(u8),
}

/// Why a message cannot be sent.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EncodeError {
    #[error("argument {index} is {len} bytes long; at most 255 fit in a message")]
    ArgumentTooLong { index: usize, len: usize },
    #[error("{0} arguments; at most 255 fit in a message")]
    TooManyArguments(usize),
    #[error("the message would be {0} bytes; at most 4096 fit")]
    TooLarge(usize),
}

impl Message {
    pub fn new<I, A>(kind: Kind, args: I) -> Message
    where
        I: IntoIterator<Item = A>,
        A: Into<Vec<u8>>,
    {
        Message {
            kind,
            args: args.into_iter().map(Into::into).collect(),
        }
    }

    /// The datagram for this message.
    pub fn encode(&self) -> Result<Vec<u8>, EncodeError> {
        if self.args.len() > 255 {
            return Err(EncodeError::TooManyArguments(self.args.len()));
        }
        let size = HEADER + self.args.iter().map(|a| 1 + a.len()).sum::<usize>() + 1;
        if let Some((index, a)) = self.args.iter().enumerate().find(|(_, a)| a.len() > 255) {
            return Err(EncodeError::ArgumentTooLong {
                index,
                len: a.len(),
            });
        }
        if size > MAX_MESSAGE {
            return Err(EncodeError::TooLarge(size));
        }
        let mut out = Vec::with_capacity(size);
        out.extend_from_slice(&MAGIC.to_be_bytes());
        out.push(self.kind.code());
        out.push(self.args.len() as u8);
        for a in &self.args {
            out.push(a.len() as u8);
            out.extend_from_slice(a);
        }
        out.push(TERMINATOR);
        Ok(out)
    }

    /// Parses one datagram. Everything the C decoder (`unpack_control`) refuses is refused,
    /// with the same reason.
    pub fn decode(data: &[u8]) -> Result<Message, DecodeError> {
        if data.len() < HEADER {
            return Err(DecodeError::Short);
        }
        if data.len() > MAX_MESSAGE {
            return Err(DecodeError::Long);
        }
        if u16::from_be_bytes([data[0], data[1]]) != MAGIC {
            return Err(DecodeError::BadMagic);
        }
        let kind = Kind::from_code(data[2]).ok_or(DecodeError::BadType(data[2]))?;
        let argc = usize::from(data[3]);
        let mut rest = &data[HEADER..];
        let mut args = Vec::with_capacity(argc);
        for _ in 0..argc {
            let (&len, tail) = rest.split_first().ok_or(DecodeError::Short)?;
            let len = usize::from(len);
            if tail.len() < len {
                return Err(DecodeError::Short);
            }
            args.push(tail[..len].to_vec());
            rest = &tail[len..];
        }
        match rest.split_first() {
            Some((&TERMINATOR, [])) => Ok(Message { kind, args }),
            Some((&TERMINATOR, _)) => Err(DecodeError::Long),
            _ => Err(DecodeError::Short),
        }
    }

    /// The arguments as text (invalid UTF-8 replaced), for printing.
    pub fn lines(&self) -> impl Iterator<Item = String> + '_ {
        self.args
            .iter()
            .map(|a| String::from_utf8_lossy(a).into_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // `nsctl drop alice` as the C client packs it.
    const C_DROP_ALICE: &[u8] = b"\x90\x13\x14\x02\x04drop\x05alice\xff";

    #[test]
    fn decodes_what_the_c_client_sends() {
        let m = Message::decode(C_DROP_ALICE).unwrap();
        assert_eq!(m, Message::new(Kind::Control, ["drop", "alice"]));
        assert_eq!(m.encode().unwrap(), C_DROP_ALICE);
    }

    #[test]
    fn empty_help_request() {
        let m = Message::new(Kind::Help, Vec::<Vec<u8>>::new());
        assert_eq!(m.encode().unwrap(), b"\x90\x13\x13\x00\xff");
    }

    #[test]
    fn refuses_what_the_c_decoder_refuses() {
        assert_eq!(Message::decode(b"\x90\x13\x14"), Err(DecodeError::Short));
        assert_eq!(
            Message::decode(b"\x90\x14\x14\x00\xff"),
            Err(DecodeError::BadMagic)
        );
        assert_eq!(
            Message::decode(b"\x90\x13\x15\x00\xff"),
            Err(DecodeError::BadType(0x15))
        );
        // No terminator, a wrong terminator, an argument running past the end.
        assert_eq!(
            Message::decode(b"\x90\x13\x14\x00"),
            Err(DecodeError::Short)
        );
        assert_eq!(
            Message::decode(b"\x90\x13\x14\x00\x00"),
            Err(DecodeError::Short)
        );
        assert_eq!(
            Message::decode(b"\x90\x13\x14\x01\x05ab\xff"),
            Err(DecodeError::Short)
        );
        // Bytes after the terminator.
        assert_eq!(
            Message::decode(b"\x90\x13\x14\x00\xff\x00"),
            Err(DecodeError::Long)
        );
        let mut big = vec![0u8; MAX_MESSAGE + 1];
        big[..5].copy_from_slice(b"\x90\x13\x14\x00\xff");
        assert_eq!(Message::decode(&big), Err(DecodeError::Long));
    }

    #[test]
    fn an_argument_of_255_bytes_fits_and_256_does_not() {
        let m = Message::new(Kind::Control, [vec![b'x'; 255]]);
        assert_eq!(Message::decode(&m.encode().unwrap()).unwrap(), m);
        let m = Message::new(Kind::Control, [vec![b'x'; 256]]);
        assert_eq!(
            m.encode(),
            Err(EncodeError::ArgumentTooLong { index: 0, len: 256 })
        );
    }

    #[test]
    fn size_limits() {
        let m = Message::new(Kind::Ok, vec![vec![b'x'; 200]; 21]);
        assert!(matches!(m.encode(), Err(EncodeError::TooLarge(_))));
        let m = Message::new(Kind::Ok, vec![Vec::new(); 256]);
        assert_eq!(m.encode(), Err(EncodeError::TooManyArguments(256)));
    }

    #[test]
    fn request_and_response_bits() {
        for k in [
            Kind::LoadPlugin,
            Kind::UnloadPlugin,
            Kind::Help,
            Kind::Control,
        ] {
            assert!(k.is_request() && !k.is_response());
            assert_eq!(Kind::from_code(k.code()), Some(k));
        }
        for k in [Kind::Ok, Kind::Err] {
            assert!(k.is_response() && !k.is_request());
        }
    }
}
