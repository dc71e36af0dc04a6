//! LCP and link behaviours beyond negotiation: Echo, Discard, Code-Reject, Protocol-Reject
//! (CCP refused), loop detection, option policy, and malformed input counted and dropped.

use std::net::Ipv4Addr;
use std::time::Instant;

use ppp::frame::{decode_frame, encode_frame, protocol};
use ppp::fsm::State;
use ppp::lcp::AuthMethod;
use ppp::options::{AuthProtocol, LcpOption};
use ppp::packet::{code, decode_options, encode_options, encode_packet, RawPacket};
use ppp::session::{CloseReason, Event, Inbound, Session, SessionConfig};

const PEER_MAGIC: u32 = 0x0102_0304;

fn lcp(p: &[u8]) -> Vec<u8> {
    encode_frame(protocol::LCP, p, false, false)
}

/// (protocol, code, id, data) of everything queued.
fn out(s: &mut Session) -> Vec<(u16, u8, u8, Vec<u8>)> {
    let mut v = Vec::new();
    while let Some(f) = s.poll_transmit() {
        let fr = decode_frame(&f).unwrap();
        let raw = RawPacket::decode(fr.payload).unwrap();
        v.push((fr.protocol, raw.code, raw.id, raw.data.to_vec()));
    }
    v
}

fn opened(t0: Instant, cfg: SessionConfig) -> Session {
    let mut s = Session::new(cfg, [11; 16]);
    s.start(t0);
    let (_, _, id, data) = out(&mut s).remove(0);
    s.handle_frame(t0, &lcp(&encode_packet(2, id, &[&data])))
        .unwrap();
    let req = encode_options(&[LcpOption::MagicNumber(PEER_MAGIC)]);
    s.handle_frame(t0, &lcp(&encode_packet(1, 1, &[&req])))
        .unwrap();
    assert_eq!(s.lcp_state(), State::Opened);
    out(&mut s);
    while s.poll_event().is_some() {}
    s
}

fn server() -> SessionConfig {
    let mut c = SessionConfig::authenticator(b"lns", Ipv4Addr::new(10, 0, 0, 1));
    c.echo_interval = None;
    c
}

#[test]
fn echo_request_is_answered_with_our_magic() {
    let t0 = Instant::now();
    let mut s = opened(t0, server());
    let mut data = PEER_MAGIC.to_be_bytes().to_vec();
    data.extend_from_slice(b"ping");
    s.handle_frame(t0, &lcp(&encode_packet(code::ECHO_REQUEST, 77, &[&data])))
        .unwrap();
    let o = out(&mut s);
    assert_eq!(o.len(), 1);
    let (proto, c, id, reply) = &o[0];
    assert_eq!((*proto, *c, *id), (protocol::LCP, code::ECHO_REPLY, 77));
    assert_eq!(reply[..4], s.lcp_negotiated().our_magic.to_be_bytes());
    assert_ne!(s.lcp_negotiated().our_magic, 0);
    assert_eq!(&reply[4..], b"ping");
}

#[test]
fn discard_request_is_silently_dropped() {
    let t0 = Instant::now();
    let mut s = opened(t0, server());
    let discard = lcp(&encode_packet(
        code::DISCARD_REQUEST,
        5,
        &[&PEER_MAGIC.to_be_bytes(), b"x"],
    ));
    let r = s.handle_frame(t0, &discard);
    assert_eq!(r, Ok(Inbound::Control));
    assert!(
        out(&mut s).is_empty(),
        "no Code-Reject for Discard-Request (RFC 1661 §5.9)"
    );
    // Nor for RFC 1570 Identification.
    s.handle_frame(
        t0,
        &lcp(&encode_packet(12, 6, &[&PEER_MAGIC.to_be_bytes(), b"id"])),
    )
    .unwrap();
    assert!(out(&mut s).is_empty());
}

#[test]
fn unknown_code_gets_code_reject_with_the_packet() {
    let t0 = Instant::now();
    let mut s = opened(t0, server());
    let unknown = encode_packet(42, 9, &[b"what"]);
    s.handle_frame(t0, &lcp(&unknown)).unwrap();
    let o = out(&mut s);
    assert_eq!(o.len(), 1);
    assert_eq!(o[0].1, code::CODE_REJECT);
    assert_eq!(o[0].3, unknown);
    assert_eq!(s.lcp_state(), State::Opened);
}

