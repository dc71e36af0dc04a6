//! Routes to the TUN device over rtnetlink (RFC 3549): one per session address and per
//! Framed-Route, plus the routed `ip_pool` prefixes at start. Every route carries
//! `route_protocol` (default 42, so `ip route show proto 42` lists the daemon's routes and a
//! restart can find its own) and `route_metric`.
//!
//! Adding uses NLM_F_REPLACE: a route left by a daemon that died, or re-added after a restart
//! that resumes sessions, is taken over rather than refused. Removing a route that is not there
//! is not an error (a session torn down twice, or routes flushed by an operator).

use std::io;
use std::net::Ipv4Addr;

use netlink_packet_core::{
    NetlinkBuffer, NetlinkHeader, NetlinkMessage, NetlinkPayload, NLM_F_ACK, NLM_F_CREATE,
    NLM_F_REPLACE, NLM_F_REQUEST,
};
use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteHeader, RouteMessage, RouteProtocol, RouteScope, RouteType,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use netlink_sys::{protocols::NETLINK_ROUTE, Socket, SocketAddr};

/// How the daemon's routes are marked and weighted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouteStyle {
    pub protocol: u8,
    pub metric: u32,
}

/// An rtnetlink connection for routes via one interface.
pub struct Routes {
    socket: Socket,
    seq: u32,
    ifindex: u32,
    style: RouteStyle,
}

impl Routes {
    /// Routes via the interface `ifname` (which must exist).
    pub fn new(ifname: &str, style: RouteStyle) -> io::Result<Self> {
        let cname = std::ffi::CString::new(ifname)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "NUL in interface name"))?;
        // SAFETY: a NUL-terminated string that lives across the call.
        let ifindex = unsafe { libc::if_nametoindex(cname.as_ptr()) };
        if ifindex == 0 {
            let e = io::Error::last_os_error();
            return Err(io::Error::new(e.kind(), format!("{ifname}: {e}")));
        }
        let mut socket = Socket::new(NETLINK_ROUTE)?;
        socket.bind_auto()?;
        socket.connect(&SocketAddr::new(0, 0))?;
        Ok(Self {
            socket,
            seq: 0,
            ifindex,
            style,
        })
    }

    fn message(&self, dest: Ipv4Addr, prefix_len: u8) -> RouteMessage {
        let mut m = RouteMessage::default();
        m.header = RouteHeader {
            address_family: AddressFamily::Inet,
            destination_prefix_length: prefix_len,
            table: RouteHeader::RT_TABLE_MAIN,
            protocol: RouteProtocol::from(self.style.protocol),
            scope: RouteScope::Link,
            kind: RouteType::Unicast,
            ..m.header
        };
        m.attributes = vec![
            RouteAttribute::Destination(RouteAddress::Inet(dest)),
            RouteAttribute::Oif(self.ifindex),
            RouteAttribute::Priority(self.style.metric),
        ];
        m
    }

    /// Routes `dest/prefix_len` to the interface (replacing any route to the same prefix
    /// and metric).
    pub fn add(&mut self, dest: Ipv4Addr, prefix_len: u8) -> io::Result<()> {
        let m = self.message(dest, prefix_len);
        self.request(
            RouteNetlinkMessage::NewRoute(m),
            NLM_F_CREATE | NLM_F_REPLACE,
        )
        .map_err(|e| io::Error::new(e.kind(), format!("add route {dest}/{prefix_len}: {e}")))
    }

    /// Removes the route; `Ok(false)` when there was none.
    pub fn remove(&mut self, dest: Ipv4Addr, prefix_len: u8) -> io::Result<bool> {
        let m = self.message(dest, prefix_len);
        match self.request(RouteNetlinkMessage::DelRoute(m), 0) {
            Ok(()) => Ok(true),
            Err(e) if e.raw_os_error() == Some(libc::ESRCH) => Ok(false),
            Err(e) => Err(io::Error::new(
                e.kind(),
                format!("remove route {dest}/{prefix_len}: {e}"),
            )),
        }
    }

    /// Sends one request and waits for its acknowledgement.
    fn request(&mut self, msg: RouteNetlinkMessage, flags: u16) -> io::Result<()> {
        self.seq = self.seq.wrapping_add(1);
        let seq = self.seq;
        let mut header = NetlinkHeader::default();
        header.flags = NLM_F_REQUEST | NLM_F_ACK | flags;
        header.sequence_number = seq;
        let mut packet = NetlinkMessage::new(header, NetlinkPayload::InnerMessage(msg));
        packet.finalize();
        let mut buf = vec![0u8; packet.buffer_len()];
        packet.serialize(&mut buf);
        self.socket.send(&buf, 0)?;
        loop {
            let (data, _) = self.socket.recv_from_full()?;
            let mut offset = 0;
            while offset < data.len() {
                let nl = NetlinkBuffer::new_checked(&data[offset..])
                    .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?;
                let len = nl.length() as usize;
                let frame = &data[offset..offset + len];
                // Netlink messages are 4-byte aligned (NLMSG_ALIGN).
                offset += (len + 3) & !3;
                if nl.sequence_number() != seq {
                    continue; // a late reply to an earlier request
                }
                let parsed = NetlinkMessage::<RouteNetlinkMessage>::deserialize(frame)
                    .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?;
                if let NetlinkPayload::Error(e) = parsed.payload {
                    return match e.code {
                        None => Ok(()),
                        Some(code) => Err(io::Error::from_raw_os_error(-code.get())),
                    };
                }
            }
        }
    }
}
