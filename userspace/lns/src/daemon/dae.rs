//! The RADIUS Dynamic Authorization socket (RFC 5176 Disconnect / CoA) on
//! `bind_address:radius_dae_port`: datagrams go to [`lns_core::Endpoint::handle_dae`], which
//! authenticates them, decides, and answers through [`lns_core::Action::SendDae`]. The
//! daemon only moves the bytes.

use std::io;
use std::net::SocketAddr;
use std::time::Instant;

use mio::net::UdpSocket;
use mio::{Interest, Registry};

use lns_core::config::Settings;

use super::{Daemon, TOKEN_DAE};

/// Opens and registers the DAE socket; `None` when `radius_dae_port` is 0 or the socket
/// cannot be bound (logged: the daemon serves sessions without DAE).
pub(super) fn open(s: &Settings, registry: &Registry) -> Option<UdpSocket> {
    if s.radius_dae_port == 0 {
        log::info!("RADIUS DAE off (radius_dae_port 0)");
        return None;
    }
    let addr = SocketAddr::from((s.bind_address, s.radius_dae_port));
    let opened = UdpSocket::bind(addr).and_then(|mut sock| {
        registry.register(&mut sock, TOKEN_DAE, Interest::READABLE)?;
        Ok(sock)
    });
    match opened {
        Ok(sock) => {
            let clients = s.dae_clients();
            if clients.is_empty() {
                log::warn!(
                    "RADIUS DAE on {addr}: no client (radius_secret and radius_server or \
                     radius_dae_clients): every request is dropped"
                );
            } else {
                log::info!(
                    "RADIUS DAE on {addr} for {}",
                    clients
                        .iter()
                        .map(|a| a.to_string())
                        .collect::<Vec<_>>()
                        .join(",")
                );
            }
            Some(sock)
        }
        Err(e) => {
            log::error!("RADIUS DAE socket {addr}: {e}; Disconnect and CoA are off");
            None
        }
    }
}

impl Daemon {
    /// Receives the requests waiting on the DAE socket.
    pub(super) fn dae_readable(&mut self, now: Instant) {
        let mut buf = [0u8; radius::MAX_PACKET_LEN];
        loop {
            let Some(sock) = self.dae.as_ref() else {
                return;
            };
            match sock.recv_from(&mut buf) {
                Ok((n, from)) => {
                    self.core.handle_dae(now, from, &buf[..n]);
                    self.carry_out();
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return,
            }
        }
    }

    /// Sends an answer the endpoint produced.
    pub(super) fn send_dae(&mut self, to: SocketAddr, datagram: &[u8]) {
        let sent = self.dae.as_ref().map(|s| s.send_to(datagram, to));
        if !matches!(sent, Some(Ok(_))) {
            self.stats.dae_send_failed += 1;
            log::warn!("DAE answer to {to}: {sent:?}");
        }
    }
}
