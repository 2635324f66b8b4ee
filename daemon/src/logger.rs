//! The json-file log of a container (`<root>/containers/<id>/<id>-json.log`,
//! Docker 1.2's `utils.JSONLog` and the `jsonfilelog` driver): one JSON
//! object per line, `{"log":"text\n","stream":"stdout","time":"RFC3339Nano"}`.
//!
//! The writer splits a process's output on newlines, one entry per line
//! with its newline kept, so `logs --tail` counts lines; a partial line is
//! held until its newline arrives or the stream closes. The reader replays
//! the whole log or its last `tail` entries while holding only those in
//! memory. `follow` is the `logs` job's business (it tails the file as the
//! writer appends).

use std::collections::VecDeque;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use crate::container::rfc3339_nano;

/// Which output stream a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stream {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
}

/// One line of the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// The text, with its newline if it had one.
    pub log: String,
    /// Its stream.
    pub stream: Stream,
    /// When it was written (RFC 3339 with nanoseconds).
    pub time: String,
}

/// A log failure, with the file concerned.
#[derive(Debug, thiserror::Error)]
#[error("{}: {source}", path.display())]
pub struct LogError {
    /// The log file.
    pub path: PathBuf,
    /// The OS error.
    pub source: std::io::Error,
}

/// Appends a container's output to its log.
pub struct Writer {
    path: PathBuf,
    file: File,
    partial: [Vec<u8>; 2],
}

impl Writer {
    /// Opens (creating, mode 0640) the log for appending.
    pub fn open(path: &Path) -> Result<Writer, LogError> {
        use std::os::unix::fs::OpenOptionsExt;
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o640)
            .open(path)
            .map_err(|source| LogError { path: path.to_path_buf(), source })?;
        Ok(Writer { path: path.to_path_buf(), file, partial: [Vec::new(), Vec::new()] })
    }

    /// Records output of `stream`: every complete line becomes an entry;
    /// the rest waits for more.
    pub fn write(&mut self, stream: Stream, data: &[u8]) -> Result<(), LogError> {
        let slot = stream as usize;
        let mut buf = std::mem::take(&mut self.partial[slot]);
        buf.extend_from_slice(data);
        let mut start = 0;
        let mut out = Vec::new();
        let time = rfc3339_nano(SystemTime::now());
        while let Some(pos) = buf[start..].iter().position(|&b| b == b'\n') {
            let end = start + pos + 1;
            push_entry(&mut out, &buf[start..end], stream, &time);
            start = end;
        }
        buf.drain(..start);
        self.partial[slot] = buf;
        self.append(&out)
    }

    /// Writes out held partial lines (the process's streams closed).
    pub fn flush(&mut self) -> Result<(), LogError> {
        let time = rfc3339_nano(SystemTime::now());
        let mut out = Vec::new();
        for (slot, stream) in [(0, Stream::Stdout), (1, Stream::Stderr)] {
            let rest = std::mem::take(&mut self.partial[slot]);
            if !rest.is_empty() {
                push_entry(&mut out, &rest, stream, &time);
            }
        }
        self.append(&out)
    }

    fn append(&mut self, bytes: &[u8]) -> Result<(), LogError> {
        if bytes.is_empty() {
            return Ok(());
        }
        self.file.write_all(bytes).map_err(|source| LogError { path: self.path.clone(), source })
    }
}

fn push_entry(out: &mut Vec<u8>, line: &[u8], stream: Stream, time: &str) {
    let entry = Entry { log: String::from_utf8_lossy(line).into_owned(), stream, time: time.to_string() };
    // Serialising plain strings cannot fail.
    if let Ok(json) = serde_json::to_vec(&entry) {
        out.extend_from_slice(&json);
        out.push(b'\n');
    }
}

/// The `tail` parameter of `logs`: `all`, empty or unparsable = everything
/// (Docker 1.2's rule), a number = that many last entries.
pub fn parse_tail(raw: &str) -> Option<usize> {
    raw.trim().parse::<usize>().ok()
}

