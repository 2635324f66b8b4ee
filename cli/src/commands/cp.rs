//! `docker cp`: copying files between a container and the host.

use crate::client::{CliError, DockerCli};

/// `docker cp` (being written).
pub async fn cmd_cp(_cli: &DockerCli, _args: Vec<String>) -> Result<(), CliError> {
    Err(CliError::Other("cp: not implemented yet".into()))
}
