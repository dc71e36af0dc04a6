//! Subscriber policy: what the operator (CLI, nsctl), RADIUS (Access-Accept, CoA) and the
//! plugins decide about one session's traffic (throttle rates, interception, access lists,
//! the walled garden), and how that decision reaches the data plane.
//!
//! The record lives in the session ([`crate::session::Sess::policy`]), is saved by SIGTERM
//! with it, and is published to the data plane as a [`PolicySpec`] only when something is
//! set: a session without a policy costs the data plane one `Option` check per packet.

use std::collections::HashMap;
use std::net::SocketAddrV4;
use std::sync::Arc;
use std::time::Instant;

use lns_dataplane::acl::AccessList as CompiledAcl;
use lns_dataplane::policy::PolicySpec;
use lns_dataplane::session_table::SessionKey;
use serde::{Deserialize, Serialize};

use crate::action::Action;
use crate::command::{CommandError, Reply, Target};
use crate::endpoint::Endpoint;
use crate::session::SessionName;

/// One session's policy. `Default` is none.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    /// kbit/s from the user (upstream), `None`: not throttled.
    pub throttle_in: Option<u32>,
    /// kbit/s to the user (downstream).
    pub throttle_out: Option<u32>,
    /// Where every packet of the session is copied to.
    pub snoop: Option<SocketAddrV4>,
    /// Access lists by name, applied to traffic from / to the user.
    pub filter_in: Option<String>,
    pub filter_out: Option<String>,
    /// In the walled garden: no accounting, its address in the `garden_users` chain.
    pub garden: bool,
}

impl Policy {
    pub fn is_throttled(&self) -> bool {
        self.throttle_in.is_some() || self.throttle_out.is_some()
    }

    /// The CLI's flag letters in the session list: I (intercepted), T (throttled), G (garden).
    pub fn flags(&self) -> String {
        let mut f = String::new();
        if self.snoop.is_some() {
            f.push('I');
        }
        if self.is_throttled() {
            f.push('T');
        }
        if self.garden {
            f.push('G');
        }
        f
    }
}

/// A session's [`Policy`], boxed only once set: most subscribers have none, and the ~80
/// bytes inline were paid by every session (docs/BENCHMARKS.md, "Where a session's bytes
/// go"). Reads see [`Policy::default`] when unset; the first write allocates.
#[derive(Debug, Clone, Default)]
pub struct BoxedPolicy(Option<Box<Policy>>);

static NO_POLICY: Policy = Policy {
    throttle_in: None,
    throttle_out: None,
    snoop: None,
    filter_in: None,
    filter_out: None,
    garden: false,
};

impl BoxedPolicy {
    /// The policy by value (a saved session's, a hook's).
    pub fn to_policy(&self) -> Policy {
        (**self).clone()
    }
}

impl From<Policy> for BoxedPolicy {
    fn from(p: Policy) -> Self {
        BoxedPolicy((p != NO_POLICY).then(|| Box::new(p)))
    }
}

impl std::ops::Deref for BoxedPolicy {
    type Target = Policy;
    fn deref(&self) -> &Policy {
        self.0.as_deref().unwrap_or(&NO_POLICY)
    }
}

impl std::ops::DerefMut for BoxedPolicy {
    fn deref_mut(&mut self) -> &mut Policy {
        self.0.get_or_insert_with(Default::default)
    }
}

impl PartialEq for BoxedPolicy {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl PartialEq<Policy> for BoxedPolicy {
    fn eq(&self, other: &Policy) -> bool {
        **self == *other
    }
}

/// A change of throttle rates (kbit/s). `None` leaves a direction unthrottled.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rates {
    pub inbound: Option<u32>,
    pub outbound: Option<u32>,
}

/// The access lists of the running configuration, compiled once and shared by the sessions
/// that use them (their match counters are the list's).
#[derive(Default)]
pub(crate) struct AccessLists {
    lists: HashMap<String, Arc<CompiledAcl>>,
}

impl AccessLists {
    pub(crate) fn compile(config: &lns_config::config::Config) -> Self {
        AccessLists {
            lists: config
                .access_lists
                .iter()
                .map(|a| (a.name.clone(), Arc::new(CompiledAcl::compile(a))))
                .collect(),
        }
    }

    pub(crate) fn get(&self, name: &str) -> Option<Arc<CompiledAcl>> {
        self.lists.get(name).cloned()
    }

