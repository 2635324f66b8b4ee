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
