//! Credentials on the client side: the config file, and the
//! `X-Registry-Auth` header that carries an AuthConfig to the daemon for
//! pull, push and search (Go's `base64.URLEncoding` of its JSON).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE;
use registry::config_file::{ConfigFile, server_key};
use registry::{AuthConfig, Reference};

use crate::client::CliError;

/// The header's name.
pub const HEADER: &str = "X-Registry-Auth";

/// The header value for `auth`: `e30=` (`{}`) when there are none.
pub fn encode(auth: &AuthConfig) -> String {
    URL_SAFE.encode(serde_json::to_vec(auth).unwrap_or_else(|_| b"{}".to_vec()))
}

/// The user's config file; an unreadable one is reported and treated as
/// empty, as the docker CLI does, so a pull never fails over it.
pub fn load_config() -> ConfigFile {
    ConfigFile::load(None).unwrap_or_else(|e| {
        eprintln!("WARNING: Error loading config file: {e}");
        ConfigFile::default()
    })
}

/// The header value for a registry domain (`docker.io`, `host:port`).
pub fn header_for(domain: &str) -> String {
    encode(&load_config().auth_for(&server_key(domain)))
}

/// Parses an image reference the way the docker CLI refuses bad ones,
/// before anything is sent.
pub fn parse_reference(name: &str) -> Result<Reference, CliError> {
    Reference::parse(name).map_err(|e| CliError::Other(e.to_string()))
}

/// The registry host named by a `login`/`logout` argument, which may be a
/// URL (`https://host:5000/v1/`).
pub fn server_domain(server: &str) -> String {
    let rest = server.strip_prefix("https://").or_else(|| server.strip_prefix("http://")).unwrap_or(server);
    rest.split('/').next().unwrap_or(rest).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_base64url_with_padding() {
        assert_eq!(encode(&AuthConfig::default()), "e30=");
        let auth = AuthConfig {
            username: "u".into(),
            password: "p?>".into(),
            serveraddress: "127.0.0.1:5000".into(),
            ..Default::default()
        };
        let header = encode(&auth);
        assert!(!header.contains('+') && !header.contains('/'), "{header}");
        let decoded = URL_SAFE.decode(&header).unwrap();
        assert_eq!(
            std::str::from_utf8(&decoded).unwrap(),
            r#"{"username":"u","password":"p?>","serveraddress":"127.0.0.1:5000"}"#
        );
        // `?>` encodes to `/` and `+` in the standard alphabet.
        assert_eq!(URL_SAFE.encode(b"?>?"), "Pz4_");
    }

    #[test]
    fn login_servers_become_domains() {
        assert_eq!(server_domain("https://index.docker.io/v1/"), "index.docker.io");
        assert_eq!(server_domain("127.0.0.1:5000"), "127.0.0.1:5000");
        assert_eq!(server_domain("http://localhost:5000/"), "localhost:5000");
    }
}
