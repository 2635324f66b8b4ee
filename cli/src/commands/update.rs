//! `docker update`: new resource limits for containers.

use crate::client::{CliError, DockerCli};

/// `docker update` (being written).
pub async fn cmd_update(_cli: &DockerCli, _args: Vec<String>) -> Result<(), CliError> {
    Err(CliError::Other("update: not implemented yet".into()))
}
