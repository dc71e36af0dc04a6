//! LCP option policy (RFC 1661 §6, RFC 1990 §5.1) for both ends of the link: the
//! authenticator (the LNS, which asks the peer to authenticate) and the peer (the client or LAC
//! simulator, which authenticates itself).

use crate::entropy::Entropy;
use crate::frame::protocol;
use crate::fsm::{Negotiator, RequestVerdict};
use crate::options::lcp::{kind, CHAP_MD5};
use crate::options::{AuthProtocol, LcpOption};
use crate::packet::ConfigOption;

/// Authentication methods this crate implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum AuthMethod {
    /// PAP (RFC 1334).
    Pap,
    /// CHAP with MD5 (RFC 1994).
    ChapMd5,
}

impl AuthMethod {
    /// The Authentication-Protocol option value.
    pub fn option(self) -> AuthProtocol {
        match self {
            AuthMethod::Pap => AuthProtocol::Pap,
            AuthMethod::ChapMd5 => AuthProtocol::CHAP_MD5,
        }
    }

    /// The method an option value names, if we implement it.
    pub fn from_option(a: &AuthProtocol) -> Option<Self> {
        match a {
            AuthProtocol::Pap => Some(AuthMethod::Pap),
            AuthProtocol::Chap {
                algorithm: CHAP_MD5,
            } => Some(AuthMethod::ChapMd5),
            _ => None,
        }
    }
}

/// Which end of authentication this LCP is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum LcpRole {
    /// We request Authentication-Protocol (the LNS).
    Authenticator,
    /// We accept the peer's Authentication-Protocol (the client).
    Peer,
}

/// LCP settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LcpConfig {
    /// Our role.
    pub role: LcpRole,
    /// The MRU we ask for (not sent when 1500, the default, RFC 1661 §6.1).
    pub mru: u16,
    /// The smallest MRU we accept from the peer; smaller values are Nak'd to this one.
    pub min_peer_mru: u16,
    /// Authenticator: methods to request, most preferred first. Peer: methods we accept, most
    /// preferred first (suggested in a Nak). Empty: no authentication.
    pub auth: Vec<AuthMethod>,
    /// Ask the peer to allow PFC and ACFC towards us.
    pub request_compression: bool,
    /// Multilink: accept the peer's MRRU, SSNHF and Endpoint Discriminator. Only for a
    /// link that implements MP: an LNS that acked them and then Protocol-Rejected the MP
    /// frames left the peer with a link it believed bundled (RFC 1990 §5.1: a system that does
    /// not implement MP Configure-Rejects these options).
    pub accept_multilink: bool,
    /// Multilink: our MRRU, requested if set.
    pub mrru: Option<u16>,
    /// Multilink: our Endpoint Discriminator (class, address), requested if set.
    pub endpoint_discriminator: Option<(u8, Vec<u8>)>,
}

impl LcpConfig {
    /// Defaults for an LNS: CHAP-MD5 preferred, then PAP.
    pub fn authenticator() -> Self {
        LcpConfig {
            role: LcpRole::Authenticator,
            mru: 1500,
            min_peer_mru: 576,
            auth: vec![AuthMethod::ChapMd5, AuthMethod::Pap],
            request_compression: false,
            accept_multilink: false,
            mrru: None,
            endpoint_discriminator: None,
        }
    }

    /// Defaults for a client accepting PAP and CHAP-MD5.
    pub fn peer() -> Self {
        LcpConfig {
            role: LcpRole::Peer,
            auth: vec![AuthMethod::ChapMd5, AuthMethod::Pap],
            ..Self::authenticator()
        }
    }
}

/// The result of LCP negotiation, filled in as the automaton progresses.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LcpNegotiated {
    /// MRU the peer accepted for us (what we can receive).
    pub our_mru: u16,
    /// The peer's MRU (the largest frame we may send).
    pub peer_mru: u16,
    /// The agreed authentication method, if any.
    pub auth: Option<AuthMethod>,
    /// Our Magic-Number (0 if rejected).
    pub our_magic: u32,
    /// The peer's Magic-Number (0 if not negotiated).
    pub peer_magic: u32,
    /// The peer accepts compressed protocol fields from us.
    pub tx_pfc: bool,
    /// The peer accepts compressed address/control fields from us.
    pub tx_acfc: bool,
    /// The peer's ACCM (meaningless on L2TP, recorded for diagnostics).
    pub peer_accm: Option<u32>,
    /// The peer's MRRU, if it asked for multilink.
    pub peer_mrru: Option<u16>,
    /// The peer wants short sequence numbers.
    pub peer_ssnhf: bool,
    /// The peer's Endpoint Discriminator.
    /// Boxed: multilink is rare, and this struct lives in every link's LCP.
    pub peer_endpoint: Option<Box<(u8, Vec<u8>)>>,
}

