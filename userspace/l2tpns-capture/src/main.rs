//! `l2tpns-capture`: listens for l2tpns's interception stream and writes it as pcap.

use std::fs::File;
use std::io::{self, Write};
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use l2tpns_capture::capture::{self, Limits, Stats};
use l2tpns_capture::pcap;
use socket2::{Domain, Protocol, Socket, Type};

/// Receive the packets l2tpns copies from snooped sessions (one bare IP packet per UDP
/// datagram; `snoop USER IP PORT`, Cisco-AVPair "intercept=IP:PORT") and write them to a pcap
/// file (LINKTYPE_RAW, arrival timestamps), one flushed record per datagram.
#[derive(Parser, Debug)]
#[command(version)]
struct Cli {
    /// The address and UDP port l2tpns sends to (snoop_host:snoop_port); [::]:PORT takes IPv4
    /// and IPv6.
    #[arg(long, value_name = "ADDR:PORT")]
    listen: SocketAddr,
    /// The pcap file to write (truncated first); `-` for standard output.
    #[arg(short = 'w', value_name = "FILE")]
    write: String,
    /// Stop after writing COUNT packets.
    #[arg(short = 'c', value_name = "COUNT")]
    count: Option<u64>,
    /// Accept datagrams only from this LNS address (repeatable). Default: from any source,
    /// which lets anyone who can reach the port add packets to the capture: an operator
    /// should set it.
    #[arg(long, value_name = "IP")]
    from: Vec<IpAddr>,
    /// Stop after SECS seconds.
    #[arg(long, value_name = "SECS")]
    duration: Option<f64>,
}

/// A socket with a receive buffer large enough for a burst of a fast session.
fn bind(at: SocketAddr) -> io::Result<UdpSocket> {
    let s = Socket::new(Domain::for_address(at), Type::DGRAM, Some(Protocol::UDP))?;
    if at.is_ipv6() {
        // [::]:PORT takes the IPv4 LNSes too, whatever net.ipv6.bindv6only says.
        s.set_only_v6(false)?;
    }
    // Best effort: the kernel caps it at net.core.rmem_max.
    let _ = s.set_recv_buffer_size(8 << 20);
    s.bind(&at.into())?;
    Ok(s.into())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let duration = match cli.duration {
        None => None,
        Some(s) if s.is_finite() && s >= 0.0 => Some(Duration::from_secs_f64(s)),
        Some(s) => {
            eprintln!("l2tpns-capture: --duration {s}: not a number of seconds");
            return ExitCode::from(2);
        }
    };
    let socket = match bind(cli.listen) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("l2tpns-capture: listening on {}: {e}", cli.listen);
            return ExitCode::FAILURE;
        }
    };
    let out: Box<dyn Write> = if cli.write == "-" {
        Box::new(io::stdout().lock())
    } else {
        match File::create(&cli.write) {
            Ok(f) => Box::new(f),
            Err(e) => {
                eprintln!("l2tpns-capture: {}: {e}", cli.write);
                return ExitCode::FAILURE;
            }
        }
    };
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        if let Err(e) = signal_hook::flag::register(sig, Arc::clone(&stop)) {
            eprintln!("l2tpns-capture: signal handler: {e}");
            return ExitCode::FAILURE;
        }
    }
    let mut writer = match pcap::Writer::new(out) {
        Ok(w) => w,
        Err(e) => {
            eprintln!("l2tpns-capture: {}: {e}", cli.write);
            return ExitCode::FAILURE;
        }
    };
    if cli.from.is_empty() {
        eprintln!(
            "l2tpns-capture: warning: no --from, taking datagrams from any source on {}",
            cli.listen
        );
    }
    eprintln!(
        "l2tpns-capture: listening on {}, writing {}",
        cli.listen, cli.write
    );
    let limits = Limits {
        from: cli.from,
        count: cli.count,
        duration,
    };
    let mut stats = Stats::default();
    let result = capture::run(&socket, &mut writer, &limits, &stop, &mut stats);
    eprintln!("l2tpns-capture: {}", stats.summary());
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("l2tpns-capture: {e}");
            ExitCode::FAILURE
        }
    }
}
