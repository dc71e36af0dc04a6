//! The `ip_pool` file (reference §1.8) and the address allocator.
//!
//! File: one entry per line, `a.b.c.d`, `a.b.c.d/len` or `bindaddr:a.b.c.d[/len]` (used only
//! when `bindaddr` is one of our bind addresses); `#` starts a comment. As in the original,
//! addresses ending in `.0` or `.255` are left out, and each `/len` line is also a route to
//! install at start.
//!
//! Allocator: no fixed size; `allocate`, `release`, `reserve` are O(1). A user gets back the
//! address they had last if it is still free (sticky); otherwise the least recently used free
//! address, never-used ones first (they have been free the longest). Unlike the original's
//! array scan, which stopped at the first never-used entry, a free sticky address always wins.

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::sync::Arc;

/// The default location.
pub const DEFAULT_PATH: &str = "/etc/l2tpns/ip_pool";

/// Shortest prefix accepted on a pool line: a /8 is 16 M addresses already; shorter is a typo.
pub const MIN_PREFIX_LEN: u8 = 8;

/// One line of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolLine {
    pub line: usize,
    /// `bindaddr:` prefix: the line applies only to the server bound to this address.
    pub only_for: Option<Ipv4Addr>,
    /// The network address (host bits cleared).
    pub network: Ipv4Addr,
    pub prefix_len: u8,
    /// Written as `a.b.c.d/len`: the prefix is routed to the tun device at start.
    pub routed: bool,
}

impl PoolLine {
    /// The usable addresses of this line (those ending in .0 or .255 left out).
    pub fn addresses(&self) -> impl Iterator<Item = Ipv4Addr> {
        let start = u32::from(self.network);
        let count = 1u64 << (32 - self.prefix_len);
        (0..count)
            .map(move |i| Ipv4Addr::from(start + i as u32))
            .filter(|a| !matches!(a.octets()[3], 0 | 255))
    }

    fn applies_to(&self, local: &[Ipv4Addr]) -> bool {
        self.only_for.is_none_or(|b| local.contains(&b))
    }
}

/// The parsed file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PoolFile {
    pub lines: Vec<PoolLine>,
}

/// An error in the pool file, naming file and line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {entry}: {reason}")]
pub struct PoolFileError {
    pub file: String,
    pub line: usize,
    /// The entry as written.
    pub entry: String,
    pub reason: String,
}

impl PoolFile {
    /// Parses the file; every bad line is reported.
    pub fn parse(file: &str, text: &str) -> Result<Self, Vec<PoolFileError>> {
        let mut lines = Vec::new();
        let mut errors = Vec::new();
        for (i, raw) in text.split('\n').enumerate() {
            let entry = raw.split('#').next().unwrap_or("").trim();
            if entry.is_empty() {
                continue;
            }
            match parse_line(entry) {
                Ok((only_for, network, prefix_len, routed)) => lines.push(PoolLine {
                    line: i + 1,
                    only_for,
                    network,
                    prefix_len,
                    routed,
                }),
                Err(reason) => errors.push(PoolFileError {
                    file: file.into(),
                    line: i + 1,
                    entry: entry.into(),
                    reason,
                }),
            }
        }
        if errors.is_empty() {
            Ok(Self { lines })
        } else {
            Err(errors)
        }
    }

    /// The lines that apply to a server bound to `local` (its bind addresses).
    pub fn lines_for<'a>(&'a self, local: &'a [Ipv4Addr]) -> impl Iterator<Item = &'a PoolLine> {
        self.lines.iter().filter(move |l| l.applies_to(local))
    }

    /// The prefixes to route to the tun device at start.
    pub fn routes_for(&self, local: &[Ipv4Addr]) -> Vec<(Ipv4Addr, u8)> {
        self.lines_for(local)
            .filter(|l| l.routed)
            .map(|l| (l.network, l.prefix_len))
            .collect()
    }

