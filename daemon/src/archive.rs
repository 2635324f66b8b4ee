//! Copying files out of and into a container: `container_copy` (1.2) and the archive jobs.

use engine::{Job, Status};

use crate::Daemon;

/// Runs `container_copy` (being written).
pub async fn copy(_daemon: Daemon, job: Job) -> Status {
    job.errorf("container_copy: not implemented yet").await
}

/// Runs `container_archive_stat` (being written).
pub async fn archive_stat(_daemon: Daemon, job: Job) -> Status {
    job.errorf("container_archive_stat: not implemented yet").await
}

/// Runs `container_archive_get` (being written).
pub async fn archive_get(_daemon: Daemon, job: Job) -> Status {
    job.errorf("container_archive_get: not implemented yet").await
}

/// Runs `container_archive_put` (being written).
pub async fn archive_put(_daemon: Daemon, job: Job) -> Status {
    job.errorf("container_archive_put: not implemented yet").await
}
