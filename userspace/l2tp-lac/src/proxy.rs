//! Proxy LCP and proxy authentication (RFC 2661 §4.4.5), both ends.
//!
//! A real LAC negotiates LCP with the dial-in client and collects its PAP/CHAP credentials
//! before it places the call, then hands the LNS the result in the ICCN: AVPs 26-28 (the
//! client's first and last LCP Configure-Request, and the LAC's last one) and 29-33 (the
//! authentication). [`negotiate`] does the same with our PPP client and an in-memory
//! authenticator standing in for the LAC's side; the client then rides the L2TP session
//! with LCP opened, waiting for the LNS's PAP Ack or CHAP Success.
//!
//! The LNS side, the ICCN's values in the form the PPP engine takes, is
//! [`l2tp_ppp::proxy::proxy_of`].

use std::time::Instant;

use l2tp::CallInfo;
pub use l2tp_ppp::proxy::{lcp_confreq_options, proxy_of};
use ppp::session::{Credentials, Event as PppEvent, Session, SessionConfig};

/// Proxy Authen Type values (RFC 2661 §4.4.5, AVP 29).
mod authen_type {
    pub const CHAP: u16 = 2;
    pub const PAP: u16 = 3;
    pub const NONE: u16 = 4;
}

/// Frames exchanged before giving up: LCP converges in a handful (RFC 1661 §4, bounded by
/// Max-Configure and Max-Failure); far more means the two sides cannot agree.
const MAX_FRAMES: usize = 200;

/// What the LAC learnt from its client, to put in the ICCN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyValues {
    /// AVP 26: the client's first LCP Configure-Request options.
    pub initial_received: Vec<u8>,
    /// AVP 27: the LAC's last LCP Configure-Request options (acknowledged by the client).
    pub last_sent: Vec<u8>,
    /// AVP 28: the client's last LCP Configure-Request options (acknowledged by the LAC).
    pub last_received: Vec<u8>,
    /// AVPs 29-33.
    pub auth: l2tp::ProxyAuth,
}

impl ProxyValues {
    /// Puts the values into the call's ICCN AVPs; with `lcp_only` the authentication is left
    /// out (the LNS then authenticates the client itself).
    pub fn apply(&self, call: &mut CallInfo, lcp_only: bool) {
        call.initial_received_lcp_confreq = Some(self.initial_received.clone());
        call.last_sent_lcp_confreq = Some(self.last_sent.clone());
        call.last_received_lcp_confreq = Some(self.last_received.clone());
        call.proxy_auth = (!lcp_only).then(|| self.auth.clone());
    }
}

/// Why the LAC could not complete LCP and authentication with its client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProxyError {
    #[error("LCP with the client did not complete ({0} frames exchanged)")]
    Incomplete(usize),
    #[error("the client's PPP link closed during LCP or authentication")]
    Closed,
}

/// Runs LCP and PAP/CHAP between `client` (a peer-role link, not started) and a LAC-side
/// authenticator built from `lac` (its `lcp.auth` is what the LAC asks for). Returns the
/// client, LCP opened and its credentials sent, and the values for the ICCN.
pub fn negotiate(
    now: Instant,
    client: SessionConfig,
    client_seed: [u8; 16],
    lac: SessionConfig,
    lac_seed: [u8; 16],
) -> Result<(Session, ProxyValues), ProxyError> {
    let mut client = Session::new(client, client_seed);
    let mut lac = Session::new(lac, lac_seed);
    client.start(now);
    lac.start(now);
    let mut initial_received = None;
    let mut last_received = Vec::new();
    let mut last_sent = Vec::new();
    let mut frames = 0;
    loop {
        let mut moved = false;
        while let Some(f) = client.poll_transmit() {
            if let Some(o) = lcp_confreq_options(&f) {
                initial_received.get_or_insert_with(|| o.clone());
                last_received = o;
            }
            // The LAC side counts malformed input itself; nothing here is malformed.
            let _ = lac.handle_frame(now, &f);
            moved = true;
            frames += 1;
        }
        while let Some(f) = lac.poll_transmit() {
            if let Some(o) = lcp_confreq_options(&f) {
                last_sent = o;
            }
            let _ = client.handle_frame(now, &f);
            moved = true;
            frames += 1;
        }
        while let Some(e) = client.poll_event() {
            if matches!(e, PppEvent::Closed(_)) {
                return Err(ProxyError::Closed);
            }
        }
        let mut auth = None;
        while let Some(e) = lac.poll_event() {
            match e {
                PppEvent::AuthRequest(r) => auth = Some(proxy_auth_of(&r.username, r.credentials)),
                PppEvent::Closed(_) => return Err(ProxyError::Closed),
                _ => {}
            }
        }
        let lcp_open = lac.lcp_state() == ppp::fsm::State::Opened
            && client.lcp_state() == ppp::fsm::State::Opened;
        let no_auth = lcp_open && lac.lcp_negotiated().auth.is_none();
        if auth.is_some() || no_auth {
            let values = ProxyValues {
                initial_received: initial_received.unwrap_or_default(),
                last_sent,
                last_received,
                auth: auth.unwrap_or(l2tp::ProxyAuth {
                    kind: authen_type::NONE,
                    ..l2tp::ProxyAuth::default()
                }),
            };
            return Ok((client, values));
        }
        if !moved || frames > MAX_FRAMES {
            return Err(ProxyError::Incomplete(frames));
        }
    }
}

