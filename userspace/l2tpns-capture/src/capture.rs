//! The receive loop: each datagram is judged (source, then [`classify`]), written or counted as
//! dropped, until a count, a duration or a stop flag (SIGINT/SIGTERM) ends it.

use std::io::{self, Write};
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

use crate::classify::{classify, Ip, Reject};
use crate::pcap;

/// How often the loop looks at the stop flag and the deadline while no datagram comes.
const TICK: Duration = Duration::from_millis(100);
/// Larger than any UDP payload, so a datagram is never cut by the receive call.
const BUFFER: usize = 65536;

/// When to stop and whom to believe.
#[derive(Debug, Clone, Default)]
pub struct Limits {
    /// The LNS addresses whose datagrams are accepted; empty: any source.
    pub from: Vec<IpAddr>,
    /// Stop once this many packets are written.
    pub count: Option<u64>,
    /// Stop after this long.
    pub duration: Option<Duration>,
}

/// What became of one datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Write(Ip),
    /// From a source not in `--from`: anyone can send UDP to the capture port.
    Forged,
    Reject(Reject),
}

/// Judges one datagram from `source`.
pub fn judge(from: &[IpAddr], source: SocketAddr, datagram: &[u8]) -> Verdict {
    // On a dual-stack socket an IPv4 LNS shows up as ::ffff:a.b.c.d.
    let ip = source.ip().to_canonical();
    if !from.is_empty() && !from.iter().any(|f| f.to_canonical() == ip) {
        return Verdict::Forged;
    }
    match classify(datagram) {
        Ok(v) => Verdict::Write(v),
        Err(r) => Verdict::Reject(r),
    }
}

/// Counters for the summary line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    pub received: u64,
    pub written: u64,
    pub forged: u64,
    /// Indexed like [`Reject::ALL`].
    pub rejected: [u64; 3],
}

impl Stats {
    /// Counts `v`.
    pub fn count(&mut self, v: Verdict) {
        self.received += 1;
        match v {
            Verdict::Write(_) => self.written += 1,
            Verdict::Forged => self.forged += 1,
            Verdict::Reject(r) => {
                let i = Reject::ALL.iter().position(|&x| x == r).unwrap_or(0);
                self.rejected[i] += 1;
            }
        }
    }

    pub fn dropped(&self) -> u64 {
        self.forged + self.rejected.iter().sum::<u64>()
    }

    /// `received 12, written 10, dropped 2 (source 1, not-ip 1, short 0, length 0)`.
    pub fn summary(&self) -> String {
        let mut reasons = vec![format!("source {}", self.forged)];
        for (r, n) in Reject::ALL.iter().zip(self.rejected) {
            reasons.push(format!("{} {n}", r.name()));
        }
        format!(
            "received {}, written {}, dropped {} ({})",
            self.received,
            self.written,
            self.dropped(),
            reasons.join(", ")
        )
    }
}

