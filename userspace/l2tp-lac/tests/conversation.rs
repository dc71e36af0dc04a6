//! Whole LAC↔LNS conversations in memory with our engines on both sides: the l2tp LAC with
//! PPP peers against the l2tp LNS with PPP authenticators, a fake clock, and a link that
//! drops and reorders L2TP control messages. PAP and CHAP, with and without tunnel
//! authentication, up to IPCP opened and an IPv4 datagram each way.

mod common;

use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Duration;

use l2tp::fuzzing::TestRng;
use l2tp::{CallInfo, Config, Engine};
use l2tp_lac::probe::{self, Probe};
use l2tp_lac::{CallId, Endpoint, EndpointEvent};
use ppp::fsm::State;
use ppp::lcp::AuthMethod;
use ppp::session::{Event as PppEvent, SessionConfig};

use common::{lns_addr, Link, Net, LNS_IP};

const USER: &[u8] = b"alice@isp.example";
const PASSWORD: &[u8] = b"correct horse";
const SERVER: &str = "198.51.100.7:9000";

fn lac_endpoint(secret: Option<&[u8]>, password: &'static [u8]) -> Endpoint {
    let cfg = Config {
        host_name: b"lac.example".to_vec(),
        secret: secret.map(<[u8]>::to_vec),
        accept_incoming: false,
        ..Config::default()
    };
    let engine = Engine::new(cfg, Box::new(TestRng(11))).unwrap();
    Endpoint::new(
        engine,
        Box::new(
            move |l2tp::CallId {
                      tunnel: l2tp::TunnelId(t),
                      session: l2tp::SessionId(s),
                  },
                  _| {
                let mut c = SessionConfig::peer(USER, password);
                c.echo_interval = None;
                (c.into(), [t as u8 ^ s as u8; 16])
            },
        ),
    )
}

fn lns_endpoint(secret: Option<&[u8]>, method: AuthMethod) -> Endpoint {
    let cfg = Config {
        host_name: b"lns.example".to_vec(),
        secret: secret.map(<[u8]>::to_vec),
        ..Config::default()
    };
    let engine = Engine::new(cfg, Box::new(TestRng(22))).unwrap();
    Endpoint::new(
        engine,
        Box::new(
            move |l2tp::CallId {
                      tunnel: l2tp::TunnelId(t),
                      session: l2tp::SessionId(s),
                  },
                  _| {
                let mut c = SessionConfig::authenticator(b"lns.example", LNS_IP);
                c.lcp.auth = vec![method];
                c.echo_interval = None;
                (c.into(), [0x80 ^ t as u8 ^ s as u8; 16])
            },
        ),
    )
}

/// An LNS whose PPP links send an LCP Echo-Request every `interval` and give up after
/// `failures` unanswered ones.
fn lns_endpoint_with_keepalive(interval: Duration, failures: u32) -> Endpoint {
    let engine = Engine::new(
        Config {
            host_name: b"lns.example".to_vec(),
            ..Config::default()
        },
        Box::new(TestRng(23)),
    )
    .unwrap();
    Endpoint::new(
        engine,
        Box::new(
            move |l2tp::CallId {
                      tunnel: l2tp::TunnelId(t),
                      session: l2tp::SessionId(s),
                  },
                  _| {
                let mut c = SessionConfig::authenticator(b"lns.example", LNS_IP);
                c.lcp.auth = vec![AuthMethod::Pap];
                c.echo_interval = Some(interval);
                c.echo_max_failures = failures;
                (c.into(), [0x40 ^ t as u8 ^ s as u8; 16])
            },
        ),
    )
}

impl Net {
    fn new(secret: Option<&[u8]>, method: AuthMethod, password: &'static [u8], link: Link) -> Net {
        let lac = lac_endpoint(secret, password);
        let lns = lns_endpoint(secret, method);
        Net::between(lac, lns, link, USER, PASSWORD)
    }

