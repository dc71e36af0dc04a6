//! Messages of the generic netlink family `IPVS`, as laid out in linux
//! `include/uapi/linux/ip_vs.h` (IPVS_CMD_*, IPVS_CMD_ATTR_*, IPVS_SVC_ATTR_*, IPVS_DEST_ATTR_*).
//!
//! Requests are built the way ipvsadm's libipvs builds them (a nested service, and for real-server
//! commands a nested dest, without NLA_F_NESTED); replies of dumps are decoded into table entries.

use netlink_packet_core::{
    parse_string, parse_u16, parse_u16_be, parse_u32, DecodeError, DefaultNla, Emitable, Nla,
    NlaBuffer, NlasIterator, Parseable, ParseableParametrized,
};
use netlink_packet_generic::{GenlFamily, GenlHeader};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::table::{DestKey, DestSpec, Forward, Protocol, ServiceKey};

pub const IPVS_GENL_NAME: &str = "IPVS";
pub const IPVS_GENL_VERSION: u8 = 1;

pub const IPVS_CMD_NEW_SERVICE: u8 = 1;
pub const IPVS_CMD_SET_SERVICE: u8 = 2;
pub const IPVS_CMD_DEL_SERVICE: u8 = 3;
pub const IPVS_CMD_GET_SERVICE: u8 = 4;
pub const IPVS_CMD_NEW_DEST: u8 = 5;
pub const IPVS_CMD_SET_DEST: u8 = 6;
pub const IPVS_CMD_DEL_DEST: u8 = 7;
pub const IPVS_CMD_GET_DEST: u8 = 8;

const IPVS_CMD_ATTR_SERVICE: u16 = 1;
const IPVS_CMD_ATTR_DEST: u16 = 2;

const IPVS_SVC_ATTR_AF: u16 = 1;
const IPVS_SVC_ATTR_PROTOCOL: u16 = 2;
const IPVS_SVC_ATTR_ADDR: u16 = 3;
const IPVS_SVC_ATTR_PORT: u16 = 4;
const IPVS_SVC_ATTR_FWMARK: u16 = 5;
const IPVS_SVC_ATTR_SCHED_NAME: u16 = 6;
const IPVS_SVC_ATTR_FLAGS: u16 = 7;
const IPVS_SVC_ATTR_TIMEOUT: u16 = 8;
const IPVS_SVC_ATTR_NETMASK: u16 = 9;

const IPVS_DEST_ATTR_ADDR: u16 = 1;
const IPVS_DEST_ATTR_PORT: u16 = 2;
const IPVS_DEST_ATTR_FWD_METHOD: u16 = 3;
const IPVS_DEST_ATTR_WEIGHT: u16 = 4;
const IPVS_DEST_ATTR_U_THRESH: u16 = 5;
const IPVS_DEST_ATTR_L_THRESH: u16 = 6;
const IPVS_DEST_ATTR_ADDR_FAMILY: u16 = 11;

const AF_INET: u16 = 2;
const AF_INET6: u16 = 10;

/// Attributes of a virtual service (IPVS_SVC_ATTR_*).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SvcAttr {
    Af(u16),
    Protocol(u16),
    /// `union nf_inet_addr`: 16 bytes, an IPv4 address in the first 4.
    Addr([u8; 16]),
    /// Host order here; network order on the wire.
    Port(u16),
    Fwmark(u32),
    SchedName(String),
    /// `struct ip_vs_flags { flags, mask }`.
    Flags {
        flags: u32,
        mask: u32,
    },
    Timeout(u32),
    Netmask(u32),
    Other(DefaultNla),
}

/// Attributes of a real server (IPVS_DEST_ATTR_*).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DestAttr {
    Addr([u8; 16]),
    Port(u16),
    FwdMethod(u32),
    Weight(u32),
    UThresh(u32),
    LThresh(u32),
    AddrFamily(u16),
    Other(DefaultNla),
}

/// Top-level attributes (IPVS_CMD_ATTR_*).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CmdAttr {
    Service(Vec<SvcAttr>),
    Dest(Vec<DestAttr>),
    Other(DefaultNla),
}

/// The payload of one IPVS generic netlink message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpvsMessage {
    pub cmd: u8,
    pub attrs: Vec<CmdAttr>,
}

fn addr_bytes(addr: IpAddr) -> [u8; 16] {
    let mut out = [0u8; 16];
    match addr {
        IpAddr::V4(a) => out[..4].copy_from_slice(&a.octets()),
        IpAddr::V6(a) => out = a.octets(),
    }
    out
}

