//! Test traffic: IPv4/UDP datagrams whose payload carries a sequence number and a send
//! timestamp, so the receiver can count loss and measure latency.

use std::net::{Ipv4Addr, SocketAddrV4};

use daddr_core::rewrite::csum::{add, fold, sum_bytes};

/// Magic, session index, sequence, send time in ns since the run's epoch.
pub const PROBE_HEADER_LEN: usize = 4 + 4 + 8 + 8;
const MAGIC: [u8; 4] = *b"LACp";
const IPV4_HEADER_LEN: usize = 20;
const UDP_HEADER_LEN: usize = 8;
/// Smallest IPv4 packet that can carry a probe.
pub const MIN_PACKET_LEN: usize = IPV4_HEADER_LEN + UDP_HEADER_LEN + PROBE_HEADER_LEN;

/// What a probe says about itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Probe {
    pub session: u32,
    pub seq: u64,
    pub sent_ns: u64,
}

/// A probe received in an IPv4/UDP datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Received {
    pub from: SocketAddrV4,
    pub to: SocketAddrV4,
    pub probe: Probe,
}

/// The finished RFC 1071 checksum of a partial sum, as the header field's two bytes (the
/// workspace's one checksum: `daddr_core::rewrite::csum`, which sums in memory order).
fn checksum(sum: u32) -> [u8; 2] {
    (!fold(sum)).to_ne_bytes()
}

/// Build an IPv4/UDP datagram of `total_len` bytes (at least [`MIN_PACKET_LEN`]) carrying
/// `probe`; the rest of the payload is zero. The UDP checksum is computed (RFC 768).
pub fn build(from: SocketAddrV4, to: SocketAddrV4, probe: Probe, total_len: usize) -> Vec<u8> {
    let total_len = total_len.clamp(MIN_PACKET_LEN, usize::from(u16::MAX));
    let mut p = vec![0u8; total_len];
    let udp_len = (total_len - IPV4_HEADER_LEN) as u16;
    // IPv4 header (RFC 791): version 4, IHL 5, DF, TTL 64, protocol UDP.
    p[0] = 0x45;
    p[2..4].copy_from_slice(&(total_len as u16).to_be_bytes());
    p[4..6].copy_from_slice(&(probe.seq as u16).to_be_bytes());
    p[6] = 0x40;
    p[8] = 64;
    p[9] = 17;
    p[12..16].copy_from_slice(&from.ip().octets());
    p[16..20].copy_from_slice(&to.ip().octets());
    let c = checksum(sum_bytes(&p[..IPV4_HEADER_LEN]));
    p[10..12].copy_from_slice(&c);
    let u = IPV4_HEADER_LEN;
    p[u..u + 2].copy_from_slice(&from.port().to_be_bytes());
    p[u + 2..u + 4].copy_from_slice(&to.port().to_be_bytes());
    p[u + 4..u + 6].copy_from_slice(&udp_len.to_be_bytes());
    let d = u + UDP_HEADER_LEN;
    p[d..d + 4].copy_from_slice(&MAGIC);
    p[d + 4..d + 8].copy_from_slice(&probe.session.to_be_bytes());
    p[d + 8..d + 16].copy_from_slice(&probe.seq.to_be_bytes());
    p[d + 16..d + 24].copy_from_slice(&probe.sent_ns.to_be_bytes());
    // RFC 768: the pseudo-header (addresses, protocol, UDP length) and the datagram.
    let len = udp_len.to_be_bytes();
    let pseudo = [0, 17, len[0], len[1]];
    let sum = [&p[12..20], &pseudo[..], &p[u..]]
        .iter()
        .fold(0, |s, part| add(s, sum_bytes(part)));
    let c = match checksum(sum) {
        [0, 0] => [0xff, 0xff], // a computed zero is sent as all ones
        c => c,
    };
    p[u + 6..u + 8].copy_from_slice(&c);
    p
}

/// Parse an IPv4/UDP datagram carrying a probe; anything else is `None`.
pub fn parse(p: &[u8]) -> Option<Received> {
    if p.len() < IPV4_HEADER_LEN || p[0] >> 4 != 4 || p[9] != 17 {
        return None;
    }
    let ihl = usize::from(p[0] & 0x0f) * 4;
    let total = usize::from(u16::from_be_bytes([p[2], p[3]]));
    if ihl < IPV4_HEADER_LEN || total > p.len() || total < ihl + UDP_HEADER_LEN + PROBE_HEADER_LEN {
        return None;
    }
    let src = Ipv4Addr::new(p[12], p[13], p[14], p[15]);
    let dst = Ipv4Addr::new(p[16], p[17], p[18], p[19]);
    let u = &p[ihl..total];
    let sport = u16::from_be_bytes([u[0], u[1]]);
    let dport = u16::from_be_bytes([u[2], u[3]]);
    let d = &u[UDP_HEADER_LEN..];
    if d[..4] != MAGIC {
        return None;
    }
    let be32 = |b: &[u8]| u32::from_be_bytes(b.try_into().expect("4 bytes"));
    let be64 = |b: &[u8]| u64::from_be_bytes(b.try_into().expect("8 bytes"));
    Some(Received {
        from: SocketAddrV4::new(src, sport),
        to: SocketAddrV4::new(dst, dport),
        probe: Probe {
            session: be32(&d[4..8]),
            seq: be64(&d[8..16]),
            sent_ns: be64(&d[16..24]),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_checksums() {
        let from: SocketAddrV4 = "100.64.0.2:40000".parse().unwrap();
        let to: SocketAddrV4 = "198.51.100.1:7".parse().unwrap();
        let probe = Probe {
            session: 7,
            seq: 42,
            sent_ns: 123_456_789,
        };
        let p = build(from, to, probe, 100);
        assert_eq!(p.len(), 100);
        // RFC 1071 computed independently (big-endian words): a correct IPv4 header sums to
        // 0xffff, and so does the UDP datagram with its pseudo-header (RFC 768).
        let ones = |parts: &[&[u8]]| {
            let mut sum = 0u32;
            for part in parts {
                for c in part.chunks(2) {
                    sum += u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]));
                }
            }
            while sum > 0xffff {
                sum = (sum & 0xffff) + (sum >> 16);
            }
            sum
        };
        assert_eq!(ones(&[&p[..20]]), 0xffff);
        let udp_len = ((p.len() - 20) as u16).to_be_bytes();
        assert_eq!(
            ones(&[&p[12..20], &[0, 17, udp_len[0], udp_len[1]], &p[20..]]),
            0xffff
        );
        assert_ne!(&p[26..28], &[0, 0], "a UDP checksum is present");
        let r = parse(&p).unwrap();
        assert_eq!((r.from, r.to, r.probe), (from, to, probe));
        // Too short a size is raised to the minimum; garbage is not a probe.
        assert_eq!(build(from, to, probe, 1).len(), MIN_PACKET_LEN);
        assert_eq!(parse(&p[..30]), None);
        let mut other = p.clone();
        other[28] ^= 1;
        assert_eq!(parse(&other), None);
    }
}
