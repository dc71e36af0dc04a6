//! Replays every committed fuzz corpus file through the same entry points as the cargo-fuzz
//! targets, on stable (this is how `make check` covers the corpora).

/// A corpus directory name and the entry point its files go through.
type Target = (&'static str, fn(&[u8]));

#[test]
fn replay_corpora() {
    let targets: [Target; 5] = [
        ("startup_config", lns::fuzzing::startup_config),
        ("users", lns::fuzzing::users),
        ("ip_pool", lns::fuzzing::ip_pool),
        ("data_plane", lns::fuzzing::data_plane),
        ("state_file", lns::fuzzing::state_file),
    ];
    for (name, run) in targets {
        corpus_replay::replay(env!("CARGO_MANIFEST_DIR"), name, run);
    }
}
