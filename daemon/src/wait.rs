//! The `wait` job (`daemon/wait.go`): blocks until the container is not
//! running and prints its exit code as v1.24 JSON (`{"StatusCode":N}`).

use engine::{Job, Status};

use crate::Daemon;
use crate::runtime::next_exit;

/// Runs `wait CONTAINER`.
pub async fn wait(daemon: Daemon, job: Job) -> Status {
    let args = job.args();
    let [name] = args.as_slice() else {
        return job.errorf("Usage: wait").await;
    };
    let handle = match daemon.containers().get(name) {
        Ok(h) => h,
        Err(e) => return job.fail(e.kind(), e).await,
    };
    let subscription = {
        let c = handle.lock();
        if c.state.running { Some(daemon.runtime().slot(&c.id).subscribe()) } else { None }
    };
    let code = match subscription {
        Some(mut exits) => match next_exit(&mut exits).await {
            Some(code) => code,
            // The container was removed while we waited.
            None => handle.lock().state.exit_code,
        },
        None => handle.lock().state.exit_code,
    };
    match job.print(serde_json::json!({ "StatusCode": code }).to_string()).await {
        Ok(()) => Status::OK,
        Err(e) => job.errorf(format!("wait: {e}")).await,
    }
}
