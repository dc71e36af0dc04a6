//! The `startup-config` reader (reference §2): the file is a script for the original's CLI in
//! config mode. Supported statements: `set KEY VALUE`, `load plugin NAME`, `remove plugin NAME`,
//! `router bgp AS` (then `neighbour …` lines), `ip access-list standard|extended NAME` (then
//! `permit|deny …` lines), `no …` forms, and `setforward`. A mode entered by `router bgp` or
//! `ip access-list` ends at `exit`/`end` or at the first line that is not a command of that
//! mode (as in IOS-style configs written by `write memory`).
//!
//! Parsing is sans-IO: it takes the file's text and its name (for messages). Every error in the
//! file is reported, each naming file, line and key.

mod diff;
mod keys;
mod lexer;
mod statements;
mod values;
mod write;

use std::collections::{BTreeMap, HashMap};
use std::fmt;

pub use diff::{Change, ConfigDiff};
pub use keys::{key_info, Apply, KeyInfo, Settings, Support, BGP_KEYS, FALLBACK_TUN_ADDRESS, KEYS};
pub use statements::{
    AccessList, AclAction, AclKind, AclRule, AddressMatch, BgpConfig, BgpNeighbour, Forward,
    PortMatch, TcpFlagsMatch, MAX_NEIGHBOURS,
};
pub use values::{
    quote, AuthType, LcpRenegotiation, LogTarget, RequireMessageAuthenticator, SyslogFacility,
};
pub use write::rewrite;

/// The default location, as the original's `-c`.
pub const DEFAULT_PATH: &str = "/etc/l2tpns/startup-config";

/// A whole startup-config.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Config {
    pub settings: Settings,
    /// `load plugin` names, in load order.
    pub plugins: Vec<String>,
    pub bgp: Option<BgpConfig>,
    pub access_lists: Vec<AccessList>,
    pub forwards: Vec<Forward>,
}

/// A parsed file and what in it this daemon does not act on.
#[derive(Debug, Clone, PartialEq)]
pub struct Loaded {
    pub config: Config,
    /// One entry per key or statement (first occurrence) that is accepted but not acted on.
    /// The daemon logs each once.
    pub not_implemented: Vec<NotImplemented>,
    /// The line of the last `set` of each key the file sets ([`KEYS`] and [`BGP_KEYS`]), even
    /// to its default value: what [`Loaded::absent_effects`] calls "set".
    pub key_lines: BTreeMap<&'static str, usize>,
}

/// A key whose effect this daemon does not have ([`Config::absent_effects`],
/// [`Loaded::absent_effects`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AbsentEffect {
    pub key: &'static str,
    /// The value as startup-config writes it (`(secret)` for secrets).
    pub value: String,
    /// "set" rather than "default". From [`Loaded::absent_effects`]: the file has a `set` line
    /// for the key (or, for the BGP keys, configures BGP in either form). From
    /// [`Config::absent_effects`], which has no file: the value differs from the default.
    pub set: bool,
    /// The line of the file's last `set` of the key, if known ([`Loaded::absent_effects`]).
    pub line: Option<usize>,
    pub why: &'static str,
}

impl fmt::Display for AbsentEffect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} = {} ({}): not acted on: {}",
            self.key,
            self.value,
            if self.set { "set" } else { "default" },
            self.why
        )
    }
}

impl Loaded {
    /// As [`Config::absent_effects`], with the file's provenance: a key is "set" when the file
    /// has a `set` line for it, even one giving the default (`set kill_timedout_sessions yes`
    /// is set, not default), with that line in [`AbsentEffect::line`]. BGP configured by
    /// `router bgp` alone is "set" without a line.
    pub fn absent_effects(&self) -> Vec<AbsentEffect> {
        let mut out = self.config.absent_effects();
        for a in &mut out {
            a.line = self.key_lines.get(a.key).copied();
            a.set = a.line.is_some() || BGP_KEYS.contains(&a.key);
        }
        out
    }
}

