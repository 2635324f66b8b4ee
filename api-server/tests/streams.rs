//! Container streams in-process: hijacked attach and exec start (101 and
//! plain), stdcopy framing, TTY, half-close, and framed logs, with a raw
//! client writing the request bytes the docker CLI writes.

use std::path::PathBuf;
use std::time::Duration;

use api_server::stdcopy::{StdDecoder, StdStream};
use api_server::{Router, RouterConfig, ServeConfig, bind, serve};
use bytes::{Bytes, BytesMut};
use engine::names::{container, exec};
use engine::{Engine, ErrorKind, Job, Status};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;
use tokio::sync::oneshot;
use tokio::time::timeout;
use tokio_util::codec::Decoder;

const LIMIT: Duration = Duration::from_secs(10);

struct Server {
    _dir: tempfile::TempDir,
    socket: PathBuf,
    _stop: oneshot::Sender<()>,
}

async fn start(eng: Engine) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("api.sock");
    let host = format!("unix://{}", socket.display());
    let config = ServeConfig { socket_group: String::new(), ..Default::default() };
    let listeners = bind(&host, &config).await.unwrap();
    let gate = api_server::AcceptGate::new();
    gate.open();
    let router = Router::new(eng, RouterConfig { enable_cors: false, version: "test".into() });
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(serve(listeners, router, gate, async move {
        let _ = stopped.await;
    }));
    Server { _dir: dir, socket, _stop: stop }
}

