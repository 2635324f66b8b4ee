//! The `resize` job (`daemon/resize.go`): the container's tty size.

use engine::{Job, Status};

use crate::Daemon;
use crate::error::ContainerError;
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
        let handle = daemon.containers().get(name)?;
        let id = {
            let c = handle.lock();
            if !c.state.running {
                return Err(ContainerError::NotRunning(name.clone()));
            }
            c.id.clone()
        };
        daemon.runtime().slot(&id).control(|reply| Control::Resize(h, w, reply)).await
    }
    .await;
    match result {
        Ok(()) => Status::OK,
        Err(e) => job.fail(e.kind(), e).await,
    }
}