/// A key or statement accepted without effect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotImplemented {
    pub line: usize,
    /// The key, or the statement (`load plugin`, `router bgp`, `ip access-list`, `setforward`).
    pub what: String,
    /// Why it has no effect.
    pub reason: &'static str,
}

impl fmt::Display for NotImplemented {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}: {}", self.line, self.what, self.reason)
    }
}

const NOT_YET: &str = "accepted but not implemented yet; it has no effect";

/// Why `as_number`, `bgp_peerN` and `bgp_peerN_as` (and `router bgp`) have no effect.
const NO_BGP: &str = "there is no BGP speaker: no session is opened and no route is announced";

/// One error in a startup-config.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {}", Described(self))]
pub struct ConfigError {
    pub file: String,
    pub line: usize,
    /// The key (for `set`) or the statement's first words.
    pub key: String,
    pub kind: ErrorKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorKind {
    /// `set` of a key the original does not have; with the nearest known key, if any.
    UnknownKey {
        suggestion: Option<&'static str>,
    },
    /// The value does not parse or is out of range.
    BadValue {
        value: String,
        reason: String,
    },
    /// `set KEY` without a value.
    MissingValue,
    /// Words after the value (a value with blanks must be quoted).
    ExtraWords(String),
    /// A line that is no statement of the current mode.
    UnknownCommand,
    /// A statement with wrong arguments.
    BadStatement(String),
    UnterminatedQuote(char),
    /// The file is not valid UTF-8 on this line.
    NotUtf8,
    /// A value conflicts with another key.
    Conflict(String),
}

impl ConfigError {
    /// What is wrong, after the `file:line: ` prefix; a secret's value is never shown.
    fn describe(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let k = &self.key;
        match &self.kind {
            ErrorKind::UnknownKey {
                suggestion: Some(s),
            } => {
                write!(f, "{k}: unknown key (did you mean {s}?)")
            }
            ErrorKind::UnknownKey { suggestion: None } => write!(f, "{k}: unknown key"),
            ErrorKind::BadValue { value, reason } => {
                let shown = if key_info(k).is_some_and(|i| i.secret) {
                    "…"
                } else {
                    value
                };
                write!(f, "{k}: bad value {shown:?}: {reason}")
            }
            ErrorKind::MissingValue => write!(f, "{k}: missing value"),
            ErrorKind::ExtraWords(w) => {
                write!(
                    f,
                    "{k}: unexpected {w:?} after the value (quote values with blanks)"
                )
            }
            ErrorKind::UnknownCommand => write!(f, "{k}: unknown command"),
            ErrorKind::BadStatement(why) => write!(f, "{k}: {why}"),
            ErrorKind::UnterminatedQuote(q) => write!(f, "{k}: unterminated {q} quote"),
            ErrorKind::NotUtf8 => write!(f, "line is not valid UTF-8"),
            ErrorKind::Conflict(why) => write!(f, "{k}: {why}"),
        }
    }
}

/// Formats [`ConfigError::describe`] inside the thiserror message.
struct Described<'a>(&'a ConfigError);

impl fmt::Display for Described<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.describe(f)
    }
}

/// All errors found in a file (never empty), one per line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", Lines(&self.0))]
pub struct ConfigErrors(pub Vec<ConfigError>);

struct Lines<'a>(&'a [ConfigError]);

impl fmt::Display for Lines<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        oplog::write_lines(f, self.0)
    }
}

/// The original's plugins, built into this daemon (`load plugin NAME`).
pub const PLUGIN_NAMES: &[&str] = &[
    "autosnoop",
    "autothrottle",
    "garden",
    "sessionctl",
    "setrxspeed",
    "snoopctl",
    "stripdomain",
    "throttlectl",
];

/// The CLI mode the script is in.
enum Mode {
    Config,
    Router,
    /// Index into `access_lists`.
    AccessList(usize),
}

