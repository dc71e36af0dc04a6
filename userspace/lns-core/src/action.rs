//! What the endpoint asks the daemon to do.

use std::net::{Ipv4Addr, SocketAddr};

/// Which RADIUS client a datagram belongs to: authentication (the server's port) or
/// accounting (port + 1, as the original).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RadiusClientKind {
    Authentication,
    Accounting,
}

/// A session event the external hook (`hook_script`) is run for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HookEvent {
    /// RADIUS answered (accept, reject or garden: `L2TPNS_AUTH`).
    Auth,
    /// IPCP opened: the session carries traffic.
    Up,
    /// The session ended.
    Down,
}

impl std::fmt::Display for HookEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            HookEvent::Auth => "auth",
            HookEvent::Up => "up",
            HookEvent::Down => "down",
        })
    }
}

/// One thing for the daemon to do, in the order given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Send an L2TP datagram from our UDP socket number `socket` (bind address index).
    SendL2tp {
        socket: u16,
        to: SocketAddr,
        datagram: Vec<u8>,
    },
    /// Send a RADIUS datagram from socket `socket` of that client.
    SendRadius {
        client: RadiusClientKind,
        socket: usize,
        to: SocketAddr,
        datagram: Vec<u8>,
    },
    /// Send a Dynamic Authorization answer (Disconnect/CoA-ACK/NAK, RFC 5176) from the DAE
    /// socket (`bind_address:radius_dae_port`).
    SendDae { to: SocketAddr, datagram: Vec<u8> },
    /// Write an IPv4 packet from a user to the TUN device (the slow path).
    WriteTun(Vec<u8>),
    /// Route a prefix to the TUN device.
    AddRoute { prefix: Ipv4Addr, len: u8 },
    /// Withdraw a route added by [`Action::AddRoute`].
    RemoveRoute { prefix: Ipv4Addr, len: u8 },
    /// Append an `accounting_dir` dump (its text is complete; the daemon names the file
    /// after `unix_time` in local time, as the original).
    WriteAccountingDump {
        dir: std::path::PathBuf,
        unix_time: u64,
        text: String,
    },
    /// Set up the walled garden's nat chains (the garden plugin loaded): `garden` (flushed,
    /// then filled by `garden_script`), `garden_users` (flushed), and one jump from
    /// PREROUTING to `garden_users`.
    GardenSetup,
    /// Remove every garden rule and chain (the plugin removed, the daemon stopping).
    GardenTeardown,
    /// Put a session's address in `garden_users` (`-s ADDRESS -j garden`).
    GardenAdd { address: Ipv4Addr },
    /// Take it out again.
    GardenRemove { address: Ipv4Addr },
    /// Run `hook_script` for one event, asynchronously, with `env` added to a clean
    /// environment.
    RunHook {
        event: HookEvent,
        env: Vec<(String, String)>,
    },
}
