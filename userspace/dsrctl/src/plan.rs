//! The planner: the configured VIPs against what is running give the status table, the
//! `check` verdict and the ordered steps of `start` and `stop`. Pure; the executor runs steps.
//!
//! Only what the configuration names is touched: addresses on `lo` and DADDR rules that no
//! configured VIP accounts for are reported (`-a`) and left alone, except by `stop -a`, which
//! is the operator asking to remove every loopback VIP and DADDR rule.

use std::collections::HashSet;
use std::net::IpAddr;

use crate::config::{Conflict, Dsr, EntryError};
use crate::state::{long_form, Observed};

/// The state of one VIP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Started,
    /// L3DSR with only one of its loopback address and rule.
    Partial,
    Stopped,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Started => "started",
            State::Partial => "partial",
            State::Stopped => "stopped",
        }
    }
}

pub fn dsr_state(d: &Dsr, obs: &Observed) -> State {
    let lo = obs.addr(d.addr).is_some();
    match &d.dscp {
        None if lo => State::Started,
        None => State::Stopped,
        Some(x) => match (lo, obs.rule(d.addr, x.value).is_some()) {
            (true, true) => State::Started,
            (false, false) => State::Stopped,
            _ => State::Partial,
        },
    }
}

/// A VIP found running (its rule and its loopback address) that no configuration line names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discovered {
    pub addr: IpAddr,
    pub text: String,
    pub dscp: u8,
}

/// The running rules whose address is also on `lo` and which no configured VIP accounts for:
/// they are shown as DSRs of their own (`disc`). One that reuses the DSCP of a configured VIP
/// of the same family is reported as a conflict instead.
pub fn discover(config: &[Dsr], obs: &Observed) -> (Vec<Discovered>, Vec<EntryError>) {
    let mut found = Vec::new();
    let mut errors = Vec::new();
    for r in &obs.rules {
        if config.iter().any(|d| d.key() == (r.addr, Some(r.dscp)))
            || obs.addr(r.addr).is_none()
            || config.iter().any(|d| d.addr == r.addr)
        {
            continue;
        }
        if let Some(prev) = config.iter().find(|d| {
            d.addr.is_ipv4() == r.addr.is_ipv4() && d.dscp.as_ref().map(|x| x.value) == Some(r.dscp)
        }) {
            errors.push(EntryError::DscpInUse(Box::new(Conflict {
                prev_ip: prev.addr_text.clone(),
                ip: r.text.clone(),
                dscp: r.dscp.to_string(),
                prev_file: prev.file.clone(),
                prev_line: prev.line.to_string(),
                file: "none".into(),
                line: "none".into(),
            })));
            continue;
        }
        found.push(Discovered {
            addr: r.addr,
            text: r.text.clone(),
            dscp: r.dscp,
        });
    }
    (found, errors)
}

/// One line of the status table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub kind: &'static str,
    pub state: &'static str,
    pub name: String,
    pub ip: String,
    pub dscp: String,
    pub loopback: String,
    pub iptables: &'static str,
    pub table: String,
    pub src: &'static str,
    /// For VIP rows, what `-vv` prints before the row.
    pub trace: Option<String>,
}

/// The status table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub all: bool,
    pub rows: Vec<Row>,
    name_w: usize,
    ip_w: usize,
    table_w: usize,
}