    /// Open one tunnel with `sessions` calls and wait until every IPCP is open on both sides.
    fn bring_up(&mut self, sessions: usize) -> Vec<(CallId, Ipv4Addr, Ipv4Addr)> {
        let now = self.now;
        let tunnel = self.lac.connect(now, lns_addr()).unwrap();
        let tunnel_up = self.run_until(Duration::from_secs(60), |n| {
            n.lac_events.contains(&EndpointEvent::TunnelUp { tunnel })
        });
        assert!(tunnel_up, "tunnel up despite the lossy link");
        for serial in 0..sessions {
            let now = self.now;
            let call = CallInfo {
                serial: serial as u32,
                ..CallInfo::default()
            };
            self.lac.open_session(now, tunnel, call).unwrap();
        }
        let up = self.run_until(Duration::from_secs(120), |n| {
            Self::ipv4_up(&n.lac_events).len() == sessions
                && Self::ipv4_up(&n.lns_events).len() == sessions
        });
        assert!(
            up,
            "{} of {sessions} LAC links and {} LNS links reached IPCP Opened",
            Self::ipv4_up(&self.lac_events).len(),
            Self::ipv4_up(&self.lns_events).len()
        );
        Self::ipv4_up(&self.lac_events)
    }

    /// One probe from each LAC session to the server and one back; asserts both arrive intact.
    fn ping_both_ways(&mut self, links: &[(CallId, Ipv4Addr, Ipv4Addr)]) {
        let server: SocketAddrV4 = SERVER.parse().unwrap();
        let lns_links = Self::ipv4_up(&self.lns_events);
        for (i, &(call, ours, lns_side)) in links.iter().enumerate() {
            assert_eq!(lns_side, LNS_IP, "LAC learnt the LNS address");
            let from = SocketAddrV4::new(ours, 40000);
            let p = Probe {
                session: i as u32,
                seq: 1,
                sent_ns: 0,
            };
            self.lac
                .send_ipv4(call, &probe::build(from, server, p, 200))
                .unwrap();
            // The LNS answers on the call whose peer address is `ours`.
            let (lns_call, _, _) = *lns_links
                .iter()
                .find(|(_, _, peer)| *peer == ours)
                .expect("LNS granted this address");
            let back = Probe { seq: 2, ..p };
            self.lns
                .send_ipv4(lns_call, &probe::build(server, from, back, 300))
                .unwrap();
        }
        let n = links.len();
        let count = |ev: &[EndpointEvent]| {
            ev.iter()
                .filter(|e| matches!(e, EndpointEvent::Ipv4 { .. }))
                .count()
        };
        assert!(self.run_until(Duration::from_secs(5), |net| {
            count(&net.lac_events) == n && count(&net.lns_events) == n
        }));
        for e in self.lns_events.iter().chain(&self.lac_events) {
            if let EndpointEvent::Ipv4 { call, packet } = e {
                let r = probe::parse(packet).expect("a probe arrived intact");
                let upstream = r.to == server;
                let (ours, _, _) = links[r.probe.session as usize];
                assert_eq!(r.probe.seq, if upstream { 1 } else { 2 });
                assert_eq!(packet.len(), if upstream { 200 } else { 300 });
                if !upstream {
                    assert_eq!(*call, ours, "downstream arrived on its own call");
                }
            }
        }
    }
}

fn lossy() -> Link {
    Link {
        control_loss: 25,
        control_delay_ms: 0..=300,
        data_delay_ms: 1,
    }
}

fn full_conversation(secret: Option<&[u8]>, method: AuthMethod, link: Link, sessions: usize) {
    let mut net = Net::new(secret, method, PASSWORD, link.clone());
    let links = net.bring_up(sessions);
    // Each side agrees on the method it asked for.
    for (call, _, _) in &links {
        let n = net.lac.link(*call).unwrap().lcp_negotiated();
        assert_eq!(n.auth, Some(method));
        assert_eq!(
            net.lac.link(*call).unwrap().ipcp_state(),
            Some(State::Opened)
        );
    }
    net.ping_both_ways(&links);
    if link.control_loss > 0 {
        assert!(
            net.control_dropped > 0,
            "the link really dropped control messages"
        );
    }
    assert_eq!(
        net.lac.stats().ppp_malformed + net.lns.stats().ppp_malformed,
        0
    );
}

#[test]
fn pap_clean_link() {
    full_conversation(
        None,
        AuthMethod::Pap,
        Link {
            control_loss: 0,
            control_delay_ms: 0..=1,
            data_delay_ms: 1,
        },
        1,
    );
}

#[test]
fn chap_clean_link_with_tunnel_auth() {
    full_conversation(
        Some(b"tunnel secret"),
        AuthMethod::ChapMd5,
        Link {
            control_loss: 0,
            control_delay_ms: 0..=1,
            data_delay_ms: 1,
        },
        2,
    );
}

