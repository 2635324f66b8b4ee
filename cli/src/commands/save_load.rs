//! `docker save` and `docker load` (`CmdSave`/`CmdLoad` of Docker 1.2):
//! the image tarball streamed from or to the daemon, never held whole in
//! memory. `save` writes `-o` atomically (temporary file, then rename) and
//! refuses to write a tarball onto a terminal; `load` reads `-i` or stdin
//! and shows the daemon's JSON messages (`Loaded image: …`).

use std::io::{IsTerminal, Write};
use std::os::fd::AsFd;
use std::path::Path;

use http::Method;
use http_body_util::BodyExt;
use hyper::body::Incoming;

use super::Subcmd;
use super::args::{Count, check};
use super::progress;
use crate::client::{CliError, DockerCli, RequestBody, body_from_reader};

/// `docker save`.
pub async fn cmd_save(cli: &DockerCli, args: Vec<String>) -> Result<(), CliError> {
    let mut cmd = Subcmd::new(
        "save",
        "[OPTIONS] IMAGE [IMAGE...]",
        "Save one or more images to a tar archive (streamed to STDOUT by default)",
    );
    cmd.flags.string(&["o", "-output"], "", "Write to a file, instead of STDOUT");
    let Some(rest) = cmd.parse(args)? else { return Ok(()) };
    check("save", &rest, Count::AtLeast(1))?;
    let output = cmd.flags.get_string("output");
    if output.is_empty() && std::io::stdout().is_terminal() {
        return Err(CliError::Other("Cowardly refusing to save to a terminal. Use the -o flag or redirect.".into()));
    }
    let mut query = form_urlencoded::Serializer::new(String::new());
    for name in &rest {
        query.append_pair("names", name);
    }
    let body = cli.send_ok(Method::GET, &format!("/images/get?{}", query.finish()), &[], None).await?.into_body();
    if output.is_empty() {
        copy_body(body, &mut std::io::stdout().lock()).await
    } else {
        save_to_file(body, Path::new(&output)).await
    }
}

pub(super) async fn copy_body(mut body: Incoming, out: &mut impl Write) -> Result<(), CliError> {
    let failed = |e: std::io::Error| CliError::Other(format!("writing the archive: {e}"));
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| CliError::Connect(format!("reading the archive: {e}")))?;
        if let Ok(data) = frame.into_data() {
            out.write_all(&data).map_err(failed)?;
        }
    }
    out.flush().map_err(failed)
}

/// Writes beside `path` and renames, so an interrupted save never leaves a
/// truncated archive under the wanted name.
pub(super) async fn save_to_file(body: Incoming, path: &Path) -> Result<(), CliError> {
    let failed = |e: std::io::Error| CliError::Other(format!("failed to save image: {}: {e}", path.display()));
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let temp = dir.join(format!(".{name}.docker_temp_{}", std::process::id()));
    let result = async {
        let mut file = std::fs::File::create(&temp).map_err(failed)?;
        copy_body(body, &mut file).await?;
        file.sync_all().map_err(failed)?;
        std::fs::rename(&temp, path).map_err(failed)
    }
    .await;
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}

/// `docker load`.
pub async fn cmd_load(cli: &DockerCli, args: Vec<String>) -> Result<(), CliError> {
    let mut cmd = Subcmd::new("load", "[OPTIONS]", "Load an image from a tar archive or STDIN");
    cmd.flags.string(&["i", "-input"], "", "Read from tar archive file, instead of STDIN");
    cmd.flags.bool(&["q", "-quiet"], false, "Suppress the load output");
    let Some(rest) = cmd.parse(args)? else { return Ok(()) };
    check("load", &rest, Count::Exactly(0))?;
    let input = cmd.flags.get_string("input");
    let body = if input.is_empty() {
        if std::io::stdin().is_terminal() {
            return Err(CliError::Other("requested load from stdin, but stdin is empty".into()));
        }
        stdin_body()?
    } else {
        file_body(Path::new(&input))?
    };
    // Progress bars only make sense on a terminal; today's CLI asks for
    // the quiet form otherwise.
    let quiet = cmd.flags.get_bool("quiet") || !std::io::stdout().is_terminal();
    let path = if quiet { "/images/load?quiet=1" } else { "/images/load?quiet=0" };
    let headers = [(http::header::CONTENT_TYPE.as_str(), "application/x-tar")];
    let resp = cli.send_ok(Method::POST, path, &headers, Some(body)).await?;
    if is_json(&resp) {
        progress::display_body(resp.into_body()).await
    } else {
        copy_body(resp.into_body(), &mut std::io::stdout().lock()).await
    }
}

/// Whether a response carries JSON messages rather than raw text.
pub fn is_json(resp: &http::Response<Incoming>) -> bool {
    resp.headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
}

/// Standard input as a streamed request body.
pub fn stdin_body() -> Result<RequestBody, CliError> {
    let fd = std::io::stdin()
        .as_fd()
        .try_clone_to_owned()
        .map_err(|e| CliError::Other(format!("reading standard input: {e}")))?;
    Ok(body_from_reader(tokio::fs::File::from_std(std::fs::File::from(fd))))
}

/// A file as a streamed request body.
pub fn file_body(path: &Path) -> Result<RequestBody, CliError> {
    let file = std::fs::File::open(path).map_err(|e| CliError::Other(format!("open {}: {e}", path.display())))?;
    Ok(body_from_reader(tokio::fs::File::from_std(file)))
}
