//! `accounting_dir` dumps (reference §7.4): every 5 minutes the usage of every session since
//! the previous dump; sessions that end meanwhile are written within a minute, and everything
//! left is written at a clean shutdown.

use std::io::Write as _;
use std::sync::atomic::Ordering;
use std::time::Instant;

use chrono::{Datelike, Timelike};

use crate::acct_dump::{self, Header, LocalTime, Origin, SessionUsage};
use crate::session_table::SessionKey;

use super::Daemon;

/// A line for a session that has ended (its record is gone by the time the dump is written).
pub struct Ended {
    pub user: String,
    pub ip: Option<std::net::Ipv4Addr>,
    pub octets_in: u64,
    pub octets_out: u64,
}

impl Daemon {
    /// Remembers the unwritten usage of a session that is ending.
    pub(super) fn dump_shutdown(&mut self, key: SessionKey) {
        if self.config.settings.accounting_dir.is_none() {
            return;
        }
        let (Some(s), Some(c)) = (self.table.get(key), self.table.counters(key)) else {
            return;
        };
        self.ended.push(Ended {
            user: s.user.clone().unwrap_or_default(),
            ip: s.address.map(|a| a.0),
            octets_in: c.octets_in.load(Ordering::Relaxed) - s.dumped.0,
            octets_out: c.octets_out.load(Ordering::Relaxed) - s.dumped.1,
        });
    }

    /// Writes a dump: ended sessions, plus every live one when `all`.
    pub(super) fn write_dump(&mut self, all: bool) {
        let Some(dir) = self.config.settings.accounting_dir.clone() else {
            self.ended.clear();
            return;
        };
        let mut live: Vec<(SessionKey, String, Option<std::net::Ipv4Addr>, u64, u64)> = Vec::new();
        if all {
            for (key, s) in self.table.iter() {
                if s.opened.is_none() {
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
                    key,
                    s.user.clone().unwrap_or_default(),
                    s.address.map(|a| a.0),
                    i,
                    o,
                ));
            }
        }
        let mut usages: Vec<SessionUsage<'_>> = self
            .ended
            .iter()
            .map(|e| SessionUsage {
                user: &e.user,
                ip: e.ip,
                opened: true,
                throttled: false,
                walled_garden: false,
                origin: Origin::Lac,
                octets_in: e.octets_in,
                octets_out: e.octets_out,
            })
            .collect();
        for (key, user, ip, i, o) in &live {
            let (di, doo) = self.table.get(*key).map_or((0, 0), |s| s.dumped);
            usages.push(SessionUsage {
                user,
                ip: *ip,
                opened: true,
                throttled: false,
                walled_garden: false,
                origin: Origin::Lac,
                octets_in: i - di,
                octets_out: o - doo,
            });
        }
        let now = chrono::Local::now();
        let header = Header {
            hostname: &self.host_name,
            endpoint: self.config.settings.tun_address(),
            time: now.timestamp().max(0) as u64,
            uptime: self.started.elapsed().as_secs(),
        };
        let text = acct_dump::render(&header, usages, self.config.settings.account_all_origin);
        self.ended.clear();
        for (key, _, _, i, o) in live {
            if let Some(s) = self.table.get_mut(key) {
                s.dumped = (i, o);
            }
        }
        let Some(text) = text else { return };
        let name = acct_dump::file_name(LocalTime {
            year: now.year(),
            month: now.month() as u8,
            day: now.day() as u8,
            hour: now.hour() as u8,
            minute: now.minute() as u8,
            second: now.second() as u8,
        });
        let path = dir.join(name);
        let written = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .and_then(|mut f| f.write_all(text.as_bytes()));
        match written {
            Ok(()) => log::info!("accounting dump {}", path.display()),
            Err(e) => log::warn!("accounting dump {}: {e}", path.display()),
        }
    }

    /// The dump schedule.
    pub(super) fn dump_tick(&mut self, now: Instant) {
        if now >= self.next_full_dump {
            self.next_full_dump =
                now + std::time::Duration::from_secs(acct_dump::DUMP_INTERVAL_SECS);
            self.next_shut_dump =
                now + std::time::Duration::from_secs(acct_dump::SHUTDOWN_DUMP_INTERVAL_SECS);
            self.write_dump(true);
        } else if now >= self.next_shut_dump {
            self.next_shut_dump =
                now + std::time::Duration::from_secs(acct_dump::SHUTDOWN_DUMP_INTERVAL_SECS);
            if !self.ended.is_empty() {
                self.write_dump(false);
            }
        }
    }
}
