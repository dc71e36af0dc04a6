//! The `l2tpns` binary's command line, run as a process: options, `--check-config` over the
//! packaged sample files and over broken ones, exit statuses.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn l2tpns(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_l2tpns"))
        .args(args)
        .output()
        .expect("run l2tpns")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A throwaway configuration directory, removed on drop.
struct ConfDir(PathBuf);

impl ConfDir {
    fn new(name: &str, files: &[(&str, &str)]) -> Self {
        let d = std::env::temp_dir().join(format!("l2tpns-cli-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        for (f, t) in files {
            std::fs::write(d.join(f), t).unwrap();
        }
        ConfDir(d)
    }
    fn config(&self) -> String {
        self.0.join("startup-config").display().to_string()
    }
}

impl Drop for ConfDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn sample_config() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../packaging/l2tpns/startup-config")
        .display()
        .to_string()
}

#[test]
fn packaged_sample_files_check_clean() {
    let out = l2tpns(&["-c", &sample_config(), "--check-config"]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(stdout.contains("configuration OK"), "{stdout}");
    // The sample ip_pool has two /24s: 254 usable addresses each.
    assert!(stdout.contains("508 pool address(es)"), "{stdout}");
}

#[test]
fn every_error_names_file_line_and_key_and_fails() {
    let d = ConfDir::new(
        "bad",
        &[
            (
                "startup-config",
                "# comment\nset debug 9\nset bind_addres 192.0.2.1\n",
            ),
            ("users", "no-password-here\n"),
            ("ip_pool", "10.0.0.0/33\n"),
        ],
    );
    let cfg = d.config();
    let out = l2tpns(&["-c", &cfg, "--check-config"]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains(&format!("{cfg}:2: debug: bad value \"9\"")),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "{cfg}:3: bind_addres: unknown key (did you mean bind_address?)"
        )),
        "{err}"
    );
    assert!(err.contains("users:1:"), "{err}");
    assert!(err.contains("ip_pool:1: 10.0.0.0/33:"), "{err}");
    assert!(err.contains("4 error(s)"), "{err}");
}

#[test]
fn keys_not_acted_on_are_noted_and_missing_optional_files_warned() {
    let d = ConfDir::new(
        "notes",
        &[("startup-config", "set cluster_address 192.0.2.7\n")],
    );
    let out = l2tpns(&["-c", &d.config(), "--check-config", "-h", "lns-a"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(
        err.contains("note:") && err.contains("cluster_address"),
        "{err}"
    );
    assert!(
        err.contains("warning:") && err.contains("users: no such file"),
        "{err}"
    );
}

#[test]
fn missing_startup_config_fails_with_its_path() {
    let out = l2tpns(&["-c", "/nonexistent/l2tpns/startup-config", "--check-config"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("/nonexistent/l2tpns/startup-config: "));
}

#[test]
fn options_of_the_original_parse() {
    let out = l2tpns(&["--help"]);
    assert!(out.status.success());
    let help = text(&out.stdout);
    for opt in [
        "-c <FILE>",
        "-d",
        "-v",
        "-h <HOST>",
        "--check-config",
        "--version",
    ] {
        assert!(help.contains(opt), "{opt} missing in {help}");
    }
    let out = l2tpns(&["--version"]);
    assert!(out.status.success());
    assert!(text(&out.stdout).starts_with("l2tpns "));
    // An unknown option is a usage error (clap's status 2), not a start.
    assert_eq!(l2tpns(&["--no-such-option"]).status.code(), Some(2));
}
