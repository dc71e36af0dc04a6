//! Fuzz targets (one function per target, each takes any bytes and never panics). The cargo-fuzz
//! crate in `fuzz/` and the corpus replay test `tests/fuzz_corpus.rs` call these.

use std::path::Path;

use netlink_packet_core::{NetlinkMessage, NetlinkPayload};
use netlink_packet_generic::GenlMessage;

use crate::ipvs::message::{decode_dest, decode_service, IpvsMessage};

/// The XML config parser, and the desired-table builder on what it accepts.
pub fn config(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(cfg) = crate::config::parse(Path::new("fuzz.xml"), text) {
        let addrs = crate::desired::IfaceAddrs {
            v4: Some(std::net::Ipv4Addr::new(203, 0, 113, 7)),
            v6: Some("2001:db8::1".parse().expect("literal address")),
        };
        let _ = crate::desired::build(&cfg, Some(&addrs));
    }
}

/// A kernel reply of the IPVS family: a whole netlink message, decoded as the client does.
pub fn ipvs_reply(data: &[u8]) {
    if let Ok(msg) = NetlinkMessage::<GenlMessage<IpvsMessage>>::deserialize(data) {
        if let NetlinkPayload::InnerMessage(genl) = msg.payload {
            let _ = decode_service(&genl.payload);
            let _ = decode_dest(&genl.payload, std::net::Ipv4Addr::UNSPECIFIED.into());
            let _ = decode_dest(&genl.payload, std::net::Ipv6Addr::UNSPECIFIED.into());
        }
    }
}

/// The state file parser.
pub fn state(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = crate::state::parse(text);
    }
}
