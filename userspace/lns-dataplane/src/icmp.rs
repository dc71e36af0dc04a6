//! ICMP host-unreachable for downstream packets with no session (RFC 792; rate-limited, RFC 1812 §4.3.2.8), so
//! a sender learns at once that the address is not connected instead of timing out. Sans-IO:
//! builds the datagram; the daemon rate-limits (`icmp_rate`) and writes it to the TUN device.

use std::net::Ipv4Addr;

use daddr_core::rewrite::csum::{fold, sum_bytes};

const PROTO_ICMP: u8 = 1;
/// Destination Unreachable, code 1 "host unreachable" (RFC 792).
const DEST_UNREACHABLE: u8 = 3;
const HOST_UNREACHABLE: u8 = 1;

/// The RFC 1071 checksum of `data`, as the two bytes of the header field (the workspace's one
/// checksum: `daddr_core::rewrite::csum`, which sums in memory order).
fn checksum(data: &[u8]) -> [u8; 2] {
    (!fold(sum_bytes(data))).to_ne_bytes()
}

/// Writes into `out` an ICMP host-unreachable from `from` about `original` (an IPv4 packet),
/// carrying its IP header and first 8 data octets (RFC 792). `false` (nothing written) when
/// no error may be sent: not IPv4, a non-first fragment, an ICMP error itself, or a source
/// that is unspecified, broadcast, multicast or loopback (RFC 1122 §3.2.2).
pub fn host_unreachable(from: Ipv4Addr, original: &[u8], out: &mut Vec<u8>) -> bool {
    out.clear();
    let Some(&vihl) = original.first() else {
        return false;
    };
    let ihl = usize::from(vihl & 0x0f) * 4;
    if vihl >> 4 != 4 || ihl < 20 || original.len() < ihl {
        return false;
    }
    if u16::from_be_bytes([original[6], original[7]]) & 0x1fff != 0 {
        return false;
    }
    if original[9] == PROTO_ICMP {
        // Only echo requests (type 8) get an error; errors about errors loop.
        if original.get(ihl) != Some(&8) {
            return false;
        }
    }
    let src = Ipv4Addr::new(original[12], original[13], original[14], original[15]);
    if src.is_unspecified() || src.is_broadcast() || src.is_multicast() || src.is_loopback() {
        return false;
    }
    let quoted = &original[..(ihl + 8).min(original.len())];
    let total = 20 + 8 + quoted.len();
    out.extend_from_slice(&[0x45, 0xc0]);
    out.extend_from_slice(&(total as u16).to_be_bytes());
    out.extend_from_slice(&[0, 0, 0, 0, 64, PROTO_ICMP, 0, 0]);
    out.extend_from_slice(&from.octets());
    out.extend_from_slice(&src.octets());
    let ip_sum = checksum(&out[..20]);
    out[10..12].copy_from_slice(&ip_sum);
    out.extend_from_slice(&[DEST_UNREACHABLE, HOST_UNREACHABLE, 0, 0, 0, 0, 0, 0]);
    out.extend_from_slice(quoted);
    let icmp_sum = checksum(&out[20..]);
    out[22..24].copy_from_slice(&icmp_sum);
    true
}

/// At most `rate` per second (0 = none), counted per whole second.
#[derive(Debug, Default)]
pub struct RateLimit {
    second: u64,
    sent: u32,
}

impl RateLimit {
    /// Whether one more may go out in second `now_secs`.
    pub fn allow(&mut self, rate: u32, now_secs: u64) -> bool {
        if now_secs != self.second {
            self.second = now_secs;
            self.sent = 0;
        }
        if self.sent < rate {
            self.sent += 1;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn udp_packet(src: [u8; 4], dst: [u8; 4], payload: usize) -> Vec<u8> {
        let total = 28 + payload;
        let mut p = vec![0u8; total];
        p[0] = 0x45;
        p[2..4].copy_from_slice(&(total as u16).to_be_bytes());
        p[8] = 64;
        p[9] = 17;
        p[12..16].copy_from_slice(&src);
        p[16..20].copy_from_slice(&dst);
        p[20..22].copy_from_slice(&5353u16.to_be_bytes());
        p
    }

    #[test]
    fn builds_a_valid_host_unreachable_quoting_header_and_8_octets() {
        let orig = udp_packet([198, 51, 100, 7], [10, 210, 0, 9], 100);
        let mut out = Vec::new();
        assert!(host_unreachable(
            Ipv4Addr::new(10, 200, 0, 1),
            &orig,
            &mut out
        ));
        assert_eq!(out.len(), 20 + 8 + 28);
        assert_eq!(checksum(&out[..20]), [0, 0], "IP header checksum");
        assert_eq!(checksum(&out[20..]), [0, 0], "ICMP checksum");
        assert_eq!(&out[12..16], &[10, 200, 0, 1]);
        assert_eq!(&out[16..20], &[198, 51, 100, 7]);
        assert_eq!(&out[20..22], &[3, 1]);
        assert_eq!(&out[28..], &orig[..28]);
    }

    #[test]
    fn never_answers_errors_fragments_or_bad_sources() {
        let mut out = Vec::new();
        let from = Ipv4Addr::new(10, 200, 0, 1);
        let mut icmp_err = udp_packet([198, 51, 100, 7], [10, 210, 0, 9], 10);
        icmp_err[9] = PROTO_ICMP;
        icmp_err[20] = 3;
        assert!(!host_unreachable(from, &icmp_err, &mut out));
        icmp_err[20] = 8; // echo request: answered
        assert!(host_unreachable(from, &icmp_err, &mut out));
        let mut frag = udp_packet([198, 51, 100, 7], [10, 210, 0, 9], 10);
        frag[7] = 1;
        assert!(!host_unreachable(from, &frag, &mut out));
        let bcast = udp_packet([255, 255, 255, 255], [10, 210, 0, 9], 10);
        assert!(!host_unreachable(from, &bcast, &mut out));
        for n in 0..40 {
            let p = udp_packet([198, 51, 100, 7], [10, 210, 0, 9], 10);
            let _ = host_unreachable(from, &p[..n.min(p.len())], &mut out);
        }
    }

    #[test]
    fn rate_limit_per_second() {
        let mut r = RateLimit::default();
        assert!(!r.allow(0, 1));
        assert!(r.allow(2, 1) && r.allow(2, 1));
        assert!(!r.allow(2, 1));
        assert!(r.allow(2, 2));
    }
}
