//! TCP MSS clamping on SYN and SYN-ACK (RFC 879, RFC 6691): a TCP connection through a
//! session must not pick segments larger than the session's MRU allows, so the MSS option is
//! lowered to `MRU − 40` (IPv4 + TCP headers) in both directions, with the checksum updated
//! incrementally (RFC 1624 eqn. 3) rather than recomputed. Never panics on any input.

use daddr_core::rewrite::csum::{replace_checksum, set_word, word, Delta};

const TCP: u8 = 6;
const SYN: u8 = 0x02;
const OPT_END: u8 = 0;
const OPT_NOP: u8 = 1;
const OPT_MSS: u8 = 2;

/// Lowers the MSS option of an IPv4 TCP SYN to `mss` if it is larger. Returns whether the
/// packet was changed. Anything else (not IPv4/TCP, a fragment, no SYN, malformed options)
/// is left alone.
pub fn clamp(packet: &mut [u8], mss: u16) -> bool {
    let Some(&vihl) = packet.first() else {
        return false;
    };
    let ihl = usize::from(vihl & 0x0f) * 4;
    if vihl >> 4 != 4 || ihl < 20 || packet.len() < ihl + 20 || packet[9] != TCP {
        return false;
    }
    // Only the first fragment carries the TCP header; any non-zero offset has none.
    if u16::from_be_bytes([packet[6], packet[7]]) & 0x1fff != 0 {
        return false;
    }
    let tcp = &mut packet[ihl..];
    if tcp[13] & SYN == 0 {
        return false;
    }
    let doff = usize::from(tcp[12] >> 4) * 4;
    if doff < 20 || doff > tcp.len() {
        return false;
    }
    let mut i = 20;
    while i < doff {
        match tcp[i] {
            OPT_END => return false,
            OPT_NOP => i += 1,
            kind => {
                let Some(&len) = tcp.get(i + 1) else {
                    return false;
                };
                let len = usize::from(len);
                if len < 2 || i + len > doff {
                    return false;
                }
                if kind == OPT_MSS && len == 4 {
                    let old = u16::from_be_bytes([tcp[i + 2], tcp[i + 3]]);
                    if old <= mss {
                        return false;
                    }
                    // The checksum sums 16-bit words from the header's start: the update
                    // covers the aligned words the two bytes fall in (two when the option
                    // sits at an odd offset), RFC 1624 eqn. 3.
                    let (from, to) = ((i + 2) & !1, (i + 5) & !1);
                    let mut before = [0u8; 4];
                    before[..to - from].copy_from_slice(&tcp[from..to]);
                    tcp[i + 2..i + 4].copy_from_slice(&mss.to_be_bytes());
                    let delta = Delta::ZERO.replace_bytes(&before[..to - from], &tcp[from..to]);
                    set_word(tcp, 16, replace_checksum(word(tcp, 16), delta));
                    return true;
                }
                i += len;
            }
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ones_sum(data: &[u8], mut sum: u32) -> u32 {
        for c in data.chunks(2) {
            let w = u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]);
            sum += u32::from(w);
        }
        sum
    }

    /// The full TCP checksum with the IPv4 pseudo-header (RFC 793 §3.1).
    fn tcp_checksum(p: &[u8]) -> u16 {
        let ihl = usize::from(p[0] & 0x0f) * 4;
        let tcp = &p[ihl..];
        let mut pseudo = Vec::new();
        pseudo.extend_from_slice(&p[12..20]);
        pseudo.extend_from_slice(&[0, TCP]);
        pseudo.extend_from_slice(&(tcp.len() as u16).to_be_bytes());
        let mut sum = ones_sum(tcp, ones_sum(&pseudo, 0));
        while sum > 0xffff {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        !(sum as u16)
    }

    fn syn(options: &[u8], flags: u8) -> Vec<u8> {
        let doff = 20 + options.len();
        let total = 20 + doff;
        let mut p = vec![0u8; total];
        p[0] = 0x45;
        p[2..4].copy_from_slice(&(total as u16).to_be_bytes());
        p[8] = 64;
        p[9] = TCP;
        p[12..16].copy_from_slice(&[10, 210, 0, 5]);
        p[16..20].copy_from_slice(&[10, 202, 0, 2]);
        let t = &mut p[20..];
        t[0..2].copy_from_slice(&40000u16.to_be_bytes());
        t[2..4].copy_from_slice(&80u16.to_be_bytes());
        t[12] = ((doff / 4) as u8) << 4;
        t[13] = flags;
        t[20..].copy_from_slice(options);
        let c = tcp_checksum(&p);
        p[36..38].copy_from_slice(&c.to_be_bytes());
        assert_eq!(tcp_checksum(&p), 0, "test packet checksums to zero");
        p
    }

    fn mss_of(p: &[u8], at: usize) -> u16 {
        u16::from_be_bytes([p[20 + at], p[21 + at]])
    }

    #[test]
    fn lowers_a_larger_mss_and_keeps_the_checksum_valid() {
        let mut p = syn(&[OPT_MSS, 4, 0x05, 0xb4], SYN); // 1460
        assert!(clamp(&mut p, 1414));
        assert_eq!(mss_of(&p, 22), 1414);
        assert_eq!(tcp_checksum(&p), 0);
    }

    #[test]
    fn odd_offset_after_a_nop_and_syn_ack() {
        // NOP, MSS, NOP, NOP, NOP: the MSS value sits at an odd offset.
        let mut p = syn(&[OPT_NOP, OPT_MSS, 4, 0x05, 0xb4, 1, 1, 1], SYN | 0x10);
        assert!(clamp(&mut p, 1400));
        assert_eq!(mss_of(&p, 23), 1400);
        assert_eq!(tcp_checksum(&p), 0);
    }

    #[test]
    fn leaves_smaller_mss_non_syn_fragments_and_garbage_alone() {
        let mut p = syn(&[OPT_MSS, 4, 0x02, 0x00], SYN); // 512
        let before = p.clone();
        assert!(!clamp(&mut p, 1414));
        assert_eq!(p, before);
        let mut p = syn(&[OPT_MSS, 4, 0x05, 0xb4], 0x10); // ACK only
        assert!(!clamp(&mut p, 1414));
        let mut p = syn(&[OPT_MSS, 4, 0x05, 0xb4], SYN);
        p[7] = 1; // fragment offset 8
        assert!(!clamp(&mut p, 1414));
        let mut p = syn(&[OPT_MSS, 9, 0x05, 0xb4], SYN); // option longer than the header
        assert!(!clamp(&mut p, 1414));
        for n in 0..60 {
            let mut p = syn(&[OPT_MSS, 4, 0x05, 0xb4], SYN);
            p.truncate(n);
            let _ = clamp(&mut p, 1414);
        }
    }
}