/// Containers `plain` (no TTY) and `tty`; execs `e-plain` and `e-tty`.
/// `attach` and `exec_start` echo each stdin line to stdout, write `err\n`
/// to stderr, and end at stdin's end; a name starting with `fail` fails
/// after its output.
fn engine() -> Engine {
    let eng = Engine::new();
    eng.set_logging(false);
    eng.register(container::INSPECT, |job: Job| async move {
        let name = job.args()[0].clone();
        match name.as_str() {
            "plain" | "fail" | "quick" => {
                let _ = job.print(r#"{"Id":"abc","Config":{"Tty":false}}"#).await;
                Status::OK
            }
            "tty" => {
                let _ = job.print(r#"{"Id":"abc","Config":{"Tty":true}}"#).await;
                Status::OK
            }
            // A daemon reading its disk: the client's half-close may come
            // before the answer.
            "slow" => {
                tokio::time::sleep(Duration::from_millis(200)).await;
                let _ = job.print(r#"{"Id":"abc","Config":{"Tty":false}}"#).await;
                Status::OK
            }
            _ => job.fail(ErrorKind::NotFound, format!("No such container: {name}")).await,
        }
    })
    .unwrap();
    eng.register(exec::INSPECT, |job: Job| async move {
        let id = job.args()[0].clone();
        match id.as_str() {
            "e-plain" => {
                let _ = job.print(r#"{"ID":"e-plain","ProcessConfig":{"tty":false}}"#).await;
                Status::OK
            }
            "e-tty" => {
                let _ = job.print(r#"{"ID":"e-tty","ProcessConfig":{"tty":true}}"#).await;
                Status::OK
            }
            _ => job.fail(ErrorKind::NotFound, format!("No such exec instance '{id}' found in daemon")).await,
        }
    })
    .unwrap();
    eng.register(container::ATTACH, echo).unwrap();
    eng.register(exec::START, echo).unwrap();
    eng.register(container::LOGS, |job: Job| async move {
        let _ = job.print("out 1\n").await;
        let _ = job.stderr().write(b"warn 1\n").await;
        let _ = job.print("out 2\n").await;
        if job.args()[0].starts_with("fail") {
            return job.errorf("log file is gone").await;
        }
        Status::OK
    })
    .unwrap();
    eng
}

async fn echo(job: Job) -> Status {
    if job.args()[0] == "quick" {
        // Like a daemon's attach whose container exited: a copier still
        // waits on stdin when the job is done.
        let stdin = job.stdin().clone();
        tokio::spawn(async move {
            let mut buf = [0u8; 16];
            while let Ok(1..) = stdin.read(&mut buf).await {}
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        let _ = job.print("done\n").await;
        return Status::OK;
    }
    let _ = job.stderr().write(b"err\n").await;
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    while let Ok(1) = job.stdin().read(&mut byte).await {
        line.push(byte[0]);
        if byte[0] == b'\n' {
            if job.print(&line).await.is_err() {
                return Status::ERR;
            }
            line.clear();
        }
    }
    if job.args()[0].starts_with("fail") {
        return job.errorf("the container is gone").await;
    }
    let _ = job.print("bye\n").await;
    Status::OK
}

const ATTACH: &str = "POST /v1.24/containers/{}/attach?stream=1&stdin=1&stdout=1&stderr=1 HTTP/1.1\r\n\
Host: api.moby.localhost\r\nUser-Agent: Docker-Client/28.2.2 (linux)\r\nContent-Length: 0\r\n\
Connection: Upgrade\r\nContent-Type: text/plain\r\nUpgrade: tcp\r\n\r\n";

fn attach_request(name: &str) -> String {
    ATTACH.replace("{}", name)
}

fn exec_request(id: &str, body: &str, upgrade: bool) -> String {
    let upgrade = if upgrade { "Connection: Upgrade\r\nUpgrade: tcp\r\n" } else { "" };
    format!(
        "POST /v1.24/exec/{id}/start HTTP/1.1\r\nHost: api.moby.localhost\r\nContent-Length: {}\r\n{upgrade}\
         Content-Type: application/json\r\n\r\n{body}",
        body.len()
    )
}

/// Sends `request`; returns the head (up to the blank line) and the stream.
async fn open(server: &Server, request: &str) -> (String, UnixStream, Vec<u8>) {
    let mut s = UnixStream::connect(&server.socket).await.unwrap();
    s.write_all(request.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8(buf[..end + 4].to_vec()).unwrap();
            let rest = buf[end + 4..].to_vec();
            return (head, s, rest);
        }
        let n = timeout(LIMIT, s.read(&mut chunk)).await.expect("a response head").unwrap();
        assert!(n > 0, "closed before the head: {:?}", String::from_utf8_lossy(&buf));
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// A `Content-Length` body.
async fn sized_body(head: &str, s: &mut UnixStream, mut body: Vec<u8>) -> Vec<u8> {
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("Content-Length: "))
        .and_then(|v| v.trim().parse().ok())
        .expect("a sized body");
    let have = body.len();
    body.resize(len, 0);
    timeout(LIMIT, s.read_exact(&mut body[have..])).await.unwrap().unwrap();
    body
}

/// Everything up to the server's close.
async fn read_to_close(s: &mut UnixStream, mut got: Vec<u8>) -> Vec<u8> {
    timeout(LIMIT, s.read_to_end(&mut got)).await.expect("the server closes the connection").unwrap();
    got
}

/// Reads until `want` frames have arrived.
async fn read_frames(s: &mut UnixStream, buf: &mut BytesMut, want: usize) -> Vec<(StdStream, Bytes)> {
    let mut frames = Vec::new();
    let mut chunk = [0u8; 1024];
    loop {
        while let Some(frame) = StdDecoder.decode(buf).unwrap() {
            frames.push(frame);
        }
        if frames.len() >= want {
            return frames;
        }
        let n = timeout(LIMIT, s.read(&mut chunk)).await.expect("more frames").unwrap();
        assert!(n > 0, "closed after {frames:?}");
        buf.extend_from_slice(&chunk[..n]);
    }
}

fn decode_all(bytes: &[u8]) -> Vec<(StdStream, Bytes)> {
    let mut buf = BytesMut::from(bytes);
    let mut frames = Vec::new();
    while let Some(frame) = StdDecoder.decode(&mut buf).unwrap() {
        frames.push(frame);
    }
    assert!(buf.is_empty(), "a partial frame at the end: {buf:?}");
    frames
}

fn out(text: &'static str) -> (StdStream, Bytes) {
    (StdStream::Stdout, Bytes::from_static(text.as_bytes()))
}

fn err(text: &'static str) -> (StdStream, Bytes) {
    (StdStream::Stderr, Bytes::from_static(text.as_bytes()))
}

const UPGRADED_HEAD: &str = "HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\n\
Connection: Upgrade\r\nUpgrade: tcp\r\n";

/// The head of a 101 is dockerd's, plus hyper's `Date` and nothing else.
fn assert_upgraded(head: &str) {
    assert!(head.starts_with(UPGRADED_HEAD), "{head:?}");
    let rest = &head[UPGRADED_HEAD.len()..];
    let extra: Vec<&str> = rest.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert!(extra.iter().all(|l| l.starts_with("Date: ")), "{head:?}");
}

#[tokio::test]
async fn attach_upgrades_and_frames_stdout_and_stderr() {
    let server = start(engine()).await;
    let (head, mut s, rest) = open(&server, &attach_request("plain")).await;
    assert_upgraded(&head);
    let mut buf = BytesMut::from(&rest[..]);
    assert_eq!(read_frames(&mut s, &mut buf, 1).await, [err("err\n")]);
    // Exact bytes on the wire for a stdout frame.
    s.write_all(b"hi\n").await.unwrap();
    let mut raw = [0u8; 11];
    timeout(LIMIT, s.read_exact(&mut raw)).await.unwrap().unwrap();
    assert_eq!(&raw, b"\x01\x00\x00\x00\x00\x00\x00\x03hi\n");

    s.write_all(b"second\n").await.unwrap();
    assert_eq!(read_frames(&mut s, &mut buf, 1).await, [out("second\n")]);
    // Half-close: stdin ends, the output does not.
    s.shutdown().await.unwrap();
    let tail = read_to_close(&mut s, buf.to_vec()).await;
    assert_eq!(decode_all(&tail), [out("bye\n")]);
}

#[tokio::test]
async fn a_client_half_closing_at_once_still_gets_everything() {
    let server = start(engine()).await;
    let mut s = UnixStream::connect(&server.socket).await.unwrap();
    // Stdin bytes right behind the request, then end of stdin, before the
    // 101 is even read.
    s.write_all(format!("{}one\ntwo\n", attach_request("plain")).as_bytes()).await.unwrap();
    s.shutdown().await.unwrap();
    let all = read_to_close(&mut s, Vec::new()).await;
    let end = all.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    assert_upgraded(std::str::from_utf8(&all[..end]).unwrap());
    let mut frames = decode_all(&all[end..]);
    // stderr and stdout are separate streams: only each one's order is fixed.
    let stderr: Vec<_> = frames.iter().filter(|f| f.0 == StdStream::Stderr).cloned().collect();
    frames.retain(|f| f.0 == StdStream::Stdout);
    assert_eq!(stderr, [err("err\n")]);
    assert_eq!(frames, [out("one\n"), out("two\n"), out("bye\n")]);
}

#[tokio::test]
async fn a_slow_probe_and_an_early_half_close() {
    let server = start(engine()).await;
    let mut s = UnixStream::connect(&server.socket).await.unwrap();
    s.write_all(format!("{}one\n", attach_request("slow")).as_bytes()).await.unwrap();
    s.shutdown().await.unwrap();
    let all = read_to_close(&mut s, Vec::new()).await;
    let end = all.windows(4).position(|w| w == b"\r\n\r\n").expect("a head") + 4;
    assert_upgraded(std::str::from_utf8(&all[..end]).unwrap());
    let mut frames = decode_all(&all[end..]);
    frames.retain(|f| f.0 == StdStream::Stdout);
    assert_eq!(frames, [out("one\n"), out("bye\n")]);
}

#[tokio::test]
async fn the_connection_closes_when_the_job_ends() {
    let server = start(engine()).await;
    // The client keeps its side open and sends nothing; a stdin read is
    // pending in the job when it ends.
    let (head, mut s, rest) = open(&server, &attach_request("quick")).await;
    assert_upgraded(&head);
    assert_eq!(decode_all(&read_to_close(&mut s, rest).await), [out("done\n")]);
}

#[tokio::test]
async fn a_tty_stream_is_raw() {
    let server = start(engine()).await;
    let (head, mut s, rest) = open(&server, &attach_request("tty")).await;
    assert_upgraded(&head);
    s.write_all(b"ls\n").await.unwrap();
    s.shutdown().await.unwrap();
    let all = read_to_close(&mut s, rest).await;
    assert_eq!(all, b"err\nls\nbye\n");
}

#[tokio::test]
async fn an_unknown_container_is_a_404_before_any_hijack() {
    let server = start(engine()).await;
    let (head, mut s, rest) = open(&server, &attach_request("nope")).await;
    assert!(head.starts_with("HTTP/1.1 404 Not Found\r\n"), "{head}");
    assert!(head.contains("Content-Type: application/json\r\n"), "{head}");
    let body = sized_body(&head, &mut s, rest).await;
    assert_eq!(body, br#"{"message":"No such container: nope"}"#);
}

#[tokio::test]
async fn a_failing_attach_says_so_in_band() {
    let server = start(engine()).await;
    let (head, mut s, rest) = open(&server, &attach_request("fail")).await;
    assert_upgraded(&head);
    s.shutdown().await.unwrap();
    let frames = decode_all(&read_to_close(&mut s, rest).await);
    // The job's error text is its last stderr line, then Docker 1.2's note.
    assert_eq!(frames, [err("err\n"), err("the container is gone\n"), out("Error attaching: the container is gone\n")]);
}

#[tokio::test]
async fn attach_without_upgrade_is_a_raw_200() {
    let server = start(engine()).await;
    let request = attach_request("plain").replace("Connection: Upgrade\r\n", "").replace("Upgrade: tcp\r\n", "");
    let (head, mut s, rest) = open(&server, &request).await;
    assert!(head.starts_with("HTTP/1.0 200 OK\r\n"), "{head}");
    assert!(head.contains("Content-Type: application/vnd.docker.raw-stream\r\n"), "{head}");
    assert!(!head.to_ascii_lowercase().contains("transfer-encoding"), "not chunked: {head}");
    assert!(!head.to_ascii_lowercase().contains("content-length"), "delimited by the close: {head}");
    // No stdin without the upgrade: the job sees its end at once.
    let all = read_to_close(&mut s, rest).await;
    assert_eq!(decode_all(&all), [err("err\n"), out("bye\n")]);
}

#[tokio::test]
async fn exec_start_hijacks_with_the_bodys_tty() {
    let server = start(engine()).await;
    let (head, mut s, rest) = open(&server, &exec_request("e-plain", r#"{"Detach":false,"Tty":false}"#, true)).await;
    assert_upgraded(&head);
    s.write_all(b"x\n").await.unwrap();
    s.shutdown().await.unwrap();
    let frames = decode_all(&read_to_close(&mut s, rest).await);
    let mut stdout = frames.clone();
    stdout.retain(|f| f.0 == StdStream::Stdout);
    assert_eq!(stdout, [out("x\n"), out("bye\n")]);

    // The body says TTY: raw.
    let (head, mut s, rest) = open(&server, &exec_request("e-tty", r#"{"Detach":false,"Tty":true}"#, true)).await;
    assert_upgraded(&head);
    s.shutdown().await.unwrap();
    assert_eq!(read_to_close(&mut s, rest).await, b"err\nbye\n");

    // No `Tty` in the body: the exec's own flag.
    let (_, mut s, rest) = open(&server, &exec_request("e-tty", r#"{"Detach":false}"#, true)).await;
    s.shutdown().await.unwrap();
    assert_eq!(read_to_close(&mut s, rest).await, b"err\nbye\n");
}

#[tokio::test]
async fn exec_start_of_an_unknown_exec_is_a_404() {
    let server = start(engine()).await;
    let (head, _s, _) = open(&server, &exec_request("nope", r#"{"Detach":false,"Tty":false}"#, true)).await;
    assert!(head.starts_with("HTTP/1.1 404 Not Found\r\n"), "{head}");
}

#[tokio::test]
async fn exec_start_without_upgrade_and_detached() {
    let server = start(engine()).await;
    let (head, mut s, rest) = open(&server, &exec_request("e-plain", r#"{"Detach":false,"Tty":false}"#, false)).await;
    assert!(head.starts_with("HTTP/1.0 200 OK\r\n"), "{head}");
    assert_eq!(decode_all(&read_to_close(&mut s, rest).await), [err("err\n"), out("bye\n")]);

    let (head, _s, _) = open(&server, &exec_request("e-plain", r#"{"Detach":true,"Tty":false}"#, false)).await;
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    assert!(head.contains("Content-Length: 0\r\n"), "{head}");
}

/// A plain HTTP GET, as docker-py sends it; returns the head and the
/// de-chunked body.
async fn get(server: &Server, path: &str) -> (String, Vec<u8>) {
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nUser-Agent: docker-sdk-python/7.2.0\r\nConnection: close\r\n\r\n"
    );
    let (head, mut s, rest) = open(server, &request).await;
    let raw = read_to_close(&mut s, rest).await;
    if !head.contains("Transfer-Encoding: chunked") {
        return (head, raw);
    }
    let mut body = Vec::new();
    let mut at = 0;
    loop {
        let line_end = at + raw[at..].windows(2).position(|w| w == b"\r\n").unwrap();
        let size = usize::from_str_radix(std::str::from_utf8(&raw[at..line_end]).unwrap(), 16).unwrap();
        if size == 0 {
            return (head, body);
        }
        body.extend_from_slice(&raw[line_end + 2..line_end + 2 + size]);
        at = line_end + 2 + size + 2;
    }
}

#[tokio::test]
async fn logs_are_framed_without_a_tty() {
    let server = start(engine()).await;
    let (head, body) = get(&server, "/v1.24/containers/plain/logs?stdout=1&stderr=1&follow=1").await;
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    assert!(head.contains("Content-Type: application/vnd.docker.raw-stream\r\n"), "{head}");
    assert!(head.contains("Api-Version: 1.24\r\n"), "{head}");
    let frames = decode_all(&body);
    assert_eq!(frames, [out("out 1\n"), err("warn 1\n"), out("out 2\n")]);

    let (_, body) = get(&server, "/v1.24/containers/tty/logs?stdout=1").await;
    assert_eq!(body, b"out 1\nwarn 1\nout 2\n");

    let (head, body) = get(&server, "/v1.24/containers/nope/logs?stdout=1").await;
    assert!(head.starts_with("HTTP/1.1 404 Not Found\r\n"), "{head}");
    assert_eq!(body, br#"{"message":"No such container: nope"}"#);

    let (head, _) = get(&server, "/v1.24/containers/plain/logs").await;
    assert!(head.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{head}");

    let (_, body) = get(&server, "/v1.24/containers/fail/logs?stdout=1").await;
    assert_eq!(
        decode_all(&body),
        [
            out("out 1\n"),
            err("warn 1\n"),
            out("out 2\n"),
            err("log file is gone\n"),
            out("Error running logs job: log file is gone\n")
        ]
    );
}

#[tokio::test]
async fn a_missing_stream_job_is_a_501_naming_it() {
    let eng = Engine::new();
    eng.set_logging(false);
    eng.register(container::ATTACH, echo).unwrap();
    let server = start(eng).await;
    let (head, mut s, rest) = open(&server, &attach_request("plain")).await;
    assert!(head.starts_with("HTTP/1.1 501 Not Implemented\r\n"), "{head}");
    let body = sized_body(&head, &mut s, rest).await;
    let text = String::from_utf8(body).unwrap();
    assert!(text.contains("no handler is registered for job 'container_inspect'"), "{text}");
}
