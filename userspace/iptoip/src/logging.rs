//! Where messages go: syslog (`<syslog>` non-zero), else `<logfile>` (lines stamped
//! "Mon D HH:MM:SS" as the original wrote them), else stderr. A `log::Log` so that every module
//! just uses `log::info!` and friends.

use std::fs::{File, OpenOptions};
use std::io::{IsTerminal, Write};
use std::path::Path;
use std::sync::Mutex;

use log::{Level, LevelFilter, Log, Metadata, Record};

enum Sink {
    Syslog(syslog::Logger<syslog::LoggerBackend, syslog::Formatter3164>),
    File(File),
    Stderr,
}

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
        match &mut *sink {
            Sink::Syslog(l) => {
                let _ = match record.level() {
                    Level::Error => l.err(msg),
                    Level::Warn => l.warning(msg),
                    Level::Info => l.notice(msg),
                    Level::Debug | Level::Trace => l.debug(msg),
                };
            }
            Sink::File(f) => {
                let stamp = chrono::Local::now().format("%b %e %H:%M:%S");
                let _ = writeln!(f, "{stamp} {msg}");
            }
            Sink::Stderr => {
                let _ = writeln!(std::io::stderr(), "iptoip: {msg}");
            }
        }
    }

    fn flush(&self) {}
}

/// Install the logger. Falls back to stderr (with a note) if syslog or the file cannot be opened.
pub fn init(syslog: bool, logfile: Option<&Path>, debug: bool) {
    let mut note = None;
    let sink = if syslog {
        let formatter = syslog::Formatter3164 {
            facility: syslog::Facility::LOG_DAEMON,
            hostname: None,
            process: "iptoip".into(),
            pid: std::process::id(),
        };
        match syslog::unix(formatter) {
            Ok(l) => Sink::Syslog(l),
            Err(e) => {
                note = Some(format!("cannot reach syslog ({e}); logging to stderr"));
                Sink::Stderr
            }
        }
    } else if let Some(path) = logfile {
        match OpenOptions::new().create(true).append(true).open(path) {
            Ok(f) => Sink::File(f),
            Err(e) => {
                note = Some(format!(
                    "cannot open {}: {e}; logging to stderr",
                    path.display()
                ));
                Sink::Stderr
            }
        }
    } else {
        Sink::Stderr
    };
    let level = if debug {
        LevelFilter::Debug
    } else {
        LevelFilter::Info
    };
    // set_boxed_logger fails only if a logger is already installed (a second init): keep it.
    let echo_errors = !matches!(sink, Sink::Stderr) && std::io::stderr().is_terminal();
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
