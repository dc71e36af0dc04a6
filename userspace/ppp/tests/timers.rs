//! Restart timer and counters (RFC 1661 §4.6) driven by a fake clock: Max-Configure,
//! Max-Terminate, Max-Failure, retransmission identifiers, and the authentication and
//! keepalive timers of a session.

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use ppp::entropy::Entropy;
use ppp::frame::{decode_frame, protocol};
use ppp::fsm::{Fsm, FsmConfig, FsmOutput, LayerSignal, State};
use ppp::lcp::{Lcp, LcpConfig};
use ppp::options::LcpOption;
use ppp::packet::{encode_options, encode_packet, RawPacket};
use ppp::session::{CloseReason, Event, Session, SessionConfig};

fn sent(fsm: &mut Fsm<Lcp>) -> Vec<(u8, u8, Vec<u8>)> {
    let mut v = Vec::new();
    while let Some(o) = fsm.poll_output() {
        if let FsmOutput::Send(p) = o {
            let raw = RawPacket::decode(&p).unwrap();
            v.push((raw.code, raw.id, raw.data.to_vec()));
        }
    }
    v
}

fn signals(fsm: &mut Fsm<Lcp>) -> Vec<LayerSignal> {
    let mut v = Vec::new();
    while let Some(o) = fsm.poll_output() {
        if let FsmOutput::Signal(s) = o {
            v.push(s);
        }
    }
    v
}

fn lcp_fsm(config: FsmConfig) -> Fsm<Lcp> {
    Fsm::new(
        Lcp::new(LcpConfig::authenticator(), Entropy::new([3; 16])),
        config,
        1,
    )
}

#[test]
fn max_configure_gives_up_after_ten_requests_three_seconds_apart() {
    let t0 = Instant::now();
    let mut fsm = lcp_fsm(FsmConfig::default());
    fsm.open(t0);
    fsm.up(t0);
    let first = sent(&mut fsm);
    assert_eq!(first.len(), 1);
    let mut sends = vec![(t0, first[0].clone())];
    // Nothing happens before the deadline.
    fsm.handle_timeout(t0 + Duration::from_millis(2999));
    assert!(sent(&mut fsm).is_empty());
    while let Some(deadline) = fsm.poll_timeout() {
        fsm.handle_timeout(deadline);
        for p in sent(&mut fsm) {
            sends.push((deadline, p));
        }
        if fsm.state() == State::Stopped {
            break;
        }
    }
    assert_eq!(sends.len(), 10, "Max-Configure = 10 Configure-Requests");
    for (i, (at, (code, id, data))) in sends.iter().enumerate() {
        assert_eq!(*code, 1);
        assert_eq!(*at, t0 + Duration::from_secs(3 * i as u64), "request {i}");
        // Retransmissions keep the identifier and the options (RFC 1661 §5.1).
        assert_eq!((*id, data), (sends[0].1 .1, &sends[0].1 .2));
    }
    assert_eq!(fsm.state(), State::Stopped);
    assert_eq!(fsm.poll_timeout(), None);
}

#[test]
fn this_layer_finished_after_max_configure() {
    let t0 = Instant::now();
    let mut fsm = lcp_fsm(FsmConfig {
        max_configure: 3,
        restart_interval: Duration::from_secs(1),
        ..FsmConfig::default()
    });
    fsm.open(t0);
    fsm.up(t0);
    sent(&mut fsm);
    let mut t = t0;
    let mut finished_at = None;
    for _ in 0..10 {
        let Some(d) = fsm.poll_timeout() else { break };
        t = d;
        fsm.handle_timeout(t);
        if signals(&mut fsm).contains(&LayerSignal::Finished) {
            finished_at = Some(t);
        }
    }
    assert_eq!(finished_at, Some(t0 + Duration::from_secs(3)));
    assert_eq!(t, t0 + Duration::from_secs(3));
}