/// Parses a startup-config. `file` names it in errors.
pub fn parse(file: &str, text: &str) -> Result<Loaded, ConfigErrors> {
    parse_bytes(file, text.as_bytes())
}

/// As [`parse`], for raw file contents (a line that is not UTF-8 is an error on that line).
pub fn parse_bytes(file: &str, bytes: &[u8]) -> Result<Loaded, ConfigErrors> {
    let mut p = Parser {
        file,
        config: Config::default(),
        errors: Vec::new(),
        not_implemented: Vec::new(),
        key_lines: HashMap::new(),
        mode: Mode::Config,
        bgp_keys: BgpKeys::default(),
    };
    for (i, raw) in bytes.split(|&b| b == b'\n').enumerate() {
        let line = i + 1;
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        match std::str::from_utf8(raw) {
            Ok(s) => p.line(line, s),
            Err(_) => p.error(line, String::new(), ErrorKind::NotUtf8),
        }
    }
    p.fold_bgp_keys();
    p.check_conflicts();
    if p.errors.is_empty() {
        Ok(Loaded {
            config: p.config,
            not_implemented: p.not_implemented,
            key_lines: p.key_lines.into_iter().collect(),
        })
    } else {
        Err(ConfigErrors(p.errors))
    }
}

struct Parser<'f> {
    file: &'f str,
    config: Config,
    errors: Vec<ConfigError>,
    not_implemented: Vec<NotImplemented>,
    /// Line of the last `set` of each key (BGP keys included), for conflict messages and
    /// [`Loaded::key_lines`].
    key_lines: HashMap<&'static str, usize>,
    mode: Mode,
    bgp_keys: BgpKeys,
}

/// The manual's `as_number`, `bgp_peerN` and `bgp_peerN_as` as read, with their lines; folded
/// into [`Config::bgp`] once the whole file is read (they may come in any order).
#[derive(Default)]
struct BgpKeys {
    as_number: Option<(usize, u16)>,
    peers: [Option<(usize, String)>; 2],
    peer_as: [Option<(usize, u16)>; 2],
}

