//! The overlay driver: overlayfs layers under `<root>/overlay`, laid out as
//! dockerd's overlay2 (Docker 1.2 had no overlay driver; 1.4's `overlay`
//! stacked one lower dir only, so we take overlay2's multi-lower shape).
//!
//! `<id>/diff` holds the layer's own changes, `<id>/work` overlayfs' work
//! dir, `<id>/merged` the mount point, `<id>/lower` the ancestors' short
//! links (`l/AAA:l/BBB`, nearest first) and `<id>/link` this layer's short
//! link name; `l/<26 chars>` → `../<id>/diff`. Short names keep the mount
//! data of a ~70-layer chain within one page even with absolute paths (we
//! cannot `chdir` in a multi-threaded daemon as overlay2 does).

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::io;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use nix::mount::{MntFlags, MsFlags};
use parking_lot::Mutex;

use super::{WhiteoutFormat, check_options, random_string};
use crate::error::{GraphError, Result};

const NAME: &str = "overlay";
/// The kernel takes mount data up to one page.
const MAX_MOUNT_DATA: usize = 4095;

/// overlayfs layers under `<root>/overlay`.
#[derive(Debug)]
pub struct Overlay {
    home: PathBuf,
    /// Active `get`s per layer.
    mounts: Mutex<HashMap<String, usize>>,
}

fn err(message: impl Into<String>) -> GraphError {
    GraphError::Driver { driver: NAME, message: message.into() }
}

fn mkdir(path: &Path, mode: u32) -> Result<()> {
    match fs::DirBuilder::new().mode(mode).create(path) {
        Err(e) if e.kind() != io::ErrorKind::AlreadyExists => Err(GraphError::io(path, e)),
        _ => Ok(()),
    }
}

/// Unmounts the `merged` mounts a previous daemon left under `home` when
/// it was killed: this process's mount counts start at zero, so without
/// this a container's next `get` would stack a second mount on the first
/// and its `put` would leave the first behind for good.
fn unmount_leftovers(home: &Path) {
    let info = fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let prefix = format!("{}/", home.display());
    let mut stale: Vec<&str> = info
        .lines()
        .filter_map(|l| l.split(' ').nth(4))
        .filter(|m| m.starts_with(&prefix) && m.ends_with("/merged"))
        .collect();
    stale.sort_unstable();
    stale.dedup();
    for m in stale {
        tracing::info!(mount = m, "unmounting a layer left mounted by a previous daemon");
        // Stacked mounts of the same path come off one per call.
        while nix::mount::umount2(m, MntFlags::MNT_DETACH).is_ok() {}
    }
}

impl Overlay {
    /// Opens the driver, refusing unknown storage options and kernels (or
    /// backing filesystems) without overlayfs.
    pub fn new(home: PathBuf, options: &[String]) -> Result<Overlay> {
        check_options(NAME, options)?;
        let filesystems = fs::read_to_string("/proc/filesystems").unwrap_or_default();
        if !filesystems.lines().any(|l| l.split_whitespace().last() == Some("overlay")) {
            return Err(err("the kernel does not support overlay filesystem"));
        }
        fs::create_dir_all(&home).map_err(|e| GraphError::io(&home, e))?;
        if let Ok(st) = nix::sys::statfs::statfs(&home)
            && st.filesystem_type() == nix::sys::statfs::OVERLAYFS_SUPER_MAGIC
        {
            return Err(err(format!("{} is on overlayfs, which cannot be an upper layer", home.display())));
        }
        mkdir(&home, 0o700)?;
        mkdir(&home.join("l"), 0o700)?;
        unmount_leftovers(&home);
        Ok(Overlay { home, mounts: Mutex::new(HashMap::new()) })
    }

    fn dir(&self, id: &str) -> PathBuf {
        self.home.join(id)
    }

    fn read(&self, id: &str, file: &str) -> Result<Option<String>> {
        let path = self.dir(id).join(file);
        match fs::read_to_string(&path) {
            Ok(s) => Ok(Some(s.trim().to_string())),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(GraphError::io(path, e)),
        }
    }

    /// `lowerdir` for `id`'s ancestors (absolute), or `None` for a base
    /// layer.
    fn lower_dirs(&self, id: &str) -> Result<Option<String>> {
        let Some(lower) = self.read(id, "lower")?.filter(|l| !l.is_empty()) else { return Ok(None) };
        let home = self.home.display();
        Ok(Some(lower.split(':').map(|l| format!("{home}/{l}")).collect::<Vec<_>>().join(":")))
    }

    fn write_lower(&self, id: &str, parent: &str) -> Result<()> {
        let link = self.read(parent, "link")?.ok_or_else(|| err(format!("parent layer {parent} has no link")))?;
        let mut lower = format!("l/{link}");
        if let Some(more) = self.read(parent, "lower")?.filter(|l| !l.is_empty()) {
            lower.push(':');
            lower.push_str(&more);
        }
        let path = self.dir(id).join("lower");
        fs::write(&path, lower).map_err(|e| GraphError::io(path, e))
    }

    /// Points `l/<link>` at `id`'s diff dir, replacing any old link in one
    /// rename.
    fn point_link(&self, link: &str, id: &str) -> Result<()> {
        let tmp = self.home.join("l").join(format!("{link}.tmp"));
        let _ = fs::remove_file(&tmp);
        std::os::unix::fs::symlink(Path::new("..").join(id).join("diff"), &tmp).map_err(|e| GraphError::io(&tmp, e))?;
        let dst = self.home.join("l").join(link);
        fs::rename(&tmp, &dst).map_err(|e| GraphError::io(dst, e))
    }

