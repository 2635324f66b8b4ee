//! The `create` job (`daemon/create.go`): a container from a create body,
//! with today's dockerd's checks and texts, written whole or not at all.
//!
//! Order matters for crash safety and for concurrent creates: the name is
//! reserved first, the container layer, its volumes and directory come
//! next, the config file is written last (a directory without it is
//! removed at the next start), and only then does the container become
//! visible. A crash before the config is written can leave an unreferenced
//! volume directory behind, as with dockerd; it holds no one's data.

use std::time::SystemTime;

use engine::names::env;
use engine::{Job, Status};
use runconfig::container::{Config, CreateRequest, CreateResponse, HostConfig, MIN_MEMORY};

use crate::container::{Container, rfc3339_nano};
use crate::error::ContainerError;
use crate::{Daemon, events, names, netfiles, volumes};

/// How often a generated name is retried before falling back to the ID.
const NAME_RETRIES: u32 = 6;

/// Runs `create [NAME]` with the body in env `body`; prints
/// `{"Id":..,"Warnings":[]}`.
pub async fn create(daemon: Daemon, job: Job) -> Status {
    let args = job.args();
    if args.len() > 1 {
        return job.errorf("Usage: create [NAME]").await;
    }
    let name = args.first().cloned().unwrap_or_default();
    let body = job.getenv(env::BODY);
    let d = daemon.clone();
    let result = tokio::task::spawn_blocking(move || create_blocking(&d, &name, &body)).await;
    let c = match result {
        Ok(Ok(c)) => c,
        Ok(Err(e)) => return job.fail(e.kind(), e).await,
        Err(e) => return job.errorf(format!("create: {e}")).await,
    };
    events::log(&job, "create", &c, &[]).await;
    let answer = CreateResponse { id: c.id.clone(), warnings: Vec::new() };
    match serde_json::to_vec(&answer) {
        Ok(body) => match job.print(body).await {
            Ok(()) => Status::OK,
            Err(e) => job.errorf(format!("create: {e}")).await,
        },
        Err(e) => job.errorf(format!("create: {e}")).await,
    }
}

fn create_blocking(daemon: &Daemon, name: &str, body: &str) -> Result<Container, ContainerError> {
    let req = if body.trim().is_empty() {
        CreateRequest::default()
    } else {
        CreateRequest::parse(body).map_err(|e| ContainerError::BadParameter(format!("invalid create body: {e}")))?
    };
    let mut host_config = req.host_config();
    check_host_config(&mut host_config)?;
    let mut config = req.config;
    if config.image.is_empty() {
        return Err(ContainerError::BadParameter("No image was specified: use Image in the create body".into()));
    }

    let graph = daemon.graph();
    let image_id = graph.lookup(&config.image).map_err(|e| match e {
        graph::GraphError::NoSuchImage(_) => graph::GraphError::NoSuchImage(with_latest(&config.image)),
        other => other,
    })?;
    let image =
        graph.images().get(&image_id).ok_or_else(|| graph::GraphError::NoSuchImage(with_latest(&config.image)))?;
    config.merge_image(&Config::from_image(&image.config.config));

    check_links(daemon, &host_config)?;

    let id = random_id();
    if config.hostname.is_empty() {
        config.hostname = id[..12].to_string();
    }
    let store = daemon.containers();
    // dockerd settles the name before it looks for a command, so a name
    // conflict is reported first.
    let name = reserve_name(store, name, &id)?;
    let Some((path, args)) = config.entrypoint_and_args() else {
        store.release_name(&name, &id);
        return Err(ContainerError::NoCommand);
    };
    let mut c = Container {
        id: id.clone(),
        created: rfc3339_nano(SystemTime::now()),
        path,
        args,
        config,
        image: image.id.clone(),
        name: name.clone(),
        driver: daemon.storage_driver().to_string(),
        restart_count: 0,
        has_been_manually_stopped: false,
        state: Default::default(),
        host_config,
        networking_config: req.networking_config,
        mount_points: Default::default(),
    };
    let mut new_volumes = Vec::new();
    let made = (|| {
        let parent = image.top_layer.as_deref().map(|l| l.strip_prefix("sha256:").unwrap_or(l));
        graph.driver().create(c.layer_id(), parent)?;
        // Volumes are filled from the new layer's view of the image, and
        // recorded in the config written below.
        new_volumes = volumes::register(daemon, &mut c)?;
        let dir = store.create_dir(&id)?;
        netfiles::write(&c, &dir, daemon.config(), None, &[])?;
        store.save(&c)
    })();
    if let Err(e) = made {
        // Undo in reverse; the layer may not exist if its creation failed.
        let _ = std::fs::remove_dir_all(store.dir().join(&id));
        volumes::remove_volumes(daemon, &new_volumes);
        if graph.driver().exists(c.layer_id()) {
            let _ = graph.driver().remove(c.layer_id());
        }
        store.release_name(&name, &id);
        return Err(e);
    }
    store.insert(c.clone());
    tracing::info!(container = %id, name = %name, image = %c.image, "created");
    Ok(c)
}

