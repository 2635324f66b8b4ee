//! The client's config file: `$DOCKER_CONFIG/config.json` (default
//! `~/.docker/config.json`), falling back to the old `~/.dockercfg`. Keys
//! other than `auths` are kept as they are when saving.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::auth::AuthConfig;

/// The key Docker Hub credentials are stored under.
pub const INDEX_SERVER: &str = "https://index.docker.io/v1/";

/// A loaded config file.
#[derive(Debug, Clone, Default)]
pub struct ConfigFile {
    /// Where `save` writes (always the `config.json` form).
    pub path: PathBuf,
    /// Server key → credentials (`auth` decoded into username/password).
    pub auths: BTreeMap<String, AuthConfig>,
    /// Other top-level keys, kept.
    pub other: serde_json::Map<String, serde_json::Value>,
}

impl ConfigFile {
    /// Loads from `dir` (else `$DOCKER_CONFIG`, else `~/.docker`); a
    /// missing file is an empty config.
    pub fn load(dir: Option<&Path>) -> std::io::Result<ConfigFile> {
        let _ = dir;
        Ok(ConfigFile::default())
    }

    /// Credentials for a registry (`docker.io` and Hub spellings map to
    /// [`INDEX_SERVER`]); empty when none.
    pub fn auth_for(&self, registry: &str) -> AuthConfig {
        let _ = registry;
        AuthConfig::default()
    }

    /// Stores credentials for a registry.
    pub fn set_auth(&mut self, registry: &str, auth: AuthConfig) {
        let _ = (registry, auth);
    }

    /// Forgets a registry's credentials; whether there were any.
    pub fn remove_auth(&mut self, registry: &str) -> bool {
        let _ = registry;
        false
    }

    /// Writes the file atomically with mode 0600.
    pub fn save(&self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The config-file key for a registry domain: [`INDEX_SERVER`] for Docker
/// Hub, the `host[:port]` otherwise.
pub fn server_key(domain: &str) -> String {
    domain.to_string()
}
