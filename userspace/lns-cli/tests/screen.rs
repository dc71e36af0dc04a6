//! Whole telnet byte streams, as Debian's `telnet` sends them (its opening negotiation, then
//! keystrokes with VT100 escape sequences, Enter as CR NUL), through a `Session` and a small
//! driver, checked against the screen a VT100 would show.

use std::time::{Duration, Instant};

use lns_cli::{Command, CommandTree, Config, Event, Login, NodeId, Privilege, Session};

const IAC: u8 = 255;

/// What netkit telnet sends after connecting to port 23: its own offers, then the answers
/// to ours (DO ECHO, WILL NAWS and the window size).
const CLIENT_HELLO: &[u8] = &[
    IAC, 253, 3, // DO SGA
    IAC, 251, 24, // WILL TTYPE
    IAC, 251, 31, // WILL NAWS
    IAC, 251, 32, // WILL TSPEED
    IAC, 251, 33, // WILL LFLOW
    IAC, 251, 34, // WILL LINEMODE
    IAC, 251, 39, // WILL NEW-ENVIRON
    IAC, 253, 5, // DO STATUS
    IAC, 253, 1, // DO ECHO
    IAC, 250, 31, 0, 80, 0, 24, IAC, 240, // SB NAWS 80x24 SE
];

struct Ids {
    version: NodeId,
    session: NodeId,
    servers: NodeId,
    drop_session: NodeId,
    set: NodeId,
}

/// The session, a driver that answers its events like the daemon would, and everything
/// written to the "socket".
struct Term {
    cli: Session,
    ids: Ids,
    wire: Vec<u8>,
    t0: Instant,
    commands: Vec<Vec<String>>,
}

fn tree() -> (CommandTree, Ids) {
    let mut t = CommandTree::new();
    let show = t
        .add(
            None,
            Command::new("show", "Show running system information"),
        )
        .unwrap();
    let version = t
        .add(
            Some(show),
            Command::new("version", "Show the version").runnable(),
        )
        .unwrap();
    let session = t
        .add(
            Some(show),
            Command::new("session", "Show sessions").repeated_arg("<SID>", "Session ID"),
        )
        .unwrap();
    let servers = t
        .add(
            Some(show),
            Command::new("servers", "Show RADIUS servers").runnable(),
        )
        .unwrap();
    let drop = t
        .add(
            None,
            Command::new("drop", "Disconnect a user, tunnel or session").privileged(),
        )
        .unwrap();
    let drop_session = t
        .add(
            Some(drop),
            Command::new("session", "Drop a session").arg("<SID>", "Session ID"),
        )
        .unwrap();
    let set = t
        .add(
            None,
            Command::new("set", "Set a configuration variable")
                .mode(lns_cli::Mode::Config)
                .arg("<KEY>", "Variable name")
                .arg("<VALUE>", "Value"),
        )
        .unwrap();
    (
        t,
        Ids {
            version,
            session,
            servers,
            drop_session,
            set,
        },
    )
}

impl Term {
    fn with_login(login: Login) -> Term {
        let (tree, ids) = tree();
        let mut config = Config::new("lns");
        config.login = login;
        let mut cli = Session::new(config, tree);
        let wire = cli.take_output();
        let mut t = Term {
            cli,
            ids,
            wire,
            t0: Instant::now(),
            commands: Vec::new(),
        };
        t.send(CLIENT_HELLO);
        t
    }

    fn new() -> Term {
        Term::with_login(Login::Required)
    }

    /// Logged in as an unprivileged user, screen cleared.
    fn logged_in() -> Term {
        let mut t = Term::new();
        t.send(b"admin\r\0secret\r\0");
        // The screen as the tests start from it: the prompt, cursor after it.
        t.wire = b"lns>".to_vec();
        t
    }

    fn send(&mut self, bytes: &[u8]) {
        self.cli.handle_input(bytes);
        self.serve();
    }

