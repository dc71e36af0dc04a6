//! What a valid Disconnect-Request or CoA-Request asks for, and the validation of its
//! attributes against RFC 5176 §3 (the table of §3.6), which decides the NAKs sent without
//! involving the caller.

use super::{ErrorCause, NasIdentity};
use crate::attribute::{service_type, Attribute};
use crate::auth::MessageAuthenticator;
use crate::packet::Packet;
use crate::value::Ipv6Prefix;
use crate::vsa::Vsa;
use crate::Code;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};

/// Which request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DaeKind {
    /// Disconnect-Request (RFC 5176 §2.1): end the session.
    Disconnect,
    /// CoA-Request (RFC 5176 §2.2): change the session's authorization ([`DaeRequest::changes`]).
    Coa,
}

/// The session identification attributes (RFC 5176 §3), each present at most once. A request
/// names the sessions that match *every* attribute present; at least one is (else the request
/// was refused with 402 Missing Attribute).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionSelector {
    pub user_name: Option<Vec<u8>>,
    pub acct_session_id: Option<Vec<u8>>,
    pub acct_multi_session_id: Option<Vec<u8>>,
    pub framed_ip_address: Option<Ipv4Addr>,
    pub framed_ipv6_prefix: Option<Ipv6Prefix>,
    /// RFC 6911 §3.1 (not in RFC 5176's list, but as specific as Framed-IP-Address).
    pub framed_ipv6_address: Option<Ipv6Addr>,
    pub framed_interface_id: Option<[u8; 8]>,
    pub nas_port: Option<u32>,
    pub nas_port_id: Option<Vec<u8>>,
    pub nas_port_type: Option<u32>,
    pub calling_station_id: Option<Vec<u8>>,
    pub called_station_id: Option<Vec<u8>>,
}

impl SessionSelector {
    /// True when no identification attribute is present.
    pub fn is_empty(&self) -> bool {
        *self == SessionSelector::default()
    }
}

/// The NAS identification attributes of the request; all present ones name this NAS (a
/// mismatch was refused with 403).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NasIdentification {
    pub nas_ip_address: Option<Ipv4Addr>,
    pub nas_identifier: Option<Vec<u8>>,
    pub nas_ipv6_address: Option<Ipv6Addr>,
}

/// One Cisco-AVPair (vendor 9, type 1) split at its first `=`, e.g. `throttle` = `yes`,
/// `lcp:interface-config` = `service-policy input 2000`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AvPair {
    pub key: Vec<u8>,
    pub value: Vec<u8>,
}

/// The authorization changes of a CoA-Request that this crate types (RFC 5176 §3.6 note: an
/// attribute present replaces the session's value; one absent leaves it unchanged). Always
/// empty for a Disconnect-Request, which may not carry them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CoaChanges {
    pub session_timeout: Option<u32>,
    pub idle_timeout: Option<u32>,
    /// Filter-Id, in order; may appear several times.
    pub filter_ids: Vec<Vec<u8>>,
    /// Cisco-AVPairs, in order.
    pub av_pairs: Vec<AvPair>,
}

impl CoaChanges {
    pub fn is_empty(&self) -> bool {
        *self == CoaChanges::default()
    }
}

/// An authenticated, validated request for the caller to carry out and answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DaeRequest {
    /// Pass to [`super::DaeServer::answer`].
    pub handle: super::DaeHandle,
    pub kind: DaeKind,
    /// The DAC's address and port (the answer goes there).
    pub source: SocketAddr,
    pub session: SessionSelector,
    pub nas: NasIdentification,
    pub changes: CoaChanges,
    /// Every other attribute, in order, for the caller to apply or refuse (401 Unsupported
    /// Attribute): in a CoA, further authorization attributes (Framed-Route, Class,
    /// Acct-Interim-Interval, vendor attributes other than Cisco-AVPair, ...); in a
    /// Disconnect, vendor attributes (Cisco-AVPair included), Reply-Message and
    /// Acct-Terminate-Cause; in both, attributes outside the dictionary (e.g.
    /// Chargeable-User-Identity), which may identify the session. Message-Authenticator,
    /// Event-Timestamp, Proxy-State, State and a Framed Service-Type are handled here and
    /// not repeated.
    pub other: Vec<Attribute>,
    pub message_authenticator: MessageAuthenticator,
}

type Validated = (
    DaeKind,
    SessionSelector,
    NasIdentification,
    CoaChanges,
    Vec<Attribute>,
);

/// Set a singleton; a second occurrence makes the request invalid (RFC 5176 §3.6: 0-1).
fn once<T: Clone>(slot: &mut Option<T>, value: &T, invalid: &mut bool) {
    if slot.is_some() {
        *invalid = true;
    } else {
        *slot = Some(value.clone());
    }
}

