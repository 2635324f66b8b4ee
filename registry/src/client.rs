//! The distribution v2 client: one [`Service`] per daemon (TLS roots,
//! insecure registries), one [`Repository`] session per pull or push with
//! its auth (basic, or Bearer tokens fetched on a 401 challenge and renewed
//! for new scopes).
//!
//! Docker 1.2 spoke only the v1 registry protocol; every registry still in
//! service speaks v2, so pulls and pushes use v2 only (search stays v1, see
//! [`crate::search`]).

mod challenge;
mod errors;
mod transport;

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use futures_util::{Stream, StreamExt, TryStreamExt};
use parking_lot::Mutex;
use reqwest::header::{
    ACCEPT, AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue, LOCATION,
};
use reqwest::{Method, RequestBuilder, Response, Url};

use self::challenge::{Challenge, TokenResponse, repository_scope};
use self::errors::Failure;
use crate::auth::AuthConfig;
use crate::config_file::hostname_of;
use crate::digest::sha256_digest;
use crate::error::RegistryError;
use crate::manifest::{self, Parsed, Platform, ResolvedManifest};
use crate::reference::{Reference, validate_digest};

pub(crate) use self::transport::is_insecure;

/// A stream of blob bytes.
pub type BlobStream = Pin<Box<dyn Stream<Item = Result<Bytes, RegistryError>> + Send>>;

/// Where Docker Hub's v2 API lives.
pub const DOCKER_HUB_REGISTRY: &str = "registry-1.docker.io";
/// Upload chunk size (`PATCH` body) and the largest monolithic `PUT`.
pub const DEFAULT_CHUNK_SIZE: usize = 8 << 20;
/// Manifests larger than this are refused, as dockerd does.
const MAX_MANIFEST_SIZE: usize = 4 << 20;
/// Token lifetime when the endpoint does not say (the spec's default).
const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(60);

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
    clients: transport::Clients,
    user_agent: String,
}

/// A session with one repository of one registry.
#[derive(Debug, Clone)]
pub struct Repository {
    session: Arc<Session>,
    chunk_size: usize,
}

/// An endpoint that answered `GET /v2/`.
struct Endpoint {
    http: reqwest::Client,
    /// `https://host[:port]` or `http://...`.
    base: String,
    challenge: Challenge,
}

struct Session {
    http: reqwest::Client,
    base: String,
    path: String,
    /// The local name (`127.0.0.1:5000/x`), for messages.
    name: String,
    auth: AuthConfig,
    meta: HeaderMap,
    push: bool,
    challenge: Mutex<Challenge>,
    /// Scope list → (token, expiry).
    tokens: Mutex<HashMap<String, (String, Instant)>>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session").field("base", &self.base).field("path", &self.path).finish_non_exhaustive()
    }
}

fn transport_error(url: &str, e: &reqwest::Error) -> RegistryError {
    // reqwest's Display stops at the outermost cause; the inner ones say why.
    let mut message = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        message = format!("{message}: {s}");
        source = s.source();
    }
    RegistryError::Transport { url: url.to_string(), message }
}

