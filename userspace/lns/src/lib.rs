//! The l2tpns daemon: the operating system's side of the LNS. [`daemon`] is the event loop
//! around the sans-IO endpoint of `lns-core`; [`startup`] reads the three configuration
//! files, [`tun_device`], [`udp_batch`], [`routes`] and [`peer_uid`] are the system calls,
//! [`logging`] the log backend. No protocol decision is made here.
//!
//! The configuration, the data plane and the endpoint are re-exported under their old names
//! for the daemon's binary and the fuzz targets.

pub mod daemon;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
pub mod http;
pub mod logging;
pub mod metrics;
pub mod peer_uid;
pub mod privileges;
pub mod reuseport;
pub mod routes;
pub mod runner;
pub mod startup;
pub mod state_io;
pub use tun_device;
pub mod udp_batch;

pub use lns_config::{config, ip_pool, users};
pub use lns_core::{acct_dump, state_file};
pub use lns_dataplane::{data_plane, icmp, mss_clamp, session_table};
