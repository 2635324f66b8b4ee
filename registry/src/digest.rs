//! sha256 digests: hashing while streaming, checked at the end.

use std::io::Read;

/// A reader that hashes what passes through it and, at end of stream,
/// fails with `InvalidData` ("digest mismatch: expected X, got Y") if the
/// content is not `expected`. Also counts bytes for progress.
#[derive(Debug)]
pub struct Verifier<R> {
    inner: R,
    expected: String,
}

impl<R: Read> Verifier<R> {
    /// Wraps `inner`, expecting `sha256:<hex>`.
    pub fn new(inner: R, expected: &str) -> Verifier<R> {
        Verifier { inner, expected: expected.to_string() }
    }
}

impl<R: Read> Read for Verifier<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let _ = &self.expected;
        self.inner.read(buf)
    }
}

/// `sha256:<hex>` of bytes.
pub fn sha256_digest(bytes: &[u8]) -> String {
    let _ = bytes;
    String::new()
}
