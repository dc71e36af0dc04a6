//! Interoperability with a real FreeRADIUS (Debian `freeradius`), started on loopback with a
//! configuration generated in a temporary directory, driven through a small
//! `std::net::UdpSocket` loop around the sans-IO [`Client`].
//!
//! Skips when FreeRADIUS is not installed, unless `CI` is set: then its absence is a failure.

use radius::{
    chap_md5_response, Attribute, ChapPassword, Client, ClientConfig, Code, Event,
    MessageAuthenticator, MessageAuthenticatorPolicy, Packet, Request, ServerConfig, Vsa,
};
use std::fs;
use std::io::ErrorKind;
use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const SECRET: &str = "testing123";
const LONG_PASSWORD: &str = "correct horse battery staple, long enough for four MD5 blocks!!";

fn find_freeradius() -> Option<PathBuf> {
    ["/usr/sbin/freeradius", "/usr/sbin/radiusd"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

/// A FreeRADIUS process with its configuration directory; killed and removed on drop.
struct FreeRadius {
    child: Child,
    dir: PathBuf,
    auth: SocketAddr,
    acct: SocketAddr,
}

impl Drop for FreeRadius {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            if let Ok(log) = fs::read_to_string(self.dir.join("radiusd.log")) {
                eprintln!("--- FreeRADIUS log ---\n{log}");
            }
        }
        let _ = fs::remove_dir_all(&self.dir);
    }
}

fn free_udp_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Module directory: Debian ships /usr/lib/freeradius, RHEL /usr/lib64/freeradius.
fn module_dir() -> &'static str {
    ["/usr/lib/freeradius", "/usr/lib64/freeradius"]
        .into_iter()
        .find(|d| Path::new(d).join("rlm_pap.so").exists())
        .unwrap_or("/usr/lib/freeradius")
}

fn write_config(dir: &Path, auth_port: u16, acct_port: u16) {
    let d = dir.display();
    let libdir = module_dir();
    fs::create_dir_all(dir.join("run")).unwrap();
    fs::create_dir_all(dir.join("log")).unwrap();
    fs::write(
        dir.join("radiusd.conf"),
        format!(
            r#"
prefix = /usr
exec_prefix = /usr
sysconfdir = /etc
localstatedir = /var
sbindir = /usr/sbin
datarootdir = /usr/share
dictdir = /usr/share/freeradius
libdir = {libdir}
raddbdir = {d}
confdir = {d}
modconfdir = {d}
logdir = {d}/log
run_dir = {d}/run
radacctdir = {d}
db_dir = {d}
pidfile = {d}/run/radiusd.pid
name = radiusd
max_request_time = 30
cleanup_delay = 5
max_requests = 1024
hostname_lookups = no
log {{
    destination = stdout
    auth = yes
}}
security {{
    allow_core_dumps = no
    max_attributes = 200
    reject_delay = 0
    status_server = yes
}}
thread pool {{
    start_servers = 1
    max_servers = 2
    min_spare_servers = 1
    max_spare_servers = 2
}}
client lns {{
    ipaddr = 127.0.0.1
    secret = {SECRET}
    # The server must verify the Message-Authenticator our client sends.
    require_message_authenticator = yes
}}
modules {{
    pap {{
    }}
    chap {{
    }}
    files {{
        filename = {d}/users
    }}
    detail {{
        filename = {d}/detail
        permissions = 0600
        header = "%t"
    }}
}}
server default {{
    listen {{
        type = auth
        ipaddr = 127.0.0.1
        port = {auth_port}
    }}
    listen {{
        type = acct
        ipaddr = 127.0.0.1
        port = {acct_port}
    }}
    authorize {{
        chap
        files
        pap
    }}
    authenticate {{
        Auth-Type PAP {{
            pap
        }}
        Auth-Type CHAP {{
            chap
        }}
    }}
    preacct {{
    }}
    accounting {{
        detail
    }}
    post-auth {{
    }}
}}
"#
        ),
    )
    .unwrap();
    fs::write(
        dir.join("users"),
        format!(
            r#"alice Cleartext-Password := "wonderland"
        Framed-IP-Address = 192.0.2.10,
        Session-Timeout = 3600,
        Class = "gold",
        Cisco-AVPair = "ip:dns-servers=192.0.2.53",
        Reply-Message = "hello alice"

bob Cleartext-Password := "{LONG_PASSWORD}"
        Framed-IP-Address = 192.0.2.11

# FreeRADIUS 3.2.1 signs a reply with Message-Authenticator only when asked to.
carol Cleartext-Password := "through"
        Message-Authenticator = 0x00000000000000000000000000000000,
        Framed-IP-Address = 192.0.2.12
"#
        ),
    )
    .unwrap();
}

