//! The `pull` job.

use engine::{ErrorKind, Job, Status};

use super::ImageService;

/// Runs `pull`.
pub async fn pull(service: ImageService, job: Job) -> Status {
    let _ = service;
    job.fail(ErrorKind::NotImplemented, "pull is not built yet").await
}
