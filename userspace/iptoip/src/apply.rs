//! One pass: read the interface, build the desired table, dump the kernel's, plan, and apply
//! (or print the plan for `--dry-run`). Every failure is logged and makes the pass fail.

use std::collections::BTreeSet;
use std::path::Path;

use log::{debug, error, info, warn};

use crate::config::Config;
use crate::desired::{self, IfaceAddrs};
use crate::diff::{self, Op};
use crate::ipvs::Ipvs;
use crate::table::{ServiceKey, Table};
use crate::{addrs, report, state};

pub struct Settings<'a> {
    pub config_path: &'a Path,
    pub state_path: &'a Path,
    pub dry_run: bool,
    pub verbose: bool,
}

/// What a pass saw, for the watch loop to compare with the next address event.
pub struct Pass {
    pub iface: Option<IfaceAddrs>,
    pub ok: bool,
}

/// The interface's addresses, `None` if the config has no `<iface>` or it does not exist.
pub fn read_iface(config: &Config) -> Result<Option<IfaceAddrs>, String> {
    let Some(name) = &config.iface else {
        return Ok(None);
    };
    match addrs::lookup(name) {
        Ok(Some(a)) => Ok(Some(a)),
        Ok(None) => Ok(Some(IfaceAddrs::default())),
        Err(e) => Err(format!("cannot read the addresses of {name}: {e}")),
    }
}

pub fn run_pass(config: &Config, settings: &Settings<'_>) -> Pass {
    let iface = match read_iface(config) {
        Ok(a) => a,
        Err(e) => {
            error!("{e}");
            return Pass {
                iface: None,
                ok: false,
            };
        }
    };
    let ok = pass_with(config, settings, iface.as_ref());
    Pass { iface, ok }
}

fn pass_with(config: &Config, settings: &Settings<'_>, iface: Option<&IfaceAddrs>) -> bool {
    if let (Some(name), Some(a)) = (&config.iface, iface) {
        debug!("interface {name}: {a}");
    }
    let (desired, mappings) = match desired::build(config, iface) {
        Ok(d) => d,
        Err(errors) => {
            for e in errors {
                error!("{}: {e}", settings.config_path.display());
            }
            error!("nothing changed");
            return false;
        }
    };
    if settings.verbose {
        report::print(config, settings, iface, &mappings);
    }

    let mut ipvs = match Ipvs::connect() {
        Ok(Some(ipvs)) => Some(ipvs),
        Ok(None) if settings.dry_run => {
            println!("IPVS is not available in this kernel: planning against an empty table");
            None
        }
        Ok(None) => {
            error!("IPVS is not available in this kernel (is the ip_vs module loaded?)");
            return false;
        }
        Err(e) => {
            error!("cannot reach IPVS over generic netlink: {e}");
            return false;
        }
    };
    let current = match ipvs.as_mut().map(Ipvs::dump) {
        None => Table::new(),
        Some(Ok(dump)) => {
            if dump.unmanageable > 0 {
                debug!(
                    "{} fwmark/SCTP service(s) in the table are not iptoip's",
                    dump.unmanageable
                );
            }
            dump.table
        }
        Some(Err(e)) if settings.dry_run => {
            println!("cannot read the IPVS table ({e}): planning against an empty table");
            ipvs = None;
            Table::new()
        }
        Some(Err(e)) => {
            error!("cannot read the IPVS table: {e}");
            return false;
        }
    };
    let mut owned = match state::load(settings.state_path) {
        Ok(o) => o,
        Err(e) => {
            error!("state file {e}; nothing changed");
            return false;
        }
    };
    diff::prune_owned(&mut owned, &current);
    let ops = match diff::plan(&desired, &current, &owned) {
        Ok(ops) => ops,
        Err(collisions) => {
            for c in collisions {
                error!("{c}");
            }
            return false;
        }
    };

    if settings.dry_run {
        if ops.is_empty() {
            println!(
                "dry run: the IPVS table is up to date ({} services)",
                desired.len()
            );
        } else {
            println!("dry run: {} change(s) planned, none made:", ops.len());
            for op in &ops {
                println!("  {op}");
            }
        }
        return true;
    }
    let Some(ipvs) = ipvs.as_mut() else {
        return false;
    };
    let ok = execute(ipvs, &ops, &mut owned);
    if let Err(e) = state::save(settings.state_path, &owned) {
        error!(
            "cannot write the state file {}: {e}",
            settings.state_path.display()
        );
        return false;
    }
    if ops.is_empty() {
        info!(
            "IPVS table up to date ({} services, {} mappings)",
            desired.len(),
            mappings.len()
        );
    } else if ok {
        info!("IPVS table updated: {} change(s)", ops.len());
    }
    ok
}

/// Apply the operations in order. A failed service operation skips the operations on its real
/// servers (they would fail too); the other services go on. Returns whether all succeeded.
fn execute(ipvs: &mut Ipvs, ops: &[Op], owned: &mut BTreeSet<ServiceKey>) -> bool {
    let mut failed_services: BTreeSet<ServiceKey> = BTreeSet::new();
    let mut ok = true;
    for op in ops {
        let service = match op {
            Op::AddService { service, .. }
            | Op::EditService { service, .. }
            | Op::DelService { service }
            | Op::AddDest { service, .. }
            | Op::EditDest { service, .. }
            | Op::DelDest { service, .. } => *service,
        };
        if failed_services.contains(&service) {
            warn!("skipped: {op}");
            continue;
        }
        match ipvs.execute(op) {
            Ok(()) => {
                info!("IPVS {op}");
                diff::track_ownership(owned, op);
            }
            Err(e) => {
                error!("IPVS {op}: failed: {e}");
                ok = false;
                if matches!(op, Op::AddService { .. } | Op::EditService { .. }) {
                    failed_services.insert(service);
                }
            }
        }
    }
    ok
}
