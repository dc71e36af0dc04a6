//! Entry points for the fuzz targets (`fuzz/`) and the corpus replay test. None may panic.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use crate::{header, message::Message, Config, Engine};

/// The header parser and the message decoder (with and without a secret for hidden AVPs);
/// whatever decodes must re-encode and decode to the same message.
pub fn decode(data: &[u8]) {
    match header::parse(data) {
        Ok(header::Header::Control(h)) => {
            let body = &data[h.body.clone()];
            for secret in [None, Some(SECRET)] {
                if let Ok(m) = Message::decode(body, secret) {
                    if let Ok(b) = m.encode(h.tunnel_id, h.session_id, h.ns, h.nr, secret) {
                        let again = Message::decode(&b[header::CONTROL_HEADER_LEN..], secret);
                        assert_eq!(again.as_ref(), Ok(&m), "re-encoding changed the message");
                    }
                }
            }
        }
        Ok(header::Header::Data(d)) => {
            let _ = &data[d.payload()];
        }
        Err(_) => {}
    }
}

/// A deterministic RNG for fuzzing and tests (xorshift; never for production).
pub struct TestRng(pub u64);

impl rand_core::RngCore for TestRng {
    fn next_u32(&mut self) -> u32 {
        self.next_u64() as u32
    }
    fn next_u64(&mut self) -> u64 {
        let mut x = self.0.max(1);
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        rand_core::impls::fill_bytes_via_next(self, dest)
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

/// The secret of the fuzzed LNS.
pub const SECRET: &[u8] = b"fuzz-secret";

/// An LNS engine under test, fed one datagram at a time from a fixed peer; used by the
/// `engine` target and to generate its seed corpus.
pub struct LnsHarness {
    pub engine: Engine,
    pub now: Instant,
    our_tunnel: Option<[u8; 2]>,
}

impl Default for LnsHarness {
    fn default() -> Self {
        Self::new()
    }
}

impl LnsHarness {
    pub const PEER: SocketAddr =
        SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)), 1701);

    pub fn new() -> Self {
        let cfg = Config {
            secret: Some(SECRET.to_vec()),
            receive_window: 8,
            ..Config::default()
        };
        LnsHarness {
            engine: Engine::new(cfg, Box::new(TestRng(0x5eed))).expect("valid config"),
            now: Instant::now(),
            our_tunnel: None,
        }
    }

    /// The tunnel id the engine assigned (from its SCCRP), once known.
    pub fn tunnel(&self) -> Option<crate::TunnelId> {
        self.our_tunnel
            .map(|b| crate::TunnelId(u16::from_be_bytes(b)))
    }

    /// Advance the clock by `step` × 100 ms, deliver `datagram` (if not empty), run due timers, and return
    /// what the engine sent. Once the engine has told us its tunnel id, a non-zero tunnel id
    /// in the datagram is replaced by it, so arbitrary input gets past the tunnel lookup.
    pub fn step(&mut self, step: u8, datagram: &[u8]) -> Vec<Vec<u8>> {
        self.now += Duration::from_millis(100 * step as u64);
        let mut dgram = datagram.to_vec();
        if let Some(id) = self.our_tunnel {
            let at = if dgram.first().is_some_and(|f| f & 0x40 != 0) {
                4
            } else {
                2
            };
            if dgram.len() >= at + 2 && dgram[at..at + 2] != [0, 0] {
                dgram[at..at + 2].copy_from_slice(&id);
            }
        }
        // An empty record only lets time pass (timers: retransmissions, HELLO, setup).
        if !dgram.is_empty() {
            let _ = self.engine.handle_datagram(self.now, Self::PEER, &dgram);
        }
        if self.engine.poll_timeout().is_some_and(|t| t <= self.now) {
            self.engine.handle_timeout(self.now);
        }
        let mut sent = Vec::new();
        while let Some(t) = self.engine.poll_transmit() {
            if let Ok(header::Header::Control(h)) = header::parse(&t.contents) {
                if let Ok(m) = Message::decode(&t.contents[h.body.clone()], Some(SECRET)) {
                    if let Some(id) = m.assigned_tunnel_id() {
                        self.our_tunnel = Some(id.0.to_be_bytes());
                    }
                }
            }
            sent.push(t.contents);
        }
        while self.engine.poll_event().is_some() {}
        sent
    }
}

/// The LNS engine fed arbitrary datagrams. The input is a sequence of records
/// `[time step (1 byte, 100 ms units)] [length (1 byte)] [datagram]`.
pub fn engine(data: &[u8]) {
    let mut h = LnsHarness::new();
    let mut rest = data;
    while rest.len() >= 2 {
        let len = (rest[1] as usize).min(rest.len() - 2);
        h.step(rest[0], &rest[2..2 + len]);
        rest = &rest[2 + len..];
    }
}
