//! L2TPv2 (RFC 2661) for an LNS and a LAC, without I/O.
//!
//! * [`header`]: control and data headers; allocation-free data-plane helpers.
//! * [`avp`], [`hidden`], [`message`]: the AVP codec with hidden AVPs (§4.3) and messages.
//! * [`Engine`]: tunnels and calls of both roles with reliable delivery (§5.8), driven by
//!   `handle_datagram(now, from, bytes)` / `handle_timeout(now)` and drained with
//!   `poll_transmit()` / `poll_event()` / `poll_timeout()`. No sockets, clocks or threads.
//!
//! The daemon's loop: receive a datagram → [`Engine::handle_datagram`]; when the instant of
//! [`Engine::poll_timeout`] passes → [`Engine::handle_timeout`]; after either, send every
//! [`Engine::poll_transmit`] and act on every [`Engine::poll_event`]. PPP frames arrive as
//! [`Event::Payload`] and leave through [`Engine::send_data`] (or, on the fast path,
//! [`header::parse_data_header`] / [`header::write_data_header`] with [`Engine::data_route`]).
//!
//! A LAC and an LNS talking in memory:
//!
//! ```
//! use std::net::SocketAddr;
//! use std::time::Instant;
//! use l2tp::{CallInfo, Config, Engine, Event};
//! use l2tp::fuzzing::TestRng; // tests only: give the daemon a CSPRNG
//!
//! let (lac_addr, lns_addr): (SocketAddr, SocketAddr) =
//!     ("192.0.2.1:1701".parse().unwrap(), "192.0.2.2:1701".parse().unwrap());
//! let secret = Some(b"tunnel secret".to_vec());
//! let mut lac = Engine::new(Config { secret: secret.clone(), accept_incoming: false, ..Config::default() },
//!                           Box::new(TestRng(1))).unwrap();
//! let mut lns = Engine::new(Config { secret, ..Config::default() }, Box::new(TestRng(2))).unwrap();
//! let now = Instant::now();
//!
//! let tunnel = lac.connect(now, lns_addr).unwrap();
//! let mut lns_events = Vec::new();
//! for _ in 0..10 {
//!     while let Some(t) = lac.poll_transmit() { lns.handle_datagram(now, lac_addr, &t.contents).unwrap(); }
//!     while let Some(t) = lns.poll_transmit() { lac.handle_datagram(now, lns_addr, &t.contents).unwrap(); }
//!     while let Some(e) = lac.poll_event() {
//!         if let Event::TunnelUp { .. } = e {
//!             lac.open_session(now, tunnel, CallInfo { serial: 1, ..CallInfo::default() }).unwrap();
//!         }
//!     }
//!     lns_events.extend(std::iter::from_fn(|| lns.poll_event()));
//! }
//! assert!(matches!(lns_events[0], Event::TunnelUp { .. }));
//! assert!(matches!(lns_events[1], Event::SessionUp { .. }));
//! ```

pub mod auth;
pub mod avp;
pub mod call;
pub mod config;
pub mod engine;
pub mod fuzzing;
pub mod header;
pub mod hidden;
pub mod ids;
pub mod message;
pub mod reliable;
pub mod snapshot;
mod tunnel;

pub use avp::{Avp, AvpValue, CallErrors, ResultCode};
pub use call::{CallInfo, ProxyAuth};
pub use config::{Config, ConfigError};
pub use engine::{
    Admission, CloseCause, DataRoute, Dropped, Engine, Error, Event, Stats, Transmit,
};
pub use ids::{CallId, SessionId, TunnelId};
pub use message::{Message, MessageType};
pub use reliable::RetransmitConfig;
pub use snapshot::{ResumeError, SessionSnapshot, TunnelSnapshot};
