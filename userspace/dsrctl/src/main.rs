//! dsrctl(8): start, stop, restart, status and check the DSR VIPs of /etc/dsr.d.
//!
//! Exit status, as the upstream tool: 0 success; 1 error (bad option or action, bad
//! configuration, a change that failed, not root); `check` 3 when only some VIPs are started
//! or none is configured.

use std::fs;
use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, ToSocketAddrs};
use std::path::Path;
use std::process::ExitCode;

use dsrctl::cli::{self, CliError, Options};
use dsrctl::config::{self, Dsr, Event, Resolver};
use dsrctl::exec::{self, Loopback, Runner, TableInfo};
use dsrctl::plan::{self, Discovered, Step};
use dsrctl::state::{LoAddr, Observed, Rule};

/// Names resolve through the system resolver (getaddrinfo); the first IPv4 address is used.
struct SystemResolver;

impl Resolver for SystemResolver {
    fn ipv4_of(&mut self, name: &str) -> Option<Ipv4Addr> {
        (name, 0).to_socket_addrs().ok()?.find_map(|a| match a {
            SocketAddr::V4(v4) => Some(*v4.ip()),
            SocketAddr::V6(_) => None,
        })
    }
}

/// Everything one run knows.
struct Ctx {
    o: Options,
    r: Runner,
    table: TableInfo,
    ipv6: bool,
    /// `None` until read (restart reads it once).
    config: Option<Vec<Dsr>>,
    obs: Observed,
    found: Vec<Discovered>,
    /// Suppress the messages of reading (check prints one line only).
    quiet: bool,
}

/// Why init stopped early.
struct InitFailed;

impl Ctx {
    fn say(&self, msg: &str) {
        if !self.quiet {
            println!("{msg}");
        }
    }
    fn warn(&self, msg: &str) {
        if !self.quiet {
            eprintln!("{msg}");
        }
    }

    fn config(&self) -> &[Dsr] {
        self.config.as_deref().unwrap_or(&[])
    }

    /// Read the configuration and the running state. Returns whether all of it went well;
    /// `strict` stops at the first failing part (start), otherwise reading goes on (status,
    /// stop) so that as much as possible is shown or undone.
    fn init(&mut self, strict: bool) -> Result<bool, InitFailed> {
        let mut ok = true;
        self.table = exec::table().unwrap_or_else(|e| {
            eprintln!("Cannot read {}: {e}.  Exiting.", exec::TABLE_PARAM);
            std::process::exit(1)
        });
        self.r.trace(
            2,
            &format!(
                "===== Iptables Table is {} ({})",
                self.table.name, self.table.why
            ),
        );
        if self.config.is_none() {
            let (dsrs, good) = self.read_config();
            self.config = Some(dsrs);
            ok &= good;
            if !good && strict {
                return Err(InitFailed);
            }
            self.trace_config();
        }
        self.obs = Observed::default();
        match Loopback::open().and_then(|mut lo| lo.addrs(&self.r)) {
            Ok(a) => self.obs.addrs = a,
            Err(e) => {
                self.warn(&format!("Failed to get the loopback addresses ({e})."));
                ok = false;
                if strict {
                    return Err(InitFailed);
                }
            }
        }
        self.trace_loopbacks();
        if let Err(e) = exec::read_rules(&self.r, &self.table.name, self.ipv6, &mut self.obs) {
            self.warn(&e);
            ok = false;
            if strict {
                return Err(InitFailed);
            }
        }
        self.warn_duplicate_rules();
        self.trace_rules();
        let (found, errors) = plan::discover(self.config(), &self.obs);
        for e in errors {
            self.say(&e.to_string());
        }
        self.found = found;
        Ok(ok)
    }

