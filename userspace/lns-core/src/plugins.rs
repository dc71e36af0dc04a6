//! The original's plugins, built in: the same eight names (`load plugin "NAME"` /
//! `remove plugin NAME`, nsctl `load_plugin`/`unload_plugin`) with the same behaviour, behind
//! a typed hook trait instead of `dlopen` and C structs. Site code that must not need a
//! rebuild uses the external hook (`hook_script`, [`crate::Action::RunHook`]) instead.
//!
//! Hooks run in load order; one that answers [`Flow::Stop`] ends the walk for that event
//! (the original's `PLUGIN_RET_STOP`).

use std::net::SocketAddrV4;

use crate::policy::Policy;

/// Whether later plugins see the event too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Continue,
    Stop,
}

/// Before the Access-Request: the user name as PPP gave it, which a plugin may rewrite.
#[derive(Debug)]
pub struct PreAuth<'a> {
    pub session: u32,
    pub user: &'a mut String,
}

/// The RADIUS decision, which a plugin may overturn.
#[derive(Debug)]
pub struct PostAuth<'a> {
    pub session: u32,
    pub user: &'a str,
    /// Access-Accept.
    pub allowed: bool,
    /// Set to take a rejected user in anyway, in the walled garden.
    pub garden: &'a mut bool,
    /// The L2TP connect speeds the LAC reported (bit/s), which `setrxspeed` fills in.
    pub rx_speed: &'a mut Option<u32>,
    pub tx_speed: Option<u32>,
}

/// A session and its policy, for the hooks that may change it.
#[derive(Debug)]
pub struct SessionPolicy<'a> {
    pub session: u32,
    pub user: &'a str,
    pub policy: &'a mut Policy,
    /// `throttle_speed`, the rate `throttle=yes` means.
    pub default_rate: u32,
    /// `snoop_host:snoop_port`, the target `intercept=yes` means.
    pub default_snoop: Option<SocketAddrV4>,
}

/// The built-in plugins' hooks (the original's `plugin_*` symbols that matter to them).
pub trait Plugin: Send {
    fn name(&self) -> &'static str;
    /// `plugin_pre_auth`.
    fn pre_auth(&mut self, _a: &mut PreAuth<'_>) -> Flow {
        Flow::Continue
    }
    /// `plugin_post_auth`.
    fn post_auth(&mut self, _a: &mut PostAuth<'_>) -> Flow {
        Flow::Continue
    }
    /// `plugin_radius_reset`: a CoA is about to apply its AVPairs.
    fn radius_reset(&mut self, _s: &mut SessionPolicy<'_>) {}
    /// `plugin_radius_response`: one Cisco-AVPair `key=value` of an Access-Accept or CoA.
    fn radius_response(&mut self, _s: &mut SessionPolicy<'_>, _key: &str, _value: &str) -> Flow {
        Flow::Continue
    }
    /// `plugin_radius_account`: Cisco-AVPairs to add to an Accounting-Request.
    fn radius_account(&self, _p: &Policy, _out: &mut Vec<String>) {}
    /// The nsctl commands this plugin provides (`plugin_control`): without the plugin they
    /// are refused, naming it, as the original.
    fn control_commands(&self) -> &'static [&'static str] {
        &[]
    }
}

/// `Cisco-AVPair = "intercept=IP:PORT"` (or `yes`: `snoop_host:snoop_port`).
struct Autosnoop;
impl Plugin for Autosnoop {
    fn name(&self) -> &'static str {
        "autosnoop"
    }
    fn radius_reset(&mut self, s: &mut SessionPolicy<'_>) {
        s.policy.snoop = None;
    }
    fn radius_response(&mut self, s: &mut SessionPolicy<'_>, key: &str, value: &str) -> Flow {
        if key != "intercept" {
            return Flow::Continue;
        }
        s.policy.snoop = match value {
            "yes" => s.default_snoop,
            "no" => None,
            v => match v.parse::<SocketAddrV4>() {
                Ok(a) => Some(a),
                Err(_) => {
                    log::warn!(
                        "session {} ({}): intercept={v:?} is not IP:PORT",
                        s.session,
                        s.user
                    );
                    s.policy.snoop
                }
            },
        };
        Flow::Continue
    }
    fn radius_account(&self, p: &Policy, out: &mut Vec<String>) {
        if let Some(a) = p.snoop {
            out.push(format!("intercept={a}"));
        }
    }
}

