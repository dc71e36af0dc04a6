//! Accounting: RADIUS Accounting-Request Start / Interim-Update / Stop (RFC 2866, with the
//! gigaword counters of RFC 2869 §5.1), and the `accounting_dir` usage dumps: every 5 minutes
//! the usage of every session since the previous dump; sessions that end meanwhile are
//! written within a minute, and everything left is written at a clean shutdown.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use lns_dataplane::session_table::SessionKey;
use radius::{acct_status_type, Attribute, Request};

use crate::acct_dump::{self, Header, Origin, SessionUsage};
use crate::action::Action;
use crate::endpoint::Endpoint;
use crate::session::{SessionName, TerminateCause};

/// A line for a session that has ended (its record is gone by the time the dump is written).
pub(crate) struct EndedUsage {
    throttled: bool,
    user: String,
    ip: Option<std::net::Ipv4Addr>,
    octets_in: u64,
    octets_out: u64,
}

impl Endpoint {
    /// Accounting-Request for a session (when `radius_accounting` is on).
    pub(crate) fn accounting(&mut self, now: Instant, key: SessionKey, status: u32) {
        if !self.config.settings.radius_accounting {
            return;
        }
        let Some(s) = self.table.get(key) else { return };
        // A gardened session is nobody's account (the original sends nothing for it).
        if s.policy.garden {
            return;
        }
        let Some(c) = self.table.counters(key) else {
            return;
        };
        let user = s.user_name();
        let mut attrs = vec![
            Attribute::AcctStatusType(status),
            Attribute::UserName(user.into_bytes()),
            Attribute::AcctSessionId(s.acct_session_id.to_string().into_bytes()),
            Attribute::AcctAuthentic(1), // RADIUS (RFC 2866 §5.6)
        ];
        if let Some((a, _)) = s.address {
            attrs.push(Attribute::FramedIpAddress(a));
        }
        for class in s.class.iter() {
            attrs.push(Attribute::Class(class.to_vec()));
        }
        // What autothrottle and autosnoop applied, echoed (`plugin_radius_account`).
        for pair in self.plugins.radius_account(&s.policy) {
            attrs.push(Attribute::VendorSpecific(radius::Vsa::CiscoAvPair(
                pair.into_bytes(),
            )));
        }
        if status != acct_status_type::START {
            let load = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
            // Input = from the user (RFC 2866 §5.3), with the 2^32 wraps (RFC 2869 §5.1).
            let (oi, oo) = (load(&c.octets_in), load(&c.octets_out));
            attrs.push(Attribute::AcctInputOctets(oi as u32));
            attrs.push(Attribute::AcctOutputOctets(oo as u32));
            attrs.push(Attribute::AcctInputGigawords((oi >> 32) as u32));
            attrs.push(Attribute::AcctOutputGigawords((oo >> 32) as u32));
            attrs.push(Attribute::AcctInputPackets(load(&c.packets_in) as u32));
            attrs.push(Attribute::AcctOutputPackets(load(&c.packets_out) as u32));
            let secs = s
                .opened
                .map_or(0, |(t, _)| now.saturating_duration_since(t).as_secs());
            attrs.push(Attribute::AcctSessionTime(secs as u32));
        }
        if status == acct_status_type::STOP {
            attrs.push(Attribute::AcctTerminateCause(
                s.terminate_cause
                    .unwrap_or(TerminateCause::NasRequest)
                    .code(),
            ));
        }
        attrs.push(Attribute::EventTimestamp(self.env.clock.unix(now) as u32));
        let mut nas = Vec::new();
        self.accounting_nas_attributes(key, &mut nas);
        attrs.extend(nas);
        let Some(r) = self.radius.as_mut() else {
            return;
        };
        match r.acct.send(now, Request::accounting(attrs)) {
            Ok(_) => self.acct_in_flight += 1,
            Err(e) => log::warn!("{}: Accounting-Request: {e}", SessionName::of(key)),
        }
    }

    /// Remembers the unwritten usage of a session that is ending.
    pub(crate) fn dump_ended(&mut self, key: SessionKey) {
        if self.config.settings.accounting_dir.is_none() {
            return;
        }
        let (Some(s), Some(c)) = (self.table.get(key), self.table.counters(key)) else {
            return;
        };
        if s.policy.garden {
            return;
        }
        self.ended.push(EndedUsage {
            throttled: s.policy.is_throttled(),
            user: s.user_name(),
            ip: s.address.map(|a| a.0),
            octets_in: c.octets_in.load(Ordering::Relaxed) - s.dumped.0,
            octets_out: c.octets_out.load(Ordering::Relaxed) - s.dumped.1,
        });
    }

    /// Queues a dump: ended sessions, plus every live one when `all`.
    pub(crate) fn write_dump(&mut self, now: Instant, all: bool) {
        let Some(dir) = self.config.settings.accounting_dir.clone() else {
            self.ended.clear();
            return;
        };
        let mut live = Vec::new();
        if all {
            for (key, s) in self.table.iter() {
                if s.opened.is_none() || s.policy.garden {
                    continue;
                }
                let Some(c) = self.table.counters(key) else {
                    continue;
                };
                let (i, o) = (
                    c.octets_in.load(Ordering::Relaxed),
                    c.octets_out.load(Ordering::Relaxed),
                );
                live.push((
                    s.policy.is_throttled(),
                    key,
                    s.user_name(),
                    s.address,
                    i,
                    o,
                    s.dumped,
                ));
            }
        }
        let usage = |throttled, user, ip, octets_in, octets_out| SessionUsage {
            user,
            ip,
            opened: true,
            throttled,
            walled_garden: false,
            origin: Origin::Lac,
            octets_in,
            octets_out,
        };
        let mut usages: Vec<SessionUsage<'_>> = self
            .ended
            .iter()
            .map(|e| usage(e.throttled, &e.user, e.ip, e.octets_in, e.octets_out))
            .collect();
        for (throttled, _, user, address, i, o, dumped) in &live {
            usages.push(usage(
                *throttled,
                user,
                address.map(|a| a.0),
                i - dumped.0,
                o - dumped.1,
            ));
        }
        let unix_time = self.env.clock.unix(now);
        let header = Header {
            hostname: &self.env.host_name,
            endpoint: self.config.settings.tun_address(),
            time: unix_time,
            uptime: self.env.clock.secs(now),
        };
        let text = acct_dump::render(&header, usages, self.config.settings.account_all_origin);
        self.ended.clear();
        for (_, key, _, _, i, o, _) in live {
            if let Some(s) = self.table.get_mut(key) {
                s.dumped = (i, o);
            }
        }
        if let Some(text) = text {
            self.actions.push_back(Action::WriteAccountingDump {
                dir,
                unix_time,
                text,
            });
        }
    }

    /// The dump schedule.
    pub(crate) fn dump_tick(&mut self, now: Instant) {
        let full = Duration::from_secs(acct_dump::DUMP_INTERVAL_SECS);
        let ended = Duration::from_secs(acct_dump::SHUTDOWN_DUMP_INTERVAL_SECS);
        if now >= self.next_full_dump {
            self.next_full_dump = now + full;
            self.next_shut_dump = now + ended;
            self.write_dump(now, true);
        } else if now >= self.next_shut_dump {
            self.next_shut_dump = now + ended;
            if !self.ended.is_empty() {
                self.write_dump(now, false);
            }
        }
    }
}
