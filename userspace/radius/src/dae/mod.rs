//! Sans-IO RADIUS Dynamic Authorization server (RFC 5176): the NAS side of Disconnect and
//! Change-of-Authorization (CoA) messages.
//!
//! A Dynamic Authorization Client (DAC: a RADIUS server, or `radclient`) sends a
//! Disconnect-Request or CoA-Request to the NAS (UDP port 3799); the NAS finds the session and
//! answers ACK or NAK (RFC 5176 §2.1, §2.2). This module does everything that does not need the
//! session table: it authenticates the request, refuses replays, detects retransmissions,
//! validates the attributes against RFC 5176 §3, and encodes and signs the answer. The caller
//! (the endpoint) only looks the session up and acts on it.
//!
//! # Call contract
//!
//! Driven like `quinn-proto` (and like [`crate::Client`]): no sockets, no clocks.
//!
//! 1. [`DaeServer::new`] with a [`DaeConfig`]: the clients allowed to send requests (address
//!    and shared secret), the NAS's own identity (for NAS-IP-Address / NAS-Identifier /
//!    NAS-IPv6-Address, RFC 5176 §3), and the replay and Message-Authenticator policy.
//!    [`DaeServer::set_clients`] replaces the client list on a reload.
//! 2. Every datagram received on the DAE socket goes to [`DaeServer::handle_datagram`] with
//!    the monotonic `now` (duplicate cache) and the wall-clock `unix_time` in seconds
//!    (Event-Timestamp, RFC 2869 §5.3). It returns
//!    * `Ok(Some(request))`: an authenticated, valid request the caller must act on and then
//!      answer exactly once with [`DaeServer::answer`], passing [`DaeRequest::handle`];
//!    * `Ok(None)`: handled here: a retransmission answered from the duplicate cache, or a
//!      request this module refused itself with a NAK (Error-Cause 401, 402, 403, 404, 405,
//!      or 506 when too many requests await an answer); counted in [`DaeStats`];
//!    * `Err(DaeDrop)`: silently discarded (nothing is sent), with the reason for the log.
//! 3. [`DaeServer::answer`] with [`DaeAnswer::Ack`] or [`DaeAnswer::Nak`] (Error-Cause 503
//!    Session Context Not Found, 504 Not Removable, 506 Resources Unavailable, ...) encodes the
//!    ACK/NAK, remembers it for retransmissions and queues it.
//! 4. After any call, drain [`DaeServer::poll_transmit`] and send each
//!    [`DaeTransmit::contents`] to [`DaeTransmit::destination`] from the DAE socket.
//!
//! There is no timer: cache entries expire lazily, when datagrams arrive.
//!
//! ```
//! use radius::dae::{DaeAnswer, DaeClient, DaeConfig, DaeKind, DaeServer, ErrorCause};
//! use radius::{Attribute, Code, Packet};
//! use std::time::Instant;
//!
//! let dac: std::net::SocketAddr = "192.0.2.1:40000".parse()?;
//! let mut config = DaeConfig::new(vec![DaeClient { address: dac.ip(), secret: b"s3cret".to_vec() }]);
//! config.nas_identity.ipv4.push("192.0.2.10".parse()?);
//! let mut server = DaeServer::new(config)?;
//!
//! // What a DAC sends (here built with this crate's encoder).
//! let mut request = Packet::new(Code::DisconnectRequest, 7);
//! request.attributes = vec![
//!     Attribute::UserName(b"alice".to_vec()),
//!     Attribute::AcctSessionId(b"0000002A5F000001".to_vec()),
//! ];
//! let datagram = request.encode_signed(b"s3cret", None)?;
//!
//! let (now, unix_time) = (Instant::now(), 1_700_000_000);
//! let request = server.handle_datagram(now, unix_time, dac, &datagram)?.expect("valid");
//! assert_eq!(request.kind, DaeKind::Disconnect);
//! assert_eq!(request.session.user_name.as_deref(), Some(&b"alice"[..]));
//! // The caller looks the session up ... and finds none.
//! server.answer(now, request.handle, DaeAnswer::Nak(ErrorCause::SessionContextNotFound))?;
//! while let Some(transmit) = server.poll_transmit() {
//!     assert_eq!(transmit.destination, dac);
//!     assert_eq!(transmit.contents[0], Code::DisconnectNak.to_u8());
//!     // socket.send_to(&transmit.contents, transmit.destination)?;
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Policy, with the RFC behind each choice
//!
//! * Only configured clients are heard: the source address selects the shared secret and a
//!   datagram from an address without one is silently discarded (RFC 2865 §3, whose rules
//!   RFC 5176 §2.3 keeps; RFC 5176 §6.1 on which DACs may act). The original daemon checked
//!   no source and used one secret for everyone.
//! * The Request Authenticator is MD5 over the packet with a zero authenticator, and the
//!   Response Authenticator MD5 over the reply with the request's authenticator (RFC 5176
//!   §2.3); both live in [`crate::auth`] and are reused here. A wrong one (wrong secret, or a
//!   forgery) is silently discarded.
//! * Message-Authenticator (RFC 5176 §3.4, computed as RFC 3579 §3.2 says, with a zero
//!   Request Authenticator in requests and the request's in replies) is verified when present
//!   and, with [`DaeConfig::require_message_authenticator`], required; a reply carries one,
//!   first, whenever the request did.
//! * Replay protection (RFC 5176 §6.3): an Event-Timestamp further than
//!   [`DaeConfig::event_timestamp_window`] from `unix_time` (default 300 s) is silently
//!   discarded, and so is a request without one when [`DaeConfig::require_event_timestamp`].
//! * Duplicates (RFC 5176 §2.3: same source address, source port and Identifier within a
//!   short span of time; RFC 5080 §2.2.2 adds the Request Authenticator to the key): a
//!   retransmission of an answered request gets the cached answer again and is never run
//!   twice; one of a request still awaiting its answer is discarded. The cache holds at most
//!   [`DaeConfig::max_cache_entries`] requests, answered ones for
//!   [`DaeConfig::duplicate_window`].
//! * Validation of the attributes (RFC 5176 §3, table §3.6; see [`DaeRequest`]) and answers
//!   with Error-Cause (RFC 5176 §3.5): Proxy-State attributes are echoed in order (RFC 5176
//!   §3.1) and State is echoed (RFC 5176 §3.3).

