//! Hijacked connections for attach and exec start (`hijackServer` and
//! `postContainersAttach` of Docker 1.2, with today's upgrade handshake).
//!
//! A client that sends `Upgrade` (today's docker CLI always does, docker-py
//! too) gets `HTTP/1.1 101 UPGRADED` with exactly `Content-Type:
//! application/vnd.docker.raw-stream`, `Connection: Upgrade`, `Upgrade: tcp`
//! (plus hyper's `Date`), and the connection then carries the client's raw
//! stdin one way and the job's stdout and stderr the other, multiplexed
//! (`stdcopy.rs`) unless there is a TTY.
//!
//! A client that does not ask to upgrade gets Docker 1.2's `200` with the
//! raw-stream content type and the stream as the body, unchunked. Departure:
//! hyper can only hand a connection over after a `101`, so that answer is an
//! `HTTP/1.0 200 OK` whose body ends when the connection closes (1.2 wrote
//! `HTTP/1.1` on a hijacked socket; clients read both the same way), and such
//! a client cannot send stdin: bytes after its request are not read.
//!
//! The job starts before the `101` goes out, so it is attached by the time
//! the client sees the answer and starts the container (output produced
//! meanwhile waits in the channel). A client half-closing its side only ends
//! the job's stdin. When the job ends (both outputs closed), a stdin read
//! still waiting for the client is ended too, any failure is written in-band
//! as stdout, and the connection is shut down and closed.
//!
//! [`multiplex`] (the job's two outputs onto one framed channel) also serves
//! `logs`, whose stream is an ordinary chunked response.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use engine::{Job, JobError};
use futures_util::{FutureExt, stream};
use http::header::{self, HeaderValue};
use http::{Response, StatusCode, Version};
use http_body_util::{BodyExt, Empty, StreamBody};
use hyper::body::Frame;
use hyper::ext::ReasonPhrase;
use hyper::upgrade::{OnUpgrade, Upgraded};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWriteExt, ReadBuf, ReadHalf, WriteHalf};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};

use crate::route::Failure;
use crate::router::{Body, STREAM_CHUNKS};
use crate::stdcopy::{FramedWriter, StdStream, frame};

/// The content type of raw and multiplexed streams.
pub const RAW_STREAM: &str = "application/vnd.docker.raw-stream";
const UPGRADED: ReasonPhrase = ReasonPhrase::from_static(b"UPGRADED");

type Conn = TokioIo<Upgraded>;

/// Points the job's stdout and stderr at one channel, framed as streams 1
/// and 2 unless `tty`. Stderr is replaced, not added to, so a container's
/// stderr does not also reach the daemon's log (Docker 1.2's `Stderr.Set`).
pub(crate) async fn multiplex(job: &Job, tty: bool) -> mpsc::Receiver<Bytes> {
    let (tx, rx) = mpsc::channel(STREAM_CHUNKS);
    let stream = |s| (!tty).then_some(s);
    job.stdout().add(FramedWriter::new(tx.clone(), stream(StdStream::Stdout)));
    job.stderr().set(FramedWriter::new(tx, stream(StdStream::Stderr))).await;
    rx
}

/// The in-band text for a failed job, framed as stdout unless `tty`.
pub(crate) fn failure_text(message: &str, failure: Failure, tty: bool) -> Bytes {
    tracing::debug!(error = %message, "streamed job failed");
    frame((!tty).then_some(StdStream::Stdout), failure.text(message).as_bytes())
}

fn failure_of(
    result: Result<Result<(), JobError>, tokio::task::JoinError>,
    failure: Failure,
    tty: bool,
) -> Option<Bytes> {
    let message = match result {
        Ok(Ok(())) => return None,
        Ok(Err(e)) => e.message,
        Err(e) => e.to_string(),
    };
    Some(failure_text(&message, failure, tty))
}

/// Runs `job` on the connection of its request and answers the request.
/// `upgrade` is the request's pending upgrade when it asked for one.
pub(crate) async fn serve(job: Job, upgrade: Option<OnUpgrade>, tty: bool, failure: Failure) -> Response<Body> {
    let chunks = multiplex(&job, tty).await;
    match upgrade {
        Some(upgrade) => {
            let (stdin, conn) = HijackedStdin::new();
            let ended = stdin.ended.clone();
            // A fresh job has no stdin source yet.
            let _ = job.stdin().add(stdin);
            let running = tokio::spawn(async move { job.run().await });
            tokio::spawn(pump(upgrade, conn, ended, chunks, running, failure, tty));
            upgraded()
        }
        None => {
            let running = tokio::spawn(async move { job.run().await });
            close_delimited(chunks, running, failure, tty)
        }
    }
}

