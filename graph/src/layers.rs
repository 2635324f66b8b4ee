//! The layer store: layers by chain ID (`sha256(parent-chain + " " +
//! diff-id)`, as dockerd since 1.10), each with its diff ID, parent, size
//! and a tar-split record so its tar can be given back byte for byte (which
//! keeps diff IDs and so image IDs stable across save/load and push/pull).
//!
//! On disk: `<root>/layers/<chain hex>/{diff,parent,size,tar-split.gz}`;
//! contents in the driver under the chain hex. A layer appears only once
//! whole: extraction goes to a staging ID and is renamed into place.

use std::io::Read;

use crate::error::Result;

/// What is known of a stored layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerInfo {
    /// `sha256:<hex>` chain ID.
    pub chain_id: String,
    /// `sha256:<hex>` of the uncompressed tar.
    pub diff_id: String,
    /// The parent's chain ID.
    pub parent: Option<String>,
    /// Bytes of file contents in this layer.
    pub size: i64,
}

/// The layer store.
#[derive(Debug)]
pub struct LayerStore {
    _private: (),
}

/// A layer extracted to a staging place, not yet visible. Dropping it
/// removes what was extracted.
#[derive(Debug)]
pub struct StagedLayer {
    _private: (),
}

impl StagedLayer {
    /// The diff ID computed while extracting.
    pub fn diff_id(&self) -> &str {
        ""
    }
}

impl LayerStore {
    /// `sha256` chain ID of `diff_id` on top of `parent`.
    pub fn chain_id(parent: Option<&str>, diff_id: &str) -> String {
        let _ = (parent, diff_id);
        String::new()
    }

    /// Whether the layer is stored (whole).
    pub fn exists(&self, chain_id: &str) -> bool {
        let _ = chain_id;
        false
    }

    /// The layer's record.
    pub fn get(&self, chain_id: &str) -> Option<LayerInfo> {
        let _ = chain_id;
        None
    }

    /// Whether layers can be extracted without their parent's contents
    /// (overlay: yes, so a pull extracts every layer at once; vfs: no).
    pub fn independent_diffs(&self) -> bool {
        false
    }

    /// Extracts an uncompressed layer tar to a staging place (blocking),
    /// reading `tar` to its end. `parent` must exist unless
    /// `independent_diffs()`. Fails, leaving nothing, on a bad entry or when
    /// `expected_diff_id` is given and differs.
    pub fn stage(
        &self,
        parent: Option<&str>,
        tar: &mut dyn Read,
        expected_diff_id: Option<&str>,
    ) -> Result<StagedLayer> {
        let _ = (parent, tar, expected_diff_id);
        Err(crate::GraphError::BadLayer("not built yet".into()))
    }

    /// Makes a staged layer visible under its chain ID (its parent must
    /// exist by now). Committing a layer that already exists keeps the old
    /// one and drops the staged copy.
    pub fn commit(&self, staged: StagedLayer) -> Result<LayerInfo> {
        let _ = staged;
        Err(crate::GraphError::BadLayer("not built yet".into()))
    }

    /// `stage` then `commit`.
    pub fn register(
        &self,
        parent: Option<&str>,
        tar: &mut dyn Read,
        expected_diff_id: Option<&str>,
    ) -> Result<LayerInfo> {
        let staged = self.stage(parent, tar, expected_diff_id)?;
        self.commit(staged)
    }

    /// The layer's tar, byte-identical to the one registered.
    pub fn tar(&self, chain_id: &str) -> Result<Box<dyn Read + Send>> {
        let _ = chain_id;
        Err(crate::GraphError::NoSuchImage(chain_id.to_string()))
    }

    /// Removes a layer and returns whether it was there. The caller (the
    /// image store) decides when a layer is no longer used.
    pub fn remove(&self, chain_id: &str) -> Result<bool> {
        let _ = chain_id;
        Ok(false)
    }
}
