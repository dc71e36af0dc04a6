//! Property tests: decode(encode(x)) == x for every packet and option type.

use std::net::Ipv4Addr;

use ppp::chap::ChapPacket;
use ppp::frame::{decode_frame, encode_frame};
use ppp::options::{AuthProtocol, IpcpOption, Ipv6cpOption, LcpOption};
use ppp::packet::{ConfigOption, ControlPacket};
use ppp::pap::PapPacket;
use proptest::collection::vec;
use proptest::prelude::*;

fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    vec(any::<u8>(), 0..=max)
}

/// "Other" variants only where the bytes would not decode as a typed option.
fn other<O: ConfigOption>(make: fn(u8, Vec<u8>) -> O) -> impl Strategy<Value = O> {
    (any::<u8>(), bytes(40))
        .prop_map(move |(k, d)| make(k, d))
        .prop_filter("typed form exists", |o: &O| {
            let mut enc = Vec::new();
            o.encode(&mut enc);
            O::from_parts(enc[0], &enc[2..]) == *o
        })
}

fn auth_protocol() -> impl Strategy<Value = AuthProtocol> {
    prop_oneof![
        Just(AuthProtocol::Pap),
        any::<u8>().prop_map(|algorithm| AuthProtocol::Chap { algorithm }),
        (any::<u16>(), bytes(10))
            .prop_map(|(protocol, data)| AuthProtocol::Other { protocol, data })
            .prop_filter("not PAP/CHAP", |a| !matches!(
                a,
                AuthProtocol::Other { protocol: 0xc023, data } if data.is_empty()
            ) && !matches!(a, AuthProtocol::Other { protocol: 0xc223, data } if data.len() == 1)),
    ]
}

fn lcp_option() -> BoxedStrategy<LcpOption> {
    prop_oneof![
        any::<u16>().prop_map(LcpOption::Mru),
        any::<u32>().prop_map(LcpOption::Accm),
        auth_protocol().prop_map(LcpOption::AuthProtocol),
        (any::<u16>(), bytes(8))
            .prop_map(|(protocol, data)| LcpOption::QualityProtocol { protocol, data }),
        any::<u32>().prop_map(LcpOption::MagicNumber),
        Just(LcpOption::Pfc),
        Just(LcpOption::Acfc),
        any::<u16>().prop_map(LcpOption::Mrru),
        Just(LcpOption::Ssnhf),
        (any::<u8>(), bytes(20))
            .prop_map(|(class, address)| LcpOption::EndpointDiscriminator { class, address }),
        other(|kind, data| LcpOption::Other { kind, data }),
    ]
    .boxed()
}

fn ipv4() -> impl Strategy<Value = Ipv4Addr> {
    any::<u32>().prop_map(Ipv4Addr::from)
}

fn ipcp_option() -> BoxedStrategy<IpcpOption> {
    prop_oneof![
        (any::<u16>(), bytes(8))
            .prop_map(|(protocol, data)| IpcpOption::IpCompression { protocol, data }),
        ipv4().prop_map(IpcpOption::IpAddress),
        ipv4().prop_map(IpcpOption::PrimaryDns),
        ipv4().prop_map(IpcpOption::PrimaryNbns),
        ipv4().prop_map(IpcpOption::SecondaryDns),
        ipv4().prop_map(IpcpOption::SecondaryNbns),
        other(|kind, data| IpcpOption::Other { kind, data }),
    ]
    .boxed()
}

fn ipv6cp_option() -> BoxedStrategy<Ipv6cpOption> {
    prop_oneof![
        any::<[u8; 8]>().prop_map(Ipv6cpOption::InterfaceIdentifier),
        other(|kind, data| Ipv6cpOption::Other { kind, data }),
    ]
    .boxed()
}

fn control_packet<O: ConfigOption + 'static>(
    opt: BoxedStrategy<O>,
    lcp: bool,
) -> impl Strategy<Value = ControlPacket<O>> {
    let opts = move || vec(opt.clone(), 0..6);
    let known = if lcp { 11 } else { 7 };
    prop_oneof![
        (any::<u8>(), opts())
            .prop_map(|(id, options)| ControlPacket::ConfigureRequest { id, options }),
        (any::<u8>(), opts()).prop_map(|(id, options)| ControlPacket::ConfigureAck { id, options }),
        (any::<u8>(), opts()).prop_map(|(id, options)| ControlPacket::ConfigureNak { id, options }),
        (any::<u8>(), opts())
            .prop_map(|(id, options)| ControlPacket::ConfigureReject { id, options }),
        (any::<u8>(), bytes(30))
            .prop_map(|(id, data)| ControlPacket::TerminateRequest { id, data }),
        (any::<u8>(), bytes(30)).prop_map(|(id, data)| ControlPacket::TerminateAck { id, data }),
        (any::<u8>(), bytes(30))
            .prop_map(|(id, rejected)| ControlPacket::CodeReject { id, rejected }),
        (any::<u8>(), any::<u8>(), bytes(30))
            .prop_filter("unknown code", move |(code, _, _)| *code == 0
                || *code > known)
            .prop_map(|(code, id, data)| ControlPacket::Other { code, id, data }),
    ]
}