    fn unmount(&self, id: &str) -> Result<()> {
        let merged = self.dir(id).join("merged");
        match nix::mount::umount2(&merged, MntFlags::MNT_DETACH) {
            Ok(()) | Err(nix::errno::Errno::EINVAL) | Err(nix::errno::Errno::ENOENT) => Ok(()),
            Err(e) => Err(err(format!("unmounting {}: {e}", merged.display()))),
        }
    }
}

impl super::Driver for Overlay {
    fn name(&self) -> &'static str {
        NAME
    }

    fn whiteout_format(&self) -> WhiteoutFormat {
        WhiteoutFormat::Overlay
    }

    fn create(&self, id: &str, parent: Option<&str>) -> Result<()> {
        let dir = self.dir(id);
        if let Some(p) = parent
            && !self.exists(p)
        {
            return Err(err(format!("parent layer {p} does not exist")));
        }
        fs::DirBuilder::new().mode(0o700).create(&dir).map_err(|e| GraphError::io(&dir, e))?;
        let made = (|| {
            mkdir(&dir.join("diff"), 0o755)?;
            mkdir(&dir.join("work"), 0o700)?;
            mkdir(&dir.join("merged"), 0o700)?;
            let link = random_string(26);
            let path = dir.join("link");
            fs::write(&path, &link).map_err(|e| GraphError::io(path, e))?;
            self.point_link(&link, id)?;
            if let Some(p) = parent {
                self.write_lower(id, p)?;
            }
            Ok(())
        })();
        if made.is_err() {
            let _ = self.remove(id);
        }
        made
    }

    fn remove(&self, id: &str) -> Result<()> {
        if self.mounts.lock().remove(id).is_some() {
            self.unmount(id)?;
        }
        let dir = self.dir(id);
        if !dir.exists() {
            return Ok(());
        }
        if let Some(link) = self.read(id, "link")?.filter(|l| !l.is_empty() && !l.contains('/')) {
            let _ = fs::remove_file(self.home.join("l").join(link));
        }
        fs::remove_dir_all(&dir).map_err(|e| GraphError::io(dir, e))
    }

    fn rename(&self, from: &str, to: &str, parent: Option<&str>) -> Result<()> {
        let (src, dst) = (self.dir(from), self.dir(to));
        fs::rename(&src, &dst).map_err(|e| GraphError::io(&dst, e))?;
        let link = self.read(to, "link")?.ok_or_else(|| err(format!("layer {to} has no link")))?;
        self.point_link(&link, to)?;
        if let Some(p) = parent {
            self.write_lower(to, p)?;
        }
        Ok(())
    }

    fn exists(&self, id: &str) -> bool {
        self.dir(id).is_dir()
    }

    fn diff_dir(&self, id: &str) -> PathBuf {
        self.dir(id).join("diff")
    }

    fn get(&self, id: &str) -> Result<PathBuf> {
        if !self.exists(id) {
            return Err(err(format!("layer {id} does not exist")));
        }
        let mut mounts = self.mounts.lock();
        let Some(lower) = self.lower_dirs(id)? else {
            // A base layer is its own root filesystem: nothing to stack.
            *mounts.entry(id.to_string()).or_default() += 1;
            return Ok(self.diff_dir(id));
        };
        let merged = self.dir(id).join("merged");
        if let Some(n) = mounts.get_mut(id) {
            *n += 1;
            return Ok(merged);
        }
        let data = format!(
            "lowerdir={lower},upperdir={},workdir={}",
            self.diff_dir(id).display(),
            self.dir(id).join("work").display()
        );
        if data.len() > MAX_MOUNT_DATA {
            return Err(err(format!("layer {id}: too many layers for one overlay mount")));
        }
        nix::mount::mount(Some("overlay"), &merged, Some("overlay"), MsFlags::empty(), Some(data.as_str()))
            .map_err(|e| err(format!("mounting {}: {e}", merged.display())))?;
        mounts.insert(id.to_string(), 1);
        Ok(merged)
    }

    fn put(&self, id: &str) -> Result<()> {
        let mut mounts = self.mounts.lock();
        let Some(n) = mounts.get_mut(id) else { return Ok(()) };
        *n -= 1;
        if *n > 0 {
            return Ok(());
        }
        mounts.remove(id);
        if self.lower_dirs(id)?.is_some() { self.unmount(id) } else { Ok(()) }
    }

    fn status(&self) -> Vec<(String, String)> {
        vec![("Backing Filesystem".to_string(), super::backing_fs(&self.home))]
    }

    fn metadata(&self, id: &str) -> BTreeMap<String, String> {
        let dir = self.dir(id);
        let mut m = BTreeMap::new();
        m.insert("UpperDir".to_string(), dir.join("diff").display().to_string());
        m.insert("WorkDir".to_string(), dir.join("work").display().to_string());
        m.insert("MergedDir".to_string(), dir.join("merged").display().to_string());
        if let Ok(Some(lower)) = self.lower_dirs(id) {
            m.insert("LowerDir".to_string(), lower);
        }
        m
    }
}
