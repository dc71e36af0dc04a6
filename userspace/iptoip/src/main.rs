//! `iptoip`: see iptoip(8).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use log::{error, info};

use iptoip::apply::{self, Settings};
use iptoip::{config, logging, watch};

/// Keep the IPVS table in step with an XML config and the address of an interface.
#[derive(Parser, Debug)]
#[command(name = "iptoip", version, about, long_about = None)]
struct Cli {
    /// Configuration file (iptoip.xml(5)).
    #[arg(short = 'f', long = "file", default_value = "/etc/iptoip.xml")]
    file: PathBuf,

    /// Also log every netlink operation and the interface addresses.
    #[arg(short = 'd', long = "debug")]
    debug: bool,

    /// Print the planned changes and touch nothing; plans against an empty table where IPVS is
    /// not available.
    #[arg(long = "dry-run", conflicts_with = "watch")]
    dry_run: bool,

    /// Apply, then re-apply on every address change of <iface> until stopped.
    #[arg(long = "watch")]
    watch: bool,

    /// Print the configuration report even if <verbose> is 0.
    #[arg(short = 'v', long = "verbose")]
    verbose: bool,

    /// Where iptoip remembers the services it created.
    #[arg(long = "state", default_value = "/var/lib/iptoip/state")]
    state: PathBuf,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match config::load(&cli.file) {
        Ok(c) => c,
        Err(errors) => {
            // The config chooses the log destination, so its own errors go to stderr.
            logging::init(false, None, cli.debug);
            for e in &errors.0 {
                error!("{e}");
            }
            error!("invalid configuration: nothing changed");
            return ExitCode::FAILURE;
        }
    };
    if cli.dry_run {
        logging::init(false, None, cli.debug);
    } else {
        logging::init(config.syslog, config.logfile.as_deref(), cli.debug);
    }
    let settings = Settings {
        config_path: &cli.file,
        state_path: &cli.state,
        dry_run: cli.dry_run,
        verbose: cli.verbose || config.verbose,
    };
    if config.confs.is_empty() {
        log::warn!(
            "{}: no <conf>: every service iptoip created will be removed",
            cli.file.display()
        );
    }

    let pass = apply::run_pass(&config, &settings);
    if !cli.watch {
        return if pass.ok {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        };
    }
    let Some(iface) = config.iface.clone() else {
        error!("--watch needs an <iface> to follow");
        return ExitCode::FAILURE;
    };
    let mut events = match watch::AddressEvents::open() {
        Ok(e) => e,
        Err(e) => {
            error!("cannot listen to address changes: {e}");
            return ExitCode::FAILURE;
        }
    };
    info!("watching the addresses of {iface}");
    let (mut last, mut last_ok) = (pass.iface, pass.ok);
    // The addresses may have changed between the first pass and the subscription.
    let mut check_now = true;
    loop {
        if !check_now {
            if let Err(e) = events.wait() {
                error!("address events: {e}");
                return ExitCode::FAILURE;
            }
        }
        check_now = false;
        let now = match apply::read_iface(&config) {
            Ok(a) => a,
            Err(e) => {
                error!("{e}");
                continue;
            }
        };
        if now == last && last_ok {
            continue;
        }
        if now != last {
            let show = |a: &Option<iptoip::desired::IfaceAddrs>| {
                a.map(|a| a.to_string()).unwrap_or_else(|| "unknown".into())
            };
            info!(
                "{iface}: address changed from {} to {}",
                show(&last),
                show(&now)
            );
        }
        let pass = apply::run_pass(&config, &settings);
        last = pass.iface;
        last_ok = pass.ok;
    }
}
