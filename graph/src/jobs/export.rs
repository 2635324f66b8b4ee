//! The `image_export` job.

use engine::{ErrorKind, Job, Status};

use super::ImageService;

/// Runs `image_export`.
pub async fn image_export(service: ImageService, job: Job) -> Status {
    let _ = service;
    job.fail(ErrorKind::NotImplemented, "image_export is not built yet").await
}
