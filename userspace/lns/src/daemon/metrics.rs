//! The metrics listener: `GET /metrics` (Prometheus text, [`crate::metrics`]) and
//! `GET /sessions` (the JSON of [`Command::ShowSessions`]) over HTTP/1.1, served by the
//! control loop itself.
//!
//! Why in the loop and not a thread or an HTTP library: every number and the session table
//! belong to the loop, so a scrape is answered from them directly, with no lock and no copy
//! shared with another thread; and the handling is small enough to be bounded: non-blocking
//! sockets, a request head of at most [`crate::http::MAX_REQUEST`] that must arrive within
//! [`DEADLINE`] of the accept, a response abandoned after [`DEADLINE`] without progress or
//! [`LIFETIME`] in all, at most [`MAX_CONNECTIONS`] at once,
//! and responses written as far as the socket takes them, at most [`WRITE_BUDGET`] per
//! connection per wake-up, the rest when the socket is WRITABLE again (or at the next
//! turn of the loop). `/sessions` asks the endpoint for [`SESSIONS_PER_CHUNK`] sessions at
//! a time (`Command::ShowSessionsPage`) as the socket drains, so 70 000 sessions never stall
//! forwarding (a snapshot of all of them at once held the loop for tens of milliseconds) and
//! a slow reader holds one page, not the table.
//!
//! Bound to loopback unless `--metrics-token-file` gives a bearer token (then checked on
//! every request, in constant time). Each response closes its connection.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::time::{Duration, Instant};

use mio::net::{TcpListener, TcpStream};
use mio::{Interest, Token};

use lns_core::command::SessionInfo;
use lns_core::{Command, Reply};

use crate::http::{self, Parse, Status};
use crate::metrics::{self as exposition, Snapshot};

use super::{Daemon, TOKEN_METRICS, TOKEN_METRICS_CONN_BASE};

/// Connections served at once; more are accepted and closed at once (and counted).
pub(super) const MAX_CONNECTIONS: usize = 8;
/// The whole request must arrive within this time of the connection's accept, and a
/// response that makes no progress for this long is abandoned.
pub(super) const DEADLINE: Duration = Duration::from_secs(5);
/// However steadily a reader takes its response, the connection ends this long after its
/// accept (a slot is not held forever at a byte a second).
pub(super) const LIFETIME: Duration = Duration::from_secs(60);
/// Bytes written to one connection per wake-up before the loop turns to other work.
const WRITE_BUDGET: usize = 256 * 1024;
/// Sessions serialized into the output at a time.
const SESSIONS_PER_CHUNK: usize = 512;

pub(super) struct Metrics {
    listener: TcpListener,
    token: Option<Vec<u8>>,
    conns: Vec<Option<Conn>>,
    /// Connections whose output is waiting for the loop rather than the socket.
    ready: Vec<usize>,
}

struct Conn {
    stream: TcpStream,
    peer: SocketAddr,
    request: Vec<u8>,
    accepted: Instant,
    deadline: Instant,
    out: Option<Output>,
}

struct Output {
    buf: Vec<u8>,
    pos: usize,
    /// The `/sessions` body still to serialize.
    sessions: Option<SessionsBody>,
}

/// Where the `/sessions` body stands: the id its next page starts at (`None`: the array is
/// closed), and whether an element was written (a comma goes before the next).
struct SessionsBody {
    next: Option<u32>,
    any: bool,
}

impl SessionsBody {
    fn new() -> Self {
        SessionsBody {
            next: Some(0),
            any: false,
        }
    }
}

impl Output {
    fn whole(buf: Vec<u8>) -> Self {
        Output {
            buf,
            pos: 0,
            sessions: None,
        }
    }

