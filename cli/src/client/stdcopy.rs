//! The demultiplexer of a non-TTY attach or logs stream (`StdCopy` of
//! Docker 1.2's `utils/stdcopy.go`): each frame is an 8-byte header (the
//! stream: 0 or 1 for stdout, 2 for stderr; three zero bytes; the payload
//! length, big-endian) and the payload. Frames may be split anywhere
//! across reads, so a partial frame waits for the rest.

use std::io::Write;

/// Why a stream could not be demultiplexed.
#[derive(Debug, thiserror::Error)]
pub enum StdCopyError {
    /// The stream is not framed (or is corrupt): today's CLI wording.
    #[error("Unrecognized input header: {0}")]
    UnknownStream(u8),
    /// Our stdout or stderr failed.
    #[error("writing the output: {0}")]
    Write(#[from] std::io::Error),
}

const HEADER: usize = 8;

/// A demultiplexer keeping the partial frame between reads.
#[derive(Debug, Default)]
pub struct Demux {
    pending: Vec<u8>,
}

impl Demux {
    /// Feeds the bytes of one read; whole frames go to `out` or `err`.
    pub fn push<O: Write, E: Write>(&mut self, data: &[u8], out: &mut O, err: &mut E) -> Result<(), StdCopyError> {
        self.pending.extend_from_slice(data);
        let mut at = 0;
        while self.pending.len() - at >= HEADER {
            let header = &self.pending[at..at + HEADER];
            let kind = header[0];
            if kind > 2 {
                return Err(StdCopyError::UnknownStream(kind));
            }
            let len = u32::from_be_bytes([header[4], header[5], header[6], header[7]]) as usize;
            if self.pending.len() - at - HEADER < len {
                break;
            }
            let payload = &self.pending[at + HEADER..at + HEADER + len];
            if kind == 2 {
                err.write_all(payload)?;
                err.flush()?;
            } else {
                out.write_all(payload)?;
                out.flush()?;
            }
            at += HEADER + len;
        }
        self.pending.drain(..at);
        Ok(())
    }

    /// Whether the stream ended between frames.
    pub fn is_clean(&self) -> bool {
        self.pending.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(kind: u8, payload: &[u8]) -> Vec<u8> {
        let mut f = vec![kind, 0, 0, 0];
        f.extend_from_slice(&(payload.len() as u32).to_be_bytes());
        f.extend_from_slice(payload);
        f
    }

    #[test]
    fn frames_split_anywhere() {
        let mut wire = frame(1, b"hi\n");
        wire.extend(frame(2, b"oops\n"));
        wire.extend(frame(0, b"in"));
        wire.extend(frame(1, b""));
        for chunk in 1..wire.len() {
            let (mut out, mut err, mut d) = (Vec::new(), Vec::new(), Demux::default());
            for piece in wire.chunks(chunk) {
                d.push(piece, &mut out, &mut err).unwrap();
            }
            assert!(d.is_clean());
            assert_eq!((out.as_slice(), err.as_slice()), (&b"hi\nin"[..], &b"oops\n"[..]), "chunk {chunk}");
        }
        let mut d = Demux::default();
        d.push(&wire[..5], &mut Vec::new(), &mut Vec::new()).unwrap();
        assert!(!d.is_clean());
    }

    #[test]
    fn unframed_output_is_refused() {
        let e = Demux::default().push(b"on a tty\n", &mut Vec::new(), &mut Vec::new()).unwrap_err();
        assert_eq!(e.to_string(), "Unrecognized input header: 111");
    }
}
