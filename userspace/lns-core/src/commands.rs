//! [`Endpoint::handle_command`]: the one implementation of every management command.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::time::Instant;

use l2tp::TunnelId;
use lns_config::config::Config;
use lns_dataplane::session_table::SessionKey;

use crate::command::{
    Command, CommandError, Ended, PoolAddress, PoolInfo, RadiusClientInfo, RadiusInfo, Reply,
    SessionChanges, SessionInfo, SessionMatch, Target, TunnelInfo,
};
use crate::endpoint::Endpoint;
use crate::radius_glue::Radius;
use crate::session::{SessionName, TerminateCause};

/// What a command-driven end says to the LCP peer when the operator gave no reason.
const DEFAULT_REASON: &str = "Requested by administrator.";

impl Endpoint {
    /// Runs a management command at `now`; then drain [`Endpoint::poll_action`].
    pub fn handle_command(&mut self, now: Instant, command: Command) -> Reply {
        let reply = match command {
            Command::DropSession { target, reason } => {
                self.end_by_command(now, &target, reason, true)
            }
            Command::KillSession { target, reason } => {
                self.end_by_command(now, &target, reason, false)
            }
            Command::DisconnectSessions { sessions, reason } => {
                self.disconnect(now, &sessions, reason)
            }
            Command::ChangeSessions { sessions, changes } => self.change(now, &sessions, changes),
            Command::Throttle { target, rates } => self.throttle(&target, rates),
            Command::Unthrottle { target } => self.change_policy(&target, |p| {
                p.throttle_in = None;
                p.throttle_out = None;
                Ok(())
            }),
            Command::Snoop { target, to } => self.snoop(&target, to),
            Command::Unsnoop { target } => self.change_policy(&target, |p| {
                p.snoop = None;
                Ok(())
            }),
            Command::Filter {
                target,
                inbound,
                outbound,
            } => self.filter(&target, inbound, outbound),
            Command::Unfilter { target } => self.change_policy(&target, |p| {
                p.filter_in = None;
                p.filter_out = None;
                Ok(())
            }),
            Command::Garden { target } => self.garden(now, &target),
            Command::Ungarden { target, user } => self.ungarden(now, &target, user),
            Command::LoadPlugin(name) => self.load_plugin(&name),
            Command::RemovePlugin(name) => self.remove_plugin(&name),
            Command::ShowPlugins => Reply::Plugins(
                self.plugins
                    .names()
                    .into_iter()
                    .map(str::to_owned)
                    .collect(),
            ),
            Command::ShowAccessLists { name } => self.show_access_lists(name.as_deref()),
            Command::ShowThrottle => Reply::Sessions(
                self.sessions(0, usize::MAX, now)
                    .0
                    .into_iter()
                    .filter(|s| s.policy.is_throttled())
                    .collect(),
            ),
            Command::DropTunnel { tunnel } => self.drop_tunnel(now, tunnel),
            Command::ShowSessions => Reply::Sessions(self.sessions(0, usize::MAX, now).0),
            Command::ShowSessionsPage { from, limit } => {
                let (sessions, next) = self.sessions(from, limit, now);
                Reply::SessionsPage { sessions, next }
            }
            Command::ShowSession(id) => match self.sessions(id, 1, now).0.pop() {
                Some(s) if s.id == id => Reply::Sessions(vec![s]),
                _ => Reply::Error(CommandError::NoSuchSession),
            },
            Command::ShowTunnels => Reply::Tunnels(self.tunnels()),
            Command::ShowUsers => {
                let mut users: BTreeMap<String, usize> = BTreeMap::new();
                for (_, s) in self.table.iter() {
                    if let Some(u) = &s.user {
                        *users.entry(u.to_string()).or_default() += 1;
                    }
                }
                Reply::Users(users.into_iter().collect())
            }
            Command::ShowPool => Reply::Pool(self.pool_info()),
            Command::ShowPoolAddresses { all } => Reply::PoolAddresses {
                summary: self.pool_info(),
                addresses: self
                    .pool
                    .entries()
                    .filter(|(_, in_use, _)| all || *in_use)
                    .map(|(address, in_use, last)| {
                        let key = self.table.by_address(address);
                        let holder = key.and_then(|k| self.table.get(k));
                        PoolAddress {
                            address,
                            in_use,
                            session: key.map(|k| k.index()),
                            user: holder
                                .and_then(|s| s.user.as_deref().map(str::to_owned))
                                .or_else(|| last.map(str::to_owned)),
                        }
                    })
                    .collect(),
            },
            Command::ShowRadius => Reply::Radius(RadiusInfo {
                servers: self
                    .config
                    .settings
                    .radius_servers()
                    .into_iter()
                    .map(std::net::SocketAddr::from)
                    .collect(),
                authentication_in_flight: self.auth_pending.len(),
                accounting_in_flight: self.acct_in_flight,
                clients: self
                    .radius_stats()
                    .map(|(auth, acct)| {
                        vec![
                            RadiusClientInfo::of("authentication", auth),
                            RadiusClientInfo::of("accounting", acct),
                        ]
                    })
                    .unwrap_or_default(),
            }),
            Command::ShowCounters => Reply::Counters(
                self.counters()
                    .into_iter()
                    .map(|(k, v)| (k.to_owned(), v))
                    .collect(),
            ),
            Command::ClearCounters => {
                self.clear_counters();
                Reply::CountersCleared
            }
            Command::ShowRunningConfig => Reply::RunningConfig(self.config.render()),
            Command::Set { key, value } => self.set(now, &key, &value),
            Command::Reload(config) => self.reconfigure(now, *config),
        };
        self.drive(now);
        reply
    }

