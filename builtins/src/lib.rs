//! The daemon's built-in jobs, registered in Docker 1.2's order
//! (`builtins/builtins.go`): the bridge driver's `init_networkdriver`, the
//! API server's `serveapi` and `acceptconnections`, the events service
//! (`events`, `log`, `subscribers_count`), `version`, and the registry's
//! `auth` and `search`.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod events;
mod version;

use api_server::AcceptGate;
use engine::{Engine, EngineError, names};

pub use events::{Event, Events};
pub use version::{BUILD_TIME, GIT_COMMIT, RUST_VERSION, VERSION, VersionInfo, go_arch, kernel_version, version_info};

/// Registers every built-in job; `registry` holds the daemon's
/// `--insecure-registry` list for `auth` and `search`. Returns the API server's accept gate (the
/// daemon opens it by running `acceptconnections`) and the events service.
pub fn register(eng: &Engine, registry: registry::ServiceOptions) -> Result<(AcceptGate, Events), EngineError> {
    networkdriver::install(eng)?;
    let gate = api_server::install(eng)?;
    let events = Events::new();
    events.install(eng)?;
    eng.register(names::VERSION, version::version)?;
    registry::jobs::install(eng, registry::Service::new(registry))?;
    Ok((gate, events))
}
