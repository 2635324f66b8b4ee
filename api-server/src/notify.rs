//! `READY=1` to systemd (`sd_notify`), sent once the daemon accepts
//! connections. Without `NOTIFY_SOCKET` (unset or empty) this does nothing,
//! as in 1.2.

/// Tells the service manager the daemon is ready.
pub fn notify_ready() {
    if std::env::var_os("NOTIFY_SOCKET").is_none_or(|s| s.is_empty()) {
        return;
    }
    match libsystemd::daemon::notify(false, &[libsystemd::daemon::NotifyState::Ready]) {
        Ok(_) => tracing::debug!("sent READY=1 to systemd"),
        Err(e) => tracing::warn!(error = %e, "could not notify systemd"),
    }
}
