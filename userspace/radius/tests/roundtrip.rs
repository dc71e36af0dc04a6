//! Property tests: decode(encode(x)) == x for every packet code and every attribute kind of
//! the dictionary; signing and verification agree; password hiding round-trips.

use proptest::prelude::*;
use proptest::strategy::Union;
use radius::{
    hide_user_password, unhide_user_password, verify_request, verify_response, Attribute,
    ChapPassword, Code, Ipv6Prefix, Packet, RawPacket, TaggedInt, TaggedText, TunnelPassword, Vsa,
};
use std::net::{Ipv4Addr, Ipv6Addr};

fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..=max)
}

fn ipv6_prefix() -> impl Strategy<Value = Ipv6Prefix> {
    (0u8..=128, any::<u128>()).prop_map(|(len, bits)| {
        let mask = if len == 0 {
            0
        } else {
            u128::MAX << (128 - u32::from(len))
        };
        Ipv6Prefix {
            len,
            prefix: Ipv6Addr::from(bits & mask),
        }
    })
}

fn tagged_text() -> impl Strategy<Value = TaggedText> {
    prop_oneof![
        (0u8..=0x1f, bytes(40)).prop_map(|(t, value)| TaggedText {
            tag: Some(t),
            value
        }),
        // Untagged strings must not start with an octet that reads as a tag (RFC 2868).
        bytes(40).prop_map(|mut value| {
            if let Some(first) = value.first_mut() {
                *first = (*first).max(0x20);
            }
            TaggedText { tag: None, value }
        }),
    ]
}

fn vsa() -> impl Strategy<Value = Vsa> {
    prop_oneof![
        bytes(60).prop_map(Vsa::CiscoAvPair),
        any::<[u8; 4]>().prop_map(|a| Vsa::AscendClientPrimaryDns(Ipv4Addr::from(a))),
        any::<[u8; 4]>().prop_map(|a| Vsa::AscendClientSecondaryDns(Ipv4Addr::from(a))),
        any::<[u8; 4]>().prop_map(|a| Vsa::MsPrimaryDnsServer(Ipv4Addr::from(a))),
        any::<[u8; 4]>().prop_map(|a| Vsa::MsSecondaryDnsServer(Ipv4Addr::from(a))),
        (any::<u32>(), prop::collection::vec(any::<u8>(), 1..60))
            .prop_filter("typed vendors decode to typed variants", |(v, _)| {
                ![9, 311, 529].contains(v)
            })
            .prop_map(|(vendor_id, data)| Vsa::Other { vendor_id, data }),
    ]
}

