//! Test harness shared by the in-memory conversations: a LAC and an LNS `Endpoint` over a link
//! that can drop and delay (so reorder) L2TP control messages, a fake clock, and a "backend"
//! answering the LNS's authentication requests as the daemon + RADIUS would, for one user.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::ops::RangeInclusive;
use std::time::{Duration, Instant};

use l2tp_lac::{CallId, Endpoint, EndpointEvent};
use ppp::chap::md5_response;
use ppp::session::{Credentials, Event as PppEvent, Grant, Verdict};
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

pub const LNS_IP: Ipv4Addr = Ipv4Addr::new(100, 64, 0, 1);
/// The DNS server every accepted login is granted.
pub const DNS: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 53);

pub fn lac_addr() -> SocketAddr {
    "192.0.2.1:1701".parse().unwrap()
}
pub fn lns_addr() -> SocketAddr {
    "192.0.2.2:1701".parse().unwrap()
}

/// Per-direction link behaviour.
#[derive(Clone)]
pub struct Link {
    /// Percentage of L2TP control messages dropped.
    pub control_loss: u32,
    /// Control messages are delayed uniformly in this range (so they may reorder).
    pub control_delay_ms: RangeInclusive<u64>,
    /// Data messages always take this long.
    pub data_delay_ms: u64,
}

impl Link {
    /// Every datagram takes 1 ms, in order, none lost.
    pub fn clean() -> Link {
        Link {
            control_loss: 0,
            control_delay_ms: 1..=1,
            data_delay_ms: 1,
        }
    }
}

pub struct Net {
    pub now: Instant,
    pub lac: Endpoint,
    pub lns: Endpoint,
    pub link: Link,
    rng: ChaCha8Rng,
    /// (delivery time, order) -> (to the LNS?, bytes)
    in_flight: BTreeMap<(Instant, u64), (bool, Vec<u8>)>,
    order: u64,
    pub lac_events: Vec<EndpointEvent>,
    pub lns_events: Vec<EndpointEvent>,
    pub control_dropped: u64,
    /// The one login the backend accepts.
    user: &'static [u8],
    password: &'static [u8],
    /// Authentication requests the LNS saw: (proxied?, credentials).
    pub auth_seen: Vec<(bool, Credentials)>,
    next_ip: u32,
}

impl Net {
    pub fn between(
        lac: Endpoint,
        lns: Endpoint,
        link: Link,
        user: &'static [u8],
        password: &'static [u8],
    ) -> Net {
        Net {
            now: Instant::now(),
            lac,
            lns,
            link,
            rng: ChaCha8Rng::seed_from_u64(7),
            in_flight: BTreeMap::new(),
            order: 0,
            lac_events: Vec::new(),
            lns_events: Vec::new(),
            control_dropped: 0,
            user,
            password,
            auth_seen: Vec::new(),
            next_ip: u32::from(Ipv4Addr::new(100, 64, 0, 2)),
        }
    }

    /// Move what both sides transmit onto the link, dropping and delaying control messages.
    fn collect(&mut self) {
        let mut out = Vec::new();
        while let Some(t) = self.lac.poll_transmit() {
            out.push((true, t.contents));
        }
        while let Some(t) = self.lns.poll_transmit() {
            out.push((false, t.contents));
        }
        for (to_lns, bytes) in out {
            let delay = if l2tp::header::is_control(&bytes) {
                if self.rng.next_u32() % 100 < self.link.control_loss {
                    self.control_dropped += 1;
                    continue;
                }
                let (lo, hi) = (
                    *self.link.control_delay_ms.start(),
                    *self.link.control_delay_ms.end(),
                );
                lo + self.rng.next_u64() % (hi - lo + 1)
            } else {
                self.link.data_delay_ms
            };
            self.order += 1;
            let at = self.now + Duration::from_millis(delay);
            self.in_flight.insert((at, self.order), (to_lns, bytes));
        }
    }

    /// Answer authentication requests as a users file would: only `user`/`password` get in.
    fn serve_auth(&mut self) {
        while let Some(e) = self.lns.poll_event() {
            if let EndpointEvent::Ppp {
                call,
                event: PppEvent::AuthRequest(req),
            } = &e
            {
                self.auth_seen.push((req.proxied, req.credentials.clone()));
                let good = req.username == self.user
                    && match &req.credentials {
                        Credentials::Pap { password, .. } => password == self.password,
                        Credentials::Chap {
                            id,
                            challenge,
                            response,
                        } => response[..] == md5_response(*id, self.password, challenge),
                    };
                let verdict = if good {
                    self.next_ip += 1;
                    Verdict::Accept(Grant {
                        ipv4: Some(Ipv4Addr::from(self.next_ip)),
                        dns: [Some(DNS), None],
                        ..Grant::default()
                    })
                } else {
                    Verdict::Reject {
                        message: b"bad password".to_vec(),
                    }
                };
                let now = self.now;
                assert!(self.lns.auth_verdict(now, *call, verdict));
            }
            self.lns_events.push(e);
        }
    }

    /// Advance the fake clock to the next delivery or timer, and run it.
    pub fn step(&mut self) -> bool {
        self.collect();
        let next_msg = self.in_flight.keys().next().map(|k| k.0);
        let timers = [self.lac.poll_timeout(), self.lns.poll_timeout()];
        let Some(next) = timers.into_iter().flatten().chain(next_msg).min() else {
            return false;
        };
        self.now = self.now.max(next);
        while let Some(entry) = self.in_flight.first_entry() {
            if entry.key().0 > self.now {
                break;
            }
            let (to_lns, bytes) = entry.remove();
            // A refused datagram is counted inside the endpoint; the link may be lossy anyway.
            let _ = if to_lns {
                self.lns.handle_datagram(self.now, lac_addr(), &bytes)
            } else {
                self.lac.handle_datagram(self.now, lns_addr(), &bytes)
            };
        }
        self.lac.handle_timeout(self.now);
        self.lns.handle_timeout(self.now);
        self.serve_auth();
        self.lac_events
            .extend(std::iter::from_fn(|| self.lac.poll_event()));
        true
    }

    pub fn run_until(&mut self, limit: Duration, mut done: impl FnMut(&Net) -> bool) -> bool {
        let end = self.now + limit;
        while self.now < end {
            if done(self) {
                return true;
            }
            if !self.step() {
                return done(self);
            }
        }
        done(self)
    }

    /// The calls whose IPCP opened: (call, our address, the peer's address).
    pub fn ipv4_up(events: &[EndpointEvent]) -> Vec<(CallId, Ipv4Addr, Ipv4Addr)> {
        events
            .iter()
            .filter_map(|e| match e {
                EndpointEvent::Ppp {
                    call,
                    event: PppEvent::Ipv4Up(n),
                } => Some((*call, n.local?, n.peer?)),
                _ => None,
            })
            .collect()
    }
}
