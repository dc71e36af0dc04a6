//! What a call carries across ICRQ and ICCN (RFC 2661 §6.10, §6.12), including proxy LCP and
//! proxy authentication (§4.4.5) for the PPP layer.

use crate::avp::{Avp, AvpValue};
use crate::message::Message;

/// Proxy authentication done by the LAC (RFC 2661 §4.4.5, AVPs 29–33).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ProxyAuth {
    /// 1 text, 2 CHAP, 3 PAP, 4 none, 5 MS-CHAPv1.
    pub kind: u16,
    pub name: Option<Vec<u8>>,
    pub challenge: Option<Vec<u8>>,
    pub id: Option<u8>,
    pub response: Option<Vec<u8>>,
}

/// The parameters of an incoming call: the LAC sets them, the LNS receives them.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CallInfo {
    pub serial: u32,
    pub bearer_type: Option<u32>,
    pub physical_channel_id: Option<u32>,
    pub called_number: Option<Vec<u8>>,
    pub calling_number: Option<Vec<u8>>,
    pub sub_address: Option<Vec<u8>>,
    pub tx_connect_speed: Option<u32>,
    pub rx_connect_speed: Option<u32>,
    pub framing_type: Option<u32>,
    pub private_group_id: Option<Vec<u8>>,
    pub sequencing_required: bool,
    pub initial_received_lcp_confreq: Option<Vec<u8>>,
    pub last_sent_lcp_confreq: Option<Vec<u8>>,
    pub last_received_lcp_confreq: Option<Vec<u8>>,
    pub proxy_auth: Option<ProxyAuth>,
}

impl CallInfo {
    /// AVPs of an ICRQ (§6.10).
    pub(crate) fn icrq_avps(&self, out: &mut Vec<Avp>) {
        out.push(Avp::m(AvpValue::CallSerialNumber(self.serial)));
        if let Some(v) = self.bearer_type {
            out.push(Avp::m(AvpValue::BearerType(v)));
        }
        if let Some(v) = self.physical_channel_id {
            out.push(Avp::m(AvpValue::PhysicalChannelId(v)));
        }
        if let Some(v) = &self.called_number {
            out.push(Avp::m(AvpValue::CalledNumber(v.clone())));
        }
        if let Some(v) = &self.calling_number {
            out.push(Avp::m(AvpValue::CallingNumber(v.clone())));
        }
        if let Some(v) = &self.sub_address {
            out.push(Avp::m(AvpValue::SubAddress(v.clone())));
        }
    }

    /// AVPs of an ICCN (§6.12); `hide` marks the proxy authentication AVPs hidden
    /// (RFC 2661 §4.3 recommends hiding them).
    pub(crate) fn iccn_avps(&self, hide: bool, out: &mut Vec<Avp>) {
        out.push(Avp::m(AvpValue::TxConnectSpeed(
            self.tx_connect_speed.unwrap_or(10_000_000),
        )));
        out.push(Avp::m(AvpValue::FramingType(
            self.framing_type.unwrap_or(1),
        )));
        if let Some(v) = self.rx_connect_speed {
            out.push(Avp::opt(AvpValue::RxConnectSpeed(v)));
        }
        if let Some(v) = &self.private_group_id {
            out.push(Avp::opt(AvpValue::PrivateGroupId(v.clone())));
        }
        if self.sequencing_required {
            out.push(Avp::m(AvpValue::SequencingRequired));
        }
        if let Some(v) = &self.initial_received_lcp_confreq {
            out.push(Avp::opt(AvpValue::InitialReceivedLcpConfReq(v.clone())));
        }
        if let Some(v) = &self.last_sent_lcp_confreq {
            out.push(Avp::opt(AvpValue::LastSentLcpConfReq(v.clone())));
        }
        if let Some(v) = &self.last_received_lcp_confreq {
            out.push(Avp::opt(AvpValue::LastReceivedLcpConfReq(v.clone())));
        }
        if let Some(p) = &self.proxy_auth {
            let h = |a: Avp| if hide { a.hidden() } else { a };
            out.push(Avp::opt(AvpValue::ProxyAuthenType(p.kind)));
            if let Some(v) = &p.name {
                out.push(h(Avp::opt(AvpValue::ProxyAuthenName(v.clone()))));
            }
            if let Some(v) = &p.challenge {
                out.push(h(Avp::opt(AvpValue::ProxyAuthenChallenge(v.clone()))));
            }
            if let Some(v) = p.id {
                out.push(Avp::opt(AvpValue::ProxyAuthenId(v)));
            }
            if let Some(v) = &p.response {
                out.push(h(Avp::opt(AvpValue::ProxyAuthenResponse(v.clone()))));
            }
        }
    }

    /// Take every call AVP present in `msg` (ICRQ or ICCN) into `self`.
    pub(crate) fn absorb(&mut self, msg: &Message) {
        for a in &msg.avps {
            let proxy = || ProxyAuth::default();
            match &a.value {
                AvpValue::CallSerialNumber(v) => self.serial = *v,
                AvpValue::BearerType(v) => self.bearer_type = Some(*v),
                AvpValue::PhysicalChannelId(v) => self.physical_channel_id = Some(*v),
                AvpValue::CalledNumber(v) => self.called_number = Some(v.clone()),
                AvpValue::CallingNumber(v) => self.calling_number = Some(v.clone()),
                AvpValue::SubAddress(v) => self.sub_address = Some(v.clone()),
                AvpValue::TxConnectSpeed(v) => self.tx_connect_speed = Some(*v),
                AvpValue::RxConnectSpeed(v) => self.rx_connect_speed = Some(*v),
                AvpValue::FramingType(v) => self.framing_type = Some(*v),
                AvpValue::PrivateGroupId(v) => self.private_group_id = Some(v.clone()),
                AvpValue::SequencingRequired => self.sequencing_required = true,
                AvpValue::InitialReceivedLcpConfReq(v) => {
                    self.initial_received_lcp_confreq = Some(v.clone())
                }
                AvpValue::LastSentLcpConfReq(v) => self.last_sent_lcp_confreq = Some(v.clone()),
                AvpValue::LastReceivedLcpConfReq(v) => {
                    self.last_received_lcp_confreq = Some(v.clone())
                }
                AvpValue::ProxyAuthenType(v) => self.proxy_auth.get_or_insert_with(proxy).kind = *v,
                AvpValue::ProxyAuthenName(v) => {
                    self.proxy_auth.get_or_insert_with(proxy).name = Some(v.clone())
                }
                AvpValue::ProxyAuthenChallenge(v) => {
                    self.proxy_auth.get_or_insert_with(proxy).challenge = Some(v.clone())
                }
                AvpValue::ProxyAuthenId(v) => {
                    self.proxy_auth.get_or_insert_with(proxy).id = Some(*v)
                }
                AvpValue::ProxyAuthenResponse(v) => {
                    self.proxy_auth.get_or_insert_with(proxy).response = Some(v.clone())
                }
                _ => {}
            }
        }
    }
}
