//! The monitor of one run of a container (Docker 1.2's `monitor.go`): a
//! task that owns the exec driver's handle, pumps the process's output
//! into the json-file log and to live subscribers, feeds it the clients'
//! stdin, serves control requests (signals, freezer, pids, stats, limits,
//! resize, exec), and at the exit gives back the network (links' rules,
//! address, ports), records the state, unmounts the root filesystem,
//! emits `die` and applies the restart policy.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant, SystemTime};

use execdriver::ContainerIo;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::Daemon;
use crate::container::rfc3339_nano;
use crate::events;
use crate::logger::{Stream, Writer};
use crate::network;
use crate::runtime::{Control, Event, Slot, Stdin, blocking};
use crate::store::Handle;

/// Log messages written per blocking task at most.
const LOG_BATCH: usize = 64;

/// Bytes read from a container's stdout or stderr at once: a quarter of a
/// pipe's capacity, held by every running container twice.
const PIPE_READ: usize = 16 * 1024;

/// How long output may still arrive after the exit (a daemonised child
/// holding the pipes is killed with the cgroup, so this is a safety net).
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// dockerd's restart back-off: 100 ms, doubled per quick exit, at most a
/// minute; reset after a run of 10 s or more.
const BACKOFF_START: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(60);
const BACKOFF_RESET_AFTER: Duration = Duration::from_secs(10);

/// Starts the monitor of a process just launched.
pub fn spawn(daemon: Daemon, handle: Handle, slot: Arc<Slot>, ctr: execdriver::Container) {
    let (tx, rx) = mpsc::channel(16);
    slot.set_control(Some(tx));
    tokio::spawn(run(daemon, handle, slot, ctr, rx));
}

