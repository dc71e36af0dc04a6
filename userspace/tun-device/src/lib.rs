//! A layer-3 TUN device: the LNS data plane's (`tundevicename`) and `l2tp-lac --tun`'s, one
//! implementation for both. Layer 3 (`IFF_TUN`), without the 4-byte packet-information header
//! the original used (`IFF_NO_PI`: the data plane only carries IPv4/IPv6 and reads the version
//! from the first nibble, so the header would be 4 wasted bytes per packet in each direction),
//! non-blocking for an event loop. [`TunDevice::open_queue`] opens a further queue of the same
//! device (`IFF_MULTI_QUEUE`): the LNS's data-plane workers each read their own.
//!
//! Address, netmask, MTU and the up flag are set with the classic `SIOCSIF*` ioctls on a
//! datagram socket: one address per device, which is all the original does with it.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, UdpSocket};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::os::unix::fs::OpenOptionsExt;

/// `_IOW('T', 202, int)` of linux/if_tun.h.
const TUNSETIFF: libc::c_ulong = 0x4004_54ca;

/// An open queue of a TUN device.
#[derive(Debug)]
pub struct TunDevice {
    file: File,
    name: String,
}

fn ifreq_named(name: &str) -> io::Result<libc::ifreq> {
    let bytes = name.as_bytes();
    if bytes.is_empty() || bytes.len() >= libc::IFNAMSIZ || bytes.contains(&0) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("bad interface name {name:?} (1 to 15 bytes, no NUL)"),
        ));
    }
    // SAFETY: ifreq is plain old data; all-zero is a valid value.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    for (d, s) in req.ifr_name.iter_mut().zip(bytes) {
        *d = *s as libc::c_char;
    }
    Ok(req)
}

fn sockaddr_in(a: Ipv4Addr) -> libc::sockaddr {
    let sin = libc::sockaddr_in {
        sin_family: libc::AF_INET as libc::sa_family_t,
        sin_port: 0,
        sin_addr: libc::in_addr {
            s_addr: u32::from(a).to_be(),
        },
        sin_zero: [0; 8],
    };
    // SAFETY: sockaddr_in and sockaddr have the same size (16 bytes) and both are plain data;
    // this is how the kernel's SIOCSIF* ABI takes an IPv4 address.
    unsafe { std::mem::transmute::<libc::sockaddr_in, libc::sockaddr>(sin) }
}

/// Runs one `SIOC*IF*` ioctl on `fd` with `req`.
fn ifreq_ioctl(fd: RawFd, request: libc::c_ulong, req: &mut libc::ifreq) -> io::Result<()> {
    // SAFETY: every request passed here reads or writes one `struct ifreq`, which `req` is.
    let rc = unsafe { libc::ioctl(fd, request as _, req as *mut libc::ifreq) };
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

impl TunDevice {
    /// Creates (or attaches to) the TUN device `name` with one queue.
    pub fn open(name: &str) -> io::Result<Self> {
        Self::attach(name, false)
    }

    /// Opens a queue of a multi-queue TUN device `name` (creating the device with the first
    /// call). Every queue of one device must be opened with this function.
    pub fn open_queue(name: &str) -> io::Result<Self> {
        Self::attach(name, true)
    }

    fn attach(name: &str, multi_queue: bool) -> io::Result<Self> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC)
            .open("/dev/net/tun")
            .map_err(|e| io::Error::new(e.kind(), format!("/dev/net/tun: {e}")))?;
        let mut req = ifreq_named(name)?;
        let mut flags = libc::IFF_TUN | libc::IFF_NO_PI;
        if multi_queue {
            flags |= libc::IFF_MULTI_QUEUE;
        }
        req.ifr_ifru.ifru_flags = flags as libc::c_short;
        ifreq_ioctl(file.as_raw_fd(), TUNSETIFF, &mut req)
            .map_err(|e| io::Error::new(e.kind(), format!("TUNSETIFF {name}: {e}")))?;
        // The kernel may have completed a name pattern such as "tun%d".
        let got: Vec<u8> = req
            .ifr_name
            .iter()
            .take_while(|&&c| c != 0)
            .map(|&c| c as u8)
            .collect();
        Ok(Self {
            file,
            name: String::from_utf8_lossy(&got).into_owned(),
        })
    }

    /// Another handle on the same queue (`dup`): the LNS's control loop writes the endpoint's
    /// packets through a duplicate of a worker's queue, which that worker alone reads.
    pub fn try_clone(&self) -> io::Result<Self> {
        Ok(Self {
            file: self.file.try_clone()?,
            name: self.name.clone(),
        })
    }

    /// The device's name as the kernel gave it.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Sets the device's address (as a /32, like the original: sessions are routed to the
    /// device one by one), its MTU, and brings it up.
    pub fn configure(&self, address: Ipv4Addr, mtu: u16) -> io::Result<()> {
        let sock = UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0))?;
        let fd = sock.as_raw_fd();
        let ctx = |what: &str, e: io::Error| {
            io::Error::new(e.kind(), format!("{} {what}: {e}", self.name))
        };

        let mut req = ifreq_named(&self.name)?;
        req.ifr_ifru.ifru_addr = sockaddr_in(address);
        ifreq_ioctl(fd, libc::SIOCSIFADDR, &mut req).map_err(|e| ctx("address", e))?;

        let mut req = ifreq_named(&self.name)?;
        req.ifr_ifru.ifru_netmask = sockaddr_in(Ipv4Addr::BROADCAST);
        ifreq_ioctl(fd, libc::SIOCSIFNETMASK, &mut req).map_err(|e| ctx("netmask", e))?;

        let mut req = ifreq_named(&self.name)?;
        req.ifr_ifru.ifru_mtu = libc::c_int::from(mtu);
        ifreq_ioctl(fd, libc::SIOCSIFMTU, &mut req).map_err(|e| ctx("mtu", e))?;

        let mut req = ifreq_named(&self.name)?;
        ifreq_ioctl(fd, libc::SIOCGIFFLAGS, &mut req).map_err(|e| ctx("flags", e))?;
        // SAFETY: SIOCGIFFLAGS filled the flags member of the union.
        let flags = unsafe { req.ifr_ifru.ifru_flags };
        req.ifr_ifru.ifru_flags = flags | (libc::IFF_UP | libc::IFF_RUNNING) as libc::c_short;
        ifreq_ioctl(fd, libc::SIOCSIFFLAGS, &mut req).map_err(|e| ctx("up", e))?;
        Ok(())
    }

    /// Reads one packet (an IPv4 or IPv6 datagram). `WouldBlock` when none is queued.
    pub fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        (&self.file).read(buf)
    }

    /// Writes one packet to the kernel. `WouldBlock` when the device's queue is full.
    pub fn send(&self, packet: &[u8]) -> io::Result<usize> {
        (&self.file).write(packet)
    }
}

impl AsFd for TunDevice {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.file.as_fd()
    }
}
