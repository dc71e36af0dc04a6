//! `nsctl`: sends one control request to a running l2tpns and prints its answer, as the C
//! nsctl does (same options, same output, same exit status), so operators' scripts keep
//! working. `OK` lines go to standard output (exit 0), `ERR` lines to standard error
//! (exit 1); no answer within the timeout is an error too.

use std::io::ErrorKind;
use std::net::{SocketAddr, ToSocketAddrs, UdpSocket};
use std::process::ExitCode;
use std::time::Duration;

use clap::{ArgAction, Parser};
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
    let message = Message::new(kind, args.iter().map(|a| a.as_bytes().to_vec()));
    match request(&cli, peer, &message) {
        Ok(reply) if reply.kind == Kind::Ok => {
            for line in reply.lines() {
                println!("{line}");
            }
            ExitCode::SUCCESS
        }
        Ok(reply) => {
            for line in reply.lines() {
                eprintln!("{line}");
            }
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("nsctl: {e}");
            ExitCode::FAILURE
        }
    }
}
