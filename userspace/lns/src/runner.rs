//! Child processes off the event loop: the walled garden's iptables commands and the site's
//! hook script. Jobs go through a bounded queue to worker threads, which run each with a
//! deadline (killed when it passes) and log what failed with its output; the loop never
//! waits for a child. A full queue drops the job and counts it.
//!
//! One worker keeps the jobs in order (the garden: a rule is added before it is deleted, the
//! chains exist before either); several workers bound how many hooks run at once.

use std::ffi::OsString;
use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// The environment a child starts from (nothing of the daemon's own).
const PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
/// Output kept for the log, per stream.
const OUTPUT_LIMIT: usize = 1024;
/// Jobs waiting at most.
pub const QUEUE: usize = 4096;

/// One command.
#[derive(Debug, Clone)]
pub struct Job {
    pub program: PathBuf,
    pub args: Vec<OsString>,
    pub env: Vec<(String, String)>,
    pub timeout: Duration,
    /// A failure is expected (a chain that may already exist): not logged.
    pub may_fail: bool,
}

impl Job {
    pub fn new(program: impl Into<PathBuf>, args: &[&str], timeout: Duration) -> Self {
        Job {
            program: program.into(),
            args: args.iter().map(OsString::from).collect(),
            env: Vec::new(),
            timeout,
            may_fail: false,
        }
    }

    pub fn may_fail(mut self) -> Self {
        self.may_fail = true;
        self
    }
}

/// How a job ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Exited(i32),
    Signalled,
    TimedOut,
    NotStarted(String),
}

#[derive(Debug, Default)]
pub struct RunnerStats {
    pub run: AtomicU64,
    pub failed: AtomicU64,
    pub timed_out: AtomicU64,
    pub queue_full: AtomicU64,
}

pub struct Runner {
    name: &'static str,
    tx: Option<SyncSender<Job>>,
    workers: Vec<thread::JoinHandle<()>>,
    pub stats: Arc<RunnerStats>,
}

/// Runs one job to its end or its deadline.
pub fn run(job: &Job) -> (Outcome, String) {
    use std::os::unix::process::CommandExt;
    let mut cmd = Command::new(&job.program);
    // Its own process group, so that a timeout kills what it started too (a shell's
    // children would otherwise keep its pipes open).
    cmd.process_group(0);
    cmd.args(&job.args)
        .env_clear()
        .env("PATH", PATH)
        .envs(job.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => return (Outcome::NotStarted(e.to_string()), String::new()),
    };
    // Drain the pipes on threads so a chatty child never blocks on a full pipe.
    let drain = |r: Option<Box<dyn Read + Send>>| {
        thread::spawn(move || {
            let mut kept = Vec::new();
            if let Some(mut r) = r {
                let mut buf = [0u8; 4096];
                while let Ok(n) = r.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    let room = OUTPUT_LIMIT.saturating_sub(kept.len());
                    kept.extend_from_slice(&buf[..n.min(room)]);
                }
            }
            kept
        })
    };
    let out = drain(
        child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    );
    let err = drain(
        child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    );
    let deadline = Instant::now() + job.timeout;
    let outcome = loop {
        match child.try_wait() {
            Ok(Some(status)) => {
                break status.code().map_or(Outcome::Signalled, Outcome::Exited);
            }
            Ok(None) if Instant::now() >= deadline => {
                if let Ok(pid) = i32::try_from(child.id()) {
                    // SAFETY: kill(2) with a negative pid signals that process group; no
                    // memory is involved.
                    unsafe {
                        libc::kill(-pid, libc::SIGKILL);
                    }
                }
                let _ = child.kill();
                let _ = child.wait();
                break Outcome::TimedOut;
            }
            Ok(None) => thread::sleep(Duration::from_millis(5)),
            Err(e) => break Outcome::NotStarted(e.to_string()),
        }
    };
    let mut text = String::from_utf8_lossy(&out.join().unwrap_or_default()).into_owned();
    text.push_str(&String::from_utf8_lossy(&err.join().unwrap_or_default()));
    (outcome, text.trim().to_owned())
}

