//! The vfs driver (Docker 1.2's `daemon/graphdriver/vfs`): every layer is a
//! full copy of its parent plus its changes under `<root>/vfs/dir/<id>`.
//! Slow and large, but works on any filesystem and needs no mounts.
//!
//! Docker copied with `cp -a`/tar; we copy in Rust (`copy.rs`), keeping
//! hardlinks, xattrs, devices, owners, modes and times.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::DirBuilderExt;
use std::path::PathBuf;

use super::{WhiteoutFormat, check_options};
use crate::error::{GraphError, Result};

const NAME: &str = "vfs";

/// Full-copy layers under `<root>/vfs/dir`.
#[derive(Debug)]
pub struct Vfs {
    home: PathBuf,
}

impl Vfs {
    /// Opens the driver, refusing unknown storage options.
    pub fn new(home: PathBuf, options: &[String]) -> Result<Vfs> {
        check_options(NAME, options)?;
        let dir = home.join("dir");
        fs::DirBuilder::new().recursive(true).mode(0o700).create(&dir).map_err(|e| GraphError::io(&dir, e))?;
        Ok(Vfs { home })
    }

    fn dir(&self, id: &str) -> PathBuf {
        self.home.join("dir").join(id)
    }
}

impl super::Driver for Vfs {
    fn name(&self) -> &'static str {
        NAME
    }

    fn whiteout_format(&self) -> WhiteoutFormat {
        WhiteoutFormat::Copy
    }

    fn create(&self, id: &str, parent: Option<&str>) -> Result<()> {
        let dir = self.dir(id);
        match parent {
            None => fs::DirBuilder::new().mode(0o755).create(&dir).map_err(|e| GraphError::io(&dir, e)),
            Some(p) => {
                let src = self.dir(p);
                if !src.is_dir() {
                    return Err(GraphError::Driver {
                        driver: NAME,
                        message: format!("parent layer {p} does not exist"),
                    });
                }
                let copied = super::copy::copy_tree(&src, &dir);
                if copied.is_err() {
                    let _ = fs::remove_dir_all(&dir);
                }
                copied
            }
        }
    }

    fn remove(&self, id: &str) -> Result<()> {
        let dir = self.dir(id);
        match fs::remove_dir_all(&dir) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(GraphError::io(dir, e)),
            _ => Ok(()),
        }
    }

    fn rename(&self, from: &str, to: &str, _parent: Option<&str>) -> Result<()> {
        let dst = self.dir(to);
        fs::rename(self.dir(from), &dst).map_err(|e| GraphError::io(dst, e))
    }

    fn exists(&self, id: &str) -> bool {
        self.dir(id).is_dir()
    }

    fn diff_dir(&self, id: &str) -> PathBuf {
        self.dir(id)
    }

    fn get(&self, id: &str) -> Result<PathBuf> {
        let dir = self.dir(id);
        if !dir.is_dir() {
            return Err(GraphError::Driver { driver: NAME, message: format!("layer {id} does not exist") });
        }
        Ok(dir)
    }

    fn put(&self, _id: &str) -> Result<()> {
        Ok(())
    }

    fn status(&self) -> Vec<(String, String)> {
        Vec::new()
    }

    fn metadata(&self, _id: &str) -> BTreeMap<String, String> {
        BTreeMap::new()
    }
}
