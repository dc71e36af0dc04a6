//! Fuzz entry points: one function per `cargo fuzz` target, each taking arbitrary bytes.
//! They must never panic except on a genuine bug, which they assert on.
//! `fuzz/` calls these; `tests/fuzz_corpus.rs` replays the committed corpora on stable.

use crate::auth::{verify_request, verify_response};
use crate::client::{Client, ClientConfig, Event, Request, ServerConfig};
use crate::dae::{DaeAnswer, DaeClient, DaeConfig, DaeDrop, DaeServer, ErrorCause};
use crate::{Attribute, Code, Packet, RawPacket};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// Decoder: framing, typed attributes, and the invariant that whatever decodes re-encodes
/// to a packet that decodes to the same value.
pub fn decode_packet(data: &[u8]) {
    let Ok(raw) = RawPacket::parse(data) else {
        assert!(Packet::decode(data).is_err());
        return;
    };
    assert!(raw.attributes().count() <= data.len() / 2);
    let packet = Packet::from_raw(&raw);
    let wire = packet.encode().expect("a decoded packet re-encodes");
    assert_eq!(Packet::decode(&wire).expect("re-encoding decodes"), packet);
}

/// Authenticator checks on hostile packets, both as a request and as a reply.
pub fn verify(data: &[u8]) {
    let Ok(raw) = RawPacket::parse(data) else {
        return;
    };
    let _ = verify_request(&raw, b"fuzz-secret");
    let _ = verify_response(&raw, &[0x5a; 16], b"fuzz-secret");
}

const SERVERS: [(&str, &[u8]); 2] = [("192.0.2.1:1812", b"alpha"), ("192.0.2.2:1812", b"bravo")];

fn server_addr(i: usize) -> SocketAddr {
    SERVERS[i % 2].0.parse().expect("constant address")
}

/// The client fed an arbitrary script of replies and clock ticks.
///
/// Each step starts with an op byte: `0`: advance the clock by the next byte in 100 ms units
/// and handle timeouts; `1`/`2`: a datagram (next byte = length) from server 0/1, delivered
/// as-is on socket 0; `3`/`4`: the same, but first given the identifier of the most recent
/// request sent to that server and signed with its secret, and delivered on the socket that
/// request went out of (the client has two), so the matching and decoding paths are reached;
/// `5`: a datagram from an unknown address; `6`: start another request; `7`: cancel the
/// oldest request. After every step the client's invariants are checked.
pub fn client(data: &[u8]) {
    client_run(data);
}

/// What a [`client`] run produced: authenticated responses and give-ups.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ClientRun {
    pub responses: usize,
    pub timeouts: usize,
}

/// [`client`], returning what happened (used by tests to check that scripts reach deep).
pub fn client_run(data: &[u8]) -> ClientRun {
    let mut run = ClientRun::default();
    let mut config = ClientConfig::new(
        SERVERS
            .iter()
            .map(|(a, s)| ServerConfig {
                address: a.parse().expect("constant address"),
                secret: s.to_vec(),
            })
            .collect(),
    );
    config.sockets = 2;
    let mut client = Client::new(config, [1; 32]).expect("valid config");
    let mut now = Instant::now();
    let mut requests = Vec::new();
    let start = |client: &mut Client, now, n: usize| {
        let request = if n % 3 == 2 {
            Request::accounting(vec![Attribute::AcctSessionId(n.to_string().into_bytes())])
        } else {
            Request::access(vec![Attribute::UserName(b"fuzz".to_vec())]).with_user_password("pw")
        };
        client.send(now, request).expect("valid request")
    };
    requests.push(start(&mut client, now, 0));
    requests.push(start(&mut client, now, 1));
    // Last request bytes sent to each server: (identifier, request authenticator).
    let mut last_sent: LastSent = [None, None];
    let mut buf = Vec::new();
    drain_transmits(&mut client, &mut buf, &mut last_sent);
    let mut rest = data;
    let mut finished = 0usize;
    while let Some((&op, tail)) = rest.split_first() {
        rest = tail;
        match op % 8 {
            0 => {
                let (&step, tail) = rest.split_first().unwrap_or((&30, &[]));
                rest = tail;
                now += Duration::from_millis(100 * u64::from(step));
                client.handle_timeout(now);
            }
            op @ 1..=5 => {
                let (&len, tail) = rest.split_first().unwrap_or((&0, &[]));
                let len = usize::from(len).min(tail.len());
                let (datagram, tail) = tail.split_at(len);
                rest = tail;
                let server = usize::from(op % 2 == 0);
                let mut datagram = datagram.to_vec();
                let mut socket = 0;
                if (op == 3 || op == 4) && datagram.len() >= 20 {
                    if let Some((sent_from, identifier, authenticator)) = last_sent[server] {
                        socket = sent_from;
                        datagram[1] = identifier;
                        // Give it a consistent Length so that signing sees the whole datagram.
                        if let Ok(len) = u16::try_from(datagram.len().min(4096)) {
                            datagram[2..4].copy_from_slice(&len.to_be_bytes());
                        }
                        let _ = crate::auth::sign(
                            &mut datagram,
                            SERVERS[server].1,
                            Some(&authenticator),
                        );
                    }
                }
                let from = if op == 5 {
                    "198.51.100.1:1812".parse().expect("constant address")
                } else {
                    server_addr(server)
                };
                let _ = client.handle_datagram_on(now, socket, from, &datagram);
            }
            6 => requests.push(start(&mut client, now, requests.len())),
            _ => {
                if let Some(&id) = requests.get(finished) {
                    client.cancel(now, id);
                    finished += 1;
                }
            }
        }
        drain_transmits(&mut client, &mut buf, &mut last_sent);
        while let Some(event) = client.poll_event() {
            if let Event::TimedOut { .. } = event {
                run.timeouts += 1;
            }
            if let Event::Response { packet, .. } = event {
                run.responses += 1;
                assert!(
                    packet.code.answers(Code::AccessRequest)
                        || packet.code.answers(Code::AccountingRequest)
                );
            }
        }
        assert!(client.in_flight() <= client.capacity());
        if let Some(deadline) = client.poll_timeout() {
            assert!(deadline > now, "every expired timer was handled");
        }
    }
    run
}