fn start() -> Option<FreeRadius> {
    let Some(binary) = find_freeradius() else {
        if std::env::var_os("CI").is_some() {
            panic!("CI is set but FreeRADIUS is not installed (apt-get install freeradius)");
        }
        eprintln!("FreeRADIUS not installed and CI unset: skipping");
        return None;
    };
    let dir = std::env::temp_dir().join(format!("radius-freeradius-test-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    let (auth_port, acct_port) = (free_udp_port(), free_udp_port());
    write_config(&dir, auth_port, acct_port);
    let log = fs::File::create(dir.join("radiusd.log")).unwrap();
    let child = Command::new(binary)
        .args(["-X", "-d"])
        .arg(&dir)
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .expect("start FreeRADIUS");
    let mut server = FreeRadius {
        child,
        auth: SocketAddr::from((Ipv4Addr::LOCALHOST, auth_port)),
        acct: SocketAddr::from((Ipv4Addr::LOCALHOST, acct_port)),
        dir,
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let log = fs::read_to_string(server.dir.join("radiusd.log")).unwrap_or_default();
        if log.contains("Ready to process requests") {
            return Some(server);
        }
        if let Ok(Some(status)) = server.child.try_wait() {
            panic!("FreeRADIUS exited with {status}:\n{log}");
        }
        assert!(Instant::now() < deadline, "FreeRADIUS not ready:\n{log}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The tiny I/O driver: one UDP socket, the client's timers, until one event.
fn run_until_event(client: &mut Client, socket: &UdpSocket) -> Event {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    let give_up = Instant::now() + Duration::from_secs(30);
    loop {
        while let Some(t) = client.poll_transmit(&mut out) {
            socket.send_to(&out, t.destination).unwrap();
        }
        if let Some(event) = client.poll_event() {
            return event;
        }
        assert!(Instant::now() < give_up, "no event in 30 s");
        let now = Instant::now();
        let wait = client
            .poll_timeout()
            .map_or(Duration::from_secs(1), |t| t.saturating_duration_since(now))
            .max(Duration::from_millis(1));
        socket.set_read_timeout(Some(wait)).unwrap();
        match socket.recv_from(&mut buf) {
            Ok((n, from)) => {
                if let Err(e) = client.handle_datagram(Instant::now(), from, &buf[..n]) {
                    panic!("reply from {from} dropped: {e}");
                }
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                client.handle_timeout(Instant::now())
            }
            // ICMP port unreachable from a dead server surfaces here on Linux; keep waiting.
            Err(e) if e.kind() == ErrorKind::ConnectionRefused => {}
            Err(e) => panic!("recv: {e}"),
        }
    }
}

fn client_for(servers: &[SocketAddr]) -> Client {
    let mut config = ClientConfig::new(
        servers
            .iter()
            .map(|&address| ServerConfig {
                address,
                secret: SECRET.into(),
            })
            .collect(),
    );
    config.initial_timeout = Duration::from_millis(300);
    config.max_timeout = Duration::from_secs(2);
    config.message_authenticator = MessageAuthenticatorPolicy::Auto;
    Client::new(config, *b"freeradius-interop-test-seed-32b").unwrap()
}

fn response(event: Event) -> (usize, u32, MessageAuthenticator, Packet) {
    match event {
        Event::Response {
            server,
            attempts,
            message_authenticator,
            packet,
            ..
        } => (server, attempts, message_authenticator, packet),
        other => panic!("expected a response, got {other:?}"),
    }
}

fn user(name: &str) -> Vec<Attribute> {
    vec![
        Attribute::UserName(name.as_bytes().to_vec()),
        Attribute::NasIpAddress(Ipv4Addr::LOCALHOST),
        Attribute::NasPort(42),
        Attribute::NasPortType(radius::nas_port_type::VIRTUAL),
        Attribute::ServiceType(radius::service_type::FRAMED),
        Attribute::FramedProtocol(radius::framed_protocol::PPP),
        Attribute::CallingStationId(b"lac-1/42".to_vec()),
    ]
}

#[test]
fn freeradius_interoperability() {
    let Some(server) = start() else { return };
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let mut c = client_for(&[server.auth]);

    // PAP: accepted, with the reply attributes typed.
    c.send(
        Instant::now(),
        Request::access(user("alice")).with_user_password("wonderland"),
    )
    .unwrap();
    let (srv, attempts, ma, accept) = response(run_until_event(&mut c, &socket));
    assert_eq!((srv, attempts, accept.code), (0, 1, Code::AccessAccept));
    assert!(accept
        .attributes
        .contains(&Attribute::FramedIpAddress(Ipv4Addr::new(192, 0, 2, 10))));
    assert!(accept.attributes.contains(&Attribute::SessionTimeout(3600)));
    assert!(accept
        .attributes
        .contains(&Attribute::Class(b"gold".to_vec())));
    assert!(accept
        .attributes
        .contains(&Attribute::VendorSpecific(Vsa::CiscoAvPair(
            b"ip:dns-servers=192.0.2.53".to_vec()
        ))));
    println!("ok - PAP Access-Accept from FreeRADIUS (Message-Authenticator in reply: {ma:?})");

    // PAP with a wrong password: rejected.
    c.send(
        Instant::now(),
        Request::access(user("alice")).with_user_password("looking-glass"),
    )
    .unwrap();
    let (_, _, _, reject) = response(run_until_event(&mut c, &socket));
    assert_eq!(reject.code, Code::AccessReject);
    println!("ok - PAP wrong password gets Access-Reject");

    // A 63-byte password: four hidden blocks, checked by the real server.
    c.send(
        Instant::now(),
        Request::access(user("bob")).with_user_password(LONG_PASSWORD),
    )
    .unwrap();
    let (_, _, _, accept) = response(run_until_event(&mut c, &socket));
    assert_eq!(accept.code, Code::AccessAccept);
    println!("ok - long PAP password (4 blocks) accepted");

    // CHAP with a CHAP-Challenge attribute.
    for (password, expected) in [
        ("wonderland", Code::AccessAccept),
        ("bad", Code::AccessReject),
    ] {
        let challenge: Vec<u8> = (0u8..16).map(|i| i.wrapping_mul(37)).collect();
        let mut attrs = user("alice");
        attrs.push(Attribute::ChapPassword(ChapPassword {
            ident: 7,
            response: chap_md5_response(7, password.as_bytes(), &challenge),
        }));
        attrs.push(Attribute::ChapChallenge(challenge));
        c.send(Instant::now(), Request::access(attrs)).unwrap();
        let (_, _, _, reply) = response(run_until_event(&mut c, &socket));
        assert_eq!(reply.code, expected, "CHAP with {password}");
    }
    println!("ok - CHAP accepted with the right secret, rejected with a wrong one");

    // Message-Authenticator: FreeRADIUS is configured to require it, so the accepts above
    // prove it verified ours. A request whose HMAC is wrong must get no answer at all.
    // The control: the same request, correctly signed, is answered.
    let probe = UdpSocket::bind("127.0.0.1:0").unwrap();
    probe
        .set_read_timeout(Some(Duration::from_millis(1500)))
        .unwrap();
    let mut manual = Packet::new(Code::AccessRequest, 200);
    manual
        .attributes
        .push(Attribute::MessageAuthenticator([0; 16]));
    manual.attributes.extend(user("alice"));
    for (identifier, corrupt) in [(200u8, false), (201, true)] {
        manual.identifier = identifier;
        manual.authenticator = [identifier; 16];
        let mut bytes = manual.encode_signed(SECRET.as_bytes(), None).unwrap();
        if corrupt {
            bytes[22] ^= 0x80;
        }
        probe.send_to(&bytes, server.auth).unwrap();
        let answered = probe.recv_from(&mut [0; 4096]).is_ok();
        assert_eq!(
            answered, !corrupt,
            "identifier {identifier}, corrupt {corrupt}"
        );
    }
    println!("ok - FreeRADIUS answers a signed request and drops one with a corrupted Message-Authenticator");

    // And the other direction: a reply carrying Message-Authenticator, verified by us under
    // the strict policy.
    let mut strict = ClientConfig::new(vec![ServerConfig {
        address: server.auth,
        secret: SECRET.into(),
    }]);
    strict.message_authenticator = MessageAuthenticatorPolicy::Require;
    let mut c = Client::new(strict, [3; 32]).unwrap();
    c.send(
        Instant::now(),
        Request::access(user("carol")).with_user_password("through"),
    )
    .unwrap();
    let (_, _, ma, accept) = response(run_until_event(&mut c, &socket));
    assert_eq!(
        (ma, accept.code),
        (MessageAuthenticator::Valid, Code::AccessAccept)
    );
    println!("ok - Message-Authenticator in FreeRADIUS's Access-Accept verified (Require policy)");

    // Accounting Start and Stop on the accounting port.
    let mut acct_client = client_for(&[server.acct]);
    for (status, extra) in [
        (radius::acct_status_type::START, vec![]),
        (
            radius::acct_status_type::STOP,
            vec![
                Attribute::AcctSessionTime(61),
                Attribute::AcctInputOctets(1234),
                Attribute::AcctOutputOctets(5678),
                Attribute::AcctInputGigawords(1),
                Attribute::AcctTerminateCause(radius::acct_terminate_cause::USER_REQUEST),
            ],
        ),
    ] {
        let mut attrs = user("alice");
        attrs.push(Attribute::AcctStatusType(status));
        attrs.push(Attribute::AcctSessionId(b"0000002A5F000001".to_vec()));
        attrs.push(Attribute::Class(b"gold".to_vec()));
        attrs.extend(extra);
        acct_client
            .send(Instant::now(), Request::accounting(attrs))
            .unwrap();
        let (_, _, _, reply) = response(run_until_event(&mut acct_client, &socket));
        assert_eq!(reply.code, Code::AccountingResponse);
    }
    let detail = fs::read_to_string(server.dir.join("detail")).expect("detail file written");
    assert!(detail.contains("Acct-Status-Type = Start"), "{detail}");
    assert!(detail.contains("Acct-Status-Type = Stop"), "{detail}");
    assert!(
        detail.contains("Acct-Session-Id = \"0000002A5F000001\""),
        "{detail}"
    );
    assert!(detail.contains("Acct-Input-Gigawords = 1"), "{detail}");
    println!("ok - accounting Start/Stop answered and recorded by FreeRADIUS");

    // Failover: a silent first server, FreeRADIUS second.
    let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
    let mut c = client_for(&[silent.local_addr().unwrap(), server.auth]);
    c.send(
        Instant::now(),
        Request::access(user("alice")).with_user_password("wonderland"),
    )
    .unwrap();
    let (srv, attempts, _, accept) = response(run_until_event(&mut c, &socket));
    assert_eq!((srv, attempts, accept.code), (1, 2, Code::AccessAccept));
    assert_eq!(c.stats().retransmits, 1);
    println!("ok - failover from a silent server to FreeRADIUS on the retry");

    // Status-Server (enabled in the generated config).
    let mut c = client_for(&[server.auth]);
    c.send(Instant::now(), Request::status_server(vec![]))
        .unwrap();
    let (_, _, _, reply) = response(run_until_event(&mut c, &socket));
    assert_eq!(reply.code, Code::AccessAccept);
    println!("ok - Status-Server answered");
}
