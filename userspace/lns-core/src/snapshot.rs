//! SIGTERM save and resume at start: established tunnels and opened sessions go into a
//! [`SavedState`]; a restart within a minute rebuilds them without a word to the LACs and
//! without a new Acct-Start (the format and its checks are in [`crate::state_file`]).

use std::collections::HashSet;
use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime};

use l2tp::{CallId, TunnelId};
use ppp::session::Session as PppLink;
use rand_core::RngCore;

use crate::endpoint::Endpoint;
use crate::session::{Sess, SessionName, TerminateCause};
use crate::state_file::{SavedCounters, SavedSession, SavedState};

impl Endpoint {
    /// What a restart needs to resume every opened session; sessions not yet opened are left
    /// out (their LAC redials). `saved_at` and `boot_id` stamp the file's header.
    pub fn snapshot(&self, now: Instant, saved_at: SystemTime, boot_id: &str) -> SavedState {
        let tunnels = self.calls.engine().snapshot();
        let established: HashSet<TunnelId> = tunnels.iter().map(|t| t.id).collect();
        let mut sessions = Vec::new();
        for (key, s) in self.table.iter() {
            let Some(ids) = self.table.ids(key) else {
                continue;
            };
            if !established.contains(&ids.tunnel) || s.opened.is_none() {
                continue;
            }
            let Some(link) = self.calls.link(ids) else {
                continue;
            };
            let ppp = match link.snapshot() {
                Ok(p) => p,
                Err(e) => {
                    log::debug!("{}: not saved: {e:?}", SessionName::of(key));
                    continue;
                }
            };
            let Some(counters) = self.table.counters(key) else {
                continue;
            };
            sessions.push(SavedSession {
                tunnel: ids.tunnel,
                session: ids.session,
                ppp,
                peer: s.peer,
                socket: s.socket,
                calling_station: s.calling_station.clone(),
                called_station: s.called_station.clone(),
                user: s.user_name(),
                address: s.address,
                dns: s.dns,
                routes: self.table.routes(key).to_vec(),
                class: s.class.to_vec(),
                acct_session_id: s.acct_session_id.to_string(),
                session_timeout_left: s.session_deadline.map(|d| d.saturating_duration_since(now)),
                idle_timeout: s.idle_timeout,
                interim: s.interim,
                opened_at_unix: s.opened.map(|o| o.1),
                dumped: s.dumped,
                counters: SavedCounters::of(counters),
                policy: s.policy.to_policy(),
            });
        }
        SavedState::new(tunnels, sessions, self.pool.snapshot(), saved_at, boot_id)
    }

    /// Resumes what a SIGTERM saved `elapsed` ago; returns the sessions resumed. A session
    /// that cannot be resumed is ended the ordinary way (CDN), which its LAC sees as a
    /// disconnect.
    pub fn resume(&mut self, now: Instant, state: SavedState, elapsed: Duration) -> usize {
        self.pool.restore(&state.pool);
        let mut tunnels = HashSet::new();
        for t in state.tunnels {
            let peer = t.peer;
            match self.calls.resume_tunnel(now, t) {
                Ok(id) => {
                    tunnels.insert(id);
                    log::info!("tunnel {id} with {peer} resumed");
                }
                Err(e) => log::warn!("tunnel to {peer} not resumed: {e}"),
            }
        }
        let mut resumed = 0;
        // One configuration shared by every resumed link, as the factory shares it.
        let config = std::sync::Arc::new(crate::lifecycle::link_config(
            &self.config,
            &self.env.host_name,
        ));
        for s in state.sessions {
            if !tunnels.contains(&s.tunnel) {
                continue;
            }
            if self.resume_session(now, elapsed, &s, &config) {
                resumed += 1;
            } else {
                self.calls.close_call(
                    now,
                    CallId::new(s.tunnel, s.session),
                    l2tp::ResultCode::ADMINISTRATIVE,
                );
            }
        }
        self.drive(now);
        log::info!(
            "resumed {resumed} session(s) saved {} ms ago",
            elapsed.as_millis()
        );
        resumed
    }

    fn resume_session(
        &mut self,
        now: Instant,
        elapsed: Duration,
        s: &SavedSession,
        config: &std::sync::Arc<ppp::session::SessionConfig>,
    ) -> bool {
        let call = CallId::new(s.tunnel, s.session);
        let tag = format!("tunnel {} call {}", s.tunnel, s.session);
        let mut seed = [0u8; 16];
        self.rng.fill_bytes(&mut seed);
        let link = match PppLink::resume(config.clone(), seed, s.ppp.clone(), now) {
            Ok(l) => l,
            Err(e) => {
                log::warn!("{tag}: not resumed: {e:?}");
                return false;
            }
        };
        if let Err(e) = s.claim_address(&mut self.pool) {
            log::warn!("{tag}: address: {e}");
            return false;
        }
        let Some(acct_id) = crate::session::AcctSessionId::parse(&s.acct_session_id) else {
            log::warn!(
                "{tag}: not resumed: Acct-Session-Id {:?} is not ours",
                s.acct_session_id
            );
            return false;
        };
        let mut sess = Sess::new(s.peer, s.socket, acct_id);
        sess.calling_station = s.calling_station.clone();
        sess.called_station = s.called_station.clone();
        sess.user = Some(s.user.as_str().into());
        sess.address = s.address;
        sess.dns = s.dns;
        sess.class = s.class.iter().collect();
        sess.session_deadline = s.session_deadline(now, elapsed);
        sess.idle_timeout = s.idle_timeout;
        sess.interim = s.interim;
        sess.next_interim = s.interim.map(|i| now + i);
        sess.opened = s
            .opened_at_unix
            .map(|u| (self.env.clock.instant_of_unix(u, now), u));
        sess.dumped = s.dumped;
        let mut policy = s.policy.clone();
        // Access lists are the new configuration's: a name it lacks filters no more.
        for f in [&mut policy.filter_in, &mut policy.filter_out] {
            if f.as_deref().is_some_and(|n| !self.acls.contains(n)) {
                log::warn!("{tag}: access-list {} is gone", f.as_deref().unwrap_or(""));
                *f = None;
            }
        }
        sess.policy = policy.into();
        let key = match self.table.insert(call, sess) {
            Ok(k) => k,
            Err(e) => {
                log::warn!("{tag}: {e}");
                return false;
            }
        };
        self.calls.resume_link(now, call, link);
        self.peer_socket.insert(SocketAddr::V4(s.peer), s.socket);
        let _ = self.table.set_user(key, Some(&s.user));
        self.share_user(key);
        if let Some((a, _)) = s.address {
            if let Err(e) = self.table.set_address(key, a) {
                log::warn!("{}: {e}", SessionName::of(key));
            }
        }
        for (p, l) in &s.routes {
            let _ = self.table.add_route(key, *p, *l);
        }
        if let Some(c) = self.table.counters(key) {
            s.counters.restore_into(c);
        }
        if self.publish_session(key).is_none() {
            // Inserted already: end it the ordinary way (CDN, Acct-Stop, address back).
            self.end_session(now, key, TerminateCause::NasError, true);
        }
        self.garden_entered(key);
        true
    }
}
