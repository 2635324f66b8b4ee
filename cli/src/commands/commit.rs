//! `docker commit` (`CmdCommit` of Docker 1.2): `POST /commit` with the
//! container, the target split into `repo` and `tag` (`latest` when none,
//! as today's CLI sends it), `-m`, `-a`, `-c` changes and `pause`; prints
//! the new image's ID.

use http::Method;

use super::Subcmd;
use super::args::{Count, check};
use super::registry_auth;
use crate::client::{CliError, DockerCli};

/// `docker commit`.
pub async fn cmd_commit(cli: &DockerCli, args: Vec<String>) -> Result<(), CliError> {
    let mut cmd = Subcmd::new(
        "commit",
        "[OPTIONS] CONTAINER [REPOSITORY[:TAG]]",
        "Create a new image from a container's changes",
    );
    cmd.flags.string(&["a", "-author"], "", "Author (e.g., \"John Hannibal Smith <hannibal@a-team.com>\")");
    cmd.flags.list(&["c", "-change"], "Apply Dockerfile instruction to the created image");
    cmd.flags.string(&["m", "-message"], "", "Commit message");
    cmd.flags.bool(&["p", "-pause"], true, "Pause container during commit");
    let Some(rest) = cmd.parse(args)? else { return Ok(()) };
    check("commit", &rest, Count::Between(1, 2))?;
    let mut query = form_urlencoded::Serializer::new(String::new());
    query.append_pair("container", &rest[0]);
    if let Some(target) = rest.get(1) {
        let r = registry_auth::parse_reference(target)?;
        if r.digest.is_some() {
            return Err(CliError::Other("refusing to create a tag with a digest reference".into()));
        }
        query.append_pair("repo", &r.local_name()).append_pair("tag", r.tag_or_latest());
    }
    query.append_pair("comment", &cmd.flags.get_string("message"));
    query.append_pair("author", &cmd.flags.get_string("author"));
    for change in cmd.flags.get_list("change") {
        query.append_pair("changes", &change);
    }
    if !cmd.flags.get_bool("pause") {
        query.append_pair("pause", "0");
    }
    let body = cli.call(Method::POST, &format!("/commit?{}", query.finish()), None).await?;
    let answer: serde_json::Value =
        serde_json::from_slice(&body).map_err(|e| CliError::Other(format!("commit: unexpected answer: {e}")))?;
    println!("{}", answer["Id"].as_str().unwrap_or_default());
    Ok(())
}
