//! The l2tpns control protocol, as the C `nsctl` and l2tpns speak it, and
//! the request vocabulary our daemon answers.
//!
//! * [`wire`]: one UDP datagram per message, `0x9013`, type, argc, length-prefixed
//!   arguments, `0xFF` terminator. Decoding is total: any byte string gives a message or a
//!   [`wire::DecodeError`], never a panic.
//! * [`command`]: what a request asks for (the C plugins' commands, `help`, plugin loading,
//!   `show` queries), parsed from a decoded request so the daemon's handler only acts.
//! * [`paging`]: answers longer than one datagram, in pages linked by continuation lines.
//! * [`fuzzing`]: entry points of the cargo-fuzz targets in `fuzz/`.
//!
//! The client binary is `src/main.rs`; the server lives in the daemon (`lns::daemon`).

pub mod command;
pub mod fuzzing;
pub mod paging;
pub mod wire;

/// The UDP port nsctl talks to by default.
pub const DEFAULT_PORT: u16 = 1702;