    /// Builds the pool for a server bound to `local`. An address listed twice is an error
    /// naming both lines (the original would have handed it out twice).
    pub fn build_pool(&self, file: &str, local: &[Ipv4Addr]) -> Result<IpPool, PoolFileError> {
        let lines: Vec<&PoolLine> = self.lines_for(local).collect();
        let mut sorted = lines.clone();
        sorted.sort_by_key(|l| (u32::from(l.network), l.line));
        for w in sorted.windows(2) {
            let (a, b) = (w[0], w[1]);
            if u32::from(b.network) <= range_last(a) {
                let (first, second) = if a.line < b.line { (a, b) } else { (b, a) };
                return Err(PoolFileError {
                    file: file.into(),
                    line: second.line,
                    entry: format!("{}/{}", second.network, second.prefix_len),
                    reason: format!(
                        "overlaps {}/{} from line {}",
                        first.network, first.prefix_len, first.line
                    ),
                });
            }
        }
        let mut pool = IpPool::default();
        for l in lines {
            let added = pool.add_range(l.network, range_count(l));
            debug_assert!(added, "overlaps were checked");
        }
        Ok(pool)
    }
}

fn range_count(l: &PoolLine) -> u32 {
    // A /0 cannot occur (MIN_PREFIX_LEN), so this fits.
    (1u64 << (32 - l.prefix_len)) as u32
}

fn range_last(l: &PoolLine) -> u32 {
    u32::from(l.network) + (range_count(l) - 1)
}

fn parse_line(entry: &str) -> Result<(Option<Ipv4Addr>, Ipv4Addr, u8, bool), String> {
    let (only_for, net) = match entry.split_once(':') {
        Some((b, rest)) => {
            let b = b
                .trim()
                .parse()
                .map_err(|_| format!("bind address {b:?} is not an IPv4 address"))?;
            (Some(b), rest.trim())
        }
        None => (None, entry),
    };
    let (addr, len, routed) = match net.split_once('/') {
        Some((a, l)) => {
            let l: u8 = l
                .parse()
                .map_err(|_| format!("prefix length {l:?} is not a number"))?;
            if l > 32 {
                return Err(format!("prefix length {l} is over 32"));
            }
            if l < MIN_PREFIX_LEN {
                return Err(format!(
                    "prefix length {l} is shorter than /{MIN_PREFIX_LEN}"
                ));
            }
            (a, l, true)
        }
        None => (net, 32, false),
    };
    let addr: Ipv4Addr = addr
        .parse()
        .map_err(|_| format!("{addr:?} is not an IPv4 address"))?;
    if addr.is_unspecified() || addr.is_broadcast() || addr.is_multicast() || addr.is_loopback() {
        return Err(format!("{addr} cannot be given to a user"));
    }
    let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
    Ok((
        only_for,
        Ipv4Addr::from(u32::from(addr) & mask),
        len,
        routed,
    ))
}

/// What RADIUS Framed-IP-Address asks for (RFC 2865 §5.8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressRequest {
    /// Take one from the pool: no attribute, 255.255.255.254 ("NAS should select"), or
    /// 255.255.255.255 ("user may select"; an LNS has no better answer than the pool. The
    /// original would have used it as a static address).
    Pool,
    /// A static address.
    Static(Ipv4Addr),
}

impl AddressRequest {
    pub fn from_framed_ip(attr: Option<Ipv4Addr>) -> Self {
        match attr {
            None => Self::Pool,
            Some(a) if a == Ipv4Addr::new(255, 255, 255, 254) || a.is_broadcast() => Self::Pool,
            Some(a) if a.is_unspecified() => Self::Pool,
            Some(a) => Self::Static(a),
        }
    }
}

/// Errors of pool operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PoolError {
    /// The address is not in the pool.
    #[error("{0} is not in the IP pool")]
    NotInPool(Ipv4Addr),
    /// Release of an address that is not assigned.
    #[error("{0} is not assigned")]
    NotAssigned(Ipv4Addr),
    /// Reservation of an address that is assigned to a session.
    #[error("{0} is assigned from the pool to another session")]
    InUse(Ipv4Addr),
    /// Release/unreserve mismatch.
    #[error("{0} is not reserved")]
    NotReserved(Ipv4Addr),
}

