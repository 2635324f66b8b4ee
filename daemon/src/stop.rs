//! The `stop` job (`daemon/stop.go`): the stop signal (`Config.StopSignal`,
//! else SIGTERM), then SIGKILL after `t` seconds (10 when `t` is absent);
//! emits `kill` per signal, then (after the monitor's `die`) `stop`.

use std::time::Duration;

use engine::{Job, Status};
use nix::sys::signal::Signal;

use crate::error::ContainerError;
use crate::kill::{kill_container, parse_signal};
use crate::runtime::next_exit;
use crate::{Daemon, events};

/// dockerd's grace period when the request names none.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// Runs `stop CONTAINER` (env `t`).
pub async fn stop(daemon: Daemon, job: Job) -> Status {
    let args = job.args();
    let [name] = args.as_slice() else {
        return job.errorf("Usage: stop CONTAINER").await;
    };
    let grace = grace(&job);
    match stop_container(&daemon, name, grace).await {
        Ok(c) => {
            events::log(&job, "stop", &c, &[]).await;
            Status::OK
        }
        Err(e) => job.fail(e.kind(), e).await,
    }
}

/// `t` when given (negative = wait forever, as dockerd), else the default.
pub fn grace(job: &Job) -> Option<Duration> {
    if !job.env_exists("t") {
        return Some(DEFAULT_TIMEOUT);
    }
    let t = job.getenv_int("t");
    u64::try_from(t).ok().map(Duration::from_secs)
}

/// Stops a running container and waits for its exit.
pub async fn stop_container(
    daemon: &Daemon,
    name: &str,
    grace: Option<Duration>,
) -> Result<crate::container::Container, ContainerError> {
    let handle = daemon.containers().get(name)?;
    let (stop_signal, mut exits) = {
        let c = handle.lock();
        if !c.state.running {
            return Err(ContainerError::AlreadyStopped(name.to_string()));
        }
        let slot = daemon.runtime().slot(&c.id);
        (parse_signal(&c.config.stop_signal).unwrap_or(Signal::SIGTERM as i32), slot.subscribe())
    };
    match kill_container(daemon, name, stop_signal, false).await {
        Ok(_) => {}
        // It exited between the check and the signal: stopped all the same.
        Err(ContainerError::NotRunning(_)) => return Ok(handle.lock().clone()),
        Err(e) => return Err(e),
    }
    let exited = match grace {
        Some(grace) => tokio::time::timeout(grace, next_exit(&mut exits)).await.is_ok(),
        None => {
            next_exit(&mut exits).await;
            true
        }
    };
    if !exited {
        match kill_container(daemon, name, Signal::SIGKILL as i32, false).await {
            Ok(_) => {
                next_exit(&mut exits).await;
            }
            Err(ContainerError::NotRunning(_)) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(handle.lock().clone())
}
