//! Snapshot and resume: the authenticator is replaced by a link rebuilt from a serialized
//! snapshot after a pause, and the unchanged peer keeps using the link as if nothing
//! happened: no renegotiation, echoes answered both ways, data flows, identifiers continue.

mod common;

use std::net::Ipv4Addr;
use std::time::Duration;

use common::*;
use ppp::frame::{decode_frame, encode_frame, protocol};
use ppp::fsm::State;
use ppp::lcp::AuthMethod;
use ppp::pap::PapPacket;
use ppp::session::{Event, Inbound, Phase, Session, SessionConfig};
use ppp::snapshot::{NcpState, NotResumable, SessionSnapshot};

fn server_config(method: AuthMethod) -> SessionConfig {
    let mut s = SessionConfig::authenticator(b"lns.example", Ipv4Addr::new(100, 64, 0, 1));
    s.lcp.auth = vec![method];
    s.ipv6_interface_id = Some([0, 0, 0, 0, 0, 0, 0, 1]);
    s
}

fn up(method: AuthMethod, seed: u8) -> Conversation {
    let mut c = SessionConfig::peer(USER, SECRET);
    c.ipv6_interface_id = Some([0; 8]);
    let mut conv = Conversation::new(
        Session::new(server_config(method), [seed; 16]),
        Session::new(c, [seed.wrapping_add(100); 16]),
        LinkModel {
            loss_percent: 0,
            max_delay_ms: 1,
        },
        u64::from(seed),
    );
    conv.start();
    let open = |s: &Session| {
        s.phase() == Phase::Network
            && s.ipcp_state() == Some(State::Opened)
            && s.ipv6cp_state() == Some(State::Opened)
    };
    assert!(conv.run_until(Duration::from_secs(5), |c| open(&c.server)
        && open(&c.client)));
    // Let the last Ipv4Up/Ipv6Up events settle.
    conv.run_until(Duration::from_millis(50), |_| false);
    conv
}

/// Snapshot the server, serialize, wait `pause`, resume.
fn restart_server(conv: &mut Conversation, method: AuthMethod, pause: Duration) -> SessionSnapshot {
    let snap = conv.server.snapshot().expect("opened link is resumable");
    let text = serde_json::to_string(&snap).unwrap();
    let back: SessionSnapshot = serde_json::from_str(&text).unwrap();
    assert_eq!(back, snap);
    conv.now += pause;
    conv.server = Session::resume(server_config(method), [42; 16], back, conv.now).unwrap();
    conv.server_events.clear();
    conv.client_events.clear();
    snap
}

fn ipv4_frame() -> (Vec<u8>, Vec<u8>) {
    let ip = vec![
        0x45u8, 0, 0, 20, 0, 0, 0, 0, 64, 17, 0, 0, 100, 64, 0, 7, 1, 1, 1, 1,
    ];
    let mut frame = vec![0xff, 0x03, 0x00, 0x21];
    frame.extend_from_slice(&ip);
    (frame, ip)
}

#[test]
fn resumed_authenticator_keeps_the_link_up() {
    for method in [AuthMethod::Pap, AuthMethod::ChapMd5] {
        let mut conv = up(method, 3);
        let server_echoes = conv.server.stats().echo_requests_sent;
        let client_echoes = conv.client.stats().echo_requests_sent;
        let snap = restart_server(&mut conv, method, Duration::from_secs(5));
        assert_eq!(snap.ipcp.as_ref().unwrap().state, NcpState::Opened);
        assert_eq!(snap.lcp.auth, Some(method));

        assert_eq!(conv.server.phase(), Phase::Network);
        assert_eq!(conv.server.lcp_state(), State::Opened);
        assert_eq!(conv.server.ipcp_state(), Some(State::Opened));
        assert_eq!(conv.server.ipv6cp_state(), Some(State::Opened));
        assert_eq!(conv.server.lcp_negotiated(), &snap.lcp);
        assert_eq!(conv.server.poll_transmit(), None, "resuming sends nothing");
        assert_eq!(conv.server.poll_event(), None, "resuming reports nothing");

        // Data both ways at once.
        let (frame, ip) = ipv4_frame();
        assert_eq!(
            conv.server.handle_frame(conv.now, &frame),
            Ok(Inbound::Ipv4(&ip[..]))
        );
        assert_eq!(
            conv.client.handle_frame(conv.now, &frame),
            Ok(Inbound::Ipv4(&ip[..]))
        );

        // Two minutes of keepalive in both directions (5 unanswered echoes would close).
        assert!(!conv.run_until(Duration::from_secs(120), |c| {
            has(&c.server_events, |e| matches!(e, Event::Closed(_)))
                || has(&c.client_events, |e| matches!(e, Event::Closed(_)))
        }));
        assert!(conv.server.stats().echo_requests_sent >= server_echoes + 10);
        assert!(conv.client.stats().echo_requests_sent >= client_echoes + 10);
        // The peer never renegotiated anything.
        for e in conv.client_events.iter().chain(&conv.server_events) {
            assert!(
                !matches!(
                    e,
                    Event::LinkUp(_) | Event::Ipv4Up(_) | Event::Ipv6Up(_) | Event::Authenticated
                ),
                "{method:?}: {e:?}"
            );
        }
        assert_eq!(conv.client.phase(), Phase::Network);
        assert_eq!(
            conv.server.handle_frame(conv.now, &frame),
            Ok(Inbound::Ipv4(&ip[..]))
        );
    }
}