impl Parser<'_> {
    fn error(&mut self, line: usize, key: String, kind: ErrorKind) {
        self.errors.push(ConfigError {
            file: self.file.to_string(),
            line,
            key,
            kind,
        });
    }

    fn note(&mut self, line: usize, what: &str, reason: &'static str) {
        if !self.not_implemented.iter().any(|n| n.what == what) {
            self.not_implemented.push(NotImplemented {
                line,
                what: what.to_string(),
                reason,
            });
        }
    }

    fn line(&mut self, line: usize, text: &str) {
        let owned = match lexer::words(text) {
            Ok(w) => w,
            Err(lexer::LexError::UnterminatedQuote(q)) => {
                let key = text
                    .split_whitespace()
                    .take(2)
                    .collect::<Vec<_>>()
                    .join(" ");
                return self.error(line, key, ErrorKind::UnterminatedQuote(q));
            }
        };
        let w: Vec<&str> = owned.iter().map(String::as_str).collect();
        if w.is_empty() {
            return;
        }
        // Sub-modes: a line that belongs to the mode stays in it; `exit`/`end` or any other
        // statement leaves it.
        match self.mode {
            Mode::Router if w[0] == "neighbour" || w.starts_with(&["no", "neighbour"]) => {
                let bgp = self
                    .config
                    .bgp
                    .as_mut()
                    .expect("router mode has a bgp config");
                if let Err(e) = bgp.apply(&w) {
                    self.error(
                        line,
                        w[..2.min(w.len())].join(" "),
                        ErrorKind::BadStatement(e),
                    );
                }
                return;
            }
            Mode::AccessList(i) if w[0] == "permit" || w[0] == "deny" => {
                match self.config.access_lists[i].rule(&w) {
                    Ok(r) => self.config.access_lists[i].rules.push(r),
                    Err(e) => self.error(line, w[0].to_string(), ErrorKind::BadStatement(e)),
                }
                return;
            }
            _ => {}
        }
        self.mode = Mode::Config;
        match w.as_slice() {
            ["exit" | "end"] => {}
            ["set", rest @ ..] => self.set(line, rest),
            ["load", "plugin", name] => match statements::plugin_name(name) {
                Ok(n) if PLUGIN_NAMES.contains(&n.as_str()) => {
                    if !self.config.plugins.contains(&n) {
                        self.config.plugins.push(n);
                    }
                }
                Ok(n) => self.error(
                    line,
                    "load plugin".into(),
                    ErrorKind::BadStatement(format!(
                        "no plugin {n:?}: the built-in ones are {}",
                        PLUGIN_NAMES.join(", ")
                    )),
                ),
                Err(e) => self.error(line, "load plugin".into(), ErrorKind::BadStatement(e)),
            },
            ["remove", "plugin", name] => self.config.plugins.retain(|p| p != name),
            ["router", "bgp", asn] => match statements::as_number(asn) {
                Ok(local_as) => {
                    match &mut self.config.bgp {
                        Some(b) if b.local_as == local_as => {}
                        Some(b) => {
                            let old = b.local_as;
                            self.error(
                                line,
                                "router bgp".into(),
                                ErrorKind::BadStatement(format!(
                                    "BGP is already configured with AS {old}"
                                )),
                            );
                            return;
                        }
                        None => {
                            self.config.bgp = Some(BgpConfig {
                                local_as,
                                neighbours: Vec::new(),
                            })
                        }
                    }
                    self.mode = Mode::Router;
                    self.note(line, "router bgp", NO_BGP);
                }
                Err(e) => self.error(line, "router bgp".into(), ErrorKind::BadStatement(e)),
            },
            ["no", "router", "bgp", ..] => {
                // The BGP keys read so far are the same configuration under other names.
                self.config.bgp = None;
                self.bgp_keys = BgpKeys::default();
                self.key_lines.retain(|k, _| !BGP_KEYS.contains(k));
            }
            ["ip", "access-list", kind, name] => {
                if let Err(e) = statements::name(name, "access-list name") {
                    return self.error(line, "ip access-list".into(), ErrorKind::BadStatement(e));
                }
                let kind = match *kind {
                    "standard" => AclKind::Standard,
                    "extended" => AclKind::Extended,
                    other => {
                        return self.error(
                            line,
                            "ip access-list".into(),
                            ErrorKind::BadStatement(format!(
                                "expected standard or extended, not {other:?}"
                            )),
                        )
                    }
                };
                let i = match self
                    .config
                    .access_lists
                    .iter()
                    .position(|a| a.name == *name)
                {
                    Some(i) if self.config.access_lists[i].kind == kind => i,
                    Some(_) => {
                        return self.error(
                            line,
                            "ip access-list".into(),
                            ErrorKind::BadStatement(format!(
                                "{name} already exists with the other kind"
                            )),
                        )
                    }
                    None => {
                        self.config.access_lists.push(AccessList {
                            name: name.to_string(),
                            kind,
                            rules: Vec::new(),
                        });
                        self.config.access_lists.len() - 1
                    }
                };
                self.mode = Mode::AccessList(i);
            }
            ["no", "ip", "access-list", _kind, name] => {
                self.config.access_lists.retain(|a| a.name != *name)
            }
            ["setforward", rest @ ..] => match Forward::parse(rest) {
                Ok(f) => {
                    self.config.forwards.retain(|o| o.user_mask != f.user_mask);
                    self.config.forwards.push(f);
                    self.note(
                        line,
                        "setforward",
                        "LAC forwarding is not implemented; the statement has no effect",
                    );
                }
                Err(e) => self.error(line, "setforward".into(), ErrorKind::BadStatement(e)),
            },
            ["load" | "remove", ..] => self.error(
                line,
                w[0].to_string(),
                ErrorKind::BadStatement(format!("expected {} plugin NAME", w[0])),
            ),
            ["router", ..] => self.error(
                line,
                "router".into(),
                ErrorKind::BadStatement("expected router bgp AS".into()),
            ),
            ["ip", ..] => self.error(
                line,
                "ip".into(),
                ErrorKind::BadStatement("expected ip access-list standard|extended NAME".into()),
            ),
            _ => {
                let key = w[..2.min(w.len())].join(" ");
                let kind = if w[0] == "neighbour" || w[0] == "permit" || w[0] == "deny" {
                    ErrorKind::BadStatement("only valid after router bgp / ip access-list".into())
                } else {
                    ErrorKind::UnknownCommand
                };
                self.error(line, key, kind)
            }
        }
    }

    fn set(&mut self, line: usize, w: &[&str]) {
        let Some(&key) = w.first() else {
            return self.error(
                line,
                "set".into(),
                ErrorKind::BadStatement("expected set KEY VALUE".into()),
            );
        };
        if BGP_KEYS.contains(&key) {
            return self.bgp_key(line, w);
        }
        let Some(info) = key_info(key) else {
            let suggestion = suggest(key);
            return self.error(line, key.to_string(), ErrorKind::UnknownKey { suggestion });
        };
        let value = match w {
            [_, v] => *v,
            [_] => return self.error(line, key.to_string(), ErrorKind::MissingValue),
            [_, _, rest @ ..] => {
                return self.error(line, key.to_string(), ErrorKind::ExtraWords(rest.join(" ")))
            }
            [] => unreachable!("checked above"),
        };
        match self
            .config
            .settings
            .set(key, value)
            .expect("key_info and Settings agree")
        {
            Ok(()) => {
                self.key_lines.insert(info.name, line);
                let is_default = default_settings().render(key) == self.config.settings.render(key);
                match info.support {
                    Support::Implemented => {}
                    // A not-implemented feature left at its default ("off") needs no warning.
                    Support::NotImplemented if !is_default => self.note(line, info.name, NOT_YET),
                    Support::Superseded(why) if !is_default => self.note(line, info.name, why),
                    _ => {}
                }
            }
            Err(reason) => self.error(
                line,
                key.to_string(),
                ErrorKind::BadValue {
                    value: value.to_string(),
                    reason,
                },
            ),
        }
    }

    /// `set as_number AS`, `set bgp_peerN PEER`, `set bgp_peerN_as AS` (N = 1, 2).
    fn bgp_key(&mut self, line: usize, w: &[&str]) {
        let key = w[0];
        let value = match w {
            [_, v] => *v,
            [_] => return self.error(line, key.to_string(), ErrorKind::MissingValue),
            [_, _, rest @ ..] => {
                return self.error(line, key.to_string(), ErrorKind::ExtraWords(rest.join(" ")))
            }
            [] => unreachable!("checked by the caller"),
        };
        let bad = |reason: String| ErrorKind::BadValue {
            value: value.to_string(),
            reason,
        };
        let slot = usize::from(key.contains('2'));
        let parsed = match key {
            "as_number" => {
                statements::as_number(value).map(|a| self.bgp_keys.as_number = Some((line, a)))
            }
            "bgp_peer1" | "bgp_peer2" => {
                statements::bgp_peer(value).map(|p| self.bgp_keys.peers[slot] = Some((line, p)))
            }
            _ => {
                statements::as_number(value).map(|a| self.bgp_keys.peer_as[slot] = Some((line, a)))
            }
        };
        match parsed {
            Ok(()) => {
                let name = BGP_KEYS
                    .iter()
                    .find(|k| **k == key)
                    .expect("the caller checked BGP_KEYS");
                self.key_lines.insert(name, line);
                self.note(line, "router bgp", NO_BGP)
            }
            Err(reason) => self.error(line, key.to_string(), bad(reason)),
        }
    }

    /// Puts the BGP keys where `router bgp` / `neighbour` put the same facts.
    fn fold_bgp_keys(&mut self) {
        let keys = std::mem::take(&mut self.bgp_keys);
        if let Some((line, local_as)) = keys.as_number {
            match &self.config.bgp {
                Some(b) if b.local_as != local_as => {
                    let old = b.local_as;
                    return self.error(
                        line,
                        "as_number".into(),
                        ErrorKind::Conflict(format!("router bgp already says AS {old}")),
                    );
                }
                Some(_) => {}
                None => {
                    self.config.bgp = Some(BgpConfig {
                        local_as,
                        neighbours: Vec::new(),
                    })
                }
            }
        }
        if let (Some((_, a)), Some((line, b))) = (&keys.peers[0], &keys.peers[1]) {
            if a == b {
                return self.error(
                    *line,
                    "bgp_peer2".into(),
                    ErrorKind::Conflict(format!("{b} is bgp_peer1 already")),
                );
            }
        }
        for (i, peer) in keys.peers.iter().enumerate() {
            let name = format!("bgp_peer{}", i + 1);
            let Some((line, peer)) = peer else {
                if let Some((line, _)) = keys.peer_as[i] {
                    self.error(
                        line,
                        format!("{name}_as"),
                        ErrorKind::Conflict(format!("{name}_as without {name}")),
                    );
                }
                continue;
            };
            if self.config.bgp.is_none() {
                self.error(
                    *line,
                    name,
                    ErrorKind::Conflict("a BGP peer needs as_number (or router bgp)".into()),
                );
                continue;
            }
            // As `neighbour PEER remote-as AS`, which the original needs before anything
            // else about a peer: a BGP session cannot be opened without the peer's AS.
            let Some((as_line, remote_as)) = keys.peer_as[i] else {
                self.error(
                    *line,
                    name.clone(),
                    ErrorKind::Conflict(format!("{name} without {name}_as")),
                );
                continue;
            };
            let bgp = self.config.bgp.as_mut().expect("checked above");
            match bgp.neighbour_mut(peer, Some(remote_as)) {
                Ok(n) if n.remote_as == Some(remote_as) => {}
                Ok(n) => {
                    let old = n.remote_as.map_or("none".to_string(), |a| a.to_string());
                    self.error(
                        as_line,
                        format!("{name}_as"),
                        ErrorKind::Conflict(format!(
                            "neighbour {peer} remote-as already says AS {old}"
                        )),
                    );
                }
                Err(why) => self.error(*line, name, ErrorKind::Conflict(why)),
            }
        }
    }

    fn check_conflicts(&mut self) {
        let s = self.config.settings.clone();
        if s.radius_bind_min != 0 && s.radius_bind_max != 0 && s.radius_bind_min > s.radius_bind_max
        {
            let line = self.line_of(&["radius_bind_min", "radius_bind_max"]);
            let (min, max) = (s.radius_bind_min, s.radius_bind_max);
            self.error(
                line,
                "radius_bind_max".into(),
                ErrorKind::Conflict(format!(
                    "radius_bind_min {min} is above radius_bind_max {max}"
                )),
            );
        }
        let (nb, nh) = (s.bind_multi_address.len(), s.multi_hostname.len());
        if nh > 0 && nh > nb {
            let line = self.line_of(&["multi_hostname", "bind_multi_address"]);
            self.error(
                line,
                "multi_hostname".into(),
                ErrorKind::Conflict(format!(
                    "{nh} host names for {nb} bind_multi_address entries"
                )),
            );
        }
    }

    fn line_of(&self, keys: &[&str]) -> usize {
        keys.iter()
            .filter_map(|k| self.key_lines.get(k))
            .copied()
            .max()
            .unwrap_or(0)
    }
}

