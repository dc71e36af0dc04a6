//! Sans-IO RADIUS client: identifier allocation, retransmission with exponential backoff
//! alternating between servers, give-up, and reply authentication.
//!
//! Driven like `quinn-proto`: [`Client::send`] queues a request; the caller then loops on
//! [`Client::poll_transmit`] (datagrams to send), [`Client::poll_timeout`] (when to call
//! [`Client::handle_timeout`]) and [`Client::poll_event`] (replies and give-ups), and feeds
//! every datagram received on the client socket to [`Client::handle_datagram`].
//!
//! A minimal blocking driver (the daemon uses its event loop instead):
//!
//! ```no_run
//! use radius::{Attribute, Client, ClientConfig, Event, Request, ServerConfig};
//! use std::net::UdpSocket;
//! use std::time::{Duration, Instant};
//!
//! let server = ServerConfig { address: "192.0.2.1:1812".parse()?, secret: b"s3cret".to_vec() };
//! let mut client = Client::new(ClientConfig::new(vec![server]), [0x42; 32])?; // seed from the OS
//! let socket = UdpSocket::bind("0.0.0.0:0")?;
//! let request = Request::access(vec![Attribute::UserName(b"alice".to_vec())])
//!     .with_user_password("wonderland");
//! client.send(Instant::now(), request)?;
//! let (mut out, mut buf) = (Vec::new(), [0u8; 4096]);
//! let event = loop {
//!     while let Some(t) = client.poll_transmit(&mut out) {
//!         socket.send_to(&out, t.destination)?;
//!     }
//!     if let Some(event) = client.poll_event() {
//!         break event;
//!     }
//!     let wait = client.poll_timeout().map(|t| t.saturating_duration_since(Instant::now()));
//!     socket.set_read_timeout(Some(wait.unwrap_or(Duration::from_secs(1)).max(Duration::from_millis(1))))?;
//!     match socket.recv_from(&mut buf) {
//!         // Dropped replies are counted in `client.stats()`; the error says why.
//!         Ok((n, from)) => { let _ = client.handle_datagram(Instant::now(), from, &buf[..n]); }
//!         Err(_) => client.handle_timeout(Instant::now()),
//!     }
//! };
//! match event {
//!     Event::Response { packet, .. } => println!("{:?}", packet.code),
//!     Event::TimedOut { attempts, .. } => println!("no answer after {attempts} sends"),
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Policy, with the RFC behind each choice:
//! * Identifiers are per server and per client socket (a server tells requests apart by
//!   source address, port and Identifier, RFC 2865 §3 / RFC 5080 §2.2.1). A request is sent
//!   from one socket ([`ClientConfig::sockets`], [`Transmit::socket`]) for its whole life and
//!   holds one identifier of that socket on *every* server, so a late reply from the server
//!   it left is still matched; at most 256 requests per socket, and at most
//!   [`ClientConfig::max_in_flight`] in all, are in flight; further ones wait in a bounded
//!   backlog. Sockets and identifiers are handed out round-robin so a freed
//!   identifier is reused as late as possible (a server's duplicate cache, FreeRADIUS's
//!   `cleanup_delay`, would otherwise answer a new request with an old reply).
//! * A retransmission to the same server reuses the same Identifier and Request
//!   Authenticator, i.e. the very same bytes (RFC 5080 §2.2.1); each server has its own
//!   encoding (its own secret, identifier and authenticator).
//! * Attempt *n* waits `min(initial_timeout × 2^(n-1), max_timeout)`; attempts rotate through
//!   the servers, starting at the one that answered last; after `max_attempts` sends the
//!   request is abandoned with [`Event::TimedOut`].
//! * A reply is accepted only from the address of a configured server, for an identifier that
//!   server has outstanding, with a reply code that answers the request, and with a valid
//!   Response Authenticator computed with *that* server's secret and the authenticator sent to
//!   it. Message-Authenticator is always sent in Access-Request and Status-Server (as the
//!   first attribute, the BlastRADIUS mitigation) and verified in replies whenever present;
//!   [`MessageAuthenticatorPolicy`] decides when its absence is fatal.
//!
//! Not done (deliberately, for now): Acct-Delay-Time is not bumped on retransmission (that
//! would need a new identifier per RFC 5080 §2.2.1, so retransmissions stay byte-identical),
//! and timers carry no random jitter (RFC 5080 suggests some; the schedule stays exact and
//! testable; a daemon with many requests spreads them naturally).
//!
//! Anything else is counted in [`Stats`] and dropped; [`Client::handle_datagram`] also
//! returns the reason so the daemon can log it.

