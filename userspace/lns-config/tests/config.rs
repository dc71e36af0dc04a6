//! The startup-config reader against the reference's key table (§2), the original's sample
//! config, and every kind of error.

use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;

use lns_config::config::{
    self, AclKind, Apply, AuthType, ErrorKind, LcpRenegotiation, LogTarget,
    RequireMessageAuthenticator, Settings, Support, SyslogFacility, KEYS,
};

const SAMPLE: &str = include_str!("data/debian-l2tpns-2.4.1/startup-config");

fn parse(text: &str) -> config::Loaded {
    config::parse("test.cfg", text).unwrap_or_else(|e| panic!("{e}"))
}

fn errors(text: &str) -> Vec<config::ConfigError> {
    config::parse("test.cfg", text).expect_err("should fail").0
}

/// A valid non-default value for every key, in the reference's order.
const EVERY_KEY: &[(&str, &str)] = &[
    ("debug", "4"),
    ("log_file", "syslog:local3"),
    ("pid_file", "/run/l2tpns.pid"),
    ("random_device", "/dev/random"),
    ("l2tp_secret", "tunnel secret"),
    ("l2tp_mtu", "1460"),
    ("mp_mrru", "1614"),
    ("ppp_restart_time", "5"),
    ("ppp_max_configure", "20"),
    ("ppp_max_failure", "7"),
    ("ppp_keepalive", "no"),
    ("lcp_renegotiation", "on-mismatch"),
    ("primary_dns", "192.0.2.53"),
    ("secondary_dns", "192.0.2.54"),
    ("primary_radius", "192.0.2.10"),
    ("secondary_radius", "192.0.2.11"),
    ("primary_radius_port", "11812"),
    ("secondary_radius_port", "21812"),
    ("radius_accounting", "yes"),
    ("radius_interim", "300"),
    ("radius_secret", "radius secret"),
    ("radius_require_message_authenticator", "yes"),
    ("radius_authtypes", "chap,pap"),
    ("radius_dae_port", "13799"),
    ("radius_bind_min", "40000"),
    ("radius_bind_max", "40063"),
    ("allow_duplicate_users", "yes"),
    ("kill_timedout_sessions", "no"),
    ("guest_account", "guest,demo"),
    ("bind_address", "192.0.2.1"),
    ("peer_address", "192.0.2.2"),
    ("ipv6_prefix", "2001:db8:1::"),
    ("route_protocol", "186"),
    ("route_metric", "50"),
    ("send_garp", "yes"),
    ("throttle_speed", "512"),
    ("throttle_buckets", "3000"),
    ("accounting_dir", "/run/l2tpns/acct"),
    ("account_all_origin", "yes"),
    ("dump_speed", "yes"),
    ("multi_read_count", "32"),
    ("scheduler_fifo", "yes"),
    ("lock_pages", "yes"),
    ("icmp_rate", "100"),
    ("packet_limit", "500"),
    ("cluster_address", "239.192.13.14"),
    ("cluster_port", "32793"),
    ("cluster_interface", "eth1"),
    ("cluster_mcast_ttl", "2"),
    ("cluster_hb_interval", "10"),
    ("cluster_hb_timeout", "200"),
    ("cluster_master_min_adv", "2"),
    ("cli_bind_address", "0.0.0.0"),
    ("hostname", "lns1"),
    ("nexthop_address", "192.0.2.254"),
    ("nexthop6_address", "2001:db8::fe"),
    ("echo_timeout", "20"),
    ("idle_echo_timeout", "120"),
    ("iftun_address", "192.0.2.3"),
    ("tundevicename", "l2tpns0"),
    ("disable_lac_func", "yes"),
    ("auth_tunnel_change_addr_src", "yes"),
    ("bind_address_remotelns", "192.0.2.4"),
    ("bind_portremotelns", "65000"),
    ("pppoe_if_to_bind", "eth2"),
    ("pppoe_service_name", "isp"),
    ("pppoe_ac_name", "ac1"),
    ("disable_sending_hello", "yes"),
    ("disable_no_spoof", "yes"),
    ("bind_multi_address", "192.0.2.1,192.0.2.5"),
    ("pppoe_only_equal_svc_name", "yes"),
    ("multi_hostname", "lns-a,lns-b"),
    ("no_throttle_local_IP", "yes"),
    ("dhcp6_preferred_lifetime", "3600"),
    ("dhcp6_valid_lifetime", "7200"),
    ("dhcp6_server_duid", "12345"),
    ("dns6_lifetime", "600"),
    ("primary_ipv6_dns", "2001:db8::53"),
    ("secondary_ipv6_dns", "2001:db8::54"),
    ("default_ipv6_domain_list", "example.net"),
    ("kernel_accel", "yes"),
    // The manual's keys that later versions dropped.
    ("save_state", "yes"),
    ("setuid", "65534"),
    ("cleanup_interval", "5"),
    ("snoop_host", "192.0.2.99"),
    ("snoop_port", "5000"),
    // Extensions.
    ("radius_dae_clients", "192.0.2.61,192.0.2.62"),
    ("radius_dae_require_message_authenticator", "no"),
    ("hook_script", "/usr/local/sbin/l2tpns-hook"),
    ("hook_timeout", "5"),
    ("iptables", "iptables-nft"),
    ("garden_script", "/etc/l2tpns/build-garden.local"),
    ("throttle_queue", "16"),
    ("data_workers", "4"),
];