    /// Refills the buffer once it is written out, with the next page `page(from)` gives (its
    /// sessions and where the one after starts); false when the body is complete.
    fn refill(&mut self, page: impl FnOnce(u32) -> (Vec<SessionInfo>, Option<u32>)) -> bool {
        if self.pos < self.buf.len() {
            return true;
        }
        self.buf.clear();
        self.pos = 0;
        let Some(body) = self.sessions.as_mut() else {
            return false;
        };
        let Some(from) = body.next else {
            self.sessions = None;
            return false;
        };
        let (list, next) = page(from);
        for s in &list {
            if body.any {
                self.buf.push(b',');
            }
            body.any = true;
            // SessionInfo is plain data: serializing it into a Vec cannot fail.
            let _ = serde_json::to_writer(&mut self.buf, s);
        }
        body.next = next;
        if next.is_none() {
            self.buf.extend_from_slice(b"]\n");
        }
        true
    }
}

/// What became of a connection after some work on it.
enum Next {
    Keep,
    /// Close it; count it as refused if `refused`.
    Close {
        refused: bool,
    },
}

impl Daemon {
    /// Starts serving metrics on `addr`. `token`: the bearer token every request must carry
    /// (required by [`http::metrics_token`] off loopback).
    pub fn open_metrics(
        &mut self,
        addr: SocketAddr,
        token: Option<Vec<u8>>,
    ) -> Result<(), super::DaemonError> {
        let what = format!("metrics listener {addr}");
        let mut listener = TcpListener::bind(addr).map_err(super::io_err(what.clone()))?;
        self.poll
            .registry()
            .register(&mut listener, TOKEN_METRICS, Interest::READABLE)
            .map_err(super::io_err(what))?;
        log::info!(
            "metrics on http://{addr}/metrics and /sessions{}",
            if token.is_some() {
                " (bearer token required)"
            } else {
                ""
            }
        );
        self.metrics = Some(Metrics {
            listener,
            token,
            conns: (0..MAX_CONNECTIONS).map(|_| None).collect(),
            ready: Vec::new(),
        });
        Ok(())
    }

    /// When the metrics listener next needs the loop: a connection's deadline, or now if
    /// output waits for the loop.
    pub(super) fn metrics_deadline(&self, now: Instant) -> Option<Instant> {
        let m = self.metrics.as_ref()?;
        if !m.ready.is_empty() {
            return Some(now);
        }
        m.conns.iter().flatten().map(|c| c.deadline).min()
    }

    /// The numbers of a scrape, now.
    fn metrics_snapshot(&self) -> Snapshot {
        let pool = self.core.pool();
        Snapshot {
            sessions: self.core.session_count() as u64,
            tunnels: self.core.tunnel_count() as u64,
            pool_size: pool.len() as u64,
            pool_free: pool.free_len() as u64,
            data_plane: self.data_plane_sum(),
            workers: self.worker_packets(),
            counters: self.counters(),
            radius: self
                .core
                .radius_stats()
                .map(|(a, b)| (a.clone(), b.clone())),
        }
    }

