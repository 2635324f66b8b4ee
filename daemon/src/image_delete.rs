//! The `image_delete` job (`docker rmi`). It lives in the daemon, not the
//! graph, because only the daemon knows which containers use an image; the
//! untag/delete/prune rules are `graph::jobs::delete_image`'s.

use engine::{Job, Status};
use graph::jobs::events::log_image_event;
use graph::jobs::{DeleteOptions, delete_image};
use runconfig::image::DeleteItem;

use crate::Daemon;

/// Runs `image_delete IMAGE` (env `force`, `noprune`): prints the JSON list
/// of what was untagged and deleted, and logs `untag`/`delete` events.
pub async fn image_delete(daemon: Daemon, job: Job) -> Status {
    let args = job.args();
    let [name] = args.as_slice() else {
        return job.errorf("Usage: image_delete IMAGE").await;
    };
    let (force, noprune) = (job.getenv_bool("force"), job.getenv_bool("noprune"));
    let graph = daemon.graph().clone();
    let name_owned = name.clone();
    let result = tokio::task::spawn_blocking(move || {
        let used_by = |image: &str| daemon.containers().used_by_image(image);
        delete_image(&graph, &name_owned, &DeleteOptions { force, noprune, used_by: &used_by })
    })
    .await;
    let items = match result {
        Ok(Ok(items)) => items,
        Ok(Err(e)) => return job.fail(e.kind(), e).await,
        Err(e) => return job.errorf(format!("image_delete: {e}")).await,
    };
    for item in &items {
        let (action, id) = match item {
            DeleteItem::Untagged(name) => ("untag", name),
            DeleteItem::Deleted(id) => ("delete", id),
        };
        log_image_event(&job, action, id, id).await;
    }
    match serde_json::to_vec(&items) {
        Ok(body) => match job.print(body).await {
            Ok(()) => Status::OK,
            Err(e) => job.errorf(format!("image_delete: {e}")).await,
        },
        Err(e) => job.errorf(format!("image_delete: {e}")).await,
    }
}