#[test]
fn there_are_81_keys_in_the_reference_order_then_the_manuals_5_then_extensions() {
    assert_eq!(KEYS.len(), 81 + 5 + 8);
    let names: Vec<&str> = KEYS.iter().map(|k| k.name).collect();
    let listed: Vec<&str> = EVERY_KEY.iter().map(|(k, _)| *k).collect();
    assert_eq!(names, listed);
}

#[test]
fn effective_defaults_are_the_codes_not_the_manuals() {
    let s = Settings::default();
    assert_eq!(s.debug, 0);
    assert_eq!(s.log_file, LogTarget::Stderr);
    assert_eq!(s.random_device, "/dev/urandom");
    assert_eq!(s.l2tp_mtu, 1500);
    assert_eq!(s.mru(), 1462);
    assert_eq!(s.mss(), 1422);
    assert_eq!(
        s.mp_mrru, 0,
        "the code does not offer MP by default (docs say 1614)"
    );
    assert_eq!(
        (s.ppp_restart_time, s.ppp_max_configure, s.ppp_max_failure),
        (3, 10, 5)
    );
    assert!(s.ppp_keepalive);
    assert_eq!(s.lcp_renegotiation, LcpRenegotiation::Always);
    assert_eq!(s.primary_radius_port, 1812);
    assert_eq!(s.secondary_radius_port(), 1812);
    assert!(!s.radius_accounting, "off since 2.3.0");
    assert_eq!(
        s.radius_require_message_authenticator,
        RequireMessageAuthenticator::Auto
    );
    assert_eq!(s.radius_authtypes, [AuthType::Pap]);
    assert_eq!(s.radius_dae_port, 3799);
    assert!(s.radius_dae_clients.is_empty());
    assert!(s.radius_dae_require_message_authenticator);
    assert!(s.kill_timedout_sessions);
    assert!(!s.allow_duplicate_users);
    assert_eq!(s.route_protocol, 42);
    assert_eq!(s.route_metric, 1);
    assert!(!s.send_garp, "the code's default (docs say true)");
    assert_eq!(s.throttle_speed, 28, "the code's default (docs say 0)");
    assert_eq!(s.throttle_buckets, 6000);
    assert_eq!(s.multi_read_count, 10);
    assert_eq!(s.cluster_address, Ipv4Addr::new(239, 192, 13, 13));
    assert_eq!(s.cluster_port, 32792);
    assert_eq!(s.cluster_interface, "", "no cluster since 2.5.0");
    assert_eq!(
        (
            s.cluster_hb_interval,
            s.cluster_hb_timeout(),
            s.cluster_master_min_adv
        ),
        (5, 150, 1)
    );
    assert_eq!((s.echo_timeout, s.idle_echo_timeout), (10, 240));
    assert_eq!(
        s.tundevicename, None,
        "the kernel picks tunN (docs say tun0)"
    );
    assert_eq!(s.tun_address(), Ipv4Addr::new(1, 1, 1, 1));
    assert_eq!(s.bind_addresses(), [Ipv4Addr::UNSPECIFIED]);
    assert_eq!(s.bind_portremotelns, 65432);
    assert_eq!(s.pppoe_ac_name, "l2tpns-pppoe");
    assert_eq!(s.dhcp6_preferred_lifetime, u32::MAX);
    assert_eq!(s.dhcp6_valid_lifetime, u32::MAX);
    assert_eq!(s.dhcp6_server_duid, 0xFDFD_FAFA);
    assert_eq!(s.dns6_lifetime, 1200);
    assert!(!s.kernel_accel);
    assert_eq!(s.radius_servers(), []);
}

#[test]
fn every_key_parses_to_a_typed_value() {
    let text: String = EVERY_KEY
        .iter()
        .map(|(k, v)| format!("set {k} \"{v}\"\n"))
        .collect();
    let loaded = parse(&text);
    let s = &loaded.config.settings;
    let d = Settings::default();
    for (k, _) in EVERY_KEY {
        assert_ne!(
            s.render(k),
            d.render(k),
            "{k} should differ from its default"
        );
    }
    assert_eq!(s.debug, 4);
    assert_eq!(s.log_file, LogTarget::Syslog(SyslogFacility::Local(3)));
    assert_eq!(s.pid_file, Some(PathBuf::from("/run/l2tpns.pid")));
    assert_eq!(s.l2tp_secret, "tunnel secret");
    assert_eq!((s.l2tp_mtu, s.mru(), s.mss()), (1460, 1422, 1382));
    assert_eq!(s.lcp_renegotiation, LcpRenegotiation::OnMismatch);
    assert_eq!(s.primary_dns, Ipv4Addr::new(192, 0, 2, 53));
    assert_eq!(
        s.radius_servers(),
        [
            (Ipv4Addr::new(192, 0, 2, 10), 11812),
            (Ipv4Addr::new(192, 0, 2, 11), 21812)
        ]
    );
    assert_eq!(
        s.radius_require_message_authenticator,
        RequireMessageAuthenticator::Yes
    );
    assert_eq!(s.radius_authtypes, [AuthType::Chap, AuthType::Pap]);
    assert_eq!(s.radius_bind_range(), Some((40000, 40063)));
    assert_eq!(s.guest_account, ["guest", "demo"]);
    assert_eq!(
        s.ipv6_prefix,
        Some("2001:db8:1::".parse::<Ipv6Addr>().unwrap())
    );
    assert_eq!(s.route_protocol, 186);
    assert_eq!(s.accounting_dir, Some(PathBuf::from("/run/l2tpns/acct")));
    assert_eq!(s.cluster_hb_timeout(), 200);
    assert_eq!(s.hostname.as_deref(), Some("lns1"));
    assert_eq!(s.tun_address(), Ipv4Addr::new(192, 0, 2, 3));
    assert_eq!(s.ipcp_gateway(), Ipv4Addr::new(192, 0, 2, 2));
    assert_eq!(s.tundevicename.as_deref(), Some("l2tpns0"));
    assert_eq!(
        s.bind_addresses(),
        [Ipv4Addr::new(192, 0, 2, 1), Ipv4Addr::new(192, 0, 2, 5)]
    );
    assert_eq!(s.host_name_for(Ipv4Addr::new(192, 0, 2, 5), "sys"), "lns-b");
    assert_eq!(s.host_name_for(Ipv4Addr::new(192, 0, 2, 9), "sys"), "lns1");
    assert!(s.no_throttle_local_IP);
    assert_eq!(s.dhcp6_server_duid, 12345);
    assert!(s.kernel_accel);

    // Every key not acted on is reported exactly once, with its line; implemented ones never.
    for k in KEYS {
        let n = loaded
            .not_implemented
            .iter()
            .filter(|n| n.what == k.name)
            .count();
        let expected = usize::from(k.support != Support::Implemented);
        assert_eq!(n, expected, "{} reported {n} times", k.name);
    }
    let ka = loaded
        .not_implemented
        .iter()
        .find(|n| n.what == "kernel_accel")
        .unwrap();
    assert_eq!(ka.line, 81);
}