/// Reads the entries written after byte `offset` up to the last complete
/// line (all, or the last `tail`), and the offset to read on from (a
/// follower's next call). Streamed, so a big log costs only the kept
/// entries. A missing log is empty; a damaged line (a crash mid-write) is
/// skipped; a line still being written waits for the next call.
pub fn read_from(path: &Path, offset: u64, tail: Option<usize>) -> Result<(Vec<Entry>, u64), LogError> {
    use std::io::{Seek, SeekFrom};
    let err = |source| LogError { path: path.to_path_buf(), source };
    let mut file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((Vec::new(), offset)),
        Err(source) => return Err(err(source)),
    };
    file.seek(SeekFrom::Start(offset)).map_err(err)?;
    let mut reader = BufReader::new(file);
    let (mut kept, mut at, mut line) = (VecDeque::new(), offset, Vec::new());
    loop {
        line.clear();
        let n = reader.read_until(b'\n', &mut line).map_err(err)?;
        if n == 0 || line.last() != Some(&b'\n') {
            break;
        }
        at += n as u64;
        if tail == Some(0) {
            continue;
        }
        if let Ok(entry) = serde_json::from_slice::<Entry>(&line[..n - 1]) {
            kept.push_back(entry);
            if tail.is_some_and(|t| kept.len() > t) {
                kept.pop_front();
            }
        }
    }
    Ok((kept.into(), at))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_split_and_partials_held() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("c-json.log");
        let mut w = Writer::open(&path).unwrap();
        w.write(Stream::Stdout, b"hello\nwor").unwrap();
        w.write(Stream::Stderr, b"oops\n").unwrap();
        w.write(Stream::Stdout, b"ld\n\"quoted\"\nend").unwrap();
        let before = read_from(&path, 0, None).unwrap().0;
        assert_eq!(before.len(), 4, "the partial `end` is held");
        w.flush().unwrap();
        let all = read_from(&path, 0, None).unwrap().0;
        let texts: Vec<(&str, Stream)> = all.iter().map(|e| (e.log.as_str(), e.stream)).collect();
        assert_eq!(
            texts,
            [
                ("hello\n", Stream::Stdout),
                ("oops\n", Stream::Stderr),
                ("world\n", Stream::Stdout),
                ("\"quoted\"\n", Stream::Stdout),
                ("end", Stream::Stdout)
            ]
        );
        let raw = std::fs::read_to_string(&path).unwrap();
        let first = raw.lines().next().unwrap();
        assert!(first.starts_with(r#"{"log":"hello\n","stream":"stdout","time":""#), "{first}");
        assert!(all[0].time.ends_with('Z'));
    }

    #[test]
    fn a_follower_reads_each_complete_entry_once() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("c-json.log");
        assert_eq!(read_from(&path, 0, None).unwrap(), (Vec::new(), 0), "no log yet");
        let mut w = Writer::open(&path).unwrap();
        w.write(Stream::Stdout, b"one\ntw").unwrap();
        let (first, at) = read_from(&path, 0, None).unwrap();
        assert_eq!(first.iter().map(|e| e.log.as_str()).collect::<Vec<_>>(), ["one\n"]);
        w.write(Stream::Stderr, b"err\n").unwrap();
        w.write(Stream::Stdout, b"o\n").unwrap();
        // Half an entry on disk (a write in progress) waits for its end.
        std::fs::OpenOptions::new().append(true).open(&path).unwrap().write_all(b"{\"log\":\"ha").unwrap();
        let (next, at2) = read_from(&path, at, None).unwrap();
        assert_eq!(next.iter().map(|e| e.log.as_str()).collect::<Vec<_>>(), ["err\n", "two\n"]);
        assert_eq!(read_from(&path, at2, None).unwrap(), (Vec::new(), at2));
    }

    #[test]
    fn tail_keeps_the_last_entries() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("c-json.log");
        let mut w = Writer::open(&path).unwrap();
        for i in 0..10 {
            w.write(Stream::Stdout, format!("{i}\n").as_bytes()).unwrap();
        }
        // A line torn by a crash is skipped, not fatal.
        std::fs::OpenOptions::new().append(true).open(&path).unwrap().write_all(b"{\"log\":\"tor").unwrap();
        let last: Vec<String> = read_from(&path, 0, Some(3)).unwrap().0.into_iter().map(|e| e.log).collect();
        assert_eq!(last, ["7\n", "8\n", "9\n"]);
        assert_eq!(read_from(&path, 0, None).unwrap().0.len(), 10);
        assert!(read_from(&path, 0, Some(0)).unwrap().0.is_empty());
        assert!(read_from(&tmp.path().join("none"), 0, None).unwrap().0.is_empty());
        assert_eq!((parse_tail("all"), parse_tail(""), parse_tail("5")), (None, None, Some(5)));
    }
}