#[test]
fn max_terminate_sends_two_requests_then_finishes() {
    let t0 = Instant::now();
    let mut fsm = lcp_fsm(FsmConfig::default());
    fsm.open(t0);
    fsm.up(t0);
    sent(&mut fsm);
    fsm.close(t0, b"bye");
    let first = sent(&mut fsm);
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].0, 5, "Terminate-Request");
    assert_eq!(first[0].2, b"bye");
    let d = fsm.poll_timeout().unwrap();
    assert_eq!(d, t0 + Duration::from_secs(3));
    fsm.handle_timeout(d);
    let second = sent(&mut fsm);
    assert_eq!(second.len(), 1);
    assert_eq!(second[0].0, 5);
    let d = fsm.poll_timeout().unwrap();
    fsm.handle_timeout(d);
    assert_eq!(fsm.state(), State::Closed);
    assert_eq!(d, t0 + Duration::from_secs(6));
}

#[test]
fn max_failure_turns_naks_into_rejects() {
    let t0 = Instant::now();
    let mut fsm = lcp_fsm(FsmConfig::default());
    fsm.open(t0);
    fsm.up(t0);
    sent(&mut fsm);
    // MRU 100 is below our 576 minimum: Nak'd, until Max-Failure (5) Naks were sent.
    let req = |id| encode_packet(1, id, &[&encode_options(&[LcpOption::Mru(100)])]);
    let mut codes = Vec::new();
    for id in 0..7 {
        fsm.handle_packet(t0, &req(id)).unwrap();
        for (code, rid, data) in sent(&mut fsm) {
            assert_eq!(rid, id);
            codes.push(code);
            if code == 3 {
                assert_eq!(data, encode_options(&[LcpOption::Mru(576)]));
            }
            if code == 4 {
                assert_eq!(data, encode_options(&[LcpOption::Mru(100)]));
            }
        }
    }
    assert_eq!(codes, [3, 3, 3, 3, 3, 4, 4]);
    assert_eq!(fsm.stats().max_failure_hits, 2);
    // An Ack resets the failure count.
    fsm.handle_packet(
        t0,
        &encode_packet(1, 9, &[&encode_options(&[LcpOption::Mru(1400)])]),
    )
    .unwrap();
    assert_eq!(sent(&mut fsm)[0].0, 2);
    fsm.handle_packet(t0, &req(10)).unwrap();
    assert_eq!(sent(&mut fsm)[0].0, 3, "Nak again after an Ack");
}

fn lcp_frames(s: &mut Session) -> Vec<(u8, Vec<u8>)> {
    let mut v = Vec::new();
    while let Some(f) = s.poll_transmit() {
        let fr = decode_frame(&f).unwrap();
        if fr.protocol == protocol::LCP {
            let raw = RawPacket::decode(fr.payload).unwrap();
            v.push((raw.code, raw.data.to_vec()));
        }
    }
    v
}

#[test]
fn session_against_silent_peer_closes_after_max_configure() {
    let t0 = Instant::now();
    let mut s = Session::new(
        SessionConfig::authenticator(b"lns", Ipv4Addr::new(10, 0, 0, 1)),
        [5; 16],
    );
    s.start(t0);
    let mut requests = lcp_frames(&mut s).len();
    let mut now = t0;
    while let Some(d) = s.poll_timeout() {
        now = d;
        s.handle_timeout(now);
        requests += lcp_frames(&mut s).iter().filter(|(c, _)| *c == 1).count();
    }
    assert_eq!(requests, 10);
    assert_eq!(now, t0 + Duration::from_secs(30));
    assert_eq!(s.poll_event(), Some(Event::Closed(CloseReason::Finished)));
}

/// An authenticator whose LCP is Opened with a hand-driven peer.
fn opened_authenticator(t0: Instant, echo: Option<Duration>) -> Session {
    let mut cfg = SessionConfig::authenticator(b"lns", Ipv4Addr::new(10, 0, 0, 1));
    cfg.echo_interval = echo;
    cfg.lcp.auth = vec![ppp::lcp::AuthMethod::Pap];
    let mut s = Session::new(cfg, [6; 16]);
    s.start(t0);
    let f = s.poll_transmit().unwrap();
    let raw = RawPacket::decode(decode_frame(&f).unwrap().payload).unwrap();
    let ack = encode_packet(2, raw.id, &[raw.data]);
    let lcp = |p: &[u8]| ppp::frame::encode_frame(protocol::LCP, p, false, false);
    s.handle_frame(t0, &lcp(&ack)).unwrap();
    let req = encode_packet(
        1,
        1,
        &[&encode_options(&[LcpOption::MagicNumber(0xabcd_0001)])],
    );
    s.handle_frame(t0, &lcp(&req)).unwrap();
    assert_eq!(s.lcp_state(), State::Opened);
    while s.poll_transmit().is_some() {}
    while s.poll_event().is_some() {}
    s
}

