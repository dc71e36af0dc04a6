//! `libxt_DADDR.so`: the iptables (`ip6tables`, `iptables-nft`) extension for the DADDR target.
//!
//! ```text
//! iptables -t raw -A PREROUTING -m dscp --dscp 1 -j DADDR --set-daddr=72.30.38.140
//! ```
//!
//! Help, print (`DADDR set ADDR`), save (`--set-daddr ADDR`) and error texts are byte-identical
//! to the original C extension (Yahoo L3DSR `libxt_DADDR.c`), because operators' tools parse
//! `iptables -L -n` output. The target data is the kernel module's ABI: a 16-byte
//! `union nf_inet_addr` holding the new destination.
//!
//! libxtables contract (iptables `xtables.h`): the extension registers itself from an ELF
//! constructor when libxtables `dlopen`s it; the `struct xtables_target` entries must live for
//! the whole process and be writable (libxtables links them into its lists); the version
//! string must equal `XTABLES_VERSION` or libxtables exits; output goes through C stdio, because
//! iptables prints the rest of each rule with buffered `printf`.
#![allow(non_snake_case)] // the library must be called libxt_DADDR.so

mod ffi;
mod target;

/// Run by the dynamic loader when libxtables `dlopen`s this file (what `_init` becomes through
/// `xtables.h`'s `#define _init __attribute__((constructor)) _INIT`).
#[used]
#[link_section = ".init_array"]
static REGISTER: extern "C" fn() = register;

extern "C" fn register() {
    target::register();
}
