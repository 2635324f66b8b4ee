//! sha256 digests: hashing while streaming, checked at the end.

use std::io::{self, Read};

use sha2::{Digest, Sha256};

/// A reader that hashes what passes through it and, at end of stream,
/// fails with `InvalidData` ("digest mismatch: expected X, got Y") if the
/// content is not `expected`. Also counts bytes for progress.
#[derive(Debug)]
pub struct Verifier<R> {
    inner: R,
    expected: String,
    hasher: Sha256,
    count: u64,
    /// Set once EOF was checked, so a caller reading past the end sees the
    /// same outcome again rather than a second hash of nothing.
    done: Option<Result<(), String>>,
}

impl<R: Read> Verifier<R> {
    /// Wraps `inner`, expecting `sha256:<hex>`.
    pub fn new(inner: R, expected: &str) -> Verifier<R> {
        Verifier { inner, expected: expected.to_string(), hasher: Sha256::new(), count: 0, done: None }
    }

    /// Bytes read so far.
    pub fn bytes_read(&self) -> u64 {
        self.count
    }

    /// The wrapped reader.
    pub fn into_inner(self) -> R {
        self.inner
    }

    fn finish(&mut self) -> Result<(), String> {
        let Some(hex) = self.expected.strip_prefix("sha256:") else {
            let algo = self.expected.split_once(':').map_or("", |(a, _)| a);
            return Err(format!("unsupported digest algorithm: {algo:?} in {:?}", self.expected));
        };
        let actual = format!("sha256:{}", hex_lower(&std::mem::take(&mut self.hasher).finalize()));
        if actual[7..] == *hex {
            Ok(())
        } else {
            Err(format!("digest mismatch: expected {}, got {actual}", self.expected))
        }
    }
}

impl<R: Read> Read for Verifier<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(done) = &self.done {
            return done.clone().map(|()| 0).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e));
        }
        // Refuse an algorithm we cannot check before handing out any bytes.
        if self.count == 0 && !self.expected.starts_with("sha256:") {
            let outcome = self.finish();
            self.done = Some(outcome.clone());
            return outcome.map(|()| 0).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e));
        }
        let n = self.inner.read(buf)?;
        if n == 0 && !buf.is_empty() {
            let outcome = self.finish();
            self.done = Some(outcome.clone());
            return outcome.map(|()| 0).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e));
        }
        self.hasher.update(&buf[..n]);
        self.count += n as u64;
        Ok(n)
    }
}

/// `sha256:<hex>` of bytes.
pub fn sha256_digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex_lower(&Sha256::digest(bytes)))
}

/// Lowercase hex of bytes.
pub(crate) fn hex_lower(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const EMPTY: &str = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    #[test]
    fn digest_of_bytes() {
        assert_eq!(sha256_digest(b""), EMPTY);
        assert_eq!(sha256_digest(b"abc"), "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    #[test]
    fn verifier_passes_matching_content() {
        let data = vec![7u8; 100_000];
        let mut v = Verifier::new(&data[..], &sha256_digest(&data));
        let mut out = Vec::new();
        v.read_to_end(&mut out).unwrap();
        assert_eq!(out, data);
        assert_eq!(v.bytes_read(), 100_000);
        // Reading again after EOF stays at EOF.
        assert_eq!(v.read(&mut [0u8; 4]).unwrap(), 0);
    }

    #[test]
    fn verifier_refuses_other_content() {
        let mut v = Verifier::new(&b"abc"[..], EMPTY);
        let err = v.read_to_end(&mut Vec::new()).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert_eq!(
            err.to_string(),
            format!(
                "digest mismatch: expected {EMPTY}, got sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
            )
        );
        assert!(v.read(&mut [0u8; 4]).is_err(), "the failure sticks");
    }

    #[test]
    fn verifier_refuses_unknown_algorithms() {
        let mut v = Verifier::new(&b"abc"[..], "md5:900150983cd24fb0d6963f7d28e17f72");
        let err = v.read_to_end(&mut Vec::new()).unwrap_err();
        assert!(err.to_string().contains("unsupported digest algorithm"), "{err}");
        assert_eq!(v.bytes_read(), 0);
    }
}
