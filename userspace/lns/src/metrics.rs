//! `GET /metrics`: the daemon's numbers in the Prometheus text exposition format, encoded
//! by `prometheus-client` from a [`Snapshot`] the loop takes when a scrape arrives (the
//! numbers live in the loop; nothing is shared or locked for them).
//!
//! Names are `l2tpns_*`; counters end in `_total`. Counters of one kind with a reason are
//! one family with a `reason` label (session set-up failures, data-plane drops, ...). A
//! counter of the endpoint or the daemon that this table does not know yet is still
//! exported, as `l2tpns_<name>_total`, so a new counter is never silently missing.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::AtomicI64;

use lns_dataplane::data_plane::CounterValues;
use prometheus_client::encoding::{EncodeMetric, MetricEncoder, NoLabelSet};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;

/// `Content-Type` of [`encode`]: OpenMetrics text, what prometheus-client writes, for
/// scrapers that ask for it (`Accept: application/openmetrics-text`).
pub const OPENMETRICS_CONTENT_TYPE: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";
/// `Content-Type` of [`encode_prometheus_text`]: the classic text format, for every other
/// scraper.
pub const PROMETHEUS_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Whether a request's `Accept` header asks for OpenMetrics.
pub fn wants_openmetrics(accept: Option<&str>) -> bool {
    accept.is_some_and(|a| a.contains("application/openmetrics-text"))
}

/// The exposition of `s` in the classic Prometheus text format (0.0.4): prometheus-client's
/// OpenMetrics text with the two differences undone. A counter's HELP and TYPE name its
/// sample (`x_total`, where OpenMetrics names the family `x`), and there is no `# EOF`.
pub fn encode_prometheus_text(s: &Snapshot) -> String {
    let open = encode(s);
    let counters: std::collections::HashSet<&str> = open
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.strip_suffix(" counter"))
        .collect();
    let mut out = String::with_capacity(open.len() + 64 * counters.len());
    for line in open.lines() {
        if line == "# EOF" || line.starts_with("# UNIT ") {
            continue;
        }
        let descriptor = ["# HELP ", "# TYPE "]
            .into_iter()
            .find_map(|p| line.strip_prefix(p).map(|rest| (p, rest)));
        match descriptor {
            Some((p, rest)) => {
                let (name, tail) = rest.split_once(' ').unwrap_or((rest, ""));
                out.push_str(p);
                out.push_str(name);
                if counters.contains(name) {
                    out.push_str("_total");
                }
                out.push(' ');
                out.push_str(tail);
            }
            None => out.push_str(line),
        }
        out.push('\n');
    }
    out
}

/// Everything a scrape shows, taken at one moment in the loop.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    pub sessions: u64,
    pub tunnels: u64,
    pub pool_size: u64,
    pub pool_free: u64,
    /// The data plane's counters, every worker added up.
    pub data_plane: CounterValues,
    /// Packets each data-plane worker forwarded (both ways), by worker index; empty when the
    /// control loop moves the packets itself.
    pub workers: Vec<u64>,
    /// `name=value` counters of the endpoint and the daemon (as nsctl's `show counters`,
    /// whose data-plane entries are taken from [`Snapshot::data_plane`] instead).
    pub counters: Vec<(String, u64)>,
    /// The RADIUS clients' counters (authentication, accounting), if RADIUS is configured.
    pub radius: Option<(radius::Stats, radius::Stats)>,
}

/// What one `name=value` counter becomes: family, help, and its label if the family has one.
struct Export {
    family: &'static str,
    help: &'static str,
    label: Option<(&'static str, &'static str)>,
}

const fn plain(family: &'static str, help: &'static str) -> Export {
    Export {
        family,
        help,
        label: None,
    }
}

const fn labelled(
    family: &'static str,
    help: &'static str,
    key: &'static str,
    value: &'static str,
) -> Export {
    Export {
        family,
        help,
        label: Some((key, value)),
    }
}

const SETUP_FAILURES: &str = "Sessions refused before they opened, by reason";
const L2TP_DROPPED: &str = "L2TP datagrams the control plane dropped, by reason";
const PPP_DROPPED: &str = "PPP frames dropped, by reason";
const PROXY_LCP: &str = "Sessions whose LAC sent proxy LCP, by what we did with it";

