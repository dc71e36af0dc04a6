//! Shared-secret cryptography of RADIUS: authenticators, Message-Authenticator, User-Password
//! hiding and CHAP.
//!
//! * Response Authenticator: RFC 2865 §3 — MD5(Code+ID+Length+RequestAuth+Attributes+Secret).
//! * Accounting / CoA / Disconnect Request Authenticator: RFC 2866 §3, RFC 5176 §2.3 — the same
//!   MD5 with sixteen zero octets in place of the authenticator.
//! * Message-Authenticator: RFC 3579 §3.2 — HMAC-MD5 keyed with the secret over the whole
//!   packet with the attribute's value zeroed; the Authenticator field holds the Request
//!   Authenticator (Access-Request, and replies, which use the request's), or zeros for
//!   Accounting/CoA/Disconnect requests (RFC 5176 §3.4; as FreeRADIUS does for accounting).
//!   When both are present the HMAC is computed first, then the MD5 authenticator over the
//!   packet containing it.
//!
//! Comparisons are constant-time. Nothing here allocates except the password helpers.

use crate::attribute::types::MESSAGE_AUTHENTICATOR;
use crate::value::EncodeError;
use crate::wire::{DecodeError, RawPacket};
use crate::{Code, HEADER_LEN};
use hmac::{Hmac, Mac};
use md5::{Digest, Md5};
use subtle::ConstantTimeEq;

type HmacMd5 = Hmac<Md5>;

/// Why an authenticator check failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("packet framing: {0}")]
    Decode(#[from] DecodeError),
    #[error("{0:?} is not a request")]
    NotARequest(Code),
    #[error("authenticator does not match the shared secret")]
    BadAuthenticator,
    #[error("Message-Authenticator does not match the shared secret")]
    BadMessageAuthenticator,
    #[error("Message-Authenticator attribute is not 16 octets")]
    MalformedMessageAuthenticator,
    #[error("more than one Message-Authenticator attribute")]
    DuplicateMessageAuthenticator,
}

/// Why a packet could not be encoded and signed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignError {
    #[error(transparent)]
    Encode(#[from] EncodeError),
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error("a {0:?} is a reply: signing it needs the request's authenticator")]
    MissingRequestAuthenticator(Code),
}

/// Whether a verified packet carried a (valid) Message-Authenticator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageAuthenticator {
    Valid,
    Absent,
}

/// Offset of the Message-Authenticator *value* in the packet, if the attribute is present.
fn message_authenticator_offset(raw: &RawPacket<'_>) -> Result<Option<usize>, AuthError> {
    let mut found = None;
    for attr in raw.attributes().filter(|a| a.typ == MESSAGE_AUTHENTICATOR) {
        if attr.value.len() != 16 {
            return Err(AuthError::MalformedMessageAuthenticator);
        }
        if found.is_some() {
            return Err(AuthError::DuplicateMessageAuthenticator);
        }
        found = Some(attr.offset + 2);
    }
    Ok(found)
}

/// MD5(packet with `authenticator` in the Authenticator field, then secret).
fn md5_with_authenticator(packet: &[u8], authenticator: &[u8; 16], secret: &[u8]) -> [u8; 16] {
    let mut h = Md5::new();
    h.update(&packet[..4]);
    h.update(authenticator);
    h.update(&packet[HEADER_LEN..]);
    h.update(secret);
    h.finalize().into()
}

/// HMAC-MD5 over the packet with `authenticator` in the Authenticator field and the
/// Message-Authenticator value (at `ma`) zeroed.
fn hmac_with_authenticator(
    packet: &[u8],
    authenticator: &[u8; 16],
    ma: usize,
    secret: &[u8],
) -> HmacMd5 {
    let mut mac = HmacMd5::new_from_slice(secret).expect("HMAC accepts any key length");
    mac.update(&packet[..4]);
    mac.update(authenticator);
    mac.update(&packet[HEADER_LEN..ma]);
    mac.update(&[0; 16]);
    mac.update(&packet[ma + 16..]);
    mac
}

