//! The nsctl control socket (reference §3.3): one UDP datagram in, one out.
//!
//! The C daemon listens on every address with no authentication at all. We listen on
//! 127.0.0.1:1702 unless told otherwise (`l2tpns --control`), and a socket bound to a
//! loopback address refuses datagrams that did not come from loopback (a route or NAT rule
//! could otherwise deliver them) and, unless `--control-any-user`, requests from sockets of
//! users other than root and the daemon's own (the sender's uid is looked up in
//! /proc/net/udp: [`crate::peer_uid`]). The protocol has no authentication of its own, so a
//! non-loopback address is for networks the operator trusts.
//!
//! What the C daemon did through its `sessionctl` plugin (`drop`, `kill`) is built in.
//! Malformed datagrams are counted (`nsctl_malformed`) and dropped without an answer.

use std::io;
use std::net::SocketAddr;
use std::time::Instant;

use mio::net::UdpSocket;
use mio::Interest;

use nsctl::command::{self, Request, Target, BUILT_IN_PLUGINS, HELP_LINES};
use nsctl::wire::{Kind, Message, MAX_MESSAGE};

use super::{Daemon, TOKEN_CONTROL};
use crate::session_table::SessionKey;

pub(super) struct Control {
    socket: UdpSocket,
    loopback_only: bool,
    /// Take requests from every local user (the C daemon's way), not only root's.
    any_user: bool,
}

/// Acct-Terminate-Cause for sessions ended from nsctl (Admin-Reset).
const ADMIN_RESET: u32 = radius::acct_terminate_cause::ADMIN_RESET;

/// Root and the daemon's own user may send requests; anyone else is refused with the reason.
fn sender_allowed(from: SocketAddr) -> Result<(), String> {
    // SAFETY: geteuid(2) cannot fail and touches no memory.
    let me = unsafe { libc::geteuid() };
    match crate::peer_uid::uid_of_sender(from) {
        Some(uid) if uid == 0 || uid == me => Ok(()),
        Some(uid) => Err(format!(
            "permission denied: nsctl requests are taken from root only, this one came from uid \
             {uid} (l2tpns --control-any-user trusts every local user)"
        )),
        None => Err("permission denied: the sending socket's owner is unknown".to_owned()),
    }
}

impl Daemon {
    /// Starts answering nsctl on `addr`; `any_user` trusts every local user, not only root
    /// and the daemon's own user.
    pub fn open_control(&mut self, addr: SocketAddr, any_user: bool) -> Result<(), String> {
        let mut socket =
            UdpSocket::bind(addr).map_err(|e| format!("nsctl control socket {addr}: {e}"))?;
        self.poll
            .registry()
            .register(&mut socket, TOKEN_CONTROL, Interest::READABLE)
            .map_err(|e| format!("nsctl control socket {addr}: {e}"))?;
        log::info!("nsctl control on {addr}");
        self.control = Some(Control {
            socket,
            loopback_only: addr.ip().is_loopback(),
            any_user,
        });
        Ok(())
    }

