//! Replays every committed fuzz corpus file through the same entry points as the cargo-fuzz
//! targets, on stable (this is how `make check` covers the corpora).

use std::fs;
use std::path::Path;

fn replay(target: &str, f: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut n = 0;
    for entry in fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        let data = fs::read(&path).unwrap();
        let outcome = std::panic::catch_unwind(|| f(&data));
        assert!(outcome.is_ok(), "{} panicked", path.display());
        n += 1;
    }
    assert!(n > 0, "empty corpus {}", dir.display());
}

#[test]
fn decode_packet_corpus() {
    replay("decode_packet", radius::fuzzing::decode_packet);
}

#[test]
fn verify_corpus() {
    replay("verify", radius::fuzzing::verify);
}

#[test]
fn client_corpus() {
    replay("client", radius::fuzzing::client);
}
