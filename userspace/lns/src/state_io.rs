//! The state file on disk: written atomically on SIGTERM, read and removed at start. The
//! format and its checks are `lns_core::state_file`'s; this module is the I/O.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use lns_core::state_file::{check_fresh, decode, encode, LoadError, SavedState, FILE_NAME};

/// This boot's id (`/proc/sys/kernel/random/boot_id`).
pub fn current_boot_id() -> io::Result<String> {
    Ok(fs::read_to_string("/proc/sys/kernel/random/boot_id")?
        .trim()
        .to_owned())
}

/// Writes `state` to `dir`/[`FILE_NAME`] atomically: a temporary file in the same
/// directory, mode 0600, written and fsynced, renamed over the old file, then the directory
/// fsynced. A failure at any step leaves the previous file as it was.
pub fn save(dir: &Path, state: &SavedState) -> io::Result<PathBuf> {
    let bytes = encode(state);
    write_atomically(dir, FILE_NAME, |f| f.write_all(&bytes))
}

/// Replaces `dir`/`name` with what `write` writes, atomically (the state file, and any other
/// file the daemon rewrites whole).
pub fn write_atomically(
    dir: &Path,
    name: &str,
    write: impl FnOnce(&mut File) -> io::Result<()>,
) -> io::Result<PathBuf> {
    fs::create_dir_all(dir)?;
    let path = dir.join(name);
    // One writer at a time (the daemon holds its pid file): a fixed name is safe, and a
    // leftover from a crash mid-save is simply replaced.
    let tmp = dir.join(format!(".{name}.tmp"));
    let _ = fs::remove_file(&tmp);
    let result = (|| {
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        write(&mut f)?;
        f.sync_all()?;
        drop(f);
        fs::rename(&tmp, &path)?;
        // The rename is durable only once the directory is.
        File::open(dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.map(|()| path)
}

/// Reads, removes and checks `dir`/[`FILE_NAME`]. `Ok(None)`: there is none. The file is
/// removed as soon as it is read, whatever it holds: a refused file never becomes valid, and
/// a crash while resuming must not resume the same sessions again.
pub fn load(dir: &Path, now: SystemTime, boot_id: &str) -> Result<Option<SavedState>, LoadError> {
    let path = dir.join(FILE_NAME);
    let io_err = |source| LoadError::Io {
        path: path.clone(),
        source,
    };
    let bytes = match fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_err(e)),
    };
    // Not removable means it could be resumed again after a crash: refuse it.
    fs::remove_file(&path).map_err(io_err)?;
    let state = decode(&bytes)?;
    check_fresh(&state.header, now, boot_id)?;
    Ok(Some(state))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_write_keeps_the_previous_file_and_no_temporary() {
        let dir = std::env::temp_dir().join(format!("lns-state-unit-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let path = write_atomically(&dir, "f", |f| f.write_all(b"old")).unwrap();
        let err = write_atomically(&dir, "f", |f| {
            f.write_all(b"half of the new")?;
            Err(io::Error::other("disk full"))
        });
        assert!(err.is_err());
        assert_eq!(fs::read(&path).unwrap(), b"old");
        assert!(!dir.join(".f.tmp").exists());
        fs::remove_dir_all(&dir).unwrap();
    }
}
