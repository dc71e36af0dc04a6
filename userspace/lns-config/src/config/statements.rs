//! The startup-config statements other than `set` (reference §2, "Other startup-config
//! statements"): plugins, BGP, access lists and static LAC forwarding. They are parsed and
//! checked in full so that a config for the original is validated; acting on them is later work.

use std::net::Ipv4Addr;

/// `router bgp AS` and its `neighbour` lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BgpConfig {
    pub local_as: u16,
    pub neighbours: Vec<BgpNeighbour>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BgpNeighbour {
    /// A host name or an address, as written.
    pub peer: String,
    pub remote_as: Option<u16>,
    /// (keepalive, hold) in seconds; the original's defaults are 10 and 30.
    pub timers: Option<(u16, u16)>,
    pub update_source: Option<Ipv4Addr>,
}

/// The original speaks to at most this many peers (`BGP_NUM_PEERS`; reference §2, "max 2
/// neighbours"): its CLI refuses a third with "Too many neighbours".
pub const MAX_NEIGHBOURS: usize = 2;

impl BgpConfig {
    /// The neighbour `peer`. A new one is added with `remote_as` (nothing else set), as the
    /// original's `neighbour PEER remote-as AS` creates it; without `remote_as` a new peer is
    /// refused, as the original's "Specify remote-as first" (BGP needs the peer's AS, RFC 4271
    /// §4.2), and so is a peer beyond [`MAX_NEIGHBOURS`].
    pub(crate) fn neighbour_mut(
        &mut self,
        peer: &str,
        remote_as: Option<u16>,
    ) -> Result<&mut BgpNeighbour, String> {
        if let Some(i) = self.neighbours.iter().position(|n| n.peer == peer) {
            return Ok(&mut self.neighbours[i]);
        }
        if remote_as.is_none() {
            return Err(format!("set neighbour {peer} remote-as AS first"));
        }
        if self.neighbours.len() >= MAX_NEIGHBOURS {
            return Err(format!(
                "too many neighbours: {peer} would be number {} (at most {MAX_NEIGHBOURS})",
                self.neighbours.len() + 1
            ));
        }
        self.neighbours.push(BgpNeighbour {
            peer: peer.to_string(),
            remote_as,
            timers: None,
            update_source: None,
        });
        Ok(self.neighbours.last_mut().expect("just pushed"))
    }

    /// Applies one line of `router` mode (words after any indentation).
    pub(crate) fn apply(&mut self, w: &[&str]) -> Result<(), String> {
        match w {
            ["no", "neighbour", peer] => {
                self.neighbours.retain(|n| n.peer != *peer);
                Ok(())
            }
            ["neighbour", peer, rest @ ..] => {
                bgp_peer(peer)?;
                let remote_as = match rest {
                    ["remote-as", asn] => Some(as_number(asn)?),
                    _ => None,
                };
                let n = self.neighbour_mut(peer, remote_as)?;
                match rest {
                    ["remote-as", _] => n.remote_as = remote_as,
                    ["timers", ka, hold] => {
                        let ka: u16 = num(ka, 1, 65535, "keepalive")?;
                        let hold: u16 = num(hold, 3, 65535, "hold time")?;
                        n.timers = Some((ka, hold));
                    }
                    ["update-source", ip] => {
                        n.update_source = Some(
                            ip.parse().map_err(|_| format!("update-source {ip:?} is not an IPv4 address"))?,
                        )
                    }
                    _ => {
                        return Err("expected neighbour PEER remote-as AS | timers KEEPALIVE HOLD | update-source IP".into())
                    }
                }
                Ok(())
            }
            _ => Err("expected neighbour … or no neighbour PEER in router bgp".into()),
        }
    }
}

pub(crate) fn as_number(v: &str) -> Result<u16, String> {
    num(v, 1, 65535, "AS number")
}

/// A BGP peer as the original takes it (`neighbour <host|ip>`, `bgp_peerN`): an IPv4 address or
/// a host name to resolve (RFC 1123 §2.1: labels of letters, digits and hyphens, at most 63
/// bytes each, 253 in all).
pub(crate) fn bgp_peer(v: &str) -> Result<String, String> {
    if v.parse::<Ipv4Addr>().is_ok() {
        return Ok(v.to_string());
    }
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    let name = v.strip_suffix('.').unwrap_or(v);
    // RFC 1123 §2.1: a name never looks like a dotted-decimal number, so "192.0.2.300" is a
    // mistyped address, not a name.
    let numeric_top = name
        .rsplit('.')
        .next()
        .is_some_and(|l| l.bytes().all(|b| b.is_ascii_digit()));
    if name.len() > 253 || numeric_top || !name.split('.').all(label_ok) {
        return Err(format!(
            "{v:?} is not a BGP peer (an IPv4 address or a host name)"
        ));
    }
    Ok(v.to_string())
}

