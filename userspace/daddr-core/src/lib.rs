//! DADDR: rewrite the destination address of an IPv4 or IPv6 packet in place and keep every
//! checksum right (IPv4 header; TCP, UDP, UDP-Lite, DCCP and ICMPv6 pseudo-header checksums; the
//! socket buffer's `CHECKSUM_COMPLETE` sum).
//!
//! The logic lives in [`rewrite`] and [`checkentry`], which use nothing but `core`: the kernel
//! module `kmod-daddr` compiles those very files into `xt_DADDR.ko` through a `#[path]` module, so
//! what `cargo test` checks here is what runs in the kernel.
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod checkentry;
pub mod rewrite;

#[cfg(feature = "fuzzing")]
pub mod fuzzing;

pub use rewrite::{rewrite_v4, rewrite_v6, CsumMode, Outcome, PacketMeta, SkbCsum, Verdict};
