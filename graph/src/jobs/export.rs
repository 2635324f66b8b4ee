//! The `image_export` job (`docker save`, `graph/export.go` of Docker 1.2)
//! writing dockerd 20.10's format (`image/tarexport/save.go`), which both
//! dockerd and Docker 1.2-style loaders read: `<config hex>.json`, one
//! `<v1 id>/{VERSION,json,layer.tar}` directory per layer, `manifest.json`
//! and `repositories`. Everything is resolved before the first byte, so an
//! unknown name is a 404; layers are streamed through a temp file (a tar
//! header needs the size first), never held in memory.

use std::collections::{BTreeMap, HashMap};
use std::io::{self, Seek, Write};

use engine::{ErrorKind, Job, Status};
use serde::Serialize;

use super::ImageService;
use super::bridge::writer_to_stdout;
use super::events::log_image_event;
use super::util::{blocking, hex, parse_ref};
use super::v1::V1Image;
use crate::Graph;
use crate::error::{GraphError, Result};
use crate::layers::LayerStore;

/// One layer of a saved image.
#[derive(Debug, Clone)]
struct SavedLayer {
    v1_id: String,
    chain_id: String,
    diff_id: String,
    json: String,
}

/// One image of a save.
#[derive(Debug, Clone)]
struct SavedImage {
    id: String,
    raw: Vec<u8>,
    created: i64,
    layers: Vec<SavedLayer>,
    repo_tags: Vec<String>,
    parent: Option<String>,
}

/// An entry of `manifest.json`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct ManifestItem {
    config: String,
    repo_tags: Option<Vec<String>>,
    layers: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    parent: Option<String>,
}

/// Runs `image_export`.
pub async fn image_export(service: ImageService, job: Job) -> Status {
    let names = job.args();
    if names.is_empty() {
        return job.fail(ErrorKind::BadParameter, "Usage: image_export IMAGE [IMAGE...]").await;
    }
    let graph = service.graph.clone();
    let images = match blocking(move || plan(&graph, &names)).await {
        Ok(images) => images,
        Err(e) => return job.fail(e.kind(), e).await,
    };
    let ids: Vec<String> = images.iter().map(|i| i.id.clone()).collect();
    let (writer, forward) = writer_to_stdout(&job);
    let graph = service.graph.clone();
    let written = blocking(move || write_tar(&graph, &images, writer)).await;
    let forwarded = forward.await;
    if let Err(e) = written {
        return job.fail(e.kind(), e).await;
    }
    match forwarded {
        Ok(Ok(())) => {}
        Ok(Err(e)) => return job.fail(ErrorKind::Internal, e).await,
        Err(e) => return job.fail(ErrorKind::Internal, e).await,
    }
    for id in ids {
        log_image_event(&job, "save", &id, &id).await;
    }
    Status::OK
}

