//! What the store knows of layer blobs on registries: for each diff ID, the
//! compressed blob digests it was pulled as or pushed as, and from which
//! repository. Push uses it to skip uploads the registry already has (a
//! `HEAD`) or can mount from another repository, and to keep the same blob
//! digests dockerd would. Kept in `<root>/distribution/<diff hex>.json`.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// One known blob of a layer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KnownBlob {
    /// `sha256:` of the compressed blob.
    pub digest: String,
    /// The blob's media type.
    pub media_type: String,
    /// Its size.
    pub size: i64,
    /// `host[:port]` of the registry.
    pub registry: String,
    /// Repository path on that registry.
    pub repository: String,
}

/// The metadata directory.
#[derive(Debug, Clone)]
pub struct DistributionMetadata {
    dir: PathBuf,
}

impl DistributionMetadata {
    /// Metadata under `<root>/distribution`.
    pub fn new(root: &Path) -> DistributionMetadata {
        DistributionMetadata { dir: root.join("distribution") }
    }

    fn path(&self, diff_id: &str) -> PathBuf {
        self.dir.join(format!("{}.json", diff_id.trim_start_matches("sha256:")))
    }

    /// Blobs known for a layer, newest first.
    pub fn get(&self, diff_id: &str) -> Vec<KnownBlob> {
        std::fs::read(self.path(diff_id)).ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or_default()
    }

    /// Records a blob for a layer (best effort: losing this only costs an
    /// upload later). Written whole through a temp file and a rename.
    pub fn add(&self, diff_id: &str, blob: KnownBlob) {
        let mut known = self.get(diff_id);
        known.retain(|k| !(k.digest == blob.digest && k.registry == blob.registry && k.repository == blob.repository));
        known.insert(0, blob);
        known.truncate(16);
        let path = self.path(diff_id);
        let result = std::fs::create_dir_all(&self.dir).and_then(|()| {
            let tmp = path.with_extension("json.tmp");
            std::fs::write(&tmp, serde_json::to_vec(&known).unwrap_or_default())?;
            std::fs::rename(&tmp, &path)
        });
        if let Err(e) = result {
            tracing::warn!("{}: cannot record layer blob: {e}", path.display());
        }
    }
}