    /// The files: `-f FILE`, else every *.conf below `-d DIR`.
    fn read_config(&mut self) -> (Vec<Dsr>, bool) {
        let mut files = Vec::new();
        let from_dir = self.o.file.is_none();
        if let Some(f) = &self.o.file {
            match fs::read(f) {
                Ok(b) => files.push((f.clone(), String::from_utf8_lossy(&b).into_owned())),
                Err(_) => {
                    self.warn(&format!("Cannot read the configuration file ({f})."));
                    return (Vec::new(), false);
                }
            }
        } else {
            let dir = Path::new(&self.o.dir);
            if !dir.is_dir() {
                self.warn(&format!(
                    "Cannot find the configuration directory ({}).   Is dsrtools installed?",
                    self.o.dir
                ));
                return (Vec::new(), true);
            }
            let list = match exec::conf_files(dir) {
                Ok(l) => l,
                Err(_) => {
                    self.warn(&format!("Cannot get file list from \"{}\".", self.o.dir));
                    return (Vec::new(), false);
                }
            };
            for p in list {
                let name = p.display().to_string();
                match fs::read(&p) {
                    Ok(b) => files.push((name, String::from_utf8_lossy(&b).into_owned())),
                    Err(_) => {
                        self.warn(&format!("Cannot read the configuration file ({name})."));
                        return (Vec::new(), false);
                    }
                }
            }
        }
        let r = &self.r;
        let quiet = self.quiet;
        let mut on_event = |e: Event| match e {
            Event::Loading(f) if from_dir => {
                r.trace(2, &format!("===== Loading config file ({f})"))
            }
            Event::Loading(f) => r.trace(2, &format!("===== Loading config file {f}")),
            Event::Lexed(m) => r.trace(3, &format!("====== {m}")),
            Event::Resolving(n) => r.announce(&["getent", "ahostsv4", &n]),
            Event::Duplicate(m) if !quiet => println!("{m}"),
            Event::Error(e) => {
                if let config::EntryError::Unresolved { name } = &e {
                    r.trace(1, &format!("FAILED (rv=2): getent ahostsv4 {name}"));
                }
                if !quiet {
                    println!("{e}");
                }
            }
            _ => {}
        };
        match config::load(&files, &mut SystemResolver, &mut on_event) {
            Ok(l) => (l.dsrs, l.ok),
            Err(fatal) => {
                // A line that is no configuration line at all: nothing is done.
                if !quiet {
                    eprintln!("{fatal}");
                    eprintln!("Aborting.");
                }
                std::process::exit(1)
            }
        }
    }

    fn trace_config(&self) {
        if self.r.verbose < 2 {
            return;
        }
        let c = self.config();
        self.r.trace(2, "====== Config File Start");
        self.r
            .trace(2, &format!("======     Number of DSRs = {}", c.len()));
        for d in c {
            let af = if d.addr.is_ipv4() { 4 } else { 6 };
            let dscp = d.dscp.as_ref().map_or("", |x| x.text.as_str());
            self.r.trace(
                2,
                &format!(
                    "======         dsr{af}: configured init vip={} dscp={dscp}",
                    d.name
                ),
            );
        }
        self.r.trace(2, "====== Config File End");
    }

    fn trace_loopbacks(&self) {
        if self.r.verbose < 2 {
            return;
        }
        let mut lines = Vec::new();
        let mut seen = Vec::new();
        for d in self.config() {
            if seen.contains(&d.addr) {
                continue;
            }
            seen.push(d.addr);
            let af = if d.addr.is_ipv4() { 4 } else { 6 };
            let line = match self.obs.addr(d.addr) {
                Some(a) => format!(
                    "loopback{af}: configured started vip={}{}",
                    a.addr,
                    a.alias.as_ref().map_or(String::new(), |n| format!(" {n}"))
                ),
                None => format!("loopback{af}: configured stopped vip={}", d.name),
            };
            lines.push(line);
        }
        for a in &self.obs.addrs {
            if seen.contains(&a.addr) {
                continue;
            }
            let af = if a.addr.is_ipv4() { 4 } else { 6 };
            lines.push(format!(
                "loopback{af}: discovered started vip={}{}",
                a.addr,
                a.alias.as_ref().map_or(String::new(), |n| format!(" {n}"))
            ));
        }
        self.r.trace(2, "====== Loopbacks Start");
        self.r.trace(
            2,
            &format!("======     Number of loopbacks = {}", lines.len()),
        );
        for l in lines {
            self.r.trace(2, &format!("======         {l}"));
        }
        self.r.trace(2, "====== Loopbacks End");
    }

    fn configured_rule(&self, r: &Rule) -> bool {
        self.config()
            .iter()
            .any(|d| d.key() == (r.addr, Some(r.dscp)))
    }

    fn trace_rules(&self) {
        if self.r.verbose < 2 {
            return;
        }
        let mut lines = Vec::new();
        for d in self.config() {
            let Some(x) = &d.dscp else { continue };
            let af = if d.addr.is_ipv4() { 4 } else { 6 };
            let st = if self.obs.rule(d.addr, x.value).is_some() {
                "started"
            } else {
                "stopped"
            };
            lines.push(format!(
                "iptables{af}: configured {st} vip={} dscp={}",
                d.name, x.text
            ));
        }
        for r in &self.obs.rules {
            if self.configured_rule(r) {
                continue;
            }
            let af = if r.addr.is_ipv4() { 4 } else { 6 };
            lines.push(format!(
                "iptables{af}: discovered started vip={} dscp={}",
                r.text, r.dscp_text
            ));
        }
        self.r.trace(2, "====== Iptables Start");
        self.r.trace(
            2,
            &format!("======     Number of iptables rules = {}", lines.len()),
        );
        for l in lines {
            self.r.trace(2, &format!("======         {l}"));
        }
        self.r.trace(2, "====== Iptables End");
    }

