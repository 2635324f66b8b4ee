//! The `load` job (`docker load`, `graph/load.go` of Docker 1.2): a tar
//! from stdin in dockerd's format (`manifest.json`, as `image_export`
//! writes) or Docker 1.2's (`repositories` plus one `<v1 id>/json` +
//! `layer.tar` per layer, parents by `parent`), read as dockerd 20.10's
//! `image/tarexport/load.go` reads them. The tar is spooled to a temp dir
//! first: the manifest comes last. Layers already stored are not extracted
//! again.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use engine::{Job, Status};
use runconfig::StreamFormatter;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::ImageService;
use super::bridge::reader_from_stdin;
use super::events::log_image_event;
use super::progress::{self, ByteCounter, Progress};
use super::util::{blocking, maybe_gunzip, parse_ref, short_id};
use super::v1::{V1Image, config_from_v1, history_from_v1};
use crate::Graph;
use crate::error::{GraphError, Result};
use crate::images::ImageConfig;
use crate::layers::LayerStore;

/// The most a JSON file of the tar (manifest, config, v1 json) may hold.
const JSON_LIMIT: u64 = 64 << 20;

/// Symlink hops followed when resolving a path inside the tar.
const MAX_HOPS: usize = 40;

/// Runs `load`.
pub async fn load(service: ImageService, job: Job) -> Status {
    // Today's CLI always sends quiet=1 and still prints the "Loaded image"
    // lines; dockerd drops only the progress bars when quiet.
    let quiet = job.getenv_bool("quiet");
    let reader = reader_from_stdin(&job);
    let (progress, writer) = progress::start(&job);
    let bars = (!quiet).then(|| progress.clone());
    drop(progress);
    let graph = service.graph.clone();
    let result = blocking(move || load_tar(&graph, reader, bars.as_ref())).await;
    writer.finish().await;
    match result {
        Ok(outcome) => {
            let formatter = StreamFormatter::new(true);
            for line in &outcome.lines {
                let _ = job.print(formatter.stream(&format!("{line}\n"))).await;
            }
            for id in &outcome.images {
                log_image_event(&job, "load", id, id).await;
            }
            Status::OK
        }
        Err(e) => job.fail(e.kind(), e).await,
    }
}

/// What a load did.
#[derive(Debug, Default)]
pub struct Loaded {
    /// The user's lines (`Loaded image: busybox:latest`), in order.
    pub lines: Vec<String>,
    /// IDs of the images created, in order.
    pub images: Vec<String>,
}

/// Loads a save tar (blocking).
pub fn load_tar(graph: &Graph, reader: impl Read, progress: Option<&Progress>) -> Result<Loaded> {
    let spool = Spool::extract(reader, &graph.tmp_dir())?;
    if spool.resolve("manifest.json").is_some_and(|p| p.is_file()) {
        load_manifest(graph, &spool, progress)
    } else {
        load_legacy(graph, &spool, progress)
    }
}

/// The tar unpacked into a temp dir: regular files and directories only;
/// links are kept as a table and resolved inside the tree, so nothing in
/// the tar can point outside it.
struct Spool {
    dir: tempfile::TempDir,
    links: HashMap<String, (String, bool)>,
    top_dirs: Vec<String>,
}

/// Normalises `path` onto `base`, `..` stopping at the root.
fn normalize(mut base: Vec<String>, path: &str) -> Vec<String> {
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                base.pop();
            }
            name => base.push(name.to_string()),
        }
    }
    base
}

fn bad_tar(e: impl std::fmt::Display) -> GraphError {
    GraphError::BadLayer(format!("invalid image tar: {e}"))
}