fn lcp_packet() -> impl Strategy<Value = ControlPacket<LcpOption>> {
    prop_oneof![
        control_packet(lcp_option(), true),
        (any::<u8>(), any::<u16>(), bytes(30)).prop_map(|(id, protocol, information)| {
            ControlPacket::ProtocolReject {
                id,
                protocol,
                information,
            }
        }),
        (any::<u8>(), any::<u32>(), bytes(30))
            .prop_map(|(id, magic, data)| ControlPacket::EchoRequest { id, magic, data }),
        (any::<u8>(), any::<u32>(), bytes(30))
            .prop_map(|(id, magic, data)| ControlPacket::EchoReply { id, magic, data }),
        (any::<u8>(), any::<u32>(), bytes(30))
            .prop_map(|(id, magic, data)| ControlPacket::DiscardRequest { id, magic, data }),
    ]
}

fn pap_packet() -> impl Strategy<Value = PapPacket> {
    prop_oneof![
        (any::<u8>(), bytes(255), bytes(255)).prop_map(|(id, peer_id, password)| {
            PapPacket::Request {
                id,
                peer_id,
                password,
            }
        }),
        (any::<u8>(), bytes(255)).prop_map(|(id, message)| PapPacket::Ack { id, message }),
        (any::<u8>(), bytes(255)).prop_map(|(id, message)| PapPacket::Nak { id, message }),
        (4u8.., any::<u8>(), bytes(30)).prop_map(|(code, id, data)| PapPacket::Other {
            code,
            id,
            data
        }),
    ]
}

fn chap_packet() -> impl Strategy<Value = ChapPacket> {
    let value = || vec(any::<u8>(), 1..=255);
    prop_oneof![
        (any::<u8>(), value(), bytes(64)).prop_map(|(id, value, name)| ChapPacket::Challenge {
            id,
            value,
            name
        }),
        (any::<u8>(), value(), bytes(64)).prop_map(|(id, value, name)| ChapPacket::Response {
            id,
            value,
            name
        }),
        (any::<u8>(), bytes(64)).prop_map(|(id, message)| ChapPacket::Success { id, message }),
        (any::<u8>(), bytes(64)).prop_map(|(id, message)| ChapPacket::Failure { id, message }),
        (5u8.., any::<u8>(), bytes(30)).prop_map(|(code, id, data)| ChapPacket::Other {
            code,
            id,
            data
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn lcp_packets_round_trip(p in lcp_packet()) {
        prop_assert_eq!(ControlPacket::decode(&p.encode(), true), Ok(p));
    }

    #[test]
    fn ipcp_packets_round_trip(p in control_packet(ipcp_option(), false)) {
        prop_assert_eq!(ControlPacket::decode(&p.encode(), false), Ok(p));
    }

    #[test]
    fn ipv6cp_packets_round_trip(p in control_packet(ipv6cp_option(), false)) {
        prop_assert_eq!(ControlPacket::decode(&p.encode(), false), Ok(p));
    }

    #[test]
    fn pap_packets_round_trip(p in pap_packet()) {
        prop_assert_eq!(PapPacket::decode(&p.encode()), Ok(p));
    }

    #[test]
    fn chap_packets_round_trip(p in chap_packet()) {
        prop_assert_eq!(ChapPacket::decode(&p.encode()), Ok(p));
    }

    #[test]
    fn frames_round_trip(
        protocol in any::<u16>().prop_map(|p| (p | 1) & !0x0100),
        payload in bytes(64),
        acfc: bool,
        pfc: bool,
    ) {
        let f = encode_frame(protocol, &payload, acfc, pfc);
        let d = decode_frame(&f).unwrap();
        prop_assert_eq!(d.protocol, protocol);
        prop_assert_eq!(d.payload, &payload[..]);
    }

    #[test]
    fn decoders_never_panic(data in bytes(300)) {
        ppp::fuzzing::decode_packets(&data);
    }
}
