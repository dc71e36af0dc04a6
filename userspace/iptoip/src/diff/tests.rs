use super::*;
use crate::table::{Forward, Protocol};
use std::collections::BTreeMap;
use std::net::IpAddr;

fn svc(proto: Protocol, addr: &str, port: u16) -> ServiceKey {
    ServiceKey {
        protocol: proto,
        addr: addr.parse::<IpAddr>().unwrap(),
        port,
    }
}

fn dest(addr: &str, port: u16) -> DestKey {
    DestKey {
        addr: addr.parse::<IpAddr>().unwrap(),
        port,
    }
}

fn spec(weight: u32) -> DestSpec {
    DestSpec {
        forward: Forward::Masq,
        weight,
    }
}

fn service(sched: &str, dests: &[(DestKey, DestSpec)]) -> ServiceSpec {
    ServiceSpec {
        scheduler: sched.into(),
        dests: dests.iter().copied().collect::<BTreeMap<_, _>>(),
    }
}

fn owned(keys: &[ServiceKey]) -> BTreeSet<ServiceKey> {
    keys.iter().copied().collect()
}

/// Applies ops to a table the way the kernel would, so a test can check the plan reaches the goal.
fn apply(table: &mut Table, ops: &[Op]) {
    for op in ops {
        match op {
            Op::AddService { service, scheduler } => {
                assert!(table
                    .insert(*service, self::service(scheduler, &[]))
                    .is_none());
            }
            Op::EditService { service, scheduler } => {
                table.get_mut(service).unwrap().scheduler = scheduler.clone();
            }
            Op::DelService { service } => {
                assert!(table.remove(service).is_some());
            }
            Op::AddDest {
                service,
                dest,
                spec,
            } => {
                assert!(table
                    .get_mut(service)
                    .unwrap()
                    .dests
                    .insert(*dest, *spec)
                    .is_none());
            }
            Op::EditDest {
                service,
                dest,
                spec,
            } => {
                *table.get_mut(service).unwrap().dests.get_mut(dest).unwrap() = *spec;
            }
            Op::DelDest { service, dest } => {
                assert!(table.get_mut(service).unwrap().dests.remove(dest).is_some());
            }
        }
    }
}

#[test]
fn empty_to_empty_is_nothing() {
    assert_eq!(
        plan(&Table::new(), &Table::new(), &BTreeSet::new()),
        Ok(vec![])
    );
}

#[test]
fn identical_tables_need_no_operation() {
    let k = svc(Protocol::Tcp, "203.0.113.7", 80);
    let t: Table = [(k, service("wlc", &[(dest("10.0.0.1", 80), spec(5))]))].into();
    assert_eq!(plan(&t, &t, &owned(&[k])), Ok(vec![]));
}

#[test]
fn new_service_is_added_with_all_its_servers() {
    let k = svc(Protocol::Tcp, "203.0.113.7", 80);
    let want: Table = [(
        k,
        service(
            "wlc",
            &[
                (dest("10.0.0.1", 80), spec(5)),
                (dest("10.0.0.2", 80), spec(1)),
            ],
        ),
    )]
    .into();
    let ops = plan(&want, &Table::new(), &BTreeSet::new()).unwrap();
    assert_eq!(
        ops,
        vec![
            Op::AddService {
                service: k,
                scheduler: "wlc".into()
            },
            Op::AddDest {
                service: k,
                dest: dest("10.0.0.1", 80),
                spec: spec(5)
            },
            Op::AddDest {
                service: k,
                dest: dest("10.0.0.2", 80),
                spec: spec(1)
            },
        ]
    );
}

#[test]
fn only_changed_servers_are_touched() {
    let k = svc(Protocol::Udp, "203.0.113.7", 53);
    let have: Table = [(
        k,
        service(
            "rr",
            &[
                (dest("10.0.0.1", 53), spec(1)),
                (dest("10.0.0.2", 53), spec(1)),
                (dest("10.0.0.3", 53), spec(1)),
            ],
        ),
    )]
    .into();
    let want: Table = [(
        k,
        service(
            "rr",
            &[
                (dest("10.0.0.1", 53), spec(1)),
                (
                    dest("10.0.0.2", 53),
                    DestSpec {
                        forward: Forward::Gate,
                        weight: 1,
                    },
                ),
                (dest("10.0.0.4", 53), spec(0)),
            ],
        ),
    )]
    .into();
    let ops = plan(&want, &have, &owned(&[k])).unwrap();
    assert_eq!(
        ops,
        vec![
            Op::DelDest {
                service: k,
                dest: dest("10.0.0.3", 53)
            },
            Op::EditDest {
                service: k,
                dest: dest("10.0.0.2", 53),
                spec: DestSpec {
                    forward: Forward::Gate,
                    weight: 1
                }
            },
            Op::AddDest {
                service: k,
                dest: dest("10.0.0.4", 53),
                spec: spec(0)
            },
        ]
    );
}

