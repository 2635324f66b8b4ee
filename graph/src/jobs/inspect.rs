//! The `image_inspect` job (`CmdLookup` of Docker 1.2's `graph/service.go`)
//! in API v1.24's shape: the image config's fields plus tags, digests,
//! size, the storage driver's data and the rootfs.

use engine::{ErrorKind, Job, Status};
use runconfig::image::{GraphDriverData, ImageInspect, RootFs};

use super::ImageService;
use super::util::{blocking, go_time, hex};
use crate::Graph;
use crate::error::{GraphError, Result};

/// Runs `image_inspect`.
pub async fn image_inspect(service: ImageService, job: Job) -> Status {
    let args = job.args();
    let [name] = args.as_slice() else {
        return job.fail(ErrorKind::BadParameter, "usage: image_inspect NAME").await;
    };
    let name = name.clone();
    let graph = service.graph.clone();
    match blocking(move || inspect(&graph, &name)).await {
        Ok(inspect) => match serde_json::to_vec(&inspect) {
            Ok(body) => {
                let _ = job.print(body).await;
                Status::OK
            }
            Err(e) => job.fail(ErrorKind::Internal, e).await,
        },
        Err(e) => job.fail(e.kind(), e).await,
    }
}

/// The inspect document of the image `name` means.
pub fn inspect(graph: &Graph, name: &str) -> Result<ImageInspect> {
    let id = graph.lookup(name)?;
    let image = graph.images().get(&id).ok_or_else(|| GraphError::NoSuchImage(name.to_string()))?;
    let c = &image.config;
    let data = image.top_layer.as_deref().map(|top| graph.driver().metadata(hex(top))).unwrap_or_default();
    Ok(ImageInspect {
        repo_tags: graph.tags().tags_of(&id),
        repo_digests: graph.tags().digests_of(&id),
        parent: image.parent.clone().unwrap_or_default(),
        comment: c.comment.clone(),
        created: go_time(c.created.as_deref()),
        container: c.container.clone(),
        container_config: c.container_config.clone(),
        docker_version: c.docker_version.clone(),
        author: c.author.clone(),
        config: c.config.clone(),
        architecture: c.architecture.clone(),
        os: c.os.clone(),
        size: image.size,
        virtual_size: image.size,
        graph_driver: GraphDriverData { name: graph.driver().name().to_string(), data },
        root_fs: RootFs {
            kind: if c.rootfs.kind.is_empty() { "layers".to_string() } else { c.rootfs.kind.clone() },
            layers: c.rootfs.diff_ids.clone(),
        },
        id,
    })
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;

    #[tokio::test(flavor = "multi_thread")]
    async fn inspect_shows_config_driver_and_rootfs() {
        let t = TestGraph::new();
        let id = t.image(&[b"a", b"b"], None, "2024-05-01T12:34:56.120000000Z", r#"{"Cmd":["sh"]}"#);
        t.tag("busybox", "latest", &id);
        let v = t.run_json("image_inspect", &["busybox"], &[]).await;
        assert_eq!(v["Id"], id);
        assert_eq!(v["RepoTags"], serde_json::json!(["busybox:latest"]));
        assert_eq!(v["Created"], "2024-05-01T12:34:56.12Z");
        assert_eq!(v["Config"]["Cmd"], serde_json::json!(["sh"]));
        assert_eq!(v["GraphDriver"]["Name"], "vfs");
        assert_eq!(v["RootFS"]["Type"], "layers");
        assert_eq!(v["RootFS"]["Layers"].as_array().unwrap().len(), 2);
        assert_eq!(v["Os"], "linux");

        let (kind, text) = t.run_err("image_inspect", &["nope"], &[]).await;
        assert_eq!(kind, engine::ErrorKind::NotFound);
        assert_eq!(text, "No such image: nope");
    }
}
