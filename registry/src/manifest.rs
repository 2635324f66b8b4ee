//! Manifests: Docker schema 2, OCI image manifests, manifest lists and OCI
//! indexes, and picking this host's entry from a list. Docker 1.2 spoke
//! the v1 registry protocol and had none of these; schema 1 manifests,
//! which registries still serve for very old images, are refused.

use serde::{Deserialize, Serialize};

/// `application/vnd.docker.distribution.manifest.v2+json`.
pub const MEDIA_TYPE_DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
/// `application/vnd.docker.distribution.manifest.list.v2+json`.
pub const MEDIA_TYPE_DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
/// `application/vnd.oci.image.manifest.v1+json`.
pub const MEDIA_TYPE_OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// `application/vnd.oci.image.index.v1+json`.
pub const MEDIA_TYPE_OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// `application/vnd.docker.container.image.v1+json`.
pub const MEDIA_TYPE_DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
/// `application/vnd.docker.image.rootfs.diff.tar.gzip`.
pub const MEDIA_TYPE_DOCKER_LAYER: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";

/// A content descriptor.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    /// Media type.
    pub media_type: String,
    /// Bytes.
    pub size: i64,
    /// `sha256:<hex>`.
    pub digest: String,
    /// Platform (entries of lists/indexes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
}

/// A platform.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Platform {
    /// `amd64`, `arm64`, ...
    pub architecture: String,
    /// `linux`.
    pub os: String,
    /// `v8`, ...
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub variant: String,
}

impl Platform {
    /// This host's platform (Go's names: `amd64`, `arm64`, ...).
    pub fn host() -> Platform {
        let architecture = match std::env::consts::ARCH {
            "x86_64" => "amd64",
            "aarch64" => "arm64",
            "x86" => "386",
            "powerpc64" => "ppc64le",
            other => other,
        };
        Platform { architecture: architecture.to_string(), os: "linux".to_string(), variant: String::new() }
    }
}

/// A single-image manifest (schema 2 or OCI).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageManifest {
    /// Always 2.
    pub schema_version: i64,
    /// Docker or OCI manifest type.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub media_type: String,
    /// The image config blob.
    pub config: Descriptor,
    /// Layer blobs, bottom first.
    pub layers: Vec<Descriptor>,
}

/// `application/vnd.docker.distribution.manifest.v1+json` (refused).
pub const MEDIA_TYPE_SCHEMA1: &str = "application/vnd.docker.distribution.manifest.v1+json";
/// `application/vnd.docker.distribution.manifest.v1+prettyjws` (refused).
pub const MEDIA_TYPE_SCHEMA1_SIGNED: &str = "application/vnd.docker.distribution.manifest.v1+prettyjws";

/// What pulls ask for, best first.
pub const ACCEPT: &[&str] =
    &[MEDIA_TYPE_DOCKER_MANIFEST, MEDIA_TYPE_DOCKER_LIST, MEDIA_TYPE_OCI_MANIFEST, MEDIA_TYPE_OCI_INDEX];

/// A manifest list or OCI index.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ManifestList {
    /// Always 2.
    pub schema_version: i64,
    /// Docker list or OCI index type.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub media_type: String,
    /// One entry per platform.
    pub manifests: Vec<Descriptor>,
}

/// A fetched manifest, classified.
#[derive(Debug, Clone)]
pub enum Parsed {
    /// A single image.
    Image(ImageManifest),
    /// A list or index to pick from.
    List(ManifestList),
}

/// Classifies manifest bytes by their `Content-Type` (parameters ignored),
/// falling back to the `mediaType` field and the shape when the registry
/// sent something generic. Returns the media type used.
pub fn parse(content_type: &str, raw: &[u8]) -> Result<(String, Parsed), String> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Probe {
        #[serde(default)]
        schema_version: i64,
        #[serde(default)]
        media_type: String,
        #[serde(default)]
        manifests: Option<serde_json::Value>,
    }
    let probe: Probe = serde_json::from_slice(raw).map_err(|e| format!("invalid manifest JSON: {e}"))?;
    let header = content_type.split(';').next().unwrap_or("").trim();
    let media_type = match header {
        MEDIA_TYPE_DOCKER_MANIFEST | MEDIA_TYPE_DOCKER_LIST | MEDIA_TYPE_OCI_MANIFEST | MEDIA_TYPE_OCI_INDEX => {
            header.to_string()
        }
        MEDIA_TYPE_SCHEMA1 | MEDIA_TYPE_SCHEMA1_SIGNED => return Err(schema1_error()),
        _ if probe.schema_version == 1 => return Err(schema1_error()),
        _ if !probe.media_type.is_empty() => probe.media_type.clone(),
        // OCI allows leaving mediaType out; the shape tells.
        _ if probe.manifests.is_some() => MEDIA_TYPE_OCI_INDEX.to_string(),
        _ => MEDIA_TYPE_OCI_MANIFEST.to_string(),
    };
    let bad = |e: serde_json::Error| format!("invalid manifest ({media_type}): {e}");
    match media_type.as_str() {
        MEDIA_TYPE_DOCKER_MANIFEST | MEDIA_TYPE_OCI_MANIFEST => {
            Ok((media_type.clone(), Parsed::Image(serde_json::from_slice(raw).map_err(bad)?)))
        }
        MEDIA_TYPE_DOCKER_LIST | MEDIA_TYPE_OCI_INDEX => {
            Ok((media_type.clone(), Parsed::List(serde_json::from_slice(raw).map_err(bad)?)))
        }
        MEDIA_TYPE_SCHEMA1 | MEDIA_TYPE_SCHEMA1_SIGNED => Err(schema1_error()),
        other => Err(format!("unsupported manifest media type: {other}")),
    }
}