#[test]
fn original_zero_values_mean_the_builtin_default() {
    let s = parse(
        "set l2tp_mtu 0\nset multi_read_count 0\nset dhcp6_valid_lifetime 0\nset secondary_radius_port 0\n\
         set primary_radius_port 1645\nset iftun_address 0.0.0.0\nset bind_address 192.0.2.1\n\
         set radius_authtypes \"\"\nset radius_require_message_authenticator \"\"\n",
    )
    .config
    .settings;
    assert_eq!(s.l2tp_mtu, 1500);
    assert_eq!(s.multi_read_count, 10);
    assert_eq!(s.dhcp6_valid_lifetime, u32::MAX);
    assert_eq!(
        s.secondary_radius_port(),
        1645,
        "the secondary uses the primary's port"
    );
    assert_eq!(
        s.tun_address(),
        Ipv4Addr::new(192, 0, 2, 1),
        "iftun_address falls back to bind_address"
    );
    assert_eq!(s.radius_authtypes, [AuthType::Pap]);
    assert_eq!(
        s.radius_require_message_authenticator,
        RequireMessageAuthenticator::Auto
    );
    let s = parse("set cluster_hb_interval 50\nset cluster_hb_timeout 20\n")
        .config
        .settings;
    assert_eq!(
        s.cluster_hb_timeout(),
        211,
        "forced to at least 4 x interval + 11"
    );
}

#[test]
fn not_implemented_keys_at_their_default_are_not_reported() {
    let l = parse("set kernel_accel no\nset cluster_interface \"\"\nset debug 2\n");
    assert!(l.not_implemented.is_empty(), "{:?}", l.not_implemented);
    let l = parse("set kernel_accel yes\nset kernel_accel yes\n");
    assert_eq!(l.not_implemented.len(), 1, "reported once");
    assert_eq!(l.not_implemented[0].line, 1);
}

#[test]
fn debian_sample_parses_as_shipped() {
    let l = parse(SAMPLE);
    let s = &l.config.settings;
    assert_eq!(s.debug, 3);
    assert_eq!(s.log_file, LogTarget::File("/var/log/l2tpns".into()));
    assert_eq!(s.pid_file, Some(PathBuf::from("/var/run/l2tpns.pid")));
    assert_eq!(s.l2tp_secret, "secret");
    assert_eq!(s.primary_dns, Ipv4Addr::new(10, 0, 0, 1));
    assert_eq!(s.secondary_dns, Ipv4Addr::new(10, 0, 0, 2));
    assert_eq!(s.primary_radius, Ipv4Addr::new(10, 0, 0, 3));
    assert_eq!(s.radius_secret, "secret");
    assert_eq!(s.cli_bind_address, Ipv4Addr::new(127, 0, 0, 1));
    assert!(s.ppp_keepalive);
    // Every key set here is acted on (cli_bind_address since the telnet CLI).
    let what: Vec<&str> = l.not_implemented.iter().map(|n| n.what.as_str()).collect();
    assert!(what.is_empty(), "{what:?}");
}

