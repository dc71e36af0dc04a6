//! The state file with real engine snapshots: an L2TP LAC and our LNS engine, PPP links driven
//! to Opened, saved, loaded and resumed; and every reason a file is refused.

use std::fs;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

use l2tp::fuzzing::TestRng;
use l2tp::{CallInfo, Config, Engine, Event, SessionId, TunnelId};
use lns::state_io;
use lns_config::ip_pool::IpPool;
use lns_core::state_file::{
    self, AddressSource, LoadError, SavedCounters, SavedSession, SavedState, FILE_NAME,
};
use ppp::session::{Event as PppEvent, Grant, Session, SessionConfig, Verdict};

const BOOT: &str = "6f1d2c3b-0000-4000-8000-000000000001";

fn lac_addr() -> SocketAddr {
    "192.0.2.10:1701".parse().unwrap()
}
fn lns_addr() -> SocketAddr {
    "198.51.100.1:1701".parse().unwrap()
}
fn lns_config() -> Config {
    Config {
        host_name: b"lns.example".to_vec(),
        ..Config::default()
    }
}

/// A scratch directory per test.
fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("lns-state-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&d);
    fs::create_dir_all(&d).unwrap();
    d
}

/// Exchanges datagrams between the two engines until both are quiet.
fn pump(
    lac: &mut Engine,
    lns: &mut Engine,
    now: Instant,
    lac_ev: &mut Vec<Event>,
    lns_ev: &mut Vec<Event>,
) {
    for _ in 0..50 {
        let mut moved = false;
        while let Some(t) = lac.poll_transmit() {
            moved = true;
            let _ = lns.handle_datagram(now, lac_addr(), &t.contents);
        }
        while let Some(t) = lns.poll_transmit() {
            moved = true;
            let _ = lac.handle_datagram(now, lns_addr(), &t.contents);
        }
        lac_ev.extend(std::iter::from_fn(|| lac.poll_event()));
        lns_ev.extend(std::iter::from_fn(|| lns.poll_event()));
        if !moved {
            return;
        }
    }
}

fn server_config() -> SessionConfig {
    SessionConfig::authenticator(b"lns.example", Ipv4Addr::new(100, 64, 0, 1))
}

/// Our authenticator and a PPP peer, PAP, to Opened; the grant gives `address`.
fn opened_link(address: Ipv4Addr, now: Instant) -> (Session, Session) {
    let mut server = Session::new(server_config(), [7; 16]);
    let mut client = Session::new(SessionConfig::peer(b"alice", b"pw"), [8; 16]);
    server.start(now);
    client.start(now);
    for _ in 0..50 {
        while let Some(f) = server.poll_transmit() {
            client.handle_frame(now, &f).unwrap();
        }
        while let Some(f) = client.poll_transmit() {
            server.handle_frame(now, &f).unwrap();
        }
        while let Some(e) = server.poll_event() {
            if let PppEvent::AuthRequest(_) = e {
                let grant = Grant {
                    ipv4: Some(address),
                    ..Grant::default()
                };
                server.auth_verdict(now, Verdict::Accept(grant));
            }
        }
        while client.poll_event().is_some() {}
    }
    assert_eq!(server.ipcp_state(), Some(ppp::fsm::State::Opened));
    (server, client)
}

struct World {
    now: Instant,
    lac: Engine,
    lns: Engine,
    lac_tunnel: TunnelId,
    /// (LNS tunnel, LNS session, LAC session, server link, client link, address)
    calls: Vec<(TunnelId, SessionId, SessionId, Session, Session, Ipv4Addr)>,
    pool: IpPool,
}

/// One tunnel with `n` calls, each with an opened PPP link and a pool address.
fn world(n: u32) -> World {
    let now = Instant::now();
    let mut lac = Engine::new(
        Config {
            host_name: b"lac.example".to_vec(),
            accept_incoming: false,
            ..Config::default()
        },
        Box::new(TestRng(1)),
    )
    .unwrap();
    let mut lns = Engine::new(lns_config(), Box::new(TestRng(2))).unwrap();
    let (mut lac_ev, mut lns_ev) = (Vec::new(), Vec::new());
    let lac_tunnel = lac.connect(now, lns_addr()).unwrap();
    pump(&mut lac, &mut lns, now, &mut lac_ev, &mut lns_ev);
    for serial in 0..n {
        let call = CallInfo {
            serial,
            ..CallInfo::default()
        };
        lac.open_session(now, lac_tunnel, call).unwrap();
    }
    pump(&mut lac, &mut lns, now, &mut lac_ev, &mut lns_ev);
    let up = |ev: &[Event]| -> Vec<(TunnelId, SessionId)> {
        ev.iter()
            .filter_map(|e| match e {
                Event::SessionUp {
                    tunnel, session, ..
                } => Some((*tunnel, *session)),
                _ => None,
            })
            .collect()
    };
    let (lns_up, lac_up) = (up(&lns_ev), up(&lac_ev));
    assert_eq!(lns_up.len(), n as usize);
    let mut pool = IpPool::from_addresses((1..=50).map(|i| Ipv4Addr::new(100, 64, 1, i)));
    let mut calls = Vec::new();
    for ((t, s), (_, lac_s)) in lns_up.into_iter().zip(lac_up) {
        let a = pool.allocate(Some("alice")).unwrap().address;
        let (server, client) = opened_link(a, now);
        calls.push((t, s, lac_s, server, client, a));
    }
    World {
        now,
        lac,
        lns,
        lac_tunnel,
        calls,
        pool,
    }
}

