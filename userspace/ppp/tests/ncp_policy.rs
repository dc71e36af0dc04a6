//! IPCP (RFC 1332, RFC 1877) and IPV6CP (RFC 5072) option policies through the real automaton.

use std::net::Ipv4Addr;
use std::time::Instant;

use ppp::entropy::Entropy;
use ppp::fsm::{Fsm, FsmConfig, FsmOutput, Negotiator};
use ppp::ipcp::{Ipcp, IpcpConfig};
use ppp::ipv6cp::{Ipv6cp, Ipv6cpConfig};
use ppp::options::{IpcpOption, Ipv6cpOption};
use ppp::packet::{decode_options, encode_options, encode_packet, ConfigOption, RawPacket};

fn replies<N: Negotiator>(f: &mut Fsm<N>) -> Vec<(u8, Vec<N::Opt>)> {
    let mut v = Vec::new();
    while let Some(o) = f.poll_output() {
        if let FsmOutput::Send(p) = o {
            let raw = RawPacket::decode(&p).unwrap();
            if raw.code <= 4 {
                v.push((raw.code, decode_options(raw.data).unwrap()));
            }
        }
    }
    v
}

fn request<N: Negotiator>(f: &mut Fsm<N>, id: u8, opts: &[N::Opt]) -> (u8, Vec<N::Opt>) {
    f.handle_packet(
        Instant::now(),
        &encode_packet(1, id, &[&encode_options(opts)]),
    )
    .unwrap();
    replies(f)
        .into_iter()
        .find(|(c, _)| *c != 1)
        .expect("a reply")
}

const LOCAL: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
const PEER: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 9);
const DNS1: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 53);

fn ipcp_server(dns: [Option<Ipv4Addr>; 2]) -> Fsm<Ipcp> {
    let mut f = Fsm::new(
        Ipcp::new(IpcpConfig::Server {
            local: LOCAL,
            peer: PEER,
            dns,
        }),
        FsmConfig::default(),
        1,
    );
    let now = Instant::now();
    f.open(now);
    f.up(now);
    let sent = replies(&mut f);
    assert_eq!(
        sent,
        vec![(1, vec![IpcpOption::IpAddress(LOCAL)])],
        "our request"
    );
    f
}

#[test]
fn ipcp_server_assigns_address_and_dns() {
    let mut f = ipcp_server([Some(DNS1), None]);
    // 0.0.0.0 and DNS 0.0.0.0: Nak with the assigned values (RFC 1332 §3.3, RFC 1877 §1.1).
    let (code, opts) = request(
        &mut f,
        1,
        &[
            IpcpOption::IpAddress(Ipv4Addr::UNSPECIFIED),
            IpcpOption::PrimaryDns(Ipv4Addr::UNSPECIFIED),
        ],
    );
    assert_eq!(code, 3);
    assert_eq!(
        opts,
        vec![IpcpOption::IpAddress(PEER), IpcpOption::PrimaryDns(DNS1)]
    );
    // Secondary DNS is not configured, NBNS and VJ compression are not supported: Rejected.
    let asked = [
        IpcpOption::IpAddress(PEER),
        IpcpOption::SecondaryDns(Ipv4Addr::UNSPECIFIED),
        IpcpOption::PrimaryNbns(Ipv4Addr::UNSPECIFIED),
        IpcpOption::IpCompression {
            protocol: 0x002d,
            data: vec![15, 1],
        },
    ];
    let (code, opts) = request(&mut f, 2, &asked);
    assert_eq!(code, 4);
    assert_eq!(opts, asked[1..].to_vec());
    // The corrected request is acknowledged and recorded.
    let (code, _) = request(
        &mut f,
        3,
        &[IpcpOption::IpAddress(PEER), IpcpOption::PrimaryDns(DNS1)],
    );
    assert_eq!(code, 2);
    let n = f.negotiator().negotiated();
    assert_eq!(n.peer, Some(PEER));
    assert_eq!(n.dns[0], Some(DNS1));
}

