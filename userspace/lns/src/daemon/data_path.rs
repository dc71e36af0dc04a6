//! The data plane driven from the event loop: TUN reads → [`data_plane::downstream`] →
//! `sendmmsg`, and `recvmmsg` → [`data_plane::upstream`] → TUN writes, with everything that is
//! not an IPv4 packet of a published session handed to the endpoint.
//!
//! The per-packet work is the sans-IO [`lns_dataplane::data_plane`]; this module only owns buffers
//! and system calls, so a later change can run it on worker threads (each with its own queue
//! of a multi-queue TUN and its own SO_REUSEPORT socket) reading the same `DataPlaneView`.

use std::io;
use std::net::{SocketAddr, SocketAddrV4};
use std::time::Instant;

use lns_dataplane::data_plane::{self, Drop, Upstream, DOWN_HEADROOM};
use lns_dataplane::{icmp, mss_clamp};

use crate::udp_batch::{send_batch, DATAGRAM_ROOM};

use super::held::Out;
use super::Daemon;

/// Packets per TUN read burst and per `sendmmsg`.
pub const BURST: usize = 64;

/// Reusable downstream buffers.
pub struct DownBuffers {
    bufs: Vec<Box<[u8; DATAGRAM_ROOM]>>,
}

impl DownBuffers {
    pub fn new() -> Self {
        DownBuffers {
            bufs: (0..BURST).map(|_| Box::new([0u8; DATAGRAM_ROOM])).collect(),
        }
    }
}

impl Default for DownBuffers {
    fn default() -> Self {
        Self::new()
    }
}

/// Sends an intercepted packet, as it is, in a UDP datagram to `to` (the original's
/// format: no header of ours), from one unbound socket opened at the first use. Never
/// blocks: a full socket buffer loses the copy, counted.
fn snoop_send(
    socket: &mut Option<std::net::UdpSocket>,
    stats: &mut super::Stats,
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
                stats.snoop_send_failed += 1;
                return;
            }
        }
    }
    if let Some(s) = socket {
        if s.send_to(ip, to).is_err() {
            stats.snoop_send_failed += 1;
        }
    }
}