    fn pool_info(&self) -> PoolInfo {
        PoolInfo {
            size: self.pool.len(),
            free: self.pool.free_len(),
        }
    }

    fn key_of_id(&self, id: u32) -> Option<SessionKey> {
        self.table.key_of_index(id)
    }

    /// The live session `target` names. Like the original's `sessionctl`, only sessions that
    /// have an address count.
    pub(crate) fn target(&self, target: &Target) -> Option<SessionKey> {
        let key = match target {
            Target::Session(id) => self.key_of_id(*id)?,
            Target::User(user) => *self.table.by_user(user).first()?,
        };
        self.table
            .get(key)
            .is_some_and(|s| s.address.is_some())
            .then_some(key)
    }

    /// `drop` (polite: LCP Terminate-Request, then Acct-Stop and CDN once PPP is down) and
    /// `kill` (at once: Acct-Stop and CDN), both with Acct-Terminate-Cause Admin-Reset.
    fn end_by_command(
        &mut self,
        now: Instant,
        target: &Target,
        reason: Option<String>,
        polite: bool,
    ) -> Reply {
        let Some(key) = self.target(target) else {
            return Reply::Error(CommandError::NoSuchSession);
        };
        let reason = reason.unwrap_or_else(|| DEFAULT_REASON.to_owned());
        let user = self
            .table
            .get(key)
            .map(|s| s.user_name())
            .unwrap_or_default();
        log::debug!(
            "{} {} ({user}): {reason}",
            if polite { "drop" } else { "kill" },
            SessionName::of(key)
        );
        if polite {
            self.close_politely(now, key, TerminateCause::AdminReset, reason.as_bytes());
        } else {
            self.end_session(now, key, TerminateCause::AdminReset, true);
        }
        Reply::Ended(Ended {
            id: key.index(),
            user,
            cause: TerminateCause::AdminReset,
            reason,
        })
    }

    /// The sessions `m` names, by number: those with an address whose every attribute given
    /// matches (RFC 5176 §3: all identification attributes must name the same session).
    pub(crate) fn matching(&self, m: &SessionMatch) -> Vec<SessionKey> {
        if m.is_empty() {
            return Vec::new();
        }
        let mut keys: Vec<SessionKey> = self
            .table
            .iter()
            .filter(|(k, s)| {
                s.address.is_some()
                    && m.session.is_none_or(|id| k.index() == id)
                    && m.user
                        .as_ref()
                        .is_none_or(|u| s.user.as_deref() == Some(u.as_str()))
                    && m.acct_session_id
                        .as_ref()
                        .is_none_or(|a| s.acct_session_id.to_string().eq_ignore_ascii_case(a))
                    && m.address.is_none_or(|a| s.address.map(|x| x.0) == Some(a))
                    && m.calling_station
                        .as_ref()
                        .is_none_or(|c| s.calling_station.as_ref() == Some(c))
                    && m.called_station
                        .as_ref()
                        .is_none_or(|c| s.called_station.as_ref() == Some(c))
            })
            .map(|(k, _)| k)
            .collect();
        keys.sort_by_key(|k| k.index());
        keys
    }