fn af_of(addr: IpAddr) -> u16 {
    if addr.is_ipv4() {
        AF_INET
    } else {
        AF_INET6
    }
}

impl Nla for SvcAttr {
    fn value_len(&self) -> usize {
        match self {
            SvcAttr::Af(_) | SvcAttr::Protocol(_) | SvcAttr::Port(_) => 2,
            SvcAttr::Addr(_) => 16,
            SvcAttr::Fwmark(_) | SvcAttr::Timeout(_) | SvcAttr::Netmask(_) => 4,
            SvcAttr::SchedName(s) => s.len() + 1,
            SvcAttr::Flags { .. } => 8,
            SvcAttr::Other(nla) => nla.value_len(),
        }
    }

    fn kind(&self) -> u16 {
        match self {
            SvcAttr::Af(_) => IPVS_SVC_ATTR_AF,
            SvcAttr::Protocol(_) => IPVS_SVC_ATTR_PROTOCOL,
            SvcAttr::Addr(_) => IPVS_SVC_ATTR_ADDR,
            SvcAttr::Port(_) => IPVS_SVC_ATTR_PORT,
            SvcAttr::Fwmark(_) => IPVS_SVC_ATTR_FWMARK,
            SvcAttr::SchedName(_) => IPVS_SVC_ATTR_SCHED_NAME,
            SvcAttr::Flags { .. } => IPVS_SVC_ATTR_FLAGS,
            SvcAttr::Timeout(_) => IPVS_SVC_ATTR_TIMEOUT,
            SvcAttr::Netmask(_) => IPVS_SVC_ATTR_NETMASK,
            SvcAttr::Other(nla) => nla.kind(),
        }
    }

    fn emit_value(&self, buf: &mut [u8]) {
        match self {
            SvcAttr::Af(v) | SvcAttr::Protocol(v) => buf[..2].copy_from_slice(&v.to_ne_bytes()),
            SvcAttr::Port(v) => buf[..2].copy_from_slice(&v.to_be_bytes()),
            SvcAttr::Addr(a) => buf[..16].copy_from_slice(a),
            SvcAttr::Fwmark(v) | SvcAttr::Timeout(v) | SvcAttr::Netmask(v) => {
                buf[..4].copy_from_slice(&v.to_ne_bytes())
            }
            SvcAttr::SchedName(s) => {
                buf[..s.len()].copy_from_slice(s.as_bytes());
                buf[s.len()] = 0;
            }
            SvcAttr::Flags { flags, mask } => {
                buf[..4].copy_from_slice(&flags.to_ne_bytes());
                buf[4..8].copy_from_slice(&mask.to_ne_bytes());
            }
            SvcAttr::Other(nla) => nla.emit_value(buf),
        }
    }
}

impl Nla for DestAttr {
    fn value_len(&self) -> usize {
        match self {
            DestAttr::Port(_) | DestAttr::AddrFamily(_) => 2,
            DestAttr::Addr(_) => 16,
            DestAttr::FwdMethod(_)
            | DestAttr::Weight(_)
            | DestAttr::UThresh(_)
            | DestAttr::LThresh(_) => 4,
            DestAttr::Other(nla) => nla.value_len(),
        }
    }

    fn kind(&self) -> u16 {
        match self {
            DestAttr::Addr(_) => IPVS_DEST_ATTR_ADDR,
            DestAttr::Port(_) => IPVS_DEST_ATTR_PORT,
            DestAttr::FwdMethod(_) => IPVS_DEST_ATTR_FWD_METHOD,
            DestAttr::Weight(_) => IPVS_DEST_ATTR_WEIGHT,
            DestAttr::UThresh(_) => IPVS_DEST_ATTR_U_THRESH,
            DestAttr::LThresh(_) => IPVS_DEST_ATTR_L_THRESH,
            DestAttr::AddrFamily(_) => IPVS_DEST_ATTR_ADDR_FAMILY,
            DestAttr::Other(nla) => nla.kind(),
        }
    }

    fn emit_value(&self, buf: &mut [u8]) {
        match self {
            DestAttr::Port(v) => buf[..2].copy_from_slice(&v.to_be_bytes()),
            DestAttr::AddrFamily(v) => buf[..2].copy_from_slice(&v.to_ne_bytes()),
            DestAttr::Addr(a) => buf[..16].copy_from_slice(a),
            DestAttr::FwdMethod(v)
            | DestAttr::Weight(v)
            | DestAttr::UThresh(v)
            | DestAttr::LThresh(v) => buf[..4].copy_from_slice(&v.to_ne_bytes()),
            DestAttr::Other(nla) => nla.emit_value(buf),
        }
    }
}

