//! Interoperability with an independent implementation: our LAC engine against a real
//! xl2tpd LNS over UDP on loopback, with tunnel authentication both ways. Skipped (with a
//! message) when /usr/sbin/xl2tpd is not installed (`apt-get install xl2tpd`).
//!
//! xl2tpd hands each call to pppd, which cannot run without /dev/ppp here, so the call is
//! expected to come up at the L2TP level and then be cleared by xl2tpd with a CDN.

use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use l2tp::fuzzing::TestRng;
use l2tp::header::{self, Header};
#[allow(unused_imports)]
use l2tp::ids::{SessionId, TunnelId};
use l2tp::message::{Message, MessageType};
use l2tp::{CallInfo, CloseCause, Config, Engine, Event, ResultCode};

const XL2TPD: &str = "/usr/sbin/xl2tpd";

struct Xl2tpd {
    child: Child,
    dir: PathBuf,
    addr: SocketAddr,
}

impl Drop for Xl2tpd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn start_xl2tpd(name: &str, secret: &str) -> Option<Xl2tpd> {
    start_xl2tpd_with(name, secret, |d| {
        format!(
            "[lns default]\nip range = 10.99.0.2-10.99.0.20\nlocal ip = 10.99.0.1\nhostname = xl2tpd-lns\n\
             challenge = yes\nrequire authentication = no\nlength bit = yes\npppoptfile = {d}/options\n"
        )
    })
}

