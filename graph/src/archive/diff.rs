//! What a layer changed against its parent (`docker diff`, Docker 1.2's
//! `archive/changes.go`) and the layer tar that carries those changes
//! (`ExportChanges`, used by commit and export).
//!
//! overlay: the layer directory holds only the changes; a 0/0 character
//! device is a deletion and `trusted.overlay.opaque=y` hides the parent's
//! directory contents. vfs: the layer is a full tree, compared with the
//! parent's by type, mode, owner, size, mtime and device, as Docker does.

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::io::{self, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use super::apply::{OVERLAY_OPAQUE_XATTR, WHITEOUT_OPAQUE, WHITEOUT_PREFIX};
use crate::driver::WhiteoutFormat;
use crate::error::{GraphError, Result};

/// Kind of change, numbered as the Remote API's `/containers/<id>/changes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ChangeKind {
    /// `C`
    Modified = 0,
    /// `A`
    Added = 1,
    /// `D`
    Deleted = 2,
}

/// One changed path.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Change {
    /// Absolute inside the container: `/etc/passwd`.
    pub path: String,
    /// What happened to it.
    pub kind: ChangeKind,
}

fn lstat(path: &Path) -> Result<Option<fs::Metadata>> {
    match fs::symlink_metadata(path) {
        Ok(m) => Ok(Some(m)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(GraphError::io(path, e)),
    }
}

fn sorted_children(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut names: Vec<PathBuf> = fs::read_dir(dir)
        .map_err(|e| GraphError::io(dir, e))?
        .map(|e| e.map(|e| PathBuf::from(e.file_name())).map_err(|e| GraphError::io(dir, e)))
        .collect::<Result<_>>()?;
    names.sort();
    Ok(names)
}

pub(crate) fn is_whiteout_dev(m: &fs::Metadata) -> bool {
    m.file_type().is_char_device() && m.rdev() == 0
}

pub(crate) fn is_opaque(path: &Path) -> bool {
    matches!(xattr::get(path, OVERLAY_OPAQUE_XATTR), Ok(Some(v)) if v == b"y")
}

fn display(rel: &Path) -> String {
    format!("/{}", rel.display())
}

/// The changes of `layer` against `parent` (the parent's merged view;
/// `None` for a base layer), sorted by path.
pub fn changes(layer: &Path, format: WhiteoutFormat, parent: Option<&Path>) -> Result<Vec<Change>> {
    let mut out = Vec::new();
    match format {
        WhiteoutFormat::Overlay => overlay_changes(layer, parent, Path::new(""), &mut out)?,
        WhiteoutFormat::Copy => {
            copy_changes(layer, parent, Path::new(""), &mut out)?;
        }
    }
    out.sort();
    Ok(out)
}

fn overlay_changes(layer: &Path, parent: Option<&Path>, rel: &Path, out: &mut Vec<Change>) -> Result<()> {
    let dir = layer.join(rel);
    for name in sorted_children(&dir)? {
        let child = rel.join(&name);
        let full = layer.join(&child);
        let Some(m) = lstat(&full)? else { continue };
        let lower = match parent {
            Some(p) => lstat(&p.join(&child))?,
            None => None,
        };
        if is_whiteout_dev(&m) {
            if lower.is_some() {
                out.push(Change { path: display(&child), kind: ChangeKind::Deleted });
            }
            continue;
        }
        let kind = if lower.is_some() { ChangeKind::Modified } else { ChangeKind::Added };
        out.push(Change { path: display(&child), kind });
        if m.is_dir() {
            if let (Some(p), Some(l)) = (parent, &lower)
                && l.is_dir()
                && is_opaque(&full)
            {
                for hidden in sorted_children(&p.join(&child))? {
                    if lstat(&full.join(&hidden))?.is_none() {
                        out.push(Change { path: display(&child.join(&hidden)), kind: ChangeKind::Deleted });
                    }
                }
            }
            overlay_changes(layer, parent, &child, out)?;
        }
    }
    Ok(())
}

/// Whether two entries differ the way Docker's `changes.go` counts it
/// (directory sizes and times are noise).
fn differs(old: &fs::Metadata, new: &fs::Metadata, old_path: &Path, new_path: &Path) -> bool {
    if old.mode() != new.mode() || old.uid() != new.uid() || old.gid() != new.gid() || old.rdev() != new.rdev() {
        return true;
    }
    if !new.is_dir() && (old.mtime() != new.mtime() || old.mtime_nsec() != new.mtime_nsec() || old.len() != new.len()) {
        return true;
    }
    if new.file_type().is_symlink() && fs::read_link(old_path).ok() != fs::read_link(new_path).ok() {
        return true;
    }
    xattr::get(old_path, "security.capability").ok().flatten()
        != xattr::get(new_path, "security.capability").ok().flatten()
}

/// Returns whether anything under `rel` changed.
fn copy_changes(layer: &Path, parent: Option<&Path>, rel: &Path, out: &mut Vec<Change>) -> Result<bool> {
    let mut changed = false;
    let new_names = sorted_children(&layer.join(rel))?;
    let old_dir = parent.map(|p| p.join(rel));
    let old_names = match &old_dir {
        Some(d) if lstat(d)?.is_some_and(|m| m.is_dir()) => sorted_children(d)?,
        _ => Vec::new(),
    };
    for name in &old_names {
        if !new_names.contains(name) {
            out.push(Change { path: display(&rel.join(name)), kind: ChangeKind::Deleted });
            changed = true;
        }
    }
    for name in new_names {
        let child = rel.join(&name);
        let new_path = layer.join(&child);
        let Some(new) = lstat(&new_path)? else { continue };
        let old_path = parent.map(|p| p.join(&child));
        let old = match (&old_path, old_names.contains(&name)) {
            (Some(p), true) => lstat(p)?,
            _ => None,
        };
        match (&old, &old_path) {
            (Some(old), Some(old_path)) => {
                let kind_changed = old.file_type() != new.file_type();
                let self_changed = kind_changed || differs(old, &new, old_path, &new_path);
                let parent_for_children = if kind_changed { None } else { parent };
                let inner = new.is_dir() && copy_changes(layer, parent_for_children, &child, out)?;
                if self_changed || inner {
                    out.push(Change { path: display(&child), kind: ChangeKind::Modified });
                    changed = true;
                }
            }
            _ => {
                out.push(Change { path: display(&child), kind: ChangeKind::Added });
                changed = true;
                if new.is_dir() {
                    copy_changes(layer, None, &child, out)?;
                }
            }
        }
    }
    Ok(changed)
}

/// Writes the layer tar of `layer`'s changes against `parent` to `out`:
/// whiteouts as `.wh.<name>`, opaque directories as `.wh..wh..opq`.
pub fn export_diff(layer: &Path, format: WhiteoutFormat, parent: Option<&Path>, out: &mut dyn Write) -> Result<()> {
    let mut w = TarWriter::new(layer, None, out);
    match format {
        WhiteoutFormat::Overlay => export_overlay(&mut w, Path::new(""))?,
        WhiteoutFormat::Copy => {
            for change in changes(layer, format, parent)? {
                let rel = PathBuf::from(change.path.trim_start_matches('/'));
                if change.kind == ChangeKind::Deleted {
                    w.whiteout(&rel)?;
                } else {
                    w.entry(&rel)?;
                }
            }
        }
    }
    w.finish()
}

fn export_overlay(w: &mut TarWriter<'_>, rel: &Path) -> Result<()> {
    let dir = w.root.join(rel);
    for name in sorted_children(&dir)? {
        let child = rel.join(&name);
        let full = w.root.join(&child);
        let Some(m) = lstat(&full)? else { continue };
        if is_whiteout_dev(&m) {
            w.whiteout(&child)?;
            continue;
        }
        w.entry(&child)?;
        if m.is_dir() {
            if is_opaque(&full) {
                w.marker(&child.join(WHITEOUT_OPAQUE), &m)?;
            }
            export_overlay(w, &child)?;
        }
    }
    Ok(())
}

/// Writes entries read from under `root` into a tar.
pub(crate) struct TarWriter<'a> {
    builder: tar::Builder<&'a mut dyn Write>,
    /// First entry name of each multiply-linked inode: later ones are links.
    links: HashMap<(u64, u64), PathBuf>,
    root: PathBuf,
    /// The name `root` itself gets, its contents named below it (a copied
    /// resource); `None`: entries are named relative to `root`.
    prefix: Option<PathBuf>,
}