#[test]
fn debian_sample_with_everything_uncommented() {
    // Uncommenting every `#set`/`#load` line of the sample must fail only where the sample
    // itself is wrong: it says `set nexthop`/`set nexthop6` for nexthop_address/nexthop6_address.
    let text: String = SAMPLE
        .lines()
        .map(|l| {
            l.strip_prefix("#set ")
                .map(|r| format!("set {r}"))
                .unwrap_or_else(|| {
                    l.strip_prefix("#load ")
                        .map(|r| format!("load {r}"))
                        .unwrap_or(l.to_string())
                })
        })
        .collect::<Vec<_>>()
        .join("\n");
    let errs = errors(&text);
    let keys: Vec<(&str, Option<&str>)> = errs
        .iter()
        .map(|e| match e.kind {
            ErrorKind::UnknownKey { suggestion } => (e.key.as_str(), suggestion),
            _ => panic!("unexpected error {e}"),
        })
        .collect();
    assert_eq!(
        keys,
        [
            ("nexthop", Some("nexthop_address")),
            ("nexthop6", Some("nexthop6_address"))
        ]
    );
    assert!(errs[0].to_string().starts_with("test.cfg:"));
    let fixed = text
        .replace("set nexthop ", "set nexthop_address ")
        .replace("set nexthop6 ", "set nexthop6_address ");
    let l = parse(&fixed);
    assert_eq!(l.config.plugins.len(), 8);
    // Every plugin of the sample is built in: nothing to report.
    assert!(!l.not_implemented.iter().any(|n| n.what == "load plugin"));
    assert_eq!(l.config.settings.throttle_buckets, 3000);
    assert_eq!(l.config.settings.cluster_interface, "eth0");
}

fn one_error(text: &str) -> config::ConfigError {
    let mut e = errors(text);
    assert_eq!(e.len(), 1, "{e:?}");
    e.remove(0)
}

#[test]
fn every_error_kind_names_file_line_and_key() {
    let e = one_error("\n\nset debgu 3\n");
    assert_eq!((e.line, e.key.as_str()), (3, "debgu"));
    assert_eq!(
        e.kind,
        ErrorKind::UnknownKey {
            suggestion: Some("debug")
        }
    );
    assert_eq!(
        e.to_string(),
        "test.cfg:3: debgu: unknown key (did you mean debug?)"
    );

    let e = one_error("set no_throttle_local_ip yes\n");
    assert_eq!(
        e.kind,
        ErrorKind::UnknownKey {
            suggestion: Some("no_throttle_local_IP")
        }
    );
    let e = one_error("set frobnicate yes\n");
    assert_eq!(e.kind, ErrorKind::UnknownKey { suggestion: None });

    let e = one_error("set debug 9\n");
    assert!(matches!(&e.kind, ErrorKind::BadValue { value, .. } if value == "9"));
    assert_eq!(
        e.to_string(),
        "test.cfg:1: debug: bad value \"9\": 9 is out of range 0..=5"
    );
    let e = one_error("set bind_address 10.0.0.300\n");
    assert!(matches!(e.kind, ErrorKind::BadValue { .. }), "{e}");
    let e = one_error("set radius_accounting maybe\n");
    assert!(e.to_string().contains("expected yes/no"), "{e}");
    let e = one_error("set primary_radius_port 70000\n");
    assert!(matches!(e.kind, ErrorKind::BadValue { .. }));
    let e = one_error(&format!("set radius_secret {}\n", "x".repeat(64)));
    assert!(e.to_string().contains("at most 63"), "{e}");
    assert!(
        !e.to_string().contains("xxxx"),
        "secrets are not echoed: {e}"
    );
    let e = one_error("set log_file relative.log\n");
    assert!(matches!(e.kind, ErrorKind::BadValue { .. }));
    let e = one_error("set tundevicename a/b\n");
    assert!(matches!(e.kind, ErrorKind::BadValue { .. }));

    let e = one_error("set hostname\n");
    assert_eq!(
        (e.key.as_str(), &e.kind),
        ("hostname", &ErrorKind::MissingValue)
    );
    let e = one_error("set hostname my host\n");
    assert_eq!(e.kind, ErrorKind::ExtraWords("host".into()));
    assert!(e.to_string().contains("quote"), "{e}");
    let e = one_error("set hostname \"my host\n");
    assert_eq!(e.kind, ErrorKind::UnterminatedQuote('"'));
    assert_eq!(e.key, "set hostname");

    let e = one_error("frobnicate now\n");
    assert_eq!(
        (e.key.as_str(), &e.kind),
        ("frobnicate now", &ErrorKind::UnknownCommand)
    );
    let e = one_error("load plugin\n");
    assert!(matches!(e.kind, ErrorKind::BadStatement(_)));
    let e = one_error("load plugin ../evil\n");
    assert!(matches!(e.kind, ErrorKind::BadStatement(_)));
    let e = one_error("router bgp 0\n");
    assert!(matches!(e.kind, ErrorKind::BadStatement(_)));
    let e = one_error("neighbour 192.0.2.1 remote-as 1\n");
    assert!(e.to_string().contains("only valid after"), "{e}");
    let e = one_error("ip access-list weird x\n");
    assert!(matches!(e.kind, ErrorKind::BadStatement(_)));
    let e = one_error("ip access-list standard x\n permit 10.0.0.0\n");
    assert_eq!((e.line, e.key.as_str()), (2, "permit"));
    let e = one_error("setforward a b c d\n");
    assert!(matches!(e.kind, ErrorKind::BadStatement(_)));

    let e = one_error("set radius_bind_min 2000\nset radius_bind_max 1000\n");
    assert_eq!((e.line, e.key.as_str()), (2, "radius_bind_max"));
    assert!(matches!(e.kind, ErrorKind::Conflict(_)));
    let e = one_error("set multi_hostname a,b\n");
    assert!(matches!(e.kind, ErrorKind::Conflict(_)));

    let e = config::parse_bytes("x.cfg", b"set debug 1\nset hostname \xff\n")
        .unwrap_err()
        .0;
    assert_eq!((e[0].line, &e[0].kind), (2, &ErrorKind::NotUtf8));
}

