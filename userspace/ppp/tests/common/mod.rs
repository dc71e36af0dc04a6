//! Test harness: two real sessions over an in-memory link that can drop, delay and reorder
//! frames, with a fake clock. The "backend" answering authentication requests plays the part
//! of the daemon + RADIUS: it checks PAP passwords and CHAP-MD5 responses for one user.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use ppp::chap::md5_response;
use ppp::session::{Credentials, Event, Grant, Session, Verdict};

/// xorshift64*: a deterministic pseudo-random source for loss and delay.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

pub struct LinkModel {
    pub loss_percent: u64,
    /// Each frame is delayed by 1..=max_delay_ms, so frames reorder.
    pub max_delay_ms: u64,
}

pub const USER: &[u8] = b"alice@isp.example";
pub const SECRET: &[u8] = b"s3cret";

pub fn grant() -> Grant {
    Grant {
        ipv4: Some(Ipv4Addr::new(100, 64, 0, 7)),
        dns: [
            Some(Ipv4Addr::new(192, 0, 2, 53)),
            Some(Ipv4Addr::new(192, 0, 2, 54)),
        ],
        ipv6_interface_id: Some([0x02, 0, 0, 0, 0, 0, 0, 0x07]),
        message: b"Welcome".to_vec(),
    }
}

/// The backend's decision for one request.
pub fn verify(request: &ppp::session::AuthRequest) -> Verdict {
    let ok = request.username == USER
        && match &request.credentials {
            Credentials::Pap { password, .. } => password == SECRET,
            Credentials::Chap {
                id,
                challenge,
                response,
            } => response.as_slice() == md5_response(*id, SECRET, challenge),
        };
    if ok {
        Verdict::Accept(grant())
    } else {
        Verdict::Reject {
            message: b"Access denied".to_vec(),
        }
    }
}

pub struct Conversation {
    pub now: Instant,
    pub start: Instant,
    pub server: Session,
    pub client: Session,
    pub server_events: Vec<Event>,
    pub client_events: Vec<Event>,
    /// (delivery time, sequence) -> (to_server, frame)
    in_flight: BTreeMap<(Instant, u64), (bool, Vec<u8>)>,
    seq: u64,
    rng: Rng,
    link: LinkModel,
    /// Pending verdict: when the "RADIUS" answer arrives.
    verdict_at: Option<(Instant, Verdict)>,
    pub radius_delay: Duration,
    /// Replaces the grant of an accepted request.
    pub grant_override: Option<Grant>,
    pub frames_sent: u64,
    pub frames_dropped: u64,
}

impl Conversation {
    pub fn new(server: Session, client: Session, link: LinkModel, seed: u64) -> Self {
        let now = Instant::now();
        Conversation {
            now,
            start: now,
            server,
            client,
            server_events: Vec::new(),
            client_events: Vec::new(),
            in_flight: BTreeMap::new(),
            seq: 0,
            rng: Rng::new(seed),
            link,
            verdict_at: None,
            radius_delay: Duration::from_millis(150),
            grant_override: None,
            frames_sent: 0,
            frames_dropped: 0,
        }
    }

    fn collect(&mut self) {
        while let Some(f) = self.server.poll_transmit() {
            self.enqueue(false, f);
        }
        while let Some(f) = self.client.poll_transmit() {
            self.enqueue(true, f);
        }
        while let Some(e) = self.server.poll_event() {
            if let Event::AuthRequest(r) = &e {
                let verdict = match (verify(r), &self.grant_override) {
                    (Verdict::Accept(_), Some(g)) => Verdict::Accept(g.clone()),
                    (v, _) => v,
                };
                self.verdict_at = Some((self.now + self.radius_delay, verdict));
            }
            self.server_events.push(e);
        }
        while let Some(e) = self.client.poll_event() {
            self.client_events.push(e);
        }
    }

    fn enqueue(&mut self, to_server: bool, frame: Vec<u8>) {
        self.frames_sent += 1;
        if self.rng.chance(self.link.loss_percent) {
            self.frames_dropped += 1;
            return;
        }
        let delay = 1 + self.rng.next() % self.link.max_delay_ms.max(1);
        self.seq += 1;
        self.in_flight.insert(
            (self.now + Duration::from_millis(delay), self.seq),
            (to_server, frame),
        );
    }

    pub fn start(&mut self) {
        self.server.start(self.now);
        self.client.start(self.now);
        self.collect();
    }

    /// Runs until `done` holds or `limit` of simulated time passes. Returns whether `done`.
    pub fn run_until(&mut self, limit: Duration, done: impl Fn(&Conversation) -> bool) -> bool {
        let end = self.now + limit;
        loop {
            if done(self) {
                return true;
            }
            let next = [
                self.in_flight.keys().next().map(|k| k.0),
                self.server.poll_timeout(),
                self.client.poll_timeout(),
                self.verdict_at.as_ref().map(|v| v.0),
            ]
            .into_iter()
            .flatten()
            .min();
            let Some(next) = next else { return done(self) };
            if next > end {
                return done(self);
            }
            self.now = self.now.max(next);
            if let Some(key) = self.in_flight.keys().next().copied() {
                if key.0 <= self.now {
                    let (to_server, frame) = self.in_flight.remove(&key).unwrap_or_default();
                    let target = if to_server {
                        &mut self.server
                    } else {
                        &mut self.client
                    };
                    target
                        .handle_frame(self.now, &frame)
                        .expect("engines emit valid frames");
                }
            }
            if self.verdict_at.as_ref().is_some_and(|v| v.0 <= self.now) {
                if let Some((_, v)) = self.verdict_at.take() {
                    self.server.auth_verdict(self.now, v);
                }
            }
            self.server.handle_timeout(self.now);
            self.client.handle_timeout(self.now);
            self.collect();
        }
    }

    pub fn elapsed(&self) -> Duration {
        self.now - self.start
    }
}

pub fn has(events: &[Event], f: impl Fn(&Event) -> bool) -> bool {
    events.iter().any(f)
}
