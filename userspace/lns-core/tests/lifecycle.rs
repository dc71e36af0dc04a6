//! The session lifecycle of the LNS endpoint, in memory: our LAC composition ↔ lns-core ↔ a
//! RADIUS server on the `radius` codec, fake clock, as an unprivileged user.

mod common;

use std::net::Ipv4Addr;
use std::time::Duration;

use common::*;
use lns_core::{Command, Reply, Target};
use radius::{acct_status_type as status, acct_terminate_cause as cause, Attribute};

#[test]
fn pap_login_gets_a_pool_address_route_and_acct_start() {
    let mut w = World::new(config("set radius_authtypes pap\n"), 8);
    w.radius.add("alice", "pw", vec![]);
    let lac = w.add_lac(None);
    let call = w.login(lac, "alice", "pw").expect("alice up");
    let a = w.address(lac, call).unwrap();
    assert_eq!(a, POOL_START);
    assert!(w.routes.contains(&(a, 32)), "{:?}", w.routes);
    let r = w.radius.records("alice");
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].0, status::START);
    let s = w.sessions();
    assert_eq!(
        (s.len(), s[0].user.as_str(), s[0].address),
        (1, "alice", Some(a))
    );
}

#[test]
fn chap_login_and_wrong_password_rejected_with_nak_then_cdn() {
    let mut w = World::new(config("set radius_authtypes chap\n"), 8);
    w.radius.add("bob", "right", vec![]);
    let lac = w.add_lac(None);
    assert!(w.login(lac, "bob", "right").is_some(), "CHAP accept");
    let t = *w.lacs[lac].tunnel_up.iter().next().unwrap();
    let bad = w.call(lac, t, "bob", "wrong");
    w.run_until(Duration::from_secs(30), |w| w.lacs[lac].down.contains(&bad));
    assert!(
        w.lacs[lac].auth_failed.contains(&bad),
        "CHAP Failure seen by the peer"
    );
    assert!(
        w.lacs[lac].down.contains(&bad),
        "then the call is cleared (CDN)"
    );
    assert_eq!(w.lns.session_count(), 1);
    assert_eq!(
        w.radius.records("bob").len(),
        1,
        "no accounting for the reject"
    );
}

#[test]
fn pap_reject() {
    let mut w = World::new(config("set radius_authtypes pap\n"), 8);
    w.radius.add("carol", "right", vec![]);
    let lac = w.add_lac(None);
    assert!(w.login(lac, "carol", "wrong").is_none());
    let t = *w.lacs[lac].tunnel_up.iter().next().unwrap();
    let call = l2tp_ppp::CallId::new(t, w.lacs[lac].down.iter().next().unwrap().session);
    assert!(w.lacs[lac].auth_failed.contains(&call), "PAP Nak seen");
    assert_eq!(w.lns.session_count(), 0);
    let c = w.lns.handle_command(w.now, Command::ShowCounters);
    let Reply::Counters(c) = c else { panic!() };
    assert!(c.contains(&("auth_rejects".into(), 1)), "{c:?}");
    assert_eq!(
        w.lns.handle_command(w.now, Command::ClearCounters),
        Reply::CountersCleared
    );
    let Reply::Counters(c) = w.lns.handle_command(w.now, Command::ShowCounters) else {
        panic!()
    };
    assert!(c.iter().all(|(_, v)| *v == 0), "cleared: {c:?}");
    assert!(c.contains(&("auth_rejects".into(), 0)), "{c:?}");
}

