//! Proxy LCP and proxy authentication (RFC 2661 §4.4.5) end to end in memory: our LAC runs LCP
//! and PAP/CHAP with its own client, hands the result to our LNS engines in the ICCN, and the
//! LNS goes straight to authentication and IPCP without an LCP Configure-Request of its own;
//! or, when it may not or will not take the proxy, renegotiates LCP and still comes up.

mod common;

use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Duration;

use l2tp::fuzzing::TestRng;
use l2tp::{CallInfo, Config, Engine};
use l2tp_lac::probe::{self, Probe};
use l2tp_lac::proxy::{negotiate, ProxyValues};
use l2tp_lac::{CallId, Endpoint, EndpointEvent};
use ppp::lcp::AuthMethod;
use ppp::session::{Credentials, Event as PppEvent, SessionConfig};

use common::{lns_addr, Link, Net, LNS_IP};

const USER: &[u8] = b"dave@isp.example";
const PASSWORD: &[u8] = b"proxy pass";

impl Net {
    /// An LNS whose links allow `lns_auth`, taking proxy LCP when `accept_proxy`.
    fn new(lns_auth: Vec<AuthMethod>, accept_proxy: bool) -> Net {
        let lac = Endpoint::new(
            Engine::new(
                Config {
                    host_name: b"lac.example".to_vec(),
                    accept_incoming: false,
                    ..Config::default()
                },
                Box::new(TestRng(31)),
            )
            .unwrap(),
            // Every call of these tests is placed with its client already negotiated.
            Box::new(|_, _| panic!("proxied calls bring their own link")),
        );
        let mut lns = Endpoint::new(
            Engine::new(
                Config {
                    host_name: b"lns.example".to_vec(),
                    ..Config::default()
                },
                Box::new(TestRng(32)),
            )
            .unwrap(),
            Box::new(
                move |l2tp::CallId {
                          tunnel: l2tp::TunnelId(t),
                          session: l2tp::SessionId(s),
                      },
                      _| {
                    let mut c = SessionConfig::authenticator(b"lns.example", LNS_IP);
                    c.lcp.auth = lns_auth.clone();
                    c.echo_interval = None;
                    (c.into(), [0x80 ^ t as u8 ^ s as u8; 16])
                },
            ),
        );
        lns.set_accept_proxy_lcp(accept_proxy);
        Net::between(lac, lns, Link::clean(), USER, PASSWORD)
    }

    /// One tunnel, then one call whose client (accepting `client_auth`, LAC asking for
    /// `lac_auth`) the LAC already negotiated; `lcp_only` leaves the authentication to the LNS.
    fn place_proxied_call(
        &mut self,
        client_auth: Vec<AuthMethod>,
        lac_auth: AuthMethod,
        password: &[u8],
        lcp_only: bool,
        edit: impl FnOnce(&mut ProxyValues),
    ) {
        let now = self.now;
        let tunnel = self.lac.connect(now, lns_addr()).unwrap();
        assert!(self.run_until(Duration::from_secs(10), |n| n
            .lac_events
            .contains(&EndpointEvent::TunnelUp { tunnel })));
        let mut client = SessionConfig::peer(USER, password);
        client.lcp.auth = client_auth;
        client.echo_interval = None;
        let mut lac = SessionConfig::authenticator(b"lac.example", Ipv4Addr::UNSPECIFIED);
        lac.lcp.auth = vec![lac_auth];
        let (link, mut values) = negotiate(self.now, client, [5; 16], lac, [6; 16]).unwrap();
        edit(&mut values);
        let mut call = CallInfo {
            serial: 1,
            ..CallInfo::default()
        };
        values.apply(&mut call, lcp_only);
        let now = self.now;
        self.lac
            .open_proxied_session(now, tunnel, call, link)
            .unwrap();
    }

    fn bring_up(&mut self) -> (CallId, Ipv4Addr) {
        let up = self.run_until(Duration::from_secs(60), |n| {
            Self::ipv4_up(&n.lac_events).len() == 1 && Self::ipv4_up(&n.lns_events).len() == 1
        });
        assert!(up, "{:#?}\n{:#?}", self.lac_events, self.lns_events);
        let (call, ours, _) = Self::ipv4_up(&self.lac_events)[0];
        (call, ours)
    }

    /// A probe each way through the call.
    fn ping(&mut self, (call, ours): (CallId, Ipv4Addr)) {
        let server: SocketAddrV4 = "198.51.100.7:9000".parse().unwrap();
        let from = SocketAddrV4::new(ours, 40000);
        let p = Probe {
            session: 0,
            seq: 1,
            sent_ns: 0,
        };
        self.lac
            .send_ipv4(call, &probe::build(from, server, p, 120))
            .unwrap();
        let (lns_call, _, _) = Self::ipv4_up(&self.lns_events)[0];
        self.lns
            .send_ipv4(
                lns_call,
                &probe::build(server, from, Probe { seq: 2, ..p }, 130),
            )
            .unwrap();
        let count = |ev: &[EndpointEvent]| {
            ev.iter()
                .filter(|e| matches!(e, EndpointEvent::Ipv4 { .. }))
                .count()
        };
        assert!(self.run_until(Duration::from_secs(5), |n| {
            count(&n.lac_events) == 1 && count(&n.lns_events) == 1
        }));
    }

    fn proxy_accepted(&self) -> bool {
        self.lns_events.iter().any(|e| {
            matches!(
                e,
                EndpointEvent::Ppp {
                    event: PppEvent::ProxyLcpAccepted,
                    ..
                }
            )
        })
    }
}

