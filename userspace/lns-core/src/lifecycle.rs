//! A session's life: the call comes up and its PPP link starts, the user authenticates
//! (Access-Request, then the Access-Accept read into a grant), IPCP opens and the session is
//! published to the data plane and routed, its timers run, and it ends: in one place, in one
//! order, whoever ends it.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use l2tp::CallInfo;
use l2tp_ppp::CallId;
use lns_config::config::{AuthType, Config};
use lns_config::ip_pool::{AddressRequest, Reservation};
use lns_dataplane::session_table::{DataPathInfo, SessionKey};
use ppp::lcp::AuthMethod;
use ppp::session::{AuthRequest, CloseReason, Credentials, Event as PppEvent, Grant, Verdict};
use radius::{nas_port_type, service_type, Attribute, ChapPassword, Code, Packet, Request};

use crate::action::Action;
use crate::endpoint::Endpoint;
use crate::radius_glue::{dns_from_reply, parse_framed_route, reject, FRAMED_PROTOCOL_PPP};
use crate::session::{AddressSource, Sess, SessionName, TerminateCause};

/// The echo interval with `ppp_keepalive no`: every 10 s regardless of traffic.
const UNCONDITIONAL_ECHO_SECS: u64 = 10;

/// The L2TP engine's configuration from the startup-config.
pub(crate) fn engine_config(config: &Config, host_name: &str) -> l2tp::Config {
    let s = &config.settings;
    l2tp::Config {
        host_name: host_name.as_bytes().to_vec(),
        secret: Some(s.l2tp_secret.as_bytes().to_vec()).filter(|v| !v.is_empty()),
        // RFC 2661 §6.5: HELLO keeps NATs and the peer's liveness check happy; some clients
        // (Apple) choke on it, hence the switch. A day is the engine's longest interval.
        hello_interval: if s.disable_sending_hello {
            Duration::from_secs(86_400)
        } else {
            Duration::from_secs(60)
        },
        ..l2tp::Config::default()
    }
}

/// A new call's PPP link configuration from the startup-config.
pub(crate) fn link_config(config: &Config, host_name: &str) -> ppp::session::SessionConfig {
    let s = &config.settings;
    let mut c = ppp::session::SessionConfig::authenticator(host_name.as_bytes(), s.ipcp_gateway());
    c.lcp.mru = s.mru();
    c.lcp.auth = s
        .radius_authtypes
        .iter()
        .map(|a| match a {
            AuthType::Pap => AuthMethod::Pap,
            AuthType::Chap => AuthMethod::ChapMd5,
        })
        .collect();
    c.fsm.restart_interval = Duration::from_secs(u64::from(s.ppp_restart_time));
    c.fsm.max_configure = s.ppp_max_configure;
    c.fsm.max_failure = s.ppp_max_failure;
    // `ppp_keepalive yes`: an Echo-Request only after `echo_timeout` s without traffic from
    // the user (the endpoint tells the link about data it never sees), `no`: every 10 s
    // regardless. Unanswered echoes never end a session by themselves: `idle_echo_timeout`
    // (no packet at all from the user) does, in `session_tick`.
    c.echo_interval = Some(Duration::from_secs(if s.ppp_keepalive {
        u64::from(s.echo_timeout.max(1))
    } else {
        UNCONDITIONAL_ECHO_SECS
    }));
    c.echo_max_failures = u32::MAX;
    c
}

