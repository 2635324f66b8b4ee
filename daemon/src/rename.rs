//! The `container_rename` job (`daemon/rename.go` of dockerd 1.12):
//! a new name for a container, emitting `rename` with `oldName`.

use engine::{Job, Status};

use crate::error::ContainerError;
use crate::{Daemon, events, names};

/// Runs `container_rename OLD NEW`.
pub async fn rename(daemon: Daemon, job: Job) -> Status {
    let args = job.args();
    let [old, new] = args.as_slice() else {
        return job.errorf("usage: container_rename OLD_NAME NEW_NAME").await;
    };
    let d = daemon.clone();
    let (old, new) = (old.clone(), new.clone());
    let result = tokio::task::spawn_blocking(move || rename_blocking(&d, &old, &new)).await;
    match result {
        Ok(Ok((c, old_name))) => {
            events::log(&job, "rename", &c, &[("oldName", &format!("/{old_name}"))]).await;
            Status::OK
        }
        Ok(Err(e)) => job.fail(e.kind(), e).await,
        Err(e) => job.errorf(format!("container_rename: {e}")).await,
    }
}

fn rename_blocking(
    daemon: &Daemon,
    old: &str,
    new: &str,
) -> Result<(crate::container::Container, String), ContainerError> {
    let new = names::validate(new).map_err(ContainerError::InvalidName)?;
    let store = daemon.containers();
    let handle = store.get(old)?;
    let id = handle.lock().id.clone();
    if handle.lock().name == new {
        return Err(ContainerError::BadParameter("Renaming a container with the same name as its current name".into()));
    }
    let old_name = store.rename(&id, new)?;
    let snapshot = handle.lock().clone();
    if let Err(e) = store.save(&snapshot) {
        // Put the old name back: the one on disk is still the old one.
        let _ = store.rename(&id, &old_name);
        return Err(e);
    }
    Ok((snapshot, old_name))
}
