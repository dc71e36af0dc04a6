//! RADIUS Dynamic Authorization (RFC 5176) for the sessions: the endpoint owns a sans-IO
//! [`DaeServer`] (who may ask, authenticators, replays, duplicates, validation, the signed
//! answers) and decides what a valid request does, through the one command model:
//! a Disconnect-Request becomes [`Command::DisconnectSessions`], a CoA-Request
//! [`Command::ChangeSessions`].
//!
//! * Who: the RADIUS servers and `radius_dae_clients`, with `radius_secret`; our identity
//!   for NAS-IP-Address / NAS-Identifier (403 otherwise) is what we send in Access-Requests.
//! * Which sessions: User-Name, Acct-Session-Id, Framed-IP-Address, NAS-Port (the session's
//!   number), Calling- and Called-Station-Id, NAS-Port-Type (Virtual): every attribute given
//!   must match the same session (RFC 5176 §3); User-Name alone names all the user's
//!   sessions. No session: NAK 503. Attributes our sessions never have (IPv6, NAS-Port-Id,
//!   Acct-Multi-Session-Id) match none.
//! * What: Disconnect ends the sessions at once (Acct-Stop Admin-Reset, CDN) before the ACK;
//!   CoA applies Session-Timeout (from now) and Idle-Timeout (0 removes the limit), and, as
//!   the original, Filter-Id and Cisco-AVPair: the plugins' reset (autothrottle unthrottles,
//!   autosnoop stops the copy), the Filter-Ids (none = no filter), then each AVPair through
//!   the plugins. A Filter-Id naming no access list: NAK 407 and nothing changes. Anything
//!   else (other authorization attributes) is not supported: NAK 401 and nothing changes
//!   (RFC 5176 §3.5: all or nothing).

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Instant;

use lns_config::config::Settings;
use radius::dae::{
    DaeAnswer, DaeClient, DaeConfig, DaeConfigError, DaeKind, DaeRequest, DaeServer, DaeStats,
    ErrorCause, NasIdentity,
};
use radius::{nas_port_type, Attribute};

use crate::action::Action;
use crate::command::{Command, CommandError, Reply, SessionChanges, SessionMatch};
use crate::endpoint::Endpoint;

/// The DAE clients of a configuration.
fn clients(s: &Settings) -> Vec<DaeClient> {
    s.dae_clients()
        .into_iter()
        .map(|a| DaeClient {
            address: a.into(),
            secret: s.radius_secret.as_bytes().to_vec(),
        })
        .collect()
}

/// Our identity as a NAS: the NAS-IP-Address we send (and every L2TP bind address), and the
/// NAS-Identifier we send (the host name).
fn nas_identity(s: &Settings, nas_ip: Ipv4Addr, host_name: &str) -> NasIdentity {
    let mut ipv4 = vec![nas_ip];
    for a in s.bind_addresses() {
        if !a.is_unspecified() && !ipv4.contains(&a) {
            ipv4.push(a);
        }
    }
    NasIdentity {
        ipv4,
        ipv6: Vec::new(),
        identifiers: vec![host_name.as_bytes().to_vec()],
    }
}

pub(crate) fn server(
    s: &Settings,
    nas_ip: Ipv4Addr,
    host_name: &str,
) -> Result<DaeServer, DaeConfigError> {
    let mut config = DaeConfig::new(clients(s));
    config.nas_identity = nas_identity(s, nas_ip, host_name);
    config.require_message_authenticator = s.radius_dae_require_message_authenticator;
    DaeServer::new(config)
}