impl Nla for CmdAttr {
    fn value_len(&self) -> usize {
        match self {
            CmdAttr::Service(a) => a.as_slice().buffer_len(),
            CmdAttr::Dest(a) => a.as_slice().buffer_len(),
            CmdAttr::Other(nla) => nla.value_len(),
        }
    }

    fn kind(&self) -> u16 {
        match self {
            CmdAttr::Service(_) => IPVS_CMD_ATTR_SERVICE,
            CmdAttr::Dest(_) => IPVS_CMD_ATTR_DEST,
            CmdAttr::Other(nla) => nla.kind(),
        }
    }

    fn emit_value(&self, buf: &mut [u8]) {
        match self {
            CmdAttr::Service(a) => a.as_slice().emit(buf),
            CmdAttr::Dest(a) => a.as_slice().emit(buf),
            CmdAttr::Other(nla) => nla.emit_value(buf),
        }
    }
}

impl GenlFamily for IpvsMessage {
    fn family_name() -> &'static str {
        IPVS_GENL_NAME
    }

    fn command(&self) -> u8 {
        self.cmd
    }

    fn version(&self) -> u8 {
        IPVS_GENL_VERSION
    }
}

impl Emitable for IpvsMessage {
    fn buffer_len(&self) -> usize {
        self.attrs.as_slice().buffer_len()
    }

    fn emit(&self, buffer: &mut [u8]) {
        self.attrs.as_slice().emit(buffer)
    }
}

fn parse_addr(v: &[u8]) -> Result<[u8; 16], DecodeError> {
    let mut out = [0u8; 16];
    match v.len() {
        4 | 16 => out[..v.len()].copy_from_slice(v),
        n => return Err(DecodeError::from(format!("address attribute of {n} bytes"))),
    }
    Ok(out)
}

fn parse_svc_attr(nla: &NlaBuffer<&[u8]>) -> Result<SvcAttr, DecodeError> {
    let v = nla.value();
    Ok(match nla.kind() {
        IPVS_SVC_ATTR_AF => SvcAttr::Af(parse_u16(v)?),
        IPVS_SVC_ATTR_PROTOCOL => SvcAttr::Protocol(parse_u16(v)?),
        IPVS_SVC_ATTR_ADDR => SvcAttr::Addr(parse_addr(v)?),
        IPVS_SVC_ATTR_PORT => SvcAttr::Port(parse_u16_be(v)?),
        IPVS_SVC_ATTR_FWMARK => SvcAttr::Fwmark(parse_u32(v)?),
        IPVS_SVC_ATTR_SCHED_NAME => SvcAttr::SchedName(parse_string(v)?),
        IPVS_SVC_ATTR_FLAGS if v.len() >= 8 => SvcAttr::Flags {
            flags: parse_u32(&v[..4])?,
            mask: parse_u32(&v[4..8])?,
        },
        IPVS_SVC_ATTR_TIMEOUT => SvcAttr::Timeout(parse_u32(v)?),
        IPVS_SVC_ATTR_NETMASK => SvcAttr::Netmask(parse_u32(v)?),
        _ => SvcAttr::Other(DefaultNla::parse(nla)?),
    })
}

fn parse_dest_attr(nla: &NlaBuffer<&[u8]>) -> Result<DestAttr, DecodeError> {
    let v = nla.value();
    Ok(match nla.kind() {
        IPVS_DEST_ATTR_ADDR => DestAttr::Addr(parse_addr(v)?),
        IPVS_DEST_ATTR_PORT => DestAttr::Port(parse_u16_be(v)?),
        IPVS_DEST_ATTR_FWD_METHOD => DestAttr::FwdMethod(parse_u32(v)?),
        IPVS_DEST_ATTR_WEIGHT => DestAttr::Weight(parse_u32(v)?),
        IPVS_DEST_ATTR_U_THRESH => DestAttr::UThresh(parse_u32(v)?),
        IPVS_DEST_ATTR_L_THRESH => DestAttr::LThresh(parse_u32(v)?),
        IPVS_DEST_ATTR_ADDR_FAMILY => DestAttr::AddrFamily(parse_u16(v)?),
        _ => DestAttr::Other(DefaultNla::parse(nla)?),
    })
}

fn parse_nested<T>(
    buf: &[u8],
    one: fn(&NlaBuffer<&[u8]>) -> Result<T, DecodeError>,
) -> Result<Vec<T>, DecodeError> {
    NlasIterator::new(buf).map(|nla| one(&nla?)).collect()
}

