//! The `start` job (`daemon/start.go`): allocates the network through the
//! bridge driver's jobs, writes the hosts and resolv.conf files of the
//! run, mounts the container's root filesystem, builds the exec driver's
//! command, launches the process, records the running state (with its
//! network settings) and hands the process to its monitor.
//!
//! A failed start leaves nothing behind: the address, ports and link rules
//! are given back, the root filesystem is unmounted, the container is not
//! running, and its state carries the error and dockerd's exit code (127
//! for a missing command, 126 when it cannot be run, 128 otherwise).

use std::sync::atomic::Ordering;
use std::time::SystemTime;

use engine::names::env;
use engine::{Job, Status};
use execdriver::Driver;
use runconfig::container::HostConfig;

use crate::container::{Container, rfc3339_nano};
use crate::error::ContainerError;
use crate::runtime::blocking;
use crate::{Daemon, command, events, monitor, netfiles, network};

/// Runs `start CONTAINER` (env `body`: a HostConfig from an old client).
pub async fn start(daemon: Daemon, job: Job) -> Status {
    let args = job.args();
    let Some(name) = args.first() else {
        return job.errorf("Usage: start container_id").await;
    };
    let body = job.getenv(env::BODY);
    let host_config = if body.trim().is_empty() || body.trim() == "{}" {
        None
    } else {
        match serde_json::from_str::<HostConfig>(&body) {
            Ok(hc) => Some(hc),
            Err(e) => return job.fail(engine::ErrorKind::BadParameter, format!("invalid host config: {e}")).await,
        }
    };
    match start_container(&daemon, name, host_config, true).await {
        Ok(_) => Status::OK,
        Err(e) => job.fail(e.kind(), e).await,
    }
}

/// Starts a container; `by_user` (a start job rather than the restart
/// policy) clears the manual-stop mark and the restart count.
pub async fn start_container(
    daemon: &Daemon,
    name: &str,
    host_config: Option<HostConfig>,
    by_user: bool,
) -> Result<Container, ContainerError> {
    let store = daemon.containers();
    let handle = store.get(name)?;
    let id = handle.lock().id.clone();
    let slot = daemon.runtime().slot(&id);
    let _starting = slot.start_lock.lock().await;
    let snapshot = {
        let mut c = handle.lock();
        if c.state.running {
            return Err(ContainerError::AlreadyStarted(name.to_string()));
        }
        if c.state.removal_in_progress || c.state.dead {
            return Err(ContainerError::BadParameter(format!(
                "container is marked for removal and cannot be started: {name}"
            )));
        }
        if let Some(hc) = host_config {
            // Old clients send the host config to start; it replaces the
            // one from create, as it did in Docker 1.2.
            c.host_config = hc;
            if c.host_config.network_mode.is_empty() {
                c.host_config.network_mode = "default".into();
            }
        }
        if by_user {
            c.has_been_manually_stopped = false;
        }
        c.clone()
    };

    // The network first: its address goes into the hosts file and eth0.
    let alloc = match network::allocate(daemon, &snapshot).await {
        Ok(alloc) => alloc,
        Err(e) => {
            record_failure(daemon, &handle, &e, false).await;
            return Err(e);
        }
    };
    let settings = alloc.as_ref().map(|a| a.settings.clone()).unwrap_or_default();

    let d = daemon.clone();
    let c = snapshot.clone();
    let cmd = blocking(&id, move || {
        let (ip, link_hosts, eth0, link_env) = match alloc {
            Some(a) => (Some(a.settings.ip_address), a.link_hosts, Some(a.eth0), a.link_env),
            None => (None, Vec::new(), None, Vec::new()),
        };
        // Replaced before the spawn bind-mounts them.
        netfiles::write(&c, &c.dir(d.containers().dir()), d.config(), ip.as_deref(), &link_hosts)?;
        let driver = d.graph().driver();
        let rootfs = driver.get(c.layer_id())?;
        match command::build(&c, rootfs, d.containers(), eth0, &link_env) {
            Ok(cmd) => Ok(cmd),
            Err(e) => {
                let _ = driver.put(c.layer_id());
                Err(e)
            }
        }
    })
    .await;
    let cmd = match cmd {
        Ok(cmd) => cmd,
        Err(e) => {
            network::release(daemon, &id, &settings).await;
            record_failure(daemon, &handle, &e, false).await;
            return Err(e);
        }
    };

    let ctr = match daemon.runtime().driver().spawn(cmd, None).await {
        Ok(ctr) => ctr,
        Err(source) => {
            let e = ContainerError::Exec { id: id.clone(), source };
            network::release(daemon, &id, &settings).await;
            record_failure(daemon, &handle, &e, true).await;
            return Err(e);
        }
    };

    let snapshot = {
        let mut c = handle.lock();
        c.state.running = true;
        c.state.paused = false;
        c.state.restarting = false;
        c.state.oom_killed = false;
        c.state.pid = i64::from(ctr.pid());
        c.state.exit_code = 0;
        c.state.error.clear();
        c.state.started_at = rfc3339_nano(SystemTime::now());
        c.state.network = settings;
        c.clone()
    };
    slot.stop_requested.store(false, Ordering::SeqCst);
    let d = daemon.clone();
    let saved = snapshot.clone();
    if let Err(e) = blocking(&id, move || {
        network::update_parents(&d, &saved);
        d.containers().save(&saved)
    })
    .await
    {
        // The process runs; the state on disk catches up at its exit.
        tracing::error!(container = %id, error = %e, "could not save the running state");
    }
    tracing::info!(container = %id, pid = ctr.pid(), "started");
    events::emit(daemon.engine(), "start", &snapshot, &[]).await;
    monitor::spawn(daemon.clone(), handle.clone(), slot.clone(), ctr);
    Ok(snapshot)
}

