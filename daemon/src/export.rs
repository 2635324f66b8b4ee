//! The `export` job: the container's whole file system as a tar.

use engine::{Job, Status};

use crate::Daemon;

/// Runs `export` (being written).
pub async fn export(_daemon: Daemon, job: Job) -> Status {
    job.errorf("export: not implemented yet").await
}