#[test]
fn pap_lossy_link_with_tunnel_auth() {
    full_conversation(Some(b"tunnel secret"), AuthMethod::Pap, lossy(), 5);
}

#[test]
fn chap_lossy_link() {
    full_conversation(None, AuthMethod::ChapMd5, lossy(), 5);
}

#[test]
fn chap_lossy_link_with_tunnel_auth_many_sessions() {
    full_conversation(Some(b"s3cr3t"), AuthMethod::ChapMd5, lossy(), 20);
}

/// A wrong password: the authenticator refuses, the PPP link closes and the call is cleared
/// on both sides.
#[test]
fn wrong_password_clears_the_call() {
    let mut net = Net::new(None, AuthMethod::ChapMd5, b"wrong", lossy());
    let now = net.now;
    let tunnel = net.lac.connect(now, lns_addr()).unwrap();
    assert!(net.run_until(Duration::from_secs(60), |n| n
        .lac_events
        .contains(&EndpointEvent::TunnelUp { tunnel })));
    let now = net.now;
    net.lac
        .open_session(now, tunnel, CallInfo::default())
        .unwrap();
    let down = |ev: &[EndpointEvent]| {
        ev.iter()
            .any(|e| matches!(e, EndpointEvent::CallDown { .. }))
    };
    let ok = net.run_until(Duration::from_secs(120), |n| {
        down(&n.lac_events) && down(&n.lns_events)
    });
    assert!(ok, "{:#?}\n{:#?}", net.lac_events, net.lns_events);
    assert!(net.lac_events.iter().any(|e| matches!(
        e,
        EndpointEvent::Ppp {
            event: PppEvent::AuthFailed { .. },
            ..
        }
    )));
    assert!(Net::ipv4_up(&net.lac_events).is_empty());
    assert_eq!(net.lac.link_count() + net.lns.link_count(), 0);
}

/// Tunnel secrets that differ: the tunnel never comes up, nothing is left behind.
#[test]
fn tunnel_secret_mismatch_fails() {
    let mut net = Net::new(
        Some(b"one"),
        AuthMethod::Pap,
        PASSWORD,
        Link {
            control_loss: 0,
            control_delay_ms: 0..=1,
            data_delay_ms: 1,
        },
    );
    net.lns = lns_endpoint(Some(b"two"), AuthMethod::Pap);
    let now = net.now;
    let tunnel = net.lac.connect(now, lns_addr()).unwrap();
    assert!(
        net.run_until(Duration::from_secs(120), |n| n.lac_events.iter().any(
            |e| matches!(e, EndpointEvent::TunnelDown { tunnel: t, .. } if *t == tunnel)
        ))
    );
    assert!(!net.lac_events.contains(&EndpointEvent::TunnelUp { tunnel }));
}

/// `set_ignore_echo_requests`: while the LAC answers, the LNS's keepalive holds the call;
/// once it ignores Echo-Requests, the LNS closes the link (echo timeout) and the call is
/// cleared on both sides.
#[test]
fn ignored_echo_requests_fail_the_lns_keepalive() {
    let clean = Link {
        control_loss: 0,
        control_delay_ms: 0..=1,
        data_delay_ms: 1,
    };
    let mut net = Net::new(None, AuthMethod::Pap, PASSWORD, clean);
    net.lns = lns_endpoint_with_keepalive(Duration::from_secs(1), 3);
    net.bring_up(1);
    let down = |ev: &[EndpointEvent]| {
        ev.iter()
            .any(|e| matches!(e, EndpointEvent::CallDown { .. }))
    };
    assert!(
        !net.run_until(Duration::from_secs(10), |n| down(&n.lns_events)),
        "answered keepalives keep the call"
    );
    assert_eq!(net.lac.stats().echo_ignored, 0);
    net.lac.set_ignore_echo_requests(true);
    let t0 = net.now;
    assert!(
        net.run_until(Duration::from_secs(30), |n| down(&n.lns_events)
            && down(&n.lac_events))
    );
    // Three unanswered requests one second apart, then the fourth deadline closes it.
    let took = net.now - t0;
    assert!(
        took >= Duration::from_secs(3) && took <= Duration::from_secs(6),
        "{took:?}"
    );
    assert!(net.lac.stats().echo_ignored >= 3);
    assert!(net.lns_events.iter().any(|e| matches!(
        e,
        EndpointEvent::Ppp {
            event: PppEvent::Closed(ppp::session::CloseReason::EchoTimeout),
            ..
        }
    )));
}
