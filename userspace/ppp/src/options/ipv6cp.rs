//! IPV6CP configuration options (RFC 5072 §4).

use crate::packet::{put_option, ConfigOption};

/// Interface-Identifier option type (RFC 5072 §4.1).
pub const INTERFACE_IDENTIFIER: u8 = 1;

/// One IPV6CP option.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ipv6cpOption {
    /// Interface-Identifier: the low 64 bits of the link-local address.
    InterfaceIdentifier([u8; 8]),
    /// Anything else (IPv6-Compression-Protocol, type 2, is always rejected by us).
    Other {
        /// Type.
        kind: u8,
        /// Data.
        data: Vec<u8>,
    },
}

impl ConfigOption for Ipv6cpOption {
    fn from_parts(kind: u8, data: &[u8]) -> Self {
        match (kind, <[u8; 8]>::try_from(data)) {
            (INTERFACE_IDENTIFIER, Ok(id)) => Ipv6cpOption::InterfaceIdentifier(id),
            _ => Ipv6cpOption::Other {
                kind,
                data: data.to_vec(),
            },
        }
    }

    fn kind(&self) -> u8 {
        match self {
            Ipv6cpOption::InterfaceIdentifier(_) => INTERFACE_IDENTIFIER,
            Ipv6cpOption::Other { kind, .. } => *kind,
        }
    }

    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Ipv6cpOption::InterfaceIdentifier(id) => put_option(out, INTERFACE_IDENTIFIER, id),
            Ipv6cpOption::Other { kind, data } => put_option(out, *kind, data),
        }
    }
}
