//! Batched UDP I/O for the data plane: `recvmmsg(2)` fills up to [`RecvBatch::capacity`]
//! datagrams with one system call, `sendmmsg(2)` sends many. At a few hundred thousand
//! packets per second the per-call cost of `recvfrom`/`sendto` dominates; batching is the
//! cheapest large win and is shaped so that each data-plane worker later owns its own socket
//! (SO_REUSEPORT) and its own batches.
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
    let mut iovs: Vec<libc::iovec> = datagrams
        .iter()
        .map(|(d, _)| libc::iovec {
            iov_base: d.as_ptr() as *mut libc::c_void,
            iov_len: d.len(),
        })
        .collect();
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
    let mut sent = 0;
    while sent < msgs.len() {
        let rest = &mut msgs[sent..];
        // SAFETY: every header points at a live iovec (the caller's slice, only read by the
        // kernel) and a live sockaddr_in; all outlive the call.
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
    fn an_empty_batch_sends_nothing() {
        let (a, _) = pair();
        assert_eq!(send_batch(&a, &[]).unwrap(), 0);
    }
}
