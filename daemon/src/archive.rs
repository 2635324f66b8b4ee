//! Copying files out of and into a container: `container_copy` (Docker
//! 1.2's `POST /containers/{name}/copy`) and the archive jobs of today's
//! `docker cp` (`daemon/archive.go` of dockerd 1.12): stat, get and put of
//! a path, all in the container's merged root filesystem, mounted here for
//! the length of the job whether or not the container runs. A running
//! container shares that overlay mount, so it sees what `put` writes.
//!
//! Paths are resolved inside the root with symlinks scoped to it, and a tar
//! put into a container goes through the graph's checked extraction, so a
//! symlink in the container never leads a write outside its root; a running
//! container is frozen meanwhile so it cannot swap a checked path. The
//! network files (`/etc/hostname`, `/etc/hosts`, `/etc/resolv.conf`) read
//! as the daemon's copies, as dockerd's mounts make them.
//!
//! Not handled yet: paths inside volumes and bind mounts (the copy sees the
//! root filesystem under the mount point), and writes to the network files
//! (a put lands in the layer, under the container's bind mount).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use engine::{ErrorKind, Job, Status};
use graph::archive::{self, ExtractOptions, PathStat, ResolvedPath};
use graph::jobs::bridge::{ChannelWriter, reader_from_stdin, writer_to_stdout};
use graph::{Graph, GraphError};

use crate::container::Container;
use crate::error::ContainerError;
use crate::runtime::{Control, blocking};
use crate::{Daemon, events};

/// A failure of the copy jobs; the kind decides the HTTP status.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ArchiveError {
    /// The container lookup, mount or I/O failed.
    #[error(transparent)]
    Container(#[from] ContainerError),
    /// Nothing at the path (dockerd's text, HTTP 404).
    #[error("Could not find the file {path} in container {name}")]
    NotFound {
        /// The path as the client gave it.
        path: String,
        /// The container as the client named it.
        name: String,
    },
    /// `put` to something that is not a directory (dockerd's
    /// `ErrExtractPointNotDirectory`, HTTP 400).
    #[error("extraction point is not a directory")]
    NotADirectory,
    /// `put` into a container created with `--read-only`.
    #[error("container rootfs is marked read-only")]
    ReadOnly,
    /// A tar that would write outside its directory, or is malformed.
    #[error("Error processing tar file: {0}")]
    BadTar(String),
}

impl ArchiveError {
    fn kind(&self) -> ErrorKind {
        match self {
            ArchiveError::Container(e) => e.kind(),
            ArchiveError::NotFound { .. } => ErrorKind::NotFound,
            ArchiveError::NotADirectory | ArchiveError::ReadOnly | ArchiveError::BadTar(_) => ErrorKind::BadParameter,
        }
    }
}

impl From<GraphError> for ArchiveError {
    fn from(e: GraphError) -> Self {
        ArchiveError::Container(e.into())
    }
}

/// One nested `get` of a container's root filesystem, released on drop,
/// so every early return of a job unmounts what it mounted.
pub(crate) struct RootMount {
    graph: Arc<Graph>,
    layer: String,
    /// The merged root filesystem.
    pub(crate) path: PathBuf,
}

impl RootMount {
    /// Mounts (or shares the mount of) `c`'s root filesystem. Blocking.
    pub(crate) fn get(graph: &Arc<Graph>, c: &Container) -> Result<RootMount, ContainerError> {
        RootMount::layer(graph, c.layer_id())
    }

    /// Mounts (or shares the mount of) the graph-driver layer `id`. Blocking.
    pub(crate) fn layer(graph: &Arc<Graph>, id: &str) -> Result<RootMount, ContainerError> {
        let path = graph.driver().get(id)?;
        Ok(RootMount { graph: graph.clone(), layer: id.to_string(), path })
    }
}

impl Drop for RootMount {
    fn drop(&mut self) {
        if let Err(e) = self.graph.driver().put(&self.layer) {
            tracing::warn!(container = %self.layer, error = %e, "could not release the root filesystem");
        }
    }
}

/// The container `name` as it is now.
pub(crate) fn snapshot(daemon: &Daemon, name: &str) -> Result<Container, ContainerError> {
    Ok(daemon.containers().get(name)?.lock().clone())
}

