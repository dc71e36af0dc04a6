use super::*;
use crate::attribute::{service_type, types};
use crate::auth::verify_response;
use crate::Vsa;
use md5::{Digest, Md5};

const SECRET: &[u8] = b"dae-secret";
const UNIX: u64 = 1_700_000_000;

fn dac() -> SocketAddr {
    "192.0.2.1:40000".parse().unwrap()
}

fn config() -> DaeConfig {
    let mut config = DaeConfig::new(vec![DaeClient {
        address: dac().ip(),
        secret: SECRET.to_vec(),
    }]);
    config.nas_identity.ipv4.push(Ipv4Addr::new(192, 0, 2, 10));
    config.nas_identity.identifiers.push(b"lns1".to_vec());
    config
}

fn server() -> DaeServer {
    DaeServer::new(config()).unwrap()
}

fn signed(code: Code, identifier: u8, attributes: Vec<Attribute>) -> Vec<u8> {
    let mut p = Packet::new(code, identifier);
    p.attributes = attributes;
    p.encode_signed(SECRET, None).unwrap()
}

fn user(name: &str) -> Attribute {
    Attribute::UserName(name.as_bytes().to_vec())
}

fn ma() -> Attribute {
    Attribute::MessageAuthenticator([0; 16])
}

/// The single datagram queued, checked to be a signed answer to `request`.
fn reply_to(server: &mut DaeServer, request: &[u8]) -> Packet {
    let t = server.poll_transmit().expect("a reply is queued");
    assert!(server.poll_transmit().is_none(), "exactly one reply");
    assert_eq!(t.destination, dac());
    let raw = RawPacket::parse(&t.contents).unwrap();
    let req = RawPacket::parse(request).unwrap();
    assert!(raw.code().answers(req.code()));
    assert_eq!(raw.identifier(), req.identifier());
    verify_response(&raw, req.authenticator(), SECRET).expect("signed with the secret");
    Packet::from_raw(&raw)
}

fn refused(attributes: Vec<Attribute>, code: Code) -> (DaeServer, Packet) {
    let mut s = server();
    let wire = signed(code, 3, attributes);
    assert_eq!(
        s.handle_datagram(Instant::now(), UNIX, dac(), &wire),
        Ok(None)
    );
    let reply = reply_to(&mut s, &wire);
    (s, reply)
}

fn error_cause_of(p: &Packet) -> Option<u32> {
    p.find(|a| match a {
        Attribute::ErrorCause(c) => Some(*c),
        _ => None,
    })
}

#[test]
fn disconnect_is_handed_out_and_acked_with_a_response_authenticator() {
    let mut s = server();
    let wire = signed(
        Code::DisconnectRequest,
        9,
        vec![user("alice"), Attribute::AcctSessionId(b"0A".to_vec())],
    );
    let now = Instant::now();
    let request = s.handle_datagram(now, UNIX, dac(), &wire).unwrap().unwrap();
    assert_eq!(request.kind, DaeKind::Disconnect);
    assert_eq!(request.source, dac());
    assert_eq!(request.session.acct_session_id.as_deref(), Some(&b"0A"[..]));
    assert_eq!(request.message_authenticator, MessageAuthenticator::Absent);
    assert!(request.changes.is_empty() && request.other.is_empty());
    assert!(
        s.poll_transmit().is_none(),
        "nothing is sent before the answer"
    );
    s.answer(now, request.handle, DaeAnswer::Ack).unwrap();
    let reply = reply_to(&mut s, &wire);
    assert_eq!(reply.code, Code::DisconnectAck);
    assert!(
        reply.attributes.is_empty(),
        "no Message-Authenticator was asked for"
    );
    // The Response Authenticator, computed independently (RFC 5176 §2.3).
    let mut h = Md5::new();
    h.update([41, 9, 0, 20]);
    h.update(&wire[4..20]);
    h.update(SECRET);
    assert_eq!(reply.authenticator, <[u8; 16]>::from(h.finalize()));
    assert_eq!(s.stats().requests, 1);
    assert_eq!(s.stats().acks, 1);
    assert_eq!(s.pending(), 0);
    assert_eq!(
        s.answer(now, request.handle, DaeAnswer::Ack),
        Err(AnswerError::UnknownHandle(request.handle)),
        "answered once only"
    );
}

