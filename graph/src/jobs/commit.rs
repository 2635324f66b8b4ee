//! A new image from a container's layer (`Daemon.Commit` of dockerd 1.12,
//! the image half): the layer's changes against its image as a new layer on
//! top of the image's chain, and an image config that extends the parent's
//! `rootfs` and `history`. The daemon says what to record; the image JSON
//! is assembled here, next to `import`'s, so only the graph writes image
//! configs.
//!
//! Docker 1.2 made the container's layer itself the new image (random
//! IDs); here the layer is re-registered by content, as dockerd since 1.10.

use std::collections::HashSet;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::Path;

use serde_json::Value;

use super::import::go_arch;
use super::util::{NamedRef, Timestamp, short_id};
use super::v1;
use crate::Graph;
use crate::error::{GraphError, Result};
use crate::images::Image;
use crate::layers::hex_of;

/// The diff ID of a tar with no entries (1024 zero bytes): a commit that
/// changed nothing adds a history entry but no layer, as dockerd does.
const EMPTY_TAR_DIFF_ID: &str = "sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef";

/// What a committed image records besides its layer.
#[derive(Debug, Clone, Default)]
pub struct CommitSpec {
    /// The container's image (`sha256:<hex>`); `None` for none.
    pub parent: Option<String>,
    /// The new image's runtime config (a `container.Config` object).
    pub config: Value,
    /// The committed container's ID.
    pub container: String,
    /// The committed container's own config.
    pub container_config: Value,
    /// `--author`.
    pub author: String,
    /// `--message`.
    pub comment: String,
    /// The history's `created_by` (dockerd: the container's `Cmd` joined).
    pub created_by: String,
    /// Where to tag the image, from [`commit_target`].
    pub target: Option<NamedRef>,
    /// Paths (relative, `etc/hosts`) left out of the layer: what the
    /// daemon itself put in the container's layer (mount points of its
    /// own files), which dockerd keeps in an init layer commits skip.
    pub exclude: Vec<String>,
}

/// Checks `repo` and `tag` of a commit before any work (a bad name is the
/// client's error, 400); `None` when no repository is given.
pub fn commit_target(repo: &str, tag: &str) -> Result<Option<NamedRef>> {
    super::import::target(repo, tag, "commit")
}