async fn run(
    daemon: Daemon,
    handle: Handle,
    slot: Arc<Slot>,
    mut ctr: execdriver::Container,
    mut control: mpsc::Receiver<Control>,
) {
    let started = Instant::now();
    let (id, log_path, stdin_once, extras) = {
        let c = handle.lock();
        let extras = crate::update::start_extras(&c.host_config);
        (c.id.clone(), c.log_path(daemon.containers().dir()), c.config.stdin_once, extras)
    };
    if !extras.is_empty()
        && let Err(e) = ctr.update(extras).await
    {
        tracing::warn!(container = %id, error = %e, "could not apply the stored CPU/blkio/reservation limits");
    }

    // The log is written in batches, in the order the pumps saw the output,
    // each batch by a short blocking task: between batches no thread is
    // held, so a thousand quiet containers do not pin a thousand threads of
    // the blocking pool (whose limit, 512, would then stall every other
    // blocking job). A full queue slows the pumps, not the daemon.
    let (log_tx, mut log_rx) = mpsc::channel::<(Stream, Arc<[u8]>)>(256);
    let log_id = id.clone();
    let log_slot = slot.clone();
    let logger = tokio::spawn(async move {
        let opened = tokio::task::spawn_blocking(move || Writer::open(&log_path)).await;
        let mut writer = match opened {
            Ok(Ok(w)) => Some(w),
            Ok(Err(e)) => {
                tracing::error!(container = %log_id, error = %e, "cannot open the log; output is not kept");
                None
            }
            Err(e) => {
                tracing::error!(container = %log_id, error = %e, "cannot open the log; output is not kept");
                None
            }
        };
        let mut batch = Vec::with_capacity(LOG_BATCH);
        while log_rx.recv_many(&mut batch, LOG_BATCH).await > 0 {
            let items = std::mem::take(&mut batch);
            let items = match writer.take() {
                None => items,
                Some(mut w) => {
                    let id = log_id.clone();
                    let written = tokio::task::spawn_blocking(move || {
                        for (stream, data) in &items {
                            if let Err(e) = w.write(*stream, data) {
                                tracing::error!(container = %id, error = %e, "log write failed; output is not kept");
                                return (None, items);
                            }
                        }
                        (Some(w), items)
                    })
                    .await;
                    match written {
                        Ok((w, items)) => {
                            writer = w;
                            items
                        }
                        Err(_) => continue,
                    }
                }
            };
            // Published only once in the file: a `logs -f` subscribes, then
            // reads the file, so each chunk reaches it one way or the other
            // (at worst both), never neither.
            for (stream, data) in items {
                log_slot.deliver(stream, &data).await;
                log_slot.publish(Event::Output(stream, data));
            }
        }
        if let Some(mut w) = writer {
            let id = log_id.clone();
            let _ = tokio::task::spawn_blocking(move || {
                if let Err(e) = w.flush() {
                    tracing::error!(container = %id, error = %e, "log flush failed");
                }
            })
            .await;
        }
    });

    let mut pumps: Vec<JoinHandle<()>> = Vec::new();
    let mut feeder = None;
    match ctr.take_io() {
        Some(ContainerIo::Pipes { stdin, stdout, stderr }) => {
            pumps.push(tokio::spawn(pump(stdout, Stream::Stdout, log_tx.clone())));
            pumps.push(tokio::spawn(pump(stderr, Stream::Stderr, log_tx.clone())));
            if let Some(stdin) = stdin {
                feeder = Some(tokio::spawn(feed(stdin, slot.clone(), stdin_once)));
            }
        }
        Some(ContainerIo::Tty(pty)) => {
            match pty.try_clone() {
                Ok(writer) => feeder = Some(tokio::spawn(feed(writer, slot.clone(), stdin_once))),
                Err(e) => tracing::warn!(container = %id, error = %e, "no stdin for the tty"),
            }
            pumps.push(tokio::spawn(pump(pty, Stream::Stdout, log_tx.clone())));
        }
        None => {}
    }
    drop(log_tx);

    let result = loop {
        tokio::select! {
            result = ctr.wait() => break result,
            Some(request) = control.recv() => serve(&ctr, request).await,
        }
    };
    slot.set_control(None);
    // The network goes back while the output drains (the driver's iptables
    // calls take a few ms each), and before the exit is recorded: a `stop`
    // that returns has its ports and rules gone, and a restart allocates
    // anew.
    let settings = handle.lock().state.network.clone();
    let release = {
        let (d, id) = (daemon.clone(), id.clone());
        tokio::spawn(async move { network::release(&d, &id, &settings).await })
    };
    let code = match result {
        Ok(code) => i64::from(code),
        Err(e) => {
            tracing::error!(container = %id, error = %e, "lost the container's process");
            128
        }
    };
    if let Some(feeder) = feeder {
        feeder.abort();
    }
    let drain = async {
        for pump in pumps {
            let _ = pump.await;
        }
    };
    if tokio::time::timeout(DRAIN_TIMEOUT, drain).await.is_err() {
        tracing::warn!(container = %id, "output still open after the exit; dropped");
    }
    let _ = logger.await;
    let _ = release.await;
    let oom_killed = ctr.oom_killed();
    drop(ctr);

    // The exit is saved BEFORE the in-memory state says "not running": a
    // client that sees the exit (docker-py's `wait` then `DELETE`) must find
    // nothing of the container still being written. The root fs is
    // unmounted only AFTER `die`: overlayfs syncs its upper file system on
    // the way out, a few ms and, under write load, hundreds, which `docker
    // run` would otherwise wait for. The start lock, held until then, makes
    // a new start of this container (and the daemon's shutdown) wait for the
    // unmount; a `delete` or `export` meanwhile is safe, as the driver
    // counts mounts and a removed layer's late `put` is a no-op.
    let cleanup = slot.start_lock.lock().await;
    let snapshot = {
        let mut c = handle.lock().clone();
        c.state.running = false;
        c.state.paused = false;
        c.state.pid = 0;
        c.state.exit_code = code;
        c.state.oom_killed = oom_killed;
        c.state.finished_at = rfc3339_nano(SystemTime::now());
        c.state.network = Default::default();
        if slot.stop_requested.load(Ordering::SeqCst) {
            c.has_been_manually_stopped = true;
        }
        c
    };
    let d = daemon.clone();
    let saved = snapshot.clone();
    if let Err(e) = blocking(&id, move || d.containers().save(&saved)).await {
        tracing::error!(container = %id, error = %e, "could not record the exit");
    }
    {
        let mut c = handle.lock();
        c.state = snapshot.state.clone();
        c.has_been_manually_stopped = snapshot.has_been_manually_stopped;
        // Every chunk is in the attached clients' queues (the logger is
        // done); under the lock, so a client that saw "running" is ended
        // here and one that sees "exited" waits for the next run.
        slot.end_attached();
    }
    tracing::info!(container = %id, exit_code = code, "exited");
    slot.publish(Event::Exit(code));
    if oom_killed {
        // dockerd's order: `oom`, then `die`.
        events::emit(daemon.engine(), "oom", &snapshot, &[]).await;
    }
    events::emit(daemon.engine(), "die", &snapshot, &[("exitCode", &code.to_string())]).await;
    let d = daemon.clone();
    let layer = snapshot.layer_id().to_string();
    if let Err(e) = blocking(&id, move || d.graph().driver().put(&layer).map_err(Into::into)).await {
        tracing::error!(container = %id, error = %e, "could not unmount the root filesystem");
    }
    drop(cleanup);

    if should_restart(&daemon, &snapshot, &slot, code) {
        restart(daemon, handle, slot, started.elapsed()).await;
    }
}

