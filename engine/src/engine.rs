//! `Engine`: the registry of job handlers and the shutdown protocol
//! (`engine/engine.go`).
//!
//! Rules kept from Docker 1.2: registering a taken name fails (`Can't
//! overwrite handler for command X`) and keeps the first handler; a
//! catch-all serves unknown non-empty names; `commands` lists every
//! registered name, sorted; handlers registered globally before an engine is
//! created are copied into it; `+job`/`-job` lines go to the engine's stderr
//! prefixed with the first 8 hex digits of its random id while logging is on
//! (and every job's stderr is teed there too); `shutdown` refuses new jobs at
//! once, waits at most 5 s for running jobs (never for `serveapi`), then runs
//! every shutdown hook concurrently for at most 10 s. A second `shutdown`
//! returns immediately.
//!
//! The engine is shared by cloning (an `Arc` inside). Registration may happen
//! while jobs run, as `init_networkdriver` registers jobs from inside a job.

use std::collections::HashMap;
use std::future::Future;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use futures_util::future::{BoxFuture, join_all};
use parking_lot::{Mutex, RwLock};
use tokio::sync::{Notify, watch};

use crate::EngineError;
use crate::job::{Handler, Job, handler};
use crate::sinks::{LogSink, LogWriter};
use crate::status::Status;

/// How long `shutdown` waits for running jobs.
pub const SHUTDOWN_JOBS_TIMEOUT: Duration = Duration::from_secs(5);
/// How long `shutdown` waits for the shutdown hooks.
pub const SHUTDOWN_HOOKS_TIMEOUT: Duration = Duration::from_secs(10);

type Hook = Box<dyn FnOnce() -> BoxFuture<'static, ()> + Send>;

static GLOBAL_HANDLERS: LazyLock<Mutex<HashMap<String, Handler>>> = LazyLock::new(Default::default);

/// Registers a handler for every engine created from now on.
pub fn register_global<F, Fut>(name: &str, f: F) -> Result<(), EngineError>
where
    F: Fn(Job) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Status> + Send + 'static,
{
    let mut globals = GLOBAL_HANDLERS.lock();
    if globals.contains_key(name) {
        return Err(EngineError::GlobalHandlerExists(name.to_string()));
    }
    globals.insert(name.to_string(), handler(f));
    Ok(())
}

/// The job registry. Cheap to clone; clones are the same engine.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<EngineInner>,
}

struct EngineInner {
    id: String,
    handlers: RwLock<HashMap<String, Handler>>,
    catchall: RwLock<Option<Handler>>,
    logging: AtomicBool,
    log: RwLock<LogWriter>,
    tasks: TaskCounter,
    shutdown: Mutex<ShutdownState>,
    shutdown_started: watch::Sender<bool>,
}

#[derive(Default)]
struct ShutdownState {
    started: bool,
    hooks: Vec<Hook>,
}

impl Default for Engine {
    fn default() -> Self {
        Self::new()
    }
}

impl Engine {
    /// A new engine with logging on, the `commands` job registered, and the
    /// global handlers copied in (a global `commands` replaces the built-in,
    /// as in the original).
    pub fn new() -> Self {
        let eng = Self {
            inner: Arc::new(EngineInner {
                id: random_id(),
                handlers: RwLock::new(HashMap::new()),
                catchall: RwLock::new(None),
                logging: AtomicBool::new(true),
                log: RwLock::new(Arc::new(Mutex::new(Box::new(std::io::stderr())))),
                tasks: TaskCounter::default(),
                shutdown: Mutex::new(ShutdownState::default()),
                shutdown_started: watch::Sender::new(false),
            }),
        };
        eng.register("commands", commands).expect("a new engine has no handlers");
        let globals = GLOBAL_HANDLERS.lock().clone();
        eng.inner.handlers.write().extend(globals);
        eng
    }

    /// The 64-hex-digit random id.
    pub fn id(&self) -> &str {
        &self.inner.id
    }

    /// The first 8 hex digits of the id: the log prefix.
    pub fn short_id(&self) -> &str {
        &self.inner.id[..8]
    }

    /// Registers `f` under `name`; a taken name is an error and the existing
    /// handler stays.
    pub fn register<F, Fut>(&self, name: &str, f: F) -> Result<(), EngineError>
    where
        F: Fn(Job) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Status> + Send + 'static,
    {
        self.register_handler(name, handler(f))
    }

    /// Registers an already wrapped handler.
    pub fn register_handler(&self, name: &str, h: Handler) -> Result<(), EngineError> {
        let mut handlers = self.inner.handlers.write();
        if handlers.contains_key(name) {
            return Err(EngineError::HandlerExists(name.to_string()));
        }
        handlers.insert(name.to_string(), h);
        Ok(())
    }

    /// Sets (or replaces) the handler for names nobody registered.
    pub fn register_catchall<F, Fut>(&self, f: F)
    where
        F: Fn(Job) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Status> + Send + 'static,
    {
        *self.inner.catchall.write() = Some(handler(f));
    }

    /// True when a handler is registered under exactly `name` (the catch-all
    /// does not count).
    pub fn has_handler(&self, name: &str) -> bool {
        self.inner.handlers.read().contains_key(name)
    }

