//! `nsctl`: sends one control request to a running l2tpns and prints its answer, as the C
//! nsctl does (same options, same output, same exit status), so operators' scripts keep
//! working. `OK` lines go to standard output (exit 0), `ERR` lines to standard error
//! (exit 1); no answer within the timeout is an error too.
//!
//! Ours adds: a listing longer than one datagram is fetched page by page (`nsctl::paging`)
//! and printed as one, and `--json` asks `show` queries for JSON (one document, the pages of a
//! listing joined into one array).

use std::io::ErrorKind;
use std::net::{SocketAddr, ToSocketAddrs, UdpSocket};
use std::process::ExitCode;
use std::time::Duration;

use clap::{ArgAction, Parser};
use nsctl::paging;
use nsctl::wire::{Kind, Message, MAX_MESSAGE};

/// Controls a running l2tpns: `nsctl help` lists the commands it answers.
#[derive(Debug, Parser)]
#[command(version, disable_help_flag = true)]
struct Cli {
    /// Print the request and the response as they go over the wire.
    #[arg(short = 'd', action = ArgAction::Count)]
    debug: u8,
    /// The daemon's control address.
    #[arg(short = 'h', value_name = "HOST[:PORT]", default_value = "127.0.0.1")]
    host: String,
    /// Seconds to wait for the answer (0: wait forever).
    #[arg(short = 't', value_name = "TIMEOUT", default_value_t = 2)]
    timeout: u64,
    /// `show` queries answer in JSON.
    #[arg(long)]
    json: bool,
    /// The command and its arguments.
    #[arg(value_name = "COMMAND", required = true, num_args = 1.., trailing_var_arg = true)]
    command: Vec<String>,
    /// Print help.
    #[arg(long, action = ArgAction::Help)]
    help: Option<bool>,
}

/// nsctl's own commands; anything else goes to the daemon as a control request.
const BUILT_INS: &[(&str, &str, Kind)] = &[
    (
        "load_plugin",
        " PLUGIN    Load named plugin",
        Kind::LoadPlugin,
    ),
    (
        "unload_plugin",
        " PLUGIN  Unload named plugin",
        Kind::UnloadPlugin,
    ),
    (
        "help",
        "                  List available commands",
        Kind::Help,
    ),
];

/// `HOST`, `HOST:PORT`, `[V6]:PORT` or a bare IPv6 address.
fn resolve(host: &str) -> Result<SocketAddr, String> {
    if let Ok(a) = host.parse::<SocketAddr>() {
        return Ok(a);
    }
    let (name, port) = match host.rsplit_once(':') {
        Some((name, port)) if !name.contains(':') => {
            let port = port
                .parse::<u16>()
                .ok()
                .filter(|&p| p != 0)
                .ok_or_else(|| format!("invalid port `{port}'"))?;
            (name, port)
        }
        _ => (
            host.trim_start_matches('[').trim_end_matches(']'),
            nsctl::DEFAULT_PORT,
        ),
    };
    (name, port)
        .to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
        .ok_or_else(|| format!("invalid host `{name}'"))
}

fn dump(what: &str, m: &Message) {
    let args: Vec<String> = m.lines().map(|l| format!("{l:?}")).collect();
    eprintln!(
        "{what} control packet: type {:#04x} ({:?}), {} args [{}]",
        m.kind.code(),
        m.kind,
        m.args.len(),
        args.join(", ")
    );
}