impl Endpoint {
    pub(crate) fn call_up(&mut self, now: Instant, call: CallId, info: &CallInfo) {
        let Some(route) = self.calls.engine().data_route(call.tunnel, call.session) else {
            return;
        };
        let SocketAddr::V4(peer) = route.peer else {
            log::warn!(
                "tunnel {} call {}: IPv6 peer {} not supported",
                call.tunnel,
                call.session,
                route.peer
            );
            self.calls
                .close_call(now, call, l2tp::ResultCode::ADMINISTRATIVE);
            return;
        };
        let socket = self.peer_socket.get(&route.peer).copied().unwrap_or(0);
        self.acct_seq = self.acct_seq.wrapping_add(1);
        let acct_id = crate::session::AcctSessionId::new(self.boot_id, self.acct_seq);
        let mut sess = Sess::new(peer, socket, acct_id);
        sess.calling_station = info.calling_number.clone();
        sess.called_station = info.called_number.clone();
        sess.tx_speed = info.tx_connect_speed;
        sess.rx_speed = info.rx_connect_speed;
        match self.table.insert(call, sess) {
            Ok(key) => {
                let proxied = self
                    .calls
                    .link(call)
                    .is_some_and(|l| l.lcp_state() == ppp::fsm::State::Opened);
                log::info!(
                    "{} up from {peer}{}",
                    SessionName::with_ids(key, call),
                    if proxied { ", proxy LCP accepted" } else { "" }
                );
            }
            Err(e) => {
                log::warn!("tunnel {} call {}: {e}", call.tunnel, call.session);
                self.calls
                    .close_call(now, call, l2tp::ResultCode::ADMINISTRATIVE);
            }
        }
    }

    pub(crate) fn ppp_event(&mut self, now: Instant, key: SessionKey, call: CallId, e: PppEvent) {
        let name = SessionName::of(key);
        match e {
            PppEvent::AuthRequest(req) => self.authenticate(now, key, call, req),
            PppEvent::Ipv4Up(_) => self.ipv4_up(now, key),
            PppEvent::Closed(reason) => {
                let c = match reason {
                    CloseReason::Finished => TerminateCause::UserRequest,
                    CloseReason::Administrative => TerminateCause::AdminReset,
                    CloseReason::AuthFailed | CloseReason::AuthRefused => TerminateCause::UserError,
                    CloseReason::EchoTimeout => TerminateCause::LostCarrier,
                    CloseReason::Looped | CloseReason::NoNetworkProtocol => {
                        TerminateCause::NasError
                    }
                };
                log::info!("{name}: PPP closed ({reason:?})");
                // The composition clears the call with CDN itself.
                self.end_session(now, key, c, false);
            }
            PppEvent::AuthFailed { message } => log::info!(
                "{name}: authentication failed: {}",
                String::from_utf8_lossy(&message)
            ),
            PppEvent::ProxyLcpRejected { reason } => {
                log::info!("{name}: proxy LCP not acceptable ({reason}), renegotiating LCP")
            }
            other => log::debug!("{name}: {other:?}"),
        }
    }

    /// An IPv4 packet from a user that came through the composition (before the session
    /// was published): the same anti-spoof rule and MSS clamp as the data plane.
    pub(crate) fn slow_path_ipv4(&mut self, now: Instant, call: CallId, mut packet: Vec<u8>) {
        let Some(key) = self.table.by_ids(call) else {
            self.stats.ppp_dropped += 1;
            return;
        };
        let address = self.table.get(key).and_then(|s| s.address.map(|a| a.0));
        let src_ok = packet.len() >= 20
            && (self.config.settings.disable_no_spoof
                || Some(Ipv4Addr::new(
                    packet[12], packet[13], packet[14], packet[15],
                )) == address);
        if !src_ok {
            self.stats.slow_path_spoofed += 1;
            return;
        }
        if lns_dataplane::mss_clamp::clamp(&mut packet, self.config.settings.mss()) {
            self.stats.mss_clamped += 1;
        }
        if let Some(c) = self.table.counters(key) {
            let stamp = self.env.clock.secs(now).max(1);
            c.count_in(packet.len(), stamp);
        }
        self.actions.push_back(Action::WriteTun(packet));
    }

