//! `--tun NAME`: hand the one session to a TUN device in the LAC's network namespace, so that
//! the kernel's own TCP (iperf3, curl, ping) runs through the LNS as a subscriber's would.
//!
//! The device gets the address IPCP gave (a /32, as a PPP link's is) and the MTU of
//! `--tun-mtu`; routes through it are the caller's (`ip route add ... dev NAME`). A line
//! `tun NAME up: ADDRESS` on standard output says it is ready. Packets the kernel writes to the
//! device go out on the session; IPv4 packets of the session come in through the device. The
//! bridge runs for `--duration` seconds, or with `--duration 0` until SIGINT or SIGTERM, then
//! the caller's tear-down closes the tunnel.

use std::io::{ErrorKind, Write};
use std::net::Ipv4Addr;
use std::os::fd::{AsFd, AsRawFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use l2tp_lac::{CallId, EndpointEvent};
use tun_device::TunDevice;

use crate::Lac;

/// What the bridge carried.
#[derive(Debug, Default, Clone, Copy)]
pub struct TunFigures {
    /// Packets read from the device and sent on the session.
    pub to_session: u64,
    /// Packets of the session written to the device.
    pub to_device: u64,
    /// Packets the session could not take (not IPv4, or the link not open).
    pub not_sent: u64,
    /// Packets the device refused (its queue full, or it went down).
    pub not_written: u64,
}

/// A flag SIGINT and SIGTERM set (they interrupt `poll`, which then sees it).
fn stop_on_signals() -> Result<Arc<AtomicBool>, String> {
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(sig, Arc::clone(&stop))
            .map_err(|e| format!("signal handler: {e}"))?;
    }
    Ok(stop)
}

/// At most this many packets from one source per wake-up, so that neither side starves the
/// other, nor the timers.
const BATCH: usize = 64;

/// Bridges `call` (up, with local address `address`) to the TUN device `name` until the
/// duration ends, a signal comes, or the call goes down (an error).
pub fn run(
    lac: &mut Lac,
    call: CallId,
    address: Ipv4Addr,
    name: &str,
    mtu: u16,
    duration: f64,
) -> Result<TunFigures, String> {
    let tun = TunDevice::open(name).map_err(|e| format!("--tun {name}: {e}"))?;
    tun.configure(address, mtu)
        .map_err(|e| format!("--tun {name}: {e}"))?;
    let stop = stop_on_signals()?;
    println!("tun {} up: {address}", tun.name());
    let _ = std::io::stdout().flush();

    lac.sock
        .set_nonblocking(true)
        .map_err(|e| format!("socket: {e}"))?;
    let end = (duration > 0.0).then(|| Instant::now() + Duration::from_secs_f64(duration));
    let mut figures = TunFigures::default();
    let mut packet = vec![0u8; 65536];
    let result = 'bridge: loop {
        if stop.load(Ordering::Relaxed) {
            break Ok(());
        }
        let now = Instant::now();
        if end.is_some_and(|e| e <= now) {
            break Ok(());
        }
        let wake = match (lac.ep.poll_timeout(), end) {
            (Some(t), Some(e)) => Some(t.min(e)),
            (t, e) => t.or(e),
        };
        // Whole milliseconds, rounded up, so a timer is never polled for early in a busy loop.
        let timeout_ms = wake.map_or(1000, |w| {
            let d = w.saturating_duration_since(now);
            d.as_micros().div_ceil(1000).min(1000) as libc::c_int
        });
        let mut fds = [
            libc::pollfd {
                fd: lac.sock.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: tun.as_fd().as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            },
        ];
        // SAFETY: two valid pollfd entries that live across the call.
        let rc = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, timeout_ms) };
        if rc < 0 {
            let e = std::io::Error::last_os_error();
            if e.kind() == ErrorKind::Interrupted {
                continue;
            }
            break Err(format!("poll: {e}"));
        }
        if let Err(e) = receive_datagrams(lac) {
            break Err(format!("socket: {e}"));
        }
        for _ in 0..BATCH {
            match tun.recv(&mut packet) {
                Ok(n) => {
                    if lac.ep.send_ipv4(call, &packet[..n]).is_ok() {
                        figures.to_session += 1;
                    } else {
                        figures.not_sent += 1;
                    }
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => break 'bridge Err(format!("--tun {name}: {e}")),
            }
        }
        lac.ep.handle_timeout(Instant::now());
        let mut down = None;
        while let Some(e) = lac.ep.poll_event() {
            match e {
                EndpointEvent::Ipv4 { call: c, packet } if c == call => match tun.send(&packet) {
                    Ok(_) => figures.to_device += 1,
                    Err(_) => figures.not_written += 1,
                },
                EndpointEvent::CallDown { call: c, cause } if c == call => {
                    down = Some(format!("session down: {cause:?}"));
                }
                EndpointEvent::TunnelDown { cause, .. } => {
                    down = Some(format!("tunnel down: {cause:?}"));
                }
                _ => {}
            }
        }
        if let Err(e) = lac.flush() {
            break Err(format!("socket: {e}"));
        }
        if let Some(why) = down {
            break Err(why);
        }
    };
    lac.sock
        .set_nonblocking(false)
        .map_err(|e| format!("socket: {e}"))?;
    result.map(|()| figures)
}

/// Feeds the LNS's queued datagrams (at most [`BATCH`]) to the endpoint.
fn receive_datagrams(lac: &mut Lac) -> std::io::Result<()> {
    for _ in 0..BATCH {
        match lac.sock.recv_from(&mut lac.buf) {
            Ok((n, from)) => lac.accept(n, from),
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::WouldBlock | ErrorKind::ConnectionRefused
                ) =>
            {
                break
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