    fn serve(&mut self) {
        while let Some(event) = self.cli.poll_event() {
            match event {
                Event::Authenticate { user, password } => {
                    let ok = user == "admin" && password == "secret";
                    self.cli
                        .auth_result(self.t0, ok.then_some(Privilege::Unprivileged));
                }
                Event::EnableAuthenticate { password } => {
                    self.cli.enable_result(password == "s3cret")
                }
                Event::Command(c) => {
                    self.commands.push(c.path.clone());
                    if c.node == self.ids.version {
                        self.cli.write_line("l2tpns 0.1.0");
                    } else if c.node == self.ids.session && c.args.is_empty() {
                        for (sid, user) in [(1, "alice"), (2, "bob"), (3, "carol"), (4, "alice2")] {
                            self.cli.write_line(&format!("{sid:4}  {user}"));
                        }
                    } else if c.node == self.ids.session {
                        for a in &c.args {
                            self.cli.write_line(&format!("session {a}"));
                        }
                    } else if c.node == self.ids.servers {
                        self.cli.write_line("radius 192.0.2.1");
                    } else if c.node == self.ids.drop_session {
                        self.cli
                            .write_line(&format!("Dropping session {}", c.args[0]));
                    } else if c.node == self.ids.set {
                        self.cli
                            .write_line(&format!("{} = {}", c.args[0], c.args[1]));
                    }
                    self.cli.finish_command();
                }
                Event::Interrupt => self.cli.finish_command(),
            }
        }
        self.wire.extend(self.cli.take_output());
    }

    fn timeout(&mut self, after: Duration) {
        self.cli.handle_timeout(self.t0 + after);
        self.serve();
    }

    fn screen(&self) -> Vec<String> {
        render(&self.wire)
    }

    /// Clears the recorded output (the session keeps its state).
    fn clear(&mut self) {
        self.wire.clear();
    }
}

/// A minimal VT100: printable characters overwrite, CR, LF, BS, `ESC [ K`; telnet commands
/// are skipped. Rows are returned with trailing blanks trimmed.
fn render(wire: &[u8]) -> Vec<String> {
    let mut rows: Vec<Vec<u8>> = vec![Vec::new()];
    let mut col = 0usize;
    let mut i = 0;
    while i < wire.len() {
        let b = wire[i];
        i += 1;
        let row = rows.last_mut().unwrap();
        match b {
            IAC => match wire.get(i) {
                Some(&IAC) => i += 1,
                Some(251..=254) => i += 2,
                Some(250) => {
                    while i < wire.len() && !(wire[i - 1] == IAC && wire[i] == 240) {
                        i += 1;
                    }
                    i += 1;
                }
                _ => i += 1,
            },
            b'\r' => col = 0,
            b'\n' => {
                rows.push(Vec::new());
            }
            0x08 => col = col.saturating_sub(1),
            0x07 => {}
            0x1b => {
                assert_eq!(&wire[i..i + 2], b"[K", "only ESC [ K is used");
                i += 2;
                row.truncate(col);
            }
            _ => {
                if row.len() <= col {
                    row.resize(col + 1, b' ');
                }
                row[col] = b;
                col += 1;
            }
        }
    }
    let mut out: Vec<String> = rows
        .into_iter()
        .map(|r| String::from_utf8(r).unwrap().trim_end().to_string())
        .collect();
    if out.last().is_some_and(|l| l.is_empty()) {
        out.pop();
    }
    out
}

#[test]
fn negotiation_answers_debian_telnet_without_loops() {
    let (tree, _) = tree();
    let mut cli = Session::new(Config::new("lns"), tree);
    let hello = cli.take_output();
    assert_eq!(&hello[..9], &[IAC, 251, 1, IAC, 251, 3, IAC, 253, 31]);
    assert_eq!(&hello[9..], b"Username: ");
    cli.handle_input(CLIENT_HELLO);
    // Refusals for everything but SGA, NAWS and ECHO, which answer our own requests.
    assert_eq!(
        cli.take_output(),
        [IAC, 254, 24, IAC, 254, 32, IAC, 254, 33, IAC, 254, 34, IAC, 254, 39, IAC, 252, 5]
    );
    assert_eq!(cli.window_size(), Some((80, 24)));
    // Repeating the requests for modes already in force gets no acknowledgement (RFC 854).
    cli.handle_input(&[IAC, 253, 1, IAC, 253, 3, IAC, 251, 31]);
    assert_eq!(cli.take_output(), b"");
}

