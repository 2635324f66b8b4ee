//! `docker rm` (`CmdRm` of Docker 1.2) and `docker rename`: one
//! `DELETE /containers/{name}` per name, each removed name printed as it
//! was given; a failure does not stop the others, and all failures are
//! reported at the end with exit status 1. 1.2's `--link` is not offered.

use http::Method;

use super::Subcmd;
use super::args::{Count, check};
use super::lifecycle::each;
use crate::client::{CliError, DockerCli};

/// `docker rm`.
pub async fn cmd_rm(cli: &DockerCli, args: Vec<String>) -> Result<(), CliError> {
    let mut cmd = Subcmd::new("rm", "[OPTIONS] CONTAINER [CONTAINER...]", "Remove one or more containers");
    cmd.flags.bool(&["f", "-force"], false, "Force the removal of a running container (uses SIGKILL)");
    cmd.flags.bool(&["v", "-volumes"], false, "Remove the volumes associated with the container");
    let Some(rest) = cmd.parse(args)? else { return Ok(()) };
    check("rm", &rest, Count::AtLeast(1))?;
    let mut query = form_urlencoded::Serializer::new(String::new());
    if cmd.flags.get_bool("volumes") {
        query.append_pair("v", "1");
    }
    if cmd.flags.get_bool("force") {
        query.append_pair("force", "1");
    }
    let query = query.finish();
    each(&rest, async |name| {
        let path = if query.is_empty() { format!("/containers/{name}") } else { format!("/containers/{name}?{query}") };
        cli.call(Method::DELETE, &path, None).await.map(|_| Some(name.to_string()))
    })
    .await
}

/// `docker rename OLD NEW`.
pub async fn cmd_rename(cli: &DockerCli, args: Vec<String>) -> Result<(), CliError> {
    let mut cmd = Subcmd::new("rename", "CONTAINER NEW_NAME", "Rename a container");
    let Some(rest) = cmd.parse(args)? else { return Ok(()) };
    check("rename", &rest, Count::Exactly(2))?;
    let new = form_urlencoded::Serializer::new(String::new()).append_pair("name", &rest[1]).finish();
    cli.call(Method::POST, &format!("/containers/{}/rename?{new}", rest[0]), None).await?;
    Ok(())
}
