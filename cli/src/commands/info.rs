//! `docker info` (`CmdInfo` of Docker 1.2), in the original's format,
//! warnings on stderr.

use http::Method;
use serde_json::Value;

use super::Subcmd;
use crate::client::{CliError, DockerCli};

/// `docker info`.
pub async fn cmd_info(cli: &DockerCli, args: Vec<String>) -> Result<(), CliError> {
    let mut cmd = Subcmd::new("info", "", "Display system-wide information");
    let Some(rest) = cmd.parse(args)? else { return Ok(()) };
    if !rest.is_empty() {
        return Err(cmd.no_args_expected(&rest));
    }
    let body = cli.call(Method::GET, "/info", None).await?;
    let info: Value =
        serde_json::from_slice(&body).map_err(|e| CliError::Other(format!("Error reading remote info: {e}")))?;
    print!("{}", render(&info, std::env::var("DEBUG").is_ok_and(|d| !d.is_empty())));
    for (key, warning) in [
        ("MemoryLimit", "WARNING: No memory limit support"),
        ("SwapLimit", "WARNING: No swap limit support"),
        ("IPv4Forwarding", "WARNING: IPv4 forwarding is disabled."),
    ] {
        if !flag(&info, key) {
            eprintln!("{warning}");
        }
    }
    Ok(())
}

/// Booleans from this daemon; `0`/`1` from a Docker-1.2-era one.
fn flag(info: &Value, key: &str) -> bool {
    match &info[key] {
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_i64() != Some(0),
        _ => false,
    }
}

fn render(info: &Value, client_debug: bool) -> String {
    let text = |k: &str| match &info[k] {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    };
    let int = |k: &str| info[k].as_i64().unwrap_or(0);
    let mut out = String::new();
    out.push_str(&format!("Containers: {}\n", int("Containers")));
    out.push_str(&format!("Images: {}\n", int("Images")));
    out.push_str(&format!("Storage Driver: {}\n", text("Driver")));
    for pair in info["DriverStatus"].as_array().into_iter().flatten() {
        out.push_str(&format!(" {}: {}\n", pair[0].as_str().unwrap_or(""), pair[1].as_str().unwrap_or("")));
    }
    out.push_str(&format!("Execution Driver: {}\n", text("ExecutionDriver")));
    out.push_str(&format!("Kernel Version: {}\n", text("KernelVersion")));
    out.push_str(&format!("Operating System: {}\n", text("OperatingSystem")));
    let server_debug = flag(info, "Debug");
    if server_debug || client_debug {
        out.push_str(&format!("Debug mode (server): {server_debug}\n"));
        out.push_str(&format!("Debug mode (client): {client_debug}\n"));
        out.push_str(&format!("Fds: {}\n", int("NFd")));
        out.push_str(&format!("Goroutines: {}\n", int("NGoroutines")));
        out.push_str(&format!("EventsListeners: {}\n", int("NEventsListener")));
        if !text("InitSha1").is_empty() {
            out.push_str(&format!("Init SHA1: {}\n", text("InitSha1")));
        }
        if !text("InitPath").is_empty() {
            out.push_str(&format!("Init Path: {}\n", text("InitPath")));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_like_docker_1_2() {
        let info = serde_json::json!({
            "Containers": 2, "Images": 5, "Driver": "overlay",
            "DriverStatus": [["Backing Filesystem", "extfs"]],
            "ExecutionDriver": "native-0.2", "KernelVersion": "6.1.0", "OperatingSystem": "Debian",
            "Debug": false, "NFd": 9,
        });
        assert_eq!(
            render(&info, false),
            "Containers: 2\nImages: 5\nStorage Driver: overlay\n Backing Filesystem: extfs\nExecution Driver: native-0.2\nKernel Version: 6.1.0\nOperating System: Debian\n"
        );
        assert!(render(&info, true).contains("Fds: 9\n"));
        assert!(flag(&serde_json::json!({"Debug": 1}), "Debug"), "1.2 daemons send numbers");
    }
}
