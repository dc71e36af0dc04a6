//! Entry points of the fuzz targets (`fuzz/`) and of the corpus replay test: each takes
//! arbitrary bytes and must never panic.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use l2tp::fuzzing::TestRng;
use l2tp::{CallInfo, Config, Engine};
use ppp::session::{Event as PppEvent, Grant, SessionConfig, Verdict};

use crate::endpoint::{Endpoint, EndpointEvent};
use crate::probe;

/// A probe that parses must build back to the same bytes' meaning.
pub fn probe(data: &[u8]) {
    if let Some(r) = probe::parse(data) {
        let rebuilt = probe::build(r.from, r.to, r.probe, data.len());
        assert_eq!(probe::parse(&rebuilt), Some(r));
    }
}

fn lac_addr() -> SocketAddr {
    SocketAddr::from((Ipv4Addr::new(192, 0, 2, 1), 1701))
}

fn lns_addr() -> SocketAddr {
    SocketAddr::from((Ipv4Addr::new(192, 0, 2, 2), 1701))
}

/// An LNS composition that accepts every login.
fn lns() -> Endpoint {
    let engine = Engine::new(Config::default(), Box::new(TestRng(5))).expect("valid config");
    Endpoint::new(
        engine,
        Box::new(|_, _| {
            let c = SessionConfig::authenticator(b"lns", Ipv4Addr::new(100, 64, 0, 1));
            (c.into(), [9; 16])
        }),
    )
}

/// Records: `[advance ms: u8][len: u16 BE][datagram]`, fed to an LNS composition from the
/// LAC's address, with every authentication accepted and every IPv4 packet echoed.
pub fn endpoint(data: &[u8]) {
    let mut ep = lns();
    let mut now = Instant::now();
    let mut rest = data;
    while rest.len() >= 3 {
        now += Duration::from_millis(u64::from(rest[0]));
        let len = usize::from(u16::from_be_bytes([rest[1], rest[2]])).min(rest.len() - 3);
        let (datagram, tail) = rest[3..].split_at(len);
        rest = tail;
        let _ = ep.handle_datagram(now, lac_addr(), datagram);
        ep.handle_timeout(now);
        while let Some(e) = ep.poll_event() {
            match e {
                EndpointEvent::Ppp {
                    call,
                    event: PppEvent::AuthRequest(_),
                } => {
                    let grant = Grant {
                        ipv4: Some(Ipv4Addr::new(100, 64, 0, 2)),
                        ..Grant::default()
                    };
                    ep.auth_verdict(now, call, Verdict::Accept(grant));
                }
                EndpointEvent::Ipv4 { call, packet } => {
                    let _ = ep.send_ipv4(call, &packet);
                }
                _ => {}
            }
        }
        while ep.poll_transmit().is_some() {}
    }
}

/// A seed for [`endpoint`]: what our LAC sends in a whole PAP conversation up to IPCP and
/// one IPv4 probe, recorded from an in-memory run against [`lns`].
pub fn record_conversation() -> Vec<u8> {
    let engine = Engine::new(
        Config {
            accept_incoming: false,
            ..Config::default()
        },
        Box::new(TestRng(6)),
    )
    .expect("valid config");
    let mut lac = Endpoint::new(
        engine,
        Box::new(|_, _| {
            let mut c = SessionConfig::peer(b"user", b"password");
            c.lcp.auth = vec![ppp::lcp::AuthMethod::Pap];
            (c.into(), [3; 16])
        }),
    );
    let mut lns = lns();
    let mut now = Instant::now();
    let mut out = Vec::new();
    let tunnel = lac.connect(now, lns_addr()).expect("connect");
    let mut sent_probe = false;
    for _ in 0..200 {
        now += Duration::from_millis(10);
        while let Some(t) = lac.poll_transmit() {
            out.push(10);
            out.extend_from_slice(&(t.contents.len() as u16).to_be_bytes());
            out.extend_from_slice(&t.contents);
            let _ = lns.handle_datagram(now, lac_addr(), &t.contents);
        }
        while let Some(t) = lns.poll_transmit() {
            let _ = lac.handle_datagram(now, lns_addr(), &t.contents);
        }
        while let Some(e) = lns.poll_event() {
            if let EndpointEvent::Ppp {
                call,
                event: PppEvent::AuthRequest(_),
            } = e
            {
                let grant = Grant {
                    ipv4: Some(Ipv4Addr::new(100, 64, 0, 2)),
                    ..Grant::default()
                };
                lns.auth_verdict(now, call, Verdict::Accept(grant));
            }
        }
        while let Some(e) = lac.poll_event() {
            match e {
                EndpointEvent::TunnelUp { .. } => {
                    let _ = lac.open_session(now, tunnel, CallInfo::default());
                }
                EndpointEvent::Ppp {
                    call,
                    event: PppEvent::Ipv4Up(n),
                } if !sent_probe => {
                    let from =
                        std::net::SocketAddrV4::new(n.local.unwrap_or(Ipv4Addr::UNSPECIFIED), 1);
                    let to = "198.51.100.1:9".parse().expect("address");
                    let p = probe::Probe {
                        session: 0,
                        seq: 1,
                        sent_ns: 2,
                    };
                    let _ = lac.send_ipv4(call, &probe::build(from, to, p, 64));
                    sent_probe = true;
                }
                _ => {}
            }
        }
        lac.handle_timeout(now);
        lns.handle_timeout(now);
    }
    out
}
