//! The Dynamic Authorization server (RFC 5176) against what a real DAC sends: FreeRADIUS's
//! `radclient` (captured datagrams committed under `tests/fixtures/dae/`, and, when radclient
//! is installed, radclient itself over loopback), this crate's encoder producing the same
//! bytes, authenticators recomputed independently with MD5, and arbitrary bytes.

use md5::{Digest, Md5};
use proptest::prelude::*;
use radius::dae::{DaeAnswer, DaeClient, DaeConfig, DaeDrop, DaeKind, DaeServer, ErrorCause};
use radius::fuzzing::DAE_CLIENT;
use radius::{verify_response, Attribute, Code, MessageAuthenticator, Packet, RawPacket, Vsa};
use std::io::Write;
use std::net::{SocketAddr, UdpSocket};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The secret the captures were sent with (radclient's customary `testing123`).
const SECRET: &[u8] = DAE_CLIENT.1;
const UNIX: u64 = 1_700_000_000;

fn from() -> SocketAddr {
    DAE_CLIENT.0.parse().unwrap()
}

fn server(secret: &[u8]) -> DaeServer {
    DaeServer::new(DaeConfig::new(vec![DaeClient {
        address: from().ip(),
        secret: secret.to_vec(),
    }]))
    .unwrap()
}

fn capture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/fixtures/dae/radclient-{name}.bin",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn user_and_session() -> Vec<Attribute> {
    vec![
        Attribute::UserName(b"alice".to_vec()),
        Attribute::AcctSessionId(b"0000002A5F000001".to_vec()),
    ]
}

/// `echo 'User-Name = "alice", Acct-Session-Id = "0000002A5F000001"' |
///  radclient 127.0.0.1:PORT disconnect testing123` (FreeRADIUS 3.2.1), and the same with
/// `Message-Authenticator = 0x00` appended: Disconnect and CoA Request Authenticators are
/// computed, so this crate's encoder must produce the very same bytes.
#[test]
fn the_encoder_reproduces_radclient_byte_for_byte() {
    let mut p = Packet::new(Code::DisconnectRequest, 0x01);
    p.attributes = user_and_session();
    assert_eq!(
        p.encode_signed(SECRET, None).unwrap(),
        capture("disconnect")
    );

    let mut p = Packet::new(Code::DisconnectRequest, 0xc1);
    p.attributes = user_and_session();
    p.attributes.push(Attribute::MessageAuthenticator([0; 16]));
    assert_eq!(
        p.encode_signed(SECRET, None).unwrap(),
        capture("disconnect-ma")
    );

    let mut p = Packet::new(Code::CoaRequest, 0x98);
    p.attributes = vec![
        Attribute::UserName(b"alice".to_vec()),
        Attribute::SessionTimeout(3600),
        Attribute::VendorSpecific(Vsa::CiscoAvPair(b"throttle=yes".to_vec())),
    ];
    assert_eq!(p.encode_signed(SECRET, None).unwrap(), capture("coa"));
}

/// The Request Authenticator of the capture, recomputed with MD5 alone (RFC 5176 §2.3).
#[test]
fn capture_authenticator_recomputed_independently() {
    let wire = capture("disconnect");
    let mut h = Md5::new();
    h.update(&wire[..4]);
    h.update([0u8; 16]);
    h.update(&wire[20..]);
    h.update(SECRET);
    assert_eq!(&wire[4..20], &h.finalize()[..]);
}

#[test]
fn radclient_captures_are_accepted_with_the_secret_and_refused_without() {
    for (name, kind, ma) in [
        (
            "disconnect",
            DaeKind::Disconnect,
            MessageAuthenticator::Absent,
        ),
        (
            "disconnect-ma",
            DaeKind::Disconnect,
            MessageAuthenticator::Valid,
        ),
        ("coa", DaeKind::Coa, MessageAuthenticator::Absent),
        ("coa-ma", DaeKind::Coa, MessageAuthenticator::Valid),
    ] {
        let wire = capture(name);
        let mut s = server(SECRET);
        let now = Instant::now();
        let r = s
            .handle_datagram(now, UNIX, from(), &wire)
            .unwrap()
            .unwrap();
        assert_eq!((r.kind, r.message_authenticator), (kind, ma), "{name}");
        assert_eq!(r.session.user_name.as_deref(), Some(&b"alice"[..]));
        if kind == DaeKind::Coa {
            assert_eq!(r.changes.session_timeout, Some(3600));
            assert_eq!(r.changes.av_pairs[0].key, b"throttle");
            assert_eq!(r.changes.av_pairs[0].value, b"yes");
        } else {
            assert_eq!(
                r.session.acct_session_id.as_deref(),
                Some(&b"0000002A5F000001"[..])
            );
        }
        s.answer(now, r.handle, DaeAnswer::Ack).unwrap();
        let reply = s.poll_transmit().unwrap();
        let raw = RawPacket::parse(&reply.contents).unwrap();
        assert_eq!(
            verify_response(
                &raw,
                RawPacket::parse(&wire).unwrap().authenticator(),
                SECRET
            ),
            Ok(ma),
            "{name}: the ACK carries a Message-Authenticator exactly when the request did"
        );

        let mut wrong = server(b"not-testing123");
        assert_eq!(
            wrong.handle_datagram(now, UNIX, from(), &wire),
            Err(DaeDrop::BadAuthenticator),
            "{name}"
        );
        assert!(wrong.poll_transmit().is_none());
    }
}

