//! The data plane's per-packet work, sans-IO (docs/ARCHITECTURE.md, "the two planes"): what a packet worker does
//! between a TUN read and a UDP send (downstream) and between a UDP receive and a TUN write
//! (upstream). Callers own the buffers and the sockets; this module only looks sessions up in
//! the published [`Pinned`] view, rewrites headers in place and counts.
//!
//! Downstream, the IPv4 packet is read into a buffer at [`DOWN_HEADROOM`], and the PPP and
//! L2TP headers are written in front of it: no copy (the original does the same with its
//! 10-byte prefix).
//!
//! Every packet that cannot be forwarded is counted by reason and dropped: nothing here
//! panics on any input (see the tests, and the lns fuzz targets for the table).

use std::net::{Ipv4Addr, SocketAddrV4};
use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};

use l2tp::header::{parse_data_header, write_data_header, DATA_HEADER_LEN};

use crate::policy::Admit;
use crate::session_table::{CallId, Pinned, SessionKey};

/// PPP protocol number of IPv4 (RFC 1332).
const PPP_IPV4: u16 = 0x0021;
/// PPP Address and Control fields (RFC 1662 §3.1), omitted when ACFC is negotiated.
const PPP_ADDRESS_CONTROL: [u8; 2] = [0xff, 0x03];

/// Room to keep in front of a downstream packet: L2TP data header + PPP address/control +
/// protocol, rounded up.
pub const DOWN_HEADROOM: usize = 16;

/// Why a packet was dropped; each has a global counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Drop {
    /// Not an IPv4 packet, or too short to be one.
    NotIpv4,
    /// No session has this destination (downstream) or these L2TP ids (upstream).
    NoSession,
    /// Longer than the session's MRU (downstream).
    OverMru,
    /// The L2TP or PPP header does not parse.
    Malformed,
    /// Upstream source address not the session's (anti-spoof).
    Spoofed,
    /// Upstream datagram with a live session's ids from an address and port other than its
    /// tunnel's peer: whoever guessed the ids is not the LAC.
    WrongPeer,
    /// Not a loss: a downstream packet of a sequenced call (RFC 2661 §5.4), which the caller
    /// hands to the control path so the engine numbers it.
    Sequenced,
    /// Denied by the session's access list.
    Filtered,
    /// Over the session's throttle rate.
    Throttled,
}

/// One data-plane worker's counters (relaxed atomics: read for statistics only).
///
/// Each worker owns one, so no two cores write the same cache line on the per-packet path
/// (hence the alignment); [`Counters::sum`] adds them up for the CLI, nsctl and metrics.
#[derive(Debug, Default)]
#[repr(align(64))]
pub struct Counters {
    pub down_packets: AtomicU64,
    pub up_packets: AtomicU64,
    /// IPv4 octets forwarded each way (the `dump_speed` line).
    pub down_octets: AtomicU64,
    pub up_octets: AtomicU64,
    pub to_control: AtomicU64,
    pub not_ipv4: AtomicU64,
    pub no_session: AtomicU64,
    pub over_mru: AtomicU64,
    pub malformed: AtomicU64,
    pub spoofed: AtomicU64,
    pub wrong_peer: AtomicU64,
    pub sequenced_to_control: AtomicU64,
    pub filtered: AtomicU64,
    pub throttled: AtomicU64,
    /// Packets copied to an interception target.
    pub snooped: AtomicU64,
}

/// The counters of every worker added up, at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CounterValues {
    pub down_packets: u64,
    pub up_packets: u64,
    pub down_octets: u64,
    pub up_octets: u64,
    pub to_control: u64,
    pub not_ipv4: u64,
    pub no_session: u64,
    pub over_mru: u64,
    pub malformed: u64,
    pub spoofed: u64,
    pub wrong_peer: u64,
    pub sequenced_to_control: u64,
    pub filtered: u64,
    pub throttled: u64,
    pub snooped: u64,
}