/// `Cisco-AVPair = "throttle=yes|no|N"` and
/// `"lcp:interface-config#N=service-policy input|output RATE"` (kbit/s).
struct Autothrottle;
impl Plugin for Autothrottle {
    fn name(&self) -> &'static str {
        "autothrottle"
    }
    fn radius_reset(&mut self, s: &mut SessionPolicy<'_>) {
        s.policy.throttle_in = None;
        s.policy.throttle_out = None;
    }
    fn radius_response(&mut self, s: &mut SessionPolicy<'_>, key: &str, value: &str) -> Flow {
        let bad = |what: &str| {
            log::warn!(
                "session {} ({}): {key}={value:?}: {what}",
                s.session,
                s.user
            )
        };
        if key == "throttle" {
            let rate = match value {
                "yes" => Some(s.default_rate),
                "no" => None,
                v => match v.parse::<u32>() {
                    Ok(0) => None,
                    Ok(r) => Some(r),
                    Err(_) => {
                        bad("not yes, no or a rate in kbit/s");
                        return Flow::Continue;
                    }
                },
            };
            s.policy.throttle_in = rate;
            s.policy.throttle_out = rate;
        } else if key.starts_with("lcp:interface-config") {
            let mut w = value.split_whitespace();
            let (Some("service-policy"), Some(dir), Some(rate), None) =
                (w.next(), w.next(), w.next(), w.next())
            else {
                return Flow::Continue;
            };
            let Ok(rate) = rate.parse::<u32>() else {
                bad("the rate is not a number of kbit/s");
                return Flow::Continue;
            };
            let rate = (rate > 0).then_some(rate);
            match dir {
                "input" => s.policy.throttle_in = rate,
                "output" => s.policy.throttle_out = rate,
                _ => bad("expected service-policy input|output RATE"),
            }
        }
        Flow::Continue
    }
    fn radius_account(&self, p: &Policy, out: &mut Vec<String>) {
        if let Some(r) = p.throttle_in {
            out.push(format!("lcp:interface-config#1=service-policy input {r}"));
        }
        if let Some(r) = p.throttle_out {
            out.push(format!("lcp:interface-config#2=service-policy output {r}"));
        }
    }
}

/// Turns an Access-Reject into a session in the walled garden; `garden`/`ungarden` in nsctl.
struct Garden;
impl Plugin for Garden {
    fn name(&self) -> &'static str {
        "garden"
    }
    fn post_auth(&mut self, a: &mut PostAuth<'_>) -> Flow {
        if !a.allowed {
            *a.garden = true;
        }
        Flow::Continue
    }
    fn control_commands(&self) -> &'static [&'static str] {
        &["garden", "ungarden"]
    }
}

/// nsctl `drop` and `kill`.
struct Sessionctl;
impl Plugin for Sessionctl {
    fn name(&self) -> &'static str {
        "sessionctl"
    }
    fn control_commands(&self) -> &'static [&'static str] {
        &["drop", "kill"]
    }
}

/// A missing receive connect speed taken from the transmit speed, by the original's table.
struct Setrxspeed;
impl Plugin for Setrxspeed {
    fn name(&self) -> &'static str {
        "setrxspeed"
    }
    fn post_auth(&mut self, a: &mut PostAuth<'_>) -> Flow {
        if a.rx_speed.is_none() {
            *a.rx_speed = match a.tx_speed {
                Some(256) => Some(64),
                Some(512) => Some(128),
                Some(1500) => Some(256),
                _ => None,
            };
        }
        Flow::Continue
    }
}

/// nsctl `snoop` and `unsnoop`.
struct Snoopctl;
impl Plugin for Snoopctl {
    fn name(&self) -> &'static str {
        "snoopctl"
    }
    fn control_commands(&self) -> &'static [&'static str] {
        &["snoop", "unsnoop"]
    }
}

/// `user@domain` authenticates as `user`.
struct Stripdomain;
impl Plugin for Stripdomain {
    fn name(&self) -> &'static str {
        "stripdomain"
    }
    fn pre_auth(&mut self, a: &mut PreAuth<'_>) -> Flow {
        if let Some(at) = a.user.find('@') {
            a.user.truncate(at);
        }
        Flow::Continue
    }
}