    /// Every registered name, sorted by bytes.
    pub fn handler_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.inner.handlers.read().keys().cloned().collect();
        names.sort();
        names
    }

    /// Creates a job. Never fails: a job without a handler fails when run,
    /// with status 127. The empty name is never given to the catch-all.
    pub fn job<I, S>(&self, name: &str, args: I) -> Job
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let handler = self
            .inner
            .handlers
            .read()
            .get(name)
            .cloned()
            .or_else(|| if name.is_empty() { None } else { self.inner.catchall.read().clone() });
        let job = Job::new(self.clone(), name, args.into_iter().map(Into::into).collect(), handler);
        if self.logging() {
            job.stderr().add(LogSink(self.inner.log.read().clone()));
        }
        job
    }

    /// Splits `input` on whitespace: words with `=` become env entries, the
    /// rest the command and its args (no quoting, as in the original).
    pub fn parse_job(&self, input: &str) -> Result<Job, EngineError> {
        let (env, cmd): (Vec<&str>, Vec<&str>) = input.split_whitespace().partition(|w| w.contains('='));
        let Some((name, args)) = cmd.split_first() else {
            return Err(EngineError::EmptyCommand(input.to_string()));
        };
        let job = self.job(name, args.iter().copied());
        for kv in env {
            if let Some((k, v)) = kv.split_once('=') {
                job.setenv(k, v);
            }
        }
        Ok(job)
    }

    /// Whether `+job`/`-job` lines and job stderr go to the engine log.
    pub fn logging(&self) -> bool {
        self.inner.logging.load(Ordering::Relaxed)
    }

    /// Turns job logging on or off (it is on after `new`). Jobs created
    /// before the change keep their stderr tee.
    pub fn set_logging(&self, on: bool) {
        self.inner.logging.store(on, Ordering::Relaxed);
    }

    /// Replaces the engine's stderr (where log lines go).
    pub fn set_log_writer(&self, w: impl Write + Send + 'static) {
        *self.inner.log.write() = Arc::new(Mutex::new(Box::new(w)));
    }

    /// Writes `[<id8>] <message>` to the engine log when logging is on.
    pub fn logf(&self, message: &str) {
        if !self.logging() {
            return;
        }
        let line = format!("[{}] {}\n", self.short_id(), message.trim_end_matches('\n'));
        let log = self.inner.log.read().clone();
        // A log line that cannot be written has nowhere else to go.
        let _ = log.lock().write_all(line.as_bytes());
    }

    /// True once `shutdown` has started.
    pub fn is_shutdown(&self) -> bool {
        self.inner.shutdown.lock().started
    }

    /// Resolves when `shutdown` starts (at once if it already has).
    pub fn shutdown_started(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut rx = self.inner.shutdown_started.subscribe();
        async move {
            // The sender lives as long as the engine, which `self` kept alive
            // until the receiver existed; an error means it is gone anyway.
            let _ = rx.wait_for(|started| *started).await;
        }
    }

    /// Adds a hook that `shutdown` runs (concurrently with the others).
    pub fn on_shutdown<F, Fut>(&self, f: F)
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.inner.shutdown.lock().hooks.push(Box::new(move || Box::pin(f())));
    }

    /// Stops the engine: see the module documentation. Returns at once when
    /// a shutdown already started.
    pub async fn shutdown(&self) {
        let hooks = {
            let mut state = self.inner.shutdown.lock();
            if state.started {
                return;
            }
            state.started = true;
            std::mem::take(&mut state.hooks)
        };
        self.inner.shutdown_started.send_replace(true);

        if tokio::time::timeout(SHUTDOWN_JOBS_TIMEOUT, self.inner.tasks.wait_idle()).await.is_err() {
            tracing::warn!(running = self.inner.tasks.count(), "shutdown: jobs still running after 5s");
        }
        let running: Vec<_> = hooks.into_iter().map(|hook| tokio::spawn(hook())).collect();
        if tokio::time::timeout(SHUTDOWN_HOOKS_TIMEOUT, join_all(running)).await.is_err() {
            tracing::warn!("shutdown: hooks still running after 10s, giving up on them");
        }
    }

    /// The number of running jobs (`serveapi` not counted).
    pub fn running_jobs(&self) -> usize {
        self.inner.tasks.count()
    }

    pub(crate) fn task_started(&self) -> TaskGuard {
        self.inner.tasks.enter();
        TaskGuard(self.clone())
    }
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").field("id", &self.short_id()).finish()
    }
}

impl std::fmt::Display for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.short_id())
    }
}

/// The built-in `commands` job.
async fn commands(job: Job) -> Status {
    let mut out = String::new();
    for name in job.engine().handler_names() {
        out.push_str(&name);
        out.push('\n');
    }
    let _ = job.print(out).await;
    Status::OK
}

fn random_id() -> String {
    let mut bytes = [0u8; 32];
    // The OS random source failing at start-up leaves nothing sensible to do.
    getrandom::fill(&mut bytes).expect("the OS random number generator is available");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Counts running jobs so `shutdown` can wait for them.
#[derive(Default)]
struct TaskCounter {
    count: Mutex<usize>,
    idle: Notify,
}

impl TaskCounter {
    fn enter(&self) {
        *self.count.lock() += 1;
    }

    fn leave(&self) {
        let mut count = self.count.lock();
        *count -= 1;
        if *count == 0 {
            self.idle.notify_waiters();
        }
    }

    fn count(&self) -> usize {
        *self.count.lock()
    }

    async fn wait_idle(&self) {
        loop {
            let notified = self.idle.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.count() == 0 {
                return;
            }
            notified.await;
        }
    }
}

/// Marks one running job until dropped.
pub(crate) struct TaskGuard(Engine);

impl Drop for TaskGuard {
    fn drop(&mut self) {
        self.0.inner.tasks.leave();
    }
}
