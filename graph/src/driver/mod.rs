//! Graph drivers: where layer contents live and how a layer chain becomes
//! one root filesystem. Every driver passes the same conformance suite
//! (`conformance.rs`).

use std::path::PathBuf;

use crate::error::Result;

#[cfg(test)]
mod conformance;
pub(crate) mod copy;
pub mod overlay;
pub mod vfs;

/// How a driver stores deletions inside a layer directory, which decides
/// how a tar's `.wh.` entries are applied and how a diff is read back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WhiteoutFormat {
    /// overlayfs: a deleted path is a 0/0 character device, an opaque
    /// directory has `trusted.overlay.opaque=y`; each layer directory holds
    /// only its own changes.
    Overlay,
    /// Full copies (vfs): a layer directory is the whole tree, a deletion
    /// removes the path.
    Copy,
}

/// A storage driver. IDs are opaque names chosen by the layer store (the
/// layer's chain ID hex) and by the daemon (container layers).
pub trait Driver: Send + Sync + std::fmt::Debug {
    /// `overlay` or `vfs`.
    fn name(&self) -> &'static str;
    /// How deletions are stored.
    fn whiteout_format(&self) -> WhiteoutFormat;
    /// Creates an empty layer `id` on top of `parent` (vfs copies the
    /// parent's tree). For overlay the parent need not have contents yet.
    fn create(&self, id: &str, parent: Option<&str>) -> Result<()>;
    /// Removes a layer (unmounting it first if mounted).
    fn remove(&self, id: &str) -> Result<()>;
    /// Moves a layer made under a staging ID to `to`, on top of `parent`
    /// (overlay records the parent here, so a layer can be extracted before
    /// its parent exists). `to` must not exist.
    fn rename(&self, from: &str, to: &str, parent: Option<&str>) -> Result<()>;
    /// Whether the layer exists.
    fn exists(&self, id: &str) -> bool;
    /// The directory holding this layer's own changes (overlay: `<id>/diff`;
    /// vfs: the whole tree). Tars are applied here.
    fn diff_dir(&self, id: &str) -> PathBuf;
    /// Mounts (overlay) or returns (vfs) the layer's merged root filesystem.
    /// Calls nest: each `get` needs one `put`.
    fn get(&self, id: &str) -> Result<PathBuf>;
    /// Releases one `get`; the last one unmounts.
    fn put(&self, id: &str) -> Result<()>;
    /// `DriverStatus` pairs for `info`.
    fn status(&self) -> Vec<(String, String)>;
    /// Paths for inspect's `GraphDriver.Data` (`LowerDir`, `UpperDir`, ...).
    fn metadata(&self, id: &str) -> std::collections::BTreeMap<String, String>;
}

/// Makes the driver `name` rooted at `home` (`<root>/<name>`), checking the
/// storage options it does not know.
pub fn new_driver(name: &str, home: PathBuf, options: &[String]) -> Result<Box<dyn Driver>> {
    match name {
        "overlay" => Ok(Box::new(overlay::Overlay::new(home, options)?)),
        "vfs" => Ok(Box::new(vfs::Vfs::new(home, options)?)),
        other => {
            Err(crate::GraphError::Driver { driver: "graph", message: format!("unknown storage driver: {other}") })
        }
    }
}

/// Docker 1.2's drivers take no `--storage-opt`: every option is refused,
/// a malformed one with Docker's parse error.
pub(crate) fn check_options(driver: &'static str, options: &[String]) -> Result<()> {
    match options.first() {
        None => Ok(()),
        Some(opt) => {
            let message = match opt.split_once('=') {
                Some((key, _)) if !key.trim().is_empty() => format!("unknown option {}", key.trim()),
                _ => format!("unable to parse key/value option: {opt}"),
            };
            Err(crate::GraphError::Driver { driver, message })
        }
    }
}

/// `len` random characters from `[A-Z0-9]` (overlay short links).
pub(crate) fn random_string(len: usize) -> String {
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut bytes = vec![0u8; len];
    // Without entropy, names still differ by time and are only checked for
    // clashes by the filesystem.
    if getrandom::fill(&mut bytes).is_err() {
        let seed =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = (seed >> ((i * 5) % 120)) as u8 ^ (i as u8).wrapping_mul(31);
        }
    }
    bytes.iter().map(|b| CHARS[usize::from(*b) % CHARS.len()] as char).collect()
}

/// `Backing Filesystem` as `docker info` names it.
pub(crate) fn backing_fs(path: &std::path::Path) -> String {
    use nix::sys::statfs as s;
    let Ok(st) = s::statfs(path) else { return "<unknown>".to_string() };
    let t = st.filesystem_type();
    let name = if t == s::EXT4_SUPER_MAGIC {
        "extfs"
    } else if t == s::XFS_SUPER_MAGIC {
        "xfs"
    } else if t == s::BTRFS_SUPER_MAGIC {
        "btrfs"
    } else if t == s::TMPFS_MAGIC {
        "tmpfs"
    } else if t == s::OVERLAYFS_SUPER_MAGIC {
        "overlayfs"
    } else {
        "<unknown>"
    };
    name.to_string()
}
