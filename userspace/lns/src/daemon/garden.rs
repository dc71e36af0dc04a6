//! The walled garden's nat rules and the site hook, carried out through the child-process
//! runners (`crate::runner`) so the loop never waits on iptables or a script.
//!
//! Chains, as the original's garden plugin: `garden` holds the site's DNAT rules (written by
//! `garden_script`, a shell fragment run with `$IPTABLES` set), `garden_users` one
//! `-s ADDRESS -j garden` per gardened session, and PREROUTING one jump to `garden_users`.

use std::net::Ipv4Addr;
use std::time::Duration;

use lns_config::config::Settings;
use lns_core::HookEvent;

use crate::runner::Job;

/// How long one iptables call may take.
const IPTABLES_TIMEOUT: Duration = Duration::from_secs(10);
/// And the site's build-garden script.
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(30);

fn ipt(s: &Settings, args: &[&str]) -> Job {
    let mut all = vec!["-w", "-t", "nat"];
    all.extend_from_slice(args);
    Job::new(&s.iptables, &all, IPTABLES_TIMEOUT)
}

/// The chains, emptied, the site's rules, and one PREROUTING jump (a jump left by an
/// earlier run is deleted first, so there is never more than one).
pub fn setup(s: &Settings) -> Vec<Job> {
    let mut jobs = vec![
        ipt(s, &["-N", "garden"]).may_fail(),
        ipt(s, &["-F", "garden"]),
    ];
    if s.garden_script.exists() {
        let mut j = Job::new(
            "/bin/sh",
            &[&s.garden_script.display().to_string()],
            SCRIPT_TIMEOUT,
        );
        j.env.push(("IPTABLES".into(), s.iptables.clone()));
        jobs.push(j);
    } else {
        log::warn!(
            "walled garden: {} not found: the garden chain stays empty",
            s.garden_script.display()
        );
    }
    jobs.extend([
        ipt(s, &["-N", "garden_users"]).may_fail(),
        ipt(s, &["-F", "garden_users"]),
        ipt(s, &["-D", "PREROUTING", "-j", "garden_users"]).may_fail(),
        ipt(s, &["-A", "PREROUTING", "-j", "garden_users"]),
    ]);
    jobs
}

/// Everything [`setup`] and the sessions added, removed.
pub fn teardown(s: &Settings) -> Vec<Job> {
    vec![
        ipt(s, &["-D", "PREROUTING", "-j", "garden_users"]).may_fail(),
        ipt(s, &["-F", "garden_users"]).may_fail(),
        ipt(s, &["-X", "garden_users"]).may_fail(),
        ipt(s, &["-F", "garden"]).may_fail(),
        ipt(s, &["-X", "garden"]).may_fail(),
    ]
}

fn user_rule(s: &Settings, op: &str, address: Ipv4Addr) -> Job {
    let a = format!("{address}/32");
    ipt(s, &[op, "garden_users", "-s", &a, "-j", "garden"])
}

/// Where conntrack(8) is, when installed.
const CONNTRACK: &str = "/usr/sbin/conntrack";

/// The rule, then (with conntrack(8) installed) the address's tracked flows forgotten: NAT
/// decides a flow at its first packet, so flows the session started before the rule was in
/// would otherwise bypass the garden for as long as they last.
pub fn add(s: &Settings, address: Ipv4Addr) -> Vec<Job> {
    let mut jobs = vec![user_rule(s, "-A", address)];
    if std::path::Path::new(CONNTRACK).exists() {
        jobs.push(
            Job::new(
                CONNTRACK,
                &["-D", "-s", &address.to_string()],
                IPTABLES_TIMEOUT,
            )
            .may_fail(),
        );
    }
    jobs
}

pub fn remove(s: &Settings, address: Ipv4Addr) -> Job {
    user_rule(s, "-D", address)
}

/// The site's hook for one event: `hook_script EVENT` with the session in its environment.
pub fn hook(s: &Settings, event: HookEvent, env: Vec<(String, String)>) -> Option<Job> {
    let script = s.hook_script.as_ref()?;
    let mut j = Job::new(
        script,
        &[&event.to_string()],
        Duration::from_secs(u64::from(s.hook_timeout)),
    );
    j.env = env;
    j.env.push(("L2TPNS_EVENT".into(), event.to_string()));
    Some(j)
}
