//! The accept gate: listeners are bound at once, but connections are only
//! accepted once the daemon is ready (`acceptconnections`).
//!
//! Docker 1.2 did this with `pkg/listenbuffer`; early clients queue in the
//! kernel's listen backlog instead of being refused. The original created
//! the gate inside `serveapi`, racing `acceptconnections`; here it exists
//! from `install`, before either job can run.

use tokio::sync::watch;

/// Opened once; never closes again.
#[derive(Clone, Debug)]
pub struct AcceptGate {
    open: watch::Sender<bool>,
}

impl Default for AcceptGate {
    fn default() -> Self {
        Self { open: watch::Sender::new(false) }
    }
}

impl AcceptGate {
    /// A closed gate.
    pub fn new() -> Self {
        Self::default()
    }

    /// Opens the gate (idempotent).
    pub fn open(&self) {
        self.open.send_replace(true);
    }

    /// True once opened.
    pub fn is_open(&self) -> bool {
        *self.open.borrow()
    }

    /// Waits until the gate is open.
    pub async fn wait(&self) {
        let mut rx = self.open.subscribe();
        // The sender is owned by self, so it cannot be dropped meanwhile.
        let _ = rx.wait_for(|open| *open).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn waiters_proceed_once_opened() {
        let gate = AcceptGate::new();
        let waiter = tokio::spawn({
            let gate = gate.clone();
            async move { gate.wait().await }
        });
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished());
        gate.open();
        waiter.await.unwrap();
        assert!(gate.is_open());
        gate.wait().await;
    }
}
