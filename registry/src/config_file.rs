//! The client's config file: `$DOCKER_CONFIG/config.json` (default
//! `~/.docker/config.json`), falling back to the old `~/.dockercfg` (Docker
//! 1.2's only file: a top-level map of server → `{auth, email}`). Keys other
//! than `auths` are kept as they are when saving, which always writes the
//! `config.json` form.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::auth::{AuthConfig, decode_auth, encode_auth};

/// The key Docker Hub credentials are stored under.
pub const INDEX_SERVER: &str = "https://index.docker.io/v1/";

/// Host names that all mean Docker Hub.
const HUB_HOSTS: &[&str] = &["docker.io", "index.docker.io", "registry-1.docker.io"];

const CONFIG_FILE: &str = "config.json";
const LEGACY_FILE: &str = ".dockercfg";

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

fn context(path: &Path, what: &str, e: impl std::fmt::Display) -> io::Error {
    io::Error::other(format!("{what} {}: {e}", path.display()))
}

fn home_dir() -> Option<PathBuf> {
    std::env::var_os("HOME").filter(|h| !h.is_empty()).map(PathBuf::from)
}

/// `$DOCKER_CONFIG`, else `~/.docker`.
pub fn default_dir() -> Option<PathBuf> {
    match std::env::var_os("DOCKER_CONFIG").filter(|d| !d.is_empty()) {
        Some(dir) => Some(PathBuf::from(dir)),
        None => home_dir().map(|h| h.join(".docker")),
    }
}

impl ConfigFile {
    /// Loads from `dir` (else `$DOCKER_CONFIG`, else `~/.docker`); a
    /// missing file is an empty config. Only when neither `dir` nor
    /// `$DOCKER_CONFIG` is given is the legacy `~/.dockercfg` consulted, so
    /// an explicit directory never picks up the user's own credentials.
    pub fn load(dir: Option<&Path>) -> io::Result<ConfigFile> {
        let explicit = dir.is_some() || std::env::var_os("DOCKER_CONFIG").is_some_and(|d| !d.is_empty());
        let dir = match dir {
            Some(d) => d.to_path_buf(),
            None => {
                default_dir().ok_or_else(|| io::Error::other("cannot find the config directory: HOME is not set"))?
            }
        };
        let path = dir.join(CONFIG_FILE);
        let mut cfg = ConfigFile { path: path.clone(), ..Default::default() };
        match std::fs::read(&path) {
            Ok(bytes) => {
                cfg.parse_current(&bytes).map_err(|e| context(&path, "parsing", e))?;
                return Ok(cfg);
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(context(&path, "reading", e)),
        }
        if !explicit && let Some(legacy) = home_dir().map(|h| h.join(LEGACY_FILE)) {
            match std::fs::read(&legacy) {
                Ok(bytes) => cfg.parse_legacy(&bytes).map_err(|e| context(&legacy, "parsing", e))?,
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(context(&legacy, "reading", e)),
            }
        }
        Ok(cfg)
    }

    fn parse_current(&mut self, bytes: &[u8]) -> Result<(), serde_json::Error> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(());
        }
        let mut map: Map<String, Value> = serde_json::from_slice(bytes)?;
        if let Some(Value::Object(auths)) = map.remove("auths") {
            self.add_entries(auths)?;
        }
        self.other = map;
        Ok(())
    }

    fn parse_legacy(&mut self, bytes: &[u8]) -> Result<(), serde_json::Error> {
        let map: Map<String, Value> = serde_json::from_slice(bytes)?;
        self.add_entries(map)
    }

    fn add_entries(&mut self, entries: Map<String, Value>) -> Result<(), serde_json::Error> {
        for (server, value) in entries {
            let mut auth: AuthConfig = serde_json::from_value(value)?;
            if !auth.auth.is_empty()
                && let Some((user, password)) = decode_auth(&auth.auth)
            {
                auth.username = user;
                auth.password = password;
            }
            auth.serveraddress = server.clone();
            self.auths.insert(server, auth);
        }
        Ok(())
    }

    /// Credentials for a registry (`docker.io` and Hub spellings map to
    /// [`INDEX_SERVER`]); empty when none.
    pub fn auth_for(&self, registry: &str) -> AuthConfig {
        let want = server_key(registry);
        if let Some(found) = self.auths.get(&want) {
            return found.clone();
        }
        // Keys written by other tools may carry a scheme or path.
        self.auths.iter().find(|(key, _)| server_key(key) == want).map(|(_, auth)| auth.clone()).unwrap_or_default()
    }

    /// Stores credentials for a registry.
    pub fn set_auth(&mut self, registry: &str, auth: AuthConfig) {
        let key = server_key(registry);
        self.auths.retain(|k, _| server_key(k) != key);
        let mut auth = auth.resolved();
        auth.serveraddress = key.clone();
        self.auths.insert(key, auth);
    }

    /// Forgets a registry's credentials; whether there were any.
    pub fn remove_auth(&mut self, registry: &str) -> bool {
        let key = server_key(registry);
        let before = self.auths.len();
        self.auths.retain(|k, _| server_key(k) != key);
        self.auths.len() != before
    }

    /// The file's JSON: the kept keys plus `auths` with each entry's
    /// `auth` (and identity token, e-mail where set).
    pub fn to_json(&self) -> Value {
        let mut map = self.other.clone();
        let auths: Map<String, Value> = self
            .auths
            .iter()
            .map(|(server, a)| {
                let mut entry = Map::new();
                if let Some((user, password)) = a.credentials() {
                    entry.insert("auth".into(), Value::String(encode_auth(&user, &password)));
                }
                if !a.email.is_empty() {
                    entry.insert("email".into(), Value::String(a.email.clone()));
                }
                if !a.identitytoken.is_empty() {
                    entry.insert("identitytoken".into(), Value::String(a.identitytoken.clone()));
                }
                (server.clone(), Value::Object(entry))
            })
            .collect();
        map.insert("auths".into(), Value::Object(auths));
        Value::Object(map)
    }

    /// Writes the file atomically with mode 0600: a temporary file in the
    /// same directory, fsynced, renamed over the old one.
    pub fn save(&self) -> io::Result<()> {
        let dir = self.path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(|e| context(dir, "creating", e))?;
        let mut text = serde_json::to_vec_pretty(&self.to_json()).map_err(|e| context(&self.path, "encoding", e))?;
        text.push(b'\n');
        let name = self.path.file_name().and_then(|n| n.to_str()).unwrap_or(CONFIG_FILE);
        let tmp = dir.join(format!(".{name}.tmp{}", std::process::id()));
        let write = || -> io::Result<()> {
            let mut file =
                std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(&tmp)?;
            // An existing temp file keeps its old mode through `mode()`.
            file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
            file.write_all(&text)?;
            file.sync_all()
        };
        if let Err(e) = write() {
            let _ = std::fs::remove_file(&tmp);
            return Err(context(&tmp, "writing", e));
        }
        if let Err(e) = std::fs::rename(&tmp, &self.path) {
            let _ = std::fs::remove_file(&tmp);
            return Err(context(&self.path, "renaming onto", e));
        }
        // Best effort: the rename itself is durable only once the directory is.
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    }
}

