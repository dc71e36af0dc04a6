//! Replays every committed fuzz corpus file through the same functions the cargo-fuzz targets
//! call (this is how `make check` exercises the corpora on stable Rust).
//!
//! `PPP_WRITE_SEEDS=1 cargo test -p ppp --test fuzz_corpus` regenerates the seed files from a
//! real conversation of our engines (real encoded messages).

use std::path::PathBuf;

type Target = fn(&[u8]);

const TARGETS: [(&str, Target); 3] = [
    ("decode_packets", ppp::fuzzing::decode_packets),
    ("session_frames", ppp::fuzzing::session_frames),
    ("fsm_events", ppp::fuzzing::fsm_events),
];

fn corpus_dir(target: &str) -> PathBuf {
    corpus_replay::corpus_dir(env!("CARGO_MANIFEST_DIR"), target)
}

#[test]
fn replay_all_corpora() {
    if std::env::var_os("PPP_WRITE_SEEDS").is_some() {
        seeds::write();
    }
    for (target, run) in TARGETS {
        corpus_replay::replay(env!("CARGO_MANIFEST_DIR"), target, run);
    }
}

mod seeds {
    use std::net::Ipv4Addr;
    use std::time::{Duration, Instant};

    use ppp::frame::decode_frame;
    use ppp::lcp::AuthMethod;
    use ppp::session::{Event, Grant, Session, SessionConfig, Verdict};

    /// Frames of a real conversation (both directions), PAP or CHAP.
    fn conversation(method: AuthMethod) -> Vec<Vec<u8>> {
        let mut s = SessionConfig::authenticator(b"lns", Ipv4Addr::new(10, 0, 0, 1));
        s.lcp.auth = vec![method];
        s.ipv6_interface_id = Some([0, 0, 0, 0, 0, 0, 0, 1]);
        let mut c = SessionConfig::peer(b"user", b"secret");
        c.ipv6_interface_id = Some([0; 8]);
        let mut server = Session::new(s, [1; 16]);
        let mut client = Session::new(c, [2; 16]);
        let now = Instant::now();
        server.start(now);
        client.start(now);
        let mut all = Vec::new();
        for round in 0..12 {
            let to_c: Vec<_> = std::iter::from_fn(|| server.poll_transmit()).collect();
            let to_s: Vec<_> = std::iter::from_fn(|| client.poll_transmit()).collect();
            for f in to_c {
                let _ = client.handle_frame(now, &f);
                all.push(f);
            }
            for f in to_s {
                let _ = server.handle_frame(now, &f);
                all.push(f);
            }
            while let Some(e) = server.poll_event() {
                if let Event::AuthRequest(_) = e {
                    server.auth_verdict(
                        now,
                        Verdict::Accept(Grant {
                            ipv4: Some(Ipv4Addr::new(10, 0, 0, 2)),
                            dns: [Some(Ipv4Addr::new(10, 0, 0, 53)), None],
                            ..Grant::default()
                        }),
                    );
                }
            }
            if round == 8 {
                server.close(now + Duration::from_secs(1), b"bye");
            }
        }
        all
    }

    pub fn write() {
        let mut frames = conversation(AuthMethod::Pap);
        frames.extend(conversation(AuthMethod::ChapMd5));
        // Extra real messages: Echo, Discard, CCP request, Code-Reject.
        frames.push(vec![
            0xc0, 0x21, 9, 1, 0, 12, 1, 2, 3, 4, b'p', b'i', b'n', b'g',
        ]);
        frames.push(vec![0xc0, 0x21, 11, 2, 0, 8, 1, 2, 3, 4]);
        frames.push(vec![0x80, 0xfd, 1, 1, 0, 10, 0x12, 6, 0, 0, 0, 1]);
        frames.push(vec![0xc0, 0x21, 7, 3, 0, 8, 42, 1, 0, 4]);
        let dir = super::corpus_dir("decode_packets");
        std::fs::create_dir_all(&dir).unwrap();
        for (i, f) in frames.iter().enumerate() {
            std::fs::write(dir.join(format!("frame-{i:03}")), f).unwrap();
            if let Ok(fr) = decode_frame(f) {
                std::fs::write(dir.join(format!("packet-{i:03}")), fr.payload).unwrap();
            }
        }
        // session_frames: chunks "ctl ‖ frame" separated by 0x7e; an empty frame just lets the
        // engines talk; time-advancing chunks (ctl ≥ 0x80) fire timers.
        let dir = super::corpus_dir("session_frames");
        std::fs::create_dir_all(&dir).unwrap();
        let talk: Vec<u8> = [0x00u8, 0x7e].repeat(12);
        std::fs::write(dir.join("conversation"), &talk).unwrap();
        std::fs::write(dir.join("timeouts"), [0x9e, 0x7e].repeat(40)).unwrap();
        for (i, f) in frames
            .iter()
            .enumerate()
            .filter(|(_, f)| !f.contains(&0x7e))
        {
            let mut seed = talk.clone();
            seed.push((i % 2) as u8);
            seed.extend_from_slice(f);
            seed.extend_from_slice(&[0x7e, 0x81, 0x7e, 0x00]);
            std::fs::write(dir.join(format!("inject-{i:03}")), seed).unwrap();
        }
        // fsm_events: Up, Open, then packets for LCP (op 6) and IPCP (op 0x16), timeouts.
        let dir = super::corpus_dir("fsm_events");
        std::fs::create_dir_all(&dir).unwrap();
        for (i, f) in frames.iter().enumerate() {
            let Ok(fr) = decode_frame(f) else { continue };
            let op = match fr.protocol {
                0xc021 => 0x06,
                0x8021 => 0x16,
                _ => continue,
            };
            let mut seed = vec![0x00, 0x7e, 0x02, 0x7e, op];
            seed.extend_from_slice(fr.payload);
            seed.extend_from_slice(&[0x7e, 0x04, 0x40, 0x7e, 0x03, b'x', 0x7e, 0x04, 0xff]);
            if !fr.payload.contains(&0x7e) {
                std::fs::write(dir.join(format!("packet-{i:03}")), seed).unwrap();
            }
        }
        std::fs::write(
            dir.join("lifecycle"),
            [0, 0x7e, 2, 0x7e, 4, 200, 0x7e, 3, 0x7e, 4, 200, 0x7e, 1],
        )
        .unwrap();
    }
}
