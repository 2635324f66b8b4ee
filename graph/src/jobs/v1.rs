//! The legacy v1 image JSON of `docker save` tars (Docker 1.2's only image
//! format), written byte for byte as dockerd 20.10 writes it
//! (`image/v1/imagev1.go`): the v1 layer IDs of a save are hashes of Go's
//! encoding of its `V1Image` and `container.Config` structs, so to give the
//! same IDs as dockerd the field order, `omitempty` rules and HTML-safe
//! escaping of Go's `encoding/json` are reproduced here.

use std::collections::BTreeMap;

use serde_json::Value;
use serde_json::value::RawValue;

use super::util::{go_time, sha256_digest};

/// A Go JSON string.
fn string(s: &str) -> String {
    engine::gojson::to_string(&Value::String(s.to_string()))
}

/// A field of a Go-decoded object: exact key first, then any case, as
/// `encoding/json` matches names.
fn field<'a>(obj: &'a serde_json::Map<String, Value>, name: &str) -> Option<&'a Value> {
    obj.get(name).or_else(|| obj.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v))
}

fn str_of(v: Option<&Value>) -> &str {
    v.and_then(Value::as_str).unwrap_or("")
}

/// `[]string` (and `strslice.StrSlice`, which also accepts one string);
/// `None` for Go's nil slice.
fn strings_of(v: Option<&Value>, one_string_ok: bool) -> Option<Vec<String>> {
    match v? {
        Value::Array(items) => Some(items.iter().filter_map(|i| i.as_str().map(str::to_string)).collect()),
        Value::String(s) if one_string_ok => Some(vec![s.clone()]),
        _ => None,
    }
}

fn list_json(items: &[String]) -> String {
    let parts: Vec<String> = items.iter().map(|s| string(s)).collect();
    format!("[{}]", parts.join(","))
}

/// `map[string]struct{}`: `None` for nil.
fn set_json(v: Option<&Value>) -> Option<(String, usize)> {
    let obj = v?.as_object()?;
    let parts: Vec<String> = obj.keys().map(|k| format!("{}:{{}}", string(k))).collect();
    Some((format!("{{{}}}", parts.join(",")), obj.len()))
}

/// `map[string]string`: `None` for nil.
fn map_json(v: Option<&Value>) -> Option<String> {
    let obj = v?.as_object()?;
    let parts: Vec<String> =
        obj.iter().map(|(k, v)| format!("{}:{}", string(k), string(v.as_str().unwrap_or("")))).collect();
    Some(format!("{{{}}}", parts.join(",")))
}

fn health_json(v: &serde_json::Map<String, Value>) -> String {
    let mut parts = Vec::new();
    if let Some(test) = strings_of(field(v, "Test"), false).filter(|t| !t.is_empty()) {
        parts.push(format!("\"Test\":{}", list_json(&test)));
    }
    for key in ["Interval", "Timeout", "StartPeriod", "Retries"] {
        let n = field(v, key).and_then(Value::as_i64).unwrap_or(0);
        if n != 0 {
            parts.push(format!("\"{key}\":{n}"));
        }
    }
    format!("{{{}}}", parts.join(","))
}