/// An address handed out by [`IpPool::allocate`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Allocation {
    pub address: Ipv4Addr,
    /// The user had this address last time.
    pub sticky: bool,
}

/// Whether a reserved static address is one of the pool's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reservation {
    /// Taken out of the pool until [`IpPool::unreserve`].
    InPool,
    /// Outside the pool: nothing to do.
    OutsidePool,
}

/// What the pool must remember across a restart (the daemon's state file): which addresses
/// were handed out, in least-recently-used order, to whom last, and each user's sticky
/// address. Never-used addresses and the pool's extent come from the `ip_pool` file.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PoolSnapshot {
    /// Free addresses that were used before, least recently used first, with their last user.
    pub history: Vec<(Ipv4Addr, Option<String>)>,
    /// Addresses assigned or reserved at the time of the snapshot, with their user.
    pub in_use: Vec<(Ipv4Addr, Option<String>)>,
    /// User → sticky address.
    pub sticky: Vec<(String, Ipv4Addr)>,
}

const NIL: u32 = u32::MAX;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Free,
    Assigned,
    /// A static address (RADIUS Framed-IP-Address) that lies in the pool.
    Reserved,
    /// Ends in .0 or .255 inside a range: never handed out.
    Excluded,
}

/// `count` consecutive addresses from `start`, stored at `entries[base..base + count]`.
#[derive(Debug, Clone, Copy)]
struct Block {
    start: u32,
    count: u32,
    base: u32,
}

impl Block {
    fn last(&self) -> u32 {
        self.start + (self.count - 1)
    }
}

#[derive(Debug, Clone)]
struct Entry {
    address: Ipv4Addr,
    state: State,
    /// The last user it was assigned to (for sticky allocation).
    user: Option<Arc<str>>,
    /// Neighbours on the free list (LRU order) while free.
    prev: u32,
    next: u32,
    /// Has left the free list at least once.
    used: bool,
}

/// The address pool. Free addresses form an intrusive doubly-linked list in the order they
/// became free (never-used ones first), so the least recently used is at the head.
#[derive(Debug, Clone)]
pub struct IpPool {
    entries: Vec<Entry>,
    /// Address ranges, sorted by start, each mapping onto a run of `entries`.
    blocks: Vec<Block>,
    /// Addresses that can be handed out (.0/.255 excluded).
    usable: usize,
    /// User → the entry they had last.
    sticky: HashMap<Arc<str>, u32>,
    head: u32,
    tail: u32,
    /// The last never-used entry of the free list, or NIL.
    never_used_tail: u32,
    free: usize,
}

impl Default for IpPool {
    fn default() -> Self {
        Self {
            entries: Vec::new(),
            blocks: Vec::new(),
            usable: 0,
            sticky: HashMap::new(),
            head: NIL,
            tail: NIL,
            never_used_tail: NIL,
            free: 0,
        }
    }
}

impl IpPool {
    /// A pool of `addresses` (duplicates are ignored).
    pub fn from_addresses(addresses: impl IntoIterator<Item = Ipv4Addr>) -> Self {
        let mut p = Self::default();
        for a in addresses {
            p.add(a);
        }
        p
    }

    /// Adds a free address (after the never-used ones). Returns false if already present.
    pub fn add(&mut self, address: Ipv4Addr) -> bool {
        self.add_range(address, 1)
    }

