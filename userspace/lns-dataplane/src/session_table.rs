//! The session table: every session, found in O(1) by destination IPv4 address (the data
//! plane's downstream lookup), by (tunnel id, session id) (upstream), by RADIUS request id, and
//! by user name. No fixed size (the original stops at 60 000 sessions).
//!
//! Two planes (docs/ARCHITECTURE.md): the control loop owns the [`SessionTable`] and is its only writer.
//! What the data plane needs, a [`DataPath`] per session with the L2TP header fields and the
//! counters, is *published* into lock-free concurrent maps (papaya) that packet workers read
//! through a [`DataPlaneView`] without locks. A changed data path is published as a new
//! `Arc<DataPath>` sharing the same atomic [`SessionCounters`], so counts are never lost.
//!
//! Framed-Route prefixes are kept per prefix length (at most 33 maps probed, longest first,
//! only for the lengths in use), instead of the original's one entry per routed address.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use l2tp::{SessionId, TunnelId};
use smallvec::SmallVec;

/// A session's key: a slot plus a generation, so a stale key never finds a newer session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionKey {
    index: u32,
    generation: u32,
}

impl SessionKey {
    /// A small number unique among live sessions (NAS-Port, `show session` id).
    pub fn index(self) -> u32 {
        self.index
    }
}

/// Our (local) L2TP ids of a session: the tunnel id and session id the LAC sends to.
pub use l2tp::CallId;

/// Per-session counters, updated by the data plane with relaxed atomics.
#[derive(Debug, Default)]
pub struct SessionCounters {
    /// From the user (upstream).
    pub packets_in: AtomicU64,
    pub octets_in: AtomicU64,
    /// To the user (downstream).
    pub packets_out: AtomicU64,
    pub octets_out: AtomicU64,
    /// Upstream packets dropped by the anti-spoof check.
    pub spoofed: AtomicU64,
    /// When the last packet from the user arrived (the daemon's clock, e.g. ms since start);
    /// drives `idle_echo_timeout` and Idle-Timeout.
    pub last_packet_in: AtomicU64,
}

impl SessionCounters {
    pub fn count_in(&self, octets: usize, now: u64) {
        self.packets_in.fetch_add(1, Ordering::Relaxed);
        self.octets_in.fetch_add(octets as u64, Ordering::Relaxed);
        self.last_packet_in.store(now, Ordering::Relaxed);
    }

    pub fn count_out(&self, octets: usize) {
        self.packets_out.fetch_add(1, Ordering::Relaxed);
        self.octets_out.fetch_add(octets as u64, Ordering::Relaxed);
    }
}

/// What the data plane needs to forward a session's packets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataPathInfo {
    /// The LAC's UDP address.
    pub peer: SocketAddrV4,
    /// Which of our UDP sockets (bind addresses) the tunnel uses.
    pub socket: u16,
    /// The LAC's ids, written into downstream L2TP headers.
    pub peer_tunnel: TunnelId,
    pub peer_session: SessionId,
    /// The peer's MRU: longer downstream packets are dropped.
    pub mru: u16,
    /// PPP Address-and-Control-Field and Protocol-Field compression negotiated by LCP.
    pub acfc: bool,
    pub pfc: bool,
    /// Upstream source check off (`disable_no_spoof`).
    pub allow_any_source: bool,
    /// The LAC asked for sequenced data (RFC 2661 §5.4): downstream packets go back to the
    /// control path, whose engine numbers them.
    pub sequenced: bool,
}

/// A published session as packet workers see it.
#[derive(Debug)]
pub struct DataPath {
    pub key: SessionKey,
    pub ids: CallId,
    pub address: Ipv4Addr,
    pub info: DataPathInfo,
    pub counters: Arc<SessionCounters>,
    /// Throttling, access lists, interception; `None` for most sessions.
    pub policy: Option<Arc<crate::policy::Policy>>,
}

/// Why a table operation was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TableError {
    /// The key is stale (the session is gone).
    NoSuchSession,
    /// Another session already has these L2TP ids.
    IdsInUse(CallId),
    /// Another session already has this address.
    AddressInUse(Ipv4Addr),
    /// Another session already routes this exact prefix.
    RouteInUse(Ipv4Addr, u8),
    /// Another outstanding request already has this RADIUS id.
    RadiusIdInUse(u32),
    /// Publishing needs an address first.
    NoAddress,
    BadPrefix(Ipv4Addr, u8),
}

