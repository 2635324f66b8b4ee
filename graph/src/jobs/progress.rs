//! A job's JSON progress stream written from many places at once (one task
//! per layer, blocking extraction threads): messages go through a channel
//! to one writer task, so each reaches the client whole and in order.
//! Progress ticks are dropped when the client is slow; status lines never.

use std::time::{Duration, Instant};

use engine::Job;
use runconfig::{ProgressDetail, StreamFormatter};
use tokio::sync::mpsc;

/// How often one layer's byte counts are reported.
const TICK: Duration = Duration::from_millis(100);

/// The sending side; cheap to clone.
#[derive(Debug, Clone)]
pub struct Progress {
    tx: mpsc::Sender<Vec<u8>>,
    formatter: StreamFormatter,
}

/// The writer task; `finish` waits until every message is written.
#[derive(Debug)]
pub struct ProgressWriter {
    task: tokio::task::JoinHandle<()>,
}

impl ProgressWriter {
    /// Waits for the queued messages to be written (all `Progress` clones
    /// must be dropped first).
    pub async fn finish(self) {
        let _ = self.task.await;
    }
}

/// Starts the writer for `job`'s stdout.
pub fn start(job: &Job) -> (Progress, ProgressWriter) {
    let (tx, mut rx) = mpsc::channel::<Vec<u8>>(256);
    let formatter = StreamFormatter::new(job.getenv_bool("json") || !job.env_exists("json"));
    let out = job.clone();
    let task = tokio::spawn(async move {
        while let Some(message) = rx.recv().await {
            if out.stdout().write(&message).await.is_err() {
                // The client went away; keep draining so senders never block.
                continue;
            }
        }
    });
    (Progress { tx, formatter }, ProgressWriter { task })
}

impl Progress {
    /// A status line (never dropped).
    pub async fn status(&self, id: &str, text: &str) {
        let _ = self.tx.send(self.formatter.status(id, text)).await;
    }

    /// A progress message with a bar (never dropped).
    pub async fn progress(&self, id: &str, action: &str, detail: ProgressDetail) {
        let _ = self.tx.send(self.formatter.progress(id, action, detail)).await;
    }

    /// An `aux` message.
    pub async fn aux(&self, value: serde_json::Value) {
        let _ = self.tx.send(self.formatter.aux(value)).await;
    }

    /// A byte-count tick from any thread; dropped if the queue is full.
    pub fn tick(&self, id: &str, action: &str, detail: ProgressDetail) {
        let _ = self.tx.try_send(self.formatter.progress(id, action, detail));
    }
}

/// Counts bytes for one layer and emits a tick at most every [`TICK`].
#[derive(Debug)]
pub struct ByteCounter {
    progress: Progress,
    id: String,
    action: &'static str,
    total: i64,
    current: i64,
    start: i64,
    last: Option<Instant>,
}

impl ByteCounter {
    /// Counts `action` bytes of layer `id` out of `total` (0 if unknown).
    pub fn new(progress: Progress, id: &str, action: &'static str, total: i64) -> ByteCounter {
        let start = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64);
        ByteCounter { progress, id: id.to_string(), action, total, current: 0, start: start.unwrap_or(0), last: None }
    }

    /// Adds `n` bytes.
    pub fn add(&mut self, n: usize) {
        self.current += n as i64;
        let due = self.last.is_none_or(|t| t.elapsed() >= TICK) || self.current == self.total;
        if due {
            self.last = Some(Instant::now());
            let detail = ProgressDetail { current: self.current, total: self.total, start: self.start };
            self.progress.tick(&self.id, self.action, detail);
        }
    }

    /// Bytes so far.
    pub fn current(&self) -> i64 {
        self.current
    }
}
