//! L2TPv2 (RFC 2661) for an LNS and a LAC, without I/O.
//!
//! * [`header`]: control and data headers; allocation-free data-plane helpers.
//! * [`avp`], [`hidden`], [`message`]: the AVP codec with hidden AVPs (§4.3) and messages.
//! * [`Engine`]: tunnels and calls of both roles with reliable delivery (§5.8), driven by
//!   `handle_datagram(now, from, bytes)` / `handle_timeout(now)` and drained with
//!   `poll_transmit()` / `poll_event()` / `poll_timeout()`. No sockets, clocks or threads.

pub mod auth;
pub mod avp;
pub mod call;
pub mod config;
pub mod engine;
pub mod fuzzing;
pub mod header;
pub mod hidden;
pub mod message;
pub mod reliable;
mod tunnel;

pub use avp::{Avp, AvpValue, CallErrors, ResultCode};
pub use call::{CallInfo, ProxyAuth};
pub use config::{Config, ConfigError};
pub use engine::{
    Admission, CloseCause, DataRoute, Dropped, Engine, Error, Event, Stats, Transmit,
};
pub use message::{Message, MessageType};
pub use reliable::RetransmitConfig;
