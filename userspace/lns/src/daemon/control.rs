//! The nsctl control socket: one UDP datagram in, one out.
//!
//! The C daemon listens on every address with no authentication at all. We listen on
//! 127.0.0.1:1702 unless told otherwise (`l2tpns --control`), and a socket bound to a
//! loopback address refuses datagrams that did not come from loopback (a route or NAT rule
//! could otherwise deliver them) and, unless `--control-any-user`, requests from sockets of
//! users other than root and the daemon's own (the sender's uid is looked up in
//! /proc/net/udp: [`crate::peer_uid`]). The protocol has no authentication of its own, so a
//! non-loopback address is for networks the operator trusts.
//!
//! What the C daemon did through its `sessionctl` plugin (`drop`, `kill`) is built in, as
//! [`lns_core::Command`]s the endpoint answers.
//! Malformed datagrams are counted (`nsctl_malformed`) and dropped without an answer.

use std::io;
use std::net::SocketAddr;
use std::time::Instant;

use mio::net::UdpSocket;
use mio::Interest;

use nsctl::command::{self, Request, Target, BUILT_IN_PLUGINS, HELP_LINES};
use nsctl::wire::{Kind, Message, MAX_MESSAGE};

use lns_core::{Command, Reply};

use super::{Daemon, TOKEN_CONTROL};

pub(super) struct Control {
    socket: UdpSocket,
    loopback_only: bool,
    /// Take requests from every local user (the C daemon's way), not only root's.
    any_user: bool,
}

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
    pub fn open_control(
        &mut self,
        addr: SocketAddr,
        any_user: bool,
    ) -> Result<(), super::DaemonError> {
        let what = format!("nsctl control socket {addr}");
        let mut socket = UdpSocket::bind(addr).map_err(super::io_err(what.clone()))?;
        self.poll
            .registry()
            .register(&mut socket, TOKEN_CONTROL, Interest::READABLE)
            .map_err(super::io_err(what))?;
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
        let command = match request {
            Request::Help => return (Kind::Ok, HELP_LINES.iter().map(|l| l.to_string()).collect()),
            // One `name=value` per line, as in the log's "counters:" line: the daemon's own
            // counters join the endpoint's here.
            Request::ShowCounters => {
                let lines = self
                    .counters()
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect();
                return (Kind::Ok, lines);
            }
            Request::LoadPlugin(name) if BUILT_IN_PLUGINS.contains(&name.as_str()) => {
                return (
                    Kind::Ok,
                    vec![format!(
                        "{name} is built in: its commands are always available"
                    )],
                )
            }
            Request::LoadPlugin(name) => {
                return (
                    Kind::Err,
                    vec![format!(
                        "no plugin `{name}': this l2tpns loads no plugins ({} built in)",
                        BUILT_IN_PLUGINS.join(", ")
                    )],
                )
            }
            Request::UnloadPlugin(name) if BUILT_IN_PLUGINS.contains(&name.as_str()) => {
                return (
                    Kind::Err,
                    vec![format!("{name} is built in and cannot be unloaded")],
                )
            }
            Request::UnloadPlugin(name) => {
                return (Kind::Err, vec![format!("plugin `{name}' is not loaded")])
            }
            Request::Drop { target, reason } => Command::DropSession {
                target: target_of(target),
                reason,
            },
            Request::Kill { target, reason } => Command::KillSession {
                target: target_of(target),
                reason,
            },
        };
        let verb = match command {
            Command::DropSession { .. } => "drop",
            _ => "kill",
        };
        let reply = self.core.handle_command(now, command);
        if let Reply::Ended(e) = &reply {
            log::info!(
                "nsctl from {from}: {verb} session {} ({}): {}",
                e.id,
                e.user,
                e.reason
            );
        }
        let kind = if reply.is_error() {
            Kind::Err
        } else {
            Kind::Ok
        };
        (kind, reply.lines())
    }
}

fn target_of(t: Target) -> lns_core::Target {
    match t {
        Target::Session(id) => lns_core::Target::Session(id),
        Target::User(u) => lns_core::Target::User(u),
    }
}