fn attribute() -> impl Strategy<Value = Attribute> {
    use Attribute as A;
    let text = || bytes(60);
    let int = any::<u32>;
    let v4 = || any::<[u8; 4]>().prop_map(Ipv4Addr::from);
    let v6 = || any::<[u8; 16]>().prop_map(Ipv6Addr::from);
    let tagged_int =
        || (0u8..=0x1f, 0u32..=0xff_ffff).prop_map(|(tag, value)| TaggedInt { tag, value });
    let all: Vec<BoxedStrategy<Attribute>> = vec![
        text().prop_map(A::UserName).boxed(),
        text().prop_map(A::UserPassword).boxed(),
        (any::<u8>(), any::<[u8; 16]>())
            .prop_map(|(ident, response)| A::ChapPassword(ChapPassword { ident, response }))
            .boxed(),
        v4().prop_map(A::NasIpAddress).boxed(),
        int().prop_map(A::NasPort).boxed(),
        int().prop_map(A::ServiceType).boxed(),
        int().prop_map(A::FramedProtocol).boxed(),
        v4().prop_map(A::FramedIpAddress).boxed(),
        v4().prop_map(A::FramedIpNetmask).boxed(),
        int().prop_map(A::FramedRouting).boxed(),
        text().prop_map(A::FilterId).boxed(),
        int().prop_map(A::FramedMtu).boxed(),
        int().prop_map(A::FramedCompression).boxed(),
        v4().prop_map(A::LoginIpHost).boxed(),
        int().prop_map(A::LoginService).boxed(),
        text().prop_map(A::ReplyMessage).boxed(),
        text().prop_map(A::FramedRoute).boxed(),
        text().prop_map(A::State).boxed(),
        text().prop_map(A::Class).boxed(),
        vsa().prop_map(A::VendorSpecific).boxed(),
        int().prop_map(A::SessionTimeout).boxed(),
        int().prop_map(A::IdleTimeout).boxed(),
        int().prop_map(A::TerminationAction).boxed(),
        text().prop_map(A::CalledStationId).boxed(),
        text().prop_map(A::CallingStationId).boxed(),
        text().prop_map(A::NasIdentifier).boxed(),
        text().prop_map(A::ProxyState).boxed(),
        int().prop_map(A::AcctStatusType).boxed(),
        int().prop_map(A::AcctDelayTime).boxed(),
        int().prop_map(A::AcctInputOctets).boxed(),
        int().prop_map(A::AcctOutputOctets).boxed(),
        text().prop_map(A::AcctSessionId).boxed(),
        int().prop_map(A::AcctAuthentic).boxed(),
        int().prop_map(A::AcctSessionTime).boxed(),
        int().prop_map(A::AcctInputPackets).boxed(),
        int().prop_map(A::AcctOutputPackets).boxed(),
        int().prop_map(A::AcctTerminateCause).boxed(),
        text().prop_map(A::AcctMultiSessionId).boxed(),
        int().prop_map(A::AcctLinkCount).boxed(),
        int().prop_map(A::AcctInputGigawords).boxed(),
        int().prop_map(A::AcctOutputGigawords).boxed(),
        int().prop_map(A::EventTimestamp).boxed(),
        text().prop_map(A::ChapChallenge).boxed(),
        int().prop_map(A::NasPortType).boxed(),
        int().prop_map(A::PortLimit).boxed(),
        tagged_int().prop_map(A::TunnelType).boxed(),
        tagged_int().prop_map(A::TunnelMediumType).boxed(),
        tagged_text().prop_map(A::TunnelClientEndpoint).boxed(),
        tagged_text().prop_map(A::TunnelServerEndpoint).boxed(),
        (0u8..=0x1f, any::<[u8; 2]>(), 1usize..=15, any::<[u8; 16]>())
            .prop_map(|(tag, salt, blocks, fill)| {
                A::TunnelPassword(TunnelPassword {
                    tag,
                    salt,
                    encrypted: fill.repeat(blocks),
                })
            })
            .boxed(),
        text().prop_map(A::ConnectInfo).boxed(),
        text().prop_map(A::EapMessage).boxed(),
        any::<[u8; 16]>().prop_map(A::MessageAuthenticator).boxed(),
        tagged_text().prop_map(A::TunnelPrivateGroupId).boxed(),
        tagged_text().prop_map(A::TunnelAssignmentId).boxed(),
        int().prop_map(A::AcctInterimInterval).boxed(),
        text().prop_map(A::NasPortId).boxed(),
        text().prop_map(A::FramedPool).boxed(),
        tagged_text().prop_map(A::TunnelClientAuthId).boxed(),
        tagged_text().prop_map(A::TunnelServerAuthId).boxed(),
        v6().prop_map(A::NasIpv6Address).boxed(),
        any::<[u8; 8]>().prop_map(A::FramedInterfaceId).boxed(),
        ipv6_prefix().prop_map(A::FramedIpv6Prefix).boxed(),
        text().prop_map(A::FramedIpv6Route).boxed(),
        text().prop_map(A::FramedIpv6Pool).boxed(),
        int().prop_map(A::ErrorCause).boxed(),
        ipv6_prefix().prop_map(A::DelegatedIpv6Prefix).boxed(),
        v6().prop_map(A::FramedIpv6Address).boxed(),
        (any::<u8>(), bytes(60))
            .prop_filter("outside the dictionary", |(t, _)| {
                !Attribute::is_known_type(*t)
            })
            .prop_map(|(typ, value)| A::Other { typ, value })
            .boxed(),
        // An integer attribute with a wrong length stays Malformed, losslessly.
        prop::collection::vec(any::<u8>(), 0..8)
            .prop_filter("not 4 octets", |v| v.len() != 4)
            .prop_map(|value| A::Malformed { typ: 27, value })
            .boxed(),
    ];
    Union::new(all)
}

