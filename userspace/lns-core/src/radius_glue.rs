//! RADIUS for the sessions: the two clients (authentication on the server's port,
//! accounting on port + 1, as the original), an Access-Request from a PPP authentication
//! request, the Access-Accept's attributes read into a grant, and the attributes of
//! Accounting-Request Start / Interim-Update / Stop (RFC 2865, RFC 2866, RFC 2869).
//!
//! The `radius` crate does retries, failover, Message-Authenticator, spreads requests over
//! the sockets and accepts replies only from the configured servers; the daemon owns the
//! sockets, whose number it tells the endpoint.

use std::net::{Ipv4Addr, SocketAddr};

use lns_config::config::{RequireMessageAuthenticator, Settings};
use ppp::session::Verdict;
use radius::{
    Attribute, Client, ClientConfig, MessageAuthenticatorPolicy, Packet, ServerConfig, Vsa,
};

/// Requests in flight at once per client (the sockets space identifier reuse out, this bounds
/// the burst a server receives). With all 32 x 256 allowed, a 70 000-login burst overflowed
/// the receive buffer of a FreeRADIUS with default socket buffers (3 456 UdpRcvbufErrors) and
/// 313-586 logins got no answer to either send; with 256 it still dropped 226-250 (its 208 KiB
/// buffer holds fewer than 256 requests); 128 leaves room. A server 2 ms away still gets 64 000
/// requests/s through this window, one 30 ms away 4 000/s.
pub const RADIUS_IN_FLIGHT: usize = 128;

/// Requests waiting for one of the 256 RADIUS identifiers: room for every session a daemon
/// can hold. Each session has at most one request of a kind waiting, so the sessions bound
/// the backlog; the client's default (4096) refused logins ("authentication unavailable") as
/// soon as a burst of set-ups outran the server by that much (44 664 of 70 000 in
/// tests/bench/host/l2tpns-scale.sh). Queued requests cost ~200 bytes each.
const MAX_RADIUS_BACKLOG: usize = 1 << 20;

/// Framed-Protocol PPP (RFC 2865 §5.7).
pub const FRAMED_PROTOCOL_PPP: u32 = 1;

/// The two clients.
pub struct Radius {
    pub auth: Client,
    pub acct: Client,
    /// The settings the clients were built from (rebuilt on reload only when these change).
    fingerprint: String,
}

fn fingerprint(s: &Settings) -> String {
    format!(
        "{:?} {} {:?}",
        s.radius_servers(),
        s.radius_secret,
        s.radius_require_message_authenticator
    )
}

/// Why the RADIUS clients could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RadiusSetupError {
    #[error("radius_secret is empty")]
    NoSecret,
    #[error("RADIUS client: {0}")]
    Client(#[from] radius::ConfigError),
}

fn client(
    s: &Settings,
    port_offset: u16,
    sockets: usize,
    seed: [u8; 32],
) -> Result<Client, RadiusSetupError> {
    let servers: Vec<ServerConfig> = s
        .radius_servers()
        .into_iter()
        .map(|(a, p)| ServerConfig {
            address: SocketAddr::from((a, p.wrapping_add(port_offset))),
            secret: s.radius_secret.as_bytes().to_vec(),
        })
        .collect();
    let mut cfg = ClientConfig::new(servers);
    cfg.max_backlog = MAX_RADIUS_BACKLOG;
    cfg.sockets = sockets.max(1);
    cfg.max_in_flight = RADIUS_IN_FLIGHT;
    cfg.message_authenticator = match s.radius_require_message_authenticator {
        RequireMessageAuthenticator::Yes => MessageAuthenticatorPolicy::Require,
        RequireMessageAuthenticator::No | RequireMessageAuthenticator::Auto => {
            MessageAuthenticatorPolicy::Auto
        }
    };
    Ok(Client::new(cfg, seed)?)
}

impl Radius {
    /// `None` when no server is configured (sessions are then refused). `sockets` is how
    /// many sockets the daemon opened for (authentication, accounting).
    pub fn new(
        s: &Settings,
        sockets: (usize, usize),
        seeds: [[u8; 32]; 2],
    ) -> Result<Option<Self>, RadiusSetupError> {
        if s.radius_servers().is_empty() {
            return Ok(None);
        }
        if s.radius_secret.is_empty() {
            return Err(RadiusSetupError::NoSecret);
        }
        Ok(Some(Radius {
            auth: client(s, 0, sockets.0, seeds[0])?,
            acct: client(s, 1, sockets.1, seeds[1])?,
            fingerprint: fingerprint(s),
        }))
    }

    pub fn matches(&self, s: &Settings) -> bool {
        self.fingerprint == fingerprint(s)
    }