/// Fill in the authenticators of an encoded packet, in place (see the module docs for which
/// applies to which code). For Access-Request and Status-Server the Authenticator field must
/// already hold the random Request Authenticator.
pub fn sign(
    packet: &mut [u8],
    secret: &[u8],
    request_authenticator: Option<&[u8; 16]>,
) -> Result<(), SignError> {
    let (code, ma, len, authenticator) = {
        let raw = RawPacket::parse(packet).map_err(AuthError::from)?;
        let ma = message_authenticator_offset(&raw)?;
        (raw.code(), ma, raw.as_bytes().len(), *raw.authenticator())
    };
    let packet = &mut packet[..len];
    let field: [u8; 16] = match code {
        Code::AccessRequest | Code::StatusServer => authenticator,
        c if c.has_computed_request_authenticator() => [0; 16],
        c => *request_authenticator.ok_or(SignError::MissingRequestAuthenticator(c))?,
    };
    if let Some(ma) = ma {
        let mac = hmac_with_authenticator(packet, &field, ma, secret).finalize();
        packet[ma..ma + 16].copy_from_slice(&mac.into_bytes());
    }
    let final_field = match code {
        Code::AccessRequest | Code::StatusServer => field,
        _ => md5_with_authenticator(packet, &field, secret),
    };
    packet[4..HEADER_LEN].copy_from_slice(&final_field);
    Ok(())
}

fn check_message_authenticator(
    raw: &RawPacket<'_>,
    field: &[u8; 16],
    secret: &[u8],
) -> Result<MessageAuthenticator, AuthError> {
    let Some(ma) = message_authenticator_offset(raw)? else {
        return Ok(MessageAuthenticator::Absent);
    };
    let packet = raw.as_bytes();
    hmac_with_authenticator(packet, field, ma, secret)
        .verify_slice(&packet[ma..ma + 16])
        .map_err(|_| AuthError::BadMessageAuthenticator)?;
    Ok(MessageAuthenticator::Valid)
}

/// Verify a reply against the authenticator of the request it answers: the Response
/// Authenticator always, the Message-Authenticator when present. Whether its absence is
/// acceptable is the caller's policy.
pub fn verify_response(
    response: &RawPacket<'_>,
    request_authenticator: &[u8; 16],
    secret: &[u8],
) -> Result<MessageAuthenticator, AuthError> {
    let expected = md5_with_authenticator(response.as_bytes(), request_authenticator, secret);
    if !bool::from(expected.ct_eq(response.authenticator())) {
        return Err(AuthError::BadAuthenticator);
    }
    check_message_authenticator(response, request_authenticator, secret)
}

/// Verify a received request: the computed Request Authenticator of Accounting-, CoA- and
/// Disconnect-Requests (RFC 2866 §3, RFC 5176 §2.3) and any Message-Authenticator.
/// Access-Request and Status-Server carry a random authenticator: only their
/// Message-Authenticator can be checked.
pub fn verify_request(
    request: &RawPacket<'_>,
    secret: &[u8],
) -> Result<MessageAuthenticator, AuthError> {
    let code = request.code();
    match code {
        Code::AccessRequest | Code::StatusServer => {
            check_message_authenticator(request, request.authenticator(), secret)
        }
        c if c.has_computed_request_authenticator() => {
            let expected = md5_with_authenticator(request.as_bytes(), &[0; 16], secret);
            if !bool::from(expected.ct_eq(request.authenticator())) {
                return Err(AuthError::BadAuthenticator);
            }
            check_message_authenticator(request, &[0; 16], secret)
        }
        c => Err(AuthError::NotARequest(c)),
    }
}