mod cache;
mod request;

pub use request::{AvPair, CoaChanges, DaeKind, DaeRequest, NasIdentification, SessionSelector};

use crate::attribute::Attribute;
use crate::auth::{self, AuthError, MessageAuthenticator};
use crate::packet::Packet;
use crate::wire::{DecodeError, RawPacket};
use crate::{error_cause, Code};
use cache::{Cache, DupKey, Lookup};
use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::{Duration, Instant};

/// A DAC allowed to send requests, and the secret it shares with the NAS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DaeClient {
    /// Source address of its requests; any source port (DACs send from ephemeral ports).
    pub address: IpAddr,
    pub secret: Vec<u8>,
}

/// How the NAS identifies itself (RFC 5176 §3: NAS-IP-Address, NAS-Identifier and
/// NAS-IPv6-Address in a request must match the NAS). A request attribute of one of these
/// kinds matches when its value is in the corresponding list; an empty list matches nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NasIdentity {
    /// NAS-IP-Address values that are ours (what the NAS sends as NAS-IP-Address).
    pub ipv4: Vec<Ipv4Addr>,
    /// NAS-IPv6-Address values that are ours.
    pub ipv6: Vec<Ipv6Addr>,
    /// NAS-Identifier values that are ours.
    pub identifiers: Vec<Vec<u8>>,
}

/// Server configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DaeConfig {
    pub clients: Vec<DaeClient>,
    pub nas_identity: NasIdentity,
    /// Discard requests without a Message-Authenticator (RFC 5176 §3.4 makes it optional; a
    /// deployment whose DACs all send it should require it).
    pub require_message_authenticator: bool,
    /// Discard requests without an Event-Timestamp (RFC 5176 §6.3: "SHOULD be configurable").
    pub require_event_timestamp: bool,
    /// Largest accepted distance between an Event-Timestamp and `unix_time`, either way.
    pub event_timestamp_window: Duration,
    /// How long an answer is kept for retransmissions of its request.
    pub duplicate_window: Duration,
    /// Requests remembered at once, answered or awaiting an answer (at least 1).
    pub max_cache_entries: usize,
}

