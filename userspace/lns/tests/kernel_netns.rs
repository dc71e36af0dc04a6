//! The TUN device and rtnetlink routes against the real kernel, in a network namespace of the
//! test's own thread (namespaces are per thread, so the host and other tests are untouched).
//! Needs root (or CAP_NET_ADMIN and CAP_SYS_ADMIN); elsewhere the test says so and passes
//! without checking.

use std::net::{Ipv4Addr, UdpSocket};
use std::process::Command;
use std::time::{Duration, Instant};

use lns::tun_device::TunDevice;

/// Moves the calling thread into a fresh network namespace; false when not permitted.
fn private_netns() -> bool {
    // SAFETY: unshare only changes this thread's namespaces.
    let rc = unsafe { libc::unshare(libc::CLONE_NEWNET) };
    if rc != 0 && std::env::var_os("CI").is_some() {
        panic!(
            "CI is set but unshare(CLONE_NEWNET) failed (run as root): {}",
            std::io::Error::last_os_error()
        );
    }
    if rc != 0 {
        eprintln!(
            "skipped: unshare(CLONE_NEWNET): {}",
            std::io::Error::last_os_error()
        );
    }
    rc == 0
}

fn ip(args: &[&str]) -> String {
    let out = Command::new("ip").args(args).output().expect("run ip");
    assert!(out.status.success(), "ip {args:?}: {:?}", out);
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn checksum(bytes: &[u8]) -> u16 {
    let mut sum: u32 = bytes
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// An IPv4/UDP datagram (UDP checksum 0: allowed over IPv4, RFC 768).
fn udp_packet(src: Ipv4Addr, sport: u16, dst: Ipv4Addr, dport: u16, payload: &[u8]) -> Vec<u8> {
    let total = 20 + 8 + payload.len();
    let mut p = vec![0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, 17, 0, 0];
    p[2..4].copy_from_slice(&(total as u16).to_be_bytes());
    p.extend_from_slice(&src.octets());
    p.extend_from_slice(&dst.octets());
    let c = checksum(&p);
    p[10..12].copy_from_slice(&c.to_be_bytes());
    p.extend_from_slice(&sport.to_be_bytes());
    p.extend_from_slice(&dport.to_be_bytes());
    p.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
    p.extend_from_slice(&[0, 0]);
    p.extend_from_slice(payload);
    p
}

#[test]
fn packets_cross_the_tun_device_both_ways() {
    std::thread::spawn(|| {
        if !private_netns() {
            return;
        }
        let local = Ipv4Addr::new(10, 99, 0, 1);
        let remote = Ipv4Addr::new(10, 99, 1, 2);
        let tun = TunDevice::open("lnstest0").expect("open tun");
        assert_eq!(tun.name(), "lnstest0");
        tun.configure(local, 1400).expect("configure");
        let shown = ip(&["-o", "addr", "show", "dev", "lnstest0"]);
        assert!(shown.contains("inet 10.99.0.1/32"), "{shown}");
        let link = ip(&["-o", "link", "show", "dev", "lnstest0"]);
        assert!(link.contains("mtu 1400") && link.contains(",UP"), "{link}");
        ip(&["route", "add", "10.99.1.0/24", "dev", "lnstest0"]);

        // Kernel -> device: what the data plane reads to send down a session.
        let sock = UdpSocket::bind((local, 0)).unwrap();
        sock.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        sock.send_to(b"down", (remote, 9999)).unwrap();
        let mut buf = [0u8; 2048];
        let deadline = Instant::now() + Duration::from_secs(2);
        let packet = loop {
            match tun.recv(&mut buf) {
                Ok(n) if buf[0] >> 4 == 4 && buf[9] == 17 => break buf[..n].to_vec(),
                // Anything else (IPv6 router solicitations and the like) is not ours.
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    assert!(Instant::now() < deadline, "no packet from the kernel");
                    std::thread::sleep(Duration::from_millis(10));
                }
                Err(e) => panic!("tun read: {e}"),
            }
        };
        assert_eq!(&packet[12..16], &local.octets());
        assert_eq!(&packet[16..20], &remote.octets());
        assert!(packet.ends_with(b"down"));

        // Device -> kernel: what the data plane writes after a session's upstream packet.
        let port = sock.local_addr().unwrap().port();
        let up = udp_packet(remote, 9999, local, port, b"up");
        assert_eq!(tun.send(&up).unwrap(), up.len());
        let (n, from) = sock.recv_from(&mut buf).expect("datagram through the tun");
        assert_eq!(&buf[..n], b"up");
        assert_eq!(from, (remote, 9999).into());
    })
    .join()
    .unwrap();
}

#[test]
fn bad_names_are_refused_before_the_kernel_sees_them() {
    for name in ["", "a-name-of-sixteen", "nul\0"] {
        let e = TunDevice::open(name).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput, "{name:?}");
    }
}

#[test]
fn session_routes_are_added_marked_and_removed() {
    use lns::routes::{RouteStyle, Routes};
    std::thread::spawn(|| {
        if !private_netns() {
            return;
        }
        let tun = TunDevice::open("lnstest1").expect("open tun");
        tun.configure(Ipv4Addr::new(10, 98, 0, 1), 1500)
            .expect("configure");
        let style = RouteStyle {
            protocol: 42,
            metric: 7,
        };
        let mut routes = Routes::new(tun.name(), style).expect("rtnetlink");
        routes.add(Ipv4Addr::new(10, 98, 5, 9), 32).unwrap();
        routes.add(Ipv4Addr::new(10, 98, 8, 0), 24).unwrap();
        // Adding again replaces rather than fails (restart over routes left behind).
        routes.add(Ipv4Addr::new(10, 98, 5, 9), 32).unwrap();
        let shown = ip(&["-4", "route", "show", "proto", "42"]);
        let lines: Vec<&str> = shown.lines().collect();
        assert_eq!(lines.len(), 2, "{shown}");
        assert!(
            shown.contains("10.98.5.9 dev lnstest1 scope link metric 7"),
            "{shown}"
        );
        assert!(shown.contains("10.98.8.0/24 dev lnstest1"), "{shown}");

        assert!(routes.remove(Ipv4Addr::new(10, 98, 5, 9), 32).unwrap());
        assert!(!routes.remove(Ipv4Addr::new(10, 98, 5, 9), 32).unwrap());
        let shown = ip(&["-4", "route", "show", "proto", "42"]);
        assert!(!shown.contains("10.98.5.9"), "{shown}");
        assert!(shown.contains("10.98.8.0/24"), "{shown}");
        assert!(Routes::new("no-such-if0", style).is_err());
    })
    .join()
    .unwrap();
}
