//! The ip_pool file format (reference §1.8) and the allocator: sticky per user, least recently
//! used otherwise, reservations, and a pool of a million addresses.

use std::collections::{HashMap, VecDeque};
use std::net::Ipv4Addr;

use lns_config::ip_pool::{AddressRequest, Allocation, IpPool, PoolError, PoolFile, Reservation};
use proptest::prelude::*;

fn ip(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}

#[test]
fn debian_sample() {
    let f = PoolFile::parse("ip_pool", include_str!("data/debian-l2tpns-2.4.1/ip_pool")).unwrap();
    let local = [Ipv4Addr::UNSPECIFIED];
    assert_eq!(
        f.routes_for(&local),
        [(ip("10.10.10.0"), 24), (ip("10.13.10.0"), 24)]
    );
    let pool = f.build_pool("ip_pool", &local).unwrap();
    assert_eq!(pool.len(), 2 * 254, ".0 and .255 are left out");
    assert!(pool.contains(ip("10.10.10.1")) && pool.contains(ip("10.13.10.254")));
    assert!(!pool.contains(ip("10.10.10.0")) && !pool.contains(ip("10.10.10.255")));
}

#[test]
fn file_format() {
    let text = "# comment\n\
                192.0.2.7\n\
                  198.51.100.0/30   # trailing comment\n\
                192.0.2.1:203.0.113.0/29\n\
                192.0.2.2: 203.0.113.64/29\n\
                10.1.0.0/23\n\
                10.2.3.4/24\n";
    let f = PoolFile::parse("p", text).unwrap();
    assert_eq!(f.lines.len(), 6);
    assert!(!f.lines[0].routed, "a single address is not a route");
    assert_eq!(f.lines[1].line, 3);
    assert_eq!(f.lines[5].network, ip("10.2.3.0"), "host bits are cleared");

    let mine = [ip("192.0.2.1")];
    let routes = f.routes_for(&mine);
    assert_eq!(
        routes,
        [
            (ip("198.51.100.0"), 30),
            (ip("203.0.113.0"), 29),
            (ip("10.1.0.0"), 23),
            (ip("10.2.3.0"), 24)
        ]
    );
    let pool = f.build_pool("p", &mine).unwrap();
    // 1 + /30 (4, .0 skipped → 3) + /29 (8, .0 skipped → 7) + /23 (512 − 2 × .0 − 2 × .255)
    // + /24 (254); the other server's /29 is left out.
    assert_eq!(pool.len(), 1 + 3 + 7 + 508 + 254);
    assert!(pool.contains(ip("203.0.113.1")));
    assert!(!pool.contains(ip("203.0.113.65")));
    assert!(!pool.contains(ip("10.1.0.255")) && pool.contains(ip("10.1.1.1")));
}

#[test]
fn file_errors_name_file_line_and_entry() {
    let e = PoolFile::parse(
        "/etc/l2tpns/ip_pool",
        "10.0.0.0/24\n10.0.0.0/33\nbogus\n10.0.0.0/4\nx:10.0.0.1\n0.0.0.0\n",
    )
    .unwrap_err();
    let lines: Vec<usize> = e.iter().map(|e| e.line).collect();
    assert_eq!(lines, [2, 3, 4, 5, 6]);
    assert_eq!(
        e[0].to_string(),
        "/etc/l2tpns/ip_pool:2: 10.0.0.0/33: prefix length 33 is over 32"
    );
    assert!(e[2].reason.contains("shorter than /8"));

    let f = PoolFile::parse("p", "10.0.0.0/24\n10.0.0.7\n").unwrap();
    let e = f.build_pool("p", &[]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "p:2: 10.0.0.7/32: overlaps 10.0.0.0/24 from line 1"
    );
    let f = PoolFile::parse("p", "10.0.0.0/16\n10.0.1.0/24\n").unwrap();
    assert!(f
        .build_pool("p", &[])
        .unwrap_err()
        .to_string()
        .contains("overlaps 10.0.0.0/16"));
}

#[test]
fn framed_ip_address_meanings() {
    assert_eq!(AddressRequest::from_framed_ip(None), AddressRequest::Pool);
    assert_eq!(
        AddressRequest::from_framed_ip(Some(ip("255.255.255.254"))),
        AddressRequest::Pool
    );
    assert_eq!(
        AddressRequest::from_framed_ip(Some(ip("255.255.255.255"))),
        AddressRequest::Pool
    );
    assert_eq!(
        AddressRequest::from_framed_ip(Some(ip("192.0.2.9"))),
        AddressRequest::Static(ip("192.0.2.9"))
    );
}

fn pool(n: u8) -> IpPool {
    IpPool::from_addresses((1..=n).map(|i| Ipv4Addr::new(10, 0, 0, i)))
}

fn a(i: u8) -> Ipv4Addr {
    Ipv4Addr::new(10, 0, 0, i)
}