    pub(super) fn control_readable(&mut self, now: Instant) {
        let mut buf = [0u8; MAX_MESSAGE + 1];
        loop {
            let Some(c) = self.control.as_ref() else {
                return;
            };
            let (n, from) = match c.socket.recv_from(&mut buf) {
                Ok(r) => r,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    log::warn!("nsctl control socket: {e}");
                    return;
                }
            };
            if c.loopback_only && !from.ip().is_loopback() {
                self.stats.nsctl_refused += 1;
                log::warn!("nsctl: request from {from} refused: the control socket is local");
                continue;
            }
            let check_user = c.loopback_only && !c.any_user;
            let message = match Message::decode(&buf[..n]) {
                Ok(m) if m.kind.is_request() => m,
                Ok(m) => {
                    self.stats.nsctl_malformed += 1;
                    log::debug!("nsctl: {:?} from {from} is not a request", m.kind);
                    continue;
                }
                Err(e) => {
                    self.stats.nsctl_malformed += 1;
                    log::debug!("nsctl: datagram from {from}: {e}");
                    continue;
                }
            };
            if check_user {
                if let Err(refusal) = sender_allowed(from) {
                    self.stats.nsctl_refused += 1;
                    log::warn!("nsctl: request from {from} refused: {refusal}");
                    self.send_control_reply(from, Kind::Err, vec![refusal]);
                    continue;
                }
            }
            let (kind, lines) = match command::parse(&message) {
                Ok(request) => self.control_request(now, request, from),
                Err(refusal) => (Kind::Err, vec![refusal]),
            };
            self.stats.nsctl_requests += 1;
            self.send_control_reply(from, kind, lines);
        }
    }

    fn send_control_reply(&mut self, to: SocketAddr, kind: Kind, mut lines: Vec<String>) {
        // Lines are ours and short; cut rather than fail if one ever is not.
        for l in &mut lines {
            if l.len() > 255 {
                let mut end = 255;
                while !l.is_char_boundary(end) {
                    end -= 1;
                }
                l.truncate(end);
            }
        }
        let wire = match Message::new(kind, lines.into_iter().map(String::into_bytes)).encode() {
            Ok(w) => w,
            Err(e) => {
                log::warn!("nsctl: reply to {to} not sent: {e}");
                return;
            }
        };
        if let Some(c) = self.control.as_ref() {
            if let Err(e) = c.socket.send_to(&wire, to) {
                log::warn!("nsctl: reply to {to}: {e}");
            }
        }
    }

    fn control_request(
        &mut self,
        now: Instant,
        request: Request,
        from: SocketAddr,
    ) -> (Kind, Vec<String>) {
        match request {
            Request::Help => (Kind::Ok, HELP_LINES.iter().map(|l| l.to_string()).collect()),
            // One `name=value` per line, as in the log's "counters:" line.
            Request::ShowCounters => (
                Kind::Ok,
                self.counters_line().split(' ').map(str::to_owned).collect(),
            ),
            Request::LoadPlugin(name) if BUILT_IN_PLUGINS.contains(&name.as_str()) => (
                Kind::Ok,
                vec![format!(
                    "{name} is built in: its commands are always available"
                )],
            ),
            Request::LoadPlugin(name) => (
                Kind::Err,
                vec![format!(
                    "no plugin `{name}': this l2tpns loads no plugins ({} built in)",
                    BUILT_IN_PLUGINS.join(", ")
                )],
            ),
            Request::UnloadPlugin(name) if BUILT_IN_PLUGINS.contains(&name.as_str()) => (
                Kind::Err,
                vec![format!("{name} is built in and cannot be unloaded")],
            ),
            Request::UnloadPlugin(name) => {
                (Kind::Err, vec![format!("plugin `{name}' is not loaded")])
            }
            Request::Drop { target, reason } => {
                self.end_from_control(now, &target, reason, true, from)
            }
            Request::Kill { target, reason } => {
                self.end_from_control(now, &target, reason, false, from)
            }
        }
    }

    /// The live session `target` names: a session id (`nsctl` shows the index our logs
    /// print as "session N"), or a user's session (the oldest when there are several).
    /// Like `sessionctl`, only sessions that have an address count.
    fn control_target(&self, target: &Target) -> Option<SessionKey> {
        let key = match target {
            Target::Session(id) => self
                .table
                .iter()
                .find(|(k, _)| k.index() == *id)
                .map(|(k, _)| k)?,
            Target::User(user) => *self.table.by_user(user).first()?,
        };
        self.table
            .get(key)
            .is_some_and(|s| s.address.is_some())
            .then_some(key)
    }

    /// `drop` (polite: LCP Terminate-Request, then Acct-Stop and CDN once PPP is down) and
    /// `kill` (at once: Acct-Stop and CDN), both with Acct-Terminate-Cause Admin-Reset.
    fn end_from_control(
        &mut self,
        now: Instant,
        target: &Target,
        reason: Option<String>,
        polite: bool,
        from: SocketAddr,
    ) -> (Kind, Vec<String>) {
        let Some(key) = self.control_target(target) else {
            return (Kind::Err, vec!["session not found".to_owned()]);
        };
        let reason = reason.unwrap_or_else(|| "Requested by administrator.".to_owned());
        let user = self
            .table
            .get(key)
            .and_then(|s| s.user.clone())
            .unwrap_or_default();
        log::info!(
            "nsctl from {from}: {} session {} ({user}): {reason}",
            if polite { "drop" } else { "kill" },
            key.index()
        );
        if polite {
            if let Some(s) = self.table.get_mut(key) {
                s.terminate_cause = Some(ADMIN_RESET);
                s.link.close(now, reason.as_bytes());
            }
            self.drain_link(now, key);
        } else {
            self.end_session(now, key, ADMIN_RESET, true);
        }
        (Kind::Ok, Vec::new())
    }
}
