//! Credentials: the AuthConfig of `X-Registry-Auth` and `POST /auth`, and
//! the client's config file (`~/.docker/config.json`, else `~/.dockercfg`).

use serde::{Deserialize, Serialize};

/// Registry credentials as clients send them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthConfig {
    /// User name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub username: String,
    /// Password.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub password: String,
    /// base64 of `user:password` (config files).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub auth: String,
    /// E-mail (ignored by v2 registries).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub email: String,
    /// The registry these are for.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub serveraddress: String,
    /// An OAuth refresh token.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub identitytoken: String,
    /// A bearer token to use as is.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub registrytoken: String,
}

impl AuthConfig {
    /// Reads the job env's `authConfig` JSON; anything unreadable is no
    /// credentials, as Docker does.
    pub fn from_json_lenient(text: &str) -> AuthConfig {
        serde_json::from_str(text).unwrap_or_default()
    }

    /// Whether there is anything to authenticate with.
    pub fn is_empty(&self) -> bool {
        self.username.is_empty()
            && self.auth.is_empty()
            && self.identitytoken.is_empty()
            && self.registrytoken.is_empty()
    }
}