/// The counters of `Daemon::counters()` and where they go.
fn export_of(name: &str) -> Option<Export> {
    Some(match name {
        // Set-ups and their failures (the endpoint).
        "sessions_opened" => plain(
            "session_setups",
            "Sessions whose IPCP opened (resumed sessions not counted)",
        ),
        "auth_rejects" => labelled("session_setup_failures", SETUP_FAILURES, "reason", "auth_reject"),
        "auth_timeouts" => labelled("session_setup_failures", SETUP_FAILURES, "reason", "auth_timeout"),
        "pool_exhausted" => {
            labelled("session_setup_failures", SETUP_FAILURES, "reason", "pool_exhausted")
        }
        "address_refused" => {
            labelled("session_setup_failures", SETUP_FAILURES, "reason", "address_refused")
        }
        "l2tp_auth_failures" => plain(
            "tunnel_auth_failures",
            "Tunnels refused because their L2TP tunnel authentication failed",
        ),
        // The L2TP engine.
        "l2tp_datagrams" => plain("l2tp_datagrams", "L2TP datagrams the control plane received"),
        "l2tp_malformed" => labelled("l2tp_dropped", L2TP_DROPPED, "reason", "malformed"),
        "l2tp_unknown_tunnel" => labelled("l2tp_dropped", L2TP_DROPPED, "reason", "unknown_tunnel"),
        "l2tp_unknown_session" => {
            labelled("l2tp_dropped", L2TP_DROPPED, "reason", "unknown_session")
        }
        "l2tp_wrong_peer" => labelled("l2tp_dropped", L2TP_DROPPED, "reason", "wrong_peer"),
        "l2tp_retransmits" => plain("l2tp_retransmits", "L2TP control messages sent again"),
        "control_dropped" => plain(
            "control_dropped",
            "Datagrams the endpoint dropped before the L2TP engine",
        ),
        "ppp_malformed" => labelled("ppp_dropped", PPP_DROPPED, "reason", "malformed"),
        "ppp_dropped" => labelled("ppp_dropped", PPP_DROPPED, "reason", "other"),
        "acct_acked" => plain("accounting_acked", "Accounting-Requests answered"),
        "acct_timeouts" => plain(
            "accounting_timeouts",
            "Accounting-Requests given up after every retry",
        ),
        "proxy_lcp_accepted" => labelled("proxy_lcp", PROXY_LCP, "outcome", "accepted"),
        "proxy_lcp_renegotiated" => labelled("proxy_lcp", PROXY_LCP, "outcome", "renegotiated"),
        "slow_path_spoofed" => plain(
            "slow_path_spoofed",
            "Users' packets on the slow path dropped for a source address not theirs",
        ),
        // The daemon's system calls.
        "tun_write_dropped" => plain("tun_write_dropped", "Packets the TUN device did not take"),
        "udp_send_dropped" => plain("udp_send_dropped", "L2TP datagrams the UDP socket did not take"),
        "snoop_send_failed" => plain("snoop_send_failed", "Intercepted packets the snoop socket did not take"),
        "slow_path_dropped" => plain(
            "slow_path_dropped",
            "Work for the control plane a data-plane worker dropped because the queue was full",
        ),
        "throttle_held_overflow" => plain(
            "throttle_held_overflow",
            "Throttled packets lost because the daemon held as many as it may",
        ),
        "radius_send_failed" => plain("radius_send_failed", "RADIUS datagrams that could not be sent"),
        "mss_clamped" => plain("mss_clamped", "TCP MSS options lowered"),
        "icmp_unreachable_sent" => plain(
            "icmp_unreachable_sent",
            "ICMP unreachables sent for addresses with no session",
        ),
        // Management interfaces. The telnet CLI's requests/refused go here when it exists.
        "nsctl_requests" => plain("nsctl_requests", "nsctl requests answered"),
        "nsctl_refused" => plain(
            "nsctl_refused",
            "nsctl requests refused (from outside the host, or from a user not allowed)",
        ),
        "nsctl_malformed" => plain("nsctl_malformed", "nsctl datagrams that were not a request"),
        "metrics_requests" => plain("metrics_requests", "HTTP requests the metrics listener answered"),
        "metrics_refused" => plain(
            "metrics_refused",
            "Metrics connections refused or closed: bad token, oversized, slow, malformed, too many",
        ),
        _ => return None,
    })
}