/// The images `names` mean, each with the tags to export.
fn plan(graph: &Graph, names: &[String]) -> Result<Vec<SavedImage>> {
    let mut order: Vec<String> = Vec::new();
    let mut tags: HashMap<String, Vec<String>> = HashMap::new();
    let mut add = |id: String, tag: Option<String>| {
        let list = tags.entry(id.clone()).or_insert_with(|| {
            order.push(id);
            Vec::new()
        });
        if let Some(tag) = tag
            && !list.contains(&tag)
        {
            list.push(tag);
        }
    };
    for name in names {
        match parse_ref(name) {
            // A bare repository name saves every tag of it.
            Some(r) if r.tag.is_none() && r.digest.is_none() => {
                let repo_tags: Vec<(String, String)> = graph
                    .tags()
                    .all()
                    .get(&r.repo)
                    .map(|m| m.iter().filter(|(k, _)| !k.contains(':')).map(|(k, v)| (k.clone(), v.clone())).collect())
                    .unwrap_or_default();
                if repo_tags.is_empty() {
                    add(graph.lookup(name)?, None);
                }
                for (tag, id) in repo_tags {
                    add(id, Some(format!("{}:{tag}", r.repo)));
                }
            }
            Some(r) if r.tag.is_some() && r.digest.is_none() => match graph.tags().get(&r.repo, r.key()) {
                Some(id) => add(id, Some(r.familiar())),
                // `sha256:<hex>` also reads as a repository `sha256`.
                None => add(graph.lookup(name)?, None),
            },
            _ => add(graph.lookup(name)?, None),
        }
    }
    let mut images = Vec::new();
    for id in order {
        let image = graph.images().get(&id).ok_or_else(|| GraphError::NoSuchImage(id.clone()))?;
        let diff_ids = &image.config.rootfs.diff_ids;
        if diff_ids.is_empty() {
            return Err(GraphError::BadConfig(format!("{id}: empty export - not implemented")));
        }
        let config: serde_json::Value =
            serde_json::from_slice(&image.raw).map_err(|e| GraphError::BadConfig(format!("{id}: {e}")))?;
        let mut layers = Vec::new();
        let mut chain: Option<String> = None;
        let mut parent: Option<String> = None;
        for (i, diff_id) in diff_ids.iter().enumerate() {
            let chain_id = LayerStore::chain_id(chain.as_deref(), diff_id);
            let mut v1 =
                if i + 1 == diff_ids.len() { V1Image::from_json(&config, true) } else { V1Image::placeholder() };
            let v1_id = v1.create_id(&chain_id, parent.as_deref());
            v1.id = v1_id.clone();
            v1.parent = parent.as_deref().map(hex).unwrap_or("").to_string();
            v1.os = image.config.os.clone();
            layers.push(SavedLayer {
                v1_id: v1_id.clone(),
                chain_id: chain_id.clone(),
                diff_id: diff_id.clone(),
                json: v1.to_json(),
            });
            parent = Some(format!("sha256:{v1_id}"));
            chain = Some(chain_id);
        }
        images.push(SavedImage {
            repo_tags: tags.remove(&id).unwrap_or_default(),
            parent: image.parent.clone(),
            id,
            raw: image.raw.clone(),
            created: image.created_unix,
            layers,
        });
    }
    // As dockerd's `validatedParentLinks`: a parent only if it is saved too.
    let saved: Vec<String> = images.iter().map(|i| i.id.clone()).collect();
    for image in &mut images {
        if image.parent.as_ref().is_some_and(|p| !saved.contains(p)) {
            image.parent = None;
        }
    }
    Ok(images)
}

/// What goes at the top level of the tar, in name order as dockerd's
/// directory walk writes it.
enum Top<'a> {
    Config(&'a SavedImage),
    Layer(&'a SavedLayer, i64),
}

fn header(kind: tar::EntryType, mode: u32, size: u64, mtime: i64) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(kind);
    h.set_mode(mode);
    h.set_size(size);
    h.set_mtime(mtime.max(0) as u64);
    h.set_uid(0);
    h.set_gid(0);
    h
}

fn write_tar(graph: &Graph, images: &[SavedImage], out: impl Write) -> Result<()> {
    let io_err = |e: io::Error| GraphError::io("<save stream>", e);
    let mut top: BTreeMap<String, Top<'_>> = BTreeMap::new();
    for image in images {
        top.insert(format!("{}.json", hex(&image.id)), Top::Config(image));
        for layer in &image.layers {
            top.entry(layer.v1_id.clone()).or_insert(Top::Layer(layer, image.created));
        }
    }
    let mut builder = tar::Builder::new(out);
    let mut written_diffs: HashMap<&str, String> = HashMap::new();
    for (name, entry) in &top {
        match entry {
            Top::Config(image) => {
                let mut h = header(tar::EntryType::Regular, 0o644, image.raw.len() as u64, image.created);
                builder.append_data(&mut h, name, &image.raw[..]).map_err(io_err)?;
            }
            Top::Layer(layer, created) => {
                let mut h = header(tar::EntryType::Directory, 0o755, 0, *created);
                builder.append_data(&mut h, format!("{name}/"), io::empty()).map_err(io_err)?;
                let mut h = header(tar::EntryType::Regular, 0o644, 3, *created);
                builder.append_data(&mut h, format!("{name}/VERSION"), &b"1.0"[..]).map_err(io_err)?;
                let mut h = header(tar::EntryType::Regular, 0o644, layer.json.len() as u64, *created);
                builder.append_data(&mut h, format!("{name}/json"), layer.json.as_bytes()).map_err(io_err)?;
                let path = format!("{name}/layer.tar");
                if let Some(first) = written_diffs.get(layer.diff_id.as_str()) {
                    // The same content twice: a link, as dockerd writes it.
                    let mut h = header(tar::EntryType::Symlink, 0o777, 0, *created);
                    builder.append_link(&mut h, &path, format!("../{first}/layer.tar")).map_err(io_err)?;
                    continue;
                }
                let mut spool = tempfile::tempfile().map_err(|e| GraphError::io(std::env::temp_dir(), e))?;
                let mut src = graph.layers().tar(&layer.chain_id)?;
                let size = io::copy(&mut src, &mut spool).map_err(|e| GraphError::io("<layer spool>", e))?;
                spool.rewind().map_err(|e| GraphError::io("<layer spool>", e))?;
                let mut h = header(tar::EntryType::Regular, 0o644, size, *created);
                builder.append_data(&mut h, &path, spool).map_err(io_err)?;
                written_diffs.insert(layer.diff_id.as_str(), name.clone());
            }
        }
    }
    let manifest: Vec<ManifestItem> = images
        .iter()
        .map(|i| ManifestItem {
            config: format!("{}.json", hex(&i.id)),
            repo_tags: (!i.repo_tags.is_empty()).then(|| i.repo_tags.clone()),
            layers: i.layers.iter().map(|l| format!("{}/layer.tar", l.v1_id)).collect(),
            parent: i.parent.clone(),
        })
        .collect();
    let mut repositories: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for image in images {
        let Some(top_layer) = image.layers.last() else { continue };
        for tag in &image.repo_tags {
            if let Some(r) = parse_ref(tag) {
                repositories.entry(r.repo.clone()).or_default().insert(r.key().to_string(), top_layer.v1_id.clone());
            }
        }
    }
    let mut files = vec![("manifest.json", json_line(&manifest)?)];
    if !repositories.is_empty() {
        files.push(("repositories", json_line(&repositories)?));
    }
    for (name, body) in files {
        let mut h = header(tar::EntryType::Regular, 0o644, body.len() as u64, 0);
        builder.append_data(&mut h, name, &body[..]).map_err(io_err)?;
    }
    builder.into_inner().and_then(|mut w| w.flush()).map_err(io_err)
}

