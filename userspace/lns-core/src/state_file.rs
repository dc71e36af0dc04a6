//! The state file: what SIGTERM saves so that a restart within [`MAX_AGE`] resumes every
//! session without the LACs noticing (the l2tpns manual's `save_state`, which the original
//! dropped in 2.1.0).
//!
//! # Wiring (for the control loop)
//!
//! On SIGTERM, after the last batch of datagrams was handled:
//! 1. `let tunnels = engine.snapshot();` ([`l2tp::Engine::snapshot`]: established tunnels and
//!    calls only).
//! 2. For each session whose call is in those tunnels, `sess.link.snapshot()`
//!    ([`ppp::session::Session::snapshot`]); a link that is not opened yet returns
//!    `Err(NotResumable)` and is left out (logged at debug level: the LAC redials it).
//!    Fill a [`SavedSession`] from the session record, its routes and its counters
//!    ([`SavedCounters::of`]).
//! 3. `let state = SavedState::new(tunnels, sessions, pool.snapshot(), SystemTime::now(),
//!    boot_id)` with the kernel's boot id, then [`encode`] it and write it atomically as
//!    [`FILE_NAME`] in [`DEFAULT_DIR`] (the daemon's `lns::state_io::save`: this crate does
//!    no I/O). Exit without StopCCN/CDN and without Acct-Stop; keep the
//!    routes and the TUN device's addresses as they are (the new process re-adds them
//!    idempotently).
//!
//! At start, after the configuration, the pool, the sockets and the TUN device are ready and
//! before the first datagram is read:
//! 1. Read and remove the file, then [`decode`] it and [`check_fresh`] its header (the
//!    daemon's `lns::state_io::load`): no file = start fresh; an error = log it at warning
//!    level (it says why: too old, other boot, other format version, corrupt...) and start
//!    fresh; a state = resume. The file is gone from disk in every case once it was read, so
//!    a crash while resuming never resumes twice.
//! 2. `pool.restore(&state.pool)` ([`crate::ip_pool::IpPool::restore`]).
//! 3. For each tunnel: `engine.resume(now, t)` ([`l2tp::Engine::resume`]).
//! 4. For each session: `ppp::session::Session::resume(config, seed, s.ppp, now)` with the
//!    same `SessionConfig` a new session gets; [`SavedSession::claim_address`] on the pool;
//!    insert it into the session table, set address/user/routes, publish its data path
//!    (MRU, ACFC, PFC from `s.ppp.lcp`), add its routes, restore counters
//!    ([`SavedCounters::restore_into`]) and timers ([`SavedSession::session_deadline`],
//!    interim from now).
//!    Accounting continues: no new Acct-Start (the RADIUS session is the same one; its
//!    Acct-Session-Time counts from `opened_at_unix`). If any step fails for a session, close
//!    it the ordinary way (CDN + Acct-Stop), which the LAC sees as a normal disconnect.
//!
//! # Format
//!
//! A fixed prefix: [`MAGIC`], the format version (u32 LE, checked before anything else is
//! decoded), the body length (u64 LE) and the body's CRC-32 (u32 LE); then the body, a
//! [`SavedState`] in postcard (serde's compact varint encoding). A change of [`SavedState`]
//! or of any snapshot type it contains must bump [`FORMAT_VERSION`]: a restart across an
//! upgrade then starts fresh instead of misreading the file.

use std::io;
use std::net::{Ipv4Addr, SocketAddrV4};

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use l2tp::{SessionId, TunnelId};
use serde::{Deserialize, Serialize};

use crate::ip_pool::{IpPool, PoolError, PoolSnapshot};
use crate::session_table::SessionCounters;

/// Where the daemon keeps its state file.
pub const DEFAULT_DIR: &str = "/var/lib/l2tpns";
/// The state file's name in that directory (the original's `state.dump`).
pub const FILE_NAME: &str = "state.dump";
/// The first bytes of every state file.
pub const MAGIC: &[u8; 12] = b"l2tpns-save\n";
/// Bumped on every change of the encoded types.
pub const FORMAT_VERSION: u32 = 2;
/// A file older than this is not resumed: the LACs have given up on us by then (their
/// control retransmissions last about 30 s, RFC 2661 §5.8), so resuming would only produce
/// sessions that exist on one side.
pub const MAX_AGE: Duration = Duration::from_secs(60);
/// How far in the future a file's time may be (clock adjustments) before it is refused.
const MAX_CLOCK_SKEW: Duration = Duration::from_secs(5);
const PREFIX_LEN: usize = MAGIC.len() + 4 + 8 + 4;

