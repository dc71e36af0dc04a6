//! Proxy LCP and proxy authentication values from an L2TP ICCN (RFC 2661 §4.4.5). The L2TP crate
//! decodes the AVPs; these plain structs carry their values into [`crate::session::Session`].

/// AVPs 26-28: the LCP Configure-Request option lists the LAC exchanged with the client.
/// Each is the option list only (the Configure-Request's Data field, RFC 2661 §4.4.5).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProxyLcp {
    /// AVP 26 Initial Received LCP CONFREQ (the client's first request; informational).
    pub initial_received: Option<Vec<u8>>,
    /// AVP 27 Last Sent LCP CONFREQ: what the LAC asked of the client (our side's options,
    /// acknowledged by the client).
    pub last_sent: Vec<u8>,
    /// AVP 28 Last Received LCP CONFREQ: what the client asked (the peer's options, acked by
    /// the LAC).
    pub last_received: Vec<u8>,
}

impl ProxyLcp {
    /// From the ICCN's AVP 26-28 values as an L2TP decoder holds them; `None` unless both
    /// AVP 27 and AVP 28 are present (without them there is nothing to reuse).
    pub fn from_avps(
        initial_received: Option<&[u8]>,
        last_sent: Option<&[u8]>,
        last_received: Option<&[u8]>,
    ) -> Option<Self> {
        Some(ProxyLcp {
            initial_received: initial_received.map(<[u8]>::to_vec),
            last_sent: last_sent?.to_vec(),
            last_received: last_received?.to_vec(),
        })
    }
}

/// AVP 29 Proxy Authen Type values (RFC 2661 §4.4.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxyAuthType {
    /// 1: textual username/password exchange.
    Textual,
    /// 2: PPP CHAP.
    Chap,
    /// 3: PPP PAP.
    Pap,
    /// 4: no authentication.
    None,
    /// 5: Microsoft CHAP version 1.
    MsChapV1,
    /// Any other value (0 is reserved).
    Other(u16),
}

impl ProxyAuthType {
    /// From the AVP value.
    pub fn from_u16(v: u16) -> Self {
        match v {
            1 => ProxyAuthType::Textual,
            2 => ProxyAuthType::Chap,
            3 => ProxyAuthType::Pap,
            4 => ProxyAuthType::None,
            5 => ProxyAuthType::MsChapV1,
            v => ProxyAuthType::Other(v),
        }
    }

    /// To the AVP value.
    pub fn to_u16(self) -> u16 {
        match self {
            ProxyAuthType::Textual => 1,
            ProxyAuthType::Chap => 2,
            ProxyAuthType::Pap => 3,
            ProxyAuthType::None => 4,
            ProxyAuthType::MsChapV1 => 5,
            ProxyAuthType::Other(v) => v,
        }
    }
}

/// AVPs 29-33: the authentication the LAC already performed with the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyAuth {
    /// AVP 29 Proxy Authen Type.
    pub auth_type: ProxyAuthType,
    /// AVP 30 Proxy Authen Name (the user name).
    pub name: Vec<u8>,
    /// AVP 31 Proxy Authen Challenge (CHAP only).
    pub challenge: Vec<u8>,
    /// AVP 32 Proxy Authen ID (the CHAP/PAP identifier; 16 bits on the wire, low octet used).
    pub id: u16,
    /// AVP 33 Proxy Authen Response: the CHAP response, or the PAP password in clear.
    pub response: Vec<u8>,
}

impl ProxyAuth {
    /// From the ICCN's AVP 29-33 values as an L2TP decoder holds them (absent ones empty).
    pub fn from_avps(
        auth_type: u16,
        name: Option<&[u8]>,
        challenge: Option<&[u8]>,
        id: Option<u16>,
        response: Option<&[u8]>,
    ) -> Self {
        ProxyAuth {
            auth_type: ProxyAuthType::from_u16(auth_type),
            name: name.unwrap_or_default().to_vec(),
            challenge: challenge.unwrap_or_default().to_vec(),
            id: id.unwrap_or(0),
            response: response.unwrap_or_default().to_vec(),
        }
    }
}
