use super::*;
use netlink_packet_core::{NetlinkHeader, NetlinkMessage, NetlinkPayload};
use netlink_packet_generic::GenlMessage;

fn key() -> ServiceKey {
    ServiceKey {
        protocol: Protocol::Tcp,
        addr: "203.0.113.7".parse().unwrap(),
        port: 80,
    }
}

fn emit(msg: IpvsMessage) -> Vec<u8> {
    let mut genl = GenlMessage::from_payload(msg);
    genl.set_resolved_family_id(0x1c);
    let mut nl = NetlinkMessage::new(NetlinkHeader::default(), NetlinkPayload::InnerMessage(genl));
    nl.finalize();
    let mut buf = vec![0u8; nl.buffer_len()];
    nl.serialize(&mut buf);
    buf
}

fn parse(buf: &[u8]) -> IpvsMessage {
    match NetlinkMessage::<GenlMessage<IpvsMessage>>::deserialize(buf)
        .unwrap()
        .payload
    {
        NetlinkPayload::InnerMessage(m) => m.payload,
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn new_service_wire_layout_matches_ip_vs_h() {
    let buf = emit(IpvsMessage::new_service(&key(), "wlc"));
    // nlmsghdr (16): type = family id; genlmsghdr: cmd 1, version 1.
    assert_eq!(u16::from_ne_bytes([buf[4], buf[5]]), 0x1c);
    assert_eq!(&buf[16..18], &[IPVS_CMD_NEW_SERVICE, 1]);
    // IPVS_CMD_ATTR_SERVICE nested, then AF (2 = AF_INET), PROTOCOL 6.
    let nested = &buf[20..];
    assert_eq!(u16::from_ne_bytes([nested[2], nested[3]]), 1);
    let svc = &nested[4..];
    assert_eq!(&svc[..4], &[6, 0, 1, 0]);
    assert_eq!(u16::from_ne_bytes([svc[4], svc[5]]), 2);
    assert_eq!(u16::from_ne_bytes([svc[12], svc[13]]), 6);
    // ADDR: 16 bytes, IPv4 in the first four; PORT in network order.
    assert_eq!(&svc[16..20], &[20, 0, 3, 0]);
    assert_eq!(&svc[20..24], &[203, 0, 113, 7]);
    assert_eq!(&svc[24..36], &[0; 12]);
    assert_eq!(&svc[36..42], &[6, 0, 4, 0, 0, 80]);
    // Round trip.
    let back = parse(&buf);
    assert_eq!(back, IpvsMessage::new_service(&key(), "wlc"));
}

#[test]
fn dump_replies_decode_into_table_entries() {
    let svc = parse(&emit(IpvsMessage::new_service(&key(), "rr")));
    assert_eq!(
        decode_service(&svc).unwrap(),
        DumpedService::Addressed {
            key: key(),
            scheduler: "rr".into()
        }
    );
    let d = DestKey {
        addr: "10.0.0.1".parse().unwrap(),
        port: 80,
    };
    let s = DestSpec {
        forward: Forward::Gate,
        weight: 7,
    };
    let dest = parse(&emit(IpvsMessage::new_dest(&key(), &d, &s)));
    assert_eq!(decode_dest(&dest, key().addr).unwrap(), (d, s));
}

#[test]
fn ipv6_service_and_dest() {
    let k = ServiceKey {
        protocol: Protocol::Udp,
        addr: "2001:db8::1".parse().unwrap(),
        port: 53,
    };
    let msg = parse(&emit(IpvsMessage::set_service(&k, "sh")));
    assert_eq!(msg.cmd, IPVS_CMD_SET_SERVICE);
    assert_eq!(
        decode_service(&msg).unwrap(),
        DumpedService::Addressed {
            key: k,
            scheduler: "sh".into()
        }
    );
    let d = DestKey {
        addr: "2001:db8::10".parse().unwrap(),
        port: 53,
    };
    let s = DestSpec {
        forward: Forward::Tunnel,
        weight: 0,
    };
    let dest = parse(&emit(IpvsMessage::set_dest(&k, &d, &s)));
    assert_eq!(decode_dest(&dest, k.addr).unwrap(), (d, s));
}

#[test]
fn fwmark_services_are_not_addressed() {
    let msg = IpvsMessage {
        cmd: IPVS_CMD_NEW_SERVICE,
        attrs: vec![CmdAttr::Service(vec![SvcAttr::Af(2), SvcAttr::Fwmark(5)])],
    };
    assert_eq!(
        decode_service(&parse(&emit(msg))).unwrap(),
        DumpedService::Other
    );
}

#[test]
fn truncated_or_incomplete_replies_are_errors_not_panics() {
    let buf = emit(IpvsMessage::new_service(&key(), "rr"));
    for n in 0..buf.len() {
        crate::fuzzing::ipvs_reply(&buf[..n]);
    }
    let msg = IpvsMessage {
        cmd: 1,
        attrs: vec![CmdAttr::Service(vec![SvcAttr::Af(2)])],
    };
    assert!(decode_service(&msg).is_err());
    assert!(decode_dest(&msg, key().addr).is_err());
}
