//! Reliable delivery (RFC 2661 §5.8) driven by a fake clock: retransmission and backoff,
//! give-up, the peer's window, the out-of-order queue, duplicates, HELLO, duplicate SCCRQ.

mod common;

use std::time::Duration;

use common::*;
use l2tp::header::{self, Header};
#[allow(unused_imports)]
use l2tp::ids::{SessionId, TunnelId};
use l2tp::{CallInfo, CloseCause, Event, MessageType};

fn ns_nr(b: &[u8]) -> (u16, u16) {
    match header::parse(b).unwrap() {
        Header::Control(h) => (h.ns, h.nr),
        Header::Data(_) => panic!("data"),
    }
}

#[test]
fn retransmit_with_exponential_backoff_then_give_up() {
    let mut net = Net::new(lac_config(None), lns_config(None));
    net.filter = Some(Box::new(|_, _| Fate::Drop)); // a black hole
    let start = net.now;
    let t = net.lac.connect(net.now, lns_addr()).unwrap();
    assert_eq!(net.lac.poll_timeout(), Some(start + Duration::from_secs(1)));
    net.run_for(Duration::from_secs(100));
    let times: Vec<u64> = net
        .sent
        .iter()
        .filter(|(_, _, b)| kind(b) == Some(MessageType::Sccrq))
        .map(|(_, at, _)| (*at - start).as_secs())
        .collect();
    // First send, then 5 retransmissions after 1, 2, 4, 8, 8 s (backoff capped at 8 s).
    assert_eq!(times, [0, 1, 3, 7, 15, 23]);
    // Every copy is the same message: same Ns.
    assert!(net.sent.iter().all(|(_, _, b)| ns_nr(b) == (0, 0)));
    assert_eq!(net.lac.stats().retransmits, 5);
    // After the last timeout (8 s more) the tunnel is given up.
    assert_eq!(
        net.lac_events,
        [Event::TunnelDown {
            tunnel: t,
            cause: CloseCause::Timeout
        }]
    );
    assert_eq!(net.lac.tunnel_count(), 0);
    assert_eq!(net.lac.poll_timeout(), None);
}

#[test]
fn an_ack_stops_retransmission() {
    let mut net = Net::new(lac_config(None), lns_config(None));
    let (lt, _) = net.establish();
    net.run_for(Duration::from_secs(30));
    // Nothing was retransmitted on a clean link, and no HELLO before 60 s of silence.
    assert_eq!(net.lac.stats().retransmits + net.lns.stats().retransmits, 0);
    assert!(net.sent_messages(Dir::ToLns, MessageType::Hello).is_empty());
    assert!(net.lac.is_established(lt));
}

#[test]
fn hello_after_60_seconds_of_silence() {
    let mut net = Net::new(lac_config(None), lns_config(None));
    let start = net.now;
    let (lt, nt) = net.establish();
    net.run_for(Duration::from_secs(59));
    assert!(net.sent_messages(Dir::ToLns, MessageType::Hello).is_empty());
    net.run_for(Duration::from_secs(2));
    let hellos: Vec<u64> = net
        .sent
        .iter()
        .filter(|(_, _, b)| kind(b) == Some(MessageType::Hello))
        .map(|(_, at, _)| (*at - start).as_secs())
        .collect();
    // The first side to time out sends a HELLO; its arrival counts as traffic for the other.
    assert_eq!(hellos, [60]);
    // A HELLO is acknowledged and the tunnel stays up through many idle periods.
    net.run_for(Duration::from_secs(600));
    assert!(net.lac.is_established(lt) && net.lns.is_established(nt));
    assert_eq!(net.lac.stats().retransmits, 0);
    // If the LAC goes silent, the LNS's HELLO is never acked and the tunnel dies.
    net.filter = Some(Box::new(|d, _| {
        if d == Dir::ToLns {
            Fate::Drop
        } else {
            Fate::Deliver
        }
    }));
    net.run_for(Duration::from_secs(200));
    assert!(net.lns_events.iter().any(|e| matches!(
        e,
        Event::TunnelDown {
            cause: CloseCause::Timeout,
            ..
        }
    )));
}