/// The LCP [`Negotiator`].
#[derive(Debug, Clone)]
pub struct Lcp {
    config: LcpConfig,
    entropy: Entropy,
    /// Current wishes.
    mru: u16,
    auth_index: Option<usize>,
    magic: u32,
    /// Bit k: the peer rejected option type k (k < 32; types above are never ours).
    rejected: u32,
    negotiated: LcpNegotiated,
    /// Configure-Requests carrying one of our magic numbers in this negotiation (RFC 1661
    /// §6.4); like pppd, counted until the negotiation restarts, not only consecutively, since
    /// on a looped line stale retransmissions interleave with fresh requests.
    magic_collisions: u32,
    /// Our magic numbers of this negotiation (a looped line returns old ones too).
    recent_magics: [u32; 4],
    auth_refused: bool,
}

impl Lcp {
    /// A negotiator; `entropy` supplies magic numbers.
    pub fn new(config: LcpConfig, entropy: Entropy) -> Self {
        let mut lcp = Lcp {
            mru: config.mru,
            config,
            entropy,
            auth_index: None,
            magic: 0,
            rejected: 0,
            negotiated: LcpNegotiated::default(),
            magic_collisions: 0,
            recent_magics: [0; 4],
            auth_refused: false,
        };
        lcp.reset();
        lcp
    }

    /// Negotiated values.
    pub fn negotiated(&self) -> &LcpNegotiated {
        &self.negotiated
    }

    /// Settings.
    pub fn config(&self) -> &LcpConfig {
        &self.config
    }

    /// Magic-Number collisions seen in this negotiation (a looped-back link if it grows).
    pub fn magic_collisions(&self) -> u32 {
        self.magic_collisions
    }

    /// The peer Configure-Rejected Authentication-Protocol, or Nak'd it with nothing we can
    /// do: an authenticator must give up (RFC 1661 §6.2 leaves no way forward).
    pub fn auth_refused(&self) -> bool {
        self.auth_refused
    }

    /// Installs values agreed by an L2TP LAC (proxy LCP, RFC 2661 §4.4.5) as if negotiated.
    pub fn install(&mut self, negotiated: LcpNegotiated) {
        self.magic = negotiated.our_magic;
        self.negotiated = negotiated;
    }

    fn new_magic(&mut self) {
        self.magic = self.entropy.next_nonzero_u32();
        self.recent_magics.rotate_right(1);
        self.recent_magics[0] = self.magic;
    }

    fn is_rejected(&self, k: u8) -> bool {
        1u32.checked_shl(u32::from(k))
            .is_some_and(|bit| self.rejected & bit != 0)
    }

    fn wanted_auth(&self) -> Option<AuthMethod> {
        self.auth_index
            .and_then(|i| self.config.auth.get(i))
            .copied()
    }

    /// Judges one peer option: `Ok(())` to accept, `Err(Some(nak))` to Nak, `Err(None)` to
    /// Reject. Accepted values go into `n`.
    fn judge(&mut self, o: &LcpOption, n: &mut LcpNegotiated) -> Result<(), Option<LcpOption>> {
        match o {
            LcpOption::Mru(v) if *v >= self.config.min_peer_mru => {
                n.peer_mru = *v;
                Ok(())
            }
            LcpOption::Mru(_) => Err(Some(LcpOption::Mru(self.config.min_peer_mru))),
            // The ACCM means nothing on a synchronous L2TP link (RFC 2661 §5.1 carries frames
            // without HDLC stuffing): accept any value rather than fight over it.
            LcpOption::Accm(v) => {
                n.peer_accm = Some(*v);
                Ok(())
            }
            LcpOption::AuthProtocol(a) => match self.config.role {
                // We never authenticate ourselves to the client.
                LcpRole::Authenticator => Err(None),
                LcpRole::Peer => match AuthMethod::from_option(a) {
                    Some(m) if self.config.auth.contains(&m) => {
                        n.auth = Some(m);
                        Ok(())
                    }
                    _ => match self.config.auth.first() {
                        Some(m) => Err(Some(LcpOption::AuthProtocol(m.option()))),
                        None => Err(None),
                    },
                },
            },
            LcpOption::MagicNumber(m) => {
                // §6.4: zero is illegal and always Nak'd; our own value suggests a loop.
                if *m == 0 || self.recent_magics.contains(m) {
                    if *m != 0 {
                        self.magic_collisions += 1;
                        self.new_magic();
                    }
                    Err(Some(LcpOption::MagicNumber(
                        self.entropy.next_nonzero_u32(),
                    )))
                } else {
                    n.peer_magic = *m;
                    Ok(())
                }
            }
            // The peer may send compressed fields to us: we decode both forms anyway.
            LcpOption::Pfc | LcpOption::Acfc => Ok(()),
            LcpOption::Mrru(v) if self.config.accept_multilink => {
                n.peer_mrru = Some(*v);
                Ok(())
            }
            LcpOption::Ssnhf if self.config.accept_multilink => {
                n.peer_ssnhf = true;
                Ok(())
            }
            LcpOption::EndpointDiscriminator { class, address } if self.config.accept_multilink => {
                n.peer_endpoint = Some(Box::new((*class, address.clone())));
                Ok(())
            }
            _ => Err(None),
        }
    }
}

