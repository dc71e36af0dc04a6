//! Snapshot and resume: the LNS engine is replaced by a fresh one rebuilt from a serialized
//! snapshot after a pause, and the unchanged LAC keeps talking to it as if nothing happened.

mod common;

use std::time::Duration;

use common::*;
use l2tp::fuzzing::TestRng;
#[allow(unused_imports)]
use l2tp::ids::{SessionId, TunnelId};
use l2tp::message::MessageType;
use l2tp::{CallInfo, Engine, Event, ResumeError, TunnelSnapshot};

fn payloads(events: &[Event]) -> Vec<(TunnelId, SessionId, Vec<u8>)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Payload {
                tunnel,
                session,
                data,
            } => Some((*tunnel, *session, data.clone())),
            _ => None,
        })
        .collect()
}

fn downs(events: &[Event]) -> usize {
    events
        .iter()
        .filter(|e| matches!(e, Event::TunnelDown { .. } | Event::SessionDown { .. }))
        .count()
}

/// Serialize and parse back, as the daemon's state file does.
fn through_disk(snaps: &[TunnelSnapshot]) -> Vec<TunnelSnapshot> {
    let text = serde_json::to_string(snaps).unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn resumed_lns_continues_the_conversation() {
    let mut net = Net::new(lac_config(Some(SECRET)), lns_config(Some(SECRET)));
    let (lac_t, lns_t) = net.establish();
    for serial in 1..=2 {
        let call = CallInfo {
            serial,
            sequencing_required: serial == 2,
            ..CallInfo::default()
        };
        net.lac.open_session(net.now, lac_t, call).unwrap();
    }
    assert!(
        net.run_until(Duration::from_secs(30), |n| sessions_up(&n.lns_events)
            .len()
            == 2)
    );
    net.run_for(Duration::from_secs(1));
    let lns_sessions = net.lns.sessions(lns_t);
    let lac_sessions = net.lac.sessions(lac_t);

    // A control message the LAC never receives before the LNS goes down.
    net.filter = Some(Box::new(|dir, _| {
        if dir == Dir::ToLac {
            Fate::Drop
        } else {
            Fate::Deliver
        }
    }));
    net.lns
        .set_link_info(net.now, lns_t, lns_sessions[0], 0, 0xffff_ffff)
        .unwrap();
    net.run_for(Duration::from_millis(100));
    let snaps = through_disk(&net.lns.snapshot());
    assert_eq!(snaps.len(), 1);
    assert_eq!(snaps[0].sessions.len(), 2);
    assert_eq!(snaps[0].unacknowledged.len(), 1, "the Set-Link-Info");
    let sli_ns = snaps[0].unacknowledged[0].0;

    // Down for 20 s: the LAC's datagrams go nowhere.
    net.lns = Engine::new(lns_config(Some(SECRET)), Box::new(TestRng(77))).unwrap();
    net.filter = Some(Box::new(|_, _| Fate::Drop));
    net.run_for(Duration::from_secs(20));
    net.filter = None;
    let sent_before = net.sent.len();
    for s in snaps {
        net.lns.resume(net.now, s).unwrap();
    }
    net.lac_events.clear();
    net.lns_events.clear();

    // The lost Set-Link-Info arrives with the Ns it had.
    assert!(
        net.run_until(Duration::from_secs(5), |n| n.lac_events.iter().any(
            |e| matches!(
                e,
                Event::SetLinkInfo {
                    receive_accm: 0xffff_ffff,
                    ..
                }
            )
        ))
    );
    let first = net.sent[sent_before..]
        .iter()
        .find(|(d, _, _)| *d == Dir::ToLac)
        .and_then(|(_, _, b)| l2tp::header::parse(b).ok());
    match first {
        Some(l2tp::header::Header::Control(h)) => assert_eq!(h.ns, sli_ns),
        other => panic!("first datagram after resume: {other:?}"),
    }

    // Data both ways on both calls (one of them sequenced).
    for (i, (&lac_s, &lns_s)) in lac_sessions.iter().zip(&lns_sessions).enumerate() {
        let up = [0xff, 0x03, 0x00, 0x21, i as u8];
        net.lac.send_data(lac_t, lac_s, &up).unwrap();
        net.lns.send_data(lns_t, lns_s, &up[..4]).unwrap();
    }
    net.run_for(Duration::from_secs(1));
    let lns_rx = payloads(&net.lns_events);
    assert_eq!(lns_rx.len(), 2, "{:?}", net.lns_events);
    assert!(lns_rx
        .iter()
        .all(|(t, s, _)| *t == lns_t && lns_sessions.contains(s)));
    assert_eq!(payloads(&net.lac_events).len(), 2);

    // A new call on the resumed tunnel, then hellos for a few minutes.
    net.lac
        .open_session(
            net.now,
            lac_t,
            CallInfo {
                serial: 3,
                ..CallInfo::default()
            },
        )
        .unwrap();
    assert!(
        net.run_until(Duration::from_secs(10), |n| sessions_up(&n.lns_events)
            .len()
            == 1)
    );
    // Whichever side's HELLO timer fires first keeps both quiet ones alive (RFC 2661 §6.5).
    let hellos = |n: &Net| {
        n.sent_messages(Dir::ToLac, MessageType::Hello).len()
            + n.sent_messages(Dir::ToLns, MessageType::Hello).len()
    };
    let hellos_before = hellos(&net);
    net.run_for(Duration::from_secs(300));
    assert!(hellos(&net) >= hellos_before + 4);
    assert_eq!(downs(&net.lac_events), 0, "{:?}", net.lac_events);
    assert_eq!(downs(&net.lns_events), 0, "{:?}", net.lns_events);
    assert_eq!(net.lac.sessions(lac_t).len(), 3);
    assert_eq!(net.lns.sessions(lns_t).len(), 3);
    assert_eq!(net.lac.stats().out_of_window, 0);
    assert_eq!(net.lns.stats().out_of_window, 0);
    assert_eq!(
        net.lns.stats().retransmits,
        0,
        "the LAC acknowledged everything"
    );
}

#[test]
fn tunnels_in_setup_are_not_snapshotted() {
    let mut net = Net::new(lac_config(None), lns_config(None));
    // Only the SCCRQ reaches the LNS: it answers and waits for the SCCCN.
    net.filter = Some(Box::new(|dir, _| {
        if dir == Dir::ToLac {
            Fate::Drop
        } else {
            Fate::Deliver
        }
    }));
    net.lac.connect(net.now, lns_addr()).unwrap();
    net.run_for(Duration::from_millis(100));
    assert_eq!(net.lns.tunnel_count(), 1);
    assert!(net.lns.snapshot().is_empty());
}

#[test]
fn calls_in_setup_are_left_out() {
    let mut net = Net::new(lac_config(None), lns_config(None));
    let (lac_t, _) = net.establish();
    net.lac
        .open_session(net.now, lac_t, CallInfo::default())
        .unwrap();
    assert!(
        net.run_until(Duration::from_secs(10), |n| sessions_up(&n.lns_events)
            .len()
            == 1)
    );
    // The second call's ICCN never arrives.
    net.filter = Some(Box::new(|dir, b| match kind(b) {
        Some(MessageType::Iccn) if dir == Dir::ToLns => Fate::Drop,
        _ => Fate::Deliver,
    }));
    net.lac
        .open_session(net.now, lac_t, CallInfo::default())
        .unwrap();
    net.run_for(Duration::from_millis(100));
    let snaps = net.lns.snapshot();
    assert_eq!(snaps[0].sessions.len(), 1);
}

#[test]
fn resume_refuses_clashes_and_corrupt_snapshots() {
    let mut net = Net::new(lac_config(None), lns_config(None));
    let (_, lns_t) = net.establish();
    let snap = net.lns.snapshot().remove(0);
    assert_eq!(
        net.lns.resume(net.now, snap.clone()),
        Err(ResumeError::TunnelIdInUse(lns_t))
    );

    let mut fresh = Engine::new(lns_config(None), Box::new(TestRng(5))).unwrap();
    let mut bad = snap.clone();
    bad.peer_id = TunnelId(0);
    assert!(matches!(
        fresh.resume(net.now, bad),
        Err(ResumeError::Invalid { .. })
    ));
    let mut bad = snap.clone();
    bad.unacknowledged = vec![(bad.ns_next.wrapping_sub(1), vec![0xc8, 0x02, 0, 1])];
    assert!(matches!(
        fresh.resume(net.now, bad),
        Err(ResumeError::Invalid { .. })
    ));
    let mut bad = snap.clone();
    bad.sessions.push(l2tp::SessionSnapshot {
        id: SessionId(7),
        peer_id: SessionId(9),
        call: CallInfo::default(),
        data_ns: 0,
    });
    bad.sessions.push(bad.sessions[0].clone());
    assert!(matches!(
        fresh.resume(net.now, bad),
        Err(ResumeError::Invalid { .. })
    ));
    assert_eq!(fresh.resume(net.now, snap), Ok(lns_t));
    assert!(fresh.is_established(lns_t));
}
