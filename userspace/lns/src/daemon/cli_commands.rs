//! The telnet CLI's commands: the [`CommandTree`] of the manual, each matched line turned into
//! a [`Request`] (mostly an [`lns_core::Command`], which the endpoint decides), and the text
//! tables the replies are shown as. Pure: no sockets, no daemon state; the listener is
//! [`super::cli`].

use std::net::Ipv4Addr;

use l2tp::TunnelId;
use lns_cli::{Command as Word, CommandLine, CommandTree, Mode, NodeId};
use lns_core::{Command, Reply, SessionInfo, Target};

/// Features of the original that this daemon does not have yet, by command: the words and
/// what the refusal says.
const NOT_BUILT: &[(&[&str], &str, &str)] = &[
    (
        &["show", "cluster"],
        "show cluster",
        "clustering is not implemented in this version",
    ),
    (
        &["show", "bgp"],
        "show bgp",
        "BGP is not implemented in this version",
    ),
];

/// The subscriber-policy commands: words, name (for [`policy_command`]), help.
const POLICY: &[(&[&str], &str, &str)] = &[
    (&["show", "throttle"], "show throttle", "Throttled sessions"),
    (
        &["show", "tbf"],
        "show tbf",
        "Throttled sessions' token buckets, a row per direction",
    ),
    (
        &["show", "access-list"],
        "show access-list",
        "Access lists and their matches",
    ),
    (&["snoop"], "snoop", "Intercept a session: USER IP PORT"),
    (&["no", "snoop"], "no snoop", "Stop intercepting a session"),
    (
        &["throttle"],
        "throttle",
        "Throttle a session: USER [RATE | in RATE | out RATE | in RATE out RATE] (kbit/s)",
    ),
    (
        &["no", "throttle"],
        "no throttle",
        "Stop throttling a session",
    ),
    (
        &["garden"],
        "garden",
        "Put a session into the walled garden",
    ),
    (
        &["ungarden"],
        "ungarden",
        "Release a session from the walled garden: SID [USER]",
    ),
    (
        &["filter"],
        "filter",
        "Filter a session: USER in|out ACL [in|out ACL]",
    ),
    (&["no", "filter"], "no filter", "Stop filtering a session"),
];

/// A session as the commands name it: a number is a session id, anything else a user.
fn target(word: &str) -> Target {
    match word.parse::<u32>() {
        Ok(id) if word.bytes().all(|b| b.is_ascii_digit()) => Target::Session(id),
        _ => Target::User(word.to_owned()),
    }
}

fn rate(word: &str) -> Result<u32, String> {
    match word.parse::<u32>() {
        Ok(r) if r > 0 => Ok(r),
        _ => Err(format!("% Invalid rate \"{word}\" (kbit/s)")),
    }
}

/// `throttle`'s rates after the user: none, `RATE`, or `in|out RATE` once or twice.
fn rates(args: &[String]) -> Result<lns_core::Rates, String> {
    let mut r = lns_core::Rates::default();
    match args {
        [] => {}
        [one] => {
            let v = rate(one)?;
            r = lns_core::Rates {
                inbound: Some(v),
                outbound: Some(v),
            };
        }
        _ => {
            for pair in args.chunks(2) {
                match pair {
                    [d, v] if d == "in" => r.inbound = Some(rate(v)?),
                    [d, v] if d == "out" => r.outbound = Some(rate(v)?),
                    _ => return Err("% throttle USER [RATE | in RATE | out RATE]".into()),
                }
            }
        }
    }
    Ok(r)
}

/// The command a policy line asks for.
fn policy_command(name: &str, args: &[String]) -> Result<(Command, Show), String> {
    let first = || {
        args.first()
            .map(|a| target(a))
            .ok_or_else(|| "% Incomplete command".to_owned())
    };
    let plain = |c| Ok((c, Show::Plain));
    match name {
        "show throttle" => plain(Command::ShowThrottle),
        "show tbf" => Ok((Command::ShowThrottle, Show::Buckets)),
        "show access-list" => plain(Command::ShowAccessLists {
            name: args.first().cloned(),
        }),
        "snoop" => match args {
            [_] => plain(Command::Snoop {
                target: first()?,
                to: None,
            }),
            [_, ip, port] => {
                let ip: Ipv4Addr = ip
                    .parse()
                    .map_err(|_| format!("% Invalid IP address \"{ip}\""))?;
                let port: u16 = port
                    .parse()
                    .ok()
                    .filter(|&p| p != 0)
                    .ok_or_else(|| format!("% Invalid port \"{port}\""))?;
                plain(Command::Snoop {
                    target: first()?,
                    to: Some(std::net::SocketAddrV4::new(ip, port)),
                })
            }
            _ => Err("% snoop USER IP PORT".into()),
        },
        "no snoop" => plain(Command::Unsnoop { target: first()? }),
        "throttle" => plain(Command::Throttle {
            target: first()?,
            rates: rates(&args[1.min(args.len())..])?,
        }),
        "no throttle" => plain(Command::Unthrottle { target: first()? }),
        "garden" => plain(Command::Garden { target: first()? }),
        "ungarden" => plain(Command::Ungarden {
            target: first()?,
            user: args.get(1).cloned(),
        }),
        "filter" => {
            let (mut inbound, mut outbound) = (None, None);
            let rest = &args[1.min(args.len())..];
            if rest.is_empty() || rest.len() % 2 != 0 {
                return Err("% filter USER in|out ACL [in|out ACL]".into());
            }
            for pair in rest.chunks(2) {
                match pair[0].as_str() {
                    "in" => inbound = Some(pair[1].clone()),
                    "out" => outbound = Some(pair[1].clone()),
                    _ => return Err("% filter USER in|out ACL [in|out ACL]".into()),
                }
            }
            plain(Command::Filter {
                target: first()?,
                inbound,
                outbound,
            })
        }
        "no filter" => plain(Command::Unfilter { target: first()? }),
        _ => Err(format!("% {name}: not available")),
    }
}

