//! An I/O-free PPP engine for an L2TP network server and its LAC simulator.
//!
//! * [`fsm`]: the RFC 1661 option negotiation automaton, written once ([`state_table`] is the
//!   §4.1 table as data) and parameterised by a [`fsm::Negotiator`]: [`lcp`], [`ipcp`],
//!   [`ipv6cp`].
//! * [`pap`] (RFC 1334) and [`chap`] (RFC 1994, MD5) codecs and both sides of each.
//! * [`session`]: one PPP link (LCP → authentication → IPCP/IPV6CP), driven quinn-proto style:
//!   `handle_frame(now, bytes)`, `handle_timeout(now)`, `poll_transmit()`, `poll_timeout()`,
//!   `poll_event()`. The authenticator asks for a verdict with an event and takes the answer
//!   later ([`session::Session::auth_verdict`]), so the daemon can ask RADIUS.
//! * [`proxy`]: proxy LCP / proxy authentication values from an L2TP ICCN (RFC 2661 §4.4.5).
//!
//! No sockets, clocks, threads or logging: time comes in as `now`, randomness as a seed.

pub mod chap;
pub mod entropy;
pub mod error;
pub mod frame;
pub mod fsm;
pub mod fuzzing;
pub mod ipcp;
pub mod ipv6cp;
pub mod lcp;
pub mod options;
pub mod packet;
pub mod pap;
pub mod proxy;
mod queue;
pub mod session;
pub mod snapshot;
pub mod state_table;

pub use error::DecodeError;