/// Who wrote the file, when, on which boot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    /// The writer's package version (diagnostics only: compatibility is [`FORMAT_VERSION`]).
    pub writer_version: String,
    /// Wall-clock time of the save, in milliseconds since the Unix epoch.
    pub saved_at_unix_ms: u64,
    /// `/proc/sys/kernel/random/boot_id` at the save: the TUN device, routes and UDP sockets
    /// of another boot are gone, so such a file is never resumed.
    pub boot_id: String,
}

/// Where a session's address came from, so it goes back to the right place at the end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AddressSource {
    /// Allocated from the pool.
    Pool,
    /// RADIUS Framed-IP-Address that lies inside the pool (reserved).
    ReservedInPool,
    /// RADIUS Framed-IP-Address outside the pool.
    Static,
}

/// Per-session counters (the data plane's `SessionCounters`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedCounters {
    pub packets_in: u64,
    pub octets_in: u64,
    pub packets_out: u64,
    pub octets_out: u64,
}

/// One session: its L2TP call (inside the tunnel snapshots, found by `tunnel`/`session`),
/// its PPP link, and what RADIUS and accounting need to carry on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedSession {
    /// Our tunnel id.
    pub tunnel: TunnelId,
    /// Our session id in that tunnel.
    pub session: SessionId,
    /// The PPP link.
    pub ppp: ppp::snapshot::SessionSnapshot,
    /// The LAC's address and which of our UDP sockets (bind addresses) the tunnel uses.
    pub peer: SocketAddrV4,
    pub socket: u16,
    pub calling_station: Option<Vec<u8>>,
    pub called_station: Option<Vec<u8>>,
    pub user: String,
    pub address: Option<(Ipv4Addr, AddressSource)>,
    pub dns: [Option<Ipv4Addr>; 2],
    /// Framed-Route prefixes routed to the session.
    pub routes: Vec<(Ipv4Addr, u8)>,
    /// RADIUS Class attributes, echoed in accounting.
    pub class: Vec<Vec<u8>>,
    pub acct_session_id: String,
    /// Session-Timeout left at the save (the downtime counts: subtract
    /// [`SavedState::elapsed`]).
    pub session_timeout_left: Option<Duration>,
    pub idle_timeout: Option<Duration>,
    /// Acct-Interim-Interval.
    pub interim: Option<Duration>,
    /// When IPCP came up, wall clock (seconds since the Unix epoch): Acct-Session-Time.
    pub opened_at_unix: Option<u64>,
    /// Octets already written to an `accounting_dir` dump (in, out).
    pub dumped: (u64, u64),
    pub counters: SavedCounters,
    /// Throttled, intercepted, filtered or gardened: it stays so after the restart.
    pub policy: crate::policy::Policy,
}

/// Everything the file holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedState {
    pub header: Header,
    pub tunnels: Vec<l2tp::TunnelSnapshot>,
    pub sessions: Vec<SavedSession>,
    pub pool: PoolSnapshot,
}

/// Why a state file was not resumed. Every variant is worth a warning in the log: the
/// daemon starts fresh and the LACs redial.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("not a state file (bad magic)")]
    NotAStateFile,
    #[error("state file format {found}, this version reads format {FORMAT_VERSION}")]
    FormatVersion { found: u32 },
    #[error("state file is corrupt: {0}")]
    Corrupt(String),
    #[error("state file is inconsistent: {0}")]
    Invalid(String),
    #[error("state file is from another boot ({saved}, now {current}): tunnels, routes and TUN are gone")]
    OtherBoot { saved: String, current: String },
    #[error("state file is {}s old (limit {}s): the LACs have given up", age.as_secs(), MAX_AGE.as_secs())]
    TooOld { age: Duration },
    #[error("state file is dated {}s in the future: the clock moved, its age is unknown", ahead.as_secs())]
    FromTheFuture { ahead: Duration },
}

impl SavedState {
    /// A state saved at `now` on boot `boot_id`.
    pub fn new(
        tunnels: Vec<l2tp::TunnelSnapshot>,
        sessions: Vec<SavedSession>,
        pool: PoolSnapshot,
        now: SystemTime,
        boot_id: &str,
    ) -> Self {
        SavedState {
            header: Header {
                writer_version: env!("CARGO_PKG_VERSION").to_owned(),
                saved_at_unix_ms: unix_ms(now),
                boot_id: boot_id.to_owned(),
            },
            tunnels,
            sessions,
            pool,
        }
    }

    /// Time since the save (zero if the clock went backwards a little).
    pub fn elapsed(&self, now: SystemTime) -> Duration {
        Duration::from_millis(unix_ms(now).saturating_sub(self.header.saved_at_unix_ms))
    }

