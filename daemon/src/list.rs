//! The `containers` job (`daemon/list.go` of dockerd 1.12): newest first,
//! with `all`, `limit`, `since`, `before`, `size` and the filters `exited`,
//! `status`, `label`, `name`, `id`, `ancestor`, `before`, `since`.
//!
//! `name` and `id` filters are regular expressions in dockerd; here they
//! are substrings with an optional `^` / `$` anchor, which is how clients
//! use them.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::time::SystemTime;

use engine::names::env;
use engine::{Job, Status};
use runconfig::container::{ContainerSummary, Port, PortBinding, SummaryHostConfig, SummaryNetworkSettings};

use crate::Daemon;
use crate::container::Container;
use crate::error::ContainerError;

const STATUSES: &[&str] = &["created", "restarting", "running", "paused", "exited", "dead", "removing"];
const FILTER_KEYS: &[&str] =
    &["exited", "status", "label", "name", "id", "ancestor", "before", "since", "volume", "network", "isolation"];

/// What the request asked for.
#[derive(Debug, Default)]
struct Query {
    all: bool,
    size: bool,
    limit: i64,
    since: String,
    before: String,
    filters: BTreeMap<String, Vec<String>>,
}

/// Runs `containers`: prints the JSON list.
pub async fn list(daemon: Daemon, job: Job) -> Status {
    let filters = match job.getenv_json::<BTreeMap<String, Vec<String>>>(env::FILTERS) {
        Ok(f) => f.unwrap_or_default(),
        Err(e) => return job.fail(engine::ErrorKind::BadParameter, format!("invalid filters: {e}")).await,
    };
    let query = Query {
        all: job.getenv_bool("all"),
        size: job.getenv_bool("size"),
        limit: job.getenv_int("limit"),
        since: job.getenv("since"),
        before: job.getenv("before"),
        filters,
    };
    let d = daemon.clone();
    let result = tokio::task::spawn_blocking(move || select(&d, query)).await;
    let list = match result {
        Ok(Ok(list)) => list,
        Ok(Err(e)) => return job.fail(e.kind(), e).await,
        Err(e) => return job.errorf(format!("containers: {e}")).await,
    };
    match serde_json::to_vec(&list) {
        Ok(body) => match job.print(body).await {
            Ok(()) => Status::OK,
            Err(e) => job.errorf(format!("containers: {e}")).await,
        },
        Err(e) => job.errorf(format!("containers: {e}")).await,
    }
}

