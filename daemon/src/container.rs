//! One container as the daemon keeps it (`daemon/container.go` and
//! `daemon/state.go` of Docker 1.2): identity, configuration, run state and
//! the paths of its files under `<root>/containers/<id>/`.
//!
//! On disk a container is `config.v2.json` (this struct, without the host
//! config) and `hostconfig.json`, both written atomically; the config is
//! written last, so a directory without it is a create that never
//! finished.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use runconfig::container::{Config, ContainerState, HostConfig, PortBinding};
use serde::{Deserialize, Serialize};

/// Go's zero time as RFC 3339, what dockerd shows for "never".
pub const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

/// File names inside a container directory.
pub const CONFIG_FILE: &str = "config.v2.json";
/// See [`CONFIG_FILE`].
pub const HOSTCONFIG_FILE: &str = "hostconfig.json";

/// Run state (`daemon/state.go`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct State {
    /// The process is running (also while paused).
    pub running: bool,
    /// Frozen.
    pub paused: bool,
    /// Waiting for its restart policy.
    pub restarting: bool,
    /// Killed by the OOM killer.
    #[serde(rename = "OOMKilled")]
    pub oom_killed: bool,
    /// Being removed.
    pub removal_in_progress: bool,
    /// Removal failed half-way.
    pub dead: bool,
    /// Host PID, 0 when not running.
    pub pid: i64,
    /// Last exit code.
    pub exit_code: i64,
    /// Why the last start failed.
    pub error: String,
    /// RFC 3339; empty = never.
    pub started_at: String,
    /// RFC 3339; empty = never.
    pub finished_at: String,
    /// What the bridge driver gave the current run (dockerd's
    /// `NetworkSettings`), kept on disk while it runs so that it can be
    /// undone at its exit; empty when it is not running.
    pub network: NetworkState,
}

impl State {
    /// The v1.24 `Status` word.
    pub fn status(&self) -> &'static str {
        if self.running {
            if self.paused {
                return "paused";
            }
            if self.restarting {
                return "restarting";
            }
            return "running";
        }
        if self.removal_in_progress {
            return "removing";
        }
        if self.dead {
            return "dead";
        }
        if self.started_at.is_empty() {
            return "created";
        }
        "exited"
    }

    /// The list's human `Status` column (`State.String` of dockerd).
    pub fn human(&self, now: SystemTime) -> String {
        let ago = |t: &str| {
            humantime::parse_rfc3339_weak(t)
                .ok()
                .and_then(|t| now.duration_since(t).ok())
                .map(human_duration)
                .unwrap_or_else(|| "Less than a second".to_string())
        };
        if self.running {
            if self.paused {
                return format!("Up {} (Paused)", ago(&self.started_at));
            }
            if self.restarting {
                return format!("Restarting ({}) {} ago", self.exit_code, ago(&self.finished_at));
            }
            return format!("Up {}", ago(&self.started_at));
        }
        if self.removal_in_progress {
            return "Removal In Progress".to_string();
        }
        if self.dead {
            return "Dead".to_string();
        }
        if self.started_at.is_empty() {
            return "Created".to_string();
        }
        if self.finished_at.is_empty() {
            return String::new();
        }
        format!("Exited ({}) {} ago", self.exit_code, ago(&self.finished_at))
    }

    /// The inspect shape.
    pub fn to_wire(&self) -> ContainerState {
        let or_zero = |t: &str| if t.is_empty() { ZERO_TIME.to_string() } else { t.to_string() };
        ContainerState {
            status: self.status().to_string(),
            running: self.running,
            paused: self.paused,
            restarting: self.restarting,
            oom_killed: self.oom_killed,
            dead: self.dead,
            pid: self.pid,
            exit_code: self.exit_code,
            error: self.error.clone(),
            started_at: or_zero(&self.started_at),
            finished_at: or_zero(&self.finished_at),
        }
    }
}