use crate::attribute::Attribute;
use crate::auth::{self, AuthError, MessageAuthenticator, PasswordError, SignError};
use crate::packet::Packet;
use crate::wire::{DecodeError, RawPacket};
use crate::Code;
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// One RADIUS server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    pub address: SocketAddr,
    pub secret: Vec<u8>,
}

/// When a reply to an Access-Request or Status-Server may lack a Message-Authenticator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageAuthenticatorPolicy {
    /// Always required (RFC 3579 §3.2 for EAP; recommended everywhere since BlastRADIUS).
    Require,
    /// Required from a server once it has sent a valid one (older servers never do).
    Auto,
}

/// Client configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientConfig {
    /// Servers in order of preference; retries rotate through them.
    pub servers: Vec<ServerConfig>,
    /// Wait after the first send.
    pub initial_timeout: Duration,
    /// Ceiling of the doubled wait.
    pub max_timeout: Duration,
    /// Total sends of a request, all servers together, before giving up.
    pub max_attempts: u32,
    pub message_authenticator: MessageAuthenticatorPolicy,
    /// Requests waiting for a free identifier beyond which [`Client::send`] refuses.
    pub max_backlog: usize,
    /// Client sockets (source ports) the caller sends from, 1 to [`MAX_SOCKETS`]: 256
    /// requests can be in flight per socket.
    pub sockets: usize,
    /// Requests in flight at once, all sockets together (at least 1; at most 256 per socket
    /// whatever is set). Sockets space identifier reuse out; this bounds the burst a server
    /// receives: a single-threaded FreeRADIUS with default socket buffers drops requests
    /// beyond a few hundred queued at once.
    pub max_in_flight: usize,
}

/// The most sockets one client drives (in-flight slots are numbered in 16 bits).
pub const MAX_SOCKETS: usize = 255;

impl ClientConfig {
    /// Defaults: 3 s initial wait doubling to 16 s, two sends per server, `Auto` policy.
    pub fn new(servers: Vec<ServerConfig>) -> Self {
        let max_attempts = 2 * servers.len().max(1) as u32;
        ClientConfig {
            servers,
            initial_timeout: Duration::from_secs(3),
            max_timeout: Duration::from_secs(16),
            max_attempts,
            message_authenticator: MessageAuthenticatorPolicy::Auto,
            max_backlog: 4096,
            sockets: 1,
            max_in_flight: usize::MAX,
        }
    }
}

/// Invalid [`ClientConfig`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("no RADIUS server configured")]
    NoServers,
    #[error("server {0} has an empty shared secret")]
    EmptySecret(SocketAddr),
    #[error("max_attempts must be at least 1")]
    ZeroAttempts,
    #[error("initial_timeout must be non-zero, not above max_timeout, which is at most an hour")]
    BadTimeouts,
    #[error("sockets must be 1 to 255, not {0}")]
    BadSockets(usize),
    #[error("max_in_flight must be at least 1")]
    ZeroInFlight,
}

/// A request to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    code: Code,
    attributes: Vec<Attribute>,
    user_password: Option<Vec<u8>>,
}

impl Request {
    /// An Access-Request. Do not put a User-Password attribute in `attributes`: use
    /// [`Request::with_user_password`], which hides it per server.
    pub fn access(attributes: Vec<Attribute>) -> Self {
        Request {
            code: Code::AccessRequest,
            attributes,
            user_password: None,
        }
    }

    /// An Accounting-Request.
    pub fn accounting(attributes: Vec<Attribute>) -> Self {
        Request {
            code: Code::AccountingRequest,
            attributes,
            user_password: None,
        }
    }

    /// A Status-Server probe (RFC 5997).
    pub fn status_server(attributes: Vec<Attribute>) -> Self {
        Request {
            code: Code::StatusServer,
            attributes,
            user_password: None,
        }
    }

    /// Add a PAP password, hidden with each server's secret (RFC 2865 §5.2).
    pub fn with_user_password(mut self, password: impl Into<Vec<u8>>) -> Self {
        self.user_password = Some(password.into());
        self
    }

