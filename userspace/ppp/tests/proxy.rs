//! Proxy LCP and proxy authentication from L2TP ICCN AVPs 26-33 (RFC 2661 §4.4.5): accepted
//! when they satisfy our policy (no LCP renegotiation, the daemon checks the proxied
//! credentials), renegotiated otherwise.

mod common;

use std::net::Ipv4Addr;
use std::time::Instant;

use common::*;
use ppp::chap::{md5_response, ChapPacket};
use ppp::frame::{decode_frame, protocol};
use ppp::lcp::AuthMethod;
use ppp::options::{AuthProtocol, LcpOption};
use ppp::packet::{encode_options, RawPacket};
use ppp::pap::PapPacket;
use ppp::proxy::{ProxyAuth, ProxyAuthType, ProxyLcp};
use ppp::session::{Credentials, Event, Phase, Session, SessionConfig};

fn lns() -> Session {
    let mut c = SessionConfig::authenticator(b"lns", Ipv4Addr::new(100, 64, 0, 1));
    c.echo_interval = None;
    Session::new(c, [21; 16])
}

fn proxy_lcp(auth: AuthProtocol) -> ProxyLcp {
    ProxyLcp {
        initial_received: None,
        last_sent: encode_options(&[
            LcpOption::AuthProtocol(auth),
            LcpOption::MagicNumber(0xaaaa_0001),
        ]),
        last_received: encode_options(&[
            LcpOption::Mru(1460),
            LcpOption::MagicNumber(0xbbbb_0002),
            LcpOption::Pfc,
            LcpOption::Acfc,
        ]),
    }
}

fn frames(s: &mut Session) -> Vec<(u16, Vec<u8>)> {
    std::iter::from_fn(|| s.poll_transmit())
        .map(|f| {
            let fr = decode_frame(&f).unwrap();
            (fr.protocol, fr.payload.to_vec())
        })
        .collect()
}

#[test]
fn proxy_chap_is_verified_without_renegotiation() {
    let t0 = Instant::now();
    let mut s = lns();
    let challenge = b"LAC-challenge-16".to_vec();
    let auth = ProxyAuth {
        auth_type: ProxyAuthType::Chap,
        name: USER.to_vec(),
        challenge: challenge.clone(),
        id: 7,
        response: md5_response(7, SECRET, &challenge).to_vec(),
    };
    s.start_with_proxy(t0, &proxy_lcp(AuthProtocol::CHAP_MD5), Some(&auth));
    assert!(
        frames(&mut s).is_empty(),
        "no LCP Configure-Request, no CHAP Challenge"
    );
    let events: Vec<_> = std::iter::from_fn(|| s.poll_event()).collect();
    assert_eq!(events[0], Event::ProxyLcpAccepted);
    assert!(matches!(&events[1], Event::LinkUp(n) if n.auth == Some(AuthMethod::ChapMd5)));
    let Event::AuthRequest(req) = &events[2] else {
        panic!("{events:?}")
    };
    assert!(req.proxied);
    assert_eq!(req.username, USER);
    assert_eq!(
        req.credentials,
        Credentials::Chap {
            id: 7,
            challenge,
            response: auth.response.clone()
        }
    );
    let n = s.lcp_negotiated();
    assert_eq!(
        (n.our_magic, n.peer_magic, n.peer_mru),
        (0xaaaa_0001, 0xbbbb_0002, 1460)
    );
    assert_eq!(s.phase(), Phase::Authenticate);

    assert!(s.auth_verdict(t0, verify(req)));
    let out = frames(&mut s);
    // CHAP Success with the LAC's identifier, then our IPCP Configure-Request.
    assert_eq!(out[0].0, protocol::CHAP);
    assert!(matches!(
        ChapPacket::decode(&out[0].1),
        Ok(ChapPacket::Success { id: 7, .. })
    ));
    assert_eq!(out[1].0, protocol::IPCP);
    assert_eq!(RawPacket::decode(&out[1].1).unwrap().code, 1);
    assert_eq!(s.phase(), Phase::Network);
}

