//! Container events through the `log` job of the events service, with the
//! v1.24 actor attributes (`image`, `name`, and any extra ones).

use std::collections::BTreeMap;

use engine::names::{self, env};
use engine::{Engine, Job};

use crate::container::Container;

/// Logs `action` for `c`; a failure to log never fails the job (dockerd
/// does not either).
pub async fn log(job: &Job, action: &str, c: &Container, extra: &[(&str, &str)]) {
    emit(job.engine(), action, c, extra).await
}

/// [`log`] without a job: the monitor reports exits on its own.
pub async fn emit(eng: &Engine, action: &str, c: &Container, extra: &[(&str, &str)]) {
    let mut attributes = BTreeMap::new();
    attributes.insert("image".to_string(), c.config.image.clone());
    attributes.insert("name".to_string(), c.name.clone());
    for (k, v) in extra {
        attributes.insert((*k).to_string(), (*v).to_string());
    }
    for (k, v) in &c.config.labels {
        attributes.entry(k.clone()).or_insert_with(|| v.clone());
    }
    let log = eng.job(names::LOG, [action, c.id.as_str(), c.config.image.as_str()]);
    log.setenv(env::EVENT_TYPE, "container");
    log.setenv_json(env::EVENT_ATTRIBUTES, &attributes);
    if let Err(e) = log.run().await {
        tracing::debug!(container = %c.id, action, error = %e, "event not logged");
    }
}
