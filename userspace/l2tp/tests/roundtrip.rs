//! Property tests: decode(encode(x)) == x for every message type and every AVP, hidden or
//! not; header encoders and parsers agree; decoders never panic on arbitrary bytes.

use l2tp::avp::{Avp, AvpValue, CallErrors, PppDisconnectCause, ResultCode};
use l2tp::header::{self, Header};
#[allow(unused_imports)]
use l2tp::ids::{SessionId, TunnelId};
use l2tp::message::{Message, MessageType};
use proptest::collection::vec;
use proptest::prelude::*;

const KNOWN_ATTRS: &[u16] = &[
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 21, 22, 23, 24, 25, 26,
    27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 46,
];

fn bytes(min: usize, max: usize) -> impl Strategy<Value = Vec<u8>> {
    vec(any::<u8>(), min..=max)
}

fn result_code() -> impl Strategy<Value = ResultCode> {
    (
        any::<u16>(),
        proptest::option::of((any::<u16>(), proptest::option::of(bytes(1, 40)))),
    )
        .prop_map(|(result, e)| ResultCode {
            result,
            error: e.as_ref().map(|x| x.0),
            message: e.and_then(|x| x.1),
        })
}

fn avp_value() -> impl Strategy<Value = AvpValue> {
    let a = prop_oneof![
        result_code().prop_map(AvpValue::ResultCode),
        (any::<u8>(), any::<u8>())
            .prop_map(|(version, revision)| AvpValue::ProtocolVersion { version, revision }),
        any::<u32>().prop_map(AvpValue::FramingCapabilities),
        any::<u32>().prop_map(AvpValue::BearerCapabilities),
        any::<[u8; 8]>().prop_map(AvpValue::TieBreaker),
        any::<u16>().prop_map(AvpValue::FirmwareRevision),
        bytes(1, 64).prop_map(AvpValue::HostName),
        bytes(0, 64).prop_map(AvpValue::VendorName),
        any::<u16>().prop_map(|v| AvpValue::AssignedTunnelId(TunnelId(v))),
        any::<u16>().prop_map(AvpValue::ReceiveWindowSize),
        bytes(1, 64).prop_map(AvpValue::Challenge),
        (any::<u16>(), any::<u8>(), bytes(0, 20)).prop_map(|(cause, message, advisory)| {
            AvpValue::Q931CauseCode {
                cause,
                message,
                advisory,
            }
        }),
        any::<[u8; 16]>().prop_map(AvpValue::ChallengeResponse),
    ];
    let b = prop_oneof![
        any::<u16>().prop_map(|v| AvpValue::AssignedSessionId(SessionId(v))),
        any::<u32>().prop_map(AvpValue::CallSerialNumber),
        any::<u32>().prop_map(AvpValue::MinimumBps),
        any::<u32>().prop_map(AvpValue::MaximumBps),
        any::<u32>().prop_map(AvpValue::BearerType),
        any::<u32>().prop_map(AvpValue::FramingType),
        bytes(0, 32).prop_map(AvpValue::CalledNumber),
        bytes(0, 32).prop_map(AvpValue::CallingNumber),
        bytes(0, 32).prop_map(AvpValue::SubAddress),
        any::<u32>().prop_map(AvpValue::TxConnectSpeed),
        any::<u32>().prop_map(AvpValue::PhysicalChannelId),
        bytes(0, 64).prop_map(AvpValue::InitialReceivedLcpConfReq),
        bytes(0, 64).prop_map(AvpValue::LastSentLcpConfReq),
        bytes(0, 64).prop_map(AvpValue::LastReceivedLcpConfReq),
    ];
    let c = prop_oneof![
        any::<u16>().prop_map(AvpValue::ProxyAuthenType),
        bytes(0, 64).prop_map(AvpValue::ProxyAuthenName),
        bytes(0, 64).prop_map(AvpValue::ProxyAuthenChallenge),
        any::<u8>().prop_map(AvpValue::ProxyAuthenId),
        bytes(0, 64).prop_map(AvpValue::ProxyAuthenResponse),
        any::<[u32; 6]>().prop_map(|e| AvpValue::CallErrors(CallErrors {
            crc: e[0],
            framing: e[1],
            hardware_overruns: e[2],
            buffer_overruns: e[3],
            timeouts: e[4],
            alignment: e[5],
        })),
        (any::<u32>(), any::<u32>()).prop_map(|(send, receive)| AvpValue::Accm { send, receive }),
        bytes(0, 32).prop_map(AvpValue::PrivateGroupId),
        any::<u32>().prop_map(AvpValue::RxConnectSpeed),
        Just(AvpValue::SequencingRequired),
        (any::<u16>(), any::<u16>(), any::<u8>(), bytes(0, 20)).prop_map(
            |(code, protocol, direction, message)| {
                AvpValue::PppDisconnectCause(PppDisconnectCause {
                    code,
                    protocol,
                    direction,
                    message,
                })
            }
        ),
        // Unknown IETF attributes and vendor AVPs are carried raw.
        (any::<u16>(), bytes(0, 40)).prop_filter_map("known attribute", |(attr, value)| {
            (!KNOWN_ATTRS.contains(&attr)).then_some(AvpValue::Unknown {
                vendor: 0,
                attr,
                value,
            })
        }),
        (1..=u16::MAX, any::<u16>(), bytes(0, 40)).prop_map(|(vendor, attr, value)| {
            AvpValue::Unknown {
                vendor,
                attr,
                value,
            }
        }),
    ];
    prop_oneof![a, b, c]
}

