//! `Graph`: the image store as one object (driver, layers, images, tags),
//! and name lookup.

use std::path::Path;

use crate::driver::Driver;
use crate::error::Result;
use crate::images::ImageStore;
use crate::layers::LayerStore;
use crate::tags::TagStore;

/// The image store. Share it as `Arc<Graph>`.
#[derive(Debug)]
pub struct Graph {
    _private: (),
}

impl Graph {
    /// Opens (creating as needed) the store under `root` with the driver
    /// `driver` (blocking). Removes what a crash left half-made (staging
    /// layers, temp files), so after `kill -9` every image is whole or absent.
    pub fn new(root: &Path, driver: &str, storage_opts: &[String]) -> Result<Graph> {
        let _ = (root, driver, storage_opts);
        Err(crate::GraphError::BadConfig("not built yet".into()))
    }

    /// The storage driver.
    pub fn driver(&self) -> &dyn Driver {
        unreachable!()
    }

    /// The layer store.
    pub fn layers(&self) -> &LayerStore {
        unreachable!()
    }

    /// The image store.
    pub fn images(&self) -> &ImageStore {
        unreachable!()
    }

    /// The TagStore.
    pub fn tags(&self) -> &TagStore {
        unreachable!()
    }

    /// The image ID a user's name means: a full or short ID (with or
    /// without `sha256:`), `repo`, `repo:tag`, `repo@digest` (any accepted
    /// spelling: `docker.io/library/busybox` is `busybox`). Names are tried
    /// before ID prefixes, as Docker does. Unknown → `No such image: <name>`.
    pub fn lookup(&self, name: &str) -> Result<String> {
        Err(crate::GraphError::NoSuchImage(name.to_string()))
    }
}