    pub fn code(&self) -> Code {
        self.code
    }
}

/// Handle of a request, unique for the life of the [`Client`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RequestId(pub u64);

/// A datagram to send: its bytes were written to the buffer given to
/// [`Client::poll_transmit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transmit {
    pub request: RequestId,
    /// Index into [`ClientConfig::servers`].
    pub server: usize,
    /// Which of the caller's sockets (0 to [`ClientConfig::sockets`] - 1) to send from.
    pub socket: usize,
    pub destination: SocketAddr,
}

/// What the client reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// An authenticated reply.
    Response {
        request: RequestId,
        server: usize,
        /// Sends made before the reply arrived.
        attempts: u32,
        message_authenticator: MessageAuthenticator,
        packet: Packet,
    },
    /// No authenticated reply after `attempts` sends: the request is abandoned.
    TimedOut { request: RequestId, attempts: u32 },
}

/// Why [`Client::send`] refused a request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    #[error("{0:?} is not a request a NAS sends as a client")]
    NotAClientRequest(Code),
    #[error("a User-Password belongs only in an Access-Request")]
    PasswordOutsideAccessRequest,
    #[error(transparent)]
    Password(#[from] PasswordError),
    #[error(transparent)]
    Sign(#[from] SignError),
    #[error("backlog full: {0} requests already waiting for an identifier")]
    BacklogFull(usize),
}

/// Why a received datagram was dropped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplyError {
    #[error("datagram from {0}, which is not a configured server")]
    UnknownSource(SocketAddr),
    #[error("malformed: {0}")]
    Malformed(#[from] DecodeError),
    #[error("server {server} has no request outstanding with identifier {identifier} on socket {socket}")]
    UnknownIdentifier {
        server: usize,
        socket: usize,
        identifier: u8,
    },
    #[error("socket {0} is not one of the client's sockets")]
    UnknownSocket(usize),
    #[error("{reply:?} does not answer a {request:?}")]
    UnexpectedCode { request: Code, reply: Code },
    #[error("reply failed authentication: {0}")]
    Authentication(AuthError),
    #[error("reply lacks the Message-Authenticator required from server {0}")]
    MissingMessageAuthenticator(usize),
}

/// Counters; every dropped datagram is counted once, under its reason.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    pub requests: u64,
    pub transmits: u64,
    pub retransmits: u64,
    pub responses: u64,
    pub timeouts: u64,
    pub cancelled: u64,
    pub backlog_full: u64,
    pub rx_unknown_source: u64,
    pub rx_malformed: u64,
    pub rx_unknown_identifier: u64,
    pub rx_unexpected_code: u64,
    pub rx_bad_authenticator: u64,
    pub rx_missing_message_authenticator: u64,
    /// Round-trip times of requests answered after their first transmission (Karn's rule:
    /// an answer to a retransmitted request cannot be matched to one of its sends).
    pub rtt: RttHistogram,
}

/// A fixed-bucket histogram of round-trip times, cheap enough to update on every answer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RttHistogram {
    /// Answers whose RTT was at most [`RttHistogram::BOUNDS`]`[i]` and above the bound before
    /// (not cumulative); the last entry counts those above every bound.
    pub buckets: [u64; RttHistogram::BOUNDS.len() + 1],
    /// The sum of every RTT counted.
    pub sum: Duration,
    pub count: u64,
}

impl RttHistogram {
    /// Upper bounds of the buckets.
    pub const BOUNDS: [Duration; 12] = [
        Duration::from_millis(1),
        Duration::from_millis(2),
        Duration::from_millis(5),
        Duration::from_millis(10),
        Duration::from_millis(25),
        Duration::from_millis(50),
        Duration::from_millis(100),
        Duration::from_millis(250),
        Duration::from_millis(500),
        Duration::from_secs(1),
        Duration::from_secs(2),
        Duration::from_secs(5),
    ];

    pub fn observe(&mut self, rtt: Duration) {
        let i = Self::BOUNDS.partition_point(|&b| b < rtt);
        self.buckets[i] += 1;
        self.sum = self.sum.saturating_add(rtt);
        self.count += 1;
    }
}

/// Ceiling for [`ClientConfig::max_timeout`]; keeps deadline arithmetic far from overflow.
const MAX_TIMEOUT: Duration = Duration::from_secs(3600);

