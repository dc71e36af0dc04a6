//! The endpoint: demultiplexes datagrams to tunnels, owns ids, timers, events and the
//! transmit queue. Driven quinn-proto style: `handle_datagram` / `handle_timeout` in,
//! `poll_transmit` / `poll_event` / `poll_timeout` out.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::time::Instant;

use rand_core::RngCore;

use crate::avp::{CallErrors, EncodeError, ResultCode};
use crate::call::CallInfo;
use crate::config::{Config, ConfigError};
use crate::header::{self, Header, HeaderError};
use crate::ids::{SessionId, TunnelId};
use crate::message::{DecodeError, MessageType};
use crate::tunnel::{Role, Tunnel};

/// A datagram to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    pub destination: SocketAddr,
    pub contents: Vec<u8>,
}

/// Why a tunnel or session ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CloseCause {
    /// We closed it (API call or protocol error), with the result we sent.
    Local(ResultCode),
    /// The peer closed it with this result (StopCCN / CDN).
    Peer(ResultCode),
    /// A control message was never acknowledged (RFC 2661 §5.8).
    Timeout,
}

/// "closed by the peer (result 1: Goodbye!)", for logs.
impl std::fmt::Display for CloseCause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CloseCause::Local(r) => write!(f, "closed by us ({r})"),
            CloseCause::Peer(r) => write!(f, "closed by the peer ({r})"),
            CloseCause::Timeout => f.write_str("the peer stopped acknowledging (timeout)"),
        }
    }
}

/// Something the application must know about. Ids are our local ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    TunnelUp {
        tunnel: TunnelId,
        peer: SocketAddr,
        peer_host_name: Vec<u8>,
    },
    /// A tunnel that never came up was closed (tunnel authentication failed, ...).
    TunnelRefused {
        peer: SocketAddr,
        cause: CloseCause,
    },
    TunnelDown {
        tunnel: TunnelId,
        cause: CloseCause,
    },
    /// The call is connected (ICCN received on the LNS, sent on the LAC).
    SessionUp {
        tunnel: TunnelId,
        session: SessionId,
        call: Box<CallInfo>,
    },
    SessionDown {
        tunnel: TunnelId,
        session: SessionId,
        cause: CloseCause,
    },
    /// A PPP frame received on an established session (starting at FF 03 or the protocol).
    Payload {
        tunnel: TunnelId,
        session: SessionId,
        data: Vec<u8>,
    },
    /// WAN-Error-Notify (RFC 2661 §6.14).
    WanError {
        tunnel: TunnelId,
        session: SessionId,
        errors: CallErrors,
    },
    /// Set-Link-Info (RFC 2661 §6.15).
    SetLinkInfo {
        tunnel: TunnelId,
        session: SessionId,
        send_accm: u32,
        receive_accm: u32,
    },
}

/// What the engine does with new tunnels and calls (draining an LNS).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    Accept,
    /// Refuse new tunnels and calls with "try another" (result 2, error 7: RFC 2661 §4.4.2).
    TryAnother,
    /// Refuse new tunnels with StopCCN 6 ("being shut down") and calls with CDN 2/7.
    ShuttingDown,
}

/// Counters for the operator.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    pub datagrams: u64,
    pub malformed: u64,
    pub unknown_tunnel: u64,
    pub unknown_session: u64,
    pub wrong_peer: u64,
    pub duplicates: u64,
    pub out_of_order: u64,
    pub out_of_window: u64,
    pub retransmits: u64,
    pub zlb_sent: u64,
    pub auth_failures: u64,
}