#[test]
fn coa_changes_are_typed_and_the_rest_kept() {
    let mut s = server();
    let wire = signed(
        Code::CoaRequest,
        1,
        vec![
            ma(),
            Attribute::NasIpAddress(Ipv4Addr::new(192, 0, 2, 10)),
            Attribute::FramedIpAddress(Ipv4Addr::new(198, 51, 100, 7)),
            Attribute::SessionTimeout(3600),
            Attribute::IdleTimeout(600),
            Attribute::FilterId(b"web.in".to_vec()),
            Attribute::FilterId(b"web.out".to_vec()),
            Attribute::VendorSpecific(Vsa::CiscoAvPair(b"throttle=yes".to_vec())),
            Attribute::VendorSpecific(Vsa::CiscoAvPair(
                b"lcp:interface-config=service-policy input 2000".to_vec(),
            )),
            Attribute::FramedRoute(b"203.0.113.0/24".to_vec()),
            Attribute::ProxyState(b"p1".to_vec()),
            Attribute::ProxyState(b"p2".to_vec()),
        ],
    );
    let now = Instant::now();
    let r = s.handle_datagram(now, UNIX, dac(), &wire).unwrap().unwrap();
    assert_eq!(r.kind, DaeKind::Coa);
    assert_eq!(r.message_authenticator, MessageAuthenticator::Valid);
    assert_eq!(r.nas.nas_ip_address, Some(Ipv4Addr::new(192, 0, 2, 10)));
    assert_eq!(
        r.session.framed_ip_address,
        Some(Ipv4Addr::new(198, 51, 100, 7))
    );
    assert_eq!(r.changes.session_timeout, Some(3600));
    assert_eq!(r.changes.idle_timeout, Some(600));
    assert_eq!(
        r.changes.filter_ids,
        vec![b"web.in".to_vec(), b"web.out".to_vec()]
    );
    let pairs: Vec<(&[u8], &[u8])> = r
        .changes
        .av_pairs
        .iter()
        .map(|p| (&p.key[..], &p.value[..]))
        .collect();
    assert_eq!(
        pairs,
        vec![
            (&b"throttle"[..], &b"yes"[..]),
            (
                &b"lcp:interface-config"[..],
                &b"service-policy input 2000"[..]
            )
        ]
    );
    assert_eq!(
        r.other,
        vec![Attribute::FramedRoute(b"203.0.113.0/24".to_vec())]
    );
    s.answer(
        now,
        r.handle,
        DaeAnswer::Nak(ErrorCause::SessionContextNotFound),
    )
    .unwrap();
    let reply = reply_to(&mut s, &wire);
    assert_eq!(reply.code, Code::CoaNak);
    // Message-Authenticator first (it was in the request), Error-Cause, Proxy-States in order.
    assert!(matches!(
        reply.attributes[0],
        Attribute::MessageAuthenticator(_)
    ));
    assert_eq!(
        reply.attributes[1..],
        [
            Attribute::ErrorCause(503),
            Attribute::ProxyState(b"p1".to_vec()),
            Attribute::ProxyState(b"p2".to_vec()),
        ]
    );
    let cached = s.cache_reply(&wire);
    let raw = RawPacket::parse(&cached).unwrap();
    assert_eq!(
        verify_response(
            &raw,
            RawPacket::parse(&wire).unwrap().authenticator(),
            SECRET
        ),
        Ok(MessageAuthenticator::Valid)
    );
    assert_eq!(s.stats().naks, 1);
}

impl DaeServer {
    /// The cached reply to `request`, by resending it.
    fn cache_reply(&mut self, request: &[u8]) -> Vec<u8> {
        assert_eq!(
            self.handle_datagram(Instant::now(), UNIX, dac(), request),
            Ok(None)
        );
        self.poll_transmit().unwrap().contents
    }
}

#[test]
fn unknown_sources_are_dropped_silently() {
    let mut s = server();
    let wire = signed(Code::DisconnectRequest, 1, vec![user("a")]);
    let forged: SocketAddr = "198.51.100.9:40000".parse().unwrap();
    assert_eq!(
        s.handle_datagram(Instant::now(), UNIX, forged, &wire),
        Err(DaeDrop::UnknownSource(forged.ip()))
    );
    assert!(s.poll_transmit().is_none());
    assert_eq!(s.stats().drop_unknown_source, 1);
}