impl CounterValues {
    /// What was counted since `earlier` (`clear counters` keeps a baseline rather than
    /// resetting atomics the workers write).
    pub fn since(&self, earlier: &CounterValues) -> CounterValues {
        CounterValues {
            down_packets: self.down_packets.saturating_sub(earlier.down_packets),
            up_packets: self.up_packets.saturating_sub(earlier.up_packets),
            down_octets: self.down_octets.saturating_sub(earlier.down_octets),
            up_octets: self.up_octets.saturating_sub(earlier.up_octets),
            to_control: self.to_control.saturating_sub(earlier.to_control),
            not_ipv4: self.not_ipv4.saturating_sub(earlier.not_ipv4),
            no_session: self.no_session.saturating_sub(earlier.no_session),
            over_mru: self.over_mru.saturating_sub(earlier.over_mru),
            malformed: self.malformed.saturating_sub(earlier.malformed),
            spoofed: self.spoofed.saturating_sub(earlier.spoofed),
            wrong_peer: self.wrong_peer.saturating_sub(earlier.wrong_peer),
            sequenced_to_control: self
                .sequenced_to_control
                .saturating_sub(earlier.sequenced_to_control),
            filtered: self.filtered.saturating_sub(earlier.filtered),
            throttled: self.throttled.saturating_sub(earlier.throttled),
            snooped: self.snooped.saturating_sub(earlier.snooped),
        }
    }

    /// `(name, value)` as the `counters:` log line, nsctl and the CLI show them.
    pub fn named(&self) -> [(&'static str, u64); 13] {
        [
            ("down_packets", self.down_packets),
            ("up_packets", self.up_packets),
            ("to_control", self.to_control),
            ("not_ipv4", self.not_ipv4),
            ("no_session", self.no_session),
            ("over_mru", self.over_mru),
            ("malformed", self.malformed),
            ("spoofed", self.spoofed),
            ("wrong_peer", self.wrong_peer),
            ("sequenced_to_control", self.sequenced_to_control),
            ("filtered", self.filtered),
            ("throttled", self.throttled),
            ("snooped", self.snooped),
        ]
    }
}

impl Counters {
    /// The sum over `workers`' counters.
    pub fn sum<'a>(workers: impl IntoIterator<Item = &'a Counters>) -> CounterValues {
        let mut t = CounterValues::default();
        for c in workers {
            let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
            t.down_packets += get(&c.down_packets);
            t.up_packets += get(&c.up_packets);
            t.down_octets += get(&c.down_octets);
            t.up_octets += get(&c.up_octets);
            t.to_control += get(&c.to_control);
            t.not_ipv4 += get(&c.not_ipv4);
            t.no_session += get(&c.no_session);
            t.over_mru += get(&c.over_mru);
            t.malformed += get(&c.malformed);
            t.spoofed += get(&c.spoofed);
            t.wrong_peer += get(&c.wrong_peer);
            t.sequenced_to_control += get(&c.sequenced_to_control);
            t.filtered += get(&c.filtered);
            t.throttled += get(&c.throttled);
            t.snooped += get(&c.snooped);
        }
        t
    }

    pub fn dropped(&self, why: Drop) {
        let c = match why {
            Drop::NotIpv4 => &self.not_ipv4,
            Drop::NoSession => &self.no_session,
            Drop::OverMru => &self.over_mru,
            Drop::Malformed => &self.malformed,
            Drop::Spoofed => &self.spoofed,
            Drop::WrongPeer => &self.wrong_peer,
            Drop::Sequenced => &self.sequenced_to_control,
            Drop::Filtered => &self.filtered,
            Drop::Throttled => &self.throttled,
        };
        c.fetch_add(1, Ordering::Relaxed);
    }
}

/// A downstream packet ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Downstream {
    /// The datagram in the caller's buffer.
    pub datagram: Range<usize>,
    pub peer: SocketAddrV4,
    /// Which UDP socket (bind address) to send it from.
    pub socket: u16,
    pub session: SessionKey,
    /// Also send the IP packet (the datagram's last `ip_len` bytes) here: interception.
    pub snoop: Option<SocketAddrV4>,
    /// Throttled and held back: send it at this time ([`crate::policy::now_us`]), not now.
    pub release_us: Option<u64>,
}

fn ipv4_addrs(packet: &[u8]) -> Option<(Ipv4Addr, Ipv4Addr)> {
    if packet.len() < 20 || packet[0] >> 4 != 4 {
        return None;
    }
    let src = Ipv4Addr::new(packet[12], packet[13], packet[14], packet[15]);
    let dst = Ipv4Addr::new(packet[16], packet[17], packet[18], packet[19]);
    Some((src, dst))
}