#[test]
fn framed_ip_address_and_framed_route() {
    let mut w = World::new(config(""), 8);
    w.radius.add(
        "static",
        "pw",
        vec![
            Attribute::FramedIpAddress(Ipv4Addr::new(198, 51, 100, 7)),
            Attribute::FramedRoute(b"203.0.113.0/24 0.0.0.0 1".to_vec()),
        ],
    );
    let lac = w.add_lac(None);
    let call = w.login(lac, "static", "pw").unwrap();
    assert_eq!(w.address(lac, call), Some(Ipv4Addr::new(198, 51, 100, 7)));
    assert!(w.routes.contains(&(Ipv4Addr::new(198, 51, 100, 7), 32)));
    assert!(w.routes.contains(&(Ipv4Addr::new(203, 0, 113, 0), 24)));
    // The data plane sends a packet for the routed prefix to this session.
    let view = w.lns.data_plane();
    let pin = view.pin();
    let path = pin.by_destination(Ipv4Addr::new(203, 0, 113, 99)).unwrap();
    let route = w.lacs[lac]
        .calls
        .engine()
        .data_route(call.tunnel, call.session)
        .unwrap();
    assert_eq!(
        (path.ids.tunnel, path.ids.session),
        (route.peer_tunnel_id, route.peer_session_id),
        "the routed prefix leads to this call"
    );
    drop(pin);
    // Hang-up: routes withdrawn, Acct-Stop User-Request.
    w.lacs[lac].calls.close_link(w.now, call, b"bye");
    w.run_until(Duration::from_secs(10), |w| w.lns.session_count() == 0);
    assert!(w.routes.is_empty(), "{:?}", w.routes);
    let r = w.radius.records("static");
    assert_eq!(r.last().unwrap().0, status::STOP);
    assert_eq!(
        terminate_cause(r.last().unwrap().1),
        Some(cause::USER_REQUEST)
    );
}

#[test]
fn sticky_pool_gives_a_user_its_address_again() {
    let mut w = World::new(config(""), 8);
    w.radius.add("u1", "pw", vec![]);
    w.radius.add("u2", "pw", vec![]);
    let lac = w.add_lac(None);
    let c1 = w.login(lac, "u1", "pw").unwrap();
    let a1 = w.address(lac, c1).unwrap();
    w.lacs[lac].calls.close_link(w.now, c1, b"bye");
    w.run_until(Duration::from_secs(10), |w| w.lns.session_count() == 0);
    let c2 = w.login(lac, "u2", "pw").unwrap();
    assert_ne!(
        w.address(lac, c2),
        Some(a1),
        "another user does not get u1's address"
    );
    let c1 = w.login(lac, "u1", "pw").unwrap();
    assert_eq!(w.address(lac, c1), Some(a1), "u1 gets its address back");
}

#[test]
fn session_timeout_ends_with_acct_stop_session_timeout() {
    let mut w = World::new(config(""), 8);
    w.radius.add("t", "pw", vec![Attribute::SessionTimeout(5)]);
    let lac = w.add_lac(None);
    let call = w.login(lac, "t", "pw").unwrap();
    let start = w.now;
    w.run_until(Duration::from_secs(20), |w| {
        w.lacs[lac].down.contains(&call)
    });
    assert!(w.lacs[lac].down.contains(&call));
    let took = w.now - start;
    assert!(
        took >= Duration::from_secs(5) && took < Duration::from_secs(8),
        "{took:?}"
    );
    let r = w.radius.records("t");
    assert_eq!(
        terminate_cause(r.last().unwrap().1),
        Some(cause::SESSION_TIMEOUT)
    );
}

#[test]
fn idle_timeout_counts_data_only() {
    let mut w = World::new(config(""), 8);
    w.radius.add("idle", "pw", vec![Attribute::IdleTimeout(10)]);
    let lac = w.add_lac(None);
    let call = w.login(lac, "idle", "pw").unwrap();
    // Echo replies keep answering; no data: ended after 10 s.
    w.run_until(Duration::from_secs(30), |w| {
        w.lacs[lac].down.contains(&call)
    });
    assert!(w.lacs[lac].down.contains(&call));
    let r = w.radius.records("idle");
    assert_eq!(
        terminate_cause(r.last().unwrap().1),
        Some(cause::IDLE_TIMEOUT)
    );
}

