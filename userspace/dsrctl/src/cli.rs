//! The command line: the upstream tool's single-letter options (getopts style: bundled
//! `-vvv`, `-sINIT:LOOP` or `-s INIT:LOOP`) and one action. Parsed by hand because its error
//! texts (`dsrctl: -z: unknown option`) are part of the interface scripts and the upstream
//! test suite check.

use thiserror::Error;

pub const USAGE: &str = "\
Usage: dsrctl [-ahiknvx] [-d dir] [-f file] [-s init:loop] start|stop|restart|status|check
  start    put the configured VIPs on lo and add their DADDR rules
  stop     remove them (and unload xt_DADDR unless -k)
  restart  stop, then start
  status   print the state of each configured VIP
  check    one line: all, some or none of the VIPs started (exit 0, 3, 1)
Options:
  -a       status: also VIPs, loopback addresses and DADDR rules found but not configured;
           stop: also remove those
  -d dir   read every *.conf below dir (default /etc/dsr.d)
  -f file  read only this file (-d is then ignored)
  -h       print this help
  -i       insert the rules at the head of the chain instead of appending them
  -k       stop: keep the xt_DADDR module loaded
  -n       do not change anything (with -v: print what would be done)
  -s i:l   seconds to wait before the first attempt to unload xt_DADDR and between
           attempts (decimal fractions allowed; default 0:0.25)
  -v       print the operations; -vv also the state read, -vvv also the config lexing
  -x       status: no header lines
See dsrctl(8) and dsr.conf(5).";

/// The parsed command line.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    pub all: bool,
    pub dir: String,
    pub file: Option<String>,
    pub insert: bool,
    pub keep_module: bool,
    pub dry_run: bool,
    pub sleep_first: f64,
    pub sleep_again: f64,
    pub verbose: u32,
    pub no_header: bool,
    pub action: String,
}

/// What the command line asks besides an action, or why it is wrong (printed to stderr,
/// exit status 1).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CliError {
    #[error("-h")]
    Help,
    #[error("dsrctl: -{0}: unknown option")]
    Unknown(char),
    #[error("dsrctl: -{0}: argument expected")]
    MissingArgument(char),
    #[error("Missing action argument.")]
    MissingAction,
    #[error("Invalid sleep argument ({0}).")]
    BadSleep(String),
}

/// `0`, `12`, `.5`, `0.5`, `12.5`: a non-negative decimal, no sign, no exponent.
fn decimal(s: &str) -> Option<f64> {
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (s, None),
    };
    let int_ok = int.is_empty() && frac.is_some()
        || int == "0"
        || (!int.is_empty() && !int.starts_with('0') && int.bytes().all(|b| b.is_ascii_digit()));
    let frac_ok = frac.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()));
    (int_ok && frac_ok).then(|| s.parse().ok()).flatten()
}

fn sleep_values(s: &str) -> Result<(f64, f64), CliError> {
    let bad = || CliError::BadSleep(s.to_owned());
    let (a, b) = s.split_once(':').ok_or_else(bad)?;
    Ok((decimal(a).ok_or_else(bad)?, decimal(b).ok_or_else(bad)?))
}

pub fn parse(args: &[String]) -> Result<Options, CliError> {
    let mut o = Options {
        all: false,
        dir: "/etc/dsr.d".into(),
        file: None,
        insert: false,
        keep_module: false,
        dry_run: false,
        sleep_first: 0.0,
        sleep_again: 0.25,
        verbose: 0,
        no_header: false,
        action: String::new(),
    };
    let mut sleep = None;
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        if a == "--" {
            i += 1;
            break;
        }
        if a == "--help" {
            return Err(CliError::Help);
        }
        let Some(flags) = a.strip_prefix('-').filter(|f| !f.is_empty()) else {
            break;
        };
        for (pos, c) in flags.char_indices() {
            match c {
                'a' => o.all = true,
                'h' => return Err(CliError::Help),
                'i' => o.insert = true,
                'k' => o.keep_module = true,
                'n' => o.dry_run = true,
                'v' => o.verbose += 1,
                'x' => o.no_header = true,
                'd' | 'f' | 's' => {
                    let rest = &flags[pos + c.len_utf8()..];
                    let value = if !rest.is_empty() {
                        rest.to_owned()
                    } else {
                        i += 1;
                        args.get(i).cloned().ok_or(CliError::MissingArgument(c))?
                    };
                    match c {
                        'd' => o.dir = value,
                        'f' => o.file = Some(value),
                        _ => sleep = Some(value),
                    }
                    break;
                }
                _ => return Err(CliError::Unknown(c)),
            }
        }
        i += 1;
    }
    o.action = args.get(i).cloned().ok_or(CliError::MissingAction)?;
    if let Some(s) = sleep {
        (o.sleep_first, o.sleep_again) = sleep_values(&s)?;
    }
    Ok(o)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(a: &str) -> Result<Options, CliError> {
        parse(&a.split_whitespace().map(String::from).collect::<Vec<_>>())
    }

    #[test]
    fn bundled_and_separate_options() {
        let o = p("-avvv -f x.conf -s1:0.25 -ki status").unwrap();
        assert!(o.all && o.keep_module && o.insert);
        assert_eq!(o.verbose, 3);
        assert_eq!(o.file.as_deref(), Some("x.conf"));
        assert_eq!((o.sleep_first, o.sleep_again), (1.0, 0.25));
        assert_eq!(o.action, "status");
        let o = p("-d /tmp/d -fy.conf -x -n stop extra").unwrap();
        assert_eq!(
            (o.dir.as_str(), o.file.as_deref(), o.no_header, o.dry_run),
            ("/tmp/d", Some("y.conf"), true, true)
        );
        assert_eq!(o.action, "stop");
    }

    #[test]
    fn errors_as_the_upstream_prints_them() {
        assert_eq!(
            p("-z start").unwrap_err().to_string(),
            "dsrctl: -z: unknown option"
        );
        assert_eq!(
            p("-b abc status").unwrap_err().to_string(),
            "dsrctl: -b: unknown option"
        );
        assert_eq!(p("-v").unwrap_err(), CliError::MissingAction);
        assert_eq!(p("-f").unwrap_err(), CliError::MissingArgument('f'));
        assert_eq!(p("-h stop").unwrap_err(), CliError::Help);
        assert_eq!(p("--help").unwrap_err(), CliError::Help);
        for s in [
            "foo", "0:foo", ".:.", "foo:.4", ".4:bar", "01:1", "1:", "-1:2",
        ] {
            assert_eq!(
                p(&format!("-s{s} stop")).unwrap_err().to_string(),
                format!("Invalid sleep argument ({s})."),
                "{s}"
            );
        }
        let o = p("-s .5:0.75 stop").unwrap();
        assert_eq!((o.sleep_first, o.sleep_again), (0.5, 0.75));
    }
}
