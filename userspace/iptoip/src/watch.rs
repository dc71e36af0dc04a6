//! Waiting for address changes: an rtnetlink socket subscribed to the link and address groups.
//!
//! The events themselves are not decoded: any of them (even an ENOBUFS overrun, which means
//! events were lost) only says "look again", and the caller re-reads the interface's addresses
//! and compares them with the ones it last applied. That also covers an interface that is
//! deleted and re-created (pppd), which gets a new index but keeps its name.

use std::io;
use std::thread::sleep;
use std::time::Duration;

use netlink_sys::protocols::NETLINK_ROUTE;
use netlink_sys::{Socket, SocketAddr};

/// rtnetlink multicast groups (linux/rtnetlink.h, legacy bit masks).
const RTMGRP_LINK: u32 = 0x1;
const RTMGRP_IPV4_IFADDR: u32 = 0x10;
const RTMGRP_IPV6_IFADDR: u32 = 0x100;

/// Changes usually come in bursts (link up, address add, route add): wait this long after the
/// first event so one burst leads to one re-apply.
/// errno when the kernel dropped events because the socket buffer was full.
const ENOBUFS: i32 = 105;

const SETTLE: Duration = Duration::from_millis(300);

pub struct AddressEvents {
    socket: Socket,
}

impl AddressEvents {
    pub fn open() -> io::Result<AddressEvents> {
        let mut socket = Socket::new(NETLINK_ROUTE)?;
        socket.bind(&SocketAddr::new(
            0,
            RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR,
        ))?;
        Ok(AddressEvents { socket })
    }

    /// Block until something changed, then let the burst settle and drain it.
    pub fn wait(&mut self) -> io::Result<()> {
        let mut buf: Vec<u8> = Vec::with_capacity(64 * 1024);
        match self.socket.recv(&mut buf, 0) {
            Ok(_) => {}
            // Overrun: events were dropped, which still means "look again".
            Err(e) if e.raw_os_error() == Some(ENOBUFS) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return Ok(()),
            Err(e) => return Err(e),
        }
        sleep(SETTLE);
        self.socket.set_non_blocking(true)?;
        let drained = loop {
            buf.clear();
            match self.socket.recv(&mut buf, 0) {
                Ok(_) => continue,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break Ok(()),
                Err(e) if e.raw_os_error() == Some(ENOBUFS) => continue,
                Err(e) => break Err(e),
            }
        };
        self.socket.set_non_blocking(false)?;
        drained
    }
}
