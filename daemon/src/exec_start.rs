//! The `exec_start` job (dockerd's `ContainerExecStart`): launches an
//! exec's process through the container's monitor (which owns the exec
//! driver's handle), copies its output to the job's stdout and stderr and
//! the job's stdin to it, serves resizes, and records the exit code before
//! the job returns, because the CLI reads `ExitCode` from `exec_inspect` as
//! soon as the stream closes.
//!
//! Detached (`Detach` in the body), the job returns once the process runs;
//! its output is read and dropped so it never blocks on a full pipe.

use std::sync::Arc;
use std::time::{Duration, Instant};

use engine::names::env;
use engine::{Job, Output, Status};
use execdriver::{ContainerIo, ExecProcess, Pty};
use serde::Deserialize;
use tokio::io::{AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::unix::pipe;
use tokio::sync::mpsc;

use crate::error::ContainerError;
use crate::exec::{Exec, Phase, Resize};
use crate::runtime::Control;
use crate::{Daemon, events};

/// How long output may still arrive after the exit: a background child of
/// the exec can hold the pipes open for as long as the container runs.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// The start body (`ExecStartCheck`); `Tty` only decides the framing, which
/// the API server already did.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct StartBody {
    #[serde(rename = "Detach")]
    detach: Option<bool>,
}

/// Runs `exec_start ID` (env `body`: `{"Detach":..,"Tty":..}`).
pub async fn exec_start(daemon: Daemon, job: Job) -> Status {
    let args = job.args();
    let [id] = args.as_slice() else {
        return job.errorf("Usage: exec_start ID").await;
    };
    let body = job.getenv(env::BODY);
    let body: StartBody = if body.trim().is_empty() {
        StartBody::default()
    } else {
        match serde_json::from_str(&body) {
            Ok(b) => b,
            Err(e) => return job.fail(engine::ErrorKind::BadParameter, format!("invalid exec start body: {e}")).await,
        }
    };
    let (exec, process, resize) = match launch(&daemon, id).await {
        Ok(launched) => launched,
        Err(e) => return job.fail(e.kind(), e).await,
    };
    if body.detach.unwrap_or(false) {
        tokio::spawn(supervise(daemon, exec, process, resize, None));
        Status::OK
    } else {
        supervise(daemon, exec, process, resize, Some(job)).await;
        Status::OK
    }
}

/// Checks the exec and its container, starts the process and marks the exec
/// running. A process that cannot be started leaves the exec exited with
/// dockerd's code (127 for a missing binary).
async fn launch(daemon: &Daemon, id: &str) -> Result<(Arc<Exec>, ExecProcess, mpsc::Receiver<Resize>), ContainerError> {
    let exec = daemon.execs().get(id)?;
    {
        let handle = daemon.containers().get(&exec.container_id)?;
        let c = handle.lock();
        if !c.state.running {
            return Err(ContainerError::NotRunning(c.id.clone()));
        }
        if c.state.paused {
            return Err(ContainerError::Paused(c.id.clone()));
        }
    }
    let mut refused = None;
    exec.phase.send_if_modified(|p| match p {
        Phase::Created => {
            *p = Phase::Starting;
            true
        }
        Phase::Exited { .. } => {
            refused = Some(ContainerError::ExecRan(exec.id.clone()));
            false
        }
        Phase::Starting | Phase::Running { .. } => {
            refused = Some(ContainerError::ExecRunning(exec.id.clone()));
            false
        }
    });
    if let Some(e) = refused {
        return Err(e);
    }
    let slot = daemon.runtime().slot(&exec.container_id);
    let process = exec.process.clone();
    match slot.control(|reply| Control::Exec(Box::new(process), reply)).await {
        Ok(proc) => {
            let (tx, rx) = mpsc::channel(4);
            exec.phase.send_replace(Phase::Running { pid: proc.pid(), resize: tx });
            tracing::info!(exec = %exec.id, container = %exec.container_id, pid = proc.pid(), "exec started");
            if let Ok(handle) = daemon.containers().get(&exec.container_id) {
                let snapshot = handle.lock().clone();
                let action = format!("exec_start: {}", exec.command_line());
                events::emit(daemon.engine(), &action, &snapshot, &[("execID", &exec.id)]).await;
            }
            Ok((exec, proc, rx))
        }
        Err(e) => {
            let code = crate::start::failure_code(&e);
            exec.phase.send_replace(Phase::Exited { pid: 0, code, at: Instant::now() });
            Err(e)
        }
    }
}