impl DaeConfig {
    /// Defaults: no Message-Authenticator or Event-Timestamp required, a 300 s timestamp
    /// window (RFC 5176 §6.3's recommended default), answers kept 30 s (a DAC such as
    /// radclient retries 3 times 3 s apart), 1024 cache entries.
    pub fn new(clients: Vec<DaeClient>) -> Self {
        DaeConfig {
            clients,
            nas_identity: NasIdentity::default(),
            require_message_authenticator: false,
            require_event_timestamp: false,
            event_timestamp_window: Duration::from_secs(300),
            duplicate_window: Duration::from_secs(30),
            max_cache_entries: 1024,
        }
    }
}

/// Invalid [`DaeConfig`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DaeConfigError {
    #[error("DAE client {0} has an empty shared secret")]
    EmptySecret(IpAddr),
    #[error("DAE client {0} is configured twice")]
    DuplicateClient(IpAddr),
    #[error("max_cache_entries must be at least 1")]
    ZeroCache,
    #[error("duplicate_window and event_timestamp_window must be at most a day")]
    WindowTooLong,
}

/// Ceiling for the windows; keeps `Instant` arithmetic far from overflow.
const MAX_WINDOW: Duration = Duration::from_secs(86_400);

/// Error-Cause values (RFC 5176 §3.5) a NAK carries. The wire values are those of
/// [`crate::error_cause`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCause {
    /// 401: the request has an attribute the NAS does not support (in this kind of request).
    UnsupportedAttribute,
    /// 402: a required attribute is missing (no session identification).
    MissingAttribute,
    /// 403: NAS identification attributes that do not name this NAS.
    NasIdentificationMismatch,
    /// 404: some other aspect of the request is invalid (badly formatted attributes).
    InvalidRequest,
    /// 405: the Service-Type is not supported (e.g. Authorize Only, RFC 5176 §3.2).
    UnsupportedService,
    /// 406: an extension the NAS does not support.
    UnsupportedExtension,
    /// 407: an attribute value the NAS does not support.
    InvalidAttributeValue,
    /// 501: refused by configuration.
    AdministrativelyProhibited,
    /// 503: no session matches the identification attributes.
    SessionContextNotFound,
    /// 504: the session exists but cannot be removed or changed.
    SessionContextNotRemovable,
    /// 506: lack of NAS resources.
    ResourcesUnavailable,
    /// 508: the identification matches several sessions and the NAS does not act on many.
    MultipleSessionSelectionUnsupported,
}

impl ErrorCause {
    /// The Error-Cause attribute value.
    pub const fn value(self) -> u32 {
        use error_cause::*;
        match self {
            ErrorCause::UnsupportedAttribute => UNSUPPORTED_ATTRIBUTE,
            ErrorCause::MissingAttribute => MISSING_ATTRIBUTE,
            ErrorCause::NasIdentificationMismatch => NAS_IDENTIFICATION_MISMATCH,
            ErrorCause::InvalidRequest => INVALID_REQUEST,
            ErrorCause::UnsupportedService => UNSUPPORTED_SERVICE,
            ErrorCause::UnsupportedExtension => UNSUPPORTED_EXTENSION,
            ErrorCause::InvalidAttributeValue => INVALID_ATTRIBUTE_VALUE,
            ErrorCause::AdministrativelyProhibited => ADMINISTRATIVELY_PROHIBITED,
            ErrorCause::SessionContextNotFound => SESSION_CONTEXT_NOT_FOUND,
            ErrorCause::SessionContextNotRemovable => SESSION_CONTEXT_NOT_REMOVABLE,
            ErrorCause::ResourcesUnavailable => RESOURCES_UNAVAILABLE,
            ErrorCause::MultipleSessionSelectionUnsupported => {
                MULTIPLE_SESSION_SELECTION_UNSUPPORTED
            }
        }
    }
}

