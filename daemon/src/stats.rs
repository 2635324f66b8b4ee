//! The `container_stats` job: CPU, memory, network and block I/O from the cgroups.

use engine::{Job, Status};

use crate::Daemon;

/// Runs `container_stats` (being written).
pub async fn stats(_daemon: Daemon, job: Job) -> Status {
    job.errorf("container_stats: not implemented yet").await
}
