//! An in-memory network between a LAC engine and an LNS engine with a fake clock, and a
//! link that can delay, drop, reorder or rewrite datagrams.

#![allow(dead_code)]

use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use l2tp::fuzzing::TestRng;
use l2tp::header::{self, Header};
use l2tp::message::{Message, MessageType};
use l2tp::{Config, Engine, Event, SessionId, TunnelId};
use rand_core::RngCore;

pub const SECRET: &[u8] = b"s3cret";

pub fn lac_addr() -> SocketAddr {
    SocketAddr::from((Ipv4Addr::new(192, 0, 2, 10), 1701))
}
pub fn lns_addr() -> SocketAddr {
    SocketAddr::from((Ipv4Addr::new(198, 51, 100, 1), 1701))
}

pub fn lac_config(secret: Option<&[u8]>) -> Config {
    Config {
        host_name: b"lac.example".to_vec(),
        secret: secret.map(<[u8]>::to_vec),
        accept_incoming: false,
        ..Config::default()
    }
}

pub fn lns_config(secret: Option<&[u8]>) -> Config {
    Config {
        host_name: b"lns.example".to_vec(),
        secret: secret.map(<[u8]>::to_vec),
        ..Config::default()
    }
}

/// Direction of a datagram on the link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    ToLns,
    ToLac,
}

/// What the link does with a datagram.
pub enum Fate {
    Deliver,
    Drop,
    Replace(Vec<u8>),
}

type Filter = Box<dyn FnMut(Dir, &[u8]) -> Fate>;

pub struct Net {
    pub now: Instant,
    pub lac: Engine,
    pub lns: Engine,
    pub lac_events: Vec<Event>,
    pub lns_events: Vec<Event>,
    /// Every datagram the engines emitted, before the link's fate.
    pub sent: Vec<(Dir, Instant, Vec<u8>)>,
    in_flight: Vec<(Instant, u64, Dir, Vec<u8>)>,
    seq: u64,
    pub latency: Duration,
    /// Extra random delay up to this much (reorders datagrams).
    pub jitter: Duration,
    /// Probability (percent) of dropping a control message.
    pub drop_percent: u32,
    rng: TestRng,
    pub filter: Option<Filter>,
}

impl Net {
    pub fn new(lac: Config, lns: Config) -> Self {
        Net {
            now: Instant::now(),
            lac: Engine::new(lac, Box::new(TestRng(11))).unwrap(),
            lns: Engine::new(lns, Box::new(TestRng(22))).unwrap(),
            lac_events: Vec::new(),
            lns_events: Vec::new(),
            sent: Vec::new(),
            in_flight: Vec::new(),
            seq: 0,
            latency: Duration::from_millis(10),
            jitter: Duration::ZERO,
            drop_percent: 0,
            rng: TestRng(99),
            filter: None,
        }
    }

    pub fn with_seed(mut self, seed: u64) -> Self {
        self.rng = TestRng(seed);
        self
    }

    /// Collect what the engines want to send and what they report.
    fn collect(&mut self) {
        let mut out = Vec::new();
        while let Some(t) = self.lac.poll_transmit() {
            assert_eq!(t.destination.ip(), lns_addr().ip());
            out.push((Dir::ToLns, t.contents));
        }
        while let Some(t) = self.lns.poll_transmit() {
            assert_eq!(t.destination, lac_addr());
            out.push((Dir::ToLac, t.contents));
        }
        for (dir, bytes) in out {
            self.sent.push((dir, self.now, bytes.clone()));
            let bytes = match self.filter.as_mut().map(|f| f(dir, &bytes)) {
                Some(Fate::Drop) => continue,
                Some(Fate::Replace(b)) => b,
                _ => bytes,
            };
            if header::is_control(&bytes)
                && self.drop_percent > 0
                && self.rng.next_u32() % 100 < self.drop_percent
            {
                continue;
            }
            let mut delay = self.latency;
            if !self.jitter.is_zero() {
                delay += Duration::from_micros(
                    self.rng.next_u64() % (self.jitter.as_micros() as u64 + 1),
                );
            }
            self.seq += 1;
            self.in_flight
                .push((self.now + delay, self.seq, dir, bytes));
        }
        while let Some(e) = self.lac.poll_event() {
            self.lac_events.push(e);
        }
        while let Some(e) = self.lns.poll_event() {
            self.lns_events.push(e);
        }
    }

