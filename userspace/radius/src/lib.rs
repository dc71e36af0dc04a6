//! RADIUS for the LNS: a codec for RFC 2865 (authentication), RFC 2866 (accounting),
//! RFC 2869 (extensions) and RFC 5176 (CoA/Disconnect), a sans-IO client that allocates
//! identifiers, retransmits with backoff across two servers and authenticates replies, and a
//! sans-IO Dynamic Authorization server.
//!
//! Nothing here does I/O, reads a clock or spawns a thread: bytes and `now` go in, datagrams
//! to send, timer deadlines and events come out ([`Client`]; [`dae::DaeServer`] likewise turns
//! Disconnect/CoA requests into typed requests and typed answers into signed replies). The
//! daemon owns the sockets.
//!
//! # Why not the crates.io `radius` crate
//!
//! We reviewed `radius` 0.4.0 (moznion/radius-rs) and did not adopt it:
//! * it has no Message-Authenticator (HMAC-MD5, RFC 3579 §3.2) support at all, which the LNS
//!   must send and verify (BlastRADIUS, CVE-2024-3596);
//! * it is not sans-IO: it depends on tokio (`features = ["full"]`, not optional) and its
//!   client is an async socket loop with no server failover or identifier management;
//! * packets draw their identifier and authenticator from `rand::thread_rng()` internally and
//!   carry the secret inside every packet, so behaviour cannot be driven deterministically;
//! * its authenticator checks compare with `==` (not constant-time) and hash everything after
//!   the header of the *datagram*, not up to the Length field, so a padded reply is rejected;
//! * no typed vendor attributes (Cisco-AVPair, Ascend/Microsoft DNS).
//!
//! The codec here is small (RFC framing is simple) and built on the RustCrypto `md-5` and
//! `hmac` crates.
//!
//! # Layout
//! * [`wire`]: zero-copy validation of a datagram ([`RawPacket`]).
//! * [`attribute`], [`value`], [`vsa`]: the typed dictionary.
//! * [`packet`]: owned [`Packet`] decode/encode.
//! * [`auth`]: authenticators, Message-Authenticator, User-Password hiding, CHAP.
//! * [`client`]: the retry/failover client.
//! * [`dae`]: the Dynamic Authorization (Disconnect/CoA, RFC 5176) server.
//! * [`fuzzing`]: entry points for the fuzz targets.

pub mod attribute;
pub mod auth;
pub mod client;
pub mod code;
pub mod dae;
pub mod fuzzing;
pub mod packet;
pub mod value;
pub mod vsa;
pub mod wire;

pub use attribute::{
    acct_authentic, acct_status_type, acct_terminate_cause, error_cause, framed_protocol,
    nas_port_type, service_type, tunnel_medium_type, tunnel_type, types, Attribute,
};
pub use auth::{
    chap_md5_response, hide_tunnel_password, hide_user_password, sign, unhide_tunnel_password,
    unhide_user_password, verify_request, verify_response, AuthError, MessageAuthenticator,
    PasswordError, SignError,
};
pub use client::{
    Client, ClientConfig, ConfigError, Event, MessageAuthenticatorPolicy, ReplyError, Request,
    RequestId, SendError, ServerConfig, Stats, Transmit,
};
pub use code::Code;
pub use packet::Packet;
pub use value::{ChapPassword, EncodeError, Ipv6Prefix, TaggedInt, TaggedText, TunnelPassword};
pub use vsa::Vsa;
pub use wire::{DecodeError, RawAttribute, RawPacket};

/// RADIUS header: Code, Identifier, Length, Authenticator (RFC 2865 §3).
pub const HEADER_LEN: usize = 20;
/// Largest RADIUS packet (RFC 2865 §3).
pub const MAX_PACKET_LEN: usize = 4096;