fn select(daemon: &Daemon, mut q: Query) -> Result<Vec<ContainerSummary>, ContainerError> {
    let bad = ContainerError::BadParameter;
    let filters = std::mem::take(&mut q.filters);
    for key in filters.keys() {
        if !FILTER_KEYS.contains(&key.as_str()) {
            return Err(bad(format!("Invalid filter '{key}'")));
        }
    }
    let values = |key: &str| filters.get(key).cloned().unwrap_or_default();
    let mut exited = Vec::new();
    for v in values("exited") {
        exited.push(v.parse::<i64>().map_err(|_| bad(format!("Invalid filter value for exited: {v}")))?);
    }
    let statuses = values("status");
    for s in &statuses {
        if !STATUSES.contains(&s.as_str()) {
            return Err(bad(format!("Unrecognised filter value for status: {s}")));
        }
    }
    // A status filter only makes sense over every container.
    if !statuses.is_empty() {
        q.all = true;
    }
    let store = daemon.containers();
    let id_of = |name: &str| -> Result<String, ContainerError> { Ok(store.get(name)?.lock().id.clone()) };
    let mut before = None;
    let mut since = None;
    for b in values("before").iter().chain(std::iter::once(&q.before)).filter(|s| !s.is_empty()) {
        before = Some(id_of(b)?);
    }
    for s in values("since").iter().chain(std::iter::once(&q.since)).filter(|s| !s.is_empty()) {
        since = Some(id_of(s)?);
    }
    let ancestors = ancestor_images(daemon, &values("ancestor"));
    let (names, ids, labels) = (values("name"), values("id"), values("label"));

    let mut all = store.list();
    all.sort_by(|a, b| b.created.cmp(&a.created).then_with(|| b.id.cmp(&a.id)));
    let link_names = link_names(daemon, &all);
    let show_stopped = q.all || q.limit > 0 || before.is_some() || since.is_some();
    let now = SystemTime::now();
    let mut out = Vec::new();
    for c in &all {
        if !c.state.running && !show_stopped {
            continue;
        }
        let full_name = format!("/{}", c.name);
        if filters.contains_key("name") && !names.iter().any(|p| matches(p, &full_name)) {
            continue;
        }
        if filters.contains_key("id") && !ids.iter().any(|p| matches(p, &c.id)) {
            continue;
        }
        if !labels.iter().all(|l| label_matches(l, &c.config.labels)) {
            continue;
        }
        if let Some(b) = &before {
            if *b == c.id {
                before = None;
            }
            continue;
        }
        if since.as_ref().is_some_and(|s| *s == c.id) {
            break;
        }
        if q.limit > 0 && out.len() as i64 >= q.limit {
            break;
        }
        if !exited.is_empty() && (c.state.running || !exited.contains(&c.state.exit_code)) {
            continue;
        }
        if !statuses.is_empty() && !statuses.iter().any(|s| s == c.state.status()) {
            continue;
        }
        if let Some(images) = &ancestors
            && !images.contains(&c.image)
        {
            continue;
        }
        let mut summary = summary(daemon, c, q.size, now);
        summary.names.extend(link_names.get(&c.id).into_iter().flatten().cloned());
        out.push(summary);
    }
    Ok(out)
}

/// Each linked container's names as a link (`/web/db` for `--link db:db`
/// of `web`), which dockerd 1.12 lists after its own name.
fn link_names(daemon: &Daemon, all: &[Container]) -> HashMap<String, Vec<String>> {
    let mut names: HashMap<String, Vec<String>> = HashMap::new();
    for parent in all {
        for (child, alias) in crate::network::link_edges(daemon.containers(), parent) {
            names.entry(child).or_default().push(format!("/{}/{alias}", parent.name));
        }
    }
    for list in names.values_mut() {
        list.sort();
    }
    names
}

/// The image IDs an `ancestor` filter admits: each named image and every
/// image built on it. `None` when there is no such filter.
fn ancestor_images(daemon: &Daemon, names: &[String]) -> Option<HashSet<String>> {
    if names.is_empty() {
        return None;
    }
    let images = daemon.graph().images();
    let mut set = HashSet::new();
    let mut todo: Vec<String> = names.iter().filter_map(|n| daemon.graph().lookup(n).ok()).collect();
    while let Some(id) = todo.pop() {
        if set.insert(id.clone()) {
            todo.extend(images.children(&id));
        }
    }
    Some(set)
}

/// A substring match with optional `^`/`$` anchors.
fn matches(pattern: &str, value: &str) -> bool {
    let (start, p) = match pattern.strip_prefix('^') {
        Some(p) => (true, p),
        None => (false, pattern),
    };
    let (end, p) = match p.strip_suffix('$') {
        Some(p) => (true, p),
        None => (false, p),
    };
    match (start, end) {
        (true, true) => value == p,
        (true, false) => value.starts_with(p),
        (false, true) => value.ends_with(p),
        (false, false) => value.contains(p),
    }
}

/// `key` (present) or `key=value` (equal).
fn label_matches(filter: &str, labels: &BTreeMap<String, String>) -> bool {
    match filter.split_once('=') {
        Some((k, v)) => labels.get(k).is_some_and(|have| have == v),
        None => labels.contains_key(filter),
    }
}

