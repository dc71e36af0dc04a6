//! The LNS endpoint, sans-IO: everything an L2TP Network Server decides, and nothing it
//! does to the operating system.
//!
//! [`Endpoint`] owns the tunnels and calls and their PPP links (through the shared
//! [`l2tp_ppp`] composition), the RADIUS transactions (two [`radius::Client`]s), the address
//! pool, the session table (whose published view the data plane reads), the session timers,
//! the accounting decisions and the state snapshot. It is fed datagrams, commands and the
//! passing of time, and answers with [`Action`]s for the daemon to carry out.
//!
//! # Call contract
//!
//! In the manner of quinn-proto's `Endpoint`:
//! * Time comes only from the `now` arguments, one [`std::time::Instant`] base for
//!   everything (wall-clock values such as Event-Timestamp are derived from it through the
//!   [`Clock`] given at construction). Randomness comes only from the RNG given at
//!   construction. No sockets, clocks, threads or log backend inside (the `log` facade only).
//! * After any `handle_*` call, call [`Endpoint::poll_action`] until it returns `None` and
//!   carry each action out in order; then sleep until [`Endpoint::poll_timeout`] or the next
//!   datagram, whichever is first, and call [`Endpoint::handle_timeout`] when it is due.
//!   Calling `handle_timeout` early is harmless.
//! * Publishing a session to the data plane is a write into the lock-free session table
//!   ([`lns_dataplane::session_table`]) the data plane reads through [`Endpoint::data_plane`]:
//!   the publication is visible to packet workers as soon as the call returns.
//! * Packets the data plane cannot forward by itself (sequenced calls, users' packets before
//!   their session is published) come back through [`Endpoint::handle_tun_packet`] and
//!   [`Endpoint::handle_l2tp`].
//!
//! The same operations applied in the same order with the same RNG give the same state:
//! this is what the in-memory tests and, later, cluster replication rely on.

mod accounting;
pub mod acct_dump;
mod action;
mod clock;
pub mod command;
mod commands;
mod dae;
mod endpoint;
mod lifecycle;
pub mod plugins;
pub mod policy;
mod radius_glue;
mod session;
mod snapshot;
pub mod state_file;

pub use action::{Action, HookEvent, RadiusClientKind};
pub use clock::Clock;
pub use command::{
    AccessListInfo, Command, CommandError, Ended, PolicyAttributes, PoolAddress, PoolInfo,
    RadiusClientInfo, RadiusInfo, Reply, SessionChanges, SessionInfo, SessionMatch, Target,
    ThrottleFigures, TunnelInfo,
};
pub use endpoint::{CoreError, Endpoint, Environment, Stats, SHUTDOWN_BOUND};
pub use policy::{Policy, Rates};
pub use radius_glue::parse_framed_route;
pub use session::{SessionName, TerminateCause};

pub use lns_config::{config, ip_pool, users};
pub use lns_dataplane::session_table;
