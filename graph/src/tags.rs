//! The TagStore (`<root>/repositories-<driver>`): repository → tag (or
//! `sha256:` digest) → image ID, in Docker 1.2's file shape
//! `{"Repositories":{"busybox":{"latest":"sha256:..."}}}`. Repository names
//! are the short local form (`busybox`, `user/app`,
//! `127.0.0.1:5000/busybox`) from [`registry::reference`].

use std::collections::BTreeMap;

use crate::error::Result;

/// The TagStore.
#[derive(Debug)]
pub struct TagStore {
    _private: (),
}

impl TagStore {
    /// Points `repo:tag` at `image_id` (atomic write). Without `force`, a
    /// tag that names another image is a conflict.
    pub fn set(&self, repo: &str, tag: &str, image_id: &str, force: bool) -> Result<()> {
        let _ = (repo, tag, image_id, force);
        Ok(())
    }

    /// Records `repo@digest` for `image_id`.
    pub fn set_digest(&self, repo: &str, digest: &str, image_id: &str) -> Result<()> {
        let _ = (repo, digest, image_id);
        Ok(())
    }

    /// The image `repo:tag` (or `repo@digest`) names.
    pub fn get(&self, repo: &str, tag_or_digest: &str) -> Option<String> {
        let _ = (repo, tag_or_digest);
        None
    }

    /// Removes `repo:tag` (or `repo@digest`); whether it existed.
    pub fn delete(&self, repo: &str, tag_or_digest: &str) -> Result<bool> {
        let _ = (repo, tag_or_digest);
        Ok(false)
    }

    /// `repo:tag` names of an image, sorted.
    pub fn tags_of(&self, image_id: &str) -> Vec<String> {
        let _ = image_id;
        Vec::new()
    }

    /// `repo@sha256:...` names of an image, sorted.
    pub fn digests_of(&self, image_id: &str) -> Vec<String> {
        let _ = image_id;
        Vec::new()
    }

    /// Everything: repository → tag/digest → image ID.
    pub fn all(&self) -> BTreeMap<String, BTreeMap<String, String>> {
        BTreeMap::new()
    }
}
