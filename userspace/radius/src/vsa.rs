//! Vendor-Specific attributes (RFC 2865 §5.26) an LNS needs.
//!
//! All vendors handled here use the recommended format: Vendor-Id, then sub-attributes of
//! one-octet Vendor-Type and one-octet Vendor-Length. A VSA is typed only when it holds exactly
//! one well-formed sub-attribute of a known kind; anything else is kept verbatim as
//! [`Vsa::Other`], so decoding is lossless.

use crate::value::AttrValue;
use std::net::Ipv4Addr;

/// IANA Private Enterprise Numbers.
pub mod vendor {
    pub const CISCO: u32 = 9;
    pub const MICROSOFT: u32 = 311;
    pub const ASCEND: u32 = 529;
}

/// Vendor-Types of the typed sub-attributes.
pub mod vendor_type {
    /// Cisco-AVPair, "key=value" text.
    pub const CISCO_AVPAIR: u8 = 1;
    /// MS-Primary-DNS-Server (RFC 2548; vendor 311, type 28).
    pub const MS_PRIMARY_DNS_SERVER: u8 = 28;
    pub const MS_SECONDARY_DNS_SERVER: u8 = 29;
    /// Ascend-Client-Primary-DNS (Ascend dictionary, vendor 529).
    pub const ASCEND_CLIENT_PRIMARY_DNS: u8 = 135;
    pub const ASCEND_CLIENT_SECONDARY_DNS: u8 = 136;
}

/// The value of a Vendor-Specific (26) attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Vsa {
    /// Cisco-AVPair (9/1): "key=value", e.g. `lcp:interface-config=...` or `disc-cause-ext=...`.
    CiscoAvPair(Vec<u8>),
    /// Ascend-Client-Primary-DNS (529/135).
    AscendClientPrimaryDns(Ipv4Addr),
    /// Ascend-Client-Secondary-DNS (529/136).
    AscendClientSecondaryDns(Ipv4Addr),
    /// MS-Primary-DNS-Server (311/28).
    MsPrimaryDnsServer(Ipv4Addr),
    /// MS-Secondary-DNS-Server (311/29).
    MsSecondaryDnsServer(Ipv4Addr),
    /// Any other vendor data, verbatim after the Vendor-Id.
    Other { vendor_id: u32, data: Vec<u8> },
}

impl Vsa {
    pub fn vendor_id(&self) -> u32 {
        match self {
            Vsa::CiscoAvPair(_) => vendor::CISCO,
            Vsa::AscendClientPrimaryDns(_) | Vsa::AscendClientSecondaryDns(_) => vendor::ASCEND,
            Vsa::MsPrimaryDnsServer(_) | Vsa::MsSecondaryDnsServer(_) => vendor::MICROSOFT,
            Vsa::Other { vendor_id, .. } => *vendor_id,
        }
    }

    /// Classify a single vendor sub-attribute; `None` keeps the VSA as [`Vsa::Other`].
    fn typed(vendor_id: u32, data: &[u8]) -> Option<Vsa> {
        let [vtype, vlen, value @ ..] = data else {
            return None;
        };
        if usize::from(*vlen) != data.len() {
            return None;
        }
        use vendor_type::*;
        match (vendor_id, *vtype) {
            (vendor::CISCO, CISCO_AVPAIR) => Some(Vsa::CiscoAvPair(value.to_vec())),
            (vendor::ASCEND, ASCEND_CLIENT_PRIMARY_DNS) => {
                Ipv4Addr::decode(value).map(Vsa::AscendClientPrimaryDns)
            }
            (vendor::ASCEND, ASCEND_CLIENT_SECONDARY_DNS) => {
                Ipv4Addr::decode(value).map(Vsa::AscendClientSecondaryDns)
            }
            (vendor::MICROSOFT, MS_PRIMARY_DNS_SERVER) => {
                Ipv4Addr::decode(value).map(Vsa::MsPrimaryDnsServer)
            }
            (vendor::MICROSOFT, MS_SECONDARY_DNS_SERVER) => {
                Ipv4Addr::decode(value).map(Vsa::MsSecondaryDnsServer)
            }
            _ => None,
        }
    }
}