    /// Ends every session `m` names at once (Acct-Stop Admin-Reset, CDN).
    fn disconnect(&mut self, now: Instant, m: &SessionMatch, reason: Option<String>) -> Reply {
        let keys = self.matching(m);
        if keys.is_empty() {
            return Reply::Error(CommandError::NoSuchSession);
        }
        let reason = reason.unwrap_or_else(|| DEFAULT_REASON.to_owned());
        let mut ended = Vec::with_capacity(keys.len());
        for key in keys {
            let user = self
                .table
                .get(key)
                .map(|s| s.user_name())
                .unwrap_or_default();
            log::debug!("disconnect {} ({user}): {reason}", SessionName::of(key));
            self.end_session(now, key, TerminateCause::AdminReset, true);
            ended.push(Ended {
                id: key.index(),
                user,
                cause: TerminateCause::AdminReset,
                reason: reason.clone(),
            });
        }
        Reply::EndedSessions(ended)
    }

    /// Applies `c` to every session `m` names; Session-Timeout counts from now.
    fn change(&mut self, now: Instant, m: &SessionMatch, c: SessionChanges) -> Reply {
        let keys = self.matching(m);
        if keys.is_empty() {
            return Reply::Error(CommandError::NoSuchSession);
        }
        if let Some(p) = &c.policy {
            if let Err(e) = self.check_filter_ids(p) {
                return Reply::Error(e);
            }
            for &key in &keys {
                self.apply_policy_attributes(key, p, true);
            }
        }
        let secs = |t: u32| std::time::Duration::from_secs(u64::from(t));
        for &key in &keys {
            let Some(s) = self.table.get_mut(key) else {
                continue;
            };
            if let Some(t) = c.session_timeout {
                s.session_deadline = (t > 0).then(|| now + secs(t));
            }
            if let Some(t) = c.idle_timeout {
                s.idle_timeout = (t > 0).then(|| secs(t));
            }
            log::debug!("{}: authorization changed: {c:?}", SessionName::of(key));
        }
        Reply::Changed(keys.into_iter().map(|k| k.index()).collect())
    }

    fn drop_tunnel(&mut self, now: Instant, tunnel: TunnelId) -> Reply {
        if !self.calls.engine().tunnel_ids().contains(&tunnel) {
            return Reply::Error(CommandError::NoSuchTunnel(tunnel));
        }
        let keys = self.table.in_tunnel(tunnel);
        let sessions = keys.len();
        for key in keys {
            self.end_session(now, key, TerminateCause::AdminReset, false);
        }
        log::info!("tunnel {tunnel}: cleared by the administrator ({sessions} session(s))");
        let _ = self
            .calls
            .close_tunnel(now, tunnel, l2tp::ResultCode::CLEAR_CONTROL_CONNECTION);
        Reply::TunnelCleared { tunnel, sessions }
    }

    /// Up to `limit` sessions from id `from` on, in id order, and the id the next page
    /// starts at (`None`: this was the last): a page costs its size, not the table's.
    fn sessions(&self, from: u32, limit: usize, now: Instant) -> (Vec<SessionInfo>, Option<u32>) {
        let mut out = Vec::new();
        for (key, _) in self.table.iter_from(from) {
            if out.len() == limit {
                return (out, Some(key.index()));
            }
            out.extend(self.session_info(key, now));
        }
        (out, None)
    }

