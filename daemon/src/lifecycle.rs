//! Containers across the daemon's own life: at start, containers whose
//! restart policy asks for it are started again (the store already marked
//! the ones that were running as exited: the exec driver cannot re-attach
//! to them); at shutdown, every running container is stopped (the stop
//! signal, SIGKILL after 10 s) and its state saved by its monitor.
//!
//! The stop begins as soon as the shutdown does, not when the engine runs
//! its hooks after waiting for jobs: attach and wait jobs only end when
//! their containers do.

use std::sync::Arc;

use futures_util::future::join_all;
use parking_lot::Mutex;

use crate::Daemon;
use crate::stop::{DEFAULT_TIMEOUT, stop_container};

/// Arranges both (call once, from an async context, after `install`).
pub fn install(daemon: &Daemon) {
    let eng = daemon.engine().clone();
    let d = daemon.clone();
    let started = eng.shutdown_started();
    let stopper = tokio::spawn(async move {
        started.await;
        stop_all(&d).await;
    });
    let stopper = Arc::new(Mutex::new(Some(stopper)));
    eng.on_shutdown(move || async move {
        let task = stopper.lock().take();
        if let Some(task) = task {
            let _ = task.await;
        }
    });
    let d = daemon.clone();
    tokio::spawn(async move { restart_at_boot(&d).await });
}

async fn stop_all(daemon: &Daemon) {
    let running: Vec<String> =
        daemon.containers().list().into_iter().filter(|c| c.state.running).map(|c| c.id).collect();
    if running.is_empty() {
        return;
    }
    tracing::info!(count = running.len(), "stopping running containers");
    join_all(running.iter().map(|id| async move {
        if let Err(e) = stop_container(daemon, id, Some(DEFAULT_TIMEOUT)).await {
            tracing::warn!(container = %id, error = %e, "could not stop at shutdown");
        }
        // The monitor holds the start lock until it has unmounted the root
        // fs, which it does after the exit a stop waits for.
        drop(daemon.runtime().slot(id).start_lock.lock().await);
    }))
    .await;
}

/// dockerd's rule: `always` comes back even after a user's stop,
/// `unless-stopped` only if the user did not stop it, `on-failure` after a
/// failure within its retry count.
async fn restart_at_boot(daemon: &Daemon) {
    for c in daemon.containers().list() {
        if c.state.running || c.state.started_at.is_empty() || c.state.removal_in_progress || c.state.dead {
            continue;
        }
        let policy = &c.host_config.restart_policy;
        let wanted = match policy.name.as_str() {
            "unless-stopped" => !c.has_been_manually_stopped,
            "on-failure" => {
                !c.has_been_manually_stopped && crate::monitor::policy_wants(policy, c.restart_count, c.state.exit_code)
            }
            other => other == "always",
        };
        if !wanted {
            continue;
        }
        match crate::start::start_container(daemon, &c.id, None, false).await {
            Ok(_) => tracing::info!(container = %c.id, "restarted by its restart policy"),
            Err(e) => tracing::error!(container = %c.id, error = %e, "restart policy: start failed"),
        }
    }
}
