//! The `accounting_dir` usage dump (as the original's): every 5 minutes the daemon writes
//! `<accounting_dir>/<YYYYmmddHHMMSS>` (local time) in the original's "dslwatch.pl" format,
//! one line per session with the octets since the previous dump. Sans-IO: this module builds
//! the file name and the text; the daemon writes it (only when there is at least one line).

use std::fmt::Write as _;
use std::net::Ipv4Addr;

/// How often the original dumps all sessions (`ACCT_TIME`, 3000 tenths).
pub const DUMP_INTERVAL_SECS: u64 = 300;
/// How often it dumps the sessions shut down since (`ACCT_SHUT_TIME`).
pub const SHUTDOWN_DUMP_INTERVAL_SECS: u64 = 60;

/// The dump's header fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header<'a> {
    pub hostname: &'a str,
    /// The tun / bind address.
    pub endpoint: Ipv4Addr,
    /// Seconds since the epoch.
    pub time: u64,
    /// Seconds since the daemon started.
    pub uptime: u64,
}

/// Where a session comes from (the optional origin column).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// An ordinary L2TP session from a LAC.
    Lac,
    /// A session we forward to a remote LNS (LAC mode).
    RemoteLns,
    Pppoe,
}

impl Origin {
    fn letter(self) -> char {
        match self {
            Self::Lac => 'L',
            Self::RemoteLns => 'R',
            Self::Pppoe => 'P',
        }
    }
}

/// One session's usage since the previous dump.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionUsage<'a> {
    pub user: &'a str,
    pub ip: Option<Ipv4Addr>,
    /// Authenticated and up (the original's `opened`).
    pub opened: bool,
    /// Throttled in either direction: qos 2 instead of 1.
    pub throttled: bool,
    pub walled_garden: bool,
    pub origin: Origin,
    /// Octets from the user (upstream) and to the user (downstream) since the last dump.
    pub octets_in: u64,
    pub octets_out: u64,
}

impl SessionUsage<'_> {
    /// The original's selection: opened, with an IP (unless forwarded to a remote LNS), some
    /// traffic, a user name, not gardened; remote-LNS and PPPoE sessions only with
    /// `account_all_origin`.
    pub fn is_dumped(&self, account_all_origin: bool) -> bool {
        let has_ip = self.ip.is_some() || self.origin == Origin::RemoteLns;
        let origin_ok = account_all_origin || self.origin == Origin::Lac;
        self.opened
            && has_ip
            && (self.octets_in != 0 || self.octets_out != 0)
            && !self.user.is_empty()
            && !self.walled_garden
            && origin_ok
    }
}

/// The file's text, or `None` when no session qualifies (the original then writes no file).
pub fn render<'a>(
    header: &Header<'_>,
    sessions: impl IntoIterator<Item = SessionUsage<'a>>,
    account_all_origin: bool,
) -> Option<String> {
    let mut body = String::new();
    for s in sessions
        .into_iter()
        .filter(|s| s.is_dumped(account_all_origin))
    {
        let ip = s.ip.unwrap_or(Ipv4Addr::UNSPECIFIED);
        let qos = if s.throttled { 2 } else { 1 };
        let _ = write!(
            body,
            "{} {ip} {qos} {} {}",
            s.user, s.octets_in, s.octets_out
        );
        if account_all_origin {
            let _ = write!(body, " {}", s.origin.letter());
        }
        body.push('\n');
    }
    if body.is_empty() {
        return None;
    }
    let origin_col = if account_all_origin {
        " origin(L=LAC, R=Remote LNS, P=PPPOE)"
    } else {
        ""
    };
    Some(format!(
        "# dslwatch.pl dump file V1.01\n\
         # host: {}\n\
         # endpoint: {}\n\
         # time: {}\n\
         # uptime: {}\n\
         # format: username ip qos uptxoctets downrxoctets{origin_col}\n\
         {body}",
        header.hostname, header.endpoint, header.time, header.uptime
    ))
}

/// Broken-down local time, as `localtime_r` gives it (the daemon converts; this stays pure).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalTime {
    pub year: i32,
    /// 1–12.
    pub month: u8,
    pub day: u8,
    pub hour: u8,
    pub minute: u8,
    pub second: u8,
}

/// The dump's file name, `YYYYmmddHHMMSS` (strftime `%Y%m%d%H%M%S`).
pub fn file_name(t: LocalTime) -> String {
    format!(
        "{:04}{:02}{:02}{:02}{:02}{:02}",
        t.year, t.month, t.day, t.hour, t.minute, t.second
    )
}