#[test]
fn peer_receive_window_limits_messages_in_flight() {
    let mut lns = lns_config(None);
    lns.receive_window = 2;
    let mut net = Net::new(lac_config(None), lns);
    let (lt, _) = net.establish();
    // Hold every LAC message: with the LNS's window of 2 only two ICRQs may be outstanding.
    let held = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    let h = held.clone();
    net.filter = Some(Box::new(move |d, b| {
        if d == Dir::ToLns {
            h.borrow_mut().push(b.to_vec());
            Fate::Drop
        } else {
            Fate::Deliver
        }
    }));
    for n in 0..5 {
        net.lac
            .open_session(
                net.now,
                lt,
                CallInfo {
                    serial: n,
                    ..CallInfo::default()
                },
            )
            .unwrap();
    }
    net.run_for(Duration::from_millis(500));
    let ns: Vec<u16> = held.borrow().iter().map(|b| ns_nr(b).0).collect();
    assert_eq!(
        ns,
        [2, 3],
        "SCCCN was Ns 1; only ICRQ 2 and 3 fit the window"
    );
    // Heal the link: the rest follows as acks open the window.
    net.filter = None;
    assert!(
        net.run_until(Duration::from_secs(60), |n| sessions_up(&n.lns_events)
            .len()
            == 5)
    );
}

/// Establish, then capture the next `n` LAC→LNS control messages without delivering them.
fn capture_icrqs(n: u32) -> (Net, Vec<Vec<u8>>) {
    let mut net = Net::new(lac_config(None), lns_config(None));
    let (lt, _) = net.establish();
    net.filter = Some(Box::new(|d, _| {
        if d == Dir::ToLns {
            Fate::Drop
        } else {
            Fate::Deliver
        }
    }));
    for i in 0..n {
        net.lac
            .open_session(
                net.now,
                lt,
                CallInfo {
                    serial: i,
                    ..CallInfo::default()
                },
            )
            .unwrap();
    }
    net.run_for(Duration::from_millis(100));
    let icrqs: Vec<Vec<u8>> = net
        .sent
        .iter()
        .filter(|(_, _, b)| kind(b) == Some(MessageType::Icrq))
        .map(|(_, _, b)| b.clone())
        .collect();
    net.filter = Some(Box::new(|_, _| Fate::Drop));
    net.sent.clear();
    (net, icrqs)
}

#[test]
fn out_of_order_messages_are_queued_and_replayed_in_sequence() {
    let (mut net, icrqs) = capture_icrqs(3);
    assert_eq!(icrqs.len(), 3);
    net.inject(Dir::ToLns, &icrqs[2]);
    net.inject(Dir::ToLns, &icrqs[1]);
    // Nothing processed while the gap is open: no ICRP, no ack.
    assert!(net.sent.is_empty());
    assert_eq!(net.lns.stats().out_of_order, 2);
    net.inject(Dir::ToLns, &icrqs[0]);
    let replies: Vec<(MessageType, u16)> = net
        .sent
        .iter()
        .filter_map(|(_, _, b)| Some((kind(b)?, ns_nr(b).1)))
        .collect();
    // Three ICRPs, processed in Ns order; the last one acknowledges all three.
    assert_eq!(replies.len(), 3);
    assert!(replies.iter().all(|(k, _)| *k == MessageType::Icrp));
    assert_eq!(replies[2].1, ns_nr(&icrqs[2]).0 + 1);
    let serials: Vec<SessionId> = net
        .sent_messages(Dir::ToLac, MessageType::Icrp)
        .iter()
        .map(|m| m.assigned_session_id().unwrap())
        .collect();
    assert_eq!(serials.len(), 3);
}

