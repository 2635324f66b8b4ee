//! The `top` job (`daemon/top.go`): runs the host's `ps` with the client's
//! arguments (`-ef` by default) and keeps the rows of the container's
//! processes (the pids of its cgroup).

use engine::{Job, Status};

use crate::Daemon;
use crate::runtime::Control;

/// Runs `top CONTAINER [PS_ARGS]`.
pub async fn top(daemon: Daemon, job: Job) -> Status {
    let args = job.args();
    let Some(name) = args.first() else {
        return job.errorf("Not enough arguments. Usage: top CONTAINER [PS_ARGS]").await;
    };
    let ps_args = args.get(1).map(String::as_str).filter(|a| !a.trim().is_empty()).unwrap_or("-ef");
    let pids = async {
        // The monitor's control channel exists only while the container
        // runs: the slot answers `Container <id> is not running` otherwise.
        let id = daemon.containers().get(name)?.lock().id.clone();
        daemon.runtime().slot(&id).control(Control::Pids).await
    }
    .await;
    let pids = match pids {
        Ok(p) => p,
        Err(e) => return job.fail(e.kind(), e).await,
    };
    let output = tokio::process::Command::new("ps").args(ps_args.split_whitespace()).output().await;
    let output = match output {
        Ok(o) if o.status.success() => o,
        Ok(o) => {
            let text = String::from_utf8_lossy(&o.stderr).trim().to_string();
            return job.errorf(format!("Error running ps: {text}")).await;
        }
        Err(e) => return job.errorf(format!("Error running ps: {e}")).await,
    };
    match filter(&String::from_utf8_lossy(&output.stdout), &pids) {
        Ok(answer) => match job.print(answer.to_string()).await {
            Ok(()) => Status::OK,
            Err(e) => job.errorf(format!("top: {e}")).await,
        },
        Err(text) => job.errorf(text).await,
    }
}

/// `{"Titles":[..],"Processes":[[..]..]}` of the rows whose PID is in `pids`;
/// the last column takes the rest of its line (the command and its args).
fn filter(ps: &str, pids: &[i32]) -> Result<serde_json::Value, String> {
    let mut lines = ps.lines();
    let titles: Vec<String> = lines.next().unwrap_or("").split_whitespace().map(str::to_string).collect();
    let pid_col = titles.iter().position(|t| t == "PID").ok_or("Couldn't find PID field in ps output")?;
    let mut processes = Vec::new();
    for line in lines.filter(|l| !l.trim().is_empty()) {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let Some(raw) = fields.get(pid_col) else { continue };
        let pid: i32 = raw.parse().map_err(|e| format!("Unexpected pid '{raw}': {e}"))?;
        if !pids.contains(&pid) {
            continue;
        }
        let last = titles.len().saturating_sub(1);
        let mut row: Vec<String> = fields.iter().take(last).map(|f| f.to_string()).collect();
        row.push(fields.get(last..).map(|rest| rest.join(" ")).unwrap_or_default());
        processes.push(row);
    }
    Ok(serde_json::json!({ "Titles": titles, "Processes": processes }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_of_the_container_only() {
        let ps = "UID PID PPID C STIME TTY TIME CMD\nroot 1 0 0 10:00 ? 00:00:01 /sbin/init\nroot 42 1 0 10:01 ? 00:00:00 sleep 30 now\n";
        let v = filter(ps, &[42]).unwrap();
        assert_eq!(
            v["Processes"],
            serde_json::json!([["root", "42", "1", "0", "10:01", "?", "00:00:00", "sleep 30 now"]])
        );
        assert_eq!(v["Titles"][1], "PID");
        assert!(filter("A B\n", &[1]).is_err());
    }
}
