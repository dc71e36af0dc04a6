//! Typed configuration options of LCP, IPCP and IPV6CP.

pub mod ipcp;
pub mod ipv6cp;
pub mod lcp;

pub use ipcp::IpcpOption;
pub use ipv6cp::Ipv6cpOption;
pub use lcp::{AuthProtocol, LcpOption};