fn proxy_auth_of(user: &[u8], c: Credentials) -> l2tp::ProxyAuth {
    match c {
        Credentials::Pap { id, password } => l2tp::ProxyAuth {
            kind: authen_type::PAP,
            name: Some(user.to_vec()),
            challenge: None,
            // RFC 2661 defines AVP 32 for CHAP only; sending the Authenticate-Request's
            // identifier for PAP too lets the LNS answer the client's request directly.
            id: Some(id),
            response: Some(password),
        },
        Credentials::Chap {
            id,
            challenge,
            response,
        } => l2tp::ProxyAuth {
            kind: authen_type::CHAP,
            name: Some(user.to_vec()),
            challenge: Some(challenge),
            id: Some(id),
            response: Some(response),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ppp::chap::md5_response;
    use ppp::lcp::AuthMethod;
    use std::net::Ipv4Addr;

    fn configs(method: AuthMethod) -> (SessionConfig, SessionConfig) {
        let mut client = SessionConfig::peer(b"carol", b"s3cret");
        client.lcp.auth = vec![method];
        let mut lac = SessionConfig::authenticator(b"lac", Ipv4Addr::UNSPECIFIED);
        lac.lcp.auth = vec![method];
        (client, lac)
    }

    #[test]
    fn chap_values_verify_against_the_secret() {
        let (client, lac) = configs(AuthMethod::ChapMd5);
        let now = Instant::now();
        let (link, v) = negotiate(now, client, [1; 16], lac, [2; 16]).unwrap();
        assert_eq!(link.lcp_state(), ppp::fsm::State::Opened);
        assert_eq!(link.phase(), ppp::session::Phase::Authenticate);
        let a = &v.auth;
        assert_eq!(a.kind, authen_type::CHAP);
        assert_eq!(a.name.as_deref(), Some(&b"carol"[..]));
        let challenge = a.challenge.clone().unwrap();
        let expected = md5_response(a.id.unwrap(), b"s3cret", &challenge);
        assert_eq!(a.response.as_deref(), Some(&expected[..]));
        // The LAC asked for CHAP-MD5: C2 23 05 in its last Configure-Request.
        assert!(v.last_sent.windows(5).any(|w| w == [3, 5, 0xc2, 0x23, 5]));
        assert!(!v.last_received.is_empty());
        assert!(!v.initial_received.is_empty());
    }

    #[test]
    fn pap_values_carry_the_password_and_identifier() {
        let (client, lac) = configs(AuthMethod::Pap);
        let (_, v) = negotiate(Instant::now(), client, [3; 16], lac, [4; 16]).unwrap();
        assert_eq!(v.auth.kind, authen_type::PAP);
        assert_eq!(v.auth.response.as_deref(), Some(&b"s3cret"[..]));
        assert!(v.auth.id.is_some());
        assert!(v.last_sent.windows(4).any(|w| w == [3, 4, 0xc0, 0x23]));
        let mut call = CallInfo::default();
        v.apply(&mut call, true);
        assert!(call.proxy_auth.is_none());
        let (lcp, auth) = proxy_of(&call).unwrap();
        assert_eq!(lcp.last_sent, v.last_sent);
        assert!(auth.is_none());
    }

    #[test]
    fn incompatible_authentication_does_not_complete() {
        // The client only does PAP, the LAC insists on CHAP: the client rejects the option
        // and the LAC-side authenticator gives up.
        let (client, _) = configs(AuthMethod::Pap);
        let (_, lac) = configs(AuthMethod::ChapMd5);
        assert!(negotiate(Instant::now(), client, [5; 16], lac, [6; 16]).is_err());
    }

    #[test]
    fn confreq_options_only_from_lcp_configure_requests() {
        let req = [0xff, 0x03, 0xc0, 0x21, 1, 7, 0, 10, 5, 6, 1, 2, 3, 4];
        assert_eq!(lcp_confreq_options(&req), Some(vec![5, 6, 1, 2, 3, 4]));
        let ack = [0xc0, 0x21, 2, 7, 0, 10, 5, 6, 1, 2, 3, 4];
        assert_eq!(lcp_confreq_options(&ack), None);
        assert_eq!(lcp_confreq_options(&[0xc0, 0x21, 1, 7, 0, 40]), None);
        assert_eq!(lcp_confreq_options(&[0x80, 0x21, 1, 7, 0, 4]), None);
    }
}
