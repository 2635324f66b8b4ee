//! The image jobs (`TagStore.Install` of Docker 1.2), one file per job.

use std::sync::Arc;

use engine::names::image as jobs;
use engine::{Engine, EngineError};

use crate::Graph;

pub mod bridge;
mod changes;
mod commit;
mod delete;
mod distribution;
pub mod events;
mod export;
mod history;
mod import;
mod inspect;
mod list;
mod load;
pub mod progress;
mod pull;
mod push;
mod tag;
#[cfg(test)]
mod testutil;
mod util;
mod v1;

pub use changes::apply as apply_changes;
pub use commit::{CommitSpec, commit_image, commit_target};
pub use delete::{DeleteOptions, delete_image};

/// What every image job works with.
#[derive(Debug, Clone)]
pub struct ImageService {
    /// The image store.
    pub graph: Arc<Graph>,
    /// The registry client.
    pub registry: registry::Service,
}

/// Registers the image jobs (all but `image_delete`, which the daemon
/// registers because it must check containers; it calls [`delete_image`]).
pub fn install(eng: &Engine, service: ImageService) -> Result<(), EngineError> {
    let s = service.clone();
    eng.register(jobs::PULL, move |job| pull::pull(s.clone(), job))?;
    let s = service.clone();
    eng.register(jobs::PUSH, move |job| push::push(s.clone(), job))?;
    let s = service.clone();
    eng.register(jobs::LIST, move |job| list::images(s.clone(), job))?;
    let s = service.clone();
    eng.register(jobs::INSPECT, move |job| inspect::image_inspect(s.clone(), job))?;
    let s = service.clone();
    eng.register(jobs::TAG, move |job| tag::tag(s.clone(), job))?;
    let s = service.clone();
    eng.register(jobs::HISTORY, move |job| history::history(s.clone(), job))?;
    let s = service.clone();
    eng.register(jobs::EXPORT, move |job| export::image_export(s.clone(), job))?;
    let s = service.clone();
    eng.register(jobs::LOAD, move |job| load::load(s.clone(), job))?;
    let s = service;
    eng.register(jobs::IMPORT, move |job| import::import(s.clone(), job))?;
    Ok(())
}