    fn session_info(&self, key: SessionKey, now: Instant) -> Option<SessionInfo> {
        let s = self.table.get(key)?;
        let ids = self.table.ids(key)?;
        let c = self.table.counters(key)?;
        let load = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
        Some(SessionInfo {
            id: key.index(),
            tunnel: ids.tunnel,
            call: ids.session,
            user: s.user_name(),
            address: s.address.map(|a| a.0),
            peer: std::net::SocketAddr::V4(s.peer),
            calling_station: s
                .calling_station
                .as_deref()
                .map(|c| String::from_utf8_lossy(c).into_owned())
                .unwrap_or_default(),
            up_for: s
                .opened
                .map(|(t, _)| now.saturating_duration_since(t).as_secs()),
            idle: self
                .last_heard(key, now)
                .map(|t| now.saturating_duration_since(t).as_secs()),
            octets_in: load(&c.octets_in),
            octets_out: load(&c.octets_out),
            packets_in: load(&c.packets_in),
            packets_out: load(&c.packets_out),
            acct_session_id: s.acct_session_id.to_string(),
            tx_connect_speed: s.tx_speed,
            rx_connect_speed: s.rx_speed,
            policy: s.policy.to_policy(),
            throttle: s
                .policy
                .is_throttled()
                .then(|| self.table.throttle_figures(key))
                .flatten()
                .map(|f| crate::command::ThrottleFigures {
                    in_passed: f.upstream.map_or(0, |b| b.passed),
                    in_delayed: f.upstream.map_or(0, |b| b.delayed),
                    in_dropped: f.upstream.map_or(0, |b| b.dropped),
                    out_passed: f.downstream.map_or(0, |b| b.passed),
                    out_delayed: f.downstream.map_or(0, |b| b.delayed),
                    out_dropped: f.downstream.map_or(0, |b| b.dropped),
                }),
        })
    }

    fn load_plugin(&mut self, name: &str) -> Reply {
        if let Err(e) = self.plugins.load(name) {
            return Reply::Error(CommandError::Plugin(e.to_string()));
        }
        if !self.config.plugins.iter().any(|p| p == name) {
            self.config.plugins.push(name.to_owned());
        }
        log::info!("plugin {name} loaded");
        if name == "garden" {
            self.actions.push_back(crate::Action::GardenSetup);
        }
        Reply::Plugins(
            self.plugins
                .names()
                .into_iter()
                .map(str::to_owned)
                .collect(),
        )
    }

    fn remove_plugin(&mut self, name: &str) -> Reply {
        if let Err(e) = self.plugins.remove(name) {
            return Reply::Error(CommandError::Plugin(e.to_string()));
        }
        self.config.plugins.retain(|p| p != name);
        log::info!("plugin {name} removed");
        if name == "garden" {
            // The garden goes with its plugin: its sessions stay up, fenced in no more (the
            // original flushes the chains the same way).
            let gardened: Vec<SessionKey> = self
                .table
                .iter()
                .filter(|(_, s)| s.policy.garden)
                .map(|(k, _)| k)
                .collect();
            for key in gardened {
                if let Some(s) = self.table.get_mut(key) {
                    s.policy.garden = false;
                }
            }
            self.actions.push_back(crate::Action::GardenTeardown);
        }
        Reply::Plugins(
            self.plugins
                .names()
                .into_iter()
                .map(str::to_owned)
                .collect(),
        )
    }

