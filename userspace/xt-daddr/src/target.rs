//! The two `xtables_target` registrations (IPv4, IPv6) and their callbacks.

use crate::ffi;
use std::ffi::{c_char, c_int, c_uint, c_void, CStr};
use std::ptr;

/// Size of the kernel's `struct xt_daddr_tginfo`, a `union nf_inet_addr`, already a multiple
/// of `XT_ALIGN` (8).
const TGINFO_SIZE: usize = 16;
/// getopt value of `--set-daddr` (the original's `'1'`).
const OPT_SET_DADDR: c_int = b'1' as c_int;

/// One address family's texts and parser parameters.
struct Family {
    nfproto: u16,
    af: c_int,
    help: &'static CStr,
    bad_address: &'static CStr,
}

const IPV4: Family = Family {
    nfproto: ffi::NFPROTO_IPV4 as u16,
    af: ffi::AF_INET as c_int,
    help: c"DADDR target options:\n  --set-daddr <ipaddr>          Address to set for the IPv4 destination field\n",
    bad_address: c"Bad IPv4 address `%s'\n",
};

const IPV6: Family = Family {
    nfproto: ffi::NFPROTO_IPV6 as u16,
    af: ffi::AF_INET6 as c_int,
    help: c"DADDR target options:\n  --set-daddr <ip6addr>         Address to set for the IPv6 destination field\n",
    bad_address: c"Bad IPv6 address `%s'\n",
};

/// libxtables ≥ 6 puts the separating space before a target's output; older ones after.
const LEADING_SPACE: bool = ffi::XTABLES_VERSION_CODE > 5;

extern "C" fn help4() {
    c_print(IPV4.help);
}

extern "C" fn help6() {
    c_print(IPV6.help);
}

/// Write through C stdio, in order with the rest of iptables' output.
fn c_print(text: &CStr) {
    // SAFETY: constant "%s" format with one NUL-terminated string argument.
    unsafe { ffi::printf(c"%s".as_ptr(), text.as_ptr()) };
}

/// Report a parameter problem the way every extension does (`xtables_error`); does not return.
fn parameter_problem(fmt: &CStr, arg: *const c_char) -> ! {
    // SAFETY: libxtables sets `xt_params` before it loads extensions; `exit_err` is
    // printf-like and never returns. `fmt` has at most one `%s`, matched by `arg`.
    unsafe {
        let params = ffi::xt_params;
        if !params.is_null() {
            if let Some(exit_err) = (*params).exit_err {
                exit_err(ffi::xtables_exittype::PARAMETER_PROBLEM, fmt.as_ptr(), arg);
            }
        }
    }
    // No libxtables context (cannot happen when loaded by iptables): still refuse.
    std::process::exit(2)
}

/// getopt-style parser shared by both families (the original used `.parse`, not x6 options):
/// `--set-daddr ADDR` / `--set-daddr=ADDR`, numeric addresses only (`inet_pton`).
fn parse(
    fam: &Family,
    c: c_int,
    flags: *mut c_uint,
    target: *mut *mut ffi::xt_entry_target,
) -> c_int {
    if c != OPT_SET_DADDR {
        return 0;
    }
    // SAFETY: libxtables passes valid `flags` and `target` pointers to a `.parse` callback;
    // `optarg` is set by getopt_long for an option declared with a required argument.
    unsafe {
        if *flags != 0 {
            parameter_problem(c"DADDR target: Cant specify --set-daddr twice", ptr::null());
        }
        let arg = ffi::optarg;
        let mut addr = [0u8; TGINFO_SIZE];
        if arg.is_null() || ffi::inet_pton(fam.af, arg, addr.as_mut_ptr().cast()) != 1 {
            parameter_problem(fam.bad_address, arg);
        }
        let data = (**target).data.as_mut_ptr();
        ptr::copy_nonoverlapping(addr.as_ptr(), data, TGINFO_SIZE);
        *flags = 1;
    }
    1
}

extern "C" fn parse4(
    c: c_int,
    _argv: *mut *mut c_char,
    _invert: c_int,
    flags: *mut c_uint,
    _entry: *const c_void,
    target: *mut *mut ffi::xt_entry_target,
) -> c_int {
    parse(&IPV4, c, flags, target)
}