impl Spool {
    /// Spools into `tmp` (the store's scratch space: same file system as
    /// the layers, and emptied at start if a crash left a spool behind).
    fn extract(reader: impl Read, tmp: &std::path::Path) -> Result<Spool> {
        let dir = tempfile::tempdir_in(tmp).map_err(|e| GraphError::io(tmp, e))?;
        let mut links = HashMap::new();
        let mut top_dirs = HashSet::new();
        let mut archive = tar::Archive::new(reader);
        for entry in archive.entries().map_err(bad_tar)? {
            let mut entry = entry.map_err(bad_tar)?;
            let raw = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            let parts = normalize(Vec::new(), &raw);
            let Some(first) = parts.first() else { continue };
            let key = parts.join("/");
            let kind = entry.header().entry_type();
            if parts.len() > 1 || kind.is_dir() {
                top_dirs.insert(first.clone());
            }
            let dest: PathBuf = parts.iter().fold(dir.path().to_path_buf(), |p, c| p.join(c));
            match kind {
                tar::EntryType::Directory => {
                    std::fs::create_dir_all(&dest).map_err(|e| GraphError::io(&dest, e))?;
                }
                tar::EntryType::Regular | tar::EntryType::Continuous => {
                    if let Some(parent) = dest.parent() {
                        std::fs::create_dir_all(parent).map_err(|e| GraphError::io(parent, e))?;
                    }
                    let mut file = File::create(&dest).map_err(|e| GraphError::io(&dest, e))?;
                    io::copy(&mut entry, &mut file).map_err(bad_tar)?;
                    links.remove(&key);
                }
                tar::EntryType::Symlink | tar::EntryType::Link => {
                    let target = entry.link_name_bytes().map(|t| String::from_utf8_lossy(&t).into_owned());
                    if let Some(target) = target {
                        links.insert(key, (target, kind == tar::EntryType::Link));
                    }
                }
                _ => {}
            }
        }
        let mut top_dirs: Vec<String> = top_dirs.into_iter().collect();
        top_dirs.sort();
        Ok(Spool { dir, links, top_dirs })
    }

    /// The file a path of the tar names, links followed within the tree.
    fn resolve(&self, path: &str) -> Option<PathBuf> {
        let mut parts = normalize(Vec::new(), path);
        for _ in 0..MAX_HOPS {
            let hit = (1..=parts.len()).find_map(|i| self.links.get(&parts[..i].join("/")).map(|l| (i, l)));
            match hit {
                None => return Some(parts.iter().fold(self.dir.path().to_path_buf(), |p, c| p.join(c))),
                Some((i, (target, hard))) => {
                    let base = if *hard || target.starts_with('/') { Vec::new() } else { parts[..i - 1].to_vec() };
                    let mut next = normalize(base, target);
                    next.extend_from_slice(&parts[i..]);
                    parts = next;
                }
            }
        }
        None
    }

    fn open(&self, path: &str) -> Result<(File, u64)> {
        let missing = || GraphError::BadLayer(format!("invalid image tar: {path} not found"));
        let real = self.resolve(path).ok_or_else(missing)?;
        if !real.is_file() {
            return Err(missing());
        }
        let file = File::open(&real).map_err(|e| GraphError::io(&real, e))?;
        let size = file.metadata().map(|m| m.len()).unwrap_or(0);
        Ok((file, size))
    }

    fn read_json_file(&self, path: &str) -> Result<Vec<u8>> {
        let (file, size) = self.open(path)?;
        if size > JSON_LIMIT {
            return Err(GraphError::BadConfig(format!("{path}: too large")));
        }
        let mut body = Vec::new();
        file.take(JSON_LIMIT).read_to_end(&mut body).map_err(|e| GraphError::io(Path::new(path), e))?;
        Ok(body)
    }
}

/// Counts what a layer reader passes, for the `Loading layer` bar.
struct Counting<R> {
    inner: R,
    counter: Option<ByteCounter>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(c) = &mut self.counter {
            c.add(n);
        }
        Ok(n)
    }
}

fn layer_reader(
    spool: &Spool,
    path: &str,
    bar_id: &str,
    progress: Option<&Progress>,
) -> Result<Box<dyn Read + Send + 'static>> {
    let (file, size) = spool.open(path)?;
    let counter = progress.map(|p| ByteCounter::new(p.clone(), bar_id, "Loading layer", size as i64));
    maybe_gunzip(Counting { inner: file, counter }).map_err(|e| GraphError::io(Path::new(path), e))
}

/// An entry of `manifest.json`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ManifestItem {
    config: String,
    #[serde(default)]
    repo_tags: Option<Vec<String>>,
    #[serde(default)]
    layers: Vec<String>,
    #[serde(default)]
    parent: Option<String>,
}

/// Points `name` (a `repo:tag`) at `id`, saying so as dockerd does.
fn set_loaded_tag(graph: &Graph, name: &str, id: &str, lines: &mut Vec<String>) -> Result<()> {
    let r = parse_ref(name)
        .filter(|r| r.digest.is_none())
        .ok_or_else(|| GraphError::InvalidReference(format!("invalid tag \"{name}\"")))?;
    let tag = r.tag.clone().unwrap_or_else(|| "latest".to_string());
    registry::reference::validate_tag(&tag).map_err(|e| GraphError::InvalidReference(e.to_string()))?;
    let familiar = format!("{}:{tag}", r.repo);
    if let Some(previous) = graph.tags().get(&r.repo, &tag)
        && previous != id
    {
        lines.push(format!(
            "The image {familiar} already exists, renaming the old one with ID {previous} to empty string"
        ));
    }
    graph.tags().set(&r.repo, &tag, id, true)?;
    lines.push(format!("Loaded image: {familiar}"));
    Ok(())
}

