//! `Output`: a job's stdout or stderr, a tee to any number of sinks.
//!
//! Re-creates `Output` of `engine/streams.go`: writes are serialised and each
//! write reaches every destination whole, in order, continuing after a
//! failing one and reporting the first error; `close` closes every
//! destination but keeps them (later writes fail); `set` closes and replaces.
//!
//! Departure: destinations are async writers, so a slow reader (an HTTP
//! client, a bounded channel) applies back-pressure to the job instead of
//! blocking an OS thread. The original's `AddPipe` + goroutine decoders
//! become sinks that decode as bytes arrive (`sinks.rs`).

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use bytes::Bytes;
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;

use crate::sinks::{
    BufferSink, ChannelSink, DecodeMode, DecodeSink, DecodedEnv, DecodedTable, SharedBuffer, SharedTail, TailSink,
};

type Dest = Arc<tokio::sync::Mutex<Pin<Box<dyn AsyncWrite + Send>>>>;

/// A tee of async writers. Cheap to clone; clones share the destinations.
#[derive(Clone, Default)]
pub struct Output {
    inner: Arc<OutputInner>,
}

#[derive(Default)]
struct OutputInner {
    /// Serialises writes and closes (held across awaits, hence tokio's).
    write_lock: tokio::sync::Mutex<()>,
    dests: parking_lot::Mutex<Vec<Dest>>,
    used: AtomicBool,
}

impl std::fmt::Debug for Output {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Output").field("dests", &self.inner.dests.lock().len()).field("used", &self.used()).finish()
    }
}

impl Output {
    /// No destinations: writes are accepted and discarded.
    pub fn new() -> Self {
        Self::default()
    }

    /// True once anything (even an empty slice) was written.
    pub fn used(&self) -> bool {
        self.inner.used.load(Ordering::Acquire)
    }

    /// Adds a destination.
    pub fn add(&self, dest: impl AsyncWrite + Send + 'static) {
        self.inner.dests.lock().push(Arc::new(tokio::sync::Mutex::new(Box::pin(dest))));
    }

    /// Closes the output, then makes `dest` its only destination. The
    /// original ignores the close error here; so does this.
    pub async fn set(&self, dest: impl AsyncWrite + Send + 'static) {
        let _ = self.close().await;
        let dest: Dest = Arc::new(tokio::sync::Mutex::new(Box::pin(dest)));
        *self.inner.dests.lock() = vec![dest];
    }

    /// Writes `buf` to every destination. An empty write still reaches the
    /// destinations (a channel sink forwards it, which lets an HTTP response
    /// send its headers before any data, as the `events` job relies on).
    pub async fn write(&self, buf: &[u8]) -> io::Result<usize> {
        let _serial = self.inner.write_lock.lock().await;
        self.inner.used.store(true, Ordering::Release);
        let dests = self.inner.dests.lock().clone();
        let mut first_err = None;
        for dest in dests {
            let mut dest = dest.lock().await;
            let result = if buf.is_empty() { dest.write(buf).await.map(drop) } else { dest.write_all(buf).await };
            if let Err(e) = result {
                first_err.get_or_insert(e);
            }
        }
        match first_err {
            Some(e) => Err(e),
            None => Ok(buf.len()),
        }
    }

    /// Writes a string.
    pub async fn write_str(&self, s: &str) -> io::Result<usize> {
        self.write(s.as_bytes()).await
    }

    /// Closes (shuts down) every destination; the first error is returned.
    pub async fn close(&self) -> io::Result<()> {
        let _serial = self.inner.write_lock.lock().await;
        let dests = self.inner.dests.lock().clone();
        let mut first_err = None;
        for dest in dests {
            if let Err(e) = dest.lock().await.shutdown().await {
                first_err.get_or_insert(e);
            }
        }
        first_err.map_or(Ok(()), Err)
    }

    /// Adds an in-memory buffer and returns a handle to read it.
    pub fn add_buffer(&self) -> SharedBuffer {
        let buffer = SharedBuffer::default();
        self.add(BufferSink::new(buffer.clone()));
        buffer
    }

    /// Adds a bounded channel: each write becomes one `Bytes` message and
    /// waits for room, so the receiver's pace limits the job's. Closing the
    /// output closes the channel; a dropped receiver makes writes fail.
    pub fn add_channel(&self, capacity: usize) -> mpsc::Receiver<Bytes> {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        self.add(ChannelSink::new(tx));
        rx
    }

    /// Adds a decoder of a stream of JSON objects into an `Env`; each object
    /// replaces the previous one (the last one wins).
    pub fn add_env(&self) -> DecodedEnv {
        let decoded = DecodedEnv::default();
        self.add(DecodeSink::new(DecodeMode::LastEnv(decoded.clone())));
        decoded
    }

    /// Adds a decoder of a stream of JSON objects, one table row each.
    pub fn add_table(&self) -> DecodedTable {
        let decoded = DecodedTable::default();
        self.add(DecodeSink::new(DecodeMode::Rows(decoded.clone())));
        decoded
    }

