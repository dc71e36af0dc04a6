//! RADIUS Dynamic Authorization (RFC 5176) through the endpoint, in memory: a DAC (the
//! RADIUS server's address, or a `radius_dae_clients` one) sends Disconnect- and
//! CoA-Requests to `Endpoint::handle_dae`; the LAC sees the CDN and the RADIUS server the
//! Acct-Stop.

mod common;

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use common::*;
use l2tp_ppp::CallId;
use lns_core::{Command, CommandError, Reply, SessionMatch};
use radius::{acct_status_type as status, acct_terminate_cause as cause, Attribute, Code, Vsa};

fn dac() -> SocketAddr {
    SocketAddr::from((RADIUS, 40000))
}

fn counter(w: &mut World, name: &str) -> u64 {
    let Reply::Counters(c) = w.lns.handle_command(w.now, Command::ShowCounters) else {
        panic!()
    };
    c.iter()
        .find(|(k, _)| k == name)
        .unwrap_or_else(|| panic!("no counter {name}: {c:?}"))
        .1
}

/// The Acct-Terminate-Cause of the user's Acct-Stop, if one was sent.
fn stop_cause(w: &World, user: &str) -> Option<u32> {
    w.radius
        .records(user)
        .iter()
        .find(|(s, _)| *s == status::STOP)
        .and_then(|(_, p)| terminate_cause(p))
}

/// A world with `users` logged in on one LAC; returns it and their calls.
fn world(extra: &str, users: &[&str]) -> (World, Vec<CallId>) {
    let mut w = World::new(config(extra), 16);
    let lac = w.add_lac(None);
    let mut calls = Vec::new();
    for u in users {
        w.radius.add(u, "pw", vec![]);
        calls.push(w.login(lac, u, "pw").unwrap_or_else(|| panic!("{u} up")));
    }
    (w, calls)
}

fn session_of(w: &mut World, user: &str) -> lns_core::command::SessionInfo {
    w.sessions()
        .into_iter()
        .find(|s| s.user == user)
        .unwrap_or_else(|| panic!("{user} has no session"))
}

fn assert_disconnected(w: &mut World, call: CallId, user: &str) {
    assert!(
        w.run_until(Duration::from_secs(5), |w| w.lacs[0].down.contains(&call)),
        "the LAC saw the CDN for {user}"
    );
    assert_eq!(
        stop_cause(w, user),
        Some(cause::ADMIN_RESET),
        "Acct-Stop Admin-Reset for {user}"
    );
    assert!(w.sessions().iter().all(|s| s.user != user), "{user} gone");
}

#[test]
fn disconnect_by_each_identification_attribute() {
    let (mut w, calls) = world("", &["alice", "bob", "carol", "dave"]);
    let bob = session_of(&mut w, "bob");
    let carol = session_of(&mut w, "carol");
    let dave = session_of(&mut w, "dave");
    let by = [
        ("alice", Attribute::UserName(b"alice".to_vec())),
        (
            "bob",
            Attribute::AcctSessionId(bob.acct_session_id.into_bytes()),
        ),
        ("carol", Attribute::FramedIpAddress(carol.address.unwrap())),
        ("dave", Attribute::NasPort(dave.id)),
    ];
    for (i, (user, attribute)) in by.into_iter().enumerate() {
        let reply = w
            .dae(dac(), SECRET, Code::DisconnectRequest, vec![attribute])
            .expect("an answer");
        assert_eq!(reply.code, Code::DisconnectAck, "{user}");
        assert_disconnected(&mut w, calls[i], user);
        // The others are untouched.
        assert_eq!(w.sessions().len(), 3 - i);
    }
    assert_eq!(counter(&mut w, "dae_acks"), 4);
    assert_eq!(counter(&mut w, "dae_requests"), 4);
}

