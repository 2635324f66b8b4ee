//! The container store: every container in memory, each behind its own
//! lock, with the name index, and their directories under
//! `<root>/containers/` (Docker 1.2's `daemon.containers` + `containerGraph`
//! names, `Daemon.Get`, `Daemon.restore`).
//!
//! Lookups accept a full ID, a name with or without `/`, or a unique ID
//! prefix, tried in that order as dockerd does. Names are reserved before a
//! create does its slow work, so two creates cannot take one name.

use std::collections::HashMap;
use std::fs::DirBuilder;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use parking_lot::{Mutex, RwLock};
use runconfig::container::HostConfig;

use crate::container::{CONFIG_FILE, Container, HOSTCONFIG_FILE, rfc3339_nano};
use crate::error::ContainerError;

/// The exit code recorded for a container that was running when the daemon
/// died: its real status went with the daemon (what was left of the
/// container is killed when the store loads), and 255 is what no normal
/// exit or signal death reports, so a restart policy and the user can tell
/// "lost" from "exited".
pub const LOST_EXIT_CODE: i64 = 255;

/// A shared, lockable container.
pub type Handle = Arc<Mutex<Container>>;

/// The store. Cheap operations only under its lock; files are written by
/// the caller's blocking task.
pub struct ContainerStore {
    dir: PathBuf,
    inner: RwLock<Inner>,
}

#[derive(Default)]
struct Inner {
    by_id: HashMap<String, Handle>,
    /// Name (without `/`) → ID; a reserved name maps to the ID being created.
    names: HashMap<String, String>,
}

impl ContainerStore {
    /// Loads every container under `dir` (blocking). A directory without a
    /// config is a create cut short and is removed; containers that were
    /// running are marked exited with [`LOST_EXIT_CODE`] (restart policies
    /// come later).
    pub fn load(dir: &Path) -> Result<ContainerStore, ContainerError> {
        let store = ContainerStore { dir: dir.to_path_buf(), inner: RwLock::new(Inner::default()) };
        let entries = std::fs::read_dir(dir).map_err(ContainerError::io("-", dir))?;
        for entry in entries {
            let entry = entry.map_err(ContainerError::io("-", dir))?;
            let id = entry.file_name().to_string_lossy().into_owned();
            let path = entry.path();
            if !path.join(CONFIG_FILE).exists() {
                tracing::warn!(container = %id, "removing a container directory without a config (create cut short)");
                if let Err(e) = std::fs::remove_dir_all(&path) {
                    tracing::warn!(container = %id, error = %e, "could not remove");
                }
                continue;
            }
            let mut c = match store.read(&id) {
                Ok(c) => c,
                Err(e) => {
                    tracing::error!(container = %id, error = %e, "skipping an unreadable container");
                    continue;
                }
            };
            if c.state.running || c.state.removal_in_progress {
                let was_running = c.state.running;
                // After a SIGKILL of the daemon its containers still run,
                // unsupervised: kill them, as Docker 1.2 made sure none
                // outlived its daemon, before they are marked exited.
                match execdriver::reap_leftovers(&id) {
                    Ok(0) => {}
                    Ok(n) => {
                        tracing::info!(container = %id, processes = n, "killed what a previous daemon left running")
                    }
                    Err(e) => {
                        tracing::error!(container = %id, error = %e, "could not kill what a previous daemon left running")
                    }
                }
                c.state.running = false;
                c.state.paused = false;
                c.state.restarting = false;
                c.state.removal_in_progress = false;
                c.state.pid = 0;
                if was_running {
                    c.state.exit_code = LOST_EXIT_CODE;
                    c.state.finished_at = rfc3339_nano(SystemTime::now());
                }
                if let Err(e) = store.save(&c) {
                    tracing::error!(container = %id, error = %e, "could not save the container's new state");
                }
            }
            let mut inner = store.inner.write();
            if let Some(other) = inner.names.get(&c.name) {
                tracing::warn!(container = %id, name = %c.name, holder = %other, "name already taken; container kept without it");
                c.name = c.id.clone();
            }
            inner.names.insert(c.name.clone(), c.id.clone());
            inner.by_id.insert(c.id.clone(), Arc::new(Mutex::new(c)));
        }
        Ok(store)
    }

