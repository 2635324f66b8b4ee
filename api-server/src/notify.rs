//! `READY=1` to systemd (`sd_notify`), sent once the daemon accepts
//! connections. Without `NOTIFY_SOCKET` this does nothing, as in 1.2.

/// Tells the service manager the daemon is ready.
pub fn notify_ready() {
    match libsystemd::daemon::notify(false, &[libsystemd::daemon::NotifyState::Ready]) {
        Ok(true) => tracing::debug!("sent READY=1 to systemd"),
        Ok(false) => {}
        Err(e) => tracing::warn!(error = %e, "could not notify systemd"),
    }
}
