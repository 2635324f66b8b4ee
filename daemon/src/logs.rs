//! The `logs` job (`daemon/logs.go`): replays the json-file log (all, or
//! the last `tail` lines, from `since`), then with `follow` streams the
//! live output until the container exits. Stdout lines go to the job's
//! stdout and stderr lines to its stderr (the router frames them);
//! `timestamps` prefixes each line with its RFC 3339 time and a space, in
//! both parts (Docker 1.2 wrote `[time] ` in the follow part; today's
//! dockerd does not).
//!
//! Departure: the live part subscribes before the replay reads the file,
//! and the monitor publishes output only once it is in the file, so nothing
//! is lost; a line written in that instant can appear twice.

use std::time::SystemTime;

use engine::{Job, Status};
use tokio::sync::broadcast::error::{RecvError, TryRecvError};

use crate::Daemon;
use crate::container::rfc3339_nano;
use crate::error::ContainerError;
use crate::logger::{self, Entry, Stream};
use crate::runtime::{Event, blocking};

/// Which streams a client wants, and how.
#[derive(Debug, Clone, Copy)]
pub struct Want {
    /// Stdout lines.
    pub stdout: bool,
    /// Stderr lines.
    pub stderr: bool,
    /// Prefix the time.
    pub timestamps: bool,
}

impl Want {
    fn wants(&self, stream: Stream) -> bool {
        match stream {
            Stream::Stdout => self.stdout,
            Stream::Stderr => self.stderr,
        }
    }
}

/// Runs `logs CONTAINER` (env `stdout`, `stderr`, `follow`, `timestamps`,
/// `tail`, `since`).
pub async fn logs(daemon: Daemon, job: Job) -> Status {
    let args = job.args();
    let [name] = args.as_slice() else {
        return job.errorf("Usage: logs CONTAINER").await;
    };
    let want = Want {
        stdout: job.getenv_bool("stdout"),
        stderr: job.getenv_bool("stderr"),
        timestamps: job.getenv_bool("timestamps"),
    };
    if !want.stdout && !want.stderr {
        return job.fail(engine::ErrorKind::BadParameter, "You must choose at least one stream").await;
    }
    let tail = logger::parse_tail(&job.getenv("tail"));
    let since = job.getenv_int("since");
    let handle = match daemon.containers().get(name) {
        Ok(h) => h,
        Err(e) => return job.fail(e.kind(), e).await,
    };
    let (path, mut live) = {
        let c = handle.lock();
        let live = (job.getenv_bool("follow") && c.state.running).then(|| daemon.runtime().slot(&c.id).subscribe());
        (c.log_path(daemon.containers().dir()), live)
    };
    let mut offset = match replay(&job, &path, tail, since, want).await {
        Ok(offset) => offset,
        Err(e) => return job.fail(e.kind(), e).await,
    };
    // Following is reading the file on: each output event says it grew
    // (the monitor publishes output once it is written), and the exit comes
    // after the last write, so every entry is sent once, with the time it
    // was logged, as dockerd's follower of the json file does.
    if let Some(rx) = live.as_mut() {
        loop {
            let done = match rx.recv().await {
                Ok(Event::Output(..)) | Err(RecvError::Lagged(_)) => false,
                Ok(Event::Exit(_)) | Err(RecvError::Closed) => true,
            };
            // One read for everything that has piled up meanwhile.
            let mut done = done;
            while !done {
                match rx.try_recv() {
                    Ok(Event::Output(..)) | Err(TryRecvError::Lagged(_)) => {}
                    Ok(Event::Exit(_)) | Err(TryRecvError::Closed) => done = true,
                    Err(TryRecvError::Empty) => break,
                }
            }
            match send_entries(&job, &path, offset, since, want).await {
                Ok(Some(next)) => offset = next,
                Ok(None) => break,
                Err(e) => return job.fail(e.kind(), e).await,
            }
            if done {
                break;
            }
        }
    }
    Status::OK
}

/// Sends the entries after `offset` (none older than `since`); the offset
/// to go on from, or `None` when the client went away.
async fn send_entries(
    job: &Job,
    path: &std::path::Path,
    offset: u64,
    since: i64,
    want: Want,
) -> Result<Option<u64>, ContainerError> {
    let (entries, next) = read_entries(path, offset, None).await?;
    Ok(write_entries(job, &entries, since, want).await.then_some(next))
}

/// Writes the log's entries (the last `tail`, none older than `since`
/// unix seconds when positive) to the job's streams; the offset just past
/// them, where a follower reads on.
pub async fn replay(
    job: &Job,
    path: &std::path::Path,
    tail: Option<usize>,
    since: i64,
    want: Want,
) -> Result<u64, ContainerError> {
    let (entries, offset) = read_entries(path, 0, tail).await?;
    write_entries(job, &entries, since, want).await;
    Ok(offset)
}

/// [`logger::read_from`] off the async workers.
async fn read_entries(
    path: &std::path::Path,
    offset: u64,
    tail: Option<usize>,
) -> Result<(Vec<Entry>, u64), ContainerError> {
    let p = path.to_path_buf();
    blocking("-", move || {
        logger::read_from(&p, offset, tail).map_err(|e| ContainerError::Io {
            id: "-".into(),
            path: e.path,
            source: e.source,
        })
    })
    .await
}

/// Writes `entries` to the job's streams (timestamped when asked); false
/// when the client went away.
async fn write_entries(job: &Job, entries: &[Entry], since: i64, want: Want) -> bool {
    for entry in entries.iter().filter(|e| want.wants(e.stream) && newer(e, since)) {
        let out = if want.timestamps { format!("{} {}", entry.time, entry.log) } else { entry.log.clone() };
        let sink = if entry.stream == Stream::Stdout { job.stdout() } else { job.stderr() };
        if sink.write(out.as_bytes()).await.is_err() {
            return false;
        }
    }
    true
}

fn newer(e: &Entry, since: i64) -> bool {
    if since <= 0 {
        return true;
    }
    let Ok(t) = humantime::parse_rfc3339_weak(&e.time) else { return true };
    t.duration_since(SystemTime::UNIX_EPOCH).map_or(true, |d| d.as_secs() as i64 >= since)
}

/// Writes live output, each line prefixed by the current time when asked.
pub async fn write(job: &Job, stream: Stream, data: &[u8], timestamps: bool) -> std::io::Result<()> {
    let sink = if stream == Stream::Stdout { job.stdout() } else { job.stderr() };
    if !timestamps {
        sink.write(data).await?;
        return Ok(());
    }
    let time = rfc3339_nano(SystemTime::now());
    let mut out = Vec::with_capacity(data.len() + 40);
    for line in data.split_inclusive(|b| *b == b'\n') {
        out.extend_from_slice(time.as_bytes());
        out.push(b' ');
        out.extend_from_slice(line);
    }
    sink.write(&out).await?;
    Ok(())
}