/// Names in `counters` that [`Snapshot::data_plane`] exports under its own families.
const DATA_PLANE_NAMES: [&str; 10] = [
    "down_packets",
    "up_packets",
    "to_control",
    "not_ipv4",
    "no_session",
    "over_mru",
    "malformed",
    "spoofed",
    "wrong_peer",
    "sequenced_to_control",
];

type Labels = Vec<(&'static str, &'static str)>;

/// `workerN_packets` of the counters: exported as `worker_packets{worker="N"}` instead.
fn is_worker_packets(name: &str) -> bool {
    name.strip_prefix("worker")
        .and_then(|r| r.strip_suffix("_packets"))
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// A histogram whose buckets were counted elsewhere (the RADIUS clients), one per `client`.
#[derive(Debug)]
struct RttHistograms(Vec<(&'static str, radius::client::RttHistogram)>);

impl EncodeMetric for RttHistograms {
    fn encode(&self, mut encoder: MetricEncoder) -> Result<(), fmt::Error> {
        for (client, h) in &self.0 {
            let labels = [("client", *client)];
            let buckets: Vec<(f64, u64)> = radius::client::RttHistogram::BOUNDS
                .iter()
                .map(|b| b.as_secs_f64())
                .chain(std::iter::once(f64::MAX))
                .zip(h.buckets.iter().copied())
                .collect();
            encoder
                .encode_family(&labels)?
                .encode_histogram::<NoLabelSet>(h.sum.as_secs_f64(), h.count, &buckets, None)?;
        }
        Ok(())
    }

    fn metric_type(&self) -> MetricType {
        MetricType::Histogram
    }
}

fn gauge(registry: &mut Registry, name: &str, help: &str, v: u64) {
    let g = Gauge::<i64, AtomicI64>::default();
    g.set(i64::try_from(v).unwrap_or(i64::MAX));
    registry.register(name, help, g);
}

fn counter(registry: &mut Registry, name: &str, help: &str, v: u64) {
    let c = Counter::<u64>::default();
    c.inc_by(v);
    registry.register(name, help, c);
}

/// Counters gathered by family before they are registered: a family with labels, or a
/// plain counter (added with no labels).
#[derive(Default)]
struct Families(BTreeMap<&'static str, (&'static str, Gathered)>);

enum Gathered {
    Plain(u64),
    Labelled(Family<Labels, Counter>),
}

impl Families {
    fn add(&mut self, family: &'static str, help: &'static str, labels: Labels, v: u64) {
        let (_, g) = self.0.entry(family).or_insert_with(|| {
            let g = if labels.is_empty() {
                Gathered::Plain(0)
            } else {
                Gathered::Labelled(Family::default())
            };
            (help, g)
        });
        match g {
            Gathered::Plain(n) => *n += v,
            Gathered::Labelled(f) => {
                f.get_or_create(&labels).inc_by(v);
            }
        }
    }

    fn register(self, registry: &mut Registry) {
        for (name, (help, g)) in self.0 {
            match g {
                Gathered::Plain(n) => counter(registry, name, help, n),
                Gathered::Labelled(f) => registry.register(name, help, f),
            }
        }
    }
}

/// The exposition of `s`.
pub fn encode(s: &Snapshot) -> String {
    let mut r = Registry::with_prefix("l2tpns");
    gauge(
        &mut r,
        "sessions",
        "Sessions, from the call's set-up to its end",
        s.sessions,
    );
    gauge(&mut r, "tunnels", "L2TP tunnels", s.tunnels);
    gauge(
        &mut r,
        "pool_addresses_in_use",
        "Addresses of the IP pool given to sessions",
        s.pool_size.saturating_sub(s.pool_free),
    );
    gauge(
        &mut r,
        "pool_addresses_free",
        "Addresses of the IP pool free",
        s.pool_free,
    );

    let mut families = Families::default();
    let d = &s.data_plane;
    for (dir, packets, octets) in [
        ("up", d.up_packets, d.up_octets),
        ("down", d.down_packets, d.down_octets),
    ] {
        families.add(
            "dataplane_packets",
            "IPv4 packets the data plane forwarded, by direction (up: from users)",
            vec![("direction", dir)],
            packets,
        );
        families.add(
            "dataplane_bytes",
            "IPv4 octets the data plane forwarded, by direction (up: from users)",
            vec![("direction", dir)],
            octets,
        );
    }
    for (reason, v) in [
        ("not_ipv4", d.not_ipv4),
        ("no_session", d.no_session),
        ("over_mru", d.over_mru),
        ("malformed", d.malformed),
        ("spoofed", d.spoofed),
        ("wrong_peer", d.wrong_peer),
    ] {
        families.add(
            "dataplane_dropped",
            "Packets the data plane dropped, by reason",
            vec![("reason", reason)],
            v,
        );
    }
    for (reason, v) in [
        ("control", d.to_control),
        ("sequenced", d.sequenced_to_control),
    ] {
        families.add(
            "dataplane_to_control",
            "Packets the data plane handed to the control plane, by reason",
            vec![("reason", reason)],
            v,
        );
    }

    if !s.workers.is_empty() {
        let per_worker = Family::<Vec<(&'static str, String)>, Counter>::default();
        for (i, v) in s.workers.iter().enumerate() {
            per_worker
                .get_or_create(&vec![("worker", i.to_string())])
                .inc_by(*v);
        }
        r.register(
            "worker_packets",
            "IPv4 packets each data-plane worker forwarded, both ways",
            per_worker,
        );
    }

    let mut unknown = Vec::new();
    for (name, v) in &s.counters {
        if DATA_PLANE_NAMES.contains(&name.as_str())
            || name == "sessions"
            || is_worker_packets(name)
        {
            continue;
        }
        match export_of(name) {
            Some(Export {
                family,
                help,
                label: Some(label),
            }) => families.add(family, help, vec![label], *v),
            Some(Export { family, help, .. }) => families.add(family, help, Vec::new(), *v),
            None => unknown.push((name.clone(), *v)),
        }
    }
    for (name, v) in unknown {
        counter(&mut r, &name, &format!("The `{name}' counter"), v);
    }

    if let Some((auth, acct)) = &s.radius {
        for (client, st) in [("auth", auth), ("acct", acct)] {
            let l = || vec![("client", client)];
            families.add("radius_requests", "RADIUS requests made", l(), st.requests);
            families.add(
                "radius_retransmits",
                "RADIUS requests sent again for want of an answer",
                l(),
                st.retransmits,
            );
            families.add(
                "radius_timeouts",
                "RADIUS requests given up after every retry",
                l(),
                st.timeouts,
            );
            families.add(
                "radius_responses",
                "RADIUS answers matched to a request",
                l(),
                st.responses,
            );
            for (reason, v) in [
                ("unknown_source", st.rx_unknown_source),
                ("malformed", st.rx_malformed),
                ("unknown_identifier", st.rx_unknown_identifier),
                ("unexpected_code", st.rx_unexpected_code),
                ("bad_authenticator", st.rx_bad_authenticator),
                (
                    "missing_message_authenticator",
                    st.rx_missing_message_authenticator,
                ),
                ("backlog_full", st.backlog_full),
            ] {
                families.add(
                    "radius_dropped",
                    "RADIUS datagrams dropped and requests refused, by reason",
                    vec![("client", client), ("reason", reason)],
                    v,
                );
            }
        }
        r.register(
            "radius_rtt_seconds",
            "Round-trip time of RADIUS requests answered at their first send",
            RttHistograms(vec![("auth", auth.rtt.clone()), ("acct", acct.rtt.clone())]),
        );
    }
    // Families with no label (unlabelled counters from the table) are registered as
    // families too: prometheus-client writes them without braces.
    families.register(&mut r);

    let mut out = String::new();
    // Writing into a String cannot fail.
    let _ = prometheus_client::encoding::text::encode(&mut out, &r);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Snapshot {
        let mut auth = radius::Stats {
            requests: 5,
            retransmits: 1,
            ..Default::default()
        };
        auth.rtt.observe(std::time::Duration::from_millis(3));
        Snapshot {
            sessions: 3,
            tunnels: 1,
            pool_size: 10,
            pool_free: 7,
            data_plane: CounterValues {
                up_packets: 11,
                down_octets: 999,
                no_session: 2,
                ..Default::default()
            },
            workers: vec![6, 5],
            counters: vec![
                ("sessions".into(), 3),
                ("up_packets".into(), 11),
                ("auth_rejects".into(), 4),
                ("pool_exhausted".into(), 1),
                ("sessions_opened".into(), 3),
                ("nsctl_requests".into(), 6),
                ("metrics_requests".into(), 8),
                ("brand_new".into(), 9),
                ("worker0_packets".into(), 6),
                ("worker1_packets".into(), 5),
            ],
            radius: Some((auth, radius::Stats::default())),
        }
    }

    #[test]
    fn the_exposition_has_every_family_with_help_and_type() {
        let text = encode(&sample());
        for line in [
            "# TYPE l2tpns_sessions gauge",
            "l2tpns_sessions 3",
            "l2tpns_tunnels 1",
            "l2tpns_pool_addresses_in_use 3",
            "l2tpns_pool_addresses_free 7",
            "# TYPE l2tpns_session_setups counter",
            "l2tpns_session_setups_total 3",
            "l2tpns_session_setup_failures_total{reason=\"auth_reject\"} 4",
            "l2tpns_session_setup_failures_total{reason=\"pool_exhausted\"} 1",
            "l2tpns_dataplane_packets_total{direction=\"up\"} 11",
            "l2tpns_dataplane_bytes_total{direction=\"down\"} 999",
            "l2tpns_dataplane_dropped_total{reason=\"no_session\"} 2",
            "l2tpns_nsctl_requests_total 6",
            "l2tpns_metrics_requests_total 8",
            "l2tpns_brand_new_total 9",
            "l2tpns_worker_packets_total{worker=\"0\"} 6",
            "l2tpns_worker_packets_total{worker=\"1\"} 5",
            "l2tpns_radius_requests_total{client=\"auth\"} 5",
            "l2tpns_radius_retransmits_total{client=\"auth\"} 1",
            "# TYPE l2tpns_radius_rtt_seconds histogram",
            "l2tpns_radius_rtt_seconds_count{client=\"auth\"} 1",
            "l2tpns_radius_rtt_seconds_bucket{le=\"0.002\",client=\"auth\"} 0",
            "l2tpns_radius_rtt_seconds_bucket{le=\"0.005\",client=\"auth\"} 1",
            "l2tpns_radius_rtt_seconds_bucket{le=\"+Inf\",client=\"auth\"} 1",
            "l2tpns_radius_rtt_seconds_bucket{le=\"+Inf\",client=\"acct\"} 0",
            "# EOF",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "missing {line:?} in\n{text}"
            );
        }
        // Every family has its HELP and TYPE; the data-plane names of `counters` are not
        // exported twice.
        assert!(text.contains("# HELP l2tpns_sessions "));
        assert!(!text.contains("l2tpns_up_packets"));
        assert!(!text.contains("l2tpns_sessions_total"));
    }

    #[test]
    fn the_classic_text_format_names_counters_by_their_sample() {
        let text = encode_prometheus_text(&sample());
        for line in [
            "# TYPE l2tpns_sessions gauge",
            "# TYPE l2tpns_session_setups_total counter",
            "l2tpns_session_setups_total 3",
            "# TYPE l2tpns_radius_rtt_seconds histogram",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "missing {line:?} in\n{text}"
            );
        }
        assert!(text
            .lines()
            .any(|l| l.starts_with("# HELP l2tpns_dataplane_packets_total IPv4 packets")));
        assert!(!text.contains("# EOF"));
        assert!(!text.contains("# TYPE l2tpns_session_setups counter"));
        assert!(wants_openmetrics(Some(
            "application/openmetrics-text;version=1.0.0,text/plain;q=0.5"
        )));
        assert!(!wants_openmetrics(Some("*/*")));
        assert!(!wants_openmetrics(None));
    }

    #[test]
    fn no_radius_no_radius_families() {
        let s = Snapshot {
            radius: None,
            ..sample()
        };
        assert!(!encode(&s).contains("radius_requests"));
    }
}
