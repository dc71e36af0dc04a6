//! What a throttle costs the data plane per packet, without the kernel's part (syscalls, TUN,
//! UDP), which dominates the daemon's CPU and its noise on a shared host:
//! `tests/bench/host/l2tpns-throttle.sh` measures the whole daemon; this measures only the
//! pure functions between a receive and a send, the ones a policy changes.
//!
//! `policy_cost SESSIONS PACKETS none|half|all`: a session table of SESSIONS published
//! sessions (none, every other one, or all of them throttled each way at a rate no probe
//! reaches), then PACKETS round trips round-robin over the sessions: one upstream datagram
//! classified and one downstream packet framed per session visit, as a probe and its echo
//! cross the daemon. Prints ns per packet (wall clock, best of 5 passes). Under
//! `valgrind --tool=callgrind` the instruction counts per packet are exact and repeatable:
//! compare `none` with `half` there on a noisy machine.

use std::net::{Ipv4Addr, SocketAddrV4};
use std::process::ExitCode;
use std::time::Instant;

use l2tp::{SessionId, TunnelId};
use lns_dataplane::data_plane::{downstream, upstream, Counters, Upstream, DOWN_HEADROOM};
use lns_dataplane::policy::PolicySpec;
use lns_dataplane::session_table::{CallId, DataPathInfo, SessionTable};

const LAC: SocketAddrV4 = SocketAddrV4::new(Ipv4Addr::new(192, 0, 2, 9), 1701);
const SERVER: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 1);
/// As the bench's probes: 200-byte IPv4 packets.
const SIZE: usize = 200;
/// Far above any session's share of the probes: nothing is policed, every packet pays the
/// bucket's work (clock read, lock, refill, counter).
const RATE_KBPS: u32 = 1_000_000;

fn address(i: u32) -> Ipv4Addr {
    Ipv4Addr::from(u32::from(Ipv4Addr::new(10, 210, 0, 0)) + i + 1)
}

fn ipv4(src: Ipv4Addr, dst: Ipv4Addr) -> Vec<u8> {
    let mut p = vec![0u8; SIZE];
    p[0] = 0x45;
    p[2..4].copy_from_slice(&(SIZE as u16).to_be_bytes());
    p[8] = 64;
    p[9] = 17;
    p[12..16].copy_from_slice(&src.octets());
    p[16..20].copy_from_slice(&dst.octets());
    p
}

/// An L2TP data message (RFC 2661 §3.1: no optional fields) carrying `ip` in PPP.
fn l2tp_data(tunnel: u16, session: u16, ip: &[u8]) -> Vec<u8> {
    let mut d = vec![0x00, 0x02];
    d.extend_from_slice(&tunnel.to_be_bytes());
    d.extend_from_slice(&session.to_be_bytes());
    d.extend_from_slice(&[0xff, 0x03, 0x00, 0x21]);
    d.extend_from_slice(ip);
    d
}

fn run(sessions: u32, packets: u64, throttled: impl Fn(u32) -> bool) -> Result<f64, String> {
    let mut table: SessionTable<()> = SessionTable::new();
    // Tunnel ids 1..=10 as the bench's 10 tunnels, session ids unique within each.
    let ids = |i: u32| CallId {
        tunnel: TunnelId((i % 10 + 1) as u16),
        session: SessionId((i / 10 + 1) as u16),
    };
    for i in 0..sessions {
        let k = table.insert(ids(i), ()).map_err(|e| e.to_string())?;
        table
            .set_address(k, address(i))
            .map_err(|e| e.to_string())?;
        table
            .publish(
                k,
                DataPathInfo {
                    peer: LAC,
                    socket: 0,
                    peer_tunnel: TunnelId(1000 + (i % 10) as u16),
                    peer_session: SessionId((i / 10 + 1) as u16),
                    mru: 1500,
                    acfc: false,
                    pfc: false,
                    allow_any_source: false,
                    sequenced: false,
                },
            )
            .map_err(|e| e.to_string())?;
        if throttled(i) {
            let spec = PolicySpec {
                throttle_in: Some(RATE_KBPS),
                throttle_out: Some(RATE_KBPS),
                ..PolicySpec::default()
            };
            table.set_policy(k, spec).map_err(|e| e.to_string())?;
        }
    }
    let up: Vec<Vec<u8>> = (0..sessions)
        .map(|i| {
            let c = ids(i);
            l2tp_data(c.tunnel.0, c.session.0, &ipv4(address(i), SERVER))
        })
        .collect();
    let down: Vec<Vec<u8>> = (0..sessions)
        .map(|i| {
            let mut b = vec![0u8; DOWN_HEADROOM];
            b.extend_from_slice(&ipv4(SERVER, address(i)));
            b
        })
        .collect();
    let view = table.data_plane();
    let counters = Counters::default();
    let mut buf = vec![0u8; DOWN_HEADROOM + SIZE];
    let mut best = f64::INFINITY;
    for _ in 0..5 {
        let t0 = Instant::now();
        // A pin per batch of 64, as a worker pins per receive batch.
        let mut n = 0u64;
        while n < packets {
            let pin = view.pin();
            for _ in 0..64.min(packets - n) {
                let i = (n % u64::from(sessions)) as usize;
                match upstream(&pin, &counters, &up[i], LAC, n) {
                    Ok(Upstream::ToTun { .. }) => {}
                    other => return Err(format!("upstream packet {n}: {other:?}")),
                }
                buf.copy_from_slice(&down[i]);
                downstream(
                    &pin,
                    &counters,
                    &mut buf,
                    DOWN_HEADROOM..DOWN_HEADROOM + SIZE,
                )
                .map_err(|e| format!("downstream packet {n}: {e:?}"))?;
                n += 1;
            }
        }
        // Two packets per round trip.
        best = best.min(t0.elapsed().as_nanos() as f64 / (2 * packets) as f64);
    }
    let c = Counters::sum([&counters]);
    if c.throttled != 0 {
        return Err(format!(
            "{} packets policed: the rate is too low",
            c.throttled
        ));
    }
    Ok(best)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let parsed = match args.as_slice() {
        [_, s, p, mode] => s
            .parse::<u32>()
            .ok()
            .filter(|&s| s > 0 && s <= 60_000)
            .zip(p.parse::<u64>().ok())
            .zip(["none", "half", "all"].into_iter().position(|m| m == mode)),
        _ => None,
    };
    let Some(((sessions, packets), mode)) = parsed else {
        eprintln!("usage: policy_cost SESSIONS(1-60000) PACKETS none|half|all");
        return ExitCode::FAILURE;
    };
    match run(sessions, packets, |i| match mode {
        0 => false,
        1 => i % 2 == 1,
        _ => true,
    }) {
        Ok(ns) => {
            println!(
                "{} sessions, {} throttled: {ns:.1} ns per packet (best of 5 passes of {} packets)",
                sessions,
                ["none", "half", "all"][mode],
                2 * packets
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("policy_cost: {e}");
            ExitCode::FAILURE
        }
    }
}
