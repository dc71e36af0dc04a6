//! Test support shared by every crate with a cargo-fuzz target.
//!
//! Each crate keeps seed corpora under `fuzz/corpus/<target>/` and exposes the targets' entry
//! points as `fuzzing::<target>(&[u8])`. cargo-fuzz needs nightly; `make check` runs on stable,
//! so each crate's `tests/fuzz_corpus.rs` replays every committed seed through the same entry
//! points with [`replay`]. A seed that panics fails the test and names the file.

use std::fs;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

/// The corpus directory of `target` in the crate at `manifest_dir`
/// (pass `env!("CARGO_MANIFEST_DIR")`).
pub fn corpus_dir(manifest_dir: &str, target: &str) -> PathBuf {
    Path::new(manifest_dir).join("fuzz/corpus").join(target)
}

/// Feeds every file of the corpus of `target` to `entry`; returns how many files ran.
///
/// Panics (failing the calling test) if the corpus is missing or empty (a target nobody seeds
/// fuzzes little) or if any seed makes `entry` panic, naming the seed.
pub fn replay(manifest_dir: &str, target: &str, entry: fn(&[u8])) -> usize {
    let dir = corpus_dir(manifest_dir, target);
    let mut entries: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| {
            e.unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
                .path()
        })
        .collect();
    // Sorted so a failure report is the same on every run.
    entries.sort();
    for path in &entries {
        let data = fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let outcome = catch_unwind(AssertUnwindSafe(|| entry(&data)));
        assert!(outcome.is_ok(), "fuzz seed {} panicked", path.display());
    }
    assert!(!entries.is_empty(), "empty corpus {}", dir.display());
    entries.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let root =
            std::env::temp_dir().join(format!("corpus-replay-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        fs::create_dir_all(corpus_dir(root.to_str().unwrap(), "t")).unwrap();
        root
    }

    fn must_not_see_boom(data: &[u8]) {
        assert_ne!(data, b"boom");
    }

    #[test]
    fn counts_every_seed() {
        let root = scratch("count");
        for i in 0..3 {
            fs::write(
                corpus_dir(root.to_str().unwrap(), "t").join(i.to_string()),
                b"ok",
            )
            .unwrap();
        }
        assert_eq!(replay(root.to_str().unwrap(), "t", must_not_see_boom), 3);
        fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn a_panicking_seed_fails_and_is_named() {
        let root = scratch("panic");
        fs::write(
            corpus_dir(root.to_str().unwrap(), "t").join("bad-seed"),
            b"boom",
        )
        .unwrap();
        let r = root.clone();
        let err = std::thread::spawn(move || replay(r.to_str().unwrap(), "t", must_not_see_boom))
            .join()
            .unwrap_err();
        let msg = err.downcast_ref::<String>().unwrap();
        assert!(msg.contains("bad-seed"), "{msg}");
        fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn an_empty_corpus_fails() {
        let root = scratch("empty");
        let r = root.clone();
        let outcome = std::thread::spawn(move || replay(r.to_str().unwrap(), "t", |_| {})).join();
        assert!(outcome.is_err());
        fs::remove_dir_all(root).unwrap();
    }
}
