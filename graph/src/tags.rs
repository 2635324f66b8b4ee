//! The TagStore (`<root>/repositories-<driver>`): repository → tag (or
//! `sha256:` digest) → image ID, in Docker 1.2's file shape
//! `{"Repositories":{"busybox":{"latest":"sha256:..."}}}`. Repository names
//! are the short local form (`busybox`, `user/app`,
//! `127.0.0.1:5000/busybox`) from [`registry::reference`].

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::PathBuf;

use parking_lot::RwLock;
use serde::{Deserialize, Serialize};

use crate::error::{GraphError, Result};
use crate::layers::{is_hex64, write_atomic};

type Repositories = BTreeMap<String, BTreeMap<String, String>>;

#[derive(Serialize, Deserialize, Default)]
struct File {
    #[serde(rename = "Repositories", default)]
    repositories: Repositories,
}

/// The TagStore.
#[derive(Debug)]
pub struct TagStore {
    path: PathBuf,
    repos: RwLock<Repositories>,
}

fn is_digest(key: &str) -> bool {
    key.strip_prefix("sha256:").is_some_and(is_hex64)
}

impl TagStore {
    /// Loads (or starts empty) the file at `path`.
    pub(crate) fn open(path: PathBuf) -> Result<TagStore> {
        let repos = match fs::read(&path) {
            Ok(bytes) => {
                let file: File = serde_json::from_slice(&bytes)
                    .map_err(|e| GraphError::io(&path, io::Error::new(io::ErrorKind::InvalidData, e)))?;
                file.repositories
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Repositories::new(),
            Err(e) => return Err(GraphError::io(path, e)),
        };
        Ok(TagStore { path, repos: RwLock::new(repos) })
    }

    /// Writes the whole map; called with the write lock held so writes
    /// reach the disk in the order they were made.
    fn save(&self, repos: &Repositories) -> Result<()> {
        let file = File { repositories: repos.clone() };
        let bytes = serde_json::to_vec(&file).map_err(|e| GraphError::io(&self.path, io::Error::other(e)))?;
        write_atomic(&self.path, &bytes)
    }

    /// Applies `change` and persists; the memory copy changes only if the
    /// file was written.
    fn update(&self, change: impl FnOnce(&mut Repositories)) -> Result<()> {
        let mut repos = self.repos.write();
        let mut next = repos.clone();
        change(&mut next);
        if next != *repos {
            self.save(&next)?;
            *repos = next;
        }
        Ok(())
    }

    /// Points `repo:tag` at `image_id` (atomic write). Without `force`, a
    /// tag that names another image is a conflict.
    pub fn set(&self, repo: &str, tag: &str, image_id: &str, force: bool) -> Result<()> {
        registry::reference::validate_tag(tag).map_err(|e| GraphError::InvalidReference(e.to_string()))?;
        if repo.is_empty() {
            return Err(GraphError::InvalidReference("repository name must not be empty".to_string()));
        }
        if !force
            && let Some(old) = self.get(repo, tag)
            && old != image_id
        {
            return Err(GraphError::Conflict(format!(
                "Conflict: Tag {tag} is already set to image {old}, if you want to replace it, please use -f option"
            )));
        }
        self.update(|r| {
            r.entry(repo.to_string()).or_default().insert(tag.to_string(), image_id.to_string());
        })
    }

    /// Records `repo@digest` for `image_id`.
    pub fn set_digest(&self, repo: &str, digest: &str, image_id: &str) -> Result<()> {
        if !is_digest(digest) {
            return Err(GraphError::InvalidReference(format!("invalid digest format: {digest}")));
        }
        self.update(|r| {
            r.entry(repo.to_string()).or_default().insert(digest.to_string(), image_id.to_string());
        })
    }

    /// The image `repo:tag` (or `repo@digest`) names.
    pub fn get(&self, repo: &str, tag_or_digest: &str) -> Option<String> {
        self.repos.read().get(repo)?.get(tag_or_digest).cloned()
    }

    /// Removes `repo:tag` (or `repo@digest`); whether it existed.
    pub fn delete(&self, repo: &str, tag_or_digest: &str) -> Result<bool> {
        let mut existed = false;
        self.update(|r| {
            if let Some(tags) = r.get_mut(repo) {
                existed = tags.remove(tag_or_digest).is_some();
                if tags.is_empty() {
                    r.remove(repo);
                }
            }
        })?;
        Ok(existed)
    }

    /// `repo:tag` names of an image, sorted.
    pub fn tags_of(&self, image_id: &str) -> Vec<String> {
        self.names_of(image_id, false)
    }

    /// `repo@sha256:...` names of an image, sorted.
    pub fn digests_of(&self, image_id: &str) -> Vec<String> {
        self.names_of(image_id, true)
    }

    fn names_of(&self, image_id: &str, digests: bool) -> Vec<String> {
        let mut out: Vec<String> = self
            .repos
            .read()
            .iter()
            .flat_map(|(repo, tags)| {
                tags.iter()
                    .filter(|(key, id)| *id == image_id && is_digest(key) == digests)
                    .map(move |(key, _)| if digests { format!("{repo}@{key}") } else { format!("{repo}:{key}") })
            })
            .collect();
        out.sort();
        out
    }

    /// Everything: repository → tag/digest → image ID.
    pub fn all(&self) -> BTreeMap<String, BTreeMap<String, String>> {
        self.repos.read().clone()
    }

    /// Drops every name whose image `keep` rejects (start-up: names of
    /// images a crash lost).
    pub(crate) fn retain_images(&self, keep: impl Fn(&str) -> bool) -> Result<()> {
        self.update(|r| {
            for tags in r.values_mut() {
                tags.retain(|_, id| keep(id));
            }
            r.retain(|_, tags| !tags.is_empty());
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(c: char) -> String {
        format!("sha256:{}", c.to_string().repeat(64))
    }

    #[test]
    fn set_get_conflict_force_and_persist() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("repositories-vfs");
        let digest = format!("sha256:{}", "d".repeat(64));
        {
            let t = TagStore::open(path.clone()).unwrap();
            t.set("busybox", "latest", &id('a'), false).unwrap();
            t.set("busybox", "latest", &id('a'), false).unwrap();
            let err = t.set("busybox", "latest", &id('b'), false).unwrap_err();
            assert_eq!(
                err.to_string(),
                format!(
                    "Conflict: Tag latest is already set to image {}, if you want to replace it, please use -f option",
                    id('a')
                )
            );
            assert!(matches!(err, GraphError::Conflict(_)));
            t.set("busybox", "latest", &id('b'), true).unwrap();
            t.set("busybox", "1.36", &id('b'), false).unwrap();
            t.set("127.0.0.1:5000/app", "v1", &id('b'), false).unwrap();
            t.set_digest("busybox", &digest, &id('b')).unwrap();
            assert!(matches!(t.set_digest("busybox", "sha256:short", &id('b')), Err(GraphError::InvalidReference(_))));
        }
        let t = TagStore::open(path.clone()).unwrap();
        assert_eq!(t.get("busybox", "latest"), Some(id('b')));
        assert_eq!(t.get("busybox", &digest), Some(id('b')));
        assert_eq!(t.tags_of(&id('b')), ["127.0.0.1:5000/app:v1", "busybox:1.36", "busybox:latest"]);
        assert_eq!(t.digests_of(&id('b')), [format!("busybox@{digest}")]);
        let on_disk: serde_json::Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
        assert_eq!(on_disk["Repositories"]["busybox"]["latest"], id('b'));
        assert!(t.delete("busybox", "latest").unwrap());
        assert!(!t.delete("busybox", "latest").unwrap());
        t.delete("127.0.0.1:5000/app", "v1").unwrap();
        assert!(!t.all().contains_key("127.0.0.1:5000/app"));
        assert!(TagStore::open(path).unwrap().get("busybox", "latest").is_none());
    }

    #[test]
    fn bad_tags_are_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let t = TagStore::open(tmp.path().join("r")).unwrap();
        assert!(matches!(t.set("busybox", "bad:tag", &id('a'), false), Err(GraphError::InvalidReference(_))));
        assert!(matches!(t.set("busybox", "", &id('a'), false), Err(GraphError::InvalidReference(_))));
        assert!(t.all().is_empty());
        assert!(!tmp.path().join("r").exists());
    }

    #[test]
    fn retain_drops_missing_images() {
        let tmp = tempfile::tempdir().unwrap();
        let t = TagStore::open(tmp.path().join("r")).unwrap();
        t.set("a", "1", &id('a'), false).unwrap();
        t.set("b", "1", &id('b'), false).unwrap();
        t.retain_images(|i| i == id('a')).unwrap();
        assert_eq!(t.all().keys().collect::<Vec<_>>(), ["a"]);
    }
}
