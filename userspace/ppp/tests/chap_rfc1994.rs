//! RFC 1994 CHAP-MD5: our response for a known challenge, checked against an independent
//! implementation (Python's hashlib, tests/fixtures/chap_md5.py), and the response our peer
//! engine actually puts on the wire.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use ppp::chap::{md5_response, ChapPacket};
use ppp::frame::{decode_frame, encode_frame, protocol};
use ppp::session::{Session, SessionConfig};

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn python_md5(id: u8, secret: &[u8], challenge: &[u8]) -> String {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/chap_md5.py");
    let out = Command::new("python3")
        .arg(script)
        .arg(id.to_string())
        .arg(hex(secret))
        .arg(hex(challenge))
        .output()
        .expect("python3 is needed for this test");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("utf-8")
        .trim()
        .to_string()
}

#[test]
fn known_challenge_matches_independent_md5() {
    let challenge: Vec<u8> = (0u8..16)
        .map(|i| i.wrapping_mul(17).wrapping_add(3))
        .collect();
    for (id, secret) in [
        (0u8, &b"secret"[..]),
        (0x42, b"s3cr3t-with-\xff-bytes"),
        (255, b""),
    ] {
        let ours = md5_response(id, secret, &challenge);
        assert_eq!(hex(&ours), python_md5(id, secret, &challenge), "id {id}");
    }
    // A fixed vector as well, so a broken python3 cannot make the test vacuous:
    // MD5(0x01 ‖ "password" ‖ 00..0f).
    // (computed once with `python3 -c "import hashlib; print(hashlib.md5(bytes([1]) +
    // b'password' + bytes(range(16))).hexdigest())"`).
    let fixed = md5_response(1, b"password", &(0u8..16).collect::<Vec<_>>());
    assert_eq!(hex(&fixed), "51b4c75f261478f67e37e429440e294d");
    assert_ne!(
        fixed,
        md5_response(2, b"password", &(0u8..16).collect::<Vec<_>>())
    );
}

#[test]
fn peer_engine_answers_challenge_with_rfc1994_response() {
    let now = Instant::now();
    let mut cfg = SessionConfig::peer(b"bob", b"hunter2");
    cfg.echo_interval = None;
    let mut peer = Session::new(cfg, [9; 16]);
    peer.start(now);
    // Bring LCP up by hand: the authenticator's request asks for CHAP-MD5.
    let our_req = peer.poll_transmit().expect("LCP Configure-Request");
    let f = decode_frame(&our_req).unwrap();
    let raw = ppp::packet::RawPacket::decode(f.payload).unwrap();
    let ack = ppp::packet::encode_packet(2, raw.id, &[raw.data]);
    peer.handle_frame(now, &encode_frame(protocol::LCP, &ack, false, false))
        .unwrap();
    let opts = ppp::packet::encode_options(&[ppp::options::LcpOption::AuthProtocol(
        ppp::options::AuthProtocol::CHAP_MD5,
    )]);
    let req = ppp::packet::encode_packet(1, 7, &[&opts]);
    peer.handle_frame(now, &encode_frame(protocol::LCP, &req, false, false))
        .unwrap();
    while peer.poll_transmit().is_some() {}

    let challenge = b"0123456789abcdef".to_vec();
    let ch = ChapPacket::Challenge {
        id: 0x5a,
        value: challenge.clone(),
        name: b"lns".to_vec(),
    };
    peer.handle_frame(
        now,
        &encode_frame(protocol::CHAP, &ch.encode(), false, false),
    )
    .unwrap();
    let resp = peer.poll_transmit().expect("CHAP Response");
    let f = decode_frame(&resp).unwrap();
    assert_eq!(f.protocol, protocol::CHAP);
    match ChapPacket::decode(f.payload).unwrap() {
        ChapPacket::Response { id, value, name } => {
            assert_eq!(id, 0x5a);
            assert_eq!(name, b"bob");
            assert_eq!(hex(&value), python_md5(0x5a, b"hunter2", &challenge));
        }
        p => panic!("expected a Response, got {p:?}"),
    }
}
