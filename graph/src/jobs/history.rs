//! The `history` job.

use engine::{ErrorKind, Job, Status};

use super::ImageService;

/// Runs `history`.
pub async fn history(service: ImageService, job: Job) -> Status {
    let _ = service;
    job.fail(ErrorKind::NotImplemented, "history is not built yet").await
}
