//! `docker cp`: copying files between a container and the host, the way
//! today's CLI does it (Docker 1.2's `CmdCp` could only copy out, through
//! `POST /containers/{name}/copy`):
//!
//! - `docker cp CONTAINER:SRC DEST`: `GET /containers/{name}/archive?path=SRC`
//!   gives the stat (header) and the tar; `-` writes the tar to stdout,
//!   else it is extracted beside or into DEST.
//! - `docker cp SRC CONTAINER:DEST`: `HEAD` stats DEST, then the tar of SRC
//!   (its top entry named for where it lands) goes up with
//!   `PUT /containers/{name}/archive?path=DIR`; `-` sends stdin's tar as is.
//!
//! Tars are made and read by the graph's archive code on a blocking thread,
//! joined to the HTTP body through a socket pair, so nothing is held whole
//! in memory; extraction here has the same traversal checks as the daemon's.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use base64::Engine as _;
use graph::archive::{self, ExtractOptions};
use http::{Method, StatusCode};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use tokio::io::AsyncWriteExt;

use super::Subcmd;
use super::args::{Count, check};
use super::save_load::{copy_body, stdin_body};
use crate::client::{CliError, DockerCli, body_from_reader};

/// Go's `os.ModeDir` and `os.ModeSymlink` in a path stat's `mode`.
const MODE_DIR: u64 = 1 << 31;
const MODE_SYMLINK: u64 = 1 << 27;

/// `docker cp`.
pub async fn cmd_cp(cli: &DockerCli, args: Vec<String>) -> Result<(), CliError> {
    let mut cmd = Subcmd::new(
        "cp",
        "[OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n       docker cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH",
        "Copy files/folders between a container and the local filesystem",
    );
    cmd.flags.bool(&["L", "-follow-link"], false, "Always follow symbol link in SRC_PATH");
    cmd.flags.bool(&["a", "-archive"], false, "Archive mode (copy all uid/gid information)");
    cmd.flags.bool(&["q", "-quiet"], false, "Suppress progress output during copy");
    let Some(rest) = cmd.parse(args)? else { return Ok(()) };
    check("cp", &rest, Count::Exactly(2))?;
    let follow = cmd.flags.get_bool("follow-link");
    match (split(&rest[0]), split(&rest[1])) {
        ((Some(_), _), (Some(_), _)) => Err(CliError::Usage("copying between containers is not supported".into())),
        ((None, _), (None, _)) => Err(CliError::Usage("must specify at least one container source".into())),
        ((Some(c), src), (None, dest)) => copy_from(cli, c, src, dest, follow).await,
        ((None, src), (Some(c), dest)) => copy_to(cli, src, c, dest, follow, cmd.flags.get_bool("archive")).await,
    }
}

/// `CONTAINER:PATH` → (`Some(CONTAINER)`, `PATH`); a path that starts with
/// `/` or `.` is local even when it holds a colon, as the CLI reads it.
fn split(arg: &str) -> (Option<&str>, &str) {
    if arg.starts_with('/') || arg.starts_with('.') {
        return (None, arg);
    }
    match arg.split_once(':') {
        Some((container, path)) => (Some(container), path),
        None => (None, arg),
    }
}

/// A path stat from the daemon (`X-Docker-Container-Path-Stat`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct PathStat {
    name: String,
    mode: u64,
    link_target: String,
}

impl PathStat {
    fn is_dir(&self) -> bool {
        self.mode & MODE_DIR != 0
    }
}

fn stat_of(resp: &http::Response<Incoming>) -> Result<PathStat, CliError> {
    let bad = |why: String| CliError::Other(format!("unable to decode the container path stat header: {why}"));
    let raw = resp
        .headers()
        .get("x-docker-container-path-stat")
        .ok_or_else(|| bad("the daemon sent none".into()))?
        .as_bytes();
    let json = base64::engine::general_purpose::STANDARD.decode(raw).map_err(|e| bad(e.to_string()))?;
    let v: serde_json::Value = serde_json::from_slice(&json).map_err(|e| bad(e.to_string()))?;
    Ok(PathStat {
        name: v["name"].as_str().unwrap_or_default().to_string(),
        mode: v["mode"].as_u64().unwrap_or(0),
        link_target: v["linkTarget"].as_str().unwrap_or_default().to_string(),
    })
}

