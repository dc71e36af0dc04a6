//! `l2tpns-capture`: the receiving end of l2tpns's interception.
//!
//! A snooped session's packets arrive one bare IP packet per UDP datagram (no extra header, as
//! the C l2tpns sends them). [`classify`] decides whether a datagram is such a packet, [`pcap`]
//! writes the accepted ones as classic pcap records, and [`capture`] ties both to a socket and
//! keeps the counters the summary line prints.

pub mod capture;
pub mod classify;
pub mod fuzzing;
pub mod pcap;
