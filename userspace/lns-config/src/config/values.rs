//! Value types of the startup-config keys: how each is parsed from its word and written back in
//! the original's `show running-config` syntax (so a dumped config parses to the same values).
//!
//! The original parses with `atoi`/`inet_addr` and silently turns garbage into 0 and unknown
//! booleans into "no" (reference §2); here every value is checked and a bad one is an error.

use std::fmt::Write as _;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;

/// Writes a value back as the original's `show running-config` would (strings quoted).
pub trait Render {
    fn render(&self) -> String;
}

impl Render for bool {
    fn render(&self) -> String {
        if *self { "yes" } else { "no" }.to_string()
    }
}

macro_rules! render_display {
    ($($t:ty),*) => {$(
        impl Render for $t {
            fn render(&self) -> String {
                self.to_string()
            }
        }
    )*};
}
render_display!(u8, u16, u32, Ipv4Addr, Ipv6Addr);

impl Render for String {
    fn render(&self) -> String {
        quote(self)
    }
}

impl Render for Option<String> {
    fn render(&self) -> String {
        quote(self.as_deref().unwrap_or(""))
    }
}

impl Render for PathBuf {
    fn render(&self) -> String {
        quote(&self.display().to_string())
    }
}

impl Render for Option<PathBuf> {
    fn render(&self) -> String {
        quote(
            &self
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
        )
    }
}

impl Render for Option<Ipv4Addr> {
    fn render(&self) -> String {
        self.unwrap_or(Ipv4Addr::UNSPECIFIED).to_string()
    }
}

impl Render for Option<Ipv6Addr> {
    fn render(&self) -> String {
        self.unwrap_or(Ipv6Addr::UNSPECIFIED).to_string()
    }
}

impl Render for Option<u16> {
    fn render(&self) -> String {
        self.unwrap_or(0).to_string()
    }
}

impl Render for Vec<String> {
    fn render(&self) -> String {
        quote(&self.join(","))
    }
}

impl Render for Vec<Ipv4Addr> {
    fn render(&self) -> String {
        let mut s = String::new();
        for (i, a) in self.iter().enumerate() {
            if i > 0 {
                s.push(',');
            }
            let _ = write!(s, "{a}");
        }
        quote(&s)
    }
}

/// Quotes a string value so that the CLI lexer reads it back unchanged. The CLI has no
/// escapes, but quoted runs join into one word, so a `"` is written as `'"'` between
/// `"…"` runs.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    for (i, part) in s.split('"').enumerate() {
        if i > 0 {
            out.push_str("'\"'");
        }
        if !part.is_empty() || i == 0 {
            out.push('"');
            out.push_str(part);
            out.push('"');
        }
    }
    out
}

/// `yes`/`true`/`1` and `no`/`false`/`0`, any case. The original takes anything else as "no";
/// a typo there silently disables a feature, so it is an error here.
pub fn boolean(v: &str) -> Result<bool, String> {
    match v.to_ascii_lowercase().as_str() {
        "yes" | "true" | "1" | "on" => Ok(true),
        "no" | "false" | "0" | "off" => Ok(false),
        _ => Err("expected yes/no (also true/false, 1/0)".into()),
    }
}

/// A decimal integer in `min..=max`.
pub fn int<T: TryFrom<u64>>(v: &str, min: u64, max: u64) -> Result<T, String> {
    let n: u64 = v
        .strip_prefix('+')
        .unwrap_or(v)
        .parse()
        .map_err(|_| format!("expected a whole number from {min} to {max}"))?;
    if n < min || n > max {
        return Err(format!("{n} is out of range {min}..={max}"));
    }
    T::try_from(n).map_err(|_| format!("{n} is out of range {min}..={max}"))
}

/// A user id for `setuid`. 4294967295 is `(uid_t)-1`, which setuid(2) refuses (EINVAL) and
/// setresuid(2) takes as "leave unchanged", so it is no uid to run as.
pub fn uid(v: &str) -> Result<u32, String> {
    if int::<u64>(v, 0, u64::MAX) == Ok(u32::MAX.into()) {
        return Err(format!("{} is (uid_t)-1, not a user id", u32::MAX));
    }
    int(v, 0, u64::from(u32::MAX) - 1)
}

/// Like [`int`], but 0 means the original's built-in value `zero_means`.
pub fn int_zero_default<T: TryFrom<u64>>(
    v: &str,
    min: u64,
    max: u64,
    zero_means: u64,
) -> Result<T, String> {
    if int::<u64>(v, 0, max)? == 0 {
        return T::try_from(zero_means).map_err(|_| "default out of range".into());
    }
    int(v, min, max)
}