#[test]
fn interim_accounting_at_the_granted_interval() {
    let mut w = World::new(config(""), 8);
    w.radius
        .add("i", "pw", vec![Attribute::AcctInterimInterval(60)]);
    let lac = w.add_lac(None);
    w.login(lac, "i", "pw").unwrap();
    w.advance(Duration::from_secs(130));
    let kinds: Vec<u32> = w.radius.records("i").iter().map(|r| r.0).collect();
    assert_eq!(
        kinds,
        [
            status::START,
            status::INTERIM_UPDATE,
            status::INTERIM_UPDATE
        ]
    );
}

#[test]
fn duplicate_login_clears_the_older_session_unless_allowed_or_guest() {
    let mut w = World::new(config("set guest_account guest\n"), 8);
    w.radius.add("dup", "pw", vec![]);
    w.radius.add("guest", "pw", vec![]);
    let lac = w.add_lac(None);
    let first = w.login(lac, "dup", "pw").unwrap();
    let second = w.login(lac, "dup", "pw").unwrap();
    w.run_until(Duration::from_secs(10), |w| {
        w.lacs[lac].down.contains(&first)
    });
    assert!(w.lacs[lac].down.contains(&first), "older session cleared");
    assert!(w.lacs[lac].up.contains_key(&second));
    let stop = w.radius.records("dup");
    assert_eq!(
        stop.iter()
            .filter(|r| r.0 == status::STOP)
            .map(|r| terminate_cause(r.1))
            .collect::<Vec<_>>(),
        [Some(cause::ADMIN_RESET)]
    );
    let g1 = w.login(lac, "guest", "pw").unwrap();
    let g2 = w.login(lac, "guest", "pw").unwrap();
    w.advance(Duration::from_secs(3));
    assert!(w.lacs[lac].up.contains_key(&g1) && w.lacs[lac].up.contains_key(&g2));

    // allow_duplicate_users yes, through a reload.
    let reply = w.lns.handle_command(
        w.now,
        Command::Reload(Box::new(config(
            "set guest_account guest\nset allow_duplicate_users yes\n",
        ))),
    );
    assert!(
        matches!(&reply, Reply::Reconfigured { changed, .. } if changed.iter().any(|c| c == "allow_duplicate_users")),
        "{reply:?}"
    );
    let third = w.login(lac, "dup", "pw").unwrap();
    w.advance(Duration::from_secs(3));
    assert!(w.lacs[lac].up.contains_key(&second) && w.lacs[lac].up.contains_key(&third));
}

#[test]
fn drop_and_kill_by_command_and_drop_tunnel() {
    let mut w = World::new(config(""), 8);
    for u in ["a", "b", "c"] {
        w.radius.add(u, "pw", vec![]);
    }
    let lac = w.add_lac(None);
    let ca = w.login(lac, "a", "pw").unwrap();
    let cb = w.login(lac, "b", "pw").unwrap();
    let reply = w.lns.handle_command(
        w.now,
        Command::DropSession {
            target: Target::User("a".into()),
            reason: Some("abuse desk".into()),
        },
    );
    assert!(matches!(reply, Reply::Ended(ref e) if e.user == "a" && e.reason == "abuse desk"));
    w.run_until(Duration::from_secs(10), |w| w.lacs[lac].down.contains(&ca));
    assert!(w.lacs[lac].down.contains(&ca));
    let id = w.sessions()[0].id;
    let reply = w.lns.handle_command(
        w.now,
        Command::KillSession {
            target: Target::Session(id),
            reason: None,
        },
    );
    assert!(!reply.is_error());
    w.run_until(Duration::from_secs(10), |w| w.lacs[lac].down.contains(&cb));
    for u in ["a", "b"] {
        let r = w.radius.records(u);
        assert_eq!(
            terminate_cause(r.last().unwrap().1),
            Some(cause::ADMIN_RESET),
            "{u}"
        );
    }
    assert_eq!(
        w.lns.handle_command(
            w.now,
            Command::KillSession {
                target: Target::User("nobody".into()),
                reason: None
            }
        ),
        Reply::Error(lns_core::CommandError::NoSuchSession)
    );
    let cc = w.login(lac, "c", "pw").unwrap();
    let t = *w.lacs[lac].tunnel_up.iter().next().unwrap();
    let Reply::Tunnels(tunnels) = w.lns.handle_command(w.now, Command::ShowTunnels) else {
        panic!()
    };
    assert_eq!(tunnels.len(), 1);
    let reply = w.lns.handle_command(
        w.now,
        Command::DropTunnel {
            tunnel: tunnels[0].id,
        },
    );
    assert!(
        matches!(reply, Reply::TunnelCleared { sessions: 1, .. }),
        "{reply:?}"
    );
    w.run_until(Duration::from_secs(10), |w| {
        w.lacs[lac].tunnel_down.contains(&t)
    });
    assert!(w.lacs[lac].tunnel_down.contains(&t) && w.lacs[lac].down.contains(&cc));
    assert_eq!(w.lns.session_count(), 0);
}