fn default_settings() -> &'static Settings {
    static DEFAULT: std::sync::OnceLock<Settings> = std::sync::OnceLock::new();
    DEFAULT.get_or_init(Settings::default)
}

/// The known key nearest to a mistyped one (also catches the sample config's `nexthop`).
fn suggest(key: &str) -> Option<&'static str> {
    // No key is longer than 40 bytes; a long word is not a typo of one.
    if key.len() > 64 {
        return None;
    }
    let lower = key.to_ascii_lowercase();
    if let Some(k) = KEYS.iter().find(|k| k.name.to_ascii_lowercase() == lower) {
        return Some(k.name);
    }
    if let Some(k) = KEYS
        .iter()
        .find(|k| k.name.starts_with(key) && k.name[key.len()..].starts_with('_'))
    {
        return Some(k.name);
    }
    KEYS.iter()
        .filter(|k| k.name.len().abs_diff(lower.len()) <= 8)
        .map(|k| (edit_distance(&lower, k.name), k.name))
        .filter(|&(d, name)| d <= 2.max(name.len() / 5))
        .min()
        .map(|(_, n)| n)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, &cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

impl Config {
    /// Every key this daemon does not act on, set or left at its default, with its value:
    /// what the daemon logs at start, so that an effect the operator may count on (a default
    /// of `yes` included) is never silently missing. `set` here means "differs from the
    /// default" (a `Config` does not know its file); [`Loaded::absent_effects`] knows the lines.
    ///
    /// Every [`KEYS`] entry whose [`Support`] is not `Implemented` is listed, in table order,
    /// then the BGP keys when BGP is configured (by them or by `router bgp`): `as_number`, and
    /// `bgp_peerN`/`bgp_peerN_as` for the Nth neighbour. Without BGP configured they have no
    /// value to show, and "no BGP" is what this daemon does, so they are not listed.
    pub fn absent_effects(&self) -> Vec<AbsentEffect> {
        let mut out: Vec<AbsentEffect> = KEYS
            .iter()
            .filter_map(|k| {
                let why = match k.support {
                    Support::Implemented => return None,
                    Support::NotImplemented => NOT_YET,
                    Support::Superseded(why) => why,
                };
                let value = if k.secret {
                    "(secret)".to_owned()
                } else {
                    self.settings.render(k.name).unwrap_or_default()
                };
                Some(AbsentEffect {
                    key: k.name,
                    set: self.settings.render(k.name) != default_settings().render(k.name),
                    line: None,
                    value,
                    why,
                })
            })
            .collect();
        if let Some(b) = &self.bgp {
            let entry = |key: &'static str, value: String| AbsentEffect {
                key,
                value,
                set: true,
                line: None,
                why: NO_BGP,
            };
            out.push(entry("as_number", b.local_as.to_string()));
            // BGP_KEYS is as_number, then (bgp_peerN, bgp_peerN_as) for N = 1, 2; the parser
            // keeps at most MAX_NEIGHBOURS (2) neighbours.
            for (n, keys) in b.neighbours.iter().zip(BGP_KEYS[1..].chunks(2)) {
                // A peer is an address or a host name: nothing to quote.
                out.push(entry(keys[0], n.peer.clone()));
                if let Some(a) = n.remote_as {
                    out.push(entry(keys[1], a.to_string()));
                }
            }
        }
        out
    }

    /// The whole config in startup-config syntax, every key included, as the original's
    /// `write memory` writes it. Parsing the result gives this config back.
    pub fn render(&self) -> String {
        let mut out = String::from("# Current configuration:\n");
        for k in KEYS {
            let v = self.settings.render(k.name).expect("every key renders");
            out.push_str(&format!("set {} {}\n", k.name, v));
        }
        if !self.plugins.is_empty() {
            out.push_str("# Plugins\n");
            for p in &self.plugins {
                out.push_str(&format!("load plugin {}\n", values::quote(p)));
            }
        }
        if let Some(b) = &self.bgp {
            out.push_str(&format!("router bgp {}\n", b.local_as));
            for n in &b.neighbours {
                if let Some(a) = n.remote_as {
                    out.push_str(&format!(
                        " neighbour {} remote-as {a}\n",
                        values::quote(&n.peer)
                    ));
                }
                if let Some((k, h)) = n.timers {
                    out.push_str(&format!(
                        " neighbour {} timers {k} {h}\n",
                        values::quote(&n.peer)
                    ));
                }
                if let Some(s) = n.update_source {
                    out.push_str(&format!(
                        " neighbour {} update-source {s}\n",
                        values::quote(&n.peer)
                    ));
                }
            }
            out.push_str("exit\n");
        }
        for a in &self.access_lists {
            let kind = match a.kind {
                AclKind::Standard => "standard",
                AclKind::Extended => "extended",
            };
            out.push_str(&format!(
                "ip access-list {kind} {}\n",
                values::quote(&a.name)
            ));
            for r in &a.rules {
                out.push_str(&format!(" {}\n", render_rule(a.kind, r)));
            }
            out.push_str("exit\n");
        }
        for f in &self.forwards {
            out.push_str(&format!(
                "setforward {} {} {} {}\n",
                values::quote(&f.user_mask),
                f.lns,
                f.port,
                values::quote(&f.secret)
            ));
        }
        out.push_str("# end\n");
        out
    }

    /// Reads `text` as the new config for a SIGHUP reload: the new config and what changed
    /// from `self`. On error the running config stays as it is.
    pub fn reload(&self, file: &str, text: &str) -> Result<(Loaded, ConfigDiff), ConfigErrors> {
        let loaded = parse(file, text)?;
        let diff = self.diff(&loaded.config);
        Ok((loaded, diff))
    }

    /// What changed from `self` (running) to `new` (just read), for a SIGHUP reload.
    pub fn diff(&self, new: &Config) -> ConfigDiff {
        diff::diff(self, new)
    }
}

