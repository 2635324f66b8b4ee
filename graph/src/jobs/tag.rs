//! The `tag` job.

use engine::{ErrorKind, Job, Status};

use super::ImageService;

/// Runs `tag`.
pub async fn tag(service: ImageService, job: Job) -> Status {
    let _ = service;
    job.fail(ErrorKind::NotImplemented, "tag is not built yet").await
}
