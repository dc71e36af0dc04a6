//! Replays every committed fuzz corpus file through the same entry points as the cargo-fuzz
//! targets, on stable (this is how `make check` covers the corpora).

fn replay(target: &str, f: fn(&[u8])) {
    corpus_replay::replay(env!("CARGO_MANIFEST_DIR"), target, f);
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

#[test]
fn dae_corpus() {
    replay("dae", radius::fuzzing::dae);
}
