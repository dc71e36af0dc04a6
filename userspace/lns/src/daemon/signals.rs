//! Signals as flags plus a wake-up pipe the event loop polls (signal-hook): the handlers only
//! set an atomic and write a byte, everything else happens in the loop (async-signal safety).

use std::io::{self, Read};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use signal_hook::consts::{SIGHUP, SIGINT, SIGQUIT, SIGTERM};

/// What the operator asked for, in the original's meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Request {
    /// SIGHUP: reload the configuration and reopen the logs.
    Reload,
    /// SIGQUIT (and SIGINT): clean shutdown, every session cleared and accounted.
    Quit,
    /// SIGTERM: save state and exit without telling the peers (restart resumes the sessions).
    Terminate,
}

pub struct Signals {
    reader: UnixStream,
    hup: Arc<AtomicBool>,
    quit: Arc<AtomicBool>,
    term: Arc<AtomicBool>,
}

impl Signals {
    pub fn install() -> io::Result<Self> {
        let (reader, writer) = UnixStream::pair()?;
        reader.set_nonblocking(true)?;
        writer.set_nonblocking(true)?;
        let hup = Arc::new(AtomicBool::new(false));
        let quit = Arc::new(AtomicBool::new(false));
        let term = Arc::new(AtomicBool::new(false));
        for (sig, flag) in [
            (SIGHUP, &hup),
            (SIGQUIT, &quit),
            (SIGINT, &quit),
            (SIGTERM, &term),
        ] {
            signal_hook::flag::register(sig, flag.clone())?;
            signal_hook::low_level::pipe::register(sig, writer.try_clone()?)?;
        }
        Ok(Signals {
            reader,
            hup,
            quit,
            term,
        })
    }

    pub fn fd(&self) -> RawFd {
        self.reader.as_raw_fd()
    }

    /// Drains the wake-up pipe and returns the pending requests, most drastic first.
    pub fn take(&mut self) -> Vec<Request> {
        let mut buf = [0u8; 64];
        while matches!((&self.reader).read(&mut buf), Ok(n) if n > 0) {}
        let mut out = Vec::new();
        if self.term.swap(false, Ordering::SeqCst) {
            out.push(Request::Terminate);
        }
        if self.quit.swap(false, Ordering::SeqCst) {
            out.push(Request::Quit);
        }
        if self.hup.swap(false, Ordering::SeqCst) {
            out.push(Request::Reload);
        }
        out
    }
}
