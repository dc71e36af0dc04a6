//! The accounting_dir file, byte for byte as §7.4 of the reference describes the original's.

use std::net::Ipv4Addr;

use lns_core::acct_dump::{file_name, render, Header, LocalTime, Origin, SessionUsage};

const HEADER: Header = Header {
    hostname: "lns1",
    endpoint: Ipv4Addr::new(192, 0, 2, 1),
    time: 1_763_776_800,
    uptime: 3600,
};

fn s(user: &str, ip: Option<[u8; 4]>, octets_in: u64, octets_out: u64) -> SessionUsage<'_> {
    SessionUsage {
        user,
        ip: ip.map(Ipv4Addr::from),
        opened: true,
        throttled: false,
        walled_garden: false,
        origin: Origin::Lac,
        octets_in,
        octets_out,
    }
}

#[test]
fn lines_and_header_are_byte_exact() {
    let mut throttled = s("bob@isp", Some([10, 10, 10, 2]), 0, 7);
    throttled.throttled = true;
    let sessions = [
        s("alice", Some([10, 10, 10, 1]), 1234, 5678),
        throttled,
        // Counters are 64-bit (upstream issue #12): no wrap at 4 GiB.
        s("carol", Some([10, 13, 10, 9]), 5_000_000_000, 1),
    ];
    let text = render(&HEADER, sessions, false).unwrap();
    assert_eq!(
        text,
        "# dslwatch.pl dump file V1.01\n\
         # host: lns1\n\
         # endpoint: 192.0.2.1\n\
         # time: 1763776800\n\
         # uptime: 3600\n\
         # format: username ip qos uptxoctets downrxoctets\n\
         alice 10.10.10.1 1 1234 5678\n\
         bob@isp 10.10.10.2 2 0 7\n\
         carol 10.13.10.9 1 5000000000 1\n"
    );
}

#[test]
fn origin_column() {
    let mut remote = s("fwd@partner", None, 10, 20);
    remote.origin = Origin::RemoteLns;
    let mut pppoe = s("eve", Some([10, 0, 0, 5]), 1, 2);
    pppoe.origin = Origin::Pppoe;
    let sessions = [s("alice", Some([10, 10, 10, 1]), 1, 2), remote, pppoe];
    let text = render(&HEADER, sessions, true).unwrap();
    assert_eq!(
        text,
        "# dslwatch.pl dump file V1.01\n\
         # host: lns1\n\
         # endpoint: 192.0.2.1\n\
         # time: 1763776800\n\
         # uptime: 3600\n\
         # format: username ip qos uptxoctets downrxoctets origin(L=LAC, R=Remote LNS, P=PPPOE)\n\
         alice 10.10.10.1 1 1 2 L\n\
         fwd@partner 0.0.0.0 1 10 20 R\n\
         eve 10.0.0.5 1 1 2 P\n"
    );
    // Without account_all_origin only ordinary sessions, and no column.
    let text = render(&HEADER, sessions, false).unwrap();
    assert!(
        text.ends_with("downrxoctets\nalice 10.10.10.1 1 1 2\n"),
        "{text}"
    );
}

#[test]
fn skipped_sessions_and_no_file_when_empty() {
    let mut unopened = s("u1", Some([10, 0, 0, 1]), 1, 1);
    unopened.opened = false;
    let mut garden = s("u2", Some([10, 0, 0, 2]), 1, 1);
    garden.walled_garden = true;
    let skipped = [
        unopened,
        garden,
        s("u3", None, 1, 1),                // no IP
        s("u4", Some([10, 0, 0, 4]), 0, 0), // no traffic
        s("", Some([10, 0, 0, 5]), 1, 1),   // no user name
    ];
    assert_eq!(render(&HEADER, skipped, true), None);
    let text = render(
        &HEADER,
        skipped
            .into_iter()
            .chain([s("ok", Some([10, 0, 0, 6]), 0, 1)]),
        false,
    )
    .unwrap();
    assert_eq!(
        text.lines()
            .filter(|l| !l.starts_with('#'))
            .collect::<Vec<_>>(),
        ["ok 10.0.0.6 1 0 1"]
    );
}

#[test]
fn file_name_is_local_time_digits() {
    let t = LocalTime {
        year: 2026,
        month: 1,
        day: 2,
        hour: 3,
        minute: 4,
        second: 5,
    };
    assert_eq!(file_name(t), "20260102030405");
}
