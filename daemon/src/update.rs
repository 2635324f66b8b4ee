//! The `container_update` job: new memory and CPU limits for a container.

use engine::{Job, Status};

use crate::Daemon;

/// Runs `container_update` (being written).
pub async fn update(_daemon: Daemon, job: Job) -> Status {
    job.errorf("container_update: not implemented yet").await
}