#[test]
fn never_used_first_then_least_recently_used() {
    let mut p = pool(4);
    let got: Vec<Ipv4Addr> = (0..3)
        .map(|i| p.allocate(Some(&format!("u{i}"))).unwrap().address)
        .collect();
    assert_eq!(got, [a(1), a(2), a(3)]);
    p.release(a(2)).unwrap();
    p.release(a(1)).unwrap();
    // a(4) was never used: it has been free the longest.
    assert_eq!(
        p.allocate(Some("x")).unwrap(),
        Allocation {
            address: a(4),
            sticky: false
        }
    );
    // Then the least recently released: a(2) before a(1).
    assert_eq!(p.allocate(Some("y")).unwrap().address, a(2));
    assert_eq!(p.allocate(Some("z")).unwrap().address, a(1));
    assert_eq!(p.allocate(Some("w")), None, "exhausted");
    p.check_invariants().unwrap();
}

#[test]
fn sticky_address_comes_back_if_free() {
    let mut p = pool(4);
    assert_eq!(p.allocate(Some("alice")).unwrap().address, a(1));
    assert_eq!(p.allocate(Some("bob")).unwrap().address, a(2));
    p.release(a(1)).unwrap();
    p.release(a(2)).unwrap();
    // Even with never-used addresses ahead of it (the original would have handed out a(3)).
    assert_eq!(
        p.allocate(Some("bob")).unwrap(),
        Allocation {
            address: a(2),
            sticky: true
        }
    );
    assert_eq!(
        p.allocate(Some("alice")).unwrap(),
        Allocation {
            address: a(1),
            sticky: true
        }
    );
    assert_eq!(p.last_user(a(1)), Some("alice"));

    // Once someone else got it, it is no longer alice's.
    p.release(a(1)).unwrap();
    p.release(a(2)).unwrap();
    let _ = p.allocate(Some("carol")).unwrap(); // a(3), never used
    let _ = p.allocate(Some("dave")).unwrap(); // a(4)
    assert_eq!(
        p.allocate(Some("erin")).unwrap().address,
        a(1),
        "LRU, was alice's"
    );
    p.release(a(1)).unwrap();
    assert_eq!(
        p.allocate(Some("alice")).unwrap(),
        Allocation {
            address: a(2),
            sticky: false
        }
    );
    p.check_invariants().unwrap();
}

#[test]
fn walled_garden_sessions_get_no_sticky_address() {
    let mut p = pool(2);
    assert_eq!(p.allocate(Some("alice")).unwrap().address, a(1));
    p.release(a(1)).unwrap();
    assert_eq!(p.allocate(None).unwrap().address, a(2));
    p.release(a(2)).unwrap();
    assert_eq!(
        p.allocate(None).unwrap().address,
        a(1),
        "LRU, ignoring stickiness"
    );
    assert_eq!(p.last_user(a(1)), None, "no longer remembered for alice");
    p.release(a(1)).unwrap();
    assert!(!p.allocate(Some("alice")).unwrap().sticky);
}

#[test]
fn reservations_for_static_addresses() {
    let mut p = pool(3);
    assert_eq!(p.reserve(a(1)), Ok(Reservation::InPool));
    assert_eq!(p.reserve(ip("192.0.2.1")), Ok(Reservation::OutsidePool));
    assert_eq!(p.reserve(a(1)), Err(PoolError::InUse(a(1))));
    assert_eq!(
        p.allocate(Some("u")).unwrap().address,
        a(2),
        "a reserved address is not handed out"
    );
    assert_eq!(p.reserve(a(2)), Err(PoolError::InUse(a(2))));
    assert_eq!(p.release(a(1)), Err(PoolError::NotAssigned(a(1))));
    p.unreserve(a(1)).unwrap();
    assert_eq!(p.unreserve(a(1)), Err(PoolError::NotReserved(a(1))));
    assert_eq!(p.free_len(), 2);
    assert_eq!(
        p.release(ip("192.0.2.1")),
        Err(PoolError::NotInPool(ip("192.0.2.1")))
    );
    p.assign_specific(a(3), Some("restored")).unwrap();
    assert_eq!(p.assign_specific(a(3), None), Err(PoolError::InUse(a(3))));
    p.check_invariants().unwrap();
}

#[test]
fn addresses_added_later_count_as_never_used() {
    let mut p = pool(2);
    let _ = p.allocate(Some("u1")).unwrap();
    p.release(a(1)).unwrap();
    assert!(p.add(a(9)));
    assert!(!p.add(a(9)));
    assert_eq!(p.allocate(Some("x")).unwrap().address, a(2));
    assert_eq!(p.allocate(Some("y")).unwrap().address, a(9));
    assert_eq!(p.allocate(Some("z")).unwrap().address, a(1));
    p.check_invariants().unwrap();
}