/// Build the status table. `all` (`-a`) adds the VIPs found running and every other loopback
/// address and DADDR rule; `table` is the iptables table shown (`--` when the module is not
/// loaded).
pub fn status(
    config: &[Dsr],
    found: &[Discovered],
    obs: &Observed,
    table: &str,
    all: bool,
) -> Table {
    let mut rows = Vec::new();
    for d in config {
        let state = dsr_state(d, obs);
        let (kind, dscp, up) = match &d.dscp {
            Some(x) => ("l3dsr", x.text.clone(), obs.rule(d.addr, x.value).is_some()),
            None => ("l2dsr", "--".to_owned(), false),
        };
        rows.push(Row {
            kind,
            state: state.as_str(),
            name: d.name.clone(),
            ip: d.addr_text.clone(),
            dscp,
            loopback: obs.addr(d.addr).map_or("--".into(), |a| a.column()),
            iptables: if up { "up" } else { "--" },
            table: table.to_owned(),
            src: "conf",
            trace: Some(format!(
                "Checking configured DSR {}={}",
                d.name,
                d.dscp.as_ref().map_or("", |x| x.text.as_str())
            )),
        });
    }
    // Widths without -a: the VIPs (configured and discovered) and the headers.
    let mut name_w = "name".len();
    let mut ip_w = "ipaddr".len();
    let table_w = "iptbl".len().max(table.len());
    for d in config {
        name_w = name_w.max(d.name.len());
        ip_w = ip_w.max(d.addr_text.len());
    }
    for f in found {
        name_w = name_w.max(f.text.len());
        ip_w = ip_w.max(f.text.len());
    }
    if all {
        for f in found {
            let lo = obs.addr(f.addr).map_or("--".into(), |a| a.column());
            rows.push(Row {
                kind: "l3dsr",
                state: "started",
                name: f.text.clone(),
                ip: f.text.clone(),
                dscp: f.dscp.to_string(),
                loopback: lo,
                iptables: "up",
                table: table.to_owned(),
                src: "disc",
                trace: Some(format!("Checking configured DSR {}={}", f.text, f.dscp)),
            });
        }
        for a in &obs.addrs {
            let text = a.addr.to_string();
            name_w = name_w.max(text.len());
            ip_w = ip_w.max(text.len());
            if config.iter().any(|d| d.addr == a.addr) || found.iter().any(|f| f.addr == a.addr) {
                continue;
            }
            rows.push(Row {
                kind: "loopb",
                state: "started",
                name: text.clone(),
                ip: text,
                dscp: "--".into(),
                loopback: a.column(),
                iptables: "--",
                table: "--".into(),
                src: "disc",
                trace: None,
            });
        }
        for r in &obs.rules {
            name_w = name_w.max(r.text.len());
            ip_w = ip_w.max(r.text.len());
            if config.iter().any(|d| d.key() == (r.addr, Some(r.dscp)))
                || found.iter().any(|f| f.addr == r.addr && f.dscp == r.dscp)
            {
                continue;
            }
            rows.push(Row {
                kind: "iptbl",
                state: "started",
                name: r.text.clone(),
                ip: r.text.clone(),
                dscp: r.dscp_text.clone(),
                loopback: "--".into(),
                iptables: "up",
                table: table.to_owned(),
                src: "disc",
                trace: None,
            });
        }
    }
    Table {
        all,
        rows,
        name_w,
        ip_w,
        table_w,
    }
}

impl Table {
    fn line(&self, c: [&str; 9]) -> String {
        let (n, i, t) = (self.name_w, self.ip_w, self.table_w);
        if self.all {
            format!(
                "{:<5} {:<7} {:<n$}  {:<i$}  {:<4} {:<8} {:<8} {:<t$} {}",
                c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8]
            )
        } else {
            format!(
                "{:<5} {:<7} {:<n$}  {:<i$}  {:<4} {:<8} {}",
                c[0], c[1], c[2], c[3], c[4], c[5], c[6]
            )
        }
    }

    /// The two header lines.
    pub fn header(&self) -> [String; 2] {
        let eq = |w: usize| "=".repeat(w);
        let (n, i, t) = (eq(self.name_w), eq(self.ip_w), eq(self.table_w));
        [
            self.line([
                "type", "state", "name", "ipaddr", "dscp", "loopback", "iptables", "iptbl", "src",
            ]),
            self.line([
                "=====", "=======", &n, &i, "====", "========", "========", &t, "====",
            ]),
        ]
    }

    pub fn render(&self, r: &Row) -> String {
        self.line([
            r.kind,
            r.state,
            &r.name,
            &r.ip,
            &r.dscp,
            &r.loopback,
            r.iptables,
            &r.table,
            r.src,
        ])
    }
}

