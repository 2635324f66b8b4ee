//! Being attached to a container (`hijack` and `monitorTtySize` of Docker
//! 1.2's client), shared by `run`, `start -a`, `attach` and `logs`:
//! output is copied to our stdout/stderr (demultiplexed unless the
//! container has a TTY), stdin is copied to the container and then
//! half-closed, and output is read until the daemon closes.
//!
//! With a TTY and a terminal on stdin, the terminal is put in raw mode for
//! the session (restored when it ends, however it ends), the container's
//! TTY is sized after ours, and again on every SIGWINCH. Without a TTY,
//! SIGINT and SIGTERM are sent on to the container (`--sig-proxy`) rather
//! than ending the client.

use std::io::{IsTerminal, Write};

use http::Method;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use rustix::termios::{OptionalActions, Termios, tcgetattr, tcgetwinsize, tcsetattr};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;

use crate::client::hijack::{Hijacked, close_write};
use crate::client::stdcopy::Demux;
use crate::client::{CliError, DockerCli};

/// Which streams to attach.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Streams {
    pub stdin: bool,
    pub stdout: bool,
    pub stderr: bool,
}

/// What the client needs to know of a container before attaching.
#[derive(Debug)]
pub struct Target {
    pub id: String,
    pub tty: bool,
    pub open_stdin: bool,
    pub running: bool,
    pub exit_code: i32,
}

/// `GET /containers/{name}/json`, reduced to what attaching needs.
pub async fn inspect(cli: &DockerCli, name: &str) -> Result<Target, CliError> {
    let body = cli.call(Method::GET, &format!("/containers/{name}/json"), None).await?;
    let v: Value = serde_json::from_slice(&body)
        .map_err(|e| CliError::Other(format!("Error reading the daemon's answer to inspect: {e}")))?;
    let flag = |section: &str, key: &str| v.get(section).and_then(|s| s.get(key)).and_then(Value::as_bool);
    Ok(Target {
        id: v.get("Id").and_then(Value::as_str).unwrap_or(name).to_string(),
        tty: flag("Config", "Tty").unwrap_or(false),
        open_stdin: flag("Config", "OpenStdin").unwrap_or(false),
        running: flag("State", "Running").unwrap_or(false),
        exit_code: v
            .get("State")
            .and_then(|s| s.get("ExitCode"))
            .and_then(Value::as_i64)
            .and_then(|c| i32::try_from(c).ok())
            .unwrap_or(0),
    })
}

/// Opens the attach of `streams` (before the start, so no output is lost).
pub async fn open(cli: &DockerCli, id: &str, streams: Streams) -> Result<Hijacked, CliError> {
    let mut query = form_urlencoded::Serializer::new(String::new());
    query.append_pair("stream", "1");
    for (name, on) in [("stdin", streams.stdin), ("stdout", streams.stdout), ("stderr", streams.stderr)] {
        if on {
            query.append_pair(name, "1");
        }
    }
    cli.hijack(&format!("/containers/{id}/attach?{}", query.finish())).await
}

/// A session on an open attach.
pub struct Session<'a> {
    pub cli: &'a DockerCli,
    pub id: &'a str,
    pub stdin: bool,
    pub tty: bool,
    pub sig_proxy: bool,
    /// `id` is an exec's, not a container's: its TTY is resized through
    /// `/exec/{id}/resize`.
    pub exec: bool,
}

