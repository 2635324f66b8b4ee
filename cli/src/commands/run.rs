//! `docker run` and `docker start` (`CmdRun`/`CmdStart` of Docker 1.2).
//!
//! `run` creates the container (pulling a missing image), and unless
//! `-d`: attaches before starting it so no output is lost, starts it,
//! copies its output until it ends, takes its exit code from `POST /wait`
//! and, with `--rm`, removes it with `DELETE ?v=1` (the client-side
//! removal of API versions before 1.25). The process exits with the
//! container's status. `-d` prints the new ID instead.

use http::Method;

use super::Subcmd;
use super::args::{Count, check};
use super::attach::{self, Session, Streams};
use super::create::create_container;
use super::lifecycle::each;
use super::runflags::{self, ContainerSpec};
use crate::client::{CliError, DockerCli};
use crate::flags::FlagSet;

/// How `run` goes on after the create.
#[derive(Debug, PartialEq)]
struct RunMode {
    detach: bool,
    remove: bool,
    sig_proxy: bool,
    streams: Streams,
}

/// Reads `-d`, `--rm`, `-a`, `--sig-proxy`, and sets the spec's attach
/// fields to match.
fn run_mode(flags: &FlagSet, spec: &mut ContainerSpec) -> Result<RunMode, CliError> {
    let detach = flags.get_bool("detach");
    let remove = flags.get_bool("rm");
    let usage = |m: &str| CliError::Usage(format!("docker run: {m}. See 'docker run --help'."));
    if detach && remove {
        return Err(usage("Conflicting options: --rm and -d"));
    }
    let attach = flags.get_list("attach");
    if detach && !attach.is_empty() {
        return Err(usage("Conflicting options: -a and -d"));
    }
    let interactive = flags.get_bool("interactive");
    let streams = if detach {
        Streams { stdin: false, stdout: false, stderr: false }
    } else if attach.is_empty() {
        Streams { stdin: interactive, stdout: true, stderr: true }
    } else {
        let has = |s: &str| attach.iter().any(|a| a.eq_ignore_ascii_case(s));
        Streams { stdin: has("stdin"), stdout: has("stdout"), stderr: has("stderr") }
    };
    spec.config.attach_stdin = streams.stdin;
    spec.config.attach_stdout = streams.stdout;
    spec.config.attach_stderr = streams.stderr;
    spec.config.stdin_once = streams.stdin && interactive;
    // Removal is ours at API 1.24; the daemon need not know.
    spec.host_config.auto_remove = false;
    Ok(RunMode { detach, remove, sig_proxy: flags.get_bool("sig-proxy"), streams })
}

fn declare(flags: &mut FlagSet) {
    runflags::declare(flags);
    flags.bool(
        &["d", "-detach"],
        false,
        "Detached mode: run the container in the background and print the new container ID",
    );
    flags.list(&["a", "-attach"], "Attach to STDIN, STDOUT or STDERR");
    flags.bool(&["-sig-proxy"], true, "Proxy received signals to the process (non-TTY mode only)");
    flags.validator("attach", |s| match s.to_ascii_lowercase().as_str() {
        "stdin" | "stdout" | "stderr" => Ok(s.to_string()),
        _ => Err(format!("valid streams are STDIN, STDOUT and STDERR, not {s:?}")),
    });
}

/// `docker run`.
pub async fn cmd_run(cli: &DockerCli, args: Vec<String>) -> Result<(), CliError> {
    let mut cmd = Subcmd::new("run", "[OPTIONS] IMAGE [COMMAND] [ARG...]", "Run a command in a new container");
    declare(&mut cmd.flags);
    let Some(rest) = cmd.parse(args)? else { return Ok(()) };
    let mut spec = runflags::spec("run", &cmd.flags, &rest)?;
    let mode = run_mode(&cmd.flags, &mut spec)?;
    let id = create_container(cli, &spec).await?.id;
    if mode.detach {
        start(cli, &id).await?;
        println!("{id}");
        return Ok(());
    }
    let streams = mode.streams;
    let conn = if streams.stdin || streams.stdout || streams.stderr {
        Some(attach::open(cli, &id, streams).await?)
    } else {
        None
    };
    if let Err(e) = start(cli, &id).await {
        // A container that never started is still removed with --rm, as
        // today's CLI does (the daemon's AutoRemove there).
        if mode.remove {
            let _ = remove(cli, &id).await;
        }
        return Err(e);
    }
    if let Some(conn) = conn {
        let session = Session {
            cli,
            id: &id,
            stdin: streams.stdin,
            tty: spec.config.tty,
            sig_proxy: mode.sig_proxy,
            exec: false,
        };
        session.run(conn).await?;
    }
    let status = attach::wait(cli, &id).await?;
    if mode.remove {
        remove(cli, &id).await?;
    }
    attach::exit_with(status)
}

