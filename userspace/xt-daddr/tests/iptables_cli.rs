//! Loads the built libxt_DADDR.so into the real iptables/ip6tables binaries (through
//! XTABLES_LIBDIR) and checks the texts operators and tools see. Only option parsing and help
//! run here: installing a rule needs the kernel module, which the VM tests cover
//! (tests/vm/cases/daddr-*.sh: print, save and restore round trips).
//!
//! Nothing here touches the host's rule set: every command exits in option parsing.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

/// The cdylib cargo built next to this test's `deps/` directory (built here when a plain
/// `cargo test` did not: a cdylib is no dependency of the tests), copied into a directory of
/// its own so libxtables finds it by name. Copied once per test process: the tests run in
/// parallel threads, and a second copy truncating the file while another test's iptables is
/// loading it made that iptables silently skip the extension.
fn extension_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let exe = std::env::current_exe().expect("current_exe");
        let profile = exe
            .parent()
            .and_then(Path::parent)
            .expect("target/<profile>");
        // A `cargo build -p xt-daddr` of this profile is used only if it is newer than every
        // source of the extension: an older one would test stale code.
        let mut so = profile.join("libxt_DADDR.so");
        if !is_fresh(&so) {
            so = build_extension(profile);
        }
        // Next to the build, not in /tmp: a noexec /tmp would make dlopen refuse it. Copied
        // under a private name and renamed, so a concurrent run never sees a partial file.
        let dir = profile.join("xt-daddr-test-extensions");
        std::fs::create_dir_all(&dir).expect("extension dir");
        let partial = dir.join(format!(".libxt_DADDR.so.{}", std::process::id()));
        std::fs::copy(&so, &partial).expect("copy libxt_DADDR.so");
        std::fs::rename(&partial, dir.join("libxt_DADDR.so")).expect("rename libxt_DADDR.so");
        dir
    })
}

/// Whether `so` exists and is newer than the crate's sources (`src/`, `build.rs`, `wrapper.h`,
/// `Cargo.toml`).
fn is_fresh(so: &Path) -> bool {
    let Ok(built) = std::fs::metadata(so).and_then(|m| m.modified()) else {
        return false;
    };
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut sources: Vec<PathBuf> = ["build.rs", "wrapper.h", "Cargo.toml"]
        .iter()
        .map(|f| crate_dir.join(f))
        .collect();
    if let Ok(entries) = std::fs::read_dir(crate_dir.join("src")) {
        sources.extend(entries.flatten().map(|e| e.path()));
    }
    sources.iter().all(|src| {
        std::fs::metadata(src)
            .and_then(|m| m.modified())
            .is_ok_and(|t| t <= built)
    })
}

/// `cargo build -p xt-daddr` in the test's profile, into a target directory of its own: the
/// `cargo test` that runs us still holds the lock of the one it built us in.
fn build_extension(profile: &Path) -> PathBuf {
    let target = profile.join("xt-daddr-build");
    let name = profile
        .file_name()
        .and_then(|n| n.to_str())
        .expect("profile directory name");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
    let mut build = Command::new(cargo);
    build
        .args(["build", "--quiet", "-p", "xt-daddr", "--manifest-path"])
        .arg(&manifest)
        .arg("--target-dir")
        .arg(&target);
    match name {
        "debug" => {}
        "release" => {
            build.arg("--release");
        }
        other => {
            build.args(["--profile", other]);
        }
    }
    let status = build.status().expect("run cargo to build libxt_DADDR.so");
    assert!(status.success(), "cargo build -p xt-daddr failed");
    let so = target.join(name).join("libxt_DADDR.so");
    assert!(so.exists(), "{} not built", so.display());
    so
}

fn system_xtlibdir() -> String {
    let out = Command::new("pkg-config")
        .args(["--variable=xtlibdir", "xtables"])
        .output()
        .expect("pkg-config (libxtables-dev is a build dependency)");
    String::from_utf8(out.stdout)
        .expect("utf-8")
        .trim()
        .to_owned()
}

/// Run `tool args...` with our extension first on the search path; `None` if the tool is not
/// installed here.
fn run(tool: &str, args: &[&str]) -> Option<Output> {
    let libdir = format!("{}:{}", extension_dir().display(), system_xtlibdir());
    match Command::new(tool)
        .args(args)
        .env("XTABLES_LIBDIR", libdir)
        .output()
    {
        Ok(o) => Some(o),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if std::env::var_os("CI").is_some() {
                panic!("CI is set but {tool} is not installed (apt-get install iptables)");
            }
            eprintln!("{tool} not installed and CI unset: skipping");
            None
        }
        Err(e) => panic!("{tool}: {e}"),
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn help_is_byte_identical_to_the_original() {
    let cases = [
        (
            "iptables-legacy",
            "\nDADDR target options:\n  --set-daddr <ipaddr>          Address to set for the IPv4 destination field\n",
        ),
        (
            "ip6tables-legacy",
            "\nDADDR target options:\n  --set-daddr <ip6addr>         Address to set for the IPv6 destination field\n",
        ),
    ];
    for (tool, expected) in cases {
        let Some(out) = run(tool, &["-j", "DADDR", "-h"]) else {
            continue;
        };
        let stdout = text(&out.stdout);
        assert!(stdout.ends_with(expected), "{tool} help:\n{stdout}");
    }
}

#[test]
fn parameter_problems_use_the_original_messages() {
    let cases: [(&str, &[&str], &str); 5] = [
        (
            "iptables-legacy",
            &["--set-daddr", "foo"],
            "Bad IPv4 address `foo'\n",
        ),
        (
            "iptables-legacy",
            &["--set-daddr=10.0.0.256"],
            "Bad IPv4 address `10.0.0.256'\n",
        ),
        (
            "ip6tables-legacy",
            &["--set-daddr", "192.0.2.1"],
            "Bad IPv6 address `192.0.2.1'\n",
        ),
        (
            "iptables-legacy",
            &["--set-daddr", "192.0.2.1", "--set-daddr=192.0.2.2"],
            "DADDR target: Cant specify --set-daddr twice",
        ),
        (
            "ip6tables-legacy",
            &[],
            "DADDR target: Parameter --set-daddr is required",
        ),
    ];
    for (tool, opts, message) in cases {
        let mut args = vec!["-t", "raw", "-A", "PREROUTING", "-j", "DADDR"];
        args.extend_from_slice(opts);
        let Some(out) = run(tool, &args) else {
            continue;
        };
        let stderr = text(&out.stderr);
        // xtables' exit_err: "<prog> v<ver> (legacy): <message>\n"
        assert_eq!(out.status.code(), Some(2), "{tool} {args:?}: {stderr}");
        assert!(
            stderr.contains(&format!("(legacy): {message}")),
            "{tool} {args:?}: {stderr}"
        );
    }
}