    fn nas_attributes(&self, key: SessionKey, out: &mut Vec<Attribute>) {
        out.push(Attribute::NasIpAddress(self.nas_ip));
        out.push(Attribute::NasIdentifier(
            self.env.host_name.as_bytes().to_vec(),
        ));
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

    pub(crate) fn accounting_nas_attributes(&self, key: SessionKey, out: &mut Vec<Attribute>) {
        self.nas_attributes(key, out)
    }

    /// A PPP authentication request: an Access-Request (RFC 2865 §4.1).
    fn authenticate(&mut self, now: Instant, key: SessionKey, call: CallId, req: AuthRequest) {
        let name = SessionName::of(key);
        let mut user = String::from_utf8_lossy(&req.username).into_owned();
        self.plugins.pre_auth(&mut crate::plugins::PreAuth {
            session: key.index(),
            user: &mut user,
        });
        if let Some(s) = self.table.get_mut(key) {
            s.user = Some(user.as_str().into());
        }
        let mut attrs = vec![Attribute::UserName(user.clone().into_bytes())];
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
                    self.calls
                        .auth_verdict(now, call, reject("malformed CHAP response"));
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
            log::warn!("{name}: no RADIUS server configured: rejecting {user}");
            self.calls
                .auth_verdict(now, call, reject("no authentication server"));
            return;
        };
        match r.auth.send(now, request) {
            Ok(id) => {
                self.auth_pending.insert(id, key);
                if let Some(s) = self.table.get_mut(key) {
                    s.auth_request = Some(id);
                }
                log::debug!("{name}: Access-Request for {user}");
            }
            Err(e) => {
                log::warn!("{name}: Access-Request: {e}");
                self.calls
                    .auth_verdict(now, call, reject("authentication unavailable"));
            }
        }
    }

    pub(crate) fn auth_event(&mut self, now: Instant, e: radius::Event) {
        let (request, verdict) = match e {
            radius::Event::Response {
                request, packet, ..
            } => {
                let Some(&key) = self.auth_pending.get(&request) else {
                    return;
                };
                (request, self.access_reply(now, key, &packet))
            }
            radius::Event::TimedOut { request, attempts } => {
                if let Some(&key) = self.auth_pending.get(&request) {
                    log::warn!(
                        "{}: no RADIUS answer after {attempts} sends",
                        SessionName::of(key)
                    );
                    self.stats.auth_timeouts += 1;
                }
                (request, reject("authentication timed out"))
            }
        };
        let Some(key) = self.auth_pending.remove(&request) else {
            return;
        };
        if let Some(s) = self.table.get_mut(key) {
            s.auth_request = None;
        }
        if let Some(call) = self.call_of(key) {
            self.calls.auth_verdict(now, call, verdict);
        }
    }

