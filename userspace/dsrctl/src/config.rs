//! The reader of `/etc/dsr.d/*.conf` (dsr.conf(5)): one VIP per line, `VIP=DSCP` for an
//! L3DSR VIP (the load balancer marks the packets with DSCP; the DADDR rule rewrites the
//! destination back to the VIP), a bare `VIP` for an L2DSR VIP (loopback address only).
//!
//! The VIP is an IPv4 or IPv6 address or a host name (resolved to its first IPv4 address, as
//! the upstream dsrtools did). DSCP is decimal, octal (leading `0`) or hex (`0x`), at most 63.
//! `#` starts a comment; blank lines are ignored; spaces are allowed around `=`. A `Version=`
//! line (a format marker of the upstream files) is accepted and ignored.
//!
//! Reading is pure: the caller supplies the file contents and a name resolver, and receives
//! the entries plus every diagnostic in file order. The rules on bad input follow the
//! upstream tool so that its test suite and its operators see the same behaviour:
//! - an unrecognizable line is fatal ([`Fatal`]): nothing is done;
//! - a bad DSCP, a bad address, an unresolvable name or a DSCP that another VIP of the same
//!   family already uses is an error: the line is dropped, the rest of that file is still read,
//!   later files are not, and the load is marked failed;
//! - an exact duplicate (same VIP and DSCP) is a warning and is dropped.

use std::net::{IpAddr, Ipv4Addr};

use thiserror::Error;

/// The largest DSCP value (6 bits).
pub const DSCP_MAX: u64 = 63;

/// A DSCP as written in the file and its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dscp {
    /// As written (`0x1c`, `034`, `28`): shown in the status table and passed to iptables.
    pub text: String,
    pub value: u8,
}

/// One VIP of the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dsr {
    /// The VIP as written (a host name stays a name): the `name` column.
    pub name: String,
    /// The numeric address as text: as written for a numeric VIP, resolved for a name.
    pub addr_text: String,
    pub addr: IpAddr,
    /// `Some` for L3DSR, `None` for L2DSR.
    pub dscp: Option<Dscp>,
    pub file: String,
    pub line: usize,
}

impl Dsr {
    pub fn is_l3(&self) -> bool {
        self.dscp.is_some()
    }
    /// The identity of a DSR: its address and its DSCP value.
    pub fn key(&self) -> (IpAddr, Option<u8>) {
        (self.addr, self.dscp.as_ref().map(|d| d.value))
    }
}

/// What the lexical step recognized on one line (the `-vvv` trace names it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lexed<'a> {
    /// Blank or comment only.
    Empty,
    /// A VIP, with its DSCP text for L3DSR.
    Entry {
        vip: &'a str,
        dscp: Option<&'a str>,
        kind: VipKind,
    },
}

/// How a VIP is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VipKind {
    Ipv4,
    Ipv6,
    Name,
}

impl VipKind {
    fn label(self) -> &'static str {
        match self {
            VipKind::Ipv4 => "IPv4",
            VipKind::Ipv6 => "IPv6",
            VipKind::Name => "FQDN",
        }
    }
}

/// A line that cannot be a configuration line at all.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("Invalid config line at {file}, line {line}.  Unrecognized VIP/DSCP.")]
pub struct Fatal {
    pub file: String,
    pub line: usize,
}

/// A line that is a VIP line but cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EntryError {
    #[error(
        "Invalid DSCP value at \"{file}\", line {line}.  \"{dscp}\" is not an expected number."
    )]
    DscpNotNumber {
        file: String,
        line: usize,
        dscp: String,
    },
    #[error("Invalid DSCP value at \"{file}\", line {line}.  \"{dscp}\" too large (max=63).")]
    DscpTooLarge {
        file: String,
        line: usize,
        dscp: String,
    },
    #[error("Invalid VIP at \"{file}\", line {line}.  \"{vip}\" is not an {family} address.")]
    BadAddress {
        file: String,
        line: usize,
        vip: String,
        family: &'static str,
    },
    #[error("Cannot convert fqdn \"{name}\" to an IPv4 address.")]
    Unresolved { name: String },
    #[error("{0}")]
    DscpInUse(Box<Conflict>),
}

