//! Registry error bodies (`{"errors":[{"code","message","detail"}]}`) turned
//! into [`RegistryError`]s with dockerd's wording.

use serde::Deserialize;

use crate::error::RegistryError;

/// The most of an error body worth reading.
const MAX_ERROR_BODY: usize = 64 * 1024;

/// A failed response, read.
#[derive(Debug, Default)]
pub(crate) struct Failure {
    pub(crate) status: u16,
    pub(crate) url: String,
    /// `errors[].code`, e.g. `MANIFEST_UNKNOWN`.
    pub(crate) codes: Vec<String>,
    /// distribution's `Error()` text: `manifest unknown: manifest unknown`,
    /// else the body.
    pub(crate) text: String,
}

#[derive(Deserialize)]
struct Body {
    #[serde(default)]
    errors: Vec<Item>,
}

#[derive(Deserialize)]
struct Item {
    #[serde(default)]
    code: String,
    #[serde(default)]
    message: String,
}

impl Failure {
    pub(crate) async fn read(resp: reqwest::Response) -> Failure {
        let status = resp.status().as_u16();
        let url = resp.url().to_string();
        let mut body = Vec::new();
        let mut resp = resp;
        // A broken error body still leaves the status to report.
        while let Ok(Some(chunk)) = resp.chunk().await {
            body.extend_from_slice(&chunk);
            if body.len() >= MAX_ERROR_BODY {
                body.truncate(MAX_ERROR_BODY);
                break;
            }
        }
        Failure::from_body(status, url, &body)
    }

    pub(crate) fn from_body(status: u16, url: String, body: &[u8]) -> Failure {
        let parsed: Option<Body> = serde_json::from_slice(body).ok();
        let (codes, text) = match parsed {
            Some(b) if !b.errors.is_empty() => {
                let codes: Vec<String> = b.errors.iter().map(|e| e.code.clone()).collect();
                let texts: Vec<String> =
                    b.errors.iter().map(|e| format!("{}: {}", code_text(&e.code), e.message)).collect();
                (codes, texts.join("; "))
            }
            _ => (Vec::new(), String::from_utf8_lossy(body).trim().to_string()),
        };
        Failure { status, url, codes, text }
    }

    pub(crate) fn has_code(&self, code: &str) -> bool {
        self.codes.iter().any(|c| c == code)
    }

    /// The error with no operation-specific wording.
    pub(crate) fn into_error(self) -> RegistryError {
        let text = self.text;
        match self.status {
            401 => RegistryError::Unauthorized(or(text, "unauthorized: authentication required")),
            403 => RegistryError::Denied(or(text, "denied: requested access to the resource is denied")),
            404 => RegistryError::NotFound(or(text, &format!("not found: {}", self.url))),
            status => RegistryError::Status { status, url: self.url, body: text },
        }
    }
}

fn or(text: String, default: &str) -> String {
    if text.is_empty() { default.to_string() } else { text }
}

/// distribution's `ErrorCode.Error()`: `MANIFEST_UNKNOWN` → `manifest unknown`.
fn code_text(code: &str) -> String {
    code.replace('_', " ").to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_errors() {
        let f = Failure::from_body(
            404,
            "u".into(),
            br#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{"Tag":"x"}}]}"#,
        );
        assert!(f.has_code("MANIFEST_UNKNOWN"));
        assert_eq!(f.text, "manifest unknown: manifest unknown");
        assert!(matches!(f.into_error(), RegistryError::NotFound(t) if t == "manifest unknown: manifest unknown"));
        let f = Failure::from_body(401, "u".into(), b"");
        assert_eq!(f.into_error().to_string(), "unauthorized: authentication required");
        let f = Failure::from_body(500, "http://x/".into(), b"boom\n");
        assert_eq!(f.into_error().to_string(), "unexpected status 500 from http://x/: boom");
    }
}
