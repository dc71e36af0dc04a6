//! RADIUS for the sessions (reference §4): Access-Request from a PPP authentication request,
//! the reply turned into a PPP verdict (address, routes, DNS, timeouts, Class), and
//! Accounting-Request Start / Interim-Update / Stop.
//!
//! Two clients (authentication on the server's port, accounting on port + 1, as the
//! original), each with its own [`RADIUS_SOCKETS`] sockets; the `radius` crate does retries,
//! failover, Message-Authenticator, spreads requests over the sockets and accepts replies
//! only from the configured servers.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use mio::net::UdpSocket;
use mio::{Interest, Registry, Token};
use ppp::session::{AuthRequest, Credentials, Grant, Verdict};
use radius::{
    acct_status_type, nas_port_type, service_type, Attribute, ChapPassword, Client, ClientConfig,
    Code, Event, MessageAuthenticatorPolicy, Packet, Request, ServerConfig, Vsa,
};

use crate::config::{RequireMessageAuthenticator, Settings};
use crate::ip_pool::{AddressRequest, Reservation};
use crate::session_table::SessionKey;

use super::session::AddressSource;
use super::Daemon;

/// Framed-Protocol PPP (RFC 2865 §5.7).
const FRAMED_PROTOCOL_PPP: u32 = 1;

/// Sockets (source ports) per client. Each carries 256 requests in flight (the Identifier is
/// one octet), and a server's duplicate cache is keyed by source port and Identifier: with
/// one socket, a burst of logins reused each identifier every 256 requests, within
/// FreeRADIUS's `cleanup_delay`, which then answered new requests with old replies (the 14
/// of 70 000 sessions that failed in tests/bench/host/l2tpns-scale.sh). The original used 64
/// sockets for both kinds.
pub const RADIUS_SOCKETS: usize = 32;

/// Requests in flight at once per client (the sockets space identifier reuse out, this bounds
/// the burst a server receives). With all 32 x 256 allowed, a 70 000-login burst overflowed
/// the receive buffer of a FreeRADIUS with default socket buffers (3 456 UdpRcvbufErrors) and
/// 313-586 logins got no answer to either send; with 256 it still dropped 226-250 (its 208 KiB
/// buffer holds fewer than 256 requests); 128 leaves room. A server 2 ms away still gets 64 000
/// requests/s through this window, one 30 ms away 4 000/s.
pub const RADIUS_IN_FLIGHT: usize = 128;

/// Poll tokens: authentication socket i is `TOKEN_AUTH_BASE + i`, accounting socket i
/// `TOKEN_ACCT_BASE + i`.
const TOKEN_AUTH_BASE: usize = 1 << 16;
const TOKEN_ACCT_BASE: usize = TOKEN_AUTH_BASE + 256;

/// Which RADIUS socket a poll token is: (accounting?, index).
pub(super) fn socket_of_token(token: Token) -> Option<(bool, usize)> {
    match token.0 {
        t if (TOKEN_AUTH_BASE..TOKEN_AUTH_BASE + RADIUS_SOCKETS).contains(&t) => {
            Some((false, t - TOKEN_AUTH_BASE))
        }
        t if (TOKEN_ACCT_BASE..TOKEN_ACCT_BASE + RADIUS_SOCKETS).contains(&t) => {
            Some((true, t - TOKEN_ACCT_BASE))
        }
        _ => None,
    }
}

pub struct Radius {
    pub auth: Client,
    pub acct: Client,
    pub auth_sockets: Vec<UdpSocket>,
    pub acct_sockets: Vec<UdpSocket>,
    /// The settings the clients were built from (rebuilt on reload only when these change).
    pub fingerprint: String,
}

fn fingerprint(s: &Settings) -> String {
    format!(
        "{:?} {} {:?}",
        s.radius_servers(),
        s.radius_secret,
        s.radius_require_message_authenticator
    )
}

/// Requests waiting for one of the 256 RADIUS identifiers: room for every session a daemon
/// can hold (the L2TP id spaces allow far more, but the pool and memory end well before).
const MAX_RADIUS_BACKLOG: usize = 1 << 20;