/// A DSCP that another VIP of the same family already uses: the load balancer could not tell
/// the two apart.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error(
    "Conflicting DSRs (IP={prev_ip}, IP={ip}) found with DSCP {dscp}.\n\
     - Prev: L3DSR at \"{prev_file}\", line {prev_line}.\n\
     - Dup:  L3DSR at \"{file}\", line {line}."
)]
pub struct Conflict {
    pub prev_ip: String,
    pub ip: String,
    pub dscp: String,
    pub prev_file: String,
    pub prev_line: String,
    pub file: String,
    pub line: String,
}

/// Something the reader reports, in the order it happens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A file is about to be read (`-vv`).
    Loading(String),
    /// What the lexical step made of a line (`-vvv`).
    Lexed(String),
    /// A name is being resolved (`-v`: the upstream ran `getent ahostsv4 NAME`).
    Resolving(String),
    /// An exact duplicate was dropped (printed, not an error).
    Duplicate(String),
    /// An unusable line was dropped (printed; the load fails).
    Error(EntryError),
}

/// Resolves a host name to its first IPv4 address.
pub trait Resolver {
    fn ipv4_of(&mut self, name: &str) -> Option<Ipv4Addr>;
}

/// The result of reading the configuration.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Loaded {
    pub dsrs: Vec<Dsr>,
    /// False if any line was dropped as an error (the upstream's non-zero status).
    pub ok: bool,
}

fn is_space(c: char) -> bool {
    c == ' ' || c == '\t' || c == '\x0b' || c == '\x0c' || c == '\r'
}

fn rest_is_comment(s: &str) -> bool {
    let s = s.trim_start_matches(is_space);
    s.is_empty() || s.starts_with('#')
}

fn is_ipv4_shape(s: &str) -> bool {
    let parts: Vec<&str> = s.split('.').collect();
    parts.len() == 4
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

/// The lexical step: what kind of line this is, or `None` if it is not a configuration line.
pub fn lex(line: &str) -> Option<Lexed<'_>> {
    let s = line.trim_start_matches(is_space);
    if rest_is_comment(s) {
        return Some(Lexed::Empty);
    }
    let vip_end = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == ':'))
        .unwrap_or(s.len());
    let vip = &s[..vip_end];
    if vip.is_empty() {
        return None;
    }
    let kind = if is_ipv4_shape(vip) {
        VipKind::Ipv4
    } else if vip.bytes().all(|b| b.is_ascii_hexdigit() || b == b':') {
        VipKind::Ipv6
    } else if vip.contains(':') {
        return None;
    } else {
        VipKind::Name
    };
    let rest = s[vip_end..].trim_start_matches(is_space);
    if rest_is_comment(rest) {
        return Some(Lexed::Entry {
            vip,
            dscp: None,
            kind,
        });
    }
    let rest = rest.strip_prefix('=')?.trim_start_matches(is_space);
    let dscp_end = rest
        .find(|c: char| !(c.is_ascii_hexdigit() || c == 'x' || c == 'X'))
        .unwrap_or(rest.len());
    let dscp = &rest[..dscp_end];
    if dscp.is_empty() || !rest_is_comment(&rest[dscp_end..]) {
        return None;
    }
    Some(Lexed::Entry {
        vip,
        dscp: Some(dscp),
        kind,
    })
}

/// The value of a DSCP written in decimal (`28`), octal (`034`) or hex (`0x1c`), no sign.
/// `None` if it is not such a number; values above 255 saturate (they are too large anyway).
pub fn parse_number(s: &str) -> Option<u64> {
    let (digits, radix) = if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        (h, 16)
    } else if s.len() > 1 && s.starts_with('0') {
        (&s[1..], 8)
    } else {
        (s, 10)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    Some(
        digits
            .chars()
            .filter_map(|c| c.to_digit(radix))
            .fold(0u64, |acc, d| {
                acc.saturating_mul(radix as u64).saturating_add(d as u64)
            }),
    )
}

