//! Image references: `name[:tag][@digest]` with Docker's naming rules
//! (distribution's `reference` grammar). A first component with a `.` or
//! `:`, or `localhost`, is a registry host; anything else is on Docker Hub
//! (`docker.io`, `library/` for one-word names). Locally, repositories keep
//! Docker 1.2's short names: `busybox`, `user/app`, `127.0.0.1:5000/busybox`.
//!
//! Departure from 1.2: 1.2 rejected `index.docker.io/x` ("Invalid
//! repository name, try "x" instead"); like today's Docker we accept every
//! Hub spelling and normalise it to `docker.io`.

use std::fmt;

/// The Docker Hub domain as references spell it.
pub const DEFAULT_DOMAIN: &str = "docker.io";

/// Other spellings of the Hub domain, normalised to [`DEFAULT_DOMAIN`].
const HUB_ALIASES: &[&str] = &["index.docker.io", "registry-1.docker.io"];

/// The longest name (domain and path) a reference may have.
const NAME_TOTAL_LENGTH_MAX: usize = 255;

/// A reference that does not parse; the text is the user's one line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ReferenceError(pub String);

fn invalid() -> ReferenceError {
    ReferenceError("invalid reference format".to_string())
}

/// A parsed reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// `docker.io` or `host[:port]`.
    pub domain: String,
    /// Path on the registry: `library/busybox`, `user/app`.
    pub path: String,
    /// The tag, if one was given.
    pub tag: Option<String>,
    /// The `sha256:` digest, if one was given.
    pub digest: Option<String>,
}

impl Reference {
    /// Parses and normalises a reference. Accepts `busybox`,
    /// `busybox:1.36`, `docker.io/library/busybox`,
    /// `index.docker.io/user/app`, `127.0.0.1:5000/a/b:t`, `x@sha256:<hex>`.
    pub fn parse(text: &str) -> Result<Reference, ReferenceError> {
        if text.is_empty() {
            return Err(ReferenceError(
                "invalid reference format: repository name must have at least one component".into(),
            ));
        }
        if is_hex64(text) {
            return Err(ReferenceError(format!(
                "invalid repository name ({text}), cannot specify 64-byte hexadecimal strings"
            )));
        }
        let (rest, digest) = match text.split_once('@') {
            Some((rest, digest)) => {
                validate_digest(digest)?;
                (rest, Some(digest.to_string()))
            }
            None => (text, None),
        };
        // A tag's `:` comes after the last `/`; an earlier one is a port.
        let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match rest[last_slash..].rfind(':') {
            Some(i) => {
                let tag = &rest[last_slash + i + 1..];
                validate_tag(tag).map_err(|_| invalid())?;
                (&rest[..last_slash + i], Some(tag.to_string()))
            }
            None => (rest, None),
        };
        if name.len() > NAME_TOTAL_LENGTH_MAX {
            return Err(ReferenceError(format!(
                "invalid reference format: repository name must not be more than {NAME_TOTAL_LENGTH_MAX} characters"
            )));
        }
        let (domain, path) = split_domain(name);
        if !domain.is_empty() && !valid_domain(domain) {
            return Err(invalid());
        }
        if !valid_path(path) {
            if valid_path(&path.to_ascii_lowercase()) {
                return Err(ReferenceError("invalid reference format: repository name must be lowercase".into()));
            }
            return Err(invalid());
        }
        let mut domain = if domain.is_empty() { DEFAULT_DOMAIN.to_string() } else { domain.to_string() };
        if HUB_ALIASES.contains(&domain.as_str()) {
            domain = DEFAULT_DOMAIN.to_string();
        }
        let path =
            if domain == DEFAULT_DOMAIN && !path.contains('/') { format!("library/{path}") } else { path.to_string() };
        Ok(Reference { domain, path, tag, digest })
    }

    /// The short local repository name (`busybox`, `user/app`,
    /// `127.0.0.1:5000/busybox`): the TagStore's key.
    pub fn local_name(&self) -> String {
        if self.is_docker_hub() {
            self.path.strip_prefix("library/").filter(|p| !p.contains('/')).unwrap_or(&self.path).to_string()
        } else {
            format!("{}/{}", self.domain, self.path)
        }
    }

    /// The path on the registry (`library/busybox`): what v2 URLs and token
    /// scopes name.
    pub fn remote_name(&self) -> &str {
        &self.path
    }

    /// `domain/path`, fully qualified (`docker.io/library/busybox`).
    pub fn full_name(&self) -> String {
        format!("{}/{}", self.domain, self.path)
    }

