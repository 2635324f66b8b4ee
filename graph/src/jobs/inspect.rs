//! The `image_inspect` job.

use engine::{ErrorKind, Job, Status};

use super::ImageService;

/// Runs `image_inspect`.
pub async fn image_inspect(service: ImageService, job: Job) -> Status {
    let _ = service;
    job.fail(ErrorKind::NotImplemented, "image_inspect is not built yet").await
}
