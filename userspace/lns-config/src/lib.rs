//! The LNS's three configuration files, as text in and typed values out: `startup-config`
//! ([`config`]: parse, validate, render for `write memory`, diff for a reload), `users`
//! ([`users`]: management logins and CHAP secrets) and `ip_pool` ([`ip_pool`]: the pool file
//! and the address allocator it describes).
//!
//! No I/O: every parser takes the bytes it is given plus a file name for its messages, and
//! every error names file, line and key or entry. Reading the files is the daemon's job.

pub mod config;
pub mod ip_pool;
pub mod users;
