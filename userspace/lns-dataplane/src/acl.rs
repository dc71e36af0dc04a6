//! Access lists in the data plane: an `ip access-list` of the startup-config compiled into
//! rules matched against IPv4 packets, first match wins, an implicit deny at the end (the
//! original's semantics), each rule counting its matches.
//!
//! Matching never fails on a short or odd packet: a field the packet does not have matches
//! no rule that needs it (a truncated TCP header matches no port rule), so such a packet
//! ends at the implicit deny.

use std::sync::atomic::{AtomicU64, Ordering};

use lns_config::config::{
    AccessList as Spec, AclAction, AclRule, AddressMatch, PortMatch, TcpFlagsMatch,
};

const TCP: u8 = 6;
const UDP: u8 = 17;
/// TCP flag bits (RFC 9293 §3.1).
const ACK: u8 = 0x10;
const RST: u8 = 0x04;

/// A compiled list with its counters (shared by every session that uses it).
#[derive(Debug)]
pub struct AccessList {
    pub name: String,
    rules: Vec<AclRule>,
    /// One per rule, then the implicit deny.
    matches: Vec<AtomicU64>,
}

/// What a packet offers the rules.
struct Fields {
    protocol: u8,
    src: u32,
    dst: u32,
    /// Not the first fragment: no transport header.
    later_fragment: bool,
    ports: Option<(u16, u16)>,
    tcp_flags: Option<u8>,
}

fn fields(p: &[u8]) -> Option<Fields> {
    if p.len() < 20 || p[0] >> 4 != 4 {
        return None;
    }
    let ihl = usize::from(p[0] & 0x0f) * 4;
    if ihl < 20 || p.len() < ihl {
        return None;
    }
    let protocol = p[9];
    let offset = u16::from_be_bytes([p[6], p[7]]) & 0x1fff;
    let later_fragment = offset != 0;
    let l4 = if later_fragment { None } else { p.get(ihl..) };
    let ports = match (protocol, l4) {
        (TCP | UDP, Some(t)) if t.len() >= 4 => Some((
            u16::from_be_bytes([t[0], t[1]]),
            u16::from_be_bytes([t[2], t[3]]),
        )),
        _ => None,
    };
    let tcp_flags = match (protocol, l4) {
        (TCP, Some(t)) if t.len() >= 14 => Some(t[13]),
        _ => None,
    };
    Some(Fields {
        protocol,
        src: u32::from_be_bytes([p[12], p[13], p[14], p[15]]),
        dst: u32::from_be_bytes([p[16], p[17], p[18], p[19]]),
        later_fragment,
        ports,
        tcp_flags,
    })
}

fn address(m: &AddressMatch, a: u32) -> bool {
    match m {
        AddressMatch::Any => true,
        AddressMatch::Host(h) => u32::from(*h) == a,
        // A Cisco wildcard: set bits are "don't care".
        AddressMatch::Wildcard(net, wild) => {
            let care = !u32::from(*wild);
            a & care == u32::from(*net) & care
        }
    }
}

fn port(m: &Option<PortMatch>, p: Option<u16>) -> bool {
    let Some(m) = m else { return true };
    let Some(p) = p else { return false };
    match *m {
        PortMatch::Eq(x) => p == x,
        PortMatch::Neq(x) => p != x,
        PortMatch::Gt(x) => p > x,
        PortMatch::Lt(x) => p < x,
        PortMatch::Range(a, b) => (a..=b).contains(&p),
    }
}

fn flags(m: &Option<TcpFlagsMatch>, f: Option<u8>) -> bool {
    let Some(m) = m else { return true };
    let Some(f) = f else { return false };
    match *m {
        TcpFlagsMatch::Established => f & (ACK | RST) != 0,
        TcpFlagsMatch::MatchAny { set, clear } => f & set != 0 || !f & clear != 0,
        TcpFlagsMatch::MatchAll { set, clear } => f & set == set && f & clear == 0,
    }
}

fn rule_matches(r: &AclRule, f: &Fields) -> bool {
    if r.protocol.is_some_and(|p| p != f.protocol) {
        return false;
    }
    if r.fragments && !f.later_fragment {
        return false;
    }
    // Port and flag tests need the transport header, which later fragments lack.
    let needs_l4 = r.source_port.is_some() || r.destination_port.is_some() || r.tcp_flags.is_some();
    if needs_l4 && f.later_fragment {
        return false;
    }
    address(&r.source, f.src)
        && address(&r.destination, f.dst)
        && port(&r.source_port, f.ports.map(|p| p.0))
        && port(&r.destination_port, f.ports.map(|p| p.1))
        && flags(&r.tcp_flags, f.tcp_flags)
}

