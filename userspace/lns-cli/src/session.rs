//! One CLI connection: telnet, login, the line editor, command dispatch, filtered output and
//! back-pressure. See the crate documentation for the call contract.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::filter::{self, Filters};
use crate::line::{Echo, Editor, History, Key, KeyDecoder, Outcome, HISTORY_LEN};
use crate::telnet::{self, Telnet};
use crate::tree::{split, Builtin, CommandTree, Ctx, Mode, NodeId, Privilege};

/// Keystrokes kept while the session is busy (waiting for the caller); beyond this the
/// session drops input, so the driver stops reading when [`Session::wants_input`] is false
/// and lets TCP hold the rest.
pub const TYPEAHEAD_LIMIT: usize = 4096;

/// How the connection starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Login {
    /// `Username:` / `Password:`, checked by the caller ([`Event::Authenticate`]).
    Required,
    /// Straight to the prompt with this privilege (a loopback connection without a users
    /// file, as the caller decides).
    Skip(Privilege),
}

/// Session settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The prompt's name: `HOSTNAME>`, `HOSTNAME#`, `HOSTNAME(config)#`.
    pub hostname: String,
    pub login: Login,
    /// Failed logins before the session closes.
    pub max_login_attempts: u32,
    /// Pause after a failed login before the next prompt (or the close), so guessing is slow.
    pub login_failure_delay: Duration,
    pub history_len: usize,
    /// The caller writes command output only while [`Session::pending_output_len`] is below
    /// this ([`Session::can_write`]).
    pub output_watermark: usize,
    /// Hard cap: command output written while more than this is buffered is dropped (and
    /// counted), so a caller that ignores the watermark still cannot grow the buffer
    /// without bound. At least `output_watermark`.
    pub output_limit: usize,
    /// Text sent once before the first prompt.
    pub banner: Option<String>,
}

impl Config {
    pub fn new(hostname: &str) -> Self {
        Config {
            hostname: hostname.to_string(),
            login: Login::Required,
            max_login_attempts: 3,
            login_failure_delay: Duration::from_secs(2),
            history_len: HISTORY_LEN,
            output_watermark: 64 * 1024,
            output_limit: 1024 * 1024,
            banner: None,
        }
    }
}

/// A complete, matched command line for the caller to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandLine {
    /// The node the keywords reached (compare with the ids [`CommandTree::add`] returned).
    pub node: NodeId,
    /// The keywords' full names (`["show", "session"]` for `sh ses`).
    pub path: Vec<String>,
    /// The words after the keywords (quotes removed).
    pub args: Vec<String>,
    /// The line as typed, filters included (for logging).
    pub line: String,
    pub privilege: Privilege,
    pub mode: Mode,
}

/// What the session needs from the caller. Poll with [`Session::poll_event`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Check a login; answer with [`Session::auth_result`].
    Authenticate { user: String, password: String },
    /// Check the `enable` password; answer with [`Session::enable_result`].
    EnableAuthenticate { password: String },
    /// Run a command: [`Session::write_line`] its output, then [`Session::finish_command`].
    Command(CommandLine),
    /// The user pressed ^C while a command ran: stop its output and call
    /// [`Session::finish_command`].
    Interrupt,
}

#[derive(Debug)]
enum State {
    Username,
    Password {
        user: String,
    },
    /// [`Event::Authenticate`] is out.
    AuthWait {
        user: String,
    },
    /// After a failed login: until `until`, then the next `Username:` or the close.
    Delay {
        until: Instant,
        close: bool,
    },
    Prompt,
    EnablePassword,
    /// [`Event::EnableAuthenticate`] is out.
    EnableWait,
    /// A command's output is being written.
    Running {
        filters: Filters,
        interrupted: bool,
    },
    Closed,
}

/// One telnet CLI connection, sans I/O.
#[derive(Debug)]
pub struct Session {
    config: Config,
    tree: CommandTree,
    telnet: Telnet,
    keys: KeyDecoder,
    editor: Editor,
    history: History,
    state: State,
    privilege: Privilege,
    mode: Mode,
    user: Option<String>,
    failures: u32,
    typeahead: VecDeque<u8>,
    /// Encoded output; `out[out_start..]` is pending.
    out: Vec<u8>,
    out_start: usize,
    /// Raw (not yet telnet-encoded) output of the editor.
    scratch: Vec<u8>,
    events: VecDeque<Event>,
    dropped_lines: u64,
    dropped_notices: u64,
}

