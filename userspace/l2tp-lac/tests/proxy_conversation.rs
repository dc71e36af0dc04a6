//! Proxy LCP and proxy authentication (RFC 2661 §4.4.5) end to end in memory: our LAC runs LCP
//! and PAP/CHAP with its own client, hands the result to our LNS engines in the ICCN, and the
//! LNS goes straight to authentication and IPCP without an LCP Configure-Request of its own;
//! or, when it may not or will not take the proxy, renegotiates LCP and still comes up.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::time::{Duration, Instant};

use l2tp::fuzzing::TestRng;
use l2tp::{CallInfo, Config, Engine};
use l2tp_lac::probe::{self, Probe};
use l2tp_lac::proxy::{negotiate, ProxyValues};
use l2tp_lac::{CallId, Endpoint, EndpointEvent};
use ppp::chap::md5_response;
use ppp::lcp::AuthMethod;
use ppp::session::{Credentials, Event as PppEvent, Grant, SessionConfig, Verdict};

const USER: &[u8] = b"dave@isp.example";
const PASSWORD: &[u8] = b"proxy pass";
const LNS_IP: Ipv4Addr = Ipv4Addr::new(100, 64, 0, 1);

fn lac_addr() -> SocketAddr {
    "192.0.2.1:1701".parse().unwrap()
}
fn lns_addr() -> SocketAddr {
    "192.0.2.2:1701".parse().unwrap()
}

struct Net {
    now: Instant,
    lac: Endpoint,
    lns: Endpoint,
    /// (delivery time, order) -> (to the LNS?, bytes); every datagram takes 1 ms.
    in_flight: BTreeMap<(Instant, u64), (bool, Vec<u8>)>,
    order: u64,
    lac_events: Vec<EndpointEvent>,
    lns_events: Vec<EndpointEvent>,
    /// Authentication requests the LNS saw: (proxied?, credentials).
    auth_seen: Vec<(bool, Credentials)>,
    next_ip: u32,
}

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
            Box::new(move |(t, s), _| {
                let mut c = SessionConfig::authenticator(b"lns.example", LNS_IP);
                c.lcp.auth = lns_auth.clone();
                c.echo_interval = None;
                (c, [0x80 ^ t as u8 ^ s as u8; 16])
            }),
        );
        lns.set_accept_proxy_lcp(accept_proxy);
        Net {
            now: Instant::now(),
            lac,
            lns,
            in_flight: BTreeMap::new(),
            order: 0,
            lac_events: Vec::new(),
            lns_events: Vec::new(),
            auth_seen: Vec::new(),
            next_ip: u32::from(Ipv4Addr::new(100, 64, 0, 2)),
        }
    }

    fn collect(&mut self) {
        let mut out = Vec::new();
        while let Some(t) = self.lac.poll_transmit() {
            out.push((true, t.contents));
        }
        while let Some(t) = self.lns.poll_transmit() {
            out.push((false, t.contents));
        }
        for (to_lns, bytes) in out {
            self.order += 1;
            let at = self.now + Duration::from_millis(1);
            self.in_flight.insert((at, self.order), (to_lns, bytes));
        }
    }

    /// The LNS's users file knows USER/PASSWORD only.
    fn serve_auth(&mut self) {
        while let Some(e) = self.lns.poll_event() {
            if let EndpointEvent::Ppp {
                call,
                event: PppEvent::AuthRequest(req),
            } = &e
            {
                self.auth_seen.push((req.proxied, req.credentials.clone()));
                let good = req.username == USER
                    && match &req.credentials {
                        Credentials::Pap { password, .. } => password == PASSWORD,
                        Credentials::Chap {
                            id,
                            challenge,
                            response,
                        } => response[..] == md5_response(*id, PASSWORD, challenge),
                    };
                let verdict = if good {
                    self.next_ip += 1;
                    Verdict::Accept(Grant {
                        ipv4: Some(Ipv4Addr::from(self.next_ip)),
                        ..Grant::default()
                    })
                } else {
                    Verdict::Reject {
                        message: b"bad password".to_vec(),
                    }
                };
                let now = self.now;
                assert!(self.lns.auth_verdict(now, *call, verdict));
            }
            self.lns_events.push(e);
        }
    }

    fn step(&mut self) -> bool {
        self.collect();
        let next_msg = self.in_flight.keys().next().map(|k| k.0);
        let timers = [self.lac.poll_timeout(), self.lns.poll_timeout()];
        let Some(next) = timers.into_iter().flatten().chain(next_msg).min() else {
            return false;
        };
        self.now = self.now.max(next);
        while let Some(entry) = self.in_flight.first_entry() {
            if entry.key().0 > self.now {
                break;
            }
            let (to_lns, bytes) = entry.remove();
            let _ = if to_lns {
                self.lns.handle_datagram(self.now, lac_addr(), &bytes)
            } else {
                self.lac.handle_datagram(self.now, lns_addr(), &bytes)
            };
        }
        self.lac.handle_timeout(self.now);
        self.lns.handle_timeout(self.now);
        self.serve_auth();
        self.lac_events
            .extend(std::iter::from_fn(|| self.lac.poll_event()));
        true
    }

    fn run_until(&mut self, limit: Duration, mut done: impl FnMut(&Net) -> bool) -> bool {
        let end = self.now + limit;
        while self.now < end {
            if done(self) {
                return true;
            }
            if !self.step() {
                return done(self);
            }
        }
        done(self)
    }

    fn ipv4_up(events: &[EndpointEvent]) -> Vec<(CallId, Ipv4Addr)> {
        events
            .iter()
            .filter_map(|e| match e {
                EndpointEvent::Ppp {
                    call,
                    event: PppEvent::Ipv4Up(n),
                } => Some((*call, n.local?)),
                _ => None,
            })
            .collect()
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
        Self::ipv4_up(&self.lac_events)[0]
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
        let (lns_call, _) = Self::ipv4_up(&self.lns_events)[0];
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