#[test]
fn all_errors_of_a_file_are_reported() {
    let e = errors("set debug x\nset nope 1\nset debug 1\nbogus\n");
    let lines: Vec<usize> = e.iter().map(|e| e.line).collect();
    assert_eq!(lines, [1, 2, 4]);
    let all = config::ConfigErrors(e).to_string();
    assert_eq!(all.lines().count(), 3);
}

#[test]
fn statements_and_modes() {
    let l = parse(
        "load plugin \"sessionctl\"\nload plugin garden\nremove plugin garden\n\
         router bgp 64512\n neighbour 192.0.2.9 remote-as 64513\n neighbour 192.0.2.9 timers 10 30\n\
         ! comment inside the mode\n\
         ip access-list extended web\n permit tcp any host 192.0.2.80 eq 80\n deny ip any any\n\
         exit\nset debug 2\n\
         setforward @partner 192.0.2.200 1701 s3cret\r\n",
    );
    let c = &l.config;
    assert_eq!(c.plugins, ["sessionctl"]);
    let bgp = c.bgp.as_ref().unwrap();
    assert_eq!(bgp.local_as, 64512);
    assert_eq!(bgp.neighbours[0].remote_as, Some(64513));
    assert_eq!(c.access_lists[0].kind, AclKind::Extended);
    assert_eq!(c.access_lists[0].rules.len(), 2);
    assert_eq!(
        c.forwards[0].secret, "s3cret",
        "CR of CRLF files is stripped"
    );
    assert_eq!(c.settings.debug, 2);
    let what: Vec<&str> = l.not_implemented.iter().map(|n| n.what.as_str()).collect();
    assert_eq!(what, ["router bgp", "setforward"]);
    // A `set` leaves a mode implicitly: the next `permit` is not part of the list.
    let e = one_error("ip access-list standard a\nset debug 1\npermit any\n");
    assert_eq!(e.line, 3);
}

#[test]
fn render_round_trips() {
    let text: String = EVERY_KEY.iter().map(|(k, v)| format!("set {k} \"{v}\"\n")).collect::<String>()
        + "load plugin sessionctl\nrouter bgp 64512\n neighbour peer1 remote-as 64513\n neighbour peer1 timers 5 15\n\
           neighbour peer1 update-source 192.0.2.1\n\
           ip access-list standard st\n permit host 192.0.2.1\n deny 10.0.0.0 0.255.255.255 any\n\
           ip access-list extended ex\n permit tcp any eq 1 192.0.2.0 0.0.0.255 range 1 9 match-any +syn -fin\n\
           permit ip any any fragments\n\
           setforward \"@x y\" 192.0.2.7 1701 'a\"b'\n";
    for c in [
        parse(&text).config,
        config::Config::default(),
        parse(SAMPLE).config,
    ] {
        let rendered = c.render();
        let again = parse(&rendered).config;
        assert_eq!(again, c, "{rendered}");
    }
}

#[test]
fn reload_diff_says_what_needs_a_restart() {
    let old = parse(SAMPLE).config;
    let same = parse(SAMPLE).config;
    assert!(old.diff(&same).is_empty());

    let new = parse(&format!(
        "{SAMPLE}\nset debug 5\nset bind_address 192.0.2.1\nset l2tp_mtu 1400\nset radius_secret other\n\
         ip access-list standard a\n permit any\n"
    ))
    .config;
    let d = old.diff(&new);
    let what: Vec<(&str, Apply)> = d
        .changes
        .iter()
        .map(|c| (c.what.as_str(), c.apply))
        .collect();
    assert_eq!(
        what,
        [
            ("debug", Apply::Live),
            ("l2tp_mtu", Apply::NewSessions),
            ("radius_secret", Apply::Live),
            ("bind_address", Apply::Restart),
            ("ip access-list a", Apply::Live),
        ]
    );
    assert!(d.needs_restart());
    assert_eq!(
        d.needing_restart()
            .map(|c| c.what.as_str())
            .collect::<Vec<_>>(),
        ["bind_address"]
    );
    assert_eq!(d.changes[0].to_string(), "debug: 3 -> 5");
    assert_eq!(
        d.changes[1].to_string(),
        "l2tp_mtu: 1500 -> 1400 (new sessions only)"
    );
    assert_eq!(
        d.changes[2].to_string(),
        "radius_secret: changed",
        "no secret in logs"
    );
    assert_eq!(
        d.changes[3].to_string(),
        "bind_address: 0.0.0.0 -> 192.0.2.1 (needs a restart)"
    );
    assert!(d.changed("debug") && !d.changed("hostname"));

    // reload(): a bad file leaves nothing changed; a good one gives the diff.
    assert!(old.reload("startup-config", "set debug x\n").is_err());
    let (loaded, d) = old
        .reload("startup-config", &format!("{SAMPLE}\nset debug 1\n"))
        .unwrap();
    assert_eq!(loaded.config.settings.debug, 1);
    assert_eq!(d.changes.len(), 1);
}

#[test]
fn every_key_has_a_sensible_apply_class() {
    for k in [
        "bind_address",
        "bind_multi_address",
        "tundevicename",
        "iftun_address",
        "pid_file",
    ] {
        assert_eq!(config::key_info(k).unwrap().apply, Apply::Restart, "{k}");
    }
    for k in [
        "debug",
        "log_file",
        "radius_secret",
        "primary_radius",
        "icmp_rate",
    ] {
        assert_eq!(config::key_info(k).unwrap().apply, Apply::Live, "{k}");
    }
}

