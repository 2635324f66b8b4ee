//! The `commit` job: a new image from a container's layer.

use engine::{Job, Status};

use crate::Daemon;

/// Runs `commit` (being written).
pub async fn commit(_daemon: Daemon, job: Job) -> Status {
    job.errorf("commit: not implemented yet").await
}