/// Go's encoding of a `container.Config` (API 1.41's field set, in struct
/// order) decoded from `v`; an absent or non-object value is the zero
/// config. Fields Go does not know are dropped, as a Go round trip does.
pub fn container_config_json(v: Option<&Value>) -> String {
    let empty = serde_json::Map::new();
    let c = v.and_then(Value::as_object).unwrap_or(&empty);
    let s = |k: &str| string(str_of(field(c, k)));
    let b = |k: &str| field(c, k).and_then(Value::as_bool).unwrap_or(false);
    let nullable = |o: Option<String>| o.unwrap_or_else(|| "null".to_string());
    let mut parts: Vec<String> = Vec::new();
    for k in ["Hostname", "Domainname", "User"] {
        parts.push(format!("\"{k}\":{}", s(k)));
    }
    for k in ["AttachStdin", "AttachStdout", "AttachStderr"] {
        parts.push(format!("\"{k}\":{}", b(k)));
    }
    if let Some((ports, n)) = set_json(field(c, "ExposedPorts"))
        && n > 0
    {
        parts.push(format!("\"ExposedPorts\":{ports}"));
    }
    for k in ["Tty", "OpenStdin", "StdinOnce"] {
        parts.push(format!("\"{k}\":{}", b(k)));
    }
    parts.push(format!("\"Env\":{}", nullable(strings_of(field(c, "Env"), false).map(|l| list_json(&l)))));
    parts.push(format!("\"Cmd\":{}", nullable(strings_of(field(c, "Cmd"), true).map(|l| list_json(&l)))));
    if let Some(health) = field(c, "Healthcheck").and_then(Value::as_object) {
        parts.push(format!("\"Healthcheck\":{}", health_json(health)));
    }
    if b("ArgsEscaped") {
        parts.push("\"ArgsEscaped\":true".to_string());
    }
    parts.push(format!("\"Image\":{}", s("Image")));
    parts.push(format!("\"Volumes\":{}", nullable(set_json(field(c, "Volumes")).map(|(j, _)| j))));
    parts.push(format!("\"WorkingDir\":{}", s("WorkingDir")));
    let entrypoint = strings_of(field(c, "Entrypoint"), true).map(|l| list_json(&l));
    parts.push(format!("\"Entrypoint\":{}", nullable(entrypoint)));
    if b("NetworkDisabled") {
        parts.push("\"NetworkDisabled\":true".to_string());
    }
    if !str_of(field(c, "MacAddress")).is_empty() {
        parts.push(format!("\"MacAddress\":{}", s("MacAddress")));
    }
    parts.push(format!("\"OnBuild\":{}", nullable(strings_of(field(c, "OnBuild"), false).map(|l| list_json(&l)))));
    parts.push(format!("\"Labels\":{}", nullable(map_json(field(c, "Labels")))));
    if !str_of(field(c, "StopSignal")).is_empty() {
        parts.push(format!("\"StopSignal\":{}", s("StopSignal")));
    }
    if let Some(t) = field(c, "StopTimeout").and_then(Value::as_i64) {
        parts.push(format!("\"StopTimeout\":{t}"));
    }
    if let Some(shell) = strings_of(field(c, "Shell"), true).filter(|l| !l.is_empty()) {
        parts.push(format!("\"Shell\":{}", list_json(&shell)));
    }
    format!("{{{}}}", parts.join(","))
}

/// Go's `image.V1Image`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct V1Image {
    /// v1 ID (hex).
    pub id: String,
    /// Parent v1 ID (hex).
    pub parent: String,
    /// Commit message.
    pub comment: String,
    /// Already in Go's time form.
    pub created: String,
    /// Committing container.
    pub container: String,
    /// The committing container's config (`None`: Go's zero struct).
    pub container_config: Option<Value>,
    /// Docker version.
    pub docker_version: String,
    /// Author.
    pub author: String,
    /// Runtime config; `None` is Go's nil pointer (omitted).
    pub config: Option<Value>,
    /// Architecture.
    pub architecture: String,
    /// CPU variant.
    pub variant: String,
    /// OS.
    pub os: String,
    /// Size (`Size`, omitted when 0).
    pub size: i64,
}

impl V1Image {
    /// Decodes a v1 image JSON (or the v1 part of an image config; with
    /// `shadow_parent`, `parent` is left out as Go's embedding of V1Image
    /// in Image shadows it).
    pub fn from_json(value: &Value, shadow_parent: bool) -> V1Image {
        let empty = serde_json::Map::new();
        let o = value.as_object().unwrap_or(&empty);
        let s = |k: &str| str_of(field(o, k)).to_string();
        V1Image {
            id: s("id"),
            parent: if shadow_parent { String::new() } else { s("parent") },
            comment: s("comment"),
            created: go_time(field(o, "created").and_then(Value::as_str)),
            container: s("container"),
            container_config: field(o, "container_config").filter(|v| v.is_object()).cloned(),
            docker_version: s("docker_version"),
            author: s("author"),
            config: field(o, "config").filter(|v| v.is_object()).cloned(),
            architecture: s("architecture"),
            variant: s("variant"),
            os: s("os"),
            size: field(o, "Size").and_then(Value::as_i64).unwrap_or(0),
        }
    }

