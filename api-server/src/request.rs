//! A parsed API request, as the route builders see it: path parameters,
//! query string, headers, the API version, and a JSON body when the route
//! takes one.
//!
//! Query booleans follow the original's `GetBool` (false only for ``, `0`,
//! `no`, `false`, `none`, any case), which accepts what docker-py sends
//! (`True`/`False`) as well as the CLI's `1`. `filters` accepts both JSON
//! shapes clients send: `{"k":["v"]}` (before v1.22, docker-py, compose) and
//! `{"k":{"v":true}}` (CLI at v1.22+).

use std::collections::BTreeMap;

use base64::Engine as _;
use bytes::Bytes;
use engine::parse_bool;
use http::{HeaderMap, Method};
use serde_json::Value;

use crate::errors::ApiError;
use crate::version::ApiVersion;

/// Filters normalised to key → values.
pub type Filters = BTreeMap<String, Vec<String>>;

/// Everything a route builder may read.
#[derive(Debug, Clone)]
pub struct ApiRequest {
    /// The HTTP method.
    pub method: Method,
    /// The version from the `/vX.Y` prefix, or ours when there is none.
    pub version: ApiVersion,
    /// The `{name}` path parameter (empty when the route has none).
    pub name: String,
    /// Query pairs in order; a key may repeat.
    pub query: Vec<(String, String)>,
    /// Request headers.
    pub headers: HeaderMap,
    /// The body, for routes that take a JSON body (empty when none was sent).
    pub body: Bytes,
}

impl ApiRequest {
    /// A request with no query, headers or body (for tests and builders).
    pub fn new(method: Method, version: ApiVersion, name: &str) -> Self {
        Self {
            method,
            version,
            name: name.to_string(),
            query: Vec::new(),
            headers: HeaderMap::new(),
            body: Bytes::new(),
        }
    }

    /// Parses a raw query string (`a=1&b=x%20y`).
    pub fn with_query(mut self, raw: &str) -> Self {
        self.query = form_urlencoded::parse(raw.as_bytes()).into_owned().collect();
        self
    }

    /// The last value of a query key.
    pub fn query(&self, key: &str) -> Option<&str> {
        self.query.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    /// The last value of a query key, or `""`.
    pub fn query_str(&self, key: &str) -> &str {
        self.query(key).unwrap_or("")
    }

    /// Every value of a repeated query key.
    pub fn query_all(&self, key: &str) -> Vec<String> {
        self.query.iter().filter(|(k, _)| k == key).map(|(_, v)| v.clone()).collect()
    }

    /// A boolean query value; absent is false.
    pub fn query_bool(&self, key: &str) -> bool {
        self.query(key).is_some_and(parse_bool)
    }

    /// An integer query value; absent or empty is `None`.
    pub fn query_int(&self, key: &str) -> Result<Option<i64>, ApiError> {
        match self.query(key) {
            None | Some("") => Ok(None),
            Some(raw) => raw
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| ApiError::bad_parameter(format!("invalid value for {key}: {raw:?} is not an integer"))),
        }
    }

    /// The `filters` query value, normalised; `None` when absent or empty.
    pub fn filters(&self) -> Result<Option<Filters>, ApiError> {
        match self.query("filters") {
            None | Some("") => Ok(None),
            Some(raw) => parse_filters(raw).map(Some),
        }
    }

    /// The body as a JSON object; `None` for an empty body.
    pub fn json_object(&self) -> Result<Option<Value>, ApiError> {
        if self.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(None);
        }
        let value: Value = serde_json::from_slice(&self.body)
            .map_err(|e| ApiError::bad_parameter(format!("malformed JSON in request body: {e}")))?;
        if !value.is_object() {
            return Err(ApiError::bad_parameter("malformed JSON in request body: expected a JSON object"));
        }
        Ok(Some(value))
    }

    /// The body as a JSON object; an empty body is an error.
    pub fn required_json_object(&self) -> Result<Value, ApiError> {
        self.json_object()?.ok_or_else(|| ApiError::bad_parameter("malformed JSON in request body: body is empty"))
    }

    /// A header value as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The `X-Registry-Auth` header decoded to JSON text (`{}` when absent or
    /// undecodable, as Docker silently uses empty credentials).
    pub fn registry_auth(&self) -> String {
        self.header("X-Registry-Auth").and_then(decode_auth_header).unwrap_or_else(|| "{}".to_string())
    }

    /// Every `X-Meta-*` header as a JSON object of lists.
    pub fn meta_headers(&self) -> String {
        let mut meta: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (name, value) in &self.headers {
            if name.as_str().starts_with("x-meta-")
                && let Ok(v) = value.to_str()
            {
                meta.entry(canonical_header(name.as_str())).or_default().push(v.to_string());
            }
        }
        serde_json::to_string(&meta).unwrap_or_else(|_| "{}".to_string())
    }
}

