//! The `commit` job (`daemon/commit.go` of dockerd 1.12): a new image from
//! a container's layer. The config is the request's (body, then the
//! `--change` instructions, parsed by the graph's `import` code) with the
//! container's config filling what it leaves empty; the image itself is
//! assembled by the graph ([`graph::jobs::commit_image`]).
//!
//! A running container is frozen for the duration unless `pause=0`, as
//! dockerd does, so the layer is not written while its tar is taken.

use engine::names::env;
use engine::{Job, Status};
use runconfig::container::Config;
use serde_json::{Map, Value};

use crate::error::ContainerError;
use crate::pause::set_frozen;
use crate::{Daemon, events};

/// What the daemon and the container init put in a container's layer as
/// mount points (dockerd's init layer, `daemon/initlayer`), which a commit
/// leaves out: the image must not carry empty placeholders of them.
const INIT_LAYER: &[&str] = &[
    "dev",
    "dev/pts",
    "dev/shm",
    "dev/mqueue",
    "dev/console",
    "proc",
    "sys",
    ".dockerenv",
    "etc/resolv.conf",
    "etc/hosts",
    "etc/hostname",
    "etc/mtab",
];

/// Runs `commit CONTAINER` (env `repo`, `tag`, `comment`, `author`,
/// `pause`, list `changes`, optional config in `body`); prints
/// `{"Id":"sha256:..."}`.
pub async fn commit(daemon: Daemon, job: Job) -> Status {
    let args = job.args();
    let [name] = args.as_slice() else {
        return job.errorf("Usage: commit CONTAINER").await;
    };
    match run(&daemon, &job, name).await {
        Ok(id) => {
            let body = serde_json::json!({ "Id": id }).to_string();
            match job.print(body).await {
                Ok(()) => Status::OK,
                Err(e) => job.errorf(format!("commit: {e}")).await,
            }
        }
        Err(e) => job.fail(e.kind(), e).await,
    }
}

async fn run(daemon: &Daemon, job: &Job, name: &str) -> Result<String, ContainerError> {
    let target = graph::jobs::commit_target(&job.getenv("repo"), &job.getenv("tag"))?;
    let handle = daemon.containers().get(name)?;
    let mut requested = match job.getenv(env::BODY).trim() {
        "" | "null" => Map::new(),
        body => serde_json::from_str::<Map<String, Value>>(body)
            .map_err(|e| ContainerError::BadParameter(format!("invalid commit config: {e}")))?,
    };
    graph::jobs::apply_changes(&mut requested, &job.getenv_list("changes").unwrap_or_default())
        .map_err(ContainerError::BadParameter)?;
    let mut config: Config = serde_json::from_value(Value::Object(requested))
        .map_err(|e| ContainerError::BadParameter(format!("invalid commit config: {e}")))?;

    let c = handle.lock().clone();
    merge(&mut config, &c.config);
    let spec = graph::jobs::CommitSpec {
        parent: Some(c.image.clone()).filter(|i| !i.is_empty()),
        config: to_value(&c.id, &config)?,
        container: c.id.clone(),
        container_config: to_value(&c.id, &c.config)?,
        author: job.getenv("author"),
        comment: job.getenv("comment"),
        created_by: c.config.cmd.clone().unwrap_or_default().join(" "),
        target,
        exclude: INIT_LAYER.iter().map(|p| p.to_string()).collect(),
    };

    let freeze = job.getenv_bool("pause") && c.state.running && !c.state.paused;
    if freeze {
        match set_frozen(daemon, &c.id, true).await {
            Ok(frozen) => events::log(job, "pause", &frozen, &[]).await,
            // It exited meanwhile: nothing writes to its layer any more.
            Err(e) => tracing::warn!(container = %c.id, error = %e, "could not pause for commit"),
        }
    }
    let graph = daemon.graph().clone();
    let layer = c.layer_id().to_string();
    let made = tokio::task::spawn_blocking(move || graph::jobs::commit_image(&graph, &layer, &spec)).await;
    if let Ok(Ok(_)) = &made {
        // Before the unpause, in dockerd's order.
        events::log(job, "commit", &c, &[("comment", &job.getenv("comment"))]).await;
    }
    if freeze {
        match set_frozen(daemon, &c.id, false).await {
            Ok(thawed) => events::log(job, "unpause", &thawed, &[]).await,
            Err(ContainerError::NotRunning(_) | ContainerError::NotPaused(_)) => {}
            Err(e) => tracing::error!(container = %c.id, error = %e, "could not unpause after commit"),
        }
    }
    let image = match made {
        Ok(image) => image?,
        Err(e) => return Err(graph::GraphError::io("<commit task>", std::io::Error::other(e.to_string())).into()),
    };
    tracing::info!(container = %c.id, image = %image.id, "committed");
    Ok(image.id)
}

/// dockerd's commit `merge`: the container's config fills what the
/// request left empty. Unlike create's merge, the request's `Env` comes
/// first and the container's other variables follow it.
fn merge(config: &mut Config, container: &Config) {
    let mine = config.env.take().filter(|e| !e.is_empty());
    config.merge_image(container);
    config.env = match mine {
        None => container.env.clone(),
        Some(mut env) => {
            let key = |e: &str| e.split_once('=').map_or(e, |(k, _)| k).to_string();
            let have: std::collections::HashSet<String> = env.iter().map(|e| key(e)).collect();
            env.extend(container.env.iter().flatten().filter(|e| !have.contains(&key(e))).cloned());
            Some(env)
        }
    };
}

fn to_value(id: &str, config: &Config) -> Result<Value, ContainerError> {
    serde_json::to_value(config).map_err(|e| ContainerError::BadParameter(format!("container {id}: config: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_wins_and_the_container_fills_in() {
        let container = Config {
            env: Some(vec!["PATH=/bin".into(), "FOO=old".into()]),
            cmd: Some(vec!["sh".into()]),
            working_dir: "/w".into(),
            labels: [("a".to_string(), "1".to_string())].into(),
            ..Default::default()
        };
        let mut request = Map::new();
        graph::jobs::apply_changes(&mut request, &["ENV FOO=bar".into(), "LABEL b=2".into()]).unwrap();
        let mut config: Config = serde_json::from_value(Value::Object(request)).unwrap();
        merge(&mut config, &container);
        assert_eq!(config.env, Some(vec!["FOO=bar".into(), "PATH=/bin".into()]));
        assert_eq!(config.cmd, Some(vec!["sh".into()]));
        assert_eq!(config.working_dir, "/w");
        assert_eq!(config.labels.len(), 2);

        let mut config = Config { cmd: Some(vec!["true".into()]), ..Default::default() };
        merge(&mut config, &container);
        assert_eq!((config.cmd, config.env), (Some(vec!["true".into()]), container.env.clone()));
    }
}