fn archive_url(container: &str, path: &str, extra: &[(&str, &str)]) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    query.append_pair("path", path);
    for (k, v) in extra {
        query.append_pair(k, v);
    }
    format!("/containers/{container}/archive?{}", query.finish())
}

/// The stat of `path` in the container; `None` when nothing is there.
async fn stat_in(cli: &DockerCli, container: &str, path: &str) -> Result<Option<PathStat>, CliError> {
    let resp = cli.send(Method::HEAD, &archive_url(container, path, &[]), &[], None).await?;
    match resp.status() {
        s if s.is_success() => Ok(Some(stat_of(&resp)?)),
        // A HEAD answer has no body to tell a missing path from a missing
        // container: the PUT that follows names the container if need be.
        StatusCode::NOT_FOUND => Ok(None),
        s => Err(CliError::Daemon(format!("{s} for {container}:{path}"))),
    }
}

/// Copies `container:src` to the local `dest`.
async fn copy_from(cli: &DockerCli, container: &str, src: &str, dest: &str, follow: bool) -> Result<(), CliError> {
    let mut src = src.to_string();
    if follow
        && let Some(stat) = stat_in(cli, container, &src).await?
        && stat.mode & MODE_SYMLINK != 0
    {
        src = stat.link_target;
    }
    let resp = cli.send_ok(Method::GET, &archive_url(container, &src, &[]), &[], None).await?;
    if dest == "-" {
        if std::io::stdout().is_terminal() {
            return Err(CliError::Other("cannot copy a tar archive to a terminal: redirect the output".into()));
        }
        return copy_body(resp.into_body(), &mut std::io::stdout().lock()).await;
    }
    let stat = stat_of(&resp)?;
    let plan = plan_local(&stat, &src, Path::new(dest))?;
    extract_local(resp.into_body(), plan).await
}

/// Where an archive from a container lands on this host.
#[derive(Debug, PartialEq, Eq)]
enum Landing {
    /// Extracted into this existing directory as it is.
    Into(PathBuf),
    /// Extracted into a fresh directory beside the target, then its top
    /// entry renamed to the target (a new name, or a file replaced).
    Renamed { top: String, target: PathBuf },
    /// Extracted beside the target, then the top directory's contents moved
    /// into the existing target directory (`SRC/.`).
    Contents { top: String, target: PathBuf },
}

fn plan_local(stat: &PathStat, src: &str, dest: &Path) -> Result<Landing, CliError> {
    let contents = src.ends_with("/.") && stat.is_dir();
    let top = stat.name.clone();
    match std::fs::metadata(dest) {
        Ok(m) if m.is_dir() && contents => Ok(Landing::Contents { top, target: dest.to_path_buf() }),
        Ok(m) if m.is_dir() => Ok(Landing::Into(dest.to_path_buf())),
        Ok(_) if stat.is_dir() => {
            Err(CliError::Other(format!("cannot copy a directory to a file: {} is not a directory", dest.display())))
        }
        Ok(_) => Ok(Landing::Renamed { top, target: dest.to_path_buf() }),
        Err(_) if dest.to_string_lossy().ends_with('/') && !stat.is_dir() => {
            Err(CliError::Other(format!("destination directory {} does not exist", dest.display())))
        }
        Err(_) => Ok(Landing::Renamed { top, target: dest.to_path_buf() }),
    }
}

