//! Images: a config JSON kept byte for byte under `<root>/graph/<hex>/json`,
//! its ID the config's sha256 (content-addressed, as dockerd since 1.10, so
//! image IDs match across registries, `save`/`load` and other daemons).
//! `<root>/graph/<hex>/parent` names the parent of committed/built images.
//! Docker 1.2 kept one JSON per random image ID that was also its layer;
//! content addressing (image = config, layers by chain ID) is a deliberate
//! departure. An image directory is written whole under a `.tmp` name and
//! renamed into place, so after a crash it is there whole or not at all.

use std::collections::HashMap;
use std::fs;
use std::io;
use std::path::PathBuf;
use std::sync::Arc;

use parking_lot::RwLock;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::archive::hex;
use crate::error::{GraphError, Result};
use crate::layers::{LayerStore, hex_of, is_hex64, random_name, sync_dir, write_atomic};

/// The image config (Docker image JSON / OCI image config). Unknown fields
/// are kept; the stored bytes are never re-serialised.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ImageConfig {
    /// `amd64`, ...
    #[serde(default)]
    pub architecture: String,
    /// `linux`.
    #[serde(default)]
    pub os: String,
    /// RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    /// Author.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub author: String,
    /// Docker version that made it.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub docker_version: String,
    /// Commit message.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub comment: String,
    /// Container it was committed from.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub container: String,
    /// Runtime config (`Cmd`, `Env`, `Labels`, ...), passed through.
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub config: serde_json::Value,
    /// The committing container's config, passed through.
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub container_config: serde_json::Value,
    /// Layer diff IDs.
    pub rootfs: RootFs,
    /// One entry per build step.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<HistoryEntry>,
}

/// `rootfs` of an image config.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RootFs {
    /// Always `layers`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `sha256:` diff IDs, bottom first.
    #[serde(default)]
    pub diff_ids: Vec<String>,
}

/// One `history` entry.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    /// The command.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub created_by: String,
    /// Author.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub author: String,
    /// Comment.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub comment: String,
    /// True when the step made no layer.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub empty_layer: bool,
}

/// A stored image.
#[derive(Debug, Clone)]
pub struct Image {
    /// `sha256:<hex>`.
    pub id: String,
    /// The parsed config.
    pub config: ImageConfig,
    /// The config bytes as stored (their sha256 is the ID).
    pub raw: Vec<u8>,
    /// Parent image ID (committed/built images only).
    pub parent: Option<String>,
    /// Chain ID of the top layer (`None` for an image without layers).
    pub top_layer: Option<String>,
    /// Sum of all layers' sizes.
    pub size: i64,
    /// Unix seconds of `created` (0 if absent).
    pub created_unix: i64,
}

/// The image store.
#[derive(Debug)]
pub struct ImageStore {
    root: PathBuf,
    layers: Arc<LayerStore>,
    images: RwLock<HashMap<String, Image>>,
}

fn bad_config(msg: impl std::fmt::Display) -> GraphError {
    GraphError::BadConfig(msg.to_string())
}

