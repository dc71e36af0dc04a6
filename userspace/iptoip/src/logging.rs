//! Where messages go: syslog (`<syslog>` non-zero), else `<logfile>` (lines stamped
//! "Mon D HH:MM:SS" as the original wrote them), else stderr. A `log::Log` so that every module
//! just uses `log::info!` and friends.

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::sync::Mutex;

use log::{Level, LevelFilter, Log, Metadata, Record};
use oplog::Sink;

struct Logger {
    sink: Mutex<Sink>,
    level: LevelFilter,
    /// Errors also go to stderr when a person runs iptoip at a terminal with syslog or a log
    /// file configured: otherwise a failed run would only show its exit status there.
    echo_errors: bool,
}

impl Log for Logger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= self.level && metadata.target().starts_with("iptoip")
    }

    fn log(&self, record: &Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let msg = record.args().to_string();
        let Ok(mut sink) = self.sink.lock() else {
            return;
        };
        // Logging must never take the program down: write errors are ignored.
        if self.echo_errors && record.level() == Level::Error {
            let _ = writeln!(std::io::stderr(), "iptoip: {msg}");
        }
        sink.write("iptoip", record.level(), msg);
    }

    fn flush(&self) {}
}

/// Install the logger. Falls back to stderr (with a note) if syslog or the file cannot be opened.
pub fn init(syslog: bool, logfile: Option<&Path>, debug: bool) {
    let mut note = None;
    let sink = if syslog {
        Sink::syslog(syslog::Facility::LOG_DAEMON, "iptoip").unwrap_or_else(|e| {
            note = Some(format!("cannot reach syslog ({e}); logging to stderr"));
            Sink::Stderr
        })
    } else if let Some(path) = logfile {
        Sink::append_to(path).unwrap_or_else(|e| {
            note = Some(format!(
                "cannot open {}: {e}; logging to stderr",
                path.display()
            ));
            Sink::Stderr
        })
    } else {
        Sink::Stderr
    };
    let level = if debug {
        LevelFilter::Debug
    } else {
        LevelFilter::Info
    };
    // set_boxed_logger fails only if a logger is already installed (a second init): keep it.
    let echo_errors = !sink.is_stderr() && std::io::stderr().is_terminal();
    let logger = Logger {
        sink: Mutex::new(sink),
        level,
        echo_errors,
    };
    if log::set_boxed_logger(Box::new(logger)).is_ok() {
        log::set_max_level(level);
    }
    if let Some(n) = note {
        log::warn!("{n}");
    }
}
