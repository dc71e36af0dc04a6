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
            for secret in [None, Some(&b"fuzz-secret"[..])] {
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

/// An LNS engine fed arbitrary datagrams. The input is a sequence of records
/// `[time step (1 byte, 100 ms units)] [length (1 byte)] [datagram]`; ids found in the
/// engine's own transmissions are spliced into the datagram's tunnel id so the fuzzer gets
/// past the tunnel lookup.
pub fn engine(data: &[u8]) {
    let cfg = Config {
        secret: Some(b"fuzz-secret".to_vec()),
        receive_window: 8,
        ..Config::default()
    };
    let Ok(mut e) = Engine::new(cfg, Box::new(TestRng(0x5eed))) else {
        return;
    };
    let peer = SocketAddr::from((Ipv4Addr::new(192, 0, 2, 1), 1701));
    let mut now = Instant::now();
    let mut our_tunnel: Option<[u8; 2]> = None;
    let mut rest = data;
    while rest.len() >= 2 {
        now += Duration::from_millis(100 * rest[0] as u64);
        let len = (rest[1] as usize).min(rest.len() - 2);
        let mut dgram = rest[2..2 + len].to_vec();
        rest = &rest[2 + len..];
        if let (Some(id), true) = (our_tunnel, dgram.len() >= 6) {
            // Address our tunnel unless the datagram targets tunnel 0 (new SCCRQ).
            let at = if dgram[0] & 0x40 != 0 { 4 } else { 2 };
            if dgram.len() >= at + 2 && dgram[at..at + 2] != [0, 0] {
                dgram[at..at + 2].copy_from_slice(&id);
            }
        }
        let _ = e.handle_datagram(now, peer, &dgram);
        if e.poll_timeout().is_some_and(|t| t <= now) {
            e.handle_timeout(now);
        }
        while let Some(t) = e.poll_transmit() {
            // SCCRP's Assigned Tunnel ID is our id; remember any AVP 9 we send.
            if let Ok(header::Header::Control(h)) = header::parse(&t.contents) {
                if let Ok(m) = Message::decode(&t.contents[h.body.clone()], Some(b"fuzz-secret")) {
                    if let Some(id) = m.assigned_tunnel_id() {
                        our_tunnel = Some(id.to_be_bytes());
                    }
                }
            }
        }
        while e.poll_event().is_some() {}
    }
}