    fn read(&self, id: &str) -> Result<Container, ContainerError> {
        let dir = self.dir.join(id);
        let path = dir.join(CONFIG_FILE);
        let raw = std::fs::read(&path).map_err(ContainerError::io(id, &path))?;
        let mut c: Container = serde_json::from_slice(&raw).map_err(|source| ContainerError::Corrupt {
            id: id.to_string(),
            path: path.clone(),
            source,
        })?;
        let hc_path = dir.join(HOSTCONFIG_FILE);
        c.host_config = match std::fs::read(&hc_path) {
            Ok(raw) => serde_json::from_slice::<HostConfig>(&raw).map_err(|source| ContainerError::Corrupt {
                id: id.to_string(),
                path: hc_path.clone(),
                source,
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => HostConfig::default(),
            Err(e) => return Err(ContainerError::io(id, &hc_path)(e)),
        };
        if c.id != id {
            c.id = id.to_string();
        }
        Ok(c)
    }

    /// `<root>/containers`.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Makes the container's directory (mode 0700).
    pub fn create_dir(&self, id: &str) -> Result<PathBuf, ContainerError> {
        let dir = self.dir.join(id);
        DirBuilder::new().mode(0o700).create(&dir).map_err(ContainerError::io(id, &dir))?;
        Ok(dir)
    }

    /// Writes the host config when it changed, then the config (blocking,
    /// atomic each; not fsynced, see [`crate::atomic::replace_file`]).
    pub fn save(&self, c: &Container) -> Result<(), ContainerError> {
        let dir = self.dir.join(&c.id);
        let write = |name: &str, bytes: Vec<u8>| {
            crate::atomic::replace_file(&dir.join(name), &bytes)
                .map_err(|source| ContainerError::Write { id: c.id.clone(), source })
        };
        let json = |v: serde_json::Result<Vec<u8>>, name: &str| {
            v.map_err(|source| ContainerError::Corrupt { id: c.id.clone(), path: dir.join(name), source })
        };
        let host_config = json(serde_json::to_vec(&c.host_config), HOSTCONFIG_FILE)?;
        // Most saves are state changes (start, exit, pause) that leave the
        // host config as it was: reading it back costs less than a write.
        if std::fs::read(dir.join(HOSTCONFIG_FILE)).ok().as_ref() != Some(&host_config) {
            write(HOSTCONFIG_FILE, host_config)?;
        }
        write(CONFIG_FILE, json(serde_json::to_vec(c), CONFIG_FILE)?)
    }

    /// Reserves `name` for `id`; the holder's ID when taken.
    pub fn reserve_name(&self, name: &str, id: &str) -> Result<(), ContainerError> {
        let mut inner = self.inner.write();
        match inner.names.get(name) {
            Some(holder) if holder != id => {
                Err(ContainerError::NameInUse { name: name.to_string(), id: holder.clone() })
            }
            _ => {
                inner.names.insert(name.to_string(), id.to_string());
                Ok(())
            }
        }
    }

    /// Gives a reserved name back (only if `id` still holds it).
    pub fn release_name(&self, name: &str, id: &str) {
        let mut inner = self.inner.write();
        if inner.names.get(name).is_some_and(|holder| holder == id) {
            inner.names.remove(name);
        }
    }

    /// Adds a container whose files are written and whose name is reserved.
    pub fn insert(&self, c: Container) -> Handle {
        let handle = Arc::new(Mutex::new(c.clone()));
        let mut inner = self.inner.write();
        inner.names.insert(c.name.clone(), c.id.clone());
        inner.by_id.insert(c.id, handle.clone());
        handle
    }

    /// Finds a container by full ID, name (with or without `/`), or unique
    /// ID prefix.
    pub fn get(&self, name: &str) -> Result<Handle, ContainerError> {
        let inner = self.inner.read();
        if let Some(c) = inner.by_id.get(name) {
            return Ok(c.clone());
        }
        let bare = name.strip_prefix('/').unwrap_or(name);
        if let Some(c) = inner.names.get(bare).and_then(|id| inner.by_id.get(id)) {
            return Ok(c.clone());
        }
        if !name.is_empty() && name.bytes().all(|b| b.is_ascii_hexdigit()) {
            let mut found = inner.by_id.iter().filter(|(id, _)| id.starts_with(name));
            if let Some((_, c)) = found.next() {
                if found.next().is_some() {
                    return Err(ContainerError::Ambiguous(name.to_string()));
                }
                return Ok(c.clone());
            }
        }
        Err(ContainerError::NoSuchContainer(name.to_string()))
    }

    /// Snapshots of every container, in no particular order.
    pub fn list(&self) -> Vec<Container> {
        let handles: Vec<Handle> = self.inner.read().by_id.values().cloned().collect();
        handles.iter().map(|h| h.lock().clone()).collect()
    }

    /// Number of containers.
    pub fn len(&self) -> usize {
        self.inner.read().by_id.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Forgets a container and its name (its files are the caller's).
    pub fn forget(&self, id: &str) {
        let mut inner = self.inner.write();
        if let Some(c) = inner.by_id.remove(id) {
            let name = c.lock().name.clone();
            if inner.names.get(&name).is_some_and(|holder| holder == id) {
                inner.names.remove(&name);
            }
        }
    }

    /// Moves `id` from its name to `new` (already validated); the caller
    /// saves the container.
    pub fn rename(&self, id: &str, new: &str) -> Result<String, ContainerError> {
        let mut inner = self.inner.write();
        let handle = inner.by_id.get(id).cloned().ok_or_else(|| ContainerError::NoSuchContainer(id.to_string()))?;
        if let Some(holder) = inner.names.get(new) {
            return Err(ContainerError::NameInUse { name: new.to_string(), id: holder.clone() });
        }
        let mut c = handle.lock();
        let old = std::mem::replace(&mut c.name, new.to_string());
        inner.names.remove(&old);
        inner.names.insert(new.to_string(), id.to_string());
        Ok(old)
    }

    /// A container using `image_id`, running ones first: (short ID, running).
    pub fn used_by_image(&self, image_id: &str) -> Option<(String, bool)> {
        // Running ones first, then the oldest: the same answer every time.
        let mut users: Vec<(bool, String, String)> = self
            .list()
            .into_iter()
            .filter(|c| c.image == image_id)
            .map(|c| (!c.state.running, c.created.clone(), c.short_id().to_string()))
            .collect();
        users.sort();
        users.into_iter().next().map(|(stopped, _, id)| (id, !stopped))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn container(id: &str, name: &str) -> Container {
        Container { id: id.to_string(), name: name.to_string(), image: "sha256:i".into(), ..Default::default() }
    }

    fn add(store: &ContainerStore, c: Container) {
        store.create_dir(&c.id).unwrap();
        store.reserve_name(&c.name, &c.id).unwrap();
        store.save(&c).unwrap();
        store.insert(c);
    }

    #[test]
    fn lookup_by_id_name_and_prefix() {
        let tmp = tempfile::tempdir().unwrap();
        let store = ContainerStore::load(tmp.path()).unwrap();
        add(&store, container("abc123", "web"));
        add(&store, container("abd456", "db"));
        assert_eq!(store.get("abc123").unwrap().lock().name, "web");
        assert_eq!(store.get("/web").unwrap().lock().id, "abc123");
        assert_eq!(store.get("db").unwrap().lock().id, "abd456");
        assert_eq!(store.get("abd").unwrap().lock().id, "abd456");
        assert_eq!(store.get("ab").unwrap_err().to_string(), "Multiple IDs found with provided prefix: ab");
        assert_eq!(store.get("nope").unwrap_err().to_string(), "No such container: nope");
        let err = store.reserve_name("web", "other").unwrap_err();
        assert!(
            err.to_string().starts_with("Conflict. The container name \"/web\" is already in use by container abc123.")
        );
        assert_eq!(err.kind(), engine::ErrorKind::Conflict);
    }

    #[test]
    fn rename_and_forget_free_names() {
        let tmp = tempfile::tempdir().unwrap();
        let store = ContainerStore::load(tmp.path()).unwrap();
        add(&store, container("abc123", "web"));
        add(&store, container("abd456", "db"));
        assert!(store.rename("abc123", "db").is_err());
        assert_eq!(store.rename("abc123", "web2").unwrap(), "web");
        assert!(store.get("web").is_err());
        store.reserve_name("web", "x").unwrap();
        store.forget("abc123");
        assert!(store.get("web2").is_err());
        store.reserve_name("web2", "y").unwrap();
    }

    #[test]
    fn reload_marks_running_containers_exited_and_drops_half_creates() {
        let tmp = tempfile::tempdir().unwrap();
        {
            let store = ContainerStore::load(tmp.path()).unwrap();
            let mut c = container("abc123", "web");
            c.state.running = true;
            c.state.pid = 42;
            c.state.started_at = rfc3339_nano(SystemTime::now());
            c.host_config.network_mode = "none".into();
            add(&store, c);
            store.create_dir("half").unwrap();
            std::fs::write(tmp.path().join("half").join(HOSTCONFIG_FILE), "{}").unwrap();
        }
        let store = ContainerStore::load(tmp.path()).unwrap();
        assert!(!tmp.path().join("half").exists());
        let c = store.get("web").unwrap().lock().clone();
        assert!(!c.state.running);
        assert_eq!((c.state.pid, c.state.exit_code, c.state.status()), (0, LOST_EXIT_CODE, "exited"));
        assert_eq!(c.host_config.network_mode, "none");
        assert_eq!(store.used_by_image("sha256:i"), Some(("abc123".to_string(), false)));
    }
}
