//! The `container_changes` job: what the container changed in its layer.

use engine::{Job, Status};

use crate::Daemon;

/// Runs `container_changes` (being written).
pub async fn changes(_daemon: Daemon, job: Job) -> Status {
    job.errorf("container_changes: not implemented yet").await
}
