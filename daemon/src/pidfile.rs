//! The daemon's pidfile (`utils.CreatePidFile` of Docker 1.2): refuse to
//! start while the pid it names is alive, else write ours; removed at
//! shutdown.
//!
//! Departure: the file is also held with an exclusive `flock` for the
//! daemon's life, so two daemons starting at the same moment cannot both
//! pass the check (the original had that race).

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use nix::fcntl::{Flock, FlockArg};

use crate::DaemonError;

/// A claimed pidfile. Dropping it releases the lock, not the file.
#[derive(Debug)]
pub struct Pidfile {
    path: PathBuf,
    _lock: Flock<File>,
}

impl Pidfile {
    /// Claims `path` for this process.
    pub fn claim(path: &Path) -> Result<Pidfile, DaemonError> {
        let io = |e| DaemonError::Io { path: path.to_path_buf(), source: e };
        let in_use = || DaemonError::PidfileInUse(path.to_path_buf());
        let mut file = OpenOptions::new().read(true).write(true).create(true).truncate(false).open(path).map_err(io)?;
        let mut lock =
            Flock::lock(file.try_clone().map_err(io)?, FlockArg::LockExclusiveNonblock).map_err(|_| in_use())?;
        let mut previous = String::new();
        file.read_to_string(&mut previous).map_err(io)?;
        if let Ok(pid) = previous.trim().parse::<u32>()
            && pid != std::process::id()
            && Path::new(&format!("/proc/{pid}")).exists()
        {
            return Err(in_use());
        }
        lock.set_len(0).map_err(io)?;
        lock.rewind().map_err(io)?;
        write!(lock, "{}", std::process::id()).map_err(io)?;
        lock.sync_all().map_err(io)?;
        Ok(Pidfile { path: path.to_path_buf(), _lock: lock })
    }

    /// Where it is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Removes the file (at shutdown).
    pub fn remove(&self) {
        if let Err(e) = std::fs::remove_file(&self.path) {
            tracing::warn!(path = %self.path.display(), error = %e, "could not remove the pidfile");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claim_writes_our_pid_and_refuses_a_live_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("docker.pid");
        let claimed = Pidfile::claim(&path).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), std::process::id().to_string());
        // Held: a second claim (another daemon) is refused.
        let err = Pidfile::claim(&path).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("pid file found, ensure docker is not running or delete {}", path.display())
        );
        claimed.remove();
        assert!(!path.exists());
    }

    #[test]
    fn a_live_pid_written_by_someone_else_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("docker.pid");
        // pid 1 is always alive.
        std::fs::write(&path, "1").unwrap();
        assert!(matches!(Pidfile::claim(&path), Err(DaemonError::PidfileInUse(_))));
    }

    #[test]
    fn a_stale_pid_is_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("docker.pid");
        std::fs::write(&path, "999999999").unwrap();
        let _claimed = Pidfile::claim(&path).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), std::process::id().to_string());
    }
}