impl Session<'_> {
    /// Copies until the daemon closes the output.
    pub async fn run(&self, conn: Hijacked) -> Result<(), CliError> {
        let Hijacked { mut reader, mut writer } = conn;
        let _raw = (self.tty && self.stdin).then(RawTerminal::enter).flatten();
        let sized = self.tty && std::io::stdout().is_terminal();
        if sized {
            resize(self.cli, &self.resize_path()).await;
        }
        let mut winch = if sized { signal(SignalKind::window_change()).ok() } else { None };
        let proxy = self.sig_proxy && !self.tty;
        let mut int = if proxy { signal(SignalKind::interrupt()).ok() } else { None };
        let mut term = if proxy { signal(SignalKind::terminate()).ok() } else { None };
        let mut input = self.stdin.then(read_stdin);

        let mut demux = Demux::default();
        let mut buf = vec![0u8; 32 * 1024];
        let (mut out, mut err) = (std::io::stdout(), std::io::stderr());
        loop {
            tokio::select! {
                n = reader.read(&mut buf) => {
                    let n = n.map_err(|e| CliError::Connect(format!("reading the container's output: {e}")))?;
                    if n == 0 {
                        break;
                    }
                    self.output(&mut demux, &buf[..n], &mut out, &mut err)?;
                }
                chunk = recv(&mut input) => match chunk {
                    Some(chunk) => {
                        if writer.write_all(&chunk).await.is_err() {
                            // The daemon stopped reading; output may still come.
                            input = None;
                        }
                    }
                    None => {
                        input = None;
                        close_write(&mut writer).await;
                    }
                },
                Some(()) = next(&mut winch) => resize(self.cli, &self.resize_path()).await,
                Some(()) = next(&mut int) => self.kill("INT").await,
                Some(()) = next(&mut term) => self.kill("TERM").await,
            }
        }
        if !demux.is_clean() {
            tracing::debug!("the output ended inside a frame");
        }
        Ok(())
    }

    fn resize_path(&self) -> String {
        let kind = if self.exec { "exec" } else { "containers" };
        format!("/{kind}/{}/resize", self.id)
    }

    fn output(
        &self,
        demux: &mut Demux,
        data: &[u8],
        out: &mut impl Write,
        err: &mut impl Write,
    ) -> Result<(), CliError> {
        if self.tty {
            out.write_all(data).and_then(|()| out.flush()).map_err(|e| CliError::Other(e.to_string()))
        } else {
            demux.push(data, out, err).map_err(|e| CliError::Other(e.to_string()))
        }
    }

    async fn kill(&self, signal: &str) {
        if let Err(e) =
            self.cli.call(Method::POST, &format!("/containers/{}/kill?signal={signal}", self.id), None).await
        {
            tracing::debug!("forwarding SIG{signal}: {e}");
        }
    }
}

/// The next chunk of stdin; pends forever once stdin is done.
async fn recv(input: &mut Option<mpsc::Receiver<Vec<u8>>>) -> Option<Vec<u8>> {
    match input {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

/// The next delivery of a signal; pends forever when it is not watched.
async fn next(signal: &mut Option<tokio::signal::unix::Signal>) -> Option<()> {
    match signal {
        Some(s) => s.recv().await,
        None => std::future::pending().await,
    }
}

/// Stdin read on its own thread: a blocked read must not keep the process
/// alive once the container is done, which a runtime blocking task would.
fn read_stdin() -> mpsc::Receiver<Vec<u8>> {
    let (tx, rx) = mpsc::channel(4);
    std::thread::spawn(move || {
        let mut stdin = std::io::stdin().lock();
        let mut buf = vec![0u8; 32 * 1024];
        loop {
            match std::io::Read::read(&mut stdin, &mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if tx.blocking_send(buf[..n].to_vec()).is_err() {
                        break;
                    }
                }
            }
        }
    });
    rx
}

/// Sizes the TTY at `path` (`/containers/{id}/resize` or
/// `/exec/{id}/resize`) after our terminal's; a failure only means a
/// wrongly sized TTY, so it is not an error.
pub async fn resize(cli: &DockerCli, path: &str) {
    let Ok(ws) = tcgetwinsize(std::io::stdout()) else { return };
    if ws.ws_row == 0 || ws.ws_col == 0 {
        return;
    }
    let path = format!("{path}?h={}&w={}", ws.ws_row, ws.ws_col);
    if let Err(e) = cli.call(Method::POST, &path, None).await {
        tracing::debug!("resizing the TTY: {e}");
    }
}

/// The local terminal in raw mode, restored on drop (`NORAW` keeps it
/// cooked, as in 1.2).
struct RawTerminal {
    saved: Termios,
}

impl RawTerminal {
    fn enter() -> Option<Self> {
        let stdin = std::io::stdin();
        if !stdin.is_terminal() || std::env::var_os("NORAW").is_some() {
            return None;
        }
        let saved = tcgetattr(&stdin).ok()?;
        let mut raw = saved.clone();
        raw.make_raw();
        tcsetattr(&stdin, OptionalActions::Now, &raw).ok()?;
        Some(Self { saved })
    }
}

impl Drop for RawTerminal {
    fn drop(&mut self) {
        let _ = tcsetattr(std::io::stdin(), OptionalActions::Now, &self.saved);
    }
}

/// Copies a logs body to our stdout/stderr, demultiplexed unless `tty`.
pub async fn copy_body(mut body: Incoming, tty: bool) -> Result<(), CliError> {
    let (mut out, mut err) = (std::io::stdout(), std::io::stderr());
    let mut demux = Demux::default();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| CliError::Connect(format!("reading the logs: {e}")))?;
        let Ok(data) = frame.into_data() else { continue };
        if tty {
            out.write_all(&data).and_then(|()| out.flush()).map_err(|e| CliError::Other(e.to_string()))?;
        } else {
            demux.push(&data, &mut out, &mut err).map_err(|e| CliError::Other(e.to_string()))?;
        }
    }
    Ok(())
}