impl fmt::Display for TableError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoSuchSession => write!(f, "no such session"),
            Self::IdsInUse(i) => write!(
                f,
                "tunnel {} session {} already exists",
                i.tunnel, i.session
            ),
            Self::AddressInUse(a) => write!(f, "{a} is already used by another session"),
            Self::RouteInUse(a, l) => write!(f, "{a}/{l} is already routed to another session"),
            Self::RadiusIdInUse(r) => write!(f, "RADIUS id {r} is already in use"),
            Self::NoAddress => write!(f, "the session has no address yet"),
            Self::BadPrefix(a, l) => write!(
                f,
                "{a}/{l} is not a valid prefix (host bits set or length over 32)"
            ),
        }
    }
}

impl std::error::Error for TableError {}

type Route = (Ipv4Addr, u8);

/// The control plane's record of one session; `S` is the daemon's own per-session state.
#[derive(Debug)]
struct Entry<S> {
    state: S,
    ids: CallId,
    address: Option<Ipv4Addr>,
    routes: Vec<Route>,
    radius_id: Option<u32>,
    /// Shared with the `by_user` key: one copy of the name.
    user: Option<Arc<str>>,
    counters: Arc<SessionCounters>,
    published: Option<Arc<DataPath>>,
    policy: Option<Arc<crate::policy::Policy>>,
}

/// Boxed entry: the slot vector grows by doubling, so up to half of it is spare capacity;
/// spare 16-byte slots cost little, spare ~450-byte entries (the daemon's `Sess` inline) cost
/// ~400 bytes per session after a doubling (docs/BENCHMARKS.md, "Where a session's bytes go").
#[derive(Debug)]
struct Slot<S> {
    generation: u32,
    entry: Option<Box<Entry<S>>>,
}

/// The maps the data plane reads.
struct Shared {
    by_address: papaya::HashMap<u32, Arc<DataPath>>,
    by_route: papaya::HashMap<(u8, u32), Arc<DataPath>>,
    /// Bit n set: some route of length n exists (n = 0..=32).
    route_lengths: AtomicU64,
    by_ids: papaya::HashMap<CallId, Arc<DataPath>>,
}

/// The data plane's read-only, lock-free handle.
#[derive(Clone)]
pub struct DataPlaneView {
    shared: Arc<Shared>,
}

/// A pinned view for a batch of lookups; what it returns stays valid while it lives.
pub struct Pinned<'a> {
    by_address:
        papaya::HashMapRef<'a, u32, Arc<DataPath>, std::hash::RandomState, papaya::LocalGuard<'a>>,
    by_route: papaya::HashMapRef<
        'a,
        (u8, u32),
        Arc<DataPath>,
        std::hash::RandomState,
        papaya::LocalGuard<'a>,
    >,
    by_ids: papaya::HashMapRef<
        'a,
        CallId,
        Arc<DataPath>,
        std::hash::RandomState,
        papaya::LocalGuard<'a>,
    >,
    route_lengths: u64,
}

impl DataPlaneView {
    /// Pins the maps for a batch of lookups (keep batches short: memory freed by the control
    /// plane is reclaimed only after pins end).
    pub fn pin(&self) -> Pinned<'_> {
        Pinned {
            by_address: self.shared.by_address.pin(),
            by_route: self.shared.by_route.pin(),
            by_ids: self.shared.by_ids.pin(),
            route_lengths: self.shared.route_lengths.load(Ordering::Acquire),
        }
    }
}

