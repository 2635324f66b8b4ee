//! `docker tag` (`CmdTag` of Docker 1.2): `POST /images/{source}/tag` with
//! the target split into `repo` and `tag` (`latest` when none, as today's
//! CLI sends it; 1.2 left the tag empty for the daemon to default).

use http::Method;

use super::Subcmd;
use super::args::{Count, check};
use super::registry_auth;
use crate::client::{CliError, DockerCli};

/// `docker tag`.
pub async fn cmd_tag(cli: &DockerCli, args: Vec<String>) -> Result<(), CliError> {
    let mut cmd = Subcmd::new(
        "tag",
        "[OPTIONS] SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]",
        "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE",
    );
    cmd.flags.bool(&["f", "#force", "-force"], false, "Force the tag even if it is already in use");
    let Some(rest) = cmd.parse(args)? else { return Ok(()) };
    check("tag", &rest, Count::Exactly(2))?;
    let target = registry_auth::parse_reference(&rest[1])?;
    if target.digest.is_some() {
        return Err(CliError::Other("refusing to create a tag with a digest reference".into()));
    }
    let mut query = form_urlencoded::Serializer::new(String::new());
    query.append_pair("repo", &target.local_name()).append_pair("tag", target.tag_or_latest());
    if cmd.flags.get_bool("force") {
        query.append_pair("force", "1");
    }
    cli.call(Method::POST, &format!("/images/{}/tag?{}", rest[0], query.finish()), None).await?;
    Ok(())
}