#[test]
fn proxy_pap_with_wrong_password_is_refused() {
    let t0 = Instant::now();
    let mut s = lns();
    let auth = ProxyAuth {
        auth_type: ProxyAuthType::Pap,
        name: USER.to_vec(),
        challenge: Vec::new(),
        id: 3,
        response: b"guess".to_vec(),
    };
    s.start_with_proxy(t0, &proxy_lcp(AuthProtocol::Pap), Some(&auth));
    let req = std::iter::from_fn(|| s.poll_event())
        .find_map(|e| match e {
            Event::AuthRequest(r) => Some(r),
            _ => None,
        })
        .expect("auth request");
    assert_eq!(
        req.credentials,
        Credentials::Pap {
            id: 3,
            password: b"guess".to_vec()
        }
    );
    s.auth_verdict(t0, verify(&req));
    let out = frames(&mut s);
    assert!(matches!(
        PapPacket::decode(&out[0].1),
        Ok(PapPacket::Nak { id: 3, .. })
    ));
    // Then LCP Terminate-Request.
    assert_eq!(out[1].0, protocol::LCP);
    assert_eq!(RawPacket::decode(&out[1].1).unwrap().code, 5);
}

#[test]
fn unacceptable_proxy_lcp_is_renegotiated() {
    let t0 = Instant::now();
    let cases: [(ProxyLcp, Option<ProxyAuthType>, &str); 4] = [
        (
            ProxyLcp {
                last_received: encode_options(&[LcpOption::Mru(100)]),
                ..proxy_lcp(AuthProtocol::Pap)
            },
            Some(ProxyAuthType::Pap),
            "client's LCP options not acceptable",
        ),
        (
            proxy_lcp(AuthProtocol::Pap),
            Some(ProxyAuthType::Chap),
            "proxy authentication type does not match the negotiated protocol",
        ),
        (
            proxy_lcp(AuthProtocol::Chap { algorithm: 0x81 }),
            None,
            "LAC negotiated an authentication method we do not allow",
        ),
        (
            ProxyLcp {
                last_sent: vec![3, 1],
                ..proxy_lcp(AuthProtocol::Pap)
            },
            None,
            "malformed Last Sent LCP CONFREQ",
        ),
    ];
    for (lcp, auth_type, why) in cases {
        let mut s = lns();
        let auth = auth_type.map(|t| ProxyAuth {
            auth_type: t,
            name: USER.to_vec(),
            challenge: vec![1; 16],
            id: 1,
            response: vec![2; 16],
        });
        s.start_with_proxy(t0, &lcp, auth.as_ref());
        assert_eq!(
            s.poll_event(),
            Some(Event::ProxyLcpRejected { reason: why })
        );
        let out = frames(&mut s);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].0, protocol::LCP);
        assert_eq!(
            RawPacket::decode(&out[0].1).unwrap().code,
            1,
            "fresh Configure-Request"
        );
    }
}

#[test]
fn proxy_auth_type_values_round_trip() {
    for v in 0..8u16 {
        assert_eq!(ProxyAuthType::from_u16(v).to_u16(), v);
    }
}

#[test]
fn from_avps_needs_both_lcp_confreqs() {
    assert_eq!(
        ProxyLcp::from_avps(None, Some(&[1, 4, 5, 0xdc]), None),
        None
    );
    let p = ProxyLcp::from_avps(Some(&[7]), Some(&[1, 4, 5, 0xdc]), Some(&[])).unwrap();
    assert_eq!(p.initial_received, Some(vec![7]));
    let a = ProxyAuth::from_avps(2, Some(b"u"), Some(&[9; 16]), Some(3), None);
    assert_eq!(a.auth_type, ProxyAuthType::Chap);
    assert_eq!((a.id, a.response.len()), (3, 0));
}
