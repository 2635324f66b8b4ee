//! Paths inside a container's root filesystem, for `cp` and `export`:
//! symlinks resolved in the scope of the root (dockerd's
//! `FollowSymlinkInScope` and `container.ResolvePath`), a path's stat as
//! the archive endpoints report it, and the tar of one resource with its
//! top entry renamed (`TarResourceRebase`).
//!
//! Resolution is by path: a running container can swap a checked directory
//! for a symlink before the caller uses the result, so the daemon freezes
//! a running container around a copy; writes also go through
//! [`extract_into`](super::extract_into), which checks every component
//! again with `lstat` and never follows one.

use std::collections::VecDeque;
use std::ffi::{OsStr, OsString};
use std::fs;
use std::io::{self, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::diff::TarWriter;
use crate::error::{GraphError, Result};
use crate::timestamp::Timestamp;

/// Symlinks followed in one resolution before giving up (Linux's own limit
/// is 40; dockerd allows 255).
const MAX_SYMLINKS: usize = 255;

/// `path` (absolute inside the container, or relative to its root) as a
/// host path under `root`, every symlink followed as the container would
/// see it: an absolute target starts again at `root`, `..` stops at `root`.
/// Components that do not exist are kept as they are.
pub fn resolve_in_root(root: &Path, path: &str) -> Result<PathBuf> {
    let mut resolved: Vec<OsString> = Vec::new();
    let mut todo: VecDeque<OsString> = components(path.as_bytes());
    let mut links = 0;
    while let Some(comp) = todo.pop_front() {
        if comp == ".." {
            resolved.pop();
            continue;
        }
        resolved.push(comp);
        let host = join(root, &resolved);
        let meta = match fs::symlink_metadata(&host) {
            Ok(m) => m,
            Err(e) if e.kind() == io::ErrorKind::NotFound || e.raw_os_error() == Some(nix::libc::ENOTDIR) => continue,
            Err(e) => return Err(GraphError::io(host, e)),
        };
        if !meta.file_type().is_symlink() {
            continue;
        }
        links += 1;
        if links > MAX_SYMLINKS {
            return Err(GraphError::io(host, io::Error::other("too many levels of symbolic links")));
        }
        let target = fs::read_link(&host).map_err(|e| GraphError::io(&host, e))?;
        resolved.pop();
        if target.is_absolute() {
            resolved.clear();
        }
        for c in components(target.as_os_str().as_bytes()).into_iter().rev() {
            todo.push_front(c);
        }
    }
    Ok(join(root, &resolved))
}

fn components(raw: &[u8]) -> VecDeque<OsString> {
    raw.split(|b| *b == b'/')
        .filter(|c| !c.is_empty() && *c != b".")
        .map(|c| OsStr::from_bytes(c).to_os_string())
        .collect()
}

fn join(root: &Path, parts: &[OsString]) -> PathBuf {
    let mut p = root.to_path_buf();
    p.extend(parts);
    p
}

/// A path asked for in a container, located on the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedPath {
    /// Where it is on the host. Its last component is not followed when it
    /// is a symlink, unless the path ended in `/` or `/.`.
    pub host: PathBuf,
    /// The cleaned absolute path in the container (`/etc/hostname`).
    pub abs: String,
    /// The name its tar's top entry gets (the base name of `abs`).
    pub name: String,
}

/// Resolves `path` for reading or stat as `container.ResolvePath` does: the
/// parent is resolved in scope; the last component is followed only when
/// the path ends in `/` or `/.`.
pub fn resolve_path(root: &Path, path: &str) -> Result<ResolvedPath> {
    let parts = components(path.as_bytes());
    let mut clean: Vec<OsString> = Vec::new();
    for p in parts {
        if p == ".." {
            clean.pop();
        } else {
            clean.push(p);
        }
    }
    let abs = format!("/{}", join(Path::new(""), &clean).display());
    let follow_last = path.ends_with('/') || path.ends_with("/.") || path == ".";
    let name = clean.last().map_or_else(|| "/".to_string(), |n| n.to_string_lossy().into_owned());
    let host = match clean.split_last() {
        Some((last, parent)) if !follow_last => {
            resolve_in_root(root, &join(Path::new("/"), parent).to_string_lossy())?.join(last)
        }
        _ => resolve_in_root(root, &abs)?,
    };
    Ok(ResolvedPath { host, abs, name })
}

