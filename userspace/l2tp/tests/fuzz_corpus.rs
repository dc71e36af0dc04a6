//! Replays every committed fuzz corpus file through the same entry points as the cargo-fuzz
//! targets, on stable (this is how `make check` covers the corpora).
//!
//! The seeds are real conversations; regenerate them with
//! `cargo test -p l2tp --test fuzz_corpus -- --ignored regenerate_seed_corpora`.

mod common;

use std::fs;
use std::path::PathBuf;
use std::time::Duration;

use common::*;
use l2tp::fuzzing::{LnsHarness, TestRng, SECRET};
#[allow(unused_imports)]
use l2tp::ids::{SessionId, TunnelId};
use l2tp::{CallErrors, CallInfo, Engine, ResultCode};

fn corpus_dir(target: &str) -> PathBuf {
    corpus_replay::corpus_dir(env!("CARGO_MANIFEST_DIR"), target)
}

fn replay(target: &str, f: fn(&[u8])) {
    corpus_replay::replay(env!("CARGO_MANIFEST_DIR"), target, f);
}

#[test]
fn decode_corpus() {
    replay("decode", l2tp::fuzzing::decode);
}

#[test]
fn engine_corpus() {
    replay("engine", l2tp::fuzzing::engine);
}

/// Replay an `engine` seed into a fresh harness.
fn replay_engine_seed(name: &str) -> LnsHarness {
    let data = fs::read(corpus_dir("engine").join(name)).unwrap();
    let mut h = LnsHarness::new();
    let mut rest = &data[..];
    while rest.len() >= 2 {
        let len = (rest[1] as usize).min(rest.len() - 2);
        h.step(rest[0], &rest[2..2 + len]);
        rest = &rest[2 + len..];
    }
    h
}

#[test]
fn engine_seeds_reach_deep_states() {
    // The seeds are only useful if they still get through authentication and call setup.
    let h = replay_engine_seed("session-data-wen");
    let t = h.tunnel().unwrap();
    assert!(h.engine.is_established(t));
    assert_eq!(h.engine.sessions(t).len(), 1);
    assert_eq!(h.engine.stats().auth_failures, 0);
    let h = replay_engine_seed("lifecycle-hello-teardown");
    assert_eq!(h.engine.stats().malformed, 0);
    assert!(!h.engine.is_established(h.tunnel().unwrap()));
    let h = replay_engine_seed("silent-peer-timeout");
    assert_eq!(h.engine.tunnel_count(), 0, "given up after retransmissions");
    assert!(h.engine.stats().retransmits > 0);
}

fn msg_type(b: &[u8]) -> String {
    match l2tp::header::parse(b) {
        Ok(l2tp::header::Header::Control(h)) if h.body.is_empty() => "zlb".into(),
        Ok(l2tp::header::Header::Control(h)) => {
            let t = u16::from_be_bytes([b[h.body.start + 6], b[h.body.start + 7]]);
            format!("{:?}", l2tp::MessageType::from_u16(t)).to_lowercase()
        }
        _ => "data".into(),
    }
}

/// One seed for the `engine` target: a LAC engine talks to the fuzzed LNS harness.
struct EngineSeed {
    lns: LnsHarness,
    lac: Engine,
    records: Vec<u8>,
}

impl EngineSeed {
    fn new() -> Self {
        let lac = Engine::new(lac_config(Some(SECRET)), Box::new(TestRng(1))).unwrap();
        EngineSeed {
            lns: LnsHarness::new(),
            lac,
            records: Vec::new(),
        }
    }
    /// Move datagrams until both sides are quiet, advancing `step` × 100 ms per record.
    fn pump(&mut self, step: u8) {
        while let Some(t) = self.lac.poll_transmit() {
            assert!(
                t.contents.len() <= 255,
                "record too long for the seed format"
            );
            self.records
                .extend_from_slice(&[step, t.contents.len() as u8]);
            self.records.extend_from_slice(&t.contents);
            for reply in self.lns.step(step, &t.contents) {
                let _ = self
                    .lac
                    .handle_datagram(self.lns.now, LnsHarness::PEER, &reply);
            }
        }
        while self.lac.poll_event().is_some() {}
    }
    fn tunnel(&mut self) -> TunnelId {
        let t = self.lac.connect(self.lns.now, LnsHarness::PEER).unwrap();
        self.pump(1);
        assert!(self.lac.is_established(t));
        t
    }
    fn session(&mut self, t: TunnelId, serial: u32) -> SessionId {
        let call = CallInfo {
            serial,
            calling_number: Some(b"0201".to_vec()),
            proxy_auth: Some(l2tp::ProxyAuth {
                kind: 3,
                name: Some(b"u@isp".to_vec()),
                id: Some(1),
                response: Some(b"pw".to_vec()),
                challenge: None,
            }),
            ..CallInfo::default()
        };
        let s = self.lac.open_session(self.lns.now, t, call).unwrap();
        self.pump(1);
        s
    }
    fn idle(&mut self, units: u8) {
        self.records.extend_from_slice(&[units, 0]);
        self.lns.step(units, &[]);
    }
}