    /// The tag, `latest` when none was given.
    pub fn tag_or_latest(&self) -> &str {
        self.tag.as_deref().unwrap_or("latest")
    }

    /// What to ask the registry's `manifests/` endpoint for: the digest if
    /// one was given, else the tag (default `latest`).
    pub fn tag_or_digest(&self) -> &str {
        self.digest.as_deref().unwrap_or_else(|| self.tag_or_latest())
    }

    /// Whether the registry is Docker Hub.
    pub fn is_docker_hub(&self) -> bool {
        self.domain == DEFAULT_DOMAIN
    }

    /// The same repository with another tag (and no digest).
    pub fn with_tag(&self, tag: &str) -> Reference {
        Reference { tag: Some(tag.to_string()), digest: None, ..self.clone() }
    }
}

/// The familiar form: the local name, then `:tag` and `@digest` as given.
impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.local_name())?;
        if let Some(tag) = &self.tag {
            write!(f, ":{tag}")?;
        }
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

/// Checks a tag: `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`.
pub fn validate_tag(tag: &str) -> Result<(), ReferenceError> {
    let bytes = tag.as_bytes();
    let ok = !bytes.is_empty()
        && bytes.len() <= 128
        && (bytes[0].is_ascii_alphanumeric() || bytes[0] == b'_')
        && bytes[1..].iter().all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    if ok { Ok(()) } else { Err(ReferenceError(format!("invalid tag format: {tag}"))) }
}

/// Checks a digest: `sha256:` and 64 lowercase hex digits (the only
/// algorithm registries use).
pub fn validate_digest(digest: &str) -> Result<(), ReferenceError> {
    match digest.split_once(':') {
        Some(("sha256", hex)) if is_hex64(hex) => Ok(()),
        Some((algo, _)) if !algo.is_empty() && algo != "sha256" => {
            Err(ReferenceError(format!("invalid reference format: unsupported digest algorithm: {algo}")))
        }
        _ => Err(ReferenceError("invalid reference format: invalid checksum digest format".into())),
    }
}