#[test]
fn ipcp_server_suggests_an_address_once_when_omitted() {
    let mut f = ipcp_server([None, None]);
    let (code, opts) = request(&mut f, 1, &[]);
    assert_eq!((code, opts), (3, vec![IpcpOption::IpAddress(PEER)]));
    let (code, _) = request(&mut f, 2, &[]);
    assert_eq!(
        code, 2,
        "a peer insisting on no address is accepted the second time"
    );
}

#[test]
fn ipcp_client_adopts_naked_values() {
    let now = Instant::now();
    let mut f = Fsm::new(
        Ipcp::new(IpcpConfig::Client {
            address: Ipv4Addr::UNSPECIFIED,
            request_dns: true,
        }),
        FsmConfig::default(),
        9,
    );
    f.open(now);
    f.up(now);
    let sent = replies(&mut f);
    assert_eq!(sent[0].1.len(), 3, "address + two DNS");
    let nak = encode_options(&[IpcpOption::IpAddress(PEER), IpcpOption::PrimaryDns(DNS1)]);
    let rej = encode_options(&[IpcpOption::SecondaryDns(Ipv4Addr::UNSPECIFIED)]);
    f.handle_packet(now, &encode_packet(3, 9, &[&nak])).unwrap();
    let next = replies(&mut f);
    assert_eq!(
        next[0].1,
        vec![
            IpcpOption::IpAddress(PEER),
            IpcpOption::PrimaryDns(DNS1),
            IpcpOption::SecondaryDns(Ipv4Addr::UNSPECIFIED)
        ]
    );
    f.handle_packet(now, &encode_packet(4, 10, &[&rej]))
        .unwrap();
    let next = replies(&mut f);
    assert_eq!(
        next[0].1,
        vec![IpcpOption::IpAddress(PEER), IpcpOption::PrimaryDns(DNS1)]
    );
}

fn ipv6cp(local: [u8; 8], peer: Option<[u8; 8]>) -> Fsm<Ipv6cp> {
    let now = Instant::now();
    let mut f = Fsm::new(
        Ipv6cp::new(Ipv6cpConfig { local, peer }, Entropy::new([4; 16])),
        FsmConfig::default(),
        1,
    );
    f.open(now);
    f.up(now);
    replies(&mut f);
    f
}

#[test]
fn ipv6cp_interface_identifier_rules() {
    let ours = [0, 0, 0, 0, 0, 0, 0, 1];
    let mut f = ipv6cp(ours, None);
    // Zero and our own identifier are Nak'd with a fresh, different, non-zero one (§4.1).
    for bad in [[0u8; 8], ours] {
        let (code, opts) = request(&mut f, 1, &[Ipv6cpOption::InterfaceIdentifier(bad)]);
        assert_eq!(code, 3);
        let [Ipv6cpOption::InterfaceIdentifier(s)] = opts[..] else {
            panic!("{opts:?}")
        };
        assert_ne!(s, [0; 8]);
        assert_ne!(s, ours);
    }
    // Compression is rejected.
    let comp = Ipv6cpOption::from_parts(2, &[0x00, 0x4f]);
    let (code, opts) = request(&mut f, 2, std::slice::from_ref(&comp));
    assert_eq!((code, opts), (4, vec![comp]));
    let good = [2, 0x11, 0x22, 0xff, 0xfe, 0x33, 0x44, 0x55];
    let (code, _) = request(&mut f, 3, &[Ipv6cpOption::InterfaceIdentifier(good)]);
    assert_eq!(code, 2);
    assert_eq!(f.negotiator().negotiated().peer, Some(good));

    // With an assigned identifier (Framed-Interface-Id), anything else is Nak'd to it.
    let assigned = [0x02, 0, 0, 0, 0, 0, 0, 0x07];
    let mut f = ipv6cp(ours, Some(assigned));
    let (code, opts) = request(&mut f, 1, &[Ipv6cpOption::InterfaceIdentifier(good)]);
    assert_eq!(
        (code, opts),
        (3, vec![Ipv6cpOption::InterfaceIdentifier(assigned)])
    );
    let (code, opts) = request(&mut f, 2, &[]);
    assert_eq!(
        (code, opts),
        (3, vec![Ipv6cpOption::InterfaceIdentifier(assigned)]),
        "suggested when omitted"
    );
}