/// Go's `units.HumanDuration`: `Less than a second`, `About a minute`,
/// `5 minutes`, `About an hour`, `3 hours`, `2 days`, `3 weeks`, ...
pub fn human_duration(d: Duration) -> String {
    let secs = d.as_secs();
    let hours = secs / 3600;
    match secs {
        0 => "Less than a second".to_string(),
        1 => "1 second".to_string(),
        s if s < 60 => format!("{s} seconds"),
        s if s / 60 == 1 => "About a minute".to_string(),
        s if s < 3600 => format!("{} minutes", s / 60),
        _ if hours == 1 => "About an hour".to_string(),
        _ if hours < 48 => format!("{hours} hours"),
        _ if hours < 24 * 7 * 2 => format!("{} days", hours / 24),
        _ if hours < 24 * 30 * 2 => format!("{} weeks", hours / 24 / 7),
        _ if hours < 24 * 365 * 2 => format!("{} months", hours / 24 / 30),
        _ => format!("{} years", hours / 24 / 365),
    }
}

/// RFC 3339 with nanoseconds, trailing zeros of the fraction trimmed, as
/// Go's `RFC3339Nano` writes it.
pub fn rfc3339_nano(t: SystemTime) -> String {
    let s = humantime::format_rfc3339_nanos(t).to_string();
    match s.strip_suffix('Z').and_then(|s| s.split_once('.')) {
        Some((whole, frac)) => {
            let frac = frac.trim_end_matches('0');
            if frac.is_empty() { format!("{whole}Z") } else { format!("{whole}.{frac}Z") }
        }
        None => s,
    }
}

/// A container.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Container {
    /// 64 hex.
    #[serde(rename = "ID")]
    pub id: String,
    /// RFC 3339 with nanoseconds.
    pub created: String,
    /// The program.
    pub path: String,
    /// Its arguments.
    pub args: Vec<String>,
    /// The merged config.
    pub config: Config,
    /// `sha256:<hex>`.
    pub image: String,
    /// Name without the leading `/`.
    pub name: String,
    /// Storage driver that holds its layer.
    pub driver: String,
    /// Restarts done by the restart policy.
    pub restart_count: i64,
    /// The user stopped or killed the last run: `unless-stopped` does not
    /// bring it back when the daemon starts (dockerd's field).
    pub has_been_manually_stopped: bool,
    /// Run state.
    pub state: State,
    /// Host configuration (kept in `hostconfig.json`, not in the config file).
    #[serde(skip)]
    pub host_config: HostConfig,
    /// Endpoint settings as the create body gave them.
    pub networking_config: Option<serde_json::Value>,
    /// Volumes and binds by container path (dockerd's `MountPoints`),
    /// decided at create and kept with the config, so a restarted daemon
    /// mounts the same volumes.
    pub mount_points: BTreeMap<String, MountPoint>,
}

/// The network of one run of a bridged container, kept with the config so
/// that it is on disk while the container runs and can be undone at its
/// exit. Empty (the default) when the container has no bridge address.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct NetworkState {
    /// The host bridge (`docker0`).
    pub bridge: String,
    /// The container's IPv4 address; empty = no bridge allocation.
    #[serde(rename = "IPAddress")]
    pub ip_address: String,
    /// Its prefix length.
    #[serde(rename = "IPPrefixLen")]
    pub ip_prefix_len: i64,
    /// The bridge's address.
    pub gateway: String,
    /// `02:42:` and the address's bytes.
    pub mac_address: String,
    /// Random per run, as a libnetwork endpoint's ID is.
    #[serde(rename = "EndpointID")]
    pub endpoint_id: String,
    /// Every exposed or published port: its host bindings, `None` for a
    /// port that is exposed only.
    pub ports: BTreeMap<String, Option<Vec<PortBinding>>>,
    /// The links whose iptables rules were added at start (`--icc=false`),
    /// removed again at the exit.
    pub active_links: Vec<ActiveLink>,
}

/// One link opened in iptables (the arguments of the `link` job).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ActiveLink {
    /// The linked container's address.
    #[serde(rename = "ChildIP")]
    pub child_ip: String,
    /// Its exposed ports, `port/proto`.
    pub ports: Vec<String>,
}