/// Commits driver layer `layer` (a container's read-write layer on top of
/// `spec.parent`'s top layer) as a new image, records its parent and tags
/// it (blocking). The layer's tar goes through a temp file in the store's
/// scratch directory: staging reads it to the end, and a diff can be larger
/// than memory.
pub fn commit_image(graph: &Graph, layer: &str, spec: &CommitSpec) -> Result<Image> {
    let parent = match &spec.parent {
        Some(id) => Some(graph.images().get(id).ok_or_else(|| GraphError::NoSuchImage(id.clone()))?),
        None => None,
    };
    let top = parent.as_ref().and_then(|p| p.top_layer.clone());
    let driver = graph.driver();
    // vfs layers are whole trees compared with the parent's; overlay's
    // upper directory is the diff by itself.
    let parent_tree = top.as_deref().map(|t| driver.diff_dir(hex_of(t)));
    let tmp_dir = graph.tmp_dir();
    std::fs::create_dir_all(&tmp_dir).map_err(|e| GraphError::io(&tmp_dir, e))?;
    let mut tar = tempfile::tempfile_in(&tmp_dir).map_err(|e| GraphError::io(&tmp_dir, e))?;
    crate::archive::export_diff(&driver.diff_dir(layer), driver.whiteout_format(), parent_tree.as_deref(), &mut tar)?;
    tar.seek(SeekFrom::Start(0)).map_err(|e| GraphError::io(&tmp_dir, e))?;
    if !spec.exclude.is_empty() {
        tar = without(tar, &spec.exclude, &tmp_dir)?;
    }
    let staged = graph.layers().stage(top.as_deref(), &mut tar, None)?;
    let mut diff_ids = parent.as_ref().map(|p| p.config.rootfs.diff_ids.clone()).unwrap_or_default();
    let empty = staged.diff_id() == EMPTY_TAR_DIFF_ID;
    if empty {
        drop(staged);
    } else {
        let info = graph.layers().commit(staged)?;
        diff_ids.push(info.diff_id);
    }

    let created = Timestamp::now().to_go_string();
    let string = |s: &str| engine::gojson::to_string(&Value::String(s.to_string()));
    let mut history: Vec<String> = parent
        .iter()
        .flat_map(|p| p.config.history.iter())
        .map(|h| {
            let created = h.created.as_deref().unwrap_or("");
            v1::history_json(created, &h.author, &h.created_by, &h.comment, h.empty_layer)
        })
        .collect();
    history.push(v1::history_json(&created, &spec.author, &spec.created_by, &spec.comment, empty));
    let diff_ids: Vec<String> = diff_ids.iter().map(|d| string(d)).collect();
    let mut fields = vec![format!("\"architecture\":{}", string(go_arch()))];
    if !spec.author.is_empty() {
        fields.push(format!("\"author\":{}", string(&spec.author)));
    }
    if !spec.comment.is_empty() {
        fields.push(format!("\"comment\":{}", string(&spec.comment)));
    }
    fields.push(format!("\"config\":{}", v1::container_config_json(Some(&spec.config))));
    fields.push(format!("\"container\":{}", string(&spec.container)));
    fields.push(format!("\"container_config\":{}", v1::container_config_json(Some(&spec.container_config))));
    fields.push(format!("\"created\":{}", string(&created)));
    fields.push(format!("\"history\":[{}]", history.join(",")));
    fields.push("\"os\":\"linux\"".to_string());
    fields.push(format!("\"rootfs\":{{\"type\":\"layers\",\"diff_ids\":[{}]}}", diff_ids.join(",")));
    // Keys sorted, as import writes them.
    let config = format!("{{{}}}", fields.join(","));
    let image = graph.images().create(config.as_bytes())?;
    if let Some(p) = &parent {
        graph.images().set_parent(&image.id, &p.id)?;
    }
    if let Some(r) = &spec.target {
        graph.tags().set(&r.repo, r.key(), &image.id, true)?;
    }
    tracing::debug!(image = %short_id(&image.id), container = %short_id(&spec.container), "committed");
    graph.images().get(&image.id).ok_or_else(|| GraphError::NoSuchImage(image.id.clone()))
}

