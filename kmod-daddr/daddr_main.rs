// SPDX-License-Identifier: GPL-2.0-only

//! xt_DADDR: the DADDR xtables target (L3DSR real server side). Rewrites the destination of
//! matching IPv4/IPv6 packets and keeps every checksum right.
//!
//! This is the module's only Rust crate root. The rewrite, checksum and rule-check logic is the
//! `daddr-core` crate's source, compiled in through `#[path]` modules (kernel Rust takes no
//! external crates), so what `cargo test -p daddr-core` checks is what runs here. The C shim
//! (`daddr_shim.c`) registers the xt targets and calls the `daddr_rust_*` functions below.

use kernel::ffi::{c_char, c_int};
use core::sync::atomic::{AtomicU8, Ordering};
use kernel::prelude::*;

#[path = "daddr_core/checkentry.rs"]
pub mod checkentry;
#[path = "daddr_core/rewrite/mod.rs"]
pub mod rewrite;

use checkentry::{Family, Refusal, Tables};
use rewrite::{CsumMode, PacketMeta, SkbCsum, Verdict};

module! {
    type: XtDaddr,
    name: "xt_DADDR",
    author: "netedge",
    description: "Xtables: destination address rewrite for L3DSR (DADDR target)",
    license: "GPL",
}

/// `NFPROTO_IPV4` / `NFPROTO_IPV6` (`include/uapi/linux/netfilter.h`).
const NFPROTO_IPV4: u8 = 2;
const NFPROTO_IPV6: u8 = 10;

/// Values of `enum daddr_verdict` / `enum daddr_check` in `daddr_shim.h`.
const DADDR_CONTINUE: u32 = 0;
const DADDR_DROP: u32 = 1;
const DADDR_CHECK_OK: u32 = 0;
const DADDR_CHECK_TABLE: u32 = 1;
const DADDR_CHECK_UNSPECIFIED: u32 = 2;
const DADDR_CHECK_MULTICAST: u32 = 3;

/// `struct daddr_csum_state` in `daddr_shim.h`.
#[repr(C)]
pub struct DaddrCsumState {
    ip_summed: u8,
    csum: u32,
}

extern "C" {
    fn daddr_shim_register() -> c_int;
    fn daddr_shim_unregister();
    fn daddr_shim_table_param() -> *const c_char;
}

const fn nul_terminated<const N: usize>(s: &str) -> [u8; N] {
    let mut out = [0u8; N];
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        out[i] = b[i];
        i += 1;
    }
    out
}

/// The bytes of the NUL-terminated C string at `ptr`, without the NUL.
///
/// Not `CStr::from_char_ptr`: its inlined `strlen() + 1` carries an overflow check, a call to
/// `core::panicking` in this object (kmod-daddr/check-object.sh refuses any).
///
/// # Safety
/// `ptr` points to a NUL-terminated string that is valid and unchanged for `'a`.
unsafe fn c_bytes<'a>(ptr: *const c_char) -> &'a [u8] {
    // SAFETY: guaranteed by the caller; `strlen` counts the bytes before the NUL.
    unsafe { core::slice::from_raw_parts(ptr.cast::<u8>(), kernel::bindings::strlen(ptr)) }
}

/// Default of the C `table` parameter: one definition, in `daddr-core`.
#[no_mangle]
#[allow(non_upper_case_globals)]
pub static daddr_default_tables: [u8; checkentry::DEFAULT_TABLE_PARAM.len() + 1] =
    nul_terminated(checkentry::DEFAULT_TABLE_PARAM);

/// Bytes of transport header the shim makes writable.
#[no_mangle]
#[allow(non_upper_case_globals)]
pub static daddr_l4_window: u32 = rewrite::l4::L4_WINDOW as u32;

/// Allowed tables (bit 0 raw, bit 1 mangle), set once in `init` before registration.
static ALLOWED: AtomicU8 = AtomicU8::new(0);

fn allowed() -> Tables {
    let bits = ALLOWED.load(Ordering::Relaxed);
    Tables {
        raw: bits & 1 != 0,
        mangle: bits & 2 != 0,
    }
}

