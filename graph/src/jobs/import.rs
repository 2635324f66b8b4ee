//! The `import` job.

use engine::{ErrorKind, Job, Status};

use super::ImageService;

/// Runs `import`.
pub async fn import(service: ImageService, job: Job) -> Status {
    let _ = service;
    job.fail(ErrorKind::NotImplemented, "import is not built yet").await
}
