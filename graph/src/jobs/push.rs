//! The `push` job: every tag of a repository (or the one asked for) to a
//! v2 registry as Docker schema 2 manifests.
//!
//! Per layer, cheapest first: a blob the registry already has (`HEAD` of a
//! digest this store pulled or pushed it as) is skipped, one another
//! repository of the same registry has is mounted, and only then is the
//! layer's tar (byte-identical to the one registered, so its diff ID holds)
//! gzip'd to a temp file, hashed, and uploaded.

use std::io::Write;
use std::sync::Arc;

use engine::{ErrorKind, Job, Status};
use futures_util::StreamExt;
use registry::manifest::{self, Descriptor, ImageManifest};
use registry::{Access, AuthConfig, Reference, RegistryError, Repository};
use runconfig::ProgressDetail;
use sha2::{Digest, Sha256};

use super::ImageService;
use super::distribution::{DistributionMetadata, KnownBlob};
use super::events::log_image_event;
use super::progress::{self, ByteCounter, Progress};
use super::util::short_id;
use crate::layers::LayerStore;
use crate::{Graph, GraphError};

#[derive(Debug, thiserror::Error)]
enum PushError {
    #[error(transparent)]
    Registry(#[from] RegistryError),
    #[error(transparent)]
    Graph(#[from] GraphError),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Other(String),
}

impl PushError {
    fn kind(&self) -> ErrorKind {
        match self {
            PushError::Registry(e) => e.kind(),
            PushError::Graph(e) => e.kind(),
            PushError::NotFound(_) => ErrorKind::NotFound,
            PushError::Other(_) => ErrorKind::Internal,
        }
    }
}

/// Runs `push NAME` (env `tag`, `authConfig`, `metaHeaders`, `json`).
pub async fn push(service: ImageService, job: Job) -> Status {
    let args = job.args();
    let [name] = args.as_slice() else {
        return job.fail(ErrorKind::BadParameter, "Usage: push IMAGE").await;
    };
    let mut reference = match Reference::parse(name) {
        Ok(r) => r,
        Err(e) => return job.fail(ErrorKind::BadParameter, e).await,
    };
    let tag = job.getenv("tag");
    if !tag.is_empty() {
        if let Err(e) = registry::reference::validate_tag(&tag) {
            return job.fail(ErrorKind::BadParameter, e).await;
        }
        reference.tag = Some(tag);
    }
    let auth = AuthConfig::from_json_lenient(&job.getenv(engine::names::env::AUTH_CONFIG));
    let meta = registry::jobs::meta_headers(&job);

    let local = reference.local_name();
    let tags: Vec<(String, String)> = match &reference.tag {
        Some(tag) => match service.graph.tags().get(&local, tag) {
            Some(id) => vec![(tag.clone(), id)],
            None => {
                let text = format!("An image does not exist locally with the tag: {local}:{tag}");
                return job.fail(ErrorKind::NotFound, text).await;
            }
        },
        None => service
            .graph
            .tags()
            .all()
            .get(&local)
            .map(|tags| tags.iter().filter(|(t, _)| !t.contains(':')).map(|(t, id)| (t.clone(), id.clone())).collect())
            .unwrap_or_default(),
    };
    if tags.is_empty() {
        return job.fail(ErrorKind::NotFound, format!("An image does not exist locally with the tag: {local}")).await;
    }

    let (progress, writer) = progress::start(&job);
    progress
        .status("", &format!("The push refers to repository [{}/{}]", reference.domain, display_path(&reference)))
        .await;
    let result = push_tags(&service, &progress, &reference, &auth, &meta, &tags).await;
    drop(progress);
    writer.finish().await;
    match result {
        Ok(()) => {
            log_image_event(&job, "push", &local, &local).await;
            Status::OK
        }
        Err(e) => job.fail(e.kind(), e).await,
    }
}

/// Docker Hub official images are shown without `library/`.
fn display_path(reference: &Reference) -> String {
    if reference.is_docker_hub() {
        format!("library/{}", reference.path.trim_start_matches("library/"))
    } else {
        reference.path.clone()
    }
}

async fn push_tags(
    service: &ImageService,
    progress: &Progress,
    reference: &Reference,
    auth: &AuthConfig,
    meta: &[(String, String)],
    tags: &[(String, String)],
) -> Result<(), PushError> {
    let repo = service.registry.repository(reference, auth, Access::Push, meta).await?;
    let distribution = DistributionMetadata::new(service.graph.root());
    for (tag, image_id) in tags {
        let image = service
            .graph
            .images()
            .get(image_id)
            .ok_or_else(|| PushError::NotFound(format!("No such image: {}:{tag}", reference.local_name())))?;
        let diff_ids = image.config.rootfs.diff_ids.clone();
        let mut chain: Option<String> = None;
        let mut jobs = Vec::new();
        for diff_id in &diff_ids {
            let id = LayerStore::chain_id(chain.as_deref(), diff_id);
            jobs.push((id.clone(), diff_id.clone()));
            chain = Some(id);
        }
        for (_, diff_id) in jobs.iter().rev() {
            progress.progress(&short_id(diff_id), "Preparing", ProgressDetail::default()).await;
        }
        let mut layers = Vec::with_capacity(jobs.len());
        for (chain_id, diff_id) in &jobs {
            let descriptor =
                push_layer(&service.graph, &distribution, &repo, progress, reference, chain_id, diff_id).await?;
            layers.push(descriptor);
        }

        if repo.blob_exists(&image.id).await?.is_none() {
            let body = bytes::Bytes::from(image.raw.clone());
            let stream = futures_util::stream::once(async move { Ok::<_, RegistryError>(body) });
            repo.upload_blob(&image.id, image.raw.len() as u64, Box::pin(stream)).await?;
        }
        let manifest = ImageManifest {
            schema_version: 2,
            media_type: manifest::MEDIA_TYPE_DOCKER_MANIFEST.to_string(),
            config: Descriptor {
                media_type: manifest::MEDIA_TYPE_DOCKER_CONFIG.to_string(),
                size: image.raw.len() as i64,
                digest: image.id.clone(),
                platform: None,
            },
            layers,
        };
        let raw = serde_json::to_vec_pretty(&manifest).map_err(|e| PushError::Other(e.to_string()))?;
        let digest = repo.put_manifest(tag, manifest::MEDIA_TYPE_DOCKER_MANIFEST, &raw).await?;
        let graph = service.graph.clone();
        let (local, d, id) = (reference.local_name(), digest.clone(), image.id.clone());
        let _ = tokio::task::spawn_blocking(move || graph.tags().set_digest(&local, &d, &id)).await;
        progress.status("", &format!("{tag}: digest: {digest} size: {}", raw.len())).await;
        progress.aux(serde_json::json!({"Tag": tag, "Digest": digest, "Size": raw.len()})).await;
    }
    Ok(())
}

/// Makes sure the registry has one layer; returns its descriptor.
async fn push_layer(
    graph: &Arc<Graph>,
    distribution: &DistributionMetadata,
    repo: &Repository,
    progress: &Progress,
    reference: &Reference,
    chain_id: &str,
    diff_id: &str,
) -> Result<Descriptor, PushError> {
    let id = short_id(diff_id);
    let known: Vec<KnownBlob> =
        distribution.get(diff_id).into_iter().filter(|k| k.registry == reference.domain).collect();
    for blob in &known {
        if let Some(size) = repo.blob_exists(&blob.digest).await? {
            progress.progress(&id, "Layer already exists", ProgressDetail::default()).await;
            return Ok(descriptor(&blob.digest, size as i64, &blob.media_type));
        }
    }
    for blob in known.iter().filter(|k| k.repository != reference.path) {
        if repo.mount_blob(&blob.digest, &blob.repository).await? {
            progress.progress(&id, &format!("Mounted from {}", blob.repository), ProgressDetail::default()).await;
            record(distribution, diff_id, reference, &blob.digest, blob.size, &blob.media_type);
            return Ok(descriptor(&blob.digest, blob.size, &blob.media_type));
        }
    }

    // Compress to a temp file first: the upload needs the digest and size.
    let (g, chain) = (graph.clone(), chain_id.to_string());
    let tmp_dir = graph.tmp_dir();
    let (file, digest, size) = tokio::task::spawn_blocking(move || compress_layer(&g, &chain, &tmp_dir))
        .await
        .map_err(|e| PushError::Other(format!("compressing layer: {e}")))??;
    let media_type = manifest::MEDIA_TYPE_DOCKER_LAYER;
    if repo.blob_exists(&digest).await?.is_none() {
        let reader = tokio::fs::File::from_std(file.reopen().map_err(|e| GraphError::io(file.path(), e))?);
        let mut counter = ByteCounter::new(progress.clone(), &id, "Pushing", size as i64);
        let stream = tokio_util::io::ReaderStream::with_capacity(reader, 256 * 1024).map(move |chunk| {
            let chunk = chunk.map_err(|e| RegistryError::Protocol(format!("reading the compressed layer: {e}")))?;
            counter.add(chunk.len());
            Ok(chunk)
        });
        repo.upload_blob(&digest, size, Box::pin(stream)).await?;
        progress.progress(&id, "Pushed", ProgressDetail::default()).await;
    } else {
        progress.progress(&id, "Layer already exists", ProgressDetail::default()).await;
    }
    drop(file);
    record(distribution, diff_id, reference, &digest, size as i64, media_type);
    Ok(descriptor(&digest, size as i64, media_type))
}

fn descriptor(digest: &str, size: i64, media_type: &str) -> Descriptor {
    let media_type = if media_type.is_empty() { manifest::MEDIA_TYPE_DOCKER_LAYER } else { media_type };
    Descriptor { media_type: media_type.to_string(), size, digest: digest.to_string(), platform: None }
}

fn record(
    distribution: &DistributionMetadata,
    diff_id: &str,
    reference: &Reference,
    digest: &str,
    size: i64,
    mt: &str,
) {
    distribution.add(
        diff_id,
        KnownBlob {
            digest: digest.to_string(),
            media_type: mt.to_string(),
            size,
            registry: reference.domain.clone(),
            repository: reference.path.clone(),
        },
    );
}

/// A writer that hashes and counts what it passes on.
struct Hashing<W> {
    inner: W,
    hasher: Sha256,
    size: u64,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.size += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// gzip of the layer's tar into a temp file: (file, digest, size).
fn compress_layer(
    graph: &Graph,
    chain_id: &str,
    tmp_dir: &std::path::Path,
) -> Result<(tempfile::NamedTempFile, String, u64), PushError> {
    std::fs::create_dir_all(tmp_dir).map_err(|e| GraphError::io(tmp_dir, e))?;
    let file = tempfile::NamedTempFile::new_in(tmp_dir).map_err(|e| GraphError::io(tmp_dir, e))?;
    let out = file.reopen().map_err(|e| GraphError::io(file.path(), e))?;
    let hashing = Hashing { inner: std::io::BufWriter::new(out), hasher: Sha256::new(), size: 0 };
    let mut gz = flate2::write::GzEncoder::new(hashing, flate2::Compression::fast());
    let mut tar = graph.layers().tar(chain_id)?;
    std::io::copy(&mut tar, &mut gz).map_err(|e| GraphError::io(file.path(), e))?;
    let mut hashing = gz.finish().map_err(|e| GraphError::io(file.path(), e))?;
    hashing.flush().map_err(|e| GraphError::io(file.path(), e))?;
    let digest = format!("sha256:{:x}", hashing.hasher.finalize());
    Ok((file, digest, hashing.size))
}
