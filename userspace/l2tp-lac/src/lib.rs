//! The LAC simulator's library: an L2TP engine carrying PPP links ([`endpoint`]), and the
//! IPv4/UDP probes it sends through them ([`probe`]). The `l2tp-lac` binary adds sockets,
//! a clock and reporting; the tests run the same composition in memory on both sides.

pub mod endpoint;
pub mod fuzzing;
pub mod probe;
pub mod proxy;

pub use endpoint::{CallId, Endpoint, EndpointEvent, EndpointStats, SendError, SessionFactory};