/// How the caller answers a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DaeAnswer {
    /// Disconnect-ACK / CoA-ACK: done.
    Ack,
    /// Disconnect-NAK / CoA-NAK with this Error-Cause.
    Nak(ErrorCause),
}

/// Identifies a request handed to the caller, to answer it; unique for the server's life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DaeHandle(pub u64);

/// A datagram to send from the DAE socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DaeTransmit {
    pub destination: SocketAddr,
    pub contents: Vec<u8>,
}

/// Why a datagram was silently discarded (nothing is sent back).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DaeDrop {
    #[error("datagram from {0}, which is not a configured DAE client")]
    UnknownSource(IpAddr),
    #[error("malformed: {0}")]
    Malformed(DecodeError),
    #[error("packet code {0} is not a Disconnect-Request or CoA-Request")]
    UnexpectedCode(u8),
    #[error("Request Authenticator does not match the shared secret")]
    BadAuthenticator,
    #[error("Message-Authenticator: {0}")]
    BadMessageAuthenticator(AuthError),
    #[error("Message-Authenticator required but absent")]
    MissingMessageAuthenticator,
    #[error("Event-Timestamp {timestamp} is outside the window around {unix_time}")]
    StaleEventTimestamp { timestamp: u32, unix_time: u64 },
    #[error("Event-Timestamp is not a 4-octet integer")]
    MalformedEventTimestamp,
    #[error("Event-Timestamp required but absent")]
    MissingEventTimestamp,
    #[error("retransmission of a request still awaiting its answer")]
    DuplicateInProgress,
}

/// Why [`DaeServer::answer`] failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnswerError {
    #[error("no request awaits an answer with handle {0:?}")]
    UnknownHandle(DaeHandle),
    #[error("the answer cannot be encoded: {0}")]
    Encode(#[from] crate::SignError),
}

/// Counters. Every datagram is counted under `received` and under exactly one outcome
/// (`requests`, `duplicates_answered`, a `refused_*` or a `drop_*`); `acks`, `naks` and
/// `encode_failures` count answers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DaeStats {
    pub received: u64,
    /// Valid requests handed to the caller.
    pub requests: u64,
    /// Caller's answers sent.
    pub acks: u64,
    pub naks: u64,
    /// Retransmissions answered from the cache.
    pub duplicates_answered: u64,
    /// Requests refused here with a NAK, by Error-Cause.
    pub refused_unsupported_attribute: u64,
    pub refused_missing_attribute: u64,
    pub refused_nas_mismatch: u64,
    pub refused_invalid_request: u64,
    pub refused_unsupported_service: u64,
    pub refused_resources_unavailable: u64,
    /// Answers that could not be encoded (too large with the echoed Proxy-States).
    pub encode_failures: u64,
    pub drop_unknown_source: u64,
    pub drop_malformed: u64,
    pub drop_unexpected_code: u64,
    pub drop_bad_authenticator: u64,
    pub drop_bad_message_authenticator: u64,
    pub drop_missing_message_authenticator: u64,
    /// Event-Timestamp outside the window, or not a 4-octet integer.
    pub drop_stale_event_timestamp: u64,
    pub drop_missing_event_timestamp: u64,
    pub drop_duplicate_in_progress: u64,
}

impl DaeStats {
    fn count_drop(&mut self, drop: &DaeDrop) {
        let counter = match drop {
            DaeDrop::UnknownSource(_) => &mut self.drop_unknown_source,
            DaeDrop::Malformed(_) => &mut self.drop_malformed,
            DaeDrop::UnexpectedCode(_) => &mut self.drop_unexpected_code,
            DaeDrop::BadAuthenticator => &mut self.drop_bad_authenticator,
            DaeDrop::BadMessageAuthenticator(_) => &mut self.drop_bad_message_authenticator,
            DaeDrop::MissingMessageAuthenticator => &mut self.drop_missing_message_authenticator,
            DaeDrop::StaleEventTimestamp { .. } | DaeDrop::MalformedEventTimestamp => {
                &mut self.drop_stale_event_timestamp
            }
            DaeDrop::MissingEventTimestamp => &mut self.drop_missing_event_timestamp,
            DaeDrop::DuplicateInProgress => &mut self.drop_duplicate_in_progress,
        };
        *counter += 1;
    }

