//! The registry client (distribution v2), image reference naming, the auth
//! config file, and the `auth` and `search` jobs.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod auth;
pub mod client;
pub mod config_file;
pub mod digest;
mod error;
pub mod manifest;
pub mod reference;

pub use auth::AuthConfig;
pub use client::{Access, BlobStream, Repository, Service, ServiceOptions};
pub use error::RegistryError;
pub use reference::{Reference, ReferenceError};