/// Frames the IPv4 packet at `buf[packet]` (which must start at least [`DOWN_HEADROOM`]
/// bytes into `buf`) for the session its destination belongs to.
pub fn downstream(
    view: &Pinned<'_>,
    counters: &Counters,
    buf: &mut [u8],
    packet: Range<usize>,
) -> Result<Downstream, Drop> {
    let octets = packet.len() as u64;
    let result = frame_downstream(view, buf, packet);
    match &result {
        Ok(d) => {
            counters.down_packets.fetch_add(1, Ordering::Relaxed);
            counters.down_octets.fetch_add(octets, Ordering::Relaxed);
            if d.snoop.is_some() {
                counters.snooped.fetch_add(1, Ordering::Relaxed);
            }
        }
        Err(why) => counters.dropped(*why),
    }
    result
}

fn frame_downstream(
    view: &Pinned<'_>,
    buf: &mut [u8],
    packet: Range<usize>,
) -> Result<Downstream, Drop> {
    let ip = buf.get(packet.clone()).ok_or(Drop::Malformed)?;
    let (_, dst) = ipv4_addrs(ip).ok_or(Drop::NotIpv4)?;
    let path = view.by_destination(dst).ok_or(Drop::NoSession)?;
    if path.info.sequenced {
        return Err(Drop::Sequenced);
    }
    if ip.len() > usize::from(path.info.mru) {
        return Err(Drop::OverMru);
    }
    // The original's order: access list, then throttle (the MSS clamp is the caller's).
    let mut snoop = None;
    let mut release_us = None;
    if let Some(p) = &path.policy {
        if p.filter_out.as_ref().is_some_and(|f| !f.permits(ip)) {
            return Err(Drop::Filtered);
        }
        if let Some(b) = &p.throttle_out {
            release_us = throttle(b, ip.len())?;
        }
        snoop = p.snoop;
    }
    let octets = ip.len();
    // PPP header, then the L2TP header in front of it.
    let mut start = packet.start;
    let ppp: &[u8] = match (path.info.acfc, path.info.pfc) {
        (false, false) => &[0xff, 0x03, 0x00, 0x21],
        (false, true) => &[0xff, 0x03, 0x21],
        (true, false) => &[0x00, 0x21],
        (true, true) => &[0x21],
    };
    if start < ppp.len() + DATA_HEADER_LEN {
        return Err(Drop::Malformed);
    }
    start -= ppp.len();
    buf[start..start + ppp.len()].copy_from_slice(ppp);
    let start = write_data_header(buf, start, path.info.peer_tunnel, path.info.peer_session)
        .map_err(|_| Drop::Malformed)?;
    path.counters.count_out(octets);
    Ok(Downstream {
        datagram: start..packet.end,
        peer: path.info.peer,
        socket: path.info.socket,
        session: path.key,
        snoop,
        release_us,
    })
}

/// The bucket's verdict as the data plane acts on it: `Some(time)` to hold the packet.
fn throttle(bucket: &crate::policy::Bucket, bytes: usize) -> Result<Option<u64>, Drop> {
    match bucket.admit(bytes, crate::policy::now_us()) {
        Admit::Now => Ok(None),
        Admit::Later(at) => Ok(Some(at)),
        Admit::Drop => Err(Drop::Throttled),
    }
}

/// What to do with a received L2TP datagram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Upstream {
    /// Write `datagram[packet]` (an IPv4 packet) to the TUN device.
    ToTun {
        packet: Range<usize>,
        session: SessionKey,
        /// Also send the packet here: interception.
        snoop: Option<SocketAddrV4>,
        /// Throttled and held back: write it at this time, not now.
        release_us: Option<u64>,
    },
    /// A control message, or a PPP frame that is not IPv4 (LCP, IPCP, …): the control loop's.
    ToControl,
}

/// The PPP protocol and where the information field starts (RFC 1661 §2, RFC 1662 §3.1:
/// address/control may be absent with ACFC, the protocol one byte with PFC).
fn ppp_protocol(frame: &[u8]) -> Option<(u16, usize)> {
    let at = if frame.starts_with(&PPP_ADDRESS_CONTROL) {
        2
    } else {
        0
    };
    let first = *frame.get(at)?;
    // A protocol field's low bit ends it (RFC 1661 §2: odd last octet).
    if first & 1 == 1 {
        return Some((u16::from(first), at + 1));
    }
    let second = *frame.get(at + 1)?;
    Some((u16::from_be_bytes([first, second]), at + 2))
}

