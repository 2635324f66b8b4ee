//! Small helpers shared by the image jobs: times as Go writes them, glob
//! matching as Go's `path.Match`, user names split into repository and
//! tag, gzip sniffing, and the blocking-task wrapper.

use std::io::{self, BufRead, BufReader, Read};

use crate::error::{GraphError, Result};

pub use registry::digest::sha256_digest;

/// The hex part of an ID (`sha256:` removed).
pub fn hex(id: &str) -> &str {
    id.strip_prefix("sha256:").unwrap_or(id)
}

/// The 12-character short form of an ID.
pub fn short_id(id: &str) -> String {
    hex(id).chars().take(12).collect()
}

/// Runs blocking image-store work off the runtime.
pub async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    match tokio::task::spawn_blocking(f).await {
        Ok(result) => result,
        Err(e) => Err(GraphError::io("<blocking task>", io::Error::other(e.to_string()))),
    }
}

/// A name as the TagStore keys it: the local repository and the tag or
/// digest (`None` when the name carries neither).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedRef {
    /// Short local repository name.
    pub repo: String,
    /// The tag, if one was given.
    pub tag: Option<String>,
    /// The digest, if one was given.
    pub digest: Option<String>,
}

impl NamedRef {
    /// The tag or digest key, `latest` when the name has neither.
    pub fn key(&self) -> &str {
        self.digest.as_deref().or(self.tag.as_deref()).unwrap_or("latest")
    }

    /// `repo:tag` or `repo@digest` as users read it.
    pub fn familiar(&self) -> String {
        match &self.digest {
            Some(d) => format!("{}@{d}", self.repo),
            None => format!("{}:{}", self.repo, self.key()),
        }
    }
}

/// Parses a user's reference; `None` if it is no valid reference (an ID
/// with `sha256:`, for instance).
pub fn parse_ref(name: &str) -> Option<NamedRef> {
    let r = registry::Reference::parse(name).ok()?;
    Some(NamedRef { repo: r.local_name(), tag: r.tag.clone(), digest: r.digest.clone() })
}

/// Whether `name` is a prefix of the image ID (with or without `sha256:`),
/// as dockerd's `isImageIDPrefix`.
pub fn is_id_prefix(id: &str, name: &str) -> bool {
    id.starts_with(name) || hex(id).starts_with(name)
}

/// A reader that gunzips when the stream starts with the gzip magic and
/// passes plain tars through (`load`, `import` accept both).
pub fn maybe_gunzip<'a>(reader: impl Read + Send + 'a) -> io::Result<Box<dyn Read + Send + 'a>> {
    let mut buffered = BufReader::with_capacity(64 * 1024, reader);
    let head = buffered.fill_buf()?;
    if head.starts_with(&[0x1f, 0x8b]) {
        Ok(Box::new(flate2::read::MultiGzDecoder::new(buffered)))
    } else {
        Ok(Box::new(buffered))
    }
}

/// Go's `path.Match`: `*` and `?` never match `/`; `[...]` classes with
/// ranges and `^` negation; `\` escapes. A malformed pattern matches
/// nothing.
pub fn glob_match(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    matches_at(&p, &n)
}

fn matches_at(p: &[char], n: &[char]) -> bool {
    let Some((&first, rest)) = p.split_first() else {
        return n.is_empty();
    };
    match first {
        '*' => {
            for i in 0..=n.len() {
                if matches_at(rest, &n[i..]) {
                    return true;
                }
                if i < n.len() && n[i] == '/' {
                    return false;
                }
            }
            false
        }
        '?' => matches!(n.split_first(), Some((c, tail)) if *c != '/' && matches_at(rest, tail)),
        '[' => {
            let Some((c, tail)) = n.split_first() else { return false };
            match class_match(rest, *c) {
                Some((true, after)) => *c != '/' && matches_at(after, tail),
                _ => false,
            }
        }
        '\\' => match (rest.split_first(), n.split_first()) {
            (Some((e, prest)), Some((c, tail))) => e == c && matches_at(prest, tail),
            _ => false,
        },
        _ => matches!(n.split_first(), Some((c, tail)) if *c == first && matches_at(rest, tail)),
    }
}

/// Matches `c` against a class body (after `[`); the result and the
/// pattern after `]`, or `None` when the class is malformed.
fn class_match(p: &[char], c: char) -> Option<(bool, &[char])> {
    let (negate, mut p) = match p.split_first() {
        Some(('^', rest)) => (true, rest),
        _ => (false, p),
    };
    let mut matched = false;
    let mut first = true;
    loop {
        let (&lo, rest) = p.split_first()?;
        if lo == ']' && !first {
            return Some((matched != negate, rest));
        }
        first = false;
        let (lo, rest) = if lo == '\\' { (*rest.first()?, &rest[1..]) } else { (lo, rest) };
        let (hi, rest) = match rest {
            ['-', hi, tail @ ..] if *hi != ']' => {
                if *hi == '\\' {
                    (*tail.first()?, &tail[1..])
                } else {
                    (*hi, tail)
                }
            }
            _ => (lo, rest),
        };
        if lo <= c && c <= hi {
            matched = true;
        }
        p = rest;
    }
}

pub use crate::timestamp::{Timestamp, go_time, unix_of};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_follow_go_path_match() {
        assert!(glob_match("busy*", "busybox"));
        assert!(glob_match("*", "busybox"));
        assert!(!glob_match("*", "a/b"));
        assert!(glob_match("*/*", "a/b"));
        assert!(glob_match("b?sybox", "busybox"));
        assert!(glob_match("[a-c]usybox", "busybox"));
        assert!(!glob_match("[^a-c]usybox", "busybox"));
        assert!(glob_match("busybox:*", "busybox:latest"));
        assert!(!glob_match("[", "["));
    }

    #[test]
    fn gzip_is_sniffed() {
        use std::io::Write;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(b"hello").unwrap();
        let packed = gz.finish().unwrap();
        let mut out = String::new();
        maybe_gunzip(&packed[..]).unwrap().read_to_string(&mut out).unwrap();
        assert_eq!(out, "hello");
        out.clear();
        maybe_gunzip(&b"plain"[..]).unwrap().read_to_string(&mut out).unwrap();
        assert_eq!(out, "plain");
    }
}
