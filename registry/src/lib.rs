//! The registry client (distribution v2), image reference naming, the auth
//! config file, v1 search, and the `auth` and `search` jobs.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod auth;
pub mod client;
pub mod config_file;
pub mod digest;
mod error;
pub mod jobs;
pub mod manifest;
pub mod reference;
pub mod search;

pub use auth::AuthConfig;
pub use client::{Access, BlobStream, Repository, Service, ServiceOptions};
pub use error::RegistryError;
pub use reference::{Reference, ReferenceError};
pub use search::SearchResult;