fn packet() -> impl Strategy<Value = Packet> {
    (
        prop::sample::select(Code::ALL.to_vec()),
        any::<u8>(),
        any::<[u8; 16]>(),
        prop::collection::vec(attribute(), 0..24),
    )
        .prop_map(|(code, identifier, authenticator, attributes)| Packet {
            code,
            identifier,
            authenticator,
            attributes,
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn decode_of_encode_is_identity(p in packet()) {
        let wire = p.encode().unwrap();
        let decoded = Packet::decode(&wire).unwrap();
        prop_assert_eq!(&decoded, &p);
        // And the encoding is canonical.
        prop_assert_eq!(decoded.encode().unwrap(), wire);
    }

    #[test]
    fn every_single_attribute_round_trips(a in attribute(), code in prop::sample::select(Code::ALL.to_vec())) {
        let mut p = Packet::new(code, 0);
        p.attributes.push(a);
        let wire = p.encode().unwrap();
        prop_assert_eq!(Packet::decode(&wire).unwrap(), p);
    }

    #[test]
    fn signed_packets_verify_and_tampering_is_detected(
        mut p in packet(),
        request_auth in any::<[u8; 16]>(),
        secret in prop::collection::vec(any::<u8>(), 1..40),
        with_ma in any::<bool>(),
        flip in any::<usize>(),
    ) {
        p.attributes.retain(|a| !matches!(a, Attribute::MessageAuthenticator(_)));
        if with_ma {
            p.attributes.push(Attribute::MessageAuthenticator([0; 16]));
        }
        prop_assume!(p.encode().unwrap().len() <= radius::MAX_PACKET_LEN);
        let wire = p.encode_signed(&secret, Some(&request_auth)).unwrap();
        let raw = RawPacket::parse(&wire).unwrap();
        let verified = if p.code.is_request() {
            verify_request(&raw, &secret)
        } else {
            verify_response(&raw, &request_auth, &secret)
        };
        prop_assert_eq!(verified.map(|m| m == radius::MessageAuthenticator::Valid), Ok(with_ma));

        // Flip one bit of the attributes: some check must now fail, unless the packet is an
        // Access-Request/Status-Server without Message-Authenticator (nothing to check).
        let protected = p.code.has_computed_request_authenticator() || !p.code.is_request() || with_ma;
        if protected && wire.len() > 20 {
            let mut tampered = wire.clone();
            let i = 20 + flip % (wire.len() - 20);
            tampered[i] ^= 1 << (flip % 8);
            if let Ok(raw) = RawPacket::parse(&tampered) {
                let result = if p.code.is_request() {
                    verify_request(&raw, &secret)
                } else {
                    verify_response(&raw, &request_auth, &secret)
                };
                if p.code.is_request() && !p.code.has_computed_request_authenticator() {
                    // Only the Message-Authenticator protects these: a flip may turn it into
                    // another attribute, which verification reports as absent for the
                    // caller's policy (the client then requires it) - never as valid.
                    prop_assert_ne!(result, Ok(radius::MessageAuthenticator::Valid));
                } else {
                    prop_assert!(result.is_err());
                }
            }
        }
    }

    #[test]
    fn tunnel_password_round_trips(
        password in prop::collection::vec(any::<u8>(), 0..=239),
        secret in prop::collection::vec(any::<u8>(), 1..40),
        auth in any::<[u8; 16]>(),
        salt in any::<[u8; 2]>(),
    ) {
        let encrypted = radius::hide_tunnel_password(&password, &secret, &auth, salt).unwrap();
        prop_assert!(encrypted.len() % 16 == 0 && encrypted.len() + 3 <= 253);
        prop_assert_eq!(
            radius::unhide_tunnel_password(&encrypted, &secret, &auth, salt).unwrap(),
            password
        );
    }

    #[test]
    fn password_hiding_round_trips(
        password in prop::collection::vec(1u8..=255, 0..=128),
        secret in prop::collection::vec(any::<u8>(), 1..40),
        auth in any::<[u8; 16]>(),
    ) {
        let hidden = hide_user_password(&password, &secret, &auth).unwrap();
        prop_assert_eq!(hidden.len() % 16, 0);
        prop_assert_eq!(unhide_user_password(&hidden, &secret, &auth).unwrap(), password);
    }

    #[test]
    fn arbitrary_bytes_never_panic_and_decoded_packets_reencode(data in prop::collection::vec(any::<u8>(), 0..300)) {
        radius::fuzzing::decode_packet(&data);
    }
}