/// Why a User-Password could not be hidden or revealed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("password of {0} bytes exceeds the 128-byte maximum (RFC 2865 §5.2)")]
    TooLong(usize),
    #[error("hidden password of {0} bytes is not 16 to 128 bytes in multiples of 16")]
    BadHiddenLength(usize),
}

/// Longest User-Password (RFC 2865 §5.2).
pub const MAX_PASSWORD_LEN: usize = 128;

/// XOR `data` in 16-octet blocks with the MD5 chain of RFC 2865 §5.2:
/// b1 = MD5(S + RA), bi = MD5(S + c(i-1)). `hiding` selects whether the chain
/// continues from the transformed block (hiding) or from the input block (revealing).
fn password_chain(data: &mut [u8], secret: &[u8], authenticator: &[u8; 16], hiding: bool) {
    let mut previous: [u8; 16] = *authenticator;
    for block in data.chunks_exact_mut(16) {
        let b: [u8; 16] = Md5::new()
            .chain_update(secret)
            .chain_update(previous)
            .finalize()
            .into();
        let input: [u8; 16] = (&*block).try_into().expect("chunks_exact");
        for (c, k) in block.iter_mut().zip(b) {
            *c ^= k;
        }
        previous = if hiding {
            (&*block).try_into().expect("chunks_exact")
        } else {
            input
        };
    }
}

/// Hide a User-Password (RFC 2865 §5.2): pad with NULs to a multiple of 16 (at least 16),
/// then XOR with the MD5 chain keyed by the secret and the Request Authenticator.
pub fn hide_user_password(
    password: &[u8],
    secret: &[u8],
    request_authenticator: &[u8; 16],
) -> Result<Vec<u8>, PasswordError> {
    if password.len() > MAX_PASSWORD_LEN {
        return Err(PasswordError::TooLong(password.len()));
    }
    let padded = password.len().div_ceil(16).max(1) * 16;
    let mut out = password.to_vec();
    out.resize(padded, 0);
    password_chain(&mut out, secret, request_authenticator, true);
    Ok(out)
}

/// Reveal a hidden User-Password; trailing NUL padding is removed.
pub fn unhide_user_password(
    hidden: &[u8],
    secret: &[u8],
    request_authenticator: &[u8; 16],
) -> Result<Vec<u8>, PasswordError> {
    if hidden.is_empty() || hidden.len() % 16 != 0 || hidden.len() > MAX_PASSWORD_LEN {
        return Err(PasswordError::BadHiddenLength(hidden.len()));
    }
    let mut out = hidden.to_vec();
    password_chain(&mut out, secret, request_authenticator, false);
    let end = out.iter().rposition(|&b| b != 0).map_or(0, |p| p + 1);
    out.truncate(end);
    Ok(out)
}

/// Encrypt a Tunnel-Password (RFC 2868 §3.5): a length octet, the password and NUL padding
/// to a multiple of 16, XORed with b(1) = MD5(S + R + salt), b(i) = MD5(S + c(i-1)), where R
/// is the Request Authenticator of the Access-Request the reply answers.
pub fn hide_tunnel_password(
    password: &[u8],
    secret: &[u8],
    request_authenticator: &[u8; 16],
    salt: [u8; 2],
) -> Result<Vec<u8>, PasswordError> {
    // 3 octets of tag and salt + the string must fit in 253: 240 after padding, so 239.
    if password.len() > 239 {
        return Err(PasswordError::TooLong(password.len()));
    }
    let mut data = Vec::with_capacity(password.len() + 16);
    data.push(password.len() as u8);
    data.extend_from_slice(password);
    data.resize(data.len().div_ceil(16) * 16, 0);
    tunnel_chain(&mut data, secret, request_authenticator, salt, true);
    Ok(data)
}

