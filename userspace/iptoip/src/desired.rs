//! Config + the interface's current addresses → the desired IPVS table.

use std::collections::btree_map::Entry;
use std::collections::BTreeMap;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::config::{is_private, Config, Rfc1918Policy};
use crate::table::{DestKey, DestSpec, ServiceKey, ServiceSpec, Table};

/// The addresses of `<iface>` that can serve as VIP: its primary IPv4 address and its first
/// global, usable IPv6 address (see `addrs`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IfaceAddrs {
    pub v4: Option<Ipv4Addr>,
    pub v6: Option<Ipv6Addr>,
}

impl fmt::Display for IfaceAddrs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.v4, self.v6) {
            (None, None) => write!(f, "no address"),
            (Some(a), None) => write!(f, "{a}"),
            (None, Some(b)) => write!(f, "{b}"),
            (Some(a), Some(b)) => write!(f, "{a} {b}"),
        }
    }
}

/// A conf that cannot be turned into table entries, with the line of its `<conf>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredError {
    pub line: usize,
    pub message: String,
}

impl fmt::Display for DesiredError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<conf> at line {}: {}", self.line, self.message)
    }
}

/// One virtual service → real server mapping, for the verbose report and the logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapping {
    pub line: usize,
    pub service: ServiceKey,
    pub scheduler: String,
    pub dest: DestKey,
    pub spec: DestSpec,
}

