//! The telnet CLI: a TCP listener (`cli_bind_address` port 23, or `l2tpns --cli`), one
//! [`lns_cli::Session`] per connection, driven from the daemon's mio loop.
//!
//! Bytes only move here: the session (`lns-cli`) does telnet, login prompts, editing and
//! filters; [`super::cli_commands`] maps lines to [`lns_core::Command`]s and renders the
//! replies; the endpoint decides. Logins are checked against the `users` file; its `enable`
//! entry is the enable password. Without a users file only loopback clients are served, and
//! read-only (there is no enable password to give).
//!
//! Nothing blocks: sockets are non-blocking and edge-triggered; a connection is read only
//! while its session wants input, and written while it has output (WRITABLE is registered
//! only then). Long outputs (`show session` over every session) are produced a few lines at
//! a time while [`lns_cli::Session::can_write`], resumed on the next writable event, so a
//! slow or stalled client holds at most the session's watermark of memory and no time. One
//! wake-up serves a connection for a bounded number of rounds; a busy one is continued on the
//! next loop iteration, after the packets.

use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

use mio::net::{TcpListener, TcpStream};
use mio::{Interest, Token};

use lns_cli::{Config, Event, Login, Privilege, Session};
use lns_config::users::Users;

use super::cli_commands::{self, Commands, Request};
use super::{Daemon, TOKEN_CLI};

/// Connections served at once; more are told so and closed.
pub(super) const MAX_CONNECTIONS: usize = 32;
/// Connection i is `Token(TOKEN_CLI_BASE + i)`.
pub(super) const TOKEN_CLI_BASE: usize = 1 << 21;
/// Reads, event rounds and writes per connection per wake-up.
const ROUNDS: usize = 16;

/// How long a connection may sit at the login prompt (at most the idle timeout): without
/// a limit, 32 connections that never log in lock every operator out.
const LOGIN_TIMEOUT: Duration = Duration::from_secs(60);

/// Sessions fetched from the endpoint at a time for `show session`.
const PAGE: usize = 256;

/// Lines one connection may produce per wake-up. The output buffer's watermark bounds what a
/// reader takes in, but a filter (`| count`, `| include` matching little) swallows lines, so
/// without this `show session | count` over 70 000 sessions rendered them all in one turn
/// and held every packet for 90 ms. About a millisecond of work; the rest on the next turns,
/// after the packets.
const LINES_PER_TURN: usize = 1024;

type Lines = Box<dyn Iterator<Item = String>>;

/// The output of a running command.
enum Job {
    Lines(Lines),
    /// `show session` over the whole table: a page at a time from the endpoint, the next
    /// when the last is written, so neither the time nor the memory grows with the table.
    Sessions {
        /// Where the next page starts (`None`: the last page was fetched).
        next: Option<u32>,
        page: std::vec::IntoIter<lns_core::SessionInfo>,
    },
}

struct Conn {
    stream: TcpStream,
    peer: SocketAddr,
    session: Session,
    /// The output of the running command, produced while the session can take it.
    job: Option<Job>,
    writable_registered: bool,
    /// The socket failed: close at once.
    gone: bool,
    /// The peer sent its last byte: finish what it asked for, then close.
    eof: bool,
    /// The last byte read or written.
    active: Instant,
}

impl Conn {
    /// When this connection is closed for doing nothing: at the login prompt after
    /// [`LOGIN_TIMEOUT`], logged in after `idle`.
    fn idle_deadline(&self, idle: Option<Duration>) -> Option<Instant> {
        let limit = match (self.session.is_logging_in(), idle) {
            (true, Some(i)) => Some(i.min(LOGIN_TIMEOUT)),
            (true, None) => Some(LOGIN_TIMEOUT),
            (false, i) => i,
        }?;
        Some(self.active + limit)
    }
}

