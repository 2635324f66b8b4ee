//! `Graph`: the image store as one object (driver, layers, images, tags),
//! and name lookup (Docker 1.2's `TagStore.LookupImage`).

use std::fs;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::driver::{self, Driver};
use crate::error::{GraphError, Result};
use crate::images::ImageStore;
use crate::layers::{LayerStore, hex_of};
use crate::tags::TagStore;

/// The image store. Share it as `Arc<Graph>`.
#[derive(Debug)]
pub struct Graph {
    root: PathBuf,
    driver: Arc<dyn Driver>,
    layers: Arc<LayerStore>,
    images: ImageStore,
    tags: TagStore,
}

fn mkdir_private(path: &Path) -> Result<()> {
    fs::DirBuilder::new().recursive(true).mode(0o700).create(path).map_err(|e| GraphError::io(path, e))
}

impl Graph {
    /// Opens (creating as needed) the store under `root` with the driver
    /// `driver` (blocking). Removes what a crash left half-made (staging
    /// layers, temp files), so after `kill -9` every image is whole or absent.
    pub fn new(root: &Path, driver: &str, storage_opts: &[String]) -> Result<Graph> {
        mkdir_private(root)?;
        for sub in ["graph", "layers"] {
            mkdir_private(&root.join(sub))?;
        }
        let driver: Arc<dyn Driver> = Arc::from(driver::new_driver(driver, root.join(driver), storage_opts)?);
        // Temp files of the TagStore's atomic writes.
        for entry in fs::read_dir(root).map_err(|e| GraphError::io(root, e))?.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with(".repositories-") && name.ends_with(".tmp") {
                let _ = fs::remove_file(entry.path());
            }
        }
        let layers = Arc::new(LayerStore::open(root.join("layers"), driver.clone())?);
        let images = ImageStore::open(root.join("graph"), layers.clone())?;
        let tags = TagStore::open(root.join(format!("repositories-{}", driver.name())))?;
        tags.retain_images(|id| images.get(id).is_some())?;
        // Scratch space of the jobs (push's compressed layers, load's spool):
        // whatever a crash left there is garbage.
        let tmp = root.join("tmp");
        if tmp.exists() {
            let _ = fs::remove_dir_all(&tmp);
        }
        mkdir_private(&tmp)?;
        Ok(Graph { root: root.to_path_buf(), driver, layers, images, tags })
    }

    /// The daemon root the store lives under.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Scratch space on the store's file system (`<root>/tmp`), emptied at
    /// start.
    pub fn tmp_dir(&self) -> PathBuf {
        self.root.join("tmp")
    }

    /// The storage driver.
    pub fn driver(&self) -> &dyn Driver {
        &*self.driver
    }

    /// The layer store.
    pub fn layers(&self) -> &LayerStore {
        &self.layers
    }

    /// The image store.
    pub fn images(&self) -> &ImageStore {
        &self.images
    }

    /// The TagStore.
    pub fn tags(&self) -> &TagStore {
        &self.tags
    }

    /// The image ID a user's name means: a full or short ID (with or
    /// without `sha256:`), `repo`, `repo:tag`, `repo@digest` (any accepted
    /// spelling: `docker.io/library/busybox` is `busybox`). Names are tried
    /// before ID prefixes, as Docker does. Unknown → `No such image: <name>`.
    pub fn lookup(&self, name: &str) -> Result<String> {
        if let Ok(reference) = registry::reference::Reference::parse(name) {
            let repo = reference.local_name();
            let key = reference.digest.as_deref().unwrap_or_else(|| reference.tag_or_latest());
            if let Some(id) = self.tags.get(&repo, key) {
                return Ok(id);
            }
        }
        let hex = hex_of(name);
        if hex.len() == 64 && self.images.get(hex).is_some() {
            return Ok(format!("sha256:{}", hex.to_ascii_lowercase()));
        }
        if let Some(id) = self.images.resolve_prefix(name)? {
            return Ok(id);
        }
        Err(GraphError::NoSuchImage(name.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use super::*;
    use crate::archive::tests::RawTar;
    use crate::images::tests::{config, layers};

    #[test]
    fn a_crash_mid_way_leaves_nothing_half_made() {
        for driver in ["vfs", "overlay"] {
            let tmp = tempfile::tempdir().unwrap();
            let root = tmp.path();
            let image = {
                let g = Graph::new(root, driver, &[]).unwrap();
                let diffs = layers(&g, &["a"]);
                let image = g.images().create(&config(&diffs, "x")).unwrap();
                g.tags().set("busybox", "latest", &image.id, false).unwrap();
                // A stage killed mid-extraction, and forgotten (as a kill -9
                // forgets): no Drop runs.
                let tar = RawTar::default().file("half", b"h").done();
                std::mem::forget(g.layers().stage(None, &mut Cursor::new(tar), None).unwrap());
                image
            };
            let hex = "e".repeat(64);
            fs::create_dir(root.join("graph").join(format!("{hex}.abc.tmp"))).unwrap();
            fs::write(root.join("graph").join(format!("{hex}.abc.tmp/json")), b"{").unwrap();
            fs::write(root.join(format!(".repositories-{driver}.xyz.tmp")), b"{").unwrap();
            // A tag whose image a crash lost.
            let tags = root.join(format!("repositories-{driver}"));
            let mut all: serde_json::Value = serde_json::from_slice(&fs::read(&tags).unwrap()).unwrap();
            all["Repositories"]["ghost"] = serde_json::json!({ "latest": format!("sha256:{hex}") });
            fs::write(&tags, serde_json::to_vec(&all).unwrap()).unwrap();

            let g = Graph::new(root, driver, &[]).unwrap();
            let names = |dir: &Path| -> Vec<String> {
                fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect()
            };
            let driver_dir = if driver == "vfs" { root.join("vfs/dir") } else { root.join("overlay") };
            for dir in [root.to_path_buf(), root.join("graph"), root.join("layers"), driver_dir] {
                let bad: Vec<_> =
                    names(&dir).into_iter().filter(|n| n.contains("staging") || n.ends_with(".tmp")).collect();
                assert!(bad.is_empty(), "{driver}: {} still has {bad:?}", dir.display());
            }
            assert_eq!(g.images().list().len(), 1);
            assert_eq!(g.tags().get("busybox", "latest"), Some(image.id.clone()));
            assert!(g.tags().get("ghost", "latest").is_none());
            assert_eq!(g.layers().list().len(), 1);
        }
    }

    #[test]
    fn graph_is_shareable() {
        fn shareable<T: Send + Sync>() {}
        shareable::<Graph>();
    }

    #[test]
    fn root_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("docker");
        Graph::new(&root, "vfs", &[]).unwrap();
        assert_eq!(fs::metadata(&root).unwrap().permissions().mode() & 0o777, 0o700);
        assert!(matches!(Graph::new(&root, "vfs", &["x=y".into()]), Err(GraphError::Driver { .. })));
    }

    #[test]
    fn lookup_by_id_and_prefix() {
        let tmp = tempfile::tempdir().unwrap();
        let g = Graph::new(tmp.path(), "vfs", &[]).unwrap();
        let id = g.images().create(&config(&layers(&g, &["a"]), "x")).unwrap().id;
        assert_eq!(g.lookup(&id).unwrap(), id);
        assert_eq!(g.lookup(&id[7..]).unwrap(), id);
        assert_eq!(g.lookup(&id[7..19]).unwrap(), id);
        assert_eq!(g.lookup(&id[..14]).unwrap(), id);
        assert_eq!(g.lookup("nothing").unwrap_err().to_string(), "No such image: nothing");
    }

    #[test]
    fn lookup_by_name() {
        let tmp = tempfile::tempdir().unwrap();
        let g = Graph::new(tmp.path(), "vfs", &[]).unwrap();
        let diffs = layers(&g, &["a"]);
        let a = g.images().create(&config(&diffs, "a")).unwrap().id;
        let b = g.images().create(&config(&diffs, "b")).unwrap().id;
        let digest = format!("sha256:{}", "d".repeat(64));
        g.tags().set("busybox", "latest", &a, false).unwrap();
        g.tags().set("busybox", "1.36", &b, false).unwrap();
        g.tags().set_digest("busybox", &digest, &b).unwrap();
        g.tags().set("127.0.0.1:5000/app", "v1", &b, false).unwrap();
        assert_eq!(g.lookup("busybox").unwrap(), a);
        assert_eq!(g.lookup("busybox:latest").unwrap(), a);
        assert_eq!(g.lookup("docker.io/library/busybox:1.36").unwrap(), b);
        assert_eq!(g.lookup(&format!("busybox@{digest}")).unwrap(), b);
        assert_eq!(g.lookup("127.0.0.1:5000/app:v1").unwrap(), b);
        assert!(matches!(g.lookup("busybox:nope"), Err(GraphError::NoSuchImage(_))));
        // A name that looks like a short ID is a name first.
        let short = &b[7..19];
        g.tags().set(short, "latest", &a, false).unwrap();
        assert_eq!(g.lookup(short).unwrap(), a);
    }
}