/// Validate a request (code already known to be Disconnect-Request or CoA-Request) and split
/// it into what the caller needs, or the Error-Cause of the NAK to send. When several errors
/// apply, the first of 404, 403, 401, 405, 402 wins: a request that cannot be read, then one
/// meant for another NAS, then one asking for something unsupported.
pub(super) fn validate(packet: &Packet, nas: &NasIdentity) -> Result<Validated, ErrorCause> {
    let kind = match packet.code {
        Code::DisconnectRequest => DaeKind::Disconnect,
        _ => DaeKind::Coa,
    };
    let coa = kind == DaeKind::Coa;
    let mut session = SessionSelector::default();
    let mut ident = NasIdentification::default();
    let mut changes = CoaChanges::default();
    let mut other = Vec::new();
    let (mut invalid, mut unsupported, mut mismatch) = (false, false, false);
    let (mut service, mut state, mut timestamp) = (None, None, None);
    for attribute in &packet.attributes {
        use Attribute as A;
        match attribute {
            // Checked before validation (authenticity, replay) or echoed in the answer.
            A::MessageAuthenticator(_) | A::ProxyState(_) => {}
            A::EventTimestamp(t) => once(&mut timestamp, t, &mut invalid),
            A::State(s) => once(&mut state, s, &mut invalid),
            A::NasIpAddress(a) => {
                mismatch |= !nas.ipv4.contains(a);
                once(&mut ident.nas_ip_address, a, &mut invalid);
            }
            A::NasIdentifier(v) => {
                mismatch |= !nas.identifiers.contains(v);
                once(&mut ident.nas_identifier, v, &mut invalid);
            }
            A::NasIpv6Address(a) => {
                mismatch |= !nas.ipv6.contains(a);
                once(&mut ident.nas_ipv6_address, a, &mut invalid);
            }
            A::UserName(v) => once(&mut session.user_name, v, &mut invalid),
            A::AcctSessionId(v) => once(&mut session.acct_session_id, v, &mut invalid),
            A::AcctMultiSessionId(v) => once(&mut session.acct_multi_session_id, v, &mut invalid),
            A::FramedIpAddress(a) => once(&mut session.framed_ip_address, a, &mut invalid),
            A::FramedIpv6Prefix(p) => once(&mut session.framed_ipv6_prefix, p, &mut invalid),
            A::FramedIpv6Address(a) => once(&mut session.framed_ipv6_address, a, &mut invalid),
            A::FramedInterfaceId(i) => once(&mut session.framed_interface_id, i, &mut invalid),
            A::NasPort(p) => once(&mut session.nas_port, p, &mut invalid),
            A::NasPortId(v) => once(&mut session.nas_port_id, v, &mut invalid),
            A::NasPortType(t) => once(&mut session.nas_port_type, t, &mut invalid),
            A::CallingStationId(v) => once(&mut session.calling_station_id, v, &mut invalid),
            A::CalledStationId(v) => once(&mut session.called_station_id, v, &mut invalid),
            A::ServiceType(t) => once(&mut service, t, &mut invalid),
            A::SessionTimeout(t) if coa => once(&mut changes.session_timeout, t, &mut invalid),
            A::IdleTimeout(t) if coa => once(&mut changes.idle_timeout, t, &mut invalid),
            A::FilterId(f) if coa => changes.filter_ids.push(f.clone()),
            A::VendorSpecific(Vsa::CiscoAvPair(pair)) if coa => match split_av_pair(pair) {
                Some(pair) => changes.av_pairs.push(pair),
                None => invalid = true,
            },
            // RFC 6929 §2.8: an attribute whose value does not fit its type is invalid.
            A::Malformed { .. } => invalid = true,
            // Authentication, accounting and reply-only attributes: never in a request of
            // RFC 5176 (§3.6, "0" in both request columns).
            A::UserPassword(_)
            | A::ChapPassword(_)
            | A::ChapChallenge(_)
            | A::EapMessage(_)
            | A::TunnelPassword(_)
            | A::AcctStatusType(_)
            | A::AcctDelayTime(_)
            | A::AcctInputOctets(_)
            | A::AcctOutputOctets(_)
            | A::AcctAuthentic(_)
            | A::AcctSessionTime(_)
            | A::AcctInputPackets(_)
            | A::AcctOutputPackets(_)
            | A::AcctLinkCount(_)
            | A::AcctInputGigawords(_)
            | A::AcctOutputGigawords(_)
            | A::ErrorCause(_) => unsupported = true,
            // Vendor attributes (identification or policy, vendor-defined), Reply-Message,
            // Acct-Terminate-Cause and attributes outside the dictionary: the caller's call.
            A::VendorSpecific(_)
            | A::ReplyMessage(_)
            | A::AcctTerminateCause(_)
            | A::Other { .. } => other.push(attribute.clone()),
            // Any other dictionary attribute is an authorization attribute: a CoA may carry
            // it (the caller applies or refuses it); a Disconnect-Request may not (§3.6).
            _ if coa => other.push(attribute.clone()),
            _ => unsupported = true,
        }
    }
    if invalid {
        return Err(ErrorCause::InvalidRequest);
    }
    if mismatch {
        return Err(ErrorCause::NasIdentificationMismatch);
    }
    if unsupported {
        return Err(ErrorCause::UnsupportedAttribute);
    }
    match service {
        // Our sessions are all Framed (PPP): naming that service selects them.
        None | Some(service_type::FRAMED) => {}
        // RFC 5176 §3.2: a request with Authorize Only carries only identification and
        // State; with anything else it is NAKed, 401 if so. Otherwise 405: re-authorization
        // initiated by the NAS is not supported.
        Some(service_type::AUTHORIZE_ONLY) if !changes.is_empty() || !other.is_empty() => {
            return Err(ErrorCause::UnsupportedAttribute)
        }
        Some(_) => return Err(ErrorCause::UnsupportedService),
    }
    if session.is_empty() {
        return Err(ErrorCause::MissingAttribute);
    }
    Ok((kind, session, ident, changes, other))
}

/// Cisco-AVPair "key=value"; `None` without a `=` or with an empty key.
fn split_av_pair(pair: &[u8]) -> Option<AvPair> {
    let at = pair.iter().position(|&b| b == b'=')?;
    (at > 0).then(|| AvPair {
        key: pair[..at].to_vec(),
        value: pair[at + 1..].to_vec(),
    })
}