/// Read the files in order (`(name as shown, contents)`). Reading stops after the first file
/// with an error; a fatal line stops everything.
pub fn load(
    files: &[(String, String)],
    resolver: &mut dyn Resolver,
    events: &mut dyn FnMut(Event),
) -> Result<Loaded, Fatal> {
    let mut loaded = Loaded {
        dsrs: Vec::new(),
        ok: true,
    };
    for (name, text) in files {
        events(Event::Loading(name.clone()));
        let before = loaded.ok;
        for (i, line) in text.lines().enumerate() {
            read_line(&mut loaded, name, i + 1, line, resolver, events)?;
        }
        if before && !loaded.ok {
            break;
        }
    }
    Ok(loaded)
}

fn read_line(
    loaded: &mut Loaded,
    file: &str,
    lineno: usize,
    line: &str,
    resolver: &mut dyn Resolver,
    events: &mut dyn FnMut(Event),
) -> Result<(), Fatal> {
    let Some(lexed) = lex(line) else {
        return Err(Fatal {
            file: file.to_owned(),
            line: lineno,
        });
    };
    let (vip, dscp_text, kind) = match lexed {
        Lexed::Empty => {
            events(Event::Lexed(format!(
                "Lexical analysis recognizes empty/comment line ({line})"
            )));
            return Ok(());
        }
        Lexed::Entry { vip, dscp, kind } => (vip, dscp, kind),
    };
    let shown = match dscp_text {
        Some(d) => format!("{vip}={d}"),
        None => vip.to_owned(),
    };
    let l = if dscp_text.is_some() {
        "L3DSR"
    } else {
        "L2DSR"
    };
    events(Event::Lexed(format!(
        "Lexical analysis recognizes {l} {} ({shown})",
        kind.label()
    )));
    if vip.starts_with("Version") {
        return Ok(()); // the upstream's format marker
    }
    match entry(file, lineno, vip, dscp_text, kind, resolver, events) {
        Ok(dsr) => add(loaded, dsr, events),
        Err(e) => {
            loaded.ok = false;
            events(Event::Error(e));
        }
    }
    Ok(())
}

fn entry(
    file: &str,
    line: usize,
    vip: &str,
    dscp_text: Option<&str>,
    kind: VipKind,
    resolver: &mut dyn Resolver,
    events: &mut dyn FnMut(Event),
) -> Result<Dsr, EntryError> {
    let bad = |family| EntryError::BadAddress {
        file: file.to_owned(),
        line,
        vip: vip.to_owned(),
        family,
    };
    let addr: IpAddr = match kind {
        VipKind::Ipv4 => IpAddr::V4(vip.parse().map_err(|_| bad("IPv4"))?),
        // A word of hex digits only ("cafe") is a name, as DNS allows.
        VipKind::Ipv6 if !vip.contains(':') => resolve(vip, resolver, events)?,
        VipKind::Ipv6 => IpAddr::V6(vip.parse().map_err(|_| bad("IPv6"))?),
        VipKind::Name => resolve(vip, resolver, events)?,
    };
    let addr_text = match kind {
        VipKind::Name => addr.to_string(),
        _ if addr.is_ipv4() && kind == VipKind::Ipv6 => addr.to_string(),
        _ => vip.to_owned(),
    };
    let dscp = match dscp_text {
        None => None,
        Some(t) => {
            let value = parse_number(t).ok_or_else(|| EntryError::DscpNotNumber {
                file: file.to_owned(),
                line,
                dscp: t.to_owned(),
            })?;
            if value > DSCP_MAX {
                return Err(EntryError::DscpTooLarge {
                    file: file.to_owned(),
                    line,
                    dscp: t.to_owned(),
                });
            }
            Some(Dscp {
                text: t.to_owned(),
                value: value as u8,
            })
        }
    };
    Ok(Dsr {
        name: vip.to_owned(),
        addr_text,
        addr,
        dscp,
        file: file.to_owned(),
        line,
    })
}

fn resolve(
    name: &str,
    resolver: &mut dyn Resolver,
    events: &mut dyn FnMut(Event),
) -> Result<IpAddr, EntryError> {
    events(Event::Resolving(name.to_owned()));
    resolver
        .ipv4_of(name)
        .map(IpAddr::V4)
        .ok_or_else(|| EntryError::Unresolved {
            name: name.to_owned(),
        })
}