/// nsctl `throttle` and `unthrottle`.
struct Throttlectl;
impl Plugin for Throttlectl {
    fn name(&self) -> &'static str {
        "throttlectl"
    }
    fn control_commands(&self) -> &'static [&'static str] {
        &["throttle", "unthrottle"]
    }
}

/// The names `load plugin` knows.
pub use lns_config::config::PLUGIN_NAMES as NAMES;

fn make(name: &str) -> Option<Box<dyn Plugin>> {
    Some(match name {
        "autosnoop" => Box::new(Autosnoop),
        "autothrottle" => Box::new(Autothrottle),
        "garden" => Box::new(Garden),
        "sessionctl" => Box::new(Sessionctl),
        "setrxspeed" => Box::new(Setrxspeed),
        "snoopctl" => Box::new(Snoopctl),
        "stripdomain" => Box::new(Stripdomain),
        "throttlectl" => Box::new(Throttlectl),
        _ => return None,
    })
}

/// Why a plugin was not loaded or removed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PluginError {
    #[error("no plugin {name:?} (built in: {list})", name = .0, list = NAMES.join(", "))]
    Unknown(String),
    #[error("plugin {0} is already loaded")]
    Loaded(String),
    #[error("plugin {0} is not loaded")]
    NotLoaded(String),
}

/// The loaded plugins, in load order.
#[derive(Default)]
pub struct Plugins {
    loaded: Vec<Box<dyn Plugin>>,
}

impl Plugins {
    /// The plugins `names` lists; unknown names are logged and skipped.
    pub fn from_names(names: &[String]) -> Self {
        let mut p = Plugins::default();
        for n in names {
            if let Err(e) = p.load(n) {
                log::warn!("load plugin: {e}");
            }
        }
        p
    }

    pub fn load(&mut self, name: &str) -> Result<(), PluginError> {
        if self.is_loaded(name) {
            return Err(PluginError::Loaded(name.to_owned()));
        }
        let p = make(name).ok_or_else(|| PluginError::Unknown(name.to_owned()))?;
        self.loaded.push(p);
        Ok(())
    }

    pub fn remove(&mut self, name: &str) -> Result<(), PluginError> {
        let before = self.loaded.len();
        self.loaded.retain(|p| p.name() != name);
        if self.loaded.len() == before {
            return Err(PluginError::NotLoaded(name.to_owned()));
        }
        Ok(())
    }

    pub fn is_loaded(&self, name: &str) -> bool {
        self.loaded.iter().any(|p| p.name() == name)
    }

    pub fn names(&self) -> Vec<&'static str> {
        self.loaded.iter().map(|p| p.name()).collect()
    }

    /// The plugin an nsctl command needs, when none loaded provides it.
    pub fn missing_for(&self, command: &str) -> Option<&'static str> {
        if self
            .loaded
            .iter()
            .any(|p| p.control_commands().contains(&command))
        {
            return None;
        }
        NAMES
            .iter()
            .filter_map(|n| make(n))
            .find(|p| p.control_commands().contains(&command))
            .map(|p| p.name())
    }

    pub fn pre_auth(&mut self, a: &mut PreAuth<'_>) {
        for p in &mut self.loaded {
            if p.pre_auth(a) == Flow::Stop {
                break;
            }
        }
    }

    pub fn post_auth(&mut self, a: &mut PostAuth<'_>) {
        for p in &mut self.loaded {
            if p.post_auth(a) == Flow::Stop {
                break;
            }
        }
    }

    pub fn radius_reset(&mut self, s: &mut SessionPolicy<'_>) {
        for p in &mut self.loaded {
            p.radius_reset(s);
        }
    }

    pub fn radius_response(&mut self, s: &mut SessionPolicy<'_>, key: &str, value: &str) {
        for p in &mut self.loaded {
            if p.radius_response(s, key, value) == Flow::Stop {
                break;
            }
        }
    }

    pub fn radius_account(&self, policy: &Policy) -> Vec<String> {
        let mut out = Vec::new();
        for p in &self.loaded {
            p.radius_account(policy, &mut out);
        }
        out
    }
}

