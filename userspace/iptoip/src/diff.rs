//! Desired table vs current table → the minimal ordered list of IPVS operations.
//!
//! Ownership rule (see iptoip(8), "OWNERSHIP"): IPVS has no owner tag, so iptoip remembers in its
//! state file the virtual services it created. It only ever changes or deletes those ("owned"),
//! and owns every real server inside them. A desired service that already exists in the kernel
//! but is not owned is a collision: the whole plan is refused, nothing is touched, and the
//! operator is told which service to remove. Services neither desired nor owned are never looked
//! at, whatever VIP they use.

use std::collections::BTreeSet;
use std::fmt;

use crate::table::{DestKey, DestSpec, ServiceKey, ServiceSpec, Table};

/// One change to the kernel table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    AddService {
        service: ServiceKey,
        scheduler: String,
    },
    EditService {
        service: ServiceKey,
        scheduler: String,
    },
    DelService {
        service: ServiceKey,
    },
    AddDest {
        service: ServiceKey,
        dest: DestKey,
        spec: DestSpec,
    },
    EditDest {
        service: ServiceKey,
        dest: DestKey,
        spec: DestSpec,
    },
    DelDest {
        service: ServiceKey,
        dest: DestKey,
    },
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Op::AddService { service, scheduler } => {
                write!(f, "add service {service} scheduler {scheduler}")
            }
            Op::EditService { service, scheduler } => {
                write!(f, "edit service {service} scheduler {scheduler}")
            }
            Op::DelService { service } => write!(f, "delete service {service}"),
            Op::AddDest {
                service,
                dest,
                spec,
            } => write!(
                f,
                "add server {dest} to {service} via {} weight {}",
                spec.forward.name(),
                spec.weight
            ),
            Op::EditDest {
                service,
                dest,
                spec,
            } => write!(
                f,
                "edit server {dest} of {service} via {} weight {}",
                spec.forward.name(),
                spec.weight
            ),
            Op::DelDest { service, dest } => write!(f, "delete server {dest} from {service}"),
        }
    }
}

/// A desired service that exists in the kernel but was not created by iptoip.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Collision(pub ServiceKey);

impl fmt::Display for Collision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "service {} already exists and was not created by iptoip; it is left alone and \
             nothing was changed (remove it, e.g. with ipvsadm -D, to let iptoip manage it)",
            self.0
        )
    }
}

/// Compute the operations that turn `current` into `desired` for the services iptoip owns.
///
/// Order: deletions of stale services first, then changes inside kept services (scheduler,
/// removed servers, edited servers, added servers), then new services each followed by its
/// servers. Every service operation precedes the operations on its servers.
pub fn plan(
    desired: &Table,
    current: &Table,
    owned: &BTreeSet<ServiceKey>,
) -> Result<Vec<Op>, Vec<Collision>> {
    let collisions: Vec<Collision> = desired
        .keys()
        .filter(|k| current.contains_key(k) && !owned.contains(k))
        .map(|k| Collision(*k))
        .collect();
    if !collisions.is_empty() {
        return Err(collisions);
    }

    let mut ops = Vec::new();
    for key in owned {
        if current.contains_key(key) && !desired.contains_key(key) {
            ops.push(Op::DelService { service: *key });
        }
    }
    for (key, want) in desired {
        if let Some(have) = current.get(key) {
            diff_service(*key, want, have, &mut ops);
        }
    }
    for (key, want) in desired {
        if !current.contains_key(key) {
            ops.push(Op::AddService {
                service: *key,
                scheduler: want.scheduler.clone(),
            });
            for (dest, spec) in &want.dests {
                ops.push(Op::AddDest {
                    service: *key,
                    dest: *dest,
                    spec: *spec,
                });
            }
        }
    }
    Ok(ops)
}

fn diff_service(key: ServiceKey, want: &ServiceSpec, have: &ServiceSpec, ops: &mut Vec<Op>) {
    if want.scheduler != have.scheduler {
        ops.push(Op::EditService {
            service: key,
            scheduler: want.scheduler.clone(),
        });
    }
    for dest in have.dests.keys() {
        if !want.dests.contains_key(dest) {
            ops.push(Op::DelDest {
                service: key,
                dest: *dest,
            });
        }
    }
    for (dest, spec) in &want.dests {
        if let Some(old) = have.dests.get(dest) {
            if old != spec {
                ops.push(Op::EditDest {
                    service: key,
                    dest: *dest,
                    spec: *spec,
                });
            }
        }
    }
    for (dest, spec) in &want.dests {
        if !have.dests.contains_key(dest) {
            ops.push(Op::AddDest {
                service: key,
                dest: *dest,
                spec: *spec,
            });
        }
    }
}

/// The owned set after `op` succeeded: services iptoip created join it, deleted ones leave it.
pub fn track_ownership(owned: &mut BTreeSet<ServiceKey>, op: &Op) {
    match op {
        Op::AddService { service, .. } => {
            owned.insert(*service);
        }
        Op::DelService { service } => {
            owned.remove(service);
        }
        _ => {}
    }
}

/// Owned services that are gone from the kernel (deleted by hand, or a reboot) are forgotten
/// before planning: if they are desired, the plan creates them again and owns them anew.
pub fn prune_owned(owned: &mut BTreeSet<ServiceKey>, current: &Table) {
    owned.retain(|k| current.contains_key(k));
}

#[cfg(test)]
mod tests;
