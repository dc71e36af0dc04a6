//! Fuzz entry points (one per cargo-fuzz target in `fuzz/`, also replayed over the committed
//! corpora by `tests/fuzz_corpus.rs`). They take arbitrary bytes and panic only on a bug:
//! the parsers must never panic, and what they accept must behave consistently.

use crate::{config, ip_pool, state_file, users};

/// The startup-config parser. A config that parses must render to text that parses back to
/// the same config (what `write memory` relies on).
pub fn startup_config(data: &[u8]) {
    if let Ok(loaded) = config::parse_bytes("fuzz", data) {
        let text = loaded.config.render();
        match config::parse("rendered", &text) {
            Ok(again) => assert_eq!(again.config, loaded.config, "render round trip:\n{text}"),
            Err(e) => panic!("rendered config does not parse: {e}\n{text}"),
        }
        let _ = loaded.config.diff(&config::Config::default());
    }
}

/// The users file parser and the password checks on whatever it accepted.
pub fn users(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(u) = users::Users::parse("fuzz", text) {
        for name in u.names().take(4) {
            let _ = u.verify(name, "password");
            let _ = u.chap_secret(name);
        }
        let _ = u.verify_enable("password");
    }
}

/// The LAC of the data-plane target's one session.
const LAC: std::net::SocketAddrV4 =
    std::net::SocketAddrV4::new(std::net::Ipv4Addr::new(192, 0, 2, 9), 1701);

/// Largest pool the fuzz target builds (keeps each run quick).
const MAX_FUZZ_POOL: u64 = 1 << 16;

/// The ip_pool parser, and the allocator on the pool it describes.
pub fn ip_pool(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(file) = ip_pool::PoolFile::parse("fuzz", text) else {
        return;
    };
    let size: u64 = file.lines.iter().map(|l| 1u64 << (32 - l.prefix_len)).sum();
    if size > MAX_FUZZ_POOL {
        return;
    }
    let local = [std::net::Ipv4Addr::new(192, 0, 2, 1)];
    let _ = file.routes_for(&local);
    let Ok(mut pool) = file.build_pool("fuzz", &local) else {
        return;
    };
    let n = pool.len();
    let mut got = Vec::new();
    for i in 0..n.min(64) {
        let user = format!("u{}", i % 3);
        got.push(pool.allocate(Some(&user)).expect("a free address").address);
    }
    for a in got.iter().rev() {
        pool.release(*a).expect("allocated addresses release");
    }
    pool.check_invariants().expect("pool invariants");
    assert_eq!(pool.free_len(), n);
}

/// The data plane's packet work on arbitrary bytes, both ways, against a table with one
/// session (ids 3/4, address 10.0.0.5, MRU 1500). Upstream: anything forwarded to the TUN is
/// a slice of the datagram from the session's address. Downstream: a framed packet parses
/// back to the same packet behind an L2TP data header for the LAC's ids.
pub fn data_plane(data: &[u8]) {
    use crate::data_plane::{downstream, upstream, Counters, Upstream, DOWN_HEADROOM};
    use crate::session_table::{CallId, DataPathInfo, SessionTable};
    use std::net::Ipv4Addr;

    let user = Ipv4Addr::new(10, 0, 0, 5);
    let mut t: SessionTable<()> = SessionTable::new();
    let key = t
        .insert(
            CallId {
                tunnel: l2tp::TunnelId(3),
                session: l2tp::SessionId(4),
            },
            (),
        )
        .expect("empty table");
    t.set_address(key, user).expect("fresh session");
    // Two flavours of LCP result, chosen by the input, so both header layouts are covered.
    let compressed = data.first().is_some_and(|b| b & 1 == 1);
    t.publish(
        key,
        DataPathInfo {
            peer: LAC,
            socket: 0,
            peer_tunnel: l2tp::TunnelId(30),
            peer_session: l2tp::SessionId(40),
            mru: 1500,
            acfc: compressed,
            pfc: compressed,
            allow_any_source: false,
            sequenced: false,
        },
    )
    .expect("fresh session");
    let view = t.data_plane();
    let pin = view.pin();
    let counters = Counters::default();

    // The datagram comes from the tunnel's peer: the part under test is the parsing.
    if let Ok(Upstream::ToTun {
        packet, session, ..
    }) = upstream(&pin, &counters, data, LAC, 1)
    {
        assert_eq!(session, key);
        let ip = &data[packet];
        assert!(ip.len() >= 20 && ip[0] >> 4 == 4);
        assert_eq!(Ipv4Addr::new(ip[12], ip[13], ip[14], ip[15]), user);
    }

    let mut buf = vec![0u8; DOWN_HEADROOM];
    buf.extend_from_slice(data);
    let range = DOWN_HEADROOM..buf.len();
    if let Ok(d) = downstream(&pin, &counters, &mut buf, range) {
        let dg = &buf[d.datagram];
        let h = l2tp::header::parse_data_header(dg)
            .expect("our header parses")
            .expect("a data message");
        assert_eq!(
            (h.tunnel_id, h.session_id),
            (l2tp::TunnelId(30), l2tp::SessionId(40))
        );
        assert!(dg[h.payload()].ends_with(data));
    }
}

/// The state file loader: the framed decoder (magic, version, length, CRC) and, since a
/// fuzzer rarely gets a CRC right, the body decoder on its own. What decodes must encode back
/// to a file that decodes to the same state.
pub fn state_file(data: &[u8]) {
    let decoded = [state_file::decode(data), state_file::decode_body(data)];
    for state in decoded.into_iter().flatten() {
        let again = state_file::decode(&state_file::encode(&state));
        assert_eq!(
            again.ok().as_ref(),
            Some(&state),
            "re-encoded state differs"
        );
    }
}