#[test]
fn malformed_and_unexpected_codes_are_dropped() {
    let mut s = server();
    let now = Instant::now();
    assert!(matches!(
        s.handle_datagram(now, UNIX, dac(), &[40, 1, 0]),
        Err(DaeDrop::Malformed(DecodeError::TooShort(3)))
    ));
    let mut bad = signed(Code::DisconnectRequest, 1, vec![user("a")]);
    bad[21] = 1; // attribute length below 2
    assert!(matches!(
        s.handle_datagram(now, UNIX, dac(), &bad),
        Err(DaeDrop::Malformed(_))
    ));
    for code in [Code::AccountingRequest, Code::CoaAck] {
        let mut p = Packet::new(code, 1);
        p.attributes.push(user("a"));
        let wire = p.encode_signed(SECRET, Some(&[0; 16])).unwrap();
        assert_eq!(
            s.handle_datagram(now, UNIX, dac(), &wire),
            Err(DaeDrop::UnexpectedCode(code.to_u8()))
        );
    }
    let mut unknown = signed(Code::DisconnectRequest, 1, vec![user("a")]);
    unknown[0] = 99;
    assert_eq!(
        s.handle_datagram(now, UNIX, dac(), &unknown),
        Err(DaeDrop::UnexpectedCode(99))
    );
    assert_eq!(s.stats().drop_malformed, 2);
    assert_eq!(s.stats().drop_unexpected_code, 3);
    assert!(s.poll_transmit().is_none());
}

#[test]
fn wrong_secret_and_tampering_are_dropped() {
    let mut s = server();
    let mut p = Packet::new(Code::DisconnectRequest, 1);
    p.attributes.push(user("alice"));
    let wire = p.encode_signed(b"wrong", None).unwrap();
    assert_eq!(
        s.handle_datagram(Instant::now(), UNIX, dac(), &wire),
        Err(DaeDrop::BadAuthenticator)
    );
    let mut tampered = signed(Code::DisconnectRequest, 1, vec![user("alice")]);
    *tampered.last_mut().unwrap() = b'x';
    assert_eq!(
        s.handle_datagram(Instant::now(), UNIX, dac(), &tampered),
        Err(DaeDrop::BadAuthenticator)
    );
    assert_eq!(s.stats().drop_bad_authenticator, 2);
}

#[test]
fn message_authenticator_is_checked_when_present_and_when_required() {
    let mut s = server();
    // A valid Request Authenticator over a wrong Message-Authenticator.
    let mut wire = signed(Code::DisconnectRequest, 1, vec![ma(), user("alice")]);
    wire[22] ^= 0xff;
    let mut h = Md5::new();
    h.update(&wire[..4]);
    h.update([0u8; 16]);
    h.update(&wire[20..]);
    h.update(SECRET);
    wire[4..20].copy_from_slice(&h.finalize());
    assert_eq!(
        s.handle_datagram(Instant::now(), UNIX, dac(), &wire),
        Err(DaeDrop::BadMessageAuthenticator(
            AuthError::BadMessageAuthenticator
        ))
    );
    assert_eq!(s.stats().drop_bad_message_authenticator, 1);

    let mut config = config();
    config.require_message_authenticator = true;
    let mut s = DaeServer::new(config).unwrap();
    let without = signed(Code::DisconnectRequest, 1, vec![user("alice")]);
    assert_eq!(
        s.handle_datagram(Instant::now(), UNIX, dac(), &without),
        Err(DaeDrop::MissingMessageAuthenticator)
    );
    let with = signed(Code::DisconnectRequest, 2, vec![ma(), user("alice")]);
    assert!(s
        .handle_datagram(Instant::now(), UNIX, dac(), &with)
        .unwrap()
        .is_some());
    assert_eq!(s.stats().drop_missing_message_authenticator, 1);
}

