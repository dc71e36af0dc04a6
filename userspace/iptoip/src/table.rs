//! The IPVS table as iptoip sees it: virtual services keyed by (protocol, address, port), each with
//! a scheduler and its real servers. The same types describe the desired table (from the config)
//! and the current one (dumped from the kernel), so the diff compares like with like.

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;

/// Transport protocol of a virtual service (`<protocol>` t/u; `a` expands to both).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Protocol {
    Tcp,
    Udp,
}

impl Protocol {
    /// IANA protocol number, as IPVS_SVC_ATTR_PROTOCOL carries it.
    pub fn number(self) -> u16 {
        match self {
            Protocol::Tcp => 6,
            Protocol::Udp => 17,
        }
    }

    pub fn from_number(n: u16) -> Option<Protocol> {
        match n {
            6 => Some(Protocol::Tcp),
            17 => Some(Protocol::Udp),
            _ => None,
        }
    }

    /// Name as the state file and the logs spell it.
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
        }
    }

    pub fn from_name(s: &str) -> Option<Protocol> {
        match s {
            "tcp" => Some(Protocol::Tcp),
            "udp" => Some(Protocol::Udp),
            _ => None,
        }
    }
}

/// Packet-forwarding method of a real server (`<forward>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Forward {
    /// NAT (`masq`, ipvsadm `-m`), the default.
    Masq,
    /// Direct routing (`gate`, ipvsadm `-g`).
    Gate,
    /// IP-in-IP tunnelling (`tunl`, ipvsadm `-i`).
    Tunnel,
    /// A method iptoip never sets (local node, bypass), found on a dumped real server.
    Other(u32),
}

impl Forward {
    /// IP_VS_CONN_F_* value of IPVS_DEST_ATTR_FWD_METHOD (linux/ip_vs.h).
    pub fn kernel_value(self) -> u32 {
        match self {
            Forward::Masq => 0,
            Forward::Tunnel => 2,
            Forward::Gate => 3,
            Forward::Other(v) => v,
        }
    }

    /// Inverse of [`Forward::kernel_value`] (IP_VS_CONN_F_FWD_MASK = 7).
    pub fn from_kernel_value(v: u32) -> Forward {
        match v & 0x7 {
            0 => Forward::Masq,
            2 => Forward::Tunnel,
            3 => Forward::Gate,
            other => Forward::Other(other),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Forward::Masq => "masq",
            Forward::Gate => "gate",
            Forward::Tunnel => "tunl",
            Forward::Other(1) => "local",
            Forward::Other(_) => "other",
        }
    }
}

/// Identity of a virtual service: what `ipvsadm -A -t|-u ADDR:PORT` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ServiceKey {
    pub protocol: Protocol,
    pub addr: IpAddr,
    pub port: u16,
}

impl fmt::Display for ServiceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}",
            self.protocol.name().to_uppercase(),
            Endpoint(self.addr, self.port)
        )
    }
}

/// Identity of a real server within a service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DestKey {
    pub addr: IpAddr,
    pub port: u16,
}

impl fmt::Display for DestKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Endpoint(self.addr, self.port).fmt(f)
    }
}

/// `addr:port`, with brackets around IPv6 addresses as ipvsadm prints them.
pub struct Endpoint(pub IpAddr, pub u16);

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            IpAddr::V4(a) => write!(f, "{a}:{}", self.1),
            IpAddr::V6(a) => write!(f, "[{a}]:{}", self.1),
        }
    }
}

/// The settings of a real server that iptoip manages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DestSpec {
    pub forward: Forward,
    pub weight: u32,
}

/// A virtual service and its real servers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceSpec {
    pub scheduler: String,
    pub dests: BTreeMap<DestKey, DestSpec>,
}

/// A whole table. BTreeMap so that plans and reports come out in a stable order.
pub type Table = BTreeMap<ServiceKey, ServiceSpec>;