impl ParseableParametrized<[u8], GenlHeader> for IpvsMessage {
    fn parse_with_param(buf: &[u8], header: GenlHeader) -> Result<Self, DecodeError> {
        let mut attrs = Vec::new();
        for nla in NlasIterator::new(buf) {
            let nla = nla?;
            // Mask NLA_F_NESTED / NLA_F_NET_BYTEORDER: the kernel may set them.
            attrs.push(match nla.kind() & netlink_packet_core::NLA_TYPE_MASK {
                IPVS_CMD_ATTR_SERVICE => {
                    CmdAttr::Service(parse_nested(nla.value(), parse_svc_attr)?)
                }
                IPVS_CMD_ATTR_DEST => CmdAttr::Dest(parse_nested(nla.value(), parse_dest_attr)?),
                _ => CmdAttr::Other(DefaultNla::parse(&nla)?),
            });
        }
        Ok(IpvsMessage {
            cmd: header.cmd,
            attrs,
        })
    }
}

/// The identifying attributes of a service (what DEL_SERVICE and the dest commands need).
fn service_id(key: &ServiceKey) -> Vec<SvcAttr> {
    vec![
        SvcAttr::Af(af_of(key.addr)),
        SvcAttr::Protocol(key.protocol.number()),
        SvcAttr::Addr(addr_bytes(key.addr)),
        SvcAttr::Port(key.port),
    ]
}

/// A full service entry, as NEW_SERVICE and SET_SERVICE require (ip_vs_genl_parse_service with
/// full_entry: scheduler, flags, timeout and netmask must all be present).
fn service_full(key: &ServiceKey, scheduler: &str) -> Vec<SvcAttr> {
    let mut attrs = service_id(key);
    attrs.push(SvcAttr::SchedName(scheduler.to_owned()));
    // No persistence, one-packet or scheduler flags: set all bits to 0.
    attrs.push(SvcAttr::Flags {
        flags: 0,
        mask: u32::MAX,
    });
    attrs.push(SvcAttr::Timeout(0));
    attrs.push(SvcAttr::Netmask(if key.addr.is_ipv4() {
        u32::MAX
    } else {
        128
    }));
    attrs
}

/// A full dest entry (ip_vs_genl_parse_dest with full_entry).
fn dest_full(dest: &DestKey, spec: &DestSpec) -> Vec<DestAttr> {
    vec![
        DestAttr::Addr(addr_bytes(dest.addr)),
        DestAttr::Port(dest.port),
        DestAttr::FwdMethod(spec.forward.kernel_value()),
        DestAttr::Weight(spec.weight),
        DestAttr::UThresh(0),
        DestAttr::LThresh(0),
        DestAttr::AddrFamily(af_of(dest.addr)),
    ]
}

impl IpvsMessage {
    pub fn get_services() -> Self {
        IpvsMessage {
            cmd: IPVS_CMD_GET_SERVICE,
            attrs: vec![],
        }
    }

    pub fn get_dests(service: &ServiceKey) -> Self {
        IpvsMessage {
            cmd: IPVS_CMD_GET_DEST,
            attrs: vec![CmdAttr::Service(service_id(service))],
        }
    }

    pub fn new_service(service: &ServiceKey, scheduler: &str) -> Self {
        IpvsMessage {
            cmd: IPVS_CMD_NEW_SERVICE,
            attrs: vec![CmdAttr::Service(service_full(service, scheduler))],
        }
    }

    pub fn set_service(service: &ServiceKey, scheduler: &str) -> Self {
        IpvsMessage {
            cmd: IPVS_CMD_SET_SERVICE,
            attrs: vec![CmdAttr::Service(service_full(service, scheduler))],
        }
    }

    pub fn del_service(service: &ServiceKey) -> Self {
        IpvsMessage {
            cmd: IPVS_CMD_DEL_SERVICE,
            attrs: vec![CmdAttr::Service(service_id(service))],
        }
    }

    pub fn new_dest(service: &ServiceKey, dest: &DestKey, spec: &DestSpec) -> Self {
        IpvsMessage {
            cmd: IPVS_CMD_NEW_DEST,
            attrs: vec![
                CmdAttr::Service(service_id(service)),
                CmdAttr::Dest(dest_full(dest, spec)),
            ],
        }
    }

    pub fn set_dest(service: &ServiceKey, dest: &DestKey, spec: &DestSpec) -> Self {
        IpvsMessage {
            cmd: IPVS_CMD_SET_DEST,
            attrs: vec![
                CmdAttr::Service(service_id(service)),
                CmdAttr::Dest(dest_full(dest, spec)),
            ],
        }
    }

