use super::*;
use std::path::Path;

const SAMPLE: &str = r#"<config>
	<iface>ppp0</iface>
	<nocheck>1</nocheck>
	<verbose>1</verbose>
	<syslog>1</syslog>
	<logfile>/var/log/iptoip.log</logfile>
	<conf>
		<origin>192.168.1.1</origin>
			<scheduler>wlc</scheduler>
			<destination>192.168.1.3</destination>
			<protocol>u</protocol>
			<weight>5</weight>
			<port>80</port>
			<port>21</port>
	</conf>
	<conf>
		<origin>192.168.1.1</origin>
			<scheduler>wlc</scheduler>
			<destination>192.168.1.10</destination>
			<protocol>t</protocol>
			<weight>10</weight>
			<port>6000</port>
	</conf>
</config>
"#;

fn p(text: &str) -> Result<Config, ConfigErrors> {
    parse(Path::new("/etc/iptoip.xml"), text)
}

fn errors(text: &str) -> Vec<String> {
    p(text)
        .unwrap_err()
        .0
        .iter()
        .map(|e| e.to_string())
        .collect()
}

fn wrap(conf: &str) -> String {
    format!("<config>\n<iface>eth0</iface>\n<conf>\n{conf}\n</conf>\n</config>\n")
}

const GOOD_CONF: &str = "<scheduler>rr</scheduler>\n<destination>10.0.0.1</destination>\n\
                         <protocol>t</protocol>\n<port>80</port>";

#[test]
fn the_original_sample_is_accepted_unchanged() {
    let c = p(SAMPLE).unwrap();
    assert_eq!(c.iface.as_deref(), Some("ppp0"));
    // nocheck 1 = no check at all.
    assert_eq!(c.rfc1918, Rfc1918Policy::Allow);
    assert!(c.verbose);
    assert!(c.syslog);
    assert_eq!(c.logfile.as_deref(), Some(Path::new("/var/log/iptoip.log")));
    assert_eq!(c.confs.len(), 2);
    let first = &c.confs[0];
    assert_eq!(first.line, 7);
    assert_eq!(first.origin, Some("192.168.1.1".parse().unwrap()));
    assert_eq!(first.scheduler, "wlc");
    assert_eq!(first.protocols, vec![Protocol::Udp]);
    assert_eq!(first.weight, 5);
    assert_eq!(first.ports, vec![80, 21]);
    assert_eq!(first.forward, Forward::Masq);
    assert_eq!(c.confs[1].line, 16);
    assert_eq!(c.confs[1].ports, vec![6000]);
}

#[test]
fn rfc1918_in_either_case_and_nocheck_mapping() {
    let base = |tag: &str| format!("<config><iface>eth0</iface>{tag}</config>");
    assert_eq!(
        p(&base("")).unwrap().rfc1918,
        Rfc1918Policy::BlockInterfaceAndOrigin
    );
    assert_eq!(
        p(&base("<rfc1918>0</rfc1918>")).unwrap().rfc1918,
        Rfc1918Policy::Allow
    );
    assert_eq!(
        p(&base("<RFC1918>1</RFC1918>")).unwrap().rfc1918,
        Rfc1918Policy::BlockInterface
    );
    assert_eq!(
        p(&base("<nocheck>0</nocheck>")).unwrap().rfc1918,
        Rfc1918Policy::BlockInterface
    );
    assert_eq!(
        p(&base("<nocheck>1</nocheck>")).unwrap().rfc1918,
        Rfc1918Policy::Allow
    );
    // The documented tag wins over the deprecated one.
    assert_eq!(
        p(&base("<nocheck>1</nocheck><rfc1918>2</rfc1918>"))
            .unwrap()
            .rfc1918,
        Rfc1918Policy::BlockInterfaceAndOrigin
    );
    assert_eq!(
        errors(&base("\n<rfc1918>3</rfc1918>")),
        vec!["/etc/iptoip.xml:2: <rfc1918>: \"3\" is not 0, 1 or 2"]
    );
}