/// Extracts the tar `body` as `plan` says, as today's CLI does: ownership
/// left to the user running it, directories never replaced by files.
async fn extract_local(body: Incoming, plan: Landing) -> Result<(), CliError> {
    let options = ExtractOptions { no_overwrite_dir_non_dir: true, chown: None, no_lchown: true };
    let (ours, theirs) =
        std::os::unix::net::UnixStream::pair().map_err(|e| CliError::Other(format!("creating a pipe: {e}")))?;
    let extract = tokio::task::spawn_blocking(move || -> Result<(), String> {
        let mut input = theirs;
        let (dir, staging) = match &plan {
            Landing::Into(dir) => (dir.clone(), None),
            Landing::Renamed { target, .. } | Landing::Contents { target, .. } => {
                let parent = match target.parent() {
                    Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
                    _ => PathBuf::from("."),
                };
                let staging = parent.join(format!(".docker_cp_{}", std::process::id()));
                std::fs::create_dir(&staging).map_err(|e| format!("{}: {e}", staging.display()))?;
                (staging.clone(), Some(staging))
            }
        };
        let result =
            archive::extract_into(&mut input, &dir, options).map_err(|e| e.to_string()).and_then(|_| match &plan {
                Landing::Into(_) => Ok(()),
                Landing::Renamed { top, target } => {
                    std::fs::rename(dir.join(top), target).map_err(|e| format!("{}: {e}", target.display()))
                }
                Landing::Contents { top, target } => move_children(&dir.join(top), target),
            });
        if let Some(staging) = staging {
            let _ = std::fs::remove_dir_all(staging);
        }
        result
    });
    let pumped = pump(body, ours).await;
    let extracted = extract.await.map_err(|e| CliError::Other(format!("extracting: {e}")))?;
    extracted.map_err(CliError::Other)?;
    pumped
}

/// Writes the body's bytes into the socket the extractor reads.
async fn pump(mut body: Incoming, sock: std::os::unix::net::UnixStream) -> Result<(), CliError> {
    let failed = |e: std::io::Error| CliError::Other(format!("passing the archive on: {e}"));
    sock.set_nonblocking(true).map_err(failed)?;
    let mut sock = tokio::net::UnixStream::from_std(sock).map_err(failed)?;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| CliError::Connect(format!("reading the archive: {e}")))?;
        if let Ok(data) = frame.into_data()
            && sock.write_all(&data).await.is_err()
        {
            // The extractor stopped; its error is the one to report.
            return Ok(());
        }
    }
    let _ = sock.shutdown().await;
    Ok(())
}

/// Moves what `from` holds into the directory `to`, merging directories.
fn move_children(from: &Path, to: &Path) -> Result<(), String> {
    let entries = std::fs::read_dir(from).map_err(|e| format!("{}: {e}", from.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("{}: {e}", from.display()))?;
        let (src, dst) = (entry.path(), to.join(entry.file_name()));
        let both_dirs =
            entry.file_type().is_ok_and(|t| t.is_dir()) && std::fs::symlink_metadata(&dst).is_ok_and(|m| m.is_dir());
        if both_dirs {
            move_children(&src, &dst)?;
        } else {
            std::fs::rename(&src, &dst).map_err(|e| format!("{}: {e}", dst.display()))?;
        }
    }
    Ok(())
}

/// Copies the local `src` to `container:dest`.
async fn copy_to(
    cli: &DockerCli,
    src: &str,
    container: &str,
    dest: &str,
    follow: bool,
    copy_uid_gid: bool,
) -> Result<(), CliError> {
    let mut extra = vec![("noOverwriteDirNonDir", "true")];
    if copy_uid_gid {
        extra.push(("copyUIDGID", "true"));
    }
    if src == "-" {
        if std::io::stdin().is_terminal() {
            return Err(CliError::Other("cannot read a tar archive from a terminal: redirect the input".into()));
        }
        let url = archive_url(container, dest, &extra);
        cli.send_ok(Method::PUT, &url, &[], Some(stdin_body()?)).await?;
        return Ok(());
    }
    let local = if follow { std::fs::canonicalize(src) } else { std::fs::symlink_metadata(src).map(|_| src.into()) };
    let local: PathBuf = local.map_err(|e| CliError::Other(format!("lstat {src}: {e}")))?;
    let src_is_dir = std::fs::symlink_metadata(&local).is_ok_and(|m| m.is_dir());

    let mut dest = dest.to_string();
    let mut stat = stat_in(cli, container, &dest).await?;
    if stat.is_none() {
        // A daemon refusing the PUT (no such container) may answer before
        // reading the upload, and the answer is lost with the connection:
        // ask first, for a clear error.
        cli.call(Method::GET, &format!("/containers/{container}/json"), None).await?;
    }
    if let Some(s) = &stat
        && s.mode & MODE_SYMLINK != 0
    {
        // Like today's CLI: a symlink at DEST is followed in the container.
        dest = s.link_target.clone();
        stat = stat_in(cli, container, &dest).await?;
    }
    let (dir, top) = plan_remote(stat.as_ref(), &local, src, &dest, src_is_dir)?;
    let url = archive_url(container, &dir, &extra);

    let (ours, theirs) =
        std::os::unix::net::UnixStream::pair().map_err(|e| CliError::Other(format!("creating a pipe: {e}")))?;
    let failed = |e: std::io::Error| CliError::Other(format!("sending {src}: {e}"));
    ours.set_nonblocking(true).map_err(failed)?;
    let body = body_from_reader(tokio::net::UnixStream::from_std(ours).map_err(failed)?);
    let tar = tokio::task::spawn_blocking(move || {
        let mut out = theirs;
        let written = archive::tar_resource(&local, &top, &mut out);
        let _ = out.flush();
        written
    });
    let sent = cli.send_ok(Method::PUT, &url, &[], Some(body)).await;
    let tarred = tar.await.map_err(|e| CliError::Other(format!("archiving {src}: {e}")))?;
    sent?;
    // After a successful PUT, a tar error means the daemon took a
    // truncated archive: still a failure to report.
    tarred.map_err(|e| CliError::Other(format!("archiving {src}: {e}")))?;
    Ok(())
}