/// The tar `tar` without the entries named in `exclude`, as a new temp
/// file. Entries are copied as raw byte ranges (each with the pax or GNU
/// long-name headers before it), so what is kept is kept byte for byte.
fn without(mut tar: File, exclude: &[String], tmp_dir: &Path) -> Result<File> {
    let io_err = |e: io::Error| GraphError::io(tmp_dir, e);
    let exclude: HashSet<&str> = exclude.iter().map(|p| p.trim_matches('/')).collect();
    let mut keep: Vec<(u64, u64)> = Vec::new();
    {
        let mut archive = tar::Archive::new(&mut tar);
        let mut group_start = 0u64;
        for entry in archive.entries().map_err(io_err)? {
            let entry = entry.map_err(io_err)?;
            let end = entry.raw_file_position() + entry.size().div_ceil(512) * 512;
            let path = entry.path().map_err(io_err)?.to_string_lossy().trim_matches('/').to_string();
            if !exclude.contains(path.as_str()) {
                keep.push((group_start, end));
            }
            group_start = end;
        }
    }
    let mut out = tempfile::tempfile_in(tmp_dir).map_err(io_err)?;
    for (start, end) in keep {
        tar.seek(SeekFrom::Start(start)).map_err(io_err)?;
        let copied = io::copy(&mut (&mut tar).take(end - start), &mut out).map_err(io_err)?;
        if copied != end - start {
            return Err(GraphError::BadLayer(format!("exported diff cut short at byte {}", start + copied)));
        }
    }
    out.write_all(&[0u8; 1024]).map_err(io_err)?;
    out.seek(SeekFrom::Start(0)).map_err(io_err)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::images::tests::{config, layers};

    #[test]
    fn a_commit_extends_its_parent_and_an_empty_one_adds_no_layer() {
        for driver in ["vfs", "overlay"] {
            let tmp = tempfile::tempdir().unwrap();
            let g = Graph::new(tmp.path(), driver, &[]).unwrap();
            let diffs = layers(&g, &["a"]);
            let parent = g.images().create(&config(&diffs, "p")).unwrap();
            let top = parent.top_layer.clone().unwrap();
            g.driver().create("ctr", Some(hex_of(&top))).unwrap();
            let spec = CommitSpec {
                parent: Some(parent.id.clone()),
                config: serde_json::json!({"Env": ["FOO=bar"]}),
                container: "ctr".into(),
                comment: "msg".into(),
                target: commit_target("repo", "t").unwrap(),
                exclude: vec!["proc".into()],
                ..Default::default()
            };
            let empty = commit_image(&g, "ctr", &spec).unwrap();
            assert_eq!(empty.config.rootfs.diff_ids, diffs, "{driver}");
            assert!(empty.config.history.last().unwrap().empty_layer);

            let dir = g.driver().diff_dir("ctr");
            std::fs::write(dir.join("new"), b"x").unwrap();
            std::fs::create_dir(dir.join("proc")).unwrap();
            let image = commit_image(&g, "ctr", &spec).unwrap();
            assert_eq!(image.config.rootfs.diff_ids.len(), 2, "{driver}");
            assert_eq!(image.parent.as_deref(), Some(parent.id.as_str()));
            assert_eq!((image.config.comment.as_str(), image.config.container.as_str()), ("msg", "ctr"));
            assert_eq!(image.config.config["Env"], serde_json::json!(["FOO=bar"]));
            assert_eq!(image.config.history.len(), 1);
            assert_eq!(g.tags().get("repo", "t").as_deref(), Some(image.id.as_str()));
            let mut tar = Vec::new();
            g.layers().tar(image.top_layer.as_deref().unwrap()).unwrap().read_to_end(&mut tar).unwrap();
            let names: Vec<String> = tar::Archive::new(&tar[..])
                .entries()
                .unwrap()
                .map(|e| e.unwrap().path().unwrap().display().to_string())
                .collect();
            assert_eq!(names, ["new"], "{driver}: the excluded path is left out");
            assert!(matches!(commit_target("Bad Repo", ""), Err(GraphError::InvalidReference(_))));
        }
    }

    #[test]
    fn excluded_entries_go_and_the_rest_stays() {
        let tmp = tempfile::tempdir().unwrap();
        let long = format!("{}/f", "d".repeat(150));
        let tar_of = |names: &[&str]| {
            let mut b = tar::Builder::new(Vec::new());
            for (i, name) in names.iter().enumerate() {
                let mut h = tar::Header::new_gnu();
                h.set_size(i as u64 * 700);
                h.set_mode(0o644);
                b.append_data(&mut h, name, &vec![i as u8; i * 700][..]).unwrap();
            }
            b.into_inner().unwrap()
        };
        let mut file = tempfile::tempfile_in(tmp.path()).unwrap();
        file.write_all(&tar_of(&["a", "etc/hosts", &long, "proc/", "b"])).unwrap();
        file.seek(SeekFrom::Start(0)).unwrap();
        let exclude = vec!["etc/hosts".to_string(), "/proc".to_string()];
        let mut out = Vec::new();
        without(file, &exclude, tmp.path()).unwrap().read_to_end(&mut out).unwrap();
        let names = |bytes: &[u8]| -> Vec<(String, u64)> {
            let mut a = tar::Archive::new(bytes);
            a.entries()
                .unwrap()
                .map(|e| e.unwrap())
                .map(|e| (e.path().unwrap().display().to_string(), e.size()))
                .collect()
        };
        assert_eq!(names(&out), [("a".to_string(), 0), (long.clone(), 1400), ("b".to_string(), 2800)]);
    }
}