/// Build the desired table. `iface` is `None` when the config has no `<iface>`.
///
/// All errors are collected; any error means the table must not be touched.
pub fn build(
    config: &Config,
    iface: Option<&IfaceAddrs>,
) -> Result<(Table, Vec<Mapping>), Vec<DesiredError>> {
    let mut errors = Vec::new();
    let mut table = Table::new();
    let mut mappings = Vec::new();
    // Where each service and real server was first defined, to point at conflicts.
    let mut service_line: BTreeMap<ServiceKey, usize> = BTreeMap::new();
    let mut dest_line: BTreeMap<(ServiceKey, DestKey), usize> = BTreeMap::new();
    let iface_name = config.iface.as_deref().unwrap_or("");

    for conf in &config.confs {
        let vip = match conf.origin {
            Some(origin) => origin,
            None => {
                let addr = match (conf.destination, iface) {
                    (IpAddr::V4(_), Some(a)) => a.v4.map(IpAddr::V4),
                    (IpAddr::V6(_), Some(a)) => a.v6.map(IpAddr::V6),
                    (_, None) => None,
                };
                let family = if conf.destination.is_ipv4() {
                    "IPv4"
                } else {
                    "IPv6"
                };
                match addr {
                    None => {
                        errors.push(DesiredError {
                            line: conf.line,
                            message: format!(
                                "interface {iface_name} has no usable {family} address for \
                                 destination {}",
                                conf.destination
                            ),
                        });
                        continue;
                    }
                    Some(a) if config.rfc1918 != Rfc1918Policy::Allow && is_private(a) => {
                        errors.push(DesiredError {
                            line: conf.line,
                            message: format!(
                                "interface {iface_name} has the private address {a} and the \
                                 rfc1918 policy is {}: cannot update",
                                config.rfc1918.level()
                            ),
                        });
                        continue;
                    }
                    Some(a) => a,
                }
            }
        };
        for &protocol in &conf.protocols {
            for &port in &conf.ports {
                let service = ServiceKey {
                    protocol,
                    addr: vip,
                    port,
                };
                let dest = DestKey {
                    addr: conf.destination,
                    port,
                };
                let spec = DestSpec {
                    forward: conf.forward,
                    weight: conf.weight,
                };
                match table.entry(service) {
                    Entry::Vacant(v) => {
                        v.insert(ServiceSpec {
                            scheduler: conf.scheduler.clone(),
                            dests: BTreeMap::new(),
                        });
                        service_line.insert(service, conf.line);
                    }
                    Entry::Occupied(o) => {
                        if o.get().scheduler != conf.scheduler {
                            errors.push(DesiredError {
                                line: conf.line,
                                message: format!(
                                    "service {service} has scheduler {} here but {} in the \
                                     <conf> at line {}",
                                    conf.scheduler,
                                    o.get().scheduler,
                                    service_line[&service]
                                ),
                            });
                            continue;
                        }
                    }
                }
                if let Some(first) = dest_line.get(&(service, dest)) {
                    errors.push(DesiredError {
                        line: conf.line,
                        message: format!(
                            "real server {dest} of service {service} is already defined by the \
                             <conf> at line {first}"
                        ),
                    });
                    continue;
                }
                dest_line.insert((service, dest), conf.line);
                if let Some(svc) = table.get_mut(&service) {
                    svc.dests.insert(dest, spec);
                }
                mappings.push(Mapping {
                    line: conf.line,
                    service,
                    scheduler: conf.scheduler.clone(),
                    dest,
                    spec,
                });
            }
        }
    }
    if errors.is_empty() {
        Ok((table, mappings))
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse;
    use crate::table::{Forward, Protocol};
    use std::path::Path;

    fn cfg(body: &str) -> Config {
        parse(
            Path::new("t.xml"),
            &format!("<config><iface>ppp0</iface>{body}</config>"),
        )
        .unwrap()
    }

    fn addrs(v4: &str) -> IfaceAddrs {
        IfaceAddrs {
            v4: Some(v4.parse().unwrap()),
            v6: None,
        }
    }

    #[test]
    fn several_real_servers_share_one_service() {
        let c = cfg(
            "<conf><scheduler>wlc</scheduler><destination>192.168.1.3</destination>\
                     <protocol>t</protocol><weight>5</weight><port>80</port></conf>\
                     <conf><scheduler>wlc</scheduler><destination>192.168.1.4</destination>\
                     <protocol>t</protocol><port>80</port></conf>",
        );
        let (table, maps) = build(&c, Some(&addrs("203.0.113.7"))).unwrap();
        assert_eq!(table.len(), 1);
        let svc = &table[&ServiceKey {
            protocol: Protocol::Tcp,
            addr: "203.0.113.7".parse().unwrap(),
            port: 80,
        }];
        assert_eq!(svc.dests.len(), 2);
        assert_eq!(maps.len(), 2);
        assert_eq!(
            svc.dests[&DestKey {
                addr: "192.168.1.3".parse().unwrap(),
                port: 80
            }],
            DestSpec {
                forward: Forward::Masq,
                weight: 5
            }
        );
    }

    #[test]
    fn protocol_a_and_ports_expand() {
        let c = cfg(
            "<conf><scheduler>rr</scheduler><destination>192.168.1.3</destination>\
                     <protocol>a</protocol><port>53</port><port>5353</port></conf>",
        );
        let (table, _) = build(&c, Some(&addrs("203.0.113.7"))).unwrap();
        assert_eq!(table.len(), 4);
    }

    #[test]
    fn origin_overrides_the_interface_address() {
        let c = cfg(
            "<conf><origin>198.51.100.1</origin><scheduler>rr</scheduler>\
                     <destination>192.168.1.3</destination><protocol>u</protocol>\
                     <port>53</port></conf>",
        );
        let (table, _) = build(&c, None).unwrap();
        let key = table.keys().next().unwrap();
        assert_eq!(key.addr, "198.51.100.1".parse::<IpAddr>().unwrap());
        assert_eq!(key.protocol, Protocol::Udp);
    }

    #[test]
    fn ipv6_destination_uses_the_ipv6_address() {
        let c = cfg(
            "<conf><scheduler>rr</scheduler><destination>2001:db8::10</destination>\
                     <protocol>t</protocol><port>443</port></conf>",
        );
        let a = IfaceAddrs {
            v4: Some("203.0.113.7".parse().unwrap()),
            v6: Some("2001:db8:1::1".parse().unwrap()),
        };
        let (table, _) = build(&c, Some(&a)).unwrap();
        assert_eq!(
            table.keys().next().unwrap().addr,
            "2001:db8:1::1".parse::<IpAddr>().unwrap()
        );
        let err = build(&c, Some(&addrs("203.0.113.7"))).unwrap_err();
        assert!(err[0].message.contains("no usable IPv6 address"), "{err:?}");
    }

    #[test]
    fn private_interface_address_is_refused_unless_policy_0() {
        let body = "<conf><scheduler>rr</scheduler><destination>192.168.1.3</destination>\
                    <protocol>t</protocol><port>80</port></conf>";
        let err = build(&cfg(body), Some(&addrs("10.1.2.3"))).unwrap_err();
        assert!(
            err[0].message.contains("private address 10.1.2.3"),
            "{err:?}"
        );
        assert_eq!(err[0].line, 1);
        let c = cfg(&format!("<rfc1918>1</rfc1918>{body}"));
        assert!(build(&c, Some(&addrs("10.1.2.3"))).is_err());
        let c = cfg(&format!("<rfc1918>0</rfc1918>{body}"));
        assert!(build(&c, Some(&addrs("10.1.2.3"))).is_ok());
        let c = cfg(&format!("<nocheck>1</nocheck>{body}"));
        assert!(build(&c, Some(&addrs("10.1.2.3"))).is_ok());
    }

    #[test]
    fn conflicting_scheduler_and_duplicate_server_are_errors() {
        let c = cfg(
            "<conf><scheduler>rr</scheduler><destination>192.168.1.3</destination>\
                     <protocol>t</protocol><port>80</port></conf>\n\
                     <conf><scheduler>wlc</scheduler><destination>192.168.1.4</destination>\
                     <protocol>t</protocol><port>80</port></conf>\n\
                     <conf><scheduler>rr</scheduler><destination>192.168.1.3</destination>\
                     <protocol>a</protocol><port>80</port></conf>",
        );
        let err = build(&c, Some(&addrs("203.0.113.7"))).unwrap_err();
        assert_eq!(err.len(), 2, "{err:?}");
        assert_eq!(err[0].line, 2);
        assert!(
            err[0].message.contains("scheduler wlc here but rr"),
            "{err:?}"
        );
        assert_eq!(err[1].line, 3);
        assert!(
            err[1]
                .message
                .contains("already defined by the <conf> at line 1"),
            "{err:?}"
        );
    }

    #[test]
    fn missing_interface_address_is_an_error() {
        let c = cfg(
            "<conf><scheduler>rr</scheduler><destination>192.168.1.3</destination>\
                     <protocol>t</protocol><port>80</port></conf>",
        );
        let err = build(&c, Some(&IfaceAddrs::default())).unwrap_err();
        assert!(
            err[0].message.contains("interface ppp0 has no usable IPv4"),
            "{err:?}"
        );
    }
}
