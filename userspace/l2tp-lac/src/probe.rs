//! Test traffic: IPv4/UDP datagrams whose payload carries a sequence number and a send
//! timestamp, so the receiver can count loss and measure latency.

use std::net::{Ipv4Addr, SocketAddrV4};

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

/// RFC 1071 ones' complement sum.
fn checksum(bytes: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    for chunk in bytes.chunks(2) {
        let word = u16::from_be_bytes([chunk[0], *chunk.get(1).unwrap_or(&0)]);
        sum += u32::from(word);
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
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
    let c = checksum(&p[..IPV4_HEADER_LEN]);
    p[10..12].copy_from_slice(&c.to_be_bytes());
    let u = IPV4_HEADER_LEN;
    p[u..u + 2].copy_from_slice(&from.port().to_be_bytes());
    p[u + 2..u + 4].copy_from_slice(&to.port().to_be_bytes());
    p[u + 4..u + 6].copy_from_slice(&udp_len.to_be_bytes());
    let d = u + UDP_HEADER_LEN;
    p[d..d + 4].copy_from_slice(&MAGIC);
    p[d + 4..d + 8].copy_from_slice(&probe.session.to_be_bytes());
    p[d + 8..d + 16].copy_from_slice(&probe.seq.to_be_bytes());
    p[d + 16..d + 24].copy_from_slice(&probe.sent_ns.to_be_bytes());
    let mut pseudo = Vec::with_capacity(12 + usize::from(udp_len));
    pseudo.extend_from_slice(&from.ip().octets());
    pseudo.extend_from_slice(&to.ip().octets());
    pseudo.extend_from_slice(&[0, 17]);
    pseudo.extend_from_slice(&udp_len.to_be_bytes());
    pseudo.extend_from_slice(&p[u..]);
    let c = match checksum(&pseudo) {
        0 => 0xffff, // RFC 768: a computed zero is sent as all ones
        c => c,
    };
    p[u + 6..u + 8].copy_from_slice(&c.to_be_bytes());
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
        // A correct IPv4 header sums to zero (RFC 1071).
        assert_eq!(checksum(&p[..20]), 0);
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