/// The SIGTERM side: what the daemon's loop does.
fn save_state(w: &World, at: SystemTime) -> SavedState {
    let sessions = w
        .calls
        .iter()
        .map(|(t, s, _, server, _, a)| SavedSession {
            tunnel: *t,
            session: *s,
            ppp: server.snapshot().unwrap(),
            peer: SocketAddrV4::new(Ipv4Addr::new(192, 0, 2, 10), 1701),
            socket: 0,
            calling_station: Some(b"555-0100".to_vec()),
            called_station: None,
            user: "alice".into(),
            address: Some((*a, AddressSource::Pool)),
            dns: [Some(Ipv4Addr::new(192, 0, 2, 53)), None],
            routes: vec![(Ipv4Addr::new(203, 0, 113, 0), 28)],
            class: vec![b"class-1".to_vec()],
            acct_session_id: format!("5F00{:04X}{:04X}", t.0, s.0),
            session_timeout_left: Some(Duration::from_secs(3600)),
            idle_timeout: None,
            interim: Some(Duration::from_secs(300)),
            opened_at_unix: Some(1_790_000_000),
            dumped: (10, 20),
            counters: SavedCounters {
                packets_in: 3,
                octets_in: 300,
                packets_out: 4,
                octets_out: 400,
            },
            policy: lns_core::Policy {
                throttle_out: Some(512),
                ..lns_core::Policy::default()
            },
        })
        .collect();
    SavedState::new(w.lns.snapshot(), sessions, w.pool.snapshot(), at, BOOT)
}

#[test]
fn sigterm_save_then_restart_resumes_every_session() {
    let mut w = world(3);
    let dir = scratch("resume");
    let t0 = SystemTime::now();
    let path = state_io::save(&dir, &save_state(&w, t0)).unwrap();
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );

    // The new process, 10 s later.
    let later = w.now + Duration::from_secs(10);
    let state = state_io::load(&dir, t0 + Duration::from_secs(10), BOOT)
        .unwrap()
        .expect("a state to resume");
    assert!(!path.exists(), "removed once read");
    assert_eq!(
        state.elapsed(t0 + Duration::from_secs(10)),
        Duration::from_secs(10)
    );
    let mut lns = Engine::new(lns_config(), Box::new(TestRng(3))).unwrap();
    let mut pool = IpPool::from_addresses((1..=50).map(|i| Ipv4Addr::new(100, 64, 1, i)));
    assert_eq!(pool.restore(&state.pool), 0);
    for t in state.tunnels {
        lns.resume(later, t).unwrap();
    }
    let mut links = Vec::new();
    for s in state.sessions {
        s.claim_address(&mut pool).unwrap();
        let link = Session::resume(server_config(), [9; 16], s.ppp.clone(), later).unwrap();
        links.push((s, link));
    }
    pool.check_invariants().unwrap();
    assert_eq!(pool.snapshot(), w.pool.snapshot(), "the pool is as it was");
    // The next user gets what it would have got without the restart.
    assert_eq!(pool.allocate(Some("bob")), w.pool.allocate(Some("bob")));

    // The unchanged LAC and PPP clients carry on: PPP Echo through L2TP data both ways.
    w.lns = lns;
    let (mut lac_ev, mut lns_ev) = (Vec::new(), Vec::new());
    for ((t, s, lac_s, _, client, _), (saved, server)) in w.calls.iter_mut().zip(links.iter_mut()) {
        assert_eq!((saved.tunnel, saved.session), (*t, *s));
        // The server's keepalive fires after echo_interval; the client answers through L2TP.
        server.handle_timeout(later + Duration::from_secs(10));
        let echo = server.poll_transmit().expect("Echo-Request");
        w.lns.send_data(*t, *s, &echo).unwrap();
        pump(&mut w.lac, &mut w.lns, later, &mut lac_ev, &mut lns_ev);
        let frame = lac_ev
            .iter()
            .rev()
            .find_map(|e| match e {
                Event::Payload { session, data, .. } if session == lac_s => Some(data.clone()),
                _ => None,
            })
            .expect("the LAC received the echo");
        client.handle_frame(later, &frame).unwrap();
        let reply = client.poll_transmit().expect("Echo-Reply");
        w.lac.send_data(w.lac_tunnel, *lac_s, &reply).unwrap();
        pump(&mut w.lac, &mut w.lns, later, &mut lac_ev, &mut lns_ev);
        let back = lns_ev
            .iter()
            .rev()
            .find_map(|e| match e {
                Event::Payload { session, data, .. } if session == s => Some(data.clone()),
                _ => None,
            })
            .expect("the LNS received the reply");
        server.handle_frame(later, &back).unwrap();
        assert_eq!(server.poll_event(), None, "nothing renegotiated");
    }
    // A control exchange on the resumed tunnel: a new call comes up.
    w.lac
        .open_session(later, w.lac_tunnel, CallInfo::default())
        .unwrap();
    pump(&mut w.lac, &mut w.lns, later, &mut lac_ev, &mut lns_ev);
    assert!(lns_ev.iter().any(|e| matches!(e, Event::SessionUp { .. })));
    assert!(!lac_ev
        .iter()
        .any(|e| matches!(e, Event::TunnelDown { .. } | Event::SessionDown { .. })));

    assert!(
        state_io::load(&dir, t0, BOOT).unwrap().is_none(),
        "never twice"
    );
    fs::remove_dir_all(&dir).unwrap();
}