impl<'a> TarWriter<'a> {
    pub(crate) fn new(root: &Path, prefix: Option<PathBuf>, out: &'a mut dyn Write) -> Self {
        Self { builder: tar::Builder::new(out), links: HashMap::new(), root: root.to_path_buf(), prefix }
    }

    /// The file behind `rel` (`root` itself for the empty path, without the
    /// trailing `/` a join would add: `root` may be a file).
    fn full(&self, rel: &Path) -> PathBuf {
        if rel.as_os_str().is_empty() { self.root.clone() } else { self.root.join(rel) }
    }

    /// The entry name of `rel`.
    fn name(&self, rel: &Path) -> PathBuf {
        match &self.prefix {
            Some(p) if rel.as_os_str().is_empty() => p.clone(),
            Some(p) => p.join(rel),
            None => rel.to_path_buf(),
        }
    }

    /// `rel` and, for a directory (not a symlink to one), all below it.
    pub(crate) fn walk(&mut self, rel: &Path) -> Result<()> {
        let full = self.full(rel);
        let m = fs::symlink_metadata(&full).map_err(|e| GraphError::io(&full, e))?;
        self.entry(rel)?;
        if m.is_dir() { self.walk_children(rel) } else { Ok(()) }
    }

    /// Everything below the directory `rel`, in name order.
    pub(crate) fn walk_children(&mut self, rel: &Path) -> Result<()> {
        for name in sorted_children(&self.full(rel))? {
            let child = rel.join(&name);
            // Something the container removed meanwhile is simply absent.
            if lstat(&self.full(&child))?.is_some() {
                self.walk(&child)?;
            }
        }
        Ok(())
    }

