//! The `pull` job: registry v2 → layers → image → tag.
//!
//! Every missing layer is fetched at once (up to [`CONCURRENCY`]); with a
//! driver whose layers are independent diffs (overlay) each blob streams
//! through sha256 verification, gunzip and extraction in one pass into a
//! staging layer, and layers are committed bottom-up once all are whole.
//! With vfs, where a layer is a copy of its parent, blobs are applied in
//! order, still streamed. A failure anywhere drops every staged layer, so
//! a failed or killed pull leaves no half image.
//!
//! Messages follow today's dockerd (`Pulling from`, `Pulling fs layer`,
//! `Downloading`, `Verifying Checksum`, `Download complete`, `Extracting`,
//! `Pull complete`, `Digest:`, `Status:`), which today's clients render.

use std::collections::HashMap;
use std::io::Read;
use std::sync::{Arc, OnceLock};

use engine::{ErrorKind, Job, Status};
use parking_lot::Mutex;
use registry::manifest::{Descriptor, Platform};
use registry::{Access, AuthConfig, Reference, RegistryError, Repository};
use runconfig::ProgressDetail;
use tokio::sync::watch;

use super::ImageService;
use super::bridge::reader_from_stream;
use super::distribution::{DistributionMetadata, KnownBlob};
use super::events::log_image_event;
use super::progress::{self, ByteCounter, Progress};
use super::util::short_id;
use crate::GraphError;
use crate::images::ImageConfig;
use crate::layers::{LayerStore, StagedLayer};

/// Layers fetched at once, as dockerd's default `max-concurrent-downloads`.
const CONCURRENCY: usize = 3;

