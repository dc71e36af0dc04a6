//! Which local user sent a datagram over loopback: the owner of the sending UDP socket, as the
//! kernel lists it in `/proc/net/udp` and `/proc/net/udp6` (every UDP socket of the network
//! namespace, with its address, port and uid). The nsctl protocol has no authentication of its
//! own; this is how the daemon tells root's nsctl from another local user's without changing
//! the protocol, so the C nsctl keeps working.
//!
//! The parser is pure (a table's text in, a uid out) and tested on kernel output; the daemon
//! reads the files only for a control request, never on the data path.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// The uid of the socket that sent from `from`, if exactly one owner can be found.
pub fn uid_of_sender(from: SocketAddr) -> Option<u32> {
    let mut owners = Vec::new();
    for path in ["/proc/net/udp", "/proc/net/udp6"] {
        if let Ok(table) = std::fs::read_to_string(path) {
            owners.extend(owners_in(&table, from));
        }
    }
    pick(owners)
}

/// An address in the kernel's hex form: the raw network-order words printed as native
/// integers (`%08X` per 32 bits), so `to_ne_bytes` gives the address bytes back.
fn parse_addr(hex: &str) -> Option<IpAddr> {
    let word = |s: &str| u32::from_str_radix(s, 16).ok().map(u32::to_ne_bytes);
    match hex.len() {
        8 => Some(IpAddr::V4(Ipv4Addr::from(word(hex)?))),
        32 => {
            let mut b = [0u8; 16];
            for i in 0..4 {
                b[i * 4..i * 4 + 4].copy_from_slice(&word(hex.get(i * 8..i * 8 + 8)?)?);
            }
            Some(IpAddr::V6(Ipv6Addr::from(b)))
        }
        _ => None,
    }
}

/// Whether a socket bound to `bound` sends with source address `from`.
fn covers(bound: IpAddr, from: IpAddr) -> bool {
    let from_v4 = match from {
        IpAddr::V4(a) => Some(a),
        IpAddr::V6(a) => a.to_ipv4_mapped(),
    };
    match bound {
        IpAddr::V4(b) => b.is_unspecified() || Some(b) == from_v4,
        IpAddr::V6(b) => {
            b.is_unspecified()
                || IpAddr::V6(b) == from
                || b.to_ipv4_mapped().is_some_and(|m| Some(m) == from_v4)
        }
    }
}

/// (exact address?, uid) of every socket in one table that could have sent from `from`.
fn owners_in(table: &str, from: SocketAddr) -> Vec<(bool, u32)> {
    table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let (addr, port) = fields.get(1)?.split_once(':')?;
            let uid = fields.get(7)?.parse::<u32>().ok()?;
            let port = u16::from_str_radix(port, 16).ok()?;
            let addr = parse_addr(addr)?;
            (port == from.port() && covers(addr, from.ip())).then(|| (!addr.is_unspecified(), uid))
        })
        .collect()
}

/// The owner: the socket bound to the exact address if there is one, else the wildcard one;
/// `None` when nothing matches or owners disagree (SO_REUSEPORT sockets of several users).
fn pick(owners: Vec<(bool, u32)>) -> Option<u32> {
    let exact: Vec<u32> = owners.iter().filter(|o| o.0).map(|o| o.1).collect();
    let candidates = if exact.is_empty() {
        owners.iter().map(|o| o.1).collect()
    } else {
        exact
    };
    let first = *candidates.first()?;
    candidates.iter().all(|&u| u == first).then_some(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Captured from a little-endian host: nsctl (uid 0) connected from 127.0.0.1:41234, an
    // unconnected socket of uid 1000 on 0.0.0.0:5353, the daemon on 127.0.0.1:1702.
    const UDP: &str = "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
  101: 0100007F:A112 0100007F:06A6 01 00000000:00000000 00:00000000 00000000     0        0 91230 2 0000000000000000 0
  102: 00000000:14E9 00000000:0000 07 00000000:00000000 00:00000000 00000000  1000        0 91231 2 0000000000000000 0
  103: 0100007F:06A6 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 91232 2 0000000000000000 0
";
    // A dual-stack socket of uid 33 on [::]:40000, and one of uid 7 on [::ffff:127.0.0.1]:40001.
    const UDP6: &str = "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
  200: 00000000000000000000000000000000:9C40 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000    33        0 91240 2 0000000000000000 0
  201: 0000000000000000FFFF00000100007F:9C41 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     7        0 91241 2 0000000000000000 0
";

    fn uid(table: &str, from: &str) -> Option<u32> {
        pick(owners_in(table, from.parse().unwrap()))
    }

    #[test]
    fn finds_the_owner_of_the_sending_socket() {
        if cfg!(target_endian = "big") {
            return; // the samples are little-endian kernel output
        }
        assert_eq!(uid(UDP, "127.0.0.1:41234"), Some(0));
        assert_eq!(
            uid(UDP, "127.0.0.1:5353"),
            Some(1000),
            "a wildcard-bound sender"
        );
        assert_eq!(uid(UDP, "127.0.0.1:9"), None);
        assert_eq!(
            uid(UDP6, "127.0.0.1:40000"),
            Some(33),
            "dual-stack [::] sends IPv4 too"
        );
        assert_eq!(
            uid(UDP6, "127.0.0.1:40001"),
            Some(7),
            "v4-mapped bound address"
        );
        assert_eq!(uid(UDP6, "[::1]:40000"), Some(33));
    }

    #[test]
    fn exact_address_wins_and_disagreeing_owners_are_nobody() {
        assert_eq!(pick(vec![(false, 5), (true, 0)]), Some(0));
        assert_eq!(pick(vec![(false, 5), (false, 6)]), None);
        assert_eq!(pick(vec![]), None);
    }

    #[test]
    fn garbage_lines_are_skipped() {
        assert_eq!(uid("header\nnonsense\n 1: zz:zz\n", "127.0.0.1:1"), None);
    }

    #[test]
    fn this_process_sees_its_own_socket() {
        let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let me = unsafe { libc::geteuid() };
        assert_eq!(uid_of_sender(s.local_addr().unwrap()), Some(me));
    }
}