/// What a command line asks the daemon for.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Request {
    /// An endpoint command, and how its reply is shown.
    Core(Command, Show),
    /// `show session` without an argument: the whole table, streamed page by page
    /// ([`Command::ShowSessionsPage`]).
    SessionTable,
    /// `show counters`: the daemon's whole list (data plane, endpoint, daemon).
    Counters,
    Version,
    Plugins,
    Uptime,
    /// `write memory`: the running configuration into the startup-config file.
    WriteMemory,
    /// `reload`: as SIGHUP.
    Reload,
    /// Answered at once with this line (bad argument, missing feature).
    Refuse(String),
}

/// How a [`Reply`] is turned into lines.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Show {
    /// `show session ID`: one session, a field per line.
    SessionDetail,
    /// `show pool [all]`: the addresses as a table, then the totals.
    Pool,
    /// `show radius`: the servers, then a row per client.
    Radius,
    /// `show users [NAME...]`.
    Users(Vec<String>),
    /// `show tunnels [TID...]`.
    Tunnels(Vec<TunnelId>),
    /// `drop session/user`: one line naming the session.
    Dropped,
    /// `show tbf`: a row per throttled direction.
    Buckets,
    /// [`Reply::lines`] as they are.
    Plain,
}

/// The tree and the ids of its runnable commands.
#[derive(Debug, Clone)]
pub(super) struct Commands {
    pub tree: CommandTree,
    show_session: NodeId,
    show_users: NodeId,
    show_tunnels: NodeId,
    show_tunnel: NodeId,
    show_pool: NodeId,
    show_radius: NodeId,
    show_running: NodeId,
    write_terminal: NodeId,
    show_counters: NodeId,
    clear_counters: NodeId,
    show_version: NodeId,
    show_plugins: NodeId,
    uptime: NodeId,
    drop_session: NodeId,
    drop_tunnel: NodeId,
    drop_user: NodeId,
    set: NodeId,
    write_memory: NodeId,
    reload: NodeId,
    load_plugin: NodeId,
    remove_plugin: NodeId,
    not_built: Vec<(NodeId, &'static str, &'static str)>,
    policy: Vec<(NodeId, &'static str)>,
}

impl Commands {
    pub fn new() -> Self {
        Self::build().expect("the CLI's command words are distinct and well formed")
    }

    fn build() -> Result<Self, lns_cli::TreeError> {
        let mut t = CommandTree::new();
        let show = t.add(None, Word::new("show", "Show running system information"))?;
        let drop = t.add(
            None,
            Word::new("drop", "Disconnect sessions or tunnels").privileged(),
        )?;
        let clear = t.add(None, Word::new("clear", "Reset information").privileged())?;
        let write = t.add(None, Word::new("write", "Save or show the configuration"))?;
        let no = t.add(None, Word::new("no", "Undo a setting"))?;
        let load = t.add(None, Word::new("load", "Load").mode(Mode::Config))?;
        let remove = t.add(None, Word::new("remove", "Remove").mode(Mode::Config))?;
        let leaf = |name: &str, help: &str| Word::new(name, help).runnable();
        let mut c = Commands {
            show_session: t.add(
                Some(show),
                Word::new("session", "Show sessions").repeated_arg("SID", "Session ID"),
            )?,
            show_users: t.add(
                Some(show),
                Word::new("users", "Show users with sessions").repeated_arg("NAME", "User name"),
            )?,
            show_tunnels: t.add(
                Some(show),
                Word::new("tunnels", "Show tunnels").repeated_arg("TID", "Tunnel ID"),
            )?,
            show_tunnel: t.add(
                Some(show),
                Word::new("tunnel", "Show tunnels").repeated_arg("TID", "Tunnel ID"),
            )?,
            show_pool: t.add(
                Some(show),
                Word::new("pool", "Show the addresses in use")
                    .runnable()
                    .optional_arg("all", "Every address, the free ones too"),
            )?,
            show_radius: t.add(Some(show), leaf("radius", "Show the RADIUS clients"))?,
            show_running: t.add(
                Some(show),
                leaf("running-config", "Show the running configuration").privileged(),
            )?,
            write_terminal: t.add(
                Some(write),
                leaf("terminal", "Show the running configuration").privileged(),
            )?,
            show_counters: t.add(
                Some(show),
                leaf("counters", "Show the counters").privileged(),
            )?,
            clear_counters: t.add(Some(clear), leaf("counters", "Reset the counters"))?,
            show_version: t.add(Some(show), leaf("version", "Show the version"))?,
            show_plugins: t.add(Some(show), leaf("plugins", "Show the plugins"))?,
            uptime: t.add(None, leaf("uptime", "Show the uptime and the bandwidth"))?,
            drop_session: t.add(
                Some(drop),
                Word::new("session", "Disconnect sessions").arg("SID", "Session ID"),
            )?,
            drop_tunnel: t.add(
                Some(drop),
                Word::new("tunnel", "Clear tunnels and their sessions").arg("TID", "Tunnel ID"),
            )?,
            drop_user: t.add(
                Some(drop),
                Word::new("user", "Disconnect a user's sessions").arg("NAME", "User name"),
            )?,
            set: t.add(
                None,
                Word::new("set", "Set a configuration value")
                    .mode(Mode::Config)
                    .arg("KEY", "Configuration key")
                    .repeated_arg("VALUE", "Value"),
            )?,
            write_memory: t.add(
                Some(write),
                leaf("memory", "Save the running configuration").privileged(),
            )?,
            reload: t.add(
                None,
                leaf("reload", "Re-read the configuration files").privileged(),
            )?,
            load_plugin: t.add(
                Some(load),
                Word::new("plugin", "Load a plugin").arg("NAME", "Plugin"),
            )?,
            remove_plugin: t.add(
                Some(remove),
                Word::new("plugin", "Remove a plugin").arg("NAME", "Plugin"),
            )?,
            not_built: Vec::new(),
            policy: Vec::new(),
            tree: CommandTree::new(),
        };
        for (words, name, help) in POLICY {
            let parent = match words[..] {
                ["show", _] => Some(show),
                ["no", _] => Some(no),
                _ => None,
            };
            let mut word =
                Word::new(words[words.len() - 1], help).repeated_arg("ARGS", "Arguments");
            if words[0] != "show" {
                word = word.privileged();
            }
            let id = t.add(parent, word)?;
            c.policy.push((id, name));
        }
        for (words, name, why) in NOT_BUILT {
            let parent = match words[..] {
                ["show", _] => Some(show),
                ["no", _] => Some(no),
                _ => None,
            };
            let mut word = Word::new(words[words.len() - 1], why).repeated_arg("ARGS", "Arguments");
            if parent.is_none() || parent == Some(no) {
                word = word.privileged();
            }
            let id = t.add(parent, word)?;
            c.not_built.push((id, name, why));
        }
        c.tree = t;
        Ok(c)
    }

