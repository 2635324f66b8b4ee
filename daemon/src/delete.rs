//! The `delete` job (`daemon/delete.go`): removes a stopped container, its
//! layer, its directory and its name, with `removeVolume` (`rm -v`) its
//! volumes no other container uses, then emits `destroy`. With
//! `removeLink` (`rm -l /web/db`) it removes a link from its container
//! instead.
//!
//! The container is marked `removing` (and saved) before anything is
//! deleted, so a crash half-way leaves a container that can be removed
//! again; the directory goes last, since its config is what makes the
//! container exist after a restart.

use engine::{Job, Status};

use crate::error::ContainerError;
use crate::{Daemon, events};

/// Runs `delete CONTAINER` (env `removeVolume`, `forceRemove`,
/// `removeLink`).
pub async fn delete(daemon: Daemon, job: Job) -> Status {
    let args = job.args();
    let [name] = args.as_slice() else {
        return job.errorf("Not enough arguments. Usage: delete CONTAINER").await;
    };
    if job.getenv_bool("removeLink") {
        let d = daemon.clone();
        let name = name.clone();
        return match tokio::task::spawn_blocking(move || remove_link(&d, &name)).await {
            Ok(Ok(())) => Status::OK,
            Ok(Err(e)) => job.fail(e.kind(), e).await,
            Err(e) => job.errorf(format!("delete: {e}")).await,
        };
    }
    let force = job.getenv_bool("forceRemove");
    if force {
        // dockerd kills a running container before a forced removal.
        match crate::kill::kill_container(&daemon, name, nix::sys::signal::Signal::SIGKILL as i32, true).await {
            Ok(_) | Err(ContainerError::NotRunning(_)) => {}
            Err(e) => {
                return job
                    .fail(e.kind(), format!("Could not kill running container {name}, cannot remove - {e}"))
                    .await;
            }
        }
    }
    let d = daemon.clone();
    let name = name.clone();
    let remove_volumes = job.getenv_bool("removeVolume");
    let result = tokio::task::spawn_blocking(move || {
        let c = remove(&d, &name, force)?;
        if remove_volumes {
            // Once the container is gone from the store, its volumes that
            // no other container mounts (`--volumes-from`) can go too.
            crate::volumes::remove_volumes(&d, &crate::volumes::unused_volumes(d.containers(), &c));
        }
        Ok::<_, ContainerError>(c)
    })
    .await;
    match result {
        Ok(Ok(c)) => {
            daemon.runtime().forget(&c.id);
            // After the answer, not before: the docker CLI below API 1.25
            // removes `run --rm` containers itself and exits on `destroy`,
            // cancelling its DELETE ("error removing container: context
            // canceled") if that answer has not arrived yet.
            let j = job.clone();
            tokio::spawn(async move {
                j.replied().await;
                events::log(&j, "destroy", &c, &[]).await;
            });
            Status::OK
        }
        Ok(Err(e)) => job.fail(e.kind(), e).await,
        Err(e) => job.errorf(format!("delete: {e}")).await,
    }
}

fn remove(daemon: &Daemon, name: &str, force: bool) -> Result<crate::container::Container, ContainerError> {
    let store = daemon.containers();
    let handle = store.get(name)?;
    let snapshot = {
        let mut c = handle.lock();
        if c.state.running && !force {
            return Err(ContainerError::Running(c.id.clone()));
        }
        if c.state.removal_in_progress {
            return Err(ContainerError::BadParameter(format!(
                "removal of container {} is already in progress",
                c.name
            )));
        }
        // A forced removal killed the process above; one that started again
        // since is refused rather than removed under its feet.
        if c.state.running {
            return Err(ContainerError::Running(c.id.clone()));
        }
        c.state.removal_in_progress = true;
        c.clone()
    };
    let id = snapshot.id.clone();
    let undo = |e: ContainerError| {
        handle.lock().state.removal_in_progress = false;
        e
    };
    store.save(&snapshot).map_err(undo)?;
    let driver = daemon.graph().driver();
    if driver.exists(snapshot.layer_id()) {
        driver.remove(snapshot.layer_id()).map_err(|e| undo(e.into()))?;
    }
    let dir = snapshot.dir(store.dir());
    if let Err(e) = std::fs::remove_dir_all(&dir) {
        // Without its layer the container cannot run again: it is dead.
        let mut c = handle.lock();
        c.state.removal_in_progress = false;
        c.state.dead = true;
        let _ = store.save(&c);
        return Err(ContainerError::io(&id, &dir)(e));
    }
    store.forget(&id);
    tracing::info!(container = %id, "removed");
    Ok(snapshot)
}

/// `rm -l /web/db`: drops the link of alias `db` from the host config of
/// `web` (dockerd's `rmLink`; the linked container is not touched). A
/// running `web` keeps its environment, hosts line and rules until it
/// stops, as in dockerd; its next start no longer links.
fn remove_link(daemon: &Daemon, name: &str) -> Result<(), ContainerError> {
    let full = if name.starts_with('/') { name.to_string() } else { format!("/{name}") };
    let (parent, alias) = full.rsplit_once('/').unwrap_or(("", &full));
    if parent.is_empty() {
        return Err(ContainerError::DefaultName);
    }
    let handle = daemon
        .containers()
        .get(parent)
        .map_err(|_| ContainerError::BadParameter(format!("Cannot get parent {parent} for name {full}")))?;
    let snapshot = {
        let mut c = handle.lock();
        let links = c.host_config.links.get_or_insert_with(Vec::new);
        let before = links.len();
        links.retain(|l| crate::network::parse_link(l).map_or(true, |(_, a)| a != alias));
        if links.len() == before {
            return Err(ContainerError::NoSuchLink(full));
        }
        c.clone()
    };
    daemon.containers().save(&snapshot)
}
