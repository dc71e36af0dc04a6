//! IPv4 (RFC 791): rewrite `daddr`, update the header checksum and the transport checksum.

use super::{finish, l4_checksum_at, Malformed, Outcome, PacketMeta, SkbCsum, Untouched};

const MIN_HEADER: usize = 20;
const TOTAL_LENGTH: usize = 2;
const FRAG_OFF: usize = 6;
const PROTOCOL: usize = 9;
const CHECK: usize = 10;
const DADDR: usize = 16;
/// Fragment offset bits of the flags/fragment-offset word.
const OFFSET_MASK: u16 = 0x1fff;

/// Rewrite the destination of the IPv4 packet whose first bytes are `pkt` (at least the IP
/// header and [`super::l4::L4_WINDOW`] bytes of transport header where the packet has them) to
/// `new`, keeping all checksums right. Nothing is written unless the outcome is a rewrite.
pub fn rewrite_v4(pkt: &mut [u8], meta: PacketMeta, new: [u8; 4], skb: &mut SkbCsum) -> Outcome {
    let Some(hdr) = pkt.first_chunk::<MIN_HEADER>() else {
        return Outcome::Dropped(Malformed::NetworkHeader);
    };
    // Constant indices into a fixed-size array: checked at compile time, no panicking path.
    if hdr[0] >> 4 != 4 {
        return Outcome::Dropped(Malformed::NetworkHeader);
    }
    let ihl = usize::from(hdr[0] & 0x0f) * 4;
    if ihl < MIN_HEADER || ihl > pkt.len() {
        return Outcome::Dropped(Malformed::NetworkHeader);
    }
    if meta.thoff != ihl {
        return Outcome::Dropped(Malformed::TransportOffset);
    }
    let total = usize::from(u16::from_be_bytes([
        hdr[TOTAL_LENGTH],
        hdr[TOTAL_LENGTH + 1],
    ]));
    let end = pkt.len().min(total);
    let fragoff = u16::from_be_bytes([hdr[FRAG_OFF], hdr[FRAG_OFF + 1]]) & OFFSET_MASK;
    let proto = hdr[PROTOCOL];
    let l4 = if fragoff != 0 || meta.fragoff != 0 {
        Err(Untouched::NonFirstFragment)
    } else {
        match l4_checksum_at(proto, false, ihl, end) {
            Ok(Some((off, l4))) => Ok((proto, off, l4)),
            Ok(None) => Err(Untouched::NoPseudoHeader),
            Err(m) => return Outcome::Dropped(m),
        }
    };
    finish(pkt, DADDR, new, Some(CHECK), l4, skb)
}