    pub(crate) fn contains(&self, name: &str) -> bool {
        self.lists.contains_key(name)
    }
}

/// `Filter-Id` (RFC 2865 §5.11) as the original reads it: `NAME.in` or `NAME.out`.
pub fn parse_filter_id(text: &[u8]) -> Option<(bool, String)> {
    let text = std::str::from_utf8(text).ok()?;
    if let Some(n) = text.strip_suffix(".in") {
        return (!n.is_empty()).then(|| (true, n.to_owned()));
    }
    let n = text.strip_suffix(".out")?;
    (!n.is_empty()).then(|| (false, n.to_owned()))
}

impl Endpoint {
    /// Pushes a session's policy to the data plane (when it is published) and keeps the
    /// walled garden's rule in step.
    pub(crate) fn apply_policy(&mut self, key: SessionKey) {
        let Some(s) = self.table.get(key) else {
            return;
        };
        let p = &s.policy;
        let acl = |name: &Option<String>| name.as_deref().and_then(|n| self.acls.get(n));
        let spec = PolicySpec {
            throttle_in: p.throttle_in,
            throttle_out: p.throttle_out,
            filter_in: acl(&p.filter_in),
            filter_out: acl(&p.filter_out),
            snoop: p.snoop,
            throttle_queue: self.config.settings.throttle_queue,
        };
        if self.table.is_published(key) {
            if let Err(e) = self.table.set_policy(key, spec) {
                log::warn!("{}: policy: {e}", SessionName::of(key));
            }
        }
    }

    /// Changes a session's policy with `f`, applies it, and tells what it now is.
    pub(crate) fn change_policy(
        &mut self,
        target: &Target,
        f: impl FnOnce(&mut Policy) -> Result<(), CommandError>,
    ) -> Reply {
        let Some(key) = self.target(target) else {
            return Reply::Error(CommandError::NoSuchSession);
        };
        let Some(s) = self.table.get_mut(key) else {
            return Reply::Error(CommandError::NoSuchSession);
        };
        let before = s.policy.to_policy();
        if let Err(e) = f(&mut s.policy) {
            return Reply::Error(e);
        }
        let after = s.policy.to_policy();
        let user = s.user_name();
        if before != after {
            log::info!(
                "{} ({user}): policy {}",
                SessionName::of(key),
                describe(&after)
            );
            self.apply_policy(key);
        }
        Reply::Policy {
            id: key.index(),
            user,
            policy: after,
        }
    }

    /// `throttle`: rates given, or `throttle_speed` both ways when none is.
    pub(crate) fn throttle(&mut self, target: &Target, rates: Rates) -> Reply {
        let default = self.config.settings.throttle_speed;
        let rates = if rates == Rates::default() {
            Rates {
                inbound: Some(default),
                outbound: Some(default),
            }
        } else {
            rates
        };
        self.change_policy(target, |p| {
            if rates.inbound == Some(0) && rates.outbound == Some(0) {
                return Err(CommandError::BadSetting("a rate of 0 kbit/s".into()));
            }
            p.throttle_in = rates.inbound.filter(|&r| r > 0);
            p.throttle_out = rates.outbound.filter(|&r| r > 0);
            Ok(())
        })
    }

    /// `snoop`: to `to`, or `snoop_host:snoop_port` when none is given.
    pub(crate) fn snoop(&mut self, target: &Target, to: Option<SocketAddrV4>) -> Reply {
        let s = &self.config.settings;
        let to = to.or_else(|| {
            (!s.snoop_host.is_unspecified() && s.snoop_port != 0)
                .then(|| SocketAddrV4::new(s.snoop_host, s.snoop_port))
        });
        let Some(to) = to else {
            return Reply::Error(CommandError::BadSetting(
                "no intercept address given and snoop_host/snoop_port not set".into(),
            ));
        };
        self.change_policy(target, |p| {
            p.snoop = Some(to);
            Ok(())
        })
    }

    /// `filter`: the named access lists (which must exist) for each direction given.
    pub(crate) fn filter(
        &mut self,
        target: &Target,
        inbound: Option<String>,
        outbound: Option<String>,
    ) -> Reply {
        for name in inbound.iter().chain(outbound.iter()) {
            if !self.acls.contains(name) {
                return Reply::Error(CommandError::NoSuchAccessList(name.clone()));
            }
        }
        self.change_policy(target, |p| {
            if inbound.is_some() {
                p.filter_in = inbound;
            }
            if outbound.is_some() {
                p.filter_out = outbound;
            }
            Ok(())
        })
    }