impl Session {
    /// A new connection: queues the telnet negotiation, the banner and the first prompt.
    pub fn new(mut config: Config, tree: CommandTree) -> Self {
        config.output_limit = config.output_limit.max(config.output_watermark);
        let mut s = Session {
            history: History::new(config.history_len),
            tree,
            telnet: Telnet::new(),
            keys: KeyDecoder::default(),
            editor: Editor::new(),
            state: State::Username,
            privilege: Privilege::Unprivileged,
            mode: Mode::Exec,
            user: None,
            failures: 0,
            typeahead: VecDeque::new(),
            out: Vec::new(),
            out_start: 0,
            scratch: Vec::new(),
            events: VecDeque::new(),
            dropped_lines: 0,
            dropped_notices: 0,
            config,
        };
        s.telnet.start(&mut s.out);
        if let Some(banner) = s.config.banner.clone() {
            s.text(&banner);
            s.text("\n");
        }
        match s.config.login {
            Login::Required => s.text("Username: "),
            Login::Skip(p) => {
                s.privilege = p;
                s.show_prompt();
            }
        }
        s
    }

    // ---- input ------------------------------------------------------------------------

    /// Bytes read from the socket. Negotiation is answered at once; keystrokes are processed
    /// now if the session is at a prompt, else kept (at most [`TYPEAHEAD_LIMIT`]) until it is.
    pub fn handle_input(&mut self, bytes: &[u8]) {
        if matches!(self.state, State::Closed) {
            return;
        }
        let (mut data, mut replies) = (Vec::new(), Vec::new());
        self.telnet.receive(bytes, &mut data, &mut replies);
        self.out.extend_from_slice(&replies);
        if let State::Running { interrupted, .. } = &mut self.state {
            // ^C aborts the running command and everything typed before it.
            if let Some(pos) = data.iter().rposition(|&b| b == 0x03) {
                if !*interrupted {
                    *interrupted = true;
                    self.events.push_back(Event::Interrupt);
                }
                self.typeahead.clear();
                data.drain(..=pos);
            }
        }
        let room = TYPEAHEAD_LIMIT.saturating_sub(self.typeahead.len());
        self.typeahead.extend(data.iter().take(room));
        self.pump();
    }

    /// Whether the driver should read the socket: false once closed or while the typeahead
    /// is full (the session is waiting for the caller).
    pub fn wants_input(&self) -> bool {
        !matches!(self.state, State::Closed) && self.typeahead.len() < TYPEAHEAD_LIMIT
    }

    /// The next thing the caller must do, if any.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// The answer to [`Event::Authenticate`]: `Some(privilege)` logs in, `None` refuses.
    /// `now` starts the failure delay.
    pub fn auth_result(&mut self, now: Instant, granted: Option<Privilege>) {
        let State::AuthWait { user } = &mut self.state else {
            return;
        };
        let user = std::mem::take(user);
        match granted {
            Some(p) => {
                self.user = Some(user);
                self.privilege = p;
                self.failures = 0;
                self.show_prompt();
                self.pump();
            }
            None => {
                self.failures += 1;
                self.text("% Login invalid\n");
                let close = self.failures >= self.config.max_login_attempts;
                if close {
                    self.text("% Too many failed logins\n");
                }
                self.state = State::Delay {
                    until: now + self.config.login_failure_delay,
                    close,
                };
                self.typeahead.clear();
            }
        }
    }

    /// The answer to [`Event::EnableAuthenticate`].
    pub fn enable_result(&mut self, ok: bool) {
        if !matches!(self.state, State::EnableWait) {
            return;
        }
        if ok {
            self.privilege = Privilege::Privileged;
        } else {
            self.text("% Access denied\n");
        }
        self.show_prompt();
        self.pump();
    }