fn is_hex64(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Splits off the registry host the way distribution does: only a first
/// component with `.` or `:`, or `localhost`, is a host.
fn split_domain(name: &str) -> (&str, &str) {
    match name.split_once('/') {
        Some((first, rest)) if first.contains(['.', ':']) || first == "localhost" => (first, rest),
        _ => ("", name),
    }
}

/// `host[:port]`: dot-separated labels of `[A-Za-z0-9-]` not starting or
/// ending in `-`, or a bracketed IPv6 literal, then an optional port.
fn valid_domain(domain: &str) -> bool {
    let (host, port) = if let Some(rest) = domain.strip_prefix('[') {
        let Some((ip, after)) = rest.split_once(']') else { return false };
        if ip.parse::<std::net::Ipv6Addr>().is_err() {
            return false;
        }
        match after {
            "" => return true,
            _ => match after.strip_prefix(':') {
                Some(port) => ("", Some(port)),
                None => return false,
            },
        }
    } else {
        match domain.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (domain, None),
        }
    };
    if let Some(port) = port
        && (port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()))
    {
        return false;
    }
    if domain.starts_with('[') {
        return true;
    }
    !host.is_empty()
        && host.split('.').all(|label| {
            !label.is_empty()
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// Path components `[a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*` joined by `/`.
fn valid_path(path: &str) -> bool {
    path.split('/').all(valid_component)
}

fn valid_component(c: &str) -> bool {
    let b = c.as_bytes();
    let alnum = |x: u8| x.is_ascii_lowercase() || x.is_ascii_digit();
    if b.is_empty() || !alnum(b[0]) || !alnum(b[b.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if alnum(b[i]) {
            i += 1;
            continue;
        }
        // A separator run: `.`, `_`, `__`, or any number of `-`.
        let start = i;
        while i < b.len() && !alnum(b[i]) {
            i += 1;
        }
        let sep = &c[start..i];
        let ok = matches!(sep, "." | "_" | "__") || sep.bytes().all(|x| x == b'-');
        if !ok {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    fn parse(s: &str) -> Reference {
        Reference::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn hub_names_are_normalised() {
        for s in ["busybox", "docker.io/busybox", "docker.io/library/busybox", "index.docker.io/library/busybox"] {
            let r = parse(s);
            assert_eq!((r.domain.as_str(), r.path.as_str()), ("docker.io", "library/busybox"), "{s}");
            assert_eq!(r.local_name(), "busybox");
            assert!(r.is_docker_hub());
        }
        let r = parse("registry-1.docker.io/user/app:v1");
        assert_eq!((r.domain.as_str(), r.path.as_str(), r.tag.as_deref()), ("docker.io", "user/app", Some("v1")));
        assert_eq!(r.local_name(), "user/app");
        assert_eq!(r.full_name(), "docker.io/user/app");
    }

    #[test]
    fn private_registries() {
        let r = parse("127.0.0.1:5000/busybox");
        assert_eq!((r.domain.as_str(), r.path.as_str(), r.tag.as_deref()), ("127.0.0.1:5000", "busybox", None));
        assert_eq!(r.local_name(), "127.0.0.1:5000/busybox");
        assert_eq!(r.tag_or_latest(), "latest");
        let r = parse("localhost/a/b:t");
        assert_eq!((r.domain.as_str(), r.path.as_str(), r.tag.as_deref()), ("localhost", "a/b", Some("t")));
        let r = parse("Registry.Example.com:443/x");
        assert_eq!(r.domain, "Registry.Example.com:443");
        let r = parse("[::1]:5000/x");
        assert_eq!(r.domain, "[::1]:5000");
        // Without `.`, `:` or `localhost`, the first component is a user.
        let r = parse("myhost/app");
        assert_eq!((r.domain.as_str(), r.path.as_str()), ("docker.io", "myhost/app"));
    }

    #[test]
    fn tags_and_digests() {
        let r = parse(&format!("busybox:1.36@sha256:{HEX}"));
        assert_eq!(r.tag.as_deref(), Some("1.36"));
        assert_eq!(r.digest.as_deref(), Some(format!("sha256:{HEX}").as_str()));
        assert_eq!(r.tag_or_digest(), format!("sha256:{HEX}"));
        assert_eq!(r.to_string(), format!("busybox:1.36@sha256:{HEX}"));
        let r = parse(&format!("127.0.0.1:5000/x@sha256:{HEX}"));
        assert_eq!(r.tag, None);
        assert_eq!(r.local_name(), "127.0.0.1:5000/x");
        assert_eq!(parse("a:b").with_tag("c").to_string(), "a:c");
    }

    #[test]
    fn separators() {
        for ok in ["a.b", "a_b", "a__b", "a-b", "a---b", "a-b.c_d__e", "0", "a/b/c/d"] {
            parse(ok);
        }
        for bad in ["a..b", "a___b", "-a", "a-", "a_", ".a", "a/", "/a", "a//b", "a:", "a@", "a b", "a:b:c"] {
            assert!(Reference::parse(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn error_texts() {
        assert_eq!(
            Reference::parse("Busybox").unwrap_err().to_string(),
            "invalid reference format: repository name must be lowercase"
        );
        assert_eq!(
            Reference::parse("127.0.0.1:5000/User/App:T").unwrap_err().to_string(),
            "invalid reference format: repository name must be lowercase"
        );
        assert_eq!(Reference::parse("a!b").unwrap_err().to_string(), "invalid reference format");
        assert_eq!(Reference::parse("a:-x").unwrap_err().to_string(), "invalid reference format");
        assert!(Reference::parse(HEX).unwrap_err().to_string().contains("64-byte hexadecimal"));
        assert!(Reference::parse("a@sha256:abc").unwrap_err().to_string().contains("digest"));
        assert!(Reference::parse(&format!("a@md5:{HEX}")).unwrap_err().to_string().contains("unsupported"));
        assert!(Reference::parse("").is_err());
        let long = format!("{}/{}", "a".repeat(200), "b".repeat(60));
        assert!(Reference::parse(&long).unwrap_err().to_string().contains("255"));
        parse(&format!("{}/{}", "a".repeat(200), "b".repeat(54)));
    }

    #[test]
    fn tag_rules() {
        validate_tag("latest").unwrap();
        validate_tag("_x.Y-1").unwrap();
        validate_tag(&"a".repeat(128)).unwrap();
        assert!(validate_tag(&"a".repeat(129)).is_err());
        assert!(validate_tag("").is_err());
        assert!(validate_tag(".x").is_err());
        assert!(validate_tag("-x").is_err());
        assert!(validate_tag("a/b").is_err());
        assert_eq!(validate_tag("a b").unwrap_err().to_string(), "invalid tag format: a b");
    }

    #[test]
    fn bad_domains() {
        for bad in ["-a.com/x", "a.com:/x", "a.com:12a/x", "[zz]:5000/x", "a..com/x"] {
            assert!(Reference::parse(bad).is_err(), "{bad} should be refused");
        }
    }
}
