//! The session table: O(1) lookups by destination, L2TP ids, RADIUS id and user; no fixed
//! size; a data-plane view read concurrently without locks.

use std::net::{Ipv4Addr, SocketAddrV4};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use l2tp::{SessionId, TunnelId};
use lns_dataplane::session_table::{CallId, DataPathInfo, SessionTable, TableError};

fn ids(tunnel: u16, session: u16) -> CallId {
    CallId::new(TunnelId(tunnel), SessionId(session))
}

fn ip(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}

fn info(peer_session: u16) -> DataPathInfo {
    DataPathInfo {
        peer: SocketAddrV4::new(ip("198.51.100.1"), 1701),
        socket: 0,
        peer_tunnel: TunnelId(7),
        peer_session: SessionId(peer_session),
        mru: 1458,
        acfc: false,
        pfc: false,
        allow_any_source: false,
        sequenced: false,
    }
}

#[test]
fn insert_lookup_remove_and_stale_keys() {
    let mut t: SessionTable<String> = SessionTable::new();
    let k1 = t.insert(ids(1, 1), "one".into()).unwrap();
    let k2 = t.insert(ids(1, 2), "two".into()).unwrap();
    assert_eq!(
        t.insert(ids(1, 1), "dup".into()),
        Err(TableError::IdsInUse(ids(1, 1)))
    );
    assert_eq!(t.len(), 2);
    assert_eq!(t.by_ids(ids(1, 2)), Some(k2));
    assert_eq!(t.get(k1).map(String::as_str), Some("one"));
    t.get_mut(k1).unwrap().push('!');
    assert_eq!(t.remove(k1).as_deref(), Some("one!"));
    assert_eq!(t.get(k1), None);
    assert_eq!(t.by_ids(ids(1, 1)), None);
    // The slot is reused, but the old key stays stale.
    let k3 = t.insert(ids(2, 1), "three".into()).unwrap();
    assert_eq!(k3.index(), k1.index());
    assert_ne!(k3, k1);
    assert_eq!(t.get(k1), None);
    assert_eq!(t.remove(k1), None);
    assert_eq!(
        t.set_address(k1, ip("10.0.0.1")),
        Err(TableError::NoSuchSession)
    );
    assert_eq!(t.in_tunnel(TunnelId(1)), [k2]);
    let k4 = t.insert(ids(1, 0), "four".into()).unwrap();
    assert_eq!(t.in_tunnel(TunnelId(1)), [k4, k2], "in session id order");
    assert_eq!(t.in_tunnel(TunnelId(2)), [k3]);
    assert!(t.in_tunnel(TunnelId(9)).is_empty());
    t.remove(k4);
    assert_eq!(t.iter().count(), 2);
}

#[test]
fn addresses_routes_radius_ids_and_users() {
    let mut t: SessionTable<()> = SessionTable::new();
    let a = t.insert(ids(1, 1), ()).unwrap();
    let b = t.insert(ids(1, 2), ()).unwrap();
    t.set_address(a, ip("10.0.0.1")).unwrap();
    assert_eq!(
        t.set_address(b, ip("10.0.0.1")),
        Err(TableError::AddressInUse(ip("10.0.0.1")))
    );
    t.set_address(b, ip("10.0.0.2")).unwrap();
    t.add_route(a, ip("192.0.2.0"), 24).unwrap();
    t.add_route(b, ip("192.0.2.128"), 25).unwrap();
    assert_eq!(
        t.add_route(b, ip("192.0.2.0"), 24),
        Err(TableError::RouteInUse(ip("192.0.2.0"), 24))
    );
    assert_eq!(
        t.add_route(b, ip("192.0.2.1"), 24),
        Err(TableError::BadPrefix(ip("192.0.2.1"), 24))
    );
    assert_eq!(t.by_destination(ip("10.0.0.2")), Some(b));
    assert_eq!(t.by_destination(ip("192.0.2.5")), Some(a));
    assert_eq!(
        t.by_destination(ip("192.0.2.200")),
        Some(b),
        "longest prefix wins"
    );
    assert_eq!(t.by_destination(ip("10.0.0.3")), None);

    t.set_radius_id(a, Some(4242)).unwrap();
    assert_eq!(
        t.set_radius_id(b, Some(4242)),
        Err(TableError::RadiusIdInUse(4242))
    );
    assert_eq!(t.by_radius_id(4242), Some(a));
    t.set_radius_id(a, Some(7)).unwrap();
    assert_eq!(t.by_radius_id(4242), None);
    assert_eq!(t.by_radius_id(7), Some(a));

    t.set_user(a, Some("alice")).unwrap();
    t.set_user(b, Some("alice")).unwrap();
    assert_eq!(t.by_user("alice"), [a, b], "oldest first");
    t.set_user(a, Some("bob")).unwrap();
    assert_eq!(t.by_user("alice"), [b]);
    assert_eq!(t.user(a), Some("bob"));

    // Removing a session frees everything it held.
    t.remove(a).unwrap();
    assert_eq!(t.by_destination(ip("10.0.0.1")), None);
    assert_eq!(t.by_destination(ip("192.0.2.5")), None);
    assert_eq!(t.by_radius_id(7), None);
    assert!(t.by_user("bob").is_empty());
    let c = t.insert(ids(1, 3), ()).unwrap();
    t.set_address(c, ip("10.0.0.1")).unwrap();
    t.add_route(c, ip("192.0.2.0"), 24).unwrap();
    assert_eq!(t.clear_address(c), Ok(Some(ip("10.0.0.1"))));
    assert!(t.routes(c).is_empty());
    assert_eq!(t.by_destination(ip("192.0.2.5")), None);
}