/// Identifiers per server: the Identifier field is one octet.
const IDENTIFIERS: usize = 256;

/// One server's encoding of a request.
#[derive(Debug)]
struct Encoded {
    identifier: u8,
    /// The Request Authenticator as sent (after signing).
    authenticator: [u8; 16],
    bytes: Vec<u8>,
}

#[derive(Debug)]
struct Pending {
    request: RequestId,
    code: Code,
    per_server: Vec<Encoded>,
}

#[derive(Debug)]
struct InFlight {
    pending: Pending,
    /// The socket it is sent from; its identifiers are that socket's.
    socket: usize,
    attempts: u32,
    next_server: usize,
    deadline: Instant,
    /// When the latest attempt was sent.
    sent: Instant,
}

#[derive(Debug)]
struct ServerState {
    config: ServerConfig,
    /// Socket × 256 + identifier → slot of the request holding it.
    identifiers: Box<[Option<u16>]>,
    /// Per socket: where the search for a free identifier starts.
    cursors: Box<[u8]>,
    /// It has sent a valid Message-Authenticator (for [`MessageAuthenticatorPolicy::Auto`]).
    sends_message_authenticator: bool,
}

impl ServerState {
    fn allocate(&mut self, socket: usize, slot: u16) -> Option<u8> {
        let cursor = &mut self.cursors[socket];
        for step in 0..IDENTIFIERS {
            let id = cursor.wrapping_add(step as u8);
            let entry = &mut self.identifiers[socket * IDENTIFIERS + usize::from(id)];
            if entry.is_none() {
                *entry = Some(slot);
                *cursor = id.wrapping_add(1);
                return Some(id);
            }
        }
        None
    }
}

/// The client state machine. See the module documentation.
#[derive(Debug)]
pub struct Client {
    servers: Vec<ServerState>,
    initial_timeout: Duration,
    max_timeout: Duration,
    max_attempts: u32,
    policy: MessageAuthenticatorPolicy,
    max_backlog: usize,
    /// `ClientConfig::max_in_flight`, at most 256 per socket.
    max_in_flight: usize,
    /// In-flight requests; a slot index is what server identifier tables point to.
    slots: Vec<Option<InFlight>>,
    free_slots: Vec<u16>,
    backlog: VecDeque<Pending>,
    /// Requests in flight per socket (at most 256 each).
    socket_load: Vec<u16>,
    /// Where the search for a socket with a free identifier starts.
    socket_cursor: usize,
    transmits: VecDeque<(u16, usize, RequestId)>,
    events: VecDeque<Event>,
    rng: ChaCha20Rng,
    next_request: u64,
    /// Server the next new request goes to first: the last one that answered.
    preferred: usize,
    stats: Stats,
}

impl Client {
    /// `seed` keys the generator of Request Authenticators, which must be unpredictable
    /// (RFC 2865 §3): the daemon passes 32 bytes from the OS; tests pass a constant.
    pub fn new(config: ClientConfig, seed: [u8; 32]) -> Result<Self, ConfigError> {
        if config.servers.is_empty() {
            return Err(ConfigError::NoServers);
        }
        if let Some(s) = config.servers.iter().find(|s| s.secret.is_empty()) {
            return Err(ConfigError::EmptySecret(s.address));
        }
        if config.max_attempts == 0 {
            return Err(ConfigError::ZeroAttempts);
        }
        if config.initial_timeout.is_zero()
            || config.initial_timeout > config.max_timeout
            || config.max_timeout > MAX_TIMEOUT
        {
            return Err(ConfigError::BadTimeouts);
        }
        if config.sockets == 0 || config.sockets > MAX_SOCKETS {
            return Err(ConfigError::BadSockets(config.sockets));
        }
        if config.max_in_flight == 0 {
            return Err(ConfigError::ZeroInFlight);
        }
        let sockets = config.sockets;
        Ok(Client {
            servers: config
                .servers
                .into_iter()
                .map(|config| ServerState {
                    config,
                    identifiers: vec![None; sockets * IDENTIFIERS].into_boxed_slice(),
                    cursors: vec![0; sockets].into_boxed_slice(),
                    sends_message_authenticator: false,
                })
                .collect(),
            initial_timeout: config.initial_timeout,
            max_timeout: config.max_timeout,
            max_attempts: config.max_attempts,
            policy: config.message_authenticator,
            max_backlog: config.max_backlog,
            max_in_flight: config.max_in_flight.min(sockets * IDENTIFIERS),
            slots: Vec::new(),
            free_slots: Vec::new(),
            backlog: VecDeque::new(),
            socket_load: vec![0; sockets],
            socket_cursor: 0,
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            rng: ChaCha20Rng::from_seed(seed),
            next_request: 0,
            preferred: 0,
            stats: Stats::default(),
        })
    }

