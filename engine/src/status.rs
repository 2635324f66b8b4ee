//! Job exit statuses and the error a failed job turns into.
//!
//! As in Docker 1.2 a job ends with an integer status (0 = success) and a
//! failed job's error text is the last line it wrote to stderr. On top of
//! that a handler may say *what kind* of failure it was, so the API server
//! maps kinds to HTTP statuses instead of matching substrings of the text;
//! text from jobs that do not say (`ErrorKind::Unknown`) still goes through
//! the original's substring rules.

use std::fmt;

/// A job's exit status. Anything but 0 is a failure; the default is 0.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Status(pub i32);

impl Status {
    /// Success.
    pub const OK: Status = Status(0);
    /// Generic failure, what `Job::errorf` returns.
    pub const ERR: Status = Status(1);
    /// No handler: "command not found".
    pub const NOT_FOUND: Status = Status(127);

    /// The integer code.
    pub fn code(self) -> i32 {
        self.0
    }

    /// True for status 0.
    pub fn is_ok(self) -> bool {
        self.0 == 0
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// What went wrong, as far as a caller needs to know to report it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum ErrorKind {
    /// The handler did not say; callers fall back to the error text.
    #[default]
    Unknown,
    /// The thing named does not exist (`No such container: x`).
    NotFound,
    /// The request clashes with the current state (name in use, ...).
    Conflict,
    /// The request itself is invalid.
    BadParameter,
    /// Nothing to do: already started, already stopped.
    NotModified,
    /// Credentials were missing or wrong.
    Unauthorized,
    /// Not allowed.
    Forbidden,
    /// Docker's "Impossible ..." errors (HTTP 406).
    NotAcceptable,
    /// The daemon does not do this (yet).
    NotImplemented,
    /// A failure of the daemon itself.
    Internal,
}

/// The error `Job::run` returns for a failed job.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct JobError {
    /// The job's status (0 for errors raised before the handler ran).
    pub status: Status,
    /// What the handler said kind of failure it was.
    pub kind: ErrorKind,
    /// The last line the job wrote to stderr (may be empty), or the engine's
    /// own error text (`engine is shutdown`, `x: job has already completed`).
    pub message: String,
}

impl JobError {
    /// An error that did not come from a handler's status.
    pub fn engine(message: impl Into<String>) -> Self {
        Self { status: Status::OK, kind: ErrorKind::Unknown, message: message.into() }
    }
}
