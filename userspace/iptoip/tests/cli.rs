//! The `iptoip` binary on the host, where IPVS is usually absent: `--dry-run` (which plans
//! against an empty table then), config errors, exit statuses. Real interface addresses come
//! from rtnetlink (the loopback interface exists everywhere). The netlink path to IPVS itself is
//! tested in the VM (tests/vm/cases/iptoip-apply.sh).

use std::path::Path;
use std::process::{Command, Output};

fn iptoip(dir: &Path, config: &str, args: &[&str]) -> Output {
    let file = dir.join("iptoip.xml");
    std::fs::write(&file, config).unwrap();
    Command::new(env!("CARGO_BIN_EXE_iptoip"))
        .arg("-f")
        .arg(&file)
        .arg("--state")
        .arg(dir.join("state"))
        .args(args)
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

const ORIGIN_CONF: &str = "<config>
  <syslog>0</syslog>
  <conf>
    <origin>198.51.100.1</origin>
    <scheduler>rr</scheduler>
    <destination>192.168.1.3</destination>
    <protocol>a</protocol>
    <port>80</port>
  </conf>
  <conf>
    <origin>198.51.100.1</origin>
    <scheduler>rr</scheduler>
    <destination>192.168.1.4</destination>
    <protocol>t</protocol>
    <weight>3</weight>
    <forward>gate</forward>
    <port>80</port>
  </conf>
</config>
";

#[test]
fn dry_run_prints_the_plan_and_touches_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = iptoip(dir.path(), ORIGIN_CONF, &["--dry-run"]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    for line in [
        "add service TCP 198.51.100.1:80 scheduler rr",
        "add server 192.168.1.3:80 to TCP 198.51.100.1:80 via masq weight 1",
        "add server 192.168.1.4:80 to TCP 198.51.100.1:80 via gate weight 3",
        "add service UDP 198.51.100.1:80 scheduler rr",
        "add server 192.168.1.3:80 to UDP 198.51.100.1:80 via masq weight 1",
    ] {
        assert!(stdout.contains(line), "missing {line:?} in:\n{stdout}");
    }
    assert!(
        stdout.contains("dry run: 5 change(s) planned, none made"),
        "{stdout}"
    );
    assert!(
        !dir.path().join("state").exists(),
        "--dry-run wrote the state file"
    );
}

#[test]
fn dry_run_takes_the_vip_from_the_interface() {
    let dir = tempfile::tempdir().unwrap();
    let conf = "<config><iface>lo</iface><rfc1918>0</rfc1918><verbose>1</verbose>
        <conf><scheduler>wlc</scheduler><destination>192.168.1.3</destination>
        <protocol>t</protocol><port>8080</port></conf></config>";
    let out = iptoip(dir.path(), conf, &["--dry-run"]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    assert!(stdout.contains("interface:      lo (127.0.0.1"), "{stdout}");
    assert!(
        stdout.contains("IPVS VE MAP Port:8080 Proto:TCP 127.0.0.1 to 192.168.1.3 Sched:wlc"),
        "{stdout}"
    );
    assert!(
        stdout.contains("add service TCP 127.0.0.1:8080 scheduler wlc"),
        "{stdout}"
    );
}

#[test]
fn bad_config_fails_with_file_line_tag_and_value() {
    let dir = tempfile::tempdir().unwrap();
    let conf = ORIGIN_CONF.replace(
        "<port>80</port>\n  </conf>\n  <conf>",
        "<port>8o</port>\n  </conf>\n  <conf>",
    );
    let out = iptoip(dir.path(), &conf, &["--dry-run"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let file = dir.path().join("iptoip.xml");
    assert!(
        stderr.contains(&format!(
            "{}:8: <port>: \"8o\" is not a port",
            file.display()
        )),
        "{stderr}"
    );
    assert!(stderr.contains("nothing changed"), "{stderr}");
}

#[test]
fn missing_interface_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let conf = "<config><iface>nosuch0</iface>
        <conf><scheduler>rr</scheduler><destination>192.168.1.3</destination>
        <protocol>t</protocol><port>80</port></conf></config>";
    let out = iptoip(dir.path(), conf, &["--dry-run"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("interface nosuch0 has no usable IPv4 address"),
        "{stderr}"
    );
}

#[test]
fn unreadable_config_is_an_error() {
    let out = Command::new(env!("CARGO_BIN_EXE_iptoip"))
        .args(["-f", "/nonexistent/iptoip.xml", "--dry-run"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("/nonexistent/iptoip.xml:0: cannot read"));
}

#[test]
fn help_lists_the_options() {
    let out = Command::new(env!("CARGO_BIN_EXE_iptoip"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(out.status.success());
    let help = text(&out.stdout);
    for opt in [
        "--file",
        "--debug",
        "--dry-run",
        "--watch",
        "--help",
        "--state",
        "--verbose",
    ] {
        assert!(help.contains(opt), "{opt} missing from --help");
    }
}

#[test]
fn packaged_sample_config_is_valid() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../packaging/iptoip/iptoip.xml");
    let config = iptoip::config::load(&path).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(config.iface.as_deref(), Some("ppp0"));
    assert_eq!(config.confs.len(), 3);
}

#[test]
fn dry_run_without_ipvs_says_it_plans_against_an_empty_table() {
    if Path::new("/proc/net/ip_vs").exists() {
        return; // IPVS is loaded here: the plan is made against the real table instead.
    }
    let dir = tempfile::tempdir().unwrap();
    let out = iptoip(dir.path(), ORIGIN_CONF, &["--dry-run"]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    assert!(
        stdout.contains("IPVS is not available in this kernel: planning against an empty table"),
        "{stdout}"
    );
}

#[test]
fn a_real_run_logs_to_the_configured_logfile() {
    if Path::new("/proc/net/ip_vs").exists() {
        return; // the run would succeed and change the table of this host
    }
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("iptoip.log");
    let conf = ORIGIN_CONF.replace(
        "<syslog>0</syslog>",
        &format!("<syslog>0</syslog><logfile>{}</logfile>", log.display()),
    );
    let out = iptoip(dir.path(), &conf, &[]);
    // No IPVS on this host: the run fails, and says why in the log file, not on stderr.
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(!text(&out.stderr).contains("IPVS"), "{}", text(&out.stderr));
    let logged = std::fs::read_to_string(&log).expect("the log file was written");
    let line = logged
        .lines()
        .find(|l| l.contains("IPVS"))
        .unwrap_or_else(|| panic!("no IPVS error in {logged:?}"));
    // "Nov 22 02:30:00 message": the original's stamp in front.
    let stamp: Vec<&str> = line.split_whitespace().take(3).collect();
    assert_eq!(stamp.len(), 3, "{line}");
    assert!(
        stamp[0].len() == 3 && stamp[2].matches(':').count() == 2,
        "{line}"
    );
}

#[test]
fn the_default_config_is_etc_iptoip_xml() {
    if Path::new("/etc/iptoip.xml").exists() {
        return;
    }
    let out = Command::new(env!("CARGO_BIN_EXE_iptoip"))
        .arg("--dry-run")
        .output()
        .unwrap();
    let stderr = text(&out.stderr);
    assert_ne!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("/etc/iptoip.xml"), "{stderr}");
}