/// RFC 5176 §3.5's names for the causes we send.
fn cause_name(c: ErrorCause) -> &'static str {
    match c {
        ErrorCause::UnsupportedAttribute => "Unsupported-Attribute",
        ErrorCause::MissingAttribute => "Missing-Attribute",
        ErrorCause::NasIdentificationMismatch => "NAS-Identification-Mismatch",
        ErrorCause::InvalidRequest => "Invalid-Request",
        ErrorCause::UnsupportedService => "Unsupported-Service",
        ErrorCause::UnsupportedExtension => "Unsupported-Extension",
        ErrorCause::InvalidAttributeValue => "Invalid-Attribute-Value",
        ErrorCause::AdministrativelyProhibited => "Administratively-Prohibited",
        ErrorCause::SessionContextNotFound => "Session-Context-Not-Found",
        ErrorCause::SessionContextNotRemovable => "Session-Context-Not-Removable",
        ErrorCause::ResourcesUnavailable => "Resources-Unavailable",
        ErrorCause::MultipleSessionSelectionUnsupported => "Multiple-Session-Selection-Unsupported",
    }
}

fn answer_text(a: DaeAnswer) -> String {
    match a {
        DaeAnswer::Ack => "ACK".to_owned(),
        DaeAnswer::Nak(c) => format!("NAK {} {}", c.value(), cause_name(c)),
    }
}

fn lossy(v: &[u8]) -> String {
    String::from_utf8_lossy(v).into_owned()
}

/// The session selection of a request, or `None` when it names something no session of
/// ours has.
fn session_match(r: &DaeRequest) -> Option<SessionMatch> {
    let s = &r.session;
    let never = s.acct_multi_session_id.is_some()
        || s.framed_ipv6_prefix.is_some()
        || s.framed_ipv6_address.is_some()
        || s.framed_interface_id.is_some()
        || s.nas_port_id.is_some()
        || s.nas_port_type.is_some_and(|t| t != nas_port_type::VIRTUAL);
    if never {
        return None;
    }
    Some(SessionMatch {
        session: s.nas_port,
        user: s.user_name.as_deref().map(lossy),
        acct_session_id: s.acct_session_id.as_deref().map(lossy),
        address: s.framed_ip_address,
        calling_station: s.calling_station_id.clone(),
        called_station: s.called_station_id.clone(),
    })
}

/// The command a valid request asks for: `Ok(None)` when no session of ours can match, the
/// NAK's cause when it asks for something we do not do (checked first: nothing changes).
fn command_of(r: &DaeRequest) -> Result<Option<Command>, ErrorCause> {
    let command = match r.kind {
        DaeKind::Disconnect => {
            let mut reason = None;
            for a in &r.other {
                match a {
                    // Shown to nobody (the link goes at once), but it says why: the log's.
                    Attribute::ReplyMessage(m) => reason = Some(lossy(m)),
                    // We always account the end as Admin-Reset.
                    Attribute::AcctTerminateCause(_) => {}
                    _ => return Err(ErrorCause::UnsupportedAttribute),
                }
            }
            let Some(sessions) = session_match(r) else {
                return Ok(None);
            };
            Command::DisconnectSessions {
                sessions,
                reason: Some(reason.unwrap_or_else(|| "Disconnect-Request".to_owned())),
            }
        }
        DaeKind::Coa => {
            let c = &r.changes;
            if !r.other.is_empty() {
                return Err(ErrorCause::UnsupportedAttribute);
            }
            let policy = crate::command::PolicyAttributes {
                filter_ids: c.filter_ids.clone(),
                avpairs: c
                    .av_pairs
                    .iter()
                    .map(|p| [&p.key[..], b"=", &p.value[..]].concat())
                    .collect(),
            };
            let Some(sessions) = session_match(r) else {
                return Ok(None);
            };
            Command::ChangeSessions {
                sessions,
                changes: SessionChanges {
                    session_timeout: c.session_timeout,
                    idle_timeout: c.idle_timeout,
                    policy: Some(policy),
                },
            }
        }
    };
    Ok(Some(command))
}

