//! The LNS data plane as pure functions: what a packet worker does between a TUN read and a
//! UDP send (downstream) and between a UDP receive and a TUN write (upstream), with the
//! buffers and sockets left to the caller so the same code can run on every core.
//!
//! * [`session_table`]: the control plane's session table and the lock-free view of it that
//!   packet workers read (the only thing the two planes share).
//! * [`data_plane`]: classify, write the L2TP and PPP headers in place, anti-spoof, count.
//! * [`mss_clamp`]: TCP MSS clamping (RFC 879, RFC 6691).
//! * [`policy`], [`acl`]: throttling, access lists and interception per session.
//! * [`fuzzing`]: the entry point of the `acl` fuzz target.
//! * [`icmp`]: ICMP destination-unreachable for packets no session takes (RFC 792, RFC 1812).

pub mod acl;
pub mod data_plane;
pub mod fuzzing;
pub mod icmp;
pub mod mss_clamp;
pub mod policy;
pub mod session_table;
