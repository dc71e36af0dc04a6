//! IPV6CP option policy (RFC 5072 §4.1 Interface-Identifier).

use crate::entropy::Entropy;
use crate::frame::protocol;
use crate::fsm::{Negotiator, RequestVerdict};
use crate::options::Ipv6cpOption;

/// IPV6CP settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv6cpConfig {
    /// Our interface identifier (non-zero).
    pub local: [u8; 8],
    /// The identifier the peer must use (the LNS may derive it from Framed-IPv6-Address or
    /// Framed-Interface-Id); `None` accepts any valid one.
    pub peer: Option<[u8; 8]>,
}

/// Agreed identifiers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Ipv6cpNegotiated {
    /// Ours.
    pub local: Option<[u8; 8]>,
    /// The peer's.
    pub peer: Option<[u8; 8]>,
}

/// The IPV6CP [`Negotiator`].
#[derive(Debug, Clone)]
pub struct Ipv6cp {
    config: Ipv6cpConfig,
    entropy: Entropy,
    local: [u8; 8],
    rejected: bool,
    suggested: bool,
    negotiated: Ipv6cpNegotiated,
}

impl Ipv6cp {
    /// A negotiator; `entropy` makes fresh identifiers on collisions.
    pub fn new(config: Ipv6cpConfig, entropy: Entropy) -> Self {
        let mut v = Ipv6cp {
            local: config.local,
            config,
            entropy,
            rejected: false,
            suggested: false,
            negotiated: Ipv6cpNegotiated::default(),
        };
        v.reset();
        v
    }

    /// Agreed identifiers.
    pub fn negotiated(&self) -> Ipv6cpNegotiated {
        self.negotiated
    }

    /// Installs identifiers agreed before a restart (snapshot resume) as if negotiated.
    pub(crate) fn install(&mut self, negotiated: Ipv6cpNegotiated) {
        if let Some(local) = negotiated.local {
            self.local = local;
        }
        self.negotiated = negotiated;
    }

    fn fresh_identifier(&mut self) -> [u8; 8] {
        loop {
            let b = self.entropy.next_block();
            let mut id = [0u8; 8];
            id.copy_from_slice(&b[..8]);
            if id != [0; 8] && id != self.local {
                return id;
            }
        }
    }
}

impl Negotiator for Ipv6cp {
    type Opt = Ipv6cpOption;
    const PROTOCOL: u16 = protocol::IPV6CP;

    fn request(&mut self) -> Vec<Ipv6cpOption> {
        if self.rejected {
            Vec::new()
        } else {
            vec![Ipv6cpOption::InterfaceIdentifier(self.local)]
        }
    }

    fn check_request(&mut self, options: &[Ipv6cpOption]) -> RequestVerdict<Ipv6cpOption> {
        let mut naks = Vec::new();
        let mut rejects = Vec::new();
        let mut peer = None;
        for o in options {
            match o {
                Ipv6cpOption::InterfaceIdentifier(id) => {
                    // RFC 5072 §4.1: zero, or equal to ours, must be Nak'd with a new value.
                    let wanted = self.config.peer;
                    if *id == [0; 8] || *id == self.local {
                        let s = wanted.unwrap_or_else(|| self.fresh_identifier());
                        naks.push(Ipv6cpOption::InterfaceIdentifier(s));
                    } else if wanted.is_some_and(|w| w != *id) {
                        naks.push(Ipv6cpOption::InterfaceIdentifier(wanted.unwrap_or(*id)));
                    } else {
                        peer = Some(*id);
                    }
                }
                Ipv6cpOption::Other { .. } => rejects.push(o.clone()),
            }
        }
        if peer.is_none() && naks.is_empty() && !self.suggested {
            // §4.1: the peer sent no identifier; suggest one once if we have it.
            if let Some(w) = self.config.peer {
                self.suggested = true;
                naks.push(Ipv6cpOption::InterfaceIdentifier(w));
            }
        }
        if !rejects.is_empty() {
            RequestVerdict::Reject(rejects)
        } else if !naks.is_empty() {
            RequestVerdict::Nak(naks)
        } else {
            self.negotiated.peer = peer;
            RequestVerdict::Ack
        }
    }

    fn acked(&mut self, options: &[Ipv6cpOption]) {
        for o in options {
            if let Ipv6cpOption::InterfaceIdentifier(id) = o {
                self.negotiated.local = Some(*id);
            }
        }
    }

    fn naked(&mut self, options: &[Ipv6cpOption]) {
        for o in options {
            if let Ipv6cpOption::InterfaceIdentifier(id) = o {
                // Adopt a usable suggestion; otherwise pick a fresh identifier (§4.1).
                self.local = if *id != [0; 8] && Some(*id) != self.negotiated.peer {
                    *id
                } else {
                    self.fresh_identifier()
                };
            }
        }
    }

    fn rejected(&mut self, options: &[Ipv6cpOption]) {
        if options
            .iter()
            .any(|o| matches!(o, Ipv6cpOption::InterfaceIdentifier(_)))
        {
            self.rejected = true;
        }
    }

    fn reset(&mut self) {
        self.local = if self.config.local == [0; 8] {
            self.fresh_identifier()
        } else {
            self.config.local
        };
        self.rejected = false;
        self.suggested = false;
        self.negotiated = Ipv6cpNegotiated::default();
    }
}