/// A path's stat as `HEAD /containers/{name}/archive` reports it
/// (`X-Docker-Container-Path-Stat`, dockerd's `ContainerPathStat`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PathStat {
    /// The base name.
    pub name: String,
    /// `lstat` size in bytes.
    pub size: i64,
    /// Go's `os.FileMode` bits.
    pub mode: u32,
    /// RFC 3339 modification time.
    pub mtime: String,
    /// For a symlink, where it leads inside the container (absolute).
    #[serde(rename = "linkTarget")]
    pub link_target: String,
}

/// `lstat` of a resolved path. `Ok(None)` when nothing is there.
pub fn stat_path(root: &Path, p: &ResolvedPath) -> Result<Option<PathStat>> {
    let m = match fs::symlink_metadata(&p.host) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound || e.raw_os_error() == Some(nix::libc::ENOTDIR) => {
            return Ok(None);
        }
        Err(e) => return Err(GraphError::io(&p.host, e)),
    };
    let mut link_target = String::new();
    if m.file_type().is_symlink() {
        let target = resolve_in_root(root, &p.abs)?;
        let rel = target.strip_prefix(root).unwrap_or(Path::new(""));
        link_target = format!("/{}", rel.display());
    }
    let mtime = Timestamp { secs: m.mtime(), nanos: u32::try_from(m.mtime_nsec()).unwrap_or(0), offset: 0 };
    Ok(Some(PathStat {
        name: p.name.clone(),
        size: i64::try_from(m.len()).unwrap_or(i64::MAX),
        mode: go_file_mode(&m),
        mtime: mtime.to_go_string(),
        link_target,
    }))
}

/// Go's `os.FileMode` of an `lstat` result: permission bits plus Go's own
/// type and special bits.
pub fn go_file_mode(m: &fs::Metadata) -> u32 {
    const DIR: u32 = 1 << 31;
    const SYMLINK: u32 = 1 << 27;
    const DEVICE: u32 = 1 << 26;
    const NAMED_PIPE: u32 = 1 << 25;
    const SOCKET: u32 = 1 << 24;
    const SETUID: u32 = 1 << 23;
    const SETGID: u32 = 1 << 22;
    const CHAR_DEVICE: u32 = 1 << 21;
    const STICKY: u32 = 1 << 20;
    let raw = m.mode();
    let ft = m.file_type();
    let mut mode = raw & 0o777;
    if ft.is_dir() {
        mode |= DIR;
    } else if ft.is_symlink() {
        mode |= SYMLINK;
    } else if ft.is_block_device() {
        mode |= DEVICE;
    } else if ft.is_char_device() {
        mode |= DEVICE | CHAR_DEVICE;
    } else if ft.is_fifo() {
        mode |= NAMED_PIPE;
    } else if ft.is_socket() {
        mode |= SOCKET;
    }
    if raw & 0o4000 != 0 {
        mode |= SETUID;
    }
    if raw & 0o2000 != 0 {
        mode |= SETGID;
    }
    if raw & 0o1000 != 0 {
        mode |= STICKY;
    }
    mode
}

/// Writes the tar of `host` (a file, symlink or whole directory, not
/// followed) to `out`, its top entry named `name` and everything below it
/// under `name/`.
pub fn tar_resource(host: &Path, name: &str, out: &mut dyn Write) -> Result<()> {
    let mut w = TarWriter::new(host, Some(PathBuf::from(name)), out);
    w.walk(Path::new(""))?;
    w.finish()
}

