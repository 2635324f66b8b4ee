//! `docker exec` records and the jobs that do not run the process:
//! `exec_create`, `exec_inspect` and `exec_resize` (dockerd's
//! `daemon/exec.go`; Docker 1.2 had no exec, it arrived with API v1.15).
//! `exec_start` lives in `exec_start.rs`.
//!
//! Execs are kept in memory only, as dockerd keeps them: a daemon restart
//! forgets them. Departure: dockerd drops an exec with its container; here
//! an exec that never started, or that ended, is forgotten five minutes
//! later (pruned when another exec is created), which bounds the registry
//! without the container jobs knowing about execs.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use engine::names::env;
use engine::{Job, Status};
use execdriver::Process;
use parking_lot::Mutex;
use serde::Deserialize;
use tokio::sync::{mpsc, oneshot, watch};

use crate::error::ContainerError;
use crate::{Daemon, events};

/// How long a finished (or never started) exec stays inspectable.
const KEEP_FINISHED: Duration = Duration::from_secs(5 * 60);

/// How long a resize waits for its exec to start (dockerd's timeout): the
/// CLI resizes as soon as the start request is answered, which can come
/// before the process exists.
const RESIZE_WAIT: Duration = Duration::from_secs(10);

/// The exec create body as today's clients send it (`ExecConfig`). Every
/// field may be missing or `null`.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct ExecConfig {
    #[serde(rename = "AttachStdin")]
    pub attach_stdin: Option<bool>,
    #[serde(rename = "AttachStdout")]
    pub attach_stdout: Option<bool>,
    #[serde(rename = "AttachStderr")]
    pub attach_stderr: Option<bool>,
    #[serde(rename = "Tty")]
    pub tty: Option<bool>,
    #[serde(rename = "Cmd")]
    pub cmd: Option<Vec<String>>,
    #[serde(rename = "User")]
    pub user: Option<String>,
    #[serde(rename = "Privileged")]
    pub privileged: Option<bool>,
    #[serde(rename = "Env")]
    pub env: Option<Vec<String>>,
    #[serde(rename = "WorkingDir")]
    pub working_dir: Option<String>,
    #[serde(rename = "DetachKeys")]
    pub detach_keys: Option<String>,
}

/// Where an exec is in its life.
#[derive(Debug, Clone)]
pub enum Phase {
    /// Created, not started.
    Created,
    /// `exec_start` is launching it.
    Starting,
    /// Running, with the channel its supervisor serves resizes on.
    Running { pid: i32, resize: mpsc::Sender<Resize> },
    /// Ended (or failed to start) with this code.
    Exited { pid: i32, code: i64, at: Instant },
}

/// A resize of an exec's tty, answered by its supervisor, which owns the
/// driver's handle.
pub struct Resize {
    pub height: u16,
    pub width: u16,
    pub reply: oneshot::Sender<execdriver::Result<()>>,
}

/// One exec instance.
pub struct Exec {
    pub id: String,
    pub container_id: String,
    pub config: ExecConfig,
    /// What the driver runs: the command with the container's environment,
    /// user and working directory merged in at create time, as dockerd does.
    pub process: Process,
    created: Instant,
    pub phase: watch::Sender<Phase>,
}

impl Exec {
    fn attach(&self, flag: Option<bool>) -> bool {
        flag.unwrap_or(false)
    }

    /// `AttachStdin`.
    pub fn open_stdin(&self) -> bool {
        self.attach(self.config.attach_stdin)
    }

    /// `AttachStdout`.
    pub fn open_stdout(&self) -> bool {
        self.attach(self.config.attach_stdout)
    }

    /// `AttachStderr`.
    pub fn open_stderr(&self) -> bool {
        self.attach(self.config.attach_stderr)
    }

    /// The command as one line, for event actions (`exec_create: echo hi`).
    pub fn command_line(&self) -> String {
        self.process.args.join(" ")
    }

    /// The v1.24 `GET /exec/{id}/json` answer.
    fn inspect(&self) -> serde_json::Value {
        let (running, exit_code, pid) = match &*self.phase.borrow() {
            Phase::Created | Phase::Starting => (false, None, 0),
            Phase::Running { pid, .. } => (true, None, *pid),
            Phase::Exited { pid, code, .. } => (false, Some(*code), *pid),
        };
        let args = &self.process.args;
        serde_json::json!({
            "ID": self.id,
            "Running": running,
            "ExitCode": exit_code,
            "ProcessConfig": {
                "tty": self.process.tty,
                "entrypoint": args.first().cloned().unwrap_or_default(),
                "arguments": args.get(1..).unwrap_or_default(),
                "privileged": self.process.privileged,
                "user": self.process.user,
            },
            "OpenStdin": self.open_stdin(),
            "OpenStderr": self.open_stderr(),
            "OpenStdout": self.open_stdout(),
            "CanRemove": false,
            "ContainerID": self.container_id,
            "DetachKeys": self.config.detach_keys.clone().unwrap_or_default(),
            "Pid": pid,
        })
    }