    fn count_refusal(&mut self, cause: ErrorCause) {
        let counter = match cause {
            ErrorCause::UnsupportedAttribute => &mut self.refused_unsupported_attribute,
            ErrorCause::MissingAttribute => &mut self.refused_missing_attribute,
            ErrorCause::NasIdentificationMismatch => &mut self.refused_nas_mismatch,
            ErrorCause::UnsupportedService => &mut self.refused_unsupported_service,
            ErrorCause::ResourcesUnavailable => &mut self.refused_resources_unavailable,
            _ => &mut self.refused_invalid_request,
        };
        *counter += 1;
    }
}

/// What an answer needs from its request.
#[derive(Debug, Clone)]
struct Answering {
    key: DupKey,
    code: Code,
    secret: Vec<u8>,
    message_authenticator: bool,
    /// Echoed in order (RFC 5176 §3.1).
    proxy_states: Vec<Vec<u8>>,
    /// Echoed (RFC 5176 §3.3).
    state: Option<Vec<u8>>,
}

/// The Dynamic Authorization server. See the module documentation.
#[derive(Debug)]
pub struct DaeServer {
    clients: HashMap<IpAddr, Vec<u8>>,
    nas_identity: NasIdentity,
    require_message_authenticator: bool,
    require_event_timestamp: bool,
    event_timestamp_window: Duration,
    cache: Cache,
    pending: HashMap<DaeHandle, Answering>,
    next_handle: u64,
    transmits: VecDeque<DaeTransmit>,
    stats: DaeStats,
}

fn client_table(clients: Vec<DaeClient>) -> Result<HashMap<IpAddr, Vec<u8>>, DaeConfigError> {
    let mut table = HashMap::with_capacity(clients.len());
    for client in clients {
        if client.secret.is_empty() {
            return Err(DaeConfigError::EmptySecret(client.address));
        }
        if table.insert(client.address, client.secret).is_some() {
            return Err(DaeConfigError::DuplicateClient(client.address));
        }
    }
    Ok(table)
}

impl DaeServer {
    pub fn new(config: DaeConfig) -> Result<Self, DaeConfigError> {
        if config.max_cache_entries == 0 {
            return Err(DaeConfigError::ZeroCache);
        }
        if config.duplicate_window > MAX_WINDOW || config.event_timestamp_window > MAX_WINDOW {
            return Err(DaeConfigError::WindowTooLong);
        }
        Ok(DaeServer {
            clients: client_table(config.clients)?,
            nas_identity: config.nas_identity,
            require_message_authenticator: config.require_message_authenticator,
            require_event_timestamp: config.require_event_timestamp,
            event_timestamp_window: config.event_timestamp_window,
            cache: Cache::new(config.max_cache_entries, config.duplicate_window),
            pending: HashMap::new(),
            next_handle: 0,
            transmits: VecDeque::new(),
            stats: DaeStats::default(),
        })
    }

    /// Replace the allowed clients (a reload). Requests already handed out are still answered
    /// with the secret they arrived with.
    pub fn set_clients(&mut self, clients: Vec<DaeClient>) -> Result<(), DaeConfigError> {
        self.clients = client_table(clients)?;
        Ok(())
    }

    /// Replace the NAS identity the NAS identification attributes are checked against.
    pub fn set_nas_identity(&mut self, identity: NasIdentity) {
        self.nas_identity = identity;
    }

    /// Change whether requests without a Message-Authenticator are discarded (a reload).
    pub fn set_require_message_authenticator(&mut self, require: bool) {
        self.require_message_authenticator = require;
    }

    /// Process a datagram received from `from` on the DAE socket. `now` is monotonic (the
    /// duplicate cache); `unix_time` is wall-clock seconds since the epoch (Event-Timestamp).
    /// See the module documentation for what each outcome means.
    pub fn handle_datagram(
        &mut self,
        now: Instant,
        unix_time: u64,
        from: SocketAddr,
        datagram: &[u8],
    ) -> Result<Option<DaeRequest>, DaeDrop> {
        self.stats.received += 1;
        let result = self.receive(now, unix_time, from, datagram);
        if let Err(drop) = &result {
            self.stats.count_drop(drop);
        }
        result
    }

