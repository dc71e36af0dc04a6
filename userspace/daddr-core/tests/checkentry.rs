//! The `table` parameter and the rule checks of `checkentry`.

use daddr_core::checkentry::{
    check, parse_table_param, Family, Refusal, Tables, DEFAULT_TABLE_PARAM,
};

fn v4(a: [u8; 4]) -> [u8; 16] {
    let mut x = [0; 16];
    x[..4].copy_from_slice(&a);
    x
}

#[test]
fn table_parameter_values() {
    let raw = Tables {
        raw: true,
        mangle: false,
    };
    let mangle = Tables {
        raw: false,
        mangle: true,
    };
    assert_eq!(Tables::RAW, raw);
    assert_eq!(Tables::MANGLE, mangle);
    assert_eq!(parse_table_param(b"raw"), Some(raw));
    assert_eq!(parse_table_param(b"mangle"), Some(mangle));
    assert_eq!(parse_table_param(b"mangle\n"), Some(mangle));
    assert_eq!(parse_table_param(b" raw\n"), Some(raw));
    // Our extension: both tables, in either order.
    assert_eq!(parse_table_param(b"raw,mangle"), Some(Tables::BOTH));
    assert_eq!(parse_table_param(b"mangle,raw"), Some(Tables::BOTH));
    assert_eq!(parse_table_param(b"raw, mangle\n"), Some(Tables::BOTH));
    for bad in [
        &b""[..],
        b"filter",
        b"raw,raw",
        b"raw,",
        b"RAW",
        b"nat",
        b"raw mangle",
        b",mangle",
        b"mangle,mangle",
        b"raw,mangle,raw",
        b"mangle;raw",
        b"security",
    ] {
        assert_eq!(
            parse_table_param(bad),
            None,
            "{:?}",
            String::from_utf8_lossy(bad)
        );
    }
}

/// The default is one table name, `mangle`: the upstream's dsrctl reads the parameter and passes
/// it to `iptables -t`, so it must be a single table that iptables knows.
#[test]
fn default_table_parameter_is_one_table_mangle() {
    assert_eq!(DEFAULT_TABLE_PARAM, "mangle");
    assert!(!DEFAULT_TABLE_PARAM.contains(','));
    assert_eq!(
        parse_table_param(DEFAULT_TABLE_PARAM.as_bytes()),
        Some(Tables::MANGLE)
    );
    let vip = v4([192, 0, 2, 10]);
    let default = Tables::MANGLE;
    assert_eq!(check(default, b"mangle", Family::Ipv4, &vip), Ok(()));
    assert_eq!(
        check(default, b"raw", Family::Ipv4, &vip),
        Err(Refusal::Table)
    );
}

#[test]
fn tables_are_restricted_by_the_parameter() {
    let raw_only = Tables {
        raw: true,
        mangle: false,
    };
    let vip = v4([72, 30, 38, 140]);
    assert_eq!(check(Tables::BOTH, b"raw", Family::Ipv4, &vip), Ok(()));
    assert_eq!(check(Tables::BOTH, b"mangle", Family::Ipv4, &vip), Ok(()));
    assert_eq!(
        check(Tables::BOTH, b"filter", Family::Ipv4, &vip),
        Err(Refusal::Table)
    );
    assert_eq!(
        check(Tables::BOTH, b"nat", Family::Ipv4, &vip),
        Err(Refusal::Table)
    );
    assert_eq!(
        check(raw_only, b"mangle", Family::Ipv4, &vip),
        Err(Refusal::Table)
    );
    assert_eq!(check(raw_only, b"raw", Family::Ipv4, &vip), Ok(()));
}

#[test]
fn unspecified_and_multicast_addresses_are_refused() {
    let b = Tables::BOTH;
    assert_eq!(
        check(b, b"raw", Family::Ipv4, &v4([0; 4])),
        Err(Refusal::UnspecifiedAddress)
    );
    assert_eq!(
        check(b, b"raw", Family::Ipv4, &v4([224, 0, 0, 1])),
        Err(Refusal::MulticastAddress)
    );
    assert_eq!(
        check(b, b"raw", Family::Ipv4, &v4([239, 1, 1, 1])),
        Err(Refusal::MulticastAddress)
    );
    assert_eq!(
        check(b, b"raw", Family::Ipv4, &v4([223, 255, 255, 255])),
        Ok(())
    );
    // Bytes beyond the IPv4 address are not part of an IPv4 rule.
    let mut junk = v4([0; 4]);
    junk[15] = 1;
    assert_eq!(
        check(b, b"raw", Family::Ipv4, &junk),
        Err(Refusal::UnspecifiedAddress)
    );
    assert_eq!(
        check(b, b"raw", Family::Ipv6, &[0; 16]),
        Err(Refusal::UnspecifiedAddress)
    );
    let mut mc = [0; 16];
    mc[0] = 0xff;
    mc[1] = 0x02;
    mc[15] = 1;
    assert_eq!(
        check(b, b"raw", Family::Ipv6, &mc),
        Err(Refusal::MulticastAddress)
    );
    let mut vip6 = [0; 16];
    vip6[..4].copy_from_slice(&[0xfc, 0, 0x10, 0]);
    vip6[15] = 0x10;
    assert_eq!(check(b, b"mangle", Family::Ipv6, &vip6), Ok(()));
}
