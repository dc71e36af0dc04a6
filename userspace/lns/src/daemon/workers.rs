//! Data-plane worker threads (`--workers N`, `data_workers`): each owns a [`DataPath`] with
//! its own queue of the multi-queue TUN device, its own socket of each bind address's
//! reuseport group ([`crate::reuseport`]: steered by the L2TP session id) and its own epoll.
//! The session view is lock-free, so a worker never waits for the control loop; what only
//! the endpoint can do ([`SlowPath`]) goes to the control loop over a bounded queue, with a
//! [`mio::Waker`] to wake it. A full queue drops the work, counted (`slow_path_dropped`),
//! as a full socket buffer would.

use std::io;
use std::os::fd::{AsFd, AsRawFd};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError};
use std::sync::Arc;
use std::time::Instant;

use lns_dataplane::data_plane::Counters;
use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token, Waker};

use super::data_path::{DataPath, PathStats, SlowPath};

/// Batches of slow-path work queued at most from all workers to the control loop.
const SLOW_QUEUE: usize = 4096;

const TOKEN_TUN: Token = Token(0);
/// Bind socket i is Token(TOKEN_UDP_BASE + i).
const TOKEN_UDP_BASE: usize = 1;

/// One worker, set up (its queue and sockets registered) but not yet started.
pub struct Worker {
    index: usize,
    poll: Poll,
    path: DataPath,
}

/// What the control loop keeps of a running worker: its counters.
pub struct WorkerView {
    pub counters: Arc<Counters>,
    pub stats: Arc<PathStats>,
}

impl Worker {
    /// Registers `path`'s TUN queue and sockets with a poll of the worker's own.
    pub fn new(index: usize, mut path: DataPath) -> io::Result<Self> {
        let poll = Poll::new()?;
        poll.registry().register(
            &mut SourceFd(&path.tun.as_fd().as_raw_fd()),
            TOKEN_TUN,
            Interest::READABLE,
        )?;
        for (i, (_, sock)) in path.udp.iter_mut().enumerate() {
            poll.registry()
                .register(sock, Token(TOKEN_UDP_BASE + i), Interest::READABLE)?;
        }
        Ok(Worker { index, poll, path })
    }

    pub fn view(&self) -> WorkerView {
        WorkerView {
            counters: self.path.counters.clone(),
            stats: self.path.stats.clone(),
        }
    }

    /// Starts the thread; it serves until the process exits.
    pub fn spawn(self, to_control: SyncSender<Vec<SlowPath>>, waker: Arc<Waker>) -> io::Result<()> {
        std::thread::Builder::new()
            .name(format!("l2tpns-dp{}", self.index))
            .spawn(move || self.run(&to_control, &waker))?;
        Ok(())
    }

    fn run(mut self, to_control: &SyncSender<Vec<SlowPath>>, waker: &Waker) {
        let mut events = Events::with_capacity(64);
        loop {
            let now = Instant::now();
            let timeout = self
                .path
                .held_deadline(now)
                .map(|t| t.saturating_duration_since(now));
            if let Err(e) = self.poll.poll(&mut events, timeout) {
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                log::error!("worker {}: epoll: {e}; the worker stops", self.index);
                return;
            }
            let now = Instant::now();
            for ev in events.iter() {
                match ev.token() {
                    TOKEN_TUN => self.path.tun_readable(),
                    Token(t) => {
                        if let Some(i) = t.checked_sub(TOKEN_UDP_BASE) {
                            if i < self.path.udp.len() {
                                self.path.udp_readable(i as u16, now);
                            }
                        }
                    }
                }
            }
            self.path.release_held();
            let slow = self.path.take_slow();
            if slow.is_empty() {
                continue;
            }
            match to_control.try_send(slow) {
                Ok(()) => {
                    let _ = waker.wake();
                }
                Err(TrySendError::Full(lost)) => {
                    PathStats::add(&self.path.stats.slow_path_dropped, lost.len() as u64)
                }
                // The control loop is gone: the daemon is exiting.
                Err(TrySendError::Disconnected(_)) => return,
            }
        }
    }
}

/// The queue from the workers to the control loop.
pub fn slow_queue() -> (SyncSender<Vec<SlowPath>>, Receiver<Vec<SlowPath>>) {
    std::sync::mpsc::sync_channel(SLOW_QUEUE)
}

/// The worker count to use: `requested` (the command line's, else `data_workers` when not
/// 0), else one per online core; capped at 256 (the kernel's TUN queue limit).
pub fn count(requested: Option<usize>) -> usize {
    requested
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .clamp(1, 256)
}