fn num<T: TryFrom<u64>>(v: &str, min: u64, max: u64, what: &str) -> Result<T, String> {
    super::values::int(v, min, max).map_err(|e| format!("{what}: {e}"))
}

/// `ip access-list {standard|extended} NAME` and its rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessList {
    pub name: String,
    pub kind: AclKind,
    pub rules: Vec<AclRule>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AclKind {
    Standard,
    Extended,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AclAction {
    Permit,
    Deny,
}

/// One rule. Rules are evaluated first-match, and a list ends with an implicit deny.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AclRule {
    pub action: AclAction,
    /// `None` = any IP protocol (`ip`, and every standard rule); else 6 (tcp) or 17 (udp).
    pub protocol: Option<u8>,
    pub source: AddressMatch,
    pub source_port: Option<PortMatch>,
    pub destination: AddressMatch,
    pub destination_port: Option<PortMatch>,
    pub tcp_flags: Option<TcpFlagsMatch>,
    /// `fragments`: matches non-initial fragments only.
    pub fragments: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressMatch {
    Any,
    Host(Ipv4Addr),
    /// Address and Cisco wildcard (inverse) mask.
    Wildcard(Ipv4Addr, Ipv4Addr),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortMatch {
    Eq(u16),
    Neq(u16),
    Gt(u16),
    Lt(u16),
    Range(u16, u16),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TcpFlagsMatch {
    /// ACK or RST set.
    Established,
    /// Any of `set` is set or any of `clear` is clear.
    MatchAny { set: u8, clear: u8 },
    /// All of `set` are set and all of `clear` are clear.
    MatchAll { set: u8, clear: u8 },
}

impl AccessList {
    /// Parses one `permit|deny …` line of an access-list mode.
    pub(crate) fn rule(&self, w: &[&str]) -> Result<AclRule, String> {
        let mut it = Tokens { w, i: 0 };
        let action = match it.next() {
            Some("permit") => AclAction::Permit,
            Some("deny") => AclAction::Deny,
            _ => return Err("expected permit or deny".into()),
        };
        let protocol = match self.kind {
            AclKind::Standard => None,
            AclKind::Extended => match it.next() {
                Some("ip") => None,
                Some("tcp") => Some(6),
                Some("udp") => Some(17),
                Some(p) => return Err(format!("unknown protocol {p:?} (ip, tcp, udp)")),
                None => return Err("missing protocol (ip, tcp, udp)".into()),
            },
        };
        let ports = protocol.is_some();
        let source = address(&mut it)?;
        let source_port = if ports { port(&mut it)? } else { None };
        let (destination, destination_port) =
            if self.kind == AclKind::Extended || it.peek().is_some() {
                let d = address(&mut it)?;
                (d, if ports { port(&mut it)? } else { None })
            } else {
                (AddressMatch::Any, None)
            };
        let mut rule = AclRule {
            action,
            protocol,
            source,
            source_port,
            destination,
            destination_port,
            tcp_flags: None,
            fragments: false,
        };
        if self.kind == AclKind::Extended {
            match it.next() {
                None => {}
                Some("fragments") => rule.fragments = true,
                Some("established") if protocol == Some(6) => {
                    rule.tcp_flags = Some(TcpFlagsMatch::Established)
                }
                Some(m @ ("match-any" | "match-all")) if protocol == Some(6) => {
                    let (mut set, mut clear) = (0u8, 0u8);
                    for f in it.by_ref() {
                        let (on, name) = match f.split_at_checked(1) {
                            Some(("+", n)) => (true, n),
                            Some(("-", n)) => (false, n),
                            _ => return Err(format!("TCP flag {f:?} must start with + or -")),
                        };
                        let bit = match name {
                            "fin" => 0x01,
                            "syn" => 0x02,
                            "rst" => 0x04,
                            "psh" => 0x08,
                            "ack" => 0x10,
                            "urg" => 0x20,
                            _ => return Err(format!("unknown TCP flag {name:?}")),
                        };
                        if on {
                            set |= bit
                        } else {
                            clear |= bit
                        }
                    }
                    if set == 0 && clear == 0 {
                        return Err(format!("{m} needs at least one +flag or -flag"));
                    }
                    rule.tcp_flags = Some(if m == "match-any" {
                        TcpFlagsMatch::MatchAny { set, clear }
                    } else {
                        TcpFlagsMatch::MatchAll { set, clear }
                    });
                }
                Some(other) => return Err(format!("unexpected {other:?}")),
            }
        }
        if let Some(extra) = it.next() {
            return Err(format!("unexpected {extra:?} at the end of the rule"));
        }
        Ok(rule)
    }
}

struct Tokens<'a, 'b> {
    w: &'b [&'a str],
    i: usize,
}

impl<'a> Tokens<'a, '_> {
    fn peek(&self) -> Option<&'a str> {
        self.w.get(self.i).copied()
    }
}

