//! The l2tpns-compatible LNS daemon as a library: its configuration files (`startup-config`,
//! `users`, `ip_pool`), the IP pool allocator, the session table, the data plane's per-packet
//! work, the accounting dumps, the state file, and the daemon itself ([`daemon`]).
//! Everything outside [`daemon`], [`tun_device`], [`udp_batch`], [`routes`] and [`logging`] is
//! sans-IO: parsers take text plus a file name for messages, and the tables are plain data
//! structures driven by the daemon's control loop.

pub mod acct_dump;
pub use lns_config::{config, ip_pool, users};
pub use lns_dataplane::{data_plane, icmp, mss_clamp, session_table};
pub mod daemon;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
pub mod logging;
pub mod peer_uid;
pub mod routes;
pub mod startup;
pub mod state_file;
pub mod tun_device;
pub mod udp_batch;
