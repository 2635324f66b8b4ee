//! Images: a config JSON kept byte for byte under `<root>/graph/<hex>/json`,
//! its ID the config's sha256 (content-addressed, as dockerd since 1.10, so
//! image IDs match across registries, `save`/`load` and other daemons).
//! `<root>/graph/<hex>/parent` names the parent of committed/built images.

use serde::{Deserialize, Serialize};

use crate::error::Result;

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
    _private: (),
}

impl ImageStore {
    /// Stores a config (blocking; atomic). Every layer of its `rootfs` must
    /// already be in the layer store. Storing an existing image is a no-op
    /// that returns it.
    pub fn create(&self, config: &[u8]) -> Result<Image> {
        let _ = config;
        Err(crate::GraphError::BadConfig("not built yet".into()))
    }

    /// Records `parent` as the parent of `id`.
    pub fn set_parent(&self, id: &str, parent: &str) -> Result<()> {
        let _ = (id, parent);
        Ok(())
    }

    /// The image with this full ID (`sha256:<hex>`).
    pub fn get(&self, id: &str) -> Option<Image> {
        let _ = id;
        None
    }

    /// Every image.
    pub fn list(&self) -> Vec<Image> {
        Vec::new()
    }

    /// Images whose parent is `id`.
    pub fn children(&self, id: &str) -> Vec<String> {
        let _ = id;
        Vec::new()
    }

    /// The full ID for a hex prefix (with or without `sha256:`), `None` if
    /// nothing matches; `Ambiguous` if several do.
    pub fn resolve_prefix(&self, prefix: &str) -> Result<Option<String>> {
        let _ = prefix;
        Ok(None)
    }

    /// Deletes an image and every layer no other image uses; returns the
    /// deleted layers' chain IDs.
    pub fn delete(&self, id: &str) -> Result<Vec<String>> {
        let _ = id;
        Ok(Vec::new())
    }
}