impl ImageStore {
    /// Opens `<root>/graph`, loading every image, dropping `.tmp` leftovers.
    pub(crate) fn open(root: PathBuf, layers: Arc<LayerStore>) -> Result<ImageStore> {
        fs::create_dir_all(&root).map_err(|e| GraphError::io(&root, e))?;
        let store = ImageStore { root, layers, images: RwLock::new(HashMap::new()) };
        let mut images = HashMap::new();
        for entry in fs::read_dir(&store.root).map_err(|e| GraphError::io(&store.root, e))? {
            let entry = entry.map_err(|e| GraphError::io(&store.root, e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let path = entry.path();
            if name.ends_with(".tmp") {
                let _ = fs::remove_dir_all(&path).or_else(|_| fs::remove_file(&path));
                continue;
            }
            if !is_hex64(&name) {
                continue;
            }
            match store.load(&name) {
                Ok(image) => {
                    images.insert(image.id.clone(), image);
                }
                Err(e) => tracing::warn!(image = %name, error = %e, "skipping unreadable image"),
            }
        }
        *store.images.write() = images;
        Ok(store)
    }

    fn load(&self, hex: &str) -> Result<Image> {
        let dir = self.root.join(hex);
        let json = dir.join("json");
        let raw = fs::read(&json).map_err(|e| GraphError::io(&json, e))?;
        let parent = match fs::read_to_string(dir.join("parent")) {
            Ok(p) => Some(p.trim().to_string()).filter(|p| !p.is_empty()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(GraphError::io(dir.join("parent"), e)),
        };
        self.build(format!("sha256:{hex}"), raw, parent)
    }

    fn build(&self, id: String, raw: Vec<u8>, parent: Option<String>) -> Result<Image> {
        let config: ImageConfig = serde_json::from_slice(&raw).map_err(bad_config)?;
        if config.rootfs.kind != "layers" {
            return Err(bad_config(format!("rootfs type {:?} is not \"layers\"", config.rootfs.kind)));
        }
        let chain = LayerStore::chain_ids(&config.rootfs.diff_ids);
        let size = chain.iter().filter_map(|c| self.layers.get(c)).map(|l| l.size).sum();
        let created_unix = crate::timestamp::unix_of(config.created.as_deref());
        Ok(Image { id, top_layer: chain.last().cloned(), config, raw, parent, size, created_unix })
    }

    /// Stores a config (blocking; atomic). Every layer of its `rootfs` must
    /// already be in the layer store. Storing an existing image is a no-op
    /// that returns it.
    pub fn create(&self, config: &[u8]) -> Result<Image> {
        let hex = hex(&Sha256::digest(config));
        let id = format!("sha256:{hex}");
        if let Some(image) = self.get(&id) {
            return Ok(image);
        }
        let image = self.build(id.clone(), config.to_vec(), None)?;
        for (diff, chain) in
            image.config.rootfs.diff_ids.iter().zip(LayerStore::chain_ids(&image.config.rootfs.diff_ids))
        {
            if !self.layers.exists(&chain) {
                return Err(bad_config(format!("layer {diff} (chain {chain}) is not in the layer store")));
            }
        }
        let mut images = self.images.write();
        if let Some(image) = images.get(&id) {
            return Ok(image.clone());
        }
        let tmp = self.root.join(format!("{hex}.{}.tmp", random_name(8)));
        let written = (|| {
            fs::create_dir(&tmp)?;
            let mut f = fs::File::create(tmp.join("json"))?;
            io::Write::write_all(&mut f, config)?;
            f.sync_all()?;
            sync_dir(&tmp);
            fs::rename(&tmp, self.root.join(&hex))
        })();
        if let Err(e) = written {
            let _ = fs::remove_dir_all(&tmp);
            return Err(GraphError::io(self.root.join(&hex), e));
        }
        sync_dir(&self.root);
        images.insert(id, image.clone());
        Ok(image)
    }

    /// Records `parent` as the parent of `id`.
    pub fn set_parent(&self, id: &str, parent: &str) -> Result<()> {
        let mut images = self.images.write();
        if !images.contains_key(parent) {
            return Err(GraphError::NoSuchImage(parent.to_string()));
        }
        let image = images.get_mut(id).ok_or_else(|| GraphError::NoSuchImage(id.to_string()))?;
        write_atomic(&self.root.join(hex_of(id)).join("parent"), parent.as_bytes())?;
        image.parent = Some(parent.to_string());
        Ok(())
    }

    /// The image with this full ID (`sha256:<hex>`).
    pub fn get(&self, id: &str) -> Option<Image> {
        self.images.read().get(&format!("sha256:{}", hex_of(id))).cloned()
    }

    /// Every image, newest first.
    pub fn list(&self) -> Vec<Image> {
        let mut all: Vec<Image> = self.images.read().values().cloned().collect();
        all.sort_by(|a, b| b.created_unix.cmp(&a.created_unix).then_with(|| a.id.cmp(&b.id)));
        all
    }

    /// Images whose parent is `id`.
    pub fn children(&self, id: &str) -> Vec<String> {
        let mut out: Vec<String> =
            self.images.read().values().filter(|i| i.parent.as_deref() == Some(id)).map(|i| i.id.clone()).collect();
        out.sort();
        out
    }

    /// The full ID for a hex prefix (with or without `sha256:`), `None` if
    /// nothing matches; `Ambiguous` if several do.
    pub fn resolve_prefix(&self, prefix: &str) -> Result<Option<String>> {
        let hex = hex_of(prefix);
        if hex.is_empty() || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(None);
        }
        let hex = hex.to_ascii_lowercase();
        let images = self.images.read();
        let mut found = images.keys().filter(|id| hex_of(id).starts_with(&hex));
        match (found.next(), found.next()) {
            (None, _) => Ok(None),
            (Some(id), None) => Ok(Some(id.clone())),
            (Some(_), Some(_)) => Err(GraphError::Ambiguous(prefix.to_string())),
        }
    }

    /// Deletes an image and every layer no other image uses; returns the
    /// deleted layers' chain IDs.
    pub fn delete(&self, id: &str) -> Result<Vec<String>> {
        let mut images = self.images.write();
        let id = format!("sha256:{}", hex_of(id));
        let image = images.get(&id).cloned().ok_or_else(|| GraphError::NoSuchImage(id.clone()))?;
        let dir = self.root.join(hex_of(&id));
        let doomed = self.root.join(format!("{}.{}.tmp", hex_of(&id), random_name(8)));
        fs::rename(&dir, &doomed).map_err(|e| GraphError::io(&dir, e))?;
        sync_dir(&self.root);
        images.remove(&id);
        fs::remove_dir_all(&doomed).map_err(|e| GraphError::io(&doomed, e))?;

        let in_use: std::collections::HashSet<String> =
            images.values().flat_map(|i| LayerStore::chain_ids(&i.config.rootfs.diff_ids)).collect();
        let mut removed = Vec::new();
        for chain in LayerStore::chain_ids(&image.config.rootfs.diff_ids).into_iter().rev() {
            if !in_use.contains(&chain) && self.layers.remove(&chain)? {
                removed.push(chain);
            }
        }
        Ok(removed)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::io::Cursor;

    use super::*;
    use crate::Graph;
    use crate::archive::tests::RawTar;

    /// A config over `diff_ids`; `salt` makes configs differ.
    pub(crate) fn config(diff_ids: &[String], salt: &str) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({
            "architecture": "amd64",
            "os": "linux",
            "created": "2024-05-06T07:08:09.123456789Z",
            "config": {"Cmd": ["/bin/sh"], "Labels": {"salt": salt}},
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
            "x-unknown": [1, 2, 3],
        }))
        .unwrap()
    }

    /// Registers layers made of one file each, bottom first; returns diff IDs.
    pub(crate) fn layers(g: &Graph, names: &[&str]) -> Vec<String> {
        let mut parent: Option<String> = None;
        let mut diffs = Vec::new();
        for n in names {
            let tar = RawTar::default().file(n, n.as_bytes()).done();
            let info = g.layers().register(parent.as_deref(), &mut Cursor::new(tar), None).unwrap();
            diffs.push(info.diff_id.clone());
            parent = Some(info.chain_id);
        }
        diffs
    }

    #[test]
    fn create_get_list_and_reopen() {
        let tmp = tempfile::tempdir().unwrap();
        let bytes;
        let id;
        {
            let g = Graph::new(tmp.path(), "vfs", &[]).unwrap();
            let diffs = layers(&g, &["a", "bb"]);
            bytes = config(&diffs, "1");
            let image = g.images().create(&bytes).unwrap();
            id = image.id.clone();
            assert_eq!(id, format!("sha256:{}", hex(&Sha256::digest(&bytes))));
            assert_eq!(image.size, 3);
            assert_eq!(image.created_unix, 1_714_979_289);
            assert_eq!(image.top_layer, LayerStore::chain_ids(&diffs).last().cloned());
            assert_eq!(g.images().create(&bytes).unwrap().id, id);
            assert_eq!(fs::read(tmp.path().join("graph").join(hex_of(&id)).join("json")).unwrap(), bytes);
        }
        let g = Graph::new(tmp.path(), "vfs", &[]).unwrap();
        let image = g.images().get(&id).unwrap();
        assert_eq!(image.raw, bytes);
        assert_eq!(image.size, 3);
        assert_eq!(g.images().list().len(), 1);
        assert_eq!(g.images().get(hex_of(&id)).unwrap().id, id);
    }

    #[test]
    fn bad_configs_are_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let g = Graph::new(tmp.path(), "vfs", &[]).unwrap();
        assert!(matches!(g.images().create(b"not json"), Err(GraphError::BadConfig(_))));
        let no_layers = br#"{"rootfs":{"type":"zfs","diff_ids":[]}}"#;
        assert!(matches!(g.images().create(no_layers), Err(GraphError::BadConfig(_))));
        let missing = config(&[format!("sha256:{}", "2".repeat(64))], "x");
        let err = g.images().create(&missing).unwrap_err();
        assert!(err.to_string().contains("is not in the layer store"), "{err}");
        assert!(g.images().list().is_empty());
        let empty = br#"{"rootfs":{"type":"layers","diff_ids":[]}}"#;
        assert_eq!(g.images().create(empty).unwrap().top_layer, None);
    }