/// `--rm`: `DELETE ?v=1`; a container already gone is fine.
async fn remove(cli: &DockerCli, id: &str) -> Result<(), CliError> {
    match cli.call(Method::DELETE, &format!("/containers/{id}?v=1"), None).await {
        Err(CliError::Daemon(m)) if m.starts_with("No such container") => Ok(()),
        other => other.map(drop),
    }
}

async fn start(cli: &DockerCli, id: &str) -> Result<(), CliError> {
    cli.call(Method::POST, &format!("/containers/{id}/start"), None).await.map(drop)
}

/// `docker start`.
pub async fn cmd_start(cli: &DockerCli, args: Vec<String>) -> Result<(), CliError> {
    let mut cmd = Subcmd::new("start", "[OPTIONS] CONTAINER [CONTAINER...]", "Start a stopped container");
    cmd.flags.bool(
        &["a", "-attach"],
        false,
        "Attach container's STDOUT and STDERR and forward all signals to the process",
    );
    cmd.flags.bool(&["i", "-interactive"], false, "Attach container's STDIN");
    let Some(rest) = cmd.parse(args)? else { return Ok(()) };
    check("start", &rest, Count::AtLeast(1))?;
    let interactive = cmd.flags.get_bool("interactive");
    if !(cmd.flags.get_bool("attach") || interactive) {
        return each(&rest, async |name| start(cli, name).await.map(|()| Some(name.to_string()))).await;
    }
    if rest.len() > 1 {
        return Err(CliError::Other("You cannot start and attach multiple containers at once.".into()));
    }
    let target = attach::inspect(cli, &rest[0]).await?;
    let stdin = interactive && target.open_stdin;
    let conn = attach::open(cli, &target.id, Streams { stdin, stdout: true, stderr: true }).await?;
    start(cli, &target.id).await?;
    Session { cli, id: &target.id, stdin, tty: target.tty, sig_proxy: true, exec: false }.run(conn).await?;
    attach::exit_with(attach::wait(cli, &target.id).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(args: &[&str]) -> Result<(RunMode, ContainerSpec), CliError> {
        let mut flags = FlagSet::new("run");
        declare(&mut flags);
        let rest = flags.parse(args.iter().map(|s| s.to_string())).map_err(|_| CliError::Usage("parse".into()))?;
        let mut spec = runflags::spec("run", &flags, &rest)?;
        Ok((run_mode(&flags, &mut spec)?, spec))
    }

    #[test]
    fn detach_and_remove() {
        let (m, s) = mode(&["-d", "busybox", "top"]).unwrap();
        assert!(m.detach && !m.remove);
        assert!(!s.config.attach_stdout && !s.config.attach_stderr);
        let (m, s) = mode(&["--rm", "busybox", "echo", "hi"]).unwrap();
        assert!(m.remove && !m.detach && m.sig_proxy);
        assert_eq!(m.streams, Streams { stdin: false, stdout: true, stderr: true });
        assert!(!s.host_config.auto_remove);
        assert_eq!(mode(&["-d", "--rm", "busybox"]).unwrap_err().exit_code(), 2);
        assert_eq!(mode(&["-d", "-a", "stdout", "busybox"]).unwrap_err().exit_code(), 2);
    }

    #[test]
    fn attached_streams() {
        let (m, s) = mode(&["-i", "busybox", "cat"]).unwrap();
        assert_eq!(m.streams, Streams { stdin: true, stdout: true, stderr: true });
        assert!(s.config.stdin_once && s.config.open_stdin);
        let (m, _) = mode(&["-a", "STDERR", "--sig-proxy=false", "busybox"]).unwrap();
        assert_eq!(m.streams, Streams { stdin: false, stdout: false, stderr: true });
        assert!(!m.sig_proxy);
        assert!(mode(&["-a", "stdfoo", "busybox"]).is_err());
    }
}