pub fn ipv4(v: &str) -> Result<Ipv4Addr, String> {
    v.parse()
        .map_err(|_| "expected an IPv4 address (a.b.c.d)".into())
}

/// An IPv4 address where 0.0.0.0 (the original's "unset") gives `None`.
pub fn ipv4_opt(v: &str) -> Result<Option<Ipv4Addr>, String> {
    Ok(Some(ipv4(v)?).filter(|a| !a.is_unspecified()))
}

pub fn ipv6(v: &str) -> Result<Ipv6Addr, String> {
    v.parse().map_err(|_| "expected an IPv6 address".into())
}

/// An IPv6 address where `::` (the original's "unset") gives `None`.
pub fn ipv6_opt(v: &str) -> Result<Option<Ipv6Addr>, String> {
    Ok(Some(ipv6(v)?).filter(|a| !a.is_unspecified()))
}

/// A string that fitted the original's fixed-size field (`max` bytes, NUL excluded). The
/// original truncates longer values silently, which changes secrets and paths; refuse instead.
pub fn string(v: &str, max: usize) -> Result<String, String> {
    if v.len() > max {
        return Err(format!(
            "{} bytes long; at most {max} (the original would have cut it short)",
            v.len()
        ));
    }
    if v.chars().any(char::is_control) {
        return Err("contains a control character".into());
    }
    Ok(v.to_string())
}

/// A string where "" means unset.
pub fn string_opt(v: &str, max: usize) -> Result<Option<String>, String> {
    Ok(Some(string(v, max)?).filter(|s| !s.is_empty()))
}

/// An absolute path, or "" for none. The original only acts on paths starting with `/`.
pub fn abs_path_opt(v: &str, max: usize) -> Result<Option<PathBuf>, String> {
    let s = string(v, max)?;
    if s.is_empty() {
        return Ok(None);
    }
    if !s.starts_with('/') {
        return Err("expected an absolute path (starting with /)".into());
    }
    Ok(Some(PathBuf::from(s)))
}

/// An absolute path (not empty).
pub fn abs_path(v: &str, max: usize) -> Result<PathBuf, String> {
    abs_path_opt(v, max)?.ok_or_else(|| "expected an absolute path (starting with /)".into())
}

/// A comma- and/or blank-separated list of names ("" = empty list).
pub fn name_list(v: &str, max: usize) -> Result<Vec<String>, String> {
    let s = string(v, max)?;
    Ok(s.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect())
}

/// A comma-separated list of IPv4 addresses ("" = empty list).
pub fn ipv4_list(v: &str, max: usize) -> Result<Vec<Ipv4Addr>, String> {
    let mut out = Vec::new();
    for w in name_list(v, max)? {
        let a: Ipv4Addr = w
            .parse()
            .map_err(|_| format!("{w:?} is not an IPv4 address"))?;
        if a.is_unspecified() {
            return Err("0.0.0.0 is not a usable address".into());
        }
        if out.contains(&a) {
            return Err(format!("{a} is listed twice"));
        }
        out.push(a);
    }
    Ok(out)
}

/// A Linux interface name: at most 15 bytes (IFNAMSIZ - 1), no `/`, blanks or `:`.
pub fn ifname_opt(v: &str) -> Result<Option<String>, String> {
    let s = string(v, 15)?;
    if s.contains(['/', ':']) || s.chars().any(char::is_whitespace) || s == "." || s == ".." {
        return Err("not a valid interface name".into());
    }
    Ok(Some(s).filter(|s| !s.is_empty()))
}

/// Where log lines go (`log_file`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum LogTarget {
    /// "" (the default): standard error.
    #[default]
    Stderr,
    /// An absolute path, opened for append.
    File(PathBuf),
    /// `syslog:<facility>`.
    Syslog(SyslogFacility),
}

/// The syslog facilities the original accepts by name (`facilitynames` of syslog.h).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyslogFacility {
    Auth,
    Authpriv,
    Cron,
    Daemon,
    Ftp,
    Kern,
    Lpr,
    Mail,
    News,
    Syslog,
    User,
    Uucp,
    Local(u8),
}

