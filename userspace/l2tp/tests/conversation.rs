//! LAC ↔ LNS conversations, our engine on both sides, entirely in memory with a fake clock.

mod common;

use std::time::Duration;

use common::*;
use l2tp::avp::{error_code, Avp, AvpValue};
use l2tp::engine::result;
#[allow(unused_imports)]
use l2tp::ids::{SessionId, TunnelId};
use l2tp::{
    Admission, CallErrors, CallInfo, CloseCause, Event, MessageType, ProxyAuth, ResultCode,
};

fn call(n: u32) -> CallInfo {
    CallInfo {
        serial: n,
        bearer_type: Some(2),
        calling_number: Some(format!("0201{n:04}").into_bytes()),
        called_number: Some(b"isp".to_vec()),
        tx_connect_speed: Some(100_000_000),
        framing_type: Some(1),
        last_sent_lcp_confreq: Some(vec![1, 1, 0, 8, 1, 4, 5, 0xd4]),
        last_received_lcp_confreq: Some(vec![1, 2, 0, 8, 3, 4, 0xc0, 0x23]),
        proxy_auth: Some(ProxyAuth {
            kind: 3,
            name: Some(format!("user{n}@example.net").into_bytes()),
            challenge: None,
            id: Some(7),
            response: Some(b"password".to_vec()),
        }),
        ..CallInfo::default()
    }
}

fn up_session(net: &mut Net, lac_tunnel: TunnelId, n: u32) -> (SessionId, SessionId) {
    let before = sessions_up(&net.lns_events).len();
    let s = net.lac.open_session(net.now, lac_tunnel, call(n)).unwrap();
    assert!(
        net.run_until(Duration::from_secs(60), |n| sessions_up(&n.lns_events)
            .len()
            > before
            && sessions_up(&n.lac_events).iter().any(|(_, x)| *x == s))
    );
    (s, sessions_up(&net.lns_events)[before].1)
}

#[test]
fn tunnel_session_and_payload_without_secret() {
    let mut net = Net::new(lac_config(None), lns_config(None));
    let (lt, nt) = net.establish();
    assert!(net.lac.is_established(lt) && net.lns.is_established(nt));
    assert!(
        matches!(&net.lns_events[0], Event::TunnelUp { peer_host_name, peer, .. }
        if peer_host_name == b"lac.example" && *peer == lac_addr())
    );
    // Nobody challenged anybody.
    let sccrp = &net.sent_messages(Dir::ToLac, MessageType::Sccrp)[0];
    assert!(sccrp.challenge().is_none() && sccrp.challenge_response().is_none());
    assert_eq!(sccrp.receive_window_size(), Some(128));

    let (ls, ns) = up_session(&mut net, lt, 1);
    // The LNS got the whole call, proxy LCP and proxy authentication included.
    let got = net.lns_events.iter().find_map(|e| match e {
        Event::SessionUp { call, .. } => Some(call.clone()),
        _ => None,
    });
    assert_eq!(*got.unwrap(), call(1));

    // PPP frames flow both ways as Payload events.
    net.lac
        .send_data(lt, ls, b"\xff\x03\xc0\x21\x01\x01\x00\x04")
        .unwrap();
    net.lns
        .send_data(nt, ns, b"\xff\x03\xc0\x21\x02\x01\x00\x04")
        .unwrap();
    net.run_for(Duration::from_secs(1));
    assert!(net.lns_events.contains(&Event::Payload {
        tunnel: nt,
        session: ns,
        data: b"\xff\x03\xc0\x21\x01\x01\x00\x04".to_vec()
    }));
    assert!(net.lac_events.contains(&Event::Payload {
        tunnel: lt,
        session: ls,
        data: b"\xff\x03\xc0\x21\x02\x01\x00\x04".to_vec()
    }));
    let route = net.lns.data_route(nt, ns).unwrap();
    assert_eq!(
        (route.peer, route.peer_tunnel_id, route.peer_session_id),
        (lac_addr(), lt, ls)
    );
}

