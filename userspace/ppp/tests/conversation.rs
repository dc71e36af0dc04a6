//! Our PPP peer against our PPP authenticator, in memory, with a fake clock: LCP, PAP or CHAP,
//! the verdict from a backend, IPCP (addresses and DNS from the grant) and IPV6CP, then data
//! and termination; over a clean link and over lossy, reordering links.

mod common;

use std::net::Ipv4Addr;
use std::time::Duration;

use common::*;
use ppp::fsm::State;
use ppp::lcp::AuthMethod;
use ppp::session::{CloseReason, Event, Inbound, Phase, Session, SessionConfig};

fn sessions(method: AuthMethod, password: &[u8], seed: u8) -> (Session, Session) {
    let mut s = SessionConfig::authenticator(b"lns.example", Ipv4Addr::new(100, 64, 0, 1));
    s.lcp.auth = vec![method];
    s.ipv6_interface_id = Some([0, 0, 0, 0, 0, 0, 0, 1]);
    let mut c = SessionConfig::peer(USER, password);
    c.ipv6_interface_id = Some([0; 8]);
    (
        Session::new(s, [seed; 16]),
        Session::new(c, [seed.wrapping_add(100); 16]),
    )
}

fn all_up(c: &Conversation) -> bool {
    let open = |s: &Session| {
        s.phase() == Phase::Network
            && s.ipcp_state() == Some(State::Opened)
            && s.ipv6cp_state() == Some(State::Opened)
    };
    // The server also wants its Ipv4Up event, i.e. every packet settled.
    open(&c.server) && open(&c.client)
}

fn check_negotiated(c: &Conversation) {
    let server_v4 = c.server_events.iter().rev().find_map(|e| match e {
        Event::Ipv4Up(n) => Some(*n),
        _ => None,
    });
    let client_v4 = c.client_events.iter().rev().find_map(|e| match e {
        Event::Ipv4Up(n) => Some(*n),
        _ => None,
    });
    let (s, cl) = (
        server_v4.expect("server Ipv4Up"),
        client_v4.expect("client Ipv4Up"),
    );
    let g = grant();
    assert_eq!(s.local, Some(Ipv4Addr::new(100, 64, 0, 1)));
    assert_eq!(s.peer, g.ipv4);
    assert_eq!(cl.local, g.ipv4, "client got the granted address");
    assert_eq!(cl.peer, Some(Ipv4Addr::new(100, 64, 0, 1)));
    assert_eq!(cl.dns, g.dns, "client learnt DNS from the grant (RFC 1877)");
    let v6 = |ev: &[Event]| {
        ev.iter().rev().find_map(|e| match e {
            Event::Ipv6Up(n) => Some(*n),
            _ => None,
        })
    };
    let (s6, c6) = (v6(&c.server_events).unwrap(), v6(&c.client_events).unwrap());
    assert_eq!(s6.peer, g.ipv6_interface_id);
    assert_eq!(c6.local, g.ipv6_interface_id);
    assert_eq!(c6.peer, Some([0, 0, 0, 0, 0, 0, 0, 1]));
    assert!(has(&c.server_events, |e| *e == Event::Authenticated));
    assert!(has(&c.client_events, |e| *e == Event::Authenticated));
}

fn clean_link() -> LinkModel {
    LinkModel {
        loss_percent: 0,
        max_delay_ms: 1,
    }
}

fn run_clean(method: AuthMethod) -> Conversation {
    let (s, c) = sessions(method, SECRET, 1);
    let mut conv = Conversation::new(s, c, clean_link(), 1);
    conv.start();
    assert!(conv.run_until(Duration::from_secs(5), all_up), "came up");
    check_negotiated(&conv);
    let method_seen = conv.server_events.iter().find_map(|e| match e {
        Event::LinkUp(n) => n.auth,
        _ => None,
    });
    assert_eq!(method_seen, Some(method));
    conv
}

#[test]
fn pap_conversation_to_ipcp_and_ipv6cp() {
    let conv = run_clean(AuthMethod::Pap);
    // Nothing needed a retransmission: one RADIUS round trip plus link delays.
    assert!(
        conv.elapsed() < Duration::from_secs(1),
        "{:?}",
        conv.elapsed()
    );
}

#[test]
fn chap_conversation_to_ipcp_and_ipv6cp() {
    let conv = run_clean(AuthMethod::ChapMd5);
    let req = conv.server_events.iter().find_map(|e| match e {
        Event::AuthRequest(r) => Some(r.clone()),
        _ => None,
    });
    let req = req.expect("auth request");
    assert_eq!(req.username, USER);
    assert!(
        matches!(req.credentials, ppp::session::Credentials::Chap { ref challenge, .. } if challenge.len() == 16)
    );
    assert!(!req.proxied);
}