fn saved_bytes() -> (SavedState, Vec<u8>, SystemTime) {
    let w = world(2);
    let t0 = SystemTime::now();
    let s = save_state(&w, t0);
    let b = state_file::encode(&s);
    (s, b, t0)
}

#[test]
fn refuses_old_files_other_boots_and_future_dates() {
    let (s, _, t0) = saved_bytes();
    let h = &s.header;
    assert!(state_file::check_fresh(h, t0 + Duration::from_secs(59), BOOT).is_ok());
    assert!(matches!(
        state_file::check_fresh(h, t0 + Duration::from_secs(61), BOOT),
        Err(LoadError::TooOld { .. })
    ));
    assert!(matches!(
        state_file::check_fresh(h, t0, "another-boot"),
        Err(LoadError::OtherBoot { .. })
    ));
    assert!(matches!(
        state_file::check_fresh(h, t0 - Duration::from_secs(120), BOOT),
        Err(LoadError::FromTheFuture { .. })
    ));

    // Through `load`: refused, logged reason, and the file is gone.
    let dir = scratch("old");
    state_io::save(&dir, &s).unwrap();
    let e = state_io::load(&dir, t0 + Duration::from_secs(61), BOOT).unwrap_err();
    assert!(e.to_string().contains("61s old"), "{e}");
    assert!(!dir.join(FILE_NAME).exists());
    state_io::save(&dir, &s).unwrap();
    let e = state_io::load(&dir, t0, "another-boot").unwrap_err();
    assert!(e.to_string().contains("another boot"), "{e}");
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn refuses_other_versions_and_corruption() {
    let (s, bytes, _) = saved_bytes();
    assert_eq!(state_file::decode(&bytes).unwrap(), s);

    let mut v2 = bytes.clone();
    let other = state_file::FORMAT_VERSION + 1;
    v2[12..16].copy_from_slice(&other.to_le_bytes());
    assert!(matches!(
        state_file::decode(&v2),
        Err(LoadError::FormatVersion { found }) if found == other
    ));
    let mut flipped = bytes.clone();
    let mid = bytes.len() / 2;
    flipped[mid] ^= 0x40;
    assert!(matches!(
        state_file::decode(&flipped),
        Err(LoadError::Corrupt(_))
    ));
    for cut in [0, 5, 20, bytes.len() - 1] {
        assert!(state_file::decode(&bytes[..cut]).is_err(), "cut at {cut}");
    }
    assert!(matches!(
        state_file::decode(b"# not a state file\n"),
        Err(LoadError::NotAStateFile)
    ));

    // Well-formed but inconsistent: a session without its call, an address used twice.
    let mut orphan = s.clone();
    orphan.sessions[0].session = SessionId(orphan.sessions[0].session.0.wrapping_add(1) | 1);
    orphan.tunnels[0]
        .sessions
        .retain(|c| c.id != orphan.sessions[0].session);
    let e = state_file::decode(&state_file::encode(&orphan)).unwrap_err();
    assert!(matches!(e, LoadError::Invalid(_)), "{e}");
    let mut twice = s.clone();
    twice.sessions[1].address = twice.sessions[0].address;
    assert!(matches!(
        state_file::decode(&state_file::encode(&twice)),
        Err(LoadError::Invalid(_))
    ));
    let mut route = s;
    route.sessions[0].routes = vec![(Ipv4Addr::new(203, 0, 113, 1), 24)];
    assert!(matches!(
        state_file::decode(&state_file::encode(&route)),
        Err(LoadError::Invalid(_))
    ));
}

#[test]
fn failed_save_leaves_the_previous_file_intact() {
    let (s, bytes, t0) = saved_bytes();
    let dir = scratch("atomic");
    state_io::save(&dir, &s).unwrap();
    // The temporary file cannot be created (a directory is in the way).
    let blocker = dir.join(format!(".{FILE_NAME}.tmp"));
    fs::create_dir(&blocker).unwrap();
    fs::write(blocker.join("x"), b"x").unwrap();
    let mut other = s.clone();
    other.sessions.clear();
    assert!(state_io::save(&dir, &other).is_err());
    assert_eq!(fs::read(dir.join(FILE_NAME)).unwrap(), bytes);
    assert_eq!(state_io::load(&dir, t0, BOOT).unwrap(), Some(s));
    fs::remove_dir_all(&dir).unwrap();
}

/// The size of the file at 100 000 sessions (real snapshots, replicated with distinct ids),
/// postcard against JSON. Not timed.
#[test]
fn size_at_100k_sessions() {
    let w = world(1);
    let template = save_state(&w, SystemTime::now());
    let (t0, s0) = (&template.tunnels[0], &template.sessions[0]);
    let mut tunnels = Vec::new();
    let mut sessions = Vec::new();
    for t in 1..=100u16 {
        let mut tun = t0.clone();
        tun.id = TunnelId(t);
        tun.sessions.clear();
        for s in 1..=1000u16 {
            let mut call = t0.sessions[0].clone();
            call.id = SessionId(s);
            tun.sessions.push(call);
            let mut sess = s0.clone();
            sess.tunnel = TunnelId(t);
            sess.session = SessionId(s);
            let n = u32::from(t) * 1000 + u32::from(s);
            sess.address = Some((Ipv4Addr::from(0x6440_0000 + n), AddressSource::Pool));
            sess.acct_session_id = format!("5F00{n:08X}");
            sessions.push(sess);
        }
        tunnels.push(tun);
    }
    let state = SavedState::new(
        tunnels,
        sessions,
        template.pool.clone(),
        SystemTime::now(),
        BOOT,
    );
    let bytes = state_file::encode(&state);
    // JSON of one tunnel's worth (1000 sessions) is enough to compare (the whole is ~160 MB).
    let mut small = state.clone();
    small.tunnels.truncate(1);
    small.sessions.truncate(1000);
    let (json, compact) = (
        serde_json::to_vec(&small).unwrap().len(),
        state_file::encode(&small).len(),
    );
    eprintln!(
        "100000 sessions: postcard {} bytes ({} per session); 1000 sessions: postcard {compact}, JSON {json} bytes",
        bytes.len(),
        bytes.len() / 100_000,
    );
    assert!(compact < json / 4);
    assert!(bytes.len() < 40 << 20, "{} bytes", bytes.len());
    assert_eq!(state_file::decode(&bytes).unwrap().sessions.len(), 100_000);
}

/// Writes the seed corpus of the `state_file` fuzz target from real snapshots:
/// `cargo test -p lns --test state_file -- --ignored regenerate_state_file_seeds`.
#[test]
#[ignore]
fn regenerate_state_file_seeds() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../lns/fuzz/corpus/state_file");
    fs::create_dir_all(&dir).unwrap();
    let (two, bytes, t0) = saved_bytes();
    fs::write(dir.join("two_sessions"), &bytes).unwrap();
    // The body alone reaches the postcard decoder without a CRC to guess.
    fs::write(dir.join("two_sessions_body"), &bytes[28..]).unwrap();
    let empty = SavedState::new(Vec::new(), Vec::new(), Default::default(), t0, BOOT);
    fs::write(dir.join("empty"), state_file::encode(&empty)).unwrap();
    // A tunnel with a control message in flight (Set-Link-Info not yet acknowledged).
    let mut w = world(1);
    let (t, s) = (w.calls[0].0, w.calls[0].1);
    w.lns.set_link_info(w.now, t, s, 0, 0xffff_ffff).unwrap();
    let in_flight = save_state(&w, t0);
    assert_eq!(in_flight.tunnels[0].unacknowledged.len(), 1);
    let b = state_file::encode(&in_flight);
    fs::write(dir.join("unacknowledged_message"), &b).unwrap();
    fs::write(dir.join("unacknowledged_message_body"), &b[28..]).unwrap();
    assert_eq!(state_file::decode(&bytes).unwrap(), two);
}
