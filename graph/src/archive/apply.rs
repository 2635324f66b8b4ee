//! Applying a layer tar to a directory: Docker 1.2's `ApplyLayer`
//! (`archive/diff.go`, `createTarFile`) with the path-traversal checks of
//! later releases. The stream is read to its end and hashed (the diff ID)
//! while a tar-split record is written beside it.
//!
//! Nothing on the way is followed: each parent component of an entry is
//! checked with `lstat`. A parent that is a symlink (or file) this layer made
//! is an error; one inherited from a lower layer (vfs copies) is replaced by
//! a real directory, which is what overlayfs shows for an upper directory
//! over a lower symlink.

use std::collections::HashSet;
use std::ffi::OsStr;
use std::fs;
use std::io::{self, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use nix::sys::stat::{Mode, SFlag, UtimensatFlags};
use nix::sys::time::TimeSpec;

use super::split::Recorder;
use crate::driver::WhiteoutFormat;
use crate::error::{GraphError, Result};

/// Prefix of a whiteout entry's name.
pub const WHITEOUT_PREFIX: &str = ".wh.";
/// Name of the entry that makes its directory opaque.
pub const WHITEOUT_OPAQUE: &str = ".wh..wh..opq";
/// Prefix of aufs' own metadata entries, which carry no meaning here.
const WHITEOUT_META_PREFIX: &str = ".wh..wh.";
/// The xattr overlayfs reads for an opaque directory.
pub const OVERLAY_OPAQUE_XATTR: &str = "trusted.overlay.opaque";

/// What applying a layer found out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// `sha256:` of every byte of the stream.
    pub diff_id: String,
    /// Bytes of regular-file contents written.
    pub size: i64,
}

/// Applies the uncompressed layer tar `src` to `dest`, reading `src` to its
/// end, writing the tar-split record to `split`. On error `dest` is left
/// half-written: the caller throws it away.
pub fn apply_layer(src: &mut dyn Read, dest: &Path, format: WhiteoutFormat, split: &mut dyn Write) -> Result<Applied> {
    run(src, dest, Target::Layer(format), split)
}

/// Options of [`extract_into`] (dockerd's `TarOptions` for `docker cp`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExtractOptions {
    /// Refuse to replace a directory with a non-directory or the reverse.
    pub no_overwrite_dir_non_dir: bool,
    /// Owner and group of everything extracted; `None`: the tar's.
    pub chown: Option<(u32, u32)>,
    /// Leave ownership alone (a client extracting as an ordinary user).
    pub no_lchown: bool,
}

/// Extracts the tar `src` into the existing directory `dest` (`docker cp`
/// into a container, dockerd's `Untar`): the same traversal checks as
/// layers, but `.wh.` names are plain files and what `dest` already holds
/// is the container's own: a symlink or file met as a parent is an error,
/// never followed and never replaced. Entries before a failing one stay
/// written, as with dockerd.
pub fn extract_into(src: &mut dyn Read, dest: &Path, options: ExtractOptions) -> Result<Applied> {
    run(src, dest, Target::Dir(options), &mut io::sink())
}

fn run(src: &mut dyn Read, dest: &Path, target: Target, split: &mut dyn Write) -> Result<Applied> {
    let what = match target {
        Target::Layer(_) => "the layer tar",
        Target::Dir(_) => "the tar",
    };
    let rec = Recorder::new(src, split).map_err(|e| GraphError::io(dest, e))?;
    let mut ctx = Apply { dest, target, created: HashSet::new(), dir_times: Vec::new(), size: 0 };
    {
        let mut archive = tar::Archive::new(&rec);
        let entries = archive.entries().map_err(|e| bad(format!("reading {what}: {e}")))?;
        for entry in entries {
            let mut entry = entry.map_err(|e| bad(format!("reading {what}: {e}")))?;
            ctx.entry(&mut entry, &rec)?;
        }
    }
    let diff_id = rec.finish().map_err(|e| bad(format!("reading {what}: {e}")))?;
    ctx.finish()?;
    Ok(Applied { diff_id, size: ctx.size })
}

/// What a tar is applied to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    /// A layer directory of this whiteout format.
    Layer(WhiteoutFormat),
    /// A directory of a container (`docker cp`).
    Dir(ExtractOptions),
}