#[test]
fn every_attribute_must_name_the_same_session() {
    let (mut w, calls) = world("", &["alice", "bob"]);
    let bob = session_of(&mut w, "bob");
    let reply = w
        .dae(
            dac(),
            SECRET,
            Code::DisconnectRequest,
            vec![
                Attribute::UserName(b"alice".to_vec()),
                Attribute::FramedIpAddress(bob.address.unwrap()),
            ],
        )
        .unwrap();
    assert_eq!(reply.code, Code::DisconnectNak);
    assert_eq!(
        error_cause(&reply),
        Some(radius::error_cause::SESSION_CONTEXT_NOT_FOUND)
    );
    assert_eq!(w.sessions().len(), 2, "nothing ended");
    // Both of alice's own: ACK.
    let alice = session_of(&mut w, "alice");
    let reply = w
        .dae(
            dac(),
            SECRET,
            Code::DisconnectRequest,
            vec![
                Attribute::UserName(b"alice".to_vec()),
                Attribute::FramedIpAddress(alice.address.unwrap()),
                Attribute::NasPort(alice.id),
                // NAS identification: what we send in Access-Requests.
                Attribute::NasIpAddress(Ipv4Addr::new(192, 0, 2, 2)),
                Attribute::NasIdentifier(b"lns".to_vec()),
            ],
        )
        .unwrap();
    assert_eq!(reply.code, Code::DisconnectAck);
    assert_disconnected(&mut w, calls[0], "alice");
}

#[test]
fn user_name_alone_disconnects_all_the_users_sessions() {
    let (mut w, calls) = world("set allow_duplicate_users yes\n", &["eve", "eve", "frank"]);
    assert_eq!(w.sessions().len(), 3);
    let reply = w
        .dae(
            dac(),
            SECRET,
            Code::DisconnectRequest,
            vec![Attribute::UserName(b"eve".to_vec())],
        )
        .unwrap();
    assert_eq!(reply.code, Code::DisconnectAck);
    w.run_until(Duration::from_secs(5), |w| {
        w.lacs[0].down.contains(&calls[0]) && w.lacs[0].down.contains(&calls[1])
    });
    assert!(w.lacs[0].down.contains(&calls[0]) && w.lacs[0].down.contains(&calls[1]));
    let stops = w
        .radius
        .records("eve")
        .iter()
        .filter(|(s, p)| *s == status::STOP && terminate_cause(p) == Some(cause::ADMIN_RESET))
        .count();
    assert_eq!(stops, 2);
    let left = w.sessions();
    assert_eq!((left.len(), left[0].user.as_str()), (1, "frank"));
}

#[test]
fn unknown_session_is_nak_503_for_disconnect_and_coa() {
    let (mut w, _) = world("", &["alice"]);
    for (code, nak) in [
        (Code::DisconnectRequest, Code::DisconnectNak),
        (Code::CoaRequest, Code::CoaNak),
    ] {
        let reply = w
            .dae(
                dac(),
                SECRET,
                code,
                vec![Attribute::UserName(b"nobody".to_vec())],
            )
            .unwrap();
        assert_eq!(reply.code, nak);
        assert_eq!(
            error_cause(&reply),
            Some(radius::error_cause::SESSION_CONTEXT_NOT_FOUND)
        );
    }
    // Attributes none of our sessions has (IPv6, NAS-Port-Id) match none either.
    let reply = w
        .dae(
            dac(),
            SECRET,
            Code::DisconnectRequest,
            vec![
                Attribute::UserName(b"alice".to_vec()),
                Attribute::NasPortId(b"eth0".to_vec()),
            ],
        )
        .unwrap();
    assert_eq!(
        error_cause(&reply),
        Some(radius::error_cause::SESSION_CONTEXT_NOT_FOUND)
    );
    assert_eq!(w.sessions().len(), 1);
    assert_eq!(counter(&mut w, "dae_naks"), 3);
}

#[test]
fn coa_session_timeout_ends_the_session_that_long_from_now() {
    let (mut w, calls) = world("", &["alice", "bob"]);
    w.advance(Duration::from_secs(30));
    let reply = w
        .dae(
            dac(),
            SECRET,
            Code::CoaRequest,
            vec![
                Attribute::UserName(b"alice".to_vec()),
                Attribute::SessionTimeout(5),
            ],
        )
        .unwrap();
    assert_eq!(reply.code, Code::CoaAck);
    w.advance(Duration::from_secs(4));
    assert!(!w.lacs[0].down.contains(&calls[0]), "still up after 4 s");
    assert!(
        w.run_until(Duration::from_secs(10), |w| w.lacs[0]
            .down
            .contains(&calls[0])),
        "ended after Session-Timeout"
    );
    assert_eq!(stop_cause(&w, "alice"), Some(cause::SESSION_TIMEOUT));
    assert!(!w.lacs[0].down.contains(&calls[1]), "bob untouched");
}