/// `POST /containers/{id}/wait`: the exit code.
pub async fn wait(cli: &DockerCli, id: &str) -> Result<i32, CliError> {
    let body = cli.call(Method::POST, &format!("/containers/{id}/wait"), None).await?;
    let v: Value = serde_json::from_slice(&body)
        .map_err(|e| CliError::Other(format!("Error reading the daemon's answer to wait: {e}")))?;
    v.get("StatusCode")
        .and_then(Value::as_i64)
        .and_then(|c| i32::try_from(c).ok())
        .ok_or_else(|| CliError::Other(format!("the daemon's answer to wait has no StatusCode: {v}")))
}

/// Ends the process with the container's exit status: it is not an error
/// message, so it cannot travel as a [`CliError`] (which is printed).
pub fn exit_with(status: i32) -> Result<(), CliError> {
    if status == 0 {
        return Ok(());
    }
    let _ = std::io::stdout().flush();
    std::process::exit(status)
}

/// `docker attach`.
pub async fn cmd_attach(cli: &DockerCli, args: Vec<String>) -> Result<(), CliError> {
    let mut cmd = super::Subcmd::new("attach", "[OPTIONS] CONTAINER", "Attach to a running container");
    cmd.flags.bool(&["-no-stdin"], false, "Do not attach STDIN");
    cmd.flags.bool(&["-sig-proxy"], true, "Proxy all received signals to the process (non-TTY mode only)");
    let Some(rest) = cmd.parse(args)? else { return Ok(()) };
    super::args::check("attach", &rest, super::args::Count::Exactly(1))?;
    let target = inspect(cli, &rest[0]).await?;
    if !target.running {
        return Err(CliError::Other("You cannot attach to a stopped container, start it first".into()));
    }
    let stdin = target.open_stdin && !cmd.flags.get_bool("no-stdin");
    let conn = open(cli, &target.id, Streams { stdin, stdout: true, stderr: true }).await?;
    let session = Session {
        cli,
        id: &target.id,
        stdin,
        tty: target.tty,
        sig_proxy: cmd.flags.get_bool("sig-proxy"),
        exec: false,
    };
    session.run(conn).await?;
    exit_with(inspect(cli, &target.id).await?.exit_code)
}

/// `docker logs`.
pub async fn cmd_logs(cli: &DockerCli, args: Vec<String>) -> Result<(), CliError> {
    let mut cmd = super::Subcmd::new("logs", "[OPTIONS] CONTAINER", "Fetch the logs of a container");
    cmd.flags.bool(&["f", "-follow"], false, "Follow log output");
    cmd.flags.bool(&["t", "-timestamps"], false, "Show timestamps");
    cmd.flags.string(
        &["-tail"],
        "all",
        "Output the specified number of lines at the end of logs (defaults to all logs)",
    );
    let Some(rest) = cmd.parse(args)? else { return Ok(()) };
    super::args::check("logs", &rest, super::args::Count::Exactly(1))?;
    let target = inspect(cli, &rest[0]).await?;
    let mut query = form_urlencoded::Serializer::new(String::new());
    query.append_pair("stdout", "1").append_pair("stderr", "1").append_pair("tail", &cmd.flags.get_string("tail"));
    if cmd.flags.get_bool("follow") {
        query.append_pair("follow", "1");
    }
    if cmd.flags.get_bool("timestamps") {
        query.append_pair("timestamps", "1");
    }
    let body = cli.stream(Method::GET, &format!("/containers/{}/logs?{}", target.id, query.finish())).await?;
    copy_body(body, target.tty).await
}