#[test]
fn login_right() {
    let mut t = Term::new();
    t.send(b"admin\r\0secret\r\0");
    assert_eq!(t.screen(), ["Username: admin", "Password:", "lns>"]);
    assert!(
        !t.wire.windows(6).any(|w| w == b"secret"),
        "password never echoed"
    );
    assert_eq!(t.cli.user(), Some("admin"));
    assert_eq!(t.cli.privilege(), Privilege::Unprivileged);
}

#[test]
fn login_wrong_waits_then_asks_again() {
    let mut t = Term::new();
    t.send(b"admin\r\0guess\r\0");
    assert_eq!(
        t.screen(),
        ["Username: admin", "Password:", "% Login invalid"]
    );
    assert_eq!(t.cli.poll_timeout(), Some(t.t0 + Duration::from_secs(2)));
    t.timeout(Duration::from_secs(1));
    assert_eq!(t.screen().len(), 3, "not before the delay");
    t.timeout(Duration::from_secs(2));
    assert_eq!(t.cli.poll_timeout(), None);
    t.send(b"admin\r\0secret\r\0");
    assert_eq!(t.screen()[3..], ["Username: admin", "Password:", "lns>"]);
}

#[test]
fn three_failed_logins_close() {
    let mut t = Term::new();
    for i in 1..=3 {
        t.send(b"root\r\0root\r\0");
        assert!(!t.cli.is_closed());
        t.timeout(Duration::from_secs(2 * i));
        t.t0 += Duration::from_secs(2 * i);
    }
    assert!(t.cli.is_closed());
    let screen = t.screen();
    assert_eq!(screen.iter().filter(|l| *l == "% Login invalid").count(), 3);
    assert_eq!(screen.last().unwrap(), "% Too many failed logins");
    assert!(!t.cli.wants_input());
}

#[test]
fn skipped_login_starts_at_the_prompt() {
    let t = Term::with_login(Login::Skip(Privilege::Privileged));
    assert_eq!(t.screen(), ["lns#"]);
}

#[test]
fn abbreviations_and_ambiguity() {
    let mut t = Term::logged_in();
    t.send(b"sh ver\r\0");
    t.send(b"sh se\r\0");
    t.send(b"frobnicate\r\0");
    t.send(b"show\r\0");
    t.send(b"SHOW SERV\r\0");
    assert_eq!(
        t.screen(),
        [
            "lns>sh ver",
            "l2tpns 0.1.0",
            "lns>sh se",
            "% Ambiguous command: \"se\"",
            "lns>frobnicate",
            "% Unknown command: \"frobnicate\"",
            "lns>show",
            "% Incomplete command",
            "lns>SHOW SERV",
            "radius 192.0.2.1",
            "lns>"
        ]
    );
}