    pub fn del_dest(service: &ServiceKey, dest: &DestKey) -> Self {
        IpvsMessage {
            cmd: IPVS_CMD_DEL_DEST,
            attrs: vec![
                CmdAttr::Service(service_id(service)),
                CmdAttr::Dest(vec![
                    DestAttr::Addr(addr_bytes(dest.addr)),
                    DestAttr::Port(dest.port),
                    DestAttr::AddrFamily(af_of(dest.addr)),
                ]),
            ],
        }
    }
}

fn to_ip(af: u16, bytes: &[u8; 16]) -> Result<IpAddr, DecodeError> {
    match af {
        AF_INET => Ok(IpAddr::V4(Ipv4Addr::new(
            bytes[0], bytes[1], bytes[2], bytes[3],
        ))),
        AF_INET6 => Ok(IpAddr::V6(Ipv6Addr::from(*bytes))),
        other => Err(DecodeError::from(format!("unknown address family {other}"))),
    }
}

/// A virtual service as dumped by GET_SERVICE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DumpedService {
    /// A TCP/UDP service on an address: something iptoip could own.
    Addressed { key: ServiceKey, scheduler: String },
    /// A firewall-mark or other-protocol (SCTP) service: never iptoip's, only reported.
    Other,
}

/// Decode the service of one GET_SERVICE reply.
pub fn decode_service(msg: &IpvsMessage) -> Result<DumpedService, DecodeError> {
    let attrs = msg
        .attrs
        .iter()
        .find_map(|a| match a {
            CmdAttr::Service(s) => Some(s),
            _ => None,
        })
        .ok_or_else(|| DecodeError::from("service reply without IPVS_CMD_ATTR_SERVICE"))?;
    let (mut af, mut proto, mut addr, mut port, mut sched, mut fwmark) =
        (None, None, None, None, None, None);
    for a in attrs {
        match a {
            SvcAttr::Af(v) => af = Some(*v),
            SvcAttr::Protocol(v) => proto = Some(*v),
            SvcAttr::Addr(v) => addr = Some(*v),
            SvcAttr::Port(v) => port = Some(*v),
            SvcAttr::SchedName(v) => sched = Some(v.clone()),
            SvcAttr::Fwmark(v) => fwmark = Some(*v),
            _ => {}
        }
    }
    if fwmark.is_some_and(|m| m != 0) {
        return Ok(DumpedService::Other);
    }
    let af = af.ok_or_else(|| DecodeError::from("service without address family"))?;
    let proto = proto.ok_or_else(|| DecodeError::from("service without protocol or fwmark"))?;
    let Some(protocol) = Protocol::from_number(proto) else {
        return Ok(DumpedService::Other);
    };
    let addr = addr.ok_or_else(|| DecodeError::from("service without address"))?;
    let port = port.ok_or_else(|| DecodeError::from("service without port"))?;
    Ok(DumpedService::Addressed {
        key: ServiceKey {
            protocol,
            addr: to_ip(af, &addr)?,
            port,
        },
        scheduler: sched.unwrap_or_default(),
    })
}

/// Decode the real server of one GET_DEST reply; `service_af` is the family of its service,
/// used when the kernel predates IPVS_DEST_ATTR_ADDR_FAMILY (Linux < 3.18).
pub fn decode_dest(
    msg: &IpvsMessage,
    service_af: IpAddr,
) -> Result<(DestKey, DestSpec), DecodeError> {
    let attrs = msg
        .attrs
        .iter()
        .find_map(|a| match a {
            CmdAttr::Dest(d) => Some(d),
            _ => None,
        })
        .ok_or_else(|| DecodeError::from("dest reply without IPVS_CMD_ATTR_DEST"))?;
    let (mut addr, mut port, mut fwd, mut weight, mut af) = (None, None, None, None, None);
    for a in attrs {
        match a {
            DestAttr::Addr(v) => addr = Some(*v),
            DestAttr::Port(v) => port = Some(*v),
            DestAttr::FwdMethod(v) => fwd = Some(*v),
            DestAttr::Weight(v) => weight = Some(*v),
            DestAttr::AddrFamily(v) => af = Some(*v),
            _ => {}
        }
    }
    let af = af.unwrap_or(af_of(service_af));
    let addr = addr.ok_or_else(|| DecodeError::from("dest without address"))?;
    let port = port.ok_or_else(|| DecodeError::from("dest without port"))?;
    Ok((
        DestKey {
            addr: to_ip(af, &addr)?,
            port,
        },
        DestSpec {
            forward: Forward::from_kernel_value(fwd.unwrap_or(0)),
            weight: weight.ok_or_else(|| DecodeError::from("dest without weight"))?,
        },
    ))
}

#[cfg(test)]
mod tests;
