//! iptoip: keep the IPVS table in step with the original iptoip XML config and the address of
//! an interface, over generic netlink, changing only what differs.
//!
//! config (XML → [`config::Config`]) → desired ([`desired::build`], with the interface's
//! addresses from [`addrs`]) → [`diff::plan`] against the kernel's table ([`ipvs`]) and the
//! services iptoip owns ([`state`]) → operations, applied by [`apply`]; [`watch`] re-runs that on
//! address changes.

pub mod addrs;
pub mod apply;
pub mod config;
pub mod desired;
pub mod diff;
pub mod fuzzing;
pub mod ipvs;
pub mod logging;
pub mod netlink;
pub mod report;
pub mod state;
pub mod table;
pub mod watch;