#[test]
fn duplicate_gets_an_immediate_zlb_and_is_not_reprocessed() {
    let (mut net, icrqs) = capture_icrqs(1);
    net.inject(Dir::ToLns, &icrqs[0]);
    assert_eq!(net.sent.len(), 1);
    assert_eq!(kind(&net.sent[0].2), Some(MessageType::Icrp));
    net.sent.clear();
    net.inject(Dir::ToLns, &icrqs[0]);
    assert_eq!(net.sent.len(), 1);
    assert!(is_zlb(&net.sent[0].2), "a duplicate is answered by a ZLB");
    assert_eq!(ns_nr(&net.sent[0].2).1, ns_nr(&icrqs[0]).0 + 1);
    assert_eq!(net.lns.stats().duplicates, 1);
    // Still only one call: the ICRP is not sent twice.
    assert_eq!(net.sent_messages(Dir::ToLac, MessageType::Icrp).len(), 0);
}

#[test]
fn messages_beyond_the_receive_window_are_dropped() {
    let mut lns = lns_config(None);
    lns.receive_window = 2;
    let mut net = Net::new(lac_config(None), lns);
    let (lt, _) = net.establish();
    net.filter = Some(Box::new(|d, _| {
        if d == Dir::ToLns {
            Fate::Drop
        } else {
            Fate::Deliver
        }
    }));
    // The LAC's window toward the LNS is 2, so craft Ns by hand: take an ICRQ and shift it.
    net.lac
        .open_session(net.now, lt, CallInfo::default())
        .unwrap();
    net.run_for(Duration::from_millis(10));
    let mut b = net
        .sent
        .iter()
        .rev()
        .find(|(_, _, b)| kind(b) == Some(MessageType::Icrq))
        .unwrap()
        .2
        .clone();
    let ns = ns_nr(&b).0;
    b[8..10].copy_from_slice(&(ns + 2).to_be_bytes());
    net.inject(Dir::ToLns, &b);
    assert_eq!(net.lns.stats().out_of_window, 1);
    b[8..10].copy_from_slice(&(ns + 1).to_be_bytes());
    net.inject(Dir::ToLns, &b);
    assert_eq!(net.lns.stats().out_of_order, 1);
}

#[test]
fn duplicate_sccrq_reaches_the_same_tunnel() {
    let mut net = Net::new(lac_config(None), lns_config(None));
    net.filter = Some(Box::new(|_, _| Fate::Drop));
    net.lac.connect(net.now, lns_addr()).unwrap();
    net.run_for(Duration::from_secs(2));
    let copies: Vec<Vec<u8>> = net
        .sent
        .iter()
        .filter(|(_, _, b)| kind(b) == Some(MessageType::Sccrq))
        .map(|(_, _, b)| b.clone())
        .collect();
    assert_eq!(copies.len(), 2, "original and first retransmission");
    net.sent.clear();
    net.inject(Dir::ToLns, &copies[0]);
    net.inject(Dir::ToLns, &copies[1]);
    assert_eq!(net.lns.tunnel_count(), 1);
    let kinds: Vec<Option<MessageType>> = net.sent.iter().map(|(_, _, b)| kind(b)).collect();
    assert_eq!(
        kinds,
        [Some(MessageType::Sccrp), None],
        "SCCRP once, then a ZLB"
    );
    assert_eq!(net.lns.stats().duplicates, 1);
}

