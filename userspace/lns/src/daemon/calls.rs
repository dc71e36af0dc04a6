//! Tunnel and session glue: L2TP engine events to PPP links and back (the LNS side of
//! RFC 2661 §7.4 with one PPP link per call), and the end of a session in one place.

use std::cmp::Reverse;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use l2tp::{CallInfo, CloseCause, Event as L2tpEvent, ResultCode};
use ppp::lcp::AuthMethod;
use ppp::session::{CloseReason, Event as PppEvent, Inbound, Session as PppLink, SessionConfig};
use radius::acct_terminate_cause as cause;

use crate::config::AuthType;
use crate::session_table::{DataPathInfo, L2tpIds, SessionKey};

use super::session::{AddressSource, Sess};
use super::Daemon;

/// CDN result 3: "call disconnected for administrative reasons" (RFC 2661 §4.4.2).
const CDN_ADMIN: u16 = 3;

impl Daemon {
    /// A datagram for the control path (or a PPP frame of a session not on the fast path).
    pub(super) fn control_datagram(
        &mut self,
        now: Instant,
        socket: u16,
        from: SocketAddr,
        dg: &[u8],
    ) {
        self.peer_socket.insert(from, socket);
        if let Err(e) = self.engine.handle_datagram(now, from, dg) {
            self.stats.control_dropped += 1;
            log::debug!("dropped datagram from {from}: {e}");
        }
        self.engine_events(now);
    }

    /// Acts on every queued engine event.
    pub(super) fn engine_events(&mut self, now: Instant) {
        while let Some(e) = self.engine.poll_event() {
            self.control_dirty = true;
            match e {
                L2tpEvent::TunnelUp {
                    tunnel,
                    peer,
                    peer_host_name,
                } => log::info!(
                    "tunnel {tunnel} up with {peer} ({})",
                    String::from_utf8_lossy(&peer_host_name)
                ),
                L2tpEvent::TunnelDown { tunnel, cause: c } => {
                    log::info!("tunnel {tunnel} down: {c:?}");
                    for key in self.table.in_tunnel(tunnel) {
                        self.end_session(now, key, terminate_cause_of(&c), false);
                    }
                }
                L2tpEvent::SessionUp {
                    tunnel,
                    session,
                    call,
                } => self.session_up(now, tunnel, session, &call),
                L2tpEvent::SessionDown {
                    tunnel,
                    session,
                    cause: c,
                } => {
                    log::info!("session {tunnel}/{session} down: {c:?}");
                    if let Some(key) = self.table.by_ids(L2tpIds { tunnel, session }) {
                        self.end_session(now, key, terminate_cause_of(&c), false);
                    }
                }
                L2tpEvent::Payload {
                    tunnel,
                    session,
                    data,
                } => self.ppp_frame(now, tunnel, session, &data),
                L2tpEvent::WanError { .. } | L2tpEvent::SetLinkInfo { .. } => {}
            }
        }
    }

    pub(super) fn link_config(&self) -> SessionConfig {
        let s = &self.config.settings;
        let mut c = SessionConfig::authenticator(self.host_name.as_bytes(), s.ipcp_gateway());
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
        // Reference §2 (ppp_keepalive) and §4.2: with `ppp_keepalive yes` an Echo-Request
        // goes out only after `echo_timeout` s without traffic from the user (`link_timers`
        // tells the link about data it never sees), with `no` every 10 s regardless. The
        // session is dropped after `idle_echo_timeout` s without any packet from the user,
        // data included; the link only sees control frames, so `session_tick` decides that.
        c.echo_interval = Some(Duration::from_secs(if s.ppp_keepalive {
            u64::from(s.echo_timeout.max(1))
        } else {
            UNCONDITIONAL_ECHO_SECS
        }));
        c.echo_max_failures = u32::MAX;
        c
    }

