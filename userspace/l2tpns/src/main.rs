//! `l2tpns`: the daemon's command line: the options are the original's
//! (`-c FILE`, `-d`, `-v`, `-h HOST`) plus `--help`, `--version` and `--check-config`.
//! Everything else lives in the `lns` library; this file only turns options into calls.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{ArgAction, Parser};
use lns::daemon::{Daemon, Exit};
use lns::startup::{self, Startup};

/// L2TP Network Server: terminates L2TP tunnels and PPP sessions from LACs, authenticates
/// users with RADIUS and routes their traffic through one TUN device.
#[derive(Debug, Parser)]
#[command(version, disable_help_flag = true)]
struct Cli {
    /// The startup-config; `users` and `ip_pool` are read from the same directory.
    #[arg(short = 'c', value_name = "FILE", default_value = lns::config::DEFAULT_PATH)]
    config: PathBuf,
    /// Detach from the terminal and run in the background.
    #[arg(short = 'd')]
    daemonize: bool,
    /// More log output: each -v raises `debug` by one (at most 5).
    #[arg(short = 'v', action = ArgAction::Count)]
    verbose: u8,
    /// The L2TP Host Name to announce (overrides `set hostname`).
    #[arg(short = 'h', value_name = "HOST")]
    hostname: Option<String>,
    /// Read startup-config, users and ip_pool, report every error (file:line: key: reason)
    /// and exit: 0 when all are valid, 1 otherwise.
    #[arg(long)]
    check_config: bool,
    /// Where SIGTERM saves the sessions and where a restart looks for them.
    #[arg(long, value_name = "DIR", default_value = lns::state_file::DEFAULT_DIR)]
    state_dir: PathBuf,
    /// Where nsctl reaches the daemon (UDP ADDRESS:PORT), or `off`. The protocol has no
    /// authentication: keep it on loopback unless the network is trusted.
    #[arg(long, value_name = "ADDRESS:PORT|off", default_value = "127.0.0.1:1702", value_parser = parse_control)]
    control: ControlAddress,
    /// Take nsctl requests from every local user, as the C daemon did; by default only root
    /// (and the daemon's own user) may drop or kill sessions.
    #[arg(long)]
    control_any_user: bool,
    /// Where the HTTP metrics listener serves `/metrics` (Prometheus text) and `/sessions`
    /// (JSON), or `off`. An address off loopback needs --metrics-token-file.
    #[arg(long, value_name = "ADDRESS:PORT|off", default_value = "127.0.0.1:9702", value_parser = parse_metrics)]
    metrics: ControlAddress,
    /// A file whose first line is the bearer token every metrics request must carry
    /// (`Authorization: Bearer TOKEN`); required for a non-loopback --metrics address.
    #[arg(long, value_name = "PATH")]
    metrics_token_file: Option<PathBuf>,
    /// Where the telnet CLI listens (TCP ADDRESS:PORT), or `off`; by default
    /// `cli_bind_address` (127.0.0.1 unless set) port 23. Logins come from the users file.
    #[arg(long, value_name = "ADDRESS:PORT|off", value_parser = parse_control)]
    cli: Option<ControlAddress>,
    /// Seconds a logged-in CLI connection may stay silent before it is closed (0: never);
    /// one at the login prompt gets at most 60.
    #[arg(long, value_name = "SECONDS", default_value_t = 900)]
    cli_idle_timeout: u64,
    /// Print help.
    #[arg(long, action = ArgAction::Help)]
    help: Option<bool>,
}

#[derive(Debug, Clone, Copy)]
enum ControlAddress {
    Off,
    On(SocketAddr),
}

fn parse_control(s: &str) -> Result<ControlAddress, String> {
    if s == "off" {
        return Ok(ControlAddress::Off);
    }
    s.parse()
        .map(ControlAddress::On)
        .map_err(|_| format!("`{s}' is neither ADDRESS:PORT nor off"))
}

fn parse_metrics(s: &str) -> Result<ControlAddress, String> {
    parse_control(s)
}

/// Exit status for files that do not load (as `--check-config` and a failed start).
const EXIT_CONFIG: u8 = 1;
/// Exit status when the daemon cannot start (sockets, TUN device, netlink).
const EXIT_UNAVAILABLE: u8 = 69; // EX_UNAVAILABLE of sysexits.h

fn load(cli: &Cli) -> Result<Startup, ExitCode> {
    startup::load(&cli.config, cli.hostname.as_deref()).map_err(|errors| {
        for e in &errors.0 {
            eprintln!("l2tpns: {e}");
        }
        eprintln!("l2tpns: {} error(s) in the configuration", errors.0.len());
        ExitCode::from(EXIT_CONFIG)
    })
}

fn check_config(cli: &Cli) -> ExitCode {
    let s = match load(cli) {
        Ok(s) => s,
        Err(code) => return code,
    };
    for w in &s.warnings {
        eprintln!("l2tpns: warning: {w}");
    }
    let file = s.config_path.display();
    for n in &s.loaded.not_implemented {
        eprintln!("l2tpns: note: {file}:{n}");
    }
    println!(
        "{file}: configuration OK ({} management user(s), {} pool address(es))",
        s.users.len(),
        s.pool.len()
    );
    ExitCode::SUCCESS
}