#[test]
fn sequence_numbers_wrap_around() {
    // Drive 70000 HELLO exchanges' worth of Ns through a tunnel quickly by shrinking the
    // HELLO interval; the 16-bit counters wrap and nothing breaks.
    let mut lac = lac_config(None);
    lac.hello_interval = Duration::from_secs(1);
    let mut net = Net::new(lac, lns_config(None));
    net.latency = Duration::from_micros(1);
    let (lt, nt) = net.establish();
    let hellos = std::rc::Rc::new(std::cell::Cell::new(0u32));
    let h = hellos.clone();
    net.filter = Some(Box::new(move |d, b| {
        if d == Dir::ToLns && kind(b) == Some(MessageType::Hello) {
            h.set(h.get() + 1);
        }
        Fate::Deliver
    }));
    assert!(net.run_until(Duration::from_secs(100_000), |_| hellos.get() > 66_000));
    net.sent.clear();
    let (ls, _) = {
        let s = net
            .lac
            .open_session(net.now, lt, CallInfo::default())
            .unwrap();
        assert!(
            net.run_until(Duration::from_secs(10), |n| !sessions_up(&n.lns_events)
                .is_empty())
        );
        (s, ())
    };
    assert!(net.lac.data_route(lt, ls).is_some());
    assert!(net.lns.is_established(nt));
    assert_eq!(net.lac.stats().retransmits, 0);
}

#[test]
fn replies_piggyback_the_ack_so_setup_needs_one_zlb() {
    let mut net = Net::new(lac_config(Some(SECRET)), lns_config(Some(SECRET)));
    net.establish();
    let seen: Vec<(Option<MessageType>, u16, u16)> = net
        .sent
        .iter()
        .map(|(_, _, b)| {
            let (ns, nr) = ns_nr(b);
            (kind(b), ns, nr)
        })
        .collect();
    assert_eq!(
        seen,
        [
            (Some(MessageType::Sccrq), 0, 0),
            (Some(MessageType::Sccrp), 0, 1),
            (Some(MessageType::Scccn), 1, 1),
            (None, 1, 2),
        ]
    );
}

/// A ZLB from the LAC acknowledging everything up to `nr` of LNS tunnel `tid`.
fn zlb(tid: TunnelId, ns: u16, nr: u16) -> Vec<u8> {
    let mut b = vec![0xc8, 0x02, 0, 12];
    for x in [tid.0, 0, ns, nr] {
        b.extend_from_slice(&x.to_be_bytes());
    }
    b
}

#[test]
fn tunnel_stuck_in_setup_is_cleared() {
    // The LAC acknowledges our SCCRP but never sends SCCCN.
    let mut net = Net::new(lac_config(None), lns_config(None));
    net.filter = Some(Box::new(|_, _| Fate::Drop));
    net.lac.connect(net.now, lns_addr()).unwrap();
    net.run_for(Duration::from_millis(10));
    let sccrq = net.sent[0].2.clone();
    net.inject(Dir::ToLns, &sccrq);
    let sccrp = decode(&net.sent.last().unwrap().2).unwrap();
    let tid = sccrp.assigned_tunnel_id().unwrap();
    net.inject(Dir::ToLns, &zlb(tid, 1, 1));
    net.run_for(Duration::from_secs(59));
    assert!(net
        .sent_messages(Dir::ToLac, MessageType::StopCcn)
        .is_empty());
    assert_eq!(net.lns.stats().retransmits, 0);
    net.run_for(Duration::from_secs(2));
    let stop = &net.sent_messages(Dir::ToLac, MessageType::StopCcn)[0];
    assert_eq!(stop.result_code().unwrap().result, 2);
}

#[test]
fn call_stuck_in_setup_is_cleared() {
    let (mut net, icrqs) = capture_icrqs(1);
    let lns_tunnel = tunnel_up(&net.lns_events).unwrap();
    net.inject(Dir::ToLns, &icrqs[0]);
    let (icrp_ns, _) = ns_nr(&net.sent[0].2);
    // Acknowledge the ICRP, never send the ICCN.
    let (icrq_ns, _) = ns_nr(&icrqs[0]);
    net.inject(Dir::ToLns, &zlb(lns_tunnel, icrq_ns + 1, icrp_ns + 1));
    net.run_for(Duration::from_secs(61));
    let cdn = &net.sent_messages(Dir::ToLac, MessageType::Cdn)[0];
    assert_eq!(
        cdn.result_code().unwrap().message.as_deref(),
        Some(&b"call setup timed out"[..])
    );
    assert!(net
        .lns_events
        .iter()
        .any(|e| matches!(e, Event::SessionDown { .. })));
}