fn client(s: &Settings, port_offset: u16, sockets: usize) -> Result<Client, String> {
    let servers: Vec<ServerConfig> = s
        .radius_servers()
        .into_iter()
        .map(|(a, p)| ServerConfig {
            address: SocketAddr::from((a, p.wrapping_add(port_offset))),
            secret: s.radius_secret.as_bytes().to_vec(),
        })
        .collect();
    let mut cfg = ClientConfig::new(servers);
    // Each session has at most one request of a kind waiting, so the sessions bound the
    // backlog; the client's default (4096) refused logins ("authentication unavailable") as
    // soon as a burst of set-ups outran the server by that much (44 664 of 70 000 in
    // tests/bench/host/l2tpns-scale.sh). Queued requests cost ~200 bytes each.
    cfg.max_backlog = MAX_RADIUS_BACKLOG;
    cfg.sockets = sockets;
    cfg.max_in_flight = RADIUS_IN_FLIGHT;
    cfg.message_authenticator = match s.radius_require_message_authenticator {
        RequireMessageAuthenticator::Yes => MessageAuthenticatorPolicy::Require,
        RequireMessageAuthenticator::No | RequireMessageAuthenticator::Auto => {
            MessageAuthenticatorPolicy::Auto
        }
    };
    let mut seed = [0u8; 32];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut seed);
    Client::new(cfg, seed).map_err(|e| e.to_string())
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

impl Radius {
    /// `None` when no server is configured (sessions are then refused).
    pub fn new(s: &Settings) -> Result<Option<Self>, String> {
        if s.radius_servers().is_empty() {
            return Ok(None);
        }
        if s.radius_secret.is_empty() {
            return Err("radius_secret is empty".into());
        }
        let mut skip = 0;
        let auth_sockets = bind_sockets(s, RADIUS_SOCKETS, &mut skip)
            .map_err(|e| format!("RADIUS authentication sockets: {e}"))?;
        let acct_sockets = bind_sockets(s, RADIUS_SOCKETS, &mut skip)
            .map_err(|e| format!("RADIUS accounting sockets: {e}"))?;
        Ok(Some(Radius {
            auth: client(s, 0, auth_sockets.len())?,
            acct: client(s, 1, acct_sockets.len())?,
            auth_sockets,
            acct_sockets,
            fingerprint: fingerprint(s),
        }))
    }

    /// Registers every socket with the poll under its token.
    pub fn register(&mut self, registry: &Registry) -> std::io::Result<()> {
        for (i, sock) in self.auth_sockets.iter_mut().enumerate() {
            registry.register(sock, Token(TOKEN_AUTH_BASE + i), Interest::READABLE)?;
        }
        for (i, sock) in self.acct_sockets.iter_mut().enumerate() {
            registry.register(sock, Token(TOKEN_ACCT_BASE + i), Interest::READABLE)?;
        }
        Ok(())
    }

    pub fn deregister(&mut self, registry: &Registry) {
        for sock in self
            .auth_sockets
            .iter_mut()
            .chain(self.acct_sockets.iter_mut())
        {
            let _ = registry.deregister(sock);
        }
    }

    pub fn matches(&self, s: &Settings) -> bool {
        self.fingerprint == fingerprint(s)
    }

