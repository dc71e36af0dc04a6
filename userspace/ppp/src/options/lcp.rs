//! LCP configuration options (RFC 1661 §6, RFC 1990 §5.1 for the multilink ones).

use crate::frame::protocol;
use crate::packet::{put_option, ConfigOption};

/// Option type numbers.
pub mod kind {
    /// Maximum-Receive-Unit (RFC 1661 §6.1).
    pub const MRU: u8 = 1;
    /// Async-Control-Character-Map (RFC 1662 §7.1).
    pub const ACCM: u8 = 2;
    /// Authentication-Protocol (RFC 1661 §6.2).
    pub const AUTH_PROTOCOL: u8 = 3;
    /// Quality-Protocol (RFC 1661 §6.3).
    pub const QUALITY_PROTOCOL: u8 = 4;
    /// Magic-Number (RFC 1661 §6.4).
    pub const MAGIC_NUMBER: u8 = 5;
    /// Protocol-Field-Compression (RFC 1661 §6.5).
    pub const PFC: u8 = 7;
    /// Address-and-Control-Field-Compression (RFC 1661 §6.6).
    pub const ACFC: u8 = 8;
    /// Multilink Maximum Received Reconstructed Unit (RFC 1990 §5.1.1).
    pub const MRRU: u8 = 17;
    /// Multilink Short Sequence Number Header Format (RFC 1990 §5.1.2).
    pub const SSNHF: u8 = 18;
    /// Endpoint Discriminator (RFC 1990 §5.1.3).
    pub const ENDPOINT_DISCRIMINATOR: u8 = 19;
}

/// CHAP algorithm number for MD5 (RFC 1994 §3).
pub const CHAP_MD5: u8 = 5;

/// The value of an Authentication-Protocol option.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthProtocol {
    /// PAP, 0xc023 with no data (RFC 1334 §2.1).
    Pap,
    /// CHAP, 0xc223 with an algorithm octet (RFC 1994 §3; 5 = MD5, 0x80/0x81 = MS-CHAP).
    Chap {
        /// Algorithm octet.
        algorithm: u8,
    },
    /// Anything else, kept verbatim (EAP, CHAP with a bad length, ...).
    Other {
        /// Protocol number.
        protocol: u16,
        /// Remaining data.
        data: Vec<u8>,
    },
}

impl AuthProtocol {
    /// CHAP with MD5.
    pub const CHAP_MD5: AuthProtocol = AuthProtocol::Chap {
        algorithm: CHAP_MD5,
    };

    fn decode(protocol: u16, data: &[u8]) -> Self {
        match (protocol, data) {
            (protocol::PAP, []) => AuthProtocol::Pap,
            (protocol::CHAP, [algorithm]) => AuthProtocol::Chap {
                algorithm: *algorithm,
            },
            _ => AuthProtocol::Other {
                protocol,
                data: data.to_vec(),
            },
        }
    }

    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            AuthProtocol::Pap => out.extend_from_slice(&protocol::PAP.to_be_bytes()),
            AuthProtocol::Chap { algorithm } => {
                out.extend_from_slice(&protocol::CHAP.to_be_bytes());
                out.push(*algorithm);
            }
            AuthProtocol::Other { protocol, data } => {
                out.extend_from_slice(&protocol.to_be_bytes());
                out.extend_from_slice(data);
            }
        }
    }
}

/// One LCP configuration option.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LcpOption {
    /// Maximum-Receive-Unit.
    Mru(u16),
    /// Async-Control-Character-Map.
    Accm(u32),
    /// Authentication-Protocol.
    AuthProtocol(AuthProtocol),
    /// Quality-Protocol with its data.
    QualityProtocol {
        /// Protocol (0xc025 = LQR).
        protocol: u16,
        /// Data.
        data: Vec<u8>,
    },
    /// Magic-Number.
    MagicNumber(u32),
    /// Protocol-Field-Compression.
    Pfc,
    /// Address-and-Control-Field-Compression.
    Acfc,
    /// Multilink MRRU.
    Mrru(u16),
    /// Multilink Short Sequence Number Header Format.
    Ssnhf,
    /// Multilink Endpoint Discriminator.
    EndpointDiscriminator {
        /// Class (0 null, 1 local, 2 IPv4, 3 MAC, 4 magic block, 5 phone number).
        class: u8,
        /// Address.
        address: Vec<u8>,
    },
    /// Unknown type, or a known type with a malformed length: rejected verbatim.
    Other {
        /// Type.
        kind: u8,
        /// Data.
        data: Vec<u8>,
    },
}