/// Links are checked at create, as dockerd 1.12 does (1.2 waited for the
/// start): well formed, naming an existing container, and only with the
/// bridge network.
fn check_links(daemon: &Daemon, hc: &HostConfig) -> Result<(), ContainerError> {
    let links = hc.links.as_deref().unwrap_or_default();
    if links.is_empty() {
        return Ok(());
    }
    let mode = hc.network_mode.as_str();
    if mode == "host" || mode.starts_with("container:") {
        let kind = if mode == "host" { "host" } else { "container" };
        return Err(ContainerError::BadParameter(format!(
            "Conflicting options: {kind} type networking can't be used with links. This would result in undefined behavior"
        )));
    }
    for link in links {
        let (name, _) = crate::network::parse_link(link)?;
        if daemon.containers().get(&name).is_err() {
            return Err(ContainerError::BadParameter(format!("Could not get container for {name}")));
        }
    }
    Ok(())
}

/// Today's dockerd names the tag a bare repository defaulted to.
fn with_latest(image: &str) -> String {
    let last = image.rsplit('/').next().unwrap_or(image);
    if image.contains('@') || last.contains(':') { image.to_string() } else { format!("{image}:latest") }
}

/// Validates the resource and policy fields dockerd checks at create, and
/// fills the defaults inspect shows.
fn check_host_config(hc: &mut HostConfig) -> Result<(), ContainerError> {
    let bad = |s: String| Err(ContainerError::BadParameter(s));
    if hc.memory != 0 && hc.memory < MIN_MEMORY {
        return bad("Minimum memory limit allowed is 4MB".into());
    }
    if hc.memory > 0 && hc.memory_swap > 0 && hc.memory_swap < hc.memory {
        return bad("Minimum memoryswap limit should be larger than memory limit, see usage.".into());
    }
    if hc.memory == 0 && hc.memory_swap > 0 {
        return bad("You should always set the Memory limit when using Memoryswap limit, see usage.".into());
    }
    if let Some(s) = hc.memory_swappiness
        && !(-1..=100).contains(&s)
    {
        return bad(format!("Invalid value: {s}, valid memory swappiness range is 0-100"));
    }
    if hc.cpu_shares < 0 {
        return bad(format!("Invalid CPU shares: {}", hc.cpu_shares));
    }
    if !cpuset_ok(&hc.cpuset_cpus) {
        return bad(format!("Invalid value {} for cpuset cpus", hc.cpuset_cpus));
    }
    if !cpuset_ok(&hc.cpuset_mems) {
        return bad(format!("Invalid value {} for cpuset mems", hc.cpuset_mems));
    }
    let policy = &hc.restart_policy;
    match policy.name.as_str() {
        "" | "no" | "always" | "unless-stopped" => {
            if policy.maximum_retry_count != 0 {
                return bad(format!("maximum restart count not valid with restart policy type: {}", policy.name));
            }
        }
        "on-failure" => {
            if policy.maximum_retry_count < 0 {
                return bad("maximum restart count must be a positive integer".into());
            }
        }
        other => return bad(format!("invalid restart policy {other}")),
    }
    match hc.log_config.r#type.as_str() {
        "" => hc.log_config.r#type = "json-file".into(),
        "json-file" | "none" => {}
        other => return bad(format!("logger: no log driver named '{other}' is registered")),
    }
    if hc.network_mode.is_empty() {
        hc.network_mode = "default".into();
    }
    Ok(())
}

