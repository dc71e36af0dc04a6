//! What a control request asks for, parsed once so the daemon's handler only acts.
//!
//! The vocabulary is the C daemon's plugins' (`sessionctl`: `drop`, `kill`; `snoopctl`:
//! `snoop`, `unsnoop`; `throttlectl`: `throttle`, `unthrottle`; `garden`: `garden`,
//! `ungarden`) with their argument grammar, nsctl's own `help`, `load_plugin` and
//! `unload_plugin`, and our queries (`show sessions|session|tunnels|pool|counters`, with
//! `--json`). Our daemon builds the C plugins in: `load_plugin` enables one by name.

use std::net::Ipv4Addr;

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

/// What `show` lists. Listings start at an id so that a long one comes in pages
/// ([`crate::paging`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Show {
    /// Sessions from id `from` on.
    Sessions {
        from: u32,
    },
    Session(u32),
    /// Tunnels from id `from` on.
    Tunnels {
        from: u16,
    },
    Pool,
    /// The daemon's counters, one `name=value` per line (the C daemon had them only in its
    /// CLI).
    Counters,
    /// The access lists (or the one named) with each rule's match count, as the CLI's
    /// `show access-list`.
    AccessLists(Option<String>),
}

/// `throttle`'s rates in kbit/s; `None`: the configured `throttle_speed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Rates {
    pub inbound: Option<u32>,
    pub outbound: Option<u32>,
}

/// A parsed request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    Help,
    /// A query; `json` asks for JSON instead of text lines.
    Show {
        what: Show,
        json: bool,
    },
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
    /// `snoop USER|SID IP PORT`: copy the session's packets to IP:PORT (snoopctl).
    Snoop {
        target: Target,
        host: Ipv4Addr,
        port: u16,
    },
    Unsnoop {
        target: Target,
    },
    /// `throttle USER|SID [RATE | in RATE | out RATE | in RATE out RATE]` (throttlectl).
    Throttle {
        target: Target,
        rates: Rates,
    },
    Unthrottle {
        target: Target,
    },
    /// `garden USER|SID` / `ungarden SID [USER]` (the garden plugin).
    Garden {
        target: Target,
    },
    Ungarden {
        target: Target,
        user: Option<String>,
    },
}

/// The C plugins that are built into our daemon.
pub const BUILT_IN_PLUGINS: &[&str] = &["sessionctl"];

/// The server's answer to `help`, one line per command (the C `plugin_control_help` form;
/// the client prints its own built-ins first).
pub const HELP_LINES: &[&str] = &[
    "  drop USER|SID [REASON]                      Shutdown user session",
    "  kill USER|SID [REASON]                      Kill user session",
    "  snoop USER|SID IP PORT                      Intercept user traffic",
    "  unsnoop USER|SID                            Stop intercepting user",
    "  throttle USER|SID [RATE|[in|out] RATE ...]  Throttle user traffic",
    "  unthrottle USER|SID                         Stop throttling user",
    "  garden USER|SID                             Put user into the walled garden",
    "  ungarden SID [USER]                         Release session from garden",
    "  show [--json] sessions [FROM-ID]            Sessions, one per line",
    "  show [--json] session ID                    One session",
    "  show [--json] tunnels [FROM-ID]             Tunnels, one per line",
    "  show [--json] pool                          Addresses in the IP pool",
    "  show [--json] counters                      Daemon counters, one per line",
    "  show [--json] access-lists [NAME]           Access lists, matches per rule",
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
        "show" => show(rest),
        "snoop" => match rest {
            [target, host, port] => Ok(Request::Snoop {
                target: Target::parse(target),
                host: host
                    .parse()
                    .map_err(|_| format!("snoop: `{host}' is not an IPv4 address"))?,
                port: port
                    .parse()
                    .ok()
                    .filter(|&p| p != 0)
                    .ok_or_else(|| format!("snoop: `{port}' is not a port"))?,
            }),
            _ => Err("snoop: requires username or session id, IP and port".to_owned()),
        },
        "throttle" => match rest.split_first() {
            Some((target, rates)) => Ok(Request::Throttle {
                target: Target::parse(target),
                rates: throttle_rates(rates)?,
            }),
            None => Err("throttle: requires username or session id and optional rates".to_owned()),
        },
        "unsnoop" | "unthrottle" | "garden" => match rest {
            [target] => {
                let target = Target::parse(target);
                Ok(match command.as_str() {
                    "unsnoop" => Request::Unsnoop { target },
                    "unthrottle" => Request::Unthrottle { target },
                    _ => Request::Garden { target },
                })
            }
            _ => Err(format!("{command}: requires username or session id")),
        },
        "ungarden" => match rest {
            [target] | [target, _] => Ok(Request::Ungarden {
                target: Target::parse(target),
                user: rest.get(1).cloned(),
            }),
            _ => Err("ungarden: requires session id and optional username".to_owned()),
        },
        other => Err(format!("unrecognised command `{other}' (try help)")),
    }
}

/// `show [--json] WHAT [ARG]`; `--json` may stand anywhere after `show`.
fn show(words: &[String]) -> Result<Request, Refusal> {
    let json = words.iter().any(|w| w == "--json");
    let words: Vec<&str> = words
        .iter()
        .map(String::as_str)
        .filter(|w| *w != "--json")
        .collect();
    let what = match words.as_slice() {
        ["sessions"] => Show::Sessions { from: 0 },
        ["sessions", from] => Show::Sessions {
            from: number(from, "session id")?,
        },
        ["session", id] => Show::Session(number(id, "session id")?),
        ["tunnels"] => Show::Tunnels { from: 0 },
        ["tunnels", from] => Show::Tunnels {
            from: number(from, "tunnel id")?,
        },
        ["pool"] => Show::Pool,
        ["counters"] => Show::Counters,
        ["access-lists"] => Show::AccessLists(None),
        ["access-lists", name] => Show::AccessLists(Some((*name).to_owned())),
        _ => {
            return Err(
                "show: sessions [FROM-ID], session ID, tunnels [FROM-ID], pool, counters or access-lists [NAME]"
                    .to_owned(),
            )
        }
    };
    Ok(Request::Show { what, json })
}