impl AccessList {
    pub fn compile(spec: &Spec) -> Self {
        AccessList {
            name: spec.name.clone(),
            rules: spec.rules.clone(),
            matches: (0..=spec.rules.len()).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    /// Whether the list lets the IPv4 packet through; counts the rule that decided.
    pub fn permits(&self, packet: &[u8]) -> bool {
        let hit = fields(packet).and_then(|f| self.rules.iter().position(|r| rule_matches(r, &f)));
        let i = hit.unwrap_or(self.rules.len());
        if let Some(c) = self.matches.get(i) {
            c.fetch_add(1, Ordering::Relaxed);
        }
        hit.is_some_and(|i| self.rules[i].action == AclAction::Permit)
    }

    /// Each rule's match count, then the implicit deny's.
    pub fn matches(&self) -> Vec<u64> {
        self.matches
            .iter()
            .map(|c| c.load(Ordering::Relaxed))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(text: &str) -> AccessList {
        let l = lns_config::config::parse("t", text).unwrap();
        AccessList::compile(&l.config.access_lists[0])
    }

    fn packet(proto: u8, src: [u8; 4], dst: [u8; 4], sport: u16, dport: u16, flags: u8) -> Vec<u8> {
        let mut p = vec![0u8; 40];
        p[0] = 0x45;
        p[9] = proto;
        p[12..16].copy_from_slice(&src);
        p[16..20].copy_from_slice(&dst);
        p[20..22].copy_from_slice(&sport.to_be_bytes());
        p[22..24].copy_from_slice(&dport.to_be_bytes());
        p[33] = flags;
        p
    }

    #[test]
    fn standard_list_matches_sources_with_wildcards_then_denies() {
        let l = list("ip access-list standard office\n permit 10.1.0.0 0.0.255.255\n deny host 10.2.0.1\n permit any\n");
        assert!(l.permits(&packet(17, [10, 1, 7, 7], [1, 1, 1, 1], 1, 2, 0)));
        assert!(!l.permits(&packet(17, [10, 2, 0, 1], [1, 1, 1, 1], 1, 2, 0)));
        assert!(l.permits(&packet(6, [10, 3, 0, 1], [1, 1, 1, 1], 1, 2, 0)));
        assert_eq!(l.matches(), vec![1, 1, 1, 0]);
        let l = list("ip access-list standard none\n deny any\n");
        assert!(!l.permits(&[0x45]));
        assert_eq!(
            l.matches(),
            vec![0, 1],
            "a runt packet ends at the implicit deny"
        );
    }

    #[test]
    fn extended_list_matches_protocol_ports_and_flags() {
        let l = list(
            "ip access-list extended web\n permit tcp any host 192.0.2.80 eq 80\n permit tcp any any established\n permit udp any range 1000 2000 any\n deny ip any any\n",
        );
        let web = [192, 0, 2, 80];
        assert!(l.permits(&packet(TCP, [10, 0, 0, 1], web, 40000, 80, 0x02)));
        assert!(!l.permits(&packet(TCP, [10, 0, 0, 1], web, 40000, 81, 0x02)));
        assert!(l.permits(&packet(TCP, [10, 0, 0, 1], [8, 8, 8, 8], 40000, 443, ACK)));
        assert!(l.permits(&packet(UDP, [10, 0, 0, 1], [8, 8, 8, 8], 1500, 53, 0)));
        assert!(!l.permits(&packet(UDP, [10, 0, 0, 1], [8, 8, 8, 8], 999, 53, 0)));
        assert_eq!(l.matches(), vec![1, 1, 1, 2, 0]);
        let l = list("ip access-list extended syn\n deny tcp any any match-all +syn -ack\n permit ip any any\n");
        assert!(!l.permits(&packet(TCP, [1, 1, 1, 1], [2, 2, 2, 2], 1, 2, 0x02)));
        assert!(l.permits(&packet(TCP, [1, 1, 1, 1], [2, 2, 2, 2], 1, 2, 0x12)));
    }

    #[test]
    fn later_fragments_match_only_fragment_and_portless_rules() {
        let l = list(
            "ip access-list extended f\n deny tcp any any eq 80\n permit tcp any any fragments\n",
        );
        let mut p = packet(TCP, [1, 1, 1, 1], [2, 2, 2, 2], 1, 80, 0);
        p[6..8].copy_from_slice(&100u16.to_be_bytes());
        assert!(l.permits(&p));
        p[6..8].copy_from_slice(&0u16.to_be_bytes());
        assert!(!l.permits(&p));
    }

    #[test]
    fn any_bytes_never_panic() {
        let l = list("ip access-list extended x\n permit tcp any eq 1 any match-any +syn\n");
        for n in 0..60 {
            let _ = l.permits(&vec![0x4f; n]);
            let _ = l.permits(&vec![0x45; n]);
        }
    }
}