/// What a request asked, for the log.
fn describe(r: &DaeRequest) -> String {
    let s = &r.session;
    let mut parts = Vec::new();
    if let Some(u) = &s.user_name {
        parts.push(format!("User-Name={:?}", lossy(u)));
    }
    if let Some(a) = &s.acct_session_id {
        parts.push(format!("Acct-Session-Id={}", lossy(a)));
    }
    if let Some(a) = s.framed_ip_address {
        parts.push(format!("Framed-IP-Address={a}"));
    }
    if let Some(p) = s.nas_port {
        parts.push(format!("NAS-Port={p}"));
    }
    if let Some(c) = &s.calling_station_id {
        parts.push(format!("Calling-Station-Id={:?}", lossy(c)));
    }
    let c = &r.changes;
    if let Some(t) = c.session_timeout {
        parts.push(format!("Session-Timeout={t}"));
    }
    if let Some(t) = c.idle_timeout {
        parts.push(format!("Idle-Timeout={t}"));
    }
    for f in &c.filter_ids {
        parts.push(format!("Filter-Id={:?}", lossy(f)));
    }
    for p in &c.av_pairs {
        parts.push(format!(
            "Cisco-AVPair={:?}",
            lossy(&[&p.key[..], b"=", &p.value[..]].concat())
        ));
    }
    if !r.other.is_empty() {
        parts.push(format!("{} other attribute(s)", r.other.len()));
    }
    parts.join(" ")
}

/// The first refusal counter that grew between two snapshots: which NAK the server sent.
fn refusal(before: &DaeStats, after: &DaeStats) -> Option<ErrorCause> {
    [
        (
            before.refused_unsupported_attribute,
            after.refused_unsupported_attribute,
            ErrorCause::UnsupportedAttribute,
        ),
        (
            before.refused_missing_attribute,
            after.refused_missing_attribute,
            ErrorCause::MissingAttribute,
        ),
        (
            before.refused_nas_mismatch,
            after.refused_nas_mismatch,
            ErrorCause::NasIdentificationMismatch,
        ),
        (
            before.refused_invalid_request,
            after.refused_invalid_request,
            ErrorCause::InvalidRequest,
        ),
        (
            before.refused_unsupported_service,
            after.refused_unsupported_service,
            ErrorCause::UnsupportedService,
        ),
        (
            before.refused_resources_unavailable,
            after.refused_resources_unavailable,
            ErrorCause::ResourcesUnavailable,
        ),
    ]
    .into_iter()
    .find(|(b, a, _)| a > b)
    .map(|(_, _, c)| c)
}

impl Endpoint {
    /// A datagram on the DAE socket (`bind_address:radius_dae_port`) from `from`: the answer,
    /// if any, comes out as [`Action::SendDae`]. Datagrams from unknown sources, with a wrong
    /// authenticator, without a required Message-Authenticator or stale are counted and
    /// dropped without an answer.
    pub fn handle_dae(&mut self, now: Instant, from: SocketAddr, datagram: &[u8]) {
        let unix_time = self.env.clock.unix(now);
        let before = self.dae.stats().clone();
        match self.dae.handle_datagram(now, unix_time, from, datagram) {
            Ok(Some(request)) => {
                let answer = self.handle_dae_request(now, &request);
                if let Err(e) = self.dae.answer(now, request.handle, answer) {
                    log::warn!("DAE answer to {from} not sent: {e}");
                }
            }
            Ok(None) => {
                let after = self.dae.stats();
                if after.duplicates_answered > before.duplicates_answered {
                    log::debug!("DAE from {from}: retransmission answered again");
                } else if let Some(c) = refusal(&before, after) {
                    log::info!(
                        "DAE from {from}: refused: {}",
                        answer_text(DaeAnswer::Nak(c))
                    );
                }
            }
            Err(drop) => log::info!("DAE from {from} dropped: {drop}"),
        }
        while let Some(t) = self.dae.poll_transmit() {
            self.actions.push_back(Action::SendDae {
                to: t.destination,
                datagram: t.contents,
            });
        }
        self.drive(now);
    }