#[test]
fn pap_wait_times_out_and_closes() {
    let t0 = Instant::now();
    let mut s = opened_authenticator(t0, None);
    let mut failed_at = None;
    while let Some(now) = s.poll_timeout() {
        s.handle_timeout(now);
        while let Some(e) = s.poll_event() {
            if matches!(e, Event::AuthFailed { .. }) {
                failed_at = Some(now);
            }
            if e == Event::Closed(CloseReason::AuthFailed) {
                assert!(failed_at.is_some());
            }
        }
        while s.poll_transmit().is_some() {}
    }
    assert_eq!(
        failed_at,
        Some(t0 + Duration::from_secs(30)),
        "10 intervals of 3 s"
    );
}

#[test]
fn keepalive_echo_requests_then_link_declared_dead() {
    let t0 = Instant::now();
    let mut s = opened_authenticator(t0, Some(Duration::from_secs(10)));
    let mut echoes = Vec::new();
    let mut closed = None;
    let mut now = t0;
    // Feed the PAP request so the auth timer is not what closes the link; never answer echoes.
    let pap = ppp::pap::PapPacket::Request {
        id: 1,
        peer_id: b"u".to_vec(),
        password: b"p".to_vec(),
    };
    s.handle_frame(
        t0,
        &ppp::frame::encode_frame(protocol::PAP, &pap.encode(), false, false),
    )
    .unwrap();
    while let Some(d) = s.poll_timeout() {
        if d > t0 + Duration::from_secs(300) {
            break;
        }
        now = d;
        s.handle_timeout(now);
        for (code, data) in lcp_frames(&mut s) {
            if code == 9 {
                echoes.push((now, data));
            }
        }
        while let Some(e) = s.poll_event() {
            if e == Event::Closed(CloseReason::EchoTimeout) {
                closed = Some(now);
            }
        }
        if closed.is_some() {
            break;
        }
    }
    assert_eq!(echoes.len(), 5);
    for (i, (at, data)) in echoes.iter().enumerate() {
        assert_eq!(*at, t0 + Duration::from_secs(10 * (i as u64 + 1)));
        // Echo-Request carries our negotiated magic number (RFC 1661 §5.8).
        assert_eq!(data[..4], s.lcp_negotiated().our_magic.to_be_bytes());
    }
    assert!(
        closed.is_some(),
        "declared dead after 5 unanswered echoes ({now:?})"
    );
    assert!(now >= t0 + Duration::from_secs(60));
}

#[test]
fn traffic_seen_by_the_caller_defers_keepalive() {
    let t0 = Instant::now();
    let secs = |n: u64| t0 + Duration::from_secs(n);
    // Echo times over 29 s, with the caller reporting data at the given seconds.
    let run = |echo: Option<Duration>, data_at: &[u64]| {
        let mut s = opened_authenticator(t0, echo);
        let mut echoes = Vec::new();
        for n in 1..30 {
            if data_at.contains(&n) {
                s.peer_heard(secs(n));
            }
            // Older news never brings an echo forward.
            s.peer_heard(secs(n.saturating_sub(20)));
            s.handle_timeout(secs(n));
            let sent = lcp_frames(&mut s);
            echoes.extend(sent.iter().filter(|(code, _)| *code == 9).map(|_| n));
        }
        echoes
    };
    let ten = Some(Duration::from_secs(10));
    assert_eq!(run(ten, &[]), vec![10, 20], "a silent link: every 10 s");
    assert_eq!(
        run(ten, &[7]),
        vec![17, 27],
        "data at 7 s: the next echo at 17 s"
    );
    assert!(
        run(ten, &(1..30).collect::<Vec<_>>()).is_empty(),
        "no echo while busy"
    );
    assert!(
        run(None, &[5]).is_empty(),
        "no keepalive configured: nothing"
    );
}
