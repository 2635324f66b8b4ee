//! Errors of the image store.

use std::path::PathBuf;

use engine::ErrorKind;

/// An image store failure. `Display` is the one line a user sees.
#[derive(Debug, thiserror::Error)]
pub enum GraphError {
    /// Unknown image, layer or reference: `No such image: <name>`.
    #[error("No such image: {0}")]
    NoSuchImage(String),
    /// A short ID matching several images.
    #[error("{0}: ambiguous image ID prefix, use more characters")]
    Ambiguous(String),
    /// A name or tag that does not parse.
    #[error("{0}")]
    InvalidReference(String),
    /// A conflict (tag in use without force, image with children, ...).
    #[error("{0}")]
    Conflict(String),
    /// A layer tar that would write outside its layer, or is malformed.
    #[error("invalid layer: {0}")]
    BadLayer(String),
    /// Content whose digest is not the one announced.
    #[error("digest mismatch: expected {expected}, got {actual}")]
    DigestMismatch {
        /// The announced digest.
        expected: String,
        /// What the content hashes to.
        actual: String,
    },
    /// Image JSON that does not parse.
    #[error("invalid image config: {0}")]
    BadConfig(String),
    /// A storage-driver failure (mount, xattr, ...).
    #[error("{driver}: {message}")]
    Driver {
        /// Driver name.
        driver: &'static str,
        /// What went wrong.
        message: String,
    },
    /// An I/O failure, with the path it concerns.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
}

impl GraphError {
    /// Wraps an I/O error with its path.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> GraphError {
        GraphError::Io { path: path.into(), source }
    }

    /// The job error kind (and so the HTTP status) of this failure.
    pub fn kind(&self) -> ErrorKind {
        match self {
            GraphError::NoSuchImage(_) => ErrorKind::NotFound,
            GraphError::Ambiguous(_) | GraphError::InvalidReference(_) => ErrorKind::BadParameter,
            GraphError::Conflict(_) => ErrorKind::Conflict,
            _ => ErrorKind::Internal,
        }
    }
}

/// Shorthand used across the crate.
pub type Result<T, E = GraphError> = std::result::Result<T, E>;