#[test]
#[ignore = "writes the seed corpora; run by hand"]
fn regenerate_seed_corpora() {
    // decode: every datagram of a full authenticated conversation.
    let mut net = Net::new(lac_config(Some(SECRET)), lns_config(Some(SECRET)));
    let (lt, nt) = net.establish();
    let s = net
        .lac
        .open_session(
            net.now,
            lt,
            CallInfo {
                serial: 1,
                proxy_auth: Some(l2tp::ProxyAuth {
                    kind: 2,
                    name: Some(b"bob".to_vec()),
                    challenge: Some(vec![9; 16]),
                    id: Some(4),
                    response: Some(vec![7; 16]),
                }),
                ..CallInfo::default()
            },
        )
        .unwrap();
    net.run_for(Duration::from_secs(1));
    let ns = net.lns.sessions(nt)[0];
    net.lac
        .send_data(lt, s, b"\xff\x03\xc0\x21\x01\x01\x00\x04")
        .unwrap();
    net.lac
        .wan_error_notify(
            net.now,
            lt,
            s,
            CallErrors {
                crc: 1,
                ..CallErrors::default()
            },
        )
        .unwrap();
    net.lns
        .set_link_info(net.now, nt, ns, 0, 0xffff_ffff)
        .unwrap();
    net.run_for(Duration::from_secs(61));
    net.lns
        .close_session(net.now, nt, ns, ResultCode::with_error(2, 7, "try another"))
        .unwrap();
    net.lac
        .close_tunnel(net.now, lt, ResultCode::new(1))
        .unwrap();
    net.run_for(Duration::from_secs(1));
    let dir = corpus_dir("decode");
    fs::create_dir_all(&dir).unwrap();
    let mut seen = std::collections::HashSet::new();
    for (_, _, b) in &net.sent {
        let name = msg_type(b);
        if seen.insert(name.clone()) {
            fs::write(dir.join(name), b).unwrap();
        }
    }

    // engine: conversations with the fuzzed LNS itself, so the seeds get deep.
    let dir = corpus_dir("engine");
    fs::create_dir_all(&dir).unwrap();
    let mut seed = EngineSeed::new();
    seed.tunnel();
    fs::write(dir.join("tunnel-setup"), &seed.records).unwrap();

    let mut seed = EngineSeed::new();
    let t = seed.tunnel();
    let s = seed.session(t, 1);
    seed.lac
        .send_data(t, s, b"\xff\x03\xc0\x21\x01\x01\x00\x04")
        .unwrap();
    seed.lac
        .wan_error_notify(seed.lns.now, t, s, CallErrors::default())
        .unwrap();
    seed.pump(1);
    fs::write(dir.join("session-data-wen"), &seed.records).unwrap();

    let mut seed = EngineSeed::new();
    let t = seed.tunnel();
    let s1 = seed.session(t, 1);
    seed.session(t, 2);
    seed.lac
        .close_session(seed.lns.now, t, s1, ResultCode::new(3))
        .unwrap();
    seed.pump(1);
    for _ in 0..3 {
        seed.idle(255); // 25.5 s each: HELLO time
    }
    seed.lac
        .close_tunnel(seed.lns.now, t, ResultCode::new(1))
        .unwrap();
    seed.pump(1);
    fs::write(dir.join("lifecycle-hello-teardown"), &seed.records).unwrap();

    let mut seed = EngineSeed::new();
    seed.tunnel();
    for _ in 0..3 {
        seed.idle(255); // past 60 s of silence: the LNS sends a HELLO
    }
    for _ in 0..12 {
        seed.idle(40); // which we never acknowledge: it retransmits, then gives up
    }
    fs::write(dir.join("silent-peer-timeout"), &seed.records).unwrap();
}
