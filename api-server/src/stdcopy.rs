//! The 8-byte multiplexing header of raw streams (`utils/stdcopy.go` of
//! Docker 1.2): when a container has no TTY, its stdout and stderr share one
//! connection (attach, exec start) or one response body (logs), and every
//! write becomes one frame `[stream, 0, 0, 0, len as u32 big-endian]` +
//! payload. With a TTY the bytes go raw.
//!
//! [`StdEncoder`]/[`StdDecoder`] are the framing as a codec; [`FramedWriter`]
//! is what a job's stdout or stderr writes into: each write becomes one
//! message (a whole frame) on a bounded channel that one task drains into
//! the connection, so frames of the two streams never interleave and a slow
//! client slows the job down.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::{Buf, BufMut, Bytes, BytesMut};
use tokio::io::AsyncWrite;
use tokio::sync::mpsc;
use tokio_util::codec::{Decoder, Encoder};
use tokio_util::sync::PollSender;

/// The length of a frame header.
pub const HEADER_LEN: usize = 8;

/// Which stream a frame carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum StdStream {
    /// Never sent by the server; clients treat it as stdout.
    Stdin = 0,
    /// The process's stdout.
    Stdout = 1,
    /// The process's stderr.
    Stderr = 2,
}

impl StdStream {
    /// The stream for a header's first byte.
    pub fn from_byte(byte: u8) -> Option<Self> {
        match byte {
            0 => Some(Self::Stdin),
            1 => Some(Self::Stdout),
            2 => Some(Self::Stderr),
            _ => None,
        }
    }
}

/// Errors of decoding a multiplexed stream.
#[derive(Debug, thiserror::Error)]
pub enum StdCopyError {
    /// The first byte of a header is not a stream (the docker CLI's wording).
    #[error("Unrecognized input header: {0}")]
    UnrecognizedHeader(u8),
    /// Reading the underlying stream failed.
    #[error(transparent)]
    Io(#[from] io::Error),
}

/// The largest payload one frame can carry.
const MAX_PAYLOAD: usize = u32::MAX as usize;

/// `payload` as one frame of `stream`, or raw when `stream` is `None` (TTY).
/// Payloads longer than a frame can say are cut at [`u32::MAX`] bytes; the
/// rest is the caller's next write.
pub fn frame(stream: Option<StdStream>, payload: &[u8]) -> Bytes {
    let Some(stream) = stream else { return Bytes::copy_from_slice(payload) };
    let mut out = BytesMut::new();
    put_frame(&mut out, stream, payload);
    out.freeze()
}

fn put_frame(dst: &mut BytesMut, stream: StdStream, payload: &[u8]) {
    let payload = &payload[..payload.len().min(MAX_PAYLOAD)];
    dst.reserve(HEADER_LEN + payload.len());
    dst.put_u8(stream as u8);
    dst.put_slice(&[0, 0, 0]);
    // Cut above, so the length fits.
    dst.put_u32(u32::try_from(payload.len()).unwrap_or(u32::MAX));
    dst.put_slice(payload);
}

/// Encodes `(stream, payload)` as one frame (payload cut at `u32::MAX`).
#[derive(Debug, Clone, Copy, Default)]
pub struct StdEncoder;

impl Encoder<(StdStream, &[u8])> for StdEncoder {
    type Error = io::Error;

