//! Image JSON as API v1.24 serves it and today's clients read it
//! (`shared/reference/client-compat.md` §7 items 12, 15, 21).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One element of `GET /images/json`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImageSummary {
    /// `sha256:<64 hex>`.
    pub id: String,
    /// Parent image ID or `""`.
    pub parent_id: String,
    /// `["repo:tag", ...]`; `["<none>:<none>"]` when untagged.
    pub repo_tags: Vec<String>,
    /// `["repo@sha256:...", ...]`; `["<none>@<none>"]` for an untagged image
    /// known by digest only, else empty.
    pub repo_digests: Vec<String>,
    /// Unix seconds.
    pub created: i64,
    /// The full size (all layers): the CLI's SIZE column since API 1.24.
    pub size: i64,
    /// Same as `Size` (the pre-1.24 meaning of "all layers").
    pub virtual_size: i64,
    /// Later APIs' field; -1 means "not computed".
    pub shared_size: i64,
    /// Image labels (`Config.Labels`); `{}` when none.
    pub labels: BTreeMap<String, String>,
    /// Later APIs' field; -1 means "not computed".
    pub containers: i64,
}

/// `GET /images/{name}/json`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImageInspect {
    /// `sha256:<64 hex>`.
    pub id: String,
    /// Every `repo:tag` naming the image.
    pub repo_tags: Vec<String>,
    /// Every `repo@digest` naming the image.
    pub repo_digests: Vec<String>,
    /// Parent image ID or `""`.
    pub parent: String,
    /// Commit message.
    pub comment: String,
    /// RFC 3339 with nanoseconds.
    pub created: String,
    /// ID of the container it was committed from.
    pub container: String,
    /// Config of that container (as stored in the image, passed through).
    pub container_config: serde_json::Value,
    /// Version of Docker that built it.
    pub docker_version: String,
    /// Author.
    pub author: String,
    /// The image's runtime config (passed through as stored; `null` if none).
    pub config: serde_json::Value,
    /// `amd64`, ...
    pub architecture: String,
    /// `linux`.
    pub os: String,
    /// All layers' size.
    pub size: i64,
    /// Same as `Size`.
    pub virtual_size: i64,
    /// Storage driver and its data.
    pub graph_driver: GraphDriverData,
    /// The layer diff IDs.
    #[serde(rename = "RootFS")]
    pub root_fs: RootFs,
}

/// `GraphDriver` of image inspect.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GraphDriverData {
    /// Driver name.
    pub name: String,
    /// Driver-specific paths (`LowerDir`, `UpperDir`, ...).
    pub data: BTreeMap<String, String>,
}

/// `RootFS` of image inspect.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RootFs {
    /// `layers`.
    #[serde(rename = "Type")]
    pub kind: String,
    /// `sha256:...` diff IDs, bottom first.
    pub layers: Vec<String>,
}

/// One element of `GET /images/{name}/history`, newest first.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct HistoryItem {
    /// Image ID for the entry that is the image itself, else `<missing>`.
    pub id: String,
    /// Unix seconds.
    pub created: i64,
    /// The command that made the layer.
    pub created_by: String,
    /// `repo:tag`s of that image, or null.
    pub tags: Option<Vec<String>>,
    /// Bytes the step added.
    pub size: i64,
    /// Step comment.
    pub comment: String,
}

/// One element of `DELETE /images/{name}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum DeleteItem {
    /// A `repo:tag` (or `repo@digest`) removed.
    Untagged(String),
    /// An image ID deleted.
    Deleted(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delete_items_are_single_key_objects() {
        let items = vec![DeleteItem::Untagged("busybox:latest".into()), DeleteItem::Deleted("sha256:ab".into())];
        assert_eq!(
            serde_json::to_string(&items).unwrap(),
            r#"[{"Untagged":"busybox:latest"},{"Deleted":"sha256:ab"}]"#
        );
    }

    #[test]
    fn summary_keys_are_pascal_case() {
        let v = serde_json::to_value(ImageSummary::default()).unwrap();
        for key in ["Id", "ParentId", "RepoTags", "RepoDigests", "Created", "Size", "VirtualSize", "Labels"] {
            assert!(v.get(key).is_some(), "{key}");
        }
        let v = serde_json::to_value(ImageInspect::default()).unwrap();
        assert!(v.get("RootFS").unwrap().get("Type").is_some());
    }
}