pub(super) struct Cli {
    listener: TcpListener,
    conns: Vec<Option<Conn>>,
    commands: Commands,
    /// Connections with work left from their last wake-up.
    again: Vec<usize>,
    /// The data-plane octets at the last `uptime`, for its bandwidth line.
    bandwidth_sample: (Instant, u64, u64),
    /// A logged-in connection with no traffic this long is closed (`None`: never).
    idle: Option<Duration>,
}

/// Who is on a connection, for the log.
fn who(c: &Conn) -> String {
    format!("{}@{}", c.session.user().unwrap_or("-"), c.peer)
}

impl Daemon {
    /// Starts the telnet CLI on `addr`; a logged-in connection idle for `idle` is closed.
    pub fn open_cli(
        &mut self,
        addr: SocketAddr,
        idle: Option<Duration>,
    ) -> Result<(), super::DaemonError> {
        let what = format!("CLI socket TCP {addr}");
        let mut listener = TcpListener::bind(addr).map_err(super::io_err(what.clone()))?;
        self.poll
            .registry()
            .register(&mut listener, TOKEN_CLI, Interest::READABLE)
            .map_err(super::io_err(what))?;
        if !self.users_file {
            log::warn!("CLI on {addr}: no users file: only loopback clients are served, read-only");
        } else if !self.users.has_enable() {
            log::warn!("CLI on {addr}: the users file has no `enable' entry: nobody can enable");
        }
        log::info!("telnet CLI on {addr}");
        let c = self.data_plane_sum();
        self.cli = Some(Cli {
            listener,
            conns: (0..MAX_CONNECTIONS).map(|_| None).collect(),
            commands: Commands::new(),
            again: Vec::new(),
            idle,
            bandwidth_sample: (Instant::now(), c.up_octets, c.down_octets),
        });
        Ok(())
    }

    /// Whether a connection has work left over (the loop must not sleep).
    pub(super) fn cli_busy(&self) -> bool {
        self.cli.as_ref().is_some_and(|c| !c.again.is_empty())
    }

    /// The earliest session timer (login delay) or idle deadline.
    pub(super) fn cli_timeout(&self) -> Option<Instant> {
        let cli = self.cli.as_ref()?;
        cli.conns
            .iter()
            .flatten()
            .flat_map(|c| [c.session.poll_timeout(), c.idle_deadline(cli.idle)])
            .flatten()
            .min()
    }

    /// Session timers that are due, and connections left busy by the last round.
    pub(super) fn cli_tick(&mut self, now: Instant) {
        let Some(cli) = self.cli.as_mut() else {
            return;
        };
        let mut due = std::mem::take(&mut cli.again);
        for (i, slot) in cli.conns.iter_mut().enumerate() {
            if let Some(c) = slot.as_mut() {
                if c.idle_deadline(cli.idle).is_some_and(|t| t <= now) {
                    let note = if c.session.is_logging_in() {
                        "\r\n% Login timed out\r\n"
                    } else {
                        "\r\n% Idle timeout\r\n"
                    };
                    let _ = c.stream.write(note.as_bytes());
                    let _ = self.poll.registry().deregister(&mut c.stream);
                    log::info!(
                        "CLI: {} closed: {}",
                        who(c),
                        note.trim().trim_start_matches("% ")
                    );
                    self.stats.cli_timeouts += 1;
                    *slot = None;
                    continue;
                }
                if c.session.poll_timeout().is_some_and(|t| t <= now) {
                    c.session.handle_timeout(now);
                    due.push(i);
                }
            }
        }
        due.sort_unstable();
        due.dedup();
        for i in due {
            self.cli_service(now, i);
        }
    }

    pub(super) fn cli_event(&mut self, now: Instant, token: Token) {
        if token == TOKEN_CLI {
            self.cli_accept(now);
        } else if let Some(i) = token.0.checked_sub(TOKEN_CLI_BASE) {
            if i < MAX_CONNECTIONS {
                self.cli_service(now, i);
            }
        }
    }