    /// The layer-less v1 image dockerd saves for every layer but the top.
    pub fn placeholder() -> V1Image {
        V1Image { created: "1970-01-01T00:00:00Z".to_string(), ..V1Image::default() }
    }

    /// `(key, Go JSON)` pairs in struct order, empty fields omitted.
    fn fields(&self) -> Vec<(&'static str, String)> {
        fn opt(out: &mut Vec<(&'static str, String)>, key: &'static str, v: &str) {
            if !v.is_empty() {
                out.push((key, string(v)));
            }
        }
        let mut out = Vec::new();
        opt(&mut out, "id", &self.id);
        opt(&mut out, "parent", &self.parent);
        opt(&mut out, "comment", &self.comment);
        out.push(("created", string(&self.created)));
        opt(&mut out, "container", &self.container);
        out.push(("container_config", container_config_json(self.container_config.as_ref())));
        opt(&mut out, "docker_version", &self.docker_version);
        opt(&mut out, "author", &self.author);
        if let Some(config) = &self.config {
            out.push(("config", container_config_json(Some(config))));
        }
        opt(&mut out, "architecture", &self.architecture);
        opt(&mut out, "variant", &self.variant);
        opt(&mut out, "os", &self.os);
        if self.size != 0 {
            out.push(("Size", self.size.to_string()));
        }
        out
    }

    /// `json.Marshal(v1Image)`.
    pub fn to_json(&self) -> String {
        let parts: Vec<String> = self.fields().into_iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
        format!("{{{}}}", parts.join(","))
    }

    /// `v1.CreateID`: the hex v1 ID of this image on top of the layer chain
    /// `layer_id`, below the v1 image `parent` (a `sha256:` digest).
    pub fn create_id(&self, layer_id: &str, parent: Option<&str>) -> String {
        let mut map: BTreeMap<&str, String> = self.fields().into_iter().filter(|(k, _)| *k != "id").collect();
        map.insert("layer_id", string(layer_id));
        if let Some(parent) = parent {
            map.insert("parent", string(parent));
        }
        let parts: Vec<String> = map.iter().map(|(k, v)| format!("{}:{v}", string(k))).collect();
        let digest = sha256_digest(format!("{{{}}}", parts.join(",")).as_bytes());
        digest.trim_start_matches("sha256:").to_string()
    }
}

/// One `history` entry as Go writes `image.History`.
pub fn history_json(created: &str, author: &str, created_by: &str, comment: &str, empty_layer: bool) -> String {
    let mut out = format!("{{\"created\":{}", string(created));
    for (k, v) in [("author", author), ("created_by", created_by), ("comment", comment)] {
        if !v.is_empty() {
            out.push_str(&format!(",\"{k}\":{}", string(v)));
        }
    }
    if empty_layer {
        out.push_str(",\"empty_layer\":true");
    }
    out.push('}');
    out
}

/// `v1.HistoryFromConfig` for a v1 image JSON.
pub fn history_from_v1(v1: &V1Image) -> String {
    let cmd = strings_of(v1.container_config.as_ref().and_then(|c| c.as_object()).and_then(|c| field(c, "Cmd")), true)
        .unwrap_or_default()
        .join(" ");
    history_json(&v1.created, &v1.author, &cmd, &v1.comment, false)
}

/// Go's `versions.LessThan`.
fn version_less(a: &str, b: &str) -> bool {
    let pa: Vec<&str> = a.split('.').collect();
    let pb: Vec<&str> = b.split('.').collect();
    for i in 0..pa.len().max(pb.len()) {
        let x: i64 = pa.get(i).and_then(|s| s.parse().ok()).unwrap_or(0);
        let y: i64 = pb.get(i).and_then(|s| s.parse().ok()).unwrap_or(0);
        if x != y {
            return x < y;
        }
    }
    false
}

/// `v1.MakeConfigFromV1Config`: an image config from a v1 image JSON, its
/// rootfs diff IDs and history entries (already Go JSON).
pub fn config_from_v1(raw: &[u8], diff_ids: &[String], history: &[String]) -> Result<Vec<u8>, String> {
    let value: Value = serde_json::from_slice(raw).map_err(|e| format!("invalid image JSON: {e}"))?;
    if !value.is_object() {
        return Err("invalid image JSON: not an object".to_string());
    }
    let docker_version = value.get("docker_version").and_then(Value::as_str).unwrap_or("");
    // Images from before 1.8.3 are normalised through the Go struct (which
    // drops Docker 1.2's extra fields such as `Memory` and `PortSpecs`).
    let text = if version_less(docker_version, "1.8.3") {
        V1Image::from_json(&value, false).to_json()
    } else {
        String::from_utf8_lossy(raw).into_owned()
    };
    let map: BTreeMap<String, Box<RawValue>> =
        serde_json::from_str(&text).map_err(|e| format!("invalid image JSON: {e}"))?;
    let mut out: BTreeMap<String, String> = map.into_iter().map(|(k, v)| (k, compact_html_safe(v.get()))).collect();
    for key in ["id", "parent", "Size", "parent_id", "layer_id", "throwaway"] {
        out.remove(key);
    }
    let diff_ids: Vec<String> = diff_ids.iter().map(|d| string(d)).collect();
    out.insert("rootfs".to_string(), format!("{{\"type\":\"layers\",\"diff_ids\":[{}]}}", diff_ids.join(",")));
    out.insert("history".to_string(), format!("[{}]", history.join(",")));
    let parts: Vec<String> = out.iter().map(|(k, v)| format!("{}:{v}", string(k))).collect();
    Ok(format!("{{{}}}", parts.join(",")).into_bytes())
}

/// Go's `json.Compact` with HTML escaping, as `json.RawMessage` values are
/// re-encoded.
fn compact_html_safe(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut in_string = false;
    let mut escaped = false;
    for c in raw.chars() {
        if in_string {
            match c {
                '<' => out.push_str("\\u003c"),
                '>' => out.push_str("\\u003e"),
                '&' => out.push_str("\\u0026"),
                '\u{2028}' => out.push_str("\\u2028"),
                '\u{2029}' => out.push_str("\\u2029"),
                _ => out.push(c),
            }
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if !c.is_ascii_whitespace() {
            out.push(c);
            in_string = c == '"';
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_container_config_is_every_plain_field() {
        assert_eq!(
            container_config_json(None),
            r#"{"Hostname":"","Domainname":"","User":"","AttachStdin":false,"AttachStdout":false,"AttachStderr":false,"Tty":false,"OpenStdin":false,"StdinOnce":false,"Env":null,"Cmd":null,"Image":"","Volumes":null,"WorkingDir":"","Entrypoint":null,"OnBuild":null,"Labels":null}"#
        );
    }

    #[test]
    fn config_fields_decode_like_go() {
        let v: Value = serde_json::from_str(
            r#"{"cmd":"sh","Env":["A=<b>"],"ExposedPorts":{"80/tcp":{}},"Labels":{"z":"1","a":"2"},"Memory":5}"#,
        )
        .unwrap();
        let json = container_config_json(Some(&v));
        assert!(json.contains(r#""ExposedPorts":{"80/tcp":{}},"Tty""#), "{json}");
        assert!(json.contains(r#""Env":["A=\u003cb\u003e"],"Cmd":["sh"]"#), "{json}");
        assert!(json.contains(r#""Labels":{"a":"2","z":"1"}"#), "{json}");
        assert!(!json.contains("Memory"));
    }

    #[test]
    fn placeholder_v1_json_and_id_are_stable() {
        let v1 = V1Image::placeholder();
        assert!(v1.to_json().starts_with(r#"{"created":"1970-01-01T00:00:00Z","container_config":{"Hostname":"""#));
        let a = v1.create_id("sha256:aa", None);
        let b = v1.create_id("sha256:aa", Some("sha256:bb"));
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
    }

    #[test]
    fn legacy_configs_drop_v1_fields_and_sort_keys() {
        let raw = br##"{"id":"abc","parent":"def","created":"2014-08-21T18:25:42.837475377Z","docker_version":"1.2.0","container_config":{"Cmd":["/bin/sh","-c","#(nop) ADD x"],"Memory":0},"Size":10,"os":"linux","architecture":"amd64"}"##;
        let history = [history_json("2014-08-21T18:25:42.837475377Z", "", "/bin/sh -c #(nop) ADD x", "", false)];
        let out = config_from_v1(raw, &["sha256:11".to_string()], &history).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with(r#"{"architecture":"amd64","container_config":{"Hostname":"""#), "{text}");
        assert!(text.contains(r#""rootfs":{"type":"layers","diff_ids":["sha256:11"]}"#));
        assert!(!text.contains("\"id\"") && !text.contains("\"parent\"") && !text.contains("Size"));
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["history"][0]["created_by"], "/bin/sh -c #(nop) ADD x");
    }

    #[test]
    fn compaction_keeps_order_and_escapes_html() {
        assert_eq!(compact_html_safe("{ \"b\": \"<a \\\" >\",\n \"a\": 1 }"), r#"{"b":"\u003ca \" \u003e","a":1}"#);
    }

    /// A config and the v1 `json` dockerd 20.10 wrote for it in `docker save`
    /// (an image made by `docker import --change ... -m msg`).
    #[test]
    fn v1_ids_and_json_match_dockerd() {
        let config = r##"{"architecture":"amd64","comment":"msg","config":{"Hostname":"","Domainname":"","User":"","AttachStdin":false,"AttachStdout":false,"AttachStderr":false,"Tty":false,"OpenStdin":false,"StdinOnce":false,"Env":["A=b"],"Cmd":["/bin/sh","-c","echo \u003chi\u003e"],"Image":"","Volumes":null,"WorkingDir":"","Entrypoint":null,"OnBuild":null,"Labels":null},"container_config":{"Hostname":"","Domainname":"","User":"","AttachStdin":false,"AttachStdout":false,"AttachStderr":false,"Tty":false,"OpenStdin":false,"StdinOnce":false,"Env":null,"Cmd":null,"Image":"","Volumes":null,"WorkingDir":"","Entrypoint":null,"OnBuild":null,"Labels":null},"created":"2026-11-23T16:19:14.03263807Z","docker_version":"20.10.24+dfsg1","history":[{"created":"2026-11-23T16:19:14.03263807Z","comment":"msg"}],"os":"linux","rootfs":{"type":"layers","diff_ids":["sha256:6ce0904cdae2f7601cdb7b023b296dd8813e02e3b0e5c6b3e9aeaec876cf9895"]}}"##;
        let expected = r##"{"id":"f34b9abd0a1f1d5066af42bd36ecc7f7714b3ea7b04e7872b740a3141ff73283","comment":"msg","created":"2026-11-23T16:19:14.03263807Z","container_config":{"Hostname":"","Domainname":"","User":"","AttachStdin":false,"AttachStdout":false,"AttachStderr":false,"Tty":false,"OpenStdin":false,"StdinOnce":false,"Env":null,"Cmd":null,"Image":"","Volumes":null,"WorkingDir":"","Entrypoint":null,"OnBuild":null,"Labels":null},"docker_version":"20.10.24+dfsg1","config":{"Hostname":"","Domainname":"","User":"","AttachStdin":false,"AttachStdout":false,"AttachStderr":false,"Tty":false,"OpenStdin":false,"StdinOnce":false,"Env":["A=b"],"Cmd":["/bin/sh","-c","echo \u003chi\u003e"],"Image":"","Volumes":null,"WorkingDir":"","Entrypoint":null,"OnBuild":null,"Labels":null},"architecture":"amd64","os":"linux"}"##;
        let value: Value = serde_json::from_str(config).unwrap();
        let diff_id = "sha256:6ce0904cdae2f7601cdb7b023b296dd8813e02e3b0e5c6b3e9aeaec876cf9895";
        let mut v1 = V1Image::from_json(&value, true);
        let id = v1.create_id(diff_id, None);
        assert_eq!(id, "f34b9abd0a1f1d5066af42bd36ecc7f7714b3ea7b04e7872b740a3141ff73283");
        v1.id = id;
        assert_eq!(v1.to_json(), expected);
    }
}
