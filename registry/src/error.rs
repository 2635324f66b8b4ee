//! Registry client errors, each with the job error kind it maps to.

use engine::ErrorKind;

/// A registry failure; `Display` is the user's one line.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// A bad reference.
    #[error(transparent)]
    Reference(#[from] crate::ReferenceError),
    /// 401 after trying the credentials given (or none). The text is the
    /// whole line (`pull access denied for x, ...`, `unauthorized: ...`).
    #[error("{0}")]
    Unauthorized(String),
    /// 403; the text is the whole line, like [`RegistryError::Unauthorized`].
    #[error("{0}")]
    Denied(String),
    /// Repository, tag, manifest or blob unknown to the registry.
    #[error("{0}")]
    NotFound(String),
    /// Content whose digest is not the one asked for.
    #[error("digest mismatch: expected {expected}, got {actual}")]
    DigestMismatch {
        /// The digest asked for.
        expected: String,
        /// What the content hashes to.
        actual: String,
    },
    /// No manifest in a list/index for this host's platform.
    #[error("no matching manifest for {0} in the manifest list entries")]
    NoMatchingPlatform(String),
    /// A response that breaks the protocol (bad JSON, unknown media type).
    #[error("{0}")]
    Protocol(String),
    /// Transport failure (connect, TLS, reset), with the URL.
    #[error("{url}: {message}")]
    Transport {
        /// What was being fetched.
        url: String,
        /// What went wrong.
        message: String,
    },
    /// Any other status: `<status> from <url>: <body>`.
    #[error("unexpected status {status} from {url}: {body}")]
    Status {
        /// HTTP status.
        status: u16,
        /// URL.
        url: String,
        /// Registry's error text (errors[].message joined) or body.
        body: String,
    },
}

impl RegistryError {
    /// The job error kind (and so HTTP status) of this failure.
    pub fn kind(&self) -> ErrorKind {
        match self {
            RegistryError::Reference(_) => ErrorKind::BadParameter,
            RegistryError::Unauthorized(_) => ErrorKind::Unauthorized,
            RegistryError::Denied(_) => ErrorKind::Forbidden,
            RegistryError::NotFound(_) => ErrorKind::NotFound,
            _ => ErrorKind::Internal,
        }
    }
}