#[test]
fn event_timestamp_outside_the_window_is_a_replay() {
    let mut s = server();
    let now = Instant::now();
    let at = |id, t: u32| {
        signed(
            Code::DisconnectRequest,
            id,
            vec![user("a"), Attribute::EventTimestamp(t)],
        )
    };
    let unix = UNIX as u32;
    assert!(s
        .handle_datagram(now, UNIX, dac(), &at(1, unix - 300))
        .unwrap()
        .is_some());
    assert!(s
        .handle_datagram(now, UNIX, dac(), &at(2, unix + 300))
        .unwrap()
        .is_some());
    assert_eq!(
        s.handle_datagram(now, UNIX, dac(), &at(3, unix - 301)),
        Err(DaeDrop::StaleEventTimestamp {
            timestamp: unix - 301,
            unix_time: UNIX
        })
    );
    assert!(matches!(
        s.handle_datagram(now, UNIX, dac(), &at(4, unix + 301)),
        Err(DaeDrop::StaleEventTimestamp { .. })
    ));
    let short = signed(
        Code::DisconnectRequest,
        5,
        vec![
            user("a"),
            Attribute::Other {
                typ: types::EVENT_TIMESTAMP,
                value: vec![1, 2, 3],
            },
        ],
    );
    assert_eq!(
        s.handle_datagram(now, UNIX, dac(), &short),
        Err(DaeDrop::MalformedEventTimestamp)
    );
    assert_eq!(s.stats().drop_stale_event_timestamp, 3);
    assert!(s.poll_transmit().is_none(), "replays are not answered");

    let mut config = config();
    config.require_event_timestamp = true;
    let mut s = DaeServer::new(config).unwrap();
    let without = signed(Code::DisconnectRequest, 1, vec![user("a")]);
    assert_eq!(
        s.handle_datagram(now, UNIX, dac(), &without),
        Err(DaeDrop::MissingEventTimestamp)
    );
    assert!(s
        .handle_datagram(now, UNIX, dac(), &at(2, unix))
        .unwrap()
        .is_some());
    assert_eq!(s.stats().drop_missing_event_timestamp, 1);
}

#[test]
fn duplicates_are_answered_from_the_cache_and_never_run_twice() {
    let mut s = server();
    let wire = signed(Code::DisconnectRequest, 4, vec![user("alice")]);
    let t0 = Instant::now();
    let r = s.handle_datagram(t0, UNIX, dac(), &wire).unwrap().unwrap();
    assert_eq!(
        s.handle_datagram(t0, UNIX, dac(), &wire),
        Err(DaeDrop::DuplicateInProgress)
    );
    s.answer(t0, r.handle, DaeAnswer::Ack).unwrap();
    let first = s.poll_transmit().unwrap().contents;
    let t1 = t0 + Duration::from_secs(29);
    assert_eq!(s.handle_datagram(t1, UNIX, dac(), &wire), Ok(None));
    assert_eq!(
        s.poll_transmit().unwrap().contents,
        first,
        "the very same reply"
    );
    assert_eq!(s.stats().duplicates_answered, 1);
    assert_eq!(s.stats().requests, 1);
    // Another source port is another request (RFC 5176 §2.3).
    let other_port: SocketAddr = "192.0.2.1:40001".parse().unwrap();
    assert!(s
        .handle_datagram(t1, UNIX, other_port, &wire)
        .unwrap()
        .is_some());
    // After the window the same bytes are a new request.
    let t2 = t0 + Duration::from_secs(30);
    assert!(s.handle_datagram(t2, UNIX, dac(), &wire).unwrap().is_some());
    assert_eq!(s.stats().requests, 3);
}

#[test]
fn the_cache_is_bounded_and_never_forgets_an_unanswered_request() {
    let mut config = config();
    config.max_cache_entries = 2;
    let mut s = DaeServer::new(config).unwrap();
    let now = Instant::now();
    let req = |id| signed(Code::DisconnectRequest, id, vec![user("a")]);
    let a = s
        .handle_datagram(now, UNIX, dac(), &req(1))
        .unwrap()
        .unwrap();
    let b = s
        .handle_datagram(now, UNIX, dac(), &req(2))
        .unwrap()
        .unwrap();
    // Both entries await answers: a third request is refused with 506, uncached.
    assert_eq!(s.handle_datagram(now, UNIX, dac(), &req(3)), Ok(None));
    let nak = reply_to(&mut s, &req(3));
    assert_eq!(
        error_cause_of(&nak),
        Some(error_cause::RESOURCES_UNAVAILABLE)
    );
    assert_eq!(s.stats().refused_resources_unavailable, 1);
    assert_eq!(s.cache.len(), 2);
    s.answer(now, a.handle, DaeAnswer::Ack).unwrap();
    s.answer(now, b.handle, DaeAnswer::Ack).unwrap();
    while s.poll_transmit().is_some() {}
    // Now the oldest answer makes room.
    assert!(s
        .handle_datagram(now, UNIX, dac(), &req(3))
        .unwrap()
        .is_some());
    assert_eq!(s.cache.len(), 2);
    assert!(
        s.handle_datagram(now, UNIX, dac(), &req(1))
            .unwrap()
            .is_some(),
        "evicted"
    );
    assert_eq!(
        s.handle_datagram(now, UNIX, dac(), &req(2)),
        Ok(None),
        "still cached"
    );
}