/// The keys of the l2tpns manual that later versions dropped load, and mean what the manual
/// says (issue: "a startup-config written from the l2tpns manual must load").
#[test]
fn the_manuals_dropped_keys_load() {
    let text = "set save_state yes\nset setuid 65534\nset cleanup_interval 5\nset dump_speed yes\n\
                set as_number 65001\nset bgp_peer1 192.0.2.1\nset bgp_peer1_as 65000\n\
                set bgp_peer2 bgp2.example\nset bgp_peer2_as 65002\n\
                set snoop_host 192.0.2.99\nset snoop_port 5000\n";
    let loaded = config::parse("manual", text).unwrap();
    let s = &loaded.config.settings;
    assert!(s.save_state && s.dump_speed);
    assert_eq!(
        (s.setuid, s.cleanup_interval, s.snoop_port),
        (65534, 5, 5000)
    );
    assert_eq!(s.snoop_host, std::net::Ipv4Addr::new(192, 0, 2, 99));
    // The BGP keys are the router bgp / neighbour statements under other names.
    let statements = config::parse(
        "statements",
        "set save_state yes\nset setuid 65534\nset cleanup_interval 5\nset dump_speed yes\n\
         set snoop_host 192.0.2.99\nset snoop_port 5000\n\
         router bgp 65001\n neighbour 192.0.2.1 remote-as 65000\n neighbour bgp2.example remote-as 65002\n",
    )
    .unwrap();
    assert_eq!(loaded.config, statements.config);
    // And they render back to text that parses to the same config.
    let again = config::parse("rendered", &loaded.config.render()).unwrap();
    assert_eq!(again.config, loaded.config);
    // The order in the file does not matter.
    let reversed: String = text.lines().rev().map(|l| format!("{l}\n")).collect();
    assert_eq!(
        config::parse("reversed", &reversed).unwrap().config,
        loaded.config
    );
}

/// Each of the manual's keys refuses a bad value with file:line: key: reason.
#[test]
fn the_manuals_dropped_keys_refuse_bad_values() {
    let err = |text: &str| config::parse("f", text).unwrap_err().to_string();
    for (text, want) in [
        (
            "set save_state maybe\n",
            "f:1: save_state: bad value \"maybe\": expected yes/no (also true/false, 1/0)",
        ),
        ("set save_state\n", "f:1: save_state: missing value"),
        (
            "set dump_speed 2\n",
            "f:1: dump_speed: bad value \"2\": expected yes/no (also true/false, 1/0)",
        ),
        (
            "set setuid nobody\n",
            "f:1: setuid: bad value \"nobody\": expected a whole number from 0 to 4294967294",
        ),
        (
            "set setuid 4294967295\n",
            "f:1: setuid: bad value \"4294967295\": 4294967295 is (uid_t)-1, not a user id",
        ),
        ("set setuid -1\n", "f:1: setuid: bad value \"-1\""),
        (
            "set cleanup_interval 0\n",
            "f:1: cleanup_interval: bad value \"0\": 0 is out of range 1..=3600",
        ),
        (
            "set cleanup_interval 10s\n",
            "f:1: cleanup_interval: bad value \"10s\": expected a whole number from 1 to 3600",
        ),
        (
            "set snoop_host 192.0.2\n",
            "f:1: snoop_host: bad value \"192.0.2\": expected an IPv4 address (a.b.c.d)",
        ),
        (
            "set snoop_port 65536\n",
            "f:1: snoop_port: bad value \"65536\": 65536 is out of range 0..=65535",
        ),
        (
            "set snoop_port 1 2\n",
            "f:1: snoop_port: unexpected \"2\" after the value",
        ),
        (
            "set as_number 65536\n",
            "f:1: as_number: bad value \"65536\": AS number: 65536 is out of range 1..=65535",
        ),
        ("set as_number 0\n", "f:1: as_number: bad value \"0\""),
        ("set as_number\n", "f:1: as_number: missing value"),
        (
            "set as_number 1\nset bgp_peer1 'a b'\nset bgp_peer1_as 2\n",
            "f:2: bgp_peer1: bad value \"a b\": \"a b\" is not a BGP peer (an IPv4 address or a host name)",
        ),
        (
            "set as_number 1\nset bgp_peer2 192.0.2.300\nset bgp_peer2_as 2\n",
            "f:2: bgp_peer2: bad value \"192.0.2.300\"",
        ),
        (
            "set as_number 1\nset bgp_peer1 x\nset bgp_peer1_as 0\n",
            "f:3: bgp_peer1_as: bad value \"0\": AS number: 0 is out of range 1..=65535",
        ),
    ] {
        let got = err(text);
        assert!(got.contains(want), "{text:?}: {got}");
    }
}

