//! The exec driver's errors: each names the container and the path or step
//! that failed, so the daemon can return the text as-is.

use std::path::PathBuf;

/// Everything the driver can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Setup inside the container failed before the user's command ran;
    /// the text is the init's own (e.g. `exec: "x": executable file not found in $PATH`).
    #[error("{message}")]
    Start { id: String, message: String, not_found: bool },
    #[error("container {id}: spawning the container init {path}: {source}")]
    SpawnInit { id: String, path: PathBuf, source: std::io::Error },
    #[error("container {id}: talking to the container init: {source}")]
    Protocol { id: String, source: std::io::Error },
    #[error("container {id}: cgroup {path}: {source}")]
    Cgroup { id: String, path: PathBuf, source: std::io::Error },
    #[error("container {id}: no cgroup hierarchy found (neither v1 nor v2 mounted under /sys/fs/cgroup)")]
    NoCgroups { id: String },
    #[error("container {id}: sending signal {signal} to pid {pid}: {source}")]
    Signal { id: String, pid: i32, signal: i32, source: nix::Error },
    #[error("container {id}: {what}: {source}")]
    Io { id: String, what: &'static str, source: std::io::Error },
    #[error("container {id} is not running")]
    NotRunning { id: String },
    #[error("container {id}: no tty")]
    NoTty { id: String },
}

impl Error {
    /// Whether this is the user's command missing (Docker answers 404 then,
    /// rather than 500).
    pub fn is_not_found(&self) -> bool {
        matches!(self, Error::Start { not_found: true, .. })
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