#[test]
fn question_mark_help_at_several_depths() {
    let mut t = Term::logged_in();
    t.send(b"?");
    assert_eq!(
        t.screen(),
        [
            "lns>",
            "  enable   Turn on privileged commands",
            "  exit     Exit from the EXEC",
            "  help     Description of the interactive help system",
            "  history  Show the command history",
            "  logout   Disconnect",
            "  quit     Disconnect",
            "  show     Show running system information",
            "lns>"
        ]
    );
    t.clear();
    t.send(b"sh ?");
    assert_eq!(
        t.screen(),
        [
            "sh",
            "  servers  Show RADIUS servers",
            "  session  Show sessions",
            "  version  Show the version",
            "lns>sh"
        ]
    );
    t.clear();
    t.send(b"ses?");
    assert_eq!(
        t.screen(),
        ["ses", "  session  Show sessions", "lns>sh ses"]
    );
    t.clear();
    t.send(b"sion 4 ?");
    assert_eq!(
        t.screen(),
        [
            "sion 4",
            "  <SID>  Session ID",
            "  <cr>",
            "  |      Output modifiers",
            "lns>sh session 4"
        ]
    );
    t.clear();
    t.send(b"| ?");
    assert_eq!(
        t.screen(),
        [
            "|",
            "  begin    Begin with the line that matches",
            "  count    Count the lines",
            "  exclude  Exclude lines that match",
            "  include  Include lines that match",
            "lns>sh session 4 |"
        ]
    );
    t.clear();
    // The `?` never enters the line: Enter runs what is shown.
    t.send(b"\x15sh version ?\r\0");
    assert_eq!(t.screen().last().unwrap(), "lns>");
    assert!(t.screen().contains(&"l2tpns 0.1.0".to_string()));
    t.clear();
    t.send(b"sh x?");
    assert_eq!(t.screen(), ["sh x", "% Unknown command: \"x\"", "lns>sh x"]);
}

#[test]
fn tab_completion() {
    let mut t = Term::logged_in();
    t.send(b"sh\t");
    assert_eq!(t.screen(), ["lns>show"]);
    assert_eq!(t.wire, b"lns>show ");
    t.clear();
    t.send(b"se\t");
    assert_eq!(t.screen(), ["se", "servers  session", "lns>show se"]);
    t.clear();
    t.send(b"s\tv\t");
    assert_eq!(t.wire, b"ssion v\x07");
    t.send(b"\x7f\x7f\r\0");
    assert_eq!(t.commands, [["show", "session"]]);
    t.clear();
    t.send(b"h\t");
    assert_eq!(t.screen(), ["h", "help  history", "lns>h"]);
    t.clear();
    t.send(b"\x15x\t");
    assert_eq!(t.wire, b"\x08\x1b[Kx\x07");
}

#[test]
fn history_up_down_and_builtin() {
    let mut t = Term::logged_in();
    t.send(b"show version\r\0show servers\r\0show servers\r\0");
    t.clear();
    t.send(b"\x1b[A\x1b[A");
    assert_eq!(t.screen(), ["show version"]);
    t.send(b"\x1b[B");
    assert_eq!(t.screen(), ["show servers"]);
    t.send(b"\x1b[B");
    assert!(t.screen().is_empty(), "back to the empty new line");
    t.send(b"\x1bOA\r\0");
    assert_eq!(t.commands.last().unwrap(), &["show", "servers"]);
    t.clear();
    t.send(b"history\r\0");
    assert_eq!(
        t.screen(),
        [
            "history",
            "   1  show version",
            "   2  show servers",
            "   3  history",
            "lns>"
        ]
    );
}

#[test]
fn editing_keys() {
    let mut t = Term::logged_in();
    // ^A to insert in front, ^E to the end.
    t.send(b"ver\x01sh \x05\r\0");
    assert_eq!(t.screen(), ["lns>sh ver", "l2tpns 0.1.0", "lns>"]);
    t.clear();
    // ^W kills words, ^U the line, arrows move.
    t.send(b"show foo bar\x17\x17version\r\0");
    assert_eq!(t.screen(), ["show version", "l2tpns 0.1.0", "lns>"]);
    t.clear();
    t.send(b"rubbish\x15sh serv\x1b[D\x1b[D\x1b[C\x1b[C\x1b[H\x1b[F\r\0");
    assert_eq!(t.screen(), ["sh serv", "radius 192.0.2.1", "lns>"]);
    t.clear();
    // ^K kills to the end; Home/End as ESC [ 1 ~ / ESC [ 4 ~.
    t.send(b"sh verXYZ\x1b[D\x1b[D\x1b[D\x0b\x1b[1~\x1b[4~\r\0");
    assert_eq!(t.screen(), ["sh ver", "l2tpns 0.1.0", "lns>"]);
    t.clear();
    // ^C abandons the line; ^L redraws it.
    t.send(b"sh\x03sh ve\x0c");
    assert_eq!(t.screen(), ["sh", "lns>sh ve", "lns>sh ve"]);
    t.clear();
    // ^D on an empty line is exit.
    t.send(b"\x15\x04");
    assert!(t.cli.is_closed());
}