    #[test]
    fn prefixes_parents_and_delete() {
        let tmp = tempfile::tempdir().unwrap();
        let g = Graph::new(tmp.path(), "overlay", &[]).unwrap();
        let shared = layers(&g, &["base", "mid"]);
        let mut own = shared.clone();
        own.extend(layers_on(&g, &shared, "own"));
        let parent = g.images().create(&config(&shared, "p")).unwrap();
        let child = g.images().create(&config(&own, "c")).unwrap();
        g.images().set_parent(&child.id, &parent.id).unwrap();
        assert_eq!(g.images().children(&parent.id), vec![child.id.clone()]);

        assert_eq!(g.images().resolve_prefix(&child.id[..20]).unwrap(), Some(child.id.clone()));
        assert_eq!(g.images().resolve_prefix(&child.id[7..19]).unwrap(), Some(child.id.clone()));
        assert_eq!(g.images().resolve_prefix("zz").unwrap(), None);
        assert_eq!(g.images().resolve_prefix("").unwrap(), None);
        // 17 images: two share a first hex digit.
        for i in 0..15 {
            g.images().create(&config(&shared, &i.to_string())).unwrap();
        }
        let ambiguous = (0..16u8)
            .map(|d| format!("{d:x}"))
            .find(|p| g.images().list().iter().filter(|i| i.id[7..].starts_with(p.as_str())).count() > 1);
        let p = ambiguous.unwrap();
        assert!(matches!(g.images().resolve_prefix(&p), Err(GraphError::Ambiguous(_))));

        let removed = g.images().delete(&child.id).unwrap();
        assert_eq!(removed, vec![LayerStore::chain_ids(&own)[2].clone()]);
        assert!(g.images().get(&child.id).is_none());
        assert!(LayerStore::chain_ids(&shared).iter().all(|c| g.layers().exists(c)));
        let reopened = Graph::new(tmp.path(), "overlay", &[]).unwrap();
        assert!(reopened.images().get(&child.id).is_none());
        assert_eq!(reopened.images().get(&parent.id).unwrap().parent, None);
        assert!(matches!(g.images().delete(&child.id), Err(GraphError::NoSuchImage(_))));
    }

    fn layers_on(g: &Graph, below: &[String], name: &str) -> Vec<String> {
        let parent = LayerStore::chain_ids(below).last().cloned();
        let tar = RawTar::default().file(name, b"x").done();
        vec![g.layers().register(parent.as_deref(), &mut Cursor::new(tar), None).unwrap().diff_id]
    }

    #[test]
    fn parent_file_survives_reopen() {
        let tmp = tempfile::tempdir().unwrap();
        let (a, b) = {
            let g = Graph::new(tmp.path(), "vfs", &[]).unwrap();
            let d = layers(&g, &["a"]);
            let a = g.images().create(&config(&d, "a")).unwrap().id;
            let b = g.images().create(&config(&d, "b")).unwrap().id;
            g.images().set_parent(&b, &a).unwrap();
            (a, b)
        };
        let g = Graph::new(tmp.path(), "vfs", &[]).unwrap();
        assert_eq!(g.images().get(&b).unwrap().parent, Some(a.clone()));
        assert_eq!(g.images().children(&a), vec![b]);
    }
}
