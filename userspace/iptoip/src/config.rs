//! The original iptoip XML config (`iptoip.xml(5)`) → typed [`Config`].
//!
//! The document is read event by event with quick-xml rather than through serde derive, because
//! every error must name the line, the tag and the value, and serde's data model carries no
//! positions. The format is small and flat, so the walk below stays short.
//!
//! Accepted unchanged from the Perl original: `<iface>`, `<nocheck>` (deprecated), `<rfc1918>`
//! in either case (the original only honoured `<RFC1918>`), `<verbose>`, `<syslog>`, `<logfile>`,
//! and repeated `<conf>` with `<origin>`, `<scheduler>`, `<destination>`, `<protocol>` t/u/a,
//! `<weight>`, `<port>` (repeated) and `<forward>`.

use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use quick_xml::events::Event;
use quick_xml::Reader;

use crate::table::{Forward, Protocol};

/// IPVS schedulers of mainline Linux (`net/netfilter/ip_vs_*.c`).
pub const SCHEDULERS: &[&str] = &[
    "rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf", "mh", "twos",
];

/// How private addresses are treated (`<rfc1918>`, or the deprecated `<nocheck>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rfc1918Policy {
    /// 0: private addresses are fine.
    Allow,
    /// 1: refuse a private address on the interface.
    BlockInterface,
    /// 2 (default): refuse a private address on the interface and a private `<origin>`.
    BlockInterfaceAndOrigin,
}

impl Rfc1918Policy {
    pub fn level(self) -> u8 {
        match self {
            Rfc1918Policy::Allow => 0,
            Rfc1918Policy::BlockInterface => 1,
            Rfc1918Policy::BlockInterfaceAndOrigin => 2,
        }
    }
}

/// One `<conf>`: a real server behind one or more virtual services.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conf {
    /// Line of the `<conf>` tag, for errors found later (e.g. when the VIP is known).
    pub line: usize,
    /// Fixed VIP; `None` = the address of `<iface>`.
    pub origin: Option<IpAddr>,
    pub scheduler: String,
    pub destination: IpAddr,
    /// `t` → [Tcp], `u` → [Udp], `a` → [Tcp, Udp].
    pub protocols: Vec<Protocol>,
    pub weight: u32,
    /// Virtual port = real port, as in the original (no port mapping).
    pub ports: Vec<u16>,
    pub forward: Forward,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub iface: Option<String>,
    pub rfc1918: Rfc1918Policy,
    pub verbose: bool,
    pub syslog: bool,
    pub logfile: Option<PathBuf>,
    pub confs: Vec<Conf>,
}

/// One problem in the config, located for the operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub file: PathBuf,
    pub line: usize,
    pub tag: String,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.tag.is_empty() {
            write!(f, "{}:{}: {}", self.file.display(), self.line, self.message)
        } else {
            write!(
                f,
                "{}:{}: <{}>: {}",
                self.file.display(),
                self.line,
                self.tag,
                self.message
            )
        }
    }
}

/// All the problems found in one config (the parser does not stop at the first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        oplog::write_lines(f, &self.0)
    }
}

impl std::error::Error for ConfigErrors {}

/// Read and parse a config file.
pub fn load(path: &Path) -> Result<Config, ConfigErrors> {
    let text = std::fs::read(path).map_err(|e| {
        ConfigErrors(vec![ConfigError {
            file: path.to_owned(),
            line: 0,
            tag: String::new(),
            message: format!("cannot read: {e}"),
        }])
    })?;
    let text = String::from_utf8(text).map_err(|e| {
        let line = line_of(e.as_bytes(), e.utf8_error().valid_up_to());
        ConfigErrors(vec![ConfigError {
            file: path.to_owned(),
            line,
            tag: String::new(),
            message: "not valid UTF-8".into(),
        }])
    })?;
    parse(path, &text)
}

/// Parse config text; `file` only labels the errors.
pub fn parse(file: &Path, text: &str) -> Result<Config, ConfigErrors> {
    let mut errs = Errors {
        file,
        list: Vec::new(),
    };
    let root = match read_tree(text) {
        Ok(root) => root,
        Err((line, message)) => {
            errs.push(line, "", message);
            return Err(ConfigErrors(errs.list));
        }
    };
    let config = build_config(&root, &mut errs);
    if errs.list.is_empty() {
        Ok(config)
    } else {
        Err(ConfigErrors(errs.list))
    }
}

struct Errors<'a> {
    file: &'a Path,
    list: Vec<ConfigError>,
}

impl Errors<'_> {
    fn push(&mut self, line: usize, tag: &str, message: impl Into<String>) {
        self.list.push(ConfigError {
            file: self.file.to_owned(),
            line,
            tag: tag.to_owned(),
            message: message.into(),
        });
    }
}