    /// Carries out an authenticated, valid Disconnect- or CoA-Request (from
    /// [`DaeServer::handle_datagram`]) and says how to answer it.
    pub fn handle_dae_request(&mut self, now: Instant, request: &DaeRequest) -> DaeAnswer {
        let what = match request.kind {
            DaeKind::Disconnect => "Disconnect",
            DaeKind::Coa => "CoA",
        };
        let (answer, sessions) = match command_of(request) {
            Err(cause) => (DaeAnswer::Nak(cause), Vec::new()),
            Ok(None) => (
                DaeAnswer::Nak(ErrorCause::SessionContextNotFound),
                Vec::new(),
            ),
            Ok(Some(command)) => match self.handle_command(now, command) {
                Reply::EndedSessions(ended) => {
                    (DaeAnswer::Ack, ended.into_iter().map(|e| e.id).collect())
                }
                Reply::Changed(ids) => (DaeAnswer::Ack, ids),
                Reply::Error(CommandError::NoSuchSession) => (
                    DaeAnswer::Nak(ErrorCause::SessionContextNotFound),
                    Vec::new(),
                ),
                Reply::Error(CommandError::NoSuchAccessList(_)) => (
                    DaeAnswer::Nak(ErrorCause::InvalidAttributeValue),
                    Vec::new(),
                ),
                other => {
                    log::warn!("DAE {what}: unexpected reply {other:?}");
                    (DaeAnswer::Nak(ErrorCause::ResourcesUnavailable), Vec::new())
                }
            },
        };
        log::info!(
            "DAE {what} from {} ({}): {}{}",
            request.source,
            describe(request),
            answer_text(answer),
            if sessions.is_empty() {
                String::new()
            } else {
                format!(
                    ", session(s) {}",
                    sessions
                        .iter()
                        .map(u32::to_string)
                        .collect::<Vec<_>>()
                        .join(",")
                )
            }
        );
        answer
    }

    /// The DAE server's counters.
    pub fn dae_stats(&self) -> &DaeStats {
        self.dae.stats()
    }

    /// A reload: clients, identity and Message-Authenticator policy from the new settings.
    pub(crate) fn reconfigure_dae(&mut self) {
        let s = &self.config.settings;
        if let Err(e) = self.dae.set_clients(clients(s)) {
            log::error!("DAE clients: {e}");
        }
        let identity = nas_identity(s, self.nas_ip, &self.env.host_name);
        self.dae.set_nas_identity(identity);
        self.dae
            .set_require_message_authenticator(s.radius_dae_require_message_authenticator);
    }
}

/// The counters of the DAE server for the counters list: received, valid requests, ACKs and
/// NAKs (the endpoint's and the validation's), and drops by reason.
pub(crate) fn counters(s: &DaeStats) -> [(&'static str, u64); 11] {
    let refused = s.refused_unsupported_attribute
        + s.refused_missing_attribute
        + s.refused_nas_mismatch
        + s.refused_invalid_request
        + s.refused_unsupported_service
        + s.refused_resources_unavailable;
    [
        ("dae_received", s.received),
        ("dae_requests", s.requests),
        ("dae_acks", s.acks),
        ("dae_naks", s.naks + refused),
        ("dae_duplicates", s.duplicates_answered),
        ("dae_dropped_unknown_source", s.drop_unknown_source),
        (
            "dae_dropped_bad_authenticator",
            s.drop_bad_authenticator + s.drop_bad_message_authenticator,
        ),
        (
            "dae_dropped_no_message_authenticator",
            s.drop_missing_message_authenticator,
        ),
        (
            "dae_dropped_malformed",
            s.drop_malformed + s.drop_unexpected_code,
        ),
        (
            "dae_dropped_stale",
            s.drop_stale_event_timestamp + s.drop_missing_event_timestamp,
        ),
        ("dae_dropped_in_progress", s.drop_duplicate_in_progress),
    ]
}