/// Writes the tar of everything under `root` (not `root` itself), entries
/// named relative to it: `docker export`.
pub fn tar_tree(root: &Path, out: &mut dyn Write) -> Result<()> {
    let mut w = TarWriter::new(root, None, out);
    w.walk_children(Path::new(""))?;
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn symlinks_stay_inside_the_root() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path();
        fs::create_dir_all(root.join("etc/real")).unwrap();
        symlink("/etc/real", root.join("abs")).unwrap();
        symlink("../../../../etc", root.join("etc/up")).unwrap();
        symlink("loop", root.join("loop")).unwrap();
        assert_eq!(resolve_in_root(root, "/abs/x").unwrap(), root.join("etc/real/x"));
        assert_eq!(resolve_in_root(root, "etc/up/real").unwrap(), root.join("etc/real"));
        assert_eq!(resolve_in_root(root, "/../../etc").unwrap(), root.join("etc"));
        assert_eq!(resolve_in_root(root, "/nope/../etc").unwrap(), root.join("etc"));
        assert!(resolve_in_root(root, "/loop").is_err());
    }

    #[test]
    fn the_last_component_is_followed_only_with_a_trailing_slash() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path();
        fs::create_dir_all(root.join("data")).unwrap();
        symlink("/data", root.join("link")).unwrap();
        let p = resolve_path(root, "/link").unwrap();
        assert_eq!((p.host, p.abs.as_str(), p.name.as_str()), (root.join("link"), "/link", "link"));
        assert_eq!(resolve_path(root, "/link/").unwrap().host, root.join("data"));
        let stat = stat_path(root, &resolve_path(root, "link").unwrap()).unwrap().unwrap();
        assert_eq!((stat.link_target.as_str(), stat.mode & (1 << 27) != 0), ("/data", true));
        let dir = stat_path(root, &resolve_path(root, "/data").unwrap()).unwrap().unwrap();
        assert_eq!(dir.mode & (1 << 31), 1 << 31);
        assert!(stat_path(root, &resolve_path(root, "/nope").unwrap()).unwrap().is_none());
    }

    #[test]
    fn a_resource_tar_is_rebased_on_its_name() {
        let t = tempfile::tempdir().unwrap();
        fs::create_dir_all(t.path().join("d/sub")).unwrap();
        fs::write(t.path().join("d/sub/f"), b"hello").unwrap();
        let mut out = Vec::new();
        tar_resource(&t.path().join("d"), "renamed", &mut out).unwrap();
        let mut names = Vec::new();
        for e in tar::Archive::new(&out[..]).entries().unwrap() {
            names.push(e.unwrap().path().unwrap().display().to_string());
        }
        assert_eq!(names, ["renamed", "renamed/sub", "renamed/sub/f"]);
        let mut out = Vec::new();
        tar_resource(&t.path().join("d/sub/f"), "f", &mut out).unwrap();
        let mut entries = tar::Archive::new(&out[..]);
        let mut e = entries.entries().unwrap().next().unwrap().unwrap();
        assert_eq!(e.path().unwrap().display().to_string(), "f");
        let mut data = String::new();
        io::Read::read_to_string(&mut e, &mut data).unwrap();
        assert_eq!(data, "hello");
    }

    fn tar_of(entries: &[(&str, tar::EntryType, &str, &[u8])]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (name, kind, link, data) in entries {
            let mut h = tar::Header::new_gnu();
            h.set_entry_type(*kind);
            h.set_mode(0o644);
            h.set_size(data.len() as u64);
            // Raw names: the builder itself refuses `..`.
            h.as_gnu_mut().unwrap().name[..name.len()].copy_from_slice(name.as_bytes());
            if !link.is_empty() {
                h.set_link_name(link).unwrap();
            }
            h.set_cksum();
            b.append(&h, *data).unwrap();
        }
        b.into_inner().unwrap()
    }

    #[test]
    fn a_copied_tar_never_writes_outside_its_directory() {
        use super::super::{ExtractOptions, extract_into};
        use tar::EntryType::{Regular, Symlink};
        let t = tempfile::tempdir().unwrap();
        let (root, outside) = (t.path().join("root"), t.path().join("outside"));
        fs::create_dir_all(root.join("tmp")).unwrap();
        fs::create_dir_all(&outside).unwrap();
        symlink(&outside, root.join("tmp/planted")).unwrap();
        let dest = resolve_in_root(&root, "/tmp").unwrap();
        let evil = [
            tar_of(&[("../../outside/a", Regular, "", b"x")]),
            tar_of(&[("esc", Symlink, outside.to_str().unwrap(), b""), ("esc/b", Regular, "", b"x")]),
            tar_of(&[("planted/c", Regular, "", b"x")]),
        ];
        for tar in evil {
            let err = extract_into(&mut &tar[..], &dest, ExtractOptions::default()).unwrap_err();
            assert!(matches!(err, GraphError::BadLayer(_)), "{err}");
        }
        assert_eq!(fs::read_dir(&outside).unwrap().count(), 0, "nothing written outside");

        let good = tar_of(&[("d/", tar::EntryType::Directory, "", b""), ("d/f", Regular, "", b"hi")]);
        extract_into(&mut &good[..], &dest, ExtractOptions::default()).unwrap();
        assert_eq!(fs::read(root.join("tmp/d/f")).unwrap(), b"hi");
        let clash = tar_of(&[("d", Regular, "", b"x")]);
        let err = extract_into(
            &mut &clash[..],
            &dest,
            ExtractOptions { no_overwrite_dir_non_dir: true, ..Default::default() },
        )
        .unwrap_err();
        assert!(err.to_string().contains("cannot overwrite directory"), "{err}");
    }
}