#[test]
fn protocol_forward_scheduler_are_case_insensitive() {
    let c = p(&wrap(
        "<scheduler>WLC</scheduler><destination>10.0.0.1</destination><protocol>A</protocol>\
         <port>80</port><forward>Gate</forward>",
    ))
    .unwrap();
    let conf = &c.confs[0];
    assert_eq!(conf.scheduler, "wlc");
    assert_eq!(conf.protocols, vec![Protocol::Tcp, Protocol::Udp]);
    assert_eq!(conf.forward, Forward::Gate);
    let c = p(&wrap(&format!("{GOOD_CONF}<forward>TUNL</forward>"))).unwrap();
    assert_eq!(c.confs[0].forward, Forward::Tunnel);
}

#[test]
fn weight_applies_to_every_scheduler_and_defaults_to_1() {
    let c = p(&wrap(&format!("{GOOD_CONF}<weight>0</weight>"))).unwrap();
    assert_eq!(c.confs[0].weight, 0);
    assert_eq!(c.confs[0].scheduler, "rr");
    let c = p(&wrap(GOOD_CONF)).unwrap();
    assert_eq!(c.confs[0].weight, 1);
    let c = p(&wrap(&format!("{GOOD_CONF}<weight>65535</weight>"))).unwrap();
    assert_eq!(c.confs[0].weight, 65535);
}

#[test]
fn ipv6_addresses_are_accepted() {
    let c = p(&wrap(
        "<origin>2001:db8::1</origin><scheduler>sh</scheduler><destination>2001:db8::10\
         </destination><protocol>t</protocol><port>443</port>",
    ))
    .unwrap();
    assert_eq!(c.confs[0].origin, Some("2001:db8::1".parse().unwrap()));
}

#[test]
fn bad_values_name_line_tag_and_value() {
    let text = wrap(
        "<scheduler>fastest</scheduler>\n<destination>10.0.0.300</destination>\n\
         <protocol>x</protocol>\n<port>0</port>\n<port>70000</port>\n<weight>-1</weight>\n\
         <forward>nat</forward>\n<origin>example.org</origin>",
    );
    let e = errors(&text);
    let expect = [
        "/etc/iptoip.xml:11: <origin>: \"example.org\" is not an IPv4 or IPv6 address",
        "/etc/iptoip.xml:5: <destination>: \"10.0.0.300\" is not an IPv4 or IPv6 address",
        "/etc/iptoip.xml:4: <scheduler>: \"fastest\" is not an IPVS scheduler",
        "/etc/iptoip.xml:6: <protocol>: \"x\" is not t, u or a",
        "/etc/iptoip.xml:9: <weight>: \"-1\" is not a weight (0 to 65535)",
        "/etc/iptoip.xml:10: <forward>: \"nat\" is not masq, gate or tunl",
        "/etc/iptoip.xml:7: <port>: \"0\" is not a port (1 to 65535)",
        "/etc/iptoip.xml:8: <port>: \"70000\" is not a port (1 to 65535)",
    ];
    assert_eq!(e.len(), expect.len(), "{e:#?}");
    for x in expect {
        assert!(
            e.iter().any(|m| m.starts_with(x)),
            "missing {x:?} in {e:#?}"
        );
    }
}

#[test]
fn unknown_tags_are_errors_with_their_line() {
    let e = errors("<config>\n<iface>eth0</iface>\n<interface>eth1</interface>\n</config>");
    assert_eq!(
        e,
        vec!["/etc/iptoip.xml:3: <interface>: unknown tag in <config>"]
    );
    let e = errors(&wrap(&format!("{GOOD_CONF}\n<persistent>300</persistent>")));
    assert_eq!(
        e,
        vec!["/etc/iptoip.xml:8: <persistent>: unknown tag in <conf>"]
    );
    let e = errors("<iptoip></iptoip>");
    assert_eq!(
        e,
        vec!["/etc/iptoip.xml:1: <iptoip>: the root element must be <config>"]
    );
}

#[test]
fn missing_required_tags_are_listed() {
    let e = errors("<config>\n<iface>eth0</iface>\n<conf>\n<port>80</port>\n</conf>\n</config>");
    assert_eq!(
        e,
        vec![
            "/etc/iptoip.xml:3: <conf>: <scheduler> is missing",
            "/etc/iptoip.xml:3: <conf>: <destination> is missing",
            "/etc/iptoip.xml:3: <conf>: <protocol> is missing",
        ]
    );
}