/// Classifies a datagram that arrived from `from`. `now` stamps the session's
/// last-activity counter.
pub fn upstream(
    view: &Pinned<'_>,
    counters: &Counters,
    datagram: &[u8],
    from: SocketAddrV4,
    now: u64,
) -> Result<Upstream, Drop> {
    let result = classify_upstream(view, datagram, from, now);
    match &result {
        Ok(Upstream::ToTun { packet, snoop, .. }) => {
            counters.up_packets.fetch_add(1, Ordering::Relaxed);
            counters
                .up_octets
                .fetch_add(packet.len() as u64, Ordering::Relaxed);
            if snoop.is_some() {
                counters.snooped.fetch_add(1, Ordering::Relaxed);
            }
        }
        Ok(Upstream::ToControl) => {
            counters.to_control.fetch_add(1, Ordering::Relaxed);
        }
        Err(why) => counters.dropped(*why),
    }
    result
}

fn classify_upstream(
    view: &Pinned<'_>,
    datagram: &[u8],
    from: SocketAddrV4,
    now: u64,
) -> Result<Upstream, Drop> {
    let Some(h) = parse_data_header(datagram).map_err(|_| Drop::Malformed)? else {
        return Ok(Upstream::ToControl);
    };
    let ids = CallId {
        tunnel: h.tunnel_id,
        session: h.session_id,
    };
    let path = view.by_ids(ids).ok_or(Drop::NoSession)?;
    // Data only from the tunnel's peer (address and port, RFC 2661 §8.1: the LAC's).
    if path.info.peer != from {
        return Err(Drop::WrongPeer);
    }
    let frame = datagram.get(h.payload()).ok_or(Drop::Malformed)?;
    let (protocol, info) = ppp_protocol(frame).ok_or(Drop::Malformed)?;
    if protocol != PPP_IPV4 {
        return Ok(Upstream::ToControl);
    }
    let ip = &frame[info..];
    let (src, _) = ipv4_addrs(ip).ok_or(Drop::NotIpv4)?;
    if !view.source_allowed(path, src) {
        path.counters.spoofed.fetch_add(1, Ordering::Relaxed);
        return Err(Drop::Spoofed);
    }
    let mut snoop = None;
    let mut release_us = None;
    if let Some(p) = &path.policy {
        if p.filter_in.as_ref().is_some_and(|f| !f.permits(ip)) {
            return Err(Drop::Filtered);
        }
        if let Some(b) = &p.throttle_in {
            release_us = throttle(b, ip.len())?;
        }
        snoop = p.snoop;
    }
    path.counters.count_in(ip.len(), now);
    let start = h.payload_offset + info;
    Ok(Upstream::ToTun {
        packet: start..h.payload_end,
        session: path.key,
        snoop,
        release_us,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session_table::{DataPathInfo, SessionTable};

    const LAC: SocketAddrV4 = SocketAddrV4::new(Ipv4Addr::new(192, 0, 2, 9), 1701);
    const USER: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 5);

    fn table(acfc: bool, pfc: bool) -> (SessionTable<()>, SessionKey) {
        let mut t = SessionTable::new();
        let k = t
            .insert(
                CallId {
                    tunnel: l2tp::TunnelId(3),
                    session: l2tp::SessionId(4),
                },
                (),
            )
            .unwrap();
        t.set_address(k, USER).unwrap();
        t.publish(
            k,
            DataPathInfo {
                peer: LAC,
                socket: 0,
                peer_tunnel: l2tp::TunnelId(30),
                peer_session: l2tp::SessionId(40),
                mru: 1500,
                acfc,
                pfc,
                allow_any_source: false,
                sequenced: false,
            },
        )
        .unwrap();
        (t, k)
    }

    fn ipv4(src: Ipv4Addr, dst: Ipv4Addr, len: usize) -> Vec<u8> {
        let mut p = vec![0u8; len];
        p[0] = 0x45;
        p[2..4].copy_from_slice(&(len as u16).to_be_bytes());
        p[12..16].copy_from_slice(&src.octets());
        p[16..20].copy_from_slice(&dst.octets());
        p
    }

    fn in_buffer(ip: &[u8]) -> (Vec<u8>, Range<usize>) {
        let mut buf = vec![0u8; DOWN_HEADROOM];
        buf.extend_from_slice(ip);
        (buf, DOWN_HEADROOM..DOWN_HEADROOM + ip.len())
    }

    #[test]
    fn downstream_writes_l2tp_and_ppp_headers_in_place_and_counts() {
        let (t, k) = table(false, false);
        let view = t.data_plane();
        let pin = view.pin();
        let c = Counters::default();
        let ip = ipv4(Ipv4Addr::new(198, 51, 100, 1), USER, 60);
        let (mut buf, r) = in_buffer(&ip);
        let d = downstream(&pin, &c, &mut buf, r).unwrap();
        assert_eq!(d.peer, LAC);
        assert_eq!(d.session, k);
        let dg = &buf[d.datagram.clone()];
        assert_eq!(
            &dg[..10],
            &[0x00, 0x02, 0, 30, 0, 40, 0xff, 0x03, 0x00, 0x21]
        );
        assert_eq!(&dg[10..], &ip[..]);
        assert_eq!(c.down_packets.load(Ordering::Relaxed), 1);
        let sc = t.counters(k).unwrap();
        assert_eq!(sc.octets_out.load(Ordering::Relaxed), 60);

        // And what we sent parses back to the same packet on the LAC's side of the header.
        let h = parse_data_header(dg).unwrap().unwrap();
        assert_eq!(
            (h.tunnel_id, h.session_id),
            (l2tp::TunnelId(30), l2tp::SessionId(40))
        );
        assert_eq!(ppp_protocol(&dg[h.payload()]), Some((PPP_IPV4, 4)));
    }

    #[test]
    fn compressed_ppp_headers_follow_lcp() {
        let (t, _) = table(true, true);
        let view = t.data_plane();
        let pin = view.pin();
        let ip = ipv4(Ipv4Addr::new(198, 51, 100, 1), USER, 40);
        let (mut buf, r) = in_buffer(&ip);
        let d = downstream(&pin, &Counters::default(), &mut buf, r).unwrap();
        assert_eq!(
            &buf[d.datagram.start..d.datagram.start + 7],
            &[0, 2, 0, 30, 0, 40, 0x21]
        );
    }

    #[test]
    fn downstream_drops_are_counted_by_reason() {
        let (t, _) = table(false, false);
        let view = t.data_plane();
        let pin = view.pin();
        let c = Counters::default();
        let other = ipv4(USER, Ipv4Addr::new(10, 0, 0, 99), 40);
        let (mut buf, r) = in_buffer(&other);
        assert_eq!(downstream(&pin, &c, &mut buf, r), Err(Drop::NoSession));
        let big = ipv4(USER, USER, 1501);
        let (mut buf, r) = in_buffer(&big);
        assert_eq!(downstream(&pin, &c, &mut buf, r), Err(Drop::OverMru));
        let (mut buf, r) = in_buffer(&[0x60; 40]);
        assert_eq!(downstream(&pin, &c, &mut buf, r), Err(Drop::NotIpv4));
        // No headroom in front of the packet.
        let mut bare = ipv4(USER, USER, 40);
        assert_eq!(downstream(&pin, &c, &mut bare, 0..40), Err(Drop::Malformed));
        // A range outside the buffer.
        assert_eq!(
            downstream(&pin, &c, &mut bare, 30..90),
            Err(Drop::Malformed)
        );
        assert_eq!(c.no_session.load(Ordering::Relaxed), 1);
        assert_eq!(c.over_mru.load(Ordering::Relaxed), 1);
        assert_eq!(c.not_ipv4.load(Ordering::Relaxed), 1);
        assert_eq!(c.malformed.load(Ordering::Relaxed), 2);
        assert_eq!(c.down_packets.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn worker_counters_add_up() {
        let (a, b) = (Counters::default(), Counters::default());
        a.dropped(Drop::Spoofed);
        b.dropped(Drop::Spoofed);
        b.up_packets.fetch_add(5, Ordering::Relaxed);
        let t = Counters::sum([&a, &b]);
        assert_eq!((t.spoofed, t.up_packets, t.malformed), (2, 5, 0));
        assert!(t.named().contains(&("spoofed", 2)));
        b.dropped(Drop::Spoofed);
        assert_eq!(
            Counters::sum([&a, &b]).since(&t).spoofed,
            1,
            "since a baseline"
        );
    }

    fn l2tp_data(tunnel: u16, session: u16, ppp: &[u8]) -> Vec<u8> {
        let mut d = vec![0x00, 0x02];
        d.extend_from_slice(&tunnel.to_be_bytes());
        d.extend_from_slice(&session.to_be_bytes());
        d.extend_from_slice(ppp);
        d
    }

    #[test]
    fn upstream_ipv4_goes_to_the_tun_after_the_source_check() {
        let (t, k) = table(false, false);
        let view = t.data_plane();
        let pin = view.pin();
        let c = Counters::default();
        let ip = ipv4(USER, Ipv4Addr::new(198, 51, 100, 1), 52);
        for ppp_header in [
            &[0xff, 0x03, 0x00, 0x21][..],
            &[0x21][..],
            &[0x00, 0x21][..],
        ] {
            let mut ppp = ppp_header.to_vec();
            ppp.extend_from_slice(&ip);
            let dg = l2tp_data(3, 4, &ppp);
            match upstream(&pin, &c, &dg, LAC, 77).unwrap() {
                Upstream::ToTun {
                    packet, session, ..
                } => {
                    assert_eq!(&dg[packet], &ip[..]);
                    assert_eq!(session, k);
                }
                other => panic!("{other:?}"),
            }
        }
        let sc = t.counters(k).unwrap();
        assert_eq!(sc.packets_in.load(Ordering::Relaxed), 3);
        assert_eq!(sc.octets_in.load(Ordering::Relaxed), 3 * 52);
        assert_eq!(sc.last_packet_in.load(Ordering::Relaxed), 77);

        let mut ppp = vec![0xff, 0x03, 0x00, 0x21];
        ppp.extend_from_slice(&ipv4(Ipv4Addr::new(10, 0, 0, 6), USER, 40));
        assert_eq!(
            upstream(&pin, &c, &l2tp_data(3, 4, &ppp), LAC, 78),
            Err(Drop::Spoofed)
        );
        assert_eq!(sc.spoofed.load(Ordering::Relaxed), 1);
        assert_eq!(c.spoofed.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn upstream_control_and_ppp_control_go_to_the_control_loop() {
        let (t, _) = table(false, false);
        let view = t.data_plane();
        let pin = view.pin();
        let c = Counters::default();
        // LCP Echo-Request.
        let lcp = l2tp_data(3, 4, &[0xff, 0x03, 0xc0, 0x21, 9, 1, 0, 8, 0, 0, 0, 0]);
        assert_eq!(upstream(&pin, &c, &lcp, LAC, 0), Ok(Upstream::ToControl));
        // An L2TP control message (T, L, S bits): Hello with no AVPs.
        let ctl = [0xc8, 0x02, 0, 12, 0, 3, 0, 0, 0, 1, 0, 1];
        assert_eq!(upstream(&pin, &c, &ctl, LAC, 0), Ok(Upstream::ToControl));
        assert_eq!(c.to_control.load(Ordering::Relaxed), 2);
    }

    #[test]
    fn malformed_upstream_is_counted_and_never_panics() {
        let (t, _) = table(false, false);
        let view = t.data_plane();
        let pin = view.pin();
        let c = Counters::default();
        assert_eq!(upstream(&pin, &c, &[], LAC, 0), Err(Drop::Malformed));
        assert_eq!(upstream(&pin, &c, &[0x00], LAC, 0), Err(Drop::Malformed));
        assert_eq!(
            upstream(&pin, &c, &l2tp_data(9, 9, &[0x21]), LAC, 0),
            Err(Drop::NoSession)
        );
        assert_eq!(
            upstream(&pin, &c, &l2tp_data(3, 4, &[]), LAC, 0),
            Err(Drop::Malformed)
        );
        assert_eq!(
            upstream(&pin, &c, &l2tp_data(3, 4, &[0x21, 0x45]), LAC, 0),
            Err(Drop::NotIpv4)
        );
        // Every prefix of a good datagram, and bytes of every value, classify without panic.
        let mut ppp = vec![0xff, 0x03, 0x00, 0x21];
        ppp.extend_from_slice(&ipv4(USER, USER, 28));
        let good = l2tp_data(3, 4, &ppp);
        for n in 0..good.len() {
            let _ = upstream(&pin, &c, &good[..n], LAC, 0);
        }
        for b in 0..=255u8 {
            let _ = upstream(&pin, &c, &[b; 24], LAC, 0);
        }
    }
}