#[test]
fn data_plane_sees_only_published_sessions() {
    let mut t: SessionTable<()> = SessionTable::new();
    let view = t.data_plane();
    let k = t.insert(ids(3, 9), ()).unwrap();
    assert_eq!(t.publish(k, info(1)), Err(TableError::NoAddress));
    t.set_address(k, ip("10.0.0.9")).unwrap();
    t.add_route(k, ip("203.0.113.0"), 24).unwrap();
    assert!(
        view.pin().by_destination(ip("10.0.0.9")).is_none(),
        "not yet published"
    );

    t.publish(k, info(1)).unwrap();
    {
        let p = view.pin();
        let path = p.by_destination(ip("10.0.0.9")).unwrap();
        assert_eq!((path.key, path.info.peer_session), (k, SessionId(1)));
        assert_eq!(p.by_destination(ip("203.0.113.77")).unwrap().key, k);
        assert_eq!(p.by_ids(ids(3, 9)).unwrap().address, ip("10.0.0.9"));
        assert!(p.by_ids(ids(3, 8)).is_none());
        path.counters.count_out(100);
        p.by_ids(ids(3, 9)).unwrap().counters.count_in(60, 1234);
        // Anti-spoof: own address and routed prefix pass, others do not.
        assert!(p.source_allowed(path, ip("10.0.0.9")));
        assert!(p.source_allowed(path, ip("203.0.113.5")));
        assert!(!p.source_allowed(path, ip("10.0.0.10")));
    }
    // A route added while published is visible at once.
    t.add_route(k, ip("198.51.100.64"), 26).unwrap();
    assert_eq!(
        view.pin().by_destination(ip("198.51.100.70")).unwrap().key,
        k
    );

    // Re-publishing (e.g. the LAC's port changed) keeps the counters.
    t.publish(k, info(2)).unwrap();
    let p = view.pin();
    let path = p.by_destination(ip("10.0.0.9")).unwrap();
    assert_eq!(path.info.peer_session, SessionId(2));
    assert_eq!(path.counters.octets_out.load(Ordering::Relaxed), 100);
    assert_eq!(t.counters(k).unwrap().octets_in.load(Ordering::Relaxed), 60);
    assert_eq!(
        t.counters(k)
            .unwrap()
            .last_packet_in
            .load(Ordering::Relaxed),
        1234
    );
    drop(p);

    // A new address moves the published entry.
    t.set_address(k, ip("10.0.0.10")).unwrap();
    assert!(view.pin().by_destination(ip("10.0.0.9")).is_none());
    assert!(
        view.pin().by_destination(ip("10.0.0.10")).is_none(),
        "routes/address cleared: re-publish needed"
    );
    t.publish(k, info(2)).unwrap();
    assert_eq!(view.pin().by_destination(ip("10.0.0.10")).unwrap().key, k);

    t.unpublish(k);
    assert!(view.pin().by_destination(ip("10.0.0.10")).is_none());
    assert!(view.pin().by_ids(ids(3, 9)).is_none());
    t.publish(k, info(2)).unwrap();
    t.remove(k);
    assert!(view.pin().by_destination(ip("10.0.0.10")).is_none());
    assert!(view.pin().by_ids(ids(3, 9)).is_none());
}