#[test]
fn tunnel_authentication_both_directions() {
    let mut net = Net::new(lac_config(Some(SECRET)), lns_config(Some(SECRET)));
    net.establish();
    let sccrq = &net.sent_messages(Dir::ToLns, MessageType::Sccrq)[0];
    let sccrp = &net.sent_messages(Dir::ToLac, MessageType::Sccrp)[0];
    let scccn = &net.sent_messages(Dir::ToLns, MessageType::Scccn)[0];
    // The LNS answers the LAC's challenge (type 2) and challenges the LAC (answered with type 3).
    let expect = l2tp::auth::challenge_response(2, SECRET, sccrq.challenge().unwrap());
    assert_eq!(sccrp.challenge_response(), Some(&expect));
    let expect = l2tp::auth::challenge_response(3, SECRET, sccrp.challenge().unwrap());
    assert_eq!(scccn.challenge_response(), Some(&expect));
    assert_eq!(
        net.lns.stats().auth_failures + net.lac.stats().auth_failures,
        0
    );
}

fn stop_result(net: &Net, dir: Dir) -> ResultCode {
    net.sent_messages(dir, MessageType::StopCcn)[0]
        .result_code()
        .cloned()
        .unwrap()
}

#[test]
fn lac_rejects_lns_with_wrong_secret() {
    let mut net = Net::new(lac_config(Some(SECRET)), lns_config(Some(b"other")));
    let t = net.lac.connect(net.now, lns_addr()).unwrap();
    net.run_for(Duration::from_secs(5));
    assert_eq!(
        stop_result(&net, Dir::ToLns).result,
        result::STOPCCN_NOT_AUTHORIZED
    );
    assert_eq!(net.lac.stats().auth_failures, 1);
    assert!(net.lac_events.iter().any(|e| matches!(e,
        Event::TunnelDown { tunnel, cause: CloseCause::Local(r) } if *tunnel == t && r.result == 4)));
    assert!(tunnel_up(&net.lns_events).is_none());
}

/// Rewrite the Challenge Response of the first message of `kind` going `dir`.
fn tamper(net: &mut Net, dir: Dir, kind: MessageType, strip: bool) {
    net.filter = Some(Box::new(move |d, b| {
        let Some(mut m) = decode(b).filter(|m| m.kind == kind && d == dir) else {
            return Fate::Deliver;
        };
        if strip {
            m.avps
                .retain(|a| !matches!(a.value, AvpValue::ChallengeResponse(_)));
        } else {
            for a in &mut m.avps {
                if let AvpValue::ChallengeResponse(r) = &mut a.value {
                    r[0] ^= 1;
                }
            }
        }
        let h = match l2tp::header::parse(b) {
            Ok(l2tp::header::Header::Control(h)) => h,
            _ => unreachable!(),
        };
        Fate::Replace(
            m.encode(h.tunnel_id, h.session_id, h.ns, h.nr, None)
                .unwrap(),
        )
    }));
}

#[test]
fn lns_verifies_the_lac_response() {
    // The original never checked this; a forged SCCCN must not open the tunnel.
    for strip in [false, true] {
        let mut net = Net::new(lac_config(Some(SECRET)), lns_config(Some(SECRET)));
        tamper(&mut net, Dir::ToLns, MessageType::Scccn, strip);
        net.lac.connect(net.now, lns_addr()).unwrap();
        net.run_for(Duration::from_secs(5));
        let r = stop_result(&net, Dir::ToLac);
        assert_eq!(r.result, result::STOPCCN_NOT_AUTHORIZED);
        let why = if strip { "missing" } else { "wrong" };
        assert!(String::from_utf8_lossy(r.message.as_deref().unwrap()).starts_with(why));
        assert!(tunnel_up(&net.lns_events).is_none());
        assert_eq!(net.lns.stats().auth_failures, 1);
        // The LAC thought it was up, then learns otherwise.
        assert!(net.lac_events.iter().any(|e| matches!(e,
            Event::TunnelDown { cause: CloseCause::Peer(r), .. } if r.result == 4)));
    }
}