#[test]
fn ccp_and_unknown_protocols_get_protocol_reject() {
    let t0 = Instant::now();
    let mut s = opened(t0, server());
    // An empty CCP Configure-Request (what l2tpns itself sends).
    let ccp = encode_packet(1, 1, &[&[0x12, 0x06, 0, 0, 0, 1]]);
    let frame = encode_frame(protocol::CCP, &ccp, false, false);
    assert_eq!(s.handle_frame(t0, &frame), Ok(Inbound::Control));
    let o = out(&mut s);
    assert_eq!(o.len(), 1);
    let (proto, c, _, data) = &o[0];
    assert_eq!((*proto, *c), (protocol::LCP, code::PROTOCOL_REJECT));
    assert_eq!(data[..2], protocol::CCP.to_be_bytes());
    assert_eq!(&data[2..], &ccp[..], "the rejected information field");
    // Any other protocol too, e.g. Multilink fragments when MP is not set up, or 0x4021.
    s.handle_frame(t0, &encode_frame(0x4021, b"\x01\x02", false, false))
        .unwrap();
    assert_eq!(out(&mut s)[0].3[..2], [0x40, 0x21]);
    assert_eq!(s.stats().protocol_rejects_sent, 2);
}

#[test]
fn protocol_reject_before_opened_is_not_sent() {
    let t0 = Instant::now();
    let mut s = Session::new(server(), [1; 16]);
    s.start(t0);
    out(&mut s);
    let ccp = encode_frame(protocol::CCP, &[1, 1, 0, 4], false, false);
    let r = s.handle_frame(t0, &ccp);
    assert_eq!(r, Ok(Inbound::Dropped));
    assert!(
        out(&mut s).is_empty(),
        "RFC 1661 §5.7: only in the Opened state"
    );
}

/// Every frame the session sends comes straight back (a looped-back line), timers run.
fn run_looped(mut s: Session) -> Vec<Event> {
    let mut now = Instant::now();
    s.start(now);
    let mut events = Vec::new();
    for _ in 0..200 {
        let frames: Vec<_> = std::iter::from_fn(|| s.poll_transmit()).collect();
        for f in frames {
            let _ = s.handle_frame(now, &f);
        }
        events.extend(std::iter::from_fn(|| s.poll_event()));
        if events.iter().any(|e| matches!(e, Event::Closed(_))) {
            break;
        }
        if let Some(d) = s.poll_timeout() {
            now = d;
            s.handle_timeout(now);
        }
    }
    events
}

#[test]
fn looped_back_link_is_detected() {
    let peer = SessionConfig::peer(b"u", b"p");
    let events = run_looped(Session::new(peer, [2; 16]));
    assert!(
        events.contains(&Event::Closed(CloseReason::Looped)),
        "{events:?}"
    );
    // The authenticator sees its own Configure-Reject of Authentication-Protocol come back;
    // together with its own magic number that is a loop, not a peer refusing to authenticate.
    let events = run_looped(Session::new(server(), [3; 16]));
    assert!(
        events.contains(&Event::Closed(CloseReason::Looped)),
        "{events:?}"
    );
}

#[test]
fn peer_side_naks_unsupported_auth_and_accepts_ours() {
    let t0 = Instant::now();
    let mut cfg = SessionConfig::peer(b"u", b"p");
    cfg.lcp.auth = vec![AuthMethod::Pap];
    let mut s = Session::new(cfg, [4; 16]);
    s.start(t0);
    out(&mut s);
    // MS-CHAPv2 (0x81) is not ours: Nak suggesting PAP.
    let req = encode_options(&[LcpOption::AuthProtocol(AuthProtocol::Chap {
        algorithm: 0x81,
    })]);
    s.handle_frame(t0, &lcp(&encode_packet(1, 3, &[&req])))
        .unwrap();
    let o = out(&mut s);
    assert_eq!(o[0].1, code::CONFIGURE_NAK);
    assert_eq!(
        decode_options::<LcpOption>(&o[0].3).unwrap(),
        vec![LcpOption::AuthProtocol(AuthProtocol::Pap)]
    );
}