impl AttrValue for Vsa {
    fn decode(value: &[u8]) -> Option<Self> {
        // RFC 2865 §5.26: Length ≥ 7, i.e. Vendor-Id plus at least one octet of data.
        if value.len() < 5 {
            return None;
        }
        let (id, data) = value.split_at(4);
        let vendor_id = u32::from_be_bytes(id.try_into().ok()?);
        Some(Self::typed(vendor_id, data).unwrap_or_else(|| Vsa::Other {
            vendor_id,
            data: data.to_vec(),
        }))
    }

    fn encode(&self, out: &mut Vec<u8>) -> Result<(), &'static str> {
        out.extend_from_slice(&self.vendor_id().to_be_bytes());
        let (vtype, value): (u8, &[u8]) = match self {
            Vsa::CiscoAvPair(v) => (vendor_type::CISCO_AVPAIR, v),
            Vsa::AscendClientPrimaryDns(a) => {
                (vendor_type::ASCEND_CLIENT_PRIMARY_DNS, &a.octets()[..])
            }
            Vsa::AscendClientSecondaryDns(a) => {
                (vendor_type::ASCEND_CLIENT_SECONDARY_DNS, &a.octets()[..])
            }
            Vsa::MsPrimaryDnsServer(a) => (vendor_type::MS_PRIMARY_DNS_SERVER, &a.octets()[..]),
            Vsa::MsSecondaryDnsServer(a) => (vendor_type::MS_SECONDARY_DNS_SERVER, &a.octets()[..]),
            Vsa::Other { data, .. } => {
                if data.is_empty() {
                    return Err("vendor-specific attribute without data");
                }
                out.extend_from_slice(data);
                return Ok(());
            }
        };
        // Vendor-Length covers its own two octets; the 253-byte attribute limit is checked by
        // the packet encoder, which also bounds this.
        let vlen = u8::try_from(value.len() + 2).map_err(|_| "vendor sub-attribute too long")?;
        out.extend_from_slice(&[vtype, vlen]);
        out.extend_from_slice(value);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cisco_avpair_wire_format() {
        let v = Vsa::CiscoAvPair(b"ip:addr-pool=dsl".to_vec());
        let mut out = Vec::new();
        v.encode(&mut out).unwrap();
        let mut expected = vec![0, 0, 0, 9, 1, 18];
        expected.extend_from_slice(b"ip:addr-pool=dsl");
        assert_eq!(out, expected);
        assert_eq!(Vsa::decode(&out), Some(v));
    }

    #[test]
    fn ascend_and_microsoft_dns() {
        let wire = [0, 0, 2, 17, 135, 6, 192, 0, 2, 53];
        assert_eq!(
            Vsa::decode(&wire),
            Some(Vsa::AscendClientPrimaryDns(Ipv4Addr::new(192, 0, 2, 53)))
        );
        let wire = [0, 0, 1, 55, 29, 6, 192, 0, 2, 54];
        assert_eq!(
            Vsa::decode(&wire),
            Some(Vsa::MsSecondaryDnsServer(Ipv4Addr::new(192, 0, 2, 54)))
        );
    }

    #[test]
    fn unknown_or_odd_vendor_data_is_kept_verbatim() {
        // Two Cisco sub-attributes in one VSA: not the single-sub-attribute typed form.
        let wire = [0, 0, 0, 9, 1, 3, b'a', 1, 3, b'b'];
        assert_eq!(
            Vsa::decode(&wire),
            Some(Vsa::Other {
                vendor_id: 9,
                data: wire[4..].to_vec()
            })
        );
        // Ascend DNS with a 3-byte address.
        let wire = [0, 0, 2, 17, 135, 5, 1, 2, 3];
        assert!(matches!(
            Vsa::decode(&wire),
            Some(Vsa::Other { vendor_id: 529, .. })
        ));
        assert_eq!(Vsa::decode(&[0, 0, 0, 9]), None, "no vendor data");
    }
}
