//! The thin executors: the addresses of `lo` over rtnetlink, the DADDR rules through
//! iptables/ip6tables (whichever backend, legacy or nft, the system's `iptables` is), the
//! module through modprobe, and the system facts dsrctl reads (table parameter, IPv6 state).
//!
//! Every operation is announced at `-v` as the command that does the same (`+ip addr add ...`,
//! `+iptables -t mangle -A ...`): the trace format of the upstream tool, which its test
//! suite and operators' scripts read. With `-n` changes are announced but not made.

use std::fs;
use std::io;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use iptoip::netlink::{Conn, NetlinkError};
use netlink_packet_route::address::{AddressAttribute, AddressMessage, AddressScope};
use netlink_packet_route::link::{LinkAttribute, LinkMessage};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use netlink_sys::protocols::NETLINK_ROUTE;

use crate::state::{parse_listing, LoAddr, Observed};

/// The module and where it tells its table.
pub const KMOD: &str = "xt_DADDR";
pub const TABLE_PARAM: &str = "/sys/module/xt_DADDR/parameters/table";
pub const CHAIN: &str = "PREROUTING";

/// The directories searched for iptables, ip6tables and modprobe. Fixed, like the upstream
/// tool (which resets PATH), so that a boot-time unit or a test with an empty PATH works.
const SBIN: [&str; 4] = ["/usr/sbin", "/sbin", "/usr/bin", "/bin"];

/// A command for `name` found in [`SBIN`], run with those directories as its PATH (the tools
/// it runs in turn, such as modprobe from iptables-legacy, are found the same way).
fn command(name: &str) -> Command {
    let path = SBIN
        .iter()
        .map(|d| Path::new(d).join(name))
        .find(|p| p.is_file())
        .unwrap_or_else(|| PathBuf::from(name));
    let mut c = Command::new(path);
    c.env("PATH", SBIN.join(":")).stdin(Stdio::null());
    c
}

/// Prints the trace and knows whether to make changes.
pub struct Runner {
    pub verbose: u32,
    pub dry_run: bool,
}

impl Runner {
    /// A trace line, shown from `level` on; from `-vv` on every line starts with the time.
    pub fn trace(&self, level: u32, msg: &str) {
        if self.verbose < level {
            return;
        }
        if self.verbose >= 2 {
            println!("{}{msg}", chrono::Local::now().format("%Y%m%d-%H:%M:%S: "));
        } else {
            println!("{msg}");
        }
    }
    /// Announce a command (`-v`).
    pub fn announce(&self, cmd: &[&str]) {
        self.trace(1, &format!("+{}", cmd.join(" ")));
    }
}

/// Why an operation failed.
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    #[error("rtnetlink: {0}")]
    Netlink(#[from] NetlinkError),
    #[error("no interface lo")]
    NoLoopback,
    #[error("{0}: {1}")]
    Spawn(String, io::Error),
    #[error("{0} exited with status {1}")]
    Status(String, i32),
}

/// The iptables table: read from the module parameter when the module is loaded.
pub struct TableInfo {
    /// The table rules go to.
    pub name: String,
    /// What the status table shows (`--` when the module is not loaded).
    pub shown: String,
    /// Where the value came from (`-vv`).
    pub why: String,
}

pub fn module_loaded() -> bool {
    fs::read_to_string("/proc/modules")
        .is_ok_and(|m| m.lines().any(|l| l.split_whitespace().next() == Some(KMOD)))
}

/// The table the module serves. Our module's `table=raw,mangle` (both) puts the rules in the
/// first one named.
pub fn table() -> io::Result<TableInfo> {
    if Path::new(TABLE_PARAM).exists() {
        let v = fs::read_to_string(TABLE_PARAM)?;
        let name = v.trim().split(',').next().unwrap_or("").trim().to_owned();
        let name = if name.is_empty() {
            "mangle".to_owned()
        } else {
            name
        };
        return Ok(TableInfo {
            shown: name.clone(),
            name,
            why: format!("kmod is loaded, using {TABLE_PARAM}"),
        });
    }
    if module_loaded() {
        return Ok(TableInfo {
            name: "mangle".into(),
            shown: "mangle".into(),
            why: "kmod is loaded, using default".into(),
        });
    }
    Ok(TableInfo {
        name: "mangle".into(),
        shown: "--".into(),
        why: "kmod is unloaded, using default default".into(),
    })
}