#[test]
fn the_four_filters() {
    let mut t = Term::logged_in();
    t.send(b"sh ses | include alice\r\0");
    assert_eq!(t.screen()[1..], ["   1  alice", "   4  alice2", "lns>"]);
    t.clear();
    t.send(b"sh ses | exclude alice\r\0");
    assert_eq!(t.screen()[1..], ["   2  bob", "   3  carol", "lns>"]);
    t.clear();
    t.send(b"sh ses | begin bob\r\0");
    assert_eq!(
        t.screen()[1..],
        ["   2  bob", "   3  carol", "   4  alice2", "lns>"]
    );
    t.clear();
    t.send(b"sh ses | count\r\0");
    assert_eq!(t.screen()[1..], ["Count: 4", "lns>"]);
    t.clear();
    t.send(b"sh ses | inc alice|bob | count\r\0");
    assert_eq!(t.screen()[1..], ["Count: 3", "lns>"]);
    t.clear();
    t.send(b"sh ses | grep x\r\0");
    assert_eq!(t.screen()[1..], ["% Unknown filter: \"grep\"", "lns>"]);
    t.clear();
    t.send(b"history | include ses\r\0");
    assert!(t.screen()[1..]
        .iter()
        .all(|l| l.contains("ses") || l == "lns>"));
}

#[test]
fn privilege_hides_drop_until_enable() {
    let mut t = Term::logged_in();
    t.send(b"?");
    assert!(!t.screen().iter().any(|l| l.contains("drop")));
    t.clear();
    t.send(b"\x15drop session 1\r\0");
    assert_eq!(t.screen()[1..], ["% Unknown command: \"drop\"", "lns>"]);
    t.clear();
    t.send(b"enable\r\0wrong\r\0");
    assert_eq!(
        t.screen(),
        ["enable", "Password:", "% Access denied", "lns>"]
    );
    assert!(!t.wire.windows(5).any(|w| w == b"wrong"));
    t.clear();
    t.send(b"en\r\0s3cret\r\0");
    assert_eq!(t.screen(), ["en", "Password:", "lns#"]);
    t.clear();
    t.send(b"dr ses 7\r\0");
    assert_eq!(t.screen(), ["dr ses 7", "Dropping session 7", "lns#"]);
    t.clear();
    t.send(b"d?");
    assert_eq!(
        t.screen(),
        [
            "d",
            "  disable  Turn off privileged commands",
            "  drop     Disconnect a user, tunnel or session",
            "lns#d"
        ]
    );
    t.clear();
    t.send(b"\r\0disable\r\0");
    assert_eq!(t.screen().last().unwrap(), "lns>");
}

#[test]
fn config_mode_prompt() {
    let mut t = Term::with_login(Login::Skip(Privilege::Privileged));
    t.clear();
    t.send(b"conf t\r\0");
    assert_eq!(t.screen(), ["conf t", "lns(config)#"]);
    t.clear();
    t.send(b"set hostname \"big lns\"\r\0");
    assert_eq!(
        t.screen(),
        [
            "set hostname \"big lns\"",
            "hostname = big lns",
            "lns(config)#"
        ]
    );
    t.clear();
    t.send(b"show version\r\0");
    assert_eq!(
        t.screen()[1..],
        ["% Unknown command: \"show\"", "lns(config)#"]
    );
    t.clear();
    t.send(b"end\r\0configure terminal\r\0exit\r\0conf t\r\0\x1a");
    assert_eq!(
        t.screen(),
        [
            "end",
            "lns#configure terminal",
            "lns(config)#exit",
            "lns#conf t",
            "lns(config)#",
            "lns#"
        ]
    );
    t.clear();
    // Not for the unprivileged.
    t.send(b"disable\r\0conf t\r\0");
    assert_eq!(t.screen()[2..], ["% Unknown command: \"conf\"", "lns>"]);
}