#[test]
fn scheduler_change_is_an_edit_not_a_re_creation() {
    let k = svc(Protocol::Tcp, "203.0.113.7", 80);
    let d = [(dest("10.0.0.1", 80), spec(1))];
    let have: Table = [(k, service("rr", &d))].into();
    let want: Table = [(k, service("wlc", &d))].into();
    assert_eq!(
        plan(&want, &have, &owned(&[k])),
        Ok(vec![Op::EditService {
            service: k,
            scheduler: "wlc".into()
        }])
    );
}

#[test]
fn address_change_moves_owned_services_and_spares_foreign_ones() {
    let old = svc(Protocol::Tcp, "203.0.113.7", 80);
    let new = svc(Protocol::Tcp, "203.0.113.9", 80);
    let foreign = svc(Protocol::Tcp, "203.0.113.7", 8080);
    let d = [(dest("10.0.0.1", 80), spec(1))];
    let have: Table = [(old, service("rr", &d)), (foreign, service("rr", &[]))].into();
    let want: Table = [(new, service("rr", &d))].into();
    let ops = plan(&want, &have, &owned(&[old])).unwrap();
    assert_eq!(
        ops,
        vec![
            Op::DelService { service: old },
            Op::AddService {
                service: new,
                scheduler: "rr".into()
            },
            Op::AddDest {
                service: new,
                dest: dest("10.0.0.1", 80),
                spec: spec(1)
            },
        ]
    );
    let mut t = have.clone();
    apply(&mut t, &ops);
    assert!(t.contains_key(&foreign));
    assert_eq!(t.get(&new), want.get(&new));
}

#[test]
fn foreign_service_colliding_with_a_desired_one_refuses_the_whole_plan() {
    let mine = svc(Protocol::Tcp, "203.0.113.7", 80);
    let theirs = svc(Protocol::Tcp, "203.0.113.7", 443);
    let have: Table = [(theirs, service("sh", &[(dest("10.9.9.9", 443), spec(3))]))].into();
    let want: Table = [
        (mine, service("rr", &[(dest("10.0.0.1", 80), spec(1))])),
        (theirs, service("rr", &[(dest("10.0.0.1", 443), spec(1))])),
    ]
    .into();
    assert_eq!(
        plan(&want, &have, &BTreeSet::new()),
        Err(vec![Collision(theirs)])
    );
}

#[test]
fn foreign_services_not_in_the_config_are_never_touched() {
    let theirs = svc(Protocol::Udp, "198.51.100.1", 53);
    let have: Table = [(theirs, service("rr", &[(dest("10.9.9.9", 53), spec(3))]))].into();
    assert_eq!(plan(&Table::new(), &have, &BTreeSet::new()), Ok(vec![]));
}

#[test]
fn owned_service_removed_from_the_config_is_deleted() {
    let k = svc(Protocol::Tcp, "2001:db8::1", 80);
    let have: Table = [(k, service("rr", &[(dest("2001:db8::10", 80), spec(1))]))].into();
    assert_eq!(
        plan(&Table::new(), &have, &owned(&[k])),
        Ok(vec![Op::DelService { service: k }])
    );
}

#[test]
fn owned_service_deleted_by_hand_is_recreated_and_forgotten_otherwise() {
    let a = svc(Protocol::Tcp, "203.0.113.7", 80);
    let b = svc(Protocol::Tcp, "203.0.113.7", 81);
    let want: Table = [(a, service("rr", &[]))].into();
    let mut own = owned(&[a, b]);
    prune_owned(&mut own, &Table::new());
    assert!(own.is_empty());
    let ops = plan(&want, &Table::new(), &own).unwrap();
    assert_eq!(
        ops,
        vec![Op::AddService {
            service: a,
            scheduler: "rr".into()
        }]
    );
    for op in &ops {
        track_ownership(&mut own, op);
    }
    assert_eq!(own, owned(&[a]));
}