/// IPv6 is usable unless the kernel has it disabled (boot parameter or sysctl).
pub fn ipv6_enabled() -> bool {
    let read = |p: &str| fs::read_to_string(p).ok().map(|s| s.trim() == "0");
    read("/sys/module/ipv6/parameters/disable") == Some(true)
        && read("/proc/sys/net/ipv6/conf/all/disable_ipv6") == Some(true)
}

/// Load the module unless it is loaded (so that its table parameter can be read).
pub fn load_module(r: &Runner) -> Result<(), ExecError> {
    if module_loaded() {
        return Ok(());
    }
    let args = ["modprobe", KMOD];
    r.announce(&args);
    if r.dry_run {
        return Ok(());
    }
    run_quiet(&args, r)
}

/// Remove the module, retrying: after the last rule is deleted (nft) the module stays in use
/// for a short grace period.
pub fn remove_module(r: &Runner, first: f64, again: f64) {
    if !module_loaded() && !r.dry_run {
        return;
    }
    let args = ["modprobe", "-r", KMOD];
    for i in 0..8 {
        let s = if i == 0 { first } else { again };
        if s > 0.0 {
            std::thread::sleep(std::time::Duration::from_secs_f64(s));
        }
        r.announce(&args);
        if r.dry_run || run_quiet(&args, r).is_ok() {
            return;
        }
    }
}

fn run_quiet(args: &[&str], r: &Runner) -> Result<(), ExecError> {
    let out = command(args[0])
        .args(&args[1..])
        .output()
        .map_err(|e| ExecError::Spawn(args[0].into(), e))?;
    if out.status.success() {
        return Ok(());
    }
    let text = String::from_utf8_lossy(&out.stderr);
    r.trace(3, text.trim_end());
    Err(ExecError::Status(
        args.join(" "),
        out.status.code().unwrap_or(-1),
    ))
}

fn iptables_name(addr: IpAddr) -> &'static str {
    if addr.is_ipv4() {
        "iptables"
    } else {
        "ip6tables"
    }
}

/// Read the DADDR rules of the table into `obs` (IPv4, then IPv6 when enabled). A listing
/// that fails with status 2 or more is an error; status 1 (no such table) reads as empty.
pub fn read_rules(r: &Runner, table: &str, v6: bool, obs: &mut Observed) -> Result<(), String> {
    let progs: &[&str] = if v6 {
        &["iptables", "ip6tables"]
    } else {
        &["iptables"]
    };
    for p in progs {
        let args = [*p, "-L", "-t", table, "-n"];
        r.announce(&args);
        let failed = || format!("Failed to get {p} ({}).", args.join(" "));
        let out = command(p).args(&args[1..]).output().map_err(|_| failed())?;
        if out.status.code().is_none_or(|c| c >= 2) {
            return Err(failed());
        }
        for (addr, text, dscp_text, dscp) in
            parse_listing(&String::from_utf8_lossy(&out.stdout), CHAIN)
        {
            obs.add_rule(addr, &text, &dscp_text, dscp);
        }
    }
    Ok(())
}

/// Add (`-A`, or `-I` with insert) or delete (`-D`) one DADDR rule.
pub fn rule(
    r: &Runner,
    op: &str,
    table: &str,
    addr: IpAddr,
    addr_text: &str,
    dscp: &str,
) -> Result<(), ExecError> {
    let set = format!("--set-daddr={addr_text}");
    let args = [
        iptables_name(addr),
        "-t",
        table,
        op,
        CHAIN,
        "-m",
        "dscp",
        "--dscp",
        dscp,
        "-j",
        "DADDR",
        &set,
    ];
    r.announce(&args);
    if r.dry_run {
        return Ok(());
    }
    let st = command(args[0])
        .args(&args[1..])
        .status()
        .map_err(|e| ExecError::Spawn(args[0].into(), e))?;
    if st.success() {
        Ok(())
    } else {
        Err(ExecError::Status(args.join(" "), st.code().unwrap_or(-1)))
    }
}

/// Announce an address change as the `ip addr` command that does the same.
pub fn announce_addr(r: &Runner, op: &str, text: &str, addr: IpAddr, alias: Option<&str>) {
    let (pfx, label) = match (addr, alias) {
        (IpAddr::V4(_), Some(n)) => ("32", format!(" label lo:{n}")),
        (IpAddr::V4(_), None) => ("32", String::new()),
        (IpAddr::V6(_), _) => ("128", String::new()),
    };
    r.trace(1, &format!("+ip addr {op} {text}/{pfx} dev lo{label}"));
}

/// rtnetlink access to `lo`.
pub struct Loopback {
    conn: Conn,
    index: u32,
}

