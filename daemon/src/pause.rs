//! The `pause` and `unpause` jobs (`daemon/pause.go`): the cgroup freezer;
//! `State.Paused` saved; `pause`/`unpause` events.

use engine::{Job, Status};

use crate::error::ContainerError;
use crate::runtime::{Control, blocking};
use crate::{Daemon, events};

/// Runs `pause CONTAINER`.
pub async fn pause(daemon: Daemon, job: Job) -> Status {
    freeze(daemon, job, true).await
}

/// Runs `unpause CONTAINER`.
pub async fn unpause(daemon: Daemon, job: Job) -> Status {
    freeze(daemon, job, false).await
}

async fn freeze(daemon: Daemon, job: Job, frozen: bool) -> Status {
    let args = job.args();
    let Some(name) = args.first() else {
        let verb = if frozen { "pause" } else { "unpause" };
        return job.errorf(format!("Usage: {verb} CONTAINER")).await;
    };
    match set_frozen(&daemon, name, frozen).await {
        Ok(c) => {
            events::log(&job, if frozen { "pause" } else { "unpause" }, &c, &[]).await;
            Status::OK
        }
        Err(e) => job.fail(e.kind(), e).await,
    }
}

pub(crate) async fn set_frozen(
    daemon: &Daemon,
    name: &str,
    frozen: bool,
) -> Result<crate::container::Container, ContainerError> {
    let handle = daemon.containers().get(name)?;
    let id = {
        let c = handle.lock();
        if !c.state.running {
            return Err(ContainerError::NotRunning(name.to_string()));
        }
        if frozen && c.state.paused {
            return Err(ContainerError::AlreadyPaused(name.to_string()));
        }
        if !frozen && !c.state.paused {
            return Err(ContainerError::NotPaused(name.to_string()));
        }
        c.id.clone()
    };
    daemon.runtime().slot(&id).control(|reply| Control::Freeze(frozen, reply)).await?;
    let snapshot = {
        let mut c = handle.lock();
        c.state.paused = frozen;
        c.clone()
    };
    let d = daemon.clone();
    let saved = snapshot.clone();
    blocking(&id, move || d.containers().save(&saved)).await?;
    Ok(snapshot)
}