    /// Queue a request. It is encoded for every server now, so every encoding error is
    /// reported here; it is sent at once if an identifier is free, else when one frees up.
    pub fn send(&mut self, now: Instant, request: Request) -> Result<RequestId, SendError> {
        if !matches!(
            request.code,
            Code::AccessRequest | Code::AccountingRequest | Code::StatusServer
        ) {
            return Err(SendError::NotAClientRequest(request.code));
        }
        if request.user_password.is_some() && request.code != Code::AccessRequest {
            return Err(SendError::PasswordOutsideAccessRequest);
        }
        if self.in_flight() >= self.capacity() && self.backlog.len() >= self.max_backlog {
            self.stats.backlog_full += 1;
            return Err(SendError::BacklogFull(self.backlog.len()));
        }
        let id = RequestId(self.next_request);
        let per_server = (0..self.servers.len())
            .map(|s| self.encode_for(&request, s))
            .collect::<Result<Vec<_>, _>>()?;
        self.next_request += 1;
        self.stats.requests += 1;
        self.backlog.push_back(Pending {
            request: id,
            code: request.code,
            per_server,
        });
        self.start_backlog(now);
        Ok(id)
    }

    /// Abandon a request (e.g. the session went away). Returns whether it was outstanding;
    /// no event is emitted for it, and a late reply is dropped as an unknown identifier.
    pub fn cancel(&mut self, now: Instant, request: RequestId) -> bool {
        if let Some(pos) = self.backlog.iter().position(|p| p.request == request) {
            self.backlog.remove(pos);
            self.stats.cancelled += 1;
            return true;
        }
        let slot = self.slots.iter().position(|s| {
            s.as_ref()
                .is_some_and(|in_flight| in_flight.pending.request == request)
        });
        match slot {
            Some(slot) => {
                self.release(slot as u16);
                self.stats.cancelled += 1;
                self.start_backlog(now);
                true
            }
            None => false,
        }
    }

    /// Process a datagram received from `from` on the client socket (of a one-socket
    /// client; see [`Client::handle_datagram_on`]).
    pub fn handle_datagram(
        &mut self,
        now: Instant,
        from: SocketAddr,
        datagram: &[u8],
    ) -> Result<(), ReplyError> {
        self.handle_datagram_on(now, 0, from, datagram)
    }

    /// Process a datagram received from `from` on socket `socket` (the index of
    /// [`Transmit::socket`]).
    pub fn handle_datagram_on(
        &mut self,
        now: Instant,
        socket: usize,
        from: SocketAddr,
        datagram: &[u8],
    ) -> Result<(), ReplyError> {
        let result = self.match_reply(socket, from, datagram);
        match &result {
            Ok(_) => self.stats.responses += 1,
            Err(ReplyError::UnknownSource(_)) => self.stats.rx_unknown_source += 1,
            Err(ReplyError::Malformed(_)) => self.stats.rx_malformed += 1,
            Err(ReplyError::UnknownIdentifier { .. } | ReplyError::UnknownSocket(_)) => {
                self.stats.rx_unknown_identifier += 1
            }
            Err(ReplyError::UnexpectedCode { .. }) => self.stats.rx_unexpected_code += 1,
            Err(ReplyError::Authentication(_)) => self.stats.rx_bad_authenticator += 1,
            Err(ReplyError::MissingMessageAuthenticator(_)) => {
                self.stats.rx_missing_message_authenticator += 1
            }
        }
        let (slot, server, message_authenticator, packet) = result?;
        let in_flight = self.release(slot);
        if in_flight.attempts == 1 {
            self.stats
                .rtt
                .observe(now.saturating_duration_since(in_flight.sent));
        }
        self.preferred = server;
        self.events.push_back(Event::Response {
            request: in_flight.pending.request,
            server,
            attempts: in_flight.attempts,
            message_authenticator,
            packet,
        });
        self.start_backlog(now);
        Ok(())
    }