impl Pinned<'_> {
    /// The session a packet to `dst` goes to: its address, else the longest Framed-Route.
    pub fn by_destination(&self, dst: Ipv4Addr) -> Option<&DataPath> {
        let d = u32::from(dst);
        if let Some(p) = self.by_address.get(&d) {
            return Some(p);
        }
        let mut lengths = self.route_lengths;
        while lengths != 0 {
            let len = 63 - lengths.leading_zeros() as u8;
            lengths &= !(1u64 << len);
            if let Some(p) = self.by_route.get(&(len, d & mask(len))) {
                return Some(p);
            }
        }
        None
    }

    /// The session an upstream data packet belongs to.
    pub fn by_ids(&self, ids: CallId) -> Option<&DataPath> {
        self.by_ids.get(&ids).map(|p| &**p)
    }

    /// Upstream anti-spoof: the source must be the session's address or be
    /// routed to the same session.
    pub fn source_allowed(&self, path: &DataPath, src: Ipv4Addr) -> bool {
        path.info.allow_any_source
            || src == path.address
            || self.by_destination(src).is_some_and(|p| p.key == path.key)
    }
}

fn mask(len: u8) -> u32 {
    if len == 0 {
        0
    } else {
        u32::MAX << (32 - len)
    }
}

/// The control plane's session table.
pub struct SessionTable<S> {
    slots: Vec<Slot<S>>,
    free_slots: Vec<u32>,
    len: usize,
    by_ids: HashMap<CallId, SessionKey>,
    /// Tunnel id → its session ids (tunnel teardown visits only its own sessions).
    by_tunnel: HashMap<TunnelId, HashSet<SessionId>>,
    by_address: HashMap<Ipv4Addr, SessionKey>,
    by_route: HashMap<Route, SessionKey>,
    route_length_counts: [u32; 33],
    by_radius: HashMap<u32, SessionKey>,
    /// A user's sessions; one inline (most users have one session), so indexing by user
    /// costs no allocation per session beyond the shared name.
    by_user: HashMap<Arc<str>, SmallVec<[SessionKey; 1]>>,
    shared: Arc<Shared>,
}

impl<S> Default for SessionTable<S> {
    fn default() -> Self {
        Self::new()
    }
}

impl<S> SessionTable<S> {
    pub fn new() -> Self {
        Self {
            slots: Vec::new(),
            free_slots: Vec::new(),
            len: 0,
            by_ids: HashMap::new(),
            by_tunnel: HashMap::new(),
            by_address: HashMap::new(),
            by_route: HashMap::new(),
            route_length_counts: [0; 33],
            by_radius: HashMap::new(),
            by_user: HashMap::new(),
            shared: Arc::new(Shared {
                by_address: papaya::HashMap::new(),
                by_route: papaya::HashMap::new(),
                route_lengths: AtomicU64::new(0),
                by_ids: papaya::HashMap::new(),
            }),
        }
    }

