//! Destination rewrite and checksum maintenance for one packet, operating on header bytes only.
//!
//! Modelled on the kernel's own `nft_payload` mangling and `nf_nat` checksum helpers:
//! * IPv4 header checksum: incremental (RFC 1624);
//! * transport checksums with a pseudo-header (TCP, UDP, UDP-Lite, DCCP, ICMPv6): incremental
//!   for `CHECKSUM_NONE`/`CHECKSUM_UNNECESSARY`/`CHECKSUM_COMPLETE`, seed update for
//!   `CHECKSUM_PARTIAL`; a UDP checksum of 0 stays 0 unless `CHECKSUM_PARTIAL`; a computed UDP
//!   0 becomes 0xffff;
//! * `CHECKSUM_COMPLETE`: `skb->csum` follows every word written;
//! * non-first fragments carry no transport header: the transport checksum is not touched.
//!
//! This directory is compiled into the kernel module as is (`#[path]` module), so it uses only
//! `core`, never panics on any input (every access is `get`/`get_mut` or a constant index into a
//! fixed-size array, every offset sum `checked_add`: no panicking path reaches the kernel
//! object, which kmod-daddr/check-object.sh enforces) and never allocates.

pub mod csum;
pub mod ipv4;
pub mod ipv6;
pub mod l4;

pub use ipv4::rewrite_v4;
pub use ipv6::rewrite_v6;

use csum::Delta;
use l4::L4Checksum;

/// The socket buffer's checksum state, `skb->ip_summed`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CsumMode {
    /// `CHECKSUM_NONE`: nothing verified yet; the stack will verify the fields we write.
    None,
    /// `CHECKSUM_UNNECESSARY`: already verified; fields are still kept right for later hops.
    Unnecessary,
    /// `CHECKSUM_COMPLETE`: `skb->csum` holds the sum of the packet from the network header.
    Complete,
    /// `CHECKSUM_PARTIAL`: the transport field holds the pseudo-header seed; hardware or
    /// `skb_checksum_help()` completes it later.
    Partial,
}

/// Checksum state handed over by the shim and written back when `mode` is `Complete`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SkbCsum {
    /// `skb->ip_summed`.
    pub mode: CsumMode,
    /// `skb->csum`; meaningful only for [`CsumMode::Complete`].
    pub csum: u32,
}

/// What netfilter already knows about the packet (`xt_action_param`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PacketMeta {
    /// Offset of the transport header from the network header (`par->thoff`).
    pub thoff: usize,
    /// Fragment offset (`par->fragoff`); non-zero for non-first fragments.
    pub fragoff: u16,
}

/// The netfilter verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// `XT_CONTINUE`: the next rules see the rewritten packet.
    Continue,
    /// `NF_DROP`.
    Drop,
}

/// Why the transport checksum was left alone although the destination was rewritten.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Untouched {
    /// The transport protocol has no checksum covering the destination (ICMP, SCTP, ...).
    NoPseudoHeader,
    /// A non-first fragment: it carries no transport header.
    NonFirstFragment,
    /// UDP without checksum (0), not `CHECKSUM_PARTIAL`.
    UdpNoChecksum,
    /// An IPv6 routing header with segments left: the pseudo-header uses the final
    /// destination, not the one in the IPv6 header (RFC 8200 §8.1).
    RoutingHeaderPending,
}

/// Why a packet was dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Malformed {
    /// Shorter than the fixed network header, or not the expected IP version.
    NetworkHeader,
    /// `thoff` does not agree with the header (IPv4 IHL, IPv6 extension header chain).
    TransportOffset,
    /// The transport header ends before its checksum field.
    TruncatedTransport,
}

/// The result of one rewrite.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Destination rewritten and the transport checksum of protocol `proto` updated.
    Rewritten {
        /// IANA protocol number of the transport header.
        proto: u8,
    },
    /// Destination rewritten; transport checksum left as it was.
    RewrittenOnly(Untouched),
    /// Nothing written; the packet must be dropped.
    Dropped(Malformed),
}

