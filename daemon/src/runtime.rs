//! What the daemon knows about containers beyond their stored state: the
//! exec driver, and per container a [`Slot`] with the live output
//! broadcast, the stdin queue and the control channel of its monitor
//! (Docker 1.2 kept these on the `Container` as `stdout`/`stderr`
//! broadcasters and `stdin` pipes).
//!
//! A slot outlives one run of the process, because today's CLI attaches
//! before it starts the container (`run` = create → attach → start): the
//! attach subscribes to the slot of a created container and sees the output
//! of the run that follows.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use execdriver::NativeDriver;
use parking_lot::Mutex;
use tokio::sync::{broadcast, mpsc, oneshot};

use crate::error::ContainerError;
use crate::logger::Stream;

/// How many output chunks a slow subscriber may fall behind before it
/// loses some (it is told, and goes on); the log file keeps everything.
/// A chunk is up to a pipe read (16 KiB), so 128 is up to 2 MiB behind;
/// the ring is allocated whole for every running container, which at 1024
/// slots was most of the daemon's memory per container.
const OUTPUT_BACKLOG: usize = 128;

/// How many output chunks wait for an attached client before the container
/// is slowed down to its pace.
const ATTACH_BACKLOG: usize = 16;

/// How long an attached client may take no output at all before it is
/// dropped, so a client that stopped reading (but keeps its connection)
/// cannot freeze a container for good. dockerd waits forever.
const ATTACH_STALL: Duration = Duration::from_secs(60);

/// Output for one attached client: the stream and the bytes.
pub type Chunk = (Stream, Arc<[u8]>);

/// How many stdin chunks wait for a container that is not reading them;
/// the client is then slowed down (back-pressure), not buffered for.
const STDIN_BACKLOG: usize = 64;

/// What a slot's subscribers see.
#[derive(Debug, Clone)]
pub enum Event {
    /// Output of the process.
    Output(Stream, Arc<[u8]>),
    /// The process exited with this code (its state is already saved).
    Exit(i64),
}

/// A client's stdin, queued for the running process.
#[derive(Debug)]
pub enum Stdin {
    /// Bytes to write.
    Data(Vec<u8>),
    /// The client's end of file: closes the process's stdin when the
    /// container has `StdinOnce`.
    Eof,
}

/// A request to the monitor, which owns the exec driver's handle.
pub enum Control {
    /// Send this signal to pid 1.
    Signal(i32, oneshot::Sender<execdriver::Result<()>>),
    /// Freeze (`true`) or thaw.
    Freeze(bool, oneshot::Sender<execdriver::Result<()>>),
    /// The host pids of every process.
    Pids(oneshot::Sender<execdriver::Result<Vec<i32>>>),
    /// The cgroup's accounting figures (`docker stats`).
    Stats(oneshot::Sender<execdriver::Result<execdriver::Stats>>),
    /// New limits on the live cgroup (`docker update`).
    Update(Box<execdriver::cgroups::ResourceUpdate>, oneshot::Sender<execdriver::Result<()>>),
    /// Resize the tty.
    Resize(u16, u16, oneshot::Sender<execdriver::Result<()>>),
    /// Start a `docker exec` process in the container; its handle goes to
    /// the requester, which supervises it.
    Exec(Box<execdriver::Process>, oneshot::Sender<execdriver::Result<execdriver::ExecProcess>>),
}

/// One container's live side.
pub struct Slot {
    id: String,
    events: broadcast::Sender<Event>,
    stdin_tx: mpsc::Sender<Stdin>,
    /// Taken by the monitor of the current run.
    pub(crate) stdin_rx: tokio::sync::Mutex<mpsc::Receiver<Stdin>>,
    control: Mutex<Option<mpsc::Sender<Control>>>,
    /// Attached clients' output, with back-pressure: a slow client slows
    /// the container down, as with dockerd, where the lossy broadcast
    /// would drop what the client had not read yet.
    attached: Mutex<Vec<mpsc::Sender<Chunk>>>,
    /// Held by a start from its checks to its state save, so two starts
    /// cannot both launch the process.
    pub(crate) start_lock: tokio::sync::Mutex<()>,
    /// The user asked the current run to end (stop, kill, rm -f): the
    /// restart policy does not apply to that exit (dockerd's rule).
    pub(crate) stop_requested: AtomicBool,
}

