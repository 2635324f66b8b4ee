//! `docker version` (`CmdVersion` of Docker 1.2): the client's facts, then
//! the daemon's from `GET /version`, in the original's format.

use http::Method;
use serde_json::Value;

use super::Subcmd;
use crate::client::{CLIENT_API_VERSION, CliError, DockerCli};

/// `docker version`.
pub async fn cmd_version(cli: &DockerCli, args: Vec<String>) -> Result<(), CliError> {
    let mut cmd = Subcmd::new("version", "", "Show the Docker version information.");
    let Some(rest) = cmd.parse(args)? else { return Ok(()) };
    if !rest.is_empty() {
        return Err(cmd.no_args_expected(&rest));
    }
    println!("Client version: {}", builtins::VERSION);
    println!("Client API version: {CLIENT_API_VERSION}");
    println!("Go version (client): {}", builtins::RUST_VERSION);
    println!("Git commit (client): {}", builtins::GIT_COMMIT);
    println!("OS/Arch (client): {}/{}", std::env::consts::OS, builtins::go_arch());

    let body = cli.call(Method::GET, "/version", None).await?;
    let server: Value =
        serde_json::from_slice(&body).map_err(|e| CliError::Other(format!("Error reading remote version: {e}")))?;
    let field = |k: &str| server.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
    println!("Server version: {}", field("Version"));
    if !field("ApiVersion").is_empty() {
        println!("Server API version: {}", field("ApiVersion"));
    }
    println!("Go version (server): {}", field("GoVersion"));
    println!("Git commit (server): {}", field("GitCommit"));
    Ok(())
}
