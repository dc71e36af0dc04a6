//! Fuzz entry points: one function per `cargo fuzz` target, each taking arbitrary bytes.
//! `fuzz/` calls these; `tests/fuzz_corpus.rs` replays the committed corpora on stable.

use std::time::{Duration, Instant};

use crate::{Command, CommandTree, Config, Event, Login, Privilege, Session};

/// A session with a small tree fed arbitrary bytes in chunks, with a caller that grants
/// every login whose password is "ok", runs every command (echoing its arguments), and
/// reads the output after each chunk. Nothing may panic, and the buffered output stays
/// bounded by what one chunk can cause.
pub fn session(data: &[u8]) {
    let mut tree = CommandTree::new();
    let show = tree.add(None, Command::new("show", "Show")).expect("tree");
    tree.add(
        Some(show),
        Command::new("session", "Sessions").repeated_arg("<SID>", "id"),
    )
    .expect("tree");
    tree.add(Some(show), Command::new("servers", "Servers").runnable())
        .expect("tree");
    let drop = tree
        .add(None, Command::new("drop", "Drop").privileged())
        .expect("tree");
    tree.add(
        Some(drop),
        Command::new("session", "Session").arg("<SID>", "id"),
    )
    .expect("tree");
    tree.add(
        None,
        Command::new("set", "Set")
            .mode(crate::Mode::Config)
            .arg("<KEY>", "k")
            .arg("<V>", "v"),
    )
    .expect("tree");
    let mut config = Config::new("fuzz");
    // The first byte picks the login mode, so both paths are fuzzed.
    config.login = match data.first() {
        Some(b) if b & 1 == 1 => Login::Skip(Privilege::Unprivileged),
        _ => Login::Required,
    };
    config.output_watermark = 4096;
    config.output_limit = 8192;
    let mut s = Session::new(config, tree);
    let mut now = Instant::now();
    for chunk in data.chunks(61) {
        s.handle_input(chunk);
        while let Some(event) = s.poll_event() {
            match event {
                Event::Authenticate { password, .. } => {
                    s.auth_result(now, (password == "ok").then_some(Privilege::Unprivileged))
                }
                Event::EnableAuthenticate { password } => s.enable_result(password == "ok"),
                Event::Command(c) => {
                    for _ in 0..3 {
                        s.write_line(&c.args.join(" "));
                    }
                    s.notify_line("log");
                    s.finish_command();
                }
                Event::Interrupt => s.finish_command(),
            }
        }
        now += Duration::from_secs(1);
        s.handle_timeout(now);
        // One chunk of 61 bytes can at most redraw long lines a few dozen times.
        assert!(s.pending_output_len() < 512 * 1024, "output bounded");
        s.take_output();
        if s.is_closed() {
            break;
        }
    }
}