/// Why a pull failed, with the HTTP status kind it maps to.
#[derive(Debug, thiserror::Error)]
enum PullError {
    #[error(transparent)]
    Registry(#[from] RegistryError),
    #[error(transparent)]
    Graph(#[from] GraphError),
    #[error("{0}")]
    Other(String),
}

impl PullError {
    fn kind(&self) -> ErrorKind {
        match self {
            // Today's CLI answers a 401 from a pull by prompting for a login
            // (and hangs without a terminal); dockerd never sends one for a
            // pull: access denied reads as "not found" (404), other
            // credential failures as a daemon error (500).
            PullError::Registry(e @ (RegistryError::Unauthorized(_) | RegistryError::Denied(_))) => {
                if e.to_string().starts_with("pull access denied") { ErrorKind::NotFound } else { ErrorKind::Internal }
            }
            PullError::Registry(e) => e.kind(),
            PullError::Graph(e) => e.kind(),
            PullError::Other(_) => ErrorKind::Internal,
        }
    }
}

/// Runs `pull IMAGE [TAG]` (env `authConfig`, `metaHeaders`, `json`).
pub async fn pull(service: ImageService, job: Job) -> Status {
    let args = job.args();
    let (name, tag) = match args.as_slice() {
        [name] => (name.clone(), String::new()),
        [name, tag] => (name.clone(), tag.clone()),
        _ => return job.fail(ErrorKind::BadParameter, "Usage: pull IMAGE [TAG]").await,
    };
    let (reference, all_tags) = match parse_target(&name, &tag) {
        Ok(r) => r,
        Err(e) => return job.fail(ErrorKind::BadParameter, e).await,
    };
    let auth = AuthConfig::from_json_lenient(&job.getenv(engine::names::env::AUTH_CONFIG));
    let meta = registry::jobs::meta_headers(&job);

    // One pull per name:tag at a time; a second client waits for the first
    // and then finds the image up to date, as in Docker 1.2.
    let target = if all_tags { String::new() } else { target_of(&reference) };
    let key = format!("{}:{target}", reference.local_name());
    let (progress, writer) = progress::start(&job);
    let _guard = loop {
        match PullGuard::claim(&key) {
            Ok(guard) => break guard,
            Err(mut done) => {
                progress
                    .status(
                        "",
                        &format!(
                            "Repository {} already being pulled by another client. Waiting.",
                            reference.local_name()
                        ),
                    )
                    .await;
                let _ = done.wait_for(|finished| *finished).await;
            }
        }
    };

    let result = if all_tags {
        pull_all_tags(&service, &progress, &reference, &auth, &meta).await
    } else {
        pull_reference(&service, &progress, &reference, &auth, &meta).await.map(|pulled| vec![pulled])
    };
    drop(progress);
    writer.finish().await;
    match result {
        Ok(pulled) => {
            for (image_id, familiar) in pulled {
                log_image_event(&job, "pull", &familiar, &familiar).await;
                tracing::debug!(image = %image_id, "pulled {familiar}");
            }
            Status::OK
        }
        Err(e) => job.fail(e.kind(), e).await,
    }
}

/// `pull NAME ""`: every tag of the repository, as Docker 1.2 (and
/// `docker pull --all-tags`) does.
async fn pull_all_tags(
    service: &ImageService,
    progress: &Progress,
    reference: &Reference,
    auth: &AuthConfig,
    meta: &[(String, String)],
) -> Result<Vec<(String, String)>, PullError> {
    let repo = service.registry.repository(reference, auth, Access::Pull, meta).await?;
    let tags = repo.tags().await?;
    if tags.is_empty() {
        return Err(PullError::Registry(RegistryError::NotFound(format!(
            "no tags found in repository {}",
            reference.local_name()
        ))));
    }
    let mut pulled = Vec::with_capacity(tags.len());
    for tag in tags {
        let mut one = reference.clone();
        one.tag = Some(tag);
        pulled.push(pull_reference(service, progress, &one, auth, meta).await?);
    }
    Ok(pulled)
}

/// The reference a `pull NAME TAG` means, and whether it means every tag:
/// an empty TAG with no tag or digest in NAME (Docker 1.2's rule; today's
/// CLI sends `latest` unless `--all-tags`, docker-py always sends one).
fn parse_target(name: &str, tag: &str) -> Result<(Reference, bool), String> {
    let mut reference = Reference::parse(name).map_err(|e| e.to_string())?;
    if !tag.is_empty() {
        if tag.starts_with("sha256:") {
            reference.digest = Some(tag.to_string());
        } else {
            registry::reference::validate_tag(tag).map_err(|e| e.to_string())?;
            reference.tag = Some(tag.to_string());
        }
    }
    let all_tags = reference.tag.is_none() && reference.digest.is_none();
    Ok((reference, all_tags))
}

fn target_of(reference: &Reference) -> String {
    reference.digest.clone().unwrap_or_else(|| reference.tag_or_latest().to_string())
}

/// `repo:tag` or `repo@digest` as users write it.
fn familiar(reference: &Reference) -> String {
    match &reference.digest {
        Some(d) => format!("{}@{d}", reference.local_name()),
        None => format!("{}:{}", reference.local_name(), reference.tag_or_latest()),
    }
}

async fn pull_reference(
    service: &ImageService,
    progress: &Progress,
    reference: &Reference,
    auth: &AuthConfig,
    meta: &[(String, String)],
) -> Result<(String, String), PullError> {
    let target = target_of(reference);
    // Nothing is written before the manifest is known, so an unknown image
    // or bad credentials are a plain HTTP error (404, 401) that clients act
    // on, as with dockerd.
    let repo = service.registry.repository(reference, auth, Access::Pull, meta).await?;
    let manifest = repo.manifest(&target, &Platform::host()).await?;
    progress.status(reference.tag.as_deref().unwrap_or(&target), &format!("Pulling from {}", reference.path)).await;
    let config_bytes = repo.blob_bytes(&manifest.manifest.config.digest).await?;
    let config: ImageConfig = serde_json::from_slice(&config_bytes)
        .map_err(|e| PullError::Other(format!("invalid image config {}: {e}", manifest.manifest.config.digest)))?;
    let layers = &manifest.manifest.layers;
    if config.rootfs.diff_ids.len() != layers.len() {
        return Err(PullError::Other(format!(
            "invalid manifest for {}: {} layers but the image config lists {}",
            familiar(reference),
            layers.len(),
            config.rootfs.diff_ids.len()
        )));
    }

    let image_id = super::util::sha256_digest(&config_bytes);
    let graph = service.graph.clone();
    let up_to_date = graph.images().get(&image_id).is_some();
    if !up_to_date {
        fetch_layers(service, progress, &repo, layers, &config.rootfs.diff_ids).await?;
        let store = graph.clone();
        let bytes = config_bytes.to_vec();
        blocking(move || store.images().create(&bytes)).await?;
    }

    // Remember which blobs the layers came as, so a push to this registry
    // can skip or mount them instead of uploading.
    let distribution = DistributionMetadata::new(graph.root());
    let known: Vec<(String, KnownBlob)> = layers
        .iter()
        .zip(&config.rootfs.diff_ids)
        .map(|(layer, diff_id)| {
            let blob = KnownBlob {
                digest: layer.digest.clone(),
                media_type: layer.media_type.clone(),
                size: layer.size,
                registry: reference.domain.clone(),
                repository: reference.path.clone(),
            };
            (diff_id.clone(), blob)
        })
        .collect();
    blocking(move || {
        for (diff_id, blob) in known {
            distribution.add(&diff_id, blob);
        }
        Ok(())
    })
    .await?;

    let local = reference.local_name();
    let repo_digest = manifest.list_digest.clone().unwrap_or_else(|| manifest.digest.clone());
    let tags_before = graph.tags().get(&local, &target);
    let store = graph.clone();
    let (id, local_name, tag, digest) = (image_id.clone(), local.clone(), reference.tag.clone(), repo_digest.clone());
    blocking(move || {
        if let Some(tag) = &tag {
            store.tags().set(&local_name, tag, &id, true)?;
        }
        store.tags().set_digest(&local_name, &digest, &id)
    })
    .await?;

    progress.status("", &format!("Digest: {repo_digest}")).await;
    let name = familiar(reference);
    let status = if up_to_date && tags_before.as_deref() == Some(image_id.as_str()) {
        format!("Status: Image is up to date for {name}")
    } else {
        format!("Status: Downloaded newer image for {name}")
    };
    progress.status("", &status).await;
    Ok((image_id, name))
}

/// Runs blocking store work off the runtime.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, GraphError> + Send + 'static,
) -> Result<T, PullError> {
    super::util::blocking(f).await.map_err(PullError::from)
}

/// Fetches and stores every layer the store lacks.
async fn fetch_layers(
    service: &ImageService,
    progress: &Progress,
    repo: &Repository,
    layers: &[Descriptor],
    diff_ids: &[String],
) -> Result<(), PullError> {
    let store = service.graph.clone();
    let mut chains = Vec::with_capacity(layers.len());
    let mut parent: Option<String> = None;
    for diff_id in diff_ids {
        let chain = LayerStore::chain_id(parent.as_deref(), diff_id);
        chains.push(chain.clone());
        parent = Some(chain);
    }
    let mut missing = Vec::new();
    for (i, layer) in layers.iter().enumerate() {
        if store.layers().exists(&chains[i]) {
            progress.progress(&short_id(&layer.digest), "Already exists", ProgressDetail::default()).await;
        } else {
            progress.progress(&short_id(&layer.digest), "Pulling fs layer", ProgressDetail::default()).await;
            missing.push(i);
        }
    }
    if missing.is_empty() {
        return Ok(());
    }

    if store.layers().independent_diffs() {
        // All at once (bounded), committed bottom-up when all are staged.
        let semaphore = Arc::new(tokio::sync::Semaphore::new(CONCURRENCY));
        let mut tasks = tokio::task::JoinSet::new();
        for &i in &missing {
            let (repo, progress, store, semaphore) = (repo.clone(), progress.clone(), store.clone(), semaphore.clone());
            let layer = layers[i].clone();
            let diff_id = diff_ids[i].clone();
            let parent = if i == 0 { None } else { Some(chains[i - 1].clone()) };
            tasks.spawn(async move {
                let _permit = semaphore.acquire_owned().await;
                let staged = fetch_one(&repo, &progress, &store, &layer, parent, &diff_id).await?;
                Ok::<_, PullError>((i, staged))
            });
        }
        let mut staged: HashMap<usize, StagedLayer> = HashMap::new();
        while let Some(joined) = tasks.join_next().await {
            match joined {
                Ok(Ok((i, layer))) => {
                    staged.insert(i, layer);
                }
                Ok(Err(e)) => return Err(e), // dropping `tasks` aborts the rest
                Err(e) => return Err(PullError::Other(format!("layer download failed: {e}"))),
            }
        }
        for i in missing {
            let Some(layer) = staged.remove(&i) else { continue };
            let s = store.clone();
            blocking(move || s.layers().commit(layer)).await?;
            progress.progress(&short_id(&layers[i].digest), "Pull complete", ProgressDetail::default()).await;
        }
    } else {
        for i in missing {
            let parent = if i == 0 { None } else { Some(chains[i - 1].clone()) };
            let staged = fetch_one(repo, progress, &store, &layers[i], parent, &diff_ids[i]).await?;
            let s = store.clone();
            blocking(move || s.layers().commit(staged)).await?;
            progress.progress(&short_id(&layers[i].digest), "Pull complete", ProgressDetail::default()).await;
        }
    }
    Ok(())
}

/// Streams one blob through verify → gunzip → extract into a staged layer.
async fn fetch_one(
    repo: &Repository,
    progress: &Progress,
    store: &Arc<crate::Graph>,
    layer: &Descriptor,
    parent: Option<String>,
    diff_id: &str,
) -> Result<StagedLayer, PullError> {
    let id = short_id(&layer.digest);
    let (length, stream) = repo.blob(&layer.digest).await?;
    let total = if layer.size > 0 { layer.size } else { length.unwrap_or(0) as i64 };
    let mut counter = ByteCounter::new(progress.clone(), &id, "Downloading", total);
    let reader = reader_from_stream(stream, move |n| counter.add(n));
    let (store, digest, diff_id, media_type) =
        (store.clone(), layer.digest.clone(), diff_id.to_string(), layer.media_type.clone());
    let staged = blocking(move || {
        let verified = registry::digest::Verifier::new(reader, &digest);
        let mut decompressed =
            decompress(verified, &media_type).map_err(|e| GraphError::BadLayer(format!("layer {digest}: {e}")))?;
        let staged = store.layers().stage(parent.as_deref(), &mut decompressed, Some(&diff_id))?;
        Ok(staged)
    })
    .await
    .map_err(|e| match e {
        PullError::Graph(GraphError::Io { source, .. }) if source.kind() == std::io::ErrorKind::InvalidData => {
            PullError::Other(source.to_string())
        }
        other => other,
    })?;
    progress.progress(&id, "Verifying Checksum", ProgressDetail::default()).await;
    progress.progress(&id, "Download complete", ProgressDetail::default()).await;
    progress.progress(&id, "Extracting", ProgressDetail { current: total, total, start: 0 }).await;
    Ok(staged)
}

/// The layer media types' compressions: gzip (Docker and OCI `+gzip`) or
/// none (OCI `.tar`); a gzip stream is also recognised by its magic
/// whatever the media type says, as dockerd does.
fn decompress<R: Read + Send + 'static>(reader: R, media_type: &str) -> Result<Box<dyn Read + Send>, String> {
    if media_type.ends_with("+zstd") || media_type.ends_with(".zstd") {
        return Err(format!("unsupported layer compression ({media_type})"));
    }
    let mut reader = std::io::BufReader::with_capacity(256 * 1024, reader);
    let head = std::io::BufRead::fill_buf(&mut reader).map_err(|e| e.to_string())?;
    if head.starts_with(&[0x1f, 0x8b]) {
        Ok(Box::new(flate2::bufread::MultiGzDecoder::new(reader)))
    } else {
        Ok(Box::new(reader))
    }
}