/// `0-2,4`: lists of numbers and ranges (empty = unset).
fn cpuset_ok(s: &str) -> bool {
    s.is_empty()
        || s.split(',').all(|part| {
            let mut ends = part.splitn(2, '-').map(|n| n.parse::<u32>());
            match (ends.next(), ends.next()) {
                (Some(Ok(_)), None) => true,
                (Some(Ok(a)), Some(Ok(b))) => a <= b,
                _ => false,
            }
        })
}

/// The user's name, validated; or a generated one (retried on conflict,
/// then the short ID, as dockerd does).
fn reserve_name(store: &crate::store::ContainerStore, name: &str, id: &str) -> Result<String, ContainerError> {
    if !name.is_empty() {
        let bare = names::validate(name).map_err(ContainerError::InvalidName)?;
        store.reserve_name(bare, id)?;
        return Ok(bare.to_string());
    }
    for retry in 0..NAME_RETRIES {
        let candidate = names::generate(retry);
        if store.reserve_name(&candidate, id).is_ok() {
            return Ok(candidate);
        }
    }
    let short = id[..12].to_string();
    store.reserve_name(&short, id)?;
    Ok(short)
}

/// 64 random hex digits whose short form is not all digits (a short ID
/// that parses as a number would confuse clients, as dockerd notes).
pub fn random_id() -> String {
    loop {
        let mut bytes = [0u8; 32];
        if getrandom::fill(&mut bytes).is_err() {
            // Fall back on the clock: uniqueness, not secrecy, is what
            // an ID needs.
            let nanos = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default().as_nanos();
            bytes[..16].copy_from_slice(&nanos.to_le_bytes());
            bytes[16..20].copy_from_slice(&std::process::id().to_le_bytes());
        }
        let id: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        if !id[..12].bytes().all(|b| b.is_ascii_digit()) {
            return id;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_64_hex() {
        let id = random_id();
        assert_eq!(id.len(), 64);
        assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(id, random_id());
    }

    #[test]
    fn image_names_gain_latest() {
        assert_eq!(with_latest("busybox"), "busybox:latest");
        assert_eq!(with_latest("127.0.0.1:5000/busybox"), "127.0.0.1:5000/busybox:latest");
        assert_eq!(with_latest("busybox:1"), "busybox:1");
        assert_eq!(with_latest("busybox@sha256:ab"), "busybox@sha256:ab");
    }

    #[test]
    fn host_config_checks() {
        let check = |f: fn(&mut HostConfig)| {
            let mut hc = HostConfig::default();
            f(&mut hc);
            check_host_config(&mut hc).map(|()| hc).map_err(|e| e.to_string())
        };
        let hc = check(|_| {}).unwrap();
        assert_eq!((hc.log_config.r#type.as_str(), hc.network_mode.as_str()), ("json-file", "default"));
        assert_eq!(check(|h| h.memory = 1024).unwrap_err(), "Minimum memory limit allowed is 4MB");
        assert!(check(|h| h.memory = MIN_MEMORY).is_ok());
        assert!(check(|h| h.cpuset_cpus = "0-x".into()).is_err());
        assert!(check(|h| h.cpuset_cpus = "0-2,4".into()).is_ok());
        assert_eq!(
            check(|h| h.restart_policy.name = "sometimes".into()).unwrap_err(),
            "invalid restart policy sometimes"
        );
        assert!(check(|h| h.memory_swappiness = Some(101)).is_err());
    }
}