/// A parsed element: the format has no attributes and no mixed content worth keeping.
#[derive(Debug)]
struct Element {
    name: String,
    line: usize,
    text: String,
    children: Vec<Element>,
}

fn line_of(text: &[u8], pos: usize) -> usize {
    1 + text[..pos.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
}

/// XML → element tree with line numbers. Err = (line, message).
fn read_tree(text: &str) -> Result<Element, (usize, String)> {
    let mut reader = Reader::from_str(text);
    let bytes = text.as_bytes();
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    loop {
        let start = reader.buffer_position() as usize;
        let event = reader.read_event().map_err(|e| {
            (
                line_of(bytes, reader.error_position() as usize),
                format!("malformed XML: {e}"),
            )
        })?;
        // Whitespace before a tag belongs to the preceding text event, so the tag itself starts
        // at the first non-blank byte after `start`.
        let tag_line = || {
            let skip = bytes[start..]
                .iter()
                .take_while(|b| b.is_ascii_whitespace())
                .count();
            line_of(bytes, start + skip)
        };
        match event {
            Event::Start(e) | Event::Empty(e) if root.is_some() => {
                let _ = e;
                return Err((tag_line(), "content after the root element".into()));
            }
            Event::Start(e) => {
                if e.attributes().next().is_some() {
                    return Err((
                        tag_line(),
                        format!("<{}> takes no attributes", name_of(&e)?),
                    ));
                }
                stack.push(Element {
                    name: name_of(&e)?,
                    line: tag_line(),
                    text: String::new(),
                    children: Vec::new(),
                });
            }
            Event::Empty(e) => {
                if e.attributes().next().is_some() {
                    return Err((
                        tag_line(),
                        format!("<{}> takes no attributes", name_of(&e)?),
                    ));
                }
                let el = Element {
                    name: name_of(&e)?,
                    line: tag_line(),
                    text: String::new(),
                    children: Vec::new(),
                };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(el),
                    None => root = Some(el),
                }
            }
            Event::End(_) => {
                // quick-xml has already checked that the end tag matches the start tag.
                let el = stack
                    .pop()
                    .ok_or((tag_line(), "unexpected end tag".to_string()))?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(el),
                    None => root = Some(el),
                }
            }
            Event::Text(t) => {
                let s = t
                    .unescape()
                    .map_err(|e| (tag_line(), format!("bad text: {e}")))?;
                match stack.last_mut() {
                    Some(el) => el.text.push_str(&s),
                    None if s.trim().is_empty() => {}
                    None => return Err((tag_line(), "text outside the root element".into())),
                }
            }
            Event::CData(t) => {
                let s = String::from_utf8(t.into_inner().into_owned())
                    .map_err(|_| (tag_line(), "CDATA is not UTF-8".to_string()))?;
                match stack.last_mut() {
                    Some(el) => el.text.push_str(&s),
                    None => return Err((tag_line(), "text outside the root element".into())),
                }
            }
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {}
            Event::Eof => {
                if let Some(open) = stack.last() {
                    return Err((open.line, format!("<{}> is never closed", open.name)));
                }
                return root.ok_or((1, "empty document: expected <config>".to_string()));
            }
        }
    }
}

fn name_of(e: &quick_xml::events::BytesStart<'_>) -> Result<String, (usize, String)> {
    String::from_utf8(e.name().as_ref().to_vec()).map_err(|_| (0, "tag name is not UTF-8".into()))
}

/// Text of a leaf element, trimmed; complains if it has child elements.
fn leaf_text<'e>(el: &'e Element, errs: &mut Errors<'_>) -> Option<&'e str> {
    if let Some(child) = el.children.first() {
        errs.push(
            child.line,
            &child.name,
            format!("unexpected tag inside <{}>", el.name),
        );
        return None;
    }
    Some(el.text.trim())
}

/// Keeps the first occurrence of a singular tag and reports repeats.
fn set_once<'e>(slot: &mut Option<&'e Element>, el: &'e Element, errs: &mut Errors<'_>) {
    match slot {
        Some(first) => errs.push(
            el.line,
            &el.name,
            format!("given twice (first at line {})", first.line),
        ),
        None => *slot = Some(el),
    }
}