/// The config-file key for a registry domain: [`INDEX_SERVER`] for Docker
/// Hub, the `host[:port]` otherwise (scheme and path dropped).
pub fn server_key(domain: &str) -> String {
    let host = hostname_of(domain);
    if HUB_HOSTS.contains(&host.to_ascii_lowercase().as_str()) || host.is_empty() {
        INDEX_SERVER.to_string()
    } else {
        host.to_string()
    }
}

/// `https://host:port/v1/` → `host:port`.
pub fn hostname_of(address: &str) -> &str {
    let rest = address.strip_prefix("https://").or_else(|| address.strip_prefix("http://")).unwrap_or(address);
    rest.split('/').next().unwrap_or(rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys() {
        for hub in ["docker.io", "index.docker.io", "registry-1.docker.io", INDEX_SERVER, "https://index.docker.io", ""]
        {
            assert_eq!(server_key(hub), INDEX_SERVER, "{hub}");
        }
        assert_eq!(server_key("127.0.0.1:5000"), "127.0.0.1:5000");
        assert_eq!(server_key("http://127.0.0.1:5000/"), "127.0.0.1:5000");
        assert_eq!(server_key("https://reg.example.com/v2/"), "reg.example.com");
    }

    #[test]
    fn round_trip_keeps_other_keys_and_mode() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(CONFIG_FILE);
        std::fs::write(
            &path,
            format!(
                r#"{{"auths":{{"https://index.docker.io/v1/":{{"auth":"{}"}},"http://h:5000/":{{"auth":"{}"}}}},"psFormat":"x","credsStore":""}}"#,
                encode_auth("hub", "pw"),
                encode_auth("u", "p")
            ),
        )
        .unwrap();
        let mut cfg = ConfigFile::load(Some(dir.path())).unwrap();
        let hub = cfg.auth_for("docker.io");
        assert_eq!((hub.username.as_str(), hub.password.as_str()), ("hub", "pw"));
        assert_eq!(cfg.auth_for("index.docker.io").username, "hub");
        let h = cfg.auth_for("h:5000");
        assert_eq!((h.username.as_str(), h.password.as_str()), ("u", "p"));
        assert!(cfg.auth_for("other:1").is_empty());

        cfg.set_auth("h:5000", AuthConfig { username: "u2".into(), password: "p2".into(), ..Default::default() });
        assert!(cfg.remove_auth("registry-1.docker.io"));
        assert!(!cfg.remove_auth("registry-1.docker.io"));
        cfg.save().unwrap();

        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let v: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(v["psFormat"], "x");
        assert_eq!(v["auths"]["h:5000"]["auth"], encode_auth("u2", "p2"));
        assert_eq!(v["auths"].as_object().unwrap().len(), 1);
        let again = ConfigFile::load(Some(dir.path())).unwrap();
        assert_eq!(again.auth_for("http://h:5000").username, "u2");
        // No temp file left behind.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn missing_and_bad_files() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = ConfigFile::load(Some(dir.path())).unwrap();
        assert!(cfg.auths.is_empty());
        assert_eq!(cfg.path, dir.path().join(CONFIG_FILE));
        std::fs::write(dir.path().join(CONFIG_FILE), "{nope").unwrap();
        let err = ConfigFile::load(Some(dir.path())).unwrap_err();
        assert!(err.to_string().contains("config.json"), "{err}");
    }

    #[test]
    fn legacy_format_parses() {
        let mut cfg = ConfigFile::default();
        cfg.parse_legacy(
            format!(r#"{{"https://index.docker.io/v1/":{{"auth":"{}","email":"a@b"}}}}"#, encode_auth("x", "y"))
                .as_bytes(),
        )
        .unwrap();
        let a = cfg.auth_for("docker.io");
        assert_eq!((a.username.as_str(), a.password.as_str(), a.email.as_str()), ("x", "y", "a@b"));
    }
}
