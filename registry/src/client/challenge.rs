//! `WWW-Authenticate` challenges and the token endpoint (distribution's
//! token auth spec): `GET realm?service=&scope=` with basic credentials, or
//! the OAuth2 refresh-token `POST` when the client holds an identity token.

use std::collections::HashMap;

use serde::Deserialize;

/// How a registry wants requests authenticated.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) enum Challenge {
    /// It answered `/v2/` without asking.
    #[default]
    None,
    /// `Basic realm=...`.
    Basic,
    /// `Bearer realm=...,service=...`.
    Bearer {
        /// Token endpoint.
        realm: String,
        /// The `service` to name in token requests.
        service: String,
    },
}

/// Parses a `WWW-Authenticate` value; unknown schemes give `None`.
pub(crate) fn parse(header: &str) -> Option<Challenge> {
    let header = header.trim();
    let (scheme, rest) = header.split_once(char::is_whitespace).unwrap_or((header, ""));
    let params = parse_params(rest);
    match scheme.to_ascii_lowercase().as_str() {
        "basic" => Some(Challenge::Basic),
        "bearer" => Some(Challenge::Bearer {
            realm: params.get("realm").cloned().unwrap_or_default(),
            service: params.get("service").cloned().unwrap_or_default(),
        }),
        _ => None,
    }
}

/// `key=value` or `key="quoted, \"value\""` pairs separated by commas; keys
/// lowercased.
fn parse_params(mut s: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    loop {
        s = s.trim_start_matches(|c: char| c == ',' || c.is_whitespace());
        let Some(eq) = s.find('=') else { break };
        let key = s[..eq].trim().to_ascii_lowercase();
        s = s[eq + 1..].trim_start();
        let value;
        if let Some(quoted) = s.strip_prefix('"') {
            let mut v = String::new();
            let mut chars = quoted.char_indices();
            let mut end = quoted.len();
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => {
                        if let Some((_, n)) = chars.next() {
                            v.push(n);
                        }
                    }
                    '"' => {
                        end = i + 1;
                        break;
                    }
                    _ => v.push(c),
                }
            }
            value = v;
            s = &quoted[end.min(quoted.len())..];
        } else {
            let end = s.find(',').unwrap_or(s.len());
            value = s[..end].trim().to_string();
            s = &s[end..];
        }
        out.insert(key, value);
    }
    out
}

/// A token endpoint's answer (`token`, or OAuth2's `access_token`).
#[derive(Debug, Deserialize)]
pub(crate) struct TokenResponse {
    #[serde(default)]
    token: String,
    #[serde(default)]
    access_token: String,
    /// Seconds; the spec's default is 60.
    #[serde(default)]
    pub(crate) expires_in: Option<u64>,
}

impl TokenResponse {
    pub(crate) fn into_token(self) -> Option<String> {
        [self.token, self.access_token].into_iter().find(|t| !t.is_empty())
    }
}

/// `repository:<path>:pull[,push]`.
pub(crate) fn repository_scope(path: &str, push: bool) -> String {
    format!("repository:{path}:{}", if push { "pull,push" } else { "pull" })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer() {
        let c = parse(
            r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull""#,
        );
        assert_eq!(
            c,
            Some(Challenge::Bearer {
                realm: "https://auth.docker.io/token".into(),
                service: "registry.docker.io".into()
            })
        );
        let c = parse(r#"bearer Realm=http://127.0.0.1:1/token , service="a \"b\", c""#);
        assert_eq!(
            c,
            Some(Challenge::Bearer { realm: "http://127.0.0.1:1/token".into(), service: r#"a "b", c"#.into() })
        );
    }

    #[test]
    fn basic_and_unknown() {
        assert_eq!(parse(r#"Basic realm="Registry Realm""#), Some(Challenge::Basic));
        assert_eq!(parse("Basic"), Some(Challenge::Basic));
        assert_eq!(parse("Negotiate abc"), None);
        assert_eq!(parse(""), None);
    }

    #[test]
    fn token_response() {
        let t: TokenResponse = serde_json::from_str(r#"{"access_token":"a","expires_in":300}"#).unwrap();
        assert_eq!(t.expires_in, Some(300));
        assert_eq!(t.into_token().as_deref(), Some("a"));
        let t: TokenResponse = serde_json::from_str(r#"{"token":"t","access_token":"a"}"#).unwrap();
        assert_eq!(t.into_token().as_deref(), Some("t"));
        let t: TokenResponse = serde_json::from_str(r#"{}"#).unwrap();
        assert_eq!(t.into_token(), None);
        assert_eq!(repository_scope("a/b", true), "repository:a/b:pull,push");
    }
}
