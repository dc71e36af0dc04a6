//! RFC 2865 §7 example packets, byte for byte (shared secret "xyzzy5461").
//!
//! The hex dumps are those of RFC 2865 §7.1-7.3 as corrected by errata 1469 (the §7.2
//! Service-Type description and the §7.3 State length). Each request is decoded, its password
//! revealed, and re-encoded from typed attributes to the identical bytes; each reply is
//! rebuilt from its attributes and the request's authenticator and must match exactly, which
//! checks the Response Authenticator computation against the RFC.

use radius::{
    hide_user_password, unhide_user_password, verify_response, Attribute, ChapPassword, Code,
    Packet, RawPacket,
};
use std::net::Ipv4Addr;

const SECRET: &[u8] = b"xyzzy5461";

fn hex(s: &str) -> Vec<u8> {
    let digits: Vec<u8> = s.bytes().filter(u8::is_ascii_hexdigit).collect();
    digits
        .chunks(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap(), 16).unwrap())
        .collect()
}

/// Decode a request, check it re-encodes to the same bytes, and return it.
fn request(bytes: &[u8]) -> Packet {
    let p = Packet::decode(bytes).expect("RFC request decodes");
    assert_eq!(
        p.encode().unwrap(),
        bytes,
        "request re-encodes byte for byte"
    );
    p
}

/// Build a reply from attributes, sign it, compare with the RFC bytes, and verify it.
fn reply(code: Code, req: &Packet, attributes: Vec<Attribute>, expected: &[u8]) {
    let mut p = Packet::new(code, req.identifier);
    p.attributes = attributes;
    let signed = p.encode_signed(SECRET, Some(&req.authenticator)).unwrap();
    assert_eq!(signed, expected, "{code:?} rebuilt byte for byte");
    let raw = RawPacket::parse(expected).unwrap();
    verify_response(&raw, &req.authenticator, SECRET).expect("RFC reply verifies");
    assert!(verify_response(&raw, &req.authenticator, b"xyzzy5462").is_err());
    let decoded = Packet::decode(expected).unwrap();
    assert_eq!(decoded.attributes, p.attributes);
}

fn password_of(p: &Packet) -> Vec<u8> {
    let hidden = p
        .find(|a| match a {
            Attribute::UserPassword(h) => Some(h.clone()),
            _ => None,
        })
        .expect("User-Password present");
    let plain = unhide_user_password(&hidden, SECRET, &p.authenticator).unwrap();
    assert_eq!(
        hide_user_password(&plain, SECRET, &p.authenticator).unwrap(),
        hidden,
        "hiding the revealed password gives the RFC bytes back"
    );
    plain
}

