//! Fuzz entry points (see `fuzz/`); each takes arbitrary bytes and must never panic.

use crate::rewrite::{rewrite_v4, rewrite_v6, CsumMode, Outcome, PacketMeta, SkbCsum};

/// Input layout: `[flags, thoff, packet...]`.
/// * flags bit 0: IPv6; bits 1-2: checksum mode (none, unnecessary, complete, partial);
///   bit 3: non-first fragment per netfilter; bit 4: take `thoff` literally (else IPv4 IHL or
///   40 + `thoff` for IPv6, which is what netfilter would usually pass).
///
/// Besides not panicking, a dropped packet must come back unmodified.
pub fn rewrite(data: &[u8]) {
    let [flags, thoff, packet @ ..] = data else {
        return;
    };
    let mut pkt = [0u8; 256];
    let len = packet.len().min(pkt.len());
    pkt[..len].copy_from_slice(&packet[..len]);
    let pkt = &mut pkt[..len];
    let original = {
        let mut o = [0u8; 256];
        o[..len].copy_from_slice(pkt);
        o
    };
    let ipv6 = flags & 1 != 0;
    let mode = match (flags >> 1) & 3 {
        0 => CsumMode::None,
        1 => CsumMode::Unnecessary,
        2 => CsumMode::Complete,
        _ => CsumMode::Partial,
    };
    let thoff = usize::from(*thoff);
    let thoff = match (flags & 0x10 != 0, ipv6) {
        (true, _) => thoff,
        (false, true) => 40 + thoff,
        (false, false) => usize::from(pkt.first().copied().unwrap_or(0) & 0x0f) * 4,
    };
    let meta = PacketMeta {
        thoff,
        fragoff: u16::from(flags & 8 != 0) * 185,
    };
    let mut skb = SkbCsum {
        mode,
        csum: crate::rewrite::csum::sum_bytes(pkt),
    };
    let outcome = if ipv6 {
        rewrite_v6(
            pkt,
            meta,
            [0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
            &mut skb,
        )
    } else {
        rewrite_v4(pkt, meta, [192, 0, 2, 1], &mut skb)
    };
    if let Outcome::Dropped(_) = outcome {
        assert_eq!(pkt, &original[..len], "a dropped packet was modified");
    }
}