#[test]
fn calls_stuck_in_setup_are_cleared_each_at_its_own_deadline() {
    // The engine keeps only a lower bound of the pending calls' start times (no scan of
    // every call per timer query): a second call that started 30 s later must survive the
    // first one's expiry and then expire on time itself.
    let (mut net, icrqs) = capture_icrqs(2);
    let lns_tunnel = tunnel_up(&net.lns_events).unwrap();
    let downs = |net: &Net| {
        net.lns_events
            .iter()
            .filter(|e| matches!(e, Event::SessionDown { .. }))
            .count()
    };
    let (icrq_ns, _) = ns_nr(&icrqs[0]);
    net.inject(Dir::ToLns, &icrqs[0]);
    let (icrp_ns, _) = ns_nr(&net.sent.last().unwrap().2);
    net.inject(Dir::ToLns, &zlb(lns_tunnel, icrq_ns + 1, icrp_ns + 1));
    net.run_for(Duration::from_secs(30));
    net.inject(Dir::ToLns, &icrqs[1]);
    net.inject(Dir::ToLns, &zlb(lns_tunnel, icrq_ns + 2, icrp_ns + 2));
    net.run_for(Duration::from_secs(29));
    assert_eq!(downs(&net), 0, "nothing expires before 60 s");
    net.run_for(Duration::from_secs(2));
    assert_eq!(
        downs(&net),
        1,
        "the first call expires at 60 s, the second is 30 s younger"
    );
    net.run_for(Duration::from_secs(27));
    assert_eq!(downs(&net), 1);
    net.run_for(Duration::from_secs(4));
    assert_eq!(downs(&net), 2, "the second call expires at its own 60 s");
}

#[test]
fn lac_call_is_up_only_once_its_iccn_is_acknowledged() {
    // PPP frames the LAC sends before the LNS has the ICCN would be dropped there (unknown
    // session) and cost a 3 s LCP restart: the LAC engine announces the call only once the
    // ICCN is acknowledged. Here the first ICCN is lost; its retransmission gets through.
    let mut net = Net::new(lac_config(None), lns_config(None));
    let (lt, _) = net.establish();
    let mut iccns_dropped = 0;
    net.filter = Some(Box::new(move |d, b| {
        if d == Dir::ToLns && kind(b) == Some(MessageType::Iccn) && iccns_dropped == 0 {
            iccns_dropped += 1;
            Fate::Drop
        } else {
            Fate::Deliver
        }
    }));
    net.lac
        .open_session(net.now, lt, CallInfo::default())
        .unwrap();
    net.run_for(Duration::from_millis(500));
    assert!(
        !net.sent_messages(Dir::ToLns, MessageType::Iccn).is_empty(),
        "the ICCN was sent"
    );
    assert!(
        sessions_up(&net.lac_events).is_empty(),
        "not up before the LNS has the ICCN"
    );
    assert!(sessions_up(&net.lns_events).is_empty());
    assert!(
        net.run_until(Duration::from_secs(5), |n| !sessions_up(&n.lac_events)
            .is_empty())
    );
    assert_eq!(
        sessions_up(&net.lns_events).len(),
        1,
        "the LNS had it first"
    );
    assert_eq!(net.sent_messages(Dir::ToLns, MessageType::Iccn).len(), 2);
}

#[test]
fn new_sccrq_from_a_restarted_lac_opens_a_new_tunnel() {
    let mut net = Net::new(lac_config(None), lns_config(None));
    net.establish();
    let sccrq = net.sent[0].2.clone();
    assert_eq!(kind(&sccrq), Some(MessageType::Sccrq));
    net.sent.clear();
    net.inject(Dir::ToLns, &sccrq);
    assert_eq!(net.lns.tunnel_count(), 2);
    assert_eq!(kind(&net.sent[0].2), Some(MessageType::Sccrp));
}