    fn forgettable(&self, now: Instant) -> bool {
        match &*self.phase.borrow() {
            Phase::Created => now.duration_since(self.created) > KEEP_FINISHED,
            Phase::Exited { at, .. } => now.duration_since(*at) > KEEP_FINISHED,
            Phase::Starting | Phase::Running { .. } => false,
        }
    }
}

/// The daemon's execs by ID.
#[derive(Default)]
pub struct ExecStore {
    execs: Mutex<HashMap<String, Arc<Exec>>>,
}

impl ExecStore {
    /// The exec with exactly this ID (dockerd does not take prefixes).
    pub fn get(&self, id: &str) -> Result<Arc<Exec>, ContainerError> {
        self.execs.lock().get(id).cloned().ok_or_else(|| ContainerError::NoSuchExec(id.to_string()))
    }

    fn insert(&self, exec: Arc<Exec>) {
        let now = Instant::now();
        let mut execs = self.execs.lock();
        execs.retain(|_, e| !e.forgettable(now));
        execs.insert(exec.id.clone(), exec);
    }
}

/// `KEY=value` entries of `over` replace those of `base` with the same key,
/// others are appended (dockerd's `ReplaceOrAppendEnvValues`).
fn merge_env(mut base: Vec<String>, over: &[String]) -> Vec<String> {
    let key = |e: &str| e.split_once('=').map_or(e, |(k, _)| k).to_string();
    for e in over {
        let k = key(e);
        match base.iter_mut().find(|b| key(b) == k) {
            Some(slot) => slot.clone_from(e),
            None => base.push(e.clone()),
        }
    }
    base
}

/// Runs `exec_create CONTAINER` (env `body`: the exec config); prints
/// `{"Id":..}`.
pub async fn exec_create(daemon: Daemon, job: Job) -> Status {
    let args = job.args();
    let [name] = args.as_slice() else {
        return job.errorf("Usage: exec_create CONTAINER").await;
    };
    let config: ExecConfig = match serde_json::from_str(&job.getenv(env::BODY)) {
        Ok(c) => c,
        Err(e) => return job.fail(engine::ErrorKind::BadParameter, format!("invalid exec config: {e}")).await,
    };
    match create(&daemon, name, config) {
        Ok((exec, snapshot)) => {
            events::log(&job, &format!("exec_create: {}", exec.command_line()), &snapshot, &[("execID", &exec.id)])
                .await;
            match job.print(serde_json::json!({ "Id": exec.id }).to_string()).await {
                Ok(()) => Status::OK,
                Err(e) => job.errorf(format!("exec_create: {e}")).await,
            }
        }
        Err(e) => job.fail(e.kind(), e).await,
    }
}

fn create(
    daemon: &Daemon,
    name: &str,
    config: ExecConfig,
) -> Result<(Arc<Exec>, crate::container::Container), ContainerError> {
    let cmd = config.cmd.clone().unwrap_or_default();
    if cmd.is_empty() {
        return Err(ContainerError::BadParameter("No exec command specified".into()));
    }
    let snapshot = {
        let handle = daemon.containers().get(name)?;
        let c = handle.lock();
        if !c.state.running {
            return Err(ContainerError::NotRunning(c.id.clone()));
        }
        if c.state.paused {
            return Err(ContainerError::Paused(c.id.clone()));
        }
        c.clone()
    };
    let user = config.user.clone().filter(|u| !u.is_empty()).unwrap_or_else(|| snapshot.config.user.clone());
    let working_dir =
        config.working_dir.clone().filter(|w| !w.is_empty()).unwrap_or_else(|| snapshot.config.working_dir.clone());
    let hc = &snapshot.host_config;
    let process = Process {
        args: cmd,
        env: merge_env(snapshot.config.env.clone().unwrap_or_default(), config.env.as_deref().unwrap_or_default()),
        working_dir,
        user,
        tty: config.tty.unwrap_or(false),
        open_stdin: config.attach_stdin.unwrap_or(false),
        // An exec is privileged when asked or when its container is.
        privileged: config.privileged.unwrap_or(false) || hc.privileged,
        cap_add: hc.cap_add.clone().unwrap_or_default(),
        cap_drop: hc.cap_drop.clone().unwrap_or_default(),
    };
    let exec = Arc::new(Exec {
        id: crate::create::random_id(),
        container_id: snapshot.id.clone(),
        config,
        process,
        created: Instant::now(),
        phase: watch::Sender::new(Phase::Created),
    });
    daemon.execs().insert(exec.clone());
    Ok((exec, snapshot))
}