#[test]
fn a_million_addresses() {
    // 10.0.0.0/12 is 1 048 576 addresses; minus .0/.255 → 1 040 384.
    let f = PoolFile::parse("p", "10.0.0.0/12\n").unwrap();
    let mut p = f.build_pool("p", &[]).unwrap();
    assert_eq!(p.len(), 1_040_384);
    // Every 8th session has a user name (the others are walled-garden sessions), which keeps
    // the test quick in debug builds while the pool itself is full size.
    let name = |i: usize| (i % 8 == 0).then(|| format!("user{i}"));
    let mut first = Vec::with_capacity(p.len());
    for i in 0..p.len() {
        first.push(p.allocate(name(i).as_deref()).unwrap().address);
    }
    assert_eq!(p.allocate(Some("one too many")), None);
    assert_eq!(p.free_len(), 0);
    for &addr in &first {
        p.release(addr).unwrap();
    }
    // Every named user gets their own address back, in reverse order for good measure, even
    // though each is among the most recently used.
    for i in (0..first.len()).rev().filter(|i| i % 8 == 0) {
        let got = p.allocate(name(i).as_deref()).unwrap();
        assert_eq!(
            got,
            Allocation {
                address: first[i],
                sticky: true
            }
        );
    }
    // The rest comes out in LRU order, i.e. release order, skipping the sticky ones.
    let rest: Vec<Ipv4Addr> = (0..first.len())
        .filter(|i| i % 8 != 0)
        .map(|i| first[i])
        .collect();
    for &expected in &rest {
        assert_eq!(p.allocate(None).unwrap().address, expected);
    }
    assert_eq!(p.free_len(), 0);
    p.check_invariants().unwrap();
}

#[derive(Debug, Clone)]
enum Op {
    Allocate(Option<u8>),
    Release(u8),
    Reserve(u8),
    Unreserve(u8),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => proptest::option::weighted(0.9, 0u8..12).prop_map(Op::Allocate),
        3 => (1u8..=10).prop_map(Op::Release),
        1 => (1u8..=12).prop_map(Op::Reserve),
        1 => (1u8..=12).prop_map(Op::Unreserve),
    ]
}

/// A plain model: the free list as a queue, stickiness as a map.
#[derive(Default)]
struct Model {
    free: VecDeque<Ipv4Addr>,
    assigned: HashMap<Ipv4Addr, ()>,
    reserved: HashMap<Ipv4Addr, ()>,
    /// Who had each address last, and each user's most recent address.
    owner: HashMap<Ipv4Addr, u8>,
    sticky: HashMap<u8, Ipv4Addr>,
}

proptest! {
    #[test]
    fn allocator_matches_a_simple_model(ops in proptest::collection::vec(op(), 1..200)) {
        let mut p = pool(10);
        let mut m = Model { free: (1..=10).map(a).collect(), ..Model::default() };
        for op in ops {
            match op {
                Op::Allocate(u) => {
                    let name = u.map(|u| format!("u{u}"));
                    let got = p.allocate(name.as_deref());
                    let sticky = u.and_then(|u| m.sticky.get(&u).copied()).filter(|s| m.free.contains(s));
                    let expect = match sticky {
                        Some(s) => {
                            m.free.retain(|x| *x != s);
                            Some(Allocation { address: s, sticky: true })
                        }
                        None => m.free.pop_front().map(|x| {
                            if let Some(old) = m.owner.remove(&x) {
                                if m.sticky.get(&old) == Some(&x) {
                                    m.sticky.remove(&old);
                                }
                            }
                            if let Some(u) = u {
                                m.owner.insert(x, u);
                                m.sticky.insert(u, x);
                            }
                            Allocation { address: x, sticky: false }
                        }),
                    };
                    if let Some(e) = expect {
                        m.assigned.insert(e.address, ());
                    }
                    prop_assert_eq!(got, expect);
                }
                Op::Release(i) => {
                    let ok = m.assigned.remove(&a(i)).is_some();
                    if ok { m.free.push_back(a(i)); }
                    prop_assert_eq!(p.release(a(i)).is_ok(), ok);
                }
                Op::Reserve(i) => {
                    let r = p.reserve(a(i));
                    if i > 10 {
                        prop_assert_eq!(r, Ok(Reservation::OutsidePool));
                    } else if m.free.contains(&a(i)) {
                        m.free.retain(|x| *x != a(i));
                        m.reserved.insert(a(i), ());
                        prop_assert_eq!(r, Ok(Reservation::InPool));
                    } else {
                        prop_assert_eq!(r, Err(PoolError::InUse(a(i))));
                    }
                }
                Op::Unreserve(i) => {
                    let ok = m.reserved.remove(&a(i)).is_some();
                    if ok { m.free.push_back(a(i)); }
                    prop_assert_eq!(p.unreserve(a(i)).is_ok(), ok);
                }
            }
            prop_assert_eq!(p.free_len(), m.free.len());
            p.check_invariants().map_err(TestCaseError::fail)?;
        }
    }
}