impl Outcome {
    /// The netfilter verdict for this outcome.
    pub fn verdict(self) -> Verdict {
        match self {
            Outcome::Dropped(_) => Verdict::Drop,
            _ => Verdict::Continue,
        }
    }
}

/// New value of the transport checksum word `old` for a pseudo-header change of `delta`, or
/// why it is left alone.
fn l4_value(old: u16, l4: L4Checksum, delta: Delta, mode: CsumMode) -> Result<u16, Untouched> {
    Ok(match mode {
        CsumMode::Partial => csum::replace_seed(old, delta),
        CsumMode::None | CsumMode::Unnecessary | CsumMode::Complete => {
            if l4.zero_means_none && old == 0 {
                return Err(Untouched::UdpNoChecksum);
            }
            match csum::replace_checksum(old, delta) {
                0 if l4.zero_is_mangled => 0xffff,
                v => v,
            }
        }
    })
}

/// Locate the transport checksum and check it is inside the bytes we were given.
/// `end` is where the packet's data ends (header bytes given, bounded by the IP length).
fn l4_checksum_at(
    proto: u8,
    ipv6: bool,
    thoff: usize,
    end: usize,
) -> Result<Option<(usize, L4Checksum)>, Malformed> {
    let Some(l4) = l4::pseudo_header_checksum(proto, ipv6) else {
        return Ok(None);
    };
    let off = thoff
        .checked_add(l4.offset)
        .ok_or(Malformed::TruncatedTransport)?;
    if off.checked_add(2).is_none_or(|e| e > end) {
        return Err(Malformed::TruncatedTransport);
    }
    Ok(Some((off, l4)))
}

/// Shared tail of both families: write the new address at `addr_off`, update the IPv4 header
/// checksum at `ip_check` (if any), the transport checksum (if any) and `skb->csum`.
///
/// Every word is read and checked to be inside `pkt` before anything is written, so a packet
/// that is dropped comes back unmodified; all accesses are `get`/`get_mut` (no panicking path
/// in the kernel object).
fn finish<const N: usize>(
    pkt: &mut [u8],
    addr_off: usize,
    new: [u8; N],
    ip_check: Option<usize>,
    l4: Result<(u8, usize, L4Checksum), Untouched>,
    skb: &mut SkbCsum,
) -> Outcome {
    let Some(old_addr) = pkt.get(addr_off..).and_then(|p| p.first_chunk::<N>()) else {
        return Outcome::Dropped(Malformed::NetworkHeader);
    };
    let addr_delta = Delta::ZERO.replace_bytes(old_addr, &new);
    let ip = match ip_check {
        None => None,
        Some(off) => match csum::get_word(pkt, off) {
            Some(old) => Some((off, old, csum::replace_checksum(old, addr_delta))),
            None => return Outcome::Dropped(Malformed::NetworkHeader),
        },
    };
    let l4 = match l4 {
        Ok((proto, off, l4)) => match csum::get_word(pkt, off) {
            Some(old) => l4_value(old, l4, addr_delta, skb.mode).map(|v| (proto, off, old, v)),
            None => return Outcome::Dropped(Malformed::TruncatedTransport),
        },
        Err(why) => Err(why),
    };

    // Checked above: every write below is inside `pkt`.
    if let Some(dst) = pkt
        .get_mut(addr_off..)
        .and_then(|p| p.first_chunk_mut::<N>())
    {
        *dst = new;
    }
    // Every word written, for CHECKSUM_COMPLETE, which covers the whole packet.
    let mut written = addr_delta;
    if let Some((off, old, check)) = ip {
        csum::set_word(pkt, off, check);
        written = written.replace(old, check);
    }
    let outcome = match l4 {
        Ok((proto, off, old, v)) => {
            csum::set_word(pkt, off, v);
            written = written.replace(old, v);
            Outcome::Rewritten { proto }
        }
        Err(why) => Outcome::RewrittenOnly(why),
    };
    if skb.mode == CsumMode::Complete {
        skb.csum = csum::replace_complete(skb.csum, written);
    }
    outcome
}