#[test]
fn lac_verifies_the_lns_response() {
    let mut net = Net::new(lac_config(Some(SECRET)), lns_config(Some(SECRET)));
    tamper(&mut net, Dir::ToLac, MessageType::Sccrp, false);
    net.lac.connect(net.now, lns_addr()).unwrap();
    net.run_for(Duration::from_secs(5));
    assert_eq!(
        stop_result(&net, Dir::ToLns).result,
        result::STOPCCN_NOT_AUTHORIZED
    );
    assert!(tunnel_up(&net.lac_events).is_none());
}

#[test]
fn challenged_without_secret_refuses() {
    let mut net = Net::new(lac_config(None), lns_config(Some(SECRET)));
    net.lac.connect(net.now, lns_addr()).unwrap();
    net.run_for(Duration::from_secs(5));
    let r = stop_result(&net, Dir::ToLns);
    assert_eq!(r.result, result::STOPCCN_NOT_AUTHORIZED);
    assert!(tunnel_up(&net.lns_events).is_none());
}

#[test]
fn lossy_link_drops_and_reorders_control_messages() {
    for seed in 1..=12u64 {
        let mut lac = lac_config(Some(SECRET));
        let mut lns = lns_config(Some(SECRET));
        lac.retransmit.max_retries = 10;
        lns.retransmit.max_retries = 10;
        let mut net = Net::new(lac, lns).with_seed(seed);
        net.drop_percent = 25;
        net.jitter = Duration::from_millis(1500);
        let (lt, _) = net.establish();
        let ids: Vec<SessionId> = (0..6)
            .map(|n| net.lac.open_session(net.now, lt, call(n)).unwrap())
            .collect();
        assert!(
            net.run_until(Duration::from_secs(300), |n| sessions_up(&n.lns_events)
                .len()
                == 6
                && sessions_up(&n.lac_events).len() == 6),
            "seed {seed}: LAC {:?}\nLNS {:?}",
            net.lac_events,
            net.lns_events
        );
        // Each call arrived once, intact, in spite of losses, duplicates and reordering.
        let mut serials: Vec<u32> = net
            .lns_events
            .iter()
            .filter_map(|e| match e {
                Event::SessionUp { call, .. } => Some(call.serial),
                _ => None,
            })
            .collect();
        serials.sort_unstable();
        assert_eq!(serials, [0, 1, 2, 3, 4, 5], "seed {seed}");
        let mut up: Vec<SessionId> = sessions_up(&net.lac_events).iter().map(|s| s.1).collect();
        up.sort_unstable();
        let mut ids = ids;
        ids.sort_unstable();
        assert_eq!(up, ids);
        let s = (net.lac.stats().clone(), net.lns.stats().clone());
        assert!(
            s.0.retransmits + s.1.retransmits > 0,
            "seed {seed}: no loss happened"
        );
        // Close everything over the same bad link: both sides agree.
        net.lac
            .close_tunnel(net.now, lt, ResultCode::new(1))
            .unwrap();
        assert!(
            net.run_until(Duration::from_secs(300), |n| {
                n.lns_events.iter().any(
            |e| matches!(e, Event::TunnelDown { cause: CloseCause::Peer(r), .. } if r.result == 1)
        )
            }),
            "seed {seed}"
        );
    }
}

#[test]
fn reordering_alone_is_absorbed_by_the_out_of_order_queue() {
    let mut net = Net::new(lac_config(None), lns_config(None));
    let (lt, _) = net.establish();
    net.jitter = Duration::from_millis(500);
    for n in 0..20 {
        net.lac.open_session(net.now, lt, call(n)).unwrap();
    }
    assert!(
        net.run_until(Duration::from_secs(60), |n| sessions_up(&n.lns_events)
            .len()
            == 20)
    );
    assert!(net.lns.stats().out_of_order > 0);
    assert_eq!(net.lns.stats().malformed, 0);
}

