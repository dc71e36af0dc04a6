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
//! [`lns_core::Command`]s the endpoint answers; so are the `show` queries (text, or JSON
//! with `--json`), answered in pages ([`nsctl::paging`]) when longer than a datagram. The
//! other C plugins' commands (snoop, throttle, garden) are parsed with their grammar and
//! refused by name: those features are not built yet.
//! Malformed datagrams are counted (`nsctl_malformed`) and dropped without an answer.

use std::io;
use std::net::SocketAddr;
use std::time::Instant;

use mio::net::UdpSocket;
use mio::Interest;

use nsctl::command::{self, Request, Show, Target, HELP_LINES};
use nsctl::paging::{self, Page};
use nsctl::wire::{Kind, Message, MAX_MESSAGE};

use lns_core::{Command, Reply};
use serde::Serialize;

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
                    self.send_control_reply(from, Kind::Err, vec![refusal.into_bytes()]);
                    continue;
                }
            }
            let (kind, lines) = match command::parse(&message) {
                Ok(request) => self.control_request(now, request, from),
                Err(refusal) => (Kind::Err, vec![refusal.into_bytes()]),
            };
            self.stats.nsctl_requests += 1;
            self.send_control_reply(from, kind, lines);
        }
    }

    fn send_control_reply(&mut self, to: SocketAddr, kind: Kind, mut lines: Vec<Vec<u8>>) {
        // Lines are ours and short, and pages are sized to fit; cut rather than fail if one
        // ever is not.
        for l in &mut lines {
            l.truncate(paging::MAX_ARG);
        }
        lines.truncate(255);
        let wire = match Message::new(kind, lines).encode() {
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
    ) -> (Kind, Vec<Vec<u8>>) {
        let text =
            |kind, lines: Vec<String>| (kind, lines.into_iter().map(String::into_bytes).collect());
        let command = match request {
            Request::Help => {
                return text(Kind::Ok, HELP_LINES.iter().map(|l| l.to_string()).collect())
            }
            Request::Show { what, json } => return self.show(now, what, json),
            Request::LoadPlugin(name) => Command::LoadPlugin(name),
            Request::UnloadPlugin(name) => Command::RemovePlugin(name),
            // The original's plugin commands need their plugin (throttlectl, snoopctl,
            // garden); drop and kill are always there.
            Request::Snoop { .. }
            | Request::Unsnoop { .. }
            | Request::Throttle { .. }
            | Request::Unthrottle { .. }
            | Request::Garden { .. }
            | Request::Ungarden { .. }
                if self
                    .core
                    .plugin_missing_for(request_verb(&request))
                    .is_some() =>
            {
                let verb = request_verb(&request);
                let plugin = self.core.plugin_missing_for(verb).unwrap_or_default();
                return text(
                    Kind::Err,
                    vec![lns_core::CommandError::NeedsPlugin {
                        command: verb.to_owned(),
                        plugin,
                    }
                    .to_string()],
                );
            }
            Request::Snoop { target, host, port } => Command::Snoop {
                target: target_of(target),
                to: Some(std::net::SocketAddrV4::new(host, port)),
            },
            Request::Unsnoop { target } => Command::Unsnoop {
                target: target_of(target),
            },
            Request::Throttle { target, rates } => Command::Throttle {
                target: target_of(target),
                rates: lns_core::Rates {
                    inbound: rates.inbound,
                    outbound: rates.outbound,
                },
            },
            Request::Unthrottle { target } => Command::Unthrottle {
                target: target_of(target),
            },
            Request::Garden { target } => Command::Garden {
                target: target_of(target),
            },
            Request::Ungarden { target, user } => Command::Ungarden {
                target: target_of(target),
                user,
            },
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
            Command::KillSession { .. } => "kill",
            _ => "",
        };
        let reply = self.core.handle_command(now, command);
        match &reply {
            Reply::Ended(e) => log::info!(
                "nsctl from {from}: {verb} session {} ({}): {}",
                e.id,
                e.user,
                e.reason
            ),
            Reply::Policy { .. } | Reply::Plugins(_) => {
                log::info!("nsctl from {from}: {}", reply.lines().join("; "))
            }
            _ => {}
        }
        let kind = if reply.is_error() {
            Kind::Err
        } else {
            Kind::Ok
        };
        text(kind, reply.lines())
    }

    /// A `show` query: text lines or JSON, a page at a time for listings.
    fn show(&mut self, now: Instant, what: Show, json: bool) -> (Kind, Vec<Vec<u8>>) {
        let flag = if json { "--json " } else { "" };
        let reply = match what {
            Show::Sessions { from } => {
                let Reply::SessionsPage { sessions, next } = self.core.handle_command(
                    now,
                    Command::ShowSessionsPage {
                        from,
                        limit: SESSIONS_PER_PAGE,
                    },
                ) else {
                    return (Kind::Err, vec![b"no session listing".to_vec()]);
                };
                let items = sessions.iter().map(|s| (s.id, s.line(), s));
                return page(items, next, json, |id| format!("show {flag}sessions {id}"));
            }
            Show::Tunnels { from } => {
                let Reply::Tunnels(tunnels) = self.core.handle_command(now, Command::ShowTunnels)
                else {
                    return (Kind::Err, vec![b"no tunnel listing".to_vec()]);
                };
                let tunnels: Vec<_> = tunnels.into_iter().filter(|t| t.id.get() >= from).collect();
                let items = tunnels.iter().map(|t| (u32::from(t.id.get()), t.line(), t));
                return page(items, None, json, |id| format!("show {flag}tunnels {id}"));
            }
            Show::Session(id) => self.core.handle_command(now, Command::ShowSession(id)),
            Show::Pool => self.core.handle_command(now, Command::ShowPool),
            Show::AccessLists(name) => self
                .core
                .handle_command(now, Command::ShowAccessLists { name }),
            Show::Counters => {
                let counters = self.counters();
                if json {
                    let map: serde_json::Map<String, serde_json::Value> =
                        counters.into_iter().map(|(k, v)| (k, v.into())).collect();
                    return (
                        Kind::Ok,
                        paging::json_value(&serde_json::Value::Object(map).to_string()),
                    );
                }
                Reply::Counters(counters)
            }
        };
        let kind = if reply.is_error() {
            Kind::Err
        } else {
            Kind::Ok
        };
        if !json || reply.is_error() {
            return (
                kind,
                reply.lines().into_iter().map(String::into_bytes).collect(),
            );
        }
        let value = match &reply {
            Reply::Sessions(list) if list.len() == 1 => serde_json::to_string(&list[0]),
            Reply::Pool(p) => serde_json::to_string(p),
            Reply::AccessLists(l) => serde_json::to_string(l),
            other => serde_json::to_string(other),
        };
        match value {
            Ok(v) => (Kind::Ok, paging::json_value(&v)),
            Err(e) => (Kind::Err, vec![format!("JSON: {e}").into_bytes()]),
        }
    }
}

