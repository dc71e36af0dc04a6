//! Where the daemon's messages go (`log_file`): standard error, a file opened for
//! append (lines stamped "Mon D HH:MM:SS" as the original wrote them), or `syslog:<facility>`;
//! filtered by `debug` 0–5. A `log::Log`, so every module uses `log::info!` and friends, and
//! [`reconfigure`] swaps target and level on SIGHUP (which is also how a rotated file is reopened).
//!
//! The original's levels are 0 critical, 1 error, 2 warning, 3 info, 4 calls, 5 data; a message
//! is written when its level is at most `debug`. They map onto `log` levels as follows, with one
//! deliberate change: errors are always written, even at `debug 0`, because an operator who
//! lowered the noise still needs to see why a session failed.

use std::sync::{Mutex, OnceLock};

use log::{LevelFilter, Log, Metadata, Record};
use oplog::Sink;

use crate::config::{LogTarget, SyslogFacility};

struct Logger {
    sink: Mutex<Sink>,
}

static LOGGER: OnceLock<Logger> = OnceLock::new();

/// The `log` level filter for the original's `debug` value.
pub fn level_for_debug(debug: u8) -> LevelFilter {
    match debug {
        0 | 1 => LevelFilter::Error,
        2 => LevelFilter::Warn,
        3 => LevelFilter::Info,
        4 => LevelFilter::Debug,
        _ => LevelFilter::Trace,
    }
}

fn facility(f: SyslogFacility) -> syslog::Facility {
    use syslog::Facility as F;
    match f {
        SyslogFacility::Auth => F::LOG_AUTH,
        SyslogFacility::Authpriv => F::LOG_AUTHPRIV,
        SyslogFacility::Cron => F::LOG_CRON,
        SyslogFacility::Daemon => F::LOG_DAEMON,
        SyslogFacility::Ftp => F::LOG_FTP,
        SyslogFacility::Kern => F::LOG_KERN,
        SyslogFacility::Lpr => F::LOG_LPR,
        SyslogFacility::Mail => F::LOG_MAIL,
        SyslogFacility::News => F::LOG_NEWS,
        SyslogFacility::Syslog => F::LOG_SYSLOG,
        SyslogFacility::User => F::LOG_USER,
        SyslogFacility::Uucp => F::LOG_UUCP,
        SyslogFacility::Local(0) => F::LOG_LOCAL0,
        SyslogFacility::Local(1) => F::LOG_LOCAL1,
        SyslogFacility::Local(2) => F::LOG_LOCAL2,
        SyslogFacility::Local(3) => F::LOG_LOCAL3,
        SyslogFacility::Local(4) => F::LOG_LOCAL4,
        SyslogFacility::Local(5) => F::LOG_LOCAL5,
        SyslogFacility::Local(6) => F::LOG_LOCAL6,
        // The parser admits local0..local7 only.
        SyslogFacility::Local(_) => F::LOG_LOCAL7,
    }
}

/// Opens the sink for `target`; on failure, stderr and the reason.
fn open(target: &LogTarget) -> (Sink, Option<String>) {
    match target {
        LogTarget::Stderr => (Sink::Stderr, None),
        LogTarget::File(path) => match Sink::append_to(path) {
            Ok(sink) => (sink, None),
            Err(e) => (
                Sink::Stderr,
                Some(format!(
                    "cannot open log file {}: {e}; logging to stderr",
                    path.display()
                )),
            ),
        },
        LogTarget::Syslog(f) => match Sink::syslog(facility(*f), "l2tpns") {
            Ok(sink) => (sink, None),
            Err(e) => (
                Sink::Stderr,
                Some(format!("cannot reach syslog ({e}); logging to stderr")),
            ),
        },
    }
}

impl Log for Logger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let msg = record.args().to_string();
        let Ok(mut sink) = self.sink.lock() else {
            return;
        };
        sink.write("l2tpns", record.level(), msg);
    }

    fn flush(&self) {}
}

/// Installs the logger (first call) or switches target and level (later calls: SIGHUP).
/// A target that cannot be opened falls back to stderr, with a warning saying why.
pub fn reconfigure(target: &LogTarget, debug: u8) {
    let (sink, note) = open(target);
    let logger = LOGGER.get_or_init(|| Logger {
        sink: Mutex::new(Sink::Stderr),
    });
    if let Ok(mut s) = logger.sink.lock() {
        *s = sink;
    }
    // Fails only when another logger is installed already, or on the second call: both fine.
    let _ = log::set_logger(logger);
    log::set_max_level(level_for_debug(debug));
    if let Some(n) = note {
        log::warn!("{n}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_levels_follow_the_original_but_errors_always_show() {
        assert_eq!(level_for_debug(0), LevelFilter::Error);
        assert_eq!(level_for_debug(2), LevelFilter::Warn);
        assert_eq!(level_for_debug(3), LevelFilter::Info);
        assert_eq!(level_for_debug(4), LevelFilter::Debug);
        assert_eq!(level_for_debug(5), LevelFilter::Trace);
    }

    #[test]
    fn file_target_gets_stamped_lines_and_reconfigure_reopens_it() {
        let dir = std::env::temp_dir().join(format!("lns-logging-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let first = dir.join("first.log");
        let second = dir.join("second.log");
        reconfigure(&LogTarget::File(first.clone()), 3);
        log::info!("to the first file");
        log::debug!("below the level");
        reconfigure(&LogTarget::File(second.clone()), 4);
        log::debug!("to the second file");
        let a = std::fs::read_to_string(&first).unwrap();
        let b = std::fs::read_to_string(&second).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(a.ends_with(" to the first file\n"), "{a:?}");
        assert!(!a.contains("below the level"));
        assert!(b.ends_with(" to the second file\n"), "{b:?}");
        // "Nov 22 02:30:00 " — the original's stamp.
        assert_eq!(a.split(' ').filter(|w| !w.is_empty()).count(), 7, "{a:?}");
    }
}
