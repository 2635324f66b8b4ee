//! Atomic file writes: write a temporary file beside the target, fsync it,
//! rename it over the target, fsync the directory. After a crash the target
//! is either the old content or the new, never a mix.

use std::fs::File;
use std::io::Write;
use std::path::Path;

use crate::DaemonError;

/// Replaces `path` with `content` atomically.
pub fn write_file(path: &Path, content: &[u8]) -> Result<(), DaemonError> {
    let io = |p: &Path| {
        let p = p.to_path_buf();
        move |e| DaemonError::Io { path: p, source: e }
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let mut file = File::create(&tmp).map_err(io(&tmp))?;
    file.write_all(content).map_err(io(&tmp))?;
    file.sync_all().map_err(io(&tmp))?;
    std::fs::rename(&tmp, path).map_err(io(path))?;
    File::open(dir).and_then(|d| d.sync_all()).map_err(io(dir))?;
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
        write_file(&path, b"two").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