impl<'a> Iterator for Tokens<'a, '_> {
    type Item = &'a str;
    fn next(&mut self) -> Option<&'a str> {
        let t = self.peek();
        self.i += 1;
        t
    }
}

fn ip(v: Option<&str>, what: &str) -> Result<Ipv4Addr, String> {
    let v = v.ok_or_else(|| format!("missing {what}"))?;
    v.parse()
        .map_err(|_| format!("{what} {v:?} is not an IPv4 address"))
}

fn address(it: &mut Tokens) -> Result<AddressMatch, String> {
    match it.next() {
        Some("any") => Ok(AddressMatch::Any),
        Some("host") => Ok(AddressMatch::Host(ip(it.next(), "host address")?)),
        Some(a) => {
            let a = ip(Some(a), "address")?;
            let wild = ip(it.next(), "wildcard mask")?;
            Ok(AddressMatch::Wildcard(a, wild))
        }
        None => Err("missing address (any, host A, or A WILDCARD)".into()),
    }
}

fn port(it: &mut Tokens) -> Result<Option<PortMatch>, String> {
    let op = match it.peek() {
        Some(op @ ("eq" | "neq" | "gt" | "lt" | "range")) => op,
        _ => return Ok(None),
    };
    it.next();
    let mut p = || -> Result<u16, String> {
        let v = it.next().ok_or_else(|| format!("{op} needs a port"))?;
        num(v, 0, 65535, "port")
    };
    Ok(Some(match op {
        "eq" => PortMatch::Eq(p()?),
        "neq" => PortMatch::Neq(p()?),
        "gt" => PortMatch::Gt(p()?),
        "lt" => PortMatch::Lt(p()?),
        _ => {
            let (a, b) = (p()?, p()?);
            if a > b {
                return Err(format!("range {a} {b} is empty"));
            }
            PortMatch::Range(a, b)
        }
    }))
}

/// `setforward MASK IP PORT SECRET`: users whose name *contains* MASK (the original matches with
/// strstr) are forwarded to the remote LNS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forward {
    pub user_mask: String,
    pub lns: Ipv4Addr,
    pub port: u16,
    pub secret: String,
}

impl Forward {
    pub(crate) fn parse(w: &[&str]) -> Result<Self, String> {
        let [mask, ip, port, secret] = w else {
            return Err("expected setforward USER-MASK REMOTE-LNS-IP PORT SECRET".into());
        };
        Ok(Self {
            user_mask: name(mask, "user mask")?,
            lns: ip
                .parse()
                .map_err(|_| format!("remote LNS {ip:?} is not an IPv4 address"))?,
            port: num(port, 1, 65535, "port")?,
            secret: super::values::string(secret, 63)?,
        })
    }
}

/// A plugin name as `load plugin` takes it: the original loads `/usr/lib/l2tpns/<name>.so`.
pub(crate) fn plugin_name(v: &str) -> Result<String, String> {
    if v.contains('/') || v.starts_with('.') {
        return Err(format!("{v:?} is not a plugin name"));
    }
    name(v, "plugin name")
}