    /// The listener is readable: accept what waits.
    pub(super) fn metrics_accept(&mut self, now: Instant) {
        loop {
            let Some(m) = self.metrics.as_mut() else {
                return;
            };
            let (mut stream, peer) = match m.listener.accept() {
                Ok(c) => c,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    // EMFILE and the like: leave the rest in the backlog until next time.
                    log::warn!("metrics listener: accept: {e}");
                    return;
                }
            };
            let Some(slot) = m.conns.iter().position(Option::is_none) else {
                self.stats.metrics_refused += 1;
                log::debug!("metrics: {peer} refused: {MAX_CONNECTIONS} connections already");
                continue;
            };
            let token = Token(TOKEN_METRICS_CONN_BASE + slot);
            if let Err(e) = self.poll.registry().register(
                &mut stream,
                token,
                Interest::READABLE | Interest::WRITABLE,
            ) {
                log::warn!("metrics: epoll: {e}");
                continue;
            }
            m.conns[slot] = Some(Conn {
                stream,
                peer,
                request: Vec::with_capacity(1024),
                accepted: now,
                deadline: now + DEADLINE,
                out: None,
            });
        }
    }

    /// A connection is readable or writable.
    pub(super) fn metrics_event(&mut self, now: Instant, token: Token) {
        let slot = token.0 - TOKEN_METRICS_CONN_BASE;
        let has_output = match self.conn(slot) {
            Some(c) => c.out.is_some(),
            None => return,
        };
        let next = if has_output {
            self.metrics_write(now, slot)
        } else {
            self.metrics_read(now, slot)
        };
        self.metrics_finish(slot, next);
    }

    /// Output that waited for the loop (its write budget ran out): write more.
    pub(super) fn metrics_turn(&mut self, now: Instant) {
        let Some(m) = self.metrics.as_mut() else {
            return;
        };
        let ready = std::mem::take(&mut m.ready);
        for slot in ready {
            let next = self.metrics_write(now, slot);
            self.metrics_finish(slot, next);
        }
    }

    /// Closes the connections past their deadline: a slow request or a slow reader.
    pub(super) fn metrics_expire(&mut self, now: Instant) {
        let Some(m) = self.metrics.as_ref() else {
            return;
        };
        let late: Vec<usize> = m
            .conns
            .iter()
            .enumerate()
            .filter_map(|(i, c)| c.as_ref().filter(|c| c.deadline <= now).map(|_| i))
            .collect();
        for slot in late {
            if let Some(c) = self.conn(slot) {
                log::debug!("metrics: {} closed: no progress for {DEADLINE:?}", c.peer);
            }
            self.metrics_finish(slot, Next::Close { refused: true });
        }
    }

    fn conn(&self, slot: usize) -> Option<&Conn> {
        self.metrics.as_ref()?.conns.get(slot)?.as_ref()
    }

    fn conn_mut(&mut self, slot: usize) -> Option<&mut Conn> {
        self.metrics.as_mut()?.conns.get_mut(slot)?.as_mut()
    }

    fn metrics_finish(&mut self, slot: usize, next: Next) {
        let Next::Close { refused } = next else {
            return;
        };
        if refused {
            self.stats.metrics_refused += 1;
        }
        let Some(m) = self.metrics.as_mut() else {
            return;
        };
        m.ready.retain(|&s| s != slot);
        if let Some(mut c) = m.conns.get_mut(slot).and_then(Option::take) {
            let _ = self.poll.registry().deregister(&mut c.stream);
            let _ = c.stream.shutdown(Shutdown::Both);
        }
    }

    /// Reads the request head, and answers it once it is complete.
    fn metrics_read(&mut self, now: Instant, slot: usize) -> Next {
        let Some(c) = self.conn_mut(slot) else {
            return Next::Keep;
        };
        let mut chunk = [0u8; 2048];
        // The peer may shut its side once the request is sent (`nc -N`): still answered.
        let mut eof = false;
        loop {
            let room =
                (http::MAX_REQUEST + 1 - c.request.len().min(http::MAX_REQUEST)).min(chunk.len());
            match c.stream.read(&mut chunk[..room]) {
                Ok(0) if c.request.is_empty() => return Next::Close { refused: false },
                Ok(0) => {
                    eof = true;
                    break;
                }
                Ok(n) => {
                    // No new deadline: a request trickling in a byte at a time is still
                    // closed DEADLINE after its accept.
                    c.request.extend_from_slice(&chunk[..n]);
                    if c.request.len() > http::MAX_REQUEST {
                        break;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return Next::Close { refused: false },
            }
        }
        let parsed = http::parse(&c.request);
        let peer = c.peer;
        let request = match parsed {
            Parse::Incomplete if eof => return Next::Close { refused: true },
            Parse::Incomplete => return Next::Keep,
            Parse::Refuse(Status::HeaderTooLarge) => {
                log::debug!(
                    "metrics: {peer}: request head over {} bytes",
                    http::MAX_REQUEST
                );
                return Next::Close { refused: true };
            }
            Parse::Refuse(status) => {
                self.stats.metrics_refused += 1;
                return self.respond(
                    now,
                    slot,
                    Output::whole(http::text_response(status, "bad request\n")),
                );
            }
            Parse::Request(r) => r,
        };
        let token_ok = match self.metrics.as_ref().and_then(|m| m.token.as_deref()) {
            None => true,
            Some(t) => http::token_matches(request.authorization.as_deref(), t),
        };
        if !token_ok {
            self.stats.metrics_refused += 1;
            log::warn!(
                "metrics: {peer}: {} {} refused: no valid bearer token",
                request.method,
                request.path
            );
            let r = http::text_response(Status::Unauthorized, "a bearer token is required\n");
            return self.respond(now, slot, Output::whole(r));
        }
        self.stats.metrics_requests += 1;
        let out = if request.method != "GET" {
            http::text_response(Status::MethodNotAllowed, "only GET\n")
        } else {
            match request.path.as_str() {
                "/metrics" => {
                    let snapshot = self.metrics_snapshot();
                    let (body, content_type) =
                        if exposition::wants_openmetrics(request.accept.as_deref()) {
                            (
                                exposition::encode(&snapshot),
                                exposition::OPENMETRICS_CONTENT_TYPE,
                            )
                        } else {
                            (
                                exposition::encode_prometheus_text(&snapshot),
                                exposition::PROMETHEUS_CONTENT_TYPE,
                            )
                        };
                    let mut r = http::response_head(Status::Ok, content_type, Some(body.len()));
                    r.extend_from_slice(body.as_bytes());
                    r
                }
                "/sessions" => {
                    log::debug!("metrics: {peer}: GET /sessions");
                    let mut head = http::response_head(Status::Ok, "application/json", None);
                    head.push(b'[');
                    return self.respond(
                        now,
                        slot,
                        Output {
                            buf: head,
                            pos: 0,
                            sessions: Some(SessionsBody::new()),
                        },
                    );
                }
                _ => {
                    http::text_response(Status::NotFound, "not found: try /metrics or /sessions\n")
                }
            }
        };
        self.respond(now, slot, Output::whole(out))
    }

    fn respond(&mut self, now: Instant, slot: usize, out: Output) -> Next {
        let Some(c) = self.conn_mut(slot) else {
            return Next::Keep;
        };
        c.out = Some(out);
        c.deadline = (now + DEADLINE).min(c.accepted + LIFETIME);
        self.metrics_write(now, slot)
    }

    /// Writes what the socket takes, up to [`WRITE_BUDGET`].
    fn metrics_write(&mut self, now: Instant, slot: usize) -> Next {
        let core = &mut self.core;
        let Some(m) = self.metrics.as_mut() else {
            return Next::Keep;
        };
        let Some(c) = m.conns.get_mut(slot).and_then(Option::as_mut) else {
            return Next::Keep;
        };
        let Some(out) = c.out.as_mut() else {
            return Next::Keep;
        };
        let mut written = 0;
        loop {
            let page = |from| {
                let command = Command::ShowSessionsPage {
                    from,
                    limit: SESSIONS_PER_CHUNK,
                };
                match core.handle_command(now, command) {
                    Reply::SessionsPage { sessions, next } => (sessions, next),
                    _ => (Vec::new(), None),
                }
            };
            if !out.refill(page) {
                return Next::Close { refused: false };
            }
            if written >= WRITE_BUDGET {
                if !m.ready.contains(&slot) {
                    m.ready.push(slot);
                }
                return Next::Keep;
            }
            let end = out.buf.len().min(out.pos + WRITE_BUDGET - written);
            match c.stream.write(&out.buf[out.pos..end]) {
                Ok(0) => return Next::Close { refused: false },
                Ok(n) => {
                    out.pos += n;
                    written += n;
                    c.deadline = (now + DEADLINE).min(c.accepted + LIFETIME);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Next::Keep,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return Next::Close { refused: false },
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(id: u32) -> SessionInfo {
        SessionInfo {
            id,
            tunnel: l2tp::TunnelId(1),
            call: l2tp::SessionId(2),
            user: format!("user{id}@example.net"),
            address: Some(std::net::Ipv4Addr::from(0x0a00_0000 + id)),
            peer: "192.0.2.1:1701".parse().unwrap(),
            calling_station: "00:11:22:33:44:55".into(),
            up_for: Some(3600),
            idle: Some(5),
            octets_in: 123_456_789,
            octets_out: 987_654_321,
            packets_in: 123_456,
            packets_out: 654_321,
            acct_session_id: format!("5f3e{id:08x}"),
            tx_connect_speed: None,
            rx_connect_speed: None,
            policy: Default::default(),
            throttle: None,
        }
    }

    /// What `Command::ShowSessionsPage` answers, from a list with ids 0, 1, 2, ...
    fn pages(list: &[SessionInfo], from: u32) -> (Vec<SessionInfo>, Option<u32>) {
        let from = from as usize;
        let end = (from + SESSIONS_PER_CHUNK).min(list.len());
        let next = (end < list.len()).then_some(end as u32);
        (list[from.min(end)..end].to_vec(), next)
    }

    /// `cargo test -p lns --lib -- --ignored --nocapture sessions_body_timing`: how long one
    /// chunk of /sessions holds the loop, and the whole body, for 70 000 sessions.
    #[test]
    #[ignore]
    fn sessions_body_timing() {
        let list: Vec<SessionInfo> = (0..70_000).map(session).collect();
        let mut out = Output {
            buf: b"[".to_vec(),
            pos: 0,
            sessions: Some(SessionsBody::new()),
        };
        let (mut total, mut worst, mut bytes) = (Duration::ZERO, Duration::ZERO, 0);
        loop {
            let t = Instant::now();
            let more = out.refill(|from| pages(&list, from));
            let dt = t.elapsed();
            total += dt;
            worst = worst.max(dt);
            if !more {
                break;
            }
            bytes += out.buf.len();
            out.pos = out.buf.len();
        }
        println!(
            "70000 sessions: {bytes} bytes of JSON in {total:?}, at most {worst:?} per chunk of {SESSIONS_PER_CHUNK}"
        );
    }

    #[test]
    fn sessions_body_is_one_json_array_in_chunks() {
        let base: SessionInfo = SessionInfo {
            id: 0,
            tunnel: l2tp::TunnelId(1),
            call: l2tp::SessionId(2),
            user: "u".into(),
            address: Some("10.0.0.1".parse().unwrap()),
            peer: "192.0.2.1:1701".parse().unwrap(),
            calling_station: String::new(),
            up_for: Some(3),
            idle: None,
            octets_in: 1,
            octets_out: 2,
            packets_in: 3,
            packets_out: 4,
            acct_session_id: "x".into(),
            tx_connect_speed: None,
            rx_connect_speed: None,
            policy: Default::default(),
            throttle: None,
        };
        for n in [
            0,
            1,
            SESSIONS_PER_CHUNK,
            SESSIONS_PER_CHUNK + 1,
            3 * SESSIONS_PER_CHUNK,
        ] {
            let list: Vec<SessionInfo> = (0..n)
                .map(|i| SessionInfo {
                    id: i as u32,
                    ..base.clone()
                })
                .collect();
            let mut out = Output {
                buf: b"[".to_vec(),
                pos: 0,
                sessions: Some(SessionsBody::new()),
            };
            let mut body = Vec::new();
            let mut rounds = 0;
            while out.refill(|from| pages(&list, from)) {
                body.extend_from_slice(&out.buf[out.pos..]);
                out.pos = out.buf.len();
                rounds += 1;
            }
            assert_eq!(rounds, 2 + n.div_ceil(SESSIONS_PER_CHUNK).max(1) - 1);
            let expected = format!("{}\n", serde_json::to_string(&list).unwrap());
            assert_eq!(String::from_utf8(body).unwrap(), expected, "{n} sessions");
        }
    }
}
