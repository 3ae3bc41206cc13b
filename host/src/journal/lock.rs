//! One host per journal: an exclusive `flock` on `PATH.lock` beside the journal, held for the
//! whole run and released by the kernel when the process ends (even by `kill -9`: a crashed
//! host never leaves a stale lock). The lock file holds the holder's pid, for the error a second
//! host gets.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LockError {
    #[error(
        "journal {path} is in use by pid {pid} (another strategy-host runs on it); stop that one \
         first, or give this run its own [journal] path"
    )]
    InUse { path: PathBuf, pid: String },
    #[error("journal {path}: cannot take its lock {lock}: {reason}")]
    Io {
        path: PathBuf,
        lock: PathBuf,
        reason: String,
    },
}

/// The held lock (released on drop, or when the process ends).
#[derive(Debug)]
pub struct JournalLock {
    _file: File,
    pub path: PathBuf,
}

impl JournalLock {
    /// Takes the lock of the journal at `journal`, or says who holds it.
    pub fn acquire(journal: &Path) -> Result<JournalLock, LockError> {
        let lock = PathBuf::from(format!("{}.lock", journal.display()));
        let io = |e: std::io::Error| LockError::Io {
            path: journal.to_path_buf(),
            lock: lock.clone(),
            reason: e.to_string(),
        };
        if let Some(dir) = lock.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&lock)
            .map_err(io)?;
        // SAFETY: flock on a file descriptor this function owns; no memory is shared.
        let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if rc != 0 {
            let e = std::io::Error::last_os_error();
            if e.raw_os_error() == Some(libc::EWOULDBLOCK) {
                let mut pid = String::new();
                let _ = file.read_to_string(&mut pid);
                let pid = pid.trim();
                return Err(LockError::InUse {
                    path: journal.to_path_buf(),
                    pid: if pid.is_empty() {
                        "?".into()
                    } else {
                        pid.chars().take(12).collect()
                    },
                });
            }
            return Err(io(e));
        }
        file.set_len(0).map_err(io)?;
        file.rewind().map_err(io)?;
        write!(file, "{}", std::process::id()).map_err(io)?;
        file.flush().map_err(io)?;
        Ok(JournalLock {
            _file: file,
            path: lock,
        })
    }
}

/// Whether a host holds the lock of the journal at `journal` now (read only: the lock file is
/// not written, and a shared lock is held only for the test).
pub fn held(journal: &Path) -> bool {
    let lock = PathBuf::from(format!("{}.lock", journal.display()));
    let Ok(file) = File::open(&lock) else {
        return false;
    };
    // SAFETY: flock on a file descriptor this function owns; no memory is shared.
    let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_SH | libc::LOCK_NB) };
    if rc == 0 {
        // SAFETY: as above; releases the shared lock just taken.
        unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_UN) };
        return false;
    }
    std::io::Error::last_os_error().raw_os_error() == Some(libc::EWOULDBLOCK)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_refused_with_the_first_one_s_pid_until_it_lets_go() {
        let dir = std::env::temp_dir().join(format!("sh-lock-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let journal = dir.join("j.db");
        let held = JournalLock::acquire(&journal).unwrap();
        // flock locks belong to the open file description: a second open in the same process
        // conflicts like another process would.
        let e = JournalLock::acquire(&journal).unwrap_err();
        assert_eq!(
            e,
            LockError::InUse {
                path: journal.clone(),
                pid: std::process::id().to_string()
            }
        );
        assert!(e.to_string().contains("is in use by pid"));
        drop(held);
        JournalLock::acquire(&journal).expect("free again");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
