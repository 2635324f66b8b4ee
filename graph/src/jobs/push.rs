//! The `push` job.

use engine::{ErrorKind, Job, Status};

use super::ImageService;

/// Runs `push`.
pub async fn push(service: ImageService, job: Job) -> Status {
    let _ = service;
    job.fail(ErrorKind::NotImplemented, "push is not built yet").await
}
