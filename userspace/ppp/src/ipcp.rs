//! IPCP option policy (RFC 1332, RFC 1877 DNS addresses).

use std::net::Ipv4Addr;

use crate::frame::protocol;
use crate::fsm::{Negotiator, RequestVerdict};
use crate::options::ipcp::kind;
use crate::options::IpcpOption;
use crate::packet::ConfigOption;

/// Which end assigns addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IpcpConfig {
    /// The LNS: our address, the peer's assigned address and DNS servers (typically from the
    /// RADIUS Access-Accept: Framed-IP-Address, MS-Primary/Secondary-DNS-Server).
    Server {
        /// Our address, sent in our Configure-Request.
        local: Ipv4Addr,
        /// The address the peer must use.
        peer: Ipv4Addr,
        /// Primary and secondary DNS offered (RFC 1877); `None` rejects the option.
        dns: [Option<Ipv4Addr>; 2],
    },
    /// The client: asks for an address (0.0.0.0 = "assign me one") and optionally DNS.
    Client {
        /// Address requested.
        address: Ipv4Addr,
        /// Ask for primary and secondary DNS.
        request_dns: bool,
    },
}

/// Agreed values.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct IpcpNegotiated {
    /// Our address.
    pub local: Option<Ipv4Addr>,
    /// The peer's address.
    pub peer: Option<Ipv4Addr>,
    /// DNS servers (offered by the server, or learnt by the client).
    pub dns: [Option<Ipv4Addr>; 2],
}

/// The IPCP [`Negotiator`].
#[derive(Debug, Clone)]
pub struct Ipcp {
    config: IpcpConfig,
    address: Ipv4Addr,
    dns: [Ipv4Addr; 2],
    rejected_address: bool,
    rejected_dns: [bool; 2],
    suggested_address: bool,
    negotiated: IpcpNegotiated,
}

impl Ipcp {
    /// A negotiator.
    pub fn new(config: IpcpConfig) -> Self {
        let mut i = Ipcp {
            config,
            address: Ipv4Addr::UNSPECIFIED,
            dns: [Ipv4Addr::UNSPECIFIED; 2],
            rejected_address: false,
            rejected_dns: [false; 2],
            suggested_address: false,
            negotiated: IpcpNegotiated::default(),
        };
        i.reset();
        i
    }

    /// Agreed values.
    pub fn negotiated(&self) -> IpcpNegotiated {
        self.negotiated
    }

    /// Installs values agreed before a restart (snapshot resume) as if negotiated.
    pub(crate) fn install(&mut self, negotiated: IpcpNegotiated) {
        self.negotiated = negotiated;
    }
}

fn dns_slot(o: &IpcpOption) -> Option<(usize, Ipv4Addr)> {
    match o {
        IpcpOption::PrimaryDns(a) => Some((0, *a)),
        IpcpOption::SecondaryDns(a) => Some((1, *a)),
        _ => None,
    }
}

fn dns_option(slot: usize, a: Ipv4Addr) -> IpcpOption {
    if slot == 0 {
        IpcpOption::PrimaryDns(a)
    } else {
        IpcpOption::SecondaryDns(a)
    }
}

impl Negotiator for Ipcp {
    type Opt = IpcpOption;
    const PROTOCOL: u16 = protocol::IPCP;

    fn request(&mut self) -> Vec<IpcpOption> {
        let mut v = Vec::new();
        if !self.rejected_address {
            v.push(IpcpOption::IpAddress(self.address));
        }
        if let IpcpConfig::Client {
            request_dns: true, ..
        } = self.config
        {
            for slot in 0..2 {
                if !self.rejected_dns[slot] {
                    v.push(dns_option(slot, self.dns[slot]));
                }
            }
        }
        v
    }

    fn check_request(&mut self, options: &[IpcpOption]) -> RequestVerdict<IpcpOption> {
        let mut naks = Vec::new();
        let mut rejects = Vec::new();
        let mut n = self.negotiated;
        let mut saw_address = false;
        for o in options {
            match (&self.config, o) {
                (IpcpConfig::Server { peer, .. }, IpcpOption::IpAddress(a)) => {
                    saw_address = true;
                    if a == peer {
                        n.peer = Some(*a);
                    } else {
                        naks.push(IpcpOption::IpAddress(*peer));
                    }
                }
                (IpcpConfig::Server { dns, .. }, o) if dns_slot(o).is_some() => {
                    let (slot, a) = dns_slot(o).unwrap_or((0, Ipv4Addr::UNSPECIFIED));
                    match dns[slot] {
                        Some(d) if d == a => n.dns[slot] = Some(d),
                        Some(d) => naks.push(dns_option(slot, d)),
                        None => rejects.push(o.clone()),
                    }
                }
                // The server tells us its address; 0.0.0.0 would ask us to assign one, which a
                // client cannot do.
                (IpcpConfig::Client { .. }, IpcpOption::IpAddress(a)) if !a.is_unspecified() => {
                    n.peer = Some(*a);
                }
                _ => rejects.push(o.clone()),
            }
        }
        // RFC 1332 §3.3: a server may Nak an omitted IP-Address to make the peer ask for one.
        // Once per negotiation, so a peer that insists on not asking can still come up.
        if let IpcpConfig::Server { peer, .. } = self.config {
            if !saw_address && !self.suggested_address && rejects.is_empty() {
                self.suggested_address = true;
                naks.push(IpcpOption::IpAddress(peer));
            }
        }
        if !rejects.is_empty() {
            RequestVerdict::Reject(rejects)
        } else if !naks.is_empty() {
            RequestVerdict::Nak(naks)
        } else {
            if let IpcpConfig::Server { peer, .. } = self.config {
                n.peer = Some(peer);
            }
            self.negotiated = n;
            RequestVerdict::Ack
        }
    }

    fn acked(&mut self, options: &[IpcpOption]) {
        for o in options {
            match o {
                IpcpOption::IpAddress(a) => self.negotiated.local = Some(*a),
                o => {
                    if let (Some((slot, a)), IpcpConfig::Client { .. }) =
                        (dns_slot(o), &self.config)
                    {
                        self.negotiated.dns[slot] = Some(a);
                    }
                }
            }
        }
    }

    fn naked(&mut self, options: &[IpcpOption]) {
        // Only a client takes suggestions; a server's own address is configuration.
        if let IpcpConfig::Client { .. } = self.config {
            for o in options {
                match o {
                    IpcpOption::IpAddress(a) => self.address = *a,
                    o => {
                        if let Some((slot, a)) = dns_slot(o) {
                            self.dns[slot] = a;
                        }
                    }
                }
            }
        }
    }

    fn rejected(&mut self, options: &[IpcpOption]) {
        for o in options {
            match o.kind() {
                kind::IP_ADDRESS => self.rejected_address = true,
                kind::PRIMARY_DNS => self.rejected_dns[0] = true,
                kind::SECONDARY_DNS => self.rejected_dns[1] = true,
                _ => {}
            }
        }
    }

    fn reset(&mut self) {
        self.address = match self.config {
            IpcpConfig::Server { local, .. } => local,
            IpcpConfig::Client { address, .. } => address,
        };
        self.dns = [Ipv4Addr::UNSPECIFIED; 2];
        self.rejected_address = false;
        self.rejected_dns = [false; 2];
        self.suggested_address = false;
        self.negotiated = IpcpNegotiated::default();
        if let IpcpConfig::Server { dns, .. } = self.config {
            self.negotiated.dns = dns;
        }
    }
}