/// Sends `batch` (in as few `sendmmsg` calls as the socket takes) and tells how many
/// datagrams it did not take: a full socket buffer loses them like the network would.
fn send_all(socket: &mio::net::UdpSocket, batch: &[(&[u8], SocketAddrV4)]) -> u64 {
    let mut done = 0;
    while done < batch.len() {
        match send_batch(socket, &batch[done..]) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    (batch.len() - done) as u64
}

/// Sends each of `datagrams` (bytes, LAC, bind socket index) from its bind socket, in one
/// batch per socket, and tells how many were not taken.
fn send_by_socket(
    udp: &[(std::net::Ipv4Addr, mio::net::UdpSocket)],
    datagrams: &[(&[u8], SocketAddrV4, u16)],
) -> u64 {
    let mut lost = 0;
    for (index, (_, socket)) in udp.iter().enumerate() {
        let batch: Vec<(&[u8], SocketAddrV4)> = datagrams
            .iter()
            .filter(|d| usize::from(d.2) == index)
            .map(|&(bytes, peer, _)| (bytes, peer))
            .collect();
        lost += send_all(socket, &batch);
    }
    lost
}

impl Daemon {
    /// Reads the TUN device dry, framing and sending packets in bursts.
    pub(super) fn tun_readable(&mut self, now: Instant) {
        loop {
            let mut framed: Vec<(usize, std::ops::Range<usize>, SocketAddrV4, u16)> =
                Vec::with_capacity(BURST);
            let mut read = 0;
            let mut dry = false;
            let mut unreachable = Vec::new();
            let mut sequenced = Vec::new();
            let mut snooped = Vec::new();
            let mss = self.config().settings.mss();
            {
                let pin = self.view.pin();
                for (i, buf) in self.down.bufs.iter_mut().enumerate() {
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
                        self.stats.mss_clamped += 1;
                    }
                    match data_plane::downstream(&pin, &self.counters, &mut buf[..], packet) {
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
                                    self.stats.throttle_held_overflow += 1;
                                }
                            } else {
                                framed.push((i, d.datagram, d.peer, d.socket))
                            }
                        }
                        Err(Drop::NoSession) => unreachable.push(i),
                        // Only the endpoint's engine can number these (RFC 2661 §5.4).
                        Err(Drop::Sequenced) => sequenced.push((i, n)),
                        // Counted by reason in `counters`.
                        Err(
                            Drop::NotIpv4
                            | Drop::OverMru
                            | Drop::Malformed
                            | Drop::Spoofed
                            | Drop::WrongPeer
                            | Drop::Filtered
                            | Drop::Throttled,
                        ) => {}
                    }
                }
            }
            self.send_framed(&framed);
            for (i, n, to) in snooped {
                let ip = &self.down.bufs[i][DOWN_HEADROOM..DOWN_HEADROOM + n];
                snoop_send(&mut self.snoop, &mut self.stats, ip, to);
            }
            for i in unreachable {
                self.icmp_unreachable(now, i);
            }
            for (i, n) in sequenced {
                let packet = &self.down.bufs[i][DOWN_HEADROOM..DOWN_HEADROOM + n];
                self.core.handle_tun_packet(now, packet);
            }
            if dry || read == 0 {
                return;
            }
        }
    }

    /// ICMP host-unreachable for the packet in downstream buffer `i` (no session has its
    /// destination), at most `icmp_rate` per second.
    fn icmp_unreachable(&mut self, now: Instant, i: usize) {
        let rate = self.config().settings.icmp_rate;
        if rate == 0 || !self.icmp_limit.allow(rate, self.core.clock().secs(now)) {
            return;
        }
        let buf = &self.down.bufs[i];
        let len = usize::from(u16::from_be_bytes([
            buf[DOWN_HEADROOM + 2],
            buf[DOWN_HEADROOM + 3],
        ]));
        let original = &buf[DOWN_HEADROOM..(DOWN_HEADROOM + len).min(buf.len())];
        let mut out = Vec::new();
        let Some(raw) = self.icmp_socket.as_ref() else {
            return;
        };
        if icmp::host_unreachable(self.config().settings.tun_address(), original, &mut out) {
            // Through a raw socket, not the TUN device: the kernel drops packets that arrive
            // on an interface with one of its own addresses as the source.
            let dst = std::net::Ipv4Addr::new(out[16], out[17], out[18], out[19]);
            let to = socket2::SockAddr::from(SocketAddrV4::new(dst, 0));
            if raw.send_to(&out, &to).is_ok() {
                self.stats.icmp_unreachable_sent += 1;
            }
        }
    }

    fn send_framed(&mut self, framed: &[(usize, std::ops::Range<usize>, SocketAddrV4, u16)]) {
        let datagrams: Vec<(&[u8], SocketAddrV4, u16)> = framed
            .iter()
            .map(|(i, r, peer, socket)| (&self.down.bufs[*i][r.clone()], *peer, *socket))
            .collect();
        self.stats.udp_send_dropped += send_by_socket(&self.udp, &datagrams);
    }

    /// When the loop must wake for the first held packet.
    pub(super) fn held_deadline(&self, now: Instant) -> Option<Instant> {
        let at = self.held.next_due()?;
        let wait = at.saturating_sub(lns_dataplane::policy::now_us());
        Some(now + std::time::Duration::from_micros(wait))
    }

    /// Sends the held packets that are due.
    pub(super) fn release_held(&mut self) {
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
                Out::Tun(packet) => {
                    if self.tun.send(&packet).is_err() {
                        self.stats.tun_write_dropped += 1;
                    }
                }
            }
        }
        let datagrams: Vec<(&[u8], SocketAddrV4, u16)> = to_peers
            .iter()
            .map(|(d, peer, socket)| (&d[..], *peer, *socket))
            .collect();
        self.stats.udp_send_dropped += send_by_socket(&self.udp, &datagrams);
    }

    /// Receives UDP datagrams on bind socket `socket` until none is left.
    pub(super) fn udp_readable(&mut self, socket: u16, now: Instant) {
        loop {
            let n = match self.recv.recv(&self.udp[socket as usize].1) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    log::warn!("UDP receive on {}: {e}", self.udp[socket as usize].0);
                    return;
                }
            };
            if n == 0 {
                return;
            }
            let secs = self.core.clock().secs(now);
            let mss = self.config().settings.mss();
            let mut control = Vec::new();
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
                                self.stats.mss_clamped += 1;
                            }
                            if let Some(at) = release_us {
                                if !self.held.hold(at, Out::Tun(ip.to_vec())) {
                                    self.stats.throttle_held_overflow += 1;
                                }
                            } else if self.tun.send(ip).is_err() {
                                self.stats.tun_write_dropped += 1;
                            }
                            if let Some(to) = snoop {
                                snoop_send(&mut self.snoop, &mut self.stats, ip, to);
                            }
                        }
                        // Control messages, PPP control frames, and data of sessions not on
                        // the fast path (before IPCP): the engine decides (and counts).
                        Ok(Upstream::ToControl) | Err(Drop::NoSession) => {
                            control.push((dg.to_vec(), from))
                        }
                        // Counted by reason in `counters`.
                        Err(_) => {}
                    }
                }
            }
            for (dg, from) in control {
                self.core
                    .handle_l2tp(now, socket, SocketAddr::V4(from), &dg);
            }
            if n < self.recv.capacity() {
                // A short batch: the socket is most likely dry, but only WouldBlock proves it
                // (edge-triggered readiness), so go round once more.
                continue;
            }
        }
    }
}