#[test]
fn no_fixed_size_100k_sessions() {
    // 100 000 sessions, over the original's 60 000 limit; session ids are per tunnel.
    let mut t: SessionTable<u32> = SessionTable::new();
    let view = t.data_plane();
    let n = 100_000u32;
    let mut keys = Vec::with_capacity(n as usize);
    for i in 0..n {
        let k = t
            .insert(ids(1 + (i / 50_000) as u16, 1 + (i % 50_000) as u16), i)
            .unwrap();
        t.set_address(k, Ipv4Addr::from(0x0a00_0000 + i)).unwrap();
        t.set_radius_id(k, Some(i)).unwrap();
        t.publish(k, info(i as u16)).unwrap();
        keys.push(k);
    }
    assert_eq!(t.len(), n as usize);
    let p = view.pin();
    for i in (0..n).step_by(97) {
        let k = keys[i as usize];
        assert_eq!(
            p.by_destination(Ipv4Addr::from(0x0a00_0000 + i))
                .unwrap()
                .key,
            k
        );
        assert_eq!(
            t.by_ids(ids(1 + (i / 50_000) as u16, 1 + (i % 50_000) as u16)),
            Some(k)
        );
        assert_eq!(t.by_radius_id(i), Some(k));
        assert_eq!(t.get(k), Some(&i));
    }
}

#[test]
fn readers_never_see_a_torn_session_while_the_control_plane_churns() {
    let mut t: SessionTable<()> = SessionTable::new();
    let view = t.data_plane();
    let stop = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = (0..2)
        .map(|_| {
            let (view, stop) = (view.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut found = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let p = view.pin();
                    for i in 0..256u32 {
                        let dst = Ipv4Addr::new(10, 1, 0, i as u8);
                        if let Some(path) = p.by_destination(dst) {
                            // Whatever is found is consistent with itself.
                            assert_eq!(path.address, dst);
                            assert_eq!(path.ids.session, path.info.peer_session);
                            path.counters.count_out(1);
                            found += 1;
                        }
                        if let Some(path) = p.by_ids(ids(1, i as u16)) {
                            assert_eq!(path.ids, ids(1, i as u16));
                        }
                    }
                }
                found
            })
        })
        .collect();
    for round in 0..300u32 {
        let mut keys = Vec::new();
        for i in 0..64u16 {
            let s = (round as u16 % 4) * 64 + i;
            let k = t.insert(ids(1, s), ()).unwrap();
            t.set_address(k, Ipv4Addr::new(10, 1, 0, s as u8)).unwrap();
            t.publish(k, info(s)).unwrap();
            keys.push(k);
        }
        for k in keys {
            t.remove(k);
        }
    }
    stop.store(true, Ordering::Relaxed);
    for r in readers {
        r.join().expect("reader panicked");
    }
    assert!(t.is_empty());
    assert!(view
        .pin()
        .by_destination(Ipv4Addr::new(10, 1, 0, 1))
        .is_none());
}

mod model {
    //! The table against a naive model: after any sequence of operations, lookups by
    //! destination (control and data plane) and by ids agree with a linear search.

