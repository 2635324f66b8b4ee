//! The `load` job.

use engine::{ErrorKind, Job, Status};

use super::ImageService;

/// Runs `load`.
pub async fn load(service: ImageService, job: Job) -> Status {
    let _ = service;
    job.fail(ErrorKind::NotImplemented, "load is not built yet").await
}
