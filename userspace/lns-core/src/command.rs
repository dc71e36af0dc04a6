//! One command model for every management interface: nsctl today, the telnet CLI, RADIUS
//! DAE and the cluster later. An interface parses its own syntax into a [`Command`], the
//! endpoint answers with a typed [`Reply`], and the interface renders that as text
//! ([`Reply::lines`]) or JSON (`Reply` is `Serialize`).

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};

use l2tp::{SessionId, TunnelId};
use serde::Serialize;

pub use crate::policy::{Policy, Rates};
use crate::session::TerminateCause;

/// Which session a command is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The session's number (NAS-Port, the `session N` of the logs).
    Session(u32),
    /// A user's session (the oldest when there are several).
    User(String),
}

/// Which sessions a command names by their attributes (RFC 5176 §3's session identification:
/// RADIUS DAE, and any interface that selects sessions so). A session matches when it has
/// an address and every field given equals its own; a match with no field names nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionMatch {
    /// The session's number (NAS-Port in our Access-Requests).
    pub session: Option<u32>,
    pub user: Option<String>,
    /// Acct-Session-Id as we send it (16 hex digits).
    pub acct_session_id: Option<String>,
    pub address: Option<Ipv4Addr>,
    pub calling_station: Option<Vec<u8>>,
    pub called_station: Option<Vec<u8>>,
}

impl SessionMatch {
    pub fn is_empty(&self) -> bool {
        *self == SessionMatch::default()
    }
}

/// Changes to live sessions' authorization (RFC 5176 CoA). A field left `None` is kept;
/// `Some(0)` removes the limit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionChanges {
    /// Seconds from now until the session ends (Acct-Terminate-Cause Session-Timeout).
    pub session_timeout: Option<u32>,
    /// Seconds without data from the user before the session ends.
    pub idle_timeout: Option<u32>,
    /// The request's policy attributes, when it has any: the plugins' reset, then its
    /// `Filter-Id`s (none given = no filter) and its Cisco-AVPairs, as the original applies a
    /// CoA.
    pub policy: Option<PolicyAttributes>,
}

/// The policy attributes of an Access-Accept or a CoA-Request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PolicyAttributes {
    /// `Filter-Id` texts (`NAME.in`, `NAME.out`).
    pub filter_ids: Vec<Vec<u8>>,
    /// Cisco-AVPair texts (`key=value`).
    pub avpairs: Vec<Vec<u8>>,
}

