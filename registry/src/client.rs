//! The distribution v2 client: one [`Service`] per daemon (TLS roots,
//! insecure registries), one [`Repository`] session per pull or push with
//! its auth (basic, or Bearer tokens fetched on a 401 challenge and renewed
//! for new scopes).

use std::pin::Pin;

use bytes::Bytes;
use futures_util::Stream;

use crate::auth::AuthConfig;
use crate::error::RegistryError;
use crate::manifest::{Platform, ResolvedManifest};
use crate::reference::Reference;

/// A stream of blob bytes.
pub type BlobStream = Pin<Box<dyn Stream<Item = Result<Bytes, RegistryError>> + Send>>;

/// What a session may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// `pull`.
    Pull,
    /// `pull,push`.
    Push,
}

/// Daemon-wide settings.
#[derive(Debug, Clone, Default)]
pub struct ServiceOptions {
    /// `--insecure-registry` entries: `host[:port]` or CIDRs. Loopback
    /// registries are always insecure (plain HTTP allowed).
    pub insecure_registries: Vec<String>,
}

/// The registry service.
#[derive(Debug, Clone)]
pub struct Service {
    options: ServiceOptions,
}

/// A session with one repository of one registry.
#[derive(Debug, Clone)]
pub struct Repository {
    _private: (),
}

impl Service {
    /// A service with these options.
    pub fn new(options: ServiceOptions) -> Service {
        Service { options }
    }

    /// The options.
    pub fn options(&self) -> &ServiceOptions {
        &self.options
    }

    /// Opens a session for `reference`'s repository: probes `GET /v2/`
    /// (HTTPS, then plain HTTP where allowed), learns the auth challenge.
    /// `meta_headers` are added to every request.
    pub async fn repository(
        &self,
        reference: &Reference,
        auth: &AuthConfig,
        access: Access,
        meta_headers: &[(String, String)],
    ) -> Result<Repository, RegistryError> {
        let _ = (reference, auth, access, meta_headers);
        Err(RegistryError::Protocol("not built yet".into()))
    }

    /// Checks credentials against a registry (`auth` job): Ok when `GET
    /// /v2/` (with a token for the challenge) accepts them.
    pub async fn login(&self, auth: &AuthConfig) -> Result<(), RegistryError> {
        let _ = auth;
        Err(RegistryError::Protocol("not built yet".into()))
    }
}

impl Repository {
    /// Fetches the manifest for a tag or digest, resolving a list/index to
    /// `platform`; verifies the bytes against the digest asked for (and the
    /// `Docker-Content-Digest` header).
    pub async fn manifest(&self, tag_or_digest: &str, platform: &Platform) -> Result<ResolvedManifest, RegistryError> {
        let _ = (tag_or_digest, platform);
        Err(RegistryError::Protocol("not built yet".into()))
    }

    /// A small blob in full (the image config), verified.
    pub async fn blob_bytes(&self, digest: &str) -> Result<Bytes, RegistryError> {
        let _ = digest;
        Err(RegistryError::Protocol("not built yet".into()))
    }

    /// A blob as a stream (redirects followed). Not verified here: the
    /// caller hashes as it consumes (see [`crate::digest::Verifier`]).
    pub async fn blob(&self, digest: &str) -> Result<(Option<u64>, BlobStream), RegistryError> {
        let _ = digest;
        Err(RegistryError::Protocol("not built yet".into()))
    }

    /// The blob's size if the repository has it (`HEAD`).
    pub async fn blob_exists(&self, digest: &str) -> Result<Option<u64>, RegistryError> {
        let _ = digest;
        Ok(None)
    }

    /// Cross-repository mount from `from_path` on the same registry; true
    /// when the registry mounted it.
    pub async fn mount_blob(&self, digest: &str, from_path: &str) -> Result<bool, RegistryError> {
        let _ = (digest, from_path);
        Ok(false)
    }

    /// Uploads a blob whose digest and size are known (monolithic for small
    /// blobs, chunked `PATCH`es for large ones).
    pub async fn upload_blob(&self, digest: &str, size: u64, body: BlobStream) -> Result<(), RegistryError> {
        let _ = (digest, size, body);
        Err(RegistryError::Protocol("not built yet".into()))
    }

    /// Puts a manifest under a tag; returns its digest.
    pub async fn put_manifest(&self, tag: &str, media_type: &str, raw: &[u8]) -> Result<String, RegistryError> {
        let _ = (tag, media_type, raw);
        Err(RegistryError::Protocol("not built yet".into()))
    }
}