fn load_manifest(graph: &Graph, spool: &Spool, progress: Option<&Progress>) -> Result<Loaded> {
    let raw = spool.read_json_file("manifest.json")?;
    let manifest: Vec<ManifestItem> =
        serde_json::from_slice(&raw).map_err(|e| GraphError::BadConfig(format!("manifest.json: {e}")))?;
    let mut out = Loaded::default();
    let mut parents = Vec::new();
    for item in &manifest {
        let config_raw = spool.read_json_file(&item.config)?;
        let config: ImageConfig =
            serde_json::from_slice(&config_raw).map_err(|e| GraphError::BadConfig(format!("{}: {e}", item.config)))?;
        if !config.os.is_empty() && config.os != "linux" {
            return Err(GraphError::BadConfig(format!("cannot load {} image on linux", config.os)));
        }
        let diff_ids = &config.rootfs.diff_ids;
        if item.layers.len() != diff_ids.len() {
            return Err(GraphError::BadConfig(format!(
                "invalid manifest, layers length mismatch: expected {}, got {}",
                item.layers.len(),
                diff_ids.len()
            )));
        }
        let mut chain: Option<String> = None;
        for (path, diff_id) in item.layers.iter().zip(diff_ids) {
            let next = LayerStore::chain_id(chain.as_deref(), diff_id);
            if !graph.layers().exists(&next) {
                let mut reader = layer_reader(spool, path, &short_id(diff_id), progress)?;
                graph.layers().register(chain.as_deref(), &mut reader, Some(diff_id))?;
            }
            chain = Some(next);
        }
        let image = graph.images().create(&config_raw)?;
        let tags = item.repo_tags.clone().unwrap_or_default();
        for name in &tags {
            set_loaded_tag(graph, name, &image.id, &mut out.lines)?;
        }
        // Unlike dockerd, which lists IDs only when the last entry was
        // untagged, every untagged image is named.
        if tags.is_empty() {
            out.lines.push(format!("Loaded image ID: {}", image.id));
        }
        parents.push((image.id.clone(), item.parent.clone()));
        out.images.push(image.id);
    }
    for (id, parent) in parents {
        if let Some(parent) = parent
            && parent != id
            && out.images.contains(&parent)
        {
            graph.images().set_parent(&id, &parent)?;
        }
    }
    Ok(out)
}

/// A v1 image loaded from a legacy tar.
struct LegacyImage {
    id: String,
    diff_ids: Vec<String>,
    history: Vec<String>,
}

