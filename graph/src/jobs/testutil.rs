//! Test fixtures for the image jobs: a `Graph` on a temp dir with the vfs
//! driver, layers made from small tars, and jobs run through an Engine.

use std::io::Read;
use std::sync::Arc;

use engine::{Engine, ErrorKind};

use super::{ImageService, install};
use crate::Graph;
use crate::layers::LayerStore;

/// A layer tar holding one file whose name and content are `content`.
pub fn layer_tar(content: &[u8]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_gnu();
    header.set_size(content.len() as u64);
    header.set_mode(0o644);
    header.set_mtime(1_600_000_000);
    header.set_entry_type(tar::EntryType::Regular);
    let name = format!("f-{}", String::from_utf8_lossy(content).replace('/', "_"));
    builder.append_data(&mut header, name, content).unwrap();
    builder.into_inner().unwrap()
}

/// A graph, an engine with the image jobs, and the temp dir under both.
pub struct TestGraph {
    pub graph: Arc<Graph>,
    pub eng: Engine,
    _dir: tempfile::TempDir,
}

impl TestGraph {
    pub fn new() -> TestGraph {
        let dir = tempfile::tempdir().unwrap();
        let graph = Arc::new(Graph::new(dir.path(), "vfs", &[]).unwrap());
        let eng = Engine::new();
        let service = ImageService { graph: graph.clone(), registry: registry::Service::new(Default::default()) };
        install(&eng, service).unwrap();
        TestGraph { graph, eng, _dir: dir }
    }

    /// Stores an image of `layers` (one tar each, see [`layer_tar`]); its
    /// runtime config is `config` (JSON).
    pub fn image(&self, layers: &[&[u8]], parent: Option<&str>, created: &str, config: &str) -> String {
        let mut chain: Option<String> = None;
        let mut diff_ids = Vec::new();
        for content in layers {
            let tar = layer_tar(content);
            let info = self.graph.layers().register(chain.as_deref(), &mut &tar[..], None).unwrap();
            diff_ids.push(info.diff_id.clone());
            chain = Some(LayerStore::chain_id(chain.as_deref(), &info.diff_id));
        }
        let history: Vec<serde_json::Value> = layers
            .iter()
            .map(|c| serde_json::json!({"created": created, "created_by": format!("ADD {}", String::from_utf8_lossy(c))}))
            .collect();
        let config = serde_json::json!({
            "architecture": "amd64",
            "os": "linux",
            "created": created,
            "config": serde_json::from_str::<serde_json::Value>(config).unwrap(),
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
            "history": history,
        });
        let image = self.graph.images().create(&serde_json::to_vec(&config).unwrap()).unwrap();
        if let Some(parent) = parent {
            self.graph.images().set_parent(&image.id, parent).unwrap();
        }
        image.id
    }

    pub fn tag(&self, repo: &str, tag: &str, id: &str) {
        self.graph.tags().set(repo, tag, id, true).unwrap();
    }

    /// Runs a job; its status, error kind and text, and stdout.
    pub async fn run(
        &self,
        name: &str,
        args: &[&str],
        env: &[(&str, &str)],
        stdin: Option<Vec<u8>>,
    ) -> (Result<(), (ErrorKind, String)>, Vec<u8>) {
        let job = self.eng.job(name, args.iter().copied());
        for (k, v) in env {
            job.setenv(k, v);
        }
        if let Some(input) = stdin {
            job.stdin().add(std::io::Cursor::new(input)).unwrap();
        }
        let out = job.stdout().add_buffer();
        let result = job.run().await.map_err(|e| (e.kind, e.message));
        (result, out.bytes())
    }

    pub async fn run_ok(&self, name: &str, args: &[&str], env: &[(&str, &str)]) -> Vec<u8> {
        let (result, out) = self.run(name, args, env, None).await;
        if let Err(e) = result {
            panic!("{name} failed: {e:?}");
        }
        out
    }

    pub async fn run_json(&self, name: &str, args: &[&str], env: &[(&str, &str)]) -> serde_json::Value {
        serde_json::from_slice(&self.run_ok(name, args, env).await).unwrap()
    }

    pub async fn run_err(&self, name: &str, args: &[&str], env: &[(&str, &str)]) -> (ErrorKind, String) {
        match self.run(name, args, env, None).await.0 {
            Ok(()) => panic!("{name} succeeded"),
            Err(e) => e,
        }
    }

    /// The bytes of a stored layer's tar.
    pub fn layer_bytes(&self, chain_id: &str) -> Vec<u8> {
        let mut out = Vec::new();
        self.graph.layers().tar(chain_id).unwrap().read_to_end(&mut out).unwrap();
        out
    }
}
