//! The `history` job (`graph/history.go` of Docker 1.2), computed as
//! today's dockerd does from the config's `history` (1.2 walked the parent
//! chain of v1 images, which content-addressed images no longer have).

use engine::{ErrorKind, Job, Status};
use runconfig::image::HistoryItem;

use super::ImageService;
use super::util::{blocking, unix_of};
use crate::Graph;
use crate::error::{GraphError, Result};
use crate::layers::LayerStore;

/// Runs `history`.
pub async fn history(service: ImageService, job: Job) -> Status {
    let args = job.args();
    let [name] = args.as_slice() else {
        return job.fail(ErrorKind::BadParameter, "Usage: history IMAGE").await;
    };
    let name = name.clone();
    let graph = service.graph.clone();
    match blocking(move || image_history(&graph, &name)).await {
        Ok(items) => match serde_json::to_vec(&items) {
            Ok(body) => {
                let _ = job.print(body).await;
                Status::OK
            }
            Err(e) => job.fail(ErrorKind::Internal, e).await,
        },
        Err(e) => job.fail(e.kind(), e).await,
    }
}

/// The history of the image `name` means, newest first.
pub fn image_history(graph: &Graph, name: &str) -> Result<Vec<HistoryItem>> {
    let id = graph.lookup(name)?;
    let image = graph.images().get(&id).ok_or_else(|| GraphError::NoSuchImage(name.to_string()))?;
    let config = &image.config;
    // Each layer's own size, bottom first.
    let mut sizes = Vec::new();
    let mut chain: Option<String> = None;
    for diff_id in &config.rootfs.diff_ids {
        let next = LayerStore::chain_id(chain.as_deref(), diff_id);
        sizes.push(graph.layers().get(&next).map_or(0, |l| l.size));
        chain = Some(next);
    }
    let mut items = Vec::new();
    if config.history.is_empty() {
        // Images without history (Docker 1.2 imports): one entry per layer.
        for size in &sizes {
            items.push(HistoryItem {
                id: "<missing>".to_string(),
                created: image.created_unix,
                created_by: String::new(),
                tags: None,
                size: *size,
                comment: String::new(),
            });
        }
    } else {
        let mut layer = 0;
        for h in &config.history {
            let size = if h.empty_layer {
                0
            } else {
                let size = sizes
                    .get(layer)
                    .copied()
                    .ok_or_else(|| GraphError::BadConfig("too many non-empty layers in History section".to_string()))?;
                layer += 1;
                size
            };
            items.push(HistoryItem {
                id: "<missing>".to_string(),
                created: unix_of(h.created.as_deref()),
                created_by: h.created_by.clone(),
                tags: None,
                size,
                comment: h.comment.clone(),
            });
        }
    }
    items.reverse();
    // The newest entry is the image; built and legacy-loaded images also
    // name their parents down the chain.
    let mut current = Some(image);
    for item in items.iter_mut() {
        let Some(img) = current.take() else { break };
        item.id = img.id.clone();
        let tags = graph.tags().tags_of(&img.id);
        item.tags = (!tags.is_empty()).then_some(tags);
        current = img.parent.as_deref().and_then(|p| graph.images().get(p));
    }
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;

    #[tokio::test(flavor = "multi_thread")]
    async fn history_is_newest_first_with_sizes() {
        let t = TestGraph::new();
        let id = t.image(&[b"one", b"two-two"], None, "2020-01-01T00:00:00Z", "{}");
        t.tag("busybox", "latest", &id);
        let v = t.run_json("history", &["busybox"], &[]).await;
        let items = v.as_array().unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(items[0]["Id"], id);
        assert_eq!(items[0]["Tags"], serde_json::json!(["busybox:latest"]));
        assert_eq!(items[0]["CreatedBy"], "ADD two-two");
        assert_eq!(items[0]["Created"], 1_577_836_800);
        assert_eq!(items[1]["Id"], "<missing>");
        assert!(items[1]["Tags"].is_null());
        assert_eq!(items[1]["CreatedBy"], "ADD one");
        assert!(items[0]["Size"].as_i64().unwrap() > items[1]["Size"].as_i64().unwrap());
        for key in ["Comment", "Size", "Created"] {
            assert!(items[1].get(key).is_some());
        }
    }
}
