//! The container lifecycle commands of Docker 1.2: `stop`, `kill`,
//! `restart`, `wait`, `pause`, `unpause` (one request per container named,
//! each printed when done; failures reported together at the end with
//! exit status 1) and `top`.

use http::Method;
use serde_json::Value;

use super::Subcmd;
use super::args::{Count, check};
use super::format::cli_table;
use crate::client::{CliError, DockerCli};

/// Runs `f` on each name; what it returns is printed. A failure does not
/// stop the others; all are reported at the end.
pub async fn each(
    names: &[String],
    mut f: impl AsyncFnMut(&str) -> Result<Option<String>, CliError>,
) -> Result<(), CliError> {
    let mut errors = Vec::new();
    for name in names {
        match f(name).await {
            Ok(Some(line)) => println!("{line}"),
            Ok(None) => {}
            Err(e) => errors.push(e.to_string()),
        }
    }
    if errors.is_empty() { Ok(()) } else { Err(CliError::Other(errors.join("\n"))) }
}

/// One `POST /containers/{name}/{action}[?query]` per name.
async fn post_each(cli: &DockerCli, names: &[String], action: &str, query: &str) -> Result<(), CliError> {
    each(names, async |name| {
        let path = format!("/containers/{name}/{action}{query}");
        cli.call(Method::POST, &path, None).await.map(|_| Some(name.to_string()))
    })
    .await
}

fn seconds(flags: &crate::flags::FlagSet) -> String {
    format!("?t={}", flags.get_int("time"))
}

/// `docker stop`.
pub async fn cmd_stop(cli: &DockerCli, args: Vec<String>) -> Result<(), CliError> {
    let mut cmd = Subcmd::new(
        "stop",
        "[OPTIONS] CONTAINER [CONTAINER...]",
        "Stop a running container by sending SIGTERM and then SIGKILL after a grace period",
    );
    cmd.flags.int(&["t", "-time"], 10, "Number of seconds to wait for the container to stop before killing it");
    let Some(rest) = cmd.parse(args)? else { return Ok(()) };
    check("stop", &rest, Count::AtLeast(1))?;
    post_each(cli, &rest, "stop", &seconds(&cmd.flags)).await
}

/// `docker restart`.
pub async fn cmd_restart(cli: &DockerCli, args: Vec<String>) -> Result<(), CliError> {
    let mut cmd = Subcmd::new("restart", "[OPTIONS] CONTAINER [CONTAINER...]", "Restart a running container");
    cmd.flags.int(&["t", "-time"], 10, "Number of seconds to try to stop for before killing the container");
    let Some(rest) = cmd.parse(args)? else { return Ok(()) };
    check("restart", &rest, Count::AtLeast(1))?;
    post_each(cli, &rest, "restart", &seconds(&cmd.flags)).await
}

/// `docker kill`.
pub async fn cmd_kill(cli: &DockerCli, args: Vec<String>) -> Result<(), CliError> {
    let mut cmd = Subcmd::new(
        "kill",
        "[OPTIONS] CONTAINER [CONTAINER...]",
        "Kill a running container using SIGKILL or a specified signal",
    );
    cmd.flags.string(&["s", "-signal"], "KILL", "Signal to send to the container");
    let Some(rest) = cmd.parse(args)? else { return Ok(()) };
    check("kill", &rest, Count::AtLeast(1))?;
    let query = form_urlencoded::Serializer::new(String::from("?"))
        .append_pair("signal", &cmd.flags.get_string("signal"))
        .finish();
    post_each(cli, &rest, "kill", &query).await
}

/// `docker pause`.
pub async fn cmd_pause(cli: &DockerCli, args: Vec<String>) -> Result<(), CliError> {
    let mut cmd = Subcmd::new("pause", "CONTAINER [CONTAINER...]", "Pause all processes within a container");
    let Some(rest) = cmd.parse(args)? else { return Ok(()) };
    check("pause", &rest, Count::AtLeast(1))?;
    post_each(cli, &rest, "pause", "").await
}

/// `docker unpause`.
pub async fn cmd_unpause(cli: &DockerCli, args: Vec<String>) -> Result<(), CliError> {
    let mut cmd = Subcmd::new("unpause", "CONTAINER [CONTAINER...]", "Unpause all processes within a container");
    let Some(rest) = cmd.parse(args)? else { return Ok(()) };
    check("unpause", &rest, Count::AtLeast(1))?;
    post_each(cli, &rest, "unpause", "").await
}

/// `docker wait`: each container's exit code.
pub async fn cmd_wait(cli: &DockerCli, args: Vec<String>) -> Result<(), CliError> {
    let mut cmd =
        Subcmd::new("wait", "CONTAINER [CONTAINER...]", "Block until a container stops, then print its exit code");
    let Some(rest) = cmd.parse(args)? else { return Ok(()) };
    check("wait", &rest, Count::AtLeast(1))?;
    each(&rest, async |name| super::attach::wait(cli, name).await.map(|code| Some(code.to_string()))).await
}

/// `docker top`.
pub async fn cmd_top(cli: &DockerCli, args: Vec<String>) -> Result<(), CliError> {
    let mut cmd = Subcmd::new("top", "CONTAINER [ps OPTIONS]", "Lookup the running processes of a container");
    let Some(rest) = cmd.parse(args)? else { return Ok(()) };
    check("top", &rest, Count::AtLeast(1))?;
    let mut path = format!("/containers/{}/top", rest[0]);
    if rest.len() > 1 {
        path.push('?');
        path.push_str(
            &form_urlencoded::Serializer::new(String::new()).append_pair("ps_args", &rest[1..].join(" ")).finish(),
        );
    }
    let body = cli.call(Method::GET, &path, None).await?;
    let v: Value = serde_json::from_slice(&body)
        .map_err(|e| CliError::Other(format!("Error reading the daemon's answer to top: {e}")))?;
    print!("{}", cli_table(&top_rows(&v)));
    Ok(())
}

/// `{"Titles":[…],"Processes":[[…]]}` as table rows.
fn top_rows(v: &Value) -> Vec<Vec<String>> {
    let strings = |row: &Value| -> Vec<String> {
        row.as_array()
            .map(|cells| cells.iter().map(|c| c.as_str().map_or_else(|| c.to_string(), str::to_string)).collect())
            .unwrap_or_default()
    };
    let mut rows = vec![v.get("Titles").map(strings).unwrap_or_default()];
    if let Some(procs) = v.get("Processes").and_then(Value::as_array) {
        rows.extend(procs.iter().map(strings));
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_table() {
        let v =
            serde_json::json!({"Titles":["UID","PID","CMD"],"Processes":[["root","1","top"],["root","12","sh -c x"]]});
        assert_eq!(
            cli_table(&top_rows(&v)),
            "UID       PID       CMD\nroot      1         top\nroot      12        sh -c x\n"
        );
    }
}