fn proxied_auth_straight_to_ipcp(method: AuthMethod) {
    let mut net = Net::new(vec![AuthMethod::ChapMd5, AuthMethod::Pap], true);
    net.place_proxied_call(vec![method], method, PASSWORD, false, |_| {});
    let up = net.bring_up();
    assert!(net.proxy_accepted());
    // Neither side sent an LCP Configure-Request over the call.
    assert_eq!(net.lac.stats().lcp_confreqs_received, 0);
    assert_eq!(net.lns.stats().lcp_confreqs_received, 0);
    // The LNS verified the LAC's credentials once, never challenging the client itself.
    assert_eq!(net.auth_seen.len(), 1);
    let (proxied, credentials) = &net.auth_seen[0];
    assert!(proxied);
    match (method, credentials) {
        (AuthMethod::ChapMd5, Credentials::Chap { .. })
        | (AuthMethod::Pap, Credentials::Pap { .. }) => {}
        other => panic!("credentials of the wrong kind: {other:?}"),
    }
    net.ping(up);
    assert_eq!(
        net.lac.stats().ppp_malformed + net.lns.stats().ppp_malformed,
        0
    );
}

#[test]
fn proxy_chap_goes_straight_to_ipcp() {
    proxied_auth_straight_to_ipcp(AuthMethod::ChapMd5);
}

#[test]
fn proxy_pap_goes_straight_to_ipcp() {
    proxied_auth_straight_to_ipcp(AuthMethod::Pap);
}

/// Proxy LCP without proxy authentication: the LNS challenges the client itself.
#[test]
fn proxy_lcp_only_authenticates_over_the_call() {
    let mut net = Net::new(vec![AuthMethod::ChapMd5], true);
    net.place_proxied_call(
        vec![AuthMethod::ChapMd5],
        AuthMethod::ChapMd5,
        PASSWORD,
        true,
        |_| {},
    );
    let up = net.bring_up();
    assert!(net.proxy_accepted());
    assert_eq!(net.lac.stats().lcp_confreqs_received, 0);
    assert_eq!(net.auth_seen.len(), 1);
    assert!(!net.auth_seen[0].0, "the client's own response");
    net.ping(up);
}

/// `lcp_renegotiation always`: the AVPs are ignored, LCP is renegotiated with the opened
/// client (RFC 1661: a Configure-Request in Opened restarts it) and the session comes up.
#[test]
fn without_proxy_acceptance_lcp_is_renegotiated() {
    let mut net = Net::new(vec![AuthMethod::ChapMd5], false);
    net.place_proxied_call(
        vec![AuthMethod::ChapMd5],
        AuthMethod::ChapMd5,
        PASSWORD,
        false,
        |_| {},
    );
    let up = net.bring_up();
    assert!(!net.proxy_accepted());
    assert!(net.lac.stats().lcp_confreqs_received > 0);
    assert!(net.auth_seen.iter().all(|(proxied, _)| !proxied));
    net.ping(up);
}

/// The LAC negotiated CHAP, the LNS allows only PAP: the proxy is refused and LCP
/// renegotiated, ending with PAP.
#[test]
fn unacceptable_proxy_lcp_falls_back_to_renegotiation() {
    let mut net = Net::new(vec![AuthMethod::Pap], true);
    net.place_proxied_call(
        vec![AuthMethod::ChapMd5, AuthMethod::Pap],
        AuthMethod::ChapMd5,
        PASSWORD,
        false,
        |_| {},
    );
    let up = net.bring_up();
    assert!(net.lns_events.iter().any(|e| matches!(
        e,
        EndpointEvent::Ppp {
            event: PppEvent::ProxyLcpRejected { .. },
            ..
        }
    )));
    assert!(net.lac.stats().lcp_confreqs_received > 0);
    assert!(matches!(
        net.auth_seen.as_slice(),
        [(false, Credentials::Pap { .. })]
    ));
    net.ping(up);
}

/// A wrong proxied CHAP response: CHAP Failure with the client's identifier, then LCP
/// terminates and the call is cleared on both sides.
#[test]
fn wrong_proxied_password_clears_the_call() {
    let mut net = Net::new(vec![AuthMethod::ChapMd5], true);
    net.place_proxied_call(
        vec![AuthMethod::ChapMd5],
        AuthMethod::ChapMd5,
        b"wrong",
        false,
        |_| {},
    );
    let down = |ev: &[EndpointEvent]| {
        ev.iter()
            .any(|e| matches!(e, EndpointEvent::CallDown { .. }))
    };
    assert!(
        net.run_until(Duration::from_secs(30), |n| down(&n.lac_events)
            && down(&n.lns_events))
    );
    // The client took the Failure as the answer to its own Response.
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

/// Proxy PAP without AVP 32 (RFC 2661 defines the Proxy Authen ID for CHAP only): the LNS
/// cannot know the Authenticate-Request's identifier, so the client ignores its first Ack and
/// retransmits; the retransmission is answered from the decision already taken, without a
/// second request to the authentication backend.
#[test]
fn proxy_pap_without_identifier_comes_up_on_the_retransmission() {
    let mut net = Net::new(vec![AuthMethod::Pap], true);
    let mut sent_id = None;
    net.place_proxied_call(
        vec![AuthMethod::Pap],
        AuthMethod::Pap,
        PASSWORD,
        false,
        |v| sent_id = v.auth.id.take(),
    );
    let t0 = net.now;
    let up = net.bring_up();
    assert!(net.proxy_accepted());
    assert_eq!(net.lac.stats().lcp_confreqs_received, 0);
    assert!(matches!(
        net.auth_seen.as_slice(),
        [(true, Credentials::Pap { .. })]
    ));
    if sent_id != Some(0) {
        // Our Ack (identifier 0) did not match: up only after the client's restart timer.
        assert!(net.now - t0 >= Duration::from_secs(3), "{:?}", net.now - t0);
    }
    net.ping(up);
}