fn avp() -> impl Strategy<Value = Avp> {
    (any::<bool>(), any::<bool>(), avp_value()).prop_map(|(mandatory, hidden, value)| Avp {
        mandatory,
        hidden,
        value,
    })
}

fn message_type() -> impl Strategy<Value = MessageType> {
    prop_oneof![
        (1u16..=16).prop_map(MessageType::from_u16),
        any::<u16>().prop_map(MessageType::from_u16),
    ]
}

fn message() -> impl Strategy<Value = Message> {
    (
        message_type(),
        any::<bool>(),
        vec(avp(), 0..12),
        bytes(1, 32),
    )
        .prop_map(|(kind, kind_mandatory, mut avps, rv)| {
            // A Random Vector first so that hidden AVPs can be encoded (RFC 2661 §4.3).
            if avps.iter().any(|a| a.hidden) {
                avps.insert(0, Avp::m(AvpValue::RandomVector(rv)));
            }
            // Random Vector itself is never hidden (it keys the hiding).
            for a in &mut avps {
                if matches!(a.value, AvpValue::RandomVector(_)) {
                    a.hidden = false;
                }
            }
            Message {
                kind,
                kind_mandatory,
                avps,
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn message_round_trip(m in message(), tid: u16, sid: u16, ns: u16, nr: u16) {
        let wire = m.encode(TunnelId(tid), SessionId(sid), ns, nr, Some(b"secret")).unwrap();
        let Header::Control(h) = header::parse(&wire).unwrap() else { panic!("not control") };
        prop_assert_eq!((h.tunnel_id, h.session_id, h.ns, h.nr), (TunnelId(tid), SessionId(sid), ns, nr));
        prop_assert_eq!(h.body.end, wire.len());
        let back = Message::decode(&wire[h.body], Some(b"secret")).unwrap();
        prop_assert_eq!(back, m);
    }

    #[test]
    fn every_message_type_round_trips(t in 1u16..=16, avps in vec(avp_value(), 0..6)) {
        let m = Message::new(MessageType::from_u16(t), avps.into_iter().map(Avp::m).collect());
        let wire = m.encode(TunnelId(1), SessionId(2), 3, 4, None).unwrap();
        prop_assert_eq!(Message::decode(&wire[12..], None).unwrap(), m);
    }

    #[test]
    fn data_header_round_trip(tid: u16, sid: u16, payload in bytes(0, 200), head in 6usize..64) {
        let mut buf = vec![0u8; head + payload.len()];
        buf[head..].copy_from_slice(&payload);
        let start = header::write_data_header(&mut buf, head, TunnelId(tid), SessionId(sid)).unwrap();
        let h = header::parse_data_header(&buf[start..]).unwrap().unwrap();
        prop_assert_eq!((h.tunnel_id, h.session_id, h.sequence), (TunnelId(tid), SessionId(sid), None));
        prop_assert_eq!(&buf[start..][h.payload()], &payload[..]);
    }

    /// Every optional field of the data header (RFC 2661 §3.1: L length, S with Ns/Nr, O offset
    /// with padding, P priority), built here from the RFC's layout: the parser finds each field
    /// and the PPP frame, and ignores bytes after the declared length.
    #[test]
    fn data_header_with_every_option_parses(
        tid: u16, sid: u16, payload in bytes(0, 200),
        length in any::<bool>(), seq in proptest::option::of(any::<(u16, u16)>()),
        pad in proptest::option::of(0usize..32), priority in any::<bool>(), trailer in bytes(0, 8),
    ) {
        let mut flags: u16 = 0x0002;
        let mut fields = Vec::new();
        if length { flags |= 0x4000; fields.extend([0, 0]); }
        fields.extend(tid.to_be_bytes());
        fields.extend(sid.to_be_bytes());
        if let Some((ns, nr)) = seq {
            flags |= 0x0800;
            fields.extend(ns.to_be_bytes());
            fields.extend(nr.to_be_bytes());
        }
        if let Some(pad) = pad {
            flags |= 0x0200;
            fields.extend((pad as u16).to_be_bytes());
            fields.extend(std::iter::repeat_n(0xAAu8, pad));
        }
        if priority { flags |= 0x0100; }
        let mut wire = flags.to_be_bytes().to_vec();
        wire.extend(&fields);
        wire.extend(&payload);
        let declared = wire.len();
        if length {
            wire[2..4].copy_from_slice(&(declared as u16).to_be_bytes());
            // Bytes past the Length field are not part of the message (e.g. UDP padding).
            wire.extend(&trailer);
        }
        let h = header::parse_data_header(&wire).unwrap().unwrap();
        prop_assert_eq!((h.tunnel_id, h.session_id, h.sequence, h.priority), (TunnelId(tid), SessionId(sid), seq, priority));
        prop_assert_eq!(&wire[h.payload()], &payload[..]);
    }

}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn decoders_never_panic(data in bytes(0, 300)) {
        l2tp::fuzzing::decode(&data);
        let _ = Message::decode(&data, Some(b"k"));
    }

    #[test]
    fn engine_never_panics(data in bytes(0, 600)) {
        l2tp::fuzzing::engine(&data);
    }
}