    pub fn deadline(&self) -> Option<Instant> {
        match (self.auth.poll_timeout(), self.acct.poll_timeout()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Sends every queued datagram of both clients.
    pub fn flush(&mut self) {
        let mut buf = Vec::new();
        while let Some(t) = self.auth.poll_transmit(&mut buf) {
            if let Err(e) = self.auth_sockets[t.socket].send_to(&buf, t.destination) {
                log::warn!("RADIUS send to {}: {e}", t.destination);
            }
        }
        while let Some(t) = self.acct.poll_transmit(&mut buf) {
            if let Err(e) = self.acct_sockets[t.socket].send_to(&buf, t.destination) {
                log::warn!("RADIUS send to {}: {e}", t.destination);
            }
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

impl Daemon {
    fn nas_attributes(&self, key: SessionKey, out: &mut Vec<Attribute>) {
        out.push(Attribute::NasIpAddress(self.nas_ip));
        out.push(Attribute::NasIdentifier(self.host_name.as_bytes().to_vec()));
        out.push(Attribute::NasPort(key.index()));
        out.push(Attribute::NasPortType(nas_port_type::VIRTUAL));
        out.push(Attribute::ServiceType(service_type::FRAMED));
        out.push(Attribute::FramedProtocol(FRAMED_PROTOCOL_PPP));
        if let Some(s) = self.table.get(key) {
            if let Some(c) = &s.calling_station {
                out.push(Attribute::CallingStationId(c.clone()));
            }
            if let Some(c) = &s.called_station {
                out.push(Attribute::CalledStationId(c.clone()));
            }
        }
    }

    /// A PPP authentication request: an Access-Request.
    pub(super) fn authenticate(&mut self, now: Instant, key: SessionKey, req: AuthRequest) {
        let user = String::from_utf8_lossy(&req.username).into_owned();
        if let Some(s) = self.table.get_mut(key) {
            s.user = Some(user.clone());
        }
        let mut attrs = vec![Attribute::UserName(req.username.clone())];
        self.nas_attributes(key, &mut attrs);
        let request = match &req.credentials {
            Credentials::Pap { password, .. } => {
                Request::access(attrs).with_user_password(password.clone())
            }
            Credentials::Chap {
                id,
                challenge,
                response,
            } => {
                let Ok(response) = <[u8; 16]>::try_from(response.as_slice()) else {
                    self.verdict(now, key, reject("malformed CHAP response"));
                    return;
                };
                attrs.push(Attribute::ChapPassword(ChapPassword {
                    ident: *id,
                    response,
                }));
                attrs.push(Attribute::ChapChallenge(challenge.clone()));
                Request::access(attrs)
            }
        };
        let Some(r) = self.radius.as_mut() else {
            log::warn!(
                "session {}: no RADIUS server configured: rejecting {user}",
                key.index()
            );
            self.verdict(now, key, reject("no authentication server"));
            return;
        };
        match r.auth.send(now, request) {
            Ok(id) => {
                self.auth_pending.insert(id, key);
                if let Some(s) = self.table.get_mut(key) {
                    s.auth_request = Some(id);
                }
                log::debug!("session {}: Access-Request for {user}", key.index());
            }
            Err(e) => {
                log::warn!("session {}: Access-Request: {e}", key.index());
                self.verdict(now, key, reject("authentication unavailable"));
            }
        }
    }

    fn verdict(&mut self, now: Instant, key: SessionKey, v: Verdict) {
        if let Some(s) = self.table.get_mut(key) {
            s.link.auth_verdict(now, v);
        }
        self.drain_link(now, key);
    }

    /// Receives the replies waiting on one RADIUS socket (accounting's or authentication's
    /// socket `index`) and acts on the clients' events.
    pub(super) fn radius_readable(&mut self, now: Instant, acct: bool, index: usize) {
        let Some(r) = self.radius.as_mut() else {
            return;
        };
        let (sockets, client) = if acct {
            (&r.acct_sockets, &mut r.acct)
        } else {
            (&r.auth_sockets, &mut r.auth)
        };
        let Some(sock) = sockets.get(index) else {
            return;
        };
        let mut buf = [0u8; radius::MAX_PACKET_LEN];
        loop {
            match sock.recv_from(&mut buf) {
                Ok((n, from)) => {
                    if let Err(e) = client.handle_datagram_on(now, index, from, &buf[..n]) {
                        log::warn!("RADIUS reply from {from} dropped: {e}");
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
        self.radius_events(now);
    }

    pub(super) fn radius_events(&mut self, now: Instant) {
        let mut auth_events = Vec::new();
        if let Some(r) = self.radius.as_mut() {
            while let Some(e) = r.auth.poll_event() {
                auth_events.push(e);
            }
            while let Some(e) = r.acct.poll_event() {
                self.acct_in_flight = self.acct_in_flight.saturating_sub(1);
                match e {
                    Event::Response { .. } => self.stats.acct_acked += 1,
                    Event::TimedOut { attempts, .. } => {
                        self.stats.acct_timeouts += 1;
                        log::warn!("Accounting-Request unanswered after {attempts} sends");
                    }
                }
            }
        }
        for e in auth_events {
            self.control_dirty = true;
            match e {
                Event::Response {
                    request, packet, ..
                } => {
                    let Some(key) = self.auth_pending.remove(&request) else {
                        continue;
                    };
                    if let Some(s) = self.table.get_mut(key) {
                        s.auth_request = None;
                    }
                    let v = self.access_reply(key, &packet);
                    self.verdict(now, key, v);
                }
                Event::TimedOut { request, attempts } => {
                    let Some(key) = self.auth_pending.remove(&request) else {
                        continue;
                    };
                    log::warn!(
                        "session {}: no RADIUS answer after {attempts} sends",
                        key.index()
                    );
                    if let Some(s) = self.table.get_mut(key) {
                        s.auth_request = None;
                    }
                    self.verdict(now, key, reject("authentication timed out"));
                }
            }
        }
    }

    /// Access-Accept → grant (address from the pool or Framed-IP-Address, routes, DNS,
    /// timeouts, Class); anything else → reject.
    fn access_reply(&mut self, key: SessionKey, p: &Packet) -> Verdict {
        let message = p
            .find(|a| match a {
                Attribute::ReplyMessage(m) => Some(m.clone()),
                _ => None,
            })
            .unwrap_or_default();
        let user = self
            .table
            .get(key)
            .and_then(|s| s.user.clone())
            .unwrap_or_default();
        if p.code != Code::AccessAccept || p.has_malformed_attribute() {
            log::info!(
                "session {}: {user} rejected by RADIUS ({:?})",
                key.index(),
                p.code
            );
            self.stats.auth_rejects += 1;
            return Verdict::Reject {
                message: if message.is_empty() {
                    b"Authentication failed".to_vec()
                } else {
                    message
                },
            };
        }
        let s = &self.config.settings;
        // allow_duplicate_users no: the newest login wins, older sessions are cleared
        // (reference §3.6); guest accounts may always log in many times.
        if !s.allow_duplicate_users && !s.guest_account.contains(&user) {
            let older: Vec<SessionKey> = self
                .table
                .by_user(&user)
                .iter()
                .copied()
                .filter(|&k| k != key)
                .collect();
            for k in older {
                if let Some(o) = self.table.get_mut(k) {
                    o.terminate_cause = Some(radius::acct_terminate_cause::ADMIN_RESET);
                    o.link.close(Instant::now(), b"duplicate login");
                }
                self.pending_drain.push(k);
            }
        }
        let framed_ip = p.find(|a| match a {
            Attribute::FramedIpAddress(ip) => Some(*ip),
            _ => None,
        });
        let (address, source) = match AddressRequest::from_framed_ip(framed_ip) {
            AddressRequest::Pool => match self.pool.allocate(Some(&user)) {
                Some(a) => (a.address, AddressSource::Pool),
                None => {
                    log::warn!("session {}: IP pool exhausted", key.index());
                    return reject("no address available");
                }
            },
            AddressRequest::Static(a) => match self.pool.reserve(a) {
                Ok(Reservation::InPool) => (a, AddressSource::ReservedInPool),
                Ok(Reservation::OutsidePool) => (a, AddressSource::Static),
                Err(e) => {
                    log::warn!("session {}: Framed-IP-Address {a}: {e}", key.index());
                    return reject("address in use");
                }
            },
        };
        if let Err(e) = self.table.set_address(key, address) {
            log::warn!("session {}: {address}: {e}", key.index());
            let _ = match source {
                AddressSource::Pool => self.pool.release(address),
                AddressSource::ReservedInPool => self.pool.unreserve(address),
                AddressSource::Static => Ok(()),
            };
            return reject("address in use");
        }
        let _ = self.table.set_user(key, Some(&user));
        for a in &p.attributes {
            if let Attribute::FramedRoute(text) = a {
                match parse_framed_route(text) {
                    Some((prefix, len)) => {
                        if let Err(e) = self.table.add_route(key, prefix, len) {
                            log::warn!("session {}: Framed-Route: {e}", key.index());
                        }
                    }
                    None => log::warn!(
                        "session {}: unparsable Framed-Route {:?}",
                        key.index(),
                        String::from_utf8_lossy(text)
                    ),
                }
            }
        }
        let settings = &self.config.settings;
        let dns_cfg = [settings.primary_dns, settings.secondary_dns]
            .map(|d| Some(d).filter(|d| !d.is_unspecified()));
        let dns = dns_from_reply(p).unwrap_or(dns_cfg);
        let now = Instant::now();
        let interim_default = settings.radius_interim;
        let Some(sess) = self.table.get_mut(key) else {
            return reject("session gone");
        };
        sess.address = Some((address, source));
        sess.dns = dns;
        for a in &p.attributes {
            match a {
                Attribute::Class(c) => sess.class.push(c.clone()),
                Attribute::SessionTimeout(t) if *t > 0 => {
                    sess.session_deadline = Some(now + Duration::from_secs(u64::from(*t)))
                }
                Attribute::IdleTimeout(t) if *t > 0 => {
                    sess.idle_timeout = Some(Duration::from_secs(u64::from(*t)))
                }
                Attribute::AcctInterimInterval(t) if *t > 0 => {
                    sess.interim = Some(Duration::from_secs(u64::from((*t).max(60))))
                }
                _ => {}
            }
        }
        if sess.interim.is_none() && interim_default > 0 {
            sess.interim = Some(Duration::from_secs(u64::from(interim_default)));
        }
        log::info!(
            "session {}: {user} accepted, address {address}",
            key.index()
        );
        Verdict::Accept(Grant {
            ipv4: Some(address),
            dns,
            ipv6_interface_id: None,
            message,
        })
    }

    /// Accounting-Request for a session (when `radius_accounting` is on).
    pub(super) fn accounting(&mut self, now: Instant, key: SessionKey, status: u32) {
        if !self.config.settings.radius_accounting {
            return;
        }
        let Some(s) = self.table.get(key) else { return };
        let Some(c) = self.table.counters(key) else {
            return;
        };
        let user = s.user.clone().unwrap_or_default();
        let mut attrs = vec![
            Attribute::AcctStatusType(status),
            Attribute::UserName(user.into_bytes()),
            Attribute::AcctSessionId(s.acct_session_id.clone().into_bytes()),
            Attribute::AcctAuthentic(1), // RADIUS (RFC 2866 §5.6)
        ];
        if let Some((a, _)) = s.address {
            attrs.push(Attribute::FramedIpAddress(a));
        }
        for class in &s.class {
            attrs.push(Attribute::Class(class.clone()));
        }
        if status != acct_status_type::START {
            let load = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
            // Input = from the user (RFC 2866 §5.3), with the 2^32 wraps (RFC 2869 §5.1).
            let (oi, oo) = (load(&c.octets_in), load(&c.octets_out));
            attrs.push(Attribute::AcctInputOctets(oi as u32));
            attrs.push(Attribute::AcctOutputOctets(oo as u32));
            attrs.push(Attribute::AcctInputGigawords((oi >> 32) as u32));
            attrs.push(Attribute::AcctOutputGigawords((oo >> 32) as u32));
            attrs.push(Attribute::AcctInputPackets(load(&c.packets_in) as u32));
            attrs.push(Attribute::AcctOutputPackets(load(&c.packets_out) as u32));
            let secs = s.opened.map_or(0, |(t, _)| now.duration_since(t).as_secs());
            attrs.push(Attribute::AcctSessionTime(secs as u32));
        }
        if status == acct_status_type::STOP {
            attrs.push(Attribute::AcctTerminateCause(
                s.terminate_cause
                    .unwrap_or(radius::acct_terminate_cause::NAS_REQUEST),
            ));
        }
        attrs.push(Attribute::EventTimestamp(super::unix_now() as u32));
        let mut nas = Vec::new();
        self.nas_attributes(key, &mut nas);
        attrs.extend(nas);
        let Some(r) = self.radius.as_mut() else {
            return;
        };
        match r.acct.send(now, Request::accounting(attrs)) {
            Ok(_) => self.acct_in_flight += 1,
            Err(e) => log::warn!("session {}: Accounting-Request: {e}", key.index()),
        }
    }
}

fn reject(why: &str) -> Verdict {
    Verdict::Reject {
        message: why.as_bytes().to_vec(),
    }
}

/// DNS servers from the reply, if any, as the original reads them (reference §7): the vendor
/// attributes MS-Primary/Secondary-DNS-Server and Ascend-Client-Primary/Secondary-DNS (529/135,
/// 529/136), and the old Ascend numbering as plain attributes 135/136, which older RADIUS
/// dictionaries still send.
fn dns_from_reply(p: &Packet) -> Option<[Option<Ipv4Addr>; 2]> {
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
    fn clients_bound_what_is_in_flight_not_the_sockets() {
        let s = Settings {
            primary_radius: Ipv4Addr::LOCALHOST,
            radius_secret: "secret".into(),
            ..Settings::default()
        };
        let c = client(&s, 0, RADIUS_SOCKETS).unwrap();
        assert_eq!(c.capacity(), RADIUS_IN_FLIGHT);
        // A small radius_bind range: fewer sockets, never more than 256 each.
        assert_eq!(
            client(&s, 1, 1).unwrap().capacity(),
            256.min(RADIUS_IN_FLIGHT)
        );
    }

    #[test]
    fn poll_tokens_name_one_socket_each() {
        assert_eq!(socket_of_token(Token(TOKEN_AUTH_BASE)), Some((false, 0)));
        assert_eq!(
            socket_of_token(Token(TOKEN_ACCT_BASE + 31)),
            Some((true, 31))
        );
        assert_eq!(
            socket_of_token(Token(TOKEN_AUTH_BASE + RADIUS_SOCKETS)),
            None
        );
        assert_eq!(socket_of_token(Token(16)), None);
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