impl NetworkState {
    /// The container holds a bridge address (and so has to release it).
    pub fn is_allocated(&self) -> bool {
        !self.ip_address.is_empty()
    }
}

/// One volume or bind of a container (dockerd's `volume.MountPoint`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct MountPoint {
    /// The host directory: a bind's source, a volume's `_data`.
    pub source: String,
    /// Where it appears in the container.
    pub destination: String,
    /// Writable.
    #[serde(rename = "RW")]
    pub rw: bool,
    /// The volume's name (64 hex for an anonymous one); empty for a bind.
    pub name: String,
    /// `local` for a volume; empty for a bind.
    pub driver: String,
    /// The mode as the user wrote it (`ro`, `rw`, `z`, ...).
    pub mode: String,
    /// Bind propagation as inspect shows it.
    pub propagation: String,
    /// A volume the user named (`-v name:/ctr`): shared by name, and kept
    /// by `rm -v` as today's dockerd does.
    pub named: bool,
}

impl MountPoint {
    /// A volume (as opposed to a bind of a host path).
    pub fn is_volume(&self) -> bool {
        !self.name.is_empty()
    }
}

impl Container {
    /// The first 12 hex digits.
    pub fn short_id(&self) -> &str {
        self.id.get(..12).unwrap_or(&self.id)
    }

    /// The container's graph-driver layer name.
    pub fn layer_id(&self) -> &str {
        &self.id
    }

    /// `<containers>/<id>`.
    pub fn dir(&self, containers: &Path) -> PathBuf {
        containers.join(&self.id)
    }

    /// The json-file log.
    pub fn log_path(&self, containers: &Path) -> PathBuf {
        self.dir(containers).join(format!("{}-json.log", self.id))
    }

    /// `ps`'s `Command` column: path and args, an argument holding a space
    /// wrapped in single quotes.
    pub fn command_line(&self) -> String {
        std::iter::once(self.path.clone())
            .chain(self.args.iter().map(|a| if a.contains(' ') { format!("'{a}'") } else { a.clone() }))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Unix seconds of `created`.
    pub fn created_unix(&self) -> i64 {
        humantime::parse_rfc3339_weak(&self.created)
            .ok()
            .and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_secs() as i64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_words_and_columns() {
        let now = SystemTime::now();
        let mut s = State::default();
        assert_eq!((s.status(), s.human(now).as_str()), ("created", "Created"));
        s.started_at = rfc3339_nano(now - Duration::from_secs(130));
        s.running = true;
        assert_eq!((s.status(), s.human(now).as_str()), ("running", "Up 2 minutes"));
        s.paused = true;
        assert_eq!(s.human(now), "Up 2 minutes (Paused)");
        s = State { started_at: s.started_at, finished_at: rfc3339_nano(now - Duration::from_secs(3)), ..s };
        s.running = false;
        s.paused = false;
        s.exit_code = 3;
        assert_eq!((s.status(), s.human(now).as_str()), ("exited", "Exited (3) 3 seconds ago"));
        assert_eq!(State::default().to_wire().started_at, ZERO_TIME);
    }

    #[test]
    fn human_durations() {
        let h = |s| human_duration(Duration::from_secs(s));
        assert_eq!(h(0), "Less than a second");
        assert_eq!(h(59), "59 seconds");
        assert_eq!(h(61), "About a minute");
        assert_eq!(h(3600 * 5), "5 hours");
        assert_eq!(h(3600 * 24 * 3), "3 days");
    }

    #[test]
    fn times_and_commands() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_millis(1_500);
        assert_eq!(rfc3339_nano(t), "1970-01-01T00:00:01.5Z");
        assert_eq!(rfc3339_nano(SystemTime::UNIX_EPOCH), "1970-01-01T00:00:00Z");
        let c = Container {
            path: "echo".into(),
            args: vec!["hello world".into(), "x".into()],
            created: "1970-01-01T00:00:10.5Z".into(),
            ..Default::default()
        };
        assert_eq!(c.command_line(), "echo 'hello world' x");
        assert_eq!(c.created_unix(), 10);
    }
}
