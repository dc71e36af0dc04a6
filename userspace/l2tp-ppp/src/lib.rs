//! PPP over L2TP (RFC 2661 §3.1, §7.4): an L2TP engine whose established calls each carry a
//! PPP link ([`endpoint`]), and the LNS's reading of a LAC's proxy LCP and proxy
//! authentication ([`proxy`], RFC 2661 §4.4.5). The LNS (`lns-core`) and the LAC simulator
//! (`l2tp-lac`) are both built on this one composition, so what the tests drive is what ships.

pub mod endpoint;
pub mod proxy;

pub use endpoint::{CallId, Endpoint, EndpointEvent, EndpointStats, SendError, SessionFactory};