/// Resumes what a SIGTERM saved (if fresh), then serves.
fn resume_and_run(
    d: &mut Daemon,
    cli: &Cli,
    setuid: u32,
    metrics: Option<(SocketAddr, Option<Vec<u8>>)>,
) -> std::io::Result<Exit> {
    if let Some((addr, token)) = metrics {
        // Like the control socket: a busy port is logged, not fatal.
        if let Err(e) = d.open_metrics(addr, token) {
            log::error!("{e}; no metrics will be served");
        }
    }
    if let ControlAddress::On(addr) = cli.control {
        // Sessions matter more than the control socket: a busy port is logged, not fatal.
        if let Err(e) = d.open_control(addr, cli.control_any_user) {
            log::error!("{e}; nsctl will not reach this daemon");
        }
    }
    let cli_addr = match cli.cli {
        Some(ControlAddress::Off) => None,
        Some(ControlAddress::On(addr)) => Some(addr),
        None => Some(SocketAddr::from((d.cli_bind_address(), 23))),
    };
    if let Some(addr) = cli_addr {
        // As for nsctl: a busy port is logged, not fatal.
        let idle = (cli.cli_idle_timeout > 0).then(|| Duration::from_secs(cli.cli_idle_timeout));
        if let Err(e) = d.open_cli(addr, idle) {
            log::error!("{e}; the telnet CLI is not available");
        }
    }
    if setuid != 0 {
        // Every socket and device is open: the rest needs CAP_NET_ADMIN only.
        if let Err(e) = lns::privileges::give_dir(&cli.state_dir, setuid) {
            log::warn!(
                "{}: {e}; SIGTERM may not save the sessions",
                cli.state_dir.display()
            );
        }
        lns::privileges::drop_to(setuid)?;
        log::info!("running as uid {setuid} with CAP_NET_ADMIN only");
    }
    if d.save_state_enabled() {
        d.resume_state(&cli.state_dir);
    }
    d.run()
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Refused before anything starts: an open metrics listener without a token.
    let metrics = match cli.metrics {
        ControlAddress::Off => None,
        ControlAddress::On(addr) => {
            match lns::http::metrics_token(addr, cli.metrics_token_file.as_deref()) {
                Ok(token) => Some((addr, token)),
                Err(e) => {
                    eprintln!("l2tpns: {e}");
                    return ExitCode::from(EXIT_CONFIG);
                }
            }
        }
    };
    if cli.check_config {
        return check_config(&cli);
    }
    let s = match load(&cli) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let settings = &s.loaded.config.settings;
    let debug = settings.debug.saturating_add(cli.verbose).min(5);
    lns::logging::reconfigure(&settings.log_file, debug);
    for w in &s.warnings {
        log::warn!("{w}");
    }
    // Every key whose effect this daemon lacks, set or default (a default of `yes`, such as
    // kill_timedout_sessions, would otherwise be missing silently); then the statements.
    let absent = s.loaded.absent_effects();
    for a in &absent {
        log::warn!("{}: {a}", s.config_path.display());
    }
    // The statements (`load plugin`, `ip access-list`, ...): keys, and `router bgp` when its
    // keys are listed above, are not repeated.
    let keys: Vec<&str> = lns::config::KEYS.iter().map(|k| k.name).collect();
    let bgp_listed = absent
        .iter()
        .any(|a| lns::config::BGP_KEYS.contains(&a.key));
    for n in s
        .loaded
        .not_implemented
        .iter()
        .filter(|n| !keys.contains(&n.what.as_str()))
        .filter(|n| !(bgp_listed && n.what == "router bgp"))
    {
        log::warn!("{}:{n}", s.config_path.display());
    }
    if cli.daemonize {
        // SAFETY: called before any thread exists; daemon(3) forks and detaches.
        if unsafe { libc::daemon(0, 0) } != 0 {
            log::error!("daemonize: {}", std::io::Error::last_os_error());
            return ExitCode::from(EXIT_UNAVAILABLE);
        }
    }
    let pid_file = settings.pid_file.clone();
    let setuid = settings.setuid;
    if let Some(p) = &pid_file {
        if let Err(e) = std::fs::write(p, format!("{}\n", std::process::id())) {
            log::error!("pid_file {}: {e}", p.display());
        }
    }
    let code = match Daemon::new(s, cli.verbose) {
        Ok(mut d) => match resume_and_run(&mut d, &cli, setuid, metrics) {
            Ok(Exit::Quit) => ExitCode::SUCCESS,
            Ok(Exit::Terminate) => match d.save_state(&cli.state_dir) {
                Ok(n) => {
                    log::info!("saved {n} session(s) in {}", cli.state_dir.display());
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    log::error!("state not saved: {e}");
                    ExitCode::from(EXIT_UNAVAILABLE)
                }
            },
            Err(e) => {
                log::error!("event loop: {e}");
                ExitCode::from(EXIT_UNAVAILABLE)
            }
        },
        Err(e) => {
            log::error!("cannot start: {e}");
            ExitCode::from(EXIT_UNAVAILABLE)
        }
    };
    if let Some(p) = &pid_file {
        let _ = std::fs::remove_file(p);
    }
    code
}
