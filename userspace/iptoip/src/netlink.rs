//! A blocking netlink request/response helper shared by the IPVS (generic netlink) and the
//! address (rtnetlink) clients: send one request, collect the replies up to the ACK or DONE.

use std::fmt::Debug;
use std::io;

use netlink_packet_core::{
    NetlinkBuffer, NetlinkDeserializable, NetlinkHeader, NetlinkMessage, NetlinkPayload,
    NetlinkSerializable, NLM_F_ACK, NLM_F_DUMP, NLM_F_DUMP_INTR, NLM_F_REQUEST,
};
use netlink_sys::{Socket, SocketAddr};

/// Why a request failed.
#[derive(Debug)]
pub enum NetlinkError {
    /// The kernel answered with an error code (positive errno).
    Kernel(io::Error),
    /// The socket failed.
    Io(io::Error),
    /// A reply could not be decoded.
    Decode(String),
    /// The kernel interrupted a dump because the table changed under it, more than once.
    Interrupted,
}

impl NetlinkError {
    pub fn errno(&self) -> Option<i32> {
        match self {
            NetlinkError::Kernel(e) => e.raw_os_error(),
            _ => None,
        }
    }
}

impl std::fmt::Display for NetlinkError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NetlinkError::Kernel(e) => write!(f, "{e}"),
            NetlinkError::Io(e) => write!(f, "netlink socket: {e}"),
            NetlinkError::Decode(e) => write!(f, "undecodable netlink reply: {e}"),
            NetlinkError::Interrupted => write!(f, "dump interrupted repeatedly by changes"),
        }
    }
}

impl std::error::Error for NetlinkError {}

pub struct Conn {
    socket: Socket,
    seq: u32,
}

impl Conn {
    /// Open a socket of `protocol` (NETLINK_GENERIC, NETLINK_ROUTE).
    pub fn open(protocol: isize) -> Result<Conn, NetlinkError> {
        let mut socket = Socket::new(protocol).map_err(NetlinkError::Io)?;
        socket.bind_auto().map_err(NetlinkError::Io)?;
        socket
            .connect(&SocketAddr::new(0, 0))
            .map_err(NetlinkError::Io)?;
        Ok(Conn { socket, seq: 0 })
    }

    /// Send `msg` and return the replies. `dump` selects NLM_F_DUMP (replies end with DONE);
    /// otherwise NLM_F_ACK is asked and the replies end with the ACK.
    pub fn request<T>(&mut self, msg: T, dump: bool) -> Result<Vec<T>, NetlinkError>
    where
        T: NetlinkSerializable + NetlinkDeserializable + Debug + Clone,
    {
        // A dump interrupted by a concurrent change (NLM_F_DUMP_INTR) is retried.
        for _ in 0..5 {
            match self.request_once(msg.clone(), dump)? {
                (replies, false) => return Ok(replies),
                (_, true) => continue,
            }
        }
        Err(NetlinkError::Interrupted)
    }

    fn request_once<T>(&mut self, msg: T, dump: bool) -> Result<(Vec<T>, bool), NetlinkError>
    where
        T: NetlinkSerializable + NetlinkDeserializable + Debug,
    {
        self.seq = self.seq.wrapping_add(1);
        let seq = self.seq;
        let mut header = NetlinkHeader::default();
        header.flags = NLM_F_REQUEST | if dump { NLM_F_DUMP } else { NLM_F_ACK };
        header.sequence_number = seq;
        let mut packet = NetlinkMessage::new(header, NetlinkPayload::InnerMessage(msg));
        packet.finalize();
        let mut buf = vec![0u8; packet.buffer_len()];
        packet.serialize(&mut buf);
        self.socket.send(&buf, 0).map_err(NetlinkError::Io)?;

        let mut replies = Vec::new();
        let mut interrupted = false;
        loop {
            let (data, _) = self.socket.recv_from_full().map_err(NetlinkError::Io)?;
            let mut offset = 0;
            while offset < data.len() {
                let nl = NetlinkBuffer::new_checked(&data[offset..])
                    .map_err(|e| NetlinkError::Decode(e.to_string()))?;
                let len = nl.length() as usize;
                let frame = &data[offset..offset + len];
                // Netlink messages are 4-byte aligned (NLMSG_ALIGN).
                offset += (len + 3) & !3;
                if nl.sequence_number() != seq {
                    continue; // a late reply to an earlier request
                }
                if nl.flags() & NLM_F_DUMP_INTR != 0 {
                    interrupted = true;
                }
                let parsed = NetlinkMessage::<T>::deserialize(frame)
                    .map_err(|e| NetlinkError::Decode(e.to_string()))?;
                match parsed.payload {
                    NetlinkPayload::InnerMessage(m) => replies.push(m),
                    NetlinkPayload::Error(e) => {
                        return match e.code {
                            None => Ok((replies, interrupted)),
                            Some(code) => Err(NetlinkError::Kernel(io::Error::from_raw_os_error(
                                -code.get(),
                            ))),
                        };
                    }
                    NetlinkPayload::Done(d) => {
                        return if d.code < 0 {
                            Err(NetlinkError::Kernel(io::Error::from_raw_os_error(-d.code)))
                        } else {
                            Ok((replies, interrupted))
                        };
                    }
                    NetlinkPayload::Noop => {}
                    NetlinkPayload::Overrun(_) => {
                        return Err(NetlinkError::Decode("receive buffer overrun".into()))
                    }
                    _ => {}
                }
            }
        }
    }
}