#[test]
fn data_flows_after_ncp_open_and_terminate_closes_both() {
    let mut conv = run_clean(AuthMethod::ChapMd5);
    let now = conv.now;
    let ip = [
        0x45u8, 0, 0, 20, 0, 0, 0, 0, 64, 17, 0, 0, 100, 64, 0, 7, 1, 1, 1, 1,
    ];
    let mut frame = vec![0xff, 0x03, 0x00, 0x21];
    frame.extend_from_slice(&ip);
    assert_eq!(
        conv.server.handle_frame(now, &frame),
        Ok(Inbound::Ipv4(&ip[..]))
    );
    // PFC + ACFC compressed form is accepted too.
    let mut short = vec![0x21];
    short.extend_from_slice(&ip);
    assert_eq!(
        conv.server.handle_frame(now, &short),
        Ok(Inbound::Ipv4(&ip[..]))
    );
    let v6 = [0x60u8, 0, 0, 0];
    let mut f6 = vec![0x00, 0x57];
    f6.extend_from_slice(&v6);
    assert_eq!(
        conv.client.handle_frame(now, &f6),
        Ok(Inbound::Ipv6(&v6[..]))
    );

    conv.server.close(now, b"admin reset");
    let closed = |c: &Conversation| {
        has(&c.server_events, |e| {
            *e == Event::Closed(CloseReason::Administrative)
        }) && has(&c.client_events, |e| {
            *e == Event::Closed(CloseReason::Finished)
        })
    };
    assert!(conv.run_until(Duration::from_secs(10), closed));
    assert!(has(&conv.server_events, |e| *e == Event::Ipv4Down));
    assert!(has(&conv.client_events, |e| *e == Event::Ipv6Down));
    assert_eq!(conv.server.phase(), Phase::Dead);
    // Data after the link is down is dropped, not delivered.
    assert_eq!(
        conv.server.handle_frame(conv.now, &frame),
        Ok(Inbound::Dropped)
    );
}

#[test]
fn wrong_password_fails_and_terminates() {
    for method in [AuthMethod::Pap, AuthMethod::ChapMd5] {
        let (s, c) = sessions(method, b"wrong", 3);
        let mut conv = Conversation::new(s, c, clean_link(), 3);
        conv.start();
        let done = |c: &Conversation| {
            has(&c.server_events, |e| {
                *e == Event::Closed(CloseReason::AuthFailed)
            }) && has(&c.client_events, |e| matches!(e, Event::Closed(_)))
        };
        assert!(conv.run_until(Duration::from_secs(10), done), "{method:?}");
        assert!(has(
            &conv.client_events,
            |e| matches!(e, Event::AuthFailed { message } if message == b"Access denied")
        ));
        assert!(!has(&conv.server_events, |e| matches!(e, Event::Ipv4Up(_))));
        assert_eq!(
            conv.server.ipcp_state(),
            None,
            "no NCP without authentication"
        );
    }
}

#[test]
fn lossy_reordering_link_still_converges() {
    // 25 % loss in both directions and up to 800 ms of jitter (frames overtake each other).
    let mut worst = Duration::ZERO;
    let mut dropped = 0;
    for seed in 0..40u64 {
        for method in [AuthMethod::Pap, AuthMethod::ChapMd5] {
            let (s, c) = sessions(method, SECRET, seed as u8);
            let link = LinkModel {
                loss_percent: 25,
                max_delay_ms: 800,
            };
            let mut conv = Conversation::new(s, c, link, seed);
            conv.start();
            let ok = conv.run_until(Duration::from_secs(120), all_up);
            assert!(
                ok,
                "seed {seed} {method:?}: server {:?}/{:?}/{:?} client {:?}/{:?}/{:?}",
                conv.server.phase(),
                conv.server.ipcp_state(),
                conv.server.ipv6cp_state(),
                conv.client.phase(),
                conv.client.ipcp_state(),
                conv.client.ipv6cp_state()
            );
            check_negotiated(&conv);
            worst = worst.max(conv.elapsed());
            dropped += conv.frames_dropped;
            // Late duplicates may still renegotiate an NCP (RFC 1661: Opened + RCR), but the
            // link settles: a minute later everything is open again.
            let settled_by = conv.now + Duration::from_secs(60);
            conv.run_until(Duration::from_secs(61), |c| c.now >= settled_by);
            assert!(all_up(&conv), "seed {seed} {method:?}: settled");
            assert!(!has(&conv.server_events, |e| matches!(e, Event::Closed(_))));
        }
    }
    eprintln!("lossy: {dropped} frames dropped in 80 runs, slowest convergence {worst:?}");
    assert!(dropped > 100, "the link really dropped frames ({dropped})");
    assert!(worst < Duration::from_secs(120));
}

#[test]
fn ipv6_only_grant_protocol_rejects_ipcp() {
    let (s, c) = sessions(AuthMethod::ChapMd5, SECRET, 5);
    let mut conv = Conversation::new(s, c, clean_link(), 5);
    conv.grant_override = Some(ppp::session::Grant {
        ipv4: None,
        ..grant()
    });
    conv.start();
    let done = |c: &Conversation| {
        c.client.ipv6cp_state() == Some(State::Opened)
            && c.server.ipv6cp_state() == Some(State::Opened)
            && has(&c.client_events, |e| {
                *e == Event::ProtocolRejected(ppp::frame::protocol::IPCP)
            })
    };
    assert!(conv.run_until(Duration::from_secs(10), done));
    assert_eq!(conv.server.ipcp_state(), None);
    assert_ne!(conv.client.ipcp_state(), Some(State::Opened));
    // The link stays up for IPv6 (no IPv4-first requirement, unlike l2tpns).
    let settle = conv.now + Duration::from_secs(60);
    conv.run_until(Duration::from_secs(61), |c| c.now >= settle);
    assert_eq!(conv.client.ipv6cp_state(), Some(State::Opened));
    assert!(!has(&conv.server_events, |e| matches!(e, Event::Closed(_))));
}