    /// When [`Session::handle_timeout`] is due (the login failure delay), if ever.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match self.state {
            State::Delay { until, .. } => Some(until),
            _ => None,
        }
    }

    pub fn handle_timeout(&mut self, now: Instant) {
        if let State::Delay { until, close } = self.state {
            if now < until {
                return;
            }
            if close {
                self.close();
            } else {
                self.state = State::Username;
                self.text("Username: ");
                self.pump();
            }
        }
    }

    // ---- command output ------------------------------------------------------------------

    /// Whether a command is running and its output is below the watermark: the caller
    /// writes (more) output lines only while this holds.
    pub fn can_write(&self) -> bool {
        matches!(self.state, State::Running { .. })
            && self.pending_output_len() < self.config.output_watermark
    }

    /// One line of the running command's output (a `\n` inside starts another line). The
    /// line goes through the command's filters; it is dropped (and counted, and reported
    /// at the end) if more than [`Config::output_limit`] is buffered. Ignored when no command
    /// is running.
    pub fn write_line(&mut self, text: &str) {
        let State::Running { filters, .. } = &mut self.state else {
            return;
        };
        for line in text.split('\n') {
            let line = line.strip_suffix('\r').unwrap_or(line);
            if !filters.pass(line) {
                continue;
            }
            if self.out.len() - self.out_start > self.config.output_limit {
                self.dropped_lines += 1;
                continue;
            }
            telnet::encode(line.as_bytes(), &mut self.out);
            self.out.extend_from_slice(b"\r\n");
        }
    }

    /// The running command is done: the filters' last lines (`count`) and the prompt.
    pub fn finish_command(&mut self) {
        let State::Running { filters, .. } = &mut self.state else {
            return;
        };
        for line in filters.finish() {
            self.text(&line);
            self.text("\n");
        }
        if self.dropped_lines > 0 {
            let n = std::mem::take(&mut self.dropped_lines);
            self.text(&format!("% Output truncated: {n} lines dropped\n"));
        }
        self.show_prompt();
        self.pump();
    }

    /// An asynchronous line (a log message) for a logged-in user: printed above the line
    /// being edited, which is then redrawn. Dropped (returns false, counted in
    /// [`Session::dropped_notices`]) before login or while the output is above the watermark,
    /// so a stalled client costs the log stream nothing.
    pub fn notify_line(&mut self, text: &str) -> bool {
        let logged_in = matches!(
            self.state,
            State::Prompt | State::EnablePassword | State::EnableWait | State::Running { .. }
        );
        if !logged_in {
            return false;
        }
        if self.pending_output_len() >= self.config.output_watermark {
            self.dropped_notices += 1;
            return false;
        }
        let editing = match self.state {
            State::Prompt => Some(Echo::On),
            State::EnablePassword => Some(Echo::Off),
            _ => None,
        };
        if editing.is_some() {
            self.raw(b"\r\x1b[K");
        }
        self.text(text);
        self.text("\n");
        if let Some(echo) = editing {
            let prompt = if echo == Echo::On {
                self.prompt()
            } else {
                "Password: ".into()
            };
            self.editor.redraw(&prompt, echo, &mut self.scratch);
            self.flush_scratch();
        }
        true
    }

    // ---- output to the socket ------------------------------------------------------------

    /// Bytes to write to the socket (all of them pending); follow with
    /// [`Session::consume_output`] for what was written.
    pub fn output(&self) -> &[u8] {
        &self.out[self.out_start..]
    }

    /// `n` bytes of [`Session::output`] were written.
    pub fn consume_output(&mut self, n: usize) {
        self.out_start = (self.out_start + n).min(self.out.len());
        if self.out_start == self.out.len() {
            self.out.clear();
            self.out_start = 0;
        } else if self.out_start > self.out.len() / 2 && self.out_start > 4096 {
            // Compact now and then rather than on every partial write.
            self.out.drain(..self.out_start);
            self.out_start = 0;
        }
    }

    /// All pending output, consumed (for drivers that copy anyway, and tests).
    pub fn take_output(&mut self) -> Vec<u8> {
        let out = self.output().to_vec();
        self.consume_output(out.len());
        out
    }

    pub fn pending_output_len(&self) -> usize {
        self.out.len() - self.out_start
    }

    // ---- state ------------------------------------------------------------------------

    /// The session is over (logout, too many failed logins): write out the pending output,
    /// then close the socket.
    pub fn is_closed(&self) -> bool {
        matches!(self.state, State::Closed)
    }

    /// Whether the session is still at the login (user name, password, the delay after a
    /// failure): a driver gives that stage a shorter idle limit than a logged-in user.
    pub fn is_logging_in(&self) -> bool {
        matches!(
            self.state,
            State::Username | State::Password { .. } | State::AuthWait { .. } | State::Delay { .. }
        )
    }

    /// Whether a command is running (between [`Event::Command`] and
    /// [`Session::finish_command`]).
    pub fn is_running(&self) -> bool {
        matches!(self.state, State::Running { .. })
    }

    pub fn privilege(&self) -> Privilege {
        self.privilege
    }

    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// The logged-in user (`None` before login and when login was skipped).
    pub fn user(&self) -> Option<&str> {
        self.user.as_deref()
    }

    /// The client's window (width, height) if it sent NAWS.
    pub fn window_size(&self) -> Option<(u16, u16)> {
        self.telnet.window_size()
    }

    pub fn tree(&self) -> &CommandTree {
        &self.tree
    }

    /// A new name for the prompt (`set hostname`), used from the next prompt on.
    pub fn set_hostname(&mut self, hostname: &str) {
        self.config.hostname = hostname.to_string();
    }

    /// Log lines [`Session::notify_line`] dropped.
    pub fn dropped_notices(&self) -> u64 {
        self.dropped_notices
    }

    /// The prompt for the current privilege and mode.
    pub fn prompt(&self) -> String {
        let mode = if self.mode == Mode::Config {
            "(config)"
        } else {
            ""
        };
        let end = if self.privilege == Privilege::Privileged {
            '#'
        } else {
            '>'
        };
        format!("{}{mode}{end}", self.config.hostname)
    }

    // ---- internals ------------------------------------------------------------------------

    fn ctx(&self) -> Ctx {
        Ctx {
            privilege: self.privilege,
            mode: self.mode,
        }
    }

    /// Text with `\n` line ends, telnet-encoded.
    fn text(&mut self, s: &str) {
        telnet::encode(s.as_bytes(), &mut self.out);
    }

    fn raw(&mut self, b: &[u8]) {
        telnet::encode(b, &mut self.out);
    }

    fn flush_scratch(&mut self) {
        telnet::encode(&self.scratch, &mut self.out);
        self.scratch.clear();
    }

    fn show_prompt(&mut self) {
        self.state = State::Prompt;
        let p = self.prompt();
        self.text(&p);
    }

    fn close(&mut self) {
        self.state = State::Closed;
        self.typeahead.clear();
    }

    /// Feeds kept keystrokes to the editor while the session is at a prompt.
    fn pump(&mut self) {
        while matches!(
            self.state,
            State::Username | State::Password { .. } | State::Prompt | State::EnablePassword
        ) {
            let Some(b) = self.typeahead.pop_front() else {
                break;
            };
            if let Some(key) = self.keys.feed(b) {
                self.key(key);
            }
        }
    }

    fn edit(&mut self, key: Key, echo: Echo, with_history: bool) -> Outcome {
        let history = with_history.then_some(&self.history);
        let outcome = self.editor.key(key, echo, history, &mut self.scratch);
        self.flush_scratch();
        outcome
    }

    fn key(&mut self, key: Key) {
        match &self.state {
            State::Username => match self.edit(key, Echo::On, false) {
                Outcome::Line(user) if !user.trim().is_empty() => {
                    self.state = State::Password {
                        user: user.trim().to_string(),
                    };
                    self.text("Password: ");
                }
                Outcome::Line(_) => self.text("Username: "),
                Outcome::Cancel => self.text("\nUsername: "),
                Outcome::Eof => {
                    self.text("\n");
                    self.close();
                }
                _ => {}
            },
            State::Password { user } => {
                let user = user.clone();
                match self.edit(key, Echo::Off, false) {
                    Outcome::Line(password) => {
                        self.events.push_back(Event::Authenticate {
                            user: user.clone(),
                            password,
                        });
                        self.state = State::AuthWait { user };
                    }
                    Outcome::Cancel => {
                        self.state = State::Username;
                        self.text("\nUsername: ");
                    }
                    _ => {}
                }
            }
            State::EnablePassword => match self.edit(key, Echo::Off, false) {
                Outcome::Line(password) => {
                    self.events
                        .push_back(Event::EnableAuthenticate { password });
                    self.state = State::EnableWait;
                }
                Outcome::Cancel => {
                    self.text("\n");
                    self.show_prompt();
                }
                _ => {}
            },
            State::Prompt => self.prompt_key(key),
            _ => {}
        }
    }

    fn prompt_key(&mut self, key: Key) {
        match key {
            Key::Char(b'?') => return self.help(),
            Key::Tab => return self.complete(),
            Key::Redraw => {
                self.text("\n");
                return self.redraw();
            }
            _ => {}
        }
        match self.edit(key, Echo::On, true) {
            Outcome::Line(line) => self.execute(line),
            Outcome::Cancel => {
                self.text("\n");
                self.show_prompt();
            }
            Outcome::Eof => {
                self.text("\n");
                self.exit();
            }
            Outcome::Suspend if self.mode == Mode::Config => {
                self.editor.clear();
                self.text("\n");
                self.mode = Mode::Exec;
                self.show_prompt();
            }
            Outcome::Suspend | Outcome::Edited => {}
        }
    }

    fn redraw(&mut self) {
        let p = self.prompt();
        self.editor.redraw(&p, Echo::On, &mut self.scratch);
        self.flush_scratch();
    }

    /// `exit` (and ^D): leaves configuration mode, or the session.
    fn exit(&mut self) {
        if self.mode == Mode::Config {
            self.mode = Mode::Exec;
            self.show_prompt();
        } else {
            self.close();
        }
    }

    /// The words before the cursor and the word being typed.
    fn words_at_cursor(&self) -> (Vec<String>, String, Option<String>) {
        let s = split(self.editor.before_cursor());
        let mut words = s.words;
        let partial = if s.trailing_space {
            String::new()
        } else {
            words.pop().unwrap_or_default()
        };
        (words, partial, s.filters)
    }

    fn help(&mut self) {
        let (words, partial, filters) = self.words_at_cursor();
        let listing = match filters {
            Some(f) => Ok(filter::help(&f)),
            None => self.tree.help(&words, &partial, self.ctx()).map(|mut c| {
                if c.last().is_some_and(|(n, _)| n == "<cr>") {
                    c.push(("|".into(), "Output modifiers".into()));
                }
                c
            }),
        };
        self.text("\n");
        match listing {
            Ok(items) => {
                let width = items.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
                for (name, help) in items {
                    let line = format!("  {name:<width$}  {help}");
                    self.text(line.trim_end());
                    self.text("\n");
                }
            }
            Err(e) => {
                self.text(&e.to_string());
                self.text("\n");
            }
        }
        self.redraw();
    }

    fn complete(&mut self) {
        let (words, partial, filters) = self.words_at_cursor();
        let candidates: Vec<String> = match filters {
            Some(f) => {
                let last = f.rsplit('|').next().unwrap_or("").trim_start().to_string();
                if last.contains(char::is_whitespace) || partial != last {
                    Vec::new()
                } else {
                    filter::FILTERS
                        .iter()
                        .map(|(n, _)| n.to_string())
                        .filter(|n| {
                            n.len() >= last.len() && n[..last.len()].eq_ignore_ascii_case(&last)
                        })
                        .collect()
                }
            }
            None => self.tree.completions(&words, &partial, self.ctx()),
        };
        match candidates.as_slice() {
            [] => self.raw(&[0x07]),
            [one] => {
                let mut rest = one.as_bytes()[partial.len()..].to_vec();
                rest.push(b' ');
                self.editor.insert(&rest, true, &mut self.scratch);
                self.flush_scratch();
            }
            many => {
                let common = many.iter().skip(1).fold(many[0].len(), |len, c| {
                    many[0]
                        .bytes()
                        .zip(c.bytes())
                        .take(len)
                        .take_while(|(a, b)| a == b)
                        .count()
                });
                if common > partial.len() {
                    let rest = many[0].as_bytes()[partial.len()..common].to_vec();
                    self.editor.insert(&rest, true, &mut self.scratch);
                    self.flush_scratch();
                } else {
                    self.text("\n");
                    self.text(&many.join("  "));
                    self.text("\n");
                    self.redraw();
                }
            }
        }
    }

    fn error(&mut self, e: impl std::fmt::Display) {
        self.text(&e.to_string());
        self.text("\n");
        self.show_prompt();
    }

    fn execute(&mut self, line: String) {
        self.history.push(&line);
        let s = split(&line);
        if s.words.is_empty() {
            return self.show_prompt();
        }
        let filters = match s.filters.as_deref().map(Filters::parse).transpose() {
            Ok(f) => f.unwrap_or_default(),
            Err(e) => return self.error(e),
        };
        let ctx = self.ctx();
        let resolved = match self.tree.walk(&s.words, ctx) {
            Ok(r) => r,
            Err(e) => return self.error(e),
        };
        if let Err(e) = self.tree.check(&resolved) {
            return self.error(e);
        }
        match self.tree.builtin(resolved.node) {
            None => {
                let path = self
                    .tree
                    .path(resolved.node)
                    .into_iter()
                    .map(String::from)
                    .collect();
                self.events.push_back(Event::Command(CommandLine {
                    node: resolved.node,
                    path,
                    args: resolved.args,
                    line,
                    privilege: self.privilege,
                    mode: self.mode,
                }));
                self.state = State::Running {
                    filters,
                    interrupted: false,
                };
            }
            Some(Builtin::Enable) if self.privilege == Privilege::Privileged => self.show_prompt(),
            Some(Builtin::Enable) => {
                self.state = State::EnablePassword;
                self.text("Password: ");
            }
            Some(Builtin::Disable) => {
                self.privilege = Privilege::Unprivileged;
                self.mode = Mode::Exec;
                self.show_prompt();
            }
            Some(Builtin::ConfigureTerminal) => {
                self.mode = Mode::Config;
                self.show_prompt();
            }
            Some(Builtin::End) => {
                self.mode = Mode::Exec;
                self.show_prompt();
            }
            Some(Builtin::ExitConfig) | Some(Builtin::Logout) => self.exit(),
            Some(Builtin::Help) => {
                self.state = State::Running {
                    filters,
                    interrupted: false,
                };
                for line in HELP_TEXT {
                    self.write_line(line);
                }
                self.finish_command();
            }
            Some(Builtin::History) => {
                self.state = State::Running {
                    filters,
                    interrupted: false,
                };
                let lines: Vec<String> = self
                    .history
                    .iter()
                    .enumerate()
                    .map(|(i, l)| format!("{:4}  {l}", i + 1))
                    .collect();
                for line in lines {
                    self.write_line(&line);
                }
                self.finish_command();
            }
        }
    }
}