    /// Puts a session into the walled garden (`garden USER|SID`): its address goes into
    /// `garden_users` and its RADIUS accounting ends (an Acct-Stop now; a gardened session
    /// sends none, as the original).
    pub(crate) fn garden(&mut self, now: Instant, target: &Target) -> Reply {
        let Some(key) = self.target(target) else {
            return Reply::Error(CommandError::NoSuchSession);
        };
        let opened = self
            .table
            .get(key)
            .is_some_and(|s| s.opened.is_some() && !s.policy.garden);
        if opened {
            self.accounting(now, key, radius::acct_status_type::STOP);
        }
        let reply = self.change_policy(target, |p| {
            p.garden = true;
            Ok(())
        });
        if opened {
            self.garden_entered(key);
        }
        reply
    }

    /// `ungarden SID [USER]`: out of the garden, optionally under a new user name; counters
    /// start again and accounting starts (Acct-Start), as the original.
    pub(crate) fn ungarden(
        &mut self,
        now: Instant,
        target: &Target,
        user: Option<String>,
    ) -> Reply {
        let key = self.target(target);
        let was = key
            .and_then(|k| self.table.get(k))
            .is_some_and(|s| s.policy.garden);
        if !was {
            return match key {
                None => Reply::Error(CommandError::NoSuchSession),
                Some(_) => Reply::Error(CommandError::NotGardened),
            };
        }
        let Some(key) = key else {
            return Reply::Error(CommandError::NoSuchSession);
        };
        self.change_policy(target, |p| {
            p.garden = false;
            Ok(())
        });
        if let Some(u) = user.filter(|u| !u.is_empty()) {
            if let Some(s) = self.table.get_mut(key) {
                s.user = Some(u.as_str().into());
            }
            let _ = self.table.set_user(key, Some(&u));
            self.share_user(key);
        }
        self.garden_left(now, key);
        match self.table.get(key) {
            Some(s) => Reply::Policy {
                id: key.index(),
                user: s.user_name(),
                policy: s.policy.to_policy(),
            },
            None => Reply::Error(CommandError::NoSuchSession),
        }
    }

    /// A published session is in the garden: its address goes into `garden_users`.
    pub(crate) fn garden_entered(&mut self, key: SessionKey) {
        let Some(s) = self.table.get(key) else {
            return;
        };
        if let (Some((address, _)), Some(_), true) = (s.address, s.opened, s.policy.garden) {
            self.actions.push_back(Action::GardenAdd { address });
        }
    }

    /// A published session just left the garden: accounting starts afresh.
    fn garden_left(&mut self, now: Instant, key: SessionKey) {
        let Some(s) = self.table.get(key) else {
            return;
        };
        let (Some((address, _)), Some(_)) = (s.address, s.opened) else {
            return;
        };
        self.actions.push_back(Action::GardenRemove { address });
        if let Some(c) = self.table.counters(key) {
            use std::sync::atomic::Ordering::Relaxed;
            for a in [&c.packets_in, &c.octets_in, &c.packets_out, &c.octets_out] {
                a.store(0, Relaxed);
            }
        }
        let unix = self.env.clock.unix(now);
        if let Some(s) = self.table.get_mut(key) {
            s.opened = Some((now, unix));
            s.dumped = (0, 0);
            s.next_interim = s.interim.map(|i| now + i);
        }
        self.accounting(now, key, radius::acct_status_type::START);
    }
}

impl crate::command::PolicyAttributes {
    /// The Filter-Ids and Cisco-AVPairs of an Access-Accept.
    pub fn of_packet(p: &radius::Packet) -> Self {
        let mut out = Self::default();
        for a in &p.attributes {
            match a {
                radius::Attribute::FilterId(f) => out.filter_ids.push(f.clone()),
                radius::Attribute::VendorSpecific(radius::Vsa::CiscoAvPair(v)) => {
                    out.avpairs.push(v.clone())
                }
                _ => {}
            }
        }
        out
    }
}