/// Runs `exec_inspect ID`.
pub async fn exec_inspect(daemon: Daemon, job: Job) -> Status {
    let args = job.args();
    let [id] = args.as_slice() else {
        return job.errorf("Usage: exec_inspect ID").await;
    };
    match daemon.execs().get(id) {
        Ok(exec) => match job.print(exec.inspect().to_string()).await {
            Ok(()) => Status::OK,
            Err(e) => job.errorf(format!("exec_inspect: {e}")).await,
        },
        Err(e) => job.fail(e.kind(), e).await,
    }
}

/// Runs `exec_resize ID HEIGHT WIDTH`.
pub async fn exec_resize(daemon: Daemon, job: Job) -> Status {
    let args = job.args();
    let [id, h, w] = args.as_slice() else {
        return job.errorf("Not enough arguments. Usage: exec_resize ID HEIGHT WIDTH").await;
    };
    let (Ok(height), Ok(width)) = (h.parse::<u16>(), w.parse::<u16>()) else {
        return job.fail(engine::ErrorKind::BadParameter, format!("invalid size: {h}x{w}")).await;
    };
    match resize(&daemon, id, height, width).await {
        Ok(()) => Status::OK,
        Err(e) => job.fail(e.kind(), e).await,
    }
}

async fn resize(daemon: &Daemon, id: &str, height: u16, width: u16) -> Result<(), ContainerError> {
    let exec = daemon.execs().get(id)?;
    let mut phase = exec.phase.subscribe();
    let started = |p: &Phase| matches!(p, Phase::Running { .. } | Phase::Exited { .. });
    // The guard of the watched value must not live across an await.
    let waited = tokio::time::timeout(RESIZE_WAIT, phase.wait_for(started)).await.map(|r| r.map(|_| ()));
    // Never started in time, already ended, or the record went away.
    let running = match (waited, &*exec.phase.borrow()) {
        (Ok(Ok(())), Phase::Running { resize, .. }) => Some(resize.clone()),
        _ => None,
    };
    let tx = running.ok_or_else(|| ContainerError::ExecNotRunning(id.to_string()))?;
    let (reply, answer) = oneshot::channel();
    let gone = || ContainerError::ExecNotRunning(id.to_string());
    tx.send(Resize { height, width, reply }).await.map_err(|_| gone())?;
    answer.await.map_err(|_| gone())?.map_err(|source| ContainerError::Exec { id: exec.container_id.clone(), source })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_is_replaced_or_appended() {
        let base = vec!["PATH=/bin".to_string(), "A=1".to_string()];
        let merged = merge_env(base, &["A=2".to_string(), "B=3".to_string()]);
        assert_eq!(merged, ["PATH=/bin", "A=2", "B=3"]);
    }

    #[test]
    fn config_takes_nulls_and_missing_fields() {
        let c: ExecConfig = serde_json::from_str(r#"{"AttachStdin":null,"Cmd":["echo","hi"],"Env":null}"#).unwrap();
        assert_eq!((c.attach_stdin, c.cmd.as_deref()), (None, Some(&["echo".to_string(), "hi".to_string()][..])));
    }

    #[test]
    fn inspect_has_the_v1_24_shape_and_forgets_late() {
        let exec = Exec {
            id: "e1".into(),
            container_id: "c1".into(),
            config: ExecConfig { attach_stdout: Some(true), ..Default::default() },
            process: Process { args: vec!["sh".into(), "-c".into(), "true".into()], ..Default::default() },
            created: Instant::now(),
            phase: watch::Sender::new(Phase::Created),
        };
        let v = exec.inspect();
        assert_eq!((v["Running"].as_bool(), v["ExitCode"].is_null()), (Some(false), true));
        assert_eq!(v["ProcessConfig"]["entrypoint"], "sh");
        assert_eq!(v["ProcessConfig"]["arguments"], serde_json::json!(["-c", "true"]));
        assert_eq!((v["OpenStdout"].as_bool(), v["OpenStdin"].as_bool()), (Some(true), Some(false)));
        exec.phase.send_replace(Phase::Exited { pid: 7, code: 4, at: Instant::now() });
        let v = exec.inspect();
        assert_eq!((v["ExitCode"].as_i64(), v["Pid"].as_i64()), (Some(4), Some(7)));
        assert!(!exec.forgettable(Instant::now()));
        assert!(exec.forgettable(Instant::now() + KEEP_FINISHED + Duration::from_secs(1)));
    }

    #[test]
    fn unknown_exec_is_not_found() {
        let store = ExecStore::default();
        let e = store.get("nope").err().unwrap();
        assert_eq!(e.to_string(), "No such exec instance: nope");
        assert_eq!(e.kind(), engine::ErrorKind::NotFound);
    }
}