fn schema1_error() -> String {
    "unsupported manifest format: schema 1 manifests (Docker image format v2, schema 1) are no longer supported; \
     push the image again with a current client"
        .to_string()
}

/// The entry of a list for `want`: same OS and architecture, and the same
/// variant when one is wanted (an exact variant beats an unspecified one;
/// arm64's `v8` is its default).
pub fn select<'a>(list: &'a ManifestList, want: &Platform) -> Option<&'a Descriptor> {
    let normal = |p: &Platform| match (p.architecture.as_str(), p.variant.as_str()) {
        ("arm64", "v8") => String::new(),
        _ => p.variant.clone(),
    };
    let want_variant = normal(want);
    let mut fallback = None;
    for d in &list.manifests {
        let Some(p) = &d.platform else { continue };
        if p.os != want.os || p.architecture != want.architecture {
            continue;
        }
        let variant = normal(p);
        if variant == want_variant {
            return Some(d);
        }
        if want_variant.is_empty() && fallback.is_none() {
            fallback = Some(d);
        }
    }
    fallback
}

/// A manifest fetched for a tag or digest, lists resolved.
#[derive(Debug, Clone)]
pub struct ResolvedManifest {
    /// The image manifest.
    pub manifest: ImageManifest,
    /// Its exact bytes.
    pub raw: Vec<u8>,
    /// Its media type.
    pub media_type: String,
    /// Digest of the image manifest.
    pub digest: String,
    /// Digest of the list/index it was picked from, when there was one:
    /// what `RepoDigests` records.
    pub list_digest: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(arch: &str, variant: &str, digest: &str) -> Descriptor {
        Descriptor {
            media_type: MEDIA_TYPE_DOCKER_MANIFEST.into(),
            size: 1,
            digest: digest.into(),
            platform: Some(Platform { architecture: arch.into(), os: "linux".into(), variant: variant.into() }),
        }
    }

    #[test]
    fn selects_the_host_platform() {
        let list = ManifestList {
            schema_version: 2,
            media_type: MEDIA_TYPE_DOCKER_LIST.into(),
            manifests: vec![
                entry("arm", "v6", "a6"),
                entry("arm", "v7", "a7"),
                entry("amd64", "", "x"),
                entry("arm64", "v8", "a8"),
            ],
        };
        let p = |a: &str, v: &str| Platform { architecture: a.into(), os: "linux".into(), variant: v.into() };
        assert_eq!(select(&list, &p("amd64", "")).map(|d| d.digest.as_str()), Some("x"));
        assert_eq!(select(&list, &p("arm64", "")).map(|d| d.digest.as_str()), Some("a8"));
        assert_eq!(select(&list, &p("arm", "v7")).map(|d| d.digest.as_str()), Some("a7"));
        assert_eq!(select(&list, &p("arm", "")).map(|d| d.digest.as_str()), Some("a6"));
        assert_eq!(select(&list, &p("arm", "v5")), None);
        assert_eq!(select(&list, &p("s390x", "")), None);
        let windows = Platform { os: "windows".into(), ..p("amd64", "") };
        assert_eq!(select(&list, &windows), None);
    }

    #[test]
    fn classifies_by_header_then_body() {
        let image = br#"{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"mediaType":"c","size":1,"digest":"sha256:1"},"layers":[]}"#;
        let (mt, parsed) = parse("application/vnd.docker.distribution.manifest.v2+json; charset=utf-8", image).unwrap();
        assert_eq!(mt, MEDIA_TYPE_DOCKER_MANIFEST);
        assert!(matches!(parsed, Parsed::Image(m) if m.config.digest == "sha256:1"));
        let (mt, _) = parse("application/json", image).unwrap();
        assert_eq!(mt, MEDIA_TYPE_DOCKER_MANIFEST);
        let index = br#"{"schemaVersion":2,"manifests":[]}"#;
        let (mt, parsed) = parse("", index).unwrap();
        assert_eq!(mt, MEDIA_TYPE_OCI_INDEX);
        assert!(matches!(parsed, Parsed::List(l) if l.manifests.is_empty()));
        let schema1 = br#"{"schemaVersion":1,"name":"x","tag":"latest","fsLayers":[]}"#;
        assert!(parse("application/json", schema1).unwrap_err().contains("schema 1"));
        assert!(parse(MEDIA_TYPE_SCHEMA1_SIGNED, schema1).unwrap_err().contains("schema 1"));
        assert!(parse("", b"nope").unwrap_err().contains("invalid manifest JSON"));
        assert!(parse(MEDIA_TYPE_DOCKER_MANIFEST, br#"{"schemaVersion":2}"#).is_err());
    }
}