/// Runs `body` with the container `name` frozen if it runs and is not
/// paused: paths are checked, then used, and a running container could
/// swap a checked directory for a symlink in between (CVE-2018-15664;
/// dockerd pauses the same way since 19.03). The freezer is used directly,
/// so no pause events and no change to `State.Paused`; a container the
/// user paused during the copy stays frozen.
async fn frozen<T>(
    daemon: &Daemon,
    name: &str,
    body: impl Future<Output = Result<T, ArchiveError>>,
) -> Result<T, ArchiveError> {
    let running = daemon.containers().get(name).ok().and_then(|h| {
        let c = h.lock();
        (c.state.running && !c.state.paused).then(|| c.id.clone())
    });
    let mut thaw = None;
    if let Some(id) = running {
        let slot = daemon.runtime().slot(&id);
        match slot.control(|reply| Control::Freeze(true, reply)).await {
            Ok(()) => thaw = Some(slot),
            // It stopped meanwhile: nothing runs to race with.
            Err(e) => tracing::debug!(container = %id, error = %e, "not frozen for the copy"),
        }
    }
    let result = body.await;
    let paused_meanwhile = || daemon.containers().get(name).is_ok_and(|h| h.lock().state.paused);
    if let Some(slot) = thaw
        && !paused_meanwhile()
        && let Err(e) = slot.control(|reply| Control::Freeze(false, reply)).await
    {
        tracing::warn!(container = %name, error = %e, "could not thaw after the copy");
    }
    result
}

/// `NAME PATH` from the job's args.
fn name_and_path(job: &Job, usage: &str) -> Option<(String, String)> {
    let args = job.args();
    match (args.first(), args.get(1)) {
        (Some(name), Some(path)) => Some((name.clone(), path.clone())),
        _ => {
            tracing::debug!(job = usage, "missing arguments");
            None
        }
    }
}

/// The files the daemon keeps for a container in its directory and
/// bind-mounts over the container's own, by path in the container.
const NETWORK_FILES: &[(&str, &str)] =
    &[("etc/hostname", "hostname"), ("etc/hosts", "hosts"), ("etc/resolv.conf", "resolv.conf")];

/// `host`, or the daemon's copy when it is one of the network files.
fn network_file(root: &RootMount, files: &Path, host: PathBuf) -> PathBuf {
    match NETWORK_FILES.iter().find(|(at, _)| host == root.path.join(at)) {
        Some((_, file)) => files.join(file),
        None => host,
    }
}

/// Resolves and stats `path` in a mounted root; missing is an error.
/// dockerd mounts the container's network files (`/etc/hostname`, ...)
/// into the root while it copies: reading one of them here reads the
/// daemon's copy in `files` (the container's directory) instead of the
/// empty mount point the layer holds. A directory above them is read
/// from the layer as it is.
fn stat_in(root: &RootMount, files: &Path, name: &str, path: &str) -> Result<(ResolvedPath, PathStat), ArchiveError> {
    let mut resolved = archive::resolve_path(&root.path, path)?;
    resolved.host = network_file(root, files, resolved.host);
    match archive::stat_path(&root.path, &resolved)? {
        Some(stat) => Ok((resolved, stat)),
        None => Err(ArchiveError::NotFound { path: path.to_string(), name: name.to_string() }),
    }
}

/// Runs `container_copy NAME RESOURCE` (the 1.2 copy; RESOURCE relative to
/// the root): the resource's tar, its last symlink followed as 1.2 did.
pub async fn copy(daemon: Daemon, job: Job) -> Status {
    let Some((name, resource)) = name_and_path(&job, "container_copy") else {
        return job.errorf("Usage: container_copy CONTAINER RESOURCE").await;
    };
    let result = frozen(&daemon, &name, async {
        let c = snapshot(&daemon, &name)?;
        let files = c.dir(daemon.containers().dir());
        let n = name.clone();
        tar_to_stdout(&daemon, &job, c, move |root, out| {
            let host = network_file(root, &files, archive::resolve_in_root(&root.path, &resource)?);
            if std::fs::symlink_metadata(&host).is_err() {
                return Err(ArchiveError::NotFound { path: format!("/{resource}"), name: n });
            }
            // The top entry takes the name of what was found, as 1.2's
            // `TarWithOptions(dir, IncludeFiles: [base])` did.
            let top = host.file_name().map_or_else(|| ".".into(), |n| n.to_string_lossy().into_owned());
            Ok(archive::tar_resource(&host, &top, out)?)
        })
        .await?;
        events::emit(daemon.engine(), "copy", &snapshot(&daemon, &name)?, &[]).await;
        Ok::<(), ArchiveError>(())
    })
    .await;
    finish(&job, result).await
}

/// Runs `container_archive_stat NAME PATH`: prints the path's stat as JSON
/// (the router puts it, base64'd, in `X-Docker-Container-Path-Stat`).
pub async fn archive_stat(daemon: Daemon, job: Job) -> Status {
    let Some((name, path)) = name_and_path(&job, "container_archive_stat") else {
        return job.errorf("Usage: container_archive_stat CONTAINER PATH").await;
    };
    let result = frozen(&daemon, &name, async {
        let c = snapshot(&daemon, &name)?;
        let graph = daemon.graph().clone();
        let id = c.id.clone();
        let files = c.dir(daemon.containers().dir());
        let (n, p) = (name.clone(), path.clone());
        let stat = blocking(&id, move || {
            let root = RootMount::get(&graph, &c)?;
            Ok(stat_in(&root, &files, &n, &p))
        })
        .await??;
        let json = serde_json::to_string(&stat.1).unwrap_or_default();
        job.print(json).await.map_err(io_failure(&id))?;
        Ok(())
    })
    .await;
    finish(&job, result).await
}

