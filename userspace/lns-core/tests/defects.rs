//! The defects a real LAC and an outsider found, each shown in memory: these failed before
//! the fixes in the same change.

mod common;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::Ordering;
use std::time::Duration;

use common::*;
use l2tp::{CallInfo, SessionId, TunnelId};
use lns_core::Command;
use lns_dataplane::data_plane::Drop;
use radius::{acct_terminate_cause as cause, Attribute};

/// An L2TP data message (no sequence numbers) carrying an IPv4 packet in PPP.
fn data_message(tunnel: TunnelId, session: SessionId, ip: &[u8]) -> Vec<u8> {
    let mut d = vec![0x00, 0x02];
    d.extend_from_slice(&tunnel.get().to_be_bytes());
    d.extend_from_slice(&session.get().to_be_bytes());
    d.extend_from_slice(&[0xff, 0x03, 0x00, 0x21]);
    d.extend_from_slice(ip);
    d
}

#[test]
fn data_for_a_live_session_is_taken_only_from_its_tunnels_peer() {
    let mut w = World::new(config(""), 8);
    w.radius.add("victim", "pw", vec![]);
    let lac = w.add_lac(None);
    let call = w.login(lac, "victim", "pw").unwrap();
    let user = w.address(lac, call).unwrap();
    // The LNS's ids of the call, as the LAC addresses it.
    let route = w.lacs[lac]
        .calls
        .engine()
        .data_route(call.tunnel, call.session)
        .unwrap();
    let (t, s) = (route.peer_tunnel_id, route.peer_session_id);
    let ip = ipv4(user, Ipv4Addr::new(198, 51, 100, 1), 10);
    let before = w.tun.len();
    // From the LAC itself: forwarded.
    w.deliver_to_lns(w.lacs[lac].addr, &data_message(t, s, &ip));
    assert_eq!(w.tun.len(), before + 1, "the LAC's own data is forwarded");
    // From a second address on the LAC's network, and from the LAC's address on another
    // port: counted and dropped, on the data plane and on the control path alike.
    let forged: [SocketAddr; 2] = ["192.0.2.99:1701".parse().unwrap(), {
        let mut a = w.lacs[lac].addr;
        a.set_port(4444);
        a
    }];
    for from in forged {
        w.deliver_to_lns(from, &data_message(t, s, &ip));
        // The endpoint's slow path (a session not yet published) refuses it too.
        w.lns.handle_l2tp(w.now, 0, from, &data_message(t, s, &ip));
        w.settle();
    }
    assert_eq!(w.tun.len(), before + 1, "forged data reached the server");
    assert_eq!(w.data_plane.wrong_peer.load(Ordering::Relaxed), 2);
    let lines = w.lns.handle_command(w.now, Command::ShowCounters).lines();
    assert!(lines.contains(&"l2tp_wrong_peer=2".to_owned()), "{lines:?}");
}

#[test]
fn a_sequenced_call_is_published_and_its_data_numbered() {
    let mut w = World::new(config(""), 8);
    w.radius.add("seq", "pw", vec![]);
    let lac = w.add_lac(None);
    let t = w.tunnel(lac).unwrap();
    let info = CallInfo {
        sequencing_required: true,
        ..CallInfo::default()
    };
    let call = w.call_with(lac, t, "seq", "pw", info);
    w.run_until(Duration::from_secs(30), |w| {
        w.lacs[lac].up.contains_key(&call)
    });
    let user = w.address(lac, call).expect("up");
    // Upstream: the data plane takes it (counted, as every published session's).
    let route = w.lacs[lac]
        .calls
        .engine()
        .data_route(call.tunnel, call.session)
        .unwrap();
    assert!(route.sequencing);
    let ip = ipv4(user, Ipv4Addr::new(198, 51, 100, 1), 20);
    let before = w.tun.len();
    let frame = ppp::frame::encode_frame(ppp::frame::protocol::IPV4, &ip, false, false);
    w.lacs[lac].calls.send_ipv4(call, &ip).unwrap();
    let _ = frame;
    w.advance(Duration::from_millis(10));
    assert_eq!(
        w.tun.len(),
        before + 1,
        "upstream data of the sequenced call forwarded"
    );
    let s = &w.sessions()[0];
    assert!(s.packets_in >= 1, "and counted: {s:?}");
    // Downstream: not an ICMP unreachable (no session) but the engine's numbered data.
    let down = ipv4(Ipv4Addr::new(198, 51, 100, 1), user, 30);
    assert_eq!(w.send_to_user(&down), Err(Drop::Sequenced));
    w.advance(Duration::from_millis(10));
    assert_eq!(
        w.lacs[lac].received.get(&call).map(Vec::len),
        Some(1),
        "the user got the packet"
    );
    assert!(w.sessions()[0].packets_out >= 1);
}

#[test]
fn reload_applies_the_l2tp_secret_and_host_name_to_the_engine() {
    let mut w = World::new(config("set l2tp_secret old-secret\n"), 8);
    let new_lac = w.add_lac(Some("new-secret"));
    assert!(w.tunnel(new_lac).is_none(), "wrong tunnel secret refused");
    w.lns.handle_command(
        w.now,
        Command::Reload(Box::new(config(
            "set l2tp_secret new-secret\nset hostname lns-two\n",
        ))),
    );
    let again = w.add_lac(Some("new-secret"));
    assert!(
        w.tunnel(again).is_some(),
        "the reloaded secret is the engine's"
    );
    let old = w.add_lac(Some("old-secret"));
    assert!(w.tunnel(old).is_none(), "the old secret no longer works");
    assert_eq!(w.lns.host_name(), "lns-two");
}

#[test]
fn idle_echo_timeout_acts_without_ppp_keepalive_too() {
    let mut w = World::new(
        config("set ppp_keepalive no\nset idle_echo_timeout 15\n"),
        8,
    );
    w.radius.add("mute", "pw", vec![]);
    let lac = w.add_lac(None);
    let call = w.login(lac, "mute", "pw").unwrap();
    w.lacs[lac].calls.set_ignore_echo_requests(true);
    let start = w.now;
    w.run_until(Duration::from_secs(60), |w| {
        w.lacs[lac].down.contains(&call)
    });
    assert!(w.lacs[lac].down.contains(&call), "a silent user is cleared");
    let took = w.now - start;
    assert!(took <= Duration::from_secs(20), "{took:?}");
    let r = w.radius.records("mute");
    assert_eq!(
        terminate_cause(r.last().unwrap().1),
        Some(cause::LOST_CARRIER)
    );
}

#[test]
fn l2tp_result_messages_and_sessions_read_as_text_in_logs() {
    let rc = l2tp::ResultCode::with_error(2, 6, "Goodbye!");
    assert_eq!(rc.to_string(), "result 2, error 6: Goodbye!");
    let cause = l2tp::CloseCause::Peer(l2tp::ResultCode::new(1));
    assert_eq!(cause.to_string(), "closed by the peer (result 1)");
    let _ = Attribute::SessionTimeout(1);
}