    fn encode(&mut self, (stream, payload): (StdStream, &[u8]), dst: &mut BytesMut) -> Result<(), io::Error> {
        put_frame(dst, stream, payload);
        Ok(())
    }
}

/// Decodes frames as they arrive, whole or split anywhere.
#[derive(Debug, Clone, Copy, Default)]
pub struct StdDecoder;

impl Decoder for StdDecoder {
    type Item = (StdStream, Bytes);
    type Error = StdCopyError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Self::Item>, StdCopyError> {
        if src.len() < HEADER_LEN {
            return Ok(None);
        }
        let stream = StdStream::from_byte(src[0]).ok_or(StdCopyError::UnrecognizedHeader(src[0]))?;
        let len = u32::from_be_bytes([src[4], src[5], src[6], src[7]]) as usize;
        if src.len() < HEADER_LEN + len {
            src.reserve(HEADER_LEN + len - src.len());
            return Ok(None);
        }
        src.advance(HEADER_LEN);
        Ok(Some((stream, src.split_to(len).freeze())))
    }
}

/// A job output destination: each write goes as one message (one frame, or
/// the raw bytes for a TTY) on a channel shared with the other stream.
///
/// An empty write is forwarded as an empty message and no frame: it lets a
/// response send its headers before any data, as [`crate::router`] expects.
/// Shutting it down closes only this writer's sender; the channel ends when
/// both streams' writers are closed, which is how the drainer learns the job
/// has finished writing.
pub struct FramedWriter {
    tx: PollSender<Bytes>,
    stream: Option<StdStream>,
}

impl FramedWriter {
    /// Frames writes as `stream`, or passes them raw when `None` (TTY).
    pub fn new(tx: mpsc::Sender<Bytes>, stream: Option<StdStream>) -> Self {
        Self { tx: PollSender::new(tx), stream }
    }
}

fn closed() -> io::Error {
    io::Error::new(io::ErrorKind::BrokenPipe, "the client went away")
}

impl AsyncWrite for FramedWriter {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        ready!(self.tx.poll_reserve(cx)).map_err(|_| closed())?;
        let taken = buf.len().min(MAX_PAYLOAD);
        let message = if buf.is_empty() { Bytes::new() } else { frame(self.stream, &buf[..taken]) };
        self.tx.send_item(message).map_err(|_| closed())?;
        Poll::Ready(Ok(taken))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.tx.close();
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    #[test]
    fn frames_have_the_stream_and_a_big_endian_length() {
        assert_eq!(&frame(Some(StdStream::Stdout), b"hi\n")[..], b"\x01\x00\x00\x00\x00\x00\x00\x03hi\n");
        assert_eq!(&frame(Some(StdStream::Stderr), b"")[..], b"\x02\x00\x00\x00\x00\x00\x00\x00");
        let big = vec![b'x'; 0x0001_0203];
        assert_eq!(&frame(Some(StdStream::Stderr), &big)[..8], b"\x02\x00\x00\x00\x00\x01\x02\x03");
        assert_eq!(&frame(None, b"raw")[..], b"raw");
    }

    #[test]
    fn decoder_takes_split_and_partial_frames() {
        let mut wire = BytesMut::new();
        wire.extend_from_slice(&frame(Some(StdStream::Stdout), b"hello"));
        wire.extend_from_slice(&frame(Some(StdStream::Stderr), b"err\n"));
        let whole = wire.freeze();
        // Fed one byte at a time, the same two frames come out.
        let mut decoder = StdDecoder;
        let mut buf = BytesMut::new();
        let mut out = Vec::new();
        for byte in whole.iter() {
            buf.put_u8(*byte);
            while let Some(item) = decoder.decode(&mut buf).unwrap() {
                out.push(item);
            }
        }
        assert_eq!(
            out,
            [(StdStream::Stdout, Bytes::from_static(b"hello")), (StdStream::Stderr, Bytes::from_static(b"err\n"))]
        );
        assert!(buf.is_empty());
    }

    #[test]
    fn decoder_refuses_unknown_streams() {
        let mut buf = BytesMut::from(&b"hello world\n"[..]);
        let err = StdDecoder.decode(&mut buf).unwrap_err();
        assert_eq!(err.to_string(), "Unrecognized input header: 104");
    }

    #[tokio::test]
    async fn each_write_is_one_message_and_the_channel_ends_with_both_writers() {
        let (tx, mut rx) = mpsc::channel(4);
        let mut out = FramedWriter::new(tx.clone(), Some(StdStream::Stdout));
        let mut err = FramedWriter::new(tx, Some(StdStream::Stderr));
        out.write_all(b"a").await.unwrap();
        assert_eq!(out.write(b"").await.unwrap(), 0);
        err.write_all(b"b").await.unwrap();
        out.shutdown().await.unwrap();
        assert!(out.write(b"late").await.is_err(), "closed");
        err.shutdown().await.unwrap();
        assert_eq!(rx.recv().await.unwrap(), frame(Some(StdStream::Stdout), b"a"));
        assert_eq!(rx.recv().await.unwrap(), Bytes::new());
        assert_eq!(rx.recv().await.unwrap(), frame(Some(StdStream::Stderr), b"b"));
        assert!(rx.recv().await.is_none());
    }

    #[tokio::test]
    async fn a_gone_reader_fails_the_write() {
        let (tx, rx) = mpsc::channel(1);
        let mut out = FramedWriter::new(tx, None);
        drop(rx);
        assert_eq!(out.write(b"x").await.unwrap_err().kind(), io::ErrorKind::BrokenPipe);
    }
}