    /// The handle packet workers read through.
    pub fn data_plane(&self) -> DataPlaneView {
        DataPlaneView {
            shared: self.shared.clone(),
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Adds a session under its L2TP ids.
    pub fn insert(&mut self, ids: CallId, state: S) -> Result<SessionKey, TableError> {
        if self.by_ids.contains_key(&ids) {
            return Err(TableError::IdsInUse(ids));
        }
        let entry = Box::new(Entry {
            state,
            ids,
            address: None,
            routes: Vec::new(),
            radius_id: None,
            user: None,
            counters: Arc::default(),
            published: None,
            policy: None,
        });
        let key = match self.free_slots.pop() {
            Some(index) => {
                let slot = &mut self.slots[index as usize];
                slot.entry = Some(entry);
                SessionKey {
                    index,
                    generation: slot.generation,
                }
            }
            None => {
                let index = u32::try_from(self.slots.len()).expect("fewer than 4 G sessions");
                self.slots.push(Slot {
                    generation: 0,
                    entry: Some(entry),
                });
                SessionKey {
                    index,
                    generation: 0,
                }
            }
        };
        self.by_ids.insert(ids, key);
        self.by_tunnel
            .entry(ids.tunnel)
            .or_default()
            .insert(ids.session);
        self.len += 1;
        Ok(key)
    }

    fn entry(&self, key: SessionKey) -> Option<&Entry<S>> {
        let slot = self.slots.get(key.index as usize)?;
        if slot.generation != key.generation {
            return None;
        }
        slot.entry.as_deref()
    }

    fn entry_mut(&mut self, key: SessionKey) -> Result<&mut Entry<S>, TableError> {
        let slot = self
            .slots
            .get_mut(key.index as usize)
            .ok_or(TableError::NoSuchSession)?;
        if slot.generation != key.generation {
            return Err(TableError::NoSuchSession);
        }
        slot.entry.as_deref_mut().ok_or(TableError::NoSuchSession)
    }

    pub fn get(&self, key: SessionKey) -> Option<&S> {
        self.entry(key).map(|e| &e.state)
    }

    pub fn get_mut(&mut self, key: SessionKey) -> Option<&mut S> {
        self.entry_mut(key).ok().map(|e| &mut e.state)
    }

    pub fn contains(&self, key: SessionKey) -> bool {
        self.entry(key).is_some()
    }

    /// Removes a session from every index (and from the data plane); returns its state.
    pub fn remove(&mut self, key: SessionKey) -> Option<S> {
        self.entry(key)?;
        self.unpublish(key);
        let _ = self.set_radius_id(key, None);
        let _ = self.set_user(key, None);
        let _ = self.clear_address(key);
        let slot = &mut self.slots[key.index as usize];
        let entry = slot.entry.take().expect("checked above");
        // The generation changes so that copies of the key go stale.
        slot.generation = slot.generation.wrapping_add(1);
        self.free_slots.push(key.index);
        self.by_ids.remove(&entry.ids);
        if let Some(set) = self.by_tunnel.get_mut(&entry.ids.tunnel) {
            set.remove(&entry.ids.session);
            if set.is_empty() {
                self.by_tunnel.remove(&entry.ids.tunnel);
            }
        }
        self.len -= 1;
        Some(entry.state)
    }

    /// Every live session.
    pub fn iter(&self) -> impl Iterator<Item = (SessionKey, &S)> {
        self.iter_from(0)
    }

    /// The live session whose index (its "session N" and NAS-Port) is `index`, in O(1).
    pub fn key_of_index(&self, index: u32) -> Option<SessionKey> {
        let slot = self.slots.get(index as usize)?;
        slot.entry.as_ref().map(|_| SessionKey {
            index,
            generation: slot.generation,
        })
    }

    /// Live sessions with an index of at least `first`, in index order: a page of a long
    /// listing costs the page, not the table.
    pub fn iter_from(&self, first: u32) -> impl Iterator<Item = (SessionKey, &S)> {
        let skip = (first as usize).min(self.slots.len());
        self.slots[skip..].iter().zip(skip..).filter_map(|(s, i)| {
            let e = s.entry.as_ref()?;
            Some((
                SessionKey {
                    index: i as u32,
                    generation: s.generation,
                },
                &e.state,
            ))
        })
    }

    pub fn ids(&self, key: SessionKey) -> Option<CallId> {
        self.entry(key).map(|e| e.ids)
    }

    pub fn by_ids(&self, ids: CallId) -> Option<SessionKey> {
        self.by_ids.get(&ids).copied()
    }

    /// The sessions of one tunnel, in session id order (O(sessions of that tunnel)).
    pub fn in_tunnel(&self, tunnel: TunnelId) -> Vec<SessionKey> {
        let Some(set) = self.by_tunnel.get(&tunnel) else {
            return Vec::new();
        };
        let mut ids: Vec<SessionId> = set.iter().copied().collect();
        ids.sort_unstable();
        ids.into_iter()
            .filter_map(|session| self.by_ids(CallId { tunnel, session }))
            .collect()
    }

    pub fn counters(&self, key: SessionKey) -> Option<&Arc<SessionCounters>> {
        self.entry(key).map(|e| &e.counters)
    }

    /// Gives the session its IPv4 address (pool or static). The address is claimed at once,
    /// so two sessions can never hold the same one; the data plane sees it once published.
    /// Changing an address the session already had drops its routes and unpublishes it (as
    /// [`Self::clear_address`]); publish it again afterwards.
    pub fn set_address(&mut self, key: SessionKey, address: Ipv4Addr) -> Result<(), TableError> {
        self.entry_mut(key)?;
        match self.by_address.get(&address) {
            Some(&k) if k == key => return Ok(()),
            Some(_) => return Err(TableError::AddressInUse(address)),
            None => {}
        }
        if self.entry(key).is_some_and(|e| e.address.is_some()) {
            self.clear_address(key)?;
        }
        self.by_address.insert(address, key);
        self.entry_mut(key)?.address = Some(address);
        Ok(())
    }

    /// Takes the address (and routes) away, e.g. before giving the address back to the pool.
    /// Returns the address it had.
    pub fn clear_address(&mut self, key: SessionKey) -> Result<Option<Ipv4Addr>, TableError> {
        let e = self.entry_mut(key)?;
        let old = e.address.take();
        let routes = std::mem::take(&mut e.routes);
        if let Some(a) = old {
            self.by_address.remove(&a);
        }
        for r in routes {
            self.remove_route_index(r);
        }
        if self.entry(key).is_some_and(|e| e.published.is_some()) {
            self.unpublish(key);
        }
        Ok(old)
    }

    pub fn address(&self, key: SessionKey) -> Option<Ipv4Addr> {
        self.entry(key)?.address
    }

    /// The session holding `address` as its own (not via a route).
    pub fn by_address(&self, address: Ipv4Addr) -> Option<SessionKey> {
        self.by_address.get(&address).copied()
    }

    /// The session a packet to `dst` goes to (control-plane view: includes unpublished).
    pub fn by_destination(&self, dst: Ipv4Addr) -> Option<SessionKey> {
        if let Some(&k) = self.by_address.get(&dst) {
            return Some(k);
        }
        let d = u32::from(dst);
        (0..=32u8)
            .rev()
            .filter(|&l| self.route_length_counts[l as usize] > 0)
            .find_map(|l| {
                self.by_route
                    .get(&(Ipv4Addr::from(d & mask(l)), l))
                    .copied()
            })
    }

    /// Adds a Framed-Route to the session.
    pub fn add_route(
        &mut self,
        key: SessionKey,
        prefix: Ipv4Addr,
        len: u8,
    ) -> Result<(), TableError> {
        if len > 32 || u32::from(prefix) & !mask(len) != 0 {
            return Err(TableError::BadPrefix(prefix, len));
        }
        self.entry_mut(key)?;
        match self.by_route.get(&(prefix, len)) {
            Some(&k) if k == key => return Ok(()),
            Some(_) => return Err(TableError::RouteInUse(prefix, len)),
            None => {}
        }
        self.by_route.insert((prefix, len), key);
        self.route_length_counts[len as usize] += 1;
        self.entry_mut(key)?.routes.push((prefix, len));
        if let Some(p) = self.entry(key).and_then(|e| e.published.clone()) {
            self.shared
                .by_route
                .pin()
                .insert((len, u32::from(prefix)), p);
            self.publish_route_lengths();
        }
        Ok(())
    }

    pub fn routes(&self, key: SessionKey) -> &[Route] {
        self.entry(key).map(|e| e.routes.as_slice()).unwrap_or(&[])
    }

    fn remove_route_index(&mut self, r: Route) {
        if self.by_route.remove(&r).is_some() {
            self.route_length_counts[r.1 as usize] -= 1;
            self.shared.by_route.pin().remove(&(r.1, u32::from(r.0)));
            self.publish_route_lengths();
        }
    }

    fn publish_route_lengths(&self) {
        let bits = self
            .route_length_counts
            .iter()
            .enumerate()
            .filter(|(_, &n)| n > 0)
            .fold(0u64, |b, (l, _)| b | 1 << l);
        // Release: a worker that sees a length bit also sees the routes inserted before it.
        self.shared.route_lengths.store(bits, Ordering::Release);
    }

    /// Records the outstanding RADIUS request id of the session (`None` when answered).
    pub fn set_radius_id(&mut self, key: SessionKey, id: Option<u32>) -> Result<(), TableError> {
        self.entry_mut(key)?;
        if let Some(id) = id {
            if self.by_radius.get(&id).is_some_and(|&k| k != key) {
                return Err(TableError::RadiusIdInUse(id));
            }
        }
        let e = self.entry_mut(key)?;
        let old = std::mem::replace(&mut e.radius_id, id);
        if let Some(o) = old {
            self.by_radius.remove(&o);
        }
        if let Some(id) = id {
            self.by_radius.insert(id, key);
        }
        Ok(())
    }

    pub fn by_radius_id(&self, id: u32) -> Option<SessionKey> {
        self.by_radius.get(&id).copied()
    }

    /// Records the authenticated user name (for duplicate-user checks and accounting).
    pub fn set_user(&mut self, key: SessionKey, user: Option<&str>) -> Result<(), TableError> {
        let old = self.entry_mut(key)?.user.take();
        if let Some(o) = old {
            if let Some(v) = self.by_user.get_mut(&o) {
                v.retain(|k| *k != key);
                if v.is_empty() {
                    self.by_user.remove(&o);
                }
            }
        }
        if let Some(u) = user {
            // The index's copy of the name if the user has another session, else a new one.
            let name = match self.by_user.get_key_value(u) {
                Some((name, _)) => name.clone(),
                None => Arc::from(u),
            };
            self.by_user.entry(name.clone()).or_default().push(key);
            self.entry_mut(key)?.user = Some(name);
        }
        Ok(())
    }

    /// The table's copy of the user name, for an owner that keeps the name too (one
    /// allocation per session, not one per holder).
    pub fn user_shared(&self, key: SessionKey) -> Option<Arc<str>> {
        self.entry(key)?.user.clone()
    }

    pub fn user(&self, key: SessionKey) -> Option<&str> {
        self.entry(key)?.user.as_deref()
    }

    /// The sessions of a user, oldest first (for `allow_duplicate_users no`).
    pub fn by_user(&self, user: &str) -> &[SessionKey] {
        self.by_user.get(user).map(|v| v.as_slice()).unwrap_or(&[])
    }

    /// Makes the session visible to the data plane with `info` (IPCP is up). Publishing again
    /// replaces the data path; the counters carry over.
    pub fn publish(&mut self, key: SessionKey, info: DataPathInfo) -> Result<(), TableError> {
        let e = self.entry(key).ok_or(TableError::NoSuchSession)?;
        let address = e.address.ok_or(TableError::NoAddress)?;
        let path = Arc::new(DataPath {
            key,
            ids: e.ids,
            address,
            info,
            counters: e.counters.clone(),
            policy: e.policy.clone(),
        });
        let routes = e.routes.clone();
        self.entry_mut(key)?.published = Some(path.clone());
        // Routes and ids first, the address last: a worker that finds the address finds all.
        {
            let by_route = self.shared.by_route.pin();
            for (p, l) in &routes {
                by_route.insert((*l, u32::from(*p)), path.clone());
            }
        }
        self.publish_route_lengths();
        self.shared.by_ids.pin().insert(path.ids, path.clone());
        self.shared
            .by_address
            .pin()
            .insert(u32::from(address), path);
        Ok(())
    }

    /// Hides the session from the data plane (going down); its packets go to the control loop.
    pub fn unpublish(&mut self, key: SessionKey) {
        let Ok(e) = self.entry_mut(key) else { return };
        let Some(path) = e.published.take() else {
            return;
        };
        self.shared
            .by_address
            .pin()
            .remove(&u32::from(path.address));
        self.shared.by_ids.pin().remove(&path.ids);
        let by_route = self.shared.by_route.pin();
        for (p, l) in self.routes(key) {
            by_route.remove(&(*l, u32::from(*p)));
        }
    }

    /// Sets the session's policy (an empty spec removes it) and republishes it if it is
    /// published. New buckets start full.
    pub fn set_policy(
        &mut self,
        key: SessionKey,
        spec: crate::policy::PolicySpec,
    ) -> Result<(), TableError> {
        let e = self.entry_mut(key)?;
        e.policy = crate::policy::Policy::of(spec);
        if let Some(info) = e.published.as_ref().map(|p| p.info.clone()) {
            self.publish(key, info)?;
        }
        Ok(())
    }

    /// The throttle buckets' figures of a session.
    pub fn throttle_figures(&self, key: SessionKey) -> Option<crate::policy::ThrottleFigures> {
        let p = self.entry(key)?.policy.as_ref()?;
        Some(crate::policy::ThrottleFigures {
            upstream: p.throttle_in.as_ref().map(|b| b.figures()),
            downstream: p.throttle_out.as_ref().map(|b| b.figures()),
        })
    }

    pub fn is_published(&self, key: SessionKey) -> bool {
        self.entry(key).is_some_and(|e| e.published.is_some())
    }
}
