//! Batched UDP I/O for the data plane: `recvmmsg(2)` fills up to [`RecvBatch::capacity`]
//! datagrams with one system call, `sendmmsg(2)` sends many. At a few hundred thousand
//! packets per second the per-call cost of `recvfrom`/`sendto` dominates; batching is the
//! cheapest large win; each data-plane worker owns its own socket (SO_REUSEPORT) and batches.
//! [`send_batch_gso`] goes further for runs of equal-size datagrams to one peer (UDP GSO).
//!
//! IPv4 only: L2TP peers of this daemon are IPv4 (as the original's bind addresses).

use std::io;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::os::fd::{AsFd, AsRawFd};

/// Room for one datagram: an Ethernet-MTU L2TP packet with headroom, as the original's buffer.
pub const DATAGRAM_ROOM: usize = 4096;

/// Reusable receive buffers for one socket.
pub struct RecvBatch {
    bufs: Vec<Box<[u8; DATAGRAM_ROOM]>>,
    addrs: Vec<libc::sockaddr_in>,
    lens: Vec<usize>,
    /// Datagrams filled by the last [`RecvBatch::recv`].
    filled: usize,
}

fn empty_sockaddr() -> libc::sockaddr_in {
    // SAFETY: sockaddr_in is plain data; all-zero is valid.
    unsafe { std::mem::zeroed() }
}

fn to_std(a: &libc::sockaddr_in) -> SocketAddrV4 {
    SocketAddrV4::new(
        Ipv4Addr::from(u32::from_be(a.sin_addr.s_addr)),
        u16::from_be(a.sin_port),
    )
}

fn to_libc(a: SocketAddrV4) -> libc::sockaddr_in {
    let mut s = empty_sockaddr();
    s.sin_family = libc::AF_INET as libc::sa_family_t;
    s.sin_port = a.port().to_be();
    s.sin_addr.s_addr = u32::from(*a.ip()).to_be();
    s
}

impl RecvBatch {
    /// Buffers for up to `capacity` datagrams per call (at least 1).
    pub fn new(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        Self {
            bufs: (0..capacity)
                .map(|_| Box::new([0u8; DATAGRAM_ROOM]))
                .collect(),
            addrs: vec![empty_sockaddr(); capacity],
            lens: vec![0; capacity],
            filled: 0,
        }
    }

    pub fn capacity(&self) -> usize {
        self.bufs.len()
    }

    /// Receives what is queued on `socket` (non-blocking: `WouldBlock` when nothing is),
    /// returning how many datagrams were filled. A datagram longer than
    /// [`DATAGRAM_ROOM`] arrives truncated; its reported length is the truncated one and the
    /// L2TP length checks then drop it as malformed.
    pub fn recv(&mut self, socket: impl AsFd) -> io::Result<usize> {
        let n = self.capacity();
        let mut iovs: Vec<libc::iovec> = self
            .bufs
            .iter_mut()
            .map(|b| libc::iovec {
                iov_base: b.as_mut_ptr().cast(),
                iov_len: DATAGRAM_ROOM,
            })
            .collect();
        let mut msgs: Vec<libc::mmsghdr> = iovs
            .iter_mut()
            .zip(self.addrs.iter_mut())
            .map(|(iov, addr)| {
                // SAFETY: mmsghdr is plain data; all-zero is valid, fields set below.
                let mut m: libc::mmsghdr = unsafe { std::mem::zeroed() };
                m.msg_hdr.msg_name = (addr as *mut libc::sockaddr_in).cast();
                m.msg_hdr.msg_namelen = std::mem::size_of::<libc::sockaddr_in>() as u32;
                m.msg_hdr.msg_iov = iov;
                m.msg_hdr.msg_iovlen = 1;
                m
            })
            .collect();
        // SAFETY: `msgs` holds `n` headers, each pointing at one live iovec (into a buffer of
        // DATAGRAM_ROOM bytes owned by self) and one sockaddr_in; all outlive the call.
        let rc = unsafe {
            libc::recvmmsg(
                socket.as_fd().as_raw_fd(),
                msgs.as_mut_ptr(),
                n as libc::c_uint,
                libc::MSG_DONTWAIT,
                std::ptr::null_mut(),
            )
        };
        if rc < 0 {
            self.filled = 0;
            return Err(io::Error::last_os_error());
        }
        self.filled = rc as usize;
        for (len, m) in self.lens.iter_mut().zip(&msgs).take(self.filled) {
            *len = (m.msg_len as usize).min(DATAGRAM_ROOM);
        }
        Ok(self.filled)
    }

