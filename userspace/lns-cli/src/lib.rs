//! The telnet CLI of l2tpns, sans I/O: a [`Session`] per TCP connection turns the bytes the
//! client sends into [`Event`]s for the caller (log in, check the `enable` password, run a
//! command) and queues the bytes to send back. No sockets, threads or clocks: time comes
//! only from the `now` arguments.
//!
//! * [`telnet`]: RFC 854 commands and option negotiation (ECHO RFC 857, SGA RFC 858, NAWS
//!   RFC 1073), output encoding.
//! * [`line`]: keys from VT100 escape sequences, the line editor, the history.
//! * [`tree`]: the caller's [`CommandTree`], abbreviations, `?` help, Tab completion,
//!   privilege and mode.
//! * [`filter`]: `| include`, `| exclude`, `| begin`, `| count`.
//! * [`session`]: all of it together, and the built-ins `enable`, `disable`,
//!   `configure terminal`, `end`, `exit`, `quit`, `logout`, `help`, `history`.
//! * [`fuzzing`]: entry points of the cargo-fuzz targets in `fuzz/`.
//!
//! # The call contract
//!
//! The driver (the daemon's mio loop) owns the socket and the command execution:
//!
//! 1. [`Session::new`] with a [`Config`] and the [`CommandTree`] (built once: the caller
//!    keeps the [`NodeId`]s [`CommandTree::add`] returns to recognise commands). The
//!    negotiation and the first prompt are queued at once.
//! 2. When the socket is readable *and* [`Session::wants_input`]: read, pass the bytes to
//!    [`Session::handle_input`]. A false `wants_input` means the session is waiting for the
//!    caller and its typeahead is full: leave the bytes in the kernel (TCP flow control).
//! 3. After every call into the session, drain [`Session::poll_event`] and answer each:
//!    [`Event::Authenticate`] → [`Session::auth_result`]; [`Event::EnableAuthenticate`] →
//!    [`Session::enable_result`]; [`Event::Command`] → write its output with
//!    [`Session::write_line`], then [`Session::finish_command`] (the session applies the
//!    line's `|` filters); [`Event::Interrupt`] (^C during a command) → stop the output and
//!    call `finish_command`. Answers may come later (a RADIUS round trip, a long `show`):
//!    the session keeps typed-ahead keys until then.
//! 4. Back-pressure: a command writes lines only while [`Session::can_write`] (the pending
//!    output is below [`Config::output_watermark`]); when it turns false, the caller
//!    remembers where it is and continues after the socket took some output. The buffer
//!    then never holds more than the watermark plus one line. A caller that ignores this
//!    still cannot grow it past [`Config::output_limit`]: further lines are dropped and
//!    reported. [`Session::notify_line`] (log lines) drops above the watermark.
//! 5. When the socket is writable and [`Session::pending_output_len`] > 0: write
//!    [`Session::output`], then [`Session::consume_output`] with what the socket took.
//! 6. Timers: sleep at most until [`Session::poll_timeout`], then [`Session::handle_timeout`].
//! 7. When [`Session::is_closed`]: write out the pending output, then close the socket.
//!
//! ```no_run
//! use lns_cli::{Command, CommandTree, Config, Event, Privilege, Session};
//! use std::io::{ErrorKind, Read, Write};
//! use std::time::Instant;
//!
//! let mut tree = CommandTree::new();
//! let show = tree.add(None, Command::new("show", "Show running system information"))?;
//! let version = tree.add(Some(show), Command::new("version", "Show the version").runnable())?;
//! let sessions = tree.add(Some(show), Command::new("session", "Show sessions").runnable())?;
//!
//! let (mut socket, _) = std::net::TcpListener::bind("127.0.0.1:2323")?.accept()?;
//! socket.set_nonblocking(true)?;
//! let mut cli = Session::new(Config::new("lns"), tree);
//! let mut job: Option<std::ops::Range<u32>> = None; // a long output in progress
//! let mut buf = [0u8; 4096];
//! // A real driver sleeps in mio's poll (readable/writable, poll_timeout) instead of spinning.
//! while !(cli.is_closed() && cli.pending_output_len() == 0) {
//!     while let Some(event) = cli.poll_event() {
//!         match event {
//!             Event::Authenticate { user, password } => {
//!                 let ok = user == "admin" && password == "secret";
//!                 cli.auth_result(Instant::now(), ok.then_some(Privilege::Unprivileged));
//!             }
//!             Event::EnableAuthenticate { password } => cli.enable_result(password == "enable"),
//!             Event::Command(line) if line.node == version => {
//!                 cli.write_line("l2tpns 0.1");
//!                 cli.finish_command();
//!             }
//!             Event::Command(line) if line.node == sessions => job = Some(0..70_000),
//!             Event::Command(_) => cli.finish_command(),
//!             Event::Interrupt => {
//!                 job = None;
//!                 cli.finish_command();
//!             }
//!         }
//!     }
//!     if let Some(rows) = &mut job {
//!         while cli.can_write() {
//!             match rows.next() {
//!                 Some(sid) => cli.write_line(&format!("{sid:6}  user{sid}")),
//!                 None => {
//!                     cli.finish_command();
//!                     job = None;
//!                     break;
//!                 }
//!             }
//!         }
//!     }
//!     if cli.pending_output_len() > 0 {
//!         match socket.write(cli.output()) {
//!             Ok(n) => cli.consume_output(n),
//!             Err(e) if e.kind() == ErrorKind::WouldBlock => {}
//!             Err(e) => return Err(e.into()),
//!         }
//!     }
//!     if cli.poll_timeout().is_some_and(|t| Instant::now() >= t) {
//!         cli.handle_timeout(Instant::now());
//!     }
//!     if cli.wants_input() {
//!         match socket.read(&mut buf) {
//!             Ok(0) => break,
//!             Ok(n) => cli.handle_input(&buf[..n]),
//!             Err(e) if e.kind() == ErrorKind::WouldBlock => {}
//!             Err(e) => return Err(e.into()),
//!         }
//!     }
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Screen behaviour
//!
//! Prompts are `HOSTNAME>` (unprivileged), `HOSTNAME#` (after `enable`),
//! `HOSTNAME(config)#`. Errors are one line: `% Unknown command: "x"`,
//! `% Ambiguous command: "s"`, `% Incomplete command`, `% Too many arguments`,
//! `% Login invalid`, `% Access denied`. The session echoes (it offered WILL ECHO); it
//! keeps echoing even if a client refuses, as a line-mode client would then show its own
//! echo and the prompt logic stays the same. Only CR, CR LF, CR NUL or LF end a line.
//! Configuration sub-modes of the caller's own (`router bgp`, ACLs) are not modelled yet:
//! there are two modes, [`Mode::Exec`] and [`Mode::Config`].

pub mod filter;
pub mod fuzzing;
pub mod line;
pub mod session;
pub mod telnet;
pub mod tree;

pub use session::{CommandLine, Config, Event, Login, Session, TYPEAHEAD_LIMIT};
pub use tree::{Arg, Command, CommandTree, Mode, NodeId, Privilege, TreeError};