    fn receive(
        &mut self,
        now: Instant,
        unix_time: u64,
        from: SocketAddr,
        datagram: &[u8],
    ) -> Result<Option<DaeRequest>, DaeDrop> {
        // RFC 2865 §3: the source address selects the secret; unknown sources are discarded.
        let secret = self
            .clients
            .get(&from.ip())
            .ok_or(DaeDrop::UnknownSource(from.ip()))?;
        let raw = RawPacket::parse(datagram).map_err(|e| match e {
            DecodeError::UnknownCode(code) => DaeDrop::UnexpectedCode(code),
            e => DaeDrop::Malformed(e),
        })?;
        let code = raw.code();
        if !matches!(code, Code::DisconnectRequest | Code::CoaRequest) {
            return Err(DaeDrop::UnexpectedCode(code.to_u8()));
        }
        let message_authenticator = match auth::verify_request(&raw, secret) {
            Ok(ma) => ma,
            Err(AuthError::BadAuthenticator) => return Err(DaeDrop::BadAuthenticator),
            Err(e) => return Err(DaeDrop::BadMessageAuthenticator(e)),
        };
        if message_authenticator == MessageAuthenticator::Absent
            && self.require_message_authenticator
        {
            return Err(DaeDrop::MissingMessageAuthenticator);
        }
        // Duplicates before the timestamp: a retransmission carries the timestamp of the
        // original, which was current when the original was accepted.
        let key = DupKey {
            source: from,
            identifier: raw.identifier(),
            authenticator: *raw.authenticator(),
        };
        match self.cache.lookup(now, &key) {
            Lookup::Answered(reply) => {
                self.stats.duplicates_answered += 1;
                self.transmits.push_back(DaeTransmit {
                    destination: from,
                    contents: reply,
                });
                return Ok(None);
            }
            Lookup::Pending => return Err(DaeDrop::DuplicateInProgress),
            Lookup::Absent => {}
        }
        self.check_event_timestamp(&raw, unix_time)?;

        let packet = Packet::from_raw(&raw);
        let answering = Answering {
            key,
            code,
            secret: secret.clone(),
            message_authenticator: message_authenticator == MessageAuthenticator::Valid,
            proxy_states: packet
                .attributes
                .iter()
                .filter_map(|a| match a {
                    Attribute::ProxyState(v) => Some(v.clone()),
                    _ => None,
                })
                .collect(),
            state: packet.find(|a| match a {
                Attribute::State(v) => Some(v.clone()),
                _ => None,
            }),
        };
        let handle = DaeHandle(self.next_handle);
        let validated = request::validate(&packet, &self.nas_identity).map(
            |(kind, session, nas, changes, other)| DaeRequest {
                handle,
                kind,
                source: from,
                session,
                nas,
                changes,
                other,
                message_authenticator,
            },
        );
        match validated {
            Err(cause) => {
                self.stats.count_refusal(cause);
                self.send_answer(now, &answering, DaeAnswer::Nak(cause), true);
                Ok(None)
            }
            Ok(request) => {
                if !self.cache.insert_pending(now, answering.key.clone()) {
                    // Every cache entry awaits an answer: refuse rather than forget one.
                    self.stats.count_refusal(ErrorCause::ResourcesUnavailable);
                    let cause = DaeAnswer::Nak(ErrorCause::ResourcesUnavailable);
                    self.send_answer(now, &answering, cause, false);
                    return Ok(None);
                }
                self.next_handle += 1;
                self.pending.insert(handle, answering);
                self.stats.requests += 1;
                Ok(Some(request))
            }
        }
    }