/// The BGP keys obey what `router bgp` / `neighbour` obey in the original's CLI: a peer needs
/// the local AS and its own AS ("Specify remote-as first"), at most 2 peers ("Too many
/// neighbours"), and one AS per peer whichever form says it.
#[test]
fn the_manuals_bgp_keys_are_checked() {
    let err = |text: &str| config::parse("f", text).unwrap_err().to_string();
    assert!(err("set bgp_peer1 192.0.2.1\n").contains("f:1: bgp_peer1: a BGP peer needs as_number"));
    assert!(err("set bgp_peer1 192.0.2.1\nset bgp_peer1_as 2\n")
        .contains("f:1: bgp_peer1: a BGP peer needs as_number (or router bgp)"));
    assert!(err("set as_number 1\nset bgp_peer1 192.0.2.1\n")
        .contains("f:2: bgp_peer1: bgp_peer1 without bgp_peer1_as"));
    assert!(err("set as_number 1\nset bgp_peer2_as 2\n")
        .contains("f:2: bgp_peer2_as: bgp_peer2_as without bgp_peer2"));
    assert!(err("router bgp 65001\nset as_number 65002\n")
        .contains("f:2: as_number: router bgp already says AS 65001"));
    assert!(err(
        "set as_number 1\nset bgp_peer1 x\nset bgp_peer1_as 2\nset bgp_peer2 x\nset bgp_peer2_as 2\n"
    )
    .contains("f:4: bgp_peer2: x is bgp_peer1 already"));
    assert!(
        err("router bgp 1\n neighbour x remote-as 3\nset bgp_peer1 x\nset bgp_peer1_as 2\n")
            .contains("f:4: bgp_peer1_as: neighbour x remote-as already says AS 3")
    );
    assert!(err(
        "router bgp 1\n neighbour a remote-as 3\n neighbour b remote-as 3\n\
         set bgp_peer1 x\nset bgp_peer1_as 2\n"
    )
    .contains("f:4: bgp_peer1: too many neighbours: x would be number 3 (at most 2)"));
    assert!(err("router bgp 1\n neighbour a timers 10 30\n")
        .contains("f:2: neighbour a: set neighbour a remote-as AS first"));
    // Saying the same thing in both forms is no conflict.
    let both = config::parse(
        "f",
        "router bgp 1\n neighbour x remote-as 3\nset as_number 1\nset bgp_peer1 x\nset bgp_peer1_as 3\n",
    )
    .unwrap();
    assert_eq!(both.config.bgp.unwrap().neighbours.len(), 1);
    // `no router bgp` undoes the BGP keys before it, as it undoes `router bgp`.
    let undone = config::parse(
        "f",
        "set as_number 1\nset bgp_peer1 x\nset bgp_peer1_as 2\nno router bgp\n",
    )
    .unwrap();
    assert_eq!(undone.config.bgp, None);
    assert!(undone
        .key_lines
        .keys()
        .all(|k| !config::BGP_KEYS.contains(k)));
}

/// Each of the manual's keys renders to itself and round-trips; each is diffed on reload with
/// its apply class; the BGP keys and the statements are one configuration, so moving from one
/// form to the other changes nothing.
#[test]
fn the_manuals_keys_render_and_diff() {
    for (k, v) in [
        ("save_state", "yes"),
        ("setuid", "65534"),
        ("cleanup_interval", "5"),
        ("dump_speed", "yes"),
        ("snoop_host", "192.0.2.99"),
        ("snoop_port", "5000"),
    ] {
        let c = parse(&format!("set {k} {v}\n")).config;
        assert_eq!(c.settings.render(k).as_deref(), Some(v), "{k}");
        let rendered = c.render();
        assert!(
            rendered.contains(&format!("\nset {k} {v}\n")),
            "{k}: {rendered}"
        );
        assert_eq!(parse(&rendered).config, c, "{k}");
        let diff = config::Config::default().diff(&c);
        assert_eq!(diff.changes.len(), 1, "{k}: {diff:?}");
        let change = &diff.changes[0];
        assert_eq!(change.what, k);
        let default = Settings::default().render(k).unwrap();
        assert_eq!(change.values, Some((default, v.to_string())), "{k}");
        assert_eq!(change.apply, config::key_info(k).unwrap().apply, "{k}");
    }
    assert_eq!(config::key_info("setuid").unwrap().apply, Apply::Restart);
    assert_eq!(config::key_info("save_state").unwrap().apply, Apply::Live);

    let keys = "set as_number 65001\nset bgp_peer1 192.0.2.1\nset bgp_peer1_as 65000\n";
    let statements = "router bgp 65001\n neighbour 192.0.2.1 remote-as 65000\n";
    let old = parse(keys).config;
    assert!(old.diff(&parse(statements).config).is_empty());
    let rendered = old.render();
    assert!(
        rendered.contains("router bgp 65001\n neighbour \"192.0.2.1\" remote-as 65000\nexit\n"),
        "{rendered}"
    );
    assert_eq!(parse(&rendered).config, old);
    let (_, diff) = old
        .reload(
            "f",
            "set as_number 65001\nset bgp_peer1 192.0.2.1\nset bgp_peer1_as 65009\n",
        )
        .unwrap();
    assert_eq!(diff.changes.len(), 1, "{diff:?}");
    assert!(diff.changed("router bgp") && diff.needs_restart());
    let (_, diff) = old.reload("f", "").unwrap();
    assert!(diff.changed("router bgp"));
}

#[test]
fn every_key_without_effect_is_listed_whether_set_or_default() {
    let c = config::parse("f", "set mp_mrru 1600\n").unwrap().config;
    let absent = c.absent_effects();
    let find = |k: &str| absent.iter().find(|a| a.key == k).cloned();
    // A default of `yes` whose effect is missing is listed, as a default.
    let kill = find("kill_timedout_sessions").expect("kill_timedout_sessions listed");
    assert_eq!((kill.value.as_str(), kill.set), ("yes", false));
    assert!(kill
        .to_string()
        .starts_with("kill_timedout_sessions = yes (default): not acted on: "));
    // A key the file set is listed as set.
    let mp = find("mp_mrru").unwrap();
    assert_eq!((mp.value.as_str(), mp.set), ("1600", true));
    // Implemented keys are not listed; superseded ones are, with their reason.
    assert!(find("radius_secret").is_none() && find("save_state").is_none());
    assert!(find("cleanup_interval")
        .unwrap()
        .why
        .contains("timers of its own"));
}