fn summary(daemon: &Daemon, c: &Container, size: bool, now: SystemTime) -> ContainerSummary {
    // The name the user gave, unless it now means another image.
    let image = match daemon.graph().lookup(&c.config.image) {
        Ok(id) if id == c.image => c.config.image.clone(),
        _ => c.image.strip_prefix("sha256:").unwrap_or(&c.image).chars().take(12).collect(),
    };
    let ports = summary_ports(&crate::network::visible_ports(c));
    let (size_rw, size_root_fs) = if size {
        let rw = dir_size(&daemon.graph().driver().diff_dir(c.layer_id()));
        let image_size = daemon.graph().images().get(&c.image).map_or(0, |i| i.size);
        (Some(rw), Some(rw + image_size))
    } else {
        (None, None)
    };
    let networks = crate::network::networks(daemon.config(), c);
    ContainerSummary {
        id: c.id.clone(),
        names: vec![format!("/{}", c.name)],
        image,
        image_id: c.image.clone(),
        command: c.command_line(),
        created: c.created_unix(),
        ports,
        size_rw,
        size_root_fs,
        labels: c.config.labels.clone(),
        state: c.state.status().to_string(),
        status: c.state.human(now),
        host_config: SummaryHostConfig { network_mode: c.host_config.network_mode.clone() },
        network_settings: SummaryNetworkSettings { networks },
        mounts: Vec::new(),
    }
}

/// The list's `Ports` (dockerd 1.12's): one entry per host binding, one
/// without `IP` and `PublicPort` per port that is only exposed.
fn summary_ports(ports: &BTreeMap<String, Option<Vec<PortBinding>>>) -> Vec<Port> {
    let mut out = Vec::new();
    for (spec, bindings) in ports {
        let Some((private_port, kind)) = crate::network::split_port(spec) else { continue };
        let bindings = bindings.as_deref().unwrap_or_default();
        if bindings.is_empty() {
            out.push(Port { ip: String::new(), private_port, public_port: None, kind: kind.clone() });
        }
        for b in bindings {
            out.push(Port {
                ip: b.host_ip.clone(),
                private_port,
                public_port: b.host_port.parse().ok(),
                kind: kind.clone(),
            });
        }
    }
    out
}

/// Bytes under `dir`, not following links; unreadable parts count as 0.
fn dir_size(dir: &Path) -> i64 {
    let mut total = 0i64;
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for entry in entries.flatten() {
            let Ok(meta) = entry.metadata() else { continue };
            if meta.is_dir() {
                todo.push(entry.path());
            } else {
                total = total.saturating_add(meta.len() as i64);
            }
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_and_labels() {
        assert!(matches("web", "/my-web-1"));
        assert!(matches("^/web", "/web2"));
        assert!(!matches("^/web$", "/web2"));
        assert!(matches("2$", "/web2"));
        let labels: BTreeMap<String, String> = [("a".to_string(), "b".to_string())].into();
        assert!(label_matches("a", &labels));
        assert!(label_matches("a=b", &labels));
        assert!(!label_matches("a=c", &labels));
        assert!(!label_matches("c", &labels));
    }

    #[test]
    fn ports_of_the_list() {
        let b = |ip: &str, port: &str| PortBinding { host_ip: ip.into(), host_port: port.into() };
        let ports: BTreeMap<String, Option<Vec<PortBinding>>> = [
            ("80/tcp".to_string(), Some(vec![b("127.0.0.1", "8080"), b("0.0.0.0", "49153")])),
            ("53/udp".to_string(), None),
        ]
        .into();
        let json = serde_json::to_value(summary_ports(&ports)).unwrap();
        assert_eq!(
            json,
            serde_json::json!([
                {"PrivatePort": 53, "Type": "udp"},
                {"IP": "127.0.0.1", "PrivatePort": 80, "PublicPort": 8080, "Type": "tcp"},
                {"IP": "0.0.0.0", "PrivatePort": 80, "PublicPort": 49153, "Type": "tcp"},
            ])
        );
        assert!(summary_ports(&BTreeMap::new()).is_empty());
    }
}
