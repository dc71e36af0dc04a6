//! sd_notify(3) without libsystemd: one datagram to `$NOTIFY_SOCKET` (a path, or an abstract
//! name written with a leading `@`). Nothing happens outside systemd.

use std::os::unix::net::{SocketAddr, UnixDatagram};

fn target() -> Option<SocketAddr> {
    let path = std::env::var_os("NOTIFY_SOCKET")?;
    let bytes = path.as_encoded_bytes();
    if let Some(name) = bytes.strip_prefix(b"@") {
        use std::os::linux::net::SocketAddrExt;
        SocketAddr::from_abstract_name(name).ok()
    } else {
        SocketAddr::from_pathname(std::path::Path::new(&path)).ok()
    }
}

/// Sends `state` (e.g. "READY=1") to the service manager, if there is one.
pub fn notify(state: &str) {
    let Some(addr) = target() else { return };
    let sent = UnixDatagram::unbound().and_then(|s| s.send_to_addr(state.as_bytes(), &addr));
    if let Err(e) = sent {
        log::warn!("sd_notify {state}: {e}");
    }
}
