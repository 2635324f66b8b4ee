//! `Job`: the unit of work, shaped like a Unix process (`engine/job.go`).
//!
//! A job has a name, args, an `Env`, stdin/stdout/stderr and an exit status.
//! `run` follows the original step by step: refuse after shutdown, count the
//! job as a running task (except `serveapi`), refuse a second run, log
//! `+job`, capture stderr, call the handler (or fail with 127 `NAME: command
//! not found`), close stdout, stderr and stdin in that order, log `-job`, and
//! turn a non-zero status into an error whose text is the last stderr line.
//!
//! Departures, each because Rust and tokio make the safer choice cheap:
//! - The job runs in its own tokio task. If the caller stops waiting (an HTTP
//!   client goes away), the handler still runs to its end, as a Go handler
//!   cannot be cancelled either; its writes to the gone client simply fail.
//! - A panicking handler ends the job with status 1 and the panic message as
//!   its error, instead of taking the daemon down.
//! - A handler may say what kind of failure it had (`Job::fail`), which the
//!   API server maps to an HTTP status without matching text.
//! - Two concurrent `run`s of one job are refused, not just sequential ones.

use std::fmt;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::SystemTime;

use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use parking_lot::Mutex;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::engine::Engine;
use crate::env::{Env, EnvError};
use crate::input::Input;
use crate::output::Output;
use crate::status::{ErrorKind, JobError, Status};

/// What a handler returns: a future of the job's status.
pub type HandlerFuture = BoxFuture<'static, Status>;

/// A registered job handler.
pub type Handler = Arc<dyn Fn(Job) -> HandlerFuture + Send + Sync>;

/// Wraps an async function or closure as a [`Handler`].
pub fn handler<F, Fut>(f: F) -> Handler
where
    F: Fn(Job) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Status> + Send + 'static,
{
    Arc::new(move |job| Box::pin(f(job)))
}

/// Marks a held reply as delivered when dropped (see [`Job::hold_reply`]).
pub struct ReplyGuard(Job);

impl Drop for ReplyGuard {
    fn drop(&mut self) {
        self.0.mark_replied();
    }
}

/// A job. Cheap to clone: clones are handles to the same job, which is how
/// the handler and the caller share it.
#[derive(Clone)]
pub struct Job {
    inner: Arc<JobInner>,
}

struct JobInner {
    eng: Engine,
    name: String,
    args: Mutex<Vec<String>>,
    env: Mutex<Env>,
    stdout: Output,
    stderr: Output,
    stdin: Input,
    handler: Option<Handler>,
    state: Mutex<JobState>,
    /// `true` once the job's answer has been handed to its caller.
    replied: tokio::sync::watch::Sender<bool>,
    /// The caller (the API server) marks the reply itself.
    reply_held: std::sync::atomic::AtomicBool,
}

#[derive(Default)]
struct JobState {
    status: Status,
    kind: ErrorKind,
    running: bool,
    end: Option<SystemTime>,
}

impl Job {
    pub(crate) fn new(eng: Engine, name: &str, args: Vec<String>, handler: Option<Handler>) -> Self {
        Self {
            inner: Arc::new(JobInner {
                eng,
                name: name.to_string(),
                args: Mutex::new(args),
                env: Mutex::new(Env::new()),
                stdout: Output::new(),
                stderr: Output::new(),
                stdin: Input::new(),
                handler,
                state: Mutex::new(JobState::default()),
                replied: tokio::sync::watch::Sender::new(false),
                reply_held: std::sync::atomic::AtomicBool::new(false),
            }),
        }
    }

    /// The engine the job was created from.
    pub fn engine(&self) -> &Engine {
        &self.inner.eng
    }

    /// The job's name.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// A copy of the positional arguments.
    pub fn args(&self) -> Vec<String> {
        self.inner.args.lock().clone()
    }

    /// Replaces the positional arguments.
    pub fn set_args(&self, args: Vec<String>) {
        *self.inner.args.lock() = args;
    }

    /// The job's stdout.
    pub fn stdout(&self) -> &Output {
        &self.inner.stdout
    }

    /// The job's stderr.
    pub fn stderr(&self) -> &Output {
        &self.inner.stderr
    }

    /// The job's stdin.
    pub fn stdin(&self) -> &Input {
        &self.inner.stdin
    }

    /// The last status (0 before the job ran).
    pub fn status(&self) -> Status {
        self.inner.state.lock().status
    }

