//! The `container_changes` job (`daemon/changes.go`): what the container
//! changed in its own layer against its image, for running and stopped
//! containers alike.
//!
//! Docker keeps the files the daemon itself puts into every container
//! (`/etc/hosts`, the `/proc` mount point, ...) in an "init" layer between
//! the image and the container, so they never show in a diff. Here the exec
//! driver creates them in the container's layer at start, so they are left
//! out of the answer instead, with the directories that only changed
//! because of them.

use engine::{Job, Status};
use graph::archive::{self, Change, ChangeKind};

use crate::Daemon;
use crate::archive::{RootMount, snapshot};
use crate::runtime::blocking;

/// What Docker's init layer holds (`daemon/initlayer` and 1.2's
/// `setupInitLayer`).
const INIT_PATHS: &[&str] = &[
    "/.dockerenv",
    "/.dockerinit",
    // The container's /dev is a tmpfs: only the mount point reaches the
    // layer, and the exec driver makes it.
    "/dev",
    "/dev/console",
    "/dev/pts",
    "/dev/shm",
    "/dev/mqueue",
    "/etc/hostname",
    "/etc/hosts",
    "/etc/mtab",
    "/etc/resolv.conf",
    "/proc",
    "/sys",
];

/// Runs `container_changes CONTAINER`: `[{"Path":..,"Kind":0|1|2}]`.
pub async fn changes(daemon: Daemon, job: Job) -> Status {
    let Some(name) = job.args().first().cloned() else {
        return job.errorf("Usage: container_changes CONTAINER").await;
    };
    let result = async {
        let c = snapshot(&daemon, &name)?;
        let graph = daemon.graph().clone();
        let parent = match graph.images().get(&c.image) {
            Some(image) => image.top_layer.map(|l| l.strip_prefix("sha256:").unwrap_or(&l).to_string()),
            None => None,
        };
        let id = c.id.clone();
        blocking(&id, move || {
            let driver = graph.driver();
            let layer = driver.diff_dir(c.layer_id());
            let parent = parent.map(|p| RootMount::layer(&graph, &p)).transpose()?;
            let found = archive::changes(&layer, driver.whiteout_format(), parent.as_ref().map(|p| p.path.as_path()))?;
            Ok(without_init_paths(found))
        })
        .await
    }
    .await;
    match result {
        Ok(found) => {
            let wire: Vec<_> =
                found.iter().map(|c| serde_json::json!({ "Path": c.path, "Kind": c.kind as u8 })).collect();
            match job.print(serde_json::Value::from(wire).to_string()).await {
                Ok(()) => Status::OK,
                Err(e) => job.errorf(format!("container_changes: {e}")).await,
            }
        }
        Err(e) => job.fail(e.kind(), e).await,
    }
}

/// Drops the init layer's paths (and what lies below them), then every
/// directory that was added or modified only because an init path was
/// created in it (nothing else changed below it).
fn without_init_paths(found: Vec<Change>) -> Vec<Change> {
    let is_init =
        |path: &str| INIT_PATHS.iter().any(|p| path == *p || path.strip_prefix(p).is_some_and(|r| r.starts_with('/')));
    let below = |dir: &str, path: &str| path.strip_prefix(dir).is_some_and(|r| r.starts_with('/'));
    let kept: Vec<Change> = found.iter().filter(|c| !is_init(&c.path)).cloned().collect();
    kept.iter()
        .filter(|c| {
            if c.kind == ChangeKind::Deleted {
                return true;
            }
            let had_init_child = found.iter().any(|o| is_init(&o.path) && below(&c.path, &o.path));
            !had_init_child || kept.iter().any(|o| below(&c.path, &o.path))
        })
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(path: &str, kind: ChangeKind) -> Change {
        Change { path: path.into(), kind }
    }

    #[test]
    fn the_daemons_own_files_are_not_changes() {
        use ChangeKind::{Added as A, Deleted as D, Modified as C};
        let found = vec![
            change("/dev", A),
            change("/dev/pts", A),
            change("/dev/shm", A),
            change("/etc", C),
            change("/etc/hostname", A),
            change("/etc/passwd", D),
            change("/proc", A),
            change("/tmp", C),
            change("/tmp/new", A),
            change("/var", C),
        ];
        let kept: Vec<_> = without_init_paths(found).into_iter().map(|c| c.path).collect();
        assert_eq!(kept, ["/etc", "/etc/passwd", "/tmp", "/tmp/new", "/var"]);
    }
}
