//! Wire types of the Docker Remote API, shared by the daemon's crates and
//! the client: the JSON progress messages of pull/push/load/import
//! ([`jsonmessage`]) and the image JSON shapes ([`image`]). No I/O here.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod container;
pub mod image;
pub mod jsonmessage;
pub mod stats;

pub use jsonmessage::{JsonMessage, ProgressDetail, StreamFormatter};
