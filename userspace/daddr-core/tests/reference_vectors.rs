//! The incremental updates in `daddr_core::rewrite` checked against full recomputation of every
//! checksum from scratch, for random packets of every protocol and both families, in every
//! `skb->ip_summed` mode.

use daddr_core::rewrite::csum::sum_bytes;
use daddr_core::rewrite::{
    rewrite_v4, rewrite_v6, CsumMode, Malformed, Outcome, PacketMeta, SkbCsum, Untouched,
};
use proptest::prelude::*;

const TCP: u8 = 6;
const UDP: u8 = 17;
const DCCP: u8 = 33;
const ICMP: u8 = 1;
const ICMPV6: u8 = 58;
const UDPLITE: u8 = 136;
const SCTP: u8 = 132;

/// Textbook RFC 1071 sum over big-endian words, independent of the code under test.
fn be_sum(chunks: &[&[u8]]) -> u32 {
    let mut acc: u64 = 0;
    for c in chunks {
        for pair in c.chunks(2) {
            let hi = u64::from(pair[0]) << 8;
            let lo = pair.get(1).map_or(0, |&b| u64::from(b));
            acc += hi | lo;
        }
    }
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    acc as u32
}

fn csum_offset(proto: u8) -> Option<usize> {
    match proto {
        TCP => Some(16),
        UDP | UDPLITE | DCCP => Some(6),
        ICMPV6 => Some(2),
        _ => None,
    }
}

fn l4_min_len(proto: u8) -> usize {
    match proto {
        TCP => 20,
        UDP | UDPLITE => 8,
        DCCP => 16,
        ICMPV6 | ICMP => 8,
        _ => 12,
    }
}

/// How the transport checksum field of a freshly built packet is filled.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Fill {
    /// Full checksum, as sent by a host without offload.
    Full,
    /// `CHECKSUM_PARTIAL` seed: the folded, uncomplemented pseudo-header sum.
    Seed,
    /// UDP "no checksum".
    Zero,
}

/// Fill the transport checksum of `pkt` (transport header at `thoff`), given the pseudo-header.
fn fill_l4(pkt: &mut [u8], thoff: usize, proto: u8, pseudo: &[u8], fill: Fill) {
    let Some(off) = csum_offset(proto) else {
        return;
    };
    let at = thoff + off;
    pkt[at] = 0;
    pkt[at + 1] = 0;
    let value = match fill {
        Fill::Zero => 0,
        Fill::Seed => be_sum(&[pseudo]) as u16,
        Fill::Full => {
            let c = !(be_sum(&[pseudo, &pkt[thoff..]]) as u16);
            if c == 0 && (proto == UDP || proto == UDPLITE) {
                0xffff
            } else {
                c
            }
        }
    };
    pkt[at..at + 2].copy_from_slice(&value.to_be_bytes());
}

fn pseudo_v4(src: [u8; 4], dst: [u8; 4], proto: u8, len: usize) -> Vec<u8> {
    let mut p = Vec::new();
    p.extend_from_slice(&src);
    p.extend_from_slice(&dst);
    p.extend_from_slice(&[0, proto]);
    p.extend_from_slice(&(len as u16).to_be_bytes());
    p
}

fn pseudo_v6(src: [u8; 16], dst: [u8; 16], proto: u8, len: usize) -> Vec<u8> {
    let mut p = Vec::new();
    p.extend_from_slice(&src);
    p.extend_from_slice(&dst);
    p.extend_from_slice(&(len as u32).to_be_bytes());
    p.extend_from_slice(&[0, 0, 0, proto]);
    p
}

/// An IPv4 packet with every checksum computed from scratch.
#[derive(Clone, Debug)]
struct V4 {
    src: [u8; 4],
    dst: [u8; 4],
    proto: u8,
    options: Vec<u8>,
    l4: Vec<u8>,
    frag_word: u16,
    ttl: u8,
}