#[test]
fn disconnect_with_authorization_changes_is_401() {
    for change in [
        Attribute::SessionTimeout(60),
        Attribute::FilterId(b"x".to_vec()),
        Attribute::FramedRoute(b"192.0.2.0/24".to_vec()),
        Attribute::ErrorCause(201),
        Attribute::UserPassword(vec![0; 16]),
    ] {
        let (s, nak) = refused(vec![user("a"), change.clone()], Code::DisconnectRequest);
        assert_eq!(nak.code, Code::DisconnectNak, "{change:?}");
        assert_eq!(error_cause_of(&nak), Some(401), "{change:?}");
        assert_eq!(s.stats().refused_unsupported_attribute, 1);
        assert_eq!(s.stats().requests, 0, "never reaches the caller");
    }
    // Accounting data never belongs in a CoA either.
    let (_, nak) = refused(
        vec![user("a"), Attribute::AcctInputOctets(1)],
        Code::CoaRequest,
    );
    assert_eq!((nak.code, error_cause_of(&nak)), (Code::CoaNak, Some(401)));
}

#[test]
fn no_session_identification_is_402() {
    let (s, nak) = refused(
        vec![Attribute::NasIpAddress(Ipv4Addr::new(192, 0, 2, 10))],
        Code::DisconnectRequest,
    );
    assert_eq!(error_cause_of(&nak), Some(402));
    assert_eq!(s.stats().refused_missing_attribute, 1);
    let (_, nak) = refused(vec![Attribute::SessionTimeout(5)], Code::CoaRequest);
    assert_eq!(error_cause_of(&nak), Some(402));
}

#[test]
fn another_nas_is_403() {
    for nas in [
        Attribute::NasIpAddress(Ipv4Addr::new(192, 0, 2, 11)),
        Attribute::NasIdentifier(b"lns2".to_vec()),
        Attribute::NasIpv6Address("2001:db8::1".parse().unwrap()),
    ] {
        let (s, nak) = refused(vec![user("a"), nas.clone()], Code::DisconnectRequest);
        assert_eq!(error_cause_of(&nak), Some(403), "{nas:?}");
        assert_eq!(s.stats().refused_nas_mismatch, 1);
    }
    let mut s = server();
    let ours = signed(
        Code::DisconnectRequest,
        1,
        vec![user("a"), Attribute::NasIdentifier(b"lns1".to_vec())],
    );
    let r = s
        .handle_datagram(Instant::now(), UNIX, dac(), &ours)
        .unwrap()
        .unwrap();
    assert_eq!(r.nas.nas_identifier.as_deref(), Some(&b"lns1"[..]));
}

#[test]
fn unreadable_requests_are_404() {
    for attributes in [
        vec![user("a"), user("b")],
        vec![
            user("a"),
            Attribute::Malformed {
                typ: types::FRAMED_IP_ADDRESS,
                value: vec![1],
            },
        ],
        vec![
            user("a"),
            Attribute::VendorSpecific(Vsa::CiscoAvPair(b"throttle".to_vec())),
        ],
        vec![
            user("a"),
            Attribute::SessionTimeout(1),
            Attribute::SessionTimeout(2),
        ],
    ] {
        let (s, nak) = refused(attributes.clone(), Code::CoaRequest);
        assert_eq!(error_cause_of(&nak), Some(404), "{attributes:?}");
        assert_eq!(s.stats().refused_invalid_request, 1);
    }
}

#[test]
fn authorize_only_is_405_or_401_and_state_is_echoed() {
    let authorize_only = Attribute::ServiceType(service_type::AUTHORIZE_ONLY);
    let state = Attribute::State(b"st".to_vec());
    let (s, nak) = refused(
        vec![
            user("a"),
            authorize_only.clone(),
            state.clone(),
            Attribute::ProxyState(b"p".to_vec()),
        ],
        Code::CoaRequest,
    );
    assert_eq!(nak.code, Code::CoaNak);
    assert_eq!(
        nak.attributes,
        vec![
            Attribute::ErrorCause(405),
            state.clone(),
            Attribute::ProxyState(b"p".to_vec())
        ]
    );
    assert_eq!(s.stats().refused_unsupported_service, 1);
    // RFC 5176 §3.2: Authorize Only with anything but identification and State.
    let (_, nak) = refused(
        vec![user("a"), authorize_only, state, Attribute::IdleTimeout(5)],
        Code::CoaRequest,
    );
    assert_eq!(error_cause_of(&nak), Some(401));
    // Another service is not ours; Framed is.
    let (_, nak) = refused(
        vec![user("a"), Attribute::ServiceType(service_type::LOGIN)],
        Code::DisconnectRequest,
    );
    assert_eq!(error_cause_of(&nak), Some(405));
    let mut s = server();
    let framed = signed(
        Code::DisconnectRequest,
        1,
        vec![user("a"), Attribute::ServiceType(service_type::FRAMED)],
    );
    assert!(s
        .handle_datagram(Instant::now(), UNIX, dac(), &framed)
        .unwrap()
        .is_some());
}

