//! Replays every committed fuzz corpus file through the same entry point as the cargo-fuzz
//! target, on stable (this is how `make check` covers the corpus).

#[test]
fn classify_corpus() {
    corpus_replay::replay(
        env!("CARGO_MANIFEST_DIR"),
        "classify",
        l2tpns_capture::fuzzing::classify_datagram,
    );
}