/// Start xl2tpd with `section(dir)` after the [global] section.
fn start_xl2tpd_with(name: &str, secret: &str, section: impl Fn(&str) -> String) -> Option<Xl2tpd> {
    if !Path::new(XL2TPD).exists() {
        if std::env::var_os("CI").is_some() {
            panic!("CI is set but {XL2TPD} is not installed (apt-get install xl2tpd)");
        }
        eprintln!("{XL2TPD} not installed and CI unset: skipping the interop test");
        return None;
    }
    // A free UDP port: bind, note it, release it for xl2tpd.
    let port = UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = std::env::temp_dir().join(format!("l2tp-interop-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let d = dir.display().to_string();
    let conf = format!(
        "[global]\nlisten-addr = 127.0.0.1\nport = {port}\nauth file = {d}/l2tp-secrets\naccess control = no\n\n{}",
        section(&d)
    );
    std::fs::write(dir.join("xl2tpd.conf"), conf).unwrap();
    std::fs::write(dir.join("l2tp-secrets"), format!("* * {secret}\n")).unwrap();
    std::fs::write(dir.join("options"), "noauth\n").unwrap();
    let child = Command::new(XL2TPD)
        .arg("-D")
        .arg("-c")
        .arg(dir.join("xl2tpd.conf"))
        .arg("-s")
        .arg(dir.join("l2tp-secrets"))
        .arg("-p")
        .arg(dir.join("xl2tpd.pid"))
        .arg("-C")
        .arg(dir.join("control"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    Some(Xl2tpd {
        child,
        dir,
        addr: SocketAddr::from(([127, 0, 0, 1], port)),
    })
}

/// Drives one engine over a real UDP socket.
struct Driver {
    sock: UdpSocket,
    engine: Engine,
    events: Vec<Event>,
    received: Vec<Vec<u8>>,
}

impl Driver {
    fn new(secret: &[u8]) -> Self {
        Self::with(Config {
            host_name: b"netedge-lac".to_vec(),
            secret: Some(secret.to_vec()),
            accept_incoming: false,
            ..Config::default()
        })
    }

    fn with(cfg: Config) -> Self {
        let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
        sock.set_read_timeout(Some(Duration::from_millis(20)))
            .unwrap();
        Driver {
            sock,
            engine: Engine::new(cfg, Box::new(TestRng(7))).unwrap(),
            events: Vec::new(),
            received: Vec::new(),
        }
    }

    fn run_until(&mut self, limit: Duration, done: impl Fn(&[Event]) -> bool) -> bool {
        let end = Instant::now() + limit;
        let mut buf = [0u8; 4096];
        while Instant::now() < end {
            while let Some(t) = self.engine.poll_transmit() {
                self.sock.send_to(&t.contents, t.destination).unwrap();
            }
            while let Some(e) = self.engine.poll_event() {
                self.events.push(e);
            }
            if done(&self.events) {
                return true;
            }
            if let Ok((n, from)) = self.sock.recv_from(&mut buf) {
                self.received.push(buf[..n].to_vec());
                let _ = self.engine.handle_datagram(Instant::now(), from, &buf[..n]);
            }
            let now = Instant::now();
            if self.engine.poll_timeout().is_some_and(|t| t <= now) {
                self.engine.handle_timeout(now);
            }
        }
        done(&self.events)
    }

    fn received(&self, kind: MessageType) -> Vec<Message> {
        self.received
            .iter()
            .filter_map(|b| match header::parse(b) {
                Ok(Header::Control(h)) if !h.body.is_empty() => {
                    Message::decode(&b[h.body], None).ok()
                }
                _ => None,
            })
            .filter(|m| m.kind == kind)
            .collect()
    }
}

#[test]
fn lac_against_xl2tpd_with_mutual_tunnel_authentication() {
    let Some(lns) = start_xl2tpd("ok", "interop-secret") else {
        return;
    };
    let mut lac = Driver::new(b"interop-secret");
    let t = lac.engine.connect(Instant::now(), lns.addr).unwrap();
    assert!(
        lac.run_until(Duration::from_secs(15), |e| e
            .iter()
            .any(|e| matches!(e, Event::TunnelUp { .. }))),
        "no tunnel with xl2tpd: {:?}",
        lac.events
    );
    // xl2tpd answered our challenge correctly (or we would have refused it) and challenged us.
    let sccrp = &lac.received(MessageType::Sccrp)[0];
    assert!(sccrp.challenge().is_some() && sccrp.challenge_response().is_some());
    assert!(
        matches!(&lac.events[0], Event::TunnelUp { peer_host_name, .. } if peer_host_name == b"xl2tpd-lns")
    );

    // A call: ICRQ → ICRP → ICCN. xl2tpd then starts pppd, which cannot run here.
    let s = lac
        .engine
        .open_session(
            Instant::now(),
            t,
            CallInfo {
                serial: 1,
                ..CallInfo::default()
            },
        )
        .unwrap();
    assert!(lac.run_until(Duration::from_secs(10), |e| e
        .iter()
        .any(|e| matches!(e, Event::SessionUp { session, .. } if *session == s))));
    assert_eq!(lac.received(MessageType::Icrp).len(), 1);

    // Every message we sent is acknowledged and the StopCCN closes the tunnel from our side.
    // Not asserted: zero retransmissions. xl2tpd acknowledges our ICCN only with the CDN it sends
    // once its pppd fails to start (it cannot run here), which in about half the runs comes later
    // than RFC 2661's 1 s first retransmit interval; retransmitting then is correct.
    // What is asserted: once the exchange has settled, our StopCCN is acknowledged at once (no
    // retransmission after it).
    lac.run_until(Duration::from_secs(2), |_| false);
    let settled = lac.engine.stats().retransmits;
    lac.engine
        .close_tunnel(Instant::now(), t, ResultCode::new(1))
        .unwrap();
    lac.run_until(Duration::from_secs(3), |_| false);
    assert_eq!(
        lac.engine.stats().retransmits,
        settled,
        "StopCCN retransmitted"
    );
    assert_eq!(lac.engine.stats().malformed, 0);
    assert!(lac.events.iter().any(
        |e| matches!(e, Event::TunnelDown { cause: CloseCause::Local(r), .. } if r.result == 1)
    ));
}

#[test]
fn lac_refuses_xl2tpd_with_another_secret() {
    let Some(lns) = start_xl2tpd("bad", "not-our-secret") else {
        return;
    };
    let mut lac = Driver::new(b"interop-secret");
    lac.engine.connect(Instant::now(), lns.addr).unwrap();
    assert!(lac.run_until(Duration::from_secs(15), |e| e
        .iter()
        .any(|e| matches!(e, Event::TunnelDown { .. }))));
    assert!(
        matches!(&lac.events[..], [Event::TunnelDown { cause: CloseCause::Local(r), .. }] if r.result == 4)
    );
    assert_eq!(lac.engine.stats().auth_failures, 1);
}

/// xl2tpd as the LAC dialling our LNS engine: `autodial` opens a tunnel and a call at once.
fn xl2tpd_lac(name: &str, secret: &str, lns_port: u16, challenge: bool) -> Option<Xl2tpd> {
    let yn = if challenge { "yes" } else { "no" };
    start_xl2tpd_with(name, secret, |d| {
        format!(
            "[lac ours]\nlns = 127.0.0.1:{lns_port}\nautodial = yes\nredial = no\nhostname = xl2tpd-lac\n\
             challenge = {yn}\nrequire authentication = no\nlength bit = yes\npppoptfile = {d}/options\n"
        )
    })
}

fn lns_driver(secret: &[u8]) -> Driver {
    Driver::with(Config {
        host_name: b"netedge-lns".to_vec(),
        secret: Some(secret.to_vec()),
        ..Config::default()
    })
}

#[test]
fn xl2tpd_lac_against_our_lns_with_mutual_tunnel_authentication() {
    let mut lns = lns_driver(b"interop-secret");
    let port = lns.sock.local_addr().unwrap().port();
    let Some(_lac) = xl2tpd_lac("lac-ok", "interop-secret", port, true) else {
        return;
    };
    assert!(
        lns.run_until(Duration::from_secs(20), |e| e
            .iter()
            .any(|e| matches!(e, Event::SessionUp { .. }))),
        "no call from xl2tpd: {:?}",
        lns.events
    );
    assert!(
        matches!(&lns.events[0], Event::TunnelUp { peer_host_name, .. } if peer_host_name == b"xl2tpd-lac")
    );
    // xl2tpd challenged us, and answered our challenge in its SCCCN (we verified it).
    let sccrq = &lns.received(MessageType::Sccrq)[0];
    assert!(sccrq.challenge().is_some());
    assert!(lns.received(MessageType::Scccn)[0]
        .challenge_response()
        .is_some());
    assert_eq!(lns.engine.stats().auth_failures, 0);
    assert_eq!(lns.engine.stats().malformed, 0);
}

#[test]
fn our_lns_refuses_xl2tpd_lac_with_another_secret() {
    // xl2tpd does not challenge us here, so only our verification of its response can fail.
    let mut lns = lns_driver(b"interop-secret");
    let port = lns.sock.local_addr().unwrap().port();
    let Some(_lac) = xl2tpd_lac("lac-bad", "not-our-secret", port, false) else {
        return;
    };
    lns.run_until(Duration::from_secs(5), |_| false);
    assert!(
        lns.engine.stats().auth_failures >= 1,
        "{:?}",
        lns.engine.stats()
    );
    assert!(!lns
        .events
        .iter()
        .any(|e| matches!(e, Event::TunnelUp { .. })));
}