/// One rule as its `permit|deny …` line (`show running-config`, `show access-list`).
pub fn render_rule(kind: AclKind, r: &AclRule) -> String {
    let mut s = String::from(match r.action {
        AclAction::Permit => "permit",
        AclAction::Deny => "deny",
    });
    if kind == AclKind::Extended {
        s.push_str(match r.protocol {
            None => " ip",
            Some(6) => " tcp",
            _ => " udp",
        });
    }
    let addr = |a: &AddressMatch| match a {
        AddressMatch::Any => " any".to_string(),
        AddressMatch::Host(h) => format!(" host {h}"),
        AddressMatch::Wildcard(a, w) => format!(" {a} {w}"),
    };
    let port = |p: &Option<PortMatch>| match p {
        None => String::new(),
        Some(PortMatch::Eq(p)) => format!(" eq {p}"),
        Some(PortMatch::Neq(p)) => format!(" neq {p}"),
        Some(PortMatch::Gt(p)) => format!(" gt {p}"),
        Some(PortMatch::Lt(p)) => format!(" lt {p}"),
        Some(PortMatch::Range(a, b)) => format!(" range {a} {b}"),
    };
    s.push_str(&addr(&r.source));
    s.push_str(&port(&r.source_port));
    s.push_str(&addr(&r.destination));
    s.push_str(&port(&r.destination_port));
    let flags = |set: u8, clear: u8| {
        let names = [
            (0x01, "fin"),
            (0x02, "syn"),
            (0x04, "rst"),
            (0x08, "psh"),
            (0x10, "ack"),
            (0x20, "urg"),
        ];
        let mut f = String::new();
        for (bit, n) in names {
            if set & bit != 0 {
                f.push_str(&format!(" +{n}"));
            }
            if clear & bit != 0 {
                f.push_str(&format!(" -{n}"));
            }
        }
        f
    };
    match r.tcp_flags {
        None => {}
        Some(TcpFlagsMatch::Established) => s.push_str(" established"),
        Some(TcpFlagsMatch::MatchAny { set, clear }) => {
            s.push_str(&format!(" match-any{}", flags(set, clear)))
        }
        Some(TcpFlagsMatch::MatchAll { set, clear }) => {
            s.push_str(&format!(" match-all{}", flags(set, clear)))
        }
    }
    if r.fragments {
        s.push_str(" fragments");
    }
    s
}
