//! What our programs tell operators, written once for every binary of the workspace.
//!
//! [`Sink`] is where log lines go: syslog, a file opened for append with lines stamped
//! "Mon D HH:MM:SS" (the originals' format, which operators' scripts parse), or standard error.
//! Each program keeps its own `log::Log` (filters, levels, reconfiguration differ) and writes
//! through a `Sink`. [`write_lines`] displays a list of errors one per line, as every config
//! parser reports all the problems of a file at once.

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;

use log::Level;

type SyslogLogger = syslog::Logger<syslog::LoggerBackend, syslog::Formatter3164>;

/// Where log lines go.
pub enum Sink {
    Syslog(SyslogLogger),
    File(File),
    Stderr,
}

impl Sink {
    /// The local syslog daemon, as `process` with `facility`.
    pub fn syslog(facility: syslog::Facility, process: &str) -> Result<Sink, syslog::Error> {
        let formatter = syslog::Formatter3164 {
            facility,
            hostname: None,
            process: process.into(),
            pid: std::process::id(),
        };
        syslog::unix(formatter).map(Sink::Syslog)
    }

    /// `path`, created if missing and appended to (so a rotated file is reopened by calling
    /// this again).
    pub fn append_to(path: &Path) -> io::Result<Sink> {
        OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map(Sink::File)
    }

    pub fn is_stderr(&self) -> bool {
        matches!(self, Sink::Stderr)
    }

    /// Writes one message. `program` prefixes lines on stderr (syslog and files say it anyway).
    /// Errors are ignored: logging must never take a program down.
    pub fn write(&mut self, program: &str, level: Level, msg: String) {
        match self {
            Sink::Syslog(l) => {
                let _ = match level {
                    Level::Error => l.err(msg),
                    Level::Warn => l.warning(msg),
                    Level::Info => l.notice(msg),
                    Level::Debug | Level::Trace => l.debug(msg),
                };
            }
            Sink::File(f) => {
                let _ = writeln!(f, "{} {msg}", stamp(chrono::Local::now().naive_local()));
            }
            Sink::Stderr => {
                let _ = writeln!(io::stderr(), "{program}: {msg}");
            }
        }
    }
}

/// The originals' log-file stamp: "Nov 22 02:30:00", the day padded to two columns.
fn stamp(t: chrono::NaiveDateTime) -> String {
    t.format("%b %e %H:%M:%S").to_string()
}

/// Displays `items` one per line (no trailing newline): the `Display` of an error list.
pub fn write_lines<T: fmt::Display>(f: &mut fmt::Formatter<'_>, items: &[T]) -> fmt::Result {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            writeln!(f)?;
        }
        write!(f, "{item}")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    #[test]
    fn stamp_is_the_originals_format() {
        let t = NaiveDate::from_ymd_opt(2026, 11, 2)
            .unwrap()
            .and_hms_opt(2, 30, 5)
            .unwrap();
        assert_eq!(stamp(t), "Nov  2 02:30:05");
        let t = NaiveDate::from_ymd_opt(2026, 1, 22)
            .unwrap()
            .and_hms_opt(23, 0, 0)
            .unwrap();
        assert_eq!(stamp(t), "Jan 22 23:00:00");
    }

    #[test]
    fn file_sink_appends_stamped_lines() {
        let path = std::env::temp_dir().join(format!("oplog-test-{}.log", std::process::id()));
        let _ = std::fs::remove_file(&path);
        for msg in ["one", "two"] {
            let mut sink = Sink::append_to(&path).unwrap();
            sink.write("t", Level::Info, msg.into());
        }
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text:?}");
        assert!(lines[0].ends_with(" one") && lines[1].ends_with(" two"));
        assert_eq!(lines[0].len(), "Nov 22 02:30:00 one".len());
    }

    struct List(Vec<&'static str>);
    impl fmt::Display for List {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write_lines(f, &self.0)
        }
    }

    #[test]
    fn lists_are_one_item_per_line() {
        assert_eq!(List(vec!["a: 1", "b: 2"]).to_string(), "a: 1\nb: 2");
        assert_eq!(List(vec!["only"]).to_string(), "only");
    }
}
