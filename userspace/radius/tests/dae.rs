//! Dynamic Authorization (RFC 5176) as the NAS sees it: a Disconnect-Request or CoA-Request
//! arrives, its Request Authenticator is checked with the shared secret, and an ACK or NAK
//! (with Error-Cause) is signed with the request's authenticator.

use radius::{
    error_cause, verify_request, verify_response, Attribute, AuthError, Code, MessageAuthenticator,
    Packet, RawPacket, Vsa,
};
use std::net::Ipv4Addr;

const SECRET: &[u8] = b"dae-secret";

fn disconnect_request() -> Vec<u8> {
    let mut p = Packet::new(Code::DisconnectRequest, 77);
    p.attributes = vec![
        Attribute::UserName(b"alice".to_vec()),
        Attribute::FramedIpAddress(Ipv4Addr::new(192, 0, 2, 10)),
        Attribute::AcctSessionId(b"0000002A5F000001".to_vec()),
    ];
    p.encode_signed(SECRET, None).unwrap()
}

#[test]
fn disconnect_request_is_verified_and_nak_carries_error_cause() {
    let wire = disconnect_request();
    let raw = RawPacket::parse(&wire).unwrap();
    assert_eq!(raw.code(), Code::DisconnectRequest);
    assert_eq!(
        verify_request(&raw, SECRET),
        Ok(MessageAuthenticator::Absent)
    );
    assert_eq!(
        verify_request(&raw, b"not-the-secret"),
        Err(AuthError::BadAuthenticator)
    );

    let request = Packet::from_raw(&raw);
    assert_eq!(
        request.find(|a| match a {
            Attribute::FramedIpAddress(ip) => Some(*ip),
            _ => None,
        }),
        Some(Ipv4Addr::new(192, 0, 2, 10))
    );

    let mut nak = Packet::new(Code::DisconnectNak, request.identifier);
    nak.attributes.push(Attribute::ErrorCause(
        error_cause::SESSION_CONTEXT_NOT_FOUND,
    ));
    let nak_wire = nak
        .encode_signed(SECRET, Some(raw.authenticator()))
        .unwrap();
    let nak_raw = RawPacket::parse(&nak_wire).unwrap();
    assert!(nak_raw.code().answers(Code::DisconnectRequest));
    verify_response(&nak_raw, raw.authenticator(), SECRET).unwrap();
    assert_eq!(
        Packet::decode(&nak_wire).unwrap().attributes,
        vec![Attribute::ErrorCause(503)]
    );
}

#[test]
fn replayed_coa_with_altered_attributes_fails() {
    let mut coa = Packet::new(Code::CoaRequest, 5);
    coa.attributes = vec![
        Attribute::AcctSessionId(b"0000002A5F000001".to_vec()),
        Attribute::VendorSpecific(Vsa::CiscoAvPair(b"subscriber:rate=10M".to_vec())),
    ];
    let wire = coa.encode_signed(SECRET, None).unwrap();
    // An attacker who saw it changes the rate: the authenticator no longer matches.
    let mut altered = wire.clone();
    let pos = altered.windows(3).position(|w| w == b"10M").unwrap();
    altered[pos] = b'9';
    let raw = RawPacket::parse(&altered).unwrap();
    assert_eq!(
        verify_request(&raw, SECRET),
        Err(AuthError::BadAuthenticator)
    );
    // A reply code is not a request.
    let ack = Packet::new(Code::CoaAck, 5)
        .encode_signed(SECRET, Some(&[0; 16]))
        .unwrap();
    assert_eq!(
        verify_request(&RawPacket::parse(&ack).unwrap(), SECRET),
        Err(AuthError::NotARequest(Code::CoaAck))
    );
}
