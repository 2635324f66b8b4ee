//! The `kill` job (`daemon/kill.go`): any signal, by name (with or without
//! `SIG`) or number; SIGKILL by default, which also waits for the exit.
//! Emits `kill` with the signal number, as dockerd does.

use std::str::FromStr;
use std::sync::atomic::Ordering;

use engine::{Job, Status};
use nix::sys::signal::Signal;

use crate::container::Container;
use crate::error::ContainerError;
use crate::runtime::{Control, next_exit};
use crate::{Daemon, events};

/// Runs `kill CONTAINER [SIGNAL]`.
pub async fn kill(daemon: Daemon, job: Job) -> Status {
    let args = job.args();
    let (name, signal) = match args.as_slice() {
        [name] => (name, None),
        [name, signal] => (name, Some(signal.as_str())),
        _ => return job.errorf("Usage: kill CONTAINER [SIGNAL]").await,
    };
    let sig = match signal.filter(|s| !s.is_empty()) {
        None => Signal::SIGKILL as i32,
        Some(s) => match parse_signal(s) {
            Some(sig) => sig,
            None => return job.fail(engine::ErrorKind::BadParameter, ContainerError::InvalidSignal(s.into())).await,
        },
    };
    match kill_container(&daemon, name, sig, sig == Signal::SIGKILL as i32).await {
        Ok(_) => Status::OK,
        Err(e) => job.fail(e.kind(), e).await,
    }
}

/// `TERM`, `SIGTERM`, `term`, `15`: the signal number, or `None`.
pub fn parse_signal(s: &str) -> Option<i32> {
    if let Ok(n) = s.parse::<i32>() {
        return (1..=64).contains(&n).then_some(n);
    }
    let upper = s.to_ascii_uppercase();
    let name = if upper.starts_with("SIG") { upper } else { format!("SIG{upper}") };
    Signal::from_str(&name).ok().map(|sig| sig as i32)
}

/// Sends `sig` to a running container as a user request (its restart
/// policy will not bring it back) and emits `kill`; with `wait`, returns
/// after the exit. The container as it was when signalled.
pub async fn kill_container(daemon: &Daemon, name: &str, sig: i32, wait: bool) -> Result<Container, ContainerError> {
    let handle = daemon.containers().get(name)?;
    let (c, mut exits) = {
        let c = handle.lock();
        if !c.state.running {
            return Err(ContainerError::NotRunning(name.to_string()));
        }
        let slot = daemon.runtime().slot(&c.id);
        slot.stop_requested.store(true, Ordering::SeqCst);
        (c.clone(), slot.subscribe())
    };
    let slot = daemon.runtime().slot(&c.id);
    slot.control(|reply| Control::Signal(sig, reply)).await?;
    events::emit(daemon.engine(), "kill", &c, &[("signal", &sig.to_string())]).await;
    if wait {
        next_exit(&mut exits).await;
    }
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals_by_name_and_number() {
        assert_eq!(parse_signal("TERM"), Some(15));
        assert_eq!(parse_signal("SIGKILL"), Some(9));
        assert_eq!(parse_signal("hup"), Some(1));
        assert_eq!(parse_signal("10"), Some(10));
        assert_eq!(parse_signal("0"), None);
        assert_eq!(parse_signal("NOPE"), None);
    }
}
