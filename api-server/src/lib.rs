//! The Docker Remote API server (`api/server` of Docker 1.2), at API level
//! v1.24 and answering every version from v1.12 up.
//!
//! It only parses requests into jobs: [`routes::ROUTES`] is the whole route
//! table, each route's builder turns a request into a job name, args and
//! env, and the [`router`] runs the job and streams its stdout back. It
//! provides two jobs itself, `serveapi` (listeners: `unix://`, `tcp://` with
//! optional TLS, systemd's `fd://`) and `acceptconnections` (open the accept
//! gate, `READY=1` to systemd), registered by [`install`].
//!
//! The crate forbids `unsafe` except for one audited function that adopts
//! the sockets systemd passes (`activation.rs`): libsystemd hands them out
//! as raw fds.
#![deny(unsafe_code)]
#![warn(missing_docs)]

mod activation;
pub mod containers;
pub mod errors;
pub mod exec;
pub mod gate;
mod hijack;
pub mod hosts;
pub mod images;
pub mod listener;
pub mod networks;
mod notify;
pub mod request;
pub mod route;
pub mod router;
pub mod routes;
pub mod server;
pub mod stdcopy;
pub mod system;
pub mod tls;
pub mod version;

pub use errors::ApiError;
pub use gate::AcceptGate;
pub use hosts::{Host, HostError, parse_host};
pub use router::{Router, RouterConfig};
pub use server::{Bound, ServeConfig, bind, install, serve};
pub use version::{API_VERSION, ApiVersion, MIN_API_VERSION};

/// Errors of setting up and running listeners.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// An invalid `-H` value.
    #[error("{0}")]
    Host(String),
    /// A socket operation failed; the string names the socket.
    #[error("{0}: {1}")]
    Io(String, #[source] std::io::Error),
    /// `-G` names a group that does not exist.
    #[error("Group {0} not found")]
    GroupNotFound(String),
    /// Certificates could not be loaded.
    #[error("{0}")]
    Tls(String),
    /// `fd://` with no usable systemd sockets.
    #[error("{0}")]
    Activation(String),
}