    /// Checks what resuming relies on: valid tunnel snapshots with unique ids, every session
    /// on an established call of a saved tunnel (once), unique session addresses, and valid
    /// route prefixes.
    pub fn validate(&self) -> Result<(), LoadError> {
        use std::collections::HashSet;
        let mut calls = HashSet::new();
        let mut tunnels = HashSet::new();
        for t in &self.tunnels {
            t.validate()
                .map_err(|e| LoadError::Invalid(e.to_string()))?;
            if !tunnels.insert(t.id) {
                return Err(LoadError::Invalid(format!("tunnel {} appears twice", t.id)));
            }
            calls.extend(t.sessions.iter().map(|s| (t.id, s.id)));
        }
        let mut seen = HashSet::new();
        let mut addresses = HashSet::new();
        for s in &self.sessions {
            let ids = (s.tunnel, s.session);
            let what = format!("session {} of tunnel {}", s.session, s.tunnel);
            if !calls.contains(&ids) {
                return Err(LoadError::Invalid(format!("{what} has no saved call")));
            }
            if !seen.insert(ids) {
                return Err(LoadError::Invalid(format!("{what} appears twice")));
            }
            if let Some((a, _)) = s.address {
                if !addresses.insert(a) {
                    return Err(LoadError::Invalid(format!("{what}: {a} is used twice")));
                }
            }
            for &(prefix, len) in &s.routes {
                let host_bits = u32::from(prefix).checked_shl(u32::from(len)).unwrap_or(0);
                if len > 32 || host_bits != 0 {
                    return Err(LoadError::Invalid(format!(
                        "{what}: route {prefix}/{len} is not a prefix"
                    )));
                }
            }
        }
        Ok(())
    }
}

impl SavedCounters {
    /// A copy of the data plane's counters (relaxed reads: the data plane is stopped).
    pub fn of(c: &SessionCounters) -> Self {
        SavedCounters {
            packets_in: c.packets_in.load(Ordering::Relaxed),
            octets_in: c.octets_in.load(Ordering::Relaxed),
            packets_out: c.packets_out.load(Ordering::Relaxed),
            octets_out: c.octets_out.load(Ordering::Relaxed),
        }
    }

    /// Puts the saved counts into a resumed session's counters, so accounting continues.
    pub fn restore_into(&self, c: &SessionCounters) {
        c.packets_in.store(self.packets_in, Ordering::Relaxed);
        c.octets_in.store(self.octets_in, Ordering::Relaxed);
        c.packets_out.store(self.packets_out, Ordering::Relaxed);
        c.octets_out.store(self.octets_out, Ordering::Relaxed);
    }
}

impl SavedSession {
    /// The Session-Timeout deadline on the new process's clock: the time left at the save
    /// minus the downtime (`elapsed` = [`SavedState::elapsed`]); a session whose time ran out
    /// meanwhile gets `now` (it ends at once, the ordinary way).
    pub fn session_deadline(&self, now: Instant, elapsed: Duration) -> Option<Instant> {
        self.session_timeout_left
            .map(|left| now + left.saturating_sub(elapsed))
    }

    /// Takes the session's address back from a pool restored with
    /// [`IpPool::restore`] (a static address outside the pool needs nothing).
    pub fn claim_address(&self, pool: &mut IpPool) -> Result<(), PoolError> {
        match self.address {
            Some((a, AddressSource::Pool)) => pool.assign_specific(a, Some(&self.user)),
            Some((a, AddressSource::ReservedInPool)) => pool.reserve(a).map(|_| ()),
            Some((_, AddressSource::Static)) | None => Ok(()),
        }
    }
}

