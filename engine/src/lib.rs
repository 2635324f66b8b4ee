//! The engine of Docker 1.2 (`engine/` of moby v1.2.0), re-created in Rust.
//!
//! Everything the daemon does is a [`Job`]: a name, args, an [`Env`], stdin
//! and stdout/stderr streams, and an exit [`Status`]. An [`Engine`] maps job
//! names to handlers; subsystems talk to each other by running jobs.
//!
//! The rules are the original's (see `shared/reference/engine.md`), with
//! these deliberate differences, each documented where it happens:
//! - handlers are async functions on tokio, and a job runs in its own task,
//!   so it finishes even if its caller stops waiting;
//! - streams are async writers with back-pressure instead of `io.Pipe`s;
//! - a handler can state the kind of its failure ([`ErrorKind`]);
//! - a panicking handler fails its job instead of the process.
//!
//! The original's `Hack_SetGlobalVar` scratch map is not re-created: only
//! its integration tests read it.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod engine;
mod env;
pub mod gojson;
mod input;
mod job;
pub mod names;
mod output;
mod sinks;
mod status;
mod table;
mod tail;

pub use engine::{Engine, SHUTDOWN_HOOKS_TIMEOUT, SHUTDOWN_JOBS_TIMEOUT, register_global};
pub use env::{Env, EnvError, parse_bool};
pub use input::Input;
pub use job::{Handler, HandlerFuture, Job, ReplyGuard, handler};
pub use output::Output;
pub use sinks::{BufferSink, ChannelSink, DecodedEnv, DecodedTable, LogWriter, SharedBuffer, SharedTail};
pub use status::{ErrorKind, JobError, Status};
pub use table::Table;
pub use tail::{TailBuffer, tail};

/// Errors of the engine's own operations.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    /// `register` of a name that is taken.
    #[error("Can't overwrite handler for command {0}")]
    HandlerExists(String),
    /// `register_global` of a name that is taken.
    #[error("Can't overwrite global handler for command {0}")]
    GlobalHandlerExists(String),
    /// A second source for an `Input`.
    #[error("Maximum number of sources reached: 1")]
    TooManySources,
    /// `parse_job` of a line with no command word.
    #[error("empty command: '{0}'")]
    EmptyCommand(String),
}