const HELP_TEXT: [&str; 9] = [
    "Help may be requested at any point in a command by entering a question mark '?'.",
    "If nothing matches, the help list will be empty; back up until entering '?' shows",
    "the available options. Two styles of help are provided:",
    "1. Full help after a complete word (\"show ?\") lists the words or arguments that",
    "   may follow, with <cr> when the command can be run as it is.",
    "2. Partial help inside a word (\"show ses?\") lists the words starting with it.",
    "Words may be abbreviated as long as they stay unambiguous; Tab completes a word.",
    "Output can be filtered: | include RE, | exclude RE, | begin RE, | count.",
    "Editing: ^A ^E start/end, ^U ^W ^K kill line/word/to end, Up/Down history.",
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::Command;

    fn session(login: Login) -> (Session, NodeId) {
        let mut tree = CommandTree::new();
        let show = tree
            .add(None, Command::new("show", "Show information"))
            .unwrap();
        let v = tree
            .add(
                Some(show),
                Command::new("version", "Show the version").runnable(),
            )
            .unwrap();
        let mut config = Config::new("lns");
        config.login = login;
        let mut s = Session::new(config, tree);
        s.take_output();
        (s, v)
    }

    #[test]
    fn skip_login_goes_straight_to_the_prompt() {
        let mut tree = CommandTree::new();
        tree.add(None, Command::new("x", "").runnable()).unwrap();
        let mut config = Config::new("h");
        config.login = Login::Skip(Privilege::Privileged);
        let mut s = Session::new(config, tree);
        assert_eq!(s.take_output(), b"\xff\xfb\x01\xff\xfb\x03\xff\xfd\x1fh#");
    }

    #[test]
    fn command_event_then_output_then_prompt() {
        let (mut s, v) = session(Login::Skip(Privilege::Unprivileged));
        s.handle_input(b"sh ver\r\n");
        let Some(Event::Command(c)) = s.poll_event() else {
            panic!()
        };
        assert_eq!(
            (c.node, c.path.clone()),
            (v, vec!["show".to_string(), "version".to_string()])
        );
        assert!(s.is_running() && s.can_write());
        s.write_line("0.1");
        s.finish_command();
        assert_eq!(s.take_output(), b"sh ver\r\n0.1\r\nlns>");
    }

    #[test]
    fn typeahead_waits_for_the_running_command() {
        let (mut s, _) = session(Login::Skip(Privilege::Unprivileged));
        s.handle_input(b"show version\rshow version\r");
        assert!(matches!(s.poll_event(), Some(Event::Command(_))));
        assert_eq!(s.poll_event(), None);
        s.finish_command();
        assert!(matches!(s.poll_event(), Some(Event::Command(_))));
    }

    #[test]
    fn ctrl_c_while_running_interrupts_once() {
        let (mut s, _) = session(Login::Skip(Privilege::Unprivileged));
        s.handle_input(b"show version\r");
        s.poll_event();
        s.handle_input(b"abc\x03def\x03");
        assert_eq!(s.poll_event(), Some(Event::Interrupt));
        s.handle_input(b"\x03");
        assert_eq!(s.poll_event(), None);
        s.finish_command();
        assert_eq!(s.editor.line(), "");
    }

    #[test]
    fn typeahead_is_bounded() {
        let (mut s, _) = session(Login::Skip(Privilege::Unprivileged));
        s.handle_input(b"show version\r");
        s.handle_input(&vec![b'x'; TYPEAHEAD_LIMIT * 2]);
        assert_eq!(s.typeahead.len(), TYPEAHEAD_LIMIT);
        assert!(!s.wants_input());
    }

    #[test]
    fn output_beyond_the_hard_limit_is_dropped_and_reported() {
        let mut tree = CommandTree::new();
        tree.add(None, Command::new("big", "").runnable()).unwrap();
        let mut config = Config::new("h");
        config.login = Login::Skip(Privilege::Unprivileged);
        config.output_watermark = 100;
        config.output_limit = 200;
        let mut s = Session::new(config, tree);
        s.take_output();
        s.handle_input(b"big\r");
        s.poll_event();
        for _ in 0..100 {
            s.write_line("0123456789");
        }
        assert!(s.pending_output_len() <= 200 + 12 + 5);
        s.finish_command();
        let out = String::from_utf8(s.take_output()).unwrap();
        assert!(
            out.contains("% Output truncated: 83 lines dropped"),
            "{out}"
        );
    }

    #[test]
    fn notify_before_login_or_above_watermark_is_dropped() {
        let (mut s, _) = session(Login::Required);
        assert!(!s.notify_line("log"));
        let (mut s, _) = session(Login::Skip(Privilege::Unprivileged));
        s.handle_input(b"sh");
        s.take_output();
        assert!(s.notify_line("log"));
        assert_eq!(s.take_output(), b"\r\x1b[Klog\r\nlns>sh");
        s.config.output_watermark = 1;
        s.notify_line("a");
        assert!(!s.notify_line("b"));
        assert_eq!(s.dropped_notices(), 1);
    }

    #[test]
    fn partial_writes_are_consumed_in_order() {
        let (mut s, _) = session(Login::Skip(Privilege::Unprivileged));
        s.handle_input(b"show version\r");
        s.poll_event();
        for i in 0..2000 {
            s.write_line(&format!("line {i}"));
        }
        let mut all = Vec::new();
        while s.pending_output_len() > 0 {
            let n = s.output().len().min(777);
            all.extend_from_slice(&s.output()[..n]);
            s.consume_output(n);
        }
        let text = String::from_utf8(all).unwrap();
        assert!(text.starts_with("show version\r\nline 0\r\n"));
        assert!(text.ends_with("line 1999\r\n"));
    }
}