fn describe(job: &Job) -> String {
    let mut s = job.program.display().to_string();
    for a in &job.args {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

fn work(name: &'static str, rx: Arc<Mutex<Receiver<Job>>>, stats: Arc<RunnerStats>) {
    loop {
        let job = {
            let rx = rx.lock().unwrap_or_else(|e| e.into_inner());
            match rx.recv() {
                Ok(j) => j,
                Err(_) => return,
            }
        };
        stats.run.fetch_add(1, Ordering::Relaxed);
        let (outcome, output) = run(&job);
        let what = describe(&job);
        match outcome {
            Outcome::Exited(0) => log::debug!("{name}: {what}: done"),
            Outcome::Exited(_) if job.may_fail => log::debug!("{name}: {what}: {output}"),
            Outcome::TimedOut => {
                stats.timed_out.fetch_add(1, Ordering::Relaxed);
                log::warn!(
                    "{name}: {what}: killed after {} s",
                    job.timeout.as_secs_f64()
                );
            }
            other => {
                stats.failed.fetch_add(1, Ordering::Relaxed);
                log::warn!("{name}: {what}: {other:?}: {output}");
            }
        }
    }
}

impl Runner {
    /// A runner with `workers` threads (1: jobs run in the order given).
    pub fn new(name: &'static str, workers: usize) -> Self {
        let (tx, rx) = sync_channel(QUEUE);
        let rx = Arc::new(Mutex::new(rx));
        let stats = Arc::new(RunnerStats::default());
        let workers = (0..workers.max(1))
            .map(|i| {
                let (rx, stats) = (rx.clone(), stats.clone());
                thread::Builder::new()
                    .name(format!("{name}-{i}"))
                    .spawn(move || work(name, rx, stats))
                    .expect("spawn a runner thread")
            })
            .collect();
        Runner {
            name,
            tx: Some(tx),
            workers,
            stats,
        }
    }

    /// Queues a job; never blocks.
    pub fn submit(&self, job: Job) {
        let Some(tx) = &self.tx else { return };
        match tx.try_send(job) {
            Ok(()) => {}
            Err(TrySendError::Full(j)) => {
                self.stats.queue_full.fetch_add(1, Ordering::Relaxed);
                log::warn!("{}: queue full, not run: {}", self.name, describe(&j));
            }
            Err(TrySendError::Disconnected(_)) => {}
        }
    }

    /// Lets the queued jobs finish (each bounded by its timeout), then stops the workers.
    pub fn finish(&mut self) {
        self.tx = None;
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
    }
}

impl Drop for Runner {
    fn drop(&mut self) {
        self.tx = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str, timeout_ms: u64) -> Job {
        Job::new(
            "/bin/sh",
            &["-c", script],
            Duration::from_millis(timeout_ms),
        )
    }

    #[test]
    fn runs_with_a_clean_environment_and_keeps_output() {
        let mut j = sh("echo \"$L2TPNS_USER $PATH $HOME\"; exit 3", 5000);
        j.env.push(("L2TPNS_USER".into(), "alice".into()));
        let (o, out) = run(&j);
        assert_eq!(o, Outcome::Exited(3));
        assert_eq!(out, format!("alice {PATH}"));
    }

    #[test]
    fn a_child_past_its_deadline_is_killed() {
        let t = Instant::now();
        let (o, _) = run(&sh("sleep 30", 200));
        assert_eq!(o, Outcome::TimedOut);
        assert!(t.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn output_is_bounded_and_a_chatty_child_is_not_blocked() {
        let (o, out) = run(&sh("head -c 1000000 /dev/zero | tr '\\0' x", 10_000));
        assert_eq!(o, Outcome::Exited(0));
        assert_eq!(out.len(), OUTPUT_LIMIT);
    }

    #[test]
    fn one_worker_keeps_the_order_and_finish_waits() {
        let dir = std::env::temp_dir().join(format!("runner-{}", std::process::id()));
        let _ = std::fs::remove_file(&dir);
        let mut r = Runner::new("test", 1);
        for i in 0..20 {
            r.submit(sh(&format!("echo {i} >> {}", dir.display()), 5000));
        }
        r.finish();
        let text = std::fs::read_to_string(&dir).unwrap();
        let got: Vec<u32> = text.lines().map(|l| l.parse().unwrap()).collect();
        assert_eq!(got, (0..20).collect::<Vec<_>>());
        let _ = std::fs::remove_file(&dir);
        assert_eq!(r.stats.run.load(Ordering::Relaxed), 20);
    }

    #[test]
    fn a_missing_program_is_reported_not_fatal() {
        let (o, _) = run(&Job::new("/nonexistent/x", &[], Duration::from_secs(1)));
        assert!(matches!(o, Outcome::NotStarted(_)));
    }
}