    /// Adds `count` consecutive addresses from `start` as never used; those ending in .0 or
    /// .255 are kept out, as the original does. Returns false (adding nothing) if any of them
    /// is already in the pool.
    pub fn add_range(&mut self, start: Ipv4Addr, count: u32) -> bool {
        let first = u32::from(start);
        let Some(last) = count.checked_sub(1).and_then(|c| first.checked_add(c)) else {
            return false;
        };
        let pos = self.blocks.partition_point(|b| b.start <= first);
        let overlaps_prev = pos > 0 && self.blocks[pos - 1].last() >= first;
        let overlaps_next = self.blocks.get(pos).is_some_and(|b| b.start <= last);
        if overlaps_prev || overlaps_next {
            return false;
        }
        let base = u32::try_from(self.entries.len()).expect("pool below 4 G entries");
        assert!(
            base.checked_add(count).is_some_and(|end| end < NIL),
            "pool below 4 G entries"
        );
        self.blocks.insert(
            pos,
            Block {
                start: first,
                count,
                base,
            },
        );
        self.entries.reserve(count as usize);
        for n in 0..count {
            let address = Ipv4Addr::from(first + n);
            let excluded = matches!(address.octets()[3], 0 | 255);
            let state = if excluded {
                State::Excluded
            } else {
                State::Free
            };
            self.entries.push(Entry {
                address,
                state,
                user: None,
                prev: NIL,
                next: NIL,
                used: false,
            });
            if !excluded {
                self.usable += 1;
                self.push_never_used(base + n);
            }
        }
        true
    }

    /// The entry of a usable pool address.
    fn index_of(&self, address: Ipv4Addr) -> Option<u32> {
        let a = u32::from(address);
        let pos = self
            .blocks
            .partition_point(|b| b.start <= a)
            .checked_sub(1)?;
        let b = &self.blocks[pos];
        let i = b.base + a.checked_sub(b.start).filter(|&off| off < b.count)?;
        (self.entries[i as usize].state != State::Excluded).then_some(i)
    }

    /// Number of addresses.
    pub fn len(&self) -> usize {
        self.usable
    }

    pub fn is_empty(&self) -> bool {
        self.usable == 0
    }

    /// Number of free addresses.
    pub fn free_len(&self) -> usize {
        self.free
    }

    pub fn contains(&self, address: Ipv4Addr) -> bool {
        self.index_of(address).is_some()
    }

    pub fn is_free(&self, address: Ipv4Addr) -> bool {
        self.index_of(address)
            .is_some_and(|i| self.entries[i as usize].state == State::Free)
    }