#[test]
fn authenticator_option_policy() {
    let t0 = Instant::now();
    let mut s = Session::new(server(), [8; 16]);
    s.start(t0);
    let o = out(&mut s);
    // Our request: CHAP-MD5 preferred, and a non-zero magic number.
    let ours = decode_options::<LcpOption>(&o[0].3).unwrap();
    assert!(ours.contains(&LcpOption::AuthProtocol(AuthProtocol::CHAP_MD5)));
    assert!(ours
        .iter()
        .any(|o| matches!(o, LcpOption::MagicNumber(m) if *m != 0)));

    // Peer asks: small MRU (Nak), quality protocol + unknown (Reject wins over Nak).
    let req = encode_options(&[
        LcpOption::Mru(200),
        LcpOption::QualityProtocol {
            protocol: protocol::LQR,
            data: vec![0, 0, 0, 10],
        },
        LcpOption::Other {
            kind: 77,
            data: vec![],
        },
    ]);
    s.handle_frame(t0, &lcp(&encode_packet(1, 1, &[&req])))
        .unwrap();
    let o = out(&mut s);
    assert_eq!(o[0].1, code::CONFIGURE_REJECT);
    assert_eq!(decode_options::<LcpOption>(&o[0].3).unwrap().len(), 2);
    let req = encode_options(&[LcpOption::Mru(200), LcpOption::MagicNumber(0)]);
    s.handle_frame(t0, &lcp(&encode_packet(1, 2, &[&req])))
        .unwrap();
    let o = out(&mut s);
    assert_eq!(o[0].1, code::CONFIGURE_NAK);
    let naks = decode_options::<LcpOption>(&o[0].3).unwrap();
    assert_eq!(naks[0], LcpOption::Mru(576));
    assert!(
        matches!(naks[1], LcpOption::MagicNumber(m) if m != 0),
        "zero magic is Nak'd"
    );
    // Multilink options are rejected while MP is not implemented (RFC 1990 §5.1): acking
    // them and then Protocol-Rejecting MP frames leaves the peer with a broken bundle.
    let multilink = [
        LcpOption::Mrru(1600),
        LcpOption::Ssnhf,
        LcpOption::EndpointDiscriminator {
            class: 3,
            address: vec![0, 1, 2, 3, 4, 5],
        },
    ];
    let accepted = [
        LcpOption::Mru(1492),
        LcpOption::Accm(0),
        LcpOption::MagicNumber(PEER_MAGIC),
        LcpOption::Pfc,
        LcpOption::Acfc,
    ];
    let mut all = accepted.to_vec();
    all.extend(multilink.iter().cloned());
    s.handle_frame(t0, &lcp(&encode_packet(1, 3, &[&encode_options(&all)])))
        .unwrap();
    let o = out(&mut s);
    assert_eq!(o[0].1, code::CONFIGURE_REJECT);
    assert_eq!(decode_options::<LcpOption>(&o[0].3).unwrap(), multilink);
    // Without them, MRU, ACCM, magic, PFC and ACFC are acked as sent.
    let req = encode_options(&accepted);
    s.handle_frame(t0, &lcp(&encode_packet(1, 4, &[&req])))
        .unwrap();
    let o = out(&mut s);
    assert_eq!(o[0].1, code::CONFIGURE_ACK);
    assert_eq!(o[0].3, req);

    // A link configured for MP takes them.
    let mut cfg = server();
    cfg.lcp.accept_multilink = true;
    let mut mp = Session::new(cfg, [9; 16]);
    mp.start(t0);
    out(&mut mp);
    let req = encode_options(&all);
    mp.handle_frame(t0, &lcp(&encode_packet(1, 1, &[&req])))
        .unwrap();
    let o = out(&mut mp);
    assert_eq!(o[0].1, code::CONFIGURE_ACK);
    assert_eq!(o[0].3, req);
}

#[test]
fn peer_rejecting_authentication_closes_the_link() {
    let t0 = Instant::now();
    let mut s = Session::new(server(), [8; 16]);
    s.start(t0);
    let (_, _, id, data) = out(&mut s).remove(0);
    let auth: Vec<LcpOption> = decode_options::<LcpOption>(&data)
        .unwrap()
        .into_iter()
        .filter(|o| matches!(o, LcpOption::AuthProtocol(_)))
        .collect();
    s.handle_frame(t0, &lcp(&encode_packet(4, id, &[&encode_options(&auth)])))
        .unwrap();
    let o = out(&mut s);
    assert!(o.iter().any(|p| p.1 == code::TERMINATE_REQUEST), "{o:?}");
    assert_eq!(s.lcp_state(), State::Closing);
}