#[test]
fn conf_without_origin_needs_an_iface() {
    let e = errors(&format!("<config>\n<conf>{GOOD_CONF}</conf></config>"));
    assert_eq!(
        e,
        vec![
            "/etc/iptoip.xml:2: <conf>: has no <origin> and the config has no <iface> to take \
              the address from"
        ]
    );
    let ok = p(&format!(
        "<config><conf><origin>198.51.100.1</origin>{GOOD_CONF}</conf></config>"
    ))
    .unwrap();
    assert_eq!(ok.iface, None);
}

#[test]
fn private_origin_is_refused_under_policy_2_only() {
    let conf = format!("<conf><origin>192.168.1.1</origin>{GOOD_CONF}</conf>");
    let e = errors(&format!("<config><iface>eth0</iface>\n{conf}</config>"));
    assert_eq!(
        e,
        vec![
            "/etc/iptoip.xml:2: <origin>: 192.168.1.1 is a private address and the rfc1918 \
              policy is 2"
        ]
    );
    assert!(p(&format!(
        "<config><iface>eth0</iface><rfc1918>1</rfc1918>{conf}</config>"
    ))
    .is_ok());
}

#[test]
fn repeated_singular_tags_and_ports_are_errors() {
    let e = errors("<config>\n<iface>eth0</iface>\n<iface>eth1</iface>\n</config>");
    assert_eq!(
        e,
        vec!["/etc/iptoip.xml:3: <iface>: given twice (first at line 2)"]
    );
    let e = errors(&wrap(&format!("{GOOD_CONF}\n<port>80</port>")));
    assert_eq!(
        e,
        vec!["/etc/iptoip.xml:8: <port>: 80 is listed twice in this <conf>"]
    );
}

#[test]
fn mixed_address_families_are_refused() {
    let e = errors(&wrap(
        "<origin>2001:db8::1</origin><scheduler>rr</scheduler>\n<destination>10.0.0.1\
         </destination><protocol>t</protocol><port>80</port>",
    ));
    assert_eq!(e.len(), 1);
    assert!(
        e[0].starts_with("/etc/iptoip.xml:5: <destination>: 10.0.0.1 and the origin"),
        "{e:?}"
    );
}

#[test]
fn malformed_xml_reports_a_line() {
    let e = errors("<config>\n<iface>eth0</iface>\n<conf>\n</config>");
    assert_eq!(e.len(), 1);
    assert!(
        e[0].starts_with("/etc/iptoip.xml:4: malformed XML"),
        "{e:?}"
    );
    let e = errors("<config>\n<iface>eth0\n");
    assert!(
        e[0].contains("never closed") || e[0].contains("malformed"),
        "{e:?}"
    );
    let e = errors("");
    assert_eq!(
        e,
        vec!["/etc/iptoip.xml:1: empty document: expected <config>"]
    );
    let e = errors("<config/><config/>");
    assert_eq!(e, vec!["/etc/iptoip.xml:1: content after the root element"]);
}

#[test]
fn shell_metacharacters_are_just_bad_values() {
    let e = errors(&wrap(
        "<scheduler>rr; rm -rf /</scheduler><destination>10.0.0.1</destination>\
         <protocol>t</protocol><port>80</port>",
    ));
    assert!(
        e[0].contains("\"rr; rm -rf /\" is not an IPVS scheduler"),
        "{e:?}"
    );
}

#[test]
fn interface_names_are_checked() {
    let e = errors("<config><iface>a/b</iface></config>");
    assert_eq!(
        e,
        vec!["/etc/iptoip.xml:1: <iface>: \"a/b\" is not a valid interface name"]
    );
    let e = errors("<config><iface>abcdefghijklmnop</iface></config>");
    assert_eq!(e.len(), 1);
}

#[test]
fn comments_entities_and_empty_config() {
    let c =
        p("<?xml version=\"1.0\"?>\n<!-- c --><config><iface>eth&#48;</iface></config>").unwrap();
    assert_eq!(c.iface.as_deref(), Some("eth0"));
    assert!(c.confs.is_empty());
}

#[test]
fn load_reports_unreadable_files() {
    let e = load(Path::new("/nonexistent/iptoip.xml")).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("/nonexistent/iptoip.xml:0: cannot read"),
        "{e}"
    );
}
