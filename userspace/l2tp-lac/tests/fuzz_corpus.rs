//! Replays every committed seed of every fuzz corpus through the same entry points as the
//! fuzz targets (this is how `make check` runs the corpora on stable).

use std::fs;
use std::path::Path;

use l2tp_lac::fuzzing;

fn replay(target: &str, f: fn(&[u8])) -> usize {
    corpus_replay::replay(env!("CARGO_MANIFEST_DIR"), target, f)
}

#[test]
fn probe_corpus() {
    assert!(replay("probe", fuzzing::probe) > 0);
}

#[test]
fn endpoint_corpus() {
    assert!(replay("endpoint", fuzzing::endpoint) > 0);
}

/// The recorded conversation really reaches IPCP on the LNS side (a seed that stopped at the
/// first message would fuzz little).
#[test]
fn recorded_conversation_is_deep() {
    let rec = fuzzing::record_conversation();
    // SCCRQ, SCCCN, ICRQ, ICCN, LCP, PAP, IPCP and the probe: well over a dozen datagrams.
    let mut n = 0;
    let mut rest = &rec[..];
    while rest.len() >= 3 {
        let len = usize::from(u16::from_be_bytes([rest[1], rest[2]]));
        rest = &rest[3 + len..];
        n += 1;
    }
    assert!(n >= 12, "{n} datagrams recorded");
    fuzzing::endpoint(&rec);
}

/// `cargo test -p l2tp-lac --test fuzz_corpus -- --ignored regenerate_seed_corpora`
#[test]
#[ignore]
fn regenerate_seed_corpora() {
    let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
    fs::create_dir_all(base.join("endpoint")).unwrap();
    fs::create_dir_all(base.join("probe")).unwrap();
    fs::write(
        base.join("endpoint/pap-conversation"),
        fuzzing::record_conversation(),
    )
    .unwrap();
    let p = l2tp_lac::probe::Probe {
        session: 3,
        seq: 7,
        sent_ns: 11,
    };
    let from = "100.64.0.2:40000".parse().unwrap();
    let to = "198.51.100.1:9000".parse().unwrap();
    fs::write(
        base.join("probe/udp-200"),
        l2tp_lac::probe::build(from, to, p, 200),
    )
    .unwrap();
    fs::write(
        base.join("probe/udp-min"),
        l2tp_lac::probe::build(from, to, p, 0),
    )
    .unwrap();
}