impl SyslogFacility {
    pub fn name(self) -> String {
        match self {
            Self::Auth => "auth".into(),
            Self::Authpriv => "authpriv".into(),
            Self::Cron => "cron".into(),
            Self::Daemon => "daemon".into(),
            Self::Ftp => "ftp".into(),
            Self::Kern => "kern".into(),
            Self::Lpr => "lpr".into(),
            Self::Mail => "mail".into(),
            Self::News => "news".into(),
            Self::Syslog => "syslog".into(),
            Self::User => "user".into(),
            Self::Uucp => "uucp".into(),
            Self::Local(n) => format!("local{n}"),
        }
    }

    fn parse(name: &str) -> Option<Self> {
        Some(match name.to_ascii_lowercase().as_str() {
            "auth" | "security" => Self::Auth,
            "authpriv" => Self::Authpriv,
            "cron" => Self::Cron,
            "daemon" => Self::Daemon,
            "ftp" => Self::Ftp,
            "kern" => Self::Kern,
            "lpr" => Self::Lpr,
            "mail" => Self::Mail,
            "news" => Self::News,
            "syslog" => Self::Syslog,
            "user" => Self::User,
            "uucp" => Self::Uucp,
            other => {
                let n: u8 = other.strip_prefix("local")?.parse().ok()?;
                if n > 7 {
                    return None;
                }
                Self::Local(n)
            }
        })
    }
}

pub fn log_target(v: &str) -> Result<LogTarget, String> {
    let s = string(v, 127)?;
    if s.is_empty() {
        return Ok(LogTarget::Stderr);
    }
    if let Some(fac) = s.strip_prefix("syslog:") {
        return SyslogFacility::parse(fac)
            .map(LogTarget::Syslog)
            .ok_or_else(|| {
                format!("unknown syslog facility {fac:?} (daemon, local0..local7, user, …)")
            });
    }
    if !s.starts_with('/') {
        return Err("expected an absolute path or syslog:<facility>".into());
    }
    Ok(LogTarget::File(PathBuf::from(s)))
}

impl Render for LogTarget {
    fn render(&self) -> String {
        match self {
            Self::Stderr => quote(""),
            Self::File(p) => quote(&p.display().to_string()),
            Self::Syslog(f) => quote(&format!("syslog:{}", f.name())),
        }
    }
}

/// `lcp_renegotiation`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LcpRenegotiation {
    /// Always negotiate LCP and authentication afresh (default).
    #[default]
    Always,
    /// Accept the LAC's proxy LCP and proxy authentication when acceptable.
    OnMismatch,
}

pub fn lcp_renegotiation(v: &str) -> Result<LcpRenegotiation, String> {
    match v {
        "always" => Ok(LcpRenegotiation::Always),
        "on-mismatch" => Ok(LcpRenegotiation::OnMismatch),
        _ => Err("expected always or on-mismatch".into()),
    }
}

impl Render for LcpRenegotiation {
    fn render(&self) -> String {
        quote(match self {
            Self::Always => "always",
            Self::OnMismatch => "on-mismatch",
        })
    }
}

/// `radius_require_message_authenticator`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RequireMessageAuthenticator {
    Yes,
    No,
    /// Learn per server from its first Access reply (default).
    #[default]
    Auto,
}

/// The original's code recognises only `yes` (its docs say `true`); both mean yes here.
pub fn require_message_authenticator(v: &str) -> Result<RequireMessageAuthenticator, String> {
    match v.to_ascii_lowercase().as_str() {
        "" | "auto" => Ok(RequireMessageAuthenticator::Auto),
        "yes" | "true" | "1" => Ok(RequireMessageAuthenticator::Yes),
        "no" | "false" | "0" => Ok(RequireMessageAuthenticator::No),
        _ => Err("expected yes, no or auto".into()),
    }
}

impl Render for RequireMessageAuthenticator {
    fn render(&self) -> String {
        quote(match self {
            Self::Yes => "yes",
            Self::No => "no",
            Self::Auto => "auto",
        })
    }
}

/// A PPP authentication protocol offered to peers (`radius_authtypes`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthType {
    Pap,
    Chap,
}

/// Comma list of `pap`/`chap` in preference order; "" means `pap` as in the original.
pub fn auth_types(v: &str) -> Result<Vec<AuthType>, String> {
    let mut out = Vec::new();
    for w in name_list(v, 31)? {
        let t = match w.to_ascii_lowercase().as_str() {
            "pap" => AuthType::Pap,
            "chap" => AuthType::Chap,
            _ => return Err(format!("unknown authentication type {w:?} (pap, chap)")),
        };
        if !out.contains(&t) {
            out.push(t);
        }
    }
    if out.is_empty() {
        out.push(AuthType::Pap);
    }
    Ok(out)
}

