//! `cp -a` in Rust for the vfs driver: a tree copy that keeps hardlinks,
//! xattrs, devices, fifos, owners, modes (setuid included) and times, and
//! never follows a symlink.

use std::collections::HashMap;
use std::fs;
use std::io;
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use nix::sys::stat::{Mode, SFlag};
use nix::sys::time::TimeSpec;

use crate::error::{GraphError, Result};

/// Copies `src` to the new directory `dst`.
pub(crate) fn copy_tree(src: &Path, dst: &Path) -> Result<()> {
    let mut links = HashMap::new();
    let mut dirs = Vec::new();
    copy_entry(src, dst, &mut links, &mut dirs)?;
    // Directory times last and deepest first: filling a directory changes
    // its mtime.
    for (path, t) in dirs.iter().rev() {
        crate::archive::set_times(path, *t)?;
    }
    Ok(())
}

fn copy_entry(
    src: &Path,
    dst: &Path,
    links: &mut HashMap<(u64, u64), PathBuf>,
    dirs: &mut Vec<(PathBuf, TimeSpec)>,
) -> Result<()> {
    let m = fs::symlink_metadata(src).map_err(|e| GraphError::io(src, e))?;
    let ft = m.file_type();
    let io_err = |e: io::Error| GraphError::io(dst, e);
    if !ft.is_dir() && m.nlink() > 1 {
        if let Some(first) = links.get(&(m.dev(), m.ino())) {
            return fs::hard_link(first, dst).map_err(io_err);
        }
        links.insert((m.dev(), m.ino()), dst.to_path_buf());
    }
    if ft.is_dir() {
        fs::DirBuilder::new().mode(0o700).create(dst).map_err(io_err)?;
        let mut names: Vec<_> = fs::read_dir(src)
            .map_err(|e| GraphError::io(src, e))?
            .map(|e| e.map(|e| e.file_name()).map_err(|e| GraphError::io(src, e)))
            .collect::<Result<_>>()?;
        names.sort();
        for name in names {
            copy_entry(&src.join(&name), &dst.join(&name), links, dirs)?;
        }
    } else if ft.is_file() {
        fs::copy(src, dst).map_err(io_err)?;
    } else if ft.is_symlink() {
        let target = fs::read_link(src).map_err(|e| GraphError::io(src, e))?;
        std::os::unix::fs::symlink(target, dst).map_err(io_err)?;
    } else if ft.is_char_device() || ft.is_block_device() || ft.is_fifo() {
        let kind = if ft.is_char_device() {
            SFlag::S_IFCHR
        } else if ft.is_block_device() {
            SFlag::S_IFBLK
        } else {
            SFlag::S_IFIFO
        };
        nix::sys::stat::mknod(dst, kind, Mode::from_bits_truncate(0o600), m.rdev()).map_err(|e| io_err(e.into()))?;
    } else {
        // Sockets belong to the process that made them.
        return Ok(());
    }

    std::os::unix::fs::lchown(dst, Some(m.uid()), Some(m.gid())).map_err(io_err)?;
    if !ft.is_symlink() {
        fs::set_permissions(dst, fs::Permissions::from_mode(m.mode() & 0o7777)).map_err(io_err)?;
    }
    if let Ok(names) = xattr::list(src) {
        for name in names {
            if let Ok(Some(value)) = xattr::get(src, &name) {
                xattr::set(dst, &name, &value).map_err(io_err)?;
            }
        }
    }
    let t = TimeSpec::new(m.mtime(), m.mtime_nsec());
    if ft.is_dir() {
        dirs.push((dst.to_path_buf(), t));
        Ok(())
    } else {
        crate::archive::set_times(dst, t)
    }
}