#[test]
fn try_another_cdn_carries_both_codes() {
    let mut net = Net::new(lac_config(None), lns_config(None));
    let (lt, _) = net.establish();
    net.lns.set_admission(Admission::TryAnother);
    let s = net.lac.open_session(net.now, lt, call(1)).unwrap();
    net.run_for(Duration::from_secs(2));
    let cdn = &net.sent_messages(Dir::ToLac, MessageType::Cdn)[0];
    let rc = cdn.result_code().unwrap();
    assert_eq!((rc.result, rc.error), (2, Some(error_code::TRY_ANOTHER)));
    // On the wire: result 2 then error 7, not the original's lone "2".
    let raw = net
        .sent
        .iter()
        .find(|(d, _, b)| *d == Dir::ToLac && kind(b) == Some(MessageType::Cdn))
        .unwrap();
    // Vendor 0, attribute 1 (Result Code), result 2, error 7.
    assert!(raw.2.windows(8).any(|w| w == [0, 0, 0, 1, 0, 2, 0, 7]));
    assert!(net.lac_events.iter().any(|e| matches!(e,
        Event::SessionDown { session, cause: CloseCause::Peer(r), .. } if *session == s && r.error == Some(7))));
    // New tunnels are refused the same way.
    net.lns.set_admission(Admission::ShuttingDown);
    net.lac.connect(net.now, lns_addr()).unwrap();
    net.run_for(Duration::from_secs(2));
    assert_eq!(
        stop_result(&net, Dir::ToLac).result,
        result::STOPCCN_SHUTTING_DOWN
    );
}

#[test]
fn session_and_tunnel_teardown_from_either_side() {
    let mut net = Net::new(lac_config(None), lns_config(None));
    let (lt, nt) = net.establish();
    let (ls, ns) = up_session(&mut net, lt, 1);
    let (_ls2, ns2) = up_session(&mut net, lt, 2);
    net.lac
        .close_session(net.now, lt, ls, ResultCode::new(3))
        .unwrap();
    net.run_for(Duration::from_secs(1));
    assert!(net.lns_events.contains(&Event::SessionDown {
        tunnel: nt,
        session: ns,
        cause: CloseCause::Peer(ResultCode::new(3))
    }));
    assert!(net.lns.data_route(nt, ns).is_none());
    assert_eq!(net.lns.sessions(nt), vec![ns2]);
    let rc = ResultCode::with_error(2, 6, "admin reset");
    net.lns.close_tunnel(net.now, nt, rc.clone()).unwrap();
    net.run_for(Duration::from_secs(1));
    assert!(net.lac_events.contains(&Event::TunnelDown {
        tunnel: lt,
        cause: CloseCause::Peer(rc)
    }));
    assert!(net.lac_events.iter().any(|e| matches!(
        e,
        Event::SessionDown {
            cause: CloseCause::Peer(_),
            ..
        }
    )));
    // Both keep the tunnel for one retransmission cycle to ack a lost StopCCN, then forget it.
    assert_eq!((net.lac.tunnel_count(), net.lns.tunnel_count()), (1, 1));
    net.run_for(Duration::from_secs(60));
    assert_eq!((net.lac.tunnel_count(), net.lns.tunnel_count()), (0, 0));
}