    pub fn deadline(&self) -> Option<std::time::Instant> {
        match (self.auth.poll_timeout(), self.acct.poll_timeout()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

/// Framed-Route text: "a.b.c.d/len [gateway [metric]]" or "a.b.c.d mask ..." (RFC 2865 §5.22).
pub fn parse_framed_route(text: &[u8]) -> Option<(Ipv4Addr, u8)> {
    let text = std::str::from_utf8(text).ok()?;
    let mut words = text.split_whitespace();
    let first = words.next()?;
    let (addr, len) = match first.split_once('/') {
        Some((a, l)) => (a.parse::<Ipv4Addr>().ok()?, l.parse::<u8>().ok()?),
        None => {
            let a: Ipv4Addr = first.parse().ok()?;
            let len = match words.next().and_then(|m| m.parse::<Ipv4Addr>().ok()) {
                Some(mask) => {
                    let m = u32::from(mask);
                    if m.leading_ones() + m.trailing_zeros() != 32 {
                        return None;
                    }
                    m.leading_ones() as u8
                }
                None => 32,
            };
            (a, len)
        }
    };
    if len > 32 {
        return None;
    }
    let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
    Some((Ipv4Addr::from(u32::from(addr) & mask), len))
}

pub fn reject(why: &str) -> Verdict {
    Verdict::Reject {
        message: why.as_bytes().to_vec(),
    }
}

/// DNS servers from the reply, if any, as the original reads them: the vendor attributes
/// MS-Primary/Secondary-DNS-Server (RFC 2548 §2.7) and Ascend-Client-Primary/Secondary-DNS
/// (529/135, 529/136), and the old Ascend numbering as plain attributes 135/136, which older
/// RADIUS dictionaries still send.
pub fn dns_from_reply(p: &Packet) -> Option<[Option<Ipv4Addr>; 2]> {
    /// Plain attribute numbers of Ascend-Client-Primary/Secondary-DNS before vendor attributes.
    const OLD_ASCEND_PRIMARY_DNS: u8 = 135;
    const OLD_ASCEND_SECONDARY_DNS: u8 = 136;
    let mut dns = [None, None];
    for a in &p.attributes {
        match a {
            Attribute::VendorSpecific(Vsa::MsPrimaryDnsServer(ip))
            | Attribute::VendorSpecific(Vsa::AscendClientPrimaryDns(ip)) => dns[0] = Some(*ip),
            Attribute::VendorSpecific(Vsa::MsSecondaryDnsServer(ip))
            | Attribute::VendorSpecific(Vsa::AscendClientSecondaryDns(ip)) => dns[1] = Some(*ip),
            Attribute::Other { typ, value } if value.len() == 4 => {
                let ip = Ipv4Addr::new(value[0], value[1], value[2], value[3]);
                match *typ {
                    OLD_ASCEND_PRIMARY_DNS => dns[0] = Some(ip),
                    OLD_ASCEND_SECONDARY_DNS => dns[1] = Some(ip),
                    _ => {}
                }
            }
            _ => {}
        }
    }
    (dns[0].is_some() || dns[1].is_some()).then_some(dns)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clients_bound_what_is_in_flight_not_the_sockets() {
        let s = Settings {
            primary_radius: Ipv4Addr::LOCALHOST,
            radius_secret: "secret".into(),
            ..Settings::default()
        };
        let c = client(&s, 0, 32, [1; 32]).unwrap();
        assert_eq!(c.capacity(), RADIUS_IN_FLIGHT);
        // A small radius_bind range: fewer sockets, never more than 256 each.
        assert_eq!(
            client(&s, 1, 1, [2; 32]).unwrap().capacity(),
            256.min(RADIUS_IN_FLIGHT)
        );
    }

    #[test]
    fn dns_from_vendor_and_old_plain_ascend_attributes() {
        let reply = |attributes| Packet {
            code: radius::Code::AccessAccept,
            identifier: 1,
            authenticator: [0; 16],
            attributes,
        };
        let p = reply(vec![
            Attribute::Other {
                typ: 135,
                value: vec![192, 0, 2, 53],
            },
            Attribute::Other {
                typ: 136,
                value: vec![192, 0, 2, 54],
            },
        ]);
        assert_eq!(
            dns_from_reply(&p),
            Some([
                Some(Ipv4Addr::new(192, 0, 2, 53)),
                Some(Ipv4Addr::new(192, 0, 2, 54))
            ])
        );
        let p = reply(vec![Attribute::VendorSpecific(Vsa::MsPrimaryDnsServer(
            Ipv4Addr::new(198, 51, 100, 1),
        ))]);
        assert_eq!(
            dns_from_reply(&p),
            Some([Some(Ipv4Addr::new(198, 51, 100, 1)), None])
        );
        // A value that is not an address is not a DNS server.
        let p = reply(vec![Attribute::Other {
            typ: 135,
            value: vec![1, 2, 3],
        }]);
        assert_eq!(dns_from_reply(&p), None);
    }

    #[test]
    fn framed_route_forms() {
        assert_eq!(
            parse_framed_route(b"192.0.2.0/24 0.0.0.0 1"),
            Some((Ipv4Addr::new(192, 0, 2, 0), 24))
        );
        assert_eq!(
            parse_framed_route(b"198.51.100.7 255.255.255.252"),
            Some((Ipv4Addr::new(198, 51, 100, 4), 30))
        );
        assert_eq!(
            parse_framed_route(b"203.0.113.9"),
            Some((Ipv4Addr::new(203, 0, 113, 9), 32))
        );
        assert_eq!(parse_framed_route(b"10.0.0.0/33"), None);
        assert_eq!(parse_framed_route(b"10.0.0.0 255.0.255.0"), None);
        assert_eq!(parse_framed_route(b"nonsense"), None);
        assert_eq!(parse_framed_route(&[0xff, 0xfe]), None);
    }
}
