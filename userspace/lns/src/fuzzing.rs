//! Fuzz entry points (one per cargo-fuzz target in `fuzz/`, also replayed over the committed
//! corpora by `tests/fuzz_corpus.rs`). They take arbitrary bytes and panic only on a bug:
//! the parsers must never panic, and what they accept must behave consistently.

use crate::{config, ip_pool, users};

/// The startup-config parser. A config that parses must render to text that parses back to
/// the same config (what `write memory` relies on).
pub fn startup_config(data: &[u8]) {
    if let Ok(loaded) = config::parse_bytes("fuzz", data) {
        let text = loaded.config.render();
        match config::parse("rendered", &text) {
            Ok(again) => assert_eq!(again.config, loaded.config, "render round trip:\n{text}"),
            Err(e) => panic!("rendered config does not parse: {e}\n{text}"),
        }
        let _ = loaded.config.diff(&config::Config::default());
    }
}

/// The users file parser and the password checks on whatever it accepted.
pub fn users(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(u) = users::Users::parse("fuzz", text) {
        for name in u.names().take(4) {
            let _ = u.verify(name, "password");
            let _ = u.chap_secret(name);
        }
        let _ = u.verify_enable("password");
    }
}

/// Largest pool the fuzz target builds (keeps each run quick).
const MAX_FUZZ_POOL: u64 = 1 << 16;

/// The ip_pool parser, and the allocator on the pool it describes.
pub fn ip_pool(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(file) = ip_pool::PoolFile::parse("fuzz", text) else {
        return;
    };
    let size: u64 = file.lines.iter().map(|l| 1u64 << (32 - l.prefix_len)).sum();
    if size > MAX_FUZZ_POOL {
        return;
    }
    let local = [std::net::Ipv4Addr::new(192, 0, 2, 1)];
    let _ = file.routes_for(&local);
    let Ok(mut pool) = file.build_pool("fuzz", &local) else {
        return;
    };
    let n = pool.len();
    let mut got = Vec::new();
    for i in 0..n.min(64) {
        let user = format!("u{}", i % 3);
        got.push(pool.allocate(Some(&user)).expect("a free address").address);
    }
    for a in got.iter().rev() {
        pool.release(*a).expect("allocated addresses release");
    }
    pool.check_invariants().expect("pool invariants");
    assert_eq!(pool.free_len(), n);
}
