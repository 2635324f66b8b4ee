//! Graph drivers: where layer contents live and how a layer chain becomes
//! one root filesystem. Every driver passes the same conformance suite
//! (`conformance.rs`).

use std::path::PathBuf;

use crate::error::Result;

#[cfg(test)]
mod conformance;
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