/// The Disconnect-ACK of the capture, its Response Authenticator recomputed with MD5 alone:
/// MD5(Code + Identifier + Length + Request Authenticator + Attributes + Secret).
#[test]
fn ack_response_authenticator_recomputed_independently() {
    let wire = capture("disconnect");
    let mut s = server(SECRET);
    let now = Instant::now();
    let r = s
        .handle_datagram(now, UNIX, from(), &wire)
        .unwrap()
        .unwrap();
    s.answer(
        now,
        r.handle,
        DaeAnswer::Nak(ErrorCause::SessionContextNotFound),
    )
    .unwrap();
    let nak = s.poll_transmit().unwrap().contents;
    let attributes = [101, 6, 0, 0, 1, 247]; // Error-Cause 503
    assert_eq!(nak[..4], [42, 0x01, 0, 26]);
    assert_eq!(nak[20..], attributes);
    let mut h = Md5::new();
    h.update([42, 0x01, 0, 26]);
    h.update(&wire[4..20]);
    h.update(attributes);
    h.update(SECRET);
    assert_eq!(&nak[4..20], &h.finalize()[..]);
}

proptest! {
    /// Arbitrary bytes from the allowed client, as they come and re-signed with its secret
    /// (so they pass authentication and reach validation), never panic; whatever is sent is
    /// a signed answer (checked inside the fuzz entry point).
    #[test]
    fn arbitrary_datagrams_never_panic(data in proptest::collection::vec(any::<u8>(), 0..600)) {
        radius::fuzzing::dae(&data);
    }

    /// Well-framed requests with arbitrary attributes.
    #[test]
    fn arbitrary_attributes_never_panic(
        coa in any::<bool>(),
        attrs in proptest::collection::vec((any::<u8>(), proptest::collection::vec(any::<u8>(), 0..20)), 0..12),
    ) {
        let mut p = Packet::new(if coa { Code::CoaRequest } else { Code::DisconnectRequest }, 1);
        p.attributes = attrs
            .into_iter()
            .map(|(typ, value)| Attribute::Other { typ, value })
            .collect();
        let wire = p.encode().unwrap();
        radius::fuzzing::dae(&wire);
    }
}

// ------------------------------------------------------------------------------------------
// Live interoperability with radclient (skipped when it is not installed)
// ------------------------------------------------------------------------------------------

/// A DAE socket on loopback driven by a [`DaeServer`] on a thread: ACKs every request,
/// except for User-Name "nobody", NAKed 503 Session Context Not Found.
struct Responder {
    address: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Responder {
    fn start(secret: &[u8]) -> Responder {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        socket
            .set_read_timeout(Some(Duration::from_millis(50)))
            .unwrap();
        let address = socket.local_addr().unwrap();
        let config = DaeConfig::new(vec![DaeClient {
            address: "127.0.0.1".parse().unwrap(),
            secret: secret.to_vec(),
        }]);
        let mut server = DaeServer::new(config).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while !stopping.load(Ordering::Relaxed) {
                let Ok((n, peer)) = socket.recv_from(&mut buf) else {
                    continue;
                };
                let unix = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .unwrap()
                    .as_secs();
                let now = Instant::now();
                if let Ok(Some(request)) = server.handle_datagram(now, unix, peer, &buf[..n]) {
                    let answer = match request.session.user_name.as_deref() {
                        Some(b"nobody") => DaeAnswer::Nak(ErrorCause::SessionContextNotFound),
                        _ => DaeAnswer::Ack,
                    };
                    server.answer(now, request.handle, answer).unwrap();
                }
                while let Some(t) = server.poll_transmit() {
                    socket.send_to(&t.contents, t.destination).unwrap();
                }
            }
        });
        Responder {
            address,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Responder {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// radclient's output for one request (`-x`), or `None` when radclient is not installed.
fn radclient(to: SocketAddr, kind: &str, secret: &str, attributes: &str) -> Option<String> {
    let mut child = match Command::new("radclient")
        .args(["-x", "-r", "2", "-t", "1"])
        .arg(to.to_string())
        .args([kind, secret])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(child) => child,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => panic!("radclient: {e}"),
    };
    child
        .stdin
        .take()
        .unwrap()
        .write_all(attributes.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    Some(format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    ))
}

#[test]
fn radclient_accepts_our_answers() {
    let responder = Responder::start(SECRET);
    let to = responder.address;
    let secret = std::str::from_utf8(SECRET).unwrap();
    let ma = ", Message-Authenticator = 0x00";
    let disconnect = r#"User-Name = "alice", Acct-Session-Id = "0000002A5F000001""#;
    let coa = r#"User-Name = "alice", Session-Timeout = 3600, Cisco-AVPair = "throttle=yes""#;
    let cases = [
        (
            "disconnect",
            disconnect.to_string(),
            "Received Disconnect-ACK",
        ),
        (
            "disconnect",
            format!("{disconnect}{ma}"),
            "Received Disconnect-ACK",
        ),
        ("coa", coa.to_string(), "Received CoA-ACK"),
        ("coa", format!("{coa}{ma}"), "Received CoA-ACK"),
        (
            "coa",
            r#"User-Name = "nobody""#.to_string(),
            "Received CoA-NAK",
        ),
    ];
    for (kind, attributes, expected) in cases {
        let Some(out) = radclient(to, kind, secret, &attributes) else {
            eprintln!("radclient not installed (Debian: freeradius-utils): skipped");
            return;
        };
        assert!(out.contains(expected), "{kind} {attributes}: {out}");
        if expected.ends_with("NAK") {
            assert!(
                out.contains("Error-Cause = Session-Context-Not-Found"),
                "{out}"
            );
        }
    }
    // A wrong secret: the datagram is discarded, radclient hears nothing.
    let out = radclient(to, "disconnect", "wrong-secret", disconnect).unwrap();
    assert!(!out.contains("Received"), "{out}");
    assert!(out.contains("No reply from server"), "{out}");
}
