//! The last lines of a stream: `Tail` of `engine/streams.go`.
//!
//! A job's error text and its one-line results (an ID, an exit code) are the
//! last line it wrote. `tail` works on a whole buffer; `TailBuffer` keeps only
//! the lines that can still matter, so a job that logs a lot to stderr does
//! not grow memory for its error text.

use std::collections::VecDeque;

/// The last `n` lines of `buf` after removing one trailing newline; `""` for
/// `n == 0`.
pub fn tail(buf: &[u8], n: usize) -> String {
    let mut t = TailBuffer::new(n);
    t.push(buf);
    t.get()
}

/// Keeps the last `n` lines written to it.
#[derive(Debug, Clone)]
pub struct TailBuffer {
    n: usize,
    /// Completed lines (without their `\n`), at most `n` kept.
    lines: VecDeque<Vec<u8>>,
    /// The line being written, not yet ended by `\n`.
    partial: Vec<u8>,
}

impl TailBuffer {
    /// Keeps `n` lines.
    pub fn new(n: usize) -> Self {
        Self { n, lines: VecDeque::new(), partial: Vec::new() }
    }

    /// Appends bytes.
    pub fn push(&mut self, mut buf: &[u8]) {
        if self.n == 0 {
            return;
        }
        while let Some(pos) = buf.iter().position(|&b| b == b'\n') {
            self.partial.extend_from_slice(&buf[..pos]);
            self.lines.push_back(std::mem::take(&mut self.partial));
            if self.lines.len() > self.n {
                self.lines.pop_front();
            }
            buf = &buf[pos + 1..];
        }
        self.partial.extend_from_slice(buf);
    }

    /// The last `n` lines joined by `\n`. A final newline does not start an
    /// empty last line (`"a\nb\n"` → `b`), but an empty line before it counts
    /// (`"a\n\n"` → `""`).
    pub fn get(&self) -> String {
        if self.n == 0 {
            return String::new();
        }
        let mut picked: Vec<&[u8]> = self.lines.iter().map(Vec::as_slice).collect();
        if !self.partial.is_empty() || picked.is_empty() {
            picked.push(&self.partial);
        }
        let start = picked.len().saturating_sub(self.n);
        String::from_utf8_lossy(&picked[start..].join(&b'\n')).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verified_cases_of_the_original() {
        assert_eq!(tail(b"a\nb\nc\n", 1), "c");
        assert_eq!(tail(b"a\nb\nc", 1), "c");
        assert_eq!(tail(b"", 1), "");
        assert_eq!(tail(b"\n", 1), "");
        assert_eq!(tail(b"only\n", 1), "only");
        assert_eq!(tail(b"a\n\n", 1), "");
        assert_eq!(tail(b"a\nb\nc\n", 2), "b\nc");
        assert_eq!(tail(b"a\nb\nc\n", 0), "");
        assert_eq!(tail(b"a\nb\n", 5), "a\nb");
    }

    #[test]
    fn bytes_may_arrive_in_pieces() {
        let mut t = TailBuffer::new(1);
        t.push(b"first li");
        t.push(b"ne\nsecond ");
        t.push(b"line\n");
        assert_eq!(t.get(), "second line");
    }
}