    /// Ends the archive.
    pub(crate) fn finish(mut self) -> Result<()> {
        let root = self.root.clone();
        self.builder.finish().map_err(|e| GraphError::io(root, e))
    }

    fn whiteout(&mut self, rel: &Path) -> Result<()> {
        let name = rel.file_name().map(|n| n.as_bytes().to_vec()).unwrap_or_default();
        let mut wh = WHITEOUT_PREFIX.as_bytes().to_vec();
        wh.extend_from_slice(&name);
        let path = rel.parent().unwrap_or(Path::new("")).join(std::ffi::OsStr::from_bytes(&wh));
        let parent_meta = fs::symlink_metadata(self.root.join(rel.parent().unwrap_or(Path::new("")))).ok();
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Regular);
        h.set_size(0);
        h.set_mode(0o644);
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(0);
        if let Some(m) = parent_meta {
            h.set_mtime(u64::try_from(m.mtime()).unwrap_or(0));
        }
        self.append(&mut h, &path, io::empty())
    }

    fn marker(&mut self, rel: &Path, dir_meta: &fs::Metadata) -> Result<()> {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Regular);
        h.set_size(0);
        h.set_mode(0o644);
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(u64::try_from(dir_meta.mtime()).unwrap_or(0));
        self.append(&mut h, rel, io::empty())
    }

    fn append(&mut self, h: &mut tar::Header, rel: &Path, data: impl io::Read) -> Result<()> {
        let name = self.name(rel);
        self.builder.append_data(h, name, data).map_err(|e| GraphError::io(self.full(rel), e))
    }

    fn entry(&mut self, rel: &Path) -> Result<()> {
        let full = self.full(rel);
        let io_err = |e| GraphError::io(&full, e);
        let m = fs::symlink_metadata(&full).map_err(io_err)?;
        let ft = m.file_type();

        let mut pax: BTreeMap<String, Vec<u8>> = BTreeMap::new();
        if let Ok(names) = xattr::list(&full) {
            for name in names {
                let name = name.to_string_lossy().into_owned();
                // overlayfs' own bookkeeping is not layer content.
                if name.starts_with("trusted.overlay.") {
                    continue;
                }
                if let Ok(Some(v)) = xattr::get(&full, &name) {
                    pax.insert(format!("SCHILY.xattr.{name}"), v);
                }
            }
        }
        if !pax.is_empty() {
            self.builder.append_pax_extensions(pax.iter().map(|(k, v)| (k.as_str(), v.as_slice()))).map_err(io_err)?;
        }

        let mut h = tar::Header::new_gnu();
        h.set_mode(m.mode() & 0o7777);
        h.set_uid(u64::from(m.uid()));
        h.set_gid(u64::from(m.gid()));
        h.set_mtime(u64::try_from(m.mtime()).unwrap_or(0));
        h.set_size(0);

        let name = self.name(rel);
        if !ft.is_dir() && m.nlink() > 1 {
            if let Some(first) = self.links.get(&(m.dev(), m.ino())).cloned() {
                h.set_entry_type(tar::EntryType::Link);
                return self.builder.append_link(&mut h, &name, &first).map_err(io_err);
            }
            self.links.insert((m.dev(), m.ino()), name.clone());
        }
        if ft.is_dir() {
            h.set_entry_type(tar::EntryType::Directory);
            self.append(&mut h, rel, io::empty())
        } else if ft.is_file() {
            h.set_entry_type(tar::EntryType::Regular);
            h.set_size(m.len());
            let file = fs::File::open(&full).map_err(io_err)?;
            // A running container may grow or shrink the file meanwhile:
            // exactly the header's size goes out, or the tar is corrupt.
            let exact = file.take(m.len()).chain(io::repeat(0)).take(m.len());
            self.append(&mut h, rel, exact)
        } else if ft.is_symlink() {
            h.set_entry_type(tar::EntryType::Symlink);
            let target = fs::read_link(&full).map_err(io_err)?;
            self.builder.append_link(&mut h, &name, &target).map_err(io_err)
        } else if ft.is_char_device() || ft.is_block_device() {
            let kind = if ft.is_char_device() { tar::EntryType::Char } else { tar::EntryType::Block };
            h.set_entry_type(kind);
            let rdev = m.rdev();
            let major = u32::try_from(nix::sys::stat::major(rdev)).unwrap_or(0);
            let minor = u32::try_from(nix::sys::stat::minor(rdev)).unwrap_or(0);
            h.set_device_major(major).map_err(io_err)?;
            h.set_device_minor(minor).map_err(io_err)?;
            self.append(&mut h, rel, io::empty())
        } else if ft.is_fifo() {
            h.set_entry_type(tar::EntryType::Fifo);
            self.append(&mut h, rel, io::empty())
        } else {
            // Sockets cannot travel in a tar; Docker skips them too.
            Ok(())
        }
    }
}