impl Endpoint {
    /// Whether every Filter-Id of `a` names a configured access list (a CoA is all or
    /// nothing).
    pub(crate) fn check_filter_ids(
        &self,
        a: &crate::command::PolicyAttributes,
    ) -> Result<(), CommandError> {
        for f in &a.filter_ids {
            match parse_filter_id(f) {
                Some((_, name)) if self.acls.contains(&name) => {}
                Some((_, name)) => return Err(CommandError::NoSuchAccessList(name)),
                None => {
                    return Err(CommandError::NoSuchAccessList(
                        String::from_utf8_lossy(f).into_owned(),
                    ))
                }
            }
        }
        Ok(())
    }

    /// An Access-Accept's (or, with `reset`, a CoA's) policy attributes applied to a
    /// session: the plugins' reset first for a CoA, then the Filter-Ids (a CoA without any
    /// removes the filters, as the original), then each Cisco-AVPair through the plugins.
    pub(crate) fn apply_policy_attributes(
        &mut self,
        key: SessionKey,
        a: &crate::command::PolicyAttributes,
        reset: bool,
    ) {
        let s = &self.config.settings;
        let default_rate = s.throttle_speed;
        let default_snoop = (!s.snoop_host.is_unspecified() && s.snoop_port != 0)
            .then(|| SocketAddrV4::new(s.snoop_host, s.snoop_port));
        let mut filters: (Option<String>, Option<String>) = (None, None);
        for f in &a.filter_ids {
            match parse_filter_id(f) {
                Some((inbound, name)) if self.acls.contains(&name) => {
                    if inbound {
                        filters.0 = Some(name)
                    } else {
                        filters.1 = Some(name)
                    }
                }
                _ => log::warn!(
                    "{}: Filter-Id {:?} names no access list",
                    SessionName::of(key),
                    String::from_utf8_lossy(f)
                ),
            }
        }
        let Some(sess) = self.table.get_mut(key) else {
            return;
        };
        let before = sess.policy.to_policy();
        let user = sess.user_name();
        // Worked on by value: most logins end with no policy, which then stays unboxed.
        let mut policy = before.clone();
        let mut sp = crate::plugins::SessionPolicy {
            session: key.index(),
            user: &user,
            policy: &mut policy,
            default_rate,
            default_snoop,
        };
        if reset {
            self.plugins.radius_reset(&mut sp);
        }
        if reset || filters.0.is_some() {
            sp.policy.filter_in = filters.0;
        }
        if reset || filters.1.is_some() {
            sp.policy.filter_out = filters.1;
        }
        for pair in &a.avpairs {
            match crate::plugins::split_avpair(pair) {
                Some((k, v)) => self.plugins.radius_response(&mut sp, &k, &v),
                None => log::debug!(
                    "{}: Cisco-AVPair {:?} is not key=value",
                    SessionName::of(key),
                    String::from_utf8_lossy(pair)
                ),
            }
        }
        if policy != before {
            log::info!(
                "{} ({user}): policy {}",
                SessionName::of(key),
                describe(&policy)
            );
            sess.policy = policy.into();
            self.apply_policy(key);
        }
    }

    /// The garden plugin's accept of a rejected user: a pool address (not sticky to the
    /// user), the configured DNS servers, nothing else of the reply.
    pub(crate) fn garden_grant(
        &mut self,
        _now: Instant,
        key: SessionKey,
        user: &str,
    ) -> ppp::session::Verdict {
        use crate::session::AddressSource;
        let name = SessionName::of(key);
        let Some(a) = self.pool.allocate(None) else {
            log::warn!("{name}: IP pool exhausted (walled garden)");
            self.stats.pool_exhausted += 1;
            return crate::radius_glue::reject("no address available");
        };
        let address = a.address;
        if let Err(e) = self.table.set_address(key, address) {
            log::warn!("{name}: {address}: {e}");
            let _ = self.pool.release(address);
            return crate::radius_glue::reject("address in use");
        }
        let _ = self.table.set_user(key, Some(user));
        self.share_user(key);
        let s = &self.config.settings;
        let dns = [s.primary_dns, s.secondary_dns].map(|d| Some(d).filter(|d| !d.is_unspecified()));
        let Some(sess) = self.table.get_mut(key) else {
            return crate::radius_glue::reject("session gone");
        };
        sess.address = Some((address, AddressSource::Pool));
        sess.dns = dns;
        sess.policy.garden = true;
        // The rule before the first packet: NAT decides a flow's fate at its first packet,
        // so a rule that came after IPCP would miss the flows already started.
        self.actions.push_back(Action::GardenAdd { address });
        log::info!(
            "{name}: {user} rejected by RADIUS, taken into the walled garden with {address}"
        );
        self.run_hook(
            key,
            crate::action::HookEvent::Auth,
            &[("L2TPNS_AUTH", "garden")],
        );
        ppp::session::Verdict::Accept(ppp::session::Grant {
            ipv4: Some(address),
            dns,
            ipv6_interface_id: None,
            message: Vec::new(),
        })
    }

