//! The sample /etc/l2tpns files we ship (packaging/l2tpns/) parse, document every key, and
//! document each key with its effective default.

use std::collections::HashMap;
use std::path::PathBuf;

use lns_config::config::{self, LogTarget, Settings, BGP_KEYS, KEYS};
use lns_config::ip_pool::PoolFile;
use lns_config::users::Users;

fn shipped(name: &str) -> String {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../packaging/l2tpns")
        .join(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn active_settings() -> Settings {
    Settings {
        debug: 3,
        log_file: LogTarget::File("/var/log/l2tpns".into()),
        pid_file: Some("/run/l2tpns.pid".into()),
        save_state: true,
        ..Settings::default()
    }
}

#[test]
fn startup_config_parses_without_warnings() {
    let l = config::parse("startup-config", &shipped("startup-config"))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(l.config.settings, active_settings());
    assert!(l.not_implemented.is_empty(), "{:?}", l.not_implemented);
}

#[test]
fn startup_config_documents_every_key_with_its_default() {
    let text = shipped("startup-config");
    let mut seen: HashMap<String, usize> = HashMap::new();
    let uncommented: String = text
        .lines()
        .map(|l| {
            let Some(rest) = l.strip_prefix("#set ") else {
                return l.to_string();
            };
            let key = rest.split_whitespace().next().unwrap().to_string();
            *seen.entry(key).or_default() += 1;
            format!("set {rest}")
        })
        .collect::<Vec<_>>()
        .join("\n");
    for l in text.lines().filter(|l| l.starts_with("set ")) {
        *seen
            .entry(l.split_whitespace().nth(1).unwrap().to_string())
            .or_default() += 1;
    }
    for k in KEYS.iter().map(|k| k.name).chain(BGP_KEYS.iter().copied()) {
        assert_eq!(seen.get(k), Some(&1), "{k} should be listed once");
    }
    assert_eq!(seen.len(), KEYS.len() + BGP_KEYS.len());
    let l = config::parse("startup-config", &uncommented).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        l.config.settings,
        active_settings(),
        "a documented value differs from the default"
    );
    // The BGP keys have no default (no BGP): they are examples, and say what the commented
    // `router bgp` example says.
    let statements = commented_statements();
    assert_eq!(
        l.config.bgp.map(drop_timers),
        statements.bgp.map(drop_timers)
    );
}

/// The `router bgp` example also sets timers, which the manual's keys cannot say.
fn drop_timers(mut b: config::BgpConfig) -> config::BgpConfig {
    for n in &mut b.neighbours {
        n.timers = None;
    }
    b
}

/// The shipped file with its commented statements (not its `#set` lines) uncommented.
fn commented_statements() -> config::Config {
    let text: String = shipped("startup-config")
        .lines()
        .filter(|l| !l.starts_with("#setforward"))
        .map(|l| {
            for p in [
                "#load ",
                "#router ",
                "# neighbour ",
                "#exit",
                "#ip ",
                "# permit ",
                "# deny ",
            ] {
                if l.starts_with(p) {
                    return l[1..].to_string();
                }
            }
            l.to_string()
        })
        .collect::<Vec<_>>()
        .join("\n");
    config::parse("startup-config", &text)
        .unwrap_or_else(|e| panic!("{e}"))
        .config
}

#[test]
fn commented_statements_are_valid() {
    let c = commented_statements();
    assert_eq!(c.plugins, ["sessionctl"]);
    assert_eq!(c.bgp.unwrap().neighbours.len(), 2);
    assert_eq!(c.access_lists[0].rules.len(), 2);
}

#[test]
fn users_and_ip_pool_parse() {
    assert!(Users::parse("users", &shipped("users")).unwrap().is_empty());
    let pool = PoolFile::parse("ip_pool", &shipped("ip_pool")).unwrap();
    assert_eq!(pool.build_pool("ip_pool", &[]).unwrap().len(), 2 * 254);
}