    fn show_access_lists(&self, name: Option<&str>) -> Reply {
        let mut out = Vec::new();
        for a in &self.config.access_lists {
            if name.is_some_and(|n| n != a.name) {
                continue;
            }
            let Some(compiled) = self.acls.get(&a.name) else {
                continue;
            };
            let matches = compiled.matches();
            let rules = a
                .rules
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    (
                        lns_config::config::render_rule(a.kind, r),
                        matches.get(i).copied().unwrap_or(0),
                    )
                })
                .collect();
            out.push(crate::command::AccessListInfo {
                name: a.name.clone(),
                extended: a.kind == lns_config::config::AclKind::Extended,
                rules,
                implicit_deny: matches.get(a.rules.len()).copied().unwrap_or(0),
            });
        }
        if let (Some(n), true) = (name, out.is_empty()) {
            return Reply::Error(CommandError::NoSuchAccessList(n.to_owned()));
        }
        Reply::AccessLists(out)
    }

    fn tunnels(&self) -> Vec<TunnelInfo> {
        let engine = self.calls.engine();
        let mut ids = engine.tunnel_ids();
        ids.sort_unstable();
        ids.into_iter()
            .filter_map(|id| {
                Some(TunnelInfo {
                    id,
                    peer: engine.tunnel_peer(id)?,
                    sessions: engine.sessions(id).len(),
                })
            })
            .collect()
    }

    /// `set KEY VALUE`: the running configuration with that line applied, as a reload would.
    fn set(&mut self, now: Instant, key: &str, value: &str) -> Reply {
        let text = format!("{}set {key} {value}\n", self.config.render());
        match lns_config::config::parse("set", &text) {
            Ok(loaded) => self.reconfigure(now, loaded.config),
            Err(e) => Reply::Error(CommandError::BadSetting(
                e.0.iter()
                    .map(|e| e.to_string())
                    .collect::<Vec<_>>()
                    .join("; "),
            )),
        }
    }

    /// Applies a new configuration: live keys at once (the L2TP engine's host name, secret
    /// and HELLO switch; the PPP settings of new links; RADIUS when nothing is in flight),
    /// keys that need a restart reported as such.
    fn reconfigure(&mut self, now: Instant, new: Config) -> Reply {
        let diff = self.config.diff(&new);
        let changed: Vec<String> = diff.changes.iter().map(|c| c.what.clone()).collect();
        let need_restart: Vec<String> = diff.needing_restart().map(|c| c.what.clone()).collect();
        log::info!("reloaded: {diff:?}");
        let host_name = match &new.settings.hostname {
            Some(h) if diff.changed("hostname") => h.clone(),
            _ => self.env.host_name.clone(),
        };
        if let Err(e) = self
            .calls
            .reconfigure(crate::lifecycle::engine_config(&new, &host_name))
        {
            log::error!("reload: L2TP settings refused ({e}); keeping the running configuration");
            return Reply::Error(CommandError::BadSetting(e.to_string()));
        }
        self.env.host_name = host_name;
        let plugins_changed = self.config.plugins != new.plugins;
        let acls_changed = self.config.access_lists != new.access_lists;
        self.config = new;
        if plugins_changed {
            let had_garden = self.plugins.is_loaded("garden");
            self.plugins = crate::plugins::Plugins::from_names(&self.config.plugins);
            match (had_garden, self.plugins.is_loaded("garden")) {
                (false, true) => self.actions.push_back(crate::Action::GardenSetup),
                (true, false) => self.actions.push_back(crate::Action::GardenTeardown),
                _ => {}
            }
        }
        if acls_changed {
            // Sessions keep their lists by name: recompiled lists are republished; a list
            // that is gone filters no more.
            self.acls = crate::policy::AccessLists::compile(&self.config);
            let keys: Vec<SessionKey> = self
                .table
                .iter()
                .filter(|(_, s)| s.policy.filter_in.is_some() || s.policy.filter_out.is_some())
                .map(|(k, _)| k)
                .collect();
            for key in keys {
                let acls = &self.acls;
                if let Some(s) = self.table.get_mut(key) {
                    let policy = &mut *s.policy;
                    for f in [&mut policy.filter_in, &mut policy.filter_out] {
                        if f.as_deref().is_some_and(|n| !acls.contains(n)) {
                            *f = None;
                        }
                    }
                }
                self.apply_policy(key);
            }
        }
        self.refresh_link_factory();
        self.reconfigure_dae();
        let same_radius = self
            .radius
            .as_ref()
            .is_some_and(|r| r.matches(&self.config.settings));
        if !same_radius {
            if self.auth_pending.is_empty() && self.acct_in_flight == 0 {
                let seeds = [self.seed(), self.seed()];
                match Radius::new(&self.config.settings, self.env.radius_sockets, seeds) {
                    Ok(r) => {
                        if r.is_none() {
                            log::warn!("no RADIUS server configured");
                        }
                        self.radius = r;
                    }
                    Err(e) => log::error!("RADIUS: {e}"),
                }
            } else {
                log::warn!(
                    "RADIUS settings changed with requests in flight: they apply at the next reload"
                );
            }
        }
        let _ = now;
        Reply::Reconfigured {
            changed,
            need_restart,
        }
    }
}