/// Decrypt a Tunnel-Password string (the attribute's `encrypted` field).
pub fn unhide_tunnel_password(
    encrypted: &[u8],
    secret: &[u8],
    request_authenticator: &[u8; 16],
    salt: [u8; 2],
) -> Result<Vec<u8>, PasswordError> {
    if encrypted.is_empty() || encrypted.len() % 16 != 0 {
        return Err(PasswordError::BadHiddenLength(encrypted.len()));
    }
    let mut data = encrypted.to_vec();
    tunnel_chain(&mut data, secret, request_authenticator, salt, false);
    let len = usize::from(data[0]);
    if len > data.len() - 1 {
        return Err(PasswordError::BadHiddenLength(encrypted.len()));
    }
    Ok(data[1..1 + len].to_vec())
}

fn tunnel_chain(
    data: &mut [u8],
    secret: &[u8],
    request_authenticator: &[u8; 16],
    salt: [u8; 2],
    hiding: bool,
) {
    let mut previous: Option<[u8; 16]> = None;
    for block in data.chunks_exact_mut(16) {
        let mut h = Md5::new().chain_update(secret);
        match previous {
            None => h = h.chain_update(request_authenticator).chain_update(salt),
            Some(c) => h = h.chain_update(c),
        }
        let b: [u8; 16] = h.finalize().into();
        let input: [u8; 16] = (&*block).try_into().expect("chunks_exact");
        for (c, k) in block.iter_mut().zip(b) {
            *c ^= k;
        }
        previous = Some(if hiding {
            (&*block).try_into().expect("chunks_exact")
        } else {
            input
        });
    }
}

/// The CHAP-MD5 response (RFC 1994 §4.1): MD5(Identifier + secret + Challenge). A RADIUS
/// server computes this to check a CHAP-Password; tests and the LNS use it to build one.
pub fn chap_md5_response(ident: u8, password: &[u8], challenge: &[u8]) -> [u8; 16] {
    Md5::new()
        .chain_update([ident])
        .chain_update(password)
        .chain_update(challenge)
        .finalize()
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    const AUTH: [u8; 16] = *b"0123456789abcdef";

    #[test]
    fn long_passwords_round_trip_across_block_boundaries() {
        for len in [0usize, 1, 15, 16, 17, 31, 32, 33, 100, 127, 128] {
            let pw: Vec<u8> = (0..len).map(|i| b'a' + (i % 26) as u8).collect();
            let hidden = hide_user_password(&pw, b"s3cret", &AUTH).unwrap();
            assert_eq!(hidden.len(), len.div_ceil(16).max(1) * 16, "len {len}");
            if len > 0 {
                assert_ne!(&hidden[..len.min(16)], &pw[..len.min(16)]);
            }
            assert_eq!(unhide_user_password(&hidden, b"s3cret", &AUTH).unwrap(), pw);
            if len > 16 {
                // Blocks chain: a wrong second block must not reveal the rest correctly.
                let mut tampered = hidden.clone();
                tampered[16] ^= 1;
                let revealed = unhide_user_password(&tampered, b"s3cret", &AUTH).unwrap();
                assert_ne!(revealed, pw);
            }
        }
        assert_eq!(
            hide_user_password(&[b'x'; 129], b"s", &AUTH),
            Err(PasswordError::TooLong(129))
        );
        assert_eq!(
            unhide_user_password(&[0; 17], b"s", &AUTH),
            Err(PasswordError::BadHiddenLength(17))
        );
        assert_eq!(
            unhide_user_password(&[], b"s", &AUTH),
            Err(PasswordError::BadHiddenLength(0))
        );
    }

    #[test]
    fn rfc_1994_chap_response_for_a_known_challenge() {
        // Independently computed: python3 -c 'import hashlib;
        //   print(hashlib.md5(bytes([1]) + b"secret" + bytes(range(16))).hexdigest())'
        let r = chap_md5_response(1, b"secret", &(0u8..16).collect::<Vec<_>>());
        assert_eq!(hex(&r), "740e86463bda3a4d7017d6e0fba0699d");
    }

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }
}