fn build_config(root: &Element, errs: &mut Errors<'_>) -> Config {
    let mut config = Config {
        iface: None,
        rfc1918: Rfc1918Policy::BlockInterfaceAndOrigin,
        verbose: false,
        syslog: false,
        logfile: None,
        confs: Vec::new(),
    };
    if root.name != "config" {
        errs.push(root.line, &root.name, "the root element must be <config>");
        return config;
    }
    let (mut iface, mut nocheck, mut rfc1918, mut verbose, mut syslog, mut logfile) =
        (None, None, None, None, None, None);
    let mut confs = Vec::new();
    for el in &root.children {
        match el.name.as_str() {
            "iface" => set_once(&mut iface, el, errs),
            "nocheck" => set_once(&mut nocheck, el, errs),
            n if n.eq_ignore_ascii_case("rfc1918") => set_once(&mut rfc1918, el, errs),
            "verbose" => set_once(&mut verbose, el, errs),
            "syslog" => set_once(&mut syslog, el, errs),
            "logfile" => set_once(&mut logfile, el, errs),
            "conf" => confs.push(el),
            _ => errs.push(el.line, &el.name, "unknown tag in <config>"),
        }
    }
    if !root.text.trim().is_empty() {
        errs.push(root.line, "config", "unexpected text");
    }

    if let Some(el) = iface {
        if let Some(name) = leaf_text(el, errs) {
            // IFNAMSIZ is 16 including the NUL; '/' and whitespace are never valid (dev_valid_name).
            if name.is_empty()
                || name.len() > 15
                || name == "."
                || name == ".."
                || name
                    .chars()
                    .any(|c| c == '/' || c == ':' || c.is_whitespace())
            {
                errs.push(
                    el.line,
                    "iface",
                    format!("{name:?} is not a valid interface name"),
                );
            } else {
                config.iface = Some(name.to_owned());
            }
        }
    }
    // <rfc1918> wins over the deprecated <nocheck>; nocheck 1 = no check, 0 = check the interface.
    if let Some(el) = rfc1918 {
        if let Some(v) = leaf_text(el, errs) {
            config.rfc1918 = match v {
                "0" => Rfc1918Policy::Allow,
                "1" => Rfc1918Policy::BlockInterface,
                "2" => Rfc1918Policy::BlockInterfaceAndOrigin,
                _ => {
                    errs.push(el.line, &el.name, format!("{v:?} is not 0, 1 or 2"));
                    config.rfc1918
                }
            };
        }
    } else if let Some(el) = nocheck {
        if let Some(v) = leaf_text(el, errs) {
            config.rfc1918 = match v {
                "0" => Rfc1918Policy::BlockInterface,
                "1" => Rfc1918Policy::Allow,
                _ => {
                    errs.push(el.line, "nocheck", format!("{v:?} is not 0 or 1"));
                    config.rfc1918
                }
            };
        }
    }
    if let Some(el) = verbose {
        config.verbose = flag(el, errs);
    }
    if let Some(el) = syslog {
        config.syslog = flag(el, errs);
    }
    if let Some(el) = logfile {
        if let Some(v) = leaf_text(el, errs) {
            if v.starts_with('/') {
                config.logfile = Some(PathBuf::from(v));
            } else {
                errs.push(el.line, "logfile", format!("{v:?} is not an absolute path"));
            }
        }
    }
    for el in confs {
        if let Some(conf) = build_conf(el, config.rfc1918, errs) {
            if conf.origin.is_none() && config.iface.is_none() && iface.is_none() {
                errs.push(
                    conf.line,
                    "conf",
                    "has no <origin> and the config has no <iface> to take the address from",
                );
            }
            config.confs.push(conf);
        }
    }
    config
}

/// `<verbose>`/`<syslog>`: an integer, non-zero = on (as the original tested `!= 0`).
fn flag(el: &Element, errs: &mut Errors<'_>) -> bool {
    match leaf_text(el, errs).map(str::parse::<i64>) {
        Some(Ok(n)) => n != 0,
        Some(Err(_)) => {
            errs.push(
                el.line,
                &el.name,
                format!("{:?} is not a number (0 or 1)", el.text.trim()),
            );
            false
        }
        None => false,
    }
}

pub fn is_private(addr: IpAddr) -> bool {
    match addr {
        // RFC 1918 §3.
        IpAddr::V4(a) => a.is_private(),
        // The IPv6 counterpart, unique local addresses (RFC 4193 §3.1, fc00::/7).
        IpAddr::V6(a) => (a.segments()[0] & 0xfe00) == 0xfc00,
    }
}