    /// The `i`-th datagram of the last receive and its sender; `None` past the filled count.
    pub fn get(&self, i: usize) -> Option<(&[u8], SocketAddrV4)> {
        (i < self.filled).then(|| (&self.bufs[i][..self.lens[i]], to_std(&self.addrs[i])))
    }

    /// The `i`-th datagram, writable: the data plane rewrites headers in place.
    pub fn get_mut(&mut self, i: usize) -> Option<(&mut [u8], SocketAddrV4)> {
        if i < self.filled {
            let addr = to_std(&self.addrs[i]);
            Some((&mut self.bufs[i][..self.lens[i]], addr))
        } else {
            None
        }
    }

    /// The datagrams of the last receive, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], SocketAddrV4)> {
        (0..self.filled).filter_map(|i| self.get(i))
    }
}

/// Sends `datagrams` from `socket` with as few `sendmmsg` calls as the kernel allows.
/// Returns how many were sent: fewer than given when the socket buffer filled up
/// (`WouldBlock` after the first is reported as a short count, the caller counts the rest as
/// dropped). An error on the very first datagram is returned as the error.
pub fn send_batch(socket: impl AsFd, datagrams: &[(&[u8], SocketAddrV4)]) -> io::Result<usize> {
    let fd = socket.as_fd().as_raw_fd();
    let mut addrs: Vec<libc::sockaddr_in> = datagrams.iter().map(|(_, a)| to_libc(*a)).collect();
    let mut iovs = send_iovecs(datagrams);
    let mut msgs: Vec<libc::mmsghdr> = iovs
        .iter_mut()
        .zip(addrs.iter_mut())
        .map(|(iov, addr)| {
            // SAFETY: mmsghdr is plain data; all-zero is valid, fields set below.
            let mut m: libc::mmsghdr = unsafe { std::mem::zeroed() };
            m.msg_hdr.msg_name = (addr as *mut libc::sockaddr_in).cast();
            m.msg_hdr.msg_namelen = std::mem::size_of::<libc::sockaddr_in>() as u32;
            m.msg_hdr.msg_iov = iov;
            m.msg_hdr.msg_iovlen = 1;
            m
        })
        .collect();
    // SAFETY: every header points at a live iovec (the caller's slice, only read by the
    // kernel) and a live sockaddr_in; all outlive the call.
    unsafe { sendmmsg_all(fd, &mut msgs) }
}

/// One iovec per datagram, pointing at the caller's bytes (the kernel only reads them).
fn send_iovecs(datagrams: &[(&[u8], SocketAddrV4)]) -> Vec<libc::iovec> {
    datagrams
        .iter()
        .map(|(d, _)| libc::iovec {
            iov_base: d.as_ptr() as *mut libc::c_void,
            iov_len: d.len(),
        })
        .collect()
}

/// `sendmmsg` until every message of `msgs` is taken or the socket takes no more; the number
/// taken, or the error when not even the first was.
///
/// # Safety
/// Every header of `msgs` points at live iovecs, name and control data that outlive the call.
unsafe fn sendmmsg_all(fd: std::os::fd::RawFd, msgs: &mut [libc::mmsghdr]) -> io::Result<usize> {
    let mut sent = 0;
    while sent < msgs.len() {
        let rest = &mut msgs[sent..];
        // SAFETY: guaranteed by the caller.
        let rc = unsafe {
            libc::sendmmsg(
                fd,
                rest.as_mut_ptr(),
                rest.len().min(libc::c_uint::MAX as usize) as libc::c_uint,
                libc::MSG_DONTWAIT,
            )
        };
        if rc < 0 {
            let e = io::Error::last_os_error();
            if sent == 0 {
                return Err(e);
            }
            break;
        }
        if rc == 0 {
            break;
        }
        sent += rc as usize;
    }
    Ok(sent)
}

/// At most this many segments per UDP GSO send (`UDP_MAX_SEGMENTS` of linux/udp.h).
const GSO_MAX_SEGMENTS: usize = 64;
/// At most this many payload bytes per UDP GSO send (one IPv4 datagram's worth).
const GSO_MAX_BYTES: usize = 65_000;
/// Larger datagrams are sent one by one: over an Ethernet MTU a segment would be refused
/// (EINVAL) where a plain send is fragmented.
const GSO_MAX_SEGMENT: usize = 1500 - 28;

/// Whether the kernel takes `UDP_SEGMENT` (UDP GSO, Linux 4.18) on `socket`: asked with
/// getsockopt, because an older kernel ignores a cmsg of an unknown level and would send the
/// segments as one oversized datagram.
pub fn gso_supported(socket: impl AsFd) -> bool {
    let mut v: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: `v` and `len` are live, and `len` is v's size.
    let rc = unsafe {
        libc::getsockopt(
            socket.as_fd().as_raw_fd(),
            libc::SOL_UDP,
            libc::UDP_SEGMENT,
            (&mut v as *mut libc::c_int).cast(),
            &mut len,
        )
    };
    rc == 0
}

