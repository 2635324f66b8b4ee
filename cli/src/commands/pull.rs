//! `docker pull` and `docker push` (`CmdPull`/`CmdPush` of Docker 1.2):
//! one streamed request each, credentials in `X-Registry-Auth`, the JSON
//! progress rendered by [`super::progress`].
//!
//! Departures from 1.2, as today's CLI: a reference without a tag means
//! `latest` (1.2 pulled every tag; `-a` does that now), references are
//! checked client-side, pushing a one-word name is the daemon's to judge,
//! and a 401 does not start an interactive login.

use http::Method;
use registry::Reference;

use super::Subcmd;
use super::args::{Count, check};
use super::progress;
use super::registry_auth::{self, HEADER};
use crate::client::{CliError, DockerCli};

/// `docker pull`.
pub async fn cmd_pull(cli: &DockerCli, args: Vec<String>) -> Result<(), CliError> {
    let mut cmd = Subcmd::new("pull", "[OPTIONS] NAME[:TAG|@DIGEST]", "Pull an image or a repository from a registry");
    cmd.flags.bool(&["a", "-all-tags"], false, "Download all tagged images in the repository");
    cmd.flags.bool(&["q", "-quiet"], false, "Suppress verbose output");
    let Some(rest) = cmd.parse(args)? else { return Ok(()) };
    check("pull", &rest, Count::Exactly(1))?;
    let reference = registry_auth::parse_reference(&rest[0])?;
    let all = cmd.flags.get_bool("all-tags");
    if all && (reference.tag.is_some() || reference.digest.is_some()) {
        return Err(CliError::Usage("tag can't be used with --all-tags/-a".into()));
    }
    let tag = pull_tag(&reference, all);
    let to = if cmd.flags.get_bool("quiet") { Progress::Quiet } else { Progress::Stdout };
    pull_reference(cli, &reference, &tag, to).await?;
    println!("{}", full_name(&reference, &tag));
    Ok(())
}

/// Where a pull's progress is shown.
pub enum Progress {
    /// `docker pull`.
    Stdout,
    /// A pull on behalf of create/run, whose stdout is the container's.
    Stderr,
    /// `pull -q`: read for errors only.
    Quiet,
}

/// Pulls `name` (`latest` when it has no tag), as create and run do for an
/// image the daemon lacks.
pub async fn pull_image(cli: &DockerCli, name: &str, to: Progress) -> Result<(), CliError> {
    let reference = registry_auth::parse_reference(name)?;
    pull_reference(cli, &reference, &pull_tag(&reference, false), to).await
}

/// One `POST /images/create?fromImage=` with its progress rendered.
async fn pull_reference(cli: &DockerCli, reference: &Reference, tag: &str, to: Progress) -> Result<(), CliError> {
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("fromImage", &reference.local_name())
        .append_pair("tag", tag)
        .finish();
    let auth = registry_auth::header_for(&reference.domain);
    let resp = cli.send_ok(Method::POST, &format!("/images/create?{query}"), &[(HEADER, &auth)], None).await?;
    match to {
        Progress::Stdout => progress::display_body(resp.into_body()).await,
        Progress::Stderr => progress::display_body_stderr(resp.into_body()).await,
        Progress::Quiet => progress::drain_body(resp.into_body()).await,
    }
}

/// The `tag` query value: a digest, a tag, `latest`, or empty for all tags.
fn pull_tag(reference: &Reference, all: bool) -> String {
    match (&reference.digest, all) {
        (_, true) => String::new(),
        (Some(digest), _) => digest.clone(),
        (None, false) => reference.tag_or_latest().to_string(),
    }
}

/// `docker.io/library/busybox:latest`, as today's CLI ends a pull.
fn full_name(reference: &Reference, tag: &str) -> String {
    let name = format!("{}/{}", reference.domain, reference.path);
    match tag {
        "" => name,
        t if t.contains(':') => format!("{name}@{t}"),
        t => format!("{name}:{t}"),
    }
}

/// `docker push`.
pub async fn cmd_push(cli: &DockerCli, args: Vec<String>) -> Result<(), CliError> {
    let mut cmd = Subcmd::new("push", "[OPTIONS] NAME[:TAG]", "Push an image or a repository to a registry");
    cmd.flags.bool(&["a", "-all-tags"], false, "Push all tags of an image to the repository");
    cmd.flags.bool(&["q", "-quiet"], false, "Suppress verbose output");
    let Some(rest) = cmd.parse(args)? else { return Ok(()) };
    check("push", &rest, Count::Exactly(1))?;
    let reference = registry_auth::parse_reference(&rest[0])?;
    if reference.digest.is_some() {
        return Err(CliError::Usage("cannot push a digest reference".into()));
    }
    let all = cmd.flags.get_bool("all-tags");
    if all && reference.tag.is_some() {
        return Err(CliError::Usage("tag can't be used with --all-tags/-a".into()));
    }
    let tag = if all { String::new() } else { reference.tag_or_latest().to_string() };
    let query = form_urlencoded::Serializer::new(String::new()).append_pair("tag", &tag).finish();
    let path = format!("/images/{}/push?{query}", reference.local_name());
    let auth = registry_auth::header_for(&reference.domain);
    let resp = cli.send_ok(Method::POST, &path, &[(HEADER, &auth)], None).await?;
    if cmd.flags.get_bool("quiet") {
        progress::drain_body(resp.into_body()).await?;
        println!("{}", full_name(&reference, &tag));
    } else {
        progress::display_body(resp.into_body()).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference(tag: Option<&str>, digest: Option<&str>) -> Reference {
        Reference {
            domain: "docker.io".into(),
            path: "library/busybox".into(),
            tag: tag.map(str::to_string),
            digest: digest.map(str::to_string),
        }
    }

    #[test]
    fn tags_sent_for_a_pull() {
        assert_eq!(pull_tag(&reference(None, None), false), "latest");
        assert_eq!(pull_tag(&reference(Some("1.36"), None), false), "1.36");
        assert_eq!(pull_tag(&reference(None, Some("sha256:ab")), false), "sha256:ab");
        assert_eq!(pull_tag(&reference(None, None), true), "");
    }

    #[test]
    fn full_names() {
        assert_eq!(full_name(&reference(None, None), "latest"), "docker.io/library/busybox:latest");
        assert_eq!(full_name(&reference(None, None), "sha256:ab"), "docker.io/library/busybox@sha256:ab");
        assert_eq!(full_name(&reference(None, None), ""), "docker.io/library/busybox");
    }
}