/// The container directory to PUT into and the name the tar's top entry
/// gets there.
fn plan_remote(
    stat: Option<&PathStat>,
    local: &Path,
    src: &str,
    dest: &str,
    src_is_dir: bool,
) -> Result<(String, String), CliError> {
    let base = |p: &str| Path::new(p).file_name().map(|n| n.to_string_lossy().into_owned());
    let parent = |p: &str| Path::new(p).parent().map_or_else(|| "/".to_string(), |d| d.to_string_lossy().into_owned());
    let local_name = local.file_name().map_or_else(|| ".".into(), |n| n.to_string_lossy().into_owned());
    let contents = src.ends_with("/.") && src_is_dir;
    match stat {
        // `SRC/.` into an existing directory: its contents, merged there.
        Some(s) if s.is_dir() && contents => match base(dest) {
            Some(name) => Ok((parent(dest), name)),
            None => Err(CliError::Other(format!("cannot copy the contents of {src} onto /"))),
        },
        Some(s) if s.is_dir() => Ok((dest.to_string(), local_name)),
        Some(_) if src_is_dir => Err(CliError::Other(format!("cannot copy a directory to a file: {dest}"))),
        _ if dest.ends_with('/') && stat.is_none() && !src_is_dir => {
            Err(CliError::Other(format!("destination directory {dest} does not exist")))
        }
        _ => match base(dest) {
            Some(name) => Ok((parent(dest), name)),
            None => Err(CliError::Other(format!("invalid destination {dest}"))),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn container_and_local_arguments() {
        assert_eq!(split("web:/etc/hosts"), (Some("web"), "/etc/hosts"));
        assert_eq!(split("./a:b"), (None, "./a:b"));
        assert_eq!(split("/tmp/x"), (None, "/tmp/x"));
        assert_eq!(split("file"), (None, "file"));
        assert_eq!(split("-"), (None, "-"));
    }

    #[test]
    fn where_an_upload_lands() {
        let dir = PathStat { name: "tmp".into(), mode: MODE_DIR | 0o755, link_target: String::new() };
        let file = PathStat { name: "f".into(), mode: 0o644, link_target: String::new() };
        let l = Path::new("/home/u/file");
        assert_eq!(plan_remote(Some(&dir), l, "file", "/tmp", false).unwrap(), ("/tmp".into(), "file".into()));
        assert_eq!(plan_remote(Some(&file), l, "file", "/tmp/f", false).unwrap(), ("/tmp".into(), "f".into()));
        assert_eq!(plan_remote(None, l, "file", "/tmp/new", false).unwrap(), ("/tmp".into(), "new".into()));
        assert!(plan_remote(None, l, "file", "/tmp/new/", false).is_err());
        assert!(plan_remote(Some(&file), l, "d", "/tmp/f", true).is_err());
        assert_eq!(plan_remote(Some(&dir), l, "d/.", "/tmp", true).unwrap(), ("/".into(), "tmp".into()));
    }
}