fn unix_ms(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// The file's bytes.
pub fn encode(state: &SavedState) -> Vec<u8> {
    // Serializing plain data into a Vec cannot fail (postcard fails only on a full buffer
    // or on types serde cannot express, neither of which exists here).
    let body = postcard::to_stdvec(state).expect("state serializes");
    let mut out = Vec::with_capacity(PREFIX_LEN + body.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&(body.len() as u64).to_le_bytes());
    out.extend_from_slice(&crc32fast::hash(&body).to_le_bytes());
    out.extend_from_slice(&body);
    out
}

/// Parses and checks a file's bytes (not its age or boot: see [`check_fresh`]).
pub fn decode(bytes: &[u8]) -> Result<SavedState, LoadError> {
    if bytes.len() < MAGIC.len() || &bytes[..MAGIC.len()] != MAGIC {
        return Err(LoadError::NotAStateFile);
    }
    let field = |at: usize, n: usize| bytes.get(at..at + n);
    let version =
        field(MAGIC.len(), 4).ok_or_else(|| LoadError::Corrupt("truncated header".into()))?;
    let found = u32::from_le_bytes(version.try_into().expect("4 bytes"));
    if found != FORMAT_VERSION {
        return Err(LoadError::FormatVersion { found });
    }
    let (Some(len), Some(crc)) = (field(MAGIC.len() + 4, 8), field(MAGIC.len() + 12, 4)) else {
        return Err(LoadError::Corrupt("truncated header".into()));
    };
    let len = u64::from_le_bytes(len.try_into().expect("8 bytes"));
    let crc = u32::from_le_bytes(crc.try_into().expect("4 bytes"));
    let body = &bytes[PREFIX_LEN..];
    if body.len() as u64 != len {
        return Err(LoadError::Corrupt(format!(
            "body is {} bytes, header says {len}",
            body.len()
        )));
    }
    if crc32fast::hash(body) != crc {
        return Err(LoadError::Corrupt("checksum mismatch".into()));
    }
    decode_body(body)
}

/// The body alone (after the prefix was checked): postcard, then [`SavedState::validate`].
pub fn decode_body(body: &[u8]) -> Result<SavedState, LoadError> {
    let (state, rest) = postcard::take_from_bytes::<SavedState>(body)
        .map_err(|e| LoadError::Corrupt(e.to_string()))?;
    if !rest.is_empty() {
        return Err(LoadError::Corrupt(format!(
            "{} bytes after the state",
            rest.len()
        )));
    }
    state.validate()?;
    Ok(state)
}

/// Whether a decoded state may be resumed at `now` on boot `boot_id`.
pub fn check_fresh(header: &Header, now: SystemTime, boot_id: &str) -> Result<(), LoadError> {
    if header.boot_id != boot_id {
        return Err(LoadError::OtherBoot {
            saved: header.boot_id.clone(),
            current: boot_id.to_owned(),
        });
    }
    let now_ms = unix_ms(now);
    if header.saved_at_unix_ms > now_ms {
        let ahead = Duration::from_millis(header.saved_at_unix_ms - now_ms);
        if ahead > MAX_CLOCK_SKEW {
            return Err(LoadError::FromTheFuture { ahead });
        }
    }
    let age = Duration::from_millis(now_ms.saturating_sub(header.saved_at_unix_ms));
    if age > MAX_AGE {
        return Err(LoadError::TooOld { age });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_and_deadlines_carry_over() {
        let live = SessionCounters::default();
        live.count_in(100, 1);
        live.count_in(50, 2);
        live.count_out(1400);
        let saved = SavedCounters::of(&live);
        assert_eq!((saved.packets_in, saved.octets_in), (2, 150));
        assert_eq!((saved.packets_out, saved.octets_out), (1, 1400));
        let resumed = SessionCounters::default();
        saved.restore_into(&resumed);
        assert_eq!(SavedCounters::of(&resumed), saved);

        let now = Instant::now();
        let mut s = SavedSession {
            tunnel: l2tp::TunnelId(1),
            session: l2tp::SessionId(1),
            ppp: ppp_snapshot(),
            peer: "192.0.2.1:1701".parse().unwrap(),
            socket: 0,
            calling_station: None,
            called_station: None,
            user: "u".into(),
            address: None,
            dns: [None, None],
            routes: Vec::new(),
            class: Vec::new(),
            acct_session_id: String::new(),
            session_timeout_left: Some(Duration::from_secs(30)),
            idle_timeout: None,
            interim: None,
            opened_at_unix: None,
            dumped: (0, 0),
            counters: saved,
            policy: crate::policy::Policy::default(),
        };
        let ten = Duration::from_secs(10);
        assert_eq!(
            s.session_deadline(now, ten),
            Some(now + Duration::from_secs(20))
        );
        assert_eq!(s.session_deadline(now, Duration::from_secs(40)), Some(now));
        s.session_timeout_left = None;
        assert_eq!(s.session_deadline(now, ten), None);
    }

    fn ppp_snapshot() -> ppp::snapshot::SessionSnapshot {
        ppp::snapshot::SessionSnapshot {
            role: ppp::lcp::LcpRole::Authenticator,
            lcp: Default::default(),
            lcp_next_id: 0,
            echo_id: 0,
            echo_outstanding: 0,
            auth: None,
            grant: Default::default(),
            ipcp: None,
            ipv6cp: None,
            stats: Default::default(),
        }
    }
}