fn bad(msg: String) -> GraphError {
    GraphError::BadLayer(msg)
}

/// Cleans an entry name the way Docker does (`filepath.Clean` then relative
/// to the layer root): `/a/../b` is `b`, `./x` is `x`; a relative name whose
/// `..` climbs above the root escapes and is refused.
pub(crate) fn clean(raw: &[u8]) -> Result<PathBuf> {
    let absolute = raw.starts_with(b"/");
    let mut parts: Vec<&[u8]> = Vec::new();
    for c in raw.split(|b| *b == b'/') {
        match c {
            b"" | b"." => {}
            b".." => {
                if parts.pop().is_none() && !absolute {
                    return Err(bad(format!("{}: path escapes the layer (breakout)", String::from_utf8_lossy(raw))));
                }
            }
            c => parts.push(c),
        }
    }
    Ok(parts.iter().map(|p| OsStr::from_bytes(p)).collect())
}

struct Apply<'a> {
    dest: &'a Path,
    target: Target,
    /// Paths (relative) this layer wrote; everything else in `dest` came
    /// from a lower layer (vfs only).
    created: HashSet<PathBuf>,
    dir_times: Vec<(PathBuf, TimeSpec)>,
    size: i64,
}

/// Header fields an entry's metadata is set from.
struct Meta {
    mode: u32,
    uid: u64,
    gid: u64,
    mtime: TimeSpec,
    xattrs: Vec<(String, Vec<u8>)>,
}