    /// Identical rules are not an error but a sign that something started twice.
    fn warn_duplicate_rules(&self) {
        for v4 in [true, false] {
            for d in self.config() {
                let Some(x) = &d.dscp else { continue };
                if d.addr.is_ipv4() != v4 {
                    continue;
                }
                if let Some(r) = self.obs.rule(d.addr, x.value).filter(|r| r.count > 1) {
                    self.say(&format!(
                        "Duplicate iptables rules found for VIP {}={} count={}",
                        d.name, x.text, r.count
                    ));
                }
            }
            if !self.o.all {
                continue;
            }
            for r in &self.obs.rules {
                if r.addr.is_ipv4() == v4 && r.count > 1 && !self.configured_rule(r) {
                    self.say(&format!(
                        "Duplicate iptables rules found for VIP {}={} count={}",
                        r.text, r.dscp_text, r.count
                    ));
                }
            }
        }
    }

    fn status(&mut self) -> i32 {
        let ok = self.init(false).unwrap_or(false);
        if self.config().is_empty() && !self.o.all {
            println!("No configured DSRs found.");
            return 0;
        }
        if self.config().is_empty() && self.obs.addrs.is_empty() && self.obs.rules.is_empty() {
            println!("No loopback aliases or iptables rules found.");
            return 0;
        }
        let t = plan::status(
            self.config(),
            &self.found,
            &self.obs,
            &self.table.shown,
            self.o.all,
        );
        if !self.o.no_header {
            for h in t.header() {
                println!("{h}");
            }
        }
        for row in &t.rows {
            if let Some(tr) = &row.trace {
                self.r.trace(2, &format!("====== {tr}"));
            }
            println!("{}", t.render(row));
        }
        if ok {
            0
        } else {
            1
        }
    }

    fn check(&mut self) -> i32 {
        self.quiet = true;
        let ok = self.init(false).unwrap_or(false);
        self.quiet = false;
        if !ok {
            eprintln!("DSR configuration error discovered.");
            return 1;
        }
        let (msg, rc) = plan::check(self.config(), &self.obs);
        println!("{msg}");
        rc
    }

    /// Run steps in order, keeping `obs` in step (it is also the model in dry-run mode).
    /// Returns the steps done so far and whether all succeeded.
    fn run(&mut self, steps: &[Step], lo: &mut Option<Loopback>) -> (Vec<Step>, bool) {
        let mut done = Vec::new();
        let table = self.table.name.clone();
        for s in steps {
            let res: Result<Step, String> = match s {
                Step::Trace(m) => {
                    self.r.trace(2, &format!("====== {m}"));
                    continue;
                }
                Step::AddRule {
                    addr,
                    addr_text,
                    dscp_text,
                } => {
                    let op = if self.o.insert { "-I" } else { "-A" };
                    exec::rule(&self.r, op, &table, *addr, addr_text, dscp_text)
                        .map(|_| {
                            let v = config::parse_number(dscp_text).unwrap_or(0) as u8;
                            self.obs.add_rule(*addr, addr_text, dscp_text, v);
                            s.clone()
                        })
                        .map_err(|_| {
                            format!("Failed to start iptables rule in table {table} for {addr_text}={dscp_text}.")
                        })
                }
                Step::AddAddr { addr, addr_text } => self.add_addr(lo, *addr, addr_text),
                Step::DelRule {
                    addr,
                    addr_text,
                    dscp_text,
                    count,
                } => {
                    let mut r = Ok(s.clone());
                    for _ in 0..*count {
                        if let Err(e) =
                            exec::rule(&self.r, "-D", &table, *addr, addr_text, dscp_text)
                        {
                            r = Err(format!("Failed to remove the iptables rule for {addr_text}={dscp_text}: {e}."));
                            break;
                        }
                    }
                    let v = config::parse_number(dscp_text).map(|v| v as u8);
                    self.obs
                        .rules
                        .retain(|x| !(x.addr == *addr && Some(x.dscp) == v));
                    r
                }
                Step::DelAddr {
                    addr,
                    addr_text,
                    alias,
                } => self
                    .del_addr(lo, *addr, addr_text, alias.as_deref())
                    .map(|_| s.clone()),
            };
            match res {
                Ok(step) => done.push(step),
                Err(m) => {
                    println!("{m}");
                    return (done, false);
                }
            }
        }
        (done, true)
    }

