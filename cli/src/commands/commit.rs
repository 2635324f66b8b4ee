//! `docker commit`: a new image from a container's changes.

use crate::client::{CliError, DockerCli};

/// `docker commit` (being written).
pub async fn cmd_commit(_cli: &DockerCli, _args: Vec<String>) -> Result<(), CliError> {
    Err(CliError::Other("commit: not implemented yet".into()))
}