/// Provenance from the file: a key the file sets is "set" even at its default value, with its
/// line; a key it leaves alone is "default"; implemented keys never appear.
#[test]
fn absent_effects_of_a_file_say_set_or_default_from_its_lines() {
    let l = parse("set debug 1\n\nset kill_timedout_sessions yes\nset scheduler_fifo yes\nset save_state yes\nset setuid 65534\nset dump_speed yes\n");
    let absent = l.absent_effects();
    let find = |k: &str| absent.iter().find(|a| a.key == k).cloned();
    let kill = find("kill_timedout_sessions").unwrap();
    assert_eq!((kill.set, kill.line), (true, Some(3)));
    assert_eq!(
        kill.to_string(),
        format!(
            "kill_timedout_sessions = yes (set): not acted on: {}",
            kill.why
        )
    );
    let snoop = find("scheduler_fifo").unwrap();
    assert_eq!(
        (snoop.value.as_str(), snoop.set, snoop.line),
        ("yes", true, Some(4))
    );
    // Left alone: default, whatever Config::absent_effects would say.
    let host = find("send_garp").unwrap();
    assert_eq!(
        (host.value.as_str(), host.set, host.line),
        ("no", false, None)
    );
    assert!(host
        .to_string()
        .starts_with("send_garp = no (default): not acted on: "));
    assert_eq!(
        find("cleanup_interval").map(|a| (a.set, a.value)),
        Some((false, "10".to_string()))
    );
    // What the daemon acts on is not listed, set or not.
    for k in [
        "debug",
        "save_state",
        "setuid",
        "dump_speed",
        "radius_secret",
        "bind_address",
    ] {
        assert!(find(k).is_none(), "{k}");
    }
    // Every key listed is one whose Support is not Implemented, in table order.
    let listed: Vec<&str> = absent.iter().map(|a| a.key).collect();
    let expected: Vec<&str> = KEYS
        .iter()
        .filter(|k| k.support != Support::Implemented)
        .map(|k| k.name)
        .collect();
    assert_eq!(listed, expected);
    // Secrets would never be shown (none is absent today, but the rule holds).
    assert!(absent
        .iter()
        .all(|a| !config::key_info(a.key).unwrap().secret));
}

/// The BGP keys are listed when BGP is configured, in either form, with the values it has.
#[test]
fn absent_effects_list_bgp_when_configured() {
    let bgp_of =
        |absent: Vec<config::AbsentEffect>| -> Vec<(&'static str, String, bool, Option<usize>)> {
            absent
                .into_iter()
                .filter(|a| config::BGP_KEYS.contains(&a.key))
                .map(|a| (a.key, a.value, a.set, a.line))
                .collect()
        };
    assert!(bgp_of(parse("").absent_effects()).is_empty());
    let keys = parse(
        "set as_number 65001\nset bgp_peer1 192.0.2.1\nset bgp_peer1_as 65000\n\
         set bgp_peer2 bgp2.example\nset bgp_peer2_as 65002\n",
    );
    assert_eq!(
        bgp_of(keys.absent_effects()),
        [
            ("as_number", "65001".to_string(), true, Some(1)),
            ("bgp_peer1", "192.0.2.1".to_string(), true, Some(2)),
            ("bgp_peer1_as", "65000".to_string(), true, Some(3)),
            ("bgp_peer2", "bgp2.example".to_string(), true, Some(4)),
            ("bgp_peer2_as", "65002".to_string(), true, Some(5)),
        ]
    );
    let statements = parse("router bgp 65001\n neighbour 192.0.2.1 remote-as 65000\n");
    let got = bgp_of(statements.absent_effects());
    assert_eq!(
        got,
        [
            ("as_number", "65001".to_string(), true, None),
            ("bgp_peer1", "192.0.2.1".to_string(), true, None),
            ("bgp_peer1_as", "65000".to_string(), true, None),
        ]
    );
    let a = statements
        .absent_effects()
        .into_iter()
        .find(|a| a.key == "as_number")
        .unwrap();
    assert!(a
        .to_string()
        .starts_with("as_number = 65001 (set): not acted on: there is no BGP speaker"));
    assert_eq!(bgp_of(statements.config.absent_effects()).len(), 3);
}

#[test]
fn dae_clients_are_the_radius_servers_then_the_extra_list_once_each() {
    let parse = |extra: &str| {
        config::parse(
            "t",
            &format!(
                "set primary_radius 192.0.2.50\nset secondary_radius 192.0.2.51\n\
                 set radius_secret s\n{extra}"
            ),
        )
        .unwrap()
        .config
        .settings
    };
    let ip = |s: &str| s.parse::<std::net::Ipv4Addr>().unwrap();
    assert_eq!(
        parse("set radius_dae_clients \"192.0.2.51, 192.0.2.60\"\n").dae_clients(),
        [ip("192.0.2.50"), ip("192.0.2.51"), ip("192.0.2.60")]
    );
    // Off: port 0, or no secret.
    assert!(parse("set radius_dae_port 0\n").dae_clients().is_empty());
    assert!(parse("set radius_secret \"\"\n").dae_clients().is_empty());
    assert!(config::parse("t", "set radius_dae_clients 0.0.0.0\n").is_err());
}