    /// Adds a decoder of one JSON array of objects, parsed when closed.
    pub fn add_list_table(&self) -> DecodedTable {
        let decoded = DecodedTable::default();
        self.add(DecodeSink::new(DecodeMode::List(decoded.clone())));
        decoded
    }

    /// Adds a sink that keeps the last `n` lines.
    pub fn add_tail(&self, n: usize) -> SharedTail {
        let tail = SharedTail::new(n);
        self.add(TailSink::new(tail.clone()));
        tail
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::task::{Context, Poll};

    struct FailingWriter;
    impl AsyncWrite for FailingWriter {
        fn poll_write(self: Pin<&mut Self>, _: &mut Context<'_>, _: &[u8]) -> Poll<io::Result<usize>> {
            Poll::Ready(Err(io::Error::other("boom")))
        }
        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
        fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Err(io::Error::other("close failed")))
        }
    }

    #[tokio::test]
    async fn no_destinations_discards() {
        let o = Output::new();
        assert!(!o.used());
        assert_eq!(o.write(b"hello").await.unwrap(), 5);
        assert!(o.used());
        o.close().await.unwrap();
    }

    #[tokio::test]
    async fn empty_write_marks_used() {
        let o = Output::new();
        o.write(b"").await.unwrap();
        assert!(o.used());
    }

    #[tokio::test]
    async fn every_destination_gets_every_write() {
        let o = Output::new();
        let a = o.add_buffer();
        let b = o.add_buffer();
        o.write(b"foo").await.unwrap();
        o.write(b"bar").await.unwrap();
        assert_eq!(a.bytes(), b"foobar");
        assert_eq!(b.bytes(), b"foobar");
    }

    #[tokio::test]
    async fn a_failing_destination_does_not_stop_the_others() {
        let o = Output::new();
        o.add(FailingWriter);
        let b = o.add_buffer();
        let err = o.write(b"x").await.unwrap_err();
        assert_eq!(err.to_string(), "boom");
        assert_eq!(b.bytes(), b"x");
        assert_eq!(o.close().await.unwrap_err().to_string(), "close failed");
    }

    #[tokio::test]
    async fn writes_after_close_fail_but_destinations_stay() {
        let o = Output::new();
        let b = o.add_buffer();
        o.write(b"a").await.unwrap();
        o.close().await.unwrap();
        assert!(o.write(b"b").await.is_err());
        assert_eq!(b.bytes(), b"a");
    }

    #[tokio::test]
    async fn set_closes_then_replaces() {
        let o = Output::new();
        let old = o.add_buffer();
        let mut rx_old = o.add_channel(4);
        let new = SharedBuffer::default();
        o.set(BufferSink::new(new.clone())).await;
        assert!(rx_old.recv().await.is_none(), "old channel closed by set");
        o.write(b"x").await.unwrap();
        assert_eq!(new.bytes(), b"x");
        assert!(old.bytes().is_empty());
    }

    #[tokio::test]
    async fn env_decoder_keeps_the_last_object() {
        let o = Output::new();
        let env = o.add_env();
        o.write(b"{\"a\":1}").await.unwrap();
        o.write(b"{\"a\":2,").await.unwrap();
        o.write(b"\"b\":\"x\"}").await.unwrap();
        o.close().await.unwrap();
        let env = env.get();
        assert_eq!(env.get("a"), "2");
        assert_eq!(env.get("b"), "x");
    }

    #[tokio::test]
    async fn table_decoders() {
        let o = Output::new();
        let rows = o.add_table();
        let list = o.add_list_table();
        o.write(b"[{\"a\":1}\n,").await.unwrap();
        o.write(b"{\"a\":2}\n]").await.unwrap();
        o.close().await.unwrap();
        assert_eq!(list.get().len(), 2);
        assert_eq!(list.get().data[1].get("a"), "2");
        // A list is not a stream of objects: the row decoder stops at it.
        assert_eq!(rows.get().len(), 0);

        let o = Output::new();
        let rows = o.add_table();
        o.write(b"{\"a\":1}{\"a\"").await.unwrap();
        o.write(b":2}").await.unwrap();
        o.close().await.unwrap();
        assert_eq!(rows.get().len(), 2);
    }

    #[tokio::test]
    async fn channel_applies_back_pressure() {
        let o = Output::new();
        let mut rx = o.add_channel(1);
        o.write(b"one").await.unwrap();
        let o2 = o.clone();
        let second = tokio::spawn(async move { o2.write(b"two").await });
        tokio::task::yield_now().await;
        assert!(!second.is_finished(), "the second write waits for room");
        assert_eq!(rx.recv().await.unwrap(), Bytes::from_static(b"one"));
        second.await.unwrap().unwrap();
        assert_eq!(rx.recv().await.unwrap(), Bytes::from_static(b"two"));
        drop(rx);
        assert!(o.write(b"three").await.is_err(), "a gone reader fails the write");
    }

    #[tokio::test]
    async fn tail_keeps_last_lines() {
        let o = Output::new();
        let t = o.add_tail(1);
        o.write(b"first\nsecond\n").await.unwrap();
        assert_eq!(t.get(), "second");
    }
}