#[test]
fn wen_and_sli_reach_the_application() {
    let mut net = Net::new(lac_config(None), lns_config(None));
    let (lt, nt) = net.establish();
    let (ls, ns) = up_session(&mut net, lt, 1);
    let errors = CallErrors {
        crc: 1,
        framing: 2,
        hardware_overruns: 3,
        buffer_overruns: 4,
        timeouts: 5,
        alignment: 6,
    };
    net.lac.wan_error_notify(net.now, lt, ls, errors).unwrap();
    net.lns.set_link_info(net.now, nt, ns, 0, 0xa0000).unwrap();
    net.run_for(Duration::from_secs(1));
    assert!(net.lns_events.contains(&Event::WanError {
        tunnel: nt,
        session: ns,
        errors
    }));
    assert!(net.lac_events.contains(&Event::SetLinkInfo {
        tunnel: lt,
        session: ls,
        send_accm: 0,
        receive_accm: 0xa0000
    }));
}

#[test]
fn proxy_authentication_avps_are_hidden_on_the_wire() {
    let mut net = Net::new(lac_config(Some(SECRET)), lns_config(Some(SECRET)));
    let (lt, _) = net.establish();
    up_session(&mut net, lt, 9);
    let iccn = &net.sent_messages(Dir::ToLns, MessageType::Iccn)[0];
    let hidden: Vec<u16> = iccn
        .avps
        .iter()
        .filter(|a| a.hidden)
        .map(|a| a.value.id().1)
        .collect();
    assert_eq!(hidden, [30, 33]);
    let rv = iccn
        .avps
        .iter()
        .position(|a| matches!(a.value, AvpValue::RandomVector(_)))
        .unwrap();
    assert!(rv < iccn.avps.iter().position(|a| a.hidden).unwrap());
    // The plaintext never appears in the datagram.
    let raw = net
        .sent
        .iter()
        .find(|(_, _, b)| kind(b) == Some(MessageType::Iccn))
        .unwrap();
    assert!(!raw.2.windows(8).any(|w| w == b"password"));
    let got = net.lns_events.iter().find_map(|e| match e {
        Event::SessionUp { call, .. } => call.proxy_auth.clone(),
        _ => None,
    });
    assert_eq!(got.unwrap().name.unwrap(), b"user9@example.net");
}

#[test]
fn unknown_mandatory_avp_clears_tunnel_or_call() {
    let mut net = Net::new(lac_config(None), lns_config(None));
    // An SCCRQ with an unknown mandatory AVP: StopCCN 2/8 (RFC 2661 §4.1).
    let mut m = l2tp::Message::new(
        MessageType::Sccrq,
        vec![
            Avp::m(AvpValue::ProtocolVersion {
                version: 1,
                revision: 0,
            }),
            Avp::m(AvpValue::HostName(b"x".to_vec())),
            Avp::m(AvpValue::FramingCapabilities(3)),
            Avp::m(AvpValue::AssignedTunnelId(TunnelId(77))),
            Avp::m(AvpValue::Unknown {
                vendor: 0,
                attr: 200,
                value: vec![1],
            }),
        ],
    );
    net.inject(
        Dir::ToLns,
        &m.encode(TunnelId(0), SessionId(0), 0, 0, None).unwrap(),
    );
    let rc = stop_result(&net, Dir::ToLac);
    assert_eq!(
        (rc.result, rc.error),
        (2, Some(error_code::UNKNOWN_MANDATORY_AVP))
    );
    // The same AVP without the M bit is ignored.
    m.avps[4].mandatory = false;
    m.avps[3] = Avp::m(AvpValue::AssignedTunnelId(TunnelId(78)));
    net.inject(
        Dir::ToLns,
        &m.encode(TunnelId(0), SessionId(0), 0, 0, None).unwrap(),
    );
    assert_eq!(net.sent_messages(Dir::ToLac, MessageType::Sccrp).len(), 1);

    // In an ICRQ it clears only that call: CDN 2/8, the tunnel stays.
    let mut net = Net::new(lac_config(None), lns_config(None));
    let (lt, nt) = net.establish();
    net.filter = Some(Box::new(|d, b| {
        let Some(mut m) = decode(b).filter(|m| d == Dir::ToLns && m.kind == MessageType::Icrq)
        else {
            return Fate::Deliver;
        };
        m.avps.push(Avp::m(AvpValue::Unknown {
            vendor: 9,
            attr: 1,
            value: vec![],
        }));
        let Ok(l2tp::header::Header::Control(h)) = l2tp::header::parse(b) else {
            unreachable!()
        };
        Fate::Replace(
            m.encode(h.tunnel_id, h.session_id, h.ns, h.nr, None)
                .unwrap(),
        )
    }));
    net.lac.open_session(net.now, lt, call(1)).unwrap();
    net.run_for(Duration::from_secs(2));
    let rc = net.sent_messages(Dir::ToLac, MessageType::Cdn)[0]
        .result_code()
        .cloned()
        .unwrap();
    assert_eq!(
        (rc.result, rc.error),
        (2, Some(error_code::UNKNOWN_MANDATORY_AVP))
    );
    assert!(net.lns.is_established(nt) && net.lac.is_established(lt));
    assert!(net
        .lac_events
        .iter()
        .any(|e| matches!(e, Event::SessionDown { .. })));
}