    fn session_up(&mut self, now: Instant, tunnel: u16, session: u16, call: &CallInfo) {
        let Some(route) = self.engine.data_route(tunnel, session) else {
            return;
        };
        let SocketAddr::V4(peer) = route.peer else {
            log::warn!(
                "session {tunnel}/{session}: IPv6 peer {} not supported",
                route.peer
            );
            let _ = self
                .engine
                .close_session(now, tunnel, session, ResultCode::new(CDN_ADMIN));
            return;
        };
        let socket = self.peer_socket.get(&route.peer).copied().unwrap_or(0);
        let mut seed = [0u8; 16];
        rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut seed);
        let mut link = PppLink::new(self.link_config(), seed);
        self.start_link(now, &mut link, call, &format!("{tunnel}/{session}"));
        self.acct_seq += 1;
        let acct_id = format!("{:08X}{:08X}", self.boot_id, self.acct_seq);
        let mut sess = Sess::new(link, peer, socket, acct_id);
        sess.calling_station = call.calling_number.clone();
        sess.called_station = call.called_number.clone();
        match self.table.insert(L2tpIds { tunnel, session }, sess) {
            Ok(key) => {
                log::info!(
                    "session {tunnel}/{session} up from {peer} (id {})",
                    key.index()
                );
                self.drain_link(now, key);
            }
            Err(e) => log::warn!("session {tunnel}/{session}: {e}"),
        }
    }

    /// A PPP frame that came through the engine (LCP, authentication, NCPs, early data).
    fn ppp_frame(&mut self, now: Instant, tunnel: u16, session: u16, frame: &[u8]) {
        let Some(key) = self.table.by_ids(L2tpIds { tunnel, session }) else {
            self.stats.ppp_dropped += 1;
            return;
        };
        let Some(s) = self.table.get_mut(key) else {
            return;
        };
        let address = s.address.map(|a| a.0);
        s.last_frame = now;
        match s.link.handle_frame(now, frame) {
            Ok(Inbound::Ipv4(p)) => {
                // Only while the fast path is not yet published; same anti-spoof rule.
                let src_ok = p.len() >= 20
                    && (self.config.settings.disable_no_spoof
                        || Some(std::net::Ipv4Addr::new(p[12], p[13], p[14], p[15])) == address);
                if src_ok {
                    if self.tun.send(p).is_err() {
                        self.stats.tun_write_dropped += 1;
                    }
                } else {
                    self.stats.ppp_dropped += 1;
                }
            }
            Ok(Inbound::Control) => {}
            Ok(Inbound::Ipv6(_) | Inbound::Dropped) => self.stats.ppp_dropped += 1,
            Err(_) => self.stats.ppp_malformed += 1,
        }
        self.drain_link(now, key);
    }

    /// Sends what a link queued and acts on its events.
    pub(super) fn drain_link(&mut self, now: Instant, key: SessionKey) {
        let Some(ids) = self.table.ids(key) else {
            return;
        };
        let mut events = Vec::new();
        if let Some(s) = self.table.get_mut(key) {
            while let Some(frame) = s.link.poll_transmit() {
                // A call cleared meanwhile has nowhere to send: the frame is moot.
                let _ = self.engine.send_data(ids.tunnel, ids.session, &frame);
            }
            while let Some(e) = s.link.poll_event() {
                events.push(e);
            }
        }
        self.control_dirty = true;
        self.schedule_link(key);
        for e in events {
            self.ppp_event(now, key, e);
        }
    }

    fn ppp_event(&mut self, now: Instant, key: SessionKey, e: PppEvent) {
        match e {
            PppEvent::AuthRequest(req) => self.authenticate(now, key, req),
            PppEvent::Ipv4Up(n) => self.ipv4_up(now, key, n.peer),
            PppEvent::Closed(reason) => {
                let c = match reason {
                    CloseReason::Finished => cause::USER_REQUEST,
                    CloseReason::Administrative => cause::ADMIN_RESET,
                    CloseReason::AuthFailed | CloseReason::AuthRefused => cause::USER_ERROR,
                    CloseReason::EchoTimeout => cause::LOST_CARRIER,
                    CloseReason::Looped | CloseReason::NoNetworkProtocol => cause::NAS_ERROR,
                };
                log::info!("session {}: PPP closed ({reason:?})", key.index());
                self.end_session(now, key, c, true);
            }
            PppEvent::AuthFailed { message } => log::info!(
                "session {}: authentication failed: {}",
                key.index(),
                String::from_utf8_lossy(&message)
            ),
            // Counted in `start_link`; the reason is only known here.
            PppEvent::ProxyLcpRejected { reason } => log::info!(
                "session {}: proxy LCP not acceptable ({reason}), renegotiating LCP",
                key.index()
            ),
            other => log::debug!("session {}: {other:?}", key.index()),
        }
    }

    /// IPCP is open: publish the session to the data plane, route its address, start
    /// accounting.
    fn ipv4_up(&mut self, now: Instant, key: SessionKey, _peer: Option<std::net::Ipv4Addr>) {
        let Some(address) = self.publish_session(key) else {
            return;
        };
        let wall = super::unix_now();
        if let Some(s) = self.table.get_mut(key) {
            s.opened = Some((now, wall));
            s.next_interim = s.interim.map(|i| now + i);
        }
        log::info!(
            "session {}: user {} up with {address}",
            key.index(),
            self.table.user(key).unwrap_or("")
        );
        self.accounting(now, key, radius::acct_status_type::START);
    }

    /// Makes an opened session visible to the data plane and routes its address and
    /// Framed-Routes to the TUN device. Returns its address.
    pub(super) fn publish_session(&mut self, key: SessionKey) -> Option<std::net::Ipv4Addr> {
        let s = self.table.get(key)?;
        let (address, _) = s.address?;
        let n = s.link.lcp_negotiated();
        let (mru, acfc, pfc, socket) = (n.peer_mru, n.tx_acfc, n.tx_pfc, s.socket);
        let ids = self.table.ids(key)?;
        let route = self.engine.data_route(ids.tunnel, ids.session)?;
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
        };
        if route.sequencing {
            // The fast path writes unsequenced headers; such calls stay on the slow path.
            log::info!(
                "session {}: sequencing required, data stays on the control path",
                key.index()
            );
        } else if let Err(e) = self.table.publish(key, info) {
            log::warn!("session {}: publish: {e}", key.index());
        }
        let mut routes = vec![(address, 32u8)];
        routes.extend(self.table.routes(key).iter().copied());
        if let Some(r) = self.routes.as_mut() {
            for (p, l) in routes {
                if let Err(e) = r.add(p, l) {
                    log::warn!("session {}: route {p}/{l}: {e}", key.index());
                }
            }
        }
        Some(address)
    }

    /// Ends a session: Acct-Stop if it was opened, routes and address given back, the call
    /// cleared with CDN if `clear_call` (the PPP side ended it).
    pub(super) fn end_session(
        &mut self,
        now: Instant,
        key: SessionKey,
        why: u32,
        clear_call: bool,
    ) {
        let Some(ids) = self.table.ids(key) else {
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
        if opened {
            self.accounting(now, key, radius::acct_status_type::STOP);
            self.dump_shutdown(key);
        }
        let mut routes: Vec<(std::net::Ipv4Addr, u8)> = self.table.routes(key).to_vec();
        let Some(mut s) = self.table.remove(key) else {
            return;
        };
        if let Some((a, source)) = s.address {
            routes.push((a, 32));
            let r = match source {
                AddressSource::Pool => self.pool.release(a),
                AddressSource::ReservedInPool => self.pool.unreserve(a),
                AddressSource::Static => Ok(()),
            };
            if let Err(e) = r {
                log::warn!("session {}: give back {a}: {e}", key.index());
            }
        }
        if opened {
            if let Some(r) = self.routes.as_mut() {
                for (p, l) in routes {
                    let _ = r.remove(p, l);
                }
            }
        }
        s.link.lower_layer_down(now);
        if clear_call {
            let _ =
                self.engine
                    .close_session(now, ids.tunnel, ids.session, ResultCode::new(CDN_ADMIN));
        }
        log::info!(
            "session {}/{} ended (cause {})",
            ids.tunnel,
            ids.session,
            s.terminate_cause.unwrap_or(why)
        );
        self.control_dirty = true;
    }

    /// Session-level timers, once a second: Session-Timeout, Idle-Timeout, interim updates.
    pub(super) fn session_tick(&mut self, now: Instant) {
        let secs = self.started.elapsed().as_secs();
        let mut close = Vec::new();
        let mut interim = Vec::new();
        // Reference §3.4: no packet at all from the user for `idle_echo_timeout` s while
        // echoes are sent (unanswered keepalives, and no data either).
        let st = &self.config.settings;
        let keepalive = (st.ppp_keepalive && st.idle_echo_timeout > 0)
            .then(|| Duration::from_secs(u64::from(st.idle_echo_timeout)));
        for (key, s) in self.table.iter() {
            if s.session_deadline.is_some_and(|d| d <= now) {
                close.push((key, cause::SESSION_TIMEOUT));
                continue;
            }
            let last = self
                .table
                .counters(key)
                .map(|c| c.last_packet_in.load(std::sync::atomic::Ordering::Relaxed))
                .unwrap_or(0);
            if keepalive.is_some_and(|limit| {
                now.saturating_duration_since(s.last_heard(now, self.started, last)) >= limit
            }) {
                close.push((key, cause::LOST_CARRIER));
                continue;
            }
            if let (Some(idle), Some((opened, _))) = (s.idle_timeout, s.opened) {
                let quiet = if last == 0 {
                    now.duration_since(opened)
                } else {
                    Duration::from_secs(secs.saturating_sub(last))
                };
                if quiet >= idle {
                    close.push((key, cause::IDLE_TIMEOUT));
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
            if let Some(s) = self.table.get_mut(key) {
                s.terminate_cause = Some(why);
                s.link.close(now, b"timeout");
            }
            self.drain_link(now, key);
        }
    }

    /// Runs the PPP timers that are due: O(due · log n) through the timer heap, not a scan.
    pub(super) fn link_timers(&mut self, now: Instant) {
        while let Some(&Reverse((at, key))) = self.link_timers.peek() {
            if at > now {
                break;
            }
            self.link_timers.pop();
            // Entries go stale when a link's deadline moves; every change of a link is
            // followed by `drain_link`, which schedules its current deadline.
            let due = self
                .table
                .get(key)
                .and_then(|s| s.link.poll_timeout())
                .is_some_and(|t| t <= now);
            if due {
                let keepalive = self.config.settings.ppp_keepalive;
                let last_data = self
                    .table
                    .counters(key)
                    .map(|c| c.last_packet_in.load(std::sync::atomic::Ordering::Relaxed))
                    .unwrap_or(0);
                let started = self.started;
                if let Some(s) = self.table.get_mut(key) {
                    // Data from the user defers the echo (checked only when a timer of the
                    // link is due: no per-packet work on the data path).
                    if keepalive {
                        let heard = s.last_heard(now, started, last_data);
                        s.link.peer_heard(heard);
                    }
                    s.link.handle_timeout(now);
                }
                self.drain_link(now, key);
            }
        }
    }

    pub(super) fn links_deadline(&self) -> Option<Instant> {
        self.link_timers.peek().map(|Reverse((t, _))| *t)
    }

    /// Puts a link's next deadline on the timer heap.
    pub(super) fn schedule_link(&mut self, key: SessionKey) {
        if let Some(t) = self.table.get(key).and_then(|s| s.link.poll_timeout()) {
            self.link_timers.push(Reverse((t, key)));
        }
    }

    /// Where the engine's datagrams leave from: the socket the peer's tunnel arrived on.
    pub(super) fn socket_for(&self, peer: &SocketAddr) -> usize {
        self.peer_socket.get(peer).copied().unwrap_or(0) as usize
    }
}

/// The echo interval with `ppp_keepalive no` (reference §2: every 10 s regardless).
const UNCONDITIONAL_ECHO_SECS: u64 = 10;

fn terminate_cause_of(c: &CloseCause) -> u32 {
    match c {
        CloseCause::Peer(_) => cause::USER_REQUEST,
        CloseCause::Local(_) => cause::ADMIN_RESET,
        CloseCause::Timeout => cause::LOST_CARRIER,
    }
}