    /// Queues the site's external hook for a session event (when `hook_script` is set),
    /// with the session's attributes in its environment.
    pub(crate) fn run_hook(
        &mut self,
        key: SessionKey,
        event: crate::action::HookEvent,
        extra: &[(&str, &str)],
    ) {
        if self.config.settings.hook_script.is_none() {
            return;
        }
        let Some(s) = self.table.get(key) else {
            return;
        };
        let mut env: Vec<(String, String)> = vec![
            ("L2TPNS_SESSION".into(), key.index().to_string()),
            ("L2TPNS_USER".into(), s.user_name()),
            ("L2TPNS_PEER".into(), s.peer.to_string()),
            (
                "L2TPNS_ACCT_SESSION_ID".into(),
                s.acct_session_id.to_string(),
            ),
        ];
        if let Some(ids) = self.table.ids(key) {
            env.push(("L2TPNS_TUNNEL".into(), ids.tunnel.to_string()));
            env.push(("L2TPNS_CALL".into(), ids.session.to_string()));
        }
        if let Some((a, _)) = s.address {
            env.push(("L2TPNS_IP".into(), a.to_string()));
        }
        for (name, v) in [
            ("L2TPNS_CALLING_STATION", &s.calling_station),
            ("L2TPNS_CALLED_STATION", &s.called_station),
        ] {
            if let Some(v) = v {
                env.push((name.into(), String::from_utf8_lossy(v).into_owned()));
            }
        }
        let flags = s.policy.flags();
        if !flags.is_empty() {
            env.push(("L2TPNS_FLAGS".into(), flags));
        }
        if event == crate::action::HookEvent::Down {
            if let Some(c) = self.table.counters(key) {
                use std::sync::atomic::Ordering::Relaxed;
                env.push((
                    "L2TPNS_OCTETS_IN".into(),
                    c.octets_in.load(Relaxed).to_string(),
                ));
                env.push((
                    "L2TPNS_OCTETS_OUT".into(),
                    c.octets_out.load(Relaxed).to_string(),
                ));
            }
        }
        env.extend(
            extra
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        self.actions.push_back(Action::RunHook { event, env });
    }
}

/// The policy as the log and `show session` say it.
pub fn describe(p: &Policy) -> String {
    let mut parts = Vec::new();
    match (p.throttle_in, p.throttle_out) {
        (None, None) => {}
        (i, o) => parts.push(format!(
            "throttle in {} out {}",
            i.map_or("-".to_owned(), |r| format!("{r}kbit/s")),
            o.map_or("-".to_owned(), |r| format!("{r}kbit/s"))
        )),
    }
    if let Some(s) = p.snoop {
        parts.push(format!("snoop {s}"));
    }
    if let Some(f) = &p.filter_in {
        parts.push(format!("filter in {f}"));
    }
    if let Some(f) = &p.filter_out {
        parts.push(format!("filter out {f}"));
    }
    if p.garden {
        parts.push("garden".to_owned());
    }
    if parts.is_empty() {
        "none".to_owned()
    } else {
        parts.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_id_names_a_list_and_a_direction() {
        assert_eq!(parse_filter_id(b"web.in"), Some((true, "web".into())));
        assert_eq!(parse_filter_id(b"web.out"), Some((false, "web".into())));
        assert_eq!(parse_filter_id(b".in"), None);
        assert_eq!(parse_filter_id(b"web"), None);
        assert_eq!(parse_filter_id(&[0xff, b'.', b'i', b'n']), None);
    }

    #[test]
    fn flags_are_the_cli_columns() {
        let mut p = Policy::default();
        assert_eq!(p.flags(), "");
        p.throttle_out = Some(512);
        p.garden = true;
        assert_eq!(p.flags(), "TG");
        p.snoop = Some("192.0.2.1:5000".parse().unwrap());
        assert_eq!(p.flags(), "ITG");
        assert_eq!(
            describe(&p),
            "throttle in - out 512kbit/s, snoop 192.0.2.1:5000, garden"
        );
    }
}
