//! SIGTERM save and resume at start (reference §7.5), wired as [`crate::state_file`]
//! describes: established tunnels and opened sessions go to the state file; a restart within
//! a minute rebuilds them without a word to the LACs and without a new Acct-Start.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

use ppp::session::Session as PppLink;

use crate::session_table::L2tpIds;
use crate::state_file::{self, SavedCounters, SavedSession, SavedState};

use super::session::Sess;
use super::Daemon;

impl Daemon {
    /// Writes the state file (atomically, see [`state_file::save`]); sessions not yet opened
    /// are left out (their LAC redials).
    pub fn save_state(&self, dir: &Path) -> Result<usize, String> {
        let tunnels = self.engine.snapshot();
        let established: HashSet<u16> = tunnels.iter().map(|t| t.id).collect();
        let now = Instant::now();
        let mut sessions = Vec::new();
        for (key, s) in self.table.iter() {
            let Some(ids) = self.table.ids(key) else {
                continue;
            };
            if !established.contains(&ids.tunnel) || s.opened.is_none() {
                continue;
            }
            let ppp = match s.link.snapshot() {
                Ok(p) => p,
                Err(e) => {
                    log::debug!("session {}: not saved: {e:?}", key.index());
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
                user: s.user.clone().unwrap_or_default(),
                address: s.address,
                dns: s.dns,
                routes: self.table.routes(key).to_vec(),
                class: s.class.clone(),
                acct_session_id: s.acct_session_id.clone(),
                session_timeout_left: s.session_deadline.map(|d| d.saturating_duration_since(now)),
                idle_timeout: s.idle_timeout,
                interim: s.interim,
                opened_at_unix: s.opened.map(|o| o.1),
                dumped: s.dumped,
                counters: SavedCounters::of(counters),
            });
        }
        let boot = state_file::current_boot_id().map_err(|e| format!("boot_id: {e}"))?;
        let n = sessions.len();
        let state = SavedState::new(
            tunnels,
            sessions,
            self.pool.snapshot(),
            SystemTime::now(),
            &boot,
        );
        state_file::save(dir, &state).map_err(|e| format!("{}: {e}", dir.display()))?;
        Ok(n)
    }

    /// Resumes what a SIGTERM saved, if the file is fresh; returns the sessions resumed.
    pub fn resume_state(&mut self, dir: &Path) -> usize {
        let boot = match state_file::current_boot_id() {
            Ok(b) => b,
            Err(e) => {
                log::warn!("boot_id: {e}: not resuming");
                return 0;
            }
        };
        let state = match state_file::load(dir, SystemTime::now(), &boot) {
            Ok(Some(s)) => s,
            Ok(None) => return 0,
            Err(e) => {
                log::warn!("saved state not resumed: {e}");
                return 0;
            }
        };
        let now = Instant::now();
        let elapsed = state.elapsed(SystemTime::now());
        self.pool.restore(&state.pool);
        let mut tunnels = HashSet::new();
        for t in state.tunnels {
            let peer = t.peer;
            match self.engine.resume(now, t) {
                Ok(id) => {
                    tunnels.insert(id);
                    log::info!("tunnel {id} with {peer} resumed");
                }
                Err(e) => log::warn!("tunnel to {peer} not resumed: {e}"),
            }
        }
        let mut resumed = 0;
        for s in state.sessions {
            if !tunnels.contains(&s.tunnel) {
                continue;
            }
            if self.resume_session(now, elapsed, &s) {
                resumed += 1;
            } else {
                // The LAC sees an ordinary disconnect.
                let _ =
                    self.engine
                        .close_session(now, s.tunnel, s.session, l2tp::ResultCode::new(3));
            }
        }
        self.engine_events(now);
        self.control_dirty = true;
        log::info!(
            "resumed {resumed} session(s) saved {} ms ago",
            elapsed.as_millis()
        );
        resumed
    }

    fn resume_session(&mut self, now: Instant, elapsed: Duration, s: &SavedSession) -> bool {
        let mut seed = [0u8; 16];
        rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut seed);
        let link = match PppLink::resume(self.link_config(), seed, s.ppp.clone(), now) {
            Ok(l) => l,
            Err(e) => {
                log::warn!("session {}/{}: not resumed: {e:?}", s.tunnel, s.session);
                return false;
            }
        };
        if let Err(e) = s.claim_address(&mut self.pool) {
            log::warn!("session {}/{}: address: {e}", s.tunnel, s.session);
            return false;
        }
        let mut sess = Sess::new(link, s.peer, s.socket, s.acct_session_id.clone());
        sess.calling_station = s.calling_station.clone();
        sess.called_station = s.called_station.clone();
        sess.user = Some(s.user.clone());
        sess.address = s.address;
        sess.dns = s.dns;
        sess.class = s.class.clone();
        sess.session_deadline = s.session_deadline(now, elapsed);
        sess.idle_timeout = s.idle_timeout;
        sess.interim = s.interim;
        sess.next_interim = s.interim.map(|i| now + i);
        sess.opened = s.opened_at_unix.map(|u| {
            let age = Duration::from_secs(super::unix_now().saturating_sub(u));
            (now.checked_sub(age).unwrap_or(now), u)
        });
        sess.dumped = s.dumped;
        let ids = L2tpIds {
            tunnel: s.tunnel,
            session: s.session,
        };
        let key = match self.table.insert(ids, sess) {
            Ok(k) => k,
            Err(e) => {
                log::warn!("session {}/{}: {e}", s.tunnel, s.session);
                return false;
            }
        };
        self.peer_socket.insert(SocketAddr::V4(s.peer), s.socket);
        let _ = self.table.set_user(key, Some(&s.user));
        if let Some((a, _)) = s.address {
            if let Err(e) = self.table.set_address(key, a) {
                log::warn!("session {}/{}: {e}", s.tunnel, s.session);
            }
        }
        for (p, l) in &s.routes {
            let _ = self.table.add_route(key, *p, *l);
        }
        if let Some(c) = self.table.counters(key) {
            s.counters.restore_into(c);
        }
        self.schedule_link(key);
        if self.publish_session(key).is_none() {
            // Inserted already: end it the ordinary way (CDN, Acct-Stop, address back).
            self.end_session(now, key, radius::acct_terminate_cause::NAS_ERROR, true);
        }
        true
    }
}
