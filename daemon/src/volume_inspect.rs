//! `volume_inspect` (`GET /volumes/{name}`, API v1.21+): the local volumes
//! under `<root>/volumes/<name>/_data` (the anonymous volumes containers
//! get), in dockerd 1.12's shape; any other name is a 404 with dockerd's
//! text, which lets the docker CLI's `inspect NAME` end on
//! `No such object: NAME`.

use engine::{ErrorKind, Job, Status};
use serde_json::json;

use crate::Daemon;

/// Runs `volume_inspect NAME`.
pub async fn volume_inspect(daemon: Daemon, job: Job) -> Status {
    let Some(name) = job.args().into_iter().next() else {
        return job.errorf("Usage: volume_inspect NAME").await;
    };
    // A name is one path component: never a way out of the volumes dir.
    let data = daemon.layout().volumes.join(&name).join("_data");
    let plain = !name.is_empty() && !name.contains('/') && name != "." && name != "..";
    if !plain || !data.is_dir() {
        return job.fail(ErrorKind::NotFound, format!("get {name}: no such volume")).await;
    }
    let answer = json!({
        "Name": name,
        "Driver": "local",
        "Mountpoint": data.display().to_string(),
        "Labels": null,
        "Scope": "local",
    });
    match job.print(answer.to_string()).await {
        Ok(()) => Status::OK,
        Err(e) => job.errorf(format!("volume_inspect: {e}")).await,
    }
}
