//! What is running: the addresses on `lo` and the DADDR rules of the PREROUTING chain, and the
//! reader of `iptables -L -t TABLE -n` (pure, tested on both layouts of that output).

use std::net::IpAddr;

use crate::config::parse_number;

/// An address on `lo` (other than 127.0.0.1 and ::1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoAddr {
    pub addr: IpAddr,
    /// The `N` of an IPv4 `lo:N` label (`None` for IPv6 or an unlabelled address).
    pub alias: Option<String>,
}

impl LoAddr {
    /// The `loopback` column: `lo:N` for IPv4, `lo` for IPv6.
    pub fn column(&self) -> String {
        match &self.alias {
            Some(n) if self.addr.is_ipv4() => format!("lo:{n}"),
            _ => "lo".to_owned(),
        }
    }
    fn alias_number(&self) -> Option<u32> {
        self.alias.as_deref().and_then(|n| n.parse().ok())
    }
}

/// A DADDR rule (identical rules counted once with their count).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub addr: IpAddr,
    /// The address as iptables printed it.
    pub text: String,
    /// The DSCP as iptables printed it (`0x1c`).
    pub dscp_text: String,
    pub dscp: u8,
    pub count: usize,
}

/// The running state dsrctl looks at.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Observed {
    pub addrs: Vec<LoAddr>,
    pub rules: Vec<Rule>,
}

impl Observed {
    pub fn addr(&self, a: IpAddr) -> Option<&LoAddr> {
        self.addrs.iter().find(|x| x.addr == a)
    }
    pub fn rule(&self, a: IpAddr, dscp: u8) -> Option<&Rule> {
        self.rules.iter().find(|r| r.addr == a && r.dscp == dscp)
    }
    /// The alias number for a new IPv4 VIP: one above the highest `lo:N` in use.
    pub fn next_alias(&self) -> u32 {
        self.addrs
            .iter()
            .filter_map(LoAddr::alias_number)
            .max()
            .unwrap_or(0)
            + 1
    }
    /// Count a rule found in the listing (identical rules add up).
    pub fn add_rule(&mut self, addr: IpAddr, text: &str, dscp_text: &str, dscp: u8) {
        match self
            .rules
            .iter_mut()
            .find(|r| r.addr == addr && r.dscp == dscp)
        {
            Some(r) => r.count += 1,
            None => self.rules.push(Rule {
                addr,
                text: text.to_owned(),
                dscp_text: dscp_text.to_owned(),
                dscp,
                count: 1,
            }),
        }
    }
}

/// The DADDR rules of `chain` in an `iptables -L -n` / `ip6tables -L -n` listing, in order.
///
/// A rule line is `DADDR <prot> [<opt>] <source> <destination> [matches] DSCP match 0xNN
/// DADDR set <addr>`. ip6tables before 1.8.11 prints no `opt` column, later ones print `--`
/// as iptables does; older xtables printed `0x1cDADDR` without a space. The reader finds the
/// `DSCP match` and `set` words rather than counting columns, so it reads all of these.
/// Inverted matches (`!0x1c`) are not DSR rules and are skipped.
pub fn parse_listing(text: &str, chain: &str) -> Vec<(IpAddr, String, String, u8)> {
    let mut out = Vec::new();
    let mut in_chain = false;
    for line in text.lines() {
        let t: Vec<&str> = line.split_whitespace().collect();
        if t.first() == Some(&"Chain") {
            in_chain = t.get(1) == Some(&chain);
            continue;
        }
        if !in_chain || t.first() != Some(&"DADDR") {
            continue;
        }
        let Some(m) = t.windows(2).position(|w| w == ["DSCP", "match"]) else {
            continue;
        };
        let Some(raw) = t.get(m + 2) else { continue };
        let dscp_text = raw.strip_suffix("DADDR").unwrap_or(raw);
        let Some(dscp) = parse_number(dscp_text).filter(|v| *v <= 63) else {
            continue;
        };
        let Some(s) = t[m + 2..].iter().position(|w| *w == "set") else {
            continue;
        };
        let Some(vip) = t.get(m + 2 + s + 1) else {
            continue;
        };
        let Ok(addr) = vip.parse::<IpAddr>() else {
            continue;
        };
        out.push((addr, (*vip).to_owned(), dscp_text.to_owned(), dscp as u8));
    }
    out
}