impl Apply<'_> {
    fn entry(&mut self, entry: &mut tar::Entry<'_, &Recorder<'_>>, rec: &Recorder<'_>) -> Result<()> {
        let kind = entry.header().entry_type();
        if kind.is_pax_global_extensions() {
            return Ok(());
        }
        let raw_path = entry.path_bytes().into_owned();
        let rel = clean(&raw_path)?;
        let shown = rel.display().to_string();
        let meta = self.meta(entry, &shown)?;

        let name = rel.file_name().map(|n| n.as_bytes().to_vec()).unwrap_or_default();
        if let Target::Layer(format) = self.target
            && name.starts_with(WHITEOUT_PREFIX.as_bytes())
        {
            return self.whiteout(format, &rel, &name, &meta);
        }
        if rel.as_os_str().is_empty() {
            // The root entry (`./`): only its metadata applies.
            if !kind.is_dir() {
                return Err(bad(format!("{}: the layer root must be a directory", String::from_utf8_lossy(&raw_path))));
            }
            self.set_meta(Path::new(""), &meta, true, false)?;
            return Ok(());
        }

        self.ensure_parents(&rel)?;
        let full = self.dest.join(&rel);
        let is_dir = kind.is_dir();
        self.clear_target(&rel, is_dir)?;
        let io = |e| GraphError::io(&full, e);
        match kind {
            tar::EntryType::Directory => {
                if fs::symlink_metadata(&full).is_err() {
                    fs::DirBuilder::new().mode(0o755).create(&full).map_err(io)?;
                }
            }
            tar::EntryType::Regular | tar::EntryType::Continuous | tar::EntryType::GNUSparse => {
                let mut file = fs::File::options().write(true).create_new(true).mode(0o600).open(&full).map_err(io)?;
                // Sparse data is not one contiguous range of the stream, so
                // it stays in the raw record instead.
                if !kind.is_gnu_sparse() && entry.size() > 0 {
                    rec.skip_file(entry.raw_file_position(), entry.size(), rel.as_os_str().as_bytes())
                        .map_err(|e| bad(e.to_string()))?;
                }
                let n = io::copy(entry, &mut file).map_err(io)?;
                self.size += n as i64;
            }
            tar::EntryType::Symlink => {
                let target = entry.link_name_bytes().ok_or_else(|| bad(format!("{shown}: symlink without target")))?;
                std::os::unix::fs::symlink(OsStr::from_bytes(&target), &full).map_err(io)?;
            }
            tar::EntryType::Link => {
                let target = entry.link_name_bytes().ok_or_else(|| bad(format!("{shown}: hardlink without target")))?;
                let target_rel = self.link_target(&rel, &target)?;
                fs::hard_link(self.dest.join(&target_rel), &full).map_err(io)?;
            }
            tar::EntryType::Char | tar::EntryType::Block => {
                let major = entry.header().device_major().ok().flatten().unwrap_or(0);
                let minor = entry.header().device_minor().ok().flatten().unwrap_or(0);
                let sflag = if kind == tar::EntryType::Char { SFlag::S_IFCHR } else { SFlag::S_IFBLK };
                let dev = nix::sys::stat::makedev(u64::from(major), u64::from(minor));
                nix::sys::stat::mknod(&full, sflag, Mode::from_bits_truncate(0o600), dev).map_err(|e| io(e.into()))?;
            }
            tar::EntryType::Fifo => {
                nix::unistd::mkfifo(&full, Mode::from_bits_truncate(0o600)).map_err(|e| io(e.into()))?;
            }
            other => return Err(bad(format!("{shown}: unhandled tar entry type {:?}", other.as_byte() as char))),
        }
        self.created.insert(rel.clone());
        self.set_meta(&rel, &meta, is_dir, kind == tar::EntryType::Symlink)
    }

    fn meta(&self, entry: &mut tar::Entry<'_, &Recorder<'_>>, shown: &str) -> Result<Meta> {
        let h = entry.header();
        let field = |what: &str, e: io::Error| bad(format!("{shown}: bad {what} in tar header: {e}"));
        // Go's reader (so Docker) reads an empty numeric field as 0; some
        // tar writers leave uid/gid/mtime blank.
        let old = h.as_old();
        let num = |what: &str, raw: &[u8], v: io::Result<u64>| match v {
            Ok(v) => Ok(v),
            Err(_) if raw.iter().all(|b| *b == 0 || *b == b' ') => Ok(0),
            Err(e) => Err(field(what, e)),
        };
        let mode = num("mode", &old.mode, h.mode().map(u64::from))? as u32 & 0o7777;
        let uid = num("uid", &old.uid, h.uid())?;
        let gid = num("gid", &old.gid, h.gid())?;
        let secs = num("mtime", &old.mtime, h.mtime())?;
        let mut mtime = TimeSpec::new(i64::try_from(secs).unwrap_or(i64::MAX), 0);
        let mut xattrs = Vec::new();
        if let Some(pax) = entry.pax_extensions().map_err(|e| field("pax record", e))? {
            for ext in pax {
                let ext = ext.map_err(|e| field("pax record", e))?;
                let Ok(key) = ext.key() else { continue };
                if let Some(name) = key.strip_prefix("SCHILY.xattr.") {
                    xattrs.push((name.to_string(), ext.value_bytes().to_vec()));
                } else if key == "mtime" {
                    if let Some(t) = ext.value().ok().and_then(parse_pax_time) {
                        mtime = t;
                    }
                }
            }
        }
        Ok(Meta { mode, uid, gid, mtime, xattrs })
    }

    /// Owner, mode (after the owner: chown clears setuid), xattrs and times,
    /// as Docker running as root does. Directory times wait for the end:
    /// creating children would change them.
    fn set_meta(&mut self, rel: &Path, meta: &Meta, is_dir: bool, is_symlink: bool) -> Result<()> {
        let full = self.dest.join(rel);
        let io = |e| GraphError::io(&full, e);
        let uid = u32::try_from(meta.uid).map_err(|_| bad(format!("{}: uid out of range", rel.display())))?;
        let gid = u32::try_from(meta.gid).map_err(|_| bad(format!("{}: gid out of range", rel.display())))?;
        match self.target {
            Target::Dir(ExtractOptions { no_lchown: true, .. }) => {}
            Target::Dir(ExtractOptions { chown: Some((uid, gid)), .. }) => {
                std::os::unix::fs::lchown(&full, Some(uid), Some(gid)).map_err(io)?;
            }
            _ => std::os::unix::fs::lchown(&full, Some(uid), Some(gid)).map_err(io)?,
        }
        if !is_symlink {
            fs::set_permissions(&full, fs::Permissions::from_mode(meta.mode)).map_err(io)?;
        }
        for (name, value) in &meta.xattrs {
            if let Err(e) = xattr::set(&full, name, value) {
                // Like Docker: a backing filesystem without xattrs (or a
                // namespace we may not set) is no reason to refuse a layer.
                let code = e.raw_os_error();
                if code != Some(nix::libc::ENOTSUP) && code != Some(nix::libc::EPERM) {
                    return Err(io(e));
                }
            }
        }
        if is_dir {
            self.dir_times.push((rel.to_path_buf(), meta.mtime));
        } else {
            set_times(&full, meta.mtime)?;
        }
        Ok(())
    }

    /// Makes every parent of `rel` a real directory without following
    /// anything.
    fn ensure_parents(&mut self, rel: &Path) -> Result<()> {
        let Some(parent) = rel.parent() else { return Ok(()) };
        let mut cur = PathBuf::new();
        for comp in parent.components() {
            cur.push(comp);
            let full = self.dest.join(&cur);
            match fs::symlink_metadata(&full) {
                Ok(m) if m.is_dir() => {}
                Ok(m) => {
                    if self.created.contains(&cur) || matches!(self.target, Target::Dir(_)) {
                        let why = if m.file_type().is_symlink() {
                            "would write outside the layer through a symlink (breakout)"
                        } else {
                            "a parent is not a directory"
                        };
                        return Err(bad(format!("{}: {why}: {}", rel.display(), cur.display())));
                    }
                    // Inherited from a lower layer (vfs): this layer's
                    // directory hides it, as an overlayfs upper dir would.
                    fs::remove_file(&full).map_err(|e| GraphError::io(&full, e))?;
                    fs::DirBuilder::new().mode(0o755).create(&full).map_err(|e| GraphError::io(&full, e))?;
                    self.created.insert(cur.clone());
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    fs::DirBuilder::new().mode(0o755).create(&full).map_err(|e| GraphError::io(&full, e))?;
                    self.created.insert(cur.clone());
                }
                Err(e) => return Err(GraphError::io(&full, e)),
            }
        }
        Ok(())
    }

    /// Removes what is at `rel` unless both it and the new entry are
    /// directories (then they merge).
    fn clear_target(&mut self, rel: &Path, new_is_dir: bool) -> Result<()> {
        let full = self.dest.join(rel);
        let no_overwrite = matches!(self.target, Target::Dir(o) if o.no_overwrite_dir_non_dir);
        match fs::symlink_metadata(&full) {
            Ok(m) if m.is_dir() && new_is_dir => Ok(()),
            // dockerd's texts.
            Ok(m) if no_overwrite && m.is_dir() => Err(bad(format!(
                "cannot overwrite directory {:?} with non-directory {:?}",
                full.display().to_string(),
                self.dest.display().to_string()
            ))),
            Ok(_) if no_overwrite && new_is_dir => Err(bad(format!(
                "cannot overwrite non-directory {:?} with directory {:?}",
                full.display().to_string(),
                self.dest.display().to_string()
            ))),
            Ok(m) if m.is_dir() => {
                self.created.retain(|p| !p.starts_with(rel));
                fs::remove_dir_all(&full).map_err(|e| GraphError::io(&full, e))
            }
            Ok(_) => fs::remove_file(&full).map_err(|e| GraphError::io(&full, e)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(GraphError::io(&full, e)),
        }
    }

    /// Checks a hardlink's target: inside the layer, not through a symlink,
    /// and written earlier by this same layer.
    fn link_target(&self, rel: &Path, target: &[u8]) -> Result<PathBuf> {
        let target_rel = clean(target)?;
        let refuse =
            |why: &str| bad(format!("{}: hardlink to {} {why}", rel.display(), String::from_utf8_lossy(target)));
        if target_rel.as_os_str().is_empty() || target_rel == rel {
            return Err(refuse("is not a file"));
        }
        let mut cur = PathBuf::new();
        if let Some(parent) = target_rel.parent() {
            for comp in parent.components() {
                cur.push(comp);
                match fs::symlink_metadata(self.dest.join(&cur)) {
                    Ok(m) if m.is_dir() => {}
                    Ok(_) => return Err(refuse("goes through a symlink or file (breakout)")),
                    Err(_) => return Err(refuse("does not exist in this layer")),
                }
            }
        }
        if !self.created.contains(&target_rel) {
            return Err(refuse("does not exist in this layer"));
        }
        match fs::symlink_metadata(self.dest.join(&target_rel)) {
            Ok(m) if m.is_dir() => Err(refuse("is a directory")),
            Ok(_) => Ok(target_rel),
            Err(_) => Err(refuse("does not exist in this layer")),
        }
    }

    fn whiteout(&mut self, format: WhiteoutFormat, rel: &Path, name: &[u8], meta: &Meta) -> Result<()> {
        let parent = rel.parent().unwrap_or(Path::new("")).to_path_buf();
        if name == WHITEOUT_OPAQUE.as_bytes() {
            self.ensure_parents(rel)?;
            let dir = self.dest.join(&parent);
            return match format {
                WhiteoutFormat::Overlay => {
                    xattr::set(&dir, OVERLAY_OPAQUE_XATTR, b"y").map_err(|e| GraphError::io(&dir, e))
                }
                WhiteoutFormat::Copy => self.remove_lower_children(&parent),
            };
        }
        if name.starts_with(WHITEOUT_META_PREFIX.as_bytes()) {
            return Ok(());
        }
        let hidden = parent.join(OsStr::from_bytes(&name[WHITEOUT_PREFIX.len()..]));
        if hidden.file_name().is_none_or(|n| n == "..") {
            return Err(bad(format!("{}: bad whiteout", rel.display())));
        }
        self.ensure_parents(&hidden)?;
        self.clear_target(&hidden, false)?;
        self.created.remove(&hidden);
        if format == WhiteoutFormat::Overlay {
            let full = self.dest.join(&hidden);
            nix::sys::stat::mknod(&full, SFlag::S_IFCHR, Mode::empty(), 0)
                .map_err(|e| GraphError::io(&full, e.into()))?;
            let (uid, gid) = (u32::try_from(meta.uid).ok(), u32::try_from(meta.gid).ok());
            std::os::unix::fs::lchown(&full, uid, gid).map_err(|e| GraphError::io(&full, e))?;
        }
        Ok(())
    }

    /// An opaque directory in a full copy: drop what lower layers put in it,
    /// keep what this layer wrote (before or after the marker).
    fn remove_lower_children(&mut self, dir: &Path) -> Result<()> {
        let full = self.dest.join(dir);
        for child in fs::read_dir(&full).map_err(|e| GraphError::io(&full, e))? {
            let child = child.map_err(|e| GraphError::io(&full, e))?;
            let rel = dir.join(child.file_name());
            let path = child.path();
            let ft = child.file_type().map_err(|e| GraphError::io(&path, e))?;
            if !self.created.contains(&rel) {
                let r = if ft.is_dir() { fs::remove_dir_all(&path) } else { fs::remove_file(&path) };
                r.map_err(|e| GraphError::io(&path, e))?;
            } else if ft.is_dir() {
                self.remove_lower_children(&rel)?;
            }
        }
        Ok(())
    }

    /// Directory times, deepest first so setting one does not disturb
    /// another.
    fn finish(&mut self) -> Result<()> {
        self.dir_times.sort_by_key(|(p, _)| std::cmp::Reverse(p.components().count()));
        for (rel, t) in &self.dir_times {
            let full = self.dest.join(rel);
            if fs::symlink_metadata(&full).is_ok_and(|m| m.is_dir()) {
                set_times(&full, *t)?;
            }
        }
        Ok(())
    }
}

pub(crate) fn set_times(path: &Path, t: TimeSpec) -> Result<()> {
    nix::sys::stat::utimensat(None, path, &t, &t, UtimensatFlags::NoFollowSymlink)
        .map_err(|e| GraphError::io(path, e.into()))
}

/// A PAX time: decimal seconds with an optional fraction.
fn parse_pax_time(s: &str) -> Option<TimeSpec> {
    let (secs, frac) = s.split_once('.').unwrap_or((s, ""));
    let secs: i64 = secs.parse().ok()?;
    let digits: String = frac.chars().take(9).collect();
    let nanos = if digits.is_empty() { 0 } else { format!("{digits:0<9}").parse::<i64>().ok()? };
    Some(TimeSpec::new(secs, nanos))
}