#[test]
fn coa_idle_timeout_applies_and_zero_removes_a_session_timeout() {
    let (mut w, calls) = world("", &["alice"]);
    w.radius
        .add("bob", "pw", vec![Attribute::SessionTimeout(20)]);
    let bob = w.login(0, "bob", "pw").expect("bob up");
    let reply = w
        .dae(
            dac(),
            SECRET,
            Code::CoaRequest,
            vec![
                Attribute::UserName(b"bob".to_vec()),
                Attribute::SessionTimeout(0),
            ],
        )
        .unwrap();
    assert_eq!(reply.code, Code::CoaAck);
    let reply = w
        .dae(
            dac(),
            SECRET,
            Code::CoaRequest,
            vec![
                Attribute::UserName(b"alice".to_vec()),
                Attribute::IdleTimeout(30),
            ],
        )
        .unwrap();
    assert_eq!(reply.code, Code::CoaAck);
    // alice sends no data: idle 30 s after she came up.
    assert!(w.run_until(Duration::from_secs(40), |w| w.lacs[0]
        .down
        .contains(&calls[0])));
    assert_eq!(stop_cause(&w, "alice"), Some(cause::IDLE_TIMEOUT));
    w.advance(Duration::from_secs(20));
    assert!(
        !w.lacs[0].down.contains(&bob),
        "bob's Session-Timeout was removed"
    );
}

#[test]
fn coa_with_an_unknown_filter_id_is_nak_407_and_changes_nothing() {
    let (mut w, calls) = world("load plugin \"autothrottle\"\n", &["alice"]);
    let reply = w
        .dae(
            dac(),
            SECRET,
            Code::CoaRequest,
            vec![
                Attribute::UserName(b"alice".to_vec()),
                Attribute::SessionTimeout(2),
                Attribute::FilterId(b"no-such-list.in".to_vec()),
                Attribute::VendorSpecific(Vsa::CiscoAvPair(b"throttle=yes".to_vec())),
            ],
        )
        .unwrap();
    assert_eq!(reply.code, Code::CoaNak);
    assert_eq!(
        error_cause(&reply),
        Some(radius::error_cause::INVALID_ATTRIBUTE_VALUE)
    );
    assert!(!session_of(&mut w, "alice").policy.is_throttled());
    w.advance(Duration::from_secs(10));
    assert!(
        !w.lacs[0].down.contains(&calls[0]),
        "the Session-Timeout of the refused CoA was not applied"
    );
}

#[test]
fn coa_applies_filter_ids_and_cisco_avpairs_after_the_plugins_reset() {
    let acl = "ip access-list extended web\n permit tcp any any eq 80\nexit\n";
    let (mut w, _) = world(
        &format!("load plugin \"autothrottle\"\nload plugin \"autosnoop\"\n{acl}"),
        &["alice"],
    );
    let coa = |w: &mut World, extra: Vec<Attribute>| {
        let mut attrs = vec![Attribute::UserName(b"alice".to_vec())];
        attrs.extend(extra);
        w.dae(dac(), SECRET, Code::CoaRequest, attrs).unwrap().code
    };
    let code = coa(
        &mut w,
        vec![
            Attribute::FilterId(b"web.out".to_vec()),
            Attribute::VendorSpecific(Vsa::CiscoAvPair(b"throttle=2048".to_vec())),
            Attribute::VendorSpecific(Vsa::CiscoAvPair(b"intercept=192.0.2.99:5000".to_vec())),
        ],
    );
    assert_eq!(code, Code::CoaAck);
    let p = session_of(&mut w, "alice").policy;
    assert_eq!((p.throttle_in, p.throttle_out), (Some(2048), Some(2048)));
    assert_eq!(p.snoop, Some("192.0.2.99:5000".parse().unwrap()));
    assert_eq!(p.filter_out.as_deref(), Some("web"));
    // A CoA without them resets: no throttle, no interception, no filter.
    assert_eq!(
        coa(&mut w, vec![Attribute::SessionTimeout(600)]),
        Code::CoaAck
    );
    let p = session_of(&mut w, "alice").policy;
    assert_eq!(p, lns_core::Policy::default(), "{p:?}");
}

