//! Replays every committed fuzz corpus file through the same entry points as the cargo-fuzz
//! targets, on stable (this is how `make check` covers the corpora).

use std::fs;
use std::path::PathBuf;

use iptoip::ipvs::message::IpvsMessage;
use iptoip::table::{DestKey, DestSpec, Forward, Protocol, ServiceKey};
use netlink_packet_core::{NetlinkHeader, NetlinkMessage, NetlinkPayload};
use netlink_packet_generic::GenlMessage;

fn corpus(target: &str) -> PathBuf {
    corpus_replay::corpus_dir(env!("CARGO_MANIFEST_DIR"), target)
}

fn replay(target: &str, f: fn(&[u8])) {
    corpus_replay::replay(env!("CARGO_MANIFEST_DIR"), target, f);
}

#[test]
fn config_corpus() {
    replay("config", iptoip::fuzzing::config);
}

#[test]
fn ipvs_reply_corpus() {
    replay("ipvs_reply", iptoip::fuzzing::ipvs_reply);
}

#[test]
fn state_corpus() {
    replay("state", iptoip::fuzzing::state);
}

/// The ipvs_reply seeds: whole netlink messages of the IPVS family as iptoip encodes them (the
/// kernel's dump replies carry the same attributes, plus statistics). Regenerate with
/// `cargo test -p iptoip --test fuzz_corpus -- --ignored`.
fn seeds() -> Vec<(&'static str, IpvsMessage)> {
    let v4 = ServiceKey {
        protocol: Protocol::Tcp,
        addr: "203.0.113.7".parse().unwrap(),
        port: 80,
    };
    let v6 = ServiceKey {
        protocol: Protocol::Udp,
        addr: "2001:db8::1".parse().unwrap(),
        port: 53,
    };
    let d4 = DestKey {
        addr: "192.168.1.3".parse().unwrap(),
        port: 80,
    };
    let d6 = DestKey {
        addr: "2001:db8::10".parse().unwrap(),
        port: 53,
    };
    vec![
        ("service-v4-wlc", IpvsMessage::new_service(&v4, "wlc")),
        ("service-v6-sh", IpvsMessage::set_service(&v6, "sh")),
        (
            "dest-v4-masq",
            IpvsMessage::new_dest(
                &v4,
                &d4,
                &DestSpec {
                    forward: Forward::Masq,
                    weight: 5,
                },
            ),
        ),
        (
            "dest-v6-tunl",
            IpvsMessage::set_dest(
                &v6,
                &d6,
                &DestSpec {
                    forward: Forward::Tunnel,
                    weight: 0,
                },
            ),
        ),
        ("del-dest", IpvsMessage::del_dest(&v4, &d4)),
    ]
}

#[test]
#[ignore = "writes the ipvs_reply seed corpus"]
fn regenerate_ipvs_reply_seeds() {
    for (name, msg) in seeds() {
        let mut genl = GenlMessage::from_payload(msg);
        genl.set_resolved_family_id(0x1c);
        let mut nl =
            NetlinkMessage::new(NetlinkHeader::default(), NetlinkPayload::InnerMessage(genl));
        nl.finalize();
        let mut buf = vec![0u8; nl.buffer_len()];
        nl.serialize(&mut buf);
        fs::write(corpus("ipvs_reply").join(name), buf).unwrap();
    }
}
