//! The 81 `set` keys of the original (reference §2, `config_values[]` of l2tpns 2.5.0), then a
//! few extensions, each with its type, its *effective* default (the code's, not the sample
//! file's or the manual's), when a change takes effect, and whether this daemon acts on it.
//!
//! One table generates the typed [`Settings`] struct, its defaults, the setter, the renderer and
//! the key list, so a key cannot be added to one and forgotten in another.

use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;

use super::values::*;

/// When a changed value takes effect on a running daemon (SIGHUP reload).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Apply {
    /// At once.
    Live,
    /// For tunnels/sessions set up after the reload; existing ones keep the old value.
    NewSessions,
    /// Only after a restart (sockets, devices, tables set up once at start).
    Restart,
}

/// Whether this daemon acts on a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Support {
    /// Acted on.
    Implemented,
    /// Accepted and reported once (when set to a non-default value): the feature is not
    /// implemented yet.
    NotImplemented,
    /// Accepted, reported, and without effect by design; the text says why.
    Superseded(&'static str),
}

/// Static facts about one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyInfo {
    pub name: &'static str,
    pub apply: Apply,
    pub support: Support,
    /// Secrets are never shown in diffs or logs.
    pub secret: bool,
}

macro_rules! config_keys {
    ($(
        $(#[$attr:meta])*
        $field:ident : $ty:ty = $default:expr, $parse:expr, $apply:ident, $support:expr, $secret:literal;
    )*) => {
        /// Every `set` key, typed, with the effective defaults of the original.
        #[derive(Debug, Clone, PartialEq)]
        #[allow(non_snake_case)] // `no_throttle_local_IP` is spelt so in the original
        pub struct Settings {
            $( $(#[$attr])* pub $field: $ty, )*
        }

        impl Default for Settings {
            fn default() -> Self {
                Self { $( $field: $default, )* }
            }
        }

        /// All keys, in the original's `config_values[]` order.
        pub const KEYS: &[KeyInfo] = &[
            $( KeyInfo { name: stringify!($field), apply: Apply::$apply, support: $support, secret: $secret }, )*
        ];

        impl Settings {
            /// Sets `key` from its textual `value`; `None` if there is no such key.
            pub(crate) fn set(&mut self, key: &str, value: &str) -> Option<Result<(), String>> {
                match key {
                    $( stringify!($field) => Some(($parse)(value).map(|v: $ty| self.$field = v)), )*
                    _ => None,
                }
            }

            /// The value of `key` in startup-config syntax; `None` if there is no such key.
            pub fn render(&self, key: &str) -> Option<String> {
                match key {
                    $( stringify!($field) => Some(Render::render(&self.$field)), )*
                    _ => None,
                }
            }
        }
    };
}

use Support::{Implemented, NotImplemented, Superseded};

config_keys! {
    /// 0–5: critical, error, warning, info, calls, packets. `-v` adds one.
    debug: u8 = 0, |v| int(v, 0, 5), Live, Implemented, false;
    log_file: LogTarget = LogTarget::Stderr, log_target, Live, Implemented, false;
    /// Written once at start, removed at exit.
    pid_file: Option<PathBuf> = None, |v| abs_path_opt(v, 255), Restart, Implemented, false;
    random_device: String = "/dev/urandom".into(), |v| string(v, 255), Live,
        Superseded("authenticators and challenges always come from the kernel CSPRNG (getrandom)"), false;
    /// Tunnel authentication secret and hidden-AVP key.
    l2tp_secret: String = String::new(), |v| string(v, 63), NewSessions, Implemented, true;
    /// 0 means 1500. MRU = mtu − 38; see [`Settings::mru`].
    l2tp_mtu: u16 = 1500, |v| int_zero_default(v, 576, 2600, 1500), NewSessions, Implemented, false;
    /// 0 (the effective default): MP is not offered.
    mp_mrru: u16 = 0, |v| int(v, 0, 65535), NewSessions, NotImplemented, false;
    ppp_restart_time: u32 = 3, |v| int(v, 1, 3600), NewSessions, Implemented, false;
    ppp_max_configure: u32 = 10, |v| int(v, 1, 255), NewSessions, Implemented, false;
    ppp_max_failure: u32 = 5, |v| int(v, 1, 255), NewSessions, Implemented, false;
    ppp_keepalive: bool = true, boolean, Live, Implemented, false;
    lcp_renegotiation: LcpRenegotiation = LcpRenegotiation::Always, lcp_renegotiation, NewSessions, Implemented, false;
    primary_dns: Ipv4Addr = Ipv4Addr::UNSPECIFIED, ipv4, NewSessions, Implemented, false;
    secondary_dns: Ipv4Addr = Ipv4Addr::UNSPECIFIED, ipv4, NewSessions, Implemented, false;
    primary_radius: Ipv4Addr = Ipv4Addr::UNSPECIFIED, ipv4, Live, Implemented, false;
    secondary_radius: Ipv4Addr = Ipv4Addr::UNSPECIFIED, ipv4, Live, Implemented, false;
    /// Authentication port; accounting uses port + 1.
    primary_radius_port: u16 = 1812, |v| int_zero_default(v, 1, 65534, 1812), Live, Implemented, false;
    /// `None`: the primary's port.
    secondary_radius_port: Option<u16> = None, |v| int(v, 0, 65534).map(|p: u16| Some(p).filter(|&p| p != 0)), Live, Implemented, false;
    /// Off since 2.3.0.
    radius_accounting: bool = false, boolean, Live, Implemented, false;
    /// Seconds between Interim-Updates, 0 = none.
    radius_interim: u32 = 0, |v| int(v, 0, 86400 * 7), Live, Implemented, false;
    /// Without a secret there is no RADIUS at all.
    radius_secret: String = String::new(), |v| string(v, 63), Live, Implemented, true;
    radius_require_message_authenticator: RequireMessageAuthenticator = RequireMessageAuthenticator::Auto,
        require_message_authenticator, Live, Implemented, false;
    radius_authtypes: Vec<AuthType> = vec![AuthType::Pap], auth_types, NewSessions, Implemented, false;
    /// Dynamic Authorization (RFC 5176 Disconnect / CoA) UDP port on `bind_address`; 0 turns
    /// it off (an extension: the original always listened).
    radius_dae_port: u16 = 3799, |v| int(v, 0, 65535), Restart, Implemented, false;
    radius_bind_min: u16 = 0, |v| int(v, 0, 65535), Restart, Implemented, false;
    radius_bind_max: u16 = 0, |v| int(v, 0, 65535), Restart, Implemented, false;
    allow_duplicate_users: bool = false, boolean, Live, Implemented, false;
    /// Drop the session when RADIUS says Session-Timeout = 0.
    kill_timedout_sessions: bool = true, boolean, Live, NotImplemented, false;
    /// Users exempt from the duplicate-user kill (comma or blank separated).
    guest_account: Vec<String> = Vec::new(), |v| name_list(v, 127), Live, Implemented, false;
    /// L2TP listen address, tun address, NAS-IP-Address.
    bind_address: Ipv4Addr = Ipv4Addr::UNSPECIFIED, ipv4, Restart, Implemented, false;
    /// Our IPCP address (the "gateway"); 0.0.0.0 = the tun address.
    peer_address: Ipv4Addr = Ipv4Addr::UNSPECIFIED, ipv4, NewSessions, Implemented, false;
    /// `None` (`::`): IPv6 off.
    ipv6_prefix: Option<Ipv6Addr> = None, ipv6_opt, Restart, NotImplemented, false;
    /// rtm_protocol of installed routes (a byte in rtnetlink).
    route_protocol: u8 = 42, |v| int(v, 0, 255), Restart, Implemented, false;
    route_metric: u32 = 1, |v| int(v, 0, u32::MAX.into()), Restart, Implemented, false;
    /// The code's default is no (the manual says yes).
    send_garp: bool = false, boolean, Live, NotImplemented, false;
    /// kbit/s; the code's default is 28 (the manual says 0).
    throttle_speed: u32 = 28, |v| int(v, 0, u32::MAX.into()), Live, Implemented, false;
    throttle_buckets: u32 = 6000, |v| int(v, 0, u32::MAX.into()), Restart,
        Superseded("no fixed table: throttle state is allocated per session"), false;
    /// Where the 5-minute usage dumps go (§7.4).
    accounting_dir: Option<PathBuf> = None, |v| abs_path_opt(v, 127), Live, Implemented, false;
    account_all_origin: bool = false, boolean, Live, Implemented, false;
    /// Log the bandwidth (the data plane's packets and octets each way) every second.
    dump_speed: bool = false, boolean, Live, Implemented, false;
    /// 0 means 10.
    multi_read_count: u32 = 10, |v| int_zero_default(v, 1, 100_000, 10), Live,
        Superseded("the data plane reads in batches (recvmmsg, multi-packet TUN reads) of its own size"), false;
    scheduler_fifo: bool = false, boolean, Restart, NotImplemented, false;
    lock_pages: bool = false, boolean, Restart, NotImplemented, false;
    /// ICMP host-unreachables per second, 0 = none.
    icmp_rate: u32 = 0, |v| int(v, 0, u32::MAX.into()), Live, Implemented, false;
    /// Downstream packets per 0.1 s per session, 0 = unlimited.
    packet_limit: u32 = 0, |v| int(v, 0, u32::MAX.into()), Live, NotImplemented, false;
    cluster_address: Ipv4Addr = Ipv4Addr::new(239, 192, 13, 13), ipv4, Restart, NotImplemented, false;
    cluster_port: u16 = 32792, |v| int(v, 1, 65535), Restart, NotImplemented, false;
    /// "" (since 2.5.0): no cluster.
    cluster_interface: String = String::new(), |v| string(v, 63), Restart, NotImplemented, false;
    cluster_mcast_ttl: u8 = 1, |v| int(v, 0, 255), Restart, NotImplemented, false;
    /// Tenths of a second.
    cluster_hb_interval: u32 = 5, |v| int(v, 1, 36000), Restart, NotImplemented, false;
    /// Tenths of a second; see [`Settings::cluster_hb_timeout`].
    cluster_hb_timeout: u32 = 150, |v| int(v, 1, 360000), Restart, NotImplemented, false;
    cluster_master_min_adv: u32 = 1, |v| int(v, 0, 32), Live, NotImplemented, false;
    /// The telnet CLI's address (port 23, `l2tpns --cli` overrides both). Deviation: the
    /// original listens on every address by default; this daemon on loopback only.
    cli_bind_address: Ipv4Addr = Ipv4Addr::LOCALHOST, ipv4, Restart, Implemented, false;
    /// `None`: the system host name without its domain.
    hostname: Option<String> = None, |v| string_opt(v, 255), NewSessions, Implemented, false;
    nexthop_address: Option<Ipv4Addr> = None, ipv4_opt, Restart, NotImplemented, false;
    nexthop6_address: Option<Ipv6Addr> = None, ipv6_opt, Restart, NotImplemented, false;
    /// Seconds without traffic before an LCP Echo-Request.
    echo_timeout: u32 = 10, |v| int(v, 1, 86400), Live, Implemented, false;
    /// Seconds without any packet from the user before the session is dropped.
    idle_echo_timeout: u32 = 240, |v| int(v, 1, 86400 * 7), Live, Implemented, false;
    /// `None`: bind_address (or 1.1.1.1 if that is unset too); see [`Settings::tun_address`].
    iftun_address: Option<Ipv4Addr> = None, ipv4_opt, Restart, Implemented, false;
    /// `None`: the kernel picks `tunN`.
    tundevicename: Option<String> = None, ifname_opt, Restart, Implemented, false;
    disable_lac_func: bool = false, boolean, Live,
        Superseded("LAC forwarding is not implemented, so it is always disabled"), false;
    auth_tunnel_change_addr_src: bool = false, boolean, Live, NotImplemented, false;
    bind_address_remotelns: Ipv4Addr = Ipv4Addr::UNSPECIFIED, ipv4, Restart, NotImplemented, false;
    bind_portremotelns: u16 = 65432, |v| int(v, 1, 65535), Restart, NotImplemented, false;
    /// `None`: PPPoE off.
    pppoe_if_to_bind: Option<String> = None, ifname_opt, Restart, NotImplemented, false;
    pppoe_service_name: String = String::new(), |v| string(v, 63), Live, NotImplemented, false;
    pppoe_ac_name: String = "l2tpns-pppoe".into(), |v| string(v, 63), Live, NotImplemented, false;
    /// No L2TP HELLO (for Apple clients).
    disable_sending_hello: bool = false, boolean, Live, Implemented, false;
    /// Turns off the upstream source-address check.
    disable_no_spoof: bool = false, boolean, Live, Implemented, false;
    /// Overrides bind_address/iftun_address; see [`Settings::bind_addresses`].
    bind_multi_address: Vec<Ipv4Addr> = Vec::new(), |v| ipv4_list(v, 255), Restart, Implemented, false;
    pppoe_only_equal_svc_name: bool = false, boolean, Live, NotImplemented, false;
    /// Host Names, indexed like bind_multi_address.
    multi_hostname: Vec<String> = Vec::new(), |v| name_list(v, 511), NewSessions, NotImplemented, false;
    no_throttle_local_IP: bool = false, boolean, Live, NotImplemented, false;
    /// 0 means infinite (0xffffffff).
    dhcp6_preferred_lifetime: u32 = u32::MAX, |v| int_zero_default(v, 1, u32::MAX.into(), u32::MAX.into()), Live, NotImplemented, false;
    /// 0 means infinite (0xffffffff).
    dhcp6_valid_lifetime: u32 = u32::MAX, |v| int_zero_default(v, 1, u32::MAX.into(), u32::MAX.into()), Live, NotImplemented, false;
    /// 0 means 0xFDFDFAFA.
    dhcp6_server_duid: u32 = 0xFDFD_FAFA, |v| int_zero_default(v, 1, u32::MAX.into(), 0xFDFD_FAFA), Live, NotImplemented, false;
    dns6_lifetime: u32 = 1200, |v| int(v, 0, u32::MAX.into()), Live, NotImplemented, false;
    primary_ipv6_dns: Option<Ipv6Addr> = None, ipv6_opt, Live, NotImplemented, false;
    secondary_ipv6_dns: Option<Ipv6Addr> = None, ipv6_opt, Live, NotImplemented, false;
    default_ipv6_domain_list: String = String::new(), |v| string(v, 254), Live, NotImplemented, false;
    kernel_accel: bool = false, boolean, Restart, NotImplemented, false;
    // Keys of the l2tpns manual that later versions dropped (reference §2: save_state went in
    // 2.1.0, setuid in 2.2.0): a config written from the manual loads. (`as_number`,
    // `bgp_peer1`, `bgp_peer1_as`, `bgp_peer2`, `bgp_peer2_as` are the `router bgp` /
    // `neighbour` statements under other names: see `BGP_KEYS`.)
    /// yes: SIGTERM saves the sessions and a restart within a minute resumes them; no: SIGTERM
    /// ends them as SIGQUIT does.
    save_state: bool = false, boolean, Live, Implemented, false;
    /// Run as this uid once the sockets are open (0: stay root), keeping only the capability
    /// the daemon still needs (CAP_NET_ADMIN, for routes).
    setuid: u32 = 0, uid, Restart, Implemented, false;
    /// Seconds between the original's sweeps for timed-out sessions.
    cleanup_interval: u32 = 10, |v| int(v, 1, 3600), Live,
        Superseded("every session has timers of its own: there is no sweep to schedule"), false;
    /// Where intercepted traffic goes by default (`snoop` without a target).
    snoop_host: Ipv4Addr = Ipv4Addr::UNSPECIFIED, ipv4, Live, Implemented, false;
    snoop_port: u16 = 0, |v| int(v, 0, 65535), Live, Implemented, false;
    // Extensions (not in the original).
    /// DAE clients allowed besides the RADIUS servers (comma or blank separated addresses),
    /// sharing `radius_secret`.
    radius_dae_clients: Vec<Ipv4Addr> = Vec::new(), |v| ipv4_list(v, 255), Live, Implemented, false;
    /// Discard Disconnect/CoA-Requests without a Message-Authenticator (RFC 5176 §3.4).
    radius_dae_require_message_authenticator: bool = true, boolean, Live, Implemented, false;
    /// An executable run (asynchronously) on each session's auth, up and down, with the
    /// session's attributes in its environment (`L2TPNS_*`), as pppd's ip-up.
    hook_script: Option<PathBuf> = None, |v| abs_path_opt(v, 255), Live, Implemented, false;
    /// Seconds a hook may run before it is killed.
    hook_timeout: u32 = 10, |v| int(v, 1, 3600), Live, Implemented, false;
    /// The iptables command the walled garden runs (`iptables-legacy`, `iptables-nft`).
    iptables: String = "iptables".to_owned(), |v| string(v, 127), Live, Implemented, false;
    /// The site's garden rules, a shell fragment run when the garden plugin loads.
    garden_script: PathBuf = PathBuf::from("/etc/l2tpns/build-garden"), |v| abs_path(v, 255), Live, Implemented, false;
    /// Packets a throttled session's bucket holds back, each way, before it drops (the
    /// original's fixed 2 slots are too few for TCP to keep to the rate).
    throttle_queue: u32 = 64, |v| int(v, 0, 4096), Live, Implemented, false;
    /// Data-plane worker threads, each with its own TUN queue and UDP socket (0: one per
    /// online core, 1: none, the control loop moves the packets); `l2tpns --workers` overrides.
    data_workers: u32 = 0, |v| int(v, 0, 256), Restart, Implemented, false;
}

/// The manual's BGP keys, read into [`super::BgpConfig`] like `router bgp AS` and
/// `neighbour PEER remote-as AS`.
pub const BGP_KEYS: &[&str] = &[
    "as_number",
    "bgp_peer1",
    "bgp_peer1_as",
    "bgp_peer2",
    "bgp_peer2_as",
];

/// The tun address when neither `iftun_address` nor `bind_address` is set (as the original).
pub const FALLBACK_TUN_ADDRESS: Ipv4Addr = Ipv4Addr::new(1, 1, 1, 1);

impl Settings {
    /// Our PPP MRU: `l2tp_mtu` − 38 (IP 20 + UDP 8 + L2TP 6 + PPP 4), at most 1492.
    pub fn mru(&self) -> u16 {
        (self.l2tp_mtu - 38).min(1492)
    }

    /// TCP MSS clamp for IPv4: MRU − 40.
    pub fn mss(&self) -> u16 {
        self.mru() - 40
    }

    pub fn secondary_radius_port(&self) -> u16 {
        self.secondary_radius_port
            .unwrap_or(self.primary_radius_port)
    }

    /// The configured RADIUS servers (0.0.0.0 entries left out) with their auth ports.
    pub fn radius_servers(&self) -> Vec<(Ipv4Addr, u16)> {
        [
            (self.primary_radius, self.primary_radius_port),
            (self.secondary_radius, self.secondary_radius_port()),
        ]
        .into_iter()
        .filter(|(a, _)| !a.is_unspecified())
        .collect()
    }

    /// Who may send Dynamic Authorization requests (all with `radius_secret`): the RADIUS
    /// servers, then `radius_dae_clients`, each once. Empty without a secret, or when
    /// `radius_dae_port` is 0.
    pub fn dae_clients(&self) -> Vec<Ipv4Addr> {
        if self.radius_secret.is_empty() || self.radius_dae_port == 0 {
            return Vec::new();
        }
        let mut out: Vec<Ipv4Addr> = Vec::new();
        let servers = self.radius_servers().into_iter().map(|(a, _)| a);
        for a in servers.chain(self.radius_dae_clients.iter().copied()) {
            if !out.contains(&a) {
                out.push(a);
            }
        }
        out
    }

    /// The L2TP listen addresses: `bind_multi_address` if set, else `bind_address`
    /// (0.0.0.0 = all).
    pub fn bind_addresses(&self) -> Vec<Ipv4Addr> {
        if self.bind_multi_address.is_empty() {
            vec![self.bind_address]
        } else {
            self.bind_multi_address.clone()
        }
    }

    /// The address on the tun device and the IPCP gateway default.
    pub fn tun_address(&self) -> Ipv4Addr {
        self.iftun_address
            .or_else(|| self.bind_multi_address.first().copied())
            .or(Some(self.bind_address).filter(|a| !a.is_unspecified()))
            .unwrap_or(FALLBACK_TUN_ADDRESS)
    }

    /// The address offered to peers in our IPCP ConfReq.
    pub fn ipcp_gateway(&self) -> Ipv4Addr {
        Some(self.peer_address)
            .filter(|a| !a.is_unspecified())
            .unwrap_or_else(|| self.tun_address())
    }

    /// The L2TP Host Name for tunnels arriving on `bind` (`multi_hostname` by position, else
    /// `hostname`, else `system` — the OS host name without its domain).
    pub fn host_name_for<'a>(&'a self, bind: Ipv4Addr, system: &'a str) -> &'a str {
        if let Some(i) = self.bind_multi_address.iter().position(|&a| a == bind) {
            if let Some(h) = self.multi_hostname.get(i) {
                return h;
            }
        }
        self.hostname.as_deref().unwrap_or(system)
    }

    /// The election timeout in tenths of a second: at least 4 × interval + 11, as the original
    /// forces it.
    pub fn cluster_hb_timeout(&self) -> u32 {
        self.cluster_hb_timeout.max(
            self.cluster_hb_interval
                .saturating_mul(4)
                .saturating_add(11),
        )
    }

    /// The RADIUS client source port range, if one is configured.
    pub fn radius_bind_range(&self) -> Option<(u16, u16)> {
        (self.radius_bind_min != 0 || self.radius_bind_max != 0)
            .then_some((self.radius_bind_min, self.radius_bind_max))
    }
}

/// The static facts about `name`, if it is a key.
pub fn key_info(name: &str) -> Option<&'static KeyInfo> {
    KEYS.iter().find(|k| k.name == name)
}
