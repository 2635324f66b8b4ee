//! The `export` job (`daemon/export.go`): the container's whole merged root
//! filesystem as one tar, mounted for the length of the job whether or not
//! the container runs, then the `export` event.

use engine::{Job, Status};
use graph::archive;
use graph::jobs::bridge::writer_to_stdout;

use crate::archive::{RootMount, snapshot};
use crate::error::ContainerError;
use crate::runtime::blocking;
use crate::{Daemon, events};

/// Runs `export CONTAINER`: the tar goes to stdout as it is written.
pub async fn export(daemon: Daemon, job: Job) -> Status {
    let Some(name) = job.args().first().cloned() else {
        return job.errorf("Usage: export CONTAINER").await;
    };
    let c = match snapshot(&daemon, &name) {
        Ok(c) => c,
        Err(e) => return job.fail(e.kind(), e).await,
    };
    let graph = daemon.graph().clone();
    let (mut out, forward) = writer_to_stdout(&job);
    let id = c.id.clone();
    let snap = c.clone();
    let written = blocking(&id, move || {
        let root = RootMount::get(&graph, &snap)?;
        archive::tar_tree(&root.path, &mut out).map_err(ContainerError::from)
    })
    .await;
    let forwarded = forward.await;
    let result = written.map_err(|e| e.to_string()).and_then(|()| match forwarded {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(e) => Err(e.to_string()),
    });
    match result {
        Ok(()) => {
            events::emit(daemon.engine(), "export", &c, &[]).await;
            Status::OK
        }
        // dockerd's text.
        Err(e) => job.errorf(format!("Error exporting container {name}: {e}")).await,
    }
}