/// The `check` verdict: the message and the exit status (0 all started, 1 none, 3 some or no
/// VIP configured).
pub fn check(config: &[Dsr], obs: &Observed) -> (&'static str, i32) {
    if config.is_empty() {
        return ("No configured DSRs found.", 3);
    }
    let started = config
        .iter()
        .filter(|d| dsr_state(d, obs) == State::Started)
        .count();
    if started == 0 {
        ("No DSRs started.", 1)
    } else if started == config.len() {
        ("All DSRs started.", 0)
    } else {
        ("Some DSRs not started.", 3)
    }
}

/// One change, or a trace line of the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// What `-vv` prints at this point.
    Trace(String),
    /// Add the DADDR rule `--dscp dscp --set-daddr addr`.
    AddRule {
        addr: IpAddr,
        addr_text: String,
        dscp_text: String,
    },
    /// Put `addr` on `lo` (an IPv4 address gets the next free `lo:N` label at that moment).
    AddAddr { addr: IpAddr, addr_text: String },
    /// Delete the rule, `count` times (identical rules are all removed).
    DelRule {
        addr: IpAddr,
        addr_text: String,
        dscp_text: String,
        count: usize,
    },
    /// Remove `addr` from `lo`.
    DelAddr {
        addr: IpAddr,
        addr_text: String,
        alias: Option<String>,
    },
}

/// Start the configured VIPs that are not started, in configuration order: for each, its rule
/// (L3DSR) then its loopback address. What already runs is kept, so a second start changes
/// nothing. IPv6 VIPs are skipped when IPv6 is disabled.
pub fn start(config: &[Dsr], obs: &Observed, ipv6: bool) -> Vec<Step> {
    let mut steps = Vec::new();
    let mut addrs: HashSet<IpAddr> = HashSet::new();
    for d in config {
        if d.addr.is_ipv6() && !ipv6 {
            continue;
        }
        steps.push(Step::Trace(format!(
            "Starting DSR {}={}",
            d.name,
            d.dscp
                .as_ref()
                .map_or(String::new(), |x| x.value.to_string())
        )));
        if dsr_state(d, obs) == State::Started {
            continue;
        }
        if let Some(x) = &d.dscp {
            if obs.rule(d.addr, x.value).is_none() {
                steps.push(Step::AddRule {
                    addr: d.addr,
                    addr_text: d.addr_text.clone(),
                    dscp_text: x.text.clone(),
                });
            }
        }
        if obs.addr(d.addr).is_none() && addrs.insert(d.addr) {
            steps.push(Step::AddAddr {
                addr: d.addr,
                addr_text: if d.addr.is_ipv4() {
                    d.addr_text.clone()
                } else {
                    d.name.clone()
                },
            });
        }
    }
    steps
}

/// Stop the configured VIPs in reverse order: rule, then loopback address.
pub fn stop(config: &[Dsr], obs: &Observed, ipv6: bool) -> Vec<Step> {
    let mut steps = Vec::new();
    let mut rules: HashSet<(IpAddr, u8)> = HashSet::new();
    let mut addrs: HashSet<IpAddr> = HashSet::new();
    for d in config.iter().rev() {
        if d.addr.is_ipv6() && !ipv6 {
            continue;
        }
        steps.push(Step::Trace(format!(
            "Stopping DSR {}={}",
            d.name,
            d.dscp.as_ref().map_or("", |x| x.text.as_str())
        )));
        if let Some(x) = &d.dscp {
            if let Some(r) = obs.rule(d.addr, x.value) {
                if rules.insert((d.addr, x.value)) {
                    steps.push(Step::DelRule {
                        addr: d.addr,
                        addr_text: d.addr_text.clone(),
                        dscp_text: x.text.clone(),
                        count: r.count,
                    });
                }
            }
        }
        if let Some(a) = obs.addr(d.addr) {
            if addrs.insert(d.addr) {
                steps.push(Step::DelAddr {
                    addr: d.addr,
                    addr_text: if d.addr.is_ipv4() {
                        d.addr_text.clone()
                    } else {
                        d.name.clone()
                    },
                    alias: a.alias.clone(),
                });
            }
        }
    }
    steps
}

