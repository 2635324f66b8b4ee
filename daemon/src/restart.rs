//! The `restart` job (`daemon/restart.go`): stop (if running) with the
//! grace period `t`, then start; emits `restart`.

use engine::{Job, Status};

use crate::error::ContainerError;
use crate::stop::{grace, stop_container};
use crate::{Daemon, events, start};

/// Runs `restart CONTAINER` (env `t`).
pub async fn restart(daemon: Daemon, job: Job) -> Status {
    let args = job.args();
    let [name] = args.as_slice() else {
        return job.errorf("Usage: restart CONTAINER").await;
    };
    match stop_container(&daemon, name, grace(&job)).await {
        Ok(_) | Err(ContainerError::AlreadyStopped(_)) => {}
        Err(e) => return job.fail(e.kind(), format!("Cannot restart container {name}: {e}")).await,
    }
    match start::start_container(&daemon, name, None, true).await {
        Ok(c) => {
            events::log(&job, "restart", &c, &[]).await;
            Status::OK
        }
        Err(e) => job.fail(e.kind(), format!("Cannot restart container {name}: {e}")).await,
    }
}
