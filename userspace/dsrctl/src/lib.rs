//! dsrctl: puts the L2DSR/L3DSR VIPs of `/etc/dsr.d` on the loopback and adds the DADDR rules
//! of the L3DSR ones, reports them, and removes them again; the behaviour and the status
//! table of the upstream dsrtools (yahoo/l3dsr), over rtnetlink and iptables/ip6tables.
//!
//! `config` reads the files, `state` reads what runs, `plan` compares them (pure); `exec`
//! and the binary make the changes.

pub mod cli;
pub mod config;
pub mod exec;
pub mod plan;
pub mod state;
