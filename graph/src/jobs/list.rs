//! The `images` job.

use engine::{ErrorKind, Job, Status};

use super::ImageService;

/// Runs `images`.
pub async fn images(service: ImageService, job: Job) -> Status {
    let _ = service;
    job.fail(ErrorKind::NotImplemented, "images is not built yet").await
}