impl ConfigOption for LcpOption {
    fn from_parts(k: u8, data: &[u8]) -> Self {
        match (k, data) {
            (kind::MRU, &[a, b]) => LcpOption::Mru(u16::from_be_bytes([a, b])),
            (kind::ACCM, &[a, b, c, d]) => LcpOption::Accm(u32::from_be_bytes([a, b, c, d])),
            (kind::AUTH_PROTOCOL, &[a, b, ref rest @ ..]) => {
                LcpOption::AuthProtocol(AuthProtocol::decode(u16::from_be_bytes([a, b]), rest))
            }
            (kind::QUALITY_PROTOCOL, &[a, b, ref rest @ ..]) => LcpOption::QualityProtocol {
                protocol: u16::from_be_bytes([a, b]),
                data: rest.to_vec(),
            },
            (kind::MAGIC_NUMBER, &[a, b, c, d]) => {
                LcpOption::MagicNumber(u32::from_be_bytes([a, b, c, d]))
            }
            (kind::PFC, []) => LcpOption::Pfc,
            (kind::ACFC, []) => LcpOption::Acfc,
            (kind::MRRU, &[a, b]) => LcpOption::Mrru(u16::from_be_bytes([a, b])),
            (kind::SSNHF, []) => LcpOption::Ssnhf,
            (kind::ENDPOINT_DISCRIMINATOR, &[class, ref rest @ ..]) => {
                LcpOption::EndpointDiscriminator {
                    class,
                    address: rest.to_vec(),
                }
            }
            _ => LcpOption::Other {
                kind: k,
                data: data.to_vec(),
            },
        }
    }

    fn kind(&self) -> u8 {
        match self {
            LcpOption::Mru(_) => kind::MRU,
            LcpOption::Accm(_) => kind::ACCM,
            LcpOption::AuthProtocol(_) => kind::AUTH_PROTOCOL,
            LcpOption::QualityProtocol { .. } => kind::QUALITY_PROTOCOL,
            LcpOption::MagicNumber(_) => kind::MAGIC_NUMBER,
            LcpOption::Pfc => kind::PFC,
            LcpOption::Acfc => kind::ACFC,
            LcpOption::Mrru(_) => kind::MRRU,
            LcpOption::Ssnhf => kind::SSNHF,
            LcpOption::EndpointDiscriminator { .. } => kind::ENDPOINT_DISCRIMINATOR,
            LcpOption::Other { kind, .. } => *kind,
        }
    }

    fn encode(&self, out: &mut Vec<u8>) {
        let mut data = Vec::new();
        match self {
            LcpOption::Mru(v) | LcpOption::Mrru(v) => data.extend_from_slice(&v.to_be_bytes()),
            LcpOption::Accm(v) | LcpOption::MagicNumber(v) => {
                data.extend_from_slice(&v.to_be_bytes())
            }
            LcpOption::AuthProtocol(a) => a.encode(&mut data),
            LcpOption::QualityProtocol { protocol, data: d } => {
                data.extend_from_slice(&protocol.to_be_bytes());
                data.extend_from_slice(d);
            }
            LcpOption::Pfc | LcpOption::Acfc | LcpOption::Ssnhf => {}
            LcpOption::EndpointDiscriminator { class, address } => {
                data.push(*class);
                data.extend_from_slice(address);
            }
            LcpOption::Other { data: d, .. } => data.extend_from_slice(d),
        }
        put_option(out, self.kind(), &data);
    }
}