#[test]
fn log_lines_print_above_the_edited_line() {
    let mut t = Term::logged_in();
    t.send(b"sh ver\x1b[D\x1b[D");
    assert!(t.cli.notify_line("session 12 up"));
    t.serve();
    assert_eq!(t.screen(), ["session 12 up", "lns>sh ver"]);
    // The cursor came back to where it was: typing inserts there.
    t.send(b"X");
    assert_eq!(t.screen(), ["session 12 up", "lns>sh vXer"]);
}

#[test]
fn back_pressure_bounds_a_100k_line_output() {
    let (tree, ids) = tree();
    let mut config = Config::new("lns");
    config.login = Login::Skip(Privilege::Unprivileged);
    config.output_watermark = 16 * 1024;
    let watermark = config.output_watermark;
    let mut cli = Session::new(config, tree);
    cli.take_output();
    cli.handle_input(b"show session\r\0");
    let Some(Event::Command(c)) = cli.poll_event() else {
        panic!("a command")
    };
    assert_eq!(c.node, ids.session);
    let line = |i: u32| format!("{i:6}  user{i:06}@example.net  192.0.2.1");
    let longest = line(99_999).len() + 2;
    let (mut next, mut received, mut lines, mut peak) = (0u32, 0usize, 0usize, 0usize);
    let mut tail = Vec::new();
    loop {
        // The caller: feed while below the watermark.
        while cli.can_write() && next < 100_000 {
            cli.write_line(&line(next));
            next += 1;
        }
        if next == 100_000 && cli.is_running() {
            cli.finish_command();
        }
        peak = peak.max(cli.pending_output_len());
        assert!(cli.pending_output_len() <= watermark + longest);
        // A slow client: 1000 bytes per round.
        let n = cli.output().len().min(1000);
        if n == 0 {
            break;
        }
        lines += cli.output()[..n].iter().filter(|&&b| b == b'\n').count();
        tail.extend_from_slice(&cli.output()[..n]);
        if tail.len() > 200 {
            tail.drain(..tail.len() - 200);
        }
        received += n;
        cli.consume_output(n);
    }
    assert_eq!(
        lines, 100_001,
        "the echoed command line and every output line"
    );
    assert!(received > 100_000 * 30);
    assert!(peak >= watermark, "the buffer did fill to the watermark");
    assert!(String::from_utf8(tail)
        .unwrap()
        .ends_with("user099999@example.net  192.0.2.1\r\nlns>"));
}

#[test]
fn a_stalled_client_costs_bounded_memory_even_if_the_caller_ignores_the_watermark() {
    let (tree, _) = tree();
    let mut config = Config::new("lns");
    config.login = Login::Skip(Privilege::Unprivileged);
    let limit = config.output_limit;
    let mut cli = Session::new(config, tree);
    cli.handle_input(b"show session\r\0");
    cli.poll_event();
    for i in 0..200_000 {
        cli.write_line(&format!("{i:6}  a line of output that nobody reads"));
    }
    assert!(cli.pending_output_len() <= limit + 64);
    cli.finish_command();
    let out = cli.take_output();
    assert!(String::from_utf8_lossy(&out[out.len() - 200..]).contains("lines dropped"));
}

#[test]
fn the_login_stage_is_told_apart_from_a_logged_in_session() {
    let mut t = Term::new();
    assert!(t.cli.is_logging_in(), "at Username:");
    t.send(b"admin\r\0");
    assert!(t.cli.is_logging_in(), "at Password:");
    t.send(b"guess\r\0");
    assert!(t.cli.is_logging_in(), "in the delay after a failure");
    t.timeout(Duration::from_secs(3));
    t.send(b"admin\r\0secret\r\0");
    assert!(!t.cli.is_logging_in(), "at the prompt");
}