    /// The kind of failure the handler declared, if any.
    pub fn error_kind(&self) -> ErrorKind {
        self.inner.state.lock().kind
    }

    /// A copy of the environment.
    pub fn env(&self) -> Env {
        self.inner.env.lock().clone()
    }

    /// Runs `f` on the environment, under its lock.
    pub fn with_env<R>(&self, f: impl FnOnce(&mut Env) -> R) -> R {
        f(&mut self.inner.env.lock())
    }

    /// `Env::get`.
    pub fn getenv(&self, key: &str) -> String {
        self.inner.env.lock().get(key).to_string()
    }

    /// `Env::set`.
    pub fn setenv(&self, key: &str, value: impl AsRef<str>) {
        self.inner.env.lock().set(key, value);
    }

    /// `Env::exists`.
    pub fn env_exists(&self, key: &str) -> bool {
        self.inner.env.lock().exists(key)
    }

    /// `Env::get_bool`.
    pub fn getenv_bool(&self, key: &str) -> bool {
        self.inner.env.lock().get_bool(key)
    }

    /// `Env::set_bool`.
    pub fn setenv_bool(&self, key: &str, value: bool) {
        self.inner.env.lock().set_bool(key, value);
    }

    /// `Env::get_int64`.
    pub fn getenv_int(&self, key: &str) -> i64 {
        self.inner.env.lock().get_int64(key)
    }

    /// `Env::set_int64`.
    pub fn setenv_int(&self, key: &str, value: i64) {
        self.inner.env.lock().set_int64(key, value);
    }

    /// `Env::get_list`.
    pub fn getenv_list(&self, key: &str) -> Option<Vec<String>> {
        self.inner.env.lock().get_list(key)
    }

    /// `Env::set_list`.
    pub fn setenv_list(&self, key: &str, value: &[String]) {
        self.inner.env.lock().set_list(key, value);
    }

    /// `Env::get_json`.
    pub fn getenv_json<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, EnvError> {
        self.inner.env.lock().get_json(key)
    }

    /// `Env::set_json`.
    pub fn setenv_json<T: Serialize + ?Sized>(&self, key: &str, value: &T) {
        self.inner.env.lock().set_json(key, value);
    }

    /// `Env::get_sub_env`.
    pub fn getenv_sub_env(&self, key: &str) -> Option<Env> {
        self.inner.env.lock().get_sub_env(key)
    }

    /// `Env::set_sub_env`.
    pub fn setenv_sub_env(&self, key: &str, sub: &Env) {
        self.inner.env.lock().set_sub_env(key, sub);
    }

    /// `Env::decode` into the job's environment.
    pub fn decode_env(&self, src: &[u8]) -> Result<(), EnvError> {
        self.inner.env.lock().decode(src)
    }

    /// `Env::import` into the job's environment.
    pub fn import_env<T: Serialize + ?Sized>(&self, src: &T) -> Result<(), EnvError> {
        self.inner.env.lock().import(src)
    }

    /// `name(arg1, arg2)`.
    pub fn call_string(&self) -> String {
        format!("{}({})", self.inner.name, self.inner.args.lock().join(", "))
    }

    /// `""` before the handler returned, else ` = OK (0)` or ` = ERR (n)`.
    pub fn status_string(&self) -> String {
        let state = self.inner.state.lock();
        match state.end {
            None => String::new(),
            Some(_) if state.status.is_ok() => " = OK (0)".to_string(),
            Some(_) => format!(" = ERR ({})", state.status),
        }
    }

    /// Writes to stdout. An error means a destination refused the bytes
    /// (for an HTTP client: it went away).
    pub async fn print(&self, text: impl AsRef<[u8]>) -> std::io::Result<()> {
        self.inner.stdout.write(text.as_ref()).await.map(drop)
    }

    /// Writes `message` (plus a newline if missing) to stderr; status 1.
    pub async fn errorf(&self, message: impl fmt::Display) -> Status {
        let mut line = message.to_string();
        if !line.ends_with('\n') {
            line.push('\n');
        }
        // Nothing useful can be done if stderr itself fails.
        let _ = self.inner.stderr.write(line.as_bytes()).await;
        Status::ERR
    }

    /// Like [`Job::errorf`], and records what kind of failure it was.
    pub async fn fail(&self, kind: ErrorKind, message: impl fmt::Display) -> Status {
        self.inner.state.lock().kind = kind;
        self.errorf(message).await
    }

