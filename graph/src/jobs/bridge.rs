//! Bridges between async job streams and the blocking tar code, which runs
//! on `spawn_blocking` threads: a `Read` fed from an async source and a
//! `Write` drained into an async sink, both through bounded channels so a
//! slow side holds the other back instead of buffering everything.

use std::io::{self, Read, Write};

use bytes::Bytes;
use engine::Job;
use futures_util::{Stream, StreamExt};
use tokio::sync::mpsc;

/// Chunks in flight between the two sides (each at most 64 KiB or one
/// network read).
const DEPTH: usize = 16;

/// A blocking `Read` over chunks sent from async code. An `Err` chunk ends
/// the stream with that error.
#[derive(Debug)]
pub struct ChannelReader {
    rx: mpsc::Receiver<io::Result<Bytes>>,
    current: Bytes,
    failed: bool,
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.current.is_empty() {
            if self.failed {
                return Ok(0);
            }
            match self.rx.blocking_recv() {
                Some(Ok(chunk)) => self.current = chunk,
                Some(Err(e)) => {
                    self.failed = true;
                    return Err(e);
                }
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current.split_to(n));
        Ok(n)
    }
}

/// A reader fed by `stream`, which is polled on the runtime by a task this
/// spawns. `on_chunk` sees every chunk's length (for progress).
pub fn reader_from_stream<S, E>(stream: S, mut on_chunk: impl FnMut(usize) + Send + 'static) -> ChannelReader
where
    S: Stream<Item = Result<Bytes, E>> + Send + 'static,
    E: std::fmt::Display + Send + 'static,
{
    let (tx, rx) = mpsc::channel(DEPTH);
    tokio::spawn(async move {
        let mut stream = std::pin::pin!(stream);
        while let Some(item) = stream.next().await {
            let item = item.map_err(|e| io::Error::other(e.to_string()));
            if let Ok(chunk) = &item {
                on_chunk(chunk.len());
            }
            let failed = item.is_err();
            if tx.send(item).await.is_err() || failed {
                return;
            }
        }
    });
    ChannelReader { rx, current: Bytes::new(), failed: false }
}

/// A reader over the job's stdin (the request body of `load` and `import`).
pub fn reader_from_stdin(job: &Job) -> ChannelReader {
    let (tx, rx) = mpsc::channel(DEPTH);
    let job = job.clone();
    tokio::spawn(async move {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let item = match job.stdin().read(&mut buf).await {
                Ok(0) => return,
                Ok(n) => Ok(Bytes::copy_from_slice(&buf[..n])),
                Err(e) => Err(e),
            };
            let failed = item.is_err();
            if tx.send(item).await.is_err() || failed {
                return;
            }
        }
    });
    ChannelReader { rx, current: Bytes::new(), failed: false }
}

/// A blocking `Write` whose bytes an async task forwards (see
/// [`writer_to_stdout`]). Writes fail once the receiving side is gone (the
/// client went away), which stops the blocking producer.
#[derive(Debug)]
pub struct ChannelWriter {
    tx: mpsc::Sender<Bytes>,
}

impl Write for ChannelWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.tx
            .blocking_send(Bytes::copy_from_slice(buf))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the client went away"))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A writer whose bytes go to the job's stdout, and the task forwarding
/// them; await the task after the writer is dropped to know all bytes were
/// written.
pub fn writer_to_stdout(job: &Job) -> (ChannelWriter, tokio::task::JoinHandle<io::Result<()>>) {
    let (tx, mut rx) = mpsc::channel::<Bytes>(DEPTH);
    let job = job.clone();
    let task = tokio::spawn(async move {
        while let Some(chunk) = rx.recv().await {
            job.stdout().write(&chunk).await?;
        }
        Ok(())
    });
    (ChannelWriter { tx }, task)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread")]
    async fn a_stream_reads_back_whole_and_errors_end_it() {
        let chunks: Vec<Result<Bytes, String>> =
            vec![Ok(Bytes::from_static(b"hello ")), Ok(Bytes::from_static(b"world"))];
        let mut reader = reader_from_stream(futures_util::stream::iter(chunks), |_| {});
        let text = tokio::task::spawn_blocking(move || {
            let mut s = String::new();
            reader.read_to_string(&mut s).map(|_| s)
        })
        .await
        .unwrap()
        .unwrap();
        assert_eq!(text, "hello world");

        let chunks: Vec<Result<Bytes, String>> = vec![Ok(Bytes::from_static(b"x")), Err("reset".to_string())];
        let mut reader = reader_from_stream(futures_util::stream::iter(chunks), |_| {});
        let err = tokio::task::spawn_blocking(move || reader.read_to_end(&mut Vec::new())).await.unwrap().unwrap_err();
        assert_eq!(err.to_string(), "reset");
    }
}