/// A name (plugin, access list, BGP peer): not empty, no control characters.
pub(crate) fn name(v: &str, what: &str) -> Result<String, String> {
    if v.is_empty() || v.chars().any(char::is_control) {
        return Err(format!("{v:?} is not a valid {what}"));
    }
    Ok(v.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bgp_peers_are_addresses_or_host_names() {
        for ok in [
            "192.0.2.1",
            "bgp1.example.net",
            "bgp1.example.net.",
            "r-1",
            "a",
        ] {
            assert_eq!(bgp_peer(ok).as_deref(), Ok(ok), "{ok}");
        }
        for bad in [
            "",
            "a b",
            "-r1",
            "r1-",
            "a..b",
            "192.0.2.300",
            "r_1",
            &"a".repeat(64),
        ] {
            assert!(bgp_peer(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_neighbour_needs_its_as_first_and_there_are_two_at_most() {
        let mut b = BgpConfig {
            local_as: 1,
            neighbours: vec![],
        };
        assert_eq!(
            b.apply(&["neighbour", "p1", "timers", "10", "30"]),
            Err("set neighbour p1 remote-as AS first".into())
        );
        b.apply(&["neighbour", "p1", "remote-as", "2"]).unwrap();
        b.apply(&["neighbour", "p1", "timers", "10", "30"]).unwrap();
        b.apply(&["neighbour", "p2", "remote-as", "3"]).unwrap();
        assert!(b
            .apply(&["neighbour", "p3", "remote-as", "4"])
            .unwrap_err()
            .starts_with("too many neighbours: p3 would be number 3"));
        // A known one may change; a removed one makes room.
        b.apply(&["neighbour", "p2", "remote-as", "5"]).unwrap();
        b.apply(&["no", "neighbour", "p1"]).unwrap();
        b.apply(&["neighbour", "p3", "remote-as", "4"]).unwrap();
        let got: Vec<_> = b
            .neighbours
            .iter()
            .map(|n| (n.peer.as_str(), n.remote_as))
            .collect();
        assert_eq!(got, [("p2", Some(5)), ("p3", Some(4))]);
    }

    fn acl(kind: AclKind) -> AccessList {
        AccessList {
            name: "t".into(),
            kind,
            rules: vec![],
        }
    }

    fn rule(kind: AclKind, s: &str) -> Result<AclRule, String> {
        let w: Vec<&str> = s.split_whitespace().collect();
        acl(kind).rule(&w)
    }

    #[test]
    fn standard_rules() {
        let r = rule(AclKind::Standard, "permit host 192.0.2.1").unwrap();
        assert_eq!(r.action, AclAction::Permit);
        assert_eq!(r.source, AddressMatch::Host("192.0.2.1".parse().unwrap()));
        assert_eq!(r.destination, AddressMatch::Any);
        let r = rule(AclKind::Standard, "deny 10.0.0.0 0.255.255.255").unwrap();
        assert_eq!(
            r.source,
            AddressMatch::Wildcard(
                "10.0.0.0".parse().unwrap(),
                "0.255.255.255".parse().unwrap()
            )
        );
        assert!(rule(AclKind::Standard, "deny 10.0.0.0").is_err());
        assert!(rule(AclKind::Standard, "allow any").is_err());
    }

    #[test]
    fn extended_rules() {
        let r = rule(
            AclKind::Extended,
            "permit tcp any host 192.0.2.1 eq 80 established",
        )
        .unwrap();
        assert_eq!(r.protocol, Some(6));
        assert_eq!(r.destination_port, Some(PortMatch::Eq(80)));
        assert_eq!(r.tcp_flags, Some(TcpFlagsMatch::Established));
        let r = rule(AclKind::Extended, "deny udp any range 1 1023 any").unwrap();
        assert_eq!(r.source_port, Some(PortMatch::Range(1, 1023)));
        let r = rule(AclKind::Extended, "deny tcp any any match-all +syn -ack").unwrap();
        assert_eq!(
            r.tcp_flags,
            Some(TcpFlagsMatch::MatchAll {
                set: 0x02,
                clear: 0x10
            })
        );
        let r = rule(AclKind::Extended, "permit ip any any fragments").unwrap();
        assert!(r.fragments);
        assert!(rule(AclKind::Extended, "permit icmp any any").is_err());
        assert!(rule(AclKind::Extended, "permit ip any any eq 80").is_err());
        assert!(rule(AclKind::Extended, "permit udp any any established").is_err());
        assert!(rule(AclKind::Extended, "permit tcp any any match-any syn").is_err());
        assert!(rule(AclKind::Extended, "permit tcp any range 9 1 any").is_err());
    }

    #[test]
    fn bgp_lines() {
        let mut b = BgpConfig {
            local_as: 64512,
            neighbours: vec![],
        };
        b.apply(&["neighbour", "192.0.2.9", "remote-as", "64513"])
            .unwrap();
        b.apply(&["neighbour", "192.0.2.9", "timers", "10", "30"])
            .unwrap();
        b.apply(&["neighbour", "192.0.2.9", "update-source", "192.0.2.1"])
            .unwrap();
        assert_eq!(b.neighbours.len(), 1);
        assert_eq!(b.neighbours[0].timers, Some((10, 30)));
        assert!(b.apply(&["neighbour", "x", "timers", "10", "2"]).is_err());
        assert!(b.apply(&["neighbour", "x", "remote-as", "70000"]).is_err());
        b.apply(&["no", "neighbour", "192.0.2.9"]).unwrap();
        assert!(b.neighbours.iter().all(|n| n.peer != "192.0.2.9"));
    }

    #[test]
    fn forwards_and_plugins() {
        let f = Forward::parse(&["@isp.example", "192.0.2.7", "1701", "s3cret"]).unwrap();
        assert_eq!(f.port, 1701);
        assert!(Forward::parse(&["a", "b", "1701", "s"]).is_err());
        assert!(Forward::parse(&["a", "192.0.2.7", "1701"]).is_err());
        assert!(plugin_name("../../tmp/evil").is_err());
        assert_eq!(plugin_name("sessionctl").unwrap(), "sessionctl");
    }
}