impl V4 {
    fn build(&self, dst: [u8; 4], fill: Fill) -> Vec<u8> {
        let ihl = 20 + self.options.len();
        let total = ihl + self.l4.len();
        let mut p = vec![0u8; total];
        p[0] = 0x40 | (ihl / 4) as u8;
        p[1] = 0x04; // DSCP 1, as the load balancer marks it
        p[2..4].copy_from_slice(&(total as u16).to_be_bytes());
        p[4..6].copy_from_slice(&0x1234u16.to_be_bytes());
        p[6..8].copy_from_slice(&self.frag_word.to_be_bytes());
        p[8] = self.ttl;
        p[9] = self.proto;
        p[12..16].copy_from_slice(&self.src);
        p[16..20].copy_from_slice(&dst);
        p[20..ihl].copy_from_slice(&self.options);
        p[ihl..].copy_from_slice(&self.l4);
        let hc = !(be_sum(&[&p[..ihl]]) as u16);
        p[10..12].copy_from_slice(&hc.to_be_bytes());
        // Only a first fragment carries the transport header.
        if self.frag_word & 0x1fff == 0 {
            let pseudo = pseudo_v4(self.src, dst, self.proto, self.l4.len());
            fill_l4(&mut p, ihl, self.proto, &pseudo, fill);
        }
        p
    }
}

/// An IPv6 packet with extension headers `ext` (already chained) and the transport checksum
/// computed over the pseudo-header with `final_dst`.
#[derive(Clone, Debug)]
struct V6 {
    src: [u8; 16],
    dst: [u8; 16],
    proto: u8,
    /// (next-header value of the first header, bytes of the extension headers)
    ext: Vec<(u8, Vec<u8>)>,
    l4: Vec<u8>,
}

impl V6 {
    fn build(&self, dst: [u8; 16], fill: Fill) -> (Vec<u8>, usize) {
        let ext_len: usize = self.ext.iter().map(|(_, e)| e.len()).sum();
        let thoff = 40 + ext_len;
        let mut p = vec![0u8; thoff + self.l4.len()];
        p[0] = 0x60 | 0x01; // traffic class 0x14 high nibble
        p[1] = 0x40;
        p[4..6].copy_from_slice(&((ext_len + self.l4.len()) as u16).to_be_bytes());
        p[6] = self.ext.first().map_or(self.proto, |(t, _)| *t);
        p[7] = 64;
        p[8..24].copy_from_slice(&self.src);
        p[24..40].copy_from_slice(&dst);
        let mut off = 40;
        for (i, (_, e)) in self.ext.iter().enumerate() {
            p[off..off + e.len()].copy_from_slice(e);
            p[off] = self.ext.get(i + 1).map_or(self.proto, |(t, _)| *t);
            off += e.len();
        }
        p[thoff..].copy_from_slice(&self.l4);
        let pseudo = pseudo_v6(self.src, dst, self.proto, self.l4.len());
        fill_l4(&mut p, thoff, self.proto, &pseudo, fill);
        (p, thoff)
    }
}

fn fill_for(mode: CsumMode) -> Fill {
    if mode == CsumMode::Partial {
        Fill::Seed
    } else {
        Fill::Full
    }
}

fn any_mode() -> impl Strategy<Value = CsumMode> {
    prop_oneof![
        Just(CsumMode::None),
        Just(CsumMode::Unnecessary),
        Just(CsumMode::Complete),
        Just(CsumMode::Partial),
    ]
}

fn l4_bytes(proto: u8) -> impl Strategy<Value = Vec<u8>> {
    let min = l4_min_len(proto);
    prop::collection::vec(any::<u8>(), min..min + 64).prop_map(move |mut v| {
        match proto {
            // UDP length field right; UDP-Lite checksum coverage 0 = whole datagram.
            UDP => {
                let n = v.len() as u16;
                v[4..6].copy_from_slice(&n.to_be_bytes());
            }
            UDPLITE => v[4..6].copy_from_slice(&[0, 0]),
            // DCCP CsCov = 0: the checksum covers the whole packet.
            DCCP => v[5] &= 0xf0,
            _ => {}
        }
        v
    })
}

