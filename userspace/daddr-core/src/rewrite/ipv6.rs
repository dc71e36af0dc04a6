//! IPv6 (RFC 8200): rewrite the destination and the transport checksum, which covers it
//! through the pseudo-header (RFC 8200 §8.1). IPv6 has no header checksum.

use super::{finish, l4_checksum_at, Malformed, Outcome, PacketMeta, SkbCsum, Untouched};

const HEADER: usize = 40;
const PAYLOAD_LENGTH: usize = 4;
const NEXT_HEADER: usize = 6;
const DADDR: usize = 24;

mod nexthdr {
    pub(super) const HOP_BY_HOP: u8 = 0;
    pub(super) const ROUTING: u8 = 43;
    pub(super) const FRAGMENT: u8 = 44;
    pub(super) const AH: u8 = 51;
    pub(super) const DEST_OPTS: u8 = 60;
    pub(super) const MOBILITY: u8 = 135;
    pub(super) const HIP: u8 = 139;
    pub(super) const SHIM6: u8 = 140;
}

/// What the extension header chain says about the transport header at `thoff`.
enum Chain {
    /// The header at `thoff` is protocol `.0`.
    Transport(u8),
    /// The packet is a non-first fragment or the final destination is not in the header.
    Skip(Untouched),
}

/// The byte at `off + add` of `pkt`; an extension header that does not fit is a bad offset.
fn byte_at(pkt: &[u8], off: usize, add: usize) -> Result<u8, Malformed> {
    off.checked_add(add)
        .and_then(|i| pkt.get(i).copied())
        .ok_or(Malformed::TransportOffset)
}

/// Walk the extension headers (RFC 8200 §4) from the fixed header to `thoff`; `thoff` must land
/// exactly on the header after the last extension header. `pkt` holds the fixed header.
fn walk(pkt: &[u8], thoff: usize) -> Result<Chain, Malformed> {
    let mut next = byte_at(pkt, NEXT_HEADER, 0)?;
    let mut off = HEADER;
    let mut skip = None;
    while off != thoff {
        // Every extension header is at least 8 bytes and must end by `thoff`.
        if off.checked_add(8).is_none_or(|e| e > thoff) {
            return Err(Malformed::TransportOffset);
        }
        // At most (255 + 1) * 8 or (255 + 2) * 4: no overflow.
        let len = match next {
            nexthdr::HOP_BY_HOP
            | nexthdr::ROUTING
            | nexthdr::DEST_OPTS
            | nexthdr::MOBILITY
            | nexthdr::HIP
            | nexthdr::SHIM6 => (usize::from(byte_at(pkt, off, 1)?) + 1) * 8,
            nexthdr::FRAGMENT => 8,
            // RFC 4302 §2.2: length in 4-octet units, minus 2.
            nexthdr::AH => (usize::from(byte_at(pkt, off, 1)?) + 2) * 4,
            _ => return Err(Malformed::TransportOffset),
        };
        if next == nexthdr::ROUTING && byte_at(pkt, off, 3)? != 0 {
            skip = Some(Untouched::RoutingHeaderPending);
        }
        if next == nexthdr::FRAGMENT
            && u16::from_be_bytes([byte_at(pkt, off, 2)?, byte_at(pkt, off, 3)?]) >> 3 != 0
        {
            skip = Some(Untouched::NonFirstFragment);
        }
        next = byte_at(pkt, off, 0)?;
        off = off.checked_add(len).ok_or(Malformed::TransportOffset)?;
    }
    Ok(match skip {
        Some(why) => Chain::Skip(why),
        None => Chain::Transport(next),
    })
}

/// Rewrite the destination of the IPv6 packet whose first bytes are `pkt` (at least the
/// headers up to `meta.thoff` and [`super::l4::L4_WINDOW`] bytes of transport header where the
/// packet has them) to `new`, keeping the transport checksum right. Nothing is written unless
/// the outcome is a rewrite.
pub fn rewrite_v6(pkt: &mut [u8], meta: PacketMeta, new: [u8; 16], skb: &mut SkbCsum) -> Outcome {
    let Some(hdr) = pkt.first_chunk::<HEADER>() else {
        return Outcome::Dropped(Malformed::NetworkHeader);
    };
    // Constant indices into a fixed-size array: checked at compile time, no panicking path.
    if hdr[0] >> 4 != 6 {
        return Outcome::Dropped(Malformed::NetworkHeader);
    }
    // A non-first fragment has no transport header; netfilter may not even report an offset
    // for it (`ipv6_find_hdr()` stops at the fragment header), so `thoff` is not checked.
    if meta.fragoff == 0 && (meta.thoff < HEADER || meta.thoff > pkt.len()) {
        return Outcome::Dropped(Malformed::TransportOffset);
    }
    let payload = usize::from(u16::from_be_bytes([
        hdr[PAYLOAD_LENGTH],
        hdr[PAYLOAD_LENGTH + 1],
    ]));
    // Payload length 0 announces a jumbogram (RFC 2675): the bytes given are the bound then.
    let end = if payload == 0 {
        pkt.len()
    } else {
        // At most 40 + 65535: no overflow.
        pkt.len().min(HEADER + payload)
    };
    let l4 = if meta.fragoff != 0 {
        Err(Untouched::NonFirstFragment)
    } else {
        match walk(pkt, meta.thoff) {
            Err(m) => return Outcome::Dropped(m),
            Ok(Chain::Skip(why)) => Err(why),
            Ok(Chain::Transport(proto)) => match l4_checksum_at(proto, true, meta.thoff, end) {
                Ok(Some((off, l4))) => Ok((proto, off, l4)),
                Ok(None) => Err(Untouched::NoPseudoHeader),
                Err(m) => return Outcome::Dropped(m),
            },
        }
    };
    finish(pkt, DADDR, new, None, l4, skb)
}
