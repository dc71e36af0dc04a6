//! What a control request asks for, parsed once so the daemon's handler only acts.
//!
//! The built-in vocabulary is the C daemon's `sessionctl` plugin (`drop`, `kill`) plus
//! nsctl's own `help`, `load_plugin` and `unload_plugin`. Our daemon has no loadable
//! plugins: what `sessionctl` did is built in, so loading it succeeds and changes nothing;
//! the other C plugins' commands get a clear refusal instead of "unrecognised".

use crate::wire::{Kind, Message};

/// The session a command is about: `USER|SID`. A whole decimal number is a session id (the
/// NAS-Port our accounting sends, and the "session N" of our logs), anything else a user
/// name. Unlike `sessionctl`, 0 is an id too: our session numbers start at 0.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Session(u32),
    User(String),
}

impl Target {
    pub fn parse(word: &str) -> Target {
        match word.parse::<u32>() {
            Ok(id) if word.bytes().all(|b| b.is_ascii_digit()) => Target::Session(id),
            _ => Target::User(word.to_owned()),
        }
    }
}

/// A parsed request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    Help,
    /// `show counters`: the daemon's counters, one `name=value` per line (ours; the C
    /// daemon had this only in its CLI).
    ShowCounters,
    LoadPlugin(String),
    UnloadPlugin(String),
    /// Ends the session the polite way: LCP Terminate, Acct-Stop (Admin-Reset), CDN.
    Drop {
        target: Target,
        reason: Option<String>,
    },
    /// Ends the session at once: Acct-Stop (Admin-Reset) and CDN, no PPP goodbye.
    Kill {
        target: Target,
        reason: Option<String>,
    },
}

/// The C plugins that are built into our daemon.
pub const BUILT_IN_PLUGINS: &[&str] = &["sessionctl"];

/// Commands of the C daemon's other plugins, which this daemon does not have yet.
const NOT_IMPLEMENTED: &[(&str, &str)] = &[
    ("snoop", "snoopctl"),
    ("unsnoop", "snoopctl"),
    ("throttle", "throttlectl"),
    ("unthrottle", "throttlectl"),
    ("garden", "garden"),
    ("ungarden", "garden"),
];

/// The server's answer to `help`, one line per command (the C `plugin_control_help` form;
/// the client prints its own built-ins first).
pub const HELP_LINES: &[&str] = &[
    "  drop USER|SID [REASON]                      Shutdown user session",
    "  kill USER|SID [REASON]                      Kill user session",
    "  show counters                               Daemon counters, one per line",
];

/// Why a request is refused: the text goes back as the `ERR` response.
pub type Refusal = String;

fn text(arg: &[u8]) -> Result<String, Refusal> {
    String::from_utf8(arg.to_vec()).map_err(|_| "arguments must be UTF-8 text".to_owned())
}

/// Parses a decoded request.
pub fn parse(message: &Message) -> Result<Request, Refusal> {
    let args = message
        .args
        .iter()
        .map(|a| text(a))
        .collect::<Result<Vec<_>, _>>()?;
    match message.kind {
        Kind::Help => Ok(Request::Help),
        Kind::LoadPlugin | Kind::UnloadPlugin => {
            let [name] = args.as_slice() else {
                return Err("requires one plugin name".to_owned());
            };
            Ok(if message.kind == Kind::LoadPlugin {
                Request::LoadPlugin(name.clone())
            } else {
                Request::UnloadPlugin(name.clone())
            })
        }
        Kind::Control => control(&args),
        Kind::Ok | Kind::Err => Err("a response is not a request".to_owned()),
    }
}

fn control(args: &[String]) -> Result<Request, Refusal> {
    let Some((command, rest)) = args.split_first() else {
        return Err("no command".to_owned());
    };
    match command.as_str() {
        "drop" | "kill" => {
            if rest.is_empty() || rest.len() > 2 {
                return Err("requires username or session id and optional reason".to_owned());
            }
            let target = Target::parse(&rest[0]);
            let reason = rest.get(1).cloned();
            Ok(if command == "drop" {
                Request::Drop { target, reason }
            } else {
                Request::Kill { target, reason }
            })
        }
        "show" => match rest {
            [what] if what == "counters" => Ok(Request::ShowCounters),
            _ => Err("show: only `show counters'".to_owned()),
        },
        other => match NOT_IMPLEMENTED.iter().find(|(c, _)| *c == other) {
            Some((c, plugin)) => Err(format!(
                "`{c}' (the C daemon's {plugin} plugin) is not implemented by this l2tpns"
            )),
            None => Err(format!("unrecognised command `{other}' (try help)")),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn control(words: &[&str]) -> Result<Request, Refusal> {
        parse(&Message::new(Kind::Control, words.iter().copied()))
    }

    #[test]
    fn targets_as_sessionctl_reads_them() {
        assert_eq!(Target::parse("42"), Target::Session(42));
        assert_eq!(Target::parse("0"), Target::Session(0));
        assert_eq!(Target::parse("+42"), Target::User("+42".into()));
        assert_eq!(Target::parse("42a"), Target::User("42a".into()));
        assert_eq!(Target::parse("alice"), Target::User("alice".into()));
    }

    #[test]
    fn drop_and_kill() {
        assert_eq!(
            control(&["drop", "alice"]),
            Ok(Request::Drop {
                target: Target::User("alice".into()),
                reason: None
            })
        );
        assert_eq!(
            control(&["kill", "7", "abuse"]),
            Ok(Request::Kill {
                target: Target::Session(7),
                reason: Some("abuse".into())
            })
        );
        assert!(control(&["drop"]).is_err());
        assert!(control(&["drop", "a", "b", "c"]).is_err());
    }

    #[test]
    fn refusals_say_why() {
        assert_eq!(control(&["show", "counters"]), Ok(Request::ShowCounters));
        assert!(control(&["show", "sessions"]).is_err());
        assert!(control(&[]).unwrap_err().contains("no command"));
        assert!(control(&["frobnicate"])
            .unwrap_err()
            .contains("unrecognised"));
        assert!(control(&["throttle", "alice"])
            .unwrap_err()
            .contains("throttlectl"));
        assert!(parse(&Message::new(Kind::Control, [vec![0xffu8]])).is_err());
        assert!(parse(&Message::new(Kind::Ok, ["x"])).is_err());
        assert!(parse(&Message::new(Kind::LoadPlugin, Vec::<Vec<u8>>::new())).is_err());
    }

    #[test]
    fn plugins_and_help() {
        assert_eq!(
            parse(&Message::new(Kind::LoadPlugin, ["sessionctl"])),
            Ok(Request::LoadPlugin("sessionctl".into()))
        );
        assert_eq!(
            parse(&Message::new(Kind::Help, Vec::<Vec<u8>>::new())),
            Ok(Request::Help)
        );
    }
}