#[test]
fn refusals_are_cached_too() {
    let mut s = server();
    let wire = signed(
        Code::DisconnectRequest,
        8,
        vec![Attribute::SessionTimeout(1), user("a")],
    );
    let now = Instant::now();
    assert_eq!(s.handle_datagram(now, UNIX, dac(), &wire), Ok(None));
    let first = s.poll_transmit().unwrap().contents;
    assert_eq!(s.handle_datagram(now, UNIX, dac(), &wire), Ok(None));
    assert_eq!(s.poll_transmit().unwrap().contents, first);
    assert_eq!(s.stats().refused_unsupported_attribute, 1);
    assert_eq!(s.stats().duplicates_answered, 1);
}

#[test]
fn disconnect_keeps_vendor_attributes_for_the_caller() {
    let mut s = server();
    let avpair = Attribute::VendorSpecific(Vsa::CiscoAvPair(b"audit-session-id=42".to_vec()));
    let cui = Attribute::Other {
        typ: 89,
        value: b"cui".to_vec(),
    };
    let wire = signed(
        Code::DisconnectRequest,
        1,
        vec![
            user("a"),
            avpair.clone(),
            Attribute::AcctTerminateCause(6),
            cui.clone(),
        ],
    );
    let r = s
        .handle_datagram(Instant::now(), UNIX, dac(), &wire)
        .unwrap()
        .unwrap();
    assert!(r.changes.is_empty());
    assert_eq!(r.other, vec![avpair, Attribute::AcctTerminateCause(6), cui]);
}

#[test]
fn reconfiguration_keeps_pending_answers_and_config_is_checked() {
    let mut s = server();
    let wire = signed(Code::DisconnectRequest, 1, vec![user("a")]);
    let now = Instant::now();
    let r = s.handle_datagram(now, UNIX, dac(), &wire).unwrap().unwrap();
    s.set_clients(vec![]).unwrap();
    assert_eq!(
        s.handle_datagram(now, UNIX, dac(), &wire),
        Err(DaeDrop::UnknownSource(dac().ip()))
    );
    s.answer(now, r.handle, DaeAnswer::Ack).unwrap();
    reply_to(&mut s, &wire);

    let client = |secret: &[u8]| DaeClient {
        address: dac().ip(),
        secret: secret.to_vec(),
    };
    assert_eq!(
        DaeServer::new(DaeConfig::new(vec![client(b"")])).err(),
        Some(DaeConfigError::EmptySecret(dac().ip()))
    );
    assert_eq!(
        DaeServer::new(DaeConfig::new(vec![client(b"a"), client(b"b")])).err(),
        Some(DaeConfigError::DuplicateClient(dac().ip()))
    );
    let mut c = config();
    c.max_cache_entries = 0;
    assert_eq!(DaeServer::new(c).err(), Some(DaeConfigError::ZeroCache));
    let mut c = config();
    c.duplicate_window = Duration::from_secs(86_401);
    assert_eq!(DaeServer::new(c).err(), Some(DaeConfigError::WindowTooLong));
}

#[test]
fn error_cause_values_are_rfc_5176_section_3_5() {
    let values: Vec<u32> = [
        ErrorCause::UnsupportedAttribute,
        ErrorCause::MissingAttribute,
        ErrorCause::NasIdentificationMismatch,
        ErrorCause::InvalidRequest,
        ErrorCause::UnsupportedService,
        ErrorCause::UnsupportedExtension,
        ErrorCause::InvalidAttributeValue,
        ErrorCause::AdministrativelyProhibited,
        ErrorCause::SessionContextNotFound,
        ErrorCause::SessionContextNotRemovable,
        ErrorCause::ResourcesUnavailable,
        ErrorCause::MultipleSessionSelectionUnsupported,
    ]
    .iter()
    .map(|c| c.value())
    .collect();
    assert_eq!(
        values,
        [401, 402, 403, 404, 405, 406, 407, 501, 503, 504, 506, 508]
    );
}
