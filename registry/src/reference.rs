//! Image references: `name[:tag][@digest]` with Docker's naming rules. A
//! first component with a `.` or `:`, or `localhost`, is a registry host;
//! anything else is on Docker Hub (`docker.io`, `library/` for one-word
//! names). Locally, repositories keep Docker 1.2's short names: `busybox`,
//! `user/app`, `127.0.0.1:5000/busybox`.

/// The Docker Hub domain as references spell it.
pub const DEFAULT_DOMAIN: &str = "docker.io";

/// A reference that does not parse; the text is the user's one line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ReferenceError(pub String);

/// A parsed reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// `docker.io` or `host[:port]`.
    pub domain: String,
    /// Path on the registry: `library/busybox`, `user/app`.
    pub path: String,
    /// The tag, if one was given.
    pub tag: Option<String>,
    /// The `sha256:` digest, if one was given.
    pub digest: Option<String>,
}

impl Reference {
    /// Parses and normalises a reference. Accepts `busybox`,
    /// `busybox:1.36`, `docker.io/library/busybox`,
    /// `index.docker.io/user/app`, `127.0.0.1:5000/a/b:t`, `x@sha256:<hex>`.
    pub fn parse(text: &str) -> Result<Reference, ReferenceError> {
        Err(ReferenceError(format!("invalid reference format: {text}")))
    }

    /// The short local repository name (`busybox`, `user/app`,
    /// `127.0.0.1:5000/busybox`): the TagStore's key.
    pub fn local_name(&self) -> String {
        String::new()
    }

    /// The tag, `latest` when none was given.
    pub fn tag_or_latest(&self) -> &str {
        self.tag.as_deref().unwrap_or("latest")
    }

    /// Whether the registry is Docker Hub.
    pub fn is_docker_hub(&self) -> bool {
        self.domain == DEFAULT_DOMAIN
    }
}

/// Checks a tag: `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`.
pub fn validate_tag(tag: &str) -> Result<(), ReferenceError> {
    Err(ReferenceError(format!("invalid tag format: {tag}")))
}