/// Rewrite one packet. Called by the shim's target function for every packet.
///
/// # Safety
/// `hdr` points to `len` writable bytes starting at the network header, `daddr` to 16 readable
/// bytes and `cs` to a valid state; none of them is used after return.
#[no_mangle]
pub unsafe extern "C" fn daddr_rust_rewrite(
    family: u8,
    hdr: *mut u8,
    len: u32,
    thoff: u32,
    fragoff: u16,
    daddr: *const u8,
    cs: *mut DaddrCsumState,
) -> u32 {
    // SAFETY: guaranteed by the caller (see above).
    let (pkt, new, cs) = unsafe {
        (
            core::slice::from_raw_parts_mut(hdr, len as usize),
            &*daddr.cast::<[u8; 16]>(),
            &mut *cs,
        )
    };
    let mode = match cs.ip_summed {
        0 => CsumMode::None,
        1 => CsumMode::Unnecessary,
        2 => CsumMode::Complete,
        3 => CsumMode::Partial,
        _ => return DADDR_DROP,
    };
    let mut skb = SkbCsum {
        mode,
        csum: cs.csum,
    };
    let meta = PacketMeta {
        thoff: thoff as usize,
        fragoff,
    };
    let outcome = match family {
        NFPROTO_IPV4 => rewrite::rewrite_v4(pkt, meta, [new[0], new[1], new[2], new[3]], &mut skb),
        NFPROTO_IPV6 => rewrite::rewrite_v6(pkt, meta, *new, &mut skb),
        _ => return DADDR_DROP,
    };
    cs.csum = skb.csum;
    match outcome.verdict() {
        Verdict::Continue => DADDR_CONTINUE,
        Verdict::Drop => DADDR_DROP,
    }
}

/// `checkentry` policy for a new rule in `table`.
///
/// # Safety
/// `daddr` points to 16 readable bytes and `table` to a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn daddr_rust_checkentry(
    family: u8,
    daddr: *const u8,
    table: *const c_char,
) -> u32 {
    // SAFETY: guaranteed by the caller (see above).
    let (addr, table) = unsafe { (&*daddr.cast::<[u8; 16]>(), c_bytes(table)) };
    let family = match family {
        NFPROTO_IPV4 => Family::Ipv4,
        NFPROTO_IPV6 => Family::Ipv6,
        _ => return DADDR_CHECK_TABLE,
    };
    match checkentry::check(allowed(), table, family, addr) {
        Ok(()) => DADDR_CHECK_OK,
        Err(Refusal::Table) => DADDR_CHECK_TABLE,
        Err(Refusal::UnspecifiedAddress) => DADDR_CHECK_UNSPECIFIED,
        Err(Refusal::MulticastAddress) => DADDR_CHECK_MULTICAST,
    }
}

/// The allowed tables in words, for the shim's refusal message.
#[no_mangle]
pub extern "C" fn daddr_rust_allowed_tables() -> *const c_char {
    let text: &'static CStr = match (allowed().raw, allowed().mangle) {
        (true, true) => kernel::c_str!("raw or mangle"),
        (true, false) => kernel::c_str!("raw"),
        (false, true) => kernel::c_str!("mangle"),
        (false, false) => kernel::c_str!("no"),
    };
    text.as_char_ptr()
}

struct XtDaddr;

impl kernel::Module for XtDaddr {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        // SAFETY: the shim returns its charp parameter: a NUL-terminated string that lives as
        // long as the module and is read-only after load (mode 0444).
        let param = unsafe { c_bytes(daddr_shim_table_param()) };
        let Some(tables) = checkentry::parse_table_param(param) else {
            pr_err!(
                "table={}: must be raw, mangle or raw,mangle\n",
                kernel::str::BStr::from_bytes(param)
            );
            return Err(EINVAL);
        };
        ALLOWED.store(
            u8::from(tables.raw) | (u8::from(tables.mangle) << 1),
            Ordering::Relaxed,
        );
        // SAFETY: called once; paired with `daddr_shim_unregister` in `drop`.
        kernel::error::to_result(unsafe { daddr_shim_register() })?;
        Ok(XtDaddr)
    }
}

impl Drop for XtDaddr {
    fn drop(&mut self) {
        // SAFETY: registration succeeded in `init`.
        unsafe { daddr_shim_unregister() };
    }
}