#[test]
fn echo_requests_continue_identifiers_and_magic() {
    let mut conv = up(AuthMethod::Pap, 4);
    let snap = restart_server(&mut conv, AuthMethod::Pap, Duration::from_secs(1));
    conv.server
        .handle_timeout(conv.now + Duration::from_secs(10));
    let frame = conv.server.poll_transmit().expect("an Echo-Request");
    let f = decode_frame(&frame).unwrap();
    assert_eq!(f.protocol, protocol::LCP);
    assert_eq!(f.payload[0], 9, "Echo-Request");
    assert_eq!(f.payload[1], snap.echo_id.wrapping_add(1));
    assert_eq!(&f.payload[4..8], &snap.lcp.our_magic.to_be_bytes());
}

#[test]
fn retransmitted_pap_request_gets_the_same_ack() {
    let mut conv = up(AuthMethod::Pap, 5);
    let snap = restart_server(&mut conv, AuthMethod::Pap, Duration::from_secs(1));
    let auth = snap.auth.clone().expect("decision kept");
    let req = PapPacket::Request {
        id: auth.id,
        peer_id: USER.to_vec(),
        password: SECRET.to_vec(),
    }
    .encode();
    conv.server
        .handle_frame(conv.now, &encode_frame(protocol::PAP, &req, false, false))
        .unwrap();
    let reply = conv.server.poll_transmit().expect("an answer");
    let f = decode_frame(&reply).unwrap();
    assert_eq!(f.protocol, protocol::PAP);
    assert_eq!(
        PapPacket::decode(f.payload).unwrap(),
        PapPacket::Ack {
            id: auth.id,
            message: grant().message
        }
    );
    assert_eq!(conv.server.poll_event(), None, "no new AuthRequest");
}

#[test]
fn only_opened_links_are_resumable() {
    let mut s = Session::new(server_config(AuthMethod::Pap), [1; 16]);
    assert_eq!(s.snapshot(), Err(NotResumable::NotOpened));
    s.start(std::time::Instant::now());
    assert_eq!(s.snapshot(), Err(NotResumable::NotOpened));

    let conv = up(AuthMethod::ChapMd5, 6);
    let snap = conv.server.snapshot().unwrap();
    let now = conv.now;
    let peer = SessionConfig::peer(USER, SECRET);
    assert_eq!(
        Session::resume(peer, [0; 16], snap.clone(), now).err(),
        Some(NotResumable::RoleMismatch)
    );
    let mut no_v6 = server_config(AuthMethod::ChapMd5);
    no_v6.ipv6_interface_id = None;
    assert_eq!(
        Session::resume(no_v6, [0; 16], snap.clone(), now).err(),
        Some(NotResumable::NcpNotConfigured("IPV6CP"))
    );
    let mut no_grant = snap;
    no_grant.grant.ipv4 = None;
    assert_eq!(
        Session::resume(server_config(AuthMethod::ChapMd5), [0; 16], no_grant, now).err(),
        Some(NotResumable::NoGrantedAddress)
    );
}