    use super::*;
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    enum Op {
        Insert(u16),
        Remove(usize),
        SetAddress(usize, u8),
        AddRoute(usize, u8, u8),
        Publish(usize),
        Unpublish(usize),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            3 => (0u16..6).prop_map(Op::Insert),
            1 => (0usize..8).prop_map(Op::Remove),
            3 => (0usize..8, 0u8..8).prop_map(|(s, a)| Op::SetAddress(s, a)),
            2 => (0usize..8, 0u8..4, 24u8..=30).prop_map(|(s, n, l)| Op::AddRoute(s, n, l)),
            2 => (0usize..8).prop_map(Op::Publish),
            1 => (0usize..8).prop_map(Op::Unpublish),
        ]
    }

    #[derive(Debug, Clone)]
    struct M {
        key: lns_dataplane::session_table::SessionKey,
        session: u16,
        address: Option<Ipv4Addr>,
        routes: Vec<(u32, u8)>,
        published: bool,
    }

    fn covers((net, len): (u32, u8), d: u32) -> bool {
        d & (u32::MAX << (32 - len)) == net
    }

    fn expect(
        m: &[M],
        dst: Ipv4Addr,
        only_published: bool,
    ) -> Option<lns_dataplane::session_table::SessionKey> {
        let live = || m.iter().filter(|s| !only_published || s.published);
        if let Some(s) = live().find(|s| s.address == Some(dst)) {
            return Some(s.key);
        }
        live()
            .flat_map(|s| s.routes.iter().map(move |r| (r.1, s.key, *r)))
            .filter(|(_, _, r)| covers(*r, u32::from(dst)))
            .max_by_key(|(l, _, _)| *l)
            .map(|(_, k, _)| k)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn lookups_match_a_linear_search(ops in proptest::collection::vec(op(), 1..80)) {
            let mut t: SessionTable<()> = SessionTable::new();
            let view = t.data_plane();
            let mut m: Vec<M> = Vec::new();
            for op in ops {
                match op {
                    Op::Insert(s) => {
                        let r = t.insert(ids(1, s), ());
                        if m.iter().any(|x| x.session == s) {
                            prop_assert!(r.is_err());
                        } else {
                            m.push(M { key: r.unwrap(), session: s, address: None, routes: vec![], published: false });
                        }
                    }
                    Op::Remove(i) if i < m.len() => {
                        let s = m.remove(i);
                        prop_assert!(t.remove(s.key).is_some());
                    }
                    Op::SetAddress(i, a) if i < m.len() => {
                        let addr = Ipv4Addr::new(10, 0, 0, a);
                        let r = t.set_address(m[i].key, addr);
                        if m[i].address == Some(addr) {
                            prop_assert!(r.is_ok());
                        } else if m.iter().any(|x| x.address == Some(addr)) {
                            prop_assert_eq!(r, Err(TableError::AddressInUse(addr)));
                        } else {
                            prop_assert!(r.is_ok());
                            if m[i].address.is_some() {
                                m[i].routes.clear();
                                m[i].published = false;
                            }
                            m[i].address = Some(addr);
                        }
                    }
                    Op::AddRoute(i, n, l) if i < m.len() => {
                        let net = u32::from(Ipv4Addr::new(192, 0, 2, 0)) | (u32::from(n) << (32 - l));
                        let r = t.add_route(m[i].key, Ipv4Addr::from(net), l);
                        let owner = m.iter().position(|x| x.routes.contains(&(net, l)));
                        match owner {
                            Some(o) if o == i => prop_assert!(r.is_ok()),
                            Some(_) => prop_assert!(r.is_err()),
                            None => {
                                prop_assert!(r.is_ok());
                                m[i].routes.push((net, l));
                            }
                        }
                    }
                    Op::Publish(i) if i < m.len() => {
                        let r = t.publish(m[i].key, info(m[i].session));
                        prop_assert_eq!(r.is_ok(), m[i].address.is_some());
                        m[i].published |= m[i].address.is_some();
                    }
                    Op::Unpublish(i) if i < m.len() => {
                        t.unpublish(m[i].key);
                        m[i].published = false;
                    }
                    _ => {}
                }
                let p = view.pin();
                for d in (0..8).map(|a| Ipv4Addr::new(10, 0, 0, a)).chain((0..=255).step_by(7).map(|x| Ipv4Addr::new(192, 0, 2, x))) {
                    prop_assert_eq!(t.by_destination(d), expect(&m, d, false), "control {}", d);
                    prop_assert_eq!(p.by_destination(d).map(|x| x.key), expect(&m, d, true), "data plane {}", d);
                }
                for s in &m {
                    prop_assert_eq!(t.by_ids(ids(1, s.session)), Some(s.key));
                    prop_assert_eq!(p.by_ids(ids(1, s.session)).map(|x| x.key), s.published.then_some(s.key));
                }
                prop_assert_eq!(t.len(), m.len());
            }
        }
    }
}
