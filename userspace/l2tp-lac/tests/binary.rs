//! The `l2tp-lac` binary over real UDP on loopback against an LNS made of our engines (l2tp
//! LNS + PPP authenticator, the same [`Endpoint`] composition) that reflects every probe back
//! through the session it came from.

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, UdpSocket};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use l2tp::fuzzing::TestRng;
use l2tp::{Config, Engine};
use l2tp_lac::probe;
use l2tp_lac::{Endpoint, EndpointEvent};
use ppp::chap::md5_response;
use ppp::session::{Credentials, Event as PppEvent, Grant, SessionConfig, Verdict};

const PASSWORD: &[u8] = b"lacpass";
const SECRET: &str = "tunnel secret";

/// Runs the LNS until `stop`; returns the address it listens on.
fn spawn_lns(stop: Arc<AtomicBool>) -> (SocketAddr, thread::JoinHandle<u64>) {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = sock.local_addr().unwrap();
    let handle = thread::spawn(move || {
        let cfg = Config {
            host_name: b"test-lns".to_vec(),
            secret: Some(SECRET.as_bytes().to_vec()),
            ..Config::default()
        };
        let engine = Engine::new(cfg, Box::new(TestRng(3))).unwrap();
        let mut ep = Endpoint::new(
            engine,
            Box::new(
                |l2tp::CallId {
                     tunnel: l2tp::TunnelId(t),
                     session: l2tp::SessionId(s),
                 },
                 _| {
                    let c = SessionConfig::authenticator(b"test-lns", Ipv4Addr::new(100, 64, 0, 1));
                    (c.into(), [(t ^ s) as u8; 16])
                },
            ),
        );
        let mut next_ip = u32::from(Ipv4Addr::new(100, 64, 1, 0));
        let mut reflected = 0u64;
        let mut buf = vec![0u8; 65536];
        while !stop.load(Ordering::Relaxed) {
            sock.set_read_timeout(Some(Duration::from_millis(5)))
                .unwrap();
            if let Ok((n, from)) = sock.recv_from(&mut buf) {
                let _ = ep.handle_datagram(Instant::now(), from, &buf[..n]);
            }
            ep.handle_timeout(Instant::now());
            while let Some(e) = ep.poll_event() {
                match e {
                    EndpointEvent::Ppp {
                        call,
                        event: PppEvent::AuthRequest(req),
                    } => {
                        let good = req.username.starts_with(b"lac")
                            && match &req.credentials {
                                Credentials::Pap { password, .. } => password == PASSWORD,
                                Credentials::Chap {
                                    id,
                                    challenge,
                                    response,
                                } => response[..] == md5_response(*id, PASSWORD, challenge),
                            };
                        let verdict = if good {
                            next_ip += 1;
                            Verdict::Accept(Grant {
                                ipv4: Some(Ipv4Addr::from(next_ip)),
                                ..Grant::default()
                            })
                        } else {
                            Verdict::Reject {
                                message: b"no".to_vec(),
                            }
                        };
                        ep.auth_verdict(Instant::now(), call, verdict);
                    }
                    EndpointEvent::Ipv4 { call, packet } => {
                        if let Some(r) = probe::parse(&packet) {
                            let back = probe::build(r.to, r.from, r.probe, packet.len());
                            if ep.send_ipv4(call, &back).is_ok() {
                                reflected += 1;
                            }
                        }
                    }
                    _ => {}
                }
            }
            while let Some(t) = ep.poll_transmit() {
                let _ = sock.send_to(&t.contents, t.destination);
            }
        }
        reflected
    });
    (addr, handle)
}

fn lac(lns: SocketAddr, extra: &[&str]) -> (bool, serde_json::Value, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_l2tp-lac"))
        .args(["--lns", &lns.to_string(), "--bind", "127.0.0.1:0"])
        .args(["--secret", SECRET, "--user", "lac%d", "--password"])
        .args(extra)
        .arg("--json")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let report = serde_json::from_str(&stdout).unwrap_or(serde_json::Value::Null);
    (
        out.status.success(),
        report,
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

#[test]
fn sessions_up_and_traffic_both_ways() {
    let stop = Arc::new(AtomicBool::new(false));
    let (lns, handle) = spawn_lns(stop.clone());
    let target = SocketAddrV4::new(Ipv4Addr::new(198, 51, 100, 7), 9000).to_string();
    for auth in ["pap", "chap"] {
        let (ok, r, err) = lac(
            lns,
            &[
                "lacpass",
                "--auth",
                auth,
                "--tunnels",
                "2",
                "--sessions",
                "5",
                "--target",
                &target,
                "--rate",
                "200",
                "--duration",
                "1",
            ],
        );
        assert!(ok, "{auth}: l2tp-lac failed: {err}\n{r}");
        assert_eq!(r["sessions_up"], 10, "{auth}: {r}");
        assert_eq!(r["tunnels_up"], 2, "{auth}: {r}");
        let sent = r["sent"].as_u64().unwrap();
        assert!(
            (150..=250).contains(&sent),
            "{auth}: ~200 probes in 1 s: {r}"
        );
        assert_eq!(r["received"], sent, "{auth}: every probe reflected: {r}");
        assert!(r["latency_min_us"].as_f64().unwrap() > 0.0);
        assert!(r["setup_rate"].as_f64().unwrap() > 0.0);
    }
    stop.store(true, Ordering::Relaxed);
    assert!(
        handle.join().unwrap() >= 300,
        "the LNS reflected the probes"
    );
}

#[test]
fn wrong_password_exits_non_zero() {
    let stop = Arc::new(AtomicBool::new(false));
    let (lns, handle) = spawn_lns(stop.clone());
    let (ok, r, err) = lac(lns, &["wrong", "--auth", "pap", "--setup-timeout", "20"]);
    stop.store(true, Ordering::Relaxed);
    handle.join().unwrap();
    assert!(!ok, "must fail: {r}");
    assert_eq!(r["sessions_up"], 0);
    assert!(err.contains("authentication failed"), "{err}");
    assert!(err.contains("only 0 of 1 sessions came up"), "{err}");
}