#[test]
fn lossy_reordering_link_still_brings_every_session_up() {
    let link = Link {
        control_loss_percent: 20,
        control_delay_ms: (1, 40),
    };
    let mut w = World::with_link(config(""), 64, link);
    let lac = w.add_lac(None);
    let mut calls = Vec::new();
    let t = loop {
        if let Some(t) = w.tunnel(lac) {
            break t;
        }
    };
    for i in 0..20 {
        let u = format!("l{i}");
        w.radius.add(&u, "pw", vec![]);
        calls.push(w.call(lac, t, &u, "pw"));
    }
    w.run_until(Duration::from_secs(120), |w| {
        calls.iter().all(|c| w.lacs[lac].up.contains_key(c))
    });
    assert!(w.control_dropped > 0, "the link did drop control messages");
    let up = calls
        .iter()
        .filter(|c| w.lacs[lac].up.contains_key(c))
        .count();
    assert_eq!(up, 20, "{} dropped", w.control_dropped);
    assert_eq!(w.lns.session_count(), 20);
}

#[test]
fn clean_shutdown_sends_acct_stop_cdn_and_stopccn() {
    let mut w = World::new(config(""), 8);
    w.radius.add("s1", "pw", vec![]);
    w.radius.add("s2", "pw", vec![]);
    let lac = w.add_lac(None);
    w.login(lac, "s1", "pw").unwrap();
    w.login(lac, "s2", "pw").unwrap();
    let t = *w.lacs[lac].tunnel_up.iter().next().unwrap();
    w.lns.begin_shutdown(w.now);
    let done = w.run_until(Duration::from_secs(6), |w| w.lns.is_shut_down(w.now));
    assert!(done);
    assert!(
        w.lacs[lac].tunnel_down.contains(&t),
        "StopCCN reached the LAC"
    );
    for u in ["s1", "s2"] {
        let r = w.radius.records(u);
        assert_eq!(r.last().unwrap().0, status::STOP);
        assert_eq!(
            terminate_cause(r.last().unwrap().1),
            Some(cause::ADMIN_REBOOT)
        );
    }
    assert_eq!(w.lns.session_count(), 0);
}

#[test]
fn a_long_listing_comes_in_pages_that_cover_every_session_once() {
    let mut w = World::new(config("set radius_authtypes pap\n"), 8);
    let lac = w.add_lac(None);
    for i in 0..5 {
        let user = format!("u{i}");
        w.radius.add(&user, "pw", vec![]);
        w.login(lac, &user, "pw").expect("up");
    }
    let mut seen = Vec::new();
    let mut from = 0;
    let mut pages = 0;
    loop {
        let Reply::SessionsPage { sessions, next } = w
            .lns
            .handle_command(w.now, Command::ShowSessionsPage { from, limit: 2 })
        else {
            panic!("not a page")
        };
        pages += 1;
        assert!(sessions.len() <= 2);
        assert!(sessions.iter().all(|s| s.id >= from));
        seen.extend(sessions.iter().map(|s| (s.id, s.user.clone())));
        match next {
            Some(n) => {
                assert!(n > from, "pages advance");
                from = n;
            }
            None => break,
        }
    }
    assert_eq!(pages, 3);
    let all: Vec<(u32, String)> = w.sessions().into_iter().map(|s| (s.id, s.user)).collect();
    assert_eq!(seen, all, "every session once, in id order");
    let id = all[3].0;
    let Reply::Sessions(one) = w.lns.handle_command(w.now, Command::ShowSession(id)) else {
        panic!()
    };
    assert_eq!((one.len(), one[0].id), (1, id));
    assert!(w
        .lns
        .handle_command(w.now, Command::ShowSession(id + 1000))
        .is_error());
}