fn header_map(meta: &[(String, String)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (k, v) in meta {
        // Headers that cannot be sent are left out rather than failing a pull.
        if let (Ok(k), Ok(v)) = (HeaderName::try_from(k.as_str()), HeaderValue::try_from(v.as_str())) {
            map.append(k, v);
        }
    }
    map
}

/// The `host[:port]` serving a reference's domain.
fn registry_host(domain: &str) -> &str {
    if domain == crate::reference::DEFAULT_DOMAIN { DOCKER_HUB_REGISTRY } else { domain }
}

impl Service {
    /// A service with these options.
    pub fn new(options: ServiceOptions) -> Service {
        Service { options, clients: transport::Clients::default(), user_agent: transport::default_user_agent() }
    }

    /// The same service sending another `User-Agent` (the default is
    /// `docker/<version> (rust)`).
    pub fn with_user_agent(mut self, user_agent: &str) -> Service {
        self.user_agent = user_agent.to_string();
        self.clients = transport::Clients::default();
        self
    }

    /// The options.
    pub fn options(&self) -> &ServiceOptions {
        &self.options
    }

    /// A plain `GET` of any URL with this service's HTTP client (verified
    /// TLS, redirects followed): `import` from a URL. Returns the length
    /// when known and the body as a stream.
    pub async fn fetch_url(&self, url: &str) -> Result<(Option<u64>, BlobStream), RegistryError> {
        let resp = self.http(true)?.get(url).send().await.map_err(|e| transport_error(url, &e))?;
        if !resp.status().is_success() {
            return Err(RegistryError::Status {
                status: resp.status().as_u16(),
                url: url.to_string(),
                body: resp.status().canonical_reason().unwrap_or("").to_string(),
            });
        }
        let length = resp.content_length();
        let owned = url.to_string();
        let stream = resp.bytes_stream().map_err(move |e| transport_error(&owned, &e));
        Ok((length, Box::pin(stream)))
    }

    pub(crate) fn http(&self, verify_tls: bool) -> Result<reqwest::Client, RegistryError> {
        self.clients.get(verify_tls, &self.user_agent)
    }

    /// The base URLs to try for a host, best first: verified HTTPS; for
    /// insecure registries, HTTPS without verification, then plain HTTP.
    pub(crate) async fn candidates(&self, host: &str) -> Result<Vec<(reqwest::Client, String)>, RegistryError> {
        if is_insecure(host, &self.options.insecure_registries).await {
            Ok(vec![(self.http(false)?, format!("https://{host}")), (self.http(true)?, format!("http://{host}"))])
        } else {
            Ok(vec![(self.http(true)?, format!("https://{host}"))])
        }
    }

    /// `GET /v2/` on each candidate until one answers; learns its challenge.
    async fn probe(&self, host: &str, meta: &HeaderMap) -> Result<Endpoint, RegistryError> {
        let mut last = None;
        for (http, base) in self.candidates(host).await? {
            let url = format!("{base}/v2/");
            let resp = match http.get(&url).headers(meta.clone()).send().await {
                Ok(resp) => resp,
                Err(e) => {
                    tracing::debug!(url, error = %e, "registry endpoint unreachable");
                    last = Some(transport_error(&url, &e));
                    continue;
                }
            };
            let status = resp.status().as_u16();
            let challenge = match status {
                200..=299 => Challenge::None,
                401 => resp
                    .headers()
                    .get_all(reqwest::header::WWW_AUTHENTICATE)
                    .iter()
                    .filter_map(|v| v.to_str().ok())
                    .filter_map(challenge::parse)
                    // Bearer is preferred when a registry offers both.
                    .max_by_key(|c| matches!(c, Challenge::Bearer { .. }))
                    .unwrap_or(Challenge::Basic),
                404 => {
                    return Err(RegistryError::Protocol(format!("{url}: the registry does not support the v2 API")));
                }
                _ => return Err(Failure::read(resp).await.into_error()),
            };
            return Ok(Endpoint { http, base, challenge });
        }
        Err(last.unwrap_or_else(|| RegistryError::Protocol(format!("no endpoint for {host}"))))
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
        let meta = header_map(meta_headers);
        let endpoint = self.probe(registry_host(&reference.domain), &meta).await?;
        Ok(Repository {
            session: Arc::new(Session {
                http: endpoint.http,
                base: endpoint.base,
                path: reference.path.clone(),
                name: reference.local_name(),
                auth: auth.resolved(),
                meta,
                push: access == Access::Push,
                challenge: Mutex::new(endpoint.challenge),
                tokens: Mutex::new(HashMap::new()),
            }),
            chunk_size: DEFAULT_CHUNK_SIZE,
        })
    }

    /// Checks credentials against a registry (`auth` job): Ok when `GET
    /// /v2/` (with a token for the challenge) accepts them.
    pub async fn login(&self, auth: &AuthConfig) -> Result<(), RegistryError> {
        let auth = auth.resolved();
        let host = match hostname_of(&auth.serveraddress) {
            "" | "docker.io" | "index.docker.io" | DOCKER_HUB_REGISTRY => DOCKER_HUB_REGISTRY,
            other => other,
        };
        let endpoint = self.probe(host, &HeaderMap::new()).await?;
        let wrong = || RegistryError::Unauthorized("Wrong login/password, please try again".to_string());
        let authorization = match &endpoint.challenge {
            Challenge::None => return Ok(()),
            Challenge::Basic => match auth.credentials() {
                Some((user, password)) => basic(&user, &password),
                None => return Err(wrong()),
            },
            // An anonymous token proves nothing about credentials.
            Challenge::Bearer { .. } if auth.credentials().is_none() && auth.identitytoken.is_empty() => {
                return Err(wrong());
            }
            Challenge::Bearer { realm, service } => {
                let (token, _) =
                    fetch_token(&endpoint.http, &auth, realm, service, &[]).await.map_err(|e| match e {
                        RegistryError::Unauthorized(_) | RegistryError::Denied(_) => wrong(),
                        other => other,
                    })?;
                format!("Bearer {token}")
            }
        };
        let url = format!("{}/v2/", endpoint.base);
        let resp = endpoint
            .http
            .get(&url)
            .header(AUTHORIZATION, authorization)
            .send()
            .await
            .map_err(|e| transport_error(&url, &e))?;
        match resp.status().as_u16() {
            200..=299 => Ok(()),
            401 | 403 => Err(wrong()),
            _ => Err(Failure::read(resp).await.into_error()),
        }
    }
}

fn basic(user: &str, password: &str) -> String {
    format!("Basic {}", crate::auth::encode_auth(user, password))
}

/// Asks a token endpoint for `scopes`; returns the token and its lifetime.
async fn fetch_token(
    http: &reqwest::Client,
    auth: &AuthConfig,
    realm: &str,
    service: &str,
    scopes: &[String],
) -> Result<(String, Duration), RegistryError> {
    let mut url = Url::parse(realm).map_err(|e| RegistryError::Protocol(format!("bad token realm {realm:?}: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(RegistryError::Protocol(format!("bad token realm {realm:?}: not http(s)")));
    }
    let request = if !auth.identitytoken.is_empty() {
        // OAuth2 refresh-token grant, as dockerd does with an identity token.
        let mut form = form_urlencoded::Serializer::new(String::new());
        form.append_pair("grant_type", "refresh_token")
            .append_pair("refresh_token", &auth.identitytoken)
            .append_pair("service", service)
            .append_pair("client_id", "docker")
            .append_pair("scope", &scopes.join(" "));
        http.post(url.clone()).header(CONTENT_TYPE, "application/x-www-form-urlencoded").body(form.finish())
    } else {
        {
            let mut q = url.query_pairs_mut();
            if !service.is_empty() {
                q.append_pair("service", service);
            }
            for scope in scopes {
                q.append_pair("scope", scope);
            }
            if let Some((user, _)) = auth.credentials() {
                q.append_pair("account", &user);
            }
        }
        let req = http.get(url.clone());
        match auth.credentials() {
            Some((user, password)) => req.header(AUTHORIZATION, basic(&user, &password)),
            None => req,
        }
    };
    let shown = format!("{}://{}{}", url.scheme(), url.host_str().unwrap_or(""), url.path());
    let resp = request.send().await.map_err(|e| transport_error(&shown, &e))?;
    match resp.status().as_u16() {
        200..=299 => {}
        401 => {
            let f = Failure::read(resp).await;
            let detail = if f.text.is_empty() { "incorrect username or password".to_string() } else { f.text };
            return Err(RegistryError::Unauthorized(format!("unauthorized: {detail}")));
        }
        _ => return Err(Failure::read(resp).await.into_error()),
    }
    let body = resp.bytes().await.map_err(|e| transport_error(&shown, &e))?;
    let parsed: TokenResponse = serde_json::from_slice(&body)
        .map_err(|e| RegistryError::Protocol(format!("token from {shown}: invalid JSON: {e}")))?;
    let lifetime = parsed.expires_in.filter(|s| *s > 0).map_or(DEFAULT_TOKEN_LIFETIME, Duration::from_secs);
    let token = parsed.into_token().ok_or_else(|| RegistryError::Protocol(format!("token from {shown}: no token")))?;
    Ok((token, lifetime))
}

impl Session {
    fn url(&self, rest: &str) -> String {
        format!("{}/v2/{}/{rest}", self.base, self.path)
    }

    fn default_scopes(&self) -> Vec<String> {
        vec![repository_scope(&self.path, self.push)]
    }

    /// The `Authorization` value for `scopes`, fetching a token if needed.
    async fn authorization(&self, scopes: &[String], fresh: bool) -> Result<Option<String>, RegistryError> {
        if !self.auth.registrytoken.is_empty() {
            return Ok(Some(format!("Bearer {}", self.auth.registrytoken)));
        }
        let challenge = self.challenge.lock().clone();
        match challenge {
            Challenge::None => Ok(None),
            Challenge::Basic => Ok(self.auth.credentials().map(|(u, p)| basic(&u, &p))),
            Challenge::Bearer { realm, service } => {
                let key = scopes.join(" ");
                if !fresh
                    && let Some((token, expiry)) = self.tokens.lock().get(&key)
                    && Instant::now() < *expiry
                {
                    return Ok(Some(format!("Bearer {token}")));
                }
                let (token, lifetime) = fetch_token(&self.http, &self.auth, &realm, &service, scopes).await?;
                // Renew a little early so a token never expires in flight.
                let expiry = Instant::now() + lifetime.saturating_sub(Duration::from_secs(5));
                self.tokens.lock().insert(key, (token.clone(), expiry));
                Ok(Some(format!("Bearer {token}")))
            }
        }
    }

    /// Sends a request built by `build` (called again for the retry), with
    /// meta headers and auth. A 401 with a challenge the session did not
    /// answer yet (or an expired token) is answered once.
    async fn send(
        &self,
        method: Method,
        url: &str,
        scopes: &[String],
        build: impl Fn(RequestBuilder) -> RequestBuilder,
    ) -> Result<Response, RegistryError> {
        let mut fresh = false;
        loop {
            let mut req = self.http.request(method.clone(), url).headers(self.meta.clone());
            if let Some(value) = self.authorization(scopes, fresh).await? {
                req = req.header(AUTHORIZATION, value);
            }
            let resp = build(req).send().await.map_err(|e| transport_error(url, &e))?;
            if resp.status().as_u16() != 401 || fresh || !self.auth.registrytoken.is_empty() {
                return Ok(resp);
            }
            let offered = resp
                .headers()
                .get_all(reqwest::header::WWW_AUTHENTICATE)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .filter_map(challenge::parse)
                .max_by_key(|c| matches!(c, Challenge::Bearer { .. }));
            let Some(offered) = offered else { return Ok(resp) };
            let known = self.challenge.lock().clone();
            let retry = match (&known, &offered) {
                (Challenge::Bearer { .. }, Challenge::Bearer { .. }) => true,
                (Challenge::Basic, Challenge::Basic) => false,
                _ => true,
            };
            if !retry {
                return Ok(resp);
            }
            *self.challenge.lock() = offered;
            fresh = true;
        }
    }

    /// A failure with a pull's wording: `pull access denied for x, ...` and
    /// `manifest for x:t not found: ...`.
    fn pull_error(&self, f: Failure, reference: &str) -> RegistryError {
        let denied = |text: &str| {
            format!(
                "pull access denied for {}, repository does not exist or may require 'docker login': {text}",
                self.name
            )
        };
        match f.status {
            401 => RegistryError::Unauthorized(denied(if f.text.is_empty() {
                "unauthorized: authentication required"
            } else {
                &f.text
            })),
            403 => RegistryError::Denied(denied(if f.text.is_empty() {
                "denied: requested access to the resource is denied"
            } else {
                &f.text
            })),
            404 if f.has_code("NAME_UNKNOWN") && self.base.ends_with(DOCKER_HUB_REGISTRY) => {
                RegistryError::NotFound(denied(&f.text))
            }
            404 if f.has_code("NAME_UNKNOWN") => {
                RegistryError::NotFound(format!("repository {} not found: {}", self.name, f.text))
            }
            404 => {
                let sep = if reference.starts_with("sha256:") { '@' } else { ':' };
                let text = if f.text.is_empty() { "manifest unknown" } else { &f.text };
                RegistryError::NotFound(format!("manifest for {}{sep}{reference} not found: {text}", self.name))
            }
            _ => f.into_error(),
        }
    }
}

impl Repository {
    /// The same session with another upload chunk size (tests use small
    /// ones to exercise chunked uploads).
    pub fn with_chunk_size(mut self, chunk_size: usize) -> Repository {
        self.chunk_size = chunk_size.max(1);
        self
    }

    /// `https://host` or `http://host`: which endpoint the session uses.
    pub fn base_url(&self) -> &str {
        &self.session.base
    }

    /// Fetches the manifest for a tag or digest, resolving a list/index to
    /// `platform`; verifies the bytes against the digest asked for (and the
    /// `Docker-Content-Digest` header).
    pub async fn manifest(&self, tag_or_digest: &str, platform: &Platform) -> Result<ResolvedManifest, RegistryError> {
        let (raw, content_type, digest) = self.fetch_manifest(tag_or_digest).await?;
        let (media_type, parsed) = manifest::parse(&content_type, &raw).map_err(RegistryError::Protocol)?;
        let list = match parsed {
            Parsed::Image(manifest) => {
                return Ok(ResolvedManifest { manifest, raw, media_type, digest, list_digest: None });
            }
            Parsed::List(list) => list,
        };
        let entry = manifest::select(&list, platform).ok_or_else(|| {
            let mut name = format!("{}/{}", platform.os, platform.architecture);
            if !platform.variant.is_empty() {
                name = format!("{name}/{}", platform.variant);
            }
            RegistryError::NoMatchingPlatform(name)
        })?;
        let (child_raw, child_type, child_digest) = self.fetch_manifest(&entry.digest).await?;
        let child_type = if child_type.is_empty() { entry.media_type.clone() } else { child_type };
        match manifest::parse(&child_type, &child_raw).map_err(RegistryError::Protocol)? {
            (media_type, Parsed::Image(manifest)) => Ok(ResolvedManifest {
                manifest,
                raw: child_raw,
                media_type,
                digest: child_digest,
                list_digest: Some(digest),
            }),
            (_, Parsed::List(_)) => {
                Err(RegistryError::Protocol(format!("manifest list entry {} is itself a list", entry.digest)))
            }
        }
    }

    /// GETs a manifest's exact bytes; returns them with the `Content-Type`
    /// and their verified digest.
    async fn fetch_manifest(&self, reference: &str) -> Result<(Vec<u8>, String, String), RegistryError> {
        let s = &self.session;
        let url = s.url(&format!("manifests/{reference}"));
        let accept = manifest::ACCEPT.join(", ");
        let resp = s.send(Method::GET, &url, &s.default_scopes(), |r| r.header(ACCEPT, accept.as_str())).await?;
        if !resp.status().is_success() {
            return Err(s.pull_error(Failure::read(resp).await, reference));
        }
        let header = |name: &str| resp.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
        let content_type = header("content-type");
        let header_digest = header("docker-content-digest");
        if resp.content_length().is_some_and(|n| n > MAX_MANIFEST_SIZE as u64) {
            return Err(RegistryError::Protocol(format!(
                "manifest {reference} is larger than {MAX_MANIFEST_SIZE} bytes"
            )));
        }
        let mut raw = Vec::new();
        let mut body = resp.bytes_stream();
        while let Some(chunk) = body.next().await {
            raw.extend_from_slice(&chunk.map_err(|e| transport_error(&url, &e))?);
            if raw.len() > MAX_MANIFEST_SIZE {
                return Err(RegistryError::Protocol(format!(
                    "manifest {reference} is larger than {MAX_MANIFEST_SIZE} bytes"
                )));
            }
        }
        let actual = sha256_digest(&raw);
        if validate_digest(reference).is_ok() && actual != reference {
            return Err(RegistryError::DigestMismatch { expected: reference.to_string(), actual });
        }
        if header_digest.starts_with("sha256:") && header_digest != actual {
            return Err(RegistryError::DigestMismatch { expected: header_digest, actual });
        }
        Ok((raw, content_type, actual))
    }

    async fn get_blob(&self, digest: &str) -> Result<Response, RegistryError> {
        validate_digest(digest)?;
        let s = &self.session;
        let resp = s.send(Method::GET, &s.url(&format!("blobs/{digest}")), &s.default_scopes(), |r| r).await?;
        if resp.status().is_success() {
            return Ok(resp);
        }
        let f = Failure::read(resp).await;
        Err(match f.status {
            404 => RegistryError::NotFound(format!(
                "blob {digest} not found in {}: {}",
                s.name,
                if f.text.is_empty() { "blob unknown" } else { &f.text }
            )),
            _ => s.pull_error(f, digest),
        })
    }

    /// A small blob in full (the image config), verified.
    pub async fn blob_bytes(&self, digest: &str) -> Result<Bytes, RegistryError> {
        let resp = self.get_blob(digest).await?;
        let url = resp.url().to_string();
        let bytes = resp.bytes().await.map_err(|e| transport_error(&url, &e))?;
        let actual = sha256_digest(&bytes);
        if actual != digest {
            return Err(RegistryError::DigestMismatch { expected: digest.to_string(), actual });
        }
        Ok(bytes)
    }

    /// A blob as a stream (redirects followed). Not verified here: the
    /// caller hashes as it consumes (see [`crate::digest::Verifier`]).
    pub async fn blob(&self, digest: &str) -> Result<(Option<u64>, BlobStream), RegistryError> {
        let resp = self.get_blob(digest).await?;
        let size = resp.content_length();
        let url = resp.url().to_string();
        let stream = resp.bytes_stream().map_err(move |e| transport_error(&url, &e));
        Ok((size, Box::pin(stream)))
    }

    /// Every tag of the repository (`GET /v2/<name>/tags/list`, following
    /// `Link: <...>; rel="next"` pages), sorted.
    pub async fn tags(&self) -> Result<Vec<String>, RegistryError> {
        #[derive(serde::Deserialize)]
        struct TagList {
            #[serde(default)]
            tags: Option<Vec<String>>,
        }
        let s = &self.session;
        let mut url = s.url("tags/list");
        let mut tags = Vec::new();
        // A registry that keeps sending `next` links is cut off, not followed forever.
        for _ in 0..1000 {
            let resp = s.send(Method::GET, &url, &s.default_scopes(), |r| r).await?;
            if !resp.status().is_success() {
                return Err(s.pull_error(Failure::read(resp).await, "tags"));
            }
            let next = resp
                .headers()
                .get("link")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split_once('<'))
                .and_then(|(_, rest)| rest.split_once('>'))
                .filter(|(_, rel)| rel.contains("rel=\"next\""))
                .map(|(link, _)| link.to_string());
            let shown = resp.url().to_string();
            let body = resp.bytes().await.map_err(|e| transport_error(&shown, &e))?;
            let page: TagList = serde_json::from_slice(&body)
                .map_err(|e| RegistryError::Protocol(format!("tag list from {shown}: {e}")))?;
            tags.extend(page.tags.unwrap_or_default());
            match next {
                Some(link) if link.starts_with('/') => url = format!("{}{link}", s.base),
                Some(link) => url = link,
                None => break,
            }
        }
        tags.sort();
        tags.dedup();
        Ok(tags)
    }

    /// The blob's size if the repository has it (`HEAD`).
    pub async fn blob_exists(&self, digest: &str) -> Result<Option<u64>, RegistryError> {
        validate_digest(digest)?;
        let s = &self.session;
        let resp = s.send(Method::HEAD, &s.url(&format!("blobs/{digest}")), &s.default_scopes(), |r| r).await?;
        match resp.status().as_u16() {
            200..=299 => Ok(Some(
                resp.headers()
                    .get(CONTENT_LENGTH)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0),
            )),
            404 => Ok(None),
            _ => Err(Failure::read(resp).await.into_error()),
        }
    }

    /// Cross-repository mount from `from_path` on the same registry; true
    /// when the registry mounted it.
    pub async fn mount_blob(&self, digest: &str, from_path: &str) -> Result<bool, RegistryError> {
        validate_digest(digest)?;
        let s = &self.session;
        let mut url = Url::parse(&s.url("blobs/uploads/"))
            .map_err(|e| RegistryError::Protocol(format!("bad upload URL for {}: {e}", s.path)))?;
        url.query_pairs_mut().append_pair("mount", digest).append_pair("from", from_path);
        let scopes = vec![repository_scope(&s.path, true), repository_scope(from_path, false)];
        let resp = s.send(Method::POST, url.as_str(), &scopes, |r| r.header(CONTENT_LENGTH, 0)).await?;
        match resp.status().as_u16() {
            201 => Ok(true),
            202 => {
                // The registry could not mount and opened an upload instead;
                // give it back so no half-open session lingers.
                if let Ok(location) = self.location(&resp) {
                    let cancelled = s.send(Method::DELETE, location.as_str(), &s.default_scopes(), |r| r).await;
                    if let Err(e) = cancelled {
                        tracing::debug!(error = %e, "cancelling the upload a failed mount opened");
                    }
                }
                Ok(false)
            }
            _ => Err(Failure::read(resp).await.into_error()),
        }
    }

    fn location(&self, resp: &Response) -> Result<Url, RegistryError> {
        let value =
            resp.headers().get(LOCATION).and_then(|v| v.to_str().ok()).ok_or_else(|| {
                RegistryError::Protocol(format!("{}: upload response without a Location", resp.url()))
            })?;
        resp.url().join(value).map_err(|e| RegistryError::Protocol(format!("bad upload Location {value:?}: {e}")))
    }

    /// Uploads a blob whose digest and size are known (monolithic for small
    /// blobs, chunked `PATCH`es for large ones).
    pub async fn upload_blob(&self, digest: &str, size: u64, mut body: BlobStream) -> Result<(), RegistryError> {
        validate_digest(digest)?;
        let s = &self.session;
        let scopes = s.default_scopes();
        let resp = s.send(Method::POST, &s.url("blobs/uploads/"), &scopes, |r| r.header(CONTENT_LENGTH, 0)).await?;
        if resp.status().as_u16() != 202 {
            return Err(Failure::read(resp).await.into_error());
        }
        let mut location = self.location(&resp)?;
        let result = self.upload_chunks(digest, size, &mut body, &mut location).await;
        if result.is_err() {
            // Best effort: the registry would expire the session anyway.
            let _ = s.send(Method::DELETE, location.as_str(), &scopes, |r| r).await;
        }
        result
    }

    async fn upload_chunks(
        &self,
        digest: &str,
        size: u64,
        body: &mut BlobStream,
        location: &mut Url,
    ) -> Result<(), RegistryError> {
        let s = &self.session;
        let scopes = s.default_scopes();
        let mut offset: u64 = 0;
        let mut carry = BytesMut::new();
        loop {
            let chunk = next_chunk(body, &mut carry, self.chunk_size).await?;
            let eof = chunk.len() < self.chunk_size;
            if offset == 0 && eof {
                // The whole blob fits in one request: a monolithic PUT.
                offset = chunk.len() as u64;
                check_size(digest, offset, size)?;
                return self.finish_upload(location, digest, chunk).await;
            }
            if !chunk.is_empty() {
                let end = offset + chunk.len() as u64 - 1;
                let range = format!("{offset}-{end}");
                let len = chunk.len();
                let resp = s
                    .send(Method::PATCH, location.as_str(), &scopes, |r| {
                        r.header(CONTENT_TYPE, "application/octet-stream")
                            .header(CONTENT_LENGTH, len)
                            .header("Content-Range", range.as_str())
                            .body(chunk.clone())
                    })
                    .await?;
                if resp.status().as_u16() != 202 {
                    return Err(Failure::read(resp).await.into_error());
                }
                *location = self.location(&resp)?;
                offset += len as u64;
            }
            if eof {
                check_size(digest, offset, size)?;
                return self.finish_upload(location, digest, Bytes::new()).await;
            }
        }
    }

    /// `PUT <location>&digest=` with the last bytes (or none).
    async fn finish_upload(&self, location: &Url, digest: &str, last: Bytes) -> Result<(), RegistryError> {
        let s = &self.session;
        let mut url = location.clone();
        url.query_pairs_mut().append_pair("digest", digest);
        let len = last.len();
        let resp = s
            .send(Method::PUT, url.as_str(), &s.default_scopes(), |r| {
                r.header(CONTENT_TYPE, "application/octet-stream").header(CONTENT_LENGTH, len).body(last.clone())
            })
            .await?;
        match resp.status().as_u16() {
            201 | 204 => Ok(()),
            _ => Err(Failure::read(resp).await.into_error()),
        }
    }

    /// Puts a manifest under a tag; returns its digest.
    pub async fn put_manifest(&self, tag: &str, media_type: &str, raw: &[u8]) -> Result<String, RegistryError> {
        let s = &self.session;
        let body = Bytes::copy_from_slice(raw);
        let resp = s
            .send(Method::PUT, &s.url(&format!("manifests/{tag}")), &s.default_scopes(), |r| {
                r.header(CONTENT_TYPE, media_type).body(body.clone())
            })
            .await?;
        if !resp.status().is_success() {
            return Err(Failure::read(resp).await.into_error());
        }
        let header = resp.headers().get("docker-content-digest").and_then(|v| v.to_str().ok()).unwrap_or("");
        Ok(if header.is_empty() { sha256_digest(raw) } else { header.to_string() })
    }
}

fn check_size(digest: &str, read: u64, size: u64) -> Result<(), RegistryError> {
    if read == size {
        Ok(())
    } else {
        Err(RegistryError::Protocol(format!("blob {digest}: read {read} bytes, expected {size}")))
    }
}

/// Up to `chunk_size` bytes from the stream (fewer only at its end).
async fn next_chunk(body: &mut BlobStream, carry: &mut BytesMut, chunk_size: usize) -> Result<Bytes, RegistryError> {
    while carry.len() < chunk_size {
        match body.next().await {
            Some(item) => carry.extend_from_slice(&item?),
            None => break,
        }
    }
    let take = carry.len().min(chunk_size);
    Ok(carry.split_to(take).freeze())
}