    /// Writes `[<job>] message` to the job's stderr (which the engine may
    /// tee to its log, and which becomes the error text if it is the last
    /// line of a failed job).
    pub async fn logf(&self, message: impl fmt::Display) {
        let line = format!("[{self}] {}\n", message.to_string().trim_end_matches('\n'));
        let _ = self.inner.stderr.write(line.as_bytes()).await;
    }

    /// Runs the job to its end and returns its error, if any. See the module
    /// documentation for the exact steps.
    pub async fn run(&self) -> Result<(), JobError> {
        let job = self.clone();
        match tokio::spawn(async move { job.run_inline().await }).await {
            Ok(result) => result,
            // Only a runtime shutting down cancels the task.
            Err(e) => Err(JobError::engine(format!("{}: {e}", self.inner.name))),
        }
    }

    async fn run_inline(&self) -> Result<(), JobError> {
        let eng = &self.inner.eng;
        let name = &self.inner.name;
        if eng.is_shutdown() {
            return Err(JobError::engine("engine is shutdown"));
        }
        // serveapi never returns; counting it would make every shutdown
        // wait the full timeout.
        let _task = (name != "serveapi").then(|| eng.task_started());
        {
            let mut state = self.inner.state.lock();
            if state.end.is_some() || state.running {
                return Err(JobError::engine(format!("{name}: job has already completed")));
            }
            state.running = true;
        }
        eng.logf(&format!("+job {}", self.call_string()));
        let captured = self.inner.stderr.add_tail(1);

        let status = match &self.inner.handler {
            None => {
                self.errorf(format!("{name}: command not found")).await;
                Status::NOT_FOUND
            }
            Some(handler) => {
                let status = match AssertUnwindSafe(handler(self.clone())).catch_unwind().await {
                    Ok(status) => status,
                    Err(panic) => {
                        let what = panic
                            .downcast_ref::<&str>()
                            .map(|s| s.to_string())
                            .or_else(|| panic.downcast_ref::<String>().cloned())
                            .unwrap_or_else(|| "unknown panic".to_string());
                        tracing::error!(job = %name, panic = %what, "job handler panicked");
                        self.errorf(format!("{name}: internal error: {what}")).await
                    }
                };
                self.inner.state.lock().end = Some(SystemTime::now());
                status
            }
        };
        {
            let mut state = self.inner.state.lock();
            state.status = status;
            state.running = false;
        }

        let result = self.close_streams().await.and_then(|()| {
            if status.is_ok() {
                Ok(())
            } else {
                Err(JobError { status, kind: self.error_kind(), message: captured.get() })
            }
        });
        eng.logf(&format!("-job {}{}", self.call_string(), self.status_string()));
        if !self.inner.reply_held.load(std::sync::atomic::Ordering::Acquire) {
            self.mark_replied();
        }
        result
    }

    /// Says that the caller will report when the job's answer has been
    /// delivered, which is after the job ends for an HTTP reply: the API
    /// server holds the guard until the response body is written. Without
    /// it the answer counts as delivered when the job ends. Call before
    /// `run`; dropping the guard marks the reply, so no path can forget to.
    pub fn hold_reply(&self) -> ReplyGuard {
        self.inner.reply_held.store(true, std::sync::atomic::Ordering::Release);
        ReplyGuard(self.clone())
    }

    fn mark_replied(&self) {
        self.inner.replied.send_replace(true);
    }

    /// Resolves once the job's answer has reached its caller. A handler
    /// spawns work on it that a client must see only after the answer:
    /// `delete`'s `destroy` event, which the docker CLI at API < 1.25 takes
    /// as the end of `run --rm` and exits on, cancelling its own DELETE if
    /// that answer had not arrived yet.
    pub async fn replied(&self) {
        let mut rx = self.inner.replied.subscribe();
        // The sender lives in the job, which this handle keeps alive.
        let _ = rx.wait_for(|done| *done).await;
    }

    async fn close_streams(&self) -> Result<(), JobError> {
        let status = self.status();
        let as_error = |e: std::io::Error| JobError { status, kind: ErrorKind::Unknown, message: e.to_string() };
        self.inner.stdout.close().await.map_err(as_error)?;
        self.inner.stderr.close().await.map_err(as_error)?;
        self.inner.stdin.close().await;
        Ok(())
    }
}

impl fmt::Display for Job {
    /// `<engine id prefix>.<call string><status string>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}{}", self.inner.eng.short_id(), self.call_string(), self.status_string())
    }
}

impl fmt::Debug for Job {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Job").field("name", &self.inner.name).field("args", &*self.inner.args.lock()).finish()
    }
}
