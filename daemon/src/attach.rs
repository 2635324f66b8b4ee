//! The `attach` job (`daemon/attach.go`): with `logs`, the json-file log
//! replayed; with `stream`, the live output until the process exits, and
//! the client's stdin queued for the process (only when the container has
//! `OpenStdin`). The client's end of file does not end the output (today's
//! clients half-close at once when they have no stdin); the job returns
//! when the process exits or the client stops reading.
//!
//! The container need not be running: today's CLI attaches before it
//! starts the container, and the attach sees that run's output.

use engine::{Job, Status};

use crate::Daemon;
use crate::logs::{Want, replay, write};
use crate::runtime::Stdin;

/// Runs `attach CONTAINER` (env `logs`, `stream`, `stdin`, `stdout`,
/// `stderr`).
pub async fn attach(daemon: Daemon, job: Job) -> Status {
    let args = job.args();
    let [name] = args.as_slice() else {
        return job.errorf("Usage: attach CONTAINER").await;
    };
    let want = Want { stdout: job.getenv_bool("stdout"), stderr: job.getenv_bool("stderr"), timestamps: false };
    let handle = match daemon.containers().get(name) {
        Ok(h) => h,
        Err(e) => return job.fail(e.kind(), e).await,
    };
    let stream = job.getenv_bool("stream");
    let (id, path, open_stdin, mut live) = {
        let c = handle.lock();
        let slot = daemon.runtime().slot(&c.id);
        (c.id.clone(), c.log_path(daemon.containers().dir()), c.config.open_stdin, stream.then(|| slot.attach_output()))
    };
    if job.getenv_bool("logs")
        && (want.stdout || want.stderr)
        && let Err(e) = replay(&job, &path, None, 0, want).await
    {
        return job.fail(e.kind(), e).await;
    }
    let Some(rx) = live.as_mut() else { return Status::OK };

    let feeder = (job.getenv_bool("stdin") && open_stdin).then(|| {
        let (input, queue) = (job.stdin().clone(), daemon.runtime().slot(&id).stdin());
        tokio::spawn(async move {
            let mut buf = vec![0u8; 32 * 1024];
            loop {
                match input.read(&mut buf).await {
                    Ok(0) | Err(_) => {
                        let _ = queue.send(Stdin::Eof).await;
                        return;
                    }
                    Ok(n) => {
                        if queue.send(Stdin::Data(buf[..n].to_vec())).await.is_err() {
                            return;
                        }
                    }
                }
            }
        })
    });
    // Ends with the run: the monitor closes the queue once every chunk is
    // in it.
    while let Some((stream, data)) = rx.recv().await {
        let wanted = match stream {
            crate::logger::Stream::Stdout => want.stdout,
            crate::logger::Stream::Stderr => want.stderr,
        };
        if wanted && write(&job, stream, &data, false).await.is_err() {
            break;
        }
    }
    if let Some(feeder) = feeder {
        feeder.abort();
    }
    Status::OK
}