/// The long form of an IPv6 address (`2a00:1288:0110:...`), an IPv4 address as is: how the
/// upstream names loopbacks in its `-vv` trace.
pub fn long_form(a: IpAddr) -> String {
    match a {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => v6
            .segments()
            .iter()
            .map(|s| format!("{s:04x}"))
            .collect::<Vec<_>>()
            .join(":"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const V4: &str = "Chain PREROUTING (policy ACCEPT)
target     prot opt source               destination
DADDR      all  --  0.0.0.0/0            0.0.0.0/0            DSCP match 0x1c DADDR set 188.125.67.68
ACCEPT     all  --  0.0.0.0/0            0.0.0.0/0            DSCP match 0x1d
DADDR      tcp  --  0.0.0.0/0            0.0.0.0/0            tcp dpt:80 DSCP match 0x11DADDR set 188.125.82.253
DADDR      all  --  0.0.0.0/0            0.0.0.0/0            DSCP match !0x12 DADDR set 188.125.82.254

Chain OUTPUT (policy ACCEPT)
target     prot opt source               destination
DADDR      all  --  0.0.0.0/0            0.0.0.0/0            DSCP match 0x13 DADDR set 10.1.1.1
";

    #[test]
    fn iptables_listing_spaced_glued_and_other_chains() {
        let r = parse_listing(V4, "PREROUTING");
        assert_eq!(
            r,
            vec![
                (
                    "188.125.67.68".parse().unwrap(),
                    "188.125.67.68".into(),
                    "0x1c".into(),
                    28
                ),
                (
                    "188.125.82.253".parse().unwrap(),
                    "188.125.82.253".into(),
                    "0x11".into(),
                    17
                ),
            ]
        );
    }

    #[test]
    fn ip6tables_listing_with_and_without_opt_column() {
        let old = "Chain PREROUTING (policy ACCEPT)\ntarget     prot opt source               destination\n\
                   DADDR      all      ::/0                 ::/0                 DSCP match 0x24DADDR set 2001:4998:c:a06::2:4002\n";
        let new = "Chain PREROUTING (policy ACCEPT)\ntarget     prot opt source               destination\n\
                   DADDR      all  --  ::/0                 ::/0                 DSCP match 0x24 DADDR set 2001:4998:c:a06::2:4002\n";
        for l in [old, new] {
            let r = parse_listing(l, "PREROUTING");
            assert_eq!(r.len(), 1, "{l}");
            assert_eq!(r[0].0, "2001:4998:c:a06::2:4002".parse::<IpAddr>().unwrap());
            assert_eq!(r[0].3, 36);
        }
    }

    #[test]
    fn identical_rules_are_counted_and_aliases_numbered() {
        let mut o = Observed::default();
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        o.add_rule(a, "10.0.0.1", "0x1c", 28);
        o.add_rule(a, "10.0.0.1", "0x1c", 28);
        assert_eq!(o.rules.len(), 1);
        assert_eq!(o.rules[0].count, 2);
        assert_eq!(o.next_alias(), 1);
        o.addrs.push(LoAddr {
            addr: a,
            alias: Some("7".into()),
        });
        o.addrs.push(LoAddr {
            addr: "10.0.0.2".parse().unwrap(),
            alias: Some("x".into()),
        });
        assert_eq!(o.next_alias(), 8);
        assert_eq!(
            long_form("2a00:1288:110:21b::4002".parse().unwrap()),
            "2a00:1288:0110:021b:0000:0000:0000:4002"
        );
    }
}
