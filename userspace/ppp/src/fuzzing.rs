//! Fuzz entry points (one per target). Each takes arbitrary bytes and must never panic; the
//! cargo-fuzz crate in `fuzz/` and the corpus replay test call exactly these.

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use crate::chap::ChapPacket;
use crate::frame::decode_frame;
use crate::options::{IpcpOption, Ipv6cpOption, LcpOption};
use crate::packet::ControlPacket;
use crate::pap::PapPacket;
use crate::session::{Grant, Session, SessionConfig, Verdict};

/// Every decoder: frame, LCP/IPCP/IPV6CP control packets, PAP, CHAP. Whatever decodes must
/// re-encode and decode to the same value.
pub fn decode_packets(data: &[u8]) {
    if let Ok(f) = decode_frame(data) {
        let _ = f.protocol;
    }
    if let Ok(p) = ControlPacket::<LcpOption>::decode(data, true) {
        let again = ControlPacket::<LcpOption>::decode(&p.encode(), true);
        assert_eq!(again.as_ref(), Ok(&p), "LCP re-encode");
    }
    if let Ok(p) = ControlPacket::<IpcpOption>::decode(data, false) {
        assert_eq!(ControlPacket::decode(&p.encode(), false).as_ref(), Ok(&p));
    }
    if let Ok(p) = ControlPacket::<Ipv6cpOption>::decode(data, false) {
        assert_eq!(ControlPacket::decode(&p.encode(), false).as_ref(), Ok(&p));
    }
    if let Ok(p) = PapPacket::decode(data) {
        let _ = PapPacket::decode(&p.encode());
    }
    if let Ok(p) = ChapPacket::decode(data) {
        let _ = ChapPacket::decode(&p.encode());
    }
}

/// Drives an authenticator and a peer session with arbitrary frames: the input is split into
/// frames at each 0x7e byte; each frame's first byte picks the target and whether time moves.
pub fn session_frames(data: &[u8]) {
    let now0 = Instant::now();
    let mut now = now0;
    let mut auth_cfg = SessionConfig::authenticator(b"lns", Ipv4Addr::new(10, 0, 0, 1));
    auth_cfg.ipv6_interface_id = Some([0, 0, 0, 0, 0, 0, 0, 1]);
    let mut server = Session::new(auth_cfg, [1; 16]);
    let mut peer_cfg = SessionConfig::peer(b"user", b"secret");
    peer_cfg.ipv6_interface_id = Some([0; 8]);
    let mut client = Session::new(peer_cfg, [2; 16]);
    server.start(now);
    client.start(now);
    for chunk in data.split(|b| *b == 0x7e) {
        let Some((&ctl, frame)) = chunk.split_first() else {
            continue;
        };
        if ctl & 0x80 != 0 {
            now += Duration::from_millis(u64::from(ctl & 0x7f) * 100);
            server.handle_timeout(now);
            client.handle_timeout(now);
        }
        let target = if ctl & 1 == 0 {
            &mut server
        } else {
            &mut client
        };
        // Datagrams are delivered only through an open NCP in the Network phase.
        match target.handle_frame(now, frame) {
            Ok(crate::session::Inbound::Ipv4(_)) => {
                assert_eq!(target.ipcp_state(), Some(crate::fsm::State::Opened));
                assert_eq!(target.phase(), crate::session::Phase::Network);
            }
            Ok(crate::session::Inbound::Ipv6(_)) => {
                assert_eq!(target.ipv6cp_state(), Some(crate::fsm::State::Opened));
            }
            _ => {}
        }
        while let Some(ev) = server.poll_event() {
            if let crate::session::Event::AuthRequest(_) = ev {
                let verdict = if ctl & 2 == 0 {
                    Verdict::Accept(Grant {
                        ipv4: Some(Ipv4Addr::new(10, 0, 0, 2)),
                        ..Grant::default()
                    })
                } else {
                    Verdict::Reject {
                        message: b"no".to_vec(),
                    }
                };
                server.auth_verdict(now, verdict);
            }
        }
        while client.poll_event().is_some() {}
        // Cross-deliver what the engines produced, so the fuzzer reaches deep states.
        let to_client: Vec<_> = std::iter::from_fn(|| server.poll_transmit()).collect();
        let to_server: Vec<_> = std::iter::from_fn(|| client.poll_transmit()).collect();
        for f in to_client {
            let _ = client.handle_frame(now, &f);
        }
        for f in to_server {
            let _ = server.handle_frame(now, &f);
        }
    }
    assert!(server.poll_timeout().is_none_or(|t| t >= now0));
}

/// Drives bare LCP and IPCP automata with arbitrary events and packets, to reach every state
/// with hostile input: each chunk (split at 0x7e) starts with an opcode byte.
pub fn fsm_events(data: &[u8]) {
    use crate::entropy::Entropy;
    use crate::fsm::{Fsm, FsmConfig};
    use crate::ipcp::{Ipcp, IpcpConfig};
    use crate::lcp::{Lcp, LcpConfig};

    let mut now = Instant::now();
    let config = FsmConfig {
        max_configure: 3,
        max_terminate: 2,
        max_failure: 2,
        restart_interval: Duration::from_secs(1),
    };
    let mut lcp = Fsm::new(
        Lcp::new(LcpConfig::authenticator(), Entropy::new([3; 16])),
        config,
        0,
    );
    let mut ipcp = Fsm::new(
        Ipcp::new(IpcpConfig::Server {
            local: Ipv4Addr::new(10, 0, 0, 1),
            peer: Ipv4Addr::new(10, 0, 0, 2),
            dns: [Some(Ipv4Addr::new(10, 0, 0, 53)), None],
        }),
        config,
        0,
    );
    for chunk in data.split(|b| *b == 0x7e) {
        let Some((&op, rest)) = chunk.split_first() else {
            continue;
        };
        let use_lcp = op & 0x10 == 0;
        match op & 0x0f {
            0 => {
                lcp.up(now);
                ipcp.up(now)
            }
            1 => {
                lcp.down(now);
                ipcp.down(now)
            }
            2 => {
                lcp.open(now);
                ipcp.open(now)
            }
            3 => {
                lcp.close(now, rest);
                ipcp.close(now, rest)
            }
            4 => {
                now += Duration::from_millis(u64::from(rest.first().copied().unwrap_or(0)) * 20);
                lcp.handle_timeout(now);
                ipcp.handle_timeout(now);
            }
            5 => ipcp.protocol_rejected(now),
            _ if use_lcp => {
                let _ = lcp.handle_packet(now, rest);
            }
            _ => {
                let _ = ipcp.handle_packet(now, rest);
            }
        }
        while let Some(o) = lcp.poll_output() {
            if let crate::fsm::FsmOutput::Send(p) = o {
                // What we send must itself decode.
                assert!(ControlPacket::<LcpOption>::decode(&p, true).is_ok());
            }
        }
        while let Some(o) = ipcp.poll_output() {
            if let crate::fsm::FsmOutput::Send(p) = o {
                assert!(ControlPacket::<IpcpOption>::decode(&p, false).is_ok());
            }
        }
        // The timer runs exactly in the states the RFC says (§4.6), or not at all.
        if lcp.poll_timeout().is_some() {
            assert!(lcp.state().timer_runs());
        }
    }
}