/// Add a DSR unless it duplicates one (dropped, warned) or reuses the DSCP of another VIP of
/// the same family (an error: the load balancer could not tell them apart).
fn add(loaded: &mut Loaded, dsr: Dsr, events: &mut dyn FnMut(Event)) {
    if let Some(prev) = loaded.dsrs.iter().find(|d| d.key() == dsr.key()) {
        let kind = if dsr.is_l3() { "L3DSR" } else { "L2DSR" };
        events(Event::Duplicate(format!(
            "Duplicate DSRs found for {}.\n- Prev: {kind} at \"{}\", line {}.\n- Dup:  {kind} at \"{}\", line {}.",
            dsr.addr_text, prev.file, prev.line, dsr.file, dsr.line
        )));
        return;
    }
    if let Some(d) = &dsr.dscp {
        if let Some(prev) = loaded.dsrs.iter().find(|p| {
            p.addr.is_ipv4() == dsr.addr.is_ipv4()
                && p.dscp.as_ref().map(|x| x.value) == Some(d.value)
        }) {
            loaded.ok = false;
            events(Event::Error(EntryError::DscpInUse(Box::new(Conflict {
                prev_ip: prev.addr_text.clone(),
                ip: dsr.addr_text.clone(),
                dscp: d.text.clone(),
                prev_file: prev.file.clone(),
                prev_line: prev.line.to_string(),
                file: dsr.file.clone(),
                line: dsr.line.to_string(),
            }))));
            return;
        }
    }
    loaded.dsrs.push(dsr);
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Hosts;
    impl Resolver for Hosts {
        fn ipv4_of(&mut self, name: &str) -> Option<Ipv4Addr> {
            (name == "vip.example.com").then(|| Ipv4Addr::new(192, 0, 2, 9))
        }
    }

    fn read(text: &str) -> (Result<Loaded, Fatal>, Vec<Event>) {
        let mut ev = Vec::new();
        let r = load(&[("t.conf".into(), text.into())], &mut Hosts, &mut |e| {
            ev.push(e)
        });
        (r, ev)
    }

    fn errors(ev: &[Event]) -> Vec<String> {
        ev.iter()
            .filter_map(|e| match e {
                Event::Error(e) => Some(e.to_string()),
                Event::Duplicate(s) => Some(s.clone()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn every_line_kind() {
        let (r, ev) = read(
            "# comment\n\n \t \n188.125.67.68=28\n  10.0.0.1 = 0x1d # hex\n10.0.0.2=036\n\
             10.0.0.3\n2a00:1288:110:21b::4002 =19\n2001:db8::5  # l2\nvip.example.com=7\nVersion=2\n10.0.0.4=0#x",
        );
        let l = r.unwrap();
        assert!(l.ok, "{ev:?}");
        let got: Vec<(String, String, Option<u8>)> = l
            .dsrs
            .iter()
            .map(|d| {
                (
                    d.name.clone(),
                    d.addr_text.clone(),
                    d.dscp.as_ref().map(|x| x.value),
                )
            })
            .collect();
        let s = |a: &str, b: &str, c| (a.to_string(), b.to_string(), c);
        assert_eq!(
            got,
            vec![
                s("188.125.67.68", "188.125.67.68", Some(28)),
                s("10.0.0.1", "10.0.0.1", Some(29)),
                s("10.0.0.2", "10.0.0.2", Some(30)),
                s("10.0.0.3", "10.0.0.3", None),
                s(
                    "2a00:1288:110:21b::4002",
                    "2a00:1288:110:21b::4002",
                    Some(19)
                ),
                s("2001:db8::5", "2001:db8::5", None),
                s("vip.example.com", "192.0.2.9", Some(7)),
                s("10.0.0.4", "10.0.0.4", Some(0)),
            ]
        );
    }

    #[test]
    fn dscp_bases() {
        assert_eq!(parse_number("0"), Some(0));
        assert_eq!(parse_number("63"), Some(63));
        assert_eq!(parse_number("077"), Some(63));
        assert_eq!(parse_number("0x3f"), Some(63));
        assert_eq!(parse_number("0X3F"), Some(63));
        assert_eq!(parse_number("08"), None);
        assert_eq!(parse_number("0x"), None);
        assert_eq!(parse_number("x1"), None);
        assert_eq!(parse_number("abc"), None);
        assert_eq!(parse_number("99999999999999999999999"), Some(u64::MAX));
    }

    #[test]
    fn unrecognized_lines_are_fatal_with_file_and_line() {
        for (text, line) in [
            ("# x\nNow is the time for all good men.  # c\n", 2),
            ("Now     we are gathered    =  \t at the site\n", 1),
            ("1.1.1.1=7\n=\n", 2),
            ("10.0.0.0/8=34\n", 1),
            ("124.23.25.12==34\n", 1),
            ("1.1.1.1=7 8\n", 1),
            ("g:1=3\n", 1),
        ] {
            let (r, _) = read(text);
            let e = r.unwrap_err();
            assert_eq!(e.line, line, "{text:?}");
            assert_eq!(
                e.to_string(),
                format!("Invalid config line at t.conf, line {line}.  Unrecognized VIP/DSCP.")
            );
        }
    }

    #[test]
    fn entry_errors_drop_the_line_and_fail_the_load() {
        let (r, ev) = read(
            "1.1.1.1=64\n1.1.1.2=08\n999.1.1.1=3\n2001:db8:::1=4\nno.such.host=5\n1.1.1.3=6\n",
        );
        let l = r.unwrap();
        assert!(!l.ok);
        assert_eq!(
            l.dsrs.len(),
            1,
            "the good line after the bad ones is still read"
        );
        assert_eq!(
            errors(&ev),
            vec![
                "Invalid DSCP value at \"t.conf\", line 1.  \"64\" too large (max=63).",
                "Invalid DSCP value at \"t.conf\", line 2.  \"08\" is not an expected number.",
                "Invalid VIP at \"t.conf\", line 3.  \"999.1.1.1\" is not an IPv4 address.",
                "Invalid VIP at \"t.conf\", line 4.  \"2001:db8:::1\" is not an IPv6 address.",
                "Cannot convert fqdn \"no.such.host\" to an IPv4 address.",
            ]
        );
    }

    #[test]
    fn duplicates_warn_conflicts_fail() {
        let (r, ev) = read("10.0.0.1=10\n10.0.0.1=0xa\n10.0.0.2\n10.0.0.2\n10.0.0.3=012\n2001:db8::1=10\n10.0.0.1=11\n");
        let l = r.unwrap();
        assert!(!l.ok);
        assert_eq!(
            errors(&ev),
            vec![
                "Duplicate DSRs found for 10.0.0.1.\n- Prev: L3DSR at \"t.conf\", line 1.\n- Dup:  L3DSR at \"t.conf\", line 2.",
                "Duplicate DSRs found for 10.0.0.2.\n- Prev: L2DSR at \"t.conf\", line 3.\n- Dup:  L2DSR at \"t.conf\", line 4.",
                "Conflicting DSRs (IP=10.0.0.1, IP=10.0.0.3) found with DSCP 012.\n- Prev: L3DSR at \"t.conf\", line 1.\n- Dup:  L3DSR at \"t.conf\", line 5.",
            ]
        );
        // The same DSCP in the other family is fine; the same VIP with another DSCP too.
        let v: Vec<_> = l.dsrs.iter().map(|d| d.line).collect();
        assert_eq!(v, vec![1, 3, 6, 7]);
    }

    #[test]
    fn reading_stops_after_the_first_failing_file() {
        let mut ev = Vec::new();
        let l = load(
            &[
                ("a.conf".into(), "1.1.1.1=99\n1.1.1.2=2\n".into()),
                ("b.conf".into(), "1.1.1.3=3\n".into()),
            ],
            &mut Hosts,
            &mut |e| ev.push(e),
        )
        .unwrap();
        assert_eq!(l.dsrs.len(), 1);
        assert!(!ev.contains(&Event::Loading("b.conf".into())));
    }

    #[test]
    fn no_trailing_newline_and_trace() {
        let (r, ev) = read("# c\n1.2.3.4 = 17");
        assert_eq!(r.unwrap().dsrs[0].dscp.as_ref().unwrap().text, "17");
        assert!(ev.contains(&Event::Lexed(
            "Lexical analysis recognizes empty/comment line (# c)".into()
        )));
        assert!(ev.contains(&Event::Lexed(
            "Lexical analysis recognizes L3DSR IPv4 (1.2.3.4=17)".into()
        )));
    }
}