#[test]
fn unknown_message_type_with_m_bit_stops_tunnel() {
    let mut net = Net::new(lac_config(None), lns_config(None));
    let (lt, _) = net.establish();
    // Rewrite the first HELLO (whoever sends it) into type 99, M bit set.
    net.filter = Some(Box::new(|_, b| {
        let Some(mut m) = decode(b).filter(|m| m.kind == MessageType::Hello) else {
            return Fate::Deliver;
        };
        m.kind = MessageType::Other(99);
        let Ok(l2tp::header::Header::Control(h)) = l2tp::header::parse(b) else {
            unreachable!()
        };
        Fate::Replace(
            m.encode(h.tunnel_id, h.session_id, h.ns, h.nr, None)
                .unwrap(),
        )
    }));
    net.run_for(Duration::from_secs(62));
    let stops: Vec<_> = [Dir::ToLac, Dir::ToLns]
        .into_iter()
        .flat_map(|d| net.sent_messages(d, MessageType::StopCcn))
        .collect();
    assert_eq!(stops.len(), 1);
    let rc = stops[0].result_code().unwrap();
    assert_eq!((rc.result, rc.error), (2, Some(error_code::FIELD)));
    assert!(net
        .lac_events
        .iter()
        .any(|e| matches!(e, Event::TunnelDown { tunnel, .. } if *tunnel == lt)));
    assert!(net
        .lns_events
        .iter()
        .any(|e| matches!(e, Event::TunnelDown { .. })));
}

#[test]
fn protocol_version_other_than_1_0_is_refused_with_result_5() {
    for (version, accepted) in [
        ((1, 0), true),
        ((0, 0), true),
        ((2, 0), false),
        ((1, 1), false),
    ] {
        let mut net = Net::new(lac_config(None), lns_config(None));
        let m = l2tp::Message::new(
            MessageType::Sccrq,
            vec![
                Avp::m(AvpValue::ProtocolVersion {
                    version: version.0,
                    revision: version.1,
                }),
                Avp::m(AvpValue::HostName(b"x".to_vec())),
                Avp::m(AvpValue::FramingCapabilities(3)),
                Avp::m(AvpValue::AssignedTunnelId(TunnelId(5))),
            ],
        );
        net.inject(
            Dir::ToLns,
            &m.encode(TunnelId(0), SessionId(0), 0, 0, None).unwrap(),
        );
        let stops = net.sent_messages(Dir::ToLac, MessageType::StopCcn);
        assert_eq!(
            net.sent_messages(Dir::ToLac, MessageType::Sccrp).len() == 1,
            accepted,
            "{version:?}"
        );
        if !accepted {
            assert_eq!(
                stops[0].result_code().unwrap().result,
                result::STOPCCN_BAD_VERSION
            );
            // The StopCCN is addressed to the LAC's tunnel id.
            let b = &net.sent[0].2;
            assert_eq!(&b[4..6], &[0, 5]);
        }
    }
}