impl PolicyAttributes {
    pub fn is_empty(&self) -> bool {
        self.filter_ids.is_empty() && self.avpairs.is_empty()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// End a session politely: LCP Terminate-Request, then Acct-Stop and CDN once PPP is
    /// down. Acct-Terminate-Cause Admin-Reset.
    DropSession {
        target: Target,
        reason: Option<String>,
    },
    /// End a session at once: Acct-Stop and CDN, no LCP. Admin-Reset.
    KillSession {
        target: Target,
        reason: Option<String>,
    },
    /// End every session `sessions` names at once: Acct-Stop (Admin-Reset) and CDN, no LCP
    /// (RFC 5176 Disconnect-Request: the ACK means the sessions are gone).
    DisconnectSessions {
        sessions: SessionMatch,
        reason: Option<String>,
    },
    /// Apply `changes` to every session `sessions` names (RFC 5176 CoA-Request).
    ChangeSessions {
        sessions: SessionMatch,
        changes: SessionChanges,
    },
    /// Throttle a session (kbit/s each way; no rate given: `throttle_speed` both ways).
    Throttle {
        target: Target,
        rates: Rates,
    },
    Unthrottle {
        target: Target,
    },
    /// Copy every packet of a session to `to` (none: `snoop_host:snoop_port`).
    Snoop {
        target: Target,
        to: Option<SocketAddrV4>,
    },
    Unsnoop {
        target: Target,
    },
    /// Apply access lists (by name) to a session's traffic from (`inbound`) and to the user.
    Filter {
        target: Target,
        inbound: Option<String>,
        outbound: Option<String>,
    },
    Unfilter {
        target: Target,
    },
    /// Put a session into the walled garden.
    Garden {
        target: Target,
    },
    /// Take a session out of the walled garden, optionally under another user name.
    Ungarden {
        target: Target,
        user: Option<String>,
    },
    /// `load plugin NAME` / nsctl `load_plugin`.
    LoadPlugin(String),
    /// `remove plugin NAME` / nsctl `unload_plugin`.
    RemovePlugin(String),
    ShowPlugins,
    /// The access lists (or the one named) with each rule's match count.
    ShowAccessLists {
        name: Option<String>,
    },
    /// The throttled sessions and their buckets' figures.
    ShowThrottle,
    /// Clear a tunnel with StopCCN and end each of its sessions.
    DropTunnel {
        tunnel: TunnelId,
    },
    ShowSessions,
    /// At most `limit` sessions with an id of at least `from`, in id order, and where the
    /// next page starts: a listing of 100 000 sessions in pieces that each cost their size.
    ShowSessionsPage {
        from: u32,
        limit: usize,
    },
    ShowSession(u32),
    ShowTunnels,
    /// The users with a session, and how many each has.
    ShowUsers,
    ShowPool,
    /// The pool's addresses: those in use, or `all` of them, with their session and user.
    ShowPoolAddresses {
        all: bool,
    },
    ShowRadius,
    ShowCounters,
    /// `clear counters`: the endpoint's counters start again from zero.
    ClearCounters,
    /// The running configuration as startup-config text.
    ShowRunningConfig,
    /// `set KEY VALUE`, as a startup-config line would.
    Set {
        key: String,
        value: String,
    },
    /// A configuration the daemon read and parsed (SIGHUP, `reload`).
    Reload(Box<lns_config::config::Config>),
}

/// Why a command was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
pub enum CommandError {
    #[error("session not found")]
    NoSuchSession,
    #[error("tunnel {0} not found")]
    NoSuchTunnel(TunnelId),
    #[error("{0}")]
    BadSetting(String),
    #[error("access-list {0} not found")]
    NoSuchAccessList(String),
    #[error("session is not in the walled garden")]
    NotGardened,
    #[error("{0}")]
    Plugin(String),
    /// An nsctl command that a plugin provides, with that plugin not loaded.
    #[error("{command}: plugin {plugin} is not loaded (load plugin \"{plugin}\")")]
    NeedsPlugin {
        command: String,
        plugin: &'static str,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SessionInfo {
    pub id: u32,
    pub tunnel: TunnelId,
    pub call: SessionId,
    pub user: String,
    pub address: Option<Ipv4Addr>,
    pub peer: SocketAddr,
    pub calling_station: String,
    /// Seconds since IPCP came up (`None` before).
    pub up_for: Option<u64>,
    /// Seconds since the last frame or packet from the user (`None`: none yet).
    pub idle: Option<u64>,
    pub octets_in: u64,
    pub octets_out: u64,
    pub packets_in: u64,
    pub packets_out: u64,
    pub acct_session_id: String,
    /// The L2TP connect speeds (bit/s) the LAC reported in its ICCN (RFC 2661 §4.4.5, AVPs 24
    /// and 38), the receive one possibly filled in by the setrxspeed plugin.
    pub tx_connect_speed: Option<u32>,
    pub rx_connect_speed: Option<u32>,
    pub policy: Policy,
    /// The throttle buckets' figures, (to the user, from the user), when throttled.
    pub throttle: Option<ThrottleFigures>,
}

/// What a throttled session's buckets did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ThrottleFigures {
    /// Packets from the user the bucket let through (at once or held back first), of them
    /// held back, and dropped over the rate with the queue full.
    pub in_passed: u64,
    pub in_delayed: u64,
    pub in_dropped: u64,
    /// Packets to the user.
    pub out_passed: u64,
    pub out_delayed: u64,
    pub out_dropped: u64,
}

/// One access list with its rules and how often each matched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccessListInfo {
    pub name: String,
    pub extended: bool,
    /// Each rule's text and its match count.
    pub rules: Vec<(String, u64)>,
    /// Packets no rule matched (the implicit deny).
    pub implicit_deny: u64,
}