impl Render for Vec<AuthType> {
    fn render(&self) -> String {
        let names: Vec<&str> = self
            .iter()
            .map(|t| match t {
                AuthType::Pap => "pap",
                AuthType::Chap => "chap",
            })
            .collect();
        quote(&names.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_round_trips_through_the_lexer() {
        for v in ["", "a", "a b", "a\"b", "\"", "a'b\"c'", "# x", "''", "\"\""] {
            let words = super::super::lexer::words(&format!("set k {}", quote(v))).unwrap();
            assert_eq!(words, ["set", "k", v], "{v:?} quoted as {}", quote(v));
        }
    }

    #[test]
    fn booleans() {
        for t in ["yes", "YES", "true", "True", "1", "on"] {
            assert_eq!(boolean(t), Ok(true), "{t}");
        }
        for f in ["no", "No", "false", "0", "off"] {
            assert_eq!(boolean(f), Ok(false), "{f}");
        }
        assert!(boolean("ye").is_err());
        assert!(boolean("").is_err());
    }

    #[test]
    fn user_ids() {
        assert_eq!(uid("0"), Ok(0));
        assert_eq!(uid("65534"), Ok(65534));
        assert_eq!(uid("4294967294"), Ok(u32::MAX - 1));
        assert_eq!(
            uid("4294967295"),
            Err("4294967295 is (uid_t)-1, not a user id".into())
        );
        assert_eq!(
            uid("nobody"),
            Err("expected a whole number from 0 to 4294967294".into())
        );
        assert!(uid("-1").is_err() && uid("4294967296").is_err());
    }

    #[test]
    fn integers() {
        assert_eq!(int::<u16>("1812", 1, 65535), Ok(1812));
        assert_eq!(int::<u16>("+7", 1, 65535), Ok(7));
        assert!(int::<u16>("0", 1, 65535).is_err());
        assert!(int::<u16>("65536", 1, 65535).is_err());
        assert!(int::<u32>("-1", 0, 10).is_err());
        assert!(int::<u32>("10abc", 0, 100).is_err()); // atoi would say 10
        assert_eq!(int_zero_default::<u16>("0", 576, 2600, 1500), Ok(1500));
        assert_eq!(int_zero_default::<u16>("1400", 576, 2600, 1500), Ok(1400));
        assert!(int_zero_default::<u16>("100", 576, 2600, 1500).is_err());
    }

    #[test]
    fn strings_have_the_original_limits() {
        assert_eq!(string("abc", 3), Ok("abc".into()));
        assert!(string("abcd", 3).unwrap_err().contains("at most 3"));
        assert!(string("a\u{7}b", 10).is_err());
    }

    #[test]
    fn log_targets() {
        assert_eq!(log_target(""), Ok(LogTarget::Stderr));
        assert_eq!(
            log_target("/var/log/l2tpns"),
            Ok(LogTarget::File("/var/log/l2tpns".into()))
        );
        assert_eq!(
            log_target("syslog:daemon"),
            Ok(LogTarget::Syslog(SyslogFacility::Daemon))
        );
        assert_eq!(
            log_target("syslog:local5"),
            Ok(LogTarget::Syslog(SyslogFacility::Local(5)))
        );
        assert!(log_target("syslog:local8").is_err());
        assert!(log_target("syslog:nope").is_err());
        assert!(log_target("var/log/x").is_err());
    }

    #[test]
    fn auth_type_lists() {
        assert_eq!(auth_types(""), Ok(vec![AuthType::Pap]));
        assert_eq!(
            auth_types("chap,pap"),
            Ok(vec![AuthType::Chap, AuthType::Pap])
        );
        assert_eq!(
            auth_types("CHAP, pap ,chap"),
            Ok(vec![AuthType::Chap, AuthType::Pap])
        );
        assert!(auth_types("pap,mschap").is_err());
    }

    #[test]
    fn address_lists() {
        assert_eq!(
            ipv4_list("192.0.2.1, 192.0.2.2", 255),
            Ok(vec![
                Ipv4Addr::new(192, 0, 2, 1),
                Ipv4Addr::new(192, 0, 2, 2)
            ])
        );
        assert!(ipv4_list("192.0.2.1,192.0.2.1", 255).is_err());
        assert!(ipv4_list("192.0.2.300", 255).is_err());
        assert_eq!(ipv4_opt("0.0.0.0"), Ok(None));
        assert_eq!(ipv6_opt("::"), Ok(None));
    }
}