/// Runs `container_archive_get NAME PATH`: the tar of the path, its top
/// entry named by the path's base name (`TarResourceRebase`).
pub async fn archive_get(daemon: Daemon, job: Job) -> Status {
    let Some((name, path)) = name_and_path(&job, "container_archive_get") else {
        return job.errorf("Usage: container_archive_get CONTAINER PATH").await;
    };
    let result = frozen(&daemon, &name, async {
        let c = snapshot(&daemon, &name)?;
        let files = c.dir(daemon.containers().dir());
        let n = name.clone();
        tar_to_stdout(&daemon, &job, c, move |root, out| {
            let (resolved, _) = stat_in(root, &files, &n, &path)?;
            Ok(archive::tar_resource(&resolved.host, &resolved.name, out)?)
        })
        .await?;
        events::emit(daemon.engine(), "archive-path", &snapshot(&daemon, &name)?, &[]).await;
        Ok(())
    })
    .await;
    finish(&job, result).await
}

/// Runs `container_archive_put NAME PATH` (env `noOverwriteDirNonDir`,
/// `copyUIDGID`):
/// extracts the tar on stdin into the directory PATH of the container,
/// following a symlink at PATH itself as dockerd does.
pub async fn archive_put(daemon: Daemon, job: Job) -> Status {
    let Some((name, path)) = name_and_path(&job, "container_archive_put") else {
        return job.errorf("Usage: container_archive_put CONTAINER PATH").await;
    };
    // dockerd 1.12 gives everything to the container's root; today's
    // keeps the tar's owners when the client asks (`docker cp -a`).
    let chown = if job.getenv_bool("copyUIDGID") { None } else { Some((0, 0)) };
    let options =
        ExtractOptions { no_overwrite_dir_non_dir: job.getenv_bool("noOverwriteDirNonDir"), chown, no_lchown: false };
    let result = frozen(&daemon, &name, async {
        let c = snapshot(&daemon, &name)?;
        let read_only = c.host_config.readonly_rootfs;
        let graph = daemon.graph().clone();
        let id = c.id.clone();
        let mut input = reader_from_stdin(&job);
        let (n, p) = (name.clone(), path.clone());
        blocking(&id, move || {
            let root = RootMount::get(&graph, &c)?;
            let dest = match archive::resolve_in_root(&root.path, &p) {
                Ok(dest) => dest,
                Err(e) => return Ok(Err(e.into())),
            };
            Ok(match std::fs::symlink_metadata(&dest) {
                Err(_) => Err(ArchiveError::NotFound { path: p, name: n }),
                Ok(m) if !m.is_dir() => Err(ArchiveError::NotADirectory),
                Ok(_) if read_only => Err(ArchiveError::ReadOnly),
                Ok(_) => match archive::extract_into(&mut input, &dest, options) {
                    Ok(_) => Ok(()),
                    Err(GraphError::BadLayer(why)) => Err(ArchiveError::BadTar(why)),
                    Err(e) => Err(e.into()),
                },
            })
        })
        .await??;
        events::emit(daemon.engine(), "extract-to-dir", &snapshot(&daemon, &name)?, &[]).await;
        Ok(())
    })
    .await;
    finish(&job, result).await
}

/// Streams to the job's stdout the tar `make` writes, with `c`'s root
/// mounted for it (blocking work, off the async workers); done once the
/// last byte is forwarded.
async fn tar_to_stdout(
    daemon: &Daemon,
    job: &Job,
    c: Container,
    make: impl FnOnce(&RootMount, &mut ChannelWriter) -> Result<(), ArchiveError> + Send + 'static,
) -> Result<(), ArchiveError> {
    let graph = daemon.graph().clone();
    let id = c.id.clone();
    let (mut out, forward) = writer_to_stdout(job);
    let written = blocking(&id, move || {
        let root = RootMount::get(&graph, &c)?;
        Ok(make(&root, &mut out))
    })
    .await
    .map_err(ArchiveError::from)
    .and_then(|r| r);
    // Forwarding ends when the writer is dropped, whatever `make` did.
    let forwarded = forwarded(&id, forward).await;
    written?;
    forwarded
}

fn io_failure(id: &str) -> impl Fn(std::io::Error) -> ArchiveError + '_ {
    move |e| ArchiveError::Container(ContainerError::io(id, PathBuf::new())(e))
}

/// Waits for the task that forwards a blocking writer's bytes to stdout.
async fn forwarded(id: &str, task: tokio::task::JoinHandle<std::io::Result<()>>) -> Result<(), ArchiveError> {
    match task.await {
        Ok(result) => result.map_err(io_failure(id)),
        Err(e) => Err(io_failure(id)(std::io::Error::other(e.to_string()))),
    }
}

async fn finish(job: &Job, result: Result<(), ArchiveError>) -> Status {
    match result {
        Ok(()) => Status::OK,
        Err(e) => job.fail(e.kind(), e).await,
    }
}