    /// Retransmit or give up on every request whose deadline has passed.
    pub fn handle_timeout(&mut self, now: Instant) {
        for slot in 0..self.slots.len() {
            let Some(in_flight) = &self.slots[slot] else {
                continue;
            };
            if in_flight.deadline > now {
                continue;
            }
            if in_flight.attempts >= self.max_attempts {
                let in_flight = self.release(slot as u16);
                self.stats.timeouts += 1;
                self.events.push_back(Event::TimedOut {
                    request: in_flight.pending.request,
                    attempts: in_flight.attempts,
                });
            } else {
                self.attempt(now, slot as u16);
            }
        }
        self.start_backlog(now);
    }

    /// When [`Client::handle_timeout`] must next be called, if anything is in flight.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.slots.iter().flatten().map(|s| s.deadline).min()
    }

    /// The next datagram to send: its bytes replace the contents of `buf`.
    pub fn poll_transmit(&mut self, buf: &mut Vec<u8>) -> Option<Transmit> {
        while let Some((slot, server, request)) = self.transmits.pop_front() {
            // Skip sends queued for a request that has since completed or been cancelled.
            let Some(Some(in_flight)) = self.slots.get(usize::from(slot)) else {
                continue;
            };
            if in_flight.pending.request != request {
                continue;
            }
            buf.clear();
            buf.extend_from_slice(&in_flight.pending.per_server[server].bytes);
            return Some(Transmit {
                request,
                server,
                socket: in_flight.socket,
                destination: self.servers[server].config.address,
            });
        }
        None
    }

    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// Requests sent and awaiting a reply.
    pub fn in_flight(&self) -> usize {
        self.slots.len() - self.free_slots.len()
    }

    /// Requests waiting for a free identifier.
    pub fn backlog(&self) -> usize {
        self.backlog.len()
    }

    /// How many requests can be in flight at once: 256 per socket, or fewer if
    /// `ClientConfig::max_in_flight` says so.
    pub fn capacity(&self) -> usize {
        self.max_in_flight
    }

    /// A socket with a free identifier on every server, round-robin.
    fn pick_socket(&mut self) -> Option<usize> {
        let n = self.socket_load.len();
        for step in 0..n {
            let socket = (self.socket_cursor + step) % n;
            if usize::from(self.socket_load[socket]) < IDENTIFIERS {
                self.socket_cursor = (socket + 1) % n;
                return Some(socket);
            }
        }
        None
    }

    /// Build and sign `request` for server `s`, with identifier 0 until it is started.
    fn encode_for(&mut self, request: &Request, s: usize) -> Result<Encoded, SendError> {
        let secret = &self.servers[s].config.secret;
        let mut authenticator = [0u8; 16];
        if request.code != Code::AccountingRequest {
            self.rng.fill_bytes(&mut authenticator);
        }
        let mut attributes = Vec::with_capacity(request.attributes.len() + 2);
        if request.code != Code::AccountingRequest {
            // First, so a forged prefix cannot be chosen to collide (BlastRADIUS guidance).
            attributes.push(Attribute::MessageAuthenticator([0; 16]));
        }
        if let Some(password) = &request.user_password {
            let hidden = auth::hide_user_password(password, secret, &authenticator)?;
            attributes.push(Attribute::UserPassword(hidden));
        }
        attributes.extend(
            request
                .attributes
                .iter()
                .filter(|a| !matches!(a, Attribute::MessageAuthenticator(_)))
                .cloned(),
        );
        let packet = Packet {
            code: request.code,
            identifier: 0,
            authenticator,
            attributes,
        };
        let bytes = packet.encode_signed(secret, None)?;
        Ok(Encoded {
            identifier: 0,
            authenticator: bytes[4..20].try_into().expect("header"),
            bytes,
        })
    }

    /// Move backlogged requests in flight while identifiers are free.
    fn start_backlog(&mut self, now: Instant) {
        while self.in_flight() < self.capacity() {
            let Some(mut pending) = self.backlog.pop_front() else {
                return;
            };
            let socket = self
                .pick_socket()
                .expect("fewer requests in flight than identifiers: a socket has room");
            self.socket_load[socket] += 1;
            let slot = match self.free_slots.pop() {
                Some(slot) => slot,
                None => {
                    self.slots.push(None);
                    (self.slots.len() - 1) as u16
                }
            };
            for (s, encoded) in pending.per_server.iter_mut().enumerate() {
                let server = &mut self.servers[s];
                // Every server holds exactly one identifier of the request's socket per
                // request in flight from it, and fewer than 256 are, so one is free.
                let identifier = server
                    .allocate(socket, slot)
                    .expect("an identifier is free on every server");
                encoded.identifier = identifier;
                encoded.bytes[1] = identifier;
                auth::sign(&mut encoded.bytes, &server.config.secret, None)
                    .expect("re-signing a packet that signed before");
                encoded.authenticator = encoded.bytes[4..20].try_into().expect("header");
            }
            self.slots[usize::from(slot)] = Some(InFlight {
                pending,
                socket,
                attempts: 0,
                next_server: self.preferred,
                deadline: now,
                sent: now,
            });
            self.attempt(now, slot);
        }
    }

    /// Send the request in `slot` to its next server and arm its timer.
    fn attempt(&mut self, now: Instant, slot: u16) {
        let n = self.servers.len();
        let Some(in_flight) = self.slots[usize::from(slot)].as_mut() else {
            return;
        };
        let server = in_flight.next_server;
        in_flight.attempts += 1;
        let backoff = 1u32
            .checked_shl(in_flight.attempts - 1)
            .and_then(|m| self.initial_timeout.checked_mul(m))
            .map_or(self.max_timeout, |t| t.min(self.max_timeout));
        in_flight.deadline = now + backoff;
        in_flight.sent = now;
        in_flight.next_server = (server + 1) % n;
        self.transmits
            .push_back((slot, server, in_flight.pending.request));
        self.stats.transmits += 1;
        if in_flight.attempts > 1 {
            self.stats.retransmits += 1;
        }
    }

    /// Free a slot and its identifiers on every server.
    fn release(&mut self, slot: u16) -> InFlight {
        let in_flight = self.slots[usize::from(slot)]
            .take()
            .expect("releasing an occupied slot");
        let base = in_flight.socket * IDENTIFIERS;
        for (server, encoded) in self.servers.iter_mut().zip(&in_flight.pending.per_server) {
            server.identifiers[base + usize::from(encoded.identifier)] = None;
        }
        self.socket_load[in_flight.socket] -= 1;
        self.free_slots.push(slot);
        in_flight
    }

    /// Find and authenticate the request `datagram` answers, without changing any state.
    fn match_reply(
        &mut self,
        socket: usize,
        from: SocketAddr,
        datagram: &[u8],
    ) -> Result<(u16, usize, MessageAuthenticator, Packet), ReplyError> {
        let server = self
            .servers
            .iter()
            .position(|s| s.config.address == from)
            .ok_or(ReplyError::UnknownSource(from))?;
        let raw = RawPacket::parse(datagram)?;
        if socket >= self.socket_load.len() {
            return Err(ReplyError::UnknownSocket(socket));
        }
        let identifier = raw.identifier();
        let unknown = ReplyError::UnknownIdentifier {
            server,
            socket,
            identifier,
        };
        let slot = self.servers[server].identifiers[socket * IDENTIFIERS + usize::from(identifier)]
            .ok_or(unknown)?;
        let in_flight = self.slots[usize::from(slot)]
            .as_ref()
            .expect("identifier tables point at live slots");
        let request = in_flight.pending.code;
        if !raw.code().answers(request) {
            return Err(ReplyError::UnexpectedCode {
                request,
                reply: raw.code(),
            });
        }
        let state = &mut self.servers[server];
        let sent = &in_flight.pending.per_server[server];
        let ma = auth::verify_response(&raw, &sent.authenticator, &state.config.secret)
            .map_err(ReplyError::Authentication)?;
        if request != Code::AccountingRequest {
            let required = match self.policy {
                MessageAuthenticatorPolicy::Require => true,
                MessageAuthenticatorPolicy::Auto => state.sends_message_authenticator,
            };
            match ma {
                MessageAuthenticator::Valid => state.sends_message_authenticator = true,
                MessageAuthenticator::Absent if required => {
                    return Err(ReplyError::MissingMessageAuthenticator(server))
                }
                MessageAuthenticator::Absent => {}
            }
        }
        Ok((slot, server, ma, Packet::from_raw(&raw)))
    }
}