fn load_legacy(graph: &Graph, spool: &Spool, progress: Option<&Progress>) -> Result<Loaded> {
    let mut loaded: HashMap<String, LegacyImage> = HashMap::new();
    let mut out = Loaded::default();
    let mut is_parent = HashSet::new();
    for dir in &spool.top_dirs {
        if spool.resolve(&format!("{dir}/json")).is_none_or(|p| !p.is_file()) {
            continue;
        }
        // The chain from `dir` down to a loaded image or the base.
        let mut chain: Vec<(String, Vec<u8>, V1Image)> = Vec::new();
        let mut next = Some(dir.clone());
        while let Some(old_id) = next.take() {
            if loaded.contains_key(&old_id) {
                break;
            }
            if chain.iter().any(|(id, _, _)| *id == old_id) {
                return Err(GraphError::BadConfig(format!("{old_id}: parent chain has a loop")));
            }
            let raw = spool.read_json_file(&format!("{old_id}/json"))?;
            let value: serde_json::Value =
                serde_json::from_slice(&raw).map_err(|e| GraphError::BadConfig(format!("{old_id}/json: {e}")))?;
            let v1 = V1Image::from_json(&value, false);
            if !v1.os.is_empty() && v1.os != "linux" {
                return Err(GraphError::BadConfig(format!("cannot load {} image on linux", v1.os)));
            }
            if !v1.parent.is_empty() {
                is_parent.insert(v1.parent.clone());
                next = Some(v1.parent.clone());
            }
            chain.push((old_id, raw, v1));
        }
        for (old_id, raw, v1) in chain.into_iter().rev() {
            let parent = (!v1.parent.is_empty())
                .then(|| loaded.get(&v1.parent))
                .flatten()
                .map(|p| (p.id.clone(), p.diff_ids.clone(), p.history.clone()));
            if !v1.parent.is_empty() && parent.is_none() {
                return Err(GraphError::BadConfig(format!("{old_id}: parent {} not in the tar", v1.parent)));
            }
            let (parent_id, mut diff_ids, mut history) =
                parent.map_or((None, Vec::new(), Vec::new()), |(a, b, c)| (Some(a), b, c));
            let parent_chain =
                diff_ids.iter().fold(None, |c: Option<String>, d| Some(LayerStore::chain_id(c.as_deref(), d)));
            let path = format!("{old_id}/layer.tar");
            // The diff ID is only known from the content: hash first, so a
            // layer already stored is not extracted again.
            let mut hasher = Sha256::new();
            io::copy(&mut layer_reader(spool, &path, &short_id(&old_id), None)?, &mut hasher)
                .map_err(|e| GraphError::BadLayer(format!("{path}: {e}")))?;
            let diff_id = format!("sha256:{:x}", hasher.finalize());
            let chain_id = LayerStore::chain_id(parent_chain.as_deref(), &diff_id);
            if !graph.layers().exists(&chain_id) {
                let mut reader = layer_reader(spool, &path, &short_id(&old_id), progress)?;
                graph.layers().register(parent_chain.as_deref(), &mut reader, Some(&diff_id))?;
            }
            diff_ids.push(diff_id);
            history.push(history_from_v1(&v1));
            let config = config_from_v1(&raw, &diff_ids, &history).map_err(GraphError::BadConfig)?;
            let image = graph.images().create(&config)?;
            if let Some(parent_id) = parent_id {
                graph.images().set_parent(&image.id, &parent_id)?;
            }
            out.images.push(image.id.clone());
            loaded.insert(old_id, LegacyImage { id: image.id, diff_ids, history });
        }
    }
    if loaded.is_empty() {
        return Err(GraphError::BadLayer("invalid image tar: no manifest.json and no images".to_string()));
    }
    // Docker 1.2 saved by ID wrote no `repositories`; dockerd then fails,
    // we load untagged.
    if spool.resolve("repositories").is_some_and(|p| p.is_file()) {
        let raw = spool.read_json_file("repositories")?;
        let repositories: BTreeMap<String, BTreeMap<String, String>> =
            serde_json::from_slice(&raw).map_err(|e| GraphError::BadConfig(format!("repositories: {e}")))?;
        for (name, tags) in repositories {
            for (tag, old_id) in tags {
                let image =
                    loaded.get(&old_id).ok_or_else(|| GraphError::BadConfig(format!("invalid target ID: {old_id}")))?;
                set_loaded_tag(graph, &format!("{name}:{tag}"), &image.id, &mut out.lines)?;
            }
        }
    } else {
        let mut heads: Vec<&String> = loaded.keys().filter(|k| !is_parent.contains(*k)).collect();
        heads.sort();
        for old_id in heads {
            out.lines.push(format!("Loaded image ID: {}", loaded[old_id].id));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::super::testutil::*;
    use super::*;

    fn tar_of(files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (name, body) in files {
            let mut h = tar::Header::new_gnu();
            h.set_size(body.len() as u64);
            h.set_mode(0o644);
            h.set_entry_type(tar::EntryType::Regular);
            b.append_data(&mut h, name, *body).unwrap();
        }
        b.into_inner().unwrap()
    }

    #[test]
    fn links_resolve_inside_the_spool() {
        let mut b = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_gnu();
        h.set_size(2);
        h.set_entry_type(tar::EntryType::Regular);
        b.append_data(&mut h, "a/layer.tar", &b"hi"[..]).unwrap();
        let mut h = tar::Header::new_gnu();
        h.set_size(0);
        h.set_entry_type(tar::EntryType::Symlink);
        b.append_link(&mut h, "b/layer.tar", "../a/layer.tar").unwrap();
        let mut h = tar::Header::new_gnu();
        h.set_size(0);
        h.set_entry_type(tar::EntryType::Symlink);
        b.append_link(&mut h, "c/layer.tar", "../../../../etc/passwd").unwrap();
        let spool = Spool::extract(&b.into_inner().unwrap()[..], &std::env::temp_dir()).unwrap();
        let mut s = String::new();
        spool.open("b/layer.tar").unwrap().0.read_to_string(&mut s).unwrap();
        assert_eq!(s, "hi");
        assert!(spool.resolve("c/layer.tar").unwrap().starts_with(spool.dir.path()));
        assert!(spool.open("c/layer.tar").is_err());
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn save_then_load_gives_the_same_images() {
        let a = TestGraph::new();
        let id = a.image(&[b"one", b"two"], None, "2020-01-01T00:00:00Z", r#"{"Cmd":["sh"]}"#);
        let untagged = a.image(&[b"three"], None, "2020-02-01T00:00:00Z", "{}");
        a.tag("busybox", "latest", &id);
        let saved = a.run_ok("image_export", &["busybox:latest", &untagged], &[]).await;

        let b = TestGraph::new();
        let (result, out) = b.run("load", &[], &[("quiet", "1")], Some(saved.clone())).await;
        result.unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains(r#"{"stream":"Loaded image: busybox:latest\n"}"#), "{text}");
        assert!(text.contains(&format!("Loaded image ID: {untagged}")), "{text}");
        assert_eq!(b.graph.tags().get("busybox", "latest").as_deref(), Some(id.as_str()));
        let image = b.graph.images().get(&id).unwrap();
        let top = image.top_layer.clone().unwrap();
        assert_eq!(b.layer_bytes(&top), a.layer_bytes(&top));
        assert!(b.graph.images().get(&untagged).is_some());

        // Loading again re-extracts nothing and keeps the IDs.
        let (result, _) = b.run("load", &[], &[], Some(saved)).await;
        result.unwrap();
        assert_eq!(b.graph.images().list().len(), 2);

        let (result, _) = b.run("load", &[], &[], Some(b"not a tar at all".repeat(64))).await;
        assert!(result.is_err());
        let bad = tar_of(&[("manifest.json", b"{nope")]);
        let (result, _) = b.run("load", &[], &[], Some(bad)).await;
        assert!(result.unwrap_err().1.contains("manifest.json"));
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn docker_1_2_tars_load_as_a_parent_chain() {
        let base = "a".repeat(64);
        let top = "b".repeat(64);
        let base_json = format!(
            r##"{{"id":"{base}","created":"2014-08-21T18:25:42.837475377Z","container_config":{{"Cmd":["/bin/sh","-c","#(nop) ADD file in /"],"Memory":0}},"docker_version":"1.2.0","architecture":"amd64","os":"linux","Size":3}}"##
        );
        let top_json = format!(
            r##"{{"id":"{top}","parent":"{base}","created":"2014-08-21T18:26:00Z","container_config":{{"Cmd":["/bin/sh","-c","#(nop) CMD [/bin/sh]"]}},"config":{{"Cmd":["/bin/sh"],"Env":["PATH=/bin"]}},"docker_version":"1.2.0","architecture":"amd64","os":"linux","Size":0}}"##
        );
        let base_layer = layer_tar(b"base");
        let top_layer = tar::Builder::new(Vec::new()).into_inner().unwrap();
        let repositories = format!(r#"{{"busybox":{{"latest":"{top}"}}}}"#);
        let tar = tar_of(&[
            (&format!("{base}/VERSION"), b"1.0"),
            (&format!("{base}/json"), base_json.as_bytes()),
            (&format!("{base}/layer.tar"), &base_layer),
            (&format!("{top}/VERSION"), b"1.0"),
            (&format!("{top}/json"), top_json.as_bytes()),
            (&format!("{top}/layer.tar"), &top_layer),
            ("repositories", repositories.as_bytes()),
        ]);
        let t = TestGraph::new();
        let (result, out) = t.run("load", &[], &[], Some(tar)).await;
        result.unwrap();
        assert!(String::from_utf8_lossy(&out).contains("Loaded image: busybox:latest"));
        let id = t.graph.tags().get("busybox", "latest").unwrap();
        let image = t.graph.images().get(&id).unwrap();
        assert_eq!(image.config.rootfs.diff_ids.len(), 2);
        assert_eq!(image.config.history.len(), 2);
        assert_eq!(image.config.history[0].created_by, "/bin/sh -c #(nop) ADD file in /");
        assert_eq!(image.config.config["Cmd"], serde_json::json!(["/bin/sh"]));
        let parent = image.parent.clone().unwrap();
        assert_eq!(t.graph.images().get(&parent).unwrap().config.rootfs.diff_ids.len(), 1);
        let v = t.run_json("history", &["busybox"], &[]).await;
        assert_eq!(v[0]["Id"], id);
        assert_eq!(v[1]["Id"], parent);

        // The image saves and reloads to itself.
        let saved = t.run_ok("image_export", &["busybox"], &[]).await;
        let u = TestGraph::new();
        let (result, _) = u.run("load", &[], &[], Some(saved)).await;
        result.unwrap();
        assert_eq!(u.graph.tags().get("busybox", "latest"), Some(id));
    }
}
