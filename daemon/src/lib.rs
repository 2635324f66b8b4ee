//! The Docker daemon object (`daemon/` of Docker 1.2): configuration, the
//! root directory and its layout, the pidfile, and the daemon's jobs, which
//! [`Daemon::install`] registers on the engine.
//!
//! This crate never calls the API server or the network driver directly: it
//! runs their jobs (`subscribers_count`, `version`, later
//! `allocate_interface`, ...).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod archive;
pub mod atomic;
mod attach;
mod changes;
mod command;
mod commit;
pub mod config;
pub mod container;
mod create;
mod daemon;
mod delete;
pub mod error;
mod events;
mod exec;
mod exec_start;
mod export;
mod image_delete;
mod info;
mod inspect;
mod kill;
mod lifecycle;
mod links;
mod list;
pub mod logger;
mod logs;
mod monitor;
pub mod names;
mod netfiles;
mod netinit;
mod network;
mod network_inspect;
mod pause;
pub mod pidfile;
mod rename;
mod resize;
mod restart;
pub mod runtime;
mod start;
mod stats;
mod stop;
pub mod store;
pub mod sysinfo;
mod top;
mod update;
mod volume_inspect;
mod volumes;
mod wait;

use std::path::PathBuf;

pub use config::{Cidr, Config};
pub use daemon::{Daemon, RootLayout};
pub use error::ContainerError;
pub use info::{INDEX_SERVER, NATIVE_EXEC_DRIVER};
pub use store::ContainerStore;

/// Why the daemon could not start or do something.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    /// A configuration error (the text says which flags).
    #[error("{0}")]
    Config(String),
    /// Another daemon holds the pidfile.
    #[error("pid file found, ensure docker is not running or delete {}", .0.display())]
    PidfileInUse(PathBuf),
    /// The engine began shutting down while the daemon was being set up.
    #[error("the daemon is shutting down")]
    ShuttingDown,
    /// The image store could not be opened.
    #[error("{0}")]
    Graph(graph::GraphError),
    /// The container store could not be loaded.
    #[error("{0}")]
    Containers(Box<error::ContainerError>),
    /// The network driver could not be set up (`init_networkdriver`).
    #[error("{0}")]
    Network(String),
    /// Not run as root.
    #[error("The Docker daemon needs to be run as root")]
    NotRoot,
    /// A file-system operation failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The path involved.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
}