    /// What `line` asks for.
    pub fn request(&self, line: &CommandLine) -> Request {
        let n = line.node;
        let args = &line.args;
        let show = |c: Command, s: Show| Request::Core(c, s);
        if n == self.show_session {
            return match args.as_slice() {
                [] => Request::SessionTable,
                [id] => match id.parse() {
                    Ok(id) => show(Command::ShowSession(id), Show::SessionDetail),
                    Err(_) => Request::Refuse(format!("% Invalid session ID \"{id}\"")),
                },
                _ => Request::Refuse("% Give one session ID".into()),
            };
        }
        if n == self.show_users {
            return show(Command::ShowUsers, Show::Users(args.clone()));
        }
        if n == self.show_tunnels || n == self.show_tunnel {
            let mut ids = Vec::new();
            for a in args {
                match a.parse::<u16>() {
                    Ok(id) if id != 0 => ids.push(TunnelId(id)),
                    _ => return Request::Refuse(format!("% Invalid tunnel ID \"{a}\"")),
                }
            }
            return show(Command::ShowTunnels, Show::Tunnels(ids));
        }
        if n == self.drop_session {
            return match args[0].parse() {
                Ok(id) => show(
                    Command::DropSession {
                        target: Target::Session(id),
                        reason: None,
                    },
                    Show::Dropped,
                ),
                Err(_) => Request::Refuse(format!("% Invalid session ID \"{}\"", args[0])),
            };
        }
        if n == self.drop_user {
            return show(
                Command::DropSession {
                    target: Target::User(args[0].clone()),
                    reason: None,
                },
                Show::Dropped,
            );
        }
        if n == self.drop_tunnel {
            return match args[0].parse::<u16>() {
                Ok(id) if id != 0 => show(
                    Command::DropTunnel {
                        tunnel: TunnelId(id),
                    },
                    Show::Plain,
                ),
                _ => Request::Refuse(format!("% Invalid tunnel ID \"{}\"", args[0])),
            };
        }
        if n == self.set {
            let value = args[1..].join(" ");
            if value.is_empty() {
                return Request::Refuse("% Incomplete command".into());
            }
            // Quoted as startup-config would read it back, so `set hostname "a b"` works.
            let value = if value.contains(|c: char| c.is_whitespace() || "#!\"'".contains(c)) {
                lns_config::config::quote(&value)
            } else {
                value
            };
            return show(
                Command::Set {
                    key: args[0].clone(),
                    value,
                },
                Show::Plain,
            );
        }
        if n == self.show_radius {
            return show(Command::ShowRadius, Show::Radius);
        }
        if n == self.show_pool {
            return match args.as_slice() {
                [] => show(Command::ShowPoolAddresses { all: false }, Show::Pool),
                [a] if a == "all" => show(Command::ShowPoolAddresses { all: true }, Show::Pool),
                _ => Request::Refuse("% show pool [all]".into()),
            };
        }
        let simple = [
            (self.show_running, Command::ShowRunningConfig),
            (self.write_terminal, Command::ShowRunningConfig),
            (self.clear_counters, Command::ClearCounters),
        ];
        if let Some((_, c)) = simple.into_iter().find(|(id, _)| *id == n) {
            return show(c, Show::Plain);
        }
        if n == self.show_counters {
            return Request::Counters;
        }
        if n == self.show_version {
            return Request::Version;
        }
        if n == self.show_plugins {
            return Request::Plugins;
        }
        if n == self.uptime {
            return Request::Uptime;
        }
        if n == self.write_memory {
            return Request::WriteMemory;
        }
        if n == self.reload {
            return Request::Reload;
        }
        if n == self.load_plugin {
            return show(Command::LoadPlugin(args[0].clone()), Show::Plain);
        }
        if n == self.remove_plugin {
            return show(Command::RemovePlugin(args[0].clone()), Show::Plain);
        }
        if let Some((_, name)) = self.policy.iter().find(|(id, _)| *id == n) {
            return match policy_command(name, args) {
                Ok((c, s)) => show(c, s),
                Err(e) => Request::Refuse(e),
            };
        }
        if let Some((_, name, why)) = self.not_built.iter().find(|(id, _, _)| *id == n) {
            return Request::Refuse(format!("% {name}: {why}"));
        }
        Request::Refuse(format!("% {}: not available", line.path.join(" ")))
    }
}

/// The line as the log shows it: the value of a secret key's `set` is left out.
pub(super) fn loggable(line: &CommandLine) -> String {
    let secret = line.path == ["set"]
        && line
            .args
            .first()
            .and_then(|k| lns_config::config::key_info(k))
            .is_some_and(|k| k.secret);
    if secret {
        format!("set {} (value not logged)", line.args[0])
    } else {
        printable(&line.line)
    }
}

/// The `show session` table's heading.
pub(super) fn session_header() -> String {
    format!(
        "{:>6} {:>5} {:<24} {:<15} I T G {:>8} {:>12} {:>12} {:>6} {:<15} CLI",
        "SID", "TID", "Username", "IP", "opened", "downloaded", "uploaded", "idle", "LAC"
    )
}

/// One `show session` row: downloaded is what the user received (our octets out).
/// I, T, G: intercepted, throttled, walled garden (Y or N).
pub(super) fn session_row(s: &SessionInfo) -> String {
    let opt = |v: Option<u64>| v.map_or_else(|| "-".to_owned(), |v| v.to_string());
    let yn = |b: bool| if b { 'Y' } else { 'N' };
    let p = &s.policy;
    format!(
        "{:>6} {:>5} {:<24} {:<15} {} {} {} {:>8} {:>12} {:>12} {:>6} {:<15} {}",
        s.id,
        s.tunnel.0,
        if s.user.is_empty() { "*" } else { &s.user },
        s.address
            .map_or_else(|| "*".to_owned(), |a: Ipv4Addr| a.to_string()),
        yn(p.snoop.is_some()),
        yn(p.is_throttled()),
        yn(p.garden),
        opt(s.up_for),
        s.octets_out,
        s.octets_in,
        opt(s.idle),
        s.peer.ip().to_string(),
        printable(&s.calling_station),
    )
}

/// `show session ID`: the session's fields, one per line, as the original's detail view.
pub(super) fn session_detail(s: &SessionInfo) -> Vec<String> {
    let secs = |v: Option<u64>| v.map_or_else(|| "-".to_owned(), |v| format!("{v} seconds"));
    vec![
        format!("Session {}", s.id),
        format!("    User:           {}", printable(&s.user)),
        format!(
            "    Address:        {}",
            s.address.map_or_else(|| "-".to_owned(), |a| a.to_string())
        ),
        format!("    Tunnel / call:  {} / {}", s.tunnel, s.call),
        format!("    LAC:            {}", s.peer),
        format!("    Calling number: {}", printable(&s.calling_station)),
        format!("    Acct-Session-Id: {}", printable(&s.acct_session_id)),
        format!("    Up:             {}", secs(s.up_for)),
        format!("    Idle:           {}", secs(s.idle)),
        format!(
            "    Connect speed:  tx {} rx {} bit/s",
            s.tx_connect_speed
                .map_or_else(|| "-".to_owned(), |v| v.to_string()),
            s.rx_connect_speed
                .map_or_else(|| "-".to_owned(), |v| v.to_string())
        ),
        format!(
            "    From the user:  {} packets, {} bytes",
            s.packets_in, s.octets_in
        ),
        format!(
            "    To the user:    {} packets, {} bytes",
            s.packets_out, s.octets_out
        ),
        format!(
            "    Intercepted:    {}",
            s.policy
                .snoop
                .map_or_else(|| "no".to_owned(), |a| a.to_string())
        ),
        format!(
            "    Throttled:      {}{}",
            match (s.policy.throttle_in, s.policy.throttle_out) {
                (None, None) => "no".to_owned(),
                (i, o) => format!(
                    "in {} out {} kbit/s",
                    i.map_or("-".to_owned(), |r| r.to_string()),
                    o.map_or("-".to_owned(), |r| r.to_string())
                ),
            },
            s.throttle.map_or_else(String::new, |t| format!(
                " (in {} passed {} delayed {} dropped, out {} passed {} delayed {} dropped)",
                t.in_passed, t.in_delayed, t.in_dropped, t.out_passed, t.out_delayed, t.out_dropped
            ))
        ),
        format!(
            "    Filters:        in {} out {}",
            s.policy.filter_in.as_deref().unwrap_or("-"),
            s.policy.filter_out.as_deref().unwrap_or("-")
        ),
        format!(
            "    Walled garden:  {}",
            if s.policy.garden { "yes" } else { "no" }
        ),
    ]
}

/// A user-supplied string made safe for a terminal (no escape sequences).
fn printable(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

/// The lines of a reply, as `how` says.
pub(super) fn render(reply: Reply, how: &Show) -> Box<dyn Iterator<Item = String>> {
    match (reply, how) {
        (Reply::Error(e), _) => Box::new(std::iter::once(format!("% {e}"))),
        (Reply::Radius(r), Show::Radius) => {
            let servers: Vec<String> = r.servers.iter().map(|s| s.to_string()).collect();
            let mut lines = vec![
                format!(
                    "Servers: {}",
                    if servers.is_empty() {
                        "none".to_owned()
                    } else {
                        servers.join(", ")
                    }
                ),
                format!(
                    "{:<15} {:>9} {:>10} {:>9} {:>11} {:>8} {:>10}",
                    "Client",
                    "In flight",
                    "Requests",
                    "Answered",
                    "Retransmits",
                    "Timeouts",
                    "Mean RTT"
                ),
            ];
            for c in &r.clients {
                let in_flight = if c.kind == "authentication" {
                    r.authentication_in_flight
                } else {
                    r.accounting_in_flight
                };
                lines.push(format!(
                    "{:<15} {:>9} {:>10} {:>9} {:>11} {:>8} {:>10}",
                    c.kind,
                    in_flight,
                    c.requests,
                    c.responses,
                    c.retransmits,
                    c.timeouts,
                    c.mean_rtt_us.map_or_else(
                        || "-".to_owned(),
                        |us| format!("{:.1} ms", us as f64 / 1000.0)
                    ),
                ));
            }
            Box::new(lines.into_iter())
        }
        (Reply::PoolAddresses { summary, addresses }, Show::Pool) => {
            let head = format!(
                "{:<15} {:<4} {:>7} {}",
                "IP Address", "Used", "Session", "User"
            );
            let rows = addresses.into_iter().map(|a| {
                format!(
                    "{:<15} {:<4} {:>7} {}",
                    a.address.to_string(),
                    if a.in_use { "Y" } else { "N" },
                    a.session.map_or_else(String::new, |s| s.to_string()),
                    a.user.as_deref().map(printable).unwrap_or_default(),
                )
            });
            let total = format!(
                "{} addresses, {} in use, {} free",
                summary.size,
                summary.size - summary.free,
                summary.free
            );
            Box::new(
                std::iter::once(head)
                    .chain(rows)
                    .chain(std::iter::once(total)),
            )
        }
        (Reply::Sessions(list), Show::Buckets) => {
            let head = format!(
                "{:>5} {:<20} {:<4} {:>10} {:>10} {:>10} {:>10}",
                "SID", "Username", "Dir", "kbit/s", "Passed", "Delayed", "Dropped"
            );
            let mut rows = vec![head];
            for s in &list {
                let t = s.throttle.unwrap_or_default();
                let user: String = printable(&s.user).chars().take(20).collect();
                for (dir, rate, passed, delayed, dropped) in [
                    (
                        "in",
                        s.policy.throttle_in,
                        t.in_passed,
                        t.in_delayed,
                        t.in_dropped,
                    ),
                    (
                        "out",
                        s.policy.throttle_out,
                        t.out_passed,
                        t.out_delayed,
                        t.out_dropped,
                    ),
                ] {
                    if let Some(rate) = rate {
                        rows.push(format!(
                            "{:>5} {:<20} {:<4} {:>10} {:>10} {:>10} {:>10}",
                            s.id, user, dir, rate, passed, delayed, dropped
                        ));
                    }
                }
            }
            Box::new(rows.into_iter())
        }
        (Reply::Sessions(list), Show::SessionDetail) => Box::new(
            list.iter()
                .flat_map(session_detail)
                .collect::<Vec<_>>()
                .into_iter(),
        ),
        (Reply::Users(list), Show::Users(only)) => {
            let rows: Vec<String> = list
                .into_iter()
                .filter(|(u, _)| only.is_empty() || only.contains(u))
                .map(|(u, n)| format!("{:<32} {n:>8}", printable(&u)))
                .collect();
            if rows.is_empty() && !only.is_empty() {
                return Box::new(std::iter::once(format!(
                    "% No session for {}",
                    only.join(", ")
                )));
            }
            let head = format!("{:<32} {:>8}", "Username", "Sessions");
            Box::new(std::iter::once(head).chain(rows))
        }
        (Reply::Tunnels(list), Show::Tunnels(only)) => {
            let rows: Vec<String> = list
                .into_iter()
                .filter(|t| only.is_empty() || only.contains(&t.id))
                .map(|t| {
                    format!(
                        "{:>5} {:<15} {:>5} {:>8}",
                        t.id.0,
                        t.peer.ip().to_string(),
                        t.peer.port(),
                        t.sessions
                    )
                })
                .collect();
            if rows.is_empty() && !only.is_empty() {
                return Box::new(std::iter::once("% Tunnel not found".to_owned()));
            }
            let head = format!(
                "{:>5} {:<15} {:>5} {:>8}",
                "TID", "Peer", "Port", "Sessions"
            );
            Box::new(std::iter::once(head).chain(rows))
        }
        (Reply::Ended(e), _) => Box::new(std::iter::once(format!(
            "Dropping session {} ({})",
            e.id,
            printable(&e.user)
        ))),
        (r, _) => Box::new(r.lines().into_iter()),
    }
}

/// `show counters`: `name value`, aligned.
pub(super) fn counters(list: &[(String, u64)]) -> Vec<String> {
    let width = list.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    list.iter()
        .map(|(k, v)| format!("{k:<width$} {v:>14}"))
        .collect()
}

/// `uptime`: how long the daemon runs, the sessions, the load average (`/proc/loadavg`'s
/// first three fields) and the bandwidth since the previous `uptime`.
pub(super) fn uptime(
    up_secs: u64,
    sessions: usize,
    loadavg: &str,
    up_kbits: f64,
    down_kbits: f64,
) -> Vec<String> {
    let (d, h, m, s) = (
        up_secs / 86_400,
        up_secs / 3600 % 24,
        up_secs / 60 % 60,
        up_secs % 60,
    );
    let load: Vec<&str> = loadavg.split_whitespace().take(3).collect();
    let load = if load.len() == 3 {
        load.join(", ")
    } else {
        "unknown".to_owned()
    };
    vec![
        format!("up {d} day(s), {h:02}:{m:02}:{s:02}, {sessions} session(s), load average: {load}"),
        format!("Bandwidth: up {up_kbits:.1} kbit/s, down {down_kbits:.1} kbit/s"),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use lns_cli::{Config, Event, Login, Privilege, Session};
    use std::time::Instant;

    /// Types `text` into a logged-in session with `privilege` and returns the command line.
    fn line(c: &Commands, text: &str, privilege: Privilege, config: bool) -> Option<CommandLine> {
        let mut cfg = Config::new("lns");
        cfg.login = Login::Skip(privilege);
        let mut s = Session::new(cfg, c.tree.clone());
        if config {
            s.handle_input(b"configure terminal\r");
            while s.poll_event().is_some() {}
        }
        s.handle_input(format!("{text}\r").as_bytes());
        let _ = Instant::now();
        while let Some(e) = s.poll_event() {
            if let Event::Command(l) = e {
                return Some(l);
            }
        }
        None
    }

    fn req(text: &str) -> Option<Request> {
        let c = Commands::new();
        line(&c, text, Privilege::Privileged, false).map(|l| c.request(&l))
    }

    #[test]
    fn show_commands_map_to_core_commands() {
        assert_eq!(req("show session"), Some(Request::SessionTable));
        assert_eq!(
            req("sh ses 7"),
            Some(Request::Core(Command::ShowSession(7), Show::SessionDetail))
        );
        assert!(matches!(req("sh ses x"), Some(Request::Refuse(_))));
        assert_eq!(
            req("show tunnels 3"),
            Some(Request::Core(
                Command::ShowTunnels,
                Show::Tunnels(vec![TunnelId(3)])
            ))
        );
        assert_eq!(
            req("show tunnel"),
            Some(Request::Core(Command::ShowTunnels, Show::Tunnels(vec![])))
        );
        assert_eq!(
            req("show users bob"),
            Some(Request::Core(
                Command::ShowUsers,
                Show::Users(vec!["bob".into()])
            ))
        );
        assert_eq!(req("show counters"), Some(Request::Counters));
        assert_eq!(
            req("clear counters"),
            Some(Request::Core(Command::ClearCounters, Show::Plain))
        );
        assert_eq!(req("uptime"), Some(Request::Uptime));
        assert_eq!(req("show version"), Some(Request::Version));
        assert_eq!(req("write memory"), Some(Request::WriteMemory));
        assert_eq!(
            req("write terminal"),
            Some(Request::Core(Command::ShowRunningConfig, Show::Plain))
        );
    }

    #[test]
    fn drop_commands_map_and_check_their_ids() {
        assert_eq!(
            req("drop session 12"),
            Some(Request::Core(
                Command::DropSession {
                    target: Target::Session(12),
                    reason: None
                },
                Show::Dropped
            ))
        );
        assert_eq!(
            req("drop user alice"),
            Some(Request::Core(
                Command::DropSession {
                    target: Target::User("alice".into()),
                    reason: None
                },
                Show::Dropped
            ))
        );
        assert_eq!(
            req("drop tunnel 5"),
            Some(Request::Core(
                Command::DropTunnel {
                    tunnel: TunnelId(5)
                },
                Show::Plain
            ))
        );
        assert!(matches!(req("drop tunnel 0"), Some(Request::Refuse(_))));
        assert!(matches!(req("drop tunnel 70000"), Some(Request::Refuse(_))));
        assert!(matches!(req("drop session -1"), Some(Request::Refuse(_))));
    }

    #[test]
    fn privileged_commands_are_not_offered_to_unprivileged_users() {
        let c = Commands::new();
        for text in [
            "drop session 1",
            "show running-config",
            "show counters",
            "clear counters",
            "write memory",
            "throttle bob",
        ] {
            assert_eq!(
                line(&c, text, Privilege::Unprivileged, false),
                None,
                "{text}"
            );
        }
        assert!(line(&c, "show session", Privilege::Unprivileged, false).is_some());
    }

    #[test]
    fn set_in_configuration_mode() {
        let c = Commands::new();
        let l = line(&c, "set debug 3", Privilege::Privileged, true).unwrap();
        assert_eq!(
            c.request(&l),
            Request::Core(
                Command::Set {
                    key: "debug".into(),
                    value: "3".into()
                },
                Show::Plain
            )
        );
        let l = line(&c, "set hostname \"a b\"", Privilege::Privileged, true).unwrap();
        let Request::Core(Command::Set { value, .. }, _) = c.request(&l) else {
            panic!()
        };
        assert_eq!(
            lns_config::config::parse("t", &format!("set hostname {value}"))
                .unwrap()
                .config
                .settings
                .hostname
                .as_deref(),
            Some("a b")
        );
        assert_eq!(line(&c, "set debug 3", Privilege::Privileged, false), None);
    }

    #[test]
    fn secrets_are_not_logged() {
        let c = Commands::new();
        let l = line(
            &c,
            "set radius_secret \"s3cret\"",
            Privilege::Privileged,
            true,
        )
        .unwrap();
        assert_eq!(loggable(&l), "set radius_secret (value not logged)");
        let l = line(&c, "set debug 3", Privilege::Privileged, true).unwrap();
        assert_eq!(loggable(&l), "set debug 3");
    }

    #[test]
    fn policy_commands_parse_into_the_endpoints() {
        let user = || Target::User("bob".into());
        let core = |t| match req(t) {
            Some(Request::Core(c, _)) => c,
            other => panic!("{t}: {other:?}"),
        };
        assert_eq!(
            core("throttle bob"),
            Command::Throttle {
                target: user(),
                rates: lns_core::Rates::default()
            }
        );
        assert_eq!(
            core("throttle bob in 512 out 2048"),
            Command::Throttle {
                target: user(),
                rates: lns_core::Rates {
                    inbound: Some(512),
                    outbound: Some(2048)
                }
            }
        );
        assert_eq!(
            core("throttle 7 1000"),
            Command::Throttle {
                target: Target::Session(7),
                rates: lns_core::Rates {
                    inbound: Some(1000),
                    outbound: Some(1000)
                }
            }
        );
        assert_eq!(
            core("no throttle bob"),
            Command::Unthrottle { target: user() }
        );
        assert_eq!(
            core("snoop bob 10.0.0.1 5000"),
            Command::Snoop {
                target: user(),
                to: Some("10.0.0.1:5000".parse().unwrap())
            }
        );
        assert_eq!(
            core("filter bob in web out mail"),
            Command::Filter {
                target: user(),
                inbound: Some("web".into()),
                outbound: Some("mail".into())
            }
        );
        assert_eq!(
            core("show access-list web"),
            Command::ShowAccessLists {
                name: Some("web".into())
            }
        );
        for bad in [
            "throttle bob fast",
            "throttle bob sideways 5",
            "snoop bob 10.0.0.1",
            "snoop bob nowhere 5000",
            "filter bob in",
            "filter bob up web",
        ] {
            assert!(matches!(req(bad), Some(Request::Refuse(_))), "{bad}");
        }
    }

    #[test]
    fn missing_features_answer_by_name() {
        for (text, name) in [
            ("show cluster", "% show cluster: clustering"),
            ("show bgp", "% show bgp: BGP"),
        ] {
            let Some(Request::Refuse(r)) = req(text) else {
                panic!("{text}")
            };
            assert!(r.starts_with(name), "{text}: {r}");
            assert!(r.ends_with("not implemented in this version"), "{r}");
        }
    }

    fn info(id: u32, user: &str) -> SessionInfo {
        SessionInfo {
            id,
            tunnel: TunnelId(3),
            call: l2tp::SessionId(9),
            user: user.into(),
            address: Some(Ipv4Addr::new(10, 9, 0, id as u8)),
            peer: "192.0.2.7:1701".parse().unwrap(),
            calling_station: "0123\x1b[2J".into(),
            up_for: Some(61),
            idle: None,
            octets_in: 1000,
            octets_out: 2000,
            packets_in: 1,
            packets_out: 2,
            acct_session_id: "x".into(),
            tx_connect_speed: None,
            rx_connect_speed: None,
            policy: Default::default(),
            throttle: None,
        }
    }

    #[test]
    fn session_table_columns() {
        let lines: Vec<String> = std::iter::once(session_header())
            .chain([info(1, "alice"), info(2, "")].iter().map(session_row))
            .collect();
        assert_eq!(lines.len(), 3);
        let head: Vec<&str> = lines[0].split_whitespace().collect();
        assert_eq!(
            head,
            [
                "SID",
                "TID",
                "Username",
                "IP",
                "I",
                "T",
                "G",
                "opened",
                "downloaded",
                "uploaded",
                "idle",
                "LAC",
                "CLI"
            ]
        );
        let row: Vec<&str> = lines[1].split_whitespace().collect();
        assert_eq!(
            row,
            [
                "1",
                "3",
                "alice",
                "10.9.0.1",
                "N",
                "N",
                "N",
                "61",
                "2000",
                "1000",
                "-",
                "192.0.2.7",
                "0123?[2J"
            ]
        );
        assert!(lines[2].contains(" * "), "no user name yet: {}", lines[2]);
    }

    #[test]
    fn radius_table_has_a_row_per_client() {
        let r = lns_core::RadiusInfo {
            servers: vec!["127.0.0.1:1812".parse().unwrap()],
            authentication_in_flight: 2,
            accounting_in_flight: 0,
            clients: vec![lns_core::RadiusClientInfo {
                kind: "authentication",
                requests: 10,
                retransmits: 1,
                responses: 8,
                timeouts: 0,
                mean_rtt_us: Some(1500),
            }],
        };
        let lines: Vec<String> = render(Reply::Radius(r), &Show::Radius).collect();
        assert_eq!(lines[0], "Servers: 127.0.0.1:1812");
        let row: Vec<&str> = lines[2].split_whitespace().collect();
        assert_eq!(
            row,
            ["authentication", "2", "10", "8", "1", "0", "1.5", "ms"]
        );
    }

    #[test]
    fn session_detail_names_each_field_and_escapes_user_strings() {
        let lines: Vec<String> = render(
            Reply::Sessions(vec![info(1, "alice")]),
            &Show::SessionDetail,
        )
        .collect();
        assert_eq!(lines[0], "Session 1");
        assert!(lines.iter().any(|l| l.trim() == "User:           alice"));
        assert!(lines
            .iter()
            .any(|l| l.contains("From the user:  1 packets, 1000 bytes")));
        assert!(lines
            .iter()
            .any(|l| l.contains("Up:             61 seconds")));
        assert!(lines
            .iter()
            .any(|l| l.contains("Connect speed:  tx - rx - bit/s")));
        let mut fast = info(2, "bob");
        fast.tx_connect_speed = Some(512);
        fast.rx_connect_speed = Some(128);
        let lines: Vec<String> =
            render(Reply::Sessions(vec![fast]), &Show::SessionDetail).collect();
        assert!(
            lines
                .iter()
                .any(|l| l.contains("Connect speed:  tx 512 rx 128 bit/s")),
            "{lines:?}"
        );
        assert!(
            lines.iter().all(|l| !l.contains('\x1b')),
            "no escape sequence from the calling number reaches the terminal"
        );
    }
    #[test]
    fn users_and_tunnels_filter_by_argument() {
        let users = Reply::Users(vec![("alice".into(), 2), ("bob".into(), 1)]);
        let l: Vec<String> = render(users.clone(), &Show::Users(vec!["bob".into()])).collect();
        assert_eq!(l.len(), 2);
        assert!(l[1].starts_with("bob"));
        let l: Vec<String> = render(users, &Show::Users(vec!["carol".into()])).collect();
        assert_eq!(l, ["% No session for carol"]);
        let t = Reply::Tunnels(vec![lns_core::TunnelInfo {
            id: TunnelId(4),
            peer: "192.0.2.1:1701".parse().unwrap(),
            sessions: 2,
        }]);
        let l: Vec<String> = render(t.clone(), &Show::Tunnels(vec![TunnelId(4)])).collect();
        assert_eq!(
            l[1].split_whitespace().collect::<Vec<_>>(),
            ["4", "192.0.2.1", "1701", "2"]
        );
        let l: Vec<String> = render(t, &Show::Tunnels(vec![TunnelId(5)])).collect();
        assert_eq!(l, ["% Tunnel not found"]);
        let l: Vec<String> = render(
            Reply::Error(lns_core::CommandError::NoSuchSession),
            &Show::Dropped,
        )
        .collect();
        assert_eq!(l, ["% session not found"]);
    }

    #[test]
    fn uptime_and_counters_lines() {
        let l = uptime(90_061, 3, "0.10 0.20 0.30 1/100 42", 12.34, 5.0);
        assert_eq!(
            l,
            [
                "up 1 day(s), 01:01:01, 3 session(s), load average: 0.10, 0.20, 0.30",
                "Bandwidth: up 12.3 kbit/s, down 5.0 kbit/s"
            ]
        );
        assert!(uptime(0, 0, "", 0.0, 0.0)[0].ends_with("load average: unknown"));
        let c = counters(&[("a".into(), 1), ("long_name".into(), 22)]);
        assert_eq!(c[0].len(), c[1].len());
        assert!(c[1].starts_with("long_name") && c[1].ends_with("22"));
    }

    #[test]
    fn show_tbf_has_a_row_per_throttled_direction() {
        let mut a = info(1, "alice");
        a.policy.throttle_in = Some(1000);
        a.policy.throttle_out = Some(2000);
        a.throttle = Some(figures(5, 2, 1, 7, 3, 0));
        let mut b = info(2, "bob");
        b.policy.throttle_out = Some(64);
        let lines: Vec<String> = render(Reply::Sessions(vec![a, b]), &Show::Buckets).collect();
        let cells: Vec<Vec<&str>> = lines
            .iter()
            .map(|l| l.split_whitespace().collect())
            .collect();
        assert_eq!(
            cells,
            [
                vec!["SID", "Username", "Dir", "kbit/s", "Passed", "Delayed", "Dropped"],
                vec!["1", "alice", "in", "1000", "5", "2", "1"],
                vec!["1", "alice", "out", "2000", "7", "3", "0"],
                vec!["2", "bob", "out", "64", "0", "0", "0"],
            ]
        );
    }

    fn figures(
        in_passed: u64,
        in_delayed: u64,
        in_dropped: u64,
        out_passed: u64,
        out_delayed: u64,
        out_dropped: u64,
    ) -> lns_core::command::ThrottleFigures {
        lns_core::command::ThrottleFigures {
            in_passed,
            in_delayed,
            in_dropped,
            out_passed,
            out_delayed,
            out_dropped,
        }
    }
}