    /// Every address that can be handed out, in pool order: whether it is in use (assigned
    /// from the pool, or reserved for a static Framed-IP-Address) and who had it last.
    pub fn entries(&self) -> impl Iterator<Item = (Ipv4Addr, bool, Option<&str>)> + '_ {
        self.entries
            .iter()
            .filter(|e| e.state != State::Excluded)
            .map(|e| (e.address, e.state != State::Free, e.user.as_deref()))
    }

    /// The user who had (or has) `address` last.
    pub fn last_user(&self, address: Ipv4Addr) -> Option<&str> {
        let i = self.index_of(address)?;
        self.entries[i as usize].user.as_deref()
    }

    /// Takes an address for `user`: their previous one if free, else the least recently used.
    /// `user` is `None` for sessions that get no sticky address (walled garden). `None` when
    /// the pool is exhausted.
    pub fn allocate(&mut self, user: Option<&str>) -> Option<Allocation> {
        if let Some(u) = user {
            if let Some(&i) = self.sticky.get(u) {
                if self.entries[i as usize].state == State::Free {
                    self.unlink(i);
                    self.entries[i as usize].state = State::Assigned;
                    return Some(Allocation {
                        address: self.entries[i as usize].address,
                        sticky: true,
                    });
                }
            }
        }
        let i = self.head;
        if i == NIL {
            return None;
        }
        self.unlink(i);
        self.entries[i as usize].state = State::Assigned;
        self.set_user(i, user);
        Some(Allocation {
            address: self.entries[i as usize].address,
            sticky: false,
        })
    }

    /// Gives an assigned address back; it becomes the most recently used free one and stays
    /// remembered as its user's sticky address.
    pub fn release(&mut self, address: Ipv4Addr) -> Result<(), PoolError> {
        let i = self
            .index_of(address)
            .ok_or(PoolError::NotInPool(address))?;
        if self.entries[i as usize].state != State::Assigned {
            return Err(PoolError::NotAssigned(address));
        }
        self.entries[i as usize].state = State::Free;
        self.push_back(i);
        Ok(())
    }

    /// Takes a static address (RADIUS Framed-IP-Address) out of the pool while a session uses
    /// it. Addresses outside the pool need nothing.
    pub fn reserve(&mut self, address: Ipv4Addr) -> Result<Reservation, PoolError> {
        let Some(i) = self.index_of(address) else {
            return Ok(Reservation::OutsidePool);
        };
        match self.entries[i as usize].state {
            State::Free => {
                self.unlink(i);
                self.entries[i as usize].state = State::Reserved;
                Ok(Reservation::InPool)
            }
            State::Assigned | State::Reserved | State::Excluded => Err(PoolError::InUse(address)),
        }
    }

    /// Returns a reserved address to the pool.
    pub fn unreserve(&mut self, address: Ipv4Addr) -> Result<(), PoolError> {
        let i = self
            .index_of(address)
            .ok_or(PoolError::NotInPool(address))?;
        if self.entries[i as usize].state != State::Reserved {
            return Err(PoolError::NotReserved(address));
        }
        self.entries[i as usize].state = State::Free;
        self.push_back(i);
        Ok(())
    }

    /// Marks `address` as assigned to `user` (restoring saved state, or a session that asks
    /// for a specific pool address). Fails if it is not free.
    pub fn assign_specific(
        &mut self,
        address: Ipv4Addr,
        user: Option<&str>,
    ) -> Result<(), PoolError> {
        let i = self
            .index_of(address)
            .ok_or(PoolError::NotInPool(address))?;
        if self.entries[i as usize].state != State::Free {
            return Err(PoolError::InUse(address));
        }
        self.unlink(i);
        self.entries[i as usize].state = State::Assigned;
        self.set_user(i, user);
        Ok(())
    }

    /// The pool's memory for a restart (see [`PoolSnapshot`]).
    pub fn snapshot(&self) -> PoolSnapshot {
        let mut history = Vec::new();
        let mut i = self.head;
        while i != NIL {
            let e = &self.entries[i as usize];
            if e.used {
                history.push((e.address, e.user.as_deref().map(str::to_owned)));
            }
            i = e.next;
        }
        let mut in_use = Vec::new();
        for e in &self.entries {
            if matches!(e.state, State::Assigned | State::Reserved) {
                in_use.push((e.address, e.user.as_deref().map(str::to_owned)));
            }
        }
        let mut sticky: Vec<(String, Ipv4Addr)> = self
            .sticky
            .iter()
            .map(|(u, &i)| (u.to_string(), self.entries[i as usize].address))
            .collect();
        sticky.sort_unstable();
        PoolSnapshot {
            history,
            in_use,
            sticky,
        }
    }

    /// Applies a snapshot to a freshly built pool (every address free): the least recently
    /// used order and each address's last user come back, and every address that was in
    /// use becomes free again, most recently used, remembered for its user. The daemon then
    /// takes back the address of each session it resumed ([`IpPool::assign_specific`] or
    /// [`IpPool::reserve`]); a session that could not be resumed simply does not, so no
    /// address leaks. Addresses no longer in the pool (the `ip_pool` file changed) are
    /// skipped; returns how many.
    pub fn restore(&mut self, snap: &PoolSnapshot) -> usize {
        let mut skipped = 0;
        for (address, user) in snap.history.iter().chain(&snap.in_use) {
            match self.index_of(*address) {
                Some(i) if self.entries[i as usize].state == State::Free => {
                    self.unlink(i);
                    self.set_user(i, user.as_deref());
                    self.push_back(i);
                }
                _ => skipped += 1,
            }
        }
        // Which of a user's addresses is their sticky one is not implied by the order above.
        for (user, address) in &snap.sticky {
            if let Some(i) = self.index_of(*address) {
                if self.entries[i as usize].user.as_deref() == Some(user.as_str()) {
                    if let Some(u) = self.entries[i as usize].user.clone() {
                        self.sticky.insert(u, i);
                    }
                }
            }
        }
        skipped
    }

    /// Checks the internal links and counts (O(n)); for tests and after restoring state.
    pub fn check_invariants(&self) -> Result<(), String> {
        let mut seen = 0usize;
        let mut prev = NIL;
        let mut i = self.head;
        let mut in_never_used_prefix = true;
        let mut boundary = NIL;
        while i != NIL {
            let e = &self.entries[i as usize];
            if e.state != State::Free {
                return Err(format!("{} is on the free list but not free", e.address));
            }
            if e.prev != prev {
                return Err(format!("{} has a wrong back link", e.address));
            }
            if e.used {
                in_never_used_prefix = false;
            } else if !in_never_used_prefix {
                return Err(format!("never-used {} after used addresses", e.address));
            } else {
                boundary = i;
            }
            seen += 1;
            if seen > self.entries.len() {
                return Err("free list has a cycle".into());
            }
            prev = i;
            i = e.next;
        }
        if prev != self.tail || boundary != self.never_used_tail {
            return Err("tail or never-used boundary is wrong".into());
        }
        let free = self
            .entries
            .iter()
            .filter(|e| e.state == State::Free)
            .count();
        if seen != free || free != self.free {
            return Err(format!(
                "{seen} on the list, {free} free, count says {}",
                self.free
            ));
        }
        for (u, &i) in &self.sticky {
            if self.entries[i as usize].user.as_ref() != Some(u) {
                return Err(format!("sticky entry of {u} points elsewhere"));
            }
        }
        Ok(())
    }

    fn set_user(&mut self, i: u32, user: Option<&str>) {
        let e = &mut self.entries[i as usize];
        if e.user.as_deref() == user {
            if let Some(u) = &e.user {
                self.sticky.insert(u.clone(), i);
            }
            return;
        }
        if let Some(old) = e.user.take() {
            // The previous user's sticky address is gone.
            if self.sticky.get(&old) == Some(&i) {
                self.sticky.remove(&old);
            }
        }
        if let Some(u) = user {
            let u: Arc<str> = Arc::from(u);
            self.entries[i as usize].user = Some(u.clone());
            self.sticky.insert(u, i);
        }
    }

    /// Never-used addresses are a prefix of the free list (they have been free the longest);
    /// a new one goes at the end of that prefix.
    fn push_never_used(&mut self, i: u32) {
        let after = self.never_used_tail;
        if after == NIL {
            self.push_front(i);
        } else {
            let next = self.entries[after as usize].next;
            let e = &mut self.entries[i as usize];
            e.prev = after;
            e.next = next;
            self.entries[after as usize].next = i;
            if next == NIL {
                self.tail = i;
            } else {
                self.entries[next as usize].prev = i;
            }
            self.free += 1;
        }
        self.never_used_tail = i;
    }

    fn push_back(&mut self, i: u32) {
        let e = &mut self.entries[i as usize];
        e.prev = self.tail;
        e.next = NIL;
        if self.tail == NIL {
            self.head = i;
        } else {
            self.entries[self.tail as usize].next = i;
        }
        self.tail = i;
        self.free += 1;
    }

    fn push_front(&mut self, i: u32) {
        let e = &mut self.entries[i as usize];
        e.next = self.head;
        e.prev = NIL;
        if self.head == NIL {
            self.tail = i;
        } else {
            self.entries[self.head as usize].prev = i;
        }
        self.head = i;
        self.free += 1;
    }

    fn unlink(&mut self, i: u32) {
        let (prev, next) = (self.entries[i as usize].prev, self.entries[i as usize].next);
        if prev == NIL {
            self.head = next;
        } else {
            self.entries[prev as usize].next = next;
        }
        if next == NIL {
            self.tail = prev;
        } else {
            self.entries[next as usize].prev = prev;
        }
        if self.never_used_tail == i {
            self.never_used_tail = prev;
        }
        let e = &mut self.entries[i as usize];
        e.prev = NIL;
        e.next = NIL;
        // Once out of the free list it goes back at the tail, among the used ones.
        e.used = true;
        self.free -= 1;
    }
}