/// Serves one control request with the driver's handle.
async fn serve(ctr: &execdriver::Container, request: Control) {
    // A requester that went away does not care about the answer.
    match request {
        Control::Signal(sig, reply) => {
            let _ = reply.send(ctr.kill(sig));
        }
        Control::Freeze(true, reply) => {
            let _ = reply.send(ctr.pause().await);
        }
        Control::Freeze(false, reply) => {
            let _ = reply.send(ctr.unpause().await);
        }
        Control::Pids(reply) => {
            let _ = reply.send(ctr.pids());
        }
        Control::Stats(reply) => {
            let _ = reply.send(ctr.sample().await);
        }
        Control::Update(resources, reply) => {
            let _ = reply.send(ctr.update(*resources).await);
        }
        Control::Resize(h, w, reply) => {
            let _ = reply.send(ctr.resize(h, w));
        }
        Control::Exec(process, reply) => {
            let _ = reply.send(ctr.exec(*process).await);
        }
    }
}

/// Copies one output stream to the logger, which writes it to the log and
/// then hands it to the subscribers, until it ends (the pty's end reads as
/// an error, which ends it too).
async fn pump(mut src: impl AsyncRead + Unpin, stream: Stream, log: mpsc::Sender<(Stream, Arc<[u8]>)>) {
    let mut buf = vec![0u8; PIPE_READ];
    loop {
        let n = match src.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        // The logger publishes it to attached clients once it is in the file.
        let _ = log.send((stream, Arc::from(&buf[..n]))).await;
    }
}

/// Feeds the clients' stdin to the process. At a client's end of file the
/// process's stdin is closed when the container has `StdinOnce` (dockerd's
/// rule); otherwise it stays open for the next client.
async fn feed(mut dst: impl AsyncWrite + Unpin, slot: Arc<Slot>, stdin_once: bool) {
    let mut queue = slot.stdin_rx.lock().await;
    while let Some(msg) = queue.recv().await {
        match msg {
            Stdin::Data(bytes) => {
                if dst.write_all(&bytes).await.is_err() {
                    return;
                }
            }
            Stdin::Eof if stdin_once => {
                let _ = dst.shutdown().await;
                return;
            }
            Stdin::Eof => {}
        }
    }
}

/// The restart policy's verdict on an exit (dockerd's `ShouldRestart`):
/// never after a stop or kill from the user, nor while the daemon shuts
/// down.
fn should_restart(daemon: &Daemon, c: &crate::container::Container, slot: &Slot, code: i64) -> bool {
    if slot.stop_requested.load(Ordering::SeqCst) || daemon.engine().is_shutdown() || c.state.removal_in_progress {
        return false;
    }
    policy_wants(&c.host_config.restart_policy, c.restart_count, code)
}

/// Whether the policy alone restarts after exit `code`.
pub fn policy_wants(policy: &runconfig::container::RestartPolicy, restarts: i64, code: i64) -> bool {
    match policy.name.as_str() {
        "always" | "unless-stopped" => true,
        "on-failure" => code != 0 && (policy.maximum_retry_count == 0 || restarts < policy.maximum_retry_count),
        _ => false,
    }
}

async fn restart(daemon: Daemon, handle: Handle, slot: Arc<Slot>, ran: Duration) {
    let (id, delay) = {
        let mut c = handle.lock();
        c.state.restarting = true;
        c.restart_count += 1;
        let delay = if ran >= BACKOFF_RESET_AFTER {
            BACKOFF_START
        } else {
            BACKOFF_START.saturating_mul(1 << c.restart_count.clamp(1, 10).saturating_sub(1)).min(BACKOFF_MAX)
        };
        (c.id.clone(), delay)
    };
    tokio::time::sleep(delay).await;
    handle.lock().state.restarting = false;
    if slot.stop_requested.load(Ordering::SeqCst) || daemon.engine().is_shutdown() {
        return;
    }
    if let Err(e) = crate::start::start_container(&daemon, &id, None, false).await {
        tracing::error!(container = %id, error = %e, "restart policy: start failed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use runconfig::container::RestartPolicy;

    #[test]
    fn policies() {
        let p = |name: &str, max| RestartPolicy { name: name.into(), maximum_retry_count: max };
        assert!(!policy_wants(&p("no", 0), 0, 1));
        assert!(!policy_wants(&p("", 0), 0, 1));
        assert!(policy_wants(&p("always", 0), 5, 0));
        assert!(policy_wants(&p("unless-stopped", 0), 5, 0));
        assert!(!policy_wants(&p("on-failure", 0), 0, 0));
        assert!(policy_wants(&p("on-failure", 0), 100, 1));
        assert!(policy_wants(&p("on-failure", 2), 1, 1));
        assert!(!policy_wants(&p("on-failure", 2), 2, 1));
    }
}
