//! The typed attribute dictionary: what an LNS sends and receives.
//!
//! Sources: RFC 2865 §5 (authentication), RFC 2866 §5 (accounting), RFC 2868 (tunnel),
//! RFC 2869 §5 (extensions, Message-Authenticator), RFC 3162 and RFC 4818 / RFC 6911 (IPv6),
//! RFC 5176 §3.5 (Error-Cause). Attributes outside the dictionary decode as
//! [`Attribute::Other`]; a known attribute whose value is not a valid encoding of its type
//! decodes as [`Attribute::Malformed`] (RFC 6929 §2.8 "invalid attribute"): a reply is never
//! lost because of one bad attribute, and the caller decides what an invalid one means (an LNS
//! should treat an Access-Accept carrying one as a reject).

use crate::value::{
    AttrValue, ChapPassword, EncodeError, Ipv6Prefix, TaggedInt, TaggedText, TunnelPassword,
};
use crate::vsa::Vsa;
use std::net::{Ipv4Addr, Ipv6Addr};

macro_rules! dictionary {
    ($( $(#[$doc:meta])* $variant:ident($ty:ty) = $code:literal as $konst:ident; )*) => {
        /// Attribute type numbers of the dictionary.
        pub mod types {
            $( pub const $konst: u8 = $code; )*
        }

        /// One RADIUS attribute, typed.
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub enum Attribute {
            $( $(#[$doc])* $variant($ty), )*
            /// A dictionary attribute whose value is not a valid encoding of its type.
            Malformed { typ: u8, value: Vec<u8> },
            /// An attribute outside the dictionary, verbatim.
            Other { typ: u8, value: Vec<u8> },
        }

        impl Attribute {
            /// The attribute's Type octet.
            pub fn type_code(&self) -> u8 {
                match self {
                    $( Attribute::$variant(_) => $code, )*
                    Attribute::Malformed { typ, .. } | Attribute::Other { typ, .. } => *typ,
                }
            }

            /// Decode one attribute value. Never fails: see the module documentation.
            pub fn decode(typ: u8, value: &[u8]) -> Attribute {
                match typ {
                    $( $code => match <$ty as AttrValue>::decode(value) {
                        Some(v) => Attribute::$variant(v),
                        None => Attribute::Malformed { typ, value: value.to_vec() },
                    }, )*
                    _ => Attribute::Other { typ, value: value.to_vec() },
                }
            }

            /// Whether `typ` is in the dictionary.
            pub fn is_known_type(typ: u8) -> bool {
                matches!(typ, $( $code )|*)
            }

            fn encode_value(&self, out: &mut Vec<u8>) -> Result<(), &'static str> {
                match self {
                    $( Attribute::$variant(v) => v.encode(out), )*
                    Attribute::Malformed { value, .. } | Attribute::Other { value, .. } => {
                        out.extend_from_slice(value);
                        Ok(())
                    }
                }
            }
        }
    };
}

dictionary! {
    /// User-Name (RFC 2865 §5.1).
    UserName(Vec<u8>) = 1 as USER_NAME;
    /// User-Password (RFC 2865 §5.2), as hidden on the wire: see [`crate::hide_user_password`].
    UserPassword(Vec<u8>) = 2 as USER_PASSWORD;
    /// CHAP-Password (RFC 2865 §5.3).
    ChapPassword(ChapPassword) = 3 as CHAP_PASSWORD;
    /// NAS-IP-Address (RFC 2865 §5.4).
    NasIpAddress(Ipv4Addr) = 4 as NAS_IP_ADDRESS;
    /// NAS-Port (RFC 2865 §5.5).
    NasPort(u32) = 5 as NAS_PORT;
    /// Service-Type (RFC 2865 §5.6), see [`service_type`].
    ServiceType(u32) = 6 as SERVICE_TYPE;
    /// Framed-Protocol (RFC 2865 §5.7), see [`framed_protocol`].
    FramedProtocol(u32) = 7 as FRAMED_PROTOCOL;
    /// Framed-IP-Address (RFC 2865 §5.8); 255.255.255.254 means "NAS assigns from its pool".
    FramedIpAddress(Ipv4Addr) = 8 as FRAMED_IP_ADDRESS;
    /// Framed-IP-Netmask (RFC 2865 §5.9).
    FramedIpNetmask(Ipv4Addr) = 9 as FRAMED_IP_NETMASK;
    /// Framed-Routing (RFC 2865 §5.10).
    FramedRouting(u32) = 10 as FRAMED_ROUTING;
    /// Filter-Id (RFC 2865 §5.11).
    FilterId(Vec<u8>) = 11 as FILTER_ID;
    /// Framed-MTU (RFC 2865 §5.12).
    FramedMtu(u32) = 12 as FRAMED_MTU;
    /// Framed-Compression (RFC 2865 §5.13).
    FramedCompression(u32) = 13 as FRAMED_COMPRESSION;
    /// Login-IP-Host (RFC 2865 §5.14).
    LoginIpHost(Ipv4Addr) = 14 as LOGIN_IP_HOST;
    /// Login-Service (RFC 2865 §5.15).
    LoginService(u32) = 15 as LOGIN_SERVICE;
    /// Reply-Message (RFC 2865 §5.18).
    ReplyMessage(Vec<u8>) = 18 as REPLY_MESSAGE;
    /// Framed-Route (RFC 2865 §5.22), text such as "192.0.2.0/24 0.0.0.0 1".
    FramedRoute(Vec<u8>) = 22 as FRAMED_ROUTE;
    /// State (RFC 2865 §5.24), echoed after an Access-Challenge.
    State(Vec<u8>) = 24 as STATE;
    /// Class (RFC 2865 §5.25), echoed in accounting.
    Class(Vec<u8>) = 25 as CLASS;
    /// Vendor-Specific (RFC 2865 §5.26).
    VendorSpecific(Vsa) = 26 as VENDOR_SPECIFIC;
    /// Session-Timeout (RFC 2865 §5.27), seconds.
    SessionTimeout(u32) = 27 as SESSION_TIMEOUT;
    /// Idle-Timeout (RFC 2865 §5.28), seconds.
    IdleTimeout(u32) = 28 as IDLE_TIMEOUT;
    /// Termination-Action (RFC 2865 §5.29).
    TerminationAction(u32) = 29 as TERMINATION_ACTION;
    /// Called-Station-Id (RFC 2865 §5.30).
    CalledStationId(Vec<u8>) = 30 as CALLED_STATION_ID;
    /// Calling-Station-Id (RFC 2865 §5.31).
    CallingStationId(Vec<u8>) = 31 as CALLING_STATION_ID;
    /// NAS-Identifier (RFC 2865 §5.32).
    NasIdentifier(Vec<u8>) = 32 as NAS_IDENTIFIER;
    /// Proxy-State (RFC 2865 §5.33).
    ProxyState(Vec<u8>) = 33 as PROXY_STATE;
    /// Acct-Status-Type (RFC 2866 §5.1), see [`acct_status_type`].
    AcctStatusType(u32) = 40 as ACCT_STATUS_TYPE;
    /// Acct-Delay-Time (RFC 2866 §5.2), seconds.
    AcctDelayTime(u32) = 41 as ACCT_DELAY_TIME;
    /// Acct-Input-Octets (RFC 2866 §5.3), low 32 bits.
    AcctInputOctets(u32) = 42 as ACCT_INPUT_OCTETS;
    /// Acct-Output-Octets (RFC 2866 §5.4), low 32 bits.
    AcctOutputOctets(u32) = 43 as ACCT_OUTPUT_OCTETS;
    /// Acct-Session-Id (RFC 2866 §5.5).
    AcctSessionId(Vec<u8>) = 44 as ACCT_SESSION_ID;
    /// Acct-Authentic (RFC 2866 §5.6).
    AcctAuthentic(u32) = 45 as ACCT_AUTHENTIC;
    /// Acct-Session-Time (RFC 2866 §5.7), seconds.
    AcctSessionTime(u32) = 46 as ACCT_SESSION_TIME;
    /// Acct-Input-Packets (RFC 2866 §5.8).
    AcctInputPackets(u32) = 47 as ACCT_INPUT_PACKETS;
    /// Acct-Output-Packets (RFC 2866 §5.9).
    AcctOutputPackets(u32) = 48 as ACCT_OUTPUT_PACKETS;
    /// Acct-Terminate-Cause (RFC 2866 §5.10), see [`acct_terminate_cause`].
    AcctTerminateCause(u32) = 49 as ACCT_TERMINATE_CAUSE;
    /// Acct-Multi-Session-Id (RFC 2866 §5.11).
    AcctMultiSessionId(Vec<u8>) = 50 as ACCT_MULTI_SESSION_ID;
    /// Acct-Link-Count (RFC 2866 §5.12).
    AcctLinkCount(u32) = 51 as ACCT_LINK_COUNT;
    /// Acct-Input-Gigawords (RFC 2869 §5.1): times Acct-Input-Octets wrapped.
    AcctInputGigawords(u32) = 52 as ACCT_INPUT_GIGAWORDS;
    /// Acct-Output-Gigawords (RFC 2869 §5.2).
    AcctOutputGigawords(u32) = 53 as ACCT_OUTPUT_GIGAWORDS;
    /// Event-Timestamp (RFC 2869 §5.3), seconds since the Unix epoch.
    EventTimestamp(u32) = 55 as EVENT_TIMESTAMP;
    /// CHAP-Challenge (RFC 2865 §5.40).
    ChapChallenge(Vec<u8>) = 60 as CHAP_CHALLENGE;
    /// NAS-Port-Type (RFC 2865 §5.41), see [`nas_port_type`].
    NasPortType(u32) = 61 as NAS_PORT_TYPE;
    /// Port-Limit (RFC 2865 §5.42).
    PortLimit(u32) = 62 as PORT_LIMIT;
    /// Tunnel-Type (RFC 2868 §3.1), see [`tunnel_type`].
    TunnelType(TaggedInt) = 64 as TUNNEL_TYPE;
    /// Tunnel-Medium-Type (RFC 2868 §3.2), see [`tunnel_medium_type`].
    TunnelMediumType(TaggedInt) = 65 as TUNNEL_MEDIUM_TYPE;
    /// Tunnel-Client-Endpoint (RFC 2868 §3.3).
    TunnelClientEndpoint(TaggedText) = 66 as TUNNEL_CLIENT_ENDPOINT;
    /// Tunnel-Server-Endpoint (RFC 2868 §3.4).
    TunnelServerEndpoint(TaggedText) = 67 as TUNNEL_SERVER_ENDPOINT;
    /// Tunnel-Password (RFC 2868 §3.5), encrypted: see [`crate::unhide_tunnel_password`].
    TunnelPassword(TunnelPassword) = 69 as TUNNEL_PASSWORD;
    /// Connect-Info (RFC 2869 §5.11).
    ConnectInfo(Vec<u8>) = 77 as CONNECT_INFO;
    /// EAP-Message (RFC 3579 §3.1).
    EapMessage(Vec<u8>) = 79 as EAP_MESSAGE;
    /// Message-Authenticator (RFC 3579 §3.2, RFC 2869 §5.14): HMAC-MD5 over the packet.
    MessageAuthenticator([u8; 16]) = 80 as MESSAGE_AUTHENTICATOR;
    /// Tunnel-Private-Group-ID (RFC 2868 §3.6).
    TunnelPrivateGroupId(TaggedText) = 81 as TUNNEL_PRIVATE_GROUP_ID;
    /// Tunnel-Assignment-ID (RFC 2868 §3.7).
    TunnelAssignmentId(TaggedText) = 82 as TUNNEL_ASSIGNMENT_ID;
    /// Acct-Interim-Interval (RFC 2869 §5.16), seconds.
    AcctInterimInterval(u32) = 85 as ACCT_INTERIM_INTERVAL;
    /// NAS-Port-Id (RFC 2869 §5.17).
    NasPortId(Vec<u8>) = 87 as NAS_PORT_ID;
    /// Framed-Pool (RFC 2869 §5.18).
    FramedPool(Vec<u8>) = 88 as FRAMED_POOL;
    /// Tunnel-Client-Auth-ID (RFC 2868 §3.9).
    TunnelClientAuthId(TaggedText) = 90 as TUNNEL_CLIENT_AUTH_ID;
    /// Tunnel-Server-Auth-ID (RFC 2868 §3.10).
    TunnelServerAuthId(TaggedText) = 91 as TUNNEL_SERVER_AUTH_ID;
    /// NAS-IPv6-Address (RFC 3162 §2.1).
    NasIpv6Address(Ipv6Addr) = 95 as NAS_IPV6_ADDRESS;
    /// Framed-Interface-Id (RFC 3162 §2.2).
    FramedInterfaceId([u8; 8]) = 96 as FRAMED_INTERFACE_ID;
    /// Framed-IPv6-Prefix (RFC 3162 §2.3).
    FramedIpv6Prefix(Ipv6Prefix) = 97 as FRAMED_IPV6_PREFIX;
    /// Framed-IPv6-Route (RFC 3162 §2.5).
    FramedIpv6Route(Vec<u8>) = 99 as FRAMED_IPV6_ROUTE;
    /// Framed-IPv6-Pool (RFC 3162 §2.6).
    FramedIpv6Pool(Vec<u8>) = 100 as FRAMED_IPV6_POOL;
    /// Error-Cause (RFC 5176 §3.5), see [`error_cause`].
    ErrorCause(u32) = 101 as ERROR_CAUSE;
    /// Delegated-IPv6-Prefix (RFC 4818 §3).
    DelegatedIpv6Prefix(Ipv6Prefix) = 123 as DELEGATED_IPV6_PREFIX;
    /// Framed-IPv6-Address (RFC 6911 §3.1).
    FramedIpv6Address(Ipv6Addr) = 168 as FRAMED_IPV6_ADDRESS;
}

impl Attribute {
    /// Append the attribute (Type, Length, Value) to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let typ = self.type_code();
        let start = out.len();
        out.extend_from_slice(&[typ, 0]);
        if let Err(reason) = self.encode_value(out) {
            out.truncate(start);
            return Err(EncodeError::InvalidValue { typ, reason });
        }
        let len = out.len() - start;
        if len - 2 > crate::value::MAX_VALUE_LEN {
            out.truncate(start);
            return Err(EncodeError::AttributeTooLong { typ, len: len - 2 });
        }
        out[start + 1] = len as u8; // ≤ 255, checked just above
        Ok(())
    }
}

/// Service-Type values (RFC 2865 §5.6).
pub mod service_type {
    pub const LOGIN: u32 = 1;
    pub const FRAMED: u32 = 2;
    pub const AUTHENTICATE_ONLY: u32 = 8;
    pub const AUTHORIZE_ONLY: u32 = 17;
}

/// Framed-Protocol values (RFC 2865 §5.7).
pub mod framed_protocol {
    pub const PPP: u32 = 1;
}

/// Acct-Status-Type values (RFC 2866 §5.1).
pub mod acct_status_type {
    pub const START: u32 = 1;
    pub const STOP: u32 = 2;
    pub const INTERIM_UPDATE: u32 = 3;
    pub const ACCOUNTING_ON: u32 = 7;
    pub const ACCOUNTING_OFF: u32 = 8;
}

/// Acct-Authentic values (RFC 2866 §5.6).
pub mod acct_authentic {
    pub const RADIUS: u32 = 1;
    pub const LOCAL: u32 = 2;
    pub const REMOTE: u32 = 3;
}

/// Acct-Terminate-Cause values (RFC 2866 §5.10).
pub mod acct_terminate_cause {
    pub const USER_REQUEST: u32 = 1;
    pub const LOST_CARRIER: u32 = 2;
    pub const LOST_SERVICE: u32 = 3;
    pub const IDLE_TIMEOUT: u32 = 4;
    pub const SESSION_TIMEOUT: u32 = 5;
    pub const ADMIN_RESET: u32 = 6;
    pub const ADMIN_REBOOT: u32 = 7;
    pub const PORT_ERROR: u32 = 8;
    pub const NAS_ERROR: u32 = 9;
    pub const NAS_REQUEST: u32 = 10;
    pub const NAS_REBOOT: u32 = 11;
    pub const PORT_UNNEEDED: u32 = 12;
    pub const PORT_PREEMPTED: u32 = 13;
    pub const PORT_SUSPENDED: u32 = 14;
    pub const SERVICE_UNAVAILABLE: u32 = 15;
    pub const CALLBACK: u32 = 16;
    pub const USER_ERROR: u32 = 17;
    pub const HOST_REQUEST: u32 = 18;
}

/// NAS-Port-Type values (RFC 2865 §5.41, RFC 4603).
pub mod nas_port_type {
    pub const ASYNC: u32 = 0;
    pub const SYNC: u32 = 1;
    pub const ISDN_SYNC: u32 = 2;
    pub const VIRTUAL: u32 = 5;
    pub const ETHERNET: u32 = 15;
    pub const XDSL: u32 = 16;
    pub const PPPOA: u32 = 30;
    pub const PPPOEOA: u32 = 31;
    pub const PPPOEOE: u32 = 32;
    pub const PPPOEOVLAN: u32 = 33;
    pub const PPPOEOQINQ: u32 = 34;
}

/// Tunnel-Type values (RFC 2868 §3.1).
pub mod tunnel_type {
    pub const PPTP: u32 = 1;
    pub const L2F: u32 = 2;
    pub const L2TP: u32 = 3;
}

/// Tunnel-Medium-Type values (RFC 2868 §3.2).
pub mod tunnel_medium_type {
    pub const IPV4: u32 = 1;
    pub const IPV6: u32 = 2;
}

/// Error-Cause values (RFC 5176 §3.5).
pub mod error_cause {
    pub const RESIDUAL_SESSION_CONTEXT_REMOVED: u32 = 201;
    pub const INVALID_EAP_PACKET: u32 = 202;
    pub const UNSUPPORTED_ATTRIBUTE: u32 = 401;
    pub const MISSING_ATTRIBUTE: u32 = 402;
    pub const NAS_IDENTIFICATION_MISMATCH: u32 = 403;
    pub const INVALID_REQUEST: u32 = 404;
    pub const UNSUPPORTED_SERVICE: u32 = 405;
    pub const UNSUPPORTED_EXTENSION: u32 = 406;
    pub const INVALID_ATTRIBUTE_VALUE: u32 = 407;
    pub const ADMINISTRATIVELY_PROHIBITED: u32 = 501;
    pub const REQUEST_NOT_ROUTABLE: u32 = 502;
    pub const SESSION_CONTEXT_NOT_FOUND: u32 = 503;
    pub const SESSION_CONTEXT_NOT_REMOVABLE: u32 = 504;
    pub const OTHER_PROXY_PROCESSING_ERROR: u32 = 505;
    pub const RESOURCES_UNAVAILABLE: u32 = 506;
    pub const REQUEST_INITIATED: u32 = 507;
    pub const MULTIPLE_SESSION_SELECTION_UNSUPPORTED: u32 = 508;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_values_of_known_types_become_malformed() {
        assert_eq!(
            Attribute::decode(types::SESSION_TIMEOUT, &[0, 0, 1]),
            Attribute::Malformed {
                typ: 27,
                value: vec![0, 0, 1]
            }
        );
        assert_eq!(
            Attribute::decode(types::SESSION_TIMEOUT, &[0, 0, 1, 44]),
            Attribute::SessionTimeout(300)
        );
        assert_eq!(
            Attribute::decode(200, &[1, 2]),
            Attribute::Other {
                typ: 200,
                value: vec![1, 2]
            }
        );
        assert!(Attribute::is_known_type(80));
        assert!(!Attribute::is_known_type(200));
    }

    #[test]
    fn encoder_enforces_the_253_byte_value_limit() {
        let mut out = vec![9];
        let ok = Attribute::Class(vec![7; 253]);
        ok.encode(&mut out).unwrap();
        assert_eq!(&out[..3], &[9, 25, 255]);
        let too_long = Attribute::Class(vec![7; 254]);
        let before = out.clone();
        assert_eq!(
            too_long.encode(&mut out),
            Err(EncodeError::AttributeTooLong { typ: 25, len: 254 })
        );
        assert_eq!(out, before, "a failed encode leaves the buffer untouched");
    }
}