extern "C" fn parse6(
    c: c_int,
    _argv: *mut *mut c_char,
    _invert: c_int,
    flags: *mut c_uint,
    _entry: *const c_void,
    target: *mut *mut ffi::xt_entry_target,
) -> c_int {
    parse(&IPV6, c, flags, target)
}

extern "C" fn final_check(flags: c_uint) {
    if flags == 0 {
        parameter_problem(
            c"DADDR target: Parameter --set-daddr is required",
            ptr::null(),
        );
    }
}

/// Print the address in the target data with `inet_ntop`, as the original did
/// (`[bad addr]` if that fails), after `prefix`.
fn print_addr(fam: &Family, prefix: &CStr, target: *const ffi::xt_entry_target) {
    let mut buf = [0 as c_char; ffi::INET6_ADDRSTRLEN as usize];
    // SAFETY: libxtables hands over a target whose data holds `size` (16) bytes.
    let text = unsafe {
        let data = (*target).data.as_ptr();
        let out = ffi::inet_ntop(fam.af, data.cast(), buf.as_mut_ptr(), buf.len() as _);
        if out.is_null() {
            c"[bad addr]"
        } else {
            CStr::from_ptr(out)
        }
    };
    c_print(prefix);
    c_print(text);
    if !LEADING_SPACE {
        c_print(c" ");
    }
}

fn print_prefix() -> &'static CStr {
    if LEADING_SPACE {
        c" DADDR set "
    } else {
        c"DADDR set "
    }
}

fn save_prefix() -> &'static CStr {
    if LEADING_SPACE {
        c" --set-daddr "
    } else {
        c"--set-daddr "
    }
}

extern "C" fn print4(_ip: *const c_void, target: *const ffi::xt_entry_target, _numeric: c_int) {
    print_addr(&IPV4, print_prefix(), target);
}

extern "C" fn print6(_ip: *const c_void, target: *const ffi::xt_entry_target, _numeric: c_int) {
    print_addr(&IPV6, print_prefix(), target);
}

extern "C" fn save4(_ip: *const c_void, target: *const ffi::xt_entry_target) {
    print_addr(&IPV4, save_prefix(), target);
}

extern "C" fn save6(_ip: *const c_void, target: *const ffi::xt_entry_target) {
    print_addr(&IPV6, save_prefix(), target);
}

/// `--set-daddr` with a required argument, terminated by a zero entry.
fn options() -> *const ffi::option {
    let opts = vec![
        ffi::option {
            name: c"set-daddr".as_ptr(),
            has_arg: 1,
            flag: ptr::null_mut(),
            val: OPT_SET_DADDR,
        },
        ffi::option::default(),
    ];
    // libxtables keeps the pointer for the life of the process.
    Vec::leak(opts).as_ptr()
}

type ParseFn = extern "C" fn(
    c_int,
    *mut *mut c_char,
    c_int,
    *mut c_uint,
    *const c_void,
    *mut *mut ffi::xt_entry_target,
) -> c_int;

fn target(
    fam: &Family,
    help: extern "C" fn(),
    parse: ParseFn,
    print: extern "C" fn(*const c_void, *const ffi::xt_entry_target, c_int),
    save: extern "C" fn(*const c_void, *const ffi::xt_entry_target),
    opts: *const ffi::option,
) -> ffi::xtables_target {
    ffi::xtables_target {
        version: ffi::XTABLES_VERSION.as_ptr().cast(),
        name: c"DADDR".as_ptr(),
        revision: 0,
        family: fam.nfproto,
        size: TGINFO_SIZE,
        userspacesize: TGINFO_SIZE,
        help: Some(help),
        parse: Some(parse),
        final_check: Some(final_check),
        print: Some(print),
        save: Some(save),
        extra_opts: opts,
        ..Default::default()
    }
}

/// Register both targets with libxtables.
pub(crate) fn register() {
    // SAFETY: reading a pointer-sized global of libxtables.
    if unsafe { ffi::xt_params }.is_null() {
        // Loaded by something other than an xtables program: there is nothing to register with.
        return;
    }
    let opts = options();
    let targets = vec![
        target(&IPV4, help4, parse4, print4, save4, opts),
        target(&IPV6, help6, parse6, print6, save6, opts),
    ];
    // libxtables links the entries into its lists and writes to them: leak, writable.
    let targets = Vec::leak(targets);
    // SAFETY: two valid, 'static, writable entries.
    unsafe { ffi::xtables_register_targets(targets.as_mut_ptr(), targets.len() as c_uint) };
}
