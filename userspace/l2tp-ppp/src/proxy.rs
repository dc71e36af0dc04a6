//! Proxy LCP and proxy authentication, LNS side (RFC 2661 §4.4.5): the ICCN's AVPs 26-28 (the
//! client's first and last LCP Configure-Request, the LAC's last one) and 29-33 (the
//! authentication) in the form the PPP engine takes
//! ([`ppp::session::Session::start_with_proxy`]).

use l2tp::CallInfo;
use ppp::frame::{decode_frame, protocol};
use ppp::packet::code;
use ppp::proxy::{ProxyAuth, ProxyLcp};

/// The proxy LCP and proxy authentication an ICCN carried; `None` without both AVP 27 and
/// AVP 28 (nothing to reuse).
pub fn proxy_of(call: &CallInfo) -> Option<(ProxyLcp, Option<ProxyAuth>)> {
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

/// The Configure-Request options of an LCP frame, if it is one (RFC 1661 §5.1).
pub fn lcp_confreq_options(frame: &[u8]) -> Option<Vec<u8>> {
    let f = decode_frame(frame).ok()?;
    if f.protocol != protocol::LCP || f.payload.first() != Some(&code::CONFIGURE_REQUEST) {
        return None;
    }
    let len = usize::from(u16::from_be_bytes([*f.payload.get(2)?, *f.payload.get(3)?]));
    f.payload.get(4..len).map(<[u8]>::to_vec)
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