/// dockerd's exit code for a process that could not be started: 127 for a
/// missing command, 126 when it cannot be run, 128 otherwise (also used by
/// `exec_start`).
pub(crate) fn failure_code(e: &ContainerError) -> i64 {
    let text = e.to_string();
    match e {
        ContainerError::Exec { source, .. } if source.is_not_found() => 127,
        _ if text.contains("permission denied") || text.contains("not a directory") => 126,
        _ => 128,
    }
}

/// Records why a start failed and unmounts what the start mounted.
async fn record_failure(daemon: &Daemon, handle: &crate::store::Handle, e: &ContainerError, mounted: bool) {
    let text = e.to_string();
    let code = failure_code(e);
    let snapshot = {
        let mut c = handle.lock();
        c.state.running = false;
        c.state.pid = 0;
        c.state.exit_code = code;
        c.state.error = text;
        // Given back by the caller; nothing of an earlier run is left either.
        c.state.network = Default::default();
        daemon.runtime().slot(&c.id).end_attached();
        c.clone()
    };
    let d = daemon.clone();
    let id = snapshot.id.clone();
    let saved = snapshot.clone();
    let result = blocking(&id, move || {
        if mounted {
            d.graph().driver().put(saved.layer_id())?;
        }
        d.containers().save(&saved)
    })
    .await;
    if let Err(e) = result {
        tracing::error!(container = %id, error = %e, "could not clean up after a failed start");
    }
    // Attached clients (today's CLI attaches before it starts) end here, as
    // dockerd closes the container's streams on a failed start.
    daemon.runtime().slot(&id).publish(crate::runtime::Event::Exit(code));
    // Departure from dockerd 1.12, which logged nothing here: the docker
    // CLI below API 1.30 waits for `die` (then, for `--rm`, removes the
    // container and waits for `destroy`) even when the start failed, and
    // would hang for good on `run --rm` of a container that cannot start.
    events::emit(daemon.engine(), "die", &snapshot, &[("exitCode", &code.to_string())]).await;
}