impl Loopback {
    pub fn open() -> Result<Loopback, ExecError> {
        let mut conn = Conn::open(NETLINK_ROUTE)?;
        let mut link = LinkMessage::default();
        link.attributes.push(LinkAttribute::IfName("lo".into()));
        let index = conn
            .request(RouteNetlinkMessage::GetLink(link), false)?
            .iter()
            .find_map(|m| match m {
                RouteNetlinkMessage::NewLink(l) => Some(l.header.index),
                _ => None,
            })
            .ok_or(ExecError::NoLoopback)?;
        Ok(Loopback { conn, index })
    }

    /// The addresses of `lo` but its own 127.0.0.1 and ::1, in kernel order (IPv4 first).
    pub fn addrs(&mut self, r: &Runner) -> Result<Vec<LoAddr>, ExecError> {
        r.announce(&["ip", "-o", "addr", "show", "lo"]);
        let replies = self.conn.request(
            RouteNetlinkMessage::GetAddress(AddressMessage::default()),
            true,
        )?;
        let mut out = Vec::new();
        for m in replies {
            let RouteNetlinkMessage::NewAddress(a) = m else {
                continue;
            };
            if a.header.index != self.index {
                continue;
            }
            let mut local = None;
            let mut address = None;
            let mut label = None;
            for at in &a.attributes {
                match at {
                    AddressAttribute::Local(ip) => local = Some(*ip),
                    AddressAttribute::Address(ip) => address = Some(*ip),
                    AddressAttribute::Label(l) => label = Some(l.clone()),
                    _ => {}
                }
            }
            let Some(addr) = local.or(address) else {
                continue;
            };
            if addr == IpAddr::from([127, 0, 0, 1])
                || addr == IpAddr::from([0u16, 0, 0, 0, 0, 0, 0, 1])
            {
                continue;
            }
            let alias = match addr {
                IpAddr::V4(_) => label.and_then(|l| l.strip_prefix("lo:").map(str::to_owned)),
                IpAddr::V6(_) => None,
            };
            out.push(LoAddr { addr, alias });
        }
        Ok(out)
    }

    fn message(&self, addr: IpAddr, alias: Option<&str>) -> AddressMessage {
        let mut m = AddressMessage::default();
        m.header.index = self.index;
        m.header.scope = AddressScope::Universe;
        match addr {
            IpAddr::V4(_) => {
                m.header.family = AddressFamily::Inet;
                m.header.prefix_len = 32;
            }
            IpAddr::V6(_) => {
                m.header.family = AddressFamily::Inet6;
                m.header.prefix_len = 128;
            }
        }
        m.attributes.push(AddressAttribute::Local(addr));
        m.attributes.push(AddressAttribute::Address(addr));
        if let (IpAddr::V4(_), Some(n)) = (addr, alias) {
            m.attributes
                .push(AddressAttribute::Label(format!("lo:{n}")));
        }
        m
    }

    pub fn add(
        &mut self,
        r: &Runner,
        addr: IpAddr,
        text: &str,
        alias: Option<&str>,
    ) -> Result<(), ExecError> {
        self.change(r, "add", RouteNetlinkMessage::NewAddress, addr, text, alias)
    }

    pub fn del(
        &mut self,
        r: &Runner,
        addr: IpAddr,
        text: &str,
        alias: Option<&str>,
    ) -> Result<(), ExecError> {
        self.change(r, "del", RouteNetlinkMessage::DelAddress, addr, text, alias)
    }

    /// Says what it does (`-v`), then, unless a dry run, sends the address message `kind`.
    fn change(
        &mut self,
        r: &Runner,
        op: &str,
        kind: fn(AddressMessage) -> RouteNetlinkMessage,
        addr: IpAddr,
        text: &str,
        alias: Option<&str>,
    ) -> Result<(), ExecError> {
        announce_addr(r, op, text, addr, alias);
        if r.dry_run {
            return Ok(());
        }
        let m = self.message(addr, alias);
        self.conn.request(kind(m), false)?;
        Ok(())
    }
}

/// The configuration files of a directory: every `*.conf` file below it (symbolic links
/// followed), sorted by path.
pub fn conf_files(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in fs::read_dir(&d)? {
            let p = e?.path();
            match fs::metadata(&p) {
                Ok(m) if m.is_dir() => todo.push(p),
                Ok(m) if m.is_file() && p.extension().is_some_and(|x| x == "conf") => out.push(p),
                _ => {}
            }
        }
    }
    out.sort_by(|a, b| {
        a.as_os_str()
            .as_encoded_bytes()
            .cmp(b.as_os_str().as_encoded_bytes())
    });
    Ok(out)
}
