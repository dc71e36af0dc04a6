//! Tunnel authentication (RFC 2661 §5.1.1): the Challenge Response is
//! `MD5(message type ‖ shared secret ‖ challenge)`, where the type is that of the message
//! carrying the response (2 for SCCRP, 3 for SCCCN).

use md5::{Digest, Md5};

/// Compute the Challenge Response AVP value.
pub fn challenge_response(message_type: u16, secret: &[u8], challenge: &[u8]) -> [u8; 16] {
    let mut h = Md5::new();
    // Only the low octet of the type is hashed (the "ID" of CHAP, RFC 1994 §4.1).
    h.update([message_type as u8]);
    h.update(secret);
    h.update(challenge);
    h.finalize().into()
}

/// Compare two responses in constant time.
pub(crate) fn responses_equal(a: &[u8; 16], b: &[u8; 16]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_vector() {
        // MD5(0x02 ‖ "secret" ‖ 00 01 .. 0f), computed independently with Python hashlib.
        let challenge: Vec<u8> = (0..16).collect();
        let r = challenge_response(2, b"secret", &challenge);
        let hex: String = r.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, "dd4186e2196f00124a9d588f02701259");
        assert_ne!(r, challenge_response(3, b"secret", &challenge));
        assert!(responses_equal(&r, &r));
        assert!(!responses_equal(
            &r,
            &challenge_response(3, b"secret", &challenge)
        ));
    }
}
