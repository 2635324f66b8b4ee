//! `docker stats`: a live table of containers' resource usage.

use crate::client::{CliError, DockerCli};

/// `docker stats` (being written).
pub async fn cmd_stats(_cli: &DockerCli, _args: Vec<String>) -> Result<(), CliError> {
    Err(CliError::Other("stats: not implemented yet".into()))
}