/// `stop -a`, after the configured VIPs are stopped: remove every remaining DADDR rule of the
/// table and every address on `lo` (but 127.0.0.1 and ::1).
pub fn stop_all(obs: &Observed) -> Vec<Step> {
    let mut steps = Vec::new();
    for r in &obs.rules {
        steps.push(Step::Trace(format!(
            "Removing iptables rule {}={}",
            r.text, r.dscp_text
        )));
        steps.push(Step::DelRule {
            addr: r.addr,
            addr_text: r.text.clone(),
            dscp_text: r.dscp_text.clone(),
            count: r.count,
        });
    }
    for a in &obs.addrs {
        steps.push(Step::Trace(format!(
            "Removing loopback alias {}",
            long_form(a.addr)
        )));
        steps.push(Step::DelAddr {
            addr: a.addr,
            addr_text: a.addr.to_string(),
            alias: a.alias.clone(),
        });
    }
    steps
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{load, Resolver};
    use crate::state::LoAddr;
    use std::net::Ipv4Addr;

    struct NoDns;
    impl Resolver for NoDns {
        fn ipv4_of(&mut self, _: &str) -> Option<Ipv4Addr> {
            None
        }
    }

    fn conf(text: &str) -> Vec<Dsr> {
        load(
            &[("20-vip.conf".into(), text.into())],
            &mut NoDns,
            &mut |_| {},
        )
        .unwrap()
        .dsrs
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    /// Apply steps to a model of the system, numbering aliases as the executor does.
    fn apply(obs: &mut Observed, steps: &[Step]) {
        for s in steps {
            match s {
                Step::AddRule {
                    addr,
                    addr_text,
                    dscp_text,
                } => {
                    let v = crate::config::parse_number(dscp_text).unwrap() as u8;
                    obs.add_rule(*addr, addr_text, &format!("{v:#04x}"), v)
                }
                Step::AddAddr { addr, .. } => {
                    let alias = addr.is_ipv4().then(|| obs.next_alias().to_string());
                    obs.addrs.push(LoAddr { addr: *addr, alias })
                }
                Step::DelRule {
                    addr, dscp_text, ..
                } => {
                    let v = crate::config::parse_number(dscp_text).unwrap() as u8;
                    obs.rules.retain(|r| !(r.addr == *addr && r.dscp == v))
                }
                Step::DelAddr { addr, .. } => obs.addrs.retain(|a| a.addr != *addr),
                Step::Trace(_) => {}
            }
        }
    }

    fn changes(steps: &[Step]) -> usize {
        steps
            .iter()
            .filter(|s| !matches!(s, Step::Trace(_)))
            .count()
    }

    const MIX: &str =
        "188.125.67.68=28\n188.125.82.38\n2a00:1288:110:21b::4002 =19\n188.125.82.196= 0x2b\n";

    fn foreign() -> Observed {
        let mut o = Observed::default();
        o.addrs.push(LoAddr {
            addr: ip("10.9.9.9"),
            alias: Some("1".into()),
        });
        o.add_rule(ip("10.9.9.8"), "10.9.9.8", "0x3e", 62);
        o
    }

    #[test]
    fn start_is_idempotent_and_keeps_foreign_state() {
        let c = conf(MIX);
        let mut o = foreign();
        let s = start(&c, &o, true);
        assert_eq!(changes(&s), 7, "3 rules and 4 addresses: {s:?}");
        apply(&mut o, &s);
        assert!(c.iter().all(|d| dsr_state(d, &o) == State::Started));
        // Aliases continue after the foreign lo:1.
        assert_eq!(o.addr(ip("188.125.67.68")).unwrap().column(), "lo:2");
        assert_eq!(
            o.addr(ip("2a00:1288:110:21b::4002")).unwrap().column(),
            "lo"
        );
        assert_eq!(changes(&start(&c, &o, true)), 0, "start twice = no change");
        assert_eq!(check(&c, &o), ("All DSRs started.", 0));
        let st = stop(&c, &o, true);
        apply(&mut o, &st);
        assert_eq!(
            o,
            foreign(),
            "stop leaves exactly the foreign address and rule"
        );
        assert_eq!(check(&c, &o), ("No DSRs started.", 1));
        assert_eq!(changes(&stop(&c, &o, true)), 0);
    }

    #[test]
    fn partial_is_completed_and_ipv6_skipped_when_disabled() {
        let c = conf(MIX);
        let mut o = Observed::default();
        o.add_rule(ip("188.125.67.68"), "188.125.67.68", "0x1c", 28);
        assert_eq!(dsr_state(&c[0], &o), State::Partial);
        assert_eq!(check(&c, &o), ("No DSRs started.", 1));
        let s = start(&c, &o, false);
        assert!(!s
            .iter()
            .any(|x| matches!(x, Step::AddRule { addr, .. } if *addr == ip("188.125.67.68"))));
        assert!(!s.iter().any(|x| matches!(x, Step::AddRule { addr, .. } | Step::AddAddr { addr, .. } if addr.is_ipv6())));
        apply(&mut o, &s);
        assert_eq!(check(&c, &o), ("Some DSRs not started.", 3));
    }

    #[test]
    fn identical_rules_are_all_removed() {
        let c = conf("188.125.67.68=28\n");
        let mut o = Observed::default();
        for _ in 0..3 {
            o.add_rule(ip("188.125.67.68"), "188.125.67.68", "0x1c", 28);
        }
        let s = stop(&c, &o, true);
        assert!(s
            .iter()
            .any(|x| matches!(x, Step::DelRule { count: 3, .. })));
    }

    #[test]
    fn status_table_layout() {
        let c = conf("188.125.67.1=10\n2a00:1288:110:21b::4005\n");
        let mut o = foreign();
        o.addrs.push(LoAddr {
            addr: ip("188.125.66.2"),
            alias: Some("2".into()),
        });
        o.add_rule(ip("188.125.66.2"), "188.125.66.2", "0x14", 20);
        let (found, errs) = discover(&c, &o);
        assert!(errs.is_empty());
        assert_eq!(found.len(), 1);
        let t = status(&c, &found, &o, "mangle", false);
        let mut out: Vec<String> = t.header().to_vec();
        out.extend(t.rows.iter().map(|r| t.render(r)));
        assert_eq!(
            out,
            vec![
                "type  state   name                     ipaddr                   dscp loopback iptables",
                "===== ======= =======================  =======================  ==== ======== ========",
                "l3dsr stopped 188.125.67.1             188.125.67.1             10   --       --",
                "l2dsr stopped 2a00:1288:110:21b::4005  2a00:1288:110:21b::4005  --   --       --",
            ]
        );
        let t = status(&c, &found, &o, "raw", true);
        let mut out: Vec<String> = t.header().to_vec();
        out.extend(t.rows.iter().map(|r| t.render(r)));
        assert_eq!(
            out,
            vec![
                "type  state   name                     ipaddr                   dscp loopback iptables iptbl src",
                "===== ======= =======================  =======================  ==== ======== ======== ===== ====",
                "l3dsr stopped 188.125.67.1             188.125.67.1             10   --       --       raw   conf",
                "l2dsr stopped 2a00:1288:110:21b::4005  2a00:1288:110:21b::4005  --   --       --       raw   conf",
                "l3dsr started 188.125.66.2             188.125.66.2             20   lo:2     up       raw   disc",
                "loopb started 10.9.9.9                 10.9.9.9                 --   lo:1     --       --    disc",
                "iptbl started 10.9.9.8                 10.9.9.8                 0x3e --       up       raw   disc",
            ]
        );
    }

    #[test]
    fn discovered_rule_reusing_a_configured_dscp_is_a_conflict() {
        let c = conf("188.125.67.1=20\n");
        let mut o = Observed::default();
        o.addrs.push(LoAddr {
            addr: ip("188.125.66.2"),
            alias: Some("1".into()),
        });
        o.add_rule(ip("188.125.66.2"), "188.125.66.2", "0x14", 20);
        let (found, errs) = discover(&c, &o);
        assert!(found.is_empty());
        assert_eq!(errs.len(), 1);
    }

    #[test]
    fn stop_all_removes_everything_left() {
        let mut o = foreign();
        let s = stop_all(&o);
        apply(&mut o, &s);
        assert_eq!(o, Observed::default());
    }
}