    /// Deliver one datagram straight to an engine (bypassing the link).
    pub fn inject(&mut self, dir: Dir, bytes: &[u8]) {
        match dir {
            Dir::ToLns => {
                let _ = self.lns.handle_datagram(self.now, lac_addr(), bytes);
            }
            Dir::ToLac => {
                let _ = self.lac.handle_datagram(self.now, lns_addr(), bytes);
            }
        }
        self.collect();
    }

    /// Run until `done` holds or `limit` of simulated time passes; returns `done`'s value.
    pub fn run_until(&mut self, limit: Duration, mut done: impl FnMut(&Net) -> bool) -> bool {
        let deadline = self.now + limit;
        loop {
            self.collect();
            if done(self) {
                return true;
            }
            let next = [
                self.in_flight.iter().map(|f| f.0).min(),
                self.lac.poll_timeout(),
                self.lns.poll_timeout(),
            ]
            .into_iter()
            .flatten()
            .min();
            let Some(next) = next.filter(|n| *n <= deadline) else {
                self.now = self.now.max(deadline);
                self.collect();
                return done(self);
            };
            self.now = self.now.max(next);
            self.in_flight.sort_by_key(|f| (f.0, f.1));
            while self.in_flight.first().is_some_and(|f| f.0 <= self.now) {
                let (_, _, dir, bytes) = self.in_flight.remove(0);
                self.inject(dir, &bytes);
            }
            if self.lac.poll_timeout().is_some_and(|t| t <= self.now) {
                self.lac.handle_timeout(self.now);
            }
            if self.lns.poll_timeout().is_some_and(|t| t <= self.now) {
                self.lns.handle_timeout(self.now);
            }
        }
    }

    /// Run for exactly `d` of simulated time.
    pub fn run_for(&mut self, d: Duration) {
        self.run_until(d, |_| false);
    }

    /// Connect the LAC to the LNS; returns (LAC tunnel id, LNS tunnel id).
    pub fn establish(&mut self) -> (TunnelId, TunnelId) {
        let t = self.lac.connect(self.now, lns_addr()).unwrap();
        assert!(
            self.run_until(Duration::from_secs(120), |n| tunnel_up(&n.lac_events)
                .is_some()
                && tunnel_up(&n.lns_events).is_some()),
            "tunnel did not come up: LAC {:?} LNS {:?}",
            self.lac_events,
            self.lns_events
        );
        (t, tunnel_up(&self.lns_events).unwrap())
    }

    /// Messages of type `kind` sent in direction `dir`, decoded.
    pub fn sent_messages(&self, dir: Dir, kind: MessageType) -> Vec<Message> {
        self.sent
            .iter()
            .filter(|(d, _, _)| *d == dir)
            .filter_map(|(_, _, b)| decode(b))
            .filter(|m| m.kind == kind)
            .collect()
    }
}

pub fn tunnel_up(events: &[Event]) -> Option<TunnelId> {
    events.iter().find_map(|e| match e {
        Event::TunnelUp { tunnel, .. } => Some(*tunnel),
        _ => None,
    })
}

pub fn sessions_up(events: &[Event]) -> Vec<(TunnelId, SessionId)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::SessionUp {
                tunnel, session, ..
            } => Some((*tunnel, *session)),
            _ => None,
        })
        .collect()
}

/// Decode a control datagram (unhiding with [`SECRET`]); None for ZLBs and data.
pub fn decode(b: &[u8]) -> Option<Message> {
    match header::parse(b).ok()? {
        Header::Control(h) if !h.body.is_empty() => Message::decode(&b[h.body], Some(SECRET)).ok(),
        _ => None,
    }
}

pub fn kind(b: &[u8]) -> Option<MessageType> {
    decode(b).map(|m| m.kind)
}

pub fn is_zlb(b: &[u8]) -> bool {
    matches!(header::parse(b), Ok(Header::Control(h)) if h.body.is_empty())
}
