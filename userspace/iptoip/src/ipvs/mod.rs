//! IPVS over generic netlink: resolve the `IPVS` family, dump the table, apply operations.

pub mod message;

use netlink_packet_core::Emitable;
use netlink_packet_generic::ctrl::nlas::GenlCtrlAttrs;
use netlink_packet_generic::ctrl::{GenlCtrl, GenlCtrlCmd};
use netlink_packet_generic::GenlMessage;
use netlink_sys::protocols::NETLINK_GENERIC;

use crate::diff::Op;
use crate::netlink::{Conn, NetlinkError};
use crate::table::{ServiceSpec, Table};
use message::{decode_dest, decode_service, DumpedService, IpvsMessage, IPVS_GENL_NAME};

/// A connection to the kernel's IPVS.
pub struct Ipvs {
    conn: Conn,
    family: u16,
}

/// The current table, and how many services iptoip cannot manage (fwmark, SCTP), for reports.
pub struct Dump {
    pub table: Table,
    pub unmanageable: usize,
}

impl Ipvs {
    /// Connect; `Ok(None)` when the kernel has no `IPVS` family (ip_vs not loaded and not
    /// loadable). Resolving the family makes the kernel try to load ip_vs on demand.
    pub fn connect() -> Result<Option<Ipvs>, NetlinkError> {
        let mut conn = Conn::open(NETLINK_GENERIC)?;
        let req = GenlMessage::from_payload(GenlCtrl {
            cmd: GenlCtrlCmd::GetFamily,
            nlas: vec![GenlCtrlAttrs::FamilyName(IPVS_GENL_NAME.to_owned())],
        });
        let replies = match conn.request(req, false) {
            Ok(r) => r,
            Err(e) if e.errno() == Some(ENOENT) => return Ok(None),
            Err(e) => return Err(e),
        };
        let family = replies
            .iter()
            .flat_map(|m| m.payload.nlas.iter())
            .find_map(|a| match a {
                GenlCtrlAttrs::FamilyId(id) => Some(*id),
                _ => None,
            })
            .ok_or_else(|| NetlinkError::Decode("CTRL_CMD_GETFAMILY reply without id".into()))?;
        Ok(Some(Ipvs { conn, family }))
    }

    fn request(&mut self, msg: IpvsMessage, dump: bool) -> Result<Vec<IpvsMessage>, NetlinkError> {
        let mut genl = GenlMessage::from_payload(msg);
        genl.set_resolved_family_id(self.family);
        let replies = self.conn.request(genl, dump)?;
        Ok(replies.into_iter().map(|m| m.payload).collect())
    }

    /// Dump every TCP/UDP virtual service with its real servers.
    pub fn dump(&mut self) -> Result<Dump, NetlinkError> {
        let mut table = Table::new();
        let mut unmanageable = 0;
        for reply in self.request(IpvsMessage::get_services(), true)? {
            match decode_service(&reply).map_err(|e| NetlinkError::Decode(e.to_string()))? {
                DumpedService::Other => unmanageable += 1,
                DumpedService::Addressed { key, scheduler } => {
                    table.insert(
                        key,
                        ServiceSpec {
                            scheduler,
                            dests: Default::default(),
                        },
                    );
                }
            }
        }
        let keys: Vec<_> = table.keys().copied().collect();
        for key in keys {
            let replies = match self.request(IpvsMessage::get_dests(&key), true) {
                Ok(r) => r,
                // Deleted between the two dumps: it is simply not there any more.
                Err(e) if e.errno() == Some(ESRCH) => {
                    table.remove(&key);
                    continue;
                }
                Err(e) => return Err(e),
            };
            let svc = table.get_mut(&key).expect("key taken from the table");
            for reply in replies {
                let (dest, spec) = decode_dest(&reply, key.addr)
                    .map_err(|e| NetlinkError::Decode(e.to_string()))?;
                svc.dests.insert(dest, spec);
            }
        }
        Ok(Dump {
            table,
            unmanageable,
        })
    }

    /// Carry out one operation.
    pub fn execute(&mut self, op: &Op) -> Result<(), NetlinkError> {
        let msg = match op {
            Op::AddService { service, scheduler } => IpvsMessage::new_service(service, scheduler),
            Op::EditService { service, scheduler } => IpvsMessage::set_service(service, scheduler),
            Op::DelService { service } => IpvsMessage::del_service(service),
            Op::AddDest {
                service,
                dest,
                spec,
            } => IpvsMessage::new_dest(service, dest, spec),
            Op::EditDest {
                service,
                dest,
                spec,
            } => IpvsMessage::set_dest(service, dest, spec),
            Op::DelDest { service, dest } => IpvsMessage::del_dest(service, dest),
        };
        debug_assert!(msg.buffer_len() > 0);
        self.request(msg, false).map(|_| ())
    }
}

/// errno of CTRL_CMD_GETFAMILY for an unknown family.
const ENOENT: i32 = 2;
/// errno of IPVS for a service that does not exist.
const ESRCH: i32 = 3;