fn v4_packet() -> impl Strategy<Value = V4> {
    (
        prop::sample::select(vec![TCP, UDP, UDPLITE, DCCP, ICMP, SCTP]),
        any::<[u8; 4]>(),
        any::<[u8; 4]>(),
        prop::collection::vec(any::<u8>(), 0..=10).prop_map(|o| {
            // Options padded to a multiple of 4 with NOPs.
            let mut o = o;
            o.resize(o.len().div_ceil(4) * 4, 1);
            o
        }),
        any::<u8>(),
    )
        .prop_flat_map(|(proto, src, dst, options, ttl)| {
            l4_bytes(proto).prop_map(move |l4| V4 {
                src,
                dst,
                proto,
                options: options.clone(),
                l4,
                frag_word: 0x4000, // DF
                ttl,
            })
        })
}

/// Check `skb->csum` against a full sum of the rewritten packet (equal modulo 0xffff, which is
/// all a one's-complement sum promises).
fn assert_complete(skb: &SkbCsum, pkt: &[u8]) {
    let ours = u64::from(skb.csum) % 0xffff;
    let full = u64::from(sum_bytes(pkt)) % 0xffff;
    assert_eq!(ours, full, "skb->csum no longer matches the packet");
}

fn skb_for(mode: CsumMode, pkt: &[u8]) -> SkbCsum {
    SkbCsum {
        mode,
        csum: if mode == CsumMode::Complete {
            sum_bytes(pkt)
        } else {
            0
        },
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn ipv4_incremental_equals_full_recomputation(p in v4_packet(), new in any::<[u8; 4]>(), mode in any_mode()) {
        let fill = fill_for(mode);
        let mut pkt = p.build(p.dst, fill);
        let expected = p.build(new, fill);
        let mut skb = skb_for(mode, &pkt);
        let meta = PacketMeta { thoff: 20 + p.options.len(), fragoff: 0 };
        let outcome = rewrite_v4(&mut pkt, meta, new, &mut skb);
        match p.proto {
            ICMP | SCTP => prop_assert_eq!(outcome, Outcome::RewrittenOnly(Untouched::NoPseudoHeader)),
            proto => prop_assert_eq!(outcome, Outcome::Rewritten { proto }),
        }
        prop_assert_eq!(&pkt, &expected);
        if mode == CsumMode::Complete {
            assert_complete(&skb, &pkt);
        }
    }

    #[test]
    fn ipv6_incremental_equals_full_recomputation(
        proto in prop::sample::select(vec![TCP, UDP, UDPLITE, DCCP, ICMPV6, SCTP]),
        src in any::<[u8; 16]>(), dst in any::<[u8; 16]>(), new in any::<[u8; 16]>(),
        hbh in any::<bool>(), dstopts in any::<bool>(), first_frag in any::<bool>(),
        l4 in prop::collection::vec(any::<u8>(), 20..90),
        mode in any_mode(),
    ) {
        let mut ext = Vec::new();
        if hbh { ext.push((0u8, vec![0, 0, 1, 4, 0, 0, 0, 0])); }           // PadN
        if first_frag { ext.push((44u8, vec![0, 0, 0, 1, 0xca, 0xfe, 0, 1])); } // offset 0, M=1
        if dstopts { ext.push((60u8, vec![0, 1, 1, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])); }
        let mut l4 = l4;
        if proto == UDP { let n = l4.len() as u16; l4[4..6].copy_from_slice(&n.to_be_bytes()); }
        if proto == UDPLITE { l4[4..6].copy_from_slice(&[0, 0]); }
        if proto == DCCP { l4[5] &= 0xf0; }
        let p = V6 { src, dst, proto, ext, l4 };
        let fill = fill_for(mode);
        let (mut pkt, thoff) = p.build(dst, fill);
        let (expected, _) = p.build(new, fill);
        let mut skb = skb_for(mode, &pkt);
        let outcome = rewrite_v6(&mut pkt, PacketMeta { thoff, fragoff: 0 }, new, &mut skb);
        if proto == SCTP {
            prop_assert_eq!(outcome, Outcome::RewrittenOnly(Untouched::NoPseudoHeader));
        } else {
            prop_assert_eq!(outcome, Outcome::Rewritten { proto });
        }
        prop_assert_eq!(&pkt, &expected);
        if mode == CsumMode::Complete {
            assert_complete(&skb, &pkt);
        }
    }

    #[test]
    fn udp_zero_checksum_stays_zero_unless_partial(
        p in v4_packet().prop_filter("udp", |p| p.proto == UDP),
        new in any::<[u8; 4]>(),
        mode in prop_oneof![Just(CsumMode::None), Just(CsumMode::Unnecessary), Just(CsumMode::Complete)],
    ) {
        let mut pkt = p.build(p.dst, Fill::Zero);
        let expected = p.build(new, Fill::Zero);
        let mut skb = skb_for(mode, &pkt);
        let outcome = rewrite_v4(&mut pkt, PacketMeta { thoff: 20 + p.options.len(), fragoff: 0 }, new, &mut skb);
        prop_assert_eq!(outcome, Outcome::RewrittenOnly(Untouched::UdpNoChecksum));
        prop_assert_eq!(&pkt, &expected);
        prop_assert_eq!(&pkt[20 + p.options.len() + 6..][..2], &[0u8, 0][..]);
        if mode == CsumMode::Complete {
            assert_complete(&skb, &pkt);
        }
    }

    #[test]
    fn ipv4_non_first_fragment_keeps_payload(
        p in v4_packet(), new in any::<[u8; 4]>(), offset in 1u16..0x1fff, mode in any_mode(),
    ) {
        let p = V4 { frag_word: offset, ..p };
        let mut pkt = p.build(p.dst, Fill::Full);
        let expected = p.build(new, Fill::Full);
        let payload = pkt[20 + p.options.len()..].to_vec();
        let mut skb = skb_for(mode, &pkt);
        let outcome = rewrite_v4(&mut pkt, PacketMeta { thoff: 20 + p.options.len(), fragoff: offset }, new, &mut skb);
        prop_assert_eq!(outcome, Outcome::RewrittenOnly(Untouched::NonFirstFragment));
        prop_assert_eq!(&pkt[20 + p.options.len()..], &payload[..]);
        prop_assert_eq!(&pkt, &expected);
        if mode == CsumMode::Complete {
            assert_complete(&skb, &pkt);
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic_and_drops_leave_packet_alone(
        data in prop::collection::vec(any::<u8>(), 0..200),
    ) {
        daddr_core::fuzzing::rewrite(&data);
    }
}

#[test]
fn udp_computed_zero_is_sent_as_ffff() {
    // Search a destination for which the rewritten UDP checksum computes to 0.
    let base = V4 {
        src: [198, 51, 100, 7],
        dst: [10, 0, 0, 2],
        proto: UDP,
        options: vec![],
        l4: vec![0x30, 0x39, 0x00, 0x35, 0x00, 0x0c, 0, 0, 1, 2, 3, 4],
        frag_word: 0,
        ttl: 64,
    };
    let mut found = 0;
    for last in 0..=u16::MAX {
        let new = [72, 30, (last >> 8) as u8, last as u8];
        let expected = base.build(new, Fill::Full);
        if expected[26..28] != [0xff, 0xff] {
            continue;
        }
        let mut pkt = base.build(base.dst, Fill::Full);
        let mut skb = skb_for(CsumMode::None, &pkt);
        let outcome = rewrite_v4(
            &mut pkt,
            PacketMeta {
                thoff: 20,
                fragoff: 0,
            },
            new,
            &mut skb,
        );
        assert_eq!(outcome, Outcome::Rewritten { proto: UDP });
        assert_eq!(pkt, expected);
        found += 1;
    }
    assert!(found > 0, "no destination gave a zero UDP checksum");
}

#[test]
fn ipv6_routing_header_with_segments_left_keeps_transport_checksum() {
    // Type 4 routing header, segments left 1: the pseudo-header uses the final destination.
    let rh = vec![
        0, 2, 4, 1, 0, 0, 0, 0, 0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9,
    ];
    let p = V6 {
        src: [0xfd; 16],
        dst: [0xfe; 16],
        proto: TCP,
        ext: vec![(43, rh)],
        l4: vec![7; 20],
    };
    let (mut pkt, thoff) = p.build(p.dst, Fill::Full);
    let l4_before = pkt[thoff..].to_vec();
    let mut skb = skb_for(CsumMode::None, &pkt);
    let outcome = rewrite_v6(
        &mut pkt,
        PacketMeta { thoff, fragoff: 0 },
        [1; 16],
        &mut skb,
    );
    assert_eq!(
        outcome,
        Outcome::RewrittenOnly(Untouched::RoutingHeaderPending)
    );
    assert_eq!(&pkt[24..40], &[1; 16]);
    assert_eq!(pkt[thoff..], l4_before[..]);
}

#[test]
fn ipv6_non_first_fragment_keeps_payload() {
    let p = V6 {
        src: [0xfd; 16],
        dst: [0xfe; 16],
        proto: 44,
        ext: vec![],
        l4: vec![],
    };
    let (mut before, _) = p.build(p.dst, Fill::Full);
    // Fragment header: next TCP, offset 185*8, then 24 payload bytes.
    before.extend_from_slice(&[TCP, 0, 0x05, 0xc8, 0, 0, 0, 1]);
    before.extend_from_slice(&[0xab; 24]);
    before[4..6].copy_from_slice(&32u16.to_be_bytes());
    // ip6_tables reports no transport offset for such packets (thoff 0); nft_compat may.
    for thoff in [0, 48] {
        let mut pkt = before.clone();
        let mut skb = skb_for(CsumMode::Complete, &pkt);
        let meta = PacketMeta {
            thoff,
            fragoff: 185 * 8,
        };
        let outcome = rewrite_v6(&mut pkt, meta, [2; 16], &mut skb);
        assert_eq!(outcome, Outcome::RewrittenOnly(Untouched::NonFirstFragment));
        assert_eq!(&pkt[24..40], &[2; 16]);
        assert_eq!(pkt[40..], before[40..]);
        assert_complete(&skb, &pkt);
    }
}

#[test]
fn truncated_transport_header_is_dropped_untouched() {
    for (proto, keep) in [(TCP, 17), (UDP, 7), (DCCP, 7)] {
        let p = V4 {
            src: [1, 2, 3, 4],
            dst: [5, 6, 7, 8],
            proto,
            options: vec![],
            l4: vec![0; 20],
            frag_word: 0,
            ttl: 1,
        };
        let mut pkt = p.build(p.dst, Fill::Full);
        pkt.truncate(20 + keep);
        pkt[2..4].copy_from_slice(&((20 + keep) as u16).to_be_bytes());
        let before = pkt.clone();
        let mut skb = skb_for(CsumMode::None, &pkt);
        let outcome = rewrite_v4(
            &mut pkt,
            PacketMeta {
                thoff: 20,
                fragoff: 0,
            },
            [9; 4],
            &mut skb,
        );
        assert_eq!(
            outcome,
            Outcome::Dropped(Malformed::TruncatedTransport),
            "proto {proto}"
        );
        assert_eq!(pkt, before);
    }
}

#[test]
fn inconsistent_offsets_are_dropped() {
    let mut v4 = vec![
        0x45, 0, 0, 40, 0, 0, 0, 0, 64, TCP, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2,
    ];
    v4.extend_from_slice(&[0; 20]);
    let mut skb = skb_for(CsumMode::None, &v4);
    let meta = PacketMeta {
        thoff: 24,
        fragoff: 0,
    };
    assert_eq!(
        rewrite_v4(&mut v4, meta, [3; 4], &mut skb),
        Outcome::Dropped(Malformed::TransportOffset)
    );
    let mut not_v4 = v4.clone();
    not_v4[0] = 0x65;
    assert_eq!(
        rewrite_v4(
            &mut not_v4,
            PacketMeta {
                thoff: 20,
                fragoff: 0
            },
            [3; 4],
            &mut skb
        ),
        Outcome::Dropped(Malformed::NetworkHeader)
    );
    // IPv6 whose thoff falls inside a hop-by-hop header.
    let p = V6 {
        src: [1; 16],
        dst: [2; 16],
        proto: TCP,
        ext: vec![(0, vec![0, 1, 1, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])],
        l4: vec![0; 20],
    };
    let (mut v6, _) = p.build(p.dst, Fill::Full);
    assert_eq!(
        rewrite_v6(
            &mut v6,
            PacketMeta {
                thoff: 48,
                fragoff: 0
            },
            [3; 16],
            &mut skb
        ),
        Outcome::Dropped(Malformed::TransportOffset)
    );
}
