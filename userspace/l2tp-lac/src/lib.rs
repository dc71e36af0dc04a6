//! The LAC simulator's library: the LNS's own L2TP↔PPP composition ([`l2tp_ppp`]), and the
//! IPv4/UDP probes it sends through them ([`probe`]). The `l2tp-lac` binary adds sockets,
//! a clock and reporting; the tests run the same composition in memory on both sides.

pub mod fuzzing;
pub mod probe;
pub mod proxy;

pub use l2tp_ppp::{
    endpoint, CallId, Endpoint, EndpointEvent, EndpointStats, SendError, SessionFactory,
};
