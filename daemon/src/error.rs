//! Errors of the container store and the container jobs. Texts that reach
//! clients are today's dockerd's; the kind decides the HTTP status.

use std::path::PathBuf;

use engine::ErrorKind;

/// A container operation failure.
#[derive(Debug, thiserror::Error)]
pub enum ContainerError {
    /// No container by that name, ID or ID prefix.
    #[error("No such container: {0}")]
    NoSuchContainer(String),
    /// An ID prefix matching several containers.
    #[error("Multiple IDs found with provided prefix: {0}")]
    Ambiguous(String),
    /// A name that breaks the naming rule (the text says which).
    #[error("{0}")]
    InvalidName(String),
    /// The name belongs to another container.
    #[error(
        "Conflict. The container name \"/{name}\" is already in use by container {id}. You have to remove (or rename) that container to be able to reuse that name."
    )]
    NameInUse {
        /// The name, without `/`.
        name: String,
        /// The container holding it.
        id: String,
    },
    /// A create body or host config that cannot be used.
    #[error("{0}")]
    BadParameter(String),
    /// Neither the create body nor the image gives a command.
    #[error("No command specified")]
    NoCommand,
    /// Removing a running container without force.
    #[error("You cannot remove a running container {0}. Stop the container before attempting removal or use -f")]
    Running(String),
    /// The image store refused (no such image, layer failure, ...).
    #[error("{0}")]
    Graph(#[from] graph::GraphError),
    /// A file of the container could not be read or written.
    #[error("container {id}: {}: {source}", path.display())]
    Io {
        /// The container.
        id: String,
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A stored config that does not parse.
    #[error("container {id}: {}: {source}", path.display())]
    Corrupt {
        /// The container.
        id: String,
        /// The file.
        path: PathBuf,
        /// The decode error.
        source: serde_json::Error,
    },
    /// `start` on a running container (HTTP 304).
    #[error("Container {0} is already started")]
    AlreadyStarted(String),
    /// `stop` on a stopped container (HTTP 304).
    #[error("Container {0} is already stopped")]
    AlreadyStopped(String),
    /// A verb that needs a running container.
    #[error("Container {0} is not running")]
    NotRunning(String),
    /// `exec` in a paused container.
    #[error("Container {0} is paused, unpause the container before exec")]
    Paused(String),
    /// No exec instance by that ID.
    #[error("No such exec instance: {0}")]
    NoSuchExec(String),
    /// `exec_start` of an exec that is starting or running.
    #[error("Error: Exec command {0} is already running")]
    ExecRunning(String),
    /// `exec_start` of an exec that has ended.
    #[error("Error: Exec command {0} has already run")]
    ExecRan(String),
    /// `exec_resize` of an exec that is not running.
    #[error("Exec {0} is not running")]
    ExecNotRunning(String),
    /// `pause` on a paused container.
    #[error("Container {0} is already paused")]
    AlreadyPaused(String),
    /// `unpause` on a container that is not paused.
    #[error("Container {0} is not paused")]
    NotPaused(String),
    /// A signal name or number that does not exist.
    #[error("Invalid signal: {0}")]
    InvalidSignal(String),
    /// The exec driver failed; its text is the client's (a missing command
    /// reads `exec: "x": executable file not found in $PATH`).
    #[error("{source}")]
    Exec {
        /// The container.
        id: String,
        /// What the driver said.
        source: execdriver::Error,
    },
    /// A bind mount that cannot be used.
    #[error("container {id}: bind mount {spec}: {reason}")]
    Bind {
        /// The container.
        id: String,
        /// The `-v` value.
        spec: String,
        /// Why.
        reason: String,
    },
    /// `rm -l` of a name that is no link.
    #[error("No such link: {0}")]
    NoSuchLink(String),
    /// `rm -l` of a container's own name.
    #[error("Conflict, cannot remove the default name of the container")]
    DefaultName,
    /// The bridge driver refused (`allocate_interface`, `allocate_port`,
    /// `link`); its text is the client's (`... port is already allocated`).
    #[error("{message}")]
    Network {
        /// The container.
        id: String,
        /// What the driver's job said.
        message: String,
    },
    /// An atomic write failed.
    #[error("container {id}: {source}")]
    Write {
        /// The container.
        id: String,
        /// What the daemon's writer said.
        source: crate::DaemonError,
    },
}

impl ContainerError {
    /// The job error kind (and so the HTTP status).
    pub fn kind(&self) -> ErrorKind {
        match self {
            ContainerError::NoSuchContainer(_) | ContainerError::NoSuchExec(_) | ContainerError::NoSuchLink(_) => {
                ErrorKind::NotFound
            }
            ContainerError::Ambiguous(_) | ContainerError::InvalidName(_) | ContainerError::BadParameter(_) => {
                ErrorKind::BadParameter
            }
            ContainerError::NameInUse { .. }
            | ContainerError::Running(_)
            | ContainerError::NotRunning(_)
            | ContainerError::AlreadyPaused(_)
            | ContainerError::NotPaused(_)
            | ContainerError::Paused(_)
            | ContainerError::ExecRunning(_)
            | ContainerError::ExecRan(_)
            | ContainerError::ExecNotRunning(_)
            | ContainerError::DefaultName => ErrorKind::Conflict,
            ContainerError::AlreadyStarted(_) | ContainerError::AlreadyStopped(_) => ErrorKind::NotModified,
            ContainerError::InvalidSignal(_) | ContainerError::Bind { .. } => ErrorKind::BadParameter,
            ContainerError::Exec { source, .. } if source.is_not_found() => ErrorKind::NotFound,
            ContainerError::Exec { .. } => ErrorKind::Internal,
            ContainerError::Graph(e) => e.kind(),
            ContainerError::NoCommand
            | ContainerError::Io { .. }
            | ContainerError::Corrupt { .. }
            | ContainerError::Network { .. }
            | ContainerError::Write { .. } => ErrorKind::Internal,
        }
    }

    pub(crate) fn io(id: &str, path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> ContainerError {
        let (id, path) = (id.to_string(), path.into());
        move |source| ContainerError::Io { id, path, source }
    }
}