/// A Cisco-AVPair's text as `key=value` (the original strips quotes around the value).
pub fn split_avpair(text: &[u8]) -> Option<(String, String)> {
    let text = std::str::from_utf8(text).ok()?;
    let (k, v) = text.split_once('=')?;
    let v = v.trim().trim_matches('"');
    Some((k.trim().to_owned(), v.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_policy(plugins: &mut Plugins, pairs: &[(&str, &str)]) -> Policy {
        let mut policy = Policy::default();
        let mut s = SessionPolicy {
            session: 1,
            user: "u",
            policy: &mut policy,
            default_rate: 28,
            default_snoop: Some("192.0.2.9:5000".parse().unwrap()),
        };
        for (k, v) in pairs {
            plugins.radius_response(&mut s, k, v);
        }
        policy
    }

    #[test]
    fn autothrottle_reads_both_forms() {
        let mut p = Plugins::from_names(&["autothrottle".into()]);
        let got = with_policy(&mut p, &[("throttle", "yes")]);
        assert_eq!((got.throttle_in, got.throttle_out), (Some(28), Some(28)));
        let got = with_policy(&mut p, &[("throttle", "2048")]);
        assert_eq!(
            (got.throttle_in, got.throttle_out),
            (Some(2048), Some(2048))
        );
        let got = with_policy(
            &mut p,
            &[
                ("lcp:interface-config#1", "service-policy input 512"),
                ("lcp:interface-config#2", "service-policy output 4096"),
            ],
        );
        assert_eq!((got.throttle_in, got.throttle_out), (Some(512), Some(4096)));
        let got = with_policy(&mut p, &[("throttle", "yes"), ("throttle", "no")]);
        assert!(!got.is_throttled());
        // A bad value changes nothing.
        let got = with_policy(&mut p, &[("throttle", "fast")]);
        assert!(!got.is_throttled());
        assert_eq!(
            p.radius_account(&Policy {
                throttle_in: Some(1),
                ..Policy::default()
            }),
            vec!["lcp:interface-config#1=service-policy input 1".to_owned()]
        );
    }

    #[test]
    fn autosnoop_takes_an_address_or_the_default() {
        let mut p = Plugins::from_names(&["autosnoop".into()]);
        let got = with_policy(&mut p, &[("intercept", "198.51.100.1:4000")]);
        assert_eq!(got.snoop, Some("198.51.100.1:4000".parse().unwrap()));
        let got = with_policy(&mut p, &[("intercept", "yes")]);
        assert_eq!(got.snoop, Some("192.0.2.9:5000".parse().unwrap()));
        let got = with_policy(&mut p, &[("intercept", "nonsense")]);
        assert_eq!(got.snoop, None);
    }

    #[test]
    fn without_the_plugin_avpairs_do_nothing() {
        let mut p = Plugins::default();
        let got = with_policy(&mut p, &[("throttle", "yes"), ("intercept", "yes")]);
        assert_eq!(got, Policy::default());
    }

    #[test]
    fn stripdomain_garden_and_setrxspeed() {
        let mut p =
            Plugins::from_names(&["stripdomain".into(), "garden".into(), "setrxspeed".into()]);
        let mut user = "alice@isp.example".to_owned();
        p.pre_auth(&mut PreAuth {
            session: 1,
            user: &mut user,
        });
        assert_eq!(user, "alice");
        let (mut garden, mut rx) = (false, None);
        p.post_auth(&mut PostAuth {
            session: 1,
            user: "alice",
            allowed: false,
            garden: &mut garden,
            rx_speed: &mut rx,
            tx_speed: Some(512),
        });
        assert!(garden);
        assert_eq!(rx, Some(128));
    }

    #[test]
    fn loading_removing_and_control_commands() {
        let mut p = Plugins::default();
        assert_eq!(p.missing_for("throttle"), Some("throttlectl"));
        assert_eq!(p.missing_for("garden"), Some("garden"));
        p.load("throttlectl").unwrap();
        assert_eq!(p.missing_for("throttle"), None);
        assert_eq!(
            p.load("throttlectl"),
            Err(PluginError::Loaded("throttlectl".into()))
        );
        assert!(matches!(p.load("evil"), Err(PluginError::Unknown(_))));
        p.remove("throttlectl").unwrap();
        assert!(p.remove("throttlectl").is_err());
        assert_eq!(p.names(), Vec::<&str>::new());
    }

    #[test]
    fn avpairs_split_and_unquote() {
        assert_eq!(
            split_avpair(b"throttle=\"yes\""),
            Some(("throttle".into(), "yes".into()))
        );
        assert_eq!(split_avpair(b"no-equals"), None);
    }
}
