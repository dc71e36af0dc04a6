//! Proxy LCP and proxy authentication (RFC 2661 §4.4.5) from our LAC, and SIGTERM snapshot
//! and resume, in memory.

mod common;

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use common::*;
use l2tp::CallInfo;
use lns_core::{Command, Reply};
use ppp::lcp::AuthMethod;
use ppp::session::SessionConfig;
use radius::{acct_status_type as status, Attribute};

/// A call whose LCP and authentication our LAC already ran with the client, handed over
/// in the ICCN.
fn proxied_call(
    w: &mut World,
    lac: usize,
    user: &str,
    password: &str,
    method: AuthMethod,
) -> l2tp_ppp::CallId {
    let t = w.tunnel(lac).unwrap();
    let mut client = SessionConfig::peer(user.as_bytes(), password.as_bytes());
    client.echo_interval = None;
    let mut lac_side = SessionConfig::authenticator(b"lac", Ipv4Addr::new(192, 0, 2, 1));
    lac_side.lcp.auth = vec![method];
    let (link, values) =
        l2tp_lac::proxy::negotiate(Instant::now(), client, [1; 16], lac_side, [2; 16]).unwrap();
    let mut info = CallInfo::default();
    values.apply(&mut info, false);
    let s = w.lacs[lac]
        .calls
        .open_proxied_session(w.now, t, info, link)
        .unwrap();
    l2tp_ppp::CallId::new(t, s)
}

fn counter(w: &mut World, name: &str) -> u64 {
    let Reply::Counters(c) = w.lns.handle_command(w.now, Command::ShowCounters) else {
        panic!()
    };
    c.iter().find(|(k, _)| k == name).map(|(_, v)| *v).unwrap()
}

#[test]
fn proxy_lcp_and_proxy_authentication_are_taken_with_on_mismatch() {
    for method in [AuthMethod::Pap, AuthMethod::ChapMd5] {
        let mut w = World::new(
            config("set lcp_renegotiation on-mismatch\nset radius_authtypes \"pap,chap\"\n"),
            8,
        );
        w.radius.add("proxied", "pw", vec![]);
        let lac = w.add_lac(None);
        let call = proxied_call(&mut w, lac, "proxied", "pw", method);
        w.run_until(Duration::from_secs(30), |w| {
            w.lacs[lac].up.contains_key(&call)
        });
        assert!(
            w.lacs[lac].up.contains_key(&call),
            "{method:?}: up on the proxy"
        );
        assert_eq!(counter(&mut w, "proxy_lcp_accepted"), 1);
        assert_eq!(
            w.lacs[lac].calls.stats().lcp_confreqs_received,
            0,
            "{method:?}: the LNS did not renegotiate LCP"
        );
        assert_eq!(w.radius.records("proxied")[0].0, status::START);
    }
}

#[test]
fn proxy_authentication_with_a_wrong_password_is_rejected() {
    let mut w = World::new(
        config("set lcp_renegotiation on-mismatch\nset radius_authtypes \"pap,chap\"\n"),
        8,
    );
    w.radius.add("proxied", "right", vec![]);
    let lac = w.add_lac(None);
    let call = proxied_call(&mut w, lac, "proxied", "wrong", AuthMethod::ChapMd5);
    w.run_until(Duration::from_secs(30), |w| {
        w.lacs[lac].down.contains(&call)
    });
    assert!(
        w.lacs[lac].auth_failed.contains(&call),
        "CHAP Failure on the proxied identifier"
    );
    assert!(w.lacs[lac].down.contains(&call), "then CDN");
    assert_eq!(w.lns.session_count(), 0);
}

#[test]
fn lcp_renegotiation_always_ignores_the_proxy() {
    let mut w = World::new(config("set lcp_renegotiation always\n"), 8);
    w.radius.add("proxied", "pw", vec![]);
    let lac = w.add_lac(None);
    let call = proxied_call(&mut w, lac, "proxied", "pw", AuthMethod::Pap);
    w.run_until(Duration::from_secs(30), |w| {
        w.lacs[lac].up.contains_key(&call)
    });
    assert!(w.lacs[lac].up.contains_key(&call));
    assert_eq!(counter(&mut w, "proxy_lcp_accepted"), 0);
    assert!(
        w.lacs[lac].calls.stats().lcp_confreqs_received > 0,
        "LCP renegotiated"
    );
}

#[test]
fn snapshot_and_resume_keep_every_session_without_a_word_to_the_lac() {
    let mut w = World::new(config(""), 8);
    w.radius
        .add("r1", "pw", vec![Attribute::SessionTimeout(100)]);
    w.radius.add("r2", "pw", vec![]);
    let lac = w.add_lac(None);
    let c1 = w.login(lac, "r1", "pw").unwrap();
    let c2 = w.login(lac, "r2", "pw").unwrap();
    let a1 = w.address(lac, c1).unwrap();
    // Traffic counted before the restart carries over.
    let ip = ipv4(a1, Ipv4Addr::new(198, 51, 100, 1), 50);
    w.lacs[lac].calls.send_ipv4(c1, &ip).unwrap();
    w.advance(Duration::from_secs(10));
    let before = w.sessions();
    assert_eq!(w.restart(Duration::from_secs(2)), 2);
    let after = w.sessions();
    assert_eq!(after.len(), 2);
    for (b, a) in before.iter().zip(&after) {
        assert_eq!(
            (&b.user, b.address, &b.acct_session_id),
            (&a.user, a.address, &a.acct_session_id)
        );
        assert_eq!(b.octets_in, a.octets_in);
    }
    assert!(
        w.routes.contains(&(a1, 32)),
        "routes re-added: {:?}",
        w.routes
    );
    // Data still flows both ways through the resumed tunnel and calls.
    let n = w.tun.len();
    w.lacs[lac].calls.send_ipv4(c1, &ip).unwrap();
    w.advance(Duration::from_millis(20));
    assert_eq!(w.tun.len(), n + 1);
    w.send_to_user(&ipv4(Ipv4Addr::new(198, 51, 100, 1), a1, 10))
        .unwrap();
    w.advance(Duration::from_millis(20));
    assert_eq!(w.lacs[lac].received.get(&c1).map(Vec::len), Some(1));
    // No CDN, no StopCCN, no new Acct-Start.
    assert!(w.lacs[lac].down.is_empty() && w.lacs[lac].tunnel_down.is_empty());
    assert_eq!(w.radius.records("r1").len(), 1);
    // The Session-Timeout left keeps running: 100 s granted, ~12 s gone.
    w.run_until(Duration::from_secs(120), |w| w.lacs[lac].down.contains(&c1));
    assert!(w.lacs[lac].down.contains(&c1));
    let r = w.radius.records("r1");
    assert_eq!(r.last().unwrap().0, status::STOP);
    assert!(w.lacs[lac].up.contains_key(&c2));
}