/// JSON plus the newline Go's `json.Encoder` writes.
fn json_line(value: &impl Serialize) -> Result<Vec<u8>> {
    let mut body = serde_json::to_vec(value).map_err(|e| GraphError::BadConfig(e.to_string()))?;
    body.push(b'\n');
    Ok(body)
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::super::testutil::*;

    /// Entry names and bodies of a tar.
    pub fn tar_entries(tar_bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
        let mut archive = tar::Archive::new(tar_bytes);
        archive
            .entries()
            .unwrap()
            .map(|e| {
                let mut e = e.unwrap();
                let name = e.path().unwrap().to_string_lossy().into_owned();
                let mut body = Vec::new();
                e.read_to_end(&mut body).unwrap();
                (name, body)
            })
            .collect()
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn save_writes_dockerd_layout() {
        let t = TestGraph::new();
        let id = t.image(&[b"one", b"two"], None, "2020-01-01T00:00:00Z", r#"{"Cmd":["sh"]}"#);
        t.tag("busybox", "latest", &id);
        t.tag("busybox", "1", &id);
        let out = t.run_ok("image_export", &["busybox:latest"], &[]).await;
        let entries = tar_entries(&out);
        let names: Vec<&str> = entries.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names.len(), 1 + 2 * 4 + 2, "{names:?}");
        assert_eq!(names[names.len() - 2..], ["manifest.json", "repositories"]);
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(names, sorted);
        let manifest: serde_json::Value = serde_json::from_slice(&entries[entries.len() - 2].1).unwrap();
        assert_eq!(manifest[0]["Config"], format!("{}.json", &id[7..]));
        assert_eq!(manifest[0]["RepoTags"], serde_json::json!(["busybox:latest"]));
        let top = manifest[0]["Layers"][1].as_str().unwrap().trim_end_matches("/layer.tar").to_string();
        let repos: serde_json::Value = serde_json::from_slice(&entries[entries.len() - 1].1).unwrap();
        assert_eq!(repos, serde_json::json!({"busybox": {"latest": top}}));
        let config = entries.iter().find(|(n, _)| n.ends_with(".json") && n.len() == 69).unwrap();
        assert_eq!(super::super::util::sha256_digest(&config.1), id);
        let json = entries.iter().find(|(n, _)| *n == format!("{top}/json")).unwrap();
        let v1: serde_json::Value = serde_json::from_slice(&json.1).unwrap();
        assert_eq!(v1["id"], top);
        assert_eq!(v1["config"]["Cmd"], serde_json::json!(["sh"]));
        assert!(v1["parent"].is_string());

        // By ID: untagged, no repositories file.
        let out = t.run_ok("image_export", &[&id], &[]).await;
        let entries = tar_entries(&out);
        assert!(entries.iter().all(|(n, _)| n != "repositories"));
        let manifest: serde_json::Value = serde_json::from_slice(&entries.last().unwrap().1).unwrap();
        assert!(manifest[0]["RepoTags"].is_null());

        let (kind, _) = t.run_err("image_export", &["busybox", "nope"], &[]).await;
        assert_eq!(kind, engine::ErrorKind::NotFound);
    }
}