impl SessionInfo {
    /// The session as one text line (nsctl): id, tunnel, user, address, seconds up, octets
    /// to and from the user, the LAC's address.
    pub fn line(&self) -> String {
        format!(
            "{} {} {} {} {} {} {} {}",
            self.id,
            self.tunnel,
            if self.user.is_empty() {
                "*"
            } else {
                &self.user
            },
            self.address.map_or("*".to_owned(), |a| a.to_string()),
            self.up_for.map_or("-".to_owned(), |t| t.to_string()),
            self.octets_out,
            self.octets_in,
            self.peer.ip(),
        )
    }
}

impl AccessListInfo {
    /// The list as `show access-list` prints it: its header, then each rule with its matches.
    pub fn lines(&self) -> Vec<String> {
        let mut l = vec![format!(
            "{} IP access list {}",
            if self.extended {
                "Extended"
            } else {
                "Standard"
            },
            self.name
        )];
        for (rule, n) in &self.rules {
            l.push(format!(
                "    {rule} ({n} match{})",
                if *n == 1 { "" } else { "es" }
            ));
        }
        l.push(format!(
            "    implicit deny ({} packets)",
            self.implicit_deny
        ));
        l
    }
}

impl TunnelInfo {
    /// The tunnel as one text line (nsctl): id, the LAC's address and port, its sessions.
    pub fn line(&self) -> String {
        format!("{} {} {}", self.id, self.peer, self.sessions)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TunnelInfo {
    pub id: TunnelId,
    pub peer: SocketAddr,
    pub sessions: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PoolInfo {
    pub size: usize,
    pub free: usize,
}

/// One address of [`Command::ShowPoolAddresses`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PoolAddress {
    pub address: Ipv4Addr,
    pub in_use: bool,
    /// The session holding it, if one does.
    pub session: Option<u32>,
    /// Its session's user, or (free) the user it stays sticky to.
    pub user: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RadiusInfo {
    pub servers: Vec<SocketAddr>,
    pub authentication_in_flight: usize,
    pub accounting_in_flight: usize,
    /// The authentication and accounting clients' figures (none without RADIUS).
    pub clients: Vec<RadiusClientInfo>,
}

/// One RADIUS client's figures since start, for `show radius`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RadiusClientInfo {
    /// "authentication" or "accounting".
    pub kind: &'static str,
    pub requests: u64,
    pub retransmits: u64,
    pub responses: u64,
    pub timeouts: u64,
    /// Mean round trip of the requests answered at their first send, in microseconds.
    pub mean_rtt_us: Option<u64>,
}

impl RadiusClientInfo {
    pub fn of(kind: &'static str, s: &radius::Stats) -> Self {
        RadiusClientInfo {
            kind,
            requests: s.requests,
            retransmits: s.retransmits,
            responses: s.responses,
            timeouts: s.timeouts,
            mean_rtt_us: (s.rtt.count > 0)
                .then(|| (s.rtt.sum.as_micros() / u128::from(s.rtt.count)) as u64),
        }
    }
}

/// A session ended by a command: what the log and the operator see.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ended {
    pub id: u32,
    pub user: String,
    pub cause: TerminateCause,
    /// What the LCP Terminate-Request said (the operator's words, or a default).
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Reply {
    Ended(Ended),
    /// The sessions a [`Command::DisconnectSessions`] ended.
    EndedSessions(Vec<Ended>),
    /// The sessions a [`Command::ChangeSessions`] changed, by number.
    Changed(Vec<u32>),
    TunnelCleared {
        tunnel: TunnelId,
        sessions: usize,
    },
    Sessions(Vec<SessionInfo>),
    /// One page of [`Command::ShowSessionsPage`]; `next` is the `from` of the next page.
    SessionsPage {
        sessions: Vec<SessionInfo>,
        next: Option<u32>,
    },
    Tunnels(Vec<TunnelInfo>),
    Users(Vec<(String, usize)>),
    Pool(PoolInfo),
    PoolAddresses {
        summary: PoolInfo,
        addresses: Vec<PoolAddress>,
    },
    Radius(RadiusInfo),
    Counters(Vec<(String, u64)>),
    /// `clear counters` done.
    CountersCleared,
    RunningConfig(String),
    /// The keys whose values changed, and those that need a restart to take effect.
    Reconfigured {
        changed: Vec<String>,
        need_restart: Vec<String>,
    },
    /// A session's policy after a change.
    Policy {
        id: u32,
        user: String,
        policy: Policy,
    },
    /// The loaded plugins, in load order.
    Plugins(Vec<String>),
    AccessLists(Vec<AccessListInfo>),
    Error(CommandError),
}

impl Reply {
    pub fn is_error(&self) -> bool {
        matches!(self, Reply::Error(_))
    }

    /// The reply as text lines, for nsctl and the CLI.
    pub fn lines(&self) -> Vec<String> {
        match self {
            Reply::Ended(_) => Vec::new(),
            Reply::EndedSessions(list) => list
                .iter()
                .map(|e| format!("session {} ({}) ended: {}", e.id, e.user, e.reason))
                .collect(),
            Reply::Changed(ids) => ids
                .iter()
                .map(|id| format!("session {id} changed"))
                .collect(),
            Reply::TunnelCleared { tunnel, sessions } => {
                vec![format!("tunnel {tunnel} cleared ({sessions} session(s))")]
            }
            Reply::Sessions(list) | Reply::SessionsPage { sessions: list, .. } => {
                list.iter().map(SessionInfo::line).collect()
            }
            Reply::Tunnels(list) => list.iter().map(TunnelInfo::line).collect(),
            Reply::Users(list) => list.iter().map(|(u, n)| format!("{u} {n}")).collect(),
            Reply::Pool(p) => vec![format!("pool {} address(es), {} free", p.size, p.free)],
            Reply::PoolAddresses { summary, addresses } => addresses
                .iter()
                .map(|a| {
                    format!(
                        "{} {} {} {}",
                        a.address,
                        if a.in_use { "used" } else { "free" },
                        a.session.map_or("-".to_owned(), |s| s.to_string()),
                        a.user.as_deref().unwrap_or("-")
                    )
                })
                .chain(std::iter::once(format!(
                    "pool {} address(es), {} free",
                    summary.size, summary.free
                )))
                .collect(),
            Reply::Radius(r) => vec![format!(
                "servers {} authentication in flight {} accounting in flight {}",
                r.servers
                    .iter()
                    .map(|s| s.to_string())
                    .collect::<Vec<_>>()
                    .join(","),
                r.authentication_in_flight,
                r.accounting_in_flight
            )],
            // One `name=value` per line, as in the log's "counters:" line.
            Reply::Counters(c) => c.iter().map(|(k, v)| format!("{k}={v}")).collect(),
            Reply::CountersCleared => vec!["counters cleared".to_owned()],
            Reply::RunningConfig(text) => text.lines().map(str::to_owned).collect(),
            Reply::Reconfigured {
                changed,
                need_restart,
            } => {
                let mut l = vec![if changed.is_empty() {
                    "nothing changed".to_owned()
                } else {
                    format!("changed: {}", changed.join(" "))
                }];
                if !need_restart.is_empty() {
                    l.push(format!(
                        "take effect at restart: {}",
                        need_restart.join(" ")
                    ));
                }
                l
            }
            Reply::Policy { id, user, policy } => vec![format!(
                "session {id} ({user}): {}",
                crate::policy::describe(policy)
            )],
            Reply::Plugins(names) => names.clone(),
            Reply::AccessLists(lists) => lists.iter().flat_map(AccessListInfo::lines).collect(),
            Reply::Error(e) => vec![e.to_string()],
        }
    }
}
