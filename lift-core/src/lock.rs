//! One writer per folder: training, `lift-analyze evaluate` and `cargo xtask reproduce` hold an
//! advisory lock on the folder they write (`<folder>/.lock`, the operating system's `flock`), so
//! a second process started into it stops with the holder's pid instead of interleaving
//! checkpoints. The lock goes with the process: a run killed with `kill -9` leaves the file, not
//! the lock, and `--resume` takes it again.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

/// The lock file inside a locked folder.
pub const FILE: &str = ".lock";

/// A held lock; released when dropped (or when the process ends).
#[derive(Debug)]
pub struct FolderLock {
    _file: File,
    pub folder: PathBuf,
}

impl FolderLock {
    /// Locks `folder` (created if needed) for `what` (e.g. "lift-train"); fails, naming the folder
    /// and the holder's pid, while another process holds it.
    pub fn acquire(folder: &Path, what: &str) -> Result<Self> {
        std::fs::create_dir_all(folder).with_context(|| format!("cannot create {}", folder.display()))?;
        let path = folder.join(FILE);
        let mut file =
            OpenOptions::new().read(true).write(true).create(true).truncate(false).open(&path).with_context(|| format!("cannot open {}", path.display()))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                bail!(
                    "{} is in use by another lift process ({}): wait for it to finish, or choose another output folder",
                    folder.display(),
                    if holder.trim().is_empty() { "pid unknown".to_string() } else { holder.trim().to_string() }
                );
            }
            Err(TryLockError::Error(e)) => return Err(e).with_context(|| format!("cannot lock {}", path.display())),
        }
        file.set_len(0)
            .and_then(|_| file.rewind())
            .and_then(|_| write!(file, "pid {}, {what}", std::process::id()))
            .with_context(|| format!("cannot write {}", path.display()))?;
        Ok(Self { _file: file, folder: folder.to_path_buf() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_refused_until_the_first_lets_go() {
        let dir = std::env::temp_dir().join(format!("lift-lock-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let first = FolderLock::acquire(&dir, "test").unwrap();
        // flock is per open file description: a second open in this process conflicts too.
        let e = FolderLock::acquire(&dir, "second").unwrap_err().to_string();
        assert!(e.contains(&dir.display().to_string()) && e.contains(&format!("pid {}, test", std::process::id())), "{e}");
        drop(first);
        let again = FolderLock::acquire(&dir, "third").unwrap();
        assert_eq!(std::fs::read_to_string(dir.join(FILE)).unwrap(), format!("pid {}, third", std::process::id()));
        drop(again);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