fn number<T: std::str::FromStr>(word: &str, what: &str) -> Result<T, Refusal> {
    word.parse()
        .map_err(|_| format!("`{word}' is not a {what}"))
}

/// throttlectl's rates: `RATE` (both ways), `in RATE`, `out RATE`, or both in either order.
fn throttle_rates(words: &[String]) -> Result<Rates, Refusal> {
    let rate = |w: &str| -> Result<u32, Refusal> {
        w.parse::<u32>()
            .ok()
            .filter(|&r| r > 0)
            .ok_or_else(|| format!("throttle: `{w}' is not a rate in kbit/s"))
    };
    let mut rates = Rates::default();
    match words {
        [] => {}
        [r] => {
            let r = rate(r)?;
            rates = Rates {
                inbound: Some(r),
                outbound: Some(r),
            };
        }
        _ => {
            let mut it = words.chunks(2);
            for pair in &mut it {
                let [dir, r] = pair else {
                    return Err("throttle: a direction needs a rate".to_owned());
                };
                let slot = match dir.as_str() {
                    "in" => &mut rates.inbound,
                    "out" => &mut rates.outbound,
                    _ => return Err(format!("throttle: `{dir}' is neither in nor out")),
                };
                if slot.is_some() {
                    return Err(format!("throttle: {dir} given twice"));
                }
                *slot = Some(rate(r)?);
            }
        }
    }
    Ok(rates)
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
    fn queries() {
        let show = |what, json| Ok(Request::Show { what, json });
        assert_eq!(control(&["show", "counters"]), show(Show::Counters, false));
        assert_eq!(
            control(&["show", "sessions"]),
            show(Show::Sessions { from: 0 }, false)
        );
        assert_eq!(
            control(&["show", "--json", "sessions", "70"]),
            show(Show::Sessions { from: 70 }, true)
        );
        assert_eq!(
            control(&["show", "session", "3", "--json"]),
            show(Show::Session(3), true)
        );
        assert_eq!(
            control(&["show", "tunnels", "9"]),
            show(Show::Tunnels { from: 9 }, false)
        );
        assert_eq!(control(&["show", "pool"]), show(Show::Pool, false));
        assert_eq!(
            control(&["show", "access-lists"]),
            show(Show::AccessLists(None), false)
        );
        assert_eq!(
            control(&["show", "--json", "access-lists", "web"]),
            show(Show::AccessLists(Some("web".into())), true)
        );
        assert!(control(&["show", "session"]).is_err());
        assert!(control(&["show", "sessions", "x"]).is_err());
        assert!(control(&["show", "tunnels", "70000"]).is_err());
        assert!(control(&["show", "bananas"]).is_err());
    }

    #[test]
    fn plugin_commands_with_their_grammar() {
        let alice = || Target::User("alice".into());
        assert_eq!(
            control(&["snoop", "alice", "192.0.2.9", "5000"]),
            Ok(Request::Snoop {
                target: alice(),
                host: "192.0.2.9".parse().unwrap(),
                port: 5000
            })
        );
        assert!(control(&["snoop", "alice", "host", "5000"]).is_err());
        assert!(control(&["snoop", "alice", "192.0.2.9", "0"]).is_err());
        assert!(control(&["snoop", "alice"]).is_err());
        assert_eq!(
            control(&["unsnoop", "7"]),
            Ok(Request::Unsnoop {
                target: Target::Session(7)
            })
        );
        let throttle = |inbound, outbound| {
            Ok(Request::Throttle {
                target: alice(),
                rates: Rates { inbound, outbound },
            })
        };
        assert_eq!(control(&["throttle", "alice"]), throttle(None, None));
        assert_eq!(
            control(&["throttle", "alice", "512"]),
            throttle(Some(512), Some(512))
        );
        assert_eq!(
            control(&["throttle", "alice", "out", "256", "in", "64"]),
            throttle(Some(64), Some(256))
        );
        assert_eq!(
            control(&["throttle", "alice", "in", "64"]),
            throttle(Some(64), None)
        );
        assert!(control(&["throttle", "alice", "in"]).is_err());
        assert!(control(&["throttle", "alice", "in", "1", "in", "2"]).is_err());
        assert!(control(&["throttle", "alice", "sideways", "1"]).is_err());
        assert!(control(&["throttle", "alice", "0"]).is_err());
        assert!(control(&["throttle"]).is_err());
        assert_eq!(
            control(&["unthrottle", "alice"]),
            Ok(Request::Unthrottle { target: alice() })
        );
        assert_eq!(
            control(&["garden", "alice"]),
            Ok(Request::Garden { target: alice() })
        );
        assert_eq!(
            control(&["ungarden", "4", "alice"]),
            Ok(Request::Ungarden {
                target: Target::Session(4),
                user: Some("alice".into())
            })
        );
        assert!(control(&["ungarden"]).is_err());
    }

    #[test]
    fn refusals_say_why() {
        assert!(control(&[]).unwrap_err().contains("no command"));
        assert!(control(&["frobnicate"])
            .unwrap_err()
            .contains("unrecognised"));
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