/// One pull per `name:tag` at a time.
struct PullGuard {
    key: String,
    done: watch::Sender<bool>,
}

fn in_progress() -> &'static Mutex<HashMap<String, watch::Receiver<bool>>> {
    static PULLS: OnceLock<Mutex<HashMap<String, watch::Receiver<bool>>>> = OnceLock::new();
    PULLS.get_or_init(Default::default)
}

impl PullGuard {
    fn claim(key: &str) -> Result<PullGuard, watch::Receiver<bool>> {
        let mut pulls = in_progress().lock();
        if let Some(rx) = pulls.get(key) {
            return Err(rx.clone());
        }
        let (done, rx) = watch::channel(false);
        pulls.insert(key.to_string(), rx);
        Ok(PullGuard { key: key.to_string(), done })
    }
}

impl Drop for PullGuard {
    fn drop(&mut self) {
        in_progress().lock().remove(&self.key);
        let _ = self.done.send(true);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pull_without_tag_means_every_tag_and_digests_are_kept() {
        let (r, all) = parse_target("127.0.0.1:5000/busybox", "").unwrap();
        assert!(all && r.tag.is_none());
        let (r, all) = parse_target("busybox:1.36", "").unwrap();
        assert!(!all && familiar(&r) == "busybox:1.36");
        let (r, all) = parse_target("busybox", "1.36").unwrap();
        assert!(!all && familiar(&r) == "busybox:1.36");
        let digest = format!("sha256:{}", "a".repeat(64));
        let (r, _) = parse_target("busybox", &digest).unwrap();
        assert_eq!(r.digest.as_deref(), Some(digest.as_str()));
        assert!(parse_target("busybox", "bad tag!").is_err());
        assert!(parse_target("Bad/Name", "").is_err());
    }

    #[test]
    fn layers_are_gunzipped_by_magic_and_zstd_is_refused() {
        use std::io::Write;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(b"plain tar bytes").unwrap();
        let compressed = gz.finish().unwrap();
        let mut out = String::new();
        decompress(std::io::Cursor::new(compressed), "application/vnd.oci.image.layer.v1.tar")
            .unwrap()
            .read_to_string(&mut out)
            .unwrap();
        assert_eq!(out, "plain tar bytes");
        let mut out = String::new();
        decompress(std::io::Cursor::new(b"raw".to_vec()), "").unwrap().read_to_string(&mut out).unwrap();
        assert_eq!(out, "raw");
        assert!(decompress(std::io::Cursor::new(Vec::new()), "application/vnd.oci.image.layer.v1.tar+zstd").is_err());
    }

    #[test]
    fn credential_failures_never_answer_401() {
        let denied = PullError::Registry(RegistryError::Unauthorized("pull access denied for x, ...".into()));
        assert_eq!(denied.kind(), ErrorKind::NotFound);
        let wrong = PullError::Registry(RegistryError::Unauthorized("unauthorized: wrong password".into()));
        assert_eq!(wrong.kind(), ErrorKind::Internal);
    }

    #[test]
    fn one_pull_per_name_at_a_time() {
        let first = PullGuard::claim("x:latest").unwrap();
        let mut waiting = PullGuard::claim("x:latest").err().unwrap();
        assert!(!*waiting.borrow_and_update());
        drop(first);
        assert!(waiting.has_changed().unwrap_or(true));
        assert!(PullGuard::claim("x:latest").is_ok());
    }
}
