//! The sans-IO client driven by a fake clock, against an in-memory server built from this
//! crate's codec (the FreeRADIUS test does the same against the real thing).

use radius::client::RttHistogram;
use radius::{
    unhide_user_password, verify_request, Attribute, Client, ClientConfig, Code, Event,
    MessageAuthenticator, MessageAuthenticatorPolicy, Packet, RawPacket, ReplyError, Request,
    RequestId, SendError, ServerConfig, Transmit,
};
use std::collections::HashSet;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

const SEED: [u8; 32] = [7; 32];

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

fn primary() -> ServerConfig {
    ServerConfig {
        address: addr("192.0.2.1:1812"),
        secret: b"primary-secret".to_vec(),
    }
}

fn secondary() -> ServerConfig {
    ServerConfig {
        address: addr("192.0.2.2:1812"),
        secret: b"secondary-secret".to_vec(),
    }
}

fn client(servers: Vec<ServerConfig>) -> Client {
    Client::new(ClientConfig::new(servers), SEED).unwrap()
}

fn transmits(c: &mut Client) -> Vec<(Transmit, Vec<u8>)> {
    let mut out = Vec::new();
    let mut buf = Vec::new();
    while let Some(t) = c.poll_transmit(&mut buf) {
        out.push((t, buf.clone()));
    }
    out
}

fn events(c: &mut Client) -> Vec<Event> {
    std::iter::from_fn(|| c.poll_event()).collect()
}

/// What a server does with a request: verify it and answer `code` with `attributes`,
/// adding a Message-Authenticator when `with_ma`.
fn answer(
    request: &[u8],
    secret: &[u8],
    code: Code,
    attributes: Vec<Attribute>,
    with_ma: bool,
) -> Vec<u8> {
    let raw = RawPacket::parse(request).unwrap();
    verify_request(&raw, secret).expect("client request authenticates");
    let mut reply = Packet::new(code, raw.identifier());
    if with_ma {
        reply
            .attributes
            .push(Attribute::MessageAuthenticator([0; 16]));
    }
    reply.attributes.extend(attributes);
    reply
        .encode_signed(secret, Some(raw.authenticator()))
        .unwrap()
}

fn pap(user: &str, password: &str) -> Request {
    Request::access(vec![
        Attribute::UserName(user.as_bytes().to_vec()),
        Attribute::NasPort(1),
    ])
    .with_user_password(password)
}