/// Sessions asked of the endpoint per page: more than a datagram holds as text (about 50
/// lines), so a page is cut by size, not by this.
const SESSIONS_PER_PAGE: usize = 64;

/// One page of a listing: as many `(id, line, item)` as fit, and the request for the rest
/// (from the first that did not fit, or from `next` when all did).
fn page<'a, T: Serialize + 'a>(
    items: impl Iterator<Item = (u32, String, &'a T)>,
    next: Option<u32>,
    json: bool,
    request_from: impl Fn(u32) -> String,
) -> (Kind, Vec<Vec<u8>>) {
    let mut page = if json {
        Page::json_array()
    } else {
        Page::text()
    };
    let mut cut = None;
    for (id, line, item) in items {
        let fits = if json {
            match serde_json::to_string(item) {
                Ok(j) => page.push_json(&j),
                Err(e) => return (Kind::Err, vec![format!("JSON: {e}").into_bytes()]),
            }
        } else {
            page.push_line(&line)
        };
        if !fits {
            cut = Some(id);
            break;
        }
    }
    let next = cut.or(next).map(request_from);
    (Kind::Ok, page.finish(next.as_deref()))
}

fn target_of(t: Target) -> lns_core::Target {
    match t {
        Target::Session(id) => lns_core::Target::Session(id),
        Target::User(u) => lns_core::Target::User(u),
    }
}

/// The nsctl word of a plugin command.
fn request_verb(r: &Request) -> &'static str {
    match r {
        Request::Snoop { .. } => "snoop",
        Request::Unsnoop { .. } => "unsnoop",
        Request::Throttle { .. } => "throttle",
        Request::Unthrottle { .. } => "unthrottle",
        Request::Garden { .. } => "garden",
        Request::Ungarden { .. } => "ungarden",
        Request::Drop { .. } => "drop",
        Request::Kill { .. } => "kill",
        _ => "",
    }
}