/// Per server: socket, identifier and Request Authenticator of the last request sent to it.
type LastSent = [Option<(usize, u8, [u8; 16])>; 2];

/// Send everything queued, checking that the client only emits well-formed, signed requests.
fn drain_transmits(client: &mut Client, buf: &mut Vec<u8>, last_sent: &mut LastSent) {
    while let Some(t) = client.poll_transmit(buf) {
        let raw = RawPacket::parse(buf).expect("the client sends well-formed packets");
        assert!(matches!(
            raw.code(),
            Code::AccessRequest | Code::AccountingRequest
        ));
        verify_request(&raw, SERVERS[t.server].1).expect("the client signs correctly");
        assert!(t.socket < 2, "only the configured sockets are used");
        last_sent[t.server] = Some((t.socket, raw.identifier(), *raw.authenticator()));
    }
}

/// The DAE client of the [`dae`] target: the address and secret the committed radclient
/// captures (`fuzz/corpus/dae/radclient-*`) were sent with.
pub const DAE_CLIENT: (&str, &[u8]) = ("127.0.0.1:40000", b"testing123");

/// The Dynamic Authorization server fed one arbitrary datagram from its one allowed client:
/// as-is, again (the duplicate path), re-signed with the client's secret as a
/// Disconnect-Request or CoA-Request (even or odd first octet) so arbitrary bytes reach the
/// attribute validation, and from a stranger. Requests handed out are answered, alternately
/// ACK and NAK, and delivered once more (the cached answer). Every datagram the server sends
/// must be a signed answer to the request it answers, sent back to its source.
pub fn dae(data: &[u8]) {
    let from: SocketAddr = DAE_CLIENT.0.parse().expect("constant address");
    let secret = DAE_CLIENT.1;
    let mut config = DaeConfig::new(vec![DaeClient {
        address: from.ip(),
        secret: secret.to_vec(),
    }]);
    config.nas_identity.ipv4.push(std::net::Ipv4Addr::LOCALHOST);
    config.max_cache_entries = 2;
    let mut server = DaeServer::new(config).expect("valid config");
    let now = Instant::now();
    let unix_time = 1_700_000_000;
    let mut resigned = data.to_vec();
    if resigned.len() >= 20 {
        resigned[0] = if data[0] % 2 == 0 { 40 } else { 43 };
        let len = resigned.len().min(4096) as u16;
        resigned[2..4].copy_from_slice(&len.to_be_bytes());
        let _ = crate::auth::sign(&mut resigned, secret, None);
    }
    let mut answered = 0;
    for datagram in [data, data, &resigned[..], &resigned[..]] {
        if let Ok(Some(request)) = server.handle_datagram(now, unix_time, from, datagram) {
            assert_eq!(request.source, from);
            assert!(!request.session.is_empty(), "a request names a session");
            drain_dae(&mut server, datagram, from, secret);
            let answer = if answered % 2 == 0 {
                DaeAnswer::Ack
            } else {
                DaeAnswer::Nak(ErrorCause::SessionContextNotFound)
            };
            answered += 1;
            // Encoding fails only for answers too large for a packet.
            let _ = server.answer(now, request.handle, answer);
        }
        drain_dae(&mut server, datagram, from, secret);
        let stranger: SocketAddr = "192.0.2.99:40000".parse().expect("constant address");
        assert!(matches!(
            server.handle_datagram(now, unix_time, stranger, datagram),
            Err(DaeDrop::UnknownSource(_))
        ));
    }
    assert!(server.pending() <= 2);
}

/// Everything the server queued must answer `request`, signed with `secret`, sent to `to`.
fn drain_dae(server: &mut DaeServer, request: &[u8], to: SocketAddr, secret: &[u8]) {
    while let Some(t) = server.poll_transmit() {
        assert_eq!(t.destination, to);
        let request = RawPacket::parse(request).expect("only parsed requests are answered");
        let reply = RawPacket::parse(&t.contents).expect("the server sends well-formed packets");
        assert!(reply.code().answers(request.code()));
        assert_eq!(reply.identifier(), request.identifier());
        verify_response(&reply, request.authenticator(), secret).expect("answers are signed");
    }
}

#[cfg(test)]
mod tests {
    /// The client target's framing reaches the reply-matching path: a script that answers
    /// the last request with a signed Access-Accept produces an event. (Checked through the
    /// public API the target uses.)
    #[test]
    fn client_script_reaches_a_response() {
        let mut script = vec![3u8, 20, 2, 0, 0, 20];
        script.extend_from_slice(&[0; 16]);
        assert_eq!(super::client_run(&script).responses, 1);
        let ticks = [0, 255, 0, 255, 0, 255, 0, 255];
        assert_eq!(super::client_run(&ticks).timeouts, 2);
    }
}