#[test]
fn malformed_frames_are_counted_and_dropped() {
    let t0 = Instant::now();
    let mut s = opened(t0, server());
    let bad: [&[u8]; 6] = [
        &[],
        &[0xff, 0x03],
        &[0x00, 0x20, 1, 2],             // even low octet: invalid protocol field
        &[0xc0, 0x21, 1, 1, 0, 3],       // length below 4
        &[0xc0, 0x21, 1, 1, 0, 9, 0, 0], // length past the end
        &[0xc0, 0x21, 1, 1, 0, 6, 5, 9], // option length past the end
    ];
    for b in bad {
        assert!(s.handle_frame(t0, b).is_err(), "{b:?}");
    }
    assert_eq!(s.stats().malformed, 6);
    assert_eq!(s.lcp_state(), State::Opened);
    assert!(out(&mut s).is_empty());
}

#[test]
fn ipcp_before_authentication_is_dropped() {
    let t0 = Instant::now();
    let mut s = opened(t0, server());
    let ipcp = encode_frame(protocol::IPCP, &encode_packet(1, 1, &[]), false, false);
    assert_eq!(s.handle_frame(t0, &ipcp), Ok(Inbound::Dropped));
    let ip = encode_frame(protocol::IPV4, &[0x45, 0, 0, 20], false, false);
    assert_eq!(s.handle_frame(t0, &ip), Ok(Inbound::Dropped));
    assert!(out(&mut s).iter().all(|p| p.0 != protocol::IPCP));
}

#[test]
fn peer_renegotiating_lcp_takes_network_down_and_reauthenticates() {
    let t0 = Instant::now();
    let mut cfg = server();
    cfg.lcp.auth = vec![AuthMethod::Pap];
    let mut s = opened(t0, cfg);
    let pap = ppp::pap::PapPacket::Request {
        id: 1,
        peer_id: b"u".to_vec(),
        password: b"p".to_vec(),
    };
    s.handle_frame(
        t0,
        &encode_frame(protocol::PAP, &pap.encode(), false, false),
    )
    .unwrap();
    assert!(matches!(s.poll_event(), Some(Event::AuthRequest(_))));
    s.auth_verdict(
        t0,
        ppp::session::Verdict::Accept(ppp::session::Grant {
            ipv4: Some(Ipv4Addr::new(10, 0, 0, 2)),
            ..Default::default()
        }),
    );
    assert_eq!(s.phase(), ppp::session::Phase::Network);
    assert_eq!(s.ipcp_state(), Some(State::ReqSent));
    out(&mut s);
    // The peer sends a new LCP Configure-Request: Opened + RCR+ → tld, scr, sca (§4.1).
    let req = encode_options(&[LcpOption::MagicNumber(PEER_MAGIC + 1)]);
    s.handle_frame(t0, &lcp(&encode_packet(1, 2, &[&req])))
        .unwrap();
    assert_eq!(s.lcp_state(), State::AckSent);
    assert_eq!(s.phase(), ppp::session::Phase::Establish);
    assert_eq!(
        s.ipcp_state(),
        None,
        "IPCP is gone with the LCP layer below it"
    );
    let sent = out(&mut s);
    let codes: Vec<u8> = sent.iter().map(|p| p.1).collect();
    assert_eq!(codes, [code::CONFIGURE_REQUEST, code::CONFIGURE_ACK]);
    // When LCP opens again the peer must authenticate again before any NCP runs.
    let (_, _, id, data) = sent[0].clone();
    s.handle_frame(t0, &lcp(&encode_packet(2, id, &[&data])))
        .unwrap();
    assert_eq!(s.lcp_state(), State::Opened);
    assert_eq!(s.phase(), ppp::session::Phase::Authenticate);
    assert_eq!(s.ipcp_state(), None);
    let events: Vec<_> = std::iter::from_fn(|| s.poll_event()).collect();
    assert!(
        events.iter().any(|e| matches!(e, Event::LinkUp(_))),
        "{events:?}"
    );
}
