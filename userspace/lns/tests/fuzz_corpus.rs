//! Replays every committed fuzz corpus file through the same entry points as the cargo-fuzz
//! targets, on stable (this is how `make check` covers the corpora).

use std::fs;
use std::path::Path;

/// A corpus directory name and the entry point its files go through.
type Target = (&'static str, fn(&[u8]));

#[test]
fn replay_corpora() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
    let targets: [Target; 5] = [
        ("startup_config", lns::fuzzing::startup_config),
        ("users", lns::fuzzing::users),
        ("ip_pool", lns::fuzzing::ip_pool),
        ("data_plane", lns::fuzzing::data_plane),
        ("state_file", lns::fuzzing::state_file),
    ];
    for (name, run) in targets {
        let dir = root.join(name);
        let mut count = 0;
        for entry in fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.expect("corpus entry").path();
            let data = fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let outcome = std::panic::catch_unwind(|| run(&data));
            assert!(outcome.is_ok(), "{} panicked", path.display());
            count += 1;
        }
        assert!(count > 0, "corpus {name} is empty");
    }
}