/// Why a datagram was dropped (it is also counted in [`Stats`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Dropped {
    #[error("bad header: {0}")]
    Header(#[from] HeaderError),
    #[error("undecodable message on tunnel 0: {0}")]
    Decode(#[from] DecodeError),
    #[error("tunnel 0 message is not an SCCRQ")]
    NotSccrq,
    #[error("SCCRQ refused: not accepting tunnels")]
    NotAccepting,
    #[error("no tunnel {0}")]
    UnknownTunnel(TunnelId),
    #[error("no established session {session} in tunnel {tunnel}")]
    UnknownSession {
        tunnel: TunnelId,
        session: SessionId,
    },
    #[error("tunnel {tunnel} is bound to another peer")]
    WrongPeer { tunnel: TunnelId },
}

/// Errors of the application-facing calls.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("no tunnel {0}")]
    UnknownTunnel(TunnelId),
    #[error("no session {session} in tunnel {tunnel}")]
    UnknownSession {
        tunnel: TunnelId,
        session: SessionId,
    },
    #[error("tunnel {0} is not established")]
    TunnelNotEstablished(TunnelId),
    #[error("session {session} in tunnel {tunnel} is not established")]
    SessionNotEstablished {
        tunnel: TunnelId,
        session: SessionId,
    },
    #[error("limit reached: {0}")]
    Limit(&'static str),
    #[error(transparent)]
    Encode(#[from] EncodeError),
}

/// Where data packets of a session go (for the daemon's fast path).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataRoute {
    pub peer: SocketAddr,
    pub peer_tunnel_id: TunnelId,
    pub peer_session_id: SessionId,
    /// The LAC sent Sequencing Required: data must carry Ns/Nr
    /// ([`header::write_sequenced_data_header`]).
    pub sequencing: bool,
}

/// State shared by all tunnels of an engine.
pub(crate) struct Ctx {
    pub cfg: Config,
    pub rng: Box<dyn RngCore + Send>,
    pub events: VecDeque<Event>,
    pub stats: Stats,
    pub admission: Admission,
}

impl Ctx {
    pub fn random_bytes<const N: usize>(&mut self) -> [u8; N] {
        let mut b = [0u8; N];
        self.rng.fill_bytes(&mut b);
        b
    }
    /// A random non-zero id not rejected by `used` (random ids resist spoofed messages).
    pub fn allocate_id<I: From<u16> + Copy>(&mut self, used: impl Fn(I) -> bool) -> Option<I> {
        for _ in 0..64 {
            let id = self.rng.next_u32() as u16;
            if id != 0 && !used(I::from(id)) {
                return Some(I::from(id));
            }
        }
        (1..=u16::MAX).map(I::from).find(|id| !used(*id))
    }
}

/// An L2TPv2 endpoint: any number of tunnels with any number of sessions each.
pub struct Engine {
    ctx: Ctx,
    tunnels: HashMap<TunnelId, Tunnel>,
    transmits: VecDeque<Transmit>,
    /// Tunnels that may have output since the last flush (avoids a scan of every tunnel
    /// per datagram).
    touched: Vec<TunnelId>,
}

impl Engine {
    /// `rng` provides tunnel/session ids, challenges and random vectors: give it a CSPRNG.
    pub fn new(cfg: Config, rng: Box<dyn RngCore + Send>) -> Result<Self, ConfigError> {
        cfg.validate()?;
        Ok(Engine {
            ctx: Ctx {
                cfg,
                rng,
                events: VecDeque::new(),
                stats: Stats::default(),
                admission: Admission::Accept,
            },
            tunnels: HashMap::new(),
            transmits: VecDeque::new(),
            touched: Vec::new(),
        })
    }

    pub fn config(&self) -> &Config {
        &self.ctx.cfg
    }

    /// Replaces the configuration (a reloaded LNS): host name, secret and HELLO interval are
    /// read at each use, so new tunnels and every later HELLO follow it; what a tunnel already
    /// agreed (its peer's window, its challenge) stays.
    pub fn reconfigure(&mut self, cfg: Config) -> Result<(), ConfigError> {
        cfg.validate()?;
        self.ctx.cfg = cfg;
        Ok(())
    }
    pub fn stats(&self) -> &Stats {
        &self.ctx.stats
    }
    pub fn set_admission(&mut self, a: Admission) {
        self.ctx.admission = a;
    }
    /// The peer's address of one of our tunnels.
    pub fn tunnel_peer(&self, tunnel: TunnelId) -> Option<SocketAddr> {
        self.tunnels.get(&tunnel).map(|t| t.peer)
    }

    /// The Host Name the peer gave in its SCCRQ/SCCRP (RFC 2661 §4.4.3), for logs.
    pub fn tunnel_peer_host_name(&self, tunnel: TunnelId) -> Option<&[u8]> {
        self.tunnels
            .get(&tunnel)
            .map(|t| t.peer_host_name.as_slice())
    }

    /// Our ids of every tunnel, in no particular order.
    pub fn tunnel_ids(&self) -> Vec<TunnelId> {
        self.tunnels.keys().copied().collect()
    }

    pub fn tunnel_count(&self) -> usize {
        self.tunnels.len()
    }
    /// Local ids of established sessions of `tunnel`.
    pub fn sessions(&self, tunnel: TunnelId) -> Vec<SessionId> {
        self.tunnels
            .get(&tunnel)
            .map(|t| t.established_sessions())
            .unwrap_or_default()
    }
    pub fn is_established(&self, tunnel: TunnelId) -> bool {
        self.tunnels
            .get(&tunnel)
            .is_some_and(|t| t.is_established())
    }

    /// Feed one received UDP datagram from `from`.
    pub fn handle_datagram(
        &mut self,
        now: Instant,
        from: SocketAddr,
        datagram: &[u8],
    ) -> Result<(), Dropped> {
        self.ctx.stats.datagrams += 1;
        let r = self.dispatch(now, from, datagram);
        if let Err(e) = &r {
            let s = &mut self.ctx.stats;
            match e {
                Dropped::Header(_) | Dropped::Decode(_) | Dropped::NotSccrq => s.malformed += 1,
                Dropped::UnknownTunnel(_) | Dropped::NotAccepting => s.unknown_tunnel += 1,
                Dropped::UnknownSession { .. } => s.unknown_session += 1,
                Dropped::WrongPeer { .. } => s.wrong_peer += 1,
            }
        }
        self.flush();
        r
    }

    fn dispatch(&mut self, now: Instant, from: SocketAddr, datagram: &[u8]) -> Result<(), Dropped> {
        let hdr = match header::parse(datagram)? {
            Header::Data(d) => {
                let t = self
                    .tunnels
                    .get_mut(&d.tunnel_id)
                    .ok_or(Dropped::UnknownTunnel(d.tunnel_id))?;
                // Data only from the tunnel's peer, address and port: anyone on the LAC's
                // network could otherwise inject into a session by guessing its ids.
                if t.peer != from {
                    return Err(Dropped::WrongPeer {
                        tunnel: d.tunnel_id,
                    });
                }
                if !t.has_established_session(d.session_id) {
                    return Err(Dropped::UnknownSession {
                        tunnel: d.tunnel_id,
                        session: d.session_id,
                    });
                }
                t.last_rx = now;
                self.ctx.events.push_back(Event::Payload {
                    tunnel: d.tunnel_id,
                    session: d.session_id,
                    data: datagram[d.payload()].to_vec(),
                });
                return Ok(());
            }
            Header::Control(c) => c,
        };
        let tid = if hdr.tunnel_id == TunnelId(0) {
            self.new_tunnel_from_sccrq(now, from, &datagram[hdr.body.clone()])?
        } else {
            hdr.tunnel_id
        };
        let t = self
            .tunnels
            .get_mut(&tid)
            .ok_or(Dropped::UnknownTunnel(tid))?;
        if t.peer.ip() != from.ip() {
            return Err(Dropped::WrongPeer { tunnel: tid });
        }
        self.touched.push(tid);
        if t.peer != from {
            // RFC 2661 §8.1: the responder may answer from another port; follow it once.
            if !t.awaiting_reply() {
                return Err(Dropped::WrongPeer { tunnel: tid });
            }
            t.peer = from;
        }
        t.receive(&mut self.ctx, now, &hdr, datagram);
        if t.never_started() {
            // An SCCRQ with Ns != 0 creates nothing (RFC 2661 §5.8: the first Ns is 0).
            self.tunnels.remove(&tid);
        }
        Ok(())
    }

    /// A control message to tunnel 0 must be an SCCRQ: either a retransmission for a tunnel
    /// we already have (duplicate SCCRQ, matched by peer address and its Assigned Tunnel ID)
    /// or a new tunnel.
    fn new_tunnel_from_sccrq(
        &mut self,
        now: Instant,
        from: SocketAddr,
        body: &[u8],
    ) -> Result<TunnelId, Dropped> {
        let msg = crate::message::Message::decode(body, self.ctx.cfg.secret.as_deref())?;
        if msg.kind != MessageType::Sccrq {
            return Err(Dropped::NotSccrq);
        }
        let peer_tid = msg.assigned_tunnel_id();
        if let Some(pt) = peer_tid {
            if let Some((id, _)) = self
                .tunnels
                .iter()
                .find(|(_, t)| t.peer == from && t.peer_id == pt && t.absorbs_sccrq())
            {
                return Ok(*id);
            }
        }
        if !self.ctx.cfg.accept_incoming {
            return Err(Dropped::NotAccepting);
        }
        let tunnels = &self.tunnels;
        let id = self
            .ctx
            .allocate_id(|id| tunnels.contains_key(&id))
            .ok_or(Dropped::NotAccepting)?;
        let full = self.tunnels.len() >= self.ctx.cfg.max_tunnels;
        let mut t = Tunnel::new(&self.ctx, id, from, Role::Responder, now);
        t.over_capacity = full;
        self.tunnels.insert(id, t);
        Ok(id)
    }

    /// Open a tunnel to an LNS (LAC role): sends SCCRQ; [`Event::TunnelUp`] follows.
    pub fn connect(&mut self, now: Instant, peer: SocketAddr) -> Result<TunnelId, Error> {
        if self.tunnels.len() >= self.ctx.cfg.max_tunnels {
            return Err(Error::Limit("max_tunnels"));
        }
        let tunnels = &self.tunnels;
        let id = self
            .ctx
            .allocate_id(|id| tunnels.contains_key(&id))
            .ok_or(Error::Limit("tunnel ids"))?;
        let mut t = Tunnel::new(&self.ctx, id, peer, Role::Initiator, now);
        t.start(&mut self.ctx, now)?;
        self.tunnels.insert(id, t);
        self.touched.push(id);
        self.flush();
        Ok(id)
    }

    /// Place an incoming call on an established tunnel (LAC role): ICRQ, then ICCN once the
    /// LNS answers; [`Event::SessionUp`] follows.
    pub fn open_session(
        &mut self,
        now: Instant,
        tunnel: TunnelId,
        call: CallInfo,
    ) -> Result<SessionId, Error> {
        let t = self
            .tunnels
            .get_mut(&tunnel)
            .ok_or(Error::UnknownTunnel(tunnel))?;
        self.touched.push(tunnel);
        let r = t.open_session(&mut self.ctx, now, call);
        self.flush();
        r
    }

    /// Clear a call with CDN.
    pub fn close_session(
        &mut self,
        now: Instant,
        tunnel: TunnelId,
        session: SessionId,
        result: ResultCode,
    ) -> Result<(), Error> {
        let t = self
            .tunnels
            .get_mut(&tunnel)
            .ok_or(Error::UnknownTunnel(tunnel))?;
        self.touched.push(tunnel);
        let r = t.close_session(&mut self.ctx, now, session, result);
        self.flush();
        r
    }

    /// Clear a tunnel and all its calls with StopCCN.
    pub fn close_tunnel(
        &mut self,
        now: Instant,
        tunnel: TunnelId,
        result: ResultCode,
    ) -> Result<(), Error> {
        let t = self
            .tunnels
            .get_mut(&tunnel)
            .ok_or(Error::UnknownTunnel(tunnel))?;
        self.touched.push(tunnel);
        t.close(&mut self.ctx, now, result);
        self.flush();
        Ok(())
    }

    /// Send Set-Link-Info (LNS → LAC, RFC 2661 §6.15).
    pub fn set_link_info(
        &mut self,
        now: Instant,
        tunnel: TunnelId,
        session: SessionId,
        send_accm: u32,
        receive_accm: u32,
    ) -> Result<(), Error> {
        let t = self
            .tunnels
            .get_mut(&tunnel)
            .ok_or(Error::UnknownTunnel(tunnel))?;
        self.touched.push(tunnel);
        let r = t.send_link_info(&mut self.ctx, now, session, send_accm, receive_accm);
        self.flush();
        r
    }

    /// Send WAN-Error-Notify (LAC → LNS, RFC 2661 §6.14).
    pub fn wan_error_notify(
        &mut self,
        now: Instant,
        tunnel: TunnelId,
        session: SessionId,
        errors: CallErrors,
    ) -> Result<(), Error> {
        let t = self
            .tunnels
            .get_mut(&tunnel)
            .ok_or(Error::UnknownTunnel(tunnel))?;
        self.touched.push(tunnel);
        let r = t.send_wan_error(&mut self.ctx, now, session, errors);
        self.flush();
        r
    }

    /// Where data of a session goes; the daemon's fast path builds the frame itself with
    /// [`header::write_data_header`].
    pub fn data_route(&self, tunnel: TunnelId, session: SessionId) -> Option<DataRoute> {
        let t = self.tunnels.get(&tunnel)?;
        let peer_session_id = t.established_peer_session(session)?;
        Some(DataRoute {
            peer: t.peer,
            peer_tunnel_id: t.peer_id,
            peer_session_id,
            sequencing: t.sequencing_required(session),
        })
    }

    /// Queue a PPP frame on an established session (the slow path: allocates).
    pub fn send_data(
        &mut self,
        tunnel: TunnelId,
        session: SessionId,
        ppp_frame: &[u8],
    ) -> Result<(), Error> {
        let r = self
            .data_route(tunnel, session)
            .ok_or(Error::SessionNotEstablished { tunnel, session })?;
        let head = if r.sequencing {
            header::SEQUENCED_DATA_HEADER_LEN
        } else {
            header::DATA_HEADER_LEN
        };
        let mut contents = vec![0u8; head + ppp_frame.len()];
        contents[head..].copy_from_slice(ppp_frame);
        let written = if r.sequencing {
            let ns = self
                .tunnels
                .get_mut(&tunnel)
                .map_or(0, |t| t.take_data_ns(session));
            // Nr is ignored on data messages (RFC 2661 §3.1): send 0.
            header::write_sequenced_data_header(
                &mut contents,
                head,
                r.peer_tunnel_id,
                r.peer_session_id,
                ns,
                0,
            )
        } else {
            header::write_data_header(&mut contents, head, r.peer_tunnel_id, r.peer_session_id)
        };
        written.expect("buffer has header room");
        self.transmits.push_back(Transmit {
            destination: r.peer,
            contents,
        });
        Ok(())
    }

    /// Run timers: retransmissions, HELLO, removal of closed tunnels.
    pub fn handle_timeout(&mut self, now: Instant) {
        let mut gone = Vec::new();
        for (id, t) in self.tunnels.iter_mut() {
            if t.on_timeout(&mut self.ctx, now) {
                gone.push(*id);
            }
        }
        self.touched.extend(self.tunnels.keys().copied());
        self.flush();
        for id in gone {
            self.tunnels.remove(&id);
        }
    }

    pub(crate) fn tunnels_iter(&self) -> impl Iterator<Item = &Tunnel> {
        self.tunnels.values()
    }

    /// The engine side of [`Engine::resume`]: limits, id clash, insertion.
    pub(crate) fn insert_resumed(
        &mut self,
        now: Instant,
        snap: crate::snapshot::TunnelSnapshot,
    ) -> Result<TunnelId, crate::snapshot::ResumeError> {
        use crate::snapshot::ResumeError;
        if self.tunnels.contains_key(&snap.id) {
            return Err(ResumeError::TunnelIdInUse(snap.id));
        }
        if self.tunnels.len() >= self.ctx.cfg.max_tunnels {
            return Err(ResumeError::Limit("max_tunnels"));
        }
        if snap.sessions.len() > self.ctx.cfg.max_sessions_per_tunnel {
            return Err(ResumeError::Limit("max_sessions_per_tunnel"));
        }
        let id = snap.id;
        self.tunnels
            .insert(id, Tunnel::resume(&self.ctx, snap, now));
        self.touched.push(id);
        self.flush();
        Ok(id)
    }

    /// The earliest instant at which [`Engine::handle_timeout`] has work.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.tunnels
            .values()
            .filter_map(|t| t.poll_timeout(&self.ctx))
            .min()
    }

    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    pub fn poll_event(&mut self) -> Option<Event> {
        self.ctx.events.pop_front()
    }

    /// Move what tunnels queued into the transmit queue; acknowledge with a ZLB what no
    /// outgoing message acknowledged.
    fn flush(&mut self) {
        self.touched.sort_unstable();
        self.touched.dedup();
        for id in self.touched.drain(..) {
            let Some(t) = self.tunnels.get_mut(&id) else {
                continue;
            };
            if t.chan.ack_needed {
                t.send_zlb();
                self.ctx.stats.zlb_sent += 1;
            }
            while let Some(contents) = t.outbox.pop_front() {
                self.transmits.push_back(Transmit {
                    destination: t.peer,
                    contents,
                });
            }
        }
    }
}

/// Result codes (RFC 2661 §4.4.2) used by the engine.
pub mod result {
    /// StopCCN: general request to clear control connection.
    pub const STOPCCN_CLEAR: u16 = 1;
    /// StopCCN / CDN: general error, see the error code.
    pub const GENERAL_ERROR: u16 = 2;
    pub const STOPCCN_NOT_AUTHORIZED: u16 = 4;
    pub const STOPCCN_BAD_VERSION: u16 = 5;
    pub const STOPCCN_SHUTTING_DOWN: u16 = 6;
    pub const STOPCCN_FSM_ERROR: u16 = 7;
    /// CDN: call disconnected for administrative reasons.
    pub const CDN_ADMIN: u16 = 3;
    pub const CDN_TEMPORARY_RESOURCES: u16 = 4;
}