/// Runs of `datagrams` that one UDP GSO send can carry: consecutive, to one peer, all of one
/// size but the last (which may be shorter), at most [`GSO_MAX_SEGMENTS`] and
/// [`GSO_MAX_BYTES`]. Returns (start, count, segment size) each.
fn gso_runs(datagrams: &[(&[u8], SocketAddrV4)]) -> Vec<(usize, usize, usize)> {
    let mut runs: Vec<(usize, usize, usize)> = Vec::new();
    for (i, (d, peer)) in datagrams.iter().enumerate() {
        if let Some((start, count, size)) = runs.last_mut() {
            let last = datagrams[*start + *count - 1].0.len();
            let same_peer = datagrams[*start].1 == *peer;
            // Only the run's last segment may be shorter: once one is, the run is closed.
            if same_peer
                && *size <= GSO_MAX_SEGMENT
                && last == *size
                && d.len() <= *size
                && !d.is_empty()
                && *count < GSO_MAX_SEGMENTS
                && (*count + 1) * *size <= GSO_MAX_BYTES
            {
                *count += 1;
                continue;
            }
        }
        runs.push((i, 1, d.len()));
    }
    runs
}

/// As [`send_batch`], with each run of equal-size datagrams to one peer ([`gso_runs`]) given
/// to the kernel as one UDP GSO super-datagram (`UDP_SEGMENT`, one `sendmmsg` entry of
/// several iovecs): one pass through the UDP/IP stack per run instead of per datagram.
/// Callers check [`gso_supported`] first; an `EIO` (a route through IPsec, or a device
/// without checksum offload) is returned as the error for the caller to fall back.
pub fn send_batch_gso(socket: impl AsFd, datagrams: &[(&[u8], SocketAddrV4)]) -> io::Result<usize> {
    let fd = socket.as_fd().as_raw_fd();
    let runs = gso_runs(datagrams);
    let mut addrs: Vec<libc::sockaddr_in> = runs
        .iter()
        .map(|&(start, _, _)| to_libc(datagrams[start].1))
        .collect();
    let mut iovs = send_iovecs(datagrams);
    // SAFETY: CMSG_SPACE only computes a size.
    let space = unsafe { libc::CMSG_SPACE(std::mem::size_of::<u16>() as u32) } as usize;
    // u64 words: cmsghdr alignment.
    let words = space.div_ceil(8);
    let mut control = vec![0u64; words * runs.len()];
    let iov_base = iovs.as_mut_ptr();
    let control_base = control.as_mut_ptr();
    let mut msgs: Vec<libc::mmsghdr> = runs
        .iter()
        .zip(addrs.iter_mut())
        .enumerate()
        .map(|(r, (&(start, count, size), addr))| {
            // SAFETY: mmsghdr is plain data; all-zero is valid, fields set below.
            let mut m: libc::mmsghdr = unsafe { std::mem::zeroed() };
            m.msg_hdr.msg_name = (addr as *mut libc::sockaddr_in).cast();
            m.msg_hdr.msg_namelen = std::mem::size_of::<libc::sockaddr_in>() as u32;
            // SAFETY: start + count <= iovs.len() (the runs partition `datagrams`).
            m.msg_hdr.msg_iov = unsafe { iov_base.add(start) };
            m.msg_hdr.msg_iovlen = count;
            if count > 1 {
                // SAFETY: run r owns words [r*words, (r+1)*words) of `control`, room for one
                // cmsghdr with a u16 (CMSG_SPACE); CMSG_FIRSTHDR/CMSG_DATA stay inside it.
                unsafe {
                    m.msg_hdr.msg_control = control_base.add(r * words).cast();
                    m.msg_hdr.msg_controllen = space;
                    let c = libc::CMSG_FIRSTHDR(&m.msg_hdr);
                    (*c).cmsg_level = libc::SOL_UDP;
                    (*c).cmsg_type = libc::UDP_SEGMENT;
                    (*c).cmsg_len = libc::CMSG_LEN(std::mem::size_of::<u16>() as u32) as usize;
                    std::ptr::write_unaligned(libc::CMSG_DATA(c).cast::<u16>(), size as u16);
                }
            }
            m
        })
        .collect();
    // SAFETY: every header points at live iovecs (the caller's slices, only read), a live
    // sockaddr_in and, for a run, its live cmsg; all outlive the call.
    let sent_msgs = unsafe { sendmmsg_all(fd, &mut msgs)? };
    Ok(runs[..sent_msgs].iter().map(|r| r.1).sum())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::UdpSocket;

    fn pair() -> (UdpSocket, UdpSocket) {
        let a = UdpSocket::bind("127.0.0.1:0").unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").unwrap();
        (a, b)
    }

    fn v4(s: &UdpSocket) -> SocketAddrV4 {
        match s.local_addr().unwrap() {
            std::net::SocketAddr::V4(a) => a,
            other => panic!("{other}"),
        }
    }

    #[test]
    fn a_batch_sent_is_received_in_order_with_its_sender() {
        let (a, b) = pair();
        let to = v4(&b);
        let payloads: Vec<Vec<u8>> = (0..40u8).map(|i| vec![i; 10 + i as usize]).collect();
        let batch: Vec<(&[u8], SocketAddrV4)> =
            payloads.iter().map(|p| (p.as_slice(), to)).collect();
        assert_eq!(send_batch(&a, &batch).unwrap(), 40);

        let mut rx = RecvBatch::new(16);
        let mut got = Vec::new();
        // Loopback delivers synchronously: everything is queued already.
        while got.len() < 40 {
            let n = rx.recv(&b).unwrap();
            assert!(n <= 16 && n > 0);
            for (d, from) in rx.iter() {
                assert_eq!(from, v4(&a));
                got.push(d.to_vec());
            }
        }
        assert_eq!(got, payloads);
        assert_eq!(rx.recv(&b).unwrap_err().kind(), io::ErrorKind::WouldBlock);
        assert!(rx.get(0).is_none(), "nothing filled after WouldBlock");
    }

    #[test]
    fn oversized_datagrams_are_truncated_to_the_room_not_overrun() {
        let (a, b) = pair();
        let big = vec![7u8; DATAGRAM_ROOM + 100];
        a.send_to(&big, b.local_addr().unwrap()).unwrap();
        let mut rx = RecvBatch::new(2);
        assert_eq!(rx.recv(&b).unwrap(), 1);
        let (mut_d, _) = rx.get_mut(0).unwrap();
        assert_eq!(mut_d.len(), DATAGRAM_ROOM);
        mut_d[0] = 1;
        assert_eq!(rx.get(0).unwrap().0[0], 1);
    }

    #[test]
    fn gso_runs_are_equal_sizes_to_one_peer_with_a_shorter_last() {
        let a: SocketAddrV4 = "192.0.2.1:1701".parse().unwrap();
        let b: SocketAddrV4 = "192.0.2.2:1701".parse().unwrap();
        let (big, small) = (vec![1u8; 100], vec![2u8; 40]);
        let batch: Vec<(&[u8], SocketAddrV4)> = vec![
            (&big, a),
            (&big, a),
            (&small, a), // closes the run
            (&big, a),
            (&big, b),
            (&small, b),
            (&small, b), // a shorter one closed b's run: a new one
        ];
        assert_eq!(
            gso_runs(&batch),
            [(0, 3, 100), (3, 1, 100), (4, 2, 100), (6, 1, 40)]
        );
        let many: Vec<(&[u8], SocketAddrV4)> = (0..70).map(|_| (&big[..], a)).collect();
        assert_eq!(gso_runs(&many), [(0, 64, 100), (64, 6, 100)]);
        let jumbo = vec![3u8; 2000];
        let over: Vec<(&[u8], SocketAddrV4)> = vec![(&jumbo, a), (&jumbo, a)];
        assert_eq!(gso_runs(&over), [(0, 1, 2000), (1, 1, 2000)]);
    }

    #[test]
    fn a_gso_batch_arrives_as_the_same_datagrams_in_order() {
        let (a, b) = pair();
        if !gso_supported(&a) {
            eprintln!("UDP_SEGMENT not supported by this kernel: nothing to test");
            return;
        }
        let to = v4(&b);
        let payloads: Vec<Vec<u8>> = (0..50u8)
            .map(|i| vec![i; if i % 10 == 9 { 30 } else { 200 }])
            .collect();
        let batch: Vec<(&[u8], SocketAddrV4)> =
            payloads.iter().map(|p| (p.as_slice(), to)).collect();
        assert_eq!(send_batch_gso(&a, &batch).unwrap(), 50);
        let mut rx = RecvBatch::new(64);
        let mut got = Vec::new();
        while got.len() < 50 {
            rx.recv(&b).unwrap();
            got.extend(rx.iter().map(|(d, _)| d.to_vec()));
        }
        assert_eq!(got, payloads);
    }

    #[test]
    fn an_empty_batch_sends_nothing() {
        let (a, _) = pair();
        assert_eq!(send_batch(&a, &[]).unwrap(), 0);
    }
}
