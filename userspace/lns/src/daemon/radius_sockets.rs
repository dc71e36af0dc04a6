//! The RADIUS clients' sockets: [`RADIUS_SOCKETS`] per client (authentication on the
//! server's port, accounting on port + 1), on ephemeral ports or inside `radius_bind_min`
//! to `radius_bind_max`, and their poll tokens. The clients themselves are the endpoint's
//! (`lns_core`); the daemon only moves their datagrams.

use std::net::{Ipv4Addr, SocketAddr};

use mio::net::UdpSocket;
use mio::{Interest, Registry, Token};

use lns_core::config::Settings;
use lns_core::RadiusClientKind;

/// Sockets (source ports) per client. Each carries 256 requests in flight (the Identifier is
/// one octet), and a server's duplicate cache is keyed by source port and Identifier: with
/// one socket, a burst of logins reused each identifier every 256 requests, within
/// FreeRADIUS's `cleanup_delay`, which then answered new requests with old replies (the 14
/// of 70 000 sessions that failed in tests/bench/host/l2tpns-scale.sh). The original used 64
/// sockets for both kinds.
pub const RADIUS_SOCKETS: usize = 32;

/// Poll tokens: authentication socket i is `TOKEN_AUTH_BASE + i`, accounting socket i
/// `TOKEN_ACCT_BASE + i`.
const TOKEN_AUTH_BASE: usize = 1 << 16;
const TOKEN_ACCT_BASE: usize = TOKEN_AUTH_BASE + 256;

/// Which RADIUS socket a poll token is: (client, index).
pub(super) fn socket_of_token(token: Token) -> Option<(RadiusClientKind, usize)> {
    match token.0 {
        t if (TOKEN_AUTH_BASE..TOKEN_AUTH_BASE + RADIUS_SOCKETS).contains(&t) => {
            Some((RadiusClientKind::Authentication, t - TOKEN_AUTH_BASE))
        }
        t if (TOKEN_ACCT_BASE..TOKEN_ACCT_BASE + RADIUS_SOCKETS).contains(&t) => {
            Some((RadiusClientKind::Accounting, t - TOKEN_ACCT_BASE))
        }
        _ => None,
    }
}

/// Both clients' sockets.
pub struct RadiusSockets {
    pub auth: Vec<UdpSocket>,
    pub acct: Vec<UdpSocket>,
}

impl RadiusSockets {
    /// Binds both sets and registers them with the poll.
    pub fn open(s: &Settings, registry: &Registry) -> std::io::Result<Self> {
        let mut skip = 0;
        let mut auth = bind_sockets(s, RADIUS_SOCKETS, &mut skip).map_err(|e| {
            std::io::Error::new(e.kind(), format!("RADIUS authentication sockets: {e}"))
        })?;
        let mut acct = bind_sockets(s, RADIUS_SOCKETS, &mut skip).map_err(|e| {
            std::io::Error::new(e.kind(), format!("RADIUS accounting sockets: {e}"))
        })?;
        for (i, sock) in auth.iter_mut().enumerate() {
            registry.register(sock, Token(TOKEN_AUTH_BASE + i), Interest::READABLE)?;
        }
        for (i, sock) in acct.iter_mut().enumerate() {
            registry.register(sock, Token(TOKEN_ACCT_BASE + i), Interest::READABLE)?;
        }
        Ok(RadiusSockets { auth, acct })
    }

    pub fn counts(&self) -> (usize, usize) {
        (self.auth.len(), self.acct.len())
    }

    pub fn get(&self, client: RadiusClientKind, index: usize) -> Option<&UdpSocket> {
        match client {
            RadiusClientKind::Authentication => self.auth.get(index),
            RadiusClientKind::Accounting => self.acct.get(index),
        }
    }
}

/// Up to `want` sockets: on ephemeral ports, or on the free ports of `radius_bind_min` to
/// `radius_bind_max` (a range too small for two clients of [`RADIUS_SOCKETS`] shares its
/// ports out; at least one each is needed).
fn bind_sockets(s: &Settings, want: usize, skip: &mut u32) -> std::io::Result<Vec<UdpSocket>> {
    let mut sockets = Vec::with_capacity(want);
    match s.radius_bind_range() {
        Some((lo, hi)) => {
            let mut last = None;
            let ports: Vec<u16> = (lo..=hi.max(lo)).collect();
            // Each client takes at most half the range, so the other gets its share.
            let want = want.min(ports.len().div_ceil(2)).max(1);
            for &port in ports.iter().skip(*skip as usize) {
                *skip += 1;
                match UdpSocket::bind(SocketAddr::from((Ipv4Addr::UNSPECIFIED, port))) {
                    Ok(sock) => sockets.push(sock),
                    Err(e) => last = Some(e),
                }
                if sockets.len() == want {
                    break;
                }
            }
            if sockets.is_empty() {
                return Err(last.unwrap_or_else(|| {
                    std::io::Error::other(format!("no free port left in radius_bind {lo}-{hi}"))
                }));
            }
        }
        None => {
            for _ in 0..want {
                sockets.push(UdpSocket::bind(SocketAddr::from((
                    Ipv4Addr::UNSPECIFIED,
                    0,
                )))?);
            }
        }
    }
    Ok(sockets)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn free_port_range(n: u16) -> (u16, u16) {
        // A range no one else on this host uses right now: probe upwards from a random base.
        let base = 40000 + (std::process::id() % 10000) as u16;
        (base, base + n - 1)
    }

    #[test]
    fn radius_sockets_ephemeral_and_shared_out_of_radius_bind() {
        let mut s = Settings::default();
        let mut skip = 0;
        assert_eq!(
            bind_sockets(&s, RADIUS_SOCKETS, &mut skip).unwrap().len(),
            RADIUS_SOCKETS
        );
        // A 6-port range: half each, on distinct ports inside the range.
        let (lo, hi) = free_port_range(6);
        s.radius_bind_min = lo;
        s.radius_bind_max = hi;
        let mut skip = 0;
        let auth = bind_sockets(&s, RADIUS_SOCKETS, &mut skip).unwrap();
        let acct = bind_sockets(&s, RADIUS_SOCKETS, &mut skip).unwrap();
        let ports: std::collections::BTreeSet<u16> = auth
            .iter()
            .chain(&acct)
            .map(|u| u.local_addr().unwrap().port())
            .collect();
        assert_eq!((auth.len(), acct.len(), ports.len()), (3, 3, 6));
        assert!(ports.iter().all(|p| (lo..=hi).contains(p)));
        // Nothing left for a third.
        assert!(bind_sockets(&s, RADIUS_SOCKETS, &mut skip).is_err());
    }

    #[test]
    fn poll_tokens_name_one_socket_each() {
        assert_eq!(
            socket_of_token(Token(TOKEN_AUTH_BASE)),
            Some((RadiusClientKind::Authentication, 0))
        );
        assert_eq!(
            socket_of_token(Token(TOKEN_ACCT_BASE + 31)),
            Some((RadiusClientKind::Accounting, 31))
        );
        assert_eq!(
            socket_of_token(Token(TOKEN_AUTH_BASE + RADIUS_SOCKETS)),
            None
        );
        assert_eq!(socket_of_token(Token(16)), None);
    }
}
