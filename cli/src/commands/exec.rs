//! `docker exec` (today's CLI flow at API v1.24): `POST
//! /containers/{id}/exec` creates the exec; unless `-d`, `POST
//! /exec/{id}/start` is hijacked and streamed like an attach (demultiplexed
//! unless `-t`; raw terminal and resizing with `-t`), and the process exits
//! with the exec's `ExitCode` from `GET /exec/{id}/json`. `-d` starts it
//! with `{"Detach":true}` and prints nothing.

use std::time::Duration;

use bytes::Bytes;
use http::Method;
use serde_json::{Value, json};

use super::Subcmd;
use super::args::{Count, check};
use super::attach::{self, Session};
use crate::client::{CliError, DockerCli};
use crate::flags::FlagSet;

/// What the command line asks for.
#[derive(Debug, PartialEq)]
struct ExecRequest {
    container: String,
    detach: bool,
    /// The body of `POST /containers/{id}/exec`.
    config: Value,
}

fn declare(flags: &mut FlagSet) {
    flags.bool(&["d", "-detach"], false, "Detached mode: run command in the background");
    flags.bool(&["i", "-interactive"], false, "Keep STDIN open even if not attached");
    flags.bool(&["t", "-tty"], false, "Allocate a pseudo-TTY");
    flags.string(&["u", "-user"], "", "Username or UID (format: <name|uid>[:<group|gid>])");
    flags.list(&["e", "-env"], "Set environment variables");
    flags.bool(&["-privileged"], false, "Give extended privileges to the command");
}

fn request(flags: &FlagSet, rest: &[String]) -> Result<ExecRequest, CliError> {
    check("exec", rest, Count::AtLeast(2))?;
    let detach = flags.get_bool("detach");
    let attach = !detach;
    let config = json!({
        "AttachStdin": attach && flags.get_bool("interactive"),
        "AttachStdout": attach,
        "AttachStderr": attach,
        "Tty": flags.get_bool("tty"),
        "Cmd": &rest[1..],
        "User": flags.get_string("user"),
        "Privileged": flags.get_bool("privileged"),
        "Env": flags.get_list("env"),
        "DetachKeys": "",
    });
    Ok(ExecRequest { container: rest[0].clone(), detach, config })
}

/// `docker exec`.
pub async fn cmd_exec(cli: &DockerCli, args: Vec<String>) -> Result<(), CliError> {
    let mut cmd = Subcmd::new("exec", "[OPTIONS] CONTAINER COMMAND [ARG...]", "Run a command in a running container");
    declare(&mut cmd.flags);
    let Some(rest) = cmd.parse(args)? else { return Ok(()) };
    let req = request(&cmd.flags, &rest)?;
    let tty = req.config["Tty"].as_bool().unwrap_or(false);
    let stdin = req.config["AttachStdin"].as_bool().unwrap_or(false);

    let body = Bytes::from(req.config.to_string());
    let answer = cli.call(Method::POST, &format!("/containers/{}/exec", req.container), Some(body)).await?;
    let v: Value = serde_json::from_slice(&answer)
        .map_err(|e| CliError::Other(format!("Error reading the daemon's answer to exec: {e}")))?;
    let id = v
        .get("Id")
        .and_then(Value::as_str)
        .ok_or_else(|| CliError::Other(format!("the daemon's answer to exec has no Id: {v}")))?
        .to_string();

    let start = format!("/exec/{id}/start");
    if req.detach {
        let body = Bytes::from(json!({"Detach": true, "Tty": tty}).to_string());
        cli.call(Method::POST, &start, Some(body)).await?;
        return Ok(());
    }
    let body = json!({"Detach": false, "Tty": tty}).to_string();
    let conn = cli.hijack_with(&start, Some(body.as_bytes())).await?;
    Session { cli, id: &id, stdin, tty, sig_proxy: false, exec: true }.run(conn).await?;
    attach::exit_with(exit_code(cli, &id).await?)
}

/// `GET /exec/{id}/json`'s `ExitCode`, once it no longer runs (the stream
/// may close a moment before the daemon records the exit).
async fn exit_code(cli: &DockerCli, id: &str) -> Result<i32, CliError> {
    for _ in 0..50 {
        let body = cli.call(Method::GET, &format!("/exec/{id}/json"), None).await?;
        let v: Value = serde_json::from_slice(&body)
            .map_err(|e| CliError::Other(format!("Error reading the daemon's answer to exec inspect: {e}")))?;
        let running = v.get("Running").and_then(Value::as_bool).unwrap_or(false);
        let code = v.get("ExitCode").and_then(Value::as_i64).and_then(|c| i32::try_from(c).ok());
        match (running, code) {
            (false, Some(code)) => return Ok(code),
            (false, None) => return Err(CliError::Other(format!("the exec {id} has no exit code: {v}"))),
            (true, _) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    Err(CliError::Other(format!("the exec {id} is still running after its output ended")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<ExecRequest, CliError> {
        let mut flags = FlagSet::new("exec");
        declare(&mut flags);
        let rest = flags.parse(args.iter().map(|s| s.to_string())).map_err(|_| CliError::Usage("parse".into()))?;
        request(&flags, &rest)
    }

    #[test]
    fn plain_exec_attaches_output_only() {
        let r = parse(&["ex", "sh", "-c", "exit 4"]).unwrap();
        assert_eq!(r.container, "ex");
        assert!(!r.detach);
        assert_eq!(
            r.config,
            json!({"AttachStdin": false, "AttachStdout": true, "AttachStderr": true, "Tty": false,
                   "Cmd": ["sh", "-c", "exit 4"], "User": "", "Privileged": false, "Env": [], "DetachKeys": ""})
        );
    }

    #[test]
    fn flags_stop_at_the_container() {
        let r = parse(&["-it", "-u", "1000:1000", "-e", "A=1", "--env=B=2", "--privileged", "ex", "ls", "-l"]).unwrap();
        assert_eq!(r.config["AttachStdin"], true);
        assert_eq!(r.config["Tty"], true);
        assert_eq!(r.config["User"], "1000:1000");
        assert_eq!(r.config["Env"], json!(["A=1", "B=2"]));
        assert_eq!(r.config["Privileged"], true);
        assert_eq!(r.config["Cmd"], json!(["ls", "-l"]));
    }

    #[test]
    fn detach_attaches_nothing() {
        let r = parse(&["-d", "-i", "--user=root", "ex", "sleep", "1"]).unwrap();
        assert!(r.detach);
        assert_eq!(r.config["AttachStdin"], false);
        assert_eq!(r.config["AttachStdout"], false);
        assert_eq!(r.config["AttachStderr"], false);
        assert_eq!(r.config["User"], "root");
    }

    #[test]
    fn a_command_is_required() {
        assert_eq!(parse(&["ex"]).unwrap_err().exit_code(), 2);
        assert_eq!(parse(&[]).unwrap_err().exit_code(), 2);
        assert!(parse(&["--nosuch", "ex", "ls"]).is_err());
    }
}
