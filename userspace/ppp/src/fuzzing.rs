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
        let _ = target.handle_frame(now, frame);
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