/// `101 UPGRADED` with the three headers dockerd sends, in its order.
fn upgraded() -> Response<Body> {
    let mut response = Response::new(Empty::new().map_err(|e: std::convert::Infallible| match e {}).boxed());
    *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    response.extensions_mut().insert(UPGRADED);
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(RAW_STREAM));
    headers.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
    headers.insert(header::UPGRADE, HeaderValue::from_static("tcp"));
    response
}

/// Copies the job's output to the upgraded connection until the job has
/// closed both outputs, then reports a failure and closes the connection.
async fn pump(
    upgrade: OnUpgrade,
    conn: oneshot::Sender<ReadHalf<Conn>>,
    ended: CancellationToken,
    mut chunks: mpsc::Receiver<Bytes>,
    running: JoinHandle<Result<(), JobError>>,
    failure: Failure,
    tty: bool,
) {
    let upgraded = match upgrade.await {
        Ok(upgraded) => upgraded,
        Err(e) => {
            tracing::debug!(error = %e, "the connection was not upgraded");
            // The job's writes now fail and its stdin reads end.
            drop(chunks);
            ended.cancel();
            let _ = running.await;
            return;
        }
    };
    let (read, mut write): (ReadHalf<Conn>, WriteHalf<Conn>) = tokio::io::split(TokioIo::new(upgraded));
    // Refused only when the job already closed its stdin.
    let _ = conn.send(read);
    let mut client_gone = false;
    while let Some(chunk) = chunks.recv().await {
        if chunk.is_empty() {
            continue;
        }
        if let Err(e) = write_chunk(&mut write, &chunk, chunks.is_empty()).await {
            tracing::debug!(error = %e, "the attached client went away");
            client_gone = true;
            break;
        }
    }
    // Both outputs are closed (the job is finishing) or nobody listens: a
    // stdin read waiting for the client would keep the job from finishing.
    drop(chunks);
    ended.cancel();
    let result = running.await;
    if !client_gone && let Some(text) = failure_of(result, failure, tty) {
        let _ = write.write_all(&text).await;
    }
    let _ = write.flush().await;
    let _ = write.shutdown().await;
}

async fn write_chunk(write: &mut WriteHalf<Conn>, chunk: &[u8], flush: bool) -> io::Result<()> {
    write.write_all(chunk).await?;
    // More queued: they go out together (TLS records, fewer syscalls).
    if flush { write.flush().await } else { Ok(()) }
}

/// The non-upgrade answer: the stream as an `HTTP/1.0` body, delimited by
/// the connection's close.
fn close_delimited(
    chunks: mpsc::Receiver<Bytes>,
    running: JoinHandle<Result<(), JobError>>,
    failure: Failure,
    tty: bool,
) -> Response<Body> {
    enum State {
        Data(mpsc::Receiver<Bytes>, JoinHandle<Result<(), JobError>>),
        Done,
    }
    let body = stream::unfold(State::Data(chunks, running), move |state| async move {
        let State::Data(mut chunks, running) = state else { return None };
        loop {
            match chunks.recv().await {
                Some(chunk) if chunk.is_empty() => continue,
                Some(chunk) => return Some((Ok::<_, io::Error>(Frame::data(chunk)), State::Data(chunks, running))),
                None => break,
            }
        }
        let text = failure_of(running.await, failure, tty)?;
        Some((Ok(Frame::data(text)), State::Done))
    });
    let mut response = Response::new(BodyExt::boxed(StreamBody::new(body)));
    *response.version_mut() = Version::HTTP_10;
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(RAW_STREAM));
    response
}

/// The job's stdin: the hijacked connection's read side once the upgrade is
/// done, and end of file as soon as the job has finished writing (the
/// client may never send anything, and the job cannot end while a read of
/// its stdin is pending).
struct HijackedStdin {
    conn: Option<oneshot::Receiver<ReadHalf<Conn>>>,
    read: Option<ReadHalf<Conn>>,
    ended: CancellationToken,
    ended_wait: Pin<Box<WaitForCancellationFutureOwned>>,
}

impl HijackedStdin {
    fn new() -> (Self, oneshot::Sender<ReadHalf<Conn>>) {
        let (tx, rx) = oneshot::channel();
        let ended = CancellationToken::new();
        let ended_wait = Box::pin(ended.clone().cancelled_owned());
        (Self { conn: Some(rx), read: None, ended, ended_wait }, tx)
    }
}

impl AsyncRead for HijackedStdin {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        if self.ended_wait.as_mut().poll(cx).is_ready() {
            self.read = None;
            return Poll::Ready(Ok(()));
        }
        if let Some(conn) = self.conn.as_mut() {
            match conn.poll_unpin(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Ok(read)) => self.read = Some(read),
                // No connection will come: end of file.
                Poll::Ready(Err(_)) => {}
            }
            self.conn = None;
        }
        match self.read.as_mut() {
            Some(read) => Pin::new(read).poll_read(cx, buf),
            None => Poll::Ready(Ok(())),
        }
    }
}
