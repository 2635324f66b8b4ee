//! `docker import` (`CmdImport` of Docker 1.2): `POST /images/create?fromSrc=`
//! with the tarball streamed as the body (a file or `-` for stdin; the
//! daemon fetches a URL itself), the target `REPOSITORY[:TAG]` in `repo`
//! as today's CLI sends it, `-c` Dockerfile changes and `-m` a message. The
//! daemon's last status line is the new image's ID.
//!
//! Departure: 1.2 took only a URL or `-`; a file path is read here, as in
//! later CLIs, and 1.2's deprecated third `TAG` argument is gone.

use std::path::Path;

use http::Method;

use super::Subcmd;
use super::args::{Count, check};
use super::progress;
use super::registry_auth;
use super::save_load::{file_body, stdin_body};
use crate::client::{CliError, DockerCli};

/// `docker import`.
pub async fn cmd_import(cli: &DockerCli, args: Vec<String>) -> Result<(), CliError> {
    let mut cmd = Subcmd::new(
        "import",
        "[OPTIONS] file|URL|- [REPOSITORY[:TAG]]",
        "Import the contents from a tarball to create a filesystem image",
    );
    cmd.flags.list(&["c", "-change"], "Apply Dockerfile instruction to the created image");
    cmd.flags.string(&["m", "-message"], "", "Set commit message for imported image");
    let Some(rest) = cmd.parse(args)? else { return Ok(()) };
    check("import", &rest, Count::Between(1, 2))?;
    let source = &rest[0];
    let mut query = form_urlencoded::Serializer::new(String::new());
    let is_url = source.starts_with("http://") || source.starts_with("https://");
    query.append_pair("fromSrc", if is_url { source } else { "-" });
    if let Some(repo) = rest.get(1) {
        registry_auth::parse_reference(repo)?;
        query.append_pair("repo", repo);
    }
    for change in cmd.flags.get_list("change") {
        query.append_pair("changes", &change);
    }
    let message = cmd.flags.get_string("message");
    if !message.is_empty() {
        query.append_pair("message", &message);
    }
    let body = match source.as_str() {
        _ if is_url => None,
        "-" => Some(stdin_body()?),
        file => Some(file_body(Path::new(file))?),
    };
    let headers = [(http::header::CONTENT_TYPE.as_str(), "text/plain")];
    let path = format!("/images/create?{}", query.finish());
    let resp = cli.send_ok(Method::POST, &path, &headers, body).await?;
    progress::display_body(resp.into_body()).await
}