/// Receives from `socket` into `out` until `limits` or `stop` end it; `stats` holds what was
/// done even when an error ends the loop early.
pub fn run<W: Write>(
    socket: &UdpSocket,
    out: &mut pcap::Writer<W>,
    limits: &Limits,
    stop: &AtomicBool,
    stats: &mut Stats,
) -> Result<(), pcap::Error> {
    let deadline = limits.duration.map(|d| Instant::now() + d);
    let mut buf = vec![0u8; BUFFER];
    // Set only when it changes: one syscall less per datagram.
    let mut timeout = None;
    loop {
        if stop.load(Ordering::Relaxed) || limits.count.is_some_and(|c| stats.written >= c) {
            return Ok(());
        }
        let wait = match deadline {
            Some(d) => match d.checked_duration_since(Instant::now()) {
                Some(left) if !left.is_zero() => left.min(TICK),
                _ => return Ok(()),
            },
            None => TICK,
        };
        if timeout != Some(wait) {
            socket.set_read_timeout(Some(wait))?;
            timeout = Some(wait);
        }
        let (n, source) = match socket.recv_from(&mut buf) {
            Ok(r) => r,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock
                        | io::ErrorKind::TimedOut
                        | io::ErrorKind::Interrupted
                ) =>
            {
                continue
            }
            Err(e) => return Err(e.into()),
        };
        // The arrival time: taken before any work on the datagram.
        let now = SystemTime::now();
        let verdict = judge(&limits.from, source, &buf[..n]);
        stats.count(verdict);
        if let Verdict::Write(_) = verdict {
            out.write(now, &buf[..n])?;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LNS: &str = "10.202.0.1:40000";

    fn packet() -> Vec<u8> {
        let mut p = vec![0u8; 20];
        p[0] = 0x45;
        p[3] = 20;
        p
    }

    #[test]
    fn sources_outside_from_are_forged() {
        let from: Vec<IpAddr> = vec!["10.202.0.1".parse().unwrap()];
        let lns: SocketAddr = LNS.parse().unwrap();
        let mapped: SocketAddr = "[::ffff:10.202.0.1]:40000".parse().unwrap();
        let other: SocketAddr = "10.202.0.9:40000".parse().unwrap();
        assert_eq!(judge(&from, lns, &packet()), Verdict::Write(Ip::V4));
        assert_eq!(judge(&from, mapped, &packet()), Verdict::Write(Ip::V4));
        assert_eq!(judge(&from, other, &packet()), Verdict::Forged);
        assert_eq!(judge(&[], other, &packet()), Verdict::Write(Ip::V4));
        // The source is judged first: a forged non-IP datagram counts as forged.
        assert_eq!(judge(&from, other, b"x"), Verdict::Forged);
    }

    #[test]
    fn summary_names_every_reason() {
        let mut s = Stats::default();
        s.count(Verdict::Write(Ip::V4));
        s.count(Verdict::Forged);
        s.count(Verdict::Reject(Reject::NotIp));
        s.count(Verdict::Reject(Reject::Length));
        s.count(Verdict::Reject(Reject::Length));
        assert_eq!(
            s.summary(),
            "received 5, written 1, dropped 4 (source 1, not-ip 1, short 0, length 2)"
        );
    }

    /// Through a real loopback socket: written, dropped, then the count ends the loop.
    #[test]
    fn loop_writes_ip_drops_the_rest_and_stops_at_count() {
        let rx = UdpSocket::bind("127.0.0.1:0").unwrap();
        let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
        let to = rx.local_addr().unwrap();
        tx.send_to(b"\x01not ip", to).unwrap();
        tx.send_to(&packet(), to).unwrap();
        tx.send_to(&packet()[..10], to).unwrap();
        tx.send_to(&packet(), to).unwrap();
        tx.send_to(&packet(), to).unwrap(); // past the count: never read
        let mut out = pcap::Writer::new(Vec::new()).unwrap();
        let limits = Limits {
            from: vec!["127.0.0.1".parse().unwrap()],
            count: Some(2),
            duration: Some(Duration::from_secs(10)),
        };
        let mut stats = Stats::default();
        run(&rx, &mut out, &limits, &AtomicBool::new(false), &mut stats).unwrap();
        assert_eq!(
            stats.summary(),
            "received 4, written 2, dropped 2 (source 0, not-ip 1, short 1, length 0)"
        );
        let (_, records) = pcap::read(&out.into_inner()).unwrap();
        assert_eq!(records.len(), 2);
        assert!(records.iter().all(|r| r.data == packet()));
    }

    #[test]
    fn loop_ends_at_the_duration_and_on_the_stop_flag() {
        let rx = UdpSocket::bind("127.0.0.1:0").unwrap();
        let mut out = pcap::Writer::new(Vec::new()).unwrap();
        let limits = Limits {
            duration: Some(Duration::from_millis(250)),
            ..Limits::default()
        };
        let started = Instant::now();
        let mut stats = Stats::default();
        run(&rx, &mut out, &limits, &AtomicBool::new(false), &mut stats).unwrap();
        let took = started.elapsed();
        assert!(
            took >= Duration::from_millis(250) && took < Duration::from_secs(2),
            "{took:?}"
        );
        let started = Instant::now();
        run(
            &rx,
            &mut out,
            &Limits::default(),
            &AtomicBool::new(true),
            &mut stats,
        )
        .unwrap();
        assert!(started.elapsed() < Duration::from_secs(1));
        assert_eq!(stats, Stats::default());
    }
}
