//! The image store: graph drivers, layer tar apply and diff, images, the
//! TagStore, and the image jobs.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