#[test]
fn pap_request_is_hidden_signed_and_answered() {
    let now = Instant::now();
    let mut c = client(vec![primary()]);
    let id = c.send(now, pap("alice", "correct horse")).unwrap();
    let sent = transmits(&mut c);
    assert_eq!(sent.len(), 1);
    let (t, bytes) = &sent[0];
    assert_eq!(
        (t.request, t.server, t.destination),
        (id, 0, primary().address)
    );

    let req = Packet::decode(bytes).unwrap();
    assert_eq!(req.code, Code::AccessRequest);
    assert!(
        matches!(req.attributes[0], Attribute::MessageAuthenticator(_)),
        "Message-Authenticator comes first"
    );
    let hidden = req
        .find(|a| match a {
            Attribute::UserPassword(h) => Some(h.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(
        unhide_user_password(&hidden, b"primary-secret", &req.authenticator).unwrap(),
        b"correct horse"
    );

    let reply = answer(
        bytes,
        b"primary-secret",
        Code::AccessAccept,
        vec![Attribute::SessionTimeout(3600)],
        true,
    );
    c.handle_datagram(now, primary().address, &reply).unwrap();
    match &events(&mut c)[..] {
        [Event::Response {
            request,
            server: 0,
            attempts: 1,
            message_authenticator: MessageAuthenticator::Valid,
            packet,
        }] => {
            assert_eq!(*request, id);
            assert_eq!(packet.code, Code::AccessAccept);
            assert_eq!(packet.attributes[1], Attribute::SessionTimeout(3600));
        }
        other => panic!("unexpected events {other:?}"),
    }
    assert_eq!(c.in_flight(), 0);
    assert_eq!(c.poll_timeout(), None);

    // The same reply again is a duplicate: its identifier is no longer outstanding.
    assert!(matches!(
        c.handle_datagram(now, primary().address, &reply),
        Err(ReplyError::UnknownIdentifier { server: 0, .. })
    ));
    assert_eq!(c.stats().rx_unknown_identifier, 1);
    assert_eq!(c.stats().responses, 1);
}

#[test]
fn retries_back_off_alternate_servers_and_give_up() {
    let t0 = Instant::now();
    let mut c = client(vec![primary(), secondary()]);
    let id = c.send(t0, pap("bob", "pw")).unwrap();

    // (time of the send, server, wait armed after it): 3 s doubling, capped at 16 s.
    let expected = [(0u64, 0usize, 3u64), (3, 1, 6), (9, 0, 12), (21, 1, 16)];
    let mut first_send_to = [None, None];
    let mut now = t0;
    for (at, server, wait) in expected {
        assert_eq!(now, t0 + Duration::from_secs(at));
        let sent = transmits(&mut c);
        assert_eq!(sent.len(), 1, "one send at {at} s");
        let (t, bytes) = &sent[0];
        assert_eq!((t.request, t.server), (id, server), "at {at} s");
        // Same server again: byte-identical retransmission (RFC 5080 §2.2.1).
        match &first_send_to[server] {
            None => first_send_to[server] = Some(bytes.clone()),
            Some(first) => assert_eq!(first, bytes, "retransmission to server {server}"),
        }
        assert_eq!(c.poll_timeout(), Some(now + Duration::from_secs(wait)));
        // Nothing happens just before the deadline.
        c.handle_timeout(now + Duration::from_secs(wait) - Duration::from_millis(1));
        assert!(transmits(&mut c).is_empty());
        now += Duration::from_secs(wait);
        c.handle_timeout(now);
    }
    assert_eq!(
        events(&mut c),
        vec![Event::TimedOut {
            request: id,
            attempts: 4
        }]
    );
    assert!(transmits(&mut c).is_empty());
    assert_eq!(c.in_flight(), 0);
    assert_eq!(c.stats().timeouts, 1);
    assert_eq!(c.stats().retransmits, 3);
    // The two servers' encodings differ: own secret, identifier and authenticator.
    assert_ne!(first_send_to[0], first_send_to[1]);
}

#[test]
fn reply_is_matched_only_from_the_server_it_was_sent_to() {
    let t0 = Instant::now();
    let mut c = client(vec![primary(), secondary()]);
    let id = c.send(t0, pap("carol", "pw")).unwrap();
    let (_, to_primary) = transmits(&mut c).remove(0);

    // A stranger replaying a valid answer: unknown source.
    let good = answer(
        &to_primary,
        b"primary-secret",
        Code::AccessAccept,
        vec![],
        true,
    );
    assert_eq!(
        c.handle_datagram(t0, addr("198.51.100.9:1812"), &good),
        Err(ReplyError::UnknownSource(addr("198.51.100.9:1812")))
    );
    // The primary's answer arriving from the secondary's address fails authentication there
    // (or finds no such identifier): never accepted.
    assert!(c.handle_datagram(t0, secondary().address, &good).is_err());
    // An answer whose Response Authenticator was tampered with.
    let mut forged_bad = good.clone();
    forged_bad[4] ^= 0xff;
    assert!(matches!(
        c.handle_datagram(t0, primary().address, &forged_bad),
        Err(ReplyError::Authentication(
            radius::AuthError::BadAuthenticator
        ))
    ));
    // A reply code that does not answer an Access-Request.
    let wrong_code = {
        let raw = RawPacket::parse(&to_primary).unwrap();
        let p = Packet::new(Code::AccountingResponse, raw.identifier());
        p.encode_signed(b"primary-secret", Some(raw.authenticator()))
            .unwrap()
    };
    assert_eq!(
        c.handle_datagram(t0, primary().address, &wrong_code),
        Err(ReplyError::UnexpectedCode {
            request: Code::AccessRequest,
            reply: Code::AccountingResponse
        })
    );
    assert!(matches!(
        c.handle_datagram(t0, primary().address, &[1, 2, 3]),
        Err(ReplyError::Malformed(_))
    ));
    assert!(events(&mut c).is_empty(), "nothing accepted so far");
    assert_eq!(c.in_flight(), 1);
    let s = c.stats().clone();
    assert_eq!(
        (
            s.rx_unknown_source,
            s.rx_bad_authenticator + s.rx_unknown_identifier,
            s.rx_unexpected_code,
            s.rx_malformed
        ),
        (1, 2, 1, 1)
    );

    // Fail over to the secondary, then the primary's late answer still completes it.
    c.handle_timeout(t0 + Duration::from_secs(3));
    let sent = transmits(&mut c);
    assert_eq!(sent[0].0.server, 1);
    c.handle_datagram(t0 + Duration::from_secs(4), primary().address, &good)
        .unwrap();
    assert!(matches!(
        &events(&mut c)[..],
        [Event::Response { request, server: 0, attempts: 2, .. }] if *request == id
    ));
    // And the secondary's answer, now late, is dropped.
    let late = answer(
        &sent[0].1,
        b"secondary-secret",
        Code::AccessAccept,
        vec![],
        true,
    );
    assert!(matches!(
        c.handle_datagram(t0, secondary().address, &late),
        Err(ReplyError::UnknownIdentifier { server: 1, .. })
    ));
}

#[test]
fn next_request_starts_at_the_server_that_answered_last() {
    let t0 = Instant::now();
    let mut c = client(vec![primary(), secondary()]);
    c.send(t0, pap("dave", "pw")).unwrap();
    transmits(&mut c);
    c.handle_timeout(t0 + Duration::from_secs(3));
    let (_, to_secondary) = transmits(&mut c).remove(0);
    let reply = answer(
        &to_secondary,
        b"secondary-secret",
        Code::AccessReject,
        vec![],
        true,
    );
    c.handle_datagram(t0, secondary().address, &reply).unwrap();
    c.send(t0, pap("erin", "pw")).unwrap();
    assert_eq!(transmits(&mut c)[0].0.server, 1);
}

#[test]
fn at_most_256_in_flight_with_distinct_identifiers_then_backlog() {
    let t0 = Instant::now();
    let mut c = client(vec![primary()]);
    let ids: Vec<RequestId> = (0..300)
        .map(|i| c.send(t0, pap(&format!("user{i}"), "pw")).unwrap())
        .collect();
    assert_eq!(c.in_flight(), 256);
    assert_eq!(c.backlog(), 44);
    let sent = transmits(&mut c);
    assert_eq!(sent.len(), 256);
    let identifiers: HashSet<u8> = sent.iter().map(|(_, b)| b[1]).collect();
    assert_eq!(
        identifiers.len(),
        256,
        "no identifier reused while outstanding"
    );

    // Answer request #10: its identifier frees and the first backlogged request takes it.
    let (t, bytes) = &sent[10];
    assert_eq!(t.request, ids[10]);
    let reply = answer(bytes, b"primary-secret", Code::AccessAccept, vec![], true);
    c.handle_datagram(t0, primary().address, &reply).unwrap();
    let next = transmits(&mut c);
    assert_eq!(next.len(), 1);
    assert_eq!(next[0].0.request, ids[256]);
    assert_eq!(next[0].1[1], bytes[1]);
    // The old reply cannot complete the new request that now holds its identifier.
    assert!(matches!(
        c.handle_datagram(t0, primary().address, &reply),
        Err(ReplyError::Authentication(_))
    ));
    assert_eq!(c.in_flight(), 256);
    assert_eq!(c.backlog(), 43);
}

#[test]
fn several_sockets_multiply_what_is_in_flight_and_replies_match_per_socket() {
    let t0 = Instant::now();
    let mut config = ClientConfig::new(vec![primary()]);
    config.sockets = 4;
    let mut c = Client::new(config, SEED).unwrap();
    assert_eq!(c.capacity(), 1024);
    let ids: Vec<RequestId> = (0..1100)
        .map(|i| c.send(t0, pap(&format!("user{i}"), "pw")).unwrap())
        .collect();
    assert_eq!((c.in_flight(), c.backlog()), (1024, 76));
    let sent = transmits(&mut c);
    assert_eq!(sent.len(), 1024);
    // Round-robin over the sockets: 256 each, and (socket, identifier) pairs all distinct.
    for socket in 0..4 {
        assert_eq!(sent.iter().filter(|(t, _)| t.socket == socket).count(), 256);
    }
    let pairs: HashSet<(usize, u8)> = sent.iter().map(|(t, b)| (t.socket, b[1])).collect();
    assert_eq!(pairs.len(), 1024);
    // Consecutive requests leave from different sockets, so an identifier comes back on a
    // socket only after 4 x 256 requests.
    assert_ne!(sent[0].0.socket, sent[1].0.socket);

    // A reply is matched on the socket its request left from, and only there.
    let (t, bytes) = &sent[5];
    let reply = answer(bytes, b"primary-secret", Code::AccessAccept, vec![], true);
    let other = (t.socket + 1) % 4;
    assert!(c
        .handle_datagram_on(t0, other, primary().address, &reply)
        .is_err());
    assert!(matches!(
        c.handle_datagram_on(t0, 9, primary().address, &reply),
        Err(ReplyError::UnknownSocket(9))
    ));
    c.handle_datagram_on(t0, t.socket, primary().address, &reply)
        .unwrap();
    assert!(matches!(&events(&mut c)[..], [Event::Response { request, .. }] if *request == ids[5]));
    // The freed identifier's socket takes the first backlogged request.
    let next = transmits(&mut c);
    assert_eq!(next.len(), 1);
    assert_eq!((next[0].0.request, next[0].0.socket), (ids[1024], t.socket));
    assert_eq!((c.in_flight(), c.backlog()), (1024, 75));

    // Retransmissions leave from the same socket with the same bytes.
    let retry = t0 + Duration::from_secs(4);
    c.handle_timeout(retry);
    let again = transmits(&mut c);
    let first = again.iter().find(|(t, _)| t.request == ids[0]).unwrap();
    assert_eq!((first.0.socket, &first.1), (sent[0].0.socket, &sent[0].1));

    let mut bad = ClientConfig::new(vec![primary()]);
    bad.sockets = 0;
    assert!(Client::new(bad.clone(), SEED).is_err());
    bad.sockets = 256;
    assert!(Client::new(bad, SEED).is_err());
}

#[test]
fn max_in_flight_bounds_the_burst_but_sockets_still_rotate() {
    let t0 = Instant::now();
    let mut config = ClientConfig::new(vec![primary()]);
    config.sockets = 8;
    config.max_in_flight = 3;
    let mut c = Client::new(config, SEED).unwrap();
    assert_eq!(c.capacity(), 3);
    let ids: Vec<RequestId> = (0..10)
        .map(|i| c.send(t0, pap(&format!("user{i}"), "pw")).unwrap())
        .collect();
    assert_eq!((c.in_flight(), c.backlog()), (3, 7));
    let sent = transmits(&mut c);
    assert_eq!(sent.len(), 3);
    // Each answer lets exactly one more request out, from the next socket in turn, so the
    // identifiers of a socket still come back only after sockets x 256 requests.
    let mut sockets: Vec<usize> = sent.iter().map(|(t, _)| t.socket).collect();
    let mut answered = 0;
    let mut queue = sent;
    while !queue.is_empty() {
        let (t, bytes) = queue.remove(0);
        let reply = answer(&bytes, b"primary-secret", Code::AccessAccept, vec![], true);
        c.handle_datagram_on(t0, t.socket, primary().address, &reply)
            .unwrap();
        answered += 1;
        assert!(c.in_flight() <= 3);
        let next = transmits(&mut c);
        assert!(next.len() <= 1);
        sockets.extend(next.iter().map(|(t, _)| t.socket));
        queue.extend(next);
    }
    assert_eq!(answered, ids.len());
    assert_eq!(sockets, vec![0, 1, 2, 3, 4, 5, 6, 7, 0, 1]);
    assert_eq!((c.in_flight(), c.backlog()), (0, 0));

    // More than 256 per socket is never in flight, whatever is asked for.
    let mut config = ClientConfig::new(vec![primary()]);
    config.max_in_flight = 100_000;
    assert_eq!(Client::new(config, SEED).unwrap().capacity(), 256);
    let mut bad = ClientConfig::new(vec![primary()]);
    bad.max_in_flight = 0;
    assert!(Client::new(bad, SEED).is_err());
}

#[test]
fn backlog_limit_refuses_new_requests() {
    let t0 = Instant::now();
    let mut config = ClientConfig::new(vec![primary()]);
    config.max_backlog = 2;
    let mut c = Client::new(config, SEED).unwrap();
    for _ in 0..258 {
        c.send(t0, pap("u", "p")).unwrap();
    }
    assert_eq!(c.send(t0, pap("u", "p")), Err(SendError::BacklogFull(2)));
    assert_eq!(c.stats().backlog_full, 1);
}

#[test]
fn message_authenticator_policy() {
    let t0 = Instant::now();
    // Require: a reply without one is dropped.
    let mut config = ClientConfig::new(vec![primary()]);
    config.message_authenticator = MessageAuthenticatorPolicy::Require;
    let mut c = Client::new(config, SEED).unwrap();
    c.send(t0, pap("f", "p")).unwrap();
    let (_, req) = transmits(&mut c).remove(0);
    let bare = answer(&req, b"primary-secret", Code::AccessAccept, vec![], false);
    assert_eq!(
        c.handle_datagram(t0, primary().address, &bare),
        Err(ReplyError::MissingMessageAuthenticator(0))
    );
    assert_eq!(c.stats().rx_missing_message_authenticator, 1);

    // Auto: accepted without one until the server has sent one, required afterwards.
    let mut c = client(vec![primary()]);
    let round = |c: &mut Client, with_ma: bool| {
        c.send(t0, pap("g", "p")).unwrap();
        let (_, req) = transmits(c).remove(0);
        let reply = answer(&req, b"primary-secret", Code::AccessAccept, vec![], with_ma);
        let r = c.handle_datagram(t0, primary().address, &reply);
        events(c);
        r
    };
    assert_eq!(round(&mut c, false), Ok(()));
    assert_eq!(round(&mut c, true), Ok(()));
    assert_eq!(
        round(&mut c, false),
        Err(ReplyError::MissingMessageAuthenticator(0))
    );
}

#[test]
fn accounting_request_is_authenticated_and_answered() {
    let t0 = Instant::now();
    let mut c = client(vec![primary()]);
    let id = c
        .send(
            t0,
            Request::accounting(vec![
                Attribute::AcctStatusType(radius::acct_status_type::START),
                Attribute::AcctSessionId(b"0000002A".to_vec()),
                Attribute::UserName(b"alice".to_vec()),
            ]),
        )
        .unwrap();
    let (_, req) = transmits(&mut c).remove(0);
    let raw = RawPacket::parse(&req).unwrap();
    assert_eq!(raw.code(), Code::AccountingRequest);
    assert_eq!(
        verify_request(&raw, b"primary-secret"),
        Ok(MessageAuthenticator::Absent)
    );
    assert!(verify_request(&raw, b"other").is_err());
    let reply = answer(
        &req,
        b"primary-secret",
        Code::AccountingResponse,
        vec![],
        false,
    );
    c.handle_datagram(t0, primary().address, &reply).unwrap();
    assert!(matches!(
        &events(&mut c)[..],
        [Event::Response { request, .. }] if *request == id
    ));
}

#[test]
fn invalid_requests_and_configs_are_refused() {
    let t0 = Instant::now();
    let mut c = client(vec![primary()]);
    assert_eq!(
        c.send(t0, Request::accounting(vec![]).with_user_password("x")),
        Err(SendError::PasswordOutsideAccessRequest)
    );
    assert!(matches!(
        c.send(t0, pap("u", &"x".repeat(129))),
        Err(SendError::Password(radius::PasswordError::TooLong(129)))
    ));
    assert!(matches!(
        c.send(
            t0,
            Request::access(vec![Attribute::ReplyMessage(vec![b'x'; 254])])
        ),
        Err(SendError::Sign(_))
    ));
    assert_eq!(c.in_flight(), 0);
    assert_eq!(
        Client::new(ClientConfig::new(vec![]), SEED).err(),
        Some(radius::ConfigError::NoServers)
    );
    let mut config = ClientConfig::new(vec![primary()]);
    config.max_timeout = Duration::MAX;
    assert_eq!(
        Client::new(config, SEED).err(),
        Some(radius::ConfigError::BadTimeouts)
    );
    let mut empty = primary();
    empty.secret.clear();
    assert!(Client::new(ClientConfig::new(vec![empty]), SEED).is_err());
}

#[test]
fn cancelled_request_is_never_sent_again_nor_reported() {
    let t0 = Instant::now();
    let mut c = client(vec![primary()]);
    let id = c.send(t0, pap("h", "p")).unwrap();
    let (_, req) = transmits(&mut c).remove(0);
    assert!(c.cancel(t0, id));
    assert!(!c.cancel(t0, id));
    c.handle_timeout(t0 + Duration::from_secs(60));
    assert!(transmits(&mut c).is_empty());
    let reply = answer(&req, b"primary-secret", Code::AccessAccept, vec![], true);
    assert!(c.handle_datagram(t0, primary().address, &reply).is_err());
    assert!(events(&mut c).is_empty());
}

#[test]
fn status_server_carries_message_authenticator() {
    let t0 = Instant::now();
    let mut c = client(vec![primary()]);
    c.send(t0, Request::status_server(vec![])).unwrap();
    let (_, req) = transmits(&mut c).remove(0);
    let raw = RawPacket::parse(&req).unwrap();
    assert_eq!(raw.code(), Code::StatusServer);
    assert_eq!(
        verify_request(&raw, b"primary-secret"),
        Ok(MessageAuthenticator::Valid)
    );
}

#[test]
fn round_trip_times_are_counted_for_first_sends_only() {
    let t0 = Instant::now();
    let mut c = client(vec![primary()]);
    let first = c.send(t0, pap("carol", "pw")).unwrap();
    let _ = first;
    let sent = transmits(&mut c);
    let reply = answer(
        &sent[0].1,
        b"primary-secret",
        Code::AccessAccept,
        vec![],
        true,
    );
    c.handle_datagram(t0 + Duration::from_millis(7), primary().address, &reply)
        .unwrap();
    let rtt = &c.stats().rtt;
    assert_eq!(rtt.count, 1);
    assert_eq!(rtt.sum, Duration::from_millis(7));
    // 7 ms is above the 5 ms bound and within the 10 ms one.
    let i = RttHistogram::BOUNDS
        .iter()
        .position(|&b| b == Duration::from_millis(10))
        .unwrap();
    assert_eq!(rtt.buckets[i], 1);
    assert_eq!(rtt.buckets.iter().sum::<u64>(), 1);

    // Answered after a retransmission: which send it answers is unknown, so no RTT.
    let _ = events(&mut c);
    c.send(t0, pap("dave", "pw")).unwrap();
    let _ = transmits(&mut c);
    let retry_at = t0 + Duration::from_secs(3);
    c.handle_timeout(retry_at);
    let sent = transmits(&mut c);
    assert_eq!(sent.len(), 1);
    let reply = answer(
        &sent[0].1,
        b"primary-secret",
        Code::AccessAccept,
        vec![],
        true,
    );
    c.handle_datagram(retry_at, primary().address, &reply)
        .unwrap();
    assert_eq!(c.stats().responses, 2);
    assert_eq!(c.stats().rtt.count, 1);

    // Above every bound: the last bucket.
    let mut h = RttHistogram::default();
    h.observe(Duration::from_secs(60));
    h.observe(Duration::ZERO);
    assert_eq!(h.buckets[RttHistogram::BOUNDS.len()], 1);
    assert_eq!(h.buckets[0], 1);
}