    /// Put an address on lo: IPv4 with the next free `lo:N` label, looked up just before (the
    /// labels may have changed since the start of the run). A dry run numbers from its model.
    fn add_addr(
        &mut self,
        lo: &mut Option<Loopback>,
        addr: IpAddr,
        text: &str,
    ) -> Result<Step, String> {
        if self.r.dry_run {
            self.r.announce(&["ip", "-o", "addr", "show", "lo"]);
        } else {
            if lo.is_none() {
                *lo = Some(
                    Loopback::open()
                        .map_err(|e| format!("Failed to start loopback for {text} ({e})."))?,
                );
            }
            let l = lo.as_mut().expect("opened above");
            self.obs.addrs = l
                .addrs(&self.r)
                .map_err(|_| "Cannot find available loopback alias.".to_owned())?;
        }
        let alias = addr.is_ipv4().then(|| self.obs.next_alias().to_string());
        match lo.as_mut() {
            Some(l) => l
                .add(&self.r, addr, text, alias.as_deref())
                .map_err(|_| format!("Failed to start loopback for {text}."))?,
            None => exec::announce_addr(&self.r, "add", text, addr, alias.as_deref()),
        }
        self.obs.addrs.push(LoAddr {
            addr,
            alias: alias.clone(),
        });
        Ok(Step::DelAddr {
            addr,
            addr_text: text.to_owned(),
            alias,
        })
    }

    fn del_addr(
        &mut self,
        lo: &mut Option<Loopback>,
        addr: IpAddr,
        text: &str,
        alias: Option<&str>,
    ) -> Result<(), String> {
        let fail = |e: exec::ExecError| format!("Failed to stop loopback for {text} ({e}).");
        if self.r.dry_run {
            exec::announce_addr(&self.r, "del", text, addr, alias);
        } else {
            if lo.is_none() {
                *lo = Some(Loopback::open().map_err(fail)?);
            }
            lo.as_mut()
                .expect("opened above")
                .del(&self.r, addr, text, alias)
                .map_err(fail)?;
        }
        self.obs.addrs.retain(|a| a.addr != addr);
        Ok(())
    }

    fn start(&mut self) -> i32 {
        if exec::load_module(&self.r).is_err() {
            eprintln!("Cannot load the {} module.", exec::KMOD);
            return 1;
        }
        match self.init(true) {
            Ok(true) => {}
            _ => return 1,
        }
        let steps = plan::start(self.config(), &self.obs, self.ipv6);
        let mut lo = None;
        let (done, ok) = self.run(&steps, &mut lo);
        if ok {
            return 0;
        }
        // Undo what this run started, newest first; what ran before is left as it was.
        let undo: Vec<Step> = done
            .into_iter()
            .rev()
            .map(|s| match s {
                Step::AddRule {
                    addr,
                    addr_text,
                    dscp_text,
                } => Step::DelRule {
                    addr,
                    addr_text,
                    dscp_text,
                    count: 1,
                },
                other => other, // add_addr already returns its DelAddr
            })
            .collect();
        self.run(&undo, &mut lo);
        1
    }

    fn stop(&mut self) -> i32 {
        let _ = self.init(false);
        let steps = plan::stop(self.config(), &self.obs, self.ipv6);
        let mut lo = None;
        self.run(&steps, &mut lo);
        if self.o.all {
            // Everything else: reread, then remove every rule and loopback address left.
            self.obs = Observed::default();
            if let Ok(a) = Loopback::open().and_then(|mut l| l.addrs(&self.r)) {
                self.obs.addrs = a;
            }
            let _ = exec::read_rules(&self.r, &self.table.name, self.ipv6, &mut self.obs);
            let steps = plan::stop_all(&self.obs);
            self.run(&steps, &mut lo);
        }
        if !self.o.keep_module {
            exec::remove_module(&self.r, self.o.sleep_first, self.o.sleep_again);
        }
        0
    }
}

fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let o = match cli::parse(&args) {
        Ok(o) => o,
        Err(CliError::Help) => {
            println!("{}", cli::USAGE);
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(1);
        }
    };
    if !["check", "status", "restart", "start", "stop"].contains(&o.action.as_str()) {
        eprintln!("Invalid action provided ({}).", o.action);
        return ExitCode::from(1);
    }
    if !is_root() {
        eprintln!("You must be root to run this command.");
        return ExitCode::from(1);
    }
    let mut ctx = Ctx {
        r: Runner {
            verbose: o.verbose,
            dry_run: o.dry_run,
        },
        table: TableInfo {
            name: "mangle".into(),
            shown: "--".into(),
            why: String::new(),
        },
        ipv6: exec::ipv6_enabled(),
        config: None,
        obs: Observed::default(),
        found: Vec::new(),
        quiet: false,
        o,
    };
    let rc = match ctx.o.action.as_str() {
        "check" => ctx.check(),
        "status" => ctx.status(),
        "start" => ctx.start(),
        "stop" => ctx.stop(),
        _ => {
            ctx.stop();
            ctx.start()
        }
    };
    let _ = std::io::stdout().flush();
    ExitCode::from(rc as u8)
}