#[test]
fn fast_path_framing_reaches_the_peer_engine() {
    let mut net = Net::new(lac_config(None), lns_config(None));
    let (lt, nt) = net.establish();
    let (ls, ns) = up_session(&mut net, lt, 1);
    // The daemon's downstream path: an IP packet read into a buffer with headroom, a PPP
    // header and then the L2TP header written in front of it in place.
    let route = net.lns.data_route(nt, ns).unwrap();
    let mut buf = [0u8; 64];
    let ip = [0x45u8, 0, 0, 20];
    buf[32..36].copy_from_slice(&ip);
    buf[28..32].copy_from_slice(&[0xff, 0x03, 0x00, 0x21]);
    let start =
        l2tp::header::write_data_header(&mut buf, 28, route.peer_tunnel_id, route.peer_session_id)
            .unwrap();
    net.inject(Dir::ToLac, &buf[start..36]);
    assert_eq!(
        net.lac_events.last(),
        Some(&Event::Payload {
            tunnel: lt,
            session: ls,
            data: vec![0xff, 0x03, 0x00, 0x21, 0x45, 0, 0, 20]
        })
    );
    // Upstream: the LNS parses the header without allocating and finds its own ids.
    net.lac
        .send_data(lt, ls, &[0xff, 0x03, 0x00, 0x21, 0x45])
        .unwrap();
    net.run_for(Duration::from_millis(50));
    let (_, _, wire) = net
        .sent
        .iter()
        .rev()
        .find(|(d, _, _)| *d == Dir::ToLns)
        .unwrap();
    let h = l2tp::header::parse_data_header(wire).unwrap().unwrap();
    assert_eq!((h.tunnel_id, h.session_id), (nt, ns));
    assert_eq!(&wire[h.payload()], &[0xff, 0x03, 0x00, 0x21, 0x45]);
    // Data for an unknown session is counted and dropped.
    let mut bad = wire.clone();
    bad[4..6].copy_from_slice(&(ns.0 ^ 0xffff).to_be_bytes());
    assert!(net.lns.handle_datagram(net.now, lac_addr(), &bad).is_err());
    assert_eq!(net.lns.stats().unknown_session, 1);
}

#[test]
fn sequencing_required_makes_data_carry_ns() {
    let mut net = Net::new(lac_config(None), lns_config(None));
    let (lt, nt) = net.establish();
    let s = net
        .lac
        .open_session(
            net.now,
            lt,
            CallInfo {
                serial: 1,
                sequencing_required: true,
                ..CallInfo::default()
            },
        )
        .unwrap();
    assert!(
        net.run_until(Duration::from_secs(5), |n| !sessions_up(&n.lns_events)
            .is_empty())
    );
    let ns = sessions_up(&net.lns_events)[0].1;
    assert!(net.lns.data_route(nt, ns).unwrap().sequencing);
    assert!(net.lac.data_route(lt, s).unwrap().sequencing);
    for _ in 0..3 {
        net.lns.send_data(nt, ns, b"\xc0\x21\x09").unwrap();
    }
    net.run_for(Duration::from_millis(50));
    let seqs: Vec<Option<(u16, u16)>> = net
        .sent
        .iter()
        .filter(|(d, _, b)| *d == Dir::ToLac && !l2tp::header::is_control(b))
        .map(|(_, _, b)| {
            l2tp::header::parse_data_header(b)
                .unwrap()
                .unwrap()
                .sequence
        })
        .collect();
    assert_eq!(seqs, [Some((0, 0)), Some((1, 0)), Some((2, 0))]);
    let payloads = net
        .lac_events
        .iter()
        .filter(|e| matches!(e, Event::Payload { data, .. } if data == b"\xc0\x21\x09"))
        .count();
    assert_eq!(payloads, 3);
}