/// Pumps the process's streams until it exits and its output is drained,
/// serving resizes meanwhile; records the exit. Without a job (detached)
/// the output is dropped and there is no stdin.
async fn supervise(
    daemon: Daemon,
    exec: Arc<Exec>,
    mut proc: ExecProcess,
    mut resize: mpsc::Receiver<Resize>,
    job: Option<Job>,
) {
    let stdout = job.as_ref().filter(|_| exec.open_stdout()).map(Job::stdout);
    let stderr = job.as_ref().filter(|_| exec.open_stderr()).map(Job::stderr);
    let input = job.as_ref().filter(|_| exec.open_stdin()).map(|j| j.stdin().clone());
    let (out, err, writer) = match proc.take_io() {
        Some(ContainerIo::Pipes { stdin, stdout: out, stderr: err }) => {
            (Some(Source::Pipe(out)), Some(Source::Pipe(err)), stdin.map(Sink::Pipe))
        }
        Some(ContainerIo::Tty(pty)) => {
            // A pty has no end of file to pass on: the client's EOF just
            // stops the copying.
            let writer = match input.as_ref().map(|_| pty.try_clone()) {
                Some(Ok(w)) => Some(Sink::Tty(w)),
                Some(Err(e)) => {
                    tracing::warn!(exec = %exec.id, error = %e, "no stdin for the exec's tty");
                    None
                }
                None => None,
            };
            (Some(Source::Tty(pty)), None, writer)
        }
        None => (None, None, None),
    };
    let feeder = match (input, writer) {
        (Some(input), Some(Sink::Pipe(dst))) => Some(tokio::spawn(feed(input, dst, true))),
        (Some(input), Some(Sink::Tty(dst))) => Some(tokio::spawn(feed(input, dst, false))),
        _ => None,
    };
    let output = async {
        tokio::join!(pump(out, stdout), pump(err, stderr));
    };
    tokio::pin!(output);
    let mut drained = false;
    let result = loop {
        tokio::select! {
            result = proc.wait() => break result,
            () = &mut output, if !drained => drained = true,
            Some(r) = resize.recv() => {
                let _ = r.reply.send(proc.resize(r.height, r.width));
            }
        }
    };
    if !drained && tokio::time::timeout(DRAIN_TIMEOUT, &mut output).await.is_err() {
        tracing::warn!(exec = %exec.id, "exec output still open after the exit; dropped");
    }
    let code = match result {
        Ok(code) => i64::from(code),
        Err(e) => {
            tracing::error!(exec = %exec.id, error = %e, "lost the exec'd process");
            128
        }
    };
    if let Some(feeder) = feeder {
        feeder.abort();
    }
    exec.phase.send_replace(Phase::Exited { pid: proc.pid(), code, at: Instant::now() });
    tracing::info!(exec = %exec.id, container = %exec.container_id, exit_code = code, "exec exited");
    if let Ok(handle) = daemon.containers().get(&exec.container_id) {
        let snapshot = handle.lock().clone();
        let code = code.to_string();
        events::emit(daemon.engine(), "exec_die", &snapshot, &[("execID", &exec.id), ("exitCode", &code)]).await;
    }
}

/// One of the process's outputs.
enum Source {
    Pipe(pipe::Receiver),
    Tty(Pty),
}

/// The process's input.
enum Sink {
    Pipe(pipe::Sender),
    Tty(Pty),
}

impl Source {
    async fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Source::Pipe(p) => p.read(buf).await,
            Source::Tty(p) => p.read(buf).await,
        }
    }
}

/// Copies one output stream to `sink` until it ends (a pty's end reads as
/// an error). Once the sink fails (the client left) the rest is read and
/// dropped, so the process never blocks on a full pipe.
async fn pump(src: Option<Source>, mut sink: Option<&Output>) {
    let Some(mut src) = src else { return };
    let mut buf = vec![0u8; 32 * 1024];
    loop {
        let n = match src.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        if let Some(out) = sink
            && out.write(&buf[..n]).await.is_err()
        {
            sink = None;
        }
    }
}

/// Copies the job's stdin to the process; at the client's end of file the
/// process's stdin is closed (`close_at_eof`, pipes) so `cat` ends.
async fn feed(input: engine::Input, mut dst: impl AsyncWrite + Unpin, close_at_eof: bool) {
    let mut buf = vec![0u8; 32 * 1024];
    loop {
        match input.read(&mut buf).await {
            Ok(0) | Err(_) => {
                if close_at_eof {
                    let _ = dst.shutdown().await;
                }
                return;
            }
            Ok(n) => {
                if dst.write_all(&buf[..n]).await.is_err() {
                    return;
                }
            }
        }
    }
}