#[test]
fn ownership_follows_successful_operations() {
    let a = svc(Protocol::Tcp, "203.0.113.7", 80);
    let mut own = BTreeSet::new();
    track_ownership(
        &mut own,
        &Op::AddService {
            service: a,
            scheduler: "rr".into(),
        },
    );
    track_ownership(
        &mut own,
        &Op::AddDest {
            service: a,
            dest: dest("10.0.0.1", 80),
            spec: spec(1),
        },
    );
    assert_eq!(own, owned(&[a]));
    track_ownership(&mut own, &Op::DelService { service: a });
    assert!(own.is_empty());
}

/// Every combination of small tables: the plan must reach `desired` on owned services, leave
/// foreign services bit for bit as they were, and be minimal (no op on an unchanged entry).
#[test]
fn exhaustive_small_tables_converge_minimally() {
    let keys = [
        svc(Protocol::Tcp, "203.0.113.7", 80),
        svc(Protocol::Udp, "203.0.113.7", 80),
        svc(Protocol::Tcp, "203.0.113.9", 80),
    ];
    let dests = [dest("10.0.0.1", 80), dest("10.0.0.2", 80)];
    // A service variant: scheduler index, and per dest: absent / weight 1 / weight 2.
    let variants: Vec<ServiceSpec> = {
        let mut v = Vec::new();
        for sched in ["rr", "wlc"] {
            for d0 in 0..3u32 {
                for d1 in 0..3u32 {
                    let mut s = service(sched, &[]);
                    if d0 > 0 {
                        s.dests.insert(dests[0], spec(d0));
                    }
                    if d1 > 0 {
                        s.dests.insert(dests[1], spec(d1));
                    }
                    v.push(s);
                }
            }
        }
        v
    };
    // Each key: absent or one of a few variants (a subset keeps the run short).
    let choices: Vec<Option<&ServiceSpec>> = std::iter::once(None)
        .chain([0, 4, 8, 13].iter().map(|&i| Some(&variants[i])))
        .collect();
    let mut cases = 0;
    let n = choices.len();
    for w in 0..n.pow(3) {
        for h in 0..n.pow(3) {
            for own_mask in 0..8u32 {
                let pick = |code: usize, i: usize| choices[(code / n.pow(i as u32)) % n];
                let mut want = Table::new();
                let mut have = Table::new();
                let mut own = BTreeSet::new();
                for (i, k) in keys.iter().enumerate() {
                    if let Some(s) = pick(w, i) {
                        want.insert(*k, s.clone());
                    }
                    if let Some(s) = pick(h, i) {
                        have.insert(*k, s.clone());
                    }
                    if own_mask & (1 << i) != 0 {
                        own.insert(*k);
                    }
                }
                prune_owned(&mut own, &have);
                cases += 1;
                match plan(&want, &have, &own) {
                    Err(c) => {
                        assert!(c.iter().all(|Collision(k)| have.contains_key(k)
                            && want.contains_key(k)
                            && !own.contains(k)));
                        assert!(!c.is_empty());
                    }
                    Ok(ops) => {
                        let own_before = own.clone();
                        let mut t = have.clone();
                        apply(&mut t, &ops);
                        for op in &ops {
                            track_ownership(&mut own, op);
                        }
                        for k in &keys {
                            if own_before.contains(k) || want.contains_key(k) {
                                assert_eq!(t.get(k), want.get(k), "key {k}");
                                assert_eq!(own.contains(k), want.contains_key(k));
                            } else {
                                assert_eq!(t.get(k), have.get(k), "foreign {k} touched");
                            }
                        }
                        // Minimality: the op count equals the number of differing entries.
                        let mut expected = 0;
                        for k in &keys {
                            match (want.get(k), have.get(k)) {
                                (Some(w), None) => expected += 1 + w.dests.len(),
                                (None, Some(_)) => expected += usize::from(own_before.contains(k)),
                                (Some(w), Some(h)) => {
                                    expected += usize::from(w.scheduler != h.scheduler);
                                    for d in &dests {
                                        if w.dests.get(d) != h.dests.get(d) {
                                            expected += 1;
                                        }
                                    }
                                }
                                (None, None) => {}
                            }
                        }
                        assert_eq!(ops.len(), expected, "want {want:?} have {have:?}");
                    }
                }
            }
        }
    }
    assert_eq!(cases, 125 * 125 * 8);
}