#[test]
fn unknown_source_wrong_secret_and_missing_message_authenticator_get_no_answer() {
    let (mut w, _) = world("set radius_dae_clients 192.0.2.60\n", &["alice"]);
    let user = || vec![Attribute::UserName(b"nobody".to_vec())];
    let stranger = SocketAddr::from((Ipv4Addr::new(192, 0, 2, 99), 40000));
    assert!(w
        .dae(stranger, SECRET, Code::DisconnectRequest, user())
        .is_none());
    assert_eq!(counter(&mut w, "dae_dropped_unknown_source"), 1);
    assert!(w
        .dae(dac(), "wrong", Code::DisconnectRequest, user())
        .is_none());
    assert_eq!(counter(&mut w, "dae_dropped_bad_authenticator"), 1);
    // Without a Message-Authenticator (required by default).
    let mut p = radius::Packet::new(Code::DisconnectRequest, 9);
    p.attributes = user();
    let bytes = p.encode_signed(SECRET.as_bytes(), None).unwrap();
    w.lns.handle_dae(w.now, dac(), &bytes);
    w.settle();
    assert!(w.dae_sent.is_empty(), "nothing was answered");
    assert_eq!(counter(&mut w, "dae_dropped_no_message_authenticator"), 1);
    // Garbage is counted and dropped.
    w.lns.handle_dae(w.now, dac(), &[40, 1, 0]);
    assert_eq!(counter(&mut w, "dae_dropped_malformed"), 1);
    // The extra client of radius_dae_clients is heard.
    let extra = SocketAddr::from((Ipv4Addr::new(192, 0, 2, 60), 3000));
    let reply = w
        .dae(extra, SECRET, Code::DisconnectRequest, user())
        .unwrap();
    assert_eq!(reply.code, Code::DisconnectNak);
    assert_eq!(w.sessions().len(), 1);
}

#[test]
fn message_authenticator_can_be_optional_and_dae_follows_a_reload() {
    let (mut w, calls) = world(
        "set radius_dae_require_message_authenticator no\n",
        &["alice"],
    );
    let mut p = radius::Packet::new(Code::DisconnectRequest, 9);
    p.attributes = vec![Attribute::UserName(b"alice".to_vec())];
    let bytes = p.encode_signed(SECRET.as_bytes(), None).unwrap();
    w.lns.handle_dae(w.now, dac(), &bytes);
    w.settle();
    assert_eq!(w.dae_sent.len(), 1);
    assert_eq!(w.dae_sent[0].1[0], Code::DisconnectAck.to_u8());
    assert_disconnected(&mut w, calls[0], "alice");
    // A client added by `set` is heard at once.
    let extra = SocketAddr::from((Ipv4Addr::new(192, 0, 2, 61), 3000));
    let user = || vec![Attribute::UserName(b"nobody".to_vec())];
    assert!(w.dae(extra, SECRET, Code::CoaRequest, user()).is_none());
    let r = w.lns.handle_command(
        w.now,
        Command::Set {
            key: "radius_dae_clients".into(),
            value: "192.0.2.61".into(),
        },
    );
    assert!(!r.is_error(), "{r:?}");
    assert_eq!(
        w.dae(extra, SECRET, Code::CoaRequest, user()).unwrap().code,
        Code::CoaNak
    );
}

#[test]
fn nas_identification_of_another_nas_is_nak_403() {
    let (mut w, _) = world("", &["alice"]);
    for other in [
        Attribute::NasIpAddress(Ipv4Addr::new(192, 0, 2, 3)),
        Attribute::NasIdentifier(b"other-lns".to_vec()),
    ] {
        let reply = w
            .dae(
                dac(),
                SECRET,
                Code::DisconnectRequest,
                vec![Attribute::UserName(b"alice".to_vec()), other],
            )
            .unwrap();
        assert_eq!(
            error_cause(&reply),
            Some(radius::error_cause::NAS_IDENTIFICATION_MISMATCH)
        );
    }
    assert_eq!(w.sessions().len(), 1);
}

#[test]
fn the_commands_behind_dae_are_the_command_models() {
    let (mut w, calls) = world("", &["alice"]);
    // An empty selection names nothing (never every session).
    let r = w.lns.handle_command(
        w.now,
        Command::DisconnectSessions {
            sessions: SessionMatch::default(),
            reason: None,
        },
    );
    assert_eq!(r, Reply::Error(CommandError::NoSuchSession));
    let r = w.lns.handle_command(
        w.now,
        Command::DisconnectSessions {
            sessions: SessionMatch {
                user: Some("alice".into()),
                ..SessionMatch::default()
            },
            reason: Some("test".into()),
        },
    );
    let Reply::EndedSessions(ended) = r else {
        panic!("{r:?}")
    };
    assert_eq!((ended.len(), ended[0].user.as_str()), (1, "alice"));
    w.settle();
    assert_disconnected(&mut w, calls[0], "alice");
}
