//! Atomic file writes: write a temporary file beside the target and rename
//! it over the target. After a crash of the daemon the target is either the
//! old content or the new, never a mix.
//!
//! Two strengths. [`write_file`] also fsyncs the file and its directory, so
//! the new content survives a crash of the machine too. [`replace_file`]
//! does not: container state is saved at every start, exit and pause, and
//! the four fsyncs of a durable save cost more than the rest of a `docker
//! run` on a small disk. That state is reconciled at the next start anyway
//! (a container recorded as running is marked exited), and the page cache
//! outlives a killed daemon; what a power cut can lose is the last state
//! change, never the whole file (the rename is atomic, and ext4 and xfs
//! flush a replaced file's data before the rename commits).

use std::fs::File;
use std::io::Write;
use std::path::Path;

use crate::DaemonError;

/// Replaces `path` with `content` atomically and durably.
pub fn write_file(path: &Path, content: &[u8]) -> Result<(), DaemonError> {
    write(path, content, true)
}

/// Replaces `path` with `content` atomically, without waiting for the disk.
pub fn replace_file(path: &Path, content: &[u8]) -> Result<(), DaemonError> {
    write(path, content, false)
}

fn write(path: &Path, content: &[u8], durable: bool) -> Result<(), DaemonError> {
    let io = |p: &Path| {
        let p = p.to_path_buf();
        move |e| DaemonError::Io { path: p, source: e }
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let mut file = File::create(&tmp).map_err(io(&tmp))?;
    file.write_all(content).map_err(io(&tmp))?;
    if durable {
        file.sync_all().map_err(io(&tmp))?;
    }
    drop(file);
    std::fs::rename(&tmp, path).map_err(io(path))?;
    if durable {
        File::open(dir).and_then(|d| d.sync_all()).map_err(io(dir))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_content_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        write_file(&path, b"one").unwrap();
        replace_file(&path, b"two").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
