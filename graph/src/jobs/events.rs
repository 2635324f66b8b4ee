//! Image events (`pull`, `push`, `tag`, `untag`, `delete`, `import`,
//! `load`, `save`) go to the events service through the `log` job, as
//! every subsystem's events do.

use std::collections::BTreeMap;

use engine::Job;
use engine::names::{self, env};

/// Logs an image event; `name` becomes the actor's `name` attribute. A
/// failure to log never fails the image job.
pub async fn log_image_event(job: &Job, action: &str, id: &str, name: &str) {
    let log = job.engine().job(names::LOG, [action, id, ""]);
    log.setenv(env::EVENT_TYPE, "image");
    let mut attributes = BTreeMap::new();
    if !name.is_empty() {
        attributes.insert("name".to_string(), name.to_string());
    }
    log.setenv_json(env::EVENT_ATTRIBUTES, &attributes);
    if let Err(e) = log.run().await {
        tracing::debug!("image event {action} {id} not logged: {e}");
    }
}
