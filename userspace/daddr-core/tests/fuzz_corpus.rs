//! Replays every committed fuzz seed through the same entry points cargo-fuzz uses.

#[test]
fn rewrite_corpus() {
    corpus_replay::replay(
        env!("CARGO_MANIFEST_DIR"),
        "rewrite",
        daddr_core::fuzzing::rewrite,
    );
}