/// What the metrics listener exports about set-ups: sessions opened, refusals by reason,
/// and the RADIUS clients' counters with their round-trip times.
#[test]
fn set_ups_and_their_failures_are_counted_by_reason() {
    let mut w = World::new(config("set radius_authtypes pap\n"), 1);
    w.radius.add("first", "pw", vec![]);
    w.radius.add("second", "pw", vec![]);
    let lac = w.add_lac(None);
    assert!(w.login(lac, "first", "pw").is_some());
    // The one pool address is taken: the second login is refused for want of one.
    assert!(w.login(lac, "second", "pw").is_none());
    assert!(w.login(lac, "first", "wrong").is_none());
    let Reply::Counters(c) = w.lns.handle_command(w.now, Command::ShowCounters) else {
        panic!()
    };
    let get = |n: &str| c.iter().find(|(k, _)| k == n).map(|(_, v)| *v);
    assert_eq!(get("sessions_opened"), Some(1), "{c:?}");
    assert_eq!(get("pool_exhausted"), Some(1), "{c:?}");
    assert_eq!(get("auth_rejects"), Some(1), "{c:?}");
    assert_eq!(get("auth_timeouts"), Some(0), "{c:?}");
    assert_eq!(get("address_refused"), Some(0), "{c:?}");
    let (auth, acct) = w.lns.radius_stats().expect("RADIUS configured");
    assert_eq!((auth.requests, auth.responses), (3, 3));
    assert_eq!(auth.rtt.count, 3, "every answer came to a first send");
    assert!(acct.requests >= 1, "Acct-Start of the first");
}

#[test]
fn show_pool_addresses_names_the_holder_and_the_sticky_user() {
    let mut w = World::new(config("set radius_authtypes pap\n"), 4);
    for u in ["alice", "bob"] {
        w.radius.add(u, "pw", vec![]);
    }
    let lac = w.add_lac(None);
    w.login(lac, "alice", "pw").expect("alice up");
    let bob = w.login(lac, "bob", "pw").expect("bob up");
    let bob_address = w.address(lac, bob).unwrap();
    let bob_id = w.sessions().iter().find(|s| s.user == "bob").unwrap().id;
    w.lns.handle_command(
        w.now,
        Command::KillSession {
            target: Target::Session(bob_id),
            reason: None,
        },
    );
    w.run_until(Duration::from_secs(5), |w| w.lns.session_count() == 1);
    let pool = |w: &mut World, all| match w
        .lns
        .handle_command(w.now, Command::ShowPoolAddresses { all })
    {
        Reply::PoolAddresses { summary, addresses } => (summary, addresses),
        other => panic!("{other:?}"),
    };
    let (summary, used) = pool(&mut w, false);
    assert_eq!((summary.size, summary.free), (4, 3));
    assert_eq!(used.len(), 1);
    assert_eq!(used[0].user.as_deref(), Some("alice"));
    assert!(used[0].in_use && used[0].session.is_some());
    let (_, all) = pool(&mut w, true);
    assert_eq!(all.len(), 4);
    let freed = all.iter().find(|a| a.address == bob_address).unwrap();
    assert!(!freed.in_use && freed.session.is_none());
    assert_eq!(
        freed.user.as_deref(),
        Some("bob"),
        "sticky to its last user"
    );
}