fn build_conf(conf: &Element, policy: Rfc1918Policy, errs: &mut Errors<'_>) -> Option<Conf> {
    let before = errs.list.len();
    let (mut origin, mut scheduler, mut destination, mut protocol, mut weight, mut forward) =
        (None, None, None, None, None, None);
    let mut ports = Vec::new();
    for el in &conf.children {
        match el.name.as_str() {
            "origin" => set_once(&mut origin, el, errs),
            "scheduler" => set_once(&mut scheduler, el, errs),
            "destination" => set_once(&mut destination, el, errs),
            "protocol" => set_once(&mut protocol, el, errs),
            "weight" => set_once(&mut weight, el, errs),
            "forward" => set_once(&mut forward, el, errs),
            "port" => ports.push(el),
            _ => errs.push(el.line, &el.name, "unknown tag in <conf>"),
        }
    }
    if !conf.text.trim().is_empty() {
        errs.push(conf.line, "conf", "unexpected text");
    }
    let mut missing = |what: &str| errs.push(conf.line, "conf", format!("<{what}> is missing"));
    if scheduler.is_none() {
        missing("scheduler");
    }
    if destination.is_none() {
        missing("destination");
    }
    if protocol.is_none() {
        missing("protocol");
    }
    if ports.is_empty() {
        missing("port");
    }

    let ip = |el: &Element, errs: &mut Errors<'_>| -> Option<IpAddr> {
        let v = leaf_text(el, errs)?;
        match v.parse::<IpAddr>() {
            Ok(a) if a.is_unspecified() || a.is_multicast() || a.is_loopback() => {
                errs.push(el.line, &el.name, format!("{v} cannot be used here"));
                None
            }
            Ok(IpAddr::V4(a)) if a.is_broadcast() => {
                errs.push(el.line, &el.name, format!("{v} cannot be used here"));
                None
            }
            Ok(a) => Some(a),
            Err(_) => {
                errs.push(
                    el.line,
                    &el.name,
                    format!("{v:?} is not an IPv4 or IPv6 address"),
                );
                None
            }
        }
    };
    let origin_addr = origin.and_then(|el| ip(el, errs));
    if let (Some(el), Some(a)) = (origin, origin_addr) {
        if policy == Rfc1918Policy::BlockInterfaceAndOrigin && is_private(a) {
            errs.push(
                el.line,
                "origin",
                format!("{a} is a private address and the rfc1918 policy is 2"),
            );
        }
    }
    let destination_addr = destination.and_then(|el| ip(el, errs));
    if let (Some(o), Some(d), Some(el)) = (origin_addr, destination_addr, destination) {
        if o.is_ipv4() != d.is_ipv4() {
            errs.push(
                el.line,
                "destination",
                format!("{d} and the origin {o} are not of the same address family"),
            );
        }
    }
    let sched = scheduler.and_then(|el| {
        let v = leaf_text(el, errs)?.to_ascii_lowercase();
        if SCHEDULERS.contains(&v.as_str()) {
            Some(v)
        } else {
            errs.push(
                el.line,
                "scheduler",
                format!("{v:?} is not an IPVS scheduler ({})", SCHEDULERS.join(", ")),
            );
            None
        }
    });
    let protocols = protocol.and_then(|el| {
        let v = leaf_text(el, errs)?;
        match v.to_ascii_lowercase().as_str() {
            "t" => Some(vec![Protocol::Tcp]),
            "u" => Some(vec![Protocol::Udp]),
            "a" => Some(vec![Protocol::Tcp, Protocol::Udp]),
            _ => {
                errs.push(el.line, "protocol", format!("{v:?} is not t, u or a"));
                None
            }
        }
    });
    // Weight applies to every scheduler (the original read it only for wrr/wlc); 0 quiesces.
    let weight_value = match weight {
        None => Some(1),
        Some(el) => {
            let v = leaf_text(el, errs)?;
            match v.parse::<u32>() {
                Ok(w) if w <= 65535 => Some(w),
                _ => {
                    errs.push(
                        el.line,
                        "weight",
                        format!("{v:?} is not a weight (0 to 65535)"),
                    );
                    None
                }
            }
        }
    };
    let forward_value = match forward {
        None => Some(Forward::Masq),
        Some(el) => {
            let v = leaf_text(el, errs)?;
            match v.to_ascii_lowercase().as_str() {
                "masq" => Some(Forward::Masq),
                "gate" => Some(Forward::Gate),
                "tunl" => Some(Forward::Tunnel),
                _ => {
                    errs.push(
                        el.line,
                        "forward",
                        format!("{v:?} is not masq, gate or tunl"),
                    );
                    None
                }
            }
        }
    };
    let mut port_values: Vec<u16> = Vec::new();
    for el in &ports {
        let Some(v) = leaf_text(el, errs) else {
            continue;
        };
        match v.parse::<u16>() {
            Ok(p) if p != 0 => {
                if port_values.contains(&p) {
                    errs.push(
                        el.line,
                        "port",
                        format!("{p} is listed twice in this <conf>"),
                    );
                } else {
                    port_values.push(p);
                }
            }
            _ => errs.push(el.line, "port", format!("{v:?} is not a port (1 to 65535)")),
        }
    }
    if errs.list.len() != before {
        return None;
    }
    Some(Conf {
        line: conf.line,
        origin: origin_addr,
        scheduler: sched?,
        destination: destination_addr?,
        protocols: protocols?,
        weight: weight_value?,
        ports: port_values,
        forward: forward_value?,
    })
}

#[cfg(test)]
mod tests;
