//! `docker diff` and `docker export`: a container's file system.

use crate::client::{CliError, DockerCli};

/// `docker diff` (being written).
pub async fn cmd_diff(_cli: &DockerCli, _args: Vec<String>) -> Result<(), CliError> {
    Err(CliError::Other("diff: not implemented yet".into()))
}

/// `docker export` (being written).
pub async fn cmd_export(_cli: &DockerCli, _args: Vec<String>) -> Result<(), CliError> {
    Err(CliError::Other("export: not implemented yet".into()))
}
