//! IPCP configuration options (RFC 1332 §3, RFC 1877 for DNS/NBNS).

use std::net::Ipv4Addr;

use crate::packet::{put_option, ConfigOption};

/// Option type numbers.
pub mod kind {
    /// IP-Compression-Protocol (RFC 1332 §3.2).
    pub const IP_COMPRESSION_PROTOCOL: u8 = 2;
    /// IP-Address (RFC 1332 §3.3).
    pub const IP_ADDRESS: u8 = 3;
    /// Primary DNS Server Address (RFC 1877 §1.1).
    pub const PRIMARY_DNS: u8 = 129;
    /// Primary NBNS Server Address (RFC 1877 §1.2).
    pub const PRIMARY_NBNS: u8 = 130;
    /// Secondary DNS Server Address (RFC 1877 §1.3).
    pub const SECONDARY_DNS: u8 = 131;
    /// Secondary NBNS Server Address (RFC 1877 §1.4).
    pub const SECONDARY_NBNS: u8 = 132;
}

/// One IPCP option.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IpcpOption {
    /// IP-Compression-Protocol (Van Jacobson etc.), always rejected by us.
    IpCompression {
        /// Protocol.
        protocol: u16,
        /// Parameters.
        data: Vec<u8>,
    },
    /// IP-Address.
    IpAddress(Ipv4Addr),
    /// Primary DNS.
    PrimaryDns(Ipv4Addr),
    /// Primary NBNS.
    PrimaryNbns(Ipv4Addr),
    /// Secondary DNS.
    SecondaryDns(Ipv4Addr),
    /// Secondary NBNS.
    SecondaryNbns(Ipv4Addr),
    /// Unknown or malformed (including the deprecated IP-Addresses, type 1).
    Other {
        /// Type.
        kind: u8,
        /// Data.
        data: Vec<u8>,
    },
}

impl ConfigOption for IpcpOption {
    fn from_parts(k: u8, data: &[u8]) -> Self {
        let addr =
            |d: &[u8]| -> Option<Ipv4Addr> { <[u8; 4]>::try_from(d).ok().map(Ipv4Addr::from) };
        match (k, data) {
            (kind::IP_COMPRESSION_PROTOCOL, &[a, b, ref rest @ ..]) => IpcpOption::IpCompression {
                protocol: u16::from_be_bytes([a, b]),
                data: rest.to_vec(),
            },
            (kind::IP_ADDRESS, d) if d.len() == 4 => {
                IpcpOption::IpAddress(addr(d).unwrap_or(Ipv4Addr::UNSPECIFIED))
            }
            (kind::PRIMARY_DNS, d) if d.len() == 4 => {
                IpcpOption::PrimaryDns(addr(d).unwrap_or(Ipv4Addr::UNSPECIFIED))
            }
            (kind::PRIMARY_NBNS, d) if d.len() == 4 => {
                IpcpOption::PrimaryNbns(addr(d).unwrap_or(Ipv4Addr::UNSPECIFIED))
            }
            (kind::SECONDARY_DNS, d) if d.len() == 4 => {
                IpcpOption::SecondaryDns(addr(d).unwrap_or(Ipv4Addr::UNSPECIFIED))
            }
            (kind::SECONDARY_NBNS, d) if d.len() == 4 => {
                IpcpOption::SecondaryNbns(addr(d).unwrap_or(Ipv4Addr::UNSPECIFIED))
            }
            _ => IpcpOption::Other {
                kind: k,
                data: data.to_vec(),
            },
        }
    }

    fn kind(&self) -> u8 {
        match self {
            IpcpOption::IpCompression { .. } => kind::IP_COMPRESSION_PROTOCOL,
            IpcpOption::IpAddress(_) => kind::IP_ADDRESS,
            IpcpOption::PrimaryDns(_) => kind::PRIMARY_DNS,
            IpcpOption::PrimaryNbns(_) => kind::PRIMARY_NBNS,
            IpcpOption::SecondaryDns(_) => kind::SECONDARY_DNS,
            IpcpOption::SecondaryNbns(_) => kind::SECONDARY_NBNS,
            IpcpOption::Other { kind, .. } => *kind,
        }
    }

    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            IpcpOption::IpCompression { protocol, data } => {
                let mut d = protocol.to_be_bytes().to_vec();
                d.extend_from_slice(data);
                put_option(out, self.kind(), &d);
            }
            IpcpOption::IpAddress(a)
            | IpcpOption::PrimaryDns(a)
            | IpcpOption::PrimaryNbns(a)
            | IpcpOption::SecondaryDns(a)
            | IpcpOption::SecondaryNbns(a) => put_option(out, self.kind(), &a.octets()),
            IpcpOption::Other { kind, data } => put_option(out, *kind, data),
        }
    }
}
