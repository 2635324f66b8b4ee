//! Credentials: the AuthConfig of `X-Registry-Auth` and `POST /auth`, the
//! `authConfig` job env key. The client's config file is in
//! [`crate::config_file`].

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};

/// Registry credentials as clients send them.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
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

/// Passwords and tokens stay out of logs.
impl std::fmt::Debug for AuthConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let hidden = |s: &str| if s.is_empty() { "" } else { "<hidden>" };
        f.debug_struct("AuthConfig")
            .field("username", &self.username)
            .field("password", &hidden(&self.password))
            .field("auth", &hidden(&self.auth))
            .field("email", &self.email)
            .field("serveraddress", &self.serveraddress)
            .field("identitytoken", &hidden(&self.identitytoken))
            .field("registrytoken", &hidden(&self.registrytoken))
            .finish()
    }
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

    /// The user name and password to send: the fields if set, else the
    /// decoded `auth` (base64 `user:password`). `None` when there are none
    /// or `auth` does not decode.
    pub fn credentials(&self) -> Option<(String, String)> {
        if !self.username.is_empty() {
            return Some((self.username.clone(), self.password.clone()));
        }
        if self.auth.is_empty() {
            return None;
        }
        decode_auth(&self.auth)
    }

    /// A copy with `username`/`password` filled from `auth` when they were
    /// empty.
    pub fn resolved(&self) -> AuthConfig {
        let mut out = self.clone();
        if out.username.is_empty()
            && let Some((user, password)) = decode_auth(&self.auth)
        {
            out.username = user;
            out.password = password;
        }
        out
    }
}

/// base64 of `user:password`, the `auth` field's form.
pub fn encode_auth(user: &str, password: &str) -> String {
    STANDARD.encode(format!("{user}:{password}"))
}

/// Splits an `auth` field into user and password; `None` if it is not
/// base64 of `user:password`.
pub fn decode_auth(auth: &str) -> Option<(String, String)> {
    let bytes = STANDARD.decode(auth.trim()).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_string(), password.trim_end_matches('\0').to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lenient_json() {
        let a = AuthConfig::from_json_lenient(r#"{"username":"u","password":"p","serveraddress":"h:5000"}"#);
        assert_eq!((a.username.as_str(), a.password.as_str(), a.serveraddress.as_str()), ("u", "p", "h:5000"));
        assert!(AuthConfig::from_json_lenient("not json").is_empty());
        assert!(AuthConfig::from_json_lenient("{}").is_empty());
    }

    #[test]
    fn auth_field_is_decoded_when_fields_are_empty() {
        let a = AuthConfig { auth: encode_auth("joe", "pa:ss"), ..Default::default() };
        assert!(!a.is_empty());
        assert_eq!(a.credentials(), Some(("joe".to_string(), "pa:ss".to_string())));
        let r = a.resolved();
        assert_eq!((r.username.as_str(), r.password.as_str()), ("joe", "pa:ss"));
        // Explicit fields win over `auth`.
        let b = AuthConfig { username: "u".into(), password: "p".into(), auth: a.auth.clone(), ..Default::default() };
        assert_eq!(b.credentials(), Some(("u".to_string(), "p".to_string())));
        assert_eq!(AuthConfig { auth: "%%%".into(), ..Default::default() }.credentials(), None);
        assert_eq!(decode_auth(&STANDARD.encode("nocolon")), None);
    }

    #[test]
    fn debug_hides_secrets() {
        let a = AuthConfig { username: "u".into(), password: "secret".into(), ..Default::default() };
        let text = format!("{a:?}");
        assert!(!text.contains("secret") && text.contains("<hidden>"), "{text}");
    }
}