/// Parses both JSON shapes of `filters` into key → values.
pub fn parse_filters(raw: &str) -> Result<Filters, ApiError> {
    let invalid = |why: String| ApiError::bad_parameter(format!("invalid filters {raw:?}: {why}"));
    let value: Value = serde_json::from_str(raw).map_err(|e| invalid(e.to_string()))?;
    let Value::Object(map) = value else {
        return Err(invalid("expected a JSON object".into()));
    };
    let mut filters = Filters::new();
    for (key, values) in map {
        let list = match values {
            Value::Array(items) => items
                .into_iter()
                .map(|v| match v {
                    Value::String(s) => Ok(s),
                    other => Err(invalid(format!("value {other} of {key:?} is not a string"))),
                })
                .collect::<Result<Vec<_>, _>>()?,
            Value::Object(set) => {
                set.into_iter().filter(|(_, on)| on.as_bool() != Some(false)).map(|(k, _)| k).collect()
            }
            other => return Err(invalid(format!("{key:?} has {other}, expected a list or an object"))),
        };
        filters.entry(key).or_default().extend(list);
    }
    Ok(filters)
}

/// Docker sends base64url with padding; be lenient about the alphabet and
/// padding, as today's clients differ.
fn decode_auth_header(raw: &str) -> Option<String> {
    use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};
    let raw = raw.trim();
    let bytes = URL_SAFE.decode(raw).or_else(|_| URL_SAFE_NO_PAD.decode(raw)).or_else(|_| STANDARD.decode(raw)).ok()?;
    let value: Value = serde_json::from_slice(&bytes).ok()?;
    value.is_object().then(|| value.to_string())
}

/// `x-meta-foo-bar` → `X-Meta-Foo-Bar`, as Go canonicalises header names.
fn canonical_header(name: &str) -> String {
    name.split('-')
        .map(|part| {
            let mut chars = part.chars();
            match chars.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join("-")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::version::API_VERSION;

    fn req(query: &str) -> ApiRequest {
        ApiRequest::new(Method::GET, API_VERSION, "").with_query(query)
    }

    #[test]
    fn booleans_accept_what_clients_send() {
        let r = req("a=1&b=True&c=False&d=0&e=true&f=&g=yes");
        assert!(r.query_bool("a"));
        assert!(r.query_bool("b"));
        assert!(!r.query_bool("c"));
        assert!(!r.query_bool("d"));
        assert!(r.query_bool("e"));
        assert!(!r.query_bool("f"));
        assert!(r.query_bool("g"));
        assert!(!r.query_bool("absent"));
    }

    #[test]
    fn integers() {
        let r = req("limit=-1&t=10&bad=x&empty=");
        assert_eq!(r.query_int("limit").unwrap(), Some(-1));
        assert_eq!(r.query_int("t").unwrap(), Some(10));
        assert_eq!(r.query_int("empty").unwrap(), None);
        assert_eq!(r.query_int("absent").unwrap(), None);
        assert!(r.query_int("bad").is_err());
    }

    #[test]
    fn repeated_keys() {
        let r = req("names=a&names=b%3Alatest");
        assert_eq!(r.query_all("names"), ["a", "b:latest"]);
        assert_eq!(r.query("names"), Some("b:latest"));
    }

    #[test]
    fn filters_in_both_shapes() {
        let list = parse_filters(r#"{"container":["abc"],"type":["container"]}"#).unwrap();
        let map = parse_filters(r#"{"container":{"abc":true},"type":{"container":true}}"#).unwrap();
        assert_eq!(list, map);
        assert_eq!(list["container"], ["abc"]);
        let spaced = parse_filters(r#"{"label": ["com.docker.compose.project=x", "a=b"]}"#).unwrap();
        assert_eq!(spaced["label"].len(), 2);
        assert!(parse_filters("{bad").is_err());
        assert!(parse_filters("[1]").is_err());
        assert!(parse_filters(r#"{"a":[1]}"#).is_err());
        assert!(parse_filters(r#"{"a":"x"}"#).is_err());
        assert_eq!(req("filters=").filters().unwrap(), None);
    }

    #[test]
    fn json_bodies() {
        let mut r = req("");
        assert_eq!(r.json_object().unwrap(), None);
        assert!(r.required_json_object().is_err());
        r.body = Bytes::from_static(b"{\"Image\":\"busybox\"}");
        assert_eq!(r.json_object().unwrap().unwrap()["Image"], "busybox");
        r.body = Bytes::from_static(b"{bad");
        let err = r.json_object().unwrap_err();
        assert_eq!(err.kind, engine::ErrorKind::BadParameter);
        assert!(err.message.starts_with("malformed JSON in request body: "), "{}", err.message);
        r.body = Bytes::from_static(b"[1,2]");
        assert!(r.json_object().is_err());
    }

    #[test]
    fn registry_auth_header() {
        let mut r = req("");
        assert_eq!(r.registry_auth(), "{}");
        // {"username":"user","password":"pass"} in base64url.
        r.headers.insert("X-Registry-Auth", "eyJ1c2VybmFtZSI6InVzZXIiLCJwYXNzd29yZCI6InBhc3MifQ==".parse().unwrap());
        assert_eq!(r.registry_auth(), r#"{"password":"pass","username":"user"}"#);
        r.headers.insert("X-Registry-Auth", "e30=".parse().unwrap());
        assert_eq!(r.registry_auth(), "{}");
        r.headers.insert("X-Registry-Auth", "!!!".parse().unwrap());
        assert_eq!(r.registry_auth(), "{}");
    }

    #[test]
    fn meta_headers_are_canonicalised() {
        let mut r = req("");
        r.headers.append("x-meta-foo-bar", "1".parse().unwrap());
        r.headers.append("x-meta-foo-bar", "2".parse().unwrap());
        r.headers.append("other", "x".parse().unwrap());
        assert_eq!(r.meta_headers(), r#"{"X-Meta-Foo-Bar":["1","2"]}"#);
    }
}