fn request(cli: &Cli, peer: SocketAddr, request: &Message) -> Result<Message, String> {
    let wire = request
        .encode()
        .map_err(|e| format!("error packing request: {e}"))?;
    let local: SocketAddr = if peer.is_ipv4() {
        "0.0.0.0:0".parse().unwrap()
    } else {
        "[::]:0".parse().unwrap()
    };
    let socket = UdpSocket::bind(local).map_err(|e| format!("can't create udp socket ({e})"))?;
    // Connected: the kernel drops datagrams from anyone but the daemon.
    socket
        .connect(peer)
        .map_err(|e| format!("udp connect failed ({e})"))?;
    let timeout = (cli.timeout > 0).then(|| Duration::from_secs(cli.timeout));
    socket
        .set_read_timeout(timeout)
        .map_err(|e| format!("udp socket: {e}"))?;
    if cli.debug > 0 {
        dump("Sending", request);
    }
    socket
        .send(&wire)
        .map_err(|e| format!("error sending request ({e})"))?;
    let mut buf = vec![0u8; MAX_MESSAGE + 1];
    let n = socket.recv(&mut buf).map_err(|e| {
        let why = match e.kind() {
            ErrorKind::WouldBlock | ErrorKind::TimedOut => "timed out".to_owned(),
            _ => e.to_string(),
        };
        format!("error receiving response ({why})")
    })?;
    let reply = Message::decode(&buf[..n]).map_err(|e| e.to_string())?;
    if !reply.kind.is_response() {
        return Err(format!("invalid type {:#04x}", reply.kind.code()));
    }
    if cli.debug > 0 {
        dump("Received", &reply);
    }
    Ok(reply)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let peer = match resolve(&cli.host) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("nsctl: {e}");
            return ExitCode::FAILURE;
        }
    };
    let (kind, args) = match BUILT_INS
        .iter()
        .find(|(name, _, _)| *name == cli.command[0])
    {
        Some(&(_, _, kind)) => (kind, &cli.command[1..]),
        None => (Kind::Control, &cli.command[..]),
    };
    if kind == Kind::Help {
        println!("Available commands:");
        for (name, usage, _) in BUILT_INS {
            println!("  {name}{usage}");
        }
    }
    let mut words: Vec<String> = args.to_vec();
    if cli.json && kind == Kind::Control && words.first().is_some_and(|w| w == "show") {
        words.insert(1, "--json".to_owned());
    }
    let json = words.iter().any(|w| w == "--json");
    match fetch_all(&cli, peer, kind, words) {
        Ok((Kind::Ok, lines)) if json => match join_json(&lines) {
            Ok(v) => {
                println!("{v:#}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("nsctl: {e}");
                ExitCode::FAILURE
            }
        },
        Ok((Kind::Ok, lines)) => {
            for line in lines.concat() {
                println!("{}", String::from_utf8_lossy(&line));
            }
            ExitCode::SUCCESS
        }
        Ok((_, lines)) => {
            for line in lines.concat() {
                eprintln!("{}", String::from_utf8_lossy(&line));
            }
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("nsctl: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Pages a daemon may link before we stop following (a million sessions at 50 a page).
const MAX_PAGES: usize = 100_000;

/// One answer's arguments: lines, or pieces of a JSON text.
type Args = Vec<Vec<u8>>;

/// Sends the request and follows continuation lines; returns the answer's kind and each
/// page's arguments (without the continuation line).
fn fetch_all(
    cli: &Cli,
    peer: SocketAddr,
    kind: Kind,
    mut words: Vec<String>,
) -> Result<(Kind, Vec<Args>), String> {
    let mut pages = Vec::new();
    loop {
        let message = Message::new(kind, words.iter().map(|a| a.as_bytes().to_vec()));
        let reply = request(cli, peer, &message)?;
        let kind = reply.kind;
        let mut lines = reply.args;
        let next = match (kind, lines.last()) {
            (Kind::Ok, Some(last)) => std::str::from_utf8(last)
                .ok()
                .and_then(paging::continuation),
            _ => None,
        };
        if next.is_some() {
            lines.pop();
        }
        pages.push(lines);
        match next {
            // A next page that is this one again would loop forever.
            Some(next) if next != words && pages.len() < MAX_PAGES => words = next,
            Some(_) => return Err("the daemon's pages do not advance".to_owned()),
            None => return Ok((kind, pages)),
        }
    }
}

/// One JSON document from the pages: each page's pieces joined (a piece may end inside a
/// UTF-8 character); arrays concatenated.
fn join_json(pages: &[Args]) -> Result<serde_json::Value, String> {
    let mut all: Option<serde_json::Value> = None;
    for page in pages {
        let v: serde_json::Value = serde_json::from_slice(&page.concat())
            .map_err(|e| format!("the daemon's JSON does not parse: {e}"))?;
        all = Some(match (all, v) {
            (None, v) => v,
            (Some(serde_json::Value::Array(mut a)), serde_json::Value::Array(b)) => {
                a.extend(b);
                serde_json::Value::Array(a)
            }
            _ => return Err("the daemon's JSON pages are not one listing".to_owned()),
        });
    }
    all.ok_or_else(|| "empty answer".to_owned())
}