impl Slot {
    /// A receiver of what happens from now on. Subscribe while holding the
    /// container's lock after checking it runs: the monitor changes the
    /// state under that lock before it announces the exit, so the exit
    /// cannot be missed.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.events.subscribe()
    }

    pub(crate) fn publish(&self, event: Event) {
        // No subscribers is the normal case.
        let _ = self.events.send(event);
    }

    /// The output of the current run (or of the next one, when the
    /// container is not running) for an attached client, every byte, in
    /// order; the channel ends with the run. Register while holding the
    /// container's lock, as for [`Slot::subscribe`].
    pub fn attach_output(&self) -> mpsc::Receiver<Chunk> {
        let (tx, rx) = mpsc::channel(ATTACH_BACKLOG);
        self.attached.lock().push(tx);
        rx
    }

    /// Hands a chunk to every attached client, waiting for room in each;
    /// a client gone, or stalled for [`ATTACH_STALL`], is dropped.
    pub(crate) async fn deliver(&self, stream: Stream, data: &Arc<[u8]>) {
        let clients: Vec<mpsc::Sender<Chunk>> = self.attached.lock().clone();
        let mut dropped = Vec::new();
        for tx in clients {
            match tx.send_timeout((stream, data.clone()), ATTACH_STALL).await {
                Ok(()) => {}
                Err(mpsc::error::SendTimeoutError::Timeout(_)) => {
                    tracing::warn!(container = %self.id, "an attached client read nothing for 60 s; detached");
                    dropped.push(tx);
                }
                Err(mpsc::error::SendTimeoutError::Closed(_)) => dropped.push(tx),
            }
        }
        if !dropped.is_empty() {
            self.attached.lock().retain(|tx| !dropped.iter().any(|d| d.same_channel(tx)));
        }
    }

    /// Ends the attached clients' output: the run is over (or never began).
    /// Call under the container's lock, with the state change.
    pub(crate) fn end_attached(&self) {
        self.attached.lock().clear();
    }

    /// A sender for the client's stdin.
    pub fn stdin(&self) -> mpsc::Sender<Stdin> {
        self.stdin_tx.clone()
    }

    pub(crate) fn set_control(&self, tx: Option<mpsc::Sender<Control>>) {
        *self.control.lock() = tx;
    }

    /// Asks the monitor to do something with the running process.
    pub async fn control<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<execdriver::Result<T>>) -> Control,
    ) -> Result<T, ContainerError> {
        let tx = self.control.lock().clone().ok_or_else(|| ContainerError::NotRunning(self.id.clone()))?;
        let (reply, answer) = oneshot::channel();
        tx.send(make(reply)).await.map_err(|_| ContainerError::NotRunning(self.id.clone()))?;
        let result = answer.await.map_err(|_| ContainerError::NotRunning(self.id.clone()))?;
        result.map_err(|source| match source {
            execdriver::Error::NotRunning { .. } => ContainerError::NotRunning(self.id.clone()),
            source => ContainerError::Exec { id: self.id.clone(), source },
        })
    }
}

/// Waits on a subscription for the next exit; `None` when the slot went
/// away. Output and lag are skipped.
pub async fn next_exit(rx: &mut broadcast::Receiver<Event>) -> Option<i64> {
    loop {
        match rx.recv().await {
            Ok(Event::Exit(code)) => return Some(code),
            Ok(Event::Output(..)) | Err(broadcast::error::RecvError::Lagged(_)) => {}
            Err(broadcast::error::RecvError::Closed) => return None,
        }
    }
}

/// The exec driver and every container's slot.
pub struct Runtime {
    driver: NativeDriver,
    slots: Mutex<HashMap<String, Arc<Slot>>>,
}

impl Default for Runtime {
    fn default() -> Self {
        Self::new()
    }
}

impl Runtime {
    /// The native driver re-executing this binary as the container init.
    pub fn new() -> Runtime {
        Runtime { driver: NativeDriver::new(), slots: Mutex::new(HashMap::new()) }
    }

    /// The exec driver.
    pub fn driver(&self) -> &NativeDriver {
        &self.driver
    }

    /// The slot of container `id`, made on first use.
    pub fn slot(&self, id: &str) -> Arc<Slot> {
        self.slots
            .lock()
            .entry(id.to_string())
            .or_insert_with(|| {
                let (stdin_tx, stdin_rx) = mpsc::channel(STDIN_BACKLOG);
                Arc::new(Slot {
                    id: id.to_string(),
                    events: broadcast::channel(OUTPUT_BACKLOG).0,
                    stdin_tx,
                    stdin_rx: tokio::sync::Mutex::new(stdin_rx),
                    control: Mutex::new(None),
                    attached: Mutex::new(Vec::new()),
                    start_lock: tokio::sync::Mutex::new(()),
                    stop_requested: AtomicBool::new(false),
                })
            })
            .clone()
    }

    /// Drops a removed container's slot (its subscribers see the end).
    pub fn forget(&self, id: &str) {
        self.slots.lock().remove(id);
    }
}

/// Runs blocking file work off the async workers; a panicked task becomes
/// an error naming the container.
pub(crate) async fn blocking<T: Send + 'static>(
    id: &str,
    f: impl FnOnce() -> Result<T, ContainerError> + Send + 'static,
) -> Result<T, ContainerError> {
    match tokio::task::spawn_blocking(f).await {
        Ok(result) => result,
        Err(e) => Err(ContainerError::Io {
            id: id.to_string(),
            path: PathBuf::new(),
            source: std::io::Error::other(format!("blocking task failed: {e}")),
        }),
    }
}
