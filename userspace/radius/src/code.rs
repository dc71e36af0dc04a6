//! RADIUS packet codes (RFC 2865 §3, RFC 2866 §3, RFC 5176 §2.3, RFC 5997).

/// The Code field of a RADIUS packet.
///
/// Only codes this crate can handle are represented; anything else is rejected by the decoder
/// with [`crate::DecodeError::UnknownCode`] (RFC 2865 §3: "Packets with an invalid Code field
/// are silently discarded").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Code {
    AccessRequest,
    AccessAccept,
    AccessReject,
    AccountingRequest,
    AccountingResponse,
    AccessChallenge,
    StatusServer,
    DisconnectRequest,
    DisconnectAck,
    DisconnectNak,
    CoaRequest,
    CoaAck,
    CoaNak,
}

impl Code {
    /// Every supported code, in wire order (used by tests and property generators).
    pub const ALL: [Code; 13] = [
        Code::AccessRequest,
        Code::AccessAccept,
        Code::AccessReject,
        Code::AccountingRequest,
        Code::AccountingResponse,
        Code::AccessChallenge,
        Code::StatusServer,
        Code::DisconnectRequest,
        Code::DisconnectAck,
        Code::DisconnectNak,
        Code::CoaRequest,
        Code::CoaAck,
        Code::CoaNak,
    ];

    /// The wire value.
    pub const fn to_u8(self) -> u8 {
        match self {
            Code::AccessRequest => 1,
            Code::AccessAccept => 2,
            Code::AccessReject => 3,
            Code::AccountingRequest => 4,
            Code::AccountingResponse => 5,
            Code::AccessChallenge => 11,
            Code::StatusServer => 12,
            Code::DisconnectRequest => 40,
            Code::DisconnectAck => 41,
            Code::DisconnectNak => 42,
            Code::CoaRequest => 43,
            Code::CoaAck => 44,
            Code::CoaNak => 45,
        }
    }

    /// Parse a wire value; `None` for codes this crate does not handle.
    pub const fn from_u8(value: u8) -> Option<Code> {
        Some(match value {
            1 => Code::AccessRequest,
            2 => Code::AccessAccept,
            3 => Code::AccessReject,
            4 => Code::AccountingRequest,
            5 => Code::AccountingResponse,
            11 => Code::AccessChallenge,
            12 => Code::StatusServer,
            40 => Code::DisconnectRequest,
            41 => Code::DisconnectAck,
            42 => Code::DisconnectNak,
            43 => Code::CoaRequest,
            44 => Code::CoaAck,
            45 => Code::CoaNak,
            _ => return None,
        })
    }

    /// True for packets that start an exchange (their authenticator is a Request Authenticator).
    pub const fn is_request(self) -> bool {
        matches!(
            self,
            Code::AccessRequest
                | Code::AccountingRequest
                | Code::StatusServer
                | Code::DisconnectRequest
                | Code::CoaRequest
        )
    }

    /// True for requests whose Request Authenticator is an MD5 over the packet with a zeroed
    /// authenticator field (RFC 2866 §3, RFC 5176 §2.3) rather than a random nonce.
    pub const fn has_computed_request_authenticator(self) -> bool {
        matches!(
            self,
            Code::AccountingRequest | Code::DisconnectRequest | Code::CoaRequest
        )
    }

    /// Whether `self` is a legitimate reply to a request with code `request`.
    ///
    /// Status-Server (RFC 5997 §3) is answered with Access-Accept on an authentication port
    /// or Accounting-Response on an accounting port.
    pub const fn answers(self, request: Code) -> bool {
        match request {
            Code::AccessRequest => matches!(
                self,
                Code::AccessAccept | Code::AccessReject | Code::AccessChallenge
            ),
            Code::AccountingRequest => matches!(self, Code::AccountingResponse),
            Code::StatusServer => matches!(self, Code::AccessAccept | Code::AccountingResponse),
            Code::DisconnectRequest => matches!(self, Code::DisconnectAck | Code::DisconnectNak),
            Code::CoaRequest => matches!(self, Code::CoaAck | Code::CoaNak),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_values_round_trip_and_unknown_codes_are_rejected() {
        for code in Code::ALL {
            assert_eq!(Code::from_u8(code.to_u8()), Some(code));
        }
        let known: Vec<u8> = Code::ALL.iter().map(|c| c.to_u8()).collect();
        for v in 0..=255u8 {
            assert_eq!(Code::from_u8(v).is_some(), known.contains(&v), "code {v}");
        }
    }

    #[test]
    fn reply_codes_match_their_requests() {
        assert!(Code::AccessChallenge.answers(Code::AccessRequest));
        assert!(!Code::AccountingResponse.answers(Code::AccessRequest));
        assert!(Code::CoaNak.answers(Code::CoaRequest));
        assert!(!Code::DisconnectAck.answers(Code::CoaRequest));
        assert!(!Code::AccessAccept.answers(Code::AccessAccept));
    }
}
