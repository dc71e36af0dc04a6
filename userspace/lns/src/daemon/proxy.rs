//! Proxy LCP and proxy authentication from the LAC's ICCN (RFC 2661 §4.4.5), used only with
//! `set lcp_renegotiation on-mismatch` (reference §4.2, as l2tpns 2.5.0).
//!
//! A LAC that already negotiated LCP with the client and collected its PAP/CHAP credentials
//! hands both over in the ICCN. When the options it agreed satisfy our policy, the link starts
//! opened (`ppp::session::Session::start_with_proxy`) and the proxied credentials go to
//! RADIUS exactly as the client's own would: PAP as User-Password, CHAP as CHAP-Password
//! (Proxy Authen ID ‖ response) with the LAC's challenge as CHAP-Challenge. No new challenge
//! is sent. When they do not (an authentication protocol we do not allow, an MRU below our
//! minimum, options we do not support, a proxy authentication that does not match the
//! negotiated protocol), LCP is renegotiated with the client, as the original does.
//!
//! A RADIUS reject of proxied credentials takes the ordinary reject path: the CHAP Failure or
//! PAP Nak carries the Proxy Authen ID, then LCP Terminate-Request and, once LCP is down, CDN
//! result 3 with Acct-Terminate-Cause User-Error. For CHAP that identifier is the one of the
//! Response the client is waiting on, so the Failure ends its authentication cleanly (RFC 1994
//! §4.2). For PAP the identifier is only known when the LAC sent AVP 32 (RFC 2661 defines it
//! for CHAP and MS-CHAP only; our LAC and some others send it for PAP too): without it we
//! never saw the Authenticate-Request and cannot answer it, the client discards a Nak with
//! another identifier (RFC 1334 §2.2.2), and the Terminate-Request and CDN are what end the
//! call. Clearing the call at once instead would leave a client that did get our Nak no LCP
//! termination, so both cases share the one path.

use std::time::Instant;

use l2tp::CallInfo;
use ppp::fsm::State;
use ppp::proxy::{ProxyAuth, ProxyLcp};
use ppp::session::Session as PppLink;

use crate::config::LcpRenegotiation;

use super::Daemon;

/// The proxy LCP and proxy authentication an ICCN carried, for the PPP engine; `None`
/// without both AVP 27 and AVP 28 (nothing to reuse).
pub(super) fn proxy_of(call: &CallInfo) -> Option<(ProxyLcp, Option<ProxyAuth>)> {
    let lcp = ProxyLcp::from_avps(
        call.initial_received_lcp_confreq.as_deref(),
        call.last_sent_lcp_confreq.as_deref(),
        call.last_received_lcp_confreq.as_deref(),
    )?;
    let auth = call.proxy_auth.as_ref().map(|a| {
        ProxyAuth::from_avps(
            a.kind,
            a.name.as_deref(),
            a.challenge.as_deref(),
            // One octet on the wire after a reserved one; the PPP side keeps 16 bits.
            a.id.map(u16::from),
            a.response.as_deref(),
        )
    });
    Some((lcp, auth))
}

impl Daemon {
    /// Starts a new call's PPP link: from the LAC's proxy LCP with `on-mismatch` when the
    /// ICCN carried it, else with a fresh LCP negotiation. `tag` names the call in logs.
    pub(super) fn start_link(
        &mut self,
        now: Instant,
        link: &mut PppLink,
        call: &CallInfo,
        tag: &str,
    ) {
        let proxy = match self.config.settings.lcp_renegotiation {
            LcpRenegotiation::OnMismatch => proxy_of(call),
            // `always`: the AVPs are ignored and the client renegotiates (reference §2 #12).
            LcpRenegotiation::Always => None,
        };
        let Some((lcp, auth)) = proxy else {
            link.start(now);
            return;
        };
        link.start_with_proxy(now, &lcp, auth.as_ref());
        // An accepted proxy LCP leaves LCP opened at once; a rejected one starts negotiating.
        if link.lcp_state() == State::Opened {
            self.stats.proxy_lcp_accepted += 1;
            log::info!(
                "session {tag}: proxy LCP accepted{}",
                if auth.is_some() {
                    ", proxy authentication sent to RADIUS"
                } else {
                    ""
                }
            );
        } else {
            // Logged with its reason when the link's event is drained (`ppp_event`).
            self.stats.proxy_lcp_renegotiated += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_proxy_without_both_last_confreqs() {
        let mut call = CallInfo {
            last_sent_lcp_confreq: Some(vec![1, 4, 5, 0xd4]),
            ..CallInfo::default()
        };
        assert!(proxy_of(&call).is_none(), "AVP 28 missing");
        call.last_received_lcp_confreq = Some(vec![5, 6, 1, 2, 3, 4]);
        let (lcp, auth) = proxy_of(&call).unwrap();
        assert_eq!(lcp.last_sent, [1, 4, 5, 0xd4]);
        assert_eq!(lcp.last_received, [5, 6, 1, 2, 3, 4]);
        assert!(lcp.initial_received.is_none());
        assert!(auth.is_none());
    }

    #[test]
    fn proxy_chap_keeps_challenge_response_and_id() {
        let call = CallInfo {
            last_sent_lcp_confreq: Some(vec![]),
            last_received_lcp_confreq: Some(vec![]),
            proxy_auth: Some(l2tp::ProxyAuth {
                kind: 2,
                name: Some(b"bob".to_vec()),
                challenge: Some(vec![7; 16]),
                id: Some(0xa5),
                response: Some(vec![9; 16]),
            }),
            ..CallInfo::default()
        };
        let (_, auth) = proxy_of(&call).unwrap();
        let auth = auth.unwrap();
        assert_eq!(auth.auth_type, ppp::proxy::ProxyAuthType::Chap);
        assert_eq!(auth.name, b"bob");
        assert_eq!(auth.challenge, [7; 16]);
        assert_eq!(auth.id, 0xa5);
        assert_eq!(auth.response, [9; 16]);
    }
}