    /// Access-Accept → grant (address from the pool or Framed-IP-Address, routes, DNS,
    /// timeouts, Class); anything else → reject.
    fn access_reply(&mut self, now: Instant, key: SessionKey, p: &Packet) -> Verdict {
        let name = SessionName::of(key);
        let message = p
            .find(|a| match a {
                Attribute::ReplyMessage(m) => Some(m.clone()),
                _ => None,
            })
            .unwrap_or_default();
        let user = self
            .table
            .get(key)
            .map(|s| s.user_name())
            .unwrap_or_default();
        let allowed = p.code == Code::AccessAccept && !p.has_malformed_attribute();
        let mut garden = false;
        if let Some(s) = self.table.get_mut(key) {
            let tx_speed = s.tx_speed;
            self.plugins.post_auth(&mut crate::plugins::PostAuth {
                session: key.index(),
                user: &user,
                allowed,
                garden: &mut garden,
                rx_speed: &mut s.rx_speed,
                tx_speed,
            });
        }
        if !allowed && !garden {
            log::info!("{name}: {user} rejected by RADIUS ({:?})", p.code);
            self.stats.auth_rejects += 1;
            self.run_hook(
                key,
                crate::action::HookEvent::Auth,
                &[("L2TPNS_AUTH", "reject")],
            );
            return Verdict::Reject {
                message: if message.is_empty() {
                    b"Authentication failed".to_vec()
                } else {
                    message
                },
            };
        }
        if garden {
            // The garden plugin takes the rejected user in, fenced: a pool address that
            // stays nobody's (no sticky address), none of the reply's attributes, no
            // accounting, no duplicate-login check.
            self.stats.gardened += 1;
            return self.garden_grant(now, key, &user);
        }
        let s = &self.config.settings;
        // allow_duplicate_users no: the newest login wins, older sessions are cleared;
        // guest accounts may always log in many times.
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
                    o.terminate_cause = Some(TerminateCause::AdminReset);
                }
                if let Some(call) = self.call_of(k) {
                    self.calls.close_link(now, call, b"duplicate login");
                }
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
                    log::warn!("{name}: IP pool exhausted");
                    self.stats.pool_exhausted += 1;
                    return reject("no address available");
                }
            },
            AddressRequest::Static(a) => match self.pool.reserve(a) {
                Ok(Reservation::InPool) => (a, AddressSource::ReservedInPool),
                Ok(Reservation::OutsidePool) => (a, AddressSource::Static),
                Err(e) => {
                    log::warn!("{name}: Framed-IP-Address {a}: {e}");
                    self.stats.address_refused += 1;
                    return reject("address in use");
                }
            },
        };
        if let Err(e) = self.table.set_address(key, address) {
            log::warn!("{name}: {address}: {e}");
            self.give_back(address, source);
            self.stats.address_refused += 1;
            return reject("address in use");
        }
        let _ = self.table.set_user(key, Some(&user));
        self.share_user(key);
        for a in &p.attributes {
            if let Attribute::FramedRoute(text) = a {
                match parse_framed_route(text) {
                    Some((prefix, len)) => {
                        if let Err(e) = self.table.add_route(key, prefix, len) {
                            log::warn!("{name}: Framed-Route: {e}");
                        }
                    }
                    None => log::warn!(
                        "{name}: unparsable Framed-Route {:?}",
                        String::from_utf8_lossy(text)
                    ),
                }
            }
        }
        let settings = &self.config.settings;
        let dns_cfg = [settings.primary_dns, settings.secondary_dns]
            .map(|d| Some(d).filter(|d| !d.is_unspecified()));
        let dns = dns_from_reply(p).unwrap_or(dns_cfg);
        let interim_default = settings.radius_interim;
        let Some(sess) = self.table.get_mut(key) else {
            return reject("session gone");
        };
        sess.address = Some((address, source));
        sess.dns = dns;
        for a in &p.attributes {
            match a {
                Attribute::Class(c) => sess.class.push(c),
                Attribute::SessionTimeout(t) if *t > 0 => {
                    sess.session_deadline = Some(now + Duration::from_secs(u64::from(*t)))
                }
                Attribute::IdleTimeout(t) if *t > 0 => {
                    sess.idle_timeout = Some(Duration::from_secs(u64::from(*t)))
                }
                // RFC 2869 §5.16: not more often than once a minute.
                Attribute::AcctInterimInterval(t) if *t > 0 => {
                    sess.interim = Some(Duration::from_secs(u64::from((*t).max(60))))
                }
                _ => {}
            }
        }
        if sess.interim.is_none() && interim_default > 0 {
            sess.interim = Some(Duration::from_secs(u64::from(interim_default)));
        }
        let attributes = crate::command::PolicyAttributes::of_packet(p);
        self.apply_policy_attributes(key, &attributes, false);
        log::info!("{name}: {user} accepted, address {address}");
        self.run_hook(
            key,
            crate::action::HookEvent::Auth,
            &[("L2TPNS_AUTH", "accept")],
        );
        Verdict::Accept(Grant {
            ipv4: Some(address),
            dns,
            ipv6_interface_id: None,
            message,
        })
    }

    fn give_back(&mut self, address: Ipv4Addr, source: AddressSource) {
        let r = match source {
            AddressSource::Pool => self.pool.release(address),
            AddressSource::ReservedInPool => self.pool.unreserve(address),
            AddressSource::Static => Ok(()),
        };
        if let Err(e) = r {
            log::warn!("give back {address}: {e}");
        }
    }

    /// IPCP is open: publish the session to the data plane, route its address, start
    /// accounting.
    fn ipv4_up(&mut self, now: Instant, key: SessionKey) {
        let Some(address) = self.publish_session(key) else {
            return;
        };
        self.stats.sessions_opened += 1;
        let unix = self.env.clock.unix(now);
        if let Some(s) = self.table.get_mut(key) {
            s.opened = Some((now, unix));
            s.next_interim = s.interim.map(|i| now + i);
        }
        log::info!(
            "{}: user {} up with {address}",
            SessionName::of(key),
            self.table.user(key).unwrap_or("")
        );
        self.accounting(now, key, radius::acct_status_type::START);
        self.run_hook(key, crate::action::HookEvent::Up, &[]);
    }

    /// Makes an opened session visible to the data plane and routes its address and
    /// Framed-Routes to the TUN device. Returns its address.
    pub(crate) fn publish_session(&mut self, key: SessionKey) -> Option<Ipv4Addr> {
        let call = self.call_of(key)?;
        let s = self.table.get(key)?;
        let (address, _) = s.address?;
        let n = self.calls.link(call)?.lcp_negotiated();
        let (mru, acfc, pfc, socket) = (n.peer_mru, n.tx_acfc, n.tx_pfc, s.socket);
        let route = self.calls.engine().data_route(call.tunnel, call.session)?;
        let SocketAddr::V4(peer) = route.peer else {
            return None;
        };
        let info = DataPathInfo {
            peer,
            socket,
            peer_tunnel: route.peer_tunnel_id,
            peer_session: route.peer_session_id,
            mru,
            acfc,
            pfc,
            allow_any_source: self.config.settings.disable_no_spoof,
            // Downstream data of such calls needs the engine's sequence numbers (RFC 2661
            // §5.4): the data plane hands it back through `handle_tun_packet`.
            sequenced: route.sequencing,
        };
        if let Err(e) = self.table.publish(key, info) {
            log::warn!("{}: publish: {e}", SessionName::of(key));
        }
        self.apply_policy(key);
        let mut routes = vec![(address, 32u8)];
        routes.extend(self.table.routes(key).iter().copied());
        for (prefix, len) in routes {
            self.actions.push_back(Action::AddRoute { prefix, len });
        }
        Some(address)
    }

    /// Ends a session: Acct-Stop if it was opened, routes and address given back, and the
    /// call cleared with CDN if `clear_call` (the call is still up).
    pub(crate) fn end_session(
        &mut self,
        now: Instant,
        key: SessionKey,
        why: TerminateCause,
        clear_call: bool,
    ) {
        let Some(call) = self.call_of(key) else {
            return;
        };
        if let Some(s) = self.table.get_mut(key) {
            s.terminate_cause.get_or_insert(why);
            if let Some(r) = s.auth_request.take() {
                if let Some(c) = self.radius.as_mut() {
                    c.auth.cancel(now, r);
                }
                self.auth_pending.remove(&r);
            }
        }
        // The fast path must stop before the final counters are read.
        self.table.unpublish(key);
        let opened = self.table.get(key).is_some_and(|s| s.opened.is_some());
        if let Some(s) = self.table.get(key) {
            if let (true, Some((address, _))) = (s.policy.garden, s.address) {
                self.actions.push_back(Action::GardenRemove { address });
            }
        }
        if opened {
            self.accounting(now, key, radius::acct_status_type::STOP);
            self.dump_ended(key);
            let cause = self
                .table
                .get(key)
                .and_then(|s| s.terminate_cause)
                .unwrap_or(why)
                .to_string();
            self.run_hook(
                key,
                crate::action::HookEvent::Down,
                &[("L2TPNS_TERMINATE_CAUSE", &cause)],
            );
        }
        let mut routes: Vec<(Ipv4Addr, u8)> = self.table.routes(key).to_vec();
        let Some(s) = self.table.remove(key) else {
            return;
        };
        if let Some((a, source)) = s.address {
            routes.push((a, 32));
            self.give_back(a, source);
        }
        if opened {
            for (prefix, len) in routes {
                self.actions.push_back(Action::RemoveRoute { prefix, len });
            }
        }
        if clear_call {
            self.calls
                .close_call(now, call, l2tp::ResultCode::ADMINISTRATIVE);
        }
        log::info!(
            "{}: ended ({})",
            SessionName::of(key),
            s.terminate_cause.unwrap_or(why)
        );
    }

    /// Closes a session's PPP link politely (LCP Terminate-Request); it ends once PPP is down.
    pub(crate) fn close_politely(
        &mut self,
        now: Instant,
        key: SessionKey,
        why: TerminateCause,
        reason: &[u8],
    ) {
        if let Some(s) = self.table.get_mut(key) {
            s.terminate_cause = Some(why);
        }
        if let Some(call) = self.call_of(key) {
            self.calls.close_link(now, call, reason);
        }
    }

    /// When the user was last heard from: a PPP frame through the composition, or a data
    /// packet the data plane stamped.
    pub(crate) fn last_heard(&self, key: SessionKey, now: Instant) -> Option<Instant> {
        let frame = self.call_of(key).and_then(|c| self.calls.last_frame(c));
        let stamp = self
            .table
            .counters(key)
            .map(|c| c.last_packet_in.load(Ordering::Relaxed))
            .unwrap_or(0);
        let data = self.env.clock.instant_of_stamp(stamp, now);
        frame.max(data)
    }

    /// Session-level timers, once a second: Session-Timeout, Idle-Timeout,
    /// `idle_echo_timeout`, interim updates.
    pub(crate) fn session_tick(&mut self, now: Instant) {
        let mut close = Vec::new();
        let mut interim = Vec::new();
        // No packet at all from the user for `idle_echo_timeout` s (unanswered keepalives and
        // no data either), whether echoes go out after silence (`ppp_keepalive yes`) or
        // every 10 s (`no`).
        let st = &self.config.settings;
        let silent_limit = (st.idle_echo_timeout > 0)
            .then(|| Duration::from_secs(u64::from(st.idle_echo_timeout)));
        for (key, s) in self.table.iter() {
            if s.session_deadline.is_some_and(|d| d <= now) {
                close.push((key, TerminateCause::SessionTimeout));
                continue;
            }
            let heard = self.last_heard(key, now);
            if let (Some(limit), Some(heard)) = (silent_limit, heard) {
                if now.saturating_duration_since(heard) >= limit {
                    close.push((key, TerminateCause::LostCarrier));
                    continue;
                }
            }
            if let (Some(idle), Some((opened, _))) = (s.idle_timeout, s.opened) {
                // Idle-Timeout counts data only (RFC 2865 §5.28): control frames such as
                // echo replies do not keep a session busy.
                let stamp = self
                    .table
                    .counters(key)
                    .map(|c| c.last_packet_in.load(Ordering::Relaxed))
                    .unwrap_or(0);
                let last_data = self
                    .env
                    .clock
                    .instant_of_stamp(stamp, now)
                    .unwrap_or(opened);
                if now.saturating_duration_since(last_data.max(opened)) >= idle {
                    close.push((key, TerminateCause::IdleTimeout));
                    continue;
                }
            }
            if s.next_interim.is_some_and(|t| t <= now) {
                interim.push(key);
            }
        }
        for key in interim {
            if let Some(s) = self.table.get_mut(key) {
                s.next_interim = s.interim.map(|i| now + i);
            }
            self.accounting(now, key, radius::acct_status_type::INTERIM_UPDATE);
        }
        for (key, why) in close {
            self.close_politely(now, key, why, b"timeout");
        }
    }
}
