//! One data path: TUN reads → [`data_plane::downstream`] → `sendmmsg`, and `recvmmsg` →
//! [`data_plane::upstream`] → TUN writes, with everything that is not an IPv4 packet of a
//! published session collected as [`SlowPath`] work for the control loop (the endpoint).
//!
//! The per-packet work is the sans-IO [`lns_dataplane::data_plane`]; a [`DataPath`] only owns
//! buffers and system calls. The control loop owns one (its UDP sockets, and with no workers
//! the TUN device); each worker thread ([`super::workers`]) owns another: its queue of the
//! multi-queue TUN device and its socket of each bind address's reuseport group, reading the
//! same lock-free `DataPlaneView`.

use std::io;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::sync::atomic::{AtomicU16, AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use lns_core::session_table::DataPlaneView;
use lns_core::Clock;
use lns_dataplane::data_plane::{self, Counters, Drop, Upstream, DOWN_HEADROOM};
use lns_dataplane::mss_clamp;
use mio::net::UdpSocket;

use crate::tun_device::TunDevice;
use crate::udp_batch::{gso_supported, send_batch, send_batch_gso, RecvBatch, DATAGRAM_ROOM};

use super::held::{HeldPackets, Out};

/// Packets per TUN read burst and per `sendmmsg`.
pub const BURST: usize = 64;

/// The IP header (at most 60 bytes) and 8 data octets: all an ICMP error quotes (RFC 792).
const QUOTED_MAX: usize = 68;

/// Work only the control loop can do.
#[derive(Debug)]
pub enum SlowPath {
    /// A datagram for the endpoint: control messages, PPP control frames, data of sessions
    /// not on the fast path (before IPCP) and unknown ids; the engine decides and counts.
    L2tp {
        socket: u16,
        from: SocketAddrV4,
        datagram: Vec<u8>,
    },
    /// A downstream packet of a sequenced call: only the engine can number it (RFC 2661 §5.4).
    Sequenced(Vec<u8>),
    /// The start of a downstream packet no session has: an ICMP unreachable, rate-limited by
    /// the control loop (`icmp_rate`).
    Unreachable(Vec<u8>),
}

/// The settings a data path reads per burst; the control loop updates them on reload.
#[derive(Debug)]
pub struct PathSettings {
    /// The TCP MSS clamp (`Settings::mss`).
    pub mss: AtomicU16,
    /// `icmp_rate`: 0 means no packet without a session is handed over for an unreachable.
    pub icmp_rate: AtomicU32,
}

impl PathSettings {
    pub fn new(s: &lns_core::config::Settings) -> Self {
        let p = PathSettings {
            mss: AtomicU16::new(0),
            icmp_rate: AtomicU32::new(0),
        };
        p.update(s);
        p
    }

    pub fn update(&self, s: &lns_core::config::Settings) {
        self.mss.store(s.mss(), Ordering::Relaxed);
        self.icmp_rate.store(s.icmp_rate, Ordering::Relaxed);
    }
}

/// What one data path counts at its system calls (relaxed atomics: the control loop reads
/// them for the counters while the worker writes).
#[derive(Debug, Default)]
#[repr(align(64))]
pub struct PathStats {
    pub tun_write_dropped: AtomicU64,
    /// Intercepted copies the snoop socket did not take.
    pub snoop_send_failed: AtomicU64,
    pub udp_send_dropped: AtomicU64,
    /// Throttled packets lost because every held-back place was taken ([`super::held::MAX_HELD`]).
    pub throttle_held_overflow: AtomicU64,
    pub mss_clamped: AtomicU64,
    /// Slow-path work a worker could not hand over (the control loop's queue was full).
    pub slow_path_dropped: AtomicU64,
}

impl PathStats {
    pub fn add(c: &AtomicU64, n: u64) {
        if n > 0 {
            c.fetch_add(n, Ordering::Relaxed);
        }
    }

    /// `(name, value)` summed over `paths`, as the counters line names them.
    pub fn named<'a>(paths: impl IntoIterator<Item = &'a PathStats>) -> [(&'static str, u64); 6] {
        let mut t = [0u64; 6];
        for p in paths {
            for (sum, c) in t.iter_mut().zip([
                &p.tun_write_dropped,
                &p.snoop_send_failed,
                &p.udp_send_dropped,
                &p.throttle_held_overflow,
                &p.mss_clamped,
                &p.slow_path_dropped,
            ]) {
                *sum += c.load(Ordering::Relaxed);
            }
        }
        [
            ("tun_write_dropped", t[0]),
            ("snoop_send_failed", t[1]),
            ("udp_send_dropped", t[2]),
            ("throttle_held_overflow", t[3]),
            ("mss_clamped", t[4]),
            ("slow_path_dropped", t[5]),
        ]
    }
}

/// Buffers, sockets and counters of one data path.
pub struct DataPath {
    /// The TUN queue this path reads (and writes upstream packets to).
    pub tun: TunDevice,
    /// This path's socket of each bind address, by bind index.
    pub udp: Vec<(Ipv4Addr, UdpSocket)>,
    view: DataPlaneView,
    pub counters: Arc<Counters>,
    pub stats: Arc<PathStats>,
    settings: Arc<PathSettings>,
    clock: Clock,
    recv: RecvBatch,
    down: Vec<Box<[u8; DATAGRAM_ROOM]>>,
    held: HeldPackets,
    /// Where intercepted packets leave from (any address, any port, as the original).
    snoop: Option<std::net::UdpSocket>,
    /// Collected for the control loop since the last [`DataPath::take_slow`].
    slow: Vec<SlowPath>,
    /// Runs of equal-size datagrams to one LAC leave as one UDP GSO send; off when the
    /// kernel lacks `UDP_SEGMENT` or a send failed with EIO (no checksum offload, IPsec).
    gso: bool,
}

/// Sends `batch` (in as few `sendmmsg` calls as the socket takes, with UDP GSO while `gso`)
/// and tells how many datagrams it did not take: a full socket buffer loses them like the
/// network would.
fn send_all(socket: &UdpSocket, batch: &[(&[u8], SocketAddrV4)], gso: &mut bool) -> u64 {
    let mut done = 0;
    // EINVAL: a segment over the route's MTU, which a plain send would have fragmented; that
    // batch goes without GSO.
    let mut segmented = *gso;
    while done < batch.len() {
        let sent = if segmented {
            send_batch_gso(socket, &batch[done..])
        } else {
            send_batch(socket, &batch[done..])
        };
        match sent {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if segmented && e.raw_os_error() == Some(libc::EIO) => {
                log::warn!("UDP GSO refused ({e}): sending datagram by datagram from now on");
                *gso = false;
                segmented = false;
            }
            Err(e) if segmented && e.raw_os_error() == Some(libc::EINVAL) => segmented = false,
            Err(_) => break,
        }
    }
    (batch.len() - done) as u64
}

/// Sends each of `datagrams` (bytes, LAC, bind socket index) from its bind socket, in one
/// batch per socket, and tells how many were not taken.
fn send_by_socket(
    udp: &[(Ipv4Addr, UdpSocket)],
    datagrams: &[(&[u8], SocketAddrV4, u16)],
    gso: &mut bool,
) -> u64 {
    let mut lost = 0;
    for (index, (_, socket)) in udp.iter().enumerate() {
        let batch: Vec<(&[u8], SocketAddrV4)> = datagrams
            .iter()
            .filter(|d| usize::from(d.2) == index)
            .map(|&(bytes, peer, _)| (bytes, peer))
            .collect();
        if !batch.is_empty() {
            lost += send_all(socket, &batch, gso);
        }
    }
    lost
}

impl DataPath {
    pub fn new(
        tun: TunDevice,
        udp: Vec<(Ipv4Addr, UdpSocket)>,
        view: DataPlaneView,
        settings: Arc<PathSettings>,
        clock: Clock,
    ) -> Self {
        let gso = udp.first().is_some_and(|(_, s)| gso_supported(s));
        DataPath {
            gso,
            tun,
            udp,
            view,
            counters: Arc::new(Counters::default()),
            stats: Arc::new(PathStats::default()),
            settings,
            clock,
            recv: RecvBatch::new(BURST),
            down: (0..BURST).map(|_| Box::new([0u8; DATAGRAM_ROOM])).collect(),
            held: HeldPackets::default(),
            snoop: None,
            slow: Vec::new(),
        }
    }

    /// `false`: no UDP GSO even where the kernel has it.
    pub fn allow_gso(&mut self, allow: bool) {
        self.gso &= allow;
    }

    /// Whether runs of equal-size datagrams leave as UDP GSO sends.
    pub fn gso(&self) -> bool {
        self.gso
    }

    /// The work collected for the control loop.
    pub fn take_slow(&mut self) -> Vec<SlowPath> {
        std::mem::take(&mut self.slow)
    }

    /// Sends an intercepted packet, as it is, in a UDP datagram to `to` (the original's
    /// format: no header of ours), from one unbound socket opened at the first use. Never
    /// blocks: a full socket buffer loses the copy, counted.
    fn snoop_send(
        socket: &mut Option<std::net::UdpSocket>,
        stats: &PathStats,
        ip: &[u8],
        to: SocketAddrV4,
    ) {
        if socket.is_none() {
            match std::net::UdpSocket::bind("0.0.0.0:0").and_then(|s| {
                s.set_nonblocking(true)?;
                Ok(s)
            }) {
                Ok(s) => *socket = Some(s),
                Err(e) => {
                    log::warn!("interception socket: {e}");
                    PathStats::add(&stats.snoop_send_failed, 1);
                    return;
                }
            }
        }
        if let Some(s) = socket {
            if s.send_to(ip, to).is_err() {
                PathStats::add(&stats.snoop_send_failed, 1);
            }
        }
    }

    /// Reads the TUN queue dry, framing and sending packets in bursts.
    pub fn tun_readable(&mut self) {
        loop {
            let mut framed: Vec<(usize, std::ops::Range<usize>, SocketAddrV4, u16)> =
                Vec::with_capacity(BURST);
            let mut read = 0;
            let mut dry = false;
            let mut snooped = Vec::new();
            let mut clamped = 0;
            let mut overflow = 0;
            let mss = self.settings.mss.load(Ordering::Relaxed);
            let unreachable = self.settings.icmp_rate.load(Ordering::Relaxed) != 0;
            {
                let pin = self.view.pin();
                for (i, buf) in self.down.iter_mut().enumerate() {
                    let n = match self.tun.recv(&mut buf[DOWN_HEADROOM..]) {
                        Ok(n) => n,
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                            dry = true;
                            break;
                        }
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                        Err(e) => {
                            log::warn!("TUN read: {e}");
                            dry = true;
                            break;
                        }
                    };
                    read += 1;
                    let packet = DOWN_HEADROOM..DOWN_HEADROOM + n;
                    if mss_clamp::clamp(&mut buf[packet.clone()], mss) {
                        clamped += 1;
                    }
                    match data_plane::downstream(&pin, &self.counters, &mut buf[..], packet.clone())
                    {
                        Ok(d) => {
                            if let Some(to) = d.snoop {
                                snooped.push((i, n, to));
                            }
                            if let Some(at) = d.release_us {
                                let out = Out::Peer {
                                    socket: d.socket,
                                    peer: d.peer,
                                    datagram: buf[d.datagram].to_vec(),
                                };
                                if !self.held.hold(at, out) {
                                    overflow += 1;
                                }
                            } else {
                                framed.push((i, d.datagram, d.peer, d.socket))
                            }
                        }
                        Err(Drop::NoSession) if unreachable => {
                            let end = (DOWN_HEADROOM + QUOTED_MAX).min(packet.end);
                            self.slow
                                .push(SlowPath::Unreachable(buf[DOWN_HEADROOM..end].to_vec()));
                        }
                        Err(Drop::Sequenced) => {
                            self.slow.push(SlowPath::Sequenced(buf[packet].to_vec()))
                        }
                        // Counted by reason in `counters`.
                        Err(_) => {}
                    }
                }
            }
            let datagrams: Vec<(&[u8], SocketAddrV4, u16)> = framed
                .iter()
                .map(|(i, r, peer, socket)| (&self.down[*i][r.clone()], *peer, *socket))
                .collect();
            PathStats::add(
                &self.stats.udp_send_dropped,
                send_by_socket(&self.udp, &datagrams, &mut self.gso),
            );
            for (i, n, to) in snooped {
                let ip = &self.down[i][DOWN_HEADROOM..DOWN_HEADROOM + n];
                Self::snoop_send(&mut self.snoop, &self.stats, ip, to);
            }
            PathStats::add(&self.stats.mss_clamped, clamped);
            PathStats::add(&self.stats.throttle_held_overflow, overflow);
            if dry || read == 0 {
                return;
            }
        }
    }

    /// When the loop must wake for the first held packet.
    pub fn held_deadline(&self, now: Instant) -> Option<Instant> {
        let at = self.held.next_due()?;
        let wait = at.saturating_sub(lns_dataplane::policy::now_us());
        Some(now + std::time::Duration::from_micros(wait))
    }

    /// Sends the held packets that are due.
    pub fn release_held(&mut self) {
        if self.held.is_empty() {
            return;
        }
        let now_us = lns_dataplane::policy::now_us();
        let mut to_peers: Vec<(Vec<u8>, SocketAddrV4, u16)> = Vec::new();
        while let Some(out) = self.held.pop_due(now_us) {
            match out {
                Out::Peer {
                    socket,
                    peer,
                    datagram,
                } => to_peers.push((datagram, peer, socket)),
                Out::Tun(packet) => self.write_tun(&packet),
            }
        }
        let datagrams: Vec<(&[u8], SocketAddrV4, u16)> = to_peers
            .iter()
            .map(|(d, peer, socket)| (&d[..], *peer, *socket))
            .collect();
        PathStats::add(
            &self.stats.udp_send_dropped,
            send_by_socket(&self.udp, &datagrams, &mut self.gso),
        );
    }

    /// Writes one packet to the TUN queue; a full queue loses it, counted.
    pub fn write_tun(&self, packet: &[u8]) {
        if self.tun.send(packet).is_err() {
            PathStats::add(&self.stats.tun_write_dropped, 1);
        }
    }

    /// Receives UDP datagrams on bind socket `socket` until none is left.
    pub fn udp_readable(&mut self, socket: u16, now: Instant) {
        let secs = self.clock.secs(now);
        loop {
            let n = match self.recv.recv(&self.udp[usize::from(socket)].1) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    log::warn!("UDP receive on {}: {e}", self.udp[usize::from(socket)].0);
                    return;
                }
            };
            if n == 0 {
                return;
            }
            let mss = self.settings.mss.load(Ordering::Relaxed);
            let (mut clamped, mut overflow) = (0, 0);
            {
                let pin = self.view.pin();
                for i in 0..n {
                    let Some((dg, from)) = self.recv.get_mut(i) else {
                        break;
                    };
                    match data_plane::upstream(&pin, &self.counters, dg, from, secs) {
                        Ok(Upstream::ToTun {
                            packet,
                            snoop,
                            release_us,
                            ..
                        }) => {
                            let ip = &mut dg[packet];
                            if mss_clamp::clamp(ip, mss) {
                                clamped += 1;
                            }
                            if let Some(at) = release_us {
                                if !self.held.hold(at, Out::Tun(ip.to_vec())) {
                                    overflow += 1;
                                }
                            } else if self.tun.send(ip).is_err() {
                                PathStats::add(&self.stats.tun_write_dropped, 1);
                            }
                            if let Some(to) = snoop {
                                Self::snoop_send(&mut self.snoop, &self.stats, ip, to);
                            }
                        }
                        // Control messages, PPP control frames, and data of sessions not on
                        // the fast path (before IPCP): the engine decides (and counts).
                        Ok(Upstream::ToControl) | Err(Drop::NoSession) => {
                            self.slow.push(SlowPath::L2tp {
                                socket,
                                from,
                                datagram: dg.to_vec(),
                            })
                        }
                        // Counted by reason in `counters`.
                        Err(_) => {}
                    }
                }
            }
            PathStats::add(&self.stats.mss_clamped, clamped);
            PathStats::add(&self.stats.throttle_held_overflow, overflow);
            if n < self.recv.capacity() {
                // A short batch: the socket is most likely dry, but only WouldBlock proves it
                // (edge-triggered readiness), so go round once more.
                continue;
            }
        }
    }
}