impl Negotiator for Lcp {
    type Opt = LcpOption;
    const PROTOCOL: u16 = protocol::LCP;

    fn request(&mut self) -> Vec<LcpOption> {
        let mut v = Vec::new();
        if self.mru != 1500 && !self.is_rejected(kind::MRU) {
            v.push(LcpOption::Mru(self.mru));
        }
        if self.config.role == LcpRole::Authenticator {
            if let Some(m) = self.wanted_auth() {
                v.push(LcpOption::AuthProtocol(m.option()));
            }
        }
        if self.magic != 0 && !self.is_rejected(kind::MAGIC_NUMBER) {
            v.push(LcpOption::MagicNumber(self.magic));
        }
        if self.config.request_compression {
            if !self.is_rejected(kind::PFC) {
                v.push(LcpOption::Pfc);
            }
            if !self.is_rejected(kind::ACFC) {
                v.push(LcpOption::Acfc);
            }
        }
        if let Some(mrru) = self.config.mrru {
            if !self.is_rejected(kind::MRRU) {
                v.push(LcpOption::Mrru(mrru));
            }
        }
        if let Some((class, address)) = &self.config.endpoint_discriminator {
            if !self.is_rejected(kind::ENDPOINT_DISCRIMINATOR) {
                v.push(LcpOption::EndpointDiscriminator {
                    class: *class,
                    address: address.clone(),
                });
            }
        }
        v
    }

    fn check_request(&mut self, options: &[LcpOption]) -> RequestVerdict<LcpOption> {
        let mut n = LcpNegotiated {
            peer_mru: 1500,
            ..self.negotiated.clone()
        };
        n.peer_magic = 0;
        n.peer_accm = None;
        n.peer_mrru = None;
        n.peer_ssnhf = false;
        n.peer_endpoint = None;
        if self.config.role == LcpRole::Peer {
            n.auth = None;
        }
        let mut naks = Vec::new();
        let mut rejects = Vec::new();
        for o in options {
            match self.judge(o, &mut n) {
                Ok(()) => {}
                Err(Some(nak)) => naks.push(nak),
                Err(None) => rejects.push(o.clone()),
            }
        }
        if !rejects.is_empty() {
            RequestVerdict::Reject(rejects)
        } else if !naks.is_empty() {
            RequestVerdict::Nak(naks)
        } else {
            self.negotiated = n;
            RequestVerdict::Ack
        }
    }

    fn acked(&mut self, options: &[LcpOption]) {
        let n = &mut self.negotiated;
        n.our_mru = 1500;
        n.our_magic = 0;
        n.tx_pfc = false;
        n.tx_acfc = false;
        if self.config.role == LcpRole::Authenticator {
            n.auth = None;
        }
        for o in options {
            match o {
                LcpOption::Mru(v) => n.our_mru = *v,
                LcpOption::MagicNumber(m) => n.our_magic = *m,
                LcpOption::AuthProtocol(a) => n.auth = AuthMethod::from_option(a),
                LcpOption::Pfc => n.tx_pfc = true,
                LcpOption::Acfc => n.tx_acfc = true,
                _ => {}
            }
        }
    }

    fn naked(&mut self, options: &[LcpOption]) {
        for o in options {
            match o {
                LcpOption::Mru(v) if *v >= 64 => self.mru = *v,
                LcpOption::MagicNumber(_) => self.new_magic(),
                LcpOption::AuthProtocol(a) if self.config.role == LcpRole::Authenticator => {
                    // Take the peer's suggestion when we allow it, else our next choice.
                    let suggested = AuthMethod::from_option(a)
                        .and_then(|m| self.config.auth.iter().position(|x| *x == m));
                    match suggested {
                        Some(i) => self.auth_index = Some(i),
                        None => {
                            let next = self.auth_index.map_or(0, |i| i + 1);
                            if next < self.config.auth.len() {
                                self.auth_index = Some(next);
                            } else {
                                self.auth_refused = true;
                            }
                        }
                    }
                }
                _ => {}
            }
        }
    }

    fn rejected(&mut self, options: &[LcpOption]) {
        for o in options {
            if let Some(bit) = 1u32.checked_shl(u32::from(o.kind())) {
                self.rejected |= bit;
            }
            match o {
                LcpOption::MagicNumber(_) => self.magic = 0,
                LcpOption::AuthProtocol(_) if self.config.role == LcpRole::Authenticator => {
                    self.auth_refused = true
                }
                _ => {}
            }
        }
    }

    fn reset(&mut self) {
        self.mru = self.config.mru;
        self.auth_index =
            if self.config.role == LcpRole::Authenticator && !self.config.auth.is_empty() {
                Some(0)
            } else {
                None
            };
        self.recent_magics = [0; 4];
        self.magic_collisions = 0;
        self.new_magic();
        self.rejected = 0;
        self.auth_refused = false;
        self.negotiated = LcpNegotiated {
            our_mru: 1500,
            peer_mru: 1500,
            ..LcpNegotiated::default()
        };
    }

    fn magic(&self) -> u32 {
        self.negotiated.our_magic
    }
}
