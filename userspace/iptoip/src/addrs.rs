//! The addresses of `<iface>` over rtnetlink (RTM_GETLINK by name, RTM_GETADDR dump).
//!
//! VIP choice: the primary IPv4 address (the first one without IFA_F_SECONDARY, which is what
//! SIOCGIFADDR returned to the original), taking IFA_LOCAL over IFA_ADDRESS because on a
//! point-to-point link (PPP) IFA_ADDRESS is the peer; and the first IPv6 address of global
//! scope that is neither tentative, deprecated, DAD-failed nor a temporary (privacy) address.

use std::net::IpAddr;

use netlink_packet_route::address::{AddressAttribute, AddressFlags, AddressMessage, AddressScope};
use netlink_packet_route::link::{LinkAttribute, LinkMessage};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use netlink_sys::protocols::NETLINK_ROUTE;

use crate::desired::IfaceAddrs;
use crate::netlink::{Conn, NetlinkError};

/// errno of RTM_GETLINK for an unknown name.
const ENODEV: i32 = 19;

/// IFA_F_TEMPORARY (== IFA_F_SECONDARY for IPv6 privacy addresses).
const IFA_F_TEMPORARY: u32 = 0x01;

/// Look `name` up; `Ok(None)` if there is no such interface.
pub fn lookup(name: &str) -> Result<Option<IfaceAddrs>, NetlinkError> {
    let mut conn = Conn::open(NETLINK_ROUTE)?;
    let mut link = LinkMessage::default();
    link.attributes.push(LinkAttribute::IfName(name.to_owned()));
    let index = match conn.request(RouteNetlinkMessage::GetLink(link), false) {
        Ok(replies) => replies.iter().find_map(|m| match m {
            RouteNetlinkMessage::NewLink(l) => Some(l.header.index),
            _ => None,
        }),
        Err(e) if e.errno() == Some(ENODEV) => return Ok(None),
        Err(e) => return Err(e),
    };
    let Some(index) = index else { return Ok(None) };
    let replies = conn.request(
        RouteNetlinkMessage::GetAddress(AddressMessage::default()),
        true,
    )?;
    let addrs: Vec<AddressMessage> = replies
        .into_iter()
        .filter_map(|m| match m {
            RouteNetlinkMessage::NewAddress(a) if a.header.index == index => Some(a),
            _ => None,
        })
        .collect();
    Ok(Some(select(&addrs)))
}

fn flags_of(a: &AddressMessage) -> u32 {
    // IFA_FLAGS (32 bits) supersedes the 8-bit header field when present.
    a.attributes
        .iter()
        .find_map(|x| match x {
            AddressAttribute::Flags(f) => Some(f.bits()),
            _ => None,
        })
        .unwrap_or(a.header.flags.bits() as u32)
}

/// Pick the VIPs among the addresses of one interface, in kernel dump order.
pub fn select(addrs: &[AddressMessage]) -> IfaceAddrs {
    let mut out = IfaceAddrs::default();
    for a in addrs {
        let flags = flags_of(a);
        let local = a.attributes.iter().find_map(|x| match x {
            AddressAttribute::Local(ip) => Some(*ip),
            _ => None,
        });
        let address = a.attributes.iter().find_map(|x| match x {
            AddressAttribute::Address(ip) => Some(*ip),
            _ => None,
        });
        match (a.header.family, local.or(address)) {
            (AddressFamily::Inet, Some(IpAddr::V4(v4)))
                if out.v4.is_none() && flags & AddressFlags::Secondary.bits() == 0 =>
            {
                out.v4 = Some(v4);
            }
            (AddressFamily::Inet6, Some(IpAddr::V6(v6))) if out.v6.is_none() => {
                let unusable = AddressFlags::Tentative.bits()
                    | AddressFlags::Deprecated.bits()
                    | AddressFlags::Dadfailed.bits()
                    | IFA_F_TEMPORARY;
                if a.header.scope == AddressScope::Universe && flags & unusable == 0 {
                    out.v6 = Some(v6);
                }
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use netlink_packet_route::address::AddressHeaderFlags;

    fn msg(
        family: AddressFamily,
        scope: AddressScope,
        flags: u32,
        attrs: Vec<AddressAttribute>,
    ) -> AddressMessage {
        let mut m = AddressMessage::default();
        m.header.family = family;
        m.header.scope = scope;
        m.header.flags = AddressHeaderFlags::from_bits_retain(flags as u8);
        m.attributes = attrs;
        m.attributes
            .push(AddressAttribute::Flags(AddressFlags::from_bits_retain(
                flags,
            )));
        m
    }

    #[test]
    fn ppp_local_address_wins_over_the_peer() {
        let m = msg(
            AddressFamily::Inet,
            AddressScope::Universe,
            0,
            vec![
                AddressAttribute::Address("198.51.100.1".parse().unwrap()),
                AddressAttribute::Local("203.0.113.7".parse().unwrap()),
            ],
        );
        assert_eq!(select(&[m]).v4, Some("203.0.113.7".parse().unwrap()));
    }

    #[test]
    fn secondary_ipv4_and_unusable_ipv6_are_skipped() {
        let sec = msg(
            AddressFamily::Inet,
            AddressScope::Universe,
            0x01,
            vec![AddressAttribute::Address("203.0.113.8".parse().unwrap())],
        );
        let prim = msg(
            AddressFamily::Inet,
            AddressScope::Universe,
            0,
            vec![AddressAttribute::Address("203.0.113.7".parse().unwrap())],
        );
        let link = msg(
            AddressFamily::Inet6,
            AddressScope::Link,
            0,
            vec![AddressAttribute::Address("fe80::1".parse().unwrap())],
        );
        let tentative = msg(
            AddressFamily::Inet6,
            AddressScope::Universe,
            0x40,
            vec![AddressAttribute::Address("2001:db8::2".parse().unwrap())],
        );
        let good = msg(
            AddressFamily::Inet6,
            AddressScope::Universe,
            0x80,
            vec![AddressAttribute::Address("2001:db8::1".parse().unwrap())],
        );
        let got = select(&[sec, prim, link, tentative, good]);
        assert_eq!(got.v4, Some("203.0.113.7".parse().unwrap()));
        assert_eq!(got.v6, Some("2001:db8::1".parse().unwrap()));
    }
}