    /// RFC 5176 §6.3: an Event-Timestamp not current within the window is silently discarded;
    /// so is a request without one if the configuration requires it.
    fn check_event_timestamp(&self, raw: &RawPacket<'_>, unix_time: u64) -> Result<(), DaeDrop> {
        let Some(value) = raw.find(crate::attribute::types::EVENT_TIMESTAMP) else {
            return if self.require_event_timestamp {
                Err(DaeDrop::MissingEventTimestamp)
            } else {
                Ok(())
            };
        };
        let bytes: [u8; 4] = value
            .try_into()
            .map_err(|_| DaeDrop::MalformedEventTimestamp)?;
        let timestamp = u32::from_be_bytes(bytes);
        if u64::from(timestamp).abs_diff(unix_time) > self.event_timestamp_window.as_secs() {
            return Err(DaeDrop::StaleEventTimestamp {
                timestamp,
                unix_time,
            });
        }
        Ok(())
    }

    /// Answer a request returned by [`DaeServer::handle_datagram`]: the ACK or NAK is queued
    /// for [`DaeServer::poll_transmit`] and kept for retransmissions of the request.
    pub fn answer(
        &mut self,
        now: Instant,
        handle: DaeHandle,
        answer: DaeAnswer,
    ) -> Result<(), AnswerError> {
        let answering = self
            .pending
            .remove(&handle)
            .ok_or(AnswerError::UnknownHandle(handle))?;
        match encode_answer(&answering, answer) {
            Ok(reply) => {
                match answer {
                    DaeAnswer::Ack => self.stats.acks += 1,
                    DaeAnswer::Nak(_) => self.stats.naks += 1,
                }
                self.cache.answer(now, &answering.key, reply.clone());
                self.transmits.push_back(DaeTransmit {
                    destination: answering.key.source,
                    contents: reply,
                });
                Ok(())
            }
            Err(e) => {
                // Nothing can be sent: forget the request so a retransmission is run again.
                self.cache.forget(&answering.key);
                self.stats.encode_failures += 1;
                Err(e.into())
            }
        }
    }

    /// Encode, queue and (if `cache`) remember an answer produced here.
    fn send_answer(&mut self, now: Instant, answering: &Answering, answer: DaeAnswer, cache: bool) {
        let Ok(reply) = encode_answer(answering, answer) else {
            self.stats.encode_failures += 1;
            return;
        };
        if cache && self.cache.insert_pending(now, answering.key.clone()) {
            self.cache.answer(now, &answering.key, reply.clone());
        }
        self.transmits.push_back(DaeTransmit {
            destination: answering.key.source,
            contents: reply,
        });
    }

    /// The next datagram to send, if any.
    pub fn poll_transmit(&mut self) -> Option<DaeTransmit> {
        self.transmits.pop_front()
    }

    pub fn stats(&self) -> &DaeStats {
        &self.stats
    }

    /// Requests handed to the caller and not answered yet.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }
}

/// The ACK or NAK of a request: Message-Authenticator first if the request had one, the
/// Error-Cause of a NAK, the echoed State and Proxy-States, signed with the request's
/// authenticator (RFC 5176 §2.3, §3.4).
fn encode_answer(answering: &Answering, answer: DaeAnswer) -> Result<Vec<u8>, crate::SignError> {
    let code = match (answering.code, answer) {
        (Code::DisconnectRequest, DaeAnswer::Ack) => Code::DisconnectAck,
        (Code::DisconnectRequest, DaeAnswer::Nak(_)) => Code::DisconnectNak,
        (_, DaeAnswer::Ack) => Code::CoaAck,
        (_, DaeAnswer::Nak(_)) => Code::CoaNak,
    };
    let mut reply = Packet::new(code, answering.key.identifier);
    if answering.message_authenticator {
        reply
            .attributes
            .push(Attribute::MessageAuthenticator([0; 16]));
    }
    if let DaeAnswer::Nak(cause) = answer {
        reply.attributes.push(Attribute::ErrorCause(cause.value()));
    }
    if let Some(state) = &answering.state {
        reply.attributes.push(Attribute::State(state.clone()));
    }
    reply.attributes.extend(
        answering
            .proxy_states
            .iter()
            .map(|p| Attribute::ProxyState(p.clone())),
    );
    reply.encode_signed(&answering.secret, Some(&answering.key.authenticator))
}

#[cfg(test)]
mod tests;