#[test]
fn section_7_1_pap_access_request_and_accept() {
    let req_bytes = hex("
        01 00 00 38 0f 40 3f 94 73 97 80 57 bd 83 d5 cb
        98 f4 22 7a 01 06 6e 65 6d 6f 02 12 0d be 70 8d
        93 d4 13 ce 31 96 e4 3f 78 2a 0a ee 04 06 c0 a8
        01 10 05 06 00 00 00 03");
    let req = request(&req_bytes);
    assert_eq!(req.code, Code::AccessRequest);
    assert_eq!(req.identifier, 0);
    assert_eq!(req.attributes[0], Attribute::UserName(b"nemo".to_vec()));
    assert_eq!(password_of(&req), b"arctangent");
    assert_eq!(
        req.attributes[2],
        Attribute::NasIpAddress(Ipv4Addr::new(192, 168, 1, 16))
    );
    assert_eq!(req.attributes[3], Attribute::NasPort(3));

    let accept = hex("
        02 00 00 26 86 fe 22 0e 76 24 ba 2a 10 05 f6 bf
        9b 55 e0 b2 06 06 00 00 00 01 0f 06 00 00 00 00
        0e 06 c0 a8 01 03");
    reply(
        Code::AccessAccept,
        &req,
        vec![
            Attribute::ServiceType(radius::service_type::LOGIN),
            Attribute::LoginService(0),
            Attribute::LoginIpHost(Ipv4Addr::new(192, 168, 1, 3)),
        ],
        &accept,
    );
}

#[test]
fn section_7_2_chap_access_request_and_accept() {
    let req_bytes = hex("
        01 01 00 47 2a ee 86 f0 8d 0d 55 96 9c a5 97 8e
        0d 33 67 a2 01 08 66 6c 6f 70 73 79 03 13 16 e9
        75 57 c3 16 18 58 95 f2 93 ff 63 44 07 72 75 04
        06 c0 a8 01 10 05 06 00 00 00 14 06 06 00 00 00
        02 07 06 00 00 00 01");
    let req = request(&req_bytes);
    assert_eq!(req.identifier, 1);
    assert_eq!(
        req.attributes,
        vec![
            Attribute::UserName(b"flopsy".to_vec()),
            Attribute::ChapPassword(ChapPassword {
                ident: 0x16,
                response: hex("e9 75 57 c3 16 18 58 95 f2 93 ff 63 44 07 72 75")
                    .try_into()
                    .unwrap(),
            }),
            Attribute::NasIpAddress(Ipv4Addr::new(192, 168, 1, 16)),
            Attribute::NasPort(20),
            Attribute::ServiceType(radius::service_type::FRAMED),
            Attribute::FramedProtocol(radius::framed_protocol::PPP),
        ]
    );

    let accept = hex("
        02 01 00 38 15 ef bc 7d ab 26 cf a3 dc 34 d9 c0
        3c 86 01 a4 06 06 00 00 00 02 07 06 00 00 00 01
        08 06 ff ff ff fe 0a 06 00 00 00 02 0d 06 00 00
        00 01 0c 06 00 00 05 dc");
    reply(
        Code::AccessAccept,
        &req,
        vec![
            Attribute::ServiceType(radius::service_type::FRAMED),
            Attribute::FramedProtocol(radius::framed_protocol::PPP),
            Attribute::FramedIpAddress(Ipv4Addr::new(255, 255, 255, 254)),
            Attribute::FramedRouting(2),
            Attribute::FramedCompression(1),
            Attribute::FramedMtu(1500),
        ],
        &accept,
    );
}

#[test]
fn section_7_3_challenge_response_then_reject() {
    let req1_bytes = hex("
        01 02 00 39 f3 a4 7a 1f 6a 6d 76 71 0b 94 7a b9
        30 41 a0 39 01 07 6d 6f 70 73 79 02 12 33 65 75
        73 77 82 89 b5 70 88 5e 15 08 48 25 c5 04 06 c0
        a8 01 10 05 06 00 00 00 07");
    let req1 = request(&req1_bytes);
    assert_eq!(req1.attributes[0], Attribute::UserName(b"mopsy".to_vec()));
    assert_eq!(password_of(&req1), b"challenge");
    assert_eq!(req1.attributes[3], Attribute::NasPort(7));

    let challenge = hex("
        0b 02 00 4e 36 f3 c8 76 4a e8 c7 11 57 40 3c 0c
        71 ff 9c 45 12 30 43 68 61 6c 6c 65 6e 67 65 20
        33 32 37 36 39 34 33 30 2e 20 20 45 6e 74 65 72
        20 72 65 73 70 6f 6e 73 65 20 61 74 20 70 72 6f
        6d 70 74 2e 18 0a 33 32 37 36 39 34 33 30");
    reply(
        Code::AccessChallenge,
        &req1,
        vec![
            Attribute::ReplyMessage(b"Challenge 32769430.  Enter response at prompt.".to_vec()),
            Attribute::State(b"32769430".to_vec()),
        ],
        &challenge,
    );

    let req2_bytes = hex("
        01 03 00 43 b1 22 55 6d 42 8a 13 d0 d6 25 38 07
        c4 57 ec f0 01 07 6d 6f 70 73 79 02 12 69 2c 1f
        20 5f c0 81 b9 19 b9 51 95 f5 61 a5 81 04 06 c0
        a8 01 10 05 06 00 00 00 07 18 0a 33 32 37 36 39
        34 33 30");
    let req2 = request(&req2_bytes);
    assert_eq!(password_of(&req2), b"99101462");
    assert_eq!(
        req2.attributes.last(),
        Some(&Attribute::State(b"32769430".to_vec())),
        "the State from the challenge is echoed"
    );

    let reject = hex("03 03 00 14 a4 2f 4f ca 45 91 6c 4e 09 c8 34 0f 9e 74 6a a0");
    reply(Code::AccessReject, &req2, vec![], &reject);
}