    fn cli_accept(&mut self, now: Instant) {
        loop {
            let Some(cli) = self.cli.as_mut() else {
                return;
            };
            let (mut stream, peer) = match cli.listener.accept() {
                Ok(a) => a,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    log::warn!("CLI accept: {e}");
                    return;
                }
            };
            let local = peer.ip().is_loopback();
            let login = match (self.users_file, local) {
                (true, _) => Login::Required,
                (false, true) => Login::Skip(Privilege::Unprivileged),
                (false, false) => {
                    self.stats.cli_refused += 1;
                    log::warn!("CLI: {peer} refused: no users file, loopback clients only");
                    let _ =
                        stream.write(b"% No users file: this CLI serves local clients only\r\n");
                    continue;
                }
            };
            let Some(slot) = cli.conns.iter().position(Option::is_none) else {
                self.stats.cli_refused += 1;
                log::warn!("CLI: {peer} refused: {MAX_CONNECTIONS} connections already");
                let _ = stream.write(b"% Too many CLI connections\r\n");
                continue;
            };
            if let Err(e) = self.poll.registry().register(
                &mut stream,
                Token(TOKEN_CLI_BASE + slot),
                Interest::READABLE,
            ) {
                log::warn!("CLI {peer}: epoll: {e}");
                continue;
            }
            let _ = stream.set_nodelay(true);
            let mut config = Config::new(self.core.host_name());
            config.login = login;
            self.stats.cli_connections += 1;
            log::info!("CLI: connection from {peer}");
            cli.conns[slot] = Some(Conn {
                stream,
                peer,
                session: Session::new(config, cli.commands.tree.clone()),
                job: None,
                writable_registered: false,
                gone: false,
                eof: false,
                active: now,
            });
            self.cli_service(now, slot);
        }
    }

    /// Reads, answers, produces output and writes for connection `i` until nothing moves
    /// (or [`ROUNDS`] times, then again on the next loop iteration).
    fn cli_service(&mut self, now: Instant, i: usize) {
        let Some(mut c) = self.cli.as_mut().and_then(|cli| cli.conns[i].take()) else {
            return;
        };
        let mut buf = [0u8; 4096];
        let mut busy = true;
        let mut budget = LINES_PER_TURN;
        for _ in 0..ROUNDS {
            let mut moved = false;
            if !c.gone && !c.eof && c.session.wants_input() {
                match c.stream.read(&mut buf) {
                    Ok(0) => c.eof = true,
                    Ok(n) => {
                        c.session.handle_input(&buf[..n]);
                        c.active = now;
                        moved = true;
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => moved = true,
                    Err(_) => c.gone = true,
                }
            }
            while let Some(ev) = c.session.poll_event() {
                moved = true;
                self.cli_answer(now, &mut c, ev);
            }
            while c.job.is_some() && c.session.can_write() && budget > 0 {
                budget -= 1;
                moved = true;
                match self.next_line(now, &mut c) {
                    Some(line) => c.session.write_line(&line),
                    None => {
                        c.job = None;
                        c.session.finish_command();
                    }
                }
            }
            while !c.gone && c.session.pending_output_len() > 0 {
                match c.stream.write(c.session.output()) {
                    Ok(0) => c.gone = true,
                    Ok(n) => {
                        c.session.consume_output(n);
                        c.active = now;
                        moved = true;
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(_) => c.gone = true,
                }
            }
            if c.gone {
                busy = false;
                break;
            }
            if budget == 0 && c.job.is_some() {
                // Out of lines for this turn, not out of work: again after the packets.
                break;
            }
            if !moved {
                busy = false;
                break;
            }
        }
        let drained = c.session.pending_output_len() == 0;
        let done = c.gone
            || (c.session.is_closed() && drained)
            || (c.eof && drained && c.job.is_none() && !c.session.is_running());
        if done {
            let _ = self.poll.registry().deregister(&mut c.stream);
            log::info!("CLI: {} disconnected", who(&c));
            return;
        }
        let want_writable = c.session.pending_output_len() > 0;
        if want_writable != c.writable_registered {
            let interest = if want_writable {
                Interest::READABLE | Interest::WRITABLE
            } else {
                Interest::READABLE
            };
            if self
                .poll
                .registry()
                .reregister(&mut c.stream, Token(TOKEN_CLI_BASE + i), interest)
                .is_ok()
            {
                c.writable_registered = want_writable;
            }
        }
        if let Some(cli) = self.cli.as_mut() {
            if busy {
                cli.again.push(i);
            }
            cli.conns[i] = Some(c);
        }
    }

    /// The next line of `c`'s job; `None` at its end.
    fn next_line(&mut self, now: Instant, c: &mut Conn) -> Option<String> {
        loop {
            match c.job.as_mut()? {
                Job::Lines(lines) => return lines.next(),
                Job::Sessions { next, page } => {
                    if let Some(s) = page.next() {
                        return Some(cli_commands::session_row(&s));
                    }
                    let from = (*next)?;
                    let command = lns_core::Command::ShowSessionsPage { from, limit: PAGE };
                    let lns_core::Reply::SessionsPage { sessions, next: n } =
                        self.core.handle_command(now, command)
                    else {
                        return None;
                    };
                    *next = n;
                    *page = sessions.into_iter();
                }
            }
        }
    }

    fn cli_answer(&mut self, now: Instant, c: &mut Conn, ev: Event) {
        match ev {
            Event::Authenticate { user, password } => {
                // `enable` holds the enable password; it is nobody's login.
                let ok = user != "enable" && self.users.verify(&user, &password);
                if ok {
                    log::info!("CLI: {user}@{} logged in", c.peer);
                } else {
                    self.stats.cli_logins_failed += 1;
                    log::warn!("CLI: login as {user:?} from {} refused", c.peer);
                }
                c.session
                    .auth_result(now, ok.then_some(Privilege::Unprivileged));
            }
            Event::EnableAuthenticate { password } => {
                let ok = self.users_file && self.users.verify_enable(&password);
                if ok {
                    log::info!("CLI: {} enabled", who(c));
                } else {
                    self.stats.cli_logins_failed += 1;
                    log::warn!("CLI: enable by {} refused", who(c));
                }
                c.session.enable_result(ok);
            }
            Event::Command(line) => {
                self.stats.cli_commands += 1;
                log::info!("CLI {}: {}", who(c), cli_commands::loggable(&line));
                let request = self
                    .cli
                    .as_ref()
                    .map(|cli| cli.commands.request(&line))
                    .unwrap_or(Request::Refuse(String::new()));
                c.job = Some(if request == Request::SessionTable {
                    c.session.write_line(&cli_commands::session_header());
                    Job::Sessions {
                        next: Some(0),
                        page: Vec::new().into_iter(),
                    }
                } else {
                    Job::Lines(self.cli_run(now, request, &who(c)))
                });
            }
            Event::Interrupt => {
                c.job = None;
                c.session.finish_command();
            }
        }
    }

    fn cli_run(&mut self, now: Instant, request: Request, who: &str) -> Lines {
        let one = |l: String| -> Lines { Box::new(std::iter::once(l)) };
        match request {
            Request::Core(command, show) => {
                let reply = self.core.handle_command(now, command);
                self.carry_out();
                match &reply {
                    lns_core::Reply::Ended(e) => {
                        log::info!("CLI {who}: drop session {} ({})", e.id, e.user)
                    }
                    lns_core::Reply::TunnelCleared { tunnel, sessions } => {
                        log::info!("CLI {who}: drop tunnel {tunnel} ({sessions} session(s))")
                    }
                    lns_core::Reply::Reconfigured { changed, .. } if !changed.is_empty() => {
                        log::info!("CLI {who}: set: changed {}", changed.join(" "))
                    }
                    lns_core::Reply::CountersCleared => {
                        self.clear_counters();
                        log::info!("CLI {who}: counters cleared");
                    }
                    _ => {}
                }
                cli_commands::render(reply, &show)
            }
            Request::Counters => Box::new(cli_commands::counters(&self.counters()).into_iter()),
            Request::Version => one(format!("l2tpns {}", env!("CARGO_PKG_VERSION"))),
            Request::Plugins => Box::new(
                std::iter::once("Plugins loaded:".to_owned()).chain(
                    self.core
                        .plugin_names()
                        .into_iter()
                        .map(|p| format!("  {p}")),
                ),
            ),
            Request::Uptime => {
                let c = self.data_plane_sum();
                let loadavg = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
                let (then, up0, down0) = self
                    .cli
                    .as_ref()
                    .map_or((self.started, 0, 0), |cli| cli.bandwidth_sample);
                let secs = now.saturating_duration_since(then).as_secs_f64().max(0.001);
                let kbits = |a: u64, b: u64| a.saturating_sub(b) as f64 * 8.0 / 1000.0 / secs;
                let lines = cli_commands::uptime(
                    now.saturating_duration_since(self.started).as_secs(),
                    self.core.session_count(),
                    &loadavg,
                    kbits(c.up_octets, up0),
                    kbits(c.down_octets, down0),
                );
                if let Some(cli) = self.cli.as_mut() {
                    cli.bandwidth_sample = (now, c.up_octets, c.down_octets);
                }
                Box::new(lines.into_iter())
            }
            Request::WriteMemory => {
                let lines = match self.write_memory() {
                    Ok(path) => {
                        log::info!("CLI {who}: wrote {path}");
                        format!("Configuration written to {path}")
                    }
                    Err(e) => {
                        log::error!("CLI {who}: write memory: {e}");
                        format!("% write memory: {e}")
                    }
                };
                one(lines)
            }
            Request::Reload => {
                self.reload(now);
                one("Configuration files re-read (see the log)".to_owned())
            }
            Request::Refuse(text) => one(text),
            Request::SessionTable => Box::new(std::iter::empty()),
        }
    }

    /// `write memory`: the running configuration into the startup-config, keeping the file's
    /// comments and order ([`lns_config::config::rewrite`]); a file that no longer parses is
    /// replaced by the full rendering. Atomic: a temporary file beside it with the same mode,
    /// fsync, rename, fsync of the directory.
    fn write_memory(&self) -> Result<String, String> {
        let path = &self.config_path;
        let shown = path.display().to_string();
        let original = std::fs::read_to_string(path).map_err(|e| format!("{shown}: {e}"))?;
        let text = match lns_config::config::rewrite(&shown, &original, self.config()) {
            Ok(t) => t,
            Err(e) => {
                log::warn!("write memory: {shown} does not parse ({e}); writing it in full");
                self.config().render()
            }
        };
        let mode = std::fs::metadata(path)
            .map(|m| m.permissions().mode() & 0o7777)
            .unwrap_or(0o600);
        let dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or_else(|| Path::new("."));
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "startup-config".to_owned());
        // The one atomic writer: temporary file, fsync, rename, fsync of the directory.
        crate::state_io::write_atomically(dir, &name, |f| {
            f.write_all(text.as_bytes())?;
            f.set_permissions(std::fs::Permissions::from_mode(mode))
        })
        .map_err(|e| format!("{shown}: {e}"))?;
        Ok(shown)
    }

    /// Re-reads the users file beside the startup-config (SIGHUP); on an error the old
    /// logins stay.
    pub(super) fn reload_users(&mut self) {
        let path = crate::startup::sibling(&self.config_path, crate::startup::USERS_FILE);
        let shown = path.display().to_string();
        match std::fs::read_to_string(&path) {
            Ok(text) => match Users::parse(&shown, &text) {
                Ok(u) => {
                    self.users = u;
                    self.users_file = true;
                }
                Err(es) => {
                    for e in es {
                        log::error!("reload: {e}");
                    }
                    log::error!("reload: keeping the previous CLI users");
                }
            },
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                self.users = Users::default();
                self.users_file = false;
            }
            Err(e) => log::error!("reload: {shown}: {e}; keeping the previous CLI users"),
        }
    }
}
