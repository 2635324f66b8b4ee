//! The `resize` job (`daemon/resize.go`): the container's tty size.

use engine::{Job, Status};

use crate::Daemon;
use crate::runtime::Control;

/// Runs `resize CONTAINER HEIGHT WIDTH`.
pub async fn resize(daemon: Daemon, job: Job) -> Status {
    let args = job.args();
    let [name, h, w] = args.as_slice() else {
        return job.errorf("Not enough arguments. Usage: resize CONTAINER HEIGHT WIDTH").await;
    };
    let (Ok(h), Ok(w)) = (h.parse::<u16>(), w.parse::<u16>()) else {
        return job.fail(engine::ErrorKind::BadParameter, format!("invalid size: {h}x{w}")).await;
    };
    let result = async {
        // The monitor's control channel exists only while the container
        // runs: the slot answers `Container <id> is not running` otherwise.
        let id = daemon.containers().get(name)?.lock().id.clone();
        daemon.runtime().slot(&id).control(|reply| Control::Resize(h, w, reply)).await
    }
    .await;
    match result {
        Ok(()) => Status::OK,
        Err(e) => job.fail(e.kind(), e).await,
    }
}
