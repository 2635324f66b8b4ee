//! `docker port`: a container's published ports.

use crate::client::{CliError, DockerCli};

/// `docker port` (being written).
pub async fn cmd_port(_cli: &DockerCli, _args: Vec<String>) -> Result<(), CliError> {
    Err(CliError::Other("port: not implemented yet".into()))
}
