//! The destinations an `Output` can tee into: an in-memory buffer, a bounded
//! channel (to an HTTP body), JSON decoders into `Env`/`Table`, the last N
//! lines, and the engine's log. Each is an `AsyncWrite`; after `shutdown`
//! every one of them refuses writes, as a closed Go writer does.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use parking_lot::Mutex;
use serde_json::{Map, Value};
use tokio::io::AsyncWrite;
use tokio::sync::mpsc;
use tokio_util::sync::PollSender;

use crate::env::Env;
use crate::table::{Table, env_from_map};
use crate::tail::TailBuffer;

fn closed_error() -> io::Error {
    io::Error::new(io::ErrorKind::BrokenPipe, "write to a closed output")
}

/// The contents of a buffer sink, readable at any time.
#[derive(Clone, Debug, Default)]
pub struct SharedBuffer(Arc<Mutex<Vec<u8>>>);

impl SharedBuffer {
    /// A copy of everything written so far.
    pub fn bytes(&self) -> Vec<u8> {
        self.0.lock().clone()
    }

    /// Takes the contents out, leaving the buffer empty.
    pub fn take(&self) -> Vec<u8> {
        std::mem::take(&mut *self.0.lock())
    }

    /// Everything written so far, as (lossy) UTF-8.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock()).into_owned()
    }
}

/// Appends every write to a [`SharedBuffer`].
#[derive(Debug)]
pub struct BufferSink {
    buffer: SharedBuffer,
    closed: bool,
}

impl BufferSink {
    /// A sink writing into `buffer`.
    pub fn new(buffer: SharedBuffer) -> Self {
        Self { buffer, closed: false }
    }
}

impl AsyncWrite for BufferSink {
    fn poll_write(self: Pin<&mut Self>, _: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        if self.closed {
            return Poll::Ready(Err(closed_error()));
        }
        self.buffer.0.lock().extend_from_slice(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.closed = true;
        Poll::Ready(Ok(()))
    }
}

/// Sends each write as one message on a bounded channel.
pub struct ChannelSink {
    tx: PollSender<Bytes>,
}

impl ChannelSink {
    /// A sink sending into `tx`.
    pub fn new(tx: mpsc::Sender<Bytes>) -> Self {
        Self { tx: PollSender::new(tx) }
    }
}

impl AsyncWrite for ChannelSink {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        ready!(self.tx.poll_reserve(cx)).map_err(|_| closed_error())?;
        self.tx.send_item(Bytes::copy_from_slice(buf)).map_err(|_| closed_error())?;
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.tx.close();
        Poll::Ready(Ok(()))
    }
}

/// The `Env` decoded by an `Output::add_env` sink.
#[derive(Clone, Debug, Default)]
pub struct DecodedEnv(Arc<Mutex<Env>>);

impl DecodedEnv {
    /// The last object decoded so far (complete once the output is closed).
    pub fn get(&self) -> Env {
        self.0.lock().clone()
    }
}

/// The `Table` decoded by an `Output::add_table`/`add_list_table` sink.
#[derive(Clone, Debug, Default)]
pub struct DecodedTable(Arc<Mutex<Table>>);

impl DecodedTable {
    /// The rows decoded so far (complete once the output is closed).
    pub fn get(&self) -> Table {
        self.0.lock().clone()
    }
}

pub(crate) enum DecodeMode {
    LastEnv(DecodedEnv),
    Rows(DecodedTable),
    List(DecodedTable),
}

/// Decodes JSON as it arrives. After a decode error the rest is ignored, as
/// the original's decoder goroutine gives up (here without blocking writers).
pub(crate) struct DecodeSink {
    mode: DecodeMode,
    pending: Vec<u8>,
    failed: bool,
    closed: bool,
}

impl DecodeSink {
    pub(crate) fn new(mode: DecodeMode) -> Self {
        Self { mode, pending: Vec::new(), failed: false, closed: false }
    }

    fn decode_available(&mut self) {
        if matches!(self.mode, DecodeMode::List(_)) || self.failed {
            return;
        }
        let mut consumed = 0;
        let mut stream = serde_json::Deserializer::from_slice(&self.pending).into_iter::<Option<Map<String, Value>>>();
        loop {
            match stream.next() {
                Some(Ok(object)) => {
                    consumed = stream.byte_offset();
                    let env = object.map(|m| env_from_map(&m)).unwrap_or_default();
                    match &self.mode {
                        DecodeMode::LastEnv(dst) => *dst.0.lock() = env,
                        DecodeMode::Rows(dst) => dst.0.lock().add(env),
                        DecodeMode::List(_) => {}
                    }
                }
                Some(Err(e)) if e.is_eof() => break,
                Some(Err(_)) => {
                    self.failed = true;
                    break;
                }
                None => {
                    consumed = self.pending.len();
                    break;
                }
            }
        }
        if self.failed {
            self.pending = Vec::new();
        } else {
            self.pending.drain(..consumed);
        }
    }
}

impl AsyncWrite for DecodeSink {
    fn poll_write(mut self: Pin<&mut Self>, _: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        if self.closed {
            return Poll::Ready(Err(closed_error()));
        }
        if !self.failed {
            self.pending.extend_from_slice(buf);
            self.decode_available();
        }
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        if !self.closed {
            self.closed = true;
            if let DecodeMode::List(dst) = &self.mode {
                let mut table = Table::new("", 0);
                if table.read_list_from(&self.pending).is_ok() {
                    *dst.0.lock() = table;
                }
            }
            self.pending = Vec::new();
        }
        Poll::Ready(Ok(()))
    }
}

/// The last lines written to a [`TailSink`].
#[derive(Clone, Debug)]
pub struct SharedTail(Arc<Mutex<TailBuffer>>);

impl SharedTail {
    pub(crate) fn new(n: usize) -> Self {
        Self(Arc::new(Mutex::new(TailBuffer::new(n))))
    }

    /// The last lines, joined by `\n`, trailing newline removed.
    pub fn get(&self) -> String {
        self.0.lock().get()
    }
}

/// Keeps the last N lines.
pub(crate) struct TailSink {
    tail: SharedTail,
    closed: bool,
}

impl TailSink {
    pub(crate) fn new(tail: SharedTail) -> Self {
        Self { tail, closed: false }
    }
}

impl AsyncWrite for TailSink {
    fn poll_write(self: Pin<&mut Self>, _: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        if self.closed {
            return Poll::Ready(Err(closed_error()));
        }
        self.tail.0.lock().push(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.closed = true;
        Poll::Ready(Ok(()))
    }
}

/// Where the engine writes its log lines (the process's stderr by default).
pub type LogWriter = Arc<Mutex<Box<dyn io::Write + Send>>>;

/// Copies job stderr to the engine log. Closing it is a no-op: the engine's
/// stderr outlives every job.
pub(crate) struct LogSink(pub(crate) LogWriter);

impl AsyncWrite for LogSink {
    fn poll_write(self: Pin<&mut Self>, _: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        // A short, bounded write to stderr; the original does the same inline.
        let mut w = self.0.lock();
        w.write_all(buf)?;
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(self.0.lock().flush())
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}
