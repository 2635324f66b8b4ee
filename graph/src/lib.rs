//! The image store: graph drivers, layer tar apply and diff, images, the
//! TagStore, and the image jobs.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod archive;
pub mod driver;
mod error;
mod graph;
pub mod images;
pub mod jobs;
pub mod layers;
pub mod tags;
mod timestamp;

pub use error::{GraphError, Result};
pub use graph::Graph;

/// `cp -a` of the tree `src` to the new directory `dst` (blocking): owners,
/// modes, times, xattrs, hardlinks and symlinks kept. The daemon fills a
/// fresh volume with the image's content at its path this way.
pub fn copy_tree(src: &std::path::Path, dst: &std::path::Path) -> Result<()> {
    driver::copy::copy_tree(src, dst)
}
