//! `setuid UID`: run as an unprivileged user once every socket and device is open, keeping
//! only CAP_NET_ADMIN, which routes for new sessions (rtnetlink) still need. The manual says
//! the original's `setuid` did not work: it dropped every capability, so the first route
//! failed; this is what makes it work.

use std::io;
use std::path::Path;

/// capability.h: CAP_NET_ADMIN, and the 64-bit capability ABI.
const CAP_NET_ADMIN: u32 = 12;
const LINUX_CAPABILITY_VERSION_3: u32 = 0x2008_0522;

#[repr(C)]
struct CapHeader {
    version: u32,
    pid: i32,
}

#[repr(C)]
#[derive(Default, Clone, Copy)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

fn check(r: libc::c_long, what: &str) -> io::Result<()> {
    if r == 0 {
        Ok(())
    } else {
        let e = io::Error::last_os_error();
        Err(io::Error::new(e.kind(), format!("{what}: {e}")))
    }
}

/// The primary group of `uid` from the user database, if it has an entry.
fn primary_gid(uid: u32) -> Option<u32> {
    let mut pw: libc::passwd = unsafe { std::mem::zeroed() };
    let mut buf = vec![0 as libc::c_char; 4096];
    let mut found: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: every pointer is to a live, writable buffer of the stated length.
    let r = unsafe { libc::getpwuid_r(uid, &mut pw, buf.as_mut_ptr(), buf.len(), &mut found) };
    (r == 0 && !found.is_null()).then_some(pw.pw_gid)
}

/// Hands `dir` (the state directory) to `uid`, so that SIGTERM can still save the sessions.
pub fn give_dir(dir: &Path, uid: u32) -> io::Result<()> {
    std::fs::create_dir_all(dir)?;
    std::os::unix::fs::chown(dir, Some(uid), primary_gid(uid))
}

/// Becomes `uid` (and its primary group, without supplementary groups), keeping
/// CAP_NET_ADMIN. Must be called while no other thread runs.
pub fn drop_to(uid: u32) -> io::Result<()> {
    let gid = primary_gid(uid).unwrap_or(uid);
    // SAFETY: plain system calls on integers and on the two capability structs below, which
    // live for the duration of the call.
    unsafe {
        check(
            libc::prctl(libc::PR_SET_KEEPCAPS, 1, 0, 0, 0).into(),
            "keep capabilities",
        )?;
        check(libc::setgroups(0, std::ptr::null()).into(), "setgroups")?;
        check(libc::setresgid(gid, gid, gid).into(), "setgid")?;
        check(libc::setresuid(uid, uid, uid).into(), "setuid")?;
        let mut header = CapHeader {
            version: LINUX_CAPABILITY_VERSION_3,
            pid: 0,
        };
        let mut data = [CapData::default(); 2];
        data[0].effective = 1 << CAP_NET_ADMIN;
        data[0].permitted = 1 << CAP_NET_ADMIN;
        check(
            libc::syscall(libc::SYS_capset, &mut header, data.as_mut_ptr()),
            "capset",
        )?;
        check(
            libc::prctl(libc::PR_SET_KEEPCAPS, 0, 0, 0, 0).into(),
            "keep capabilities",
        )?;
    }
    Ok(())
}
