//! Container wire types of Remote API v1.24 (`runconfig/config.go`,
//! `runconfig/hostconfig.go` of Docker 1.2, with the fields Docker 1.12
//! added): the create body, `Config`, `HostConfig`, and the response shapes
//! of `GET /containers/{id}/json` and `GET /containers/json`.
//!
//! Decoding is lenient where clients differ: every field may be absent or
//! `null` (the CLI sends `null` for empty lists, docker-py omits most keys),
//! `Cmd`, `Entrypoint`, `Dns`, `DnsSearch` and `VolumesFrom` may be one
//! string instead of a list, a `HostPort` may be a number, and unknown keys
//! are ignored. A value of the wrong type is still an error (400), never a
//! silent drop of the whole object as Docker 1.2 did for `PortBindings`.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use crate::image::GraphDriverData;

/// `null` or absent → the type's default.
fn nullable<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// A string list that may arrive as one string (`"Cmd": "sh"`), a list, or
/// `null`.
fn str_or_list<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<Option<String>>),
    }
    Ok(match Option::<OneOrMany>::deserialize(d)? {
        None => None,
        Some(OneOrMany::One(s)) => Some(vec![s]),
        Some(OneOrMany::Many(v)) => Some(v.into_iter().map(Option::unwrap_or_default).collect()),
    })
}

/// A port number that may arrive as a string (the documented form) or a
/// number (some clients).
fn string_or_number<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum StrNum {
        Str(String),
        Num(u64),
    }
    Ok(match Option::<StrNum>::deserialize(d)? {
        None => String::new(),
        Some(StrNum::Str(s)) => s,
        Some(StrNum::Num(n)) => n.to_string(),
    })
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// A container's configuration: what runs and how it is attached
/// (`container.Config`). Stored with the container after the merge with
/// the image's config.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Config {
    /// Host name; empty → the short ID.
    #[serde(deserialize_with = "nullable")]
    pub hostname: String,
    /// Domain name.
    #[serde(deserialize_with = "nullable")]
    pub domainname: String,
    /// `user[:group]`.
    #[serde(deserialize_with = "nullable")]
    pub user: String,
    /// Attach stdin.
    #[serde(deserialize_with = "nullable")]
    pub attach_stdin: bool,
    /// Attach stdout.
    #[serde(deserialize_with = "nullable")]
    pub attach_stdout: bool,
    /// Attach stderr.
    #[serde(deserialize_with = "nullable")]
    pub attach_stderr: bool,
    /// `{"80/tcp": {}}`.
    #[serde(deserialize_with = "nullable", skip_serializing_if = "Option::is_none")]
    pub exposed_ports: Option<BTreeMap<String, Value>>,
    /// Allocate a pty.
    #[serde(deserialize_with = "nullable")]
    pub tty: bool,
    /// Keep stdin open.
    #[serde(deserialize_with = "nullable")]
    pub open_stdin: bool,
    /// Close stdin after the first attach ends.
    #[serde(deserialize_with = "nullable")]
    pub stdin_once: bool,
    /// `KEY=value` entries.
    #[serde(deserialize_with = "nullable")]
    pub env: Option<Vec<String>>,
    /// The command (after the entrypoint).
    #[serde(deserialize_with = "str_or_list")]
    pub cmd: Option<Vec<String>>,
    /// Health check (stored, not run).
    #[serde(deserialize_with = "nullable", skip_serializing_if = "Option::is_none")]
    pub healthcheck: Option<Value>,
    /// Windows only; kept for round trips.
    #[serde(deserialize_with = "nullable", skip_serializing_if = "Option::is_none")]
    pub args_escaped: Option<bool>,
    /// The image as the user named it.
    #[serde(deserialize_with = "nullable")]
    pub image: String,
    /// `{"/data": {}}`.
    #[serde(deserialize_with = "nullable")]
    pub volumes: Option<BTreeMap<String, Value>>,
    /// Working directory.
    #[serde(deserialize_with = "nullable")]
    pub working_dir: String,
    /// The entrypoint.
    #[serde(deserialize_with = "str_or_list")]
    pub entrypoint: Option<Vec<String>>,
    /// No network at all.
    #[serde(deserialize_with = "nullable", skip_serializing_if = "is_false")]
    pub network_disabled: bool,
    /// MAC address of the container's interface.
    #[serde(deserialize_with = "nullable", skip_serializing_if = "String::is_empty")]
    pub mac_address: String,
    /// Build triggers (images only).
    #[serde(deserialize_with = "nullable")]
    pub on_build: Option<Vec<String>>,
    /// Labels.
    #[serde(deserialize_with = "nullable")]
    pub labels: BTreeMap<String, String>,
    /// Signal that stops the container.
    #[serde(deserialize_with = "nullable", skip_serializing_if = "String::is_empty")]
    pub stop_signal: String,
}

impl Config {
    /// Reads an image's `config` object; an absent or malformed one is empty
    /// (an image is never refused over it: the user's own config decides).
    pub fn from_image(value: &Value) -> Config {
        serde_json::from_value(value.clone()).unwrap_or_default()
    }

    /// Fills what the user left empty from the image's config, as dockerd
    /// does (`runconfig/merge.go` and `daemon/create.go`): `User`,
    /// `WorkingDir`, `StopSignal`, `Healthcheck` when empty; `ExposedPorts`,
    /// `Volumes` and `Labels` as unions (the user's value wins for a key);
    /// `Env` gains the image's entries for keys the user did not set;
    /// `Entrypoint` from the image when none is given, and `Cmd` from the
    /// image only when neither `Cmd` nor `Entrypoint` is given (a new
    /// entrypoint must not run the image's command as its arguments).
    pub fn merge_image(&mut self, image: &Config) {
        if self.user.is_empty() {
            self.user.clone_from(&image.user);
        }
        if let Some(ports) = &image.exposed_ports {
            let mine = self.exposed_ports.get_or_insert_with(BTreeMap::new);
            for (port, v) in ports {
                mine.entry(port.clone()).or_insert_with(|| v.clone());
            }
        }
        if let Some(image_env) = &image.env {
            let mine = self.env.get_or_insert_with(Vec::new);
            let key = |e: &str| e.split_once('=').map_or(e, |(k, _)| k).to_string();
            let have: std::collections::HashSet<String> = mine.iter().map(|e| key(e)).collect();
            let inherited: Vec<String> = image_env.iter().filter(|e| !have.contains(&key(e))).cloned().collect();
            // Image entries first, as dockerd lists them.
            let mut env = inherited;
            env.append(mine);
            *mine = env;
        }
        let empty = |v: &Option<Vec<String>>| v.as_ref().is_none_or(Vec::is_empty);
        if empty(&self.entrypoint) {
            if empty(&self.cmd) {
                self.cmd.clone_from(&image.cmd);
                self.args_escaped = image.args_escaped;
            }
            if self.entrypoint.is_none() {
                self.entrypoint.clone_from(&image.entrypoint);
            }
        }
        if self.healthcheck.is_none() {
            self.healthcheck.clone_from(&image.healthcheck);
        }
        if self.working_dir.is_empty() {
            self.working_dir.clone_from(&image.working_dir);
        }
        if let Some(volumes) = &image.volumes {
            let mine = self.volumes.get_or_insert_with(BTreeMap::new);
            for (path, v) in volumes {
                mine.entry(path.clone()).or_insert_with(|| v.clone());
            }
        }
        if self.stop_signal.is_empty() {
            self.stop_signal.clone_from(&image.stop_signal);
        }
        for (k, v) in &image.labels {
            self.labels.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }

    /// The process to run: (path, args) from `Entrypoint` + `Cmd`; `None`
    /// when both are empty.
    pub fn entrypoint_and_args(&self) -> Option<(String, Vec<String>)> {
        let mut argv: Vec<String> =
            self.entrypoint.iter().flatten().chain(self.cmd.iter().flatten()).cloned().collect();
        if argv.is_empty() {
            return None;
        }
        let path = argv.remove(0);
        Some((path, argv))
    }
}

/// `LogConfig`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct LogConfig {
    /// Driver name; only `json-file` exists here.
    #[serde(deserialize_with = "nullable")]
    pub r#type: String,
    /// Driver options.
    #[serde(deserialize_with = "nullable")]
    pub config: BTreeMap<String, String>,
}

/// `RestartPolicy`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct RestartPolicy {
    /// `""`, `no`, `always`, `unless-stopped`, `on-failure`.
    #[serde(deserialize_with = "nullable")]
    pub name: String,
    /// For `on-failure`.
    #[serde(deserialize_with = "nullable")]
    pub maximum_retry_count: i64,
}

/// One host binding of a container port.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct PortBinding {
    /// Host address; empty = all.
    #[serde(deserialize_with = "nullable")]
    pub host_ip: String,
    /// Host port; empty = any.
    #[serde(deserialize_with = "string_or_number")]
    pub host_port: String,
}

/// A device made available in the container.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DeviceMapping {
    /// Device on the host.
    #[serde(deserialize_with = "nullable")]
    pub path_on_host: String,
    /// Where it appears in the container.
    #[serde(deserialize_with = "nullable")]
    pub path_in_container: String,
    /// `rwm` subset.
    #[serde(deserialize_with = "nullable")]
    pub cgroup_permissions: String,
}

/// A resource limit (`--ulimit`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Ulimit {
    /// `nofile`, `nproc`, ...
    #[serde(deserialize_with = "nullable")]
    pub name: String,
    /// Soft limit.
    #[serde(deserialize_with = "nullable")]
    pub soft: i64,
    /// Hard limit.
    #[serde(deserialize_with = "nullable")]
    pub hard: i64,
}

/// How the container relates to the host (`container.HostConfig`): binds,
/// network, restart policy, resources. Read from the create body (today's
/// clients never send it to start).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct HostConfig {
    /// `host:container[:ro|rw]`.
    #[serde(deserialize_with = "str_or_list")]
    pub binds: Option<Vec<String>>,
    /// Client-side concept, stored only.
    #[serde(rename = "ContainerIDFile", deserialize_with = "nullable")]
    pub container_id_file: String,
    /// Logging driver.
    #[serde(deserialize_with = "nullable")]
    pub log_config: LogConfig,
    /// `bridge`, `host`, `none`, `container:<id>`, `default`.
    #[serde(deserialize_with = "nullable")]
    pub network_mode: String,
    /// `{"80/tcp": [{"HostIp":"","HostPort":"8080"}]}`.
    #[serde(deserialize_with = "nullable")]
    pub port_bindings: Option<BTreeMap<String, Option<Vec<PortBinding>>>>,
    /// Restart policy.
    #[serde(deserialize_with = "nullable")]
    pub restart_policy: RestartPolicy,
    /// Remove when the process exits (API 1.25; the client does it at 1.24).
    #[serde(deserialize_with = "nullable")]
    pub auto_remove: bool,
    /// Volume driver.
    #[serde(deserialize_with = "nullable")]
    pub volume_driver: String,
    /// `container[:ro|rw]`.
    #[serde(deserialize_with = "str_or_list")]
    pub volumes_from: Option<Vec<String>>,
    /// Capabilities to add.
    #[serde(deserialize_with = "str_or_list")]
    pub cap_add: Option<Vec<String>>,
    /// Capabilities to drop.
    #[serde(deserialize_with = "str_or_list")]
    pub cap_drop: Option<Vec<String>>,
    /// DNS servers.
    #[serde(deserialize_with = "str_or_list")]
    pub dns: Option<Vec<String>>,
    /// DNS options.
    #[serde(deserialize_with = "str_or_list")]
    pub dns_options: Option<Vec<String>>,
    /// DNS search domains.
    #[serde(deserialize_with = "str_or_list")]
    pub dns_search: Option<Vec<String>>,
    /// `host:ip` lines for /etc/hosts.
    #[serde(deserialize_with = "str_or_list")]
    pub extra_hosts: Option<Vec<String>>,
    /// Extra groups.
    #[serde(deserialize_with = "str_or_list")]
    pub group_add: Option<Vec<String>>,
    /// IPC namespace mode.
    #[serde(deserialize_with = "nullable")]
    pub ipc_mode: String,
    /// Cgroup to join.
    #[serde(deserialize_with = "nullable")]
    pub cgroup: String,
    /// `name:alias`.
    #[serde(deserialize_with = "str_or_list")]
    pub links: Option<Vec<String>>,
    /// OOM score adjustment.
    #[serde(deserialize_with = "nullable")]
    pub oom_score_adj: i64,
    /// PID namespace mode.
    #[serde(deserialize_with = "nullable")]
    pub pid_mode: String,
    /// All capabilities and devices.
    #[serde(deserialize_with = "nullable")]
    pub privileged: bool,
    /// `-P`.
    #[serde(deserialize_with = "nullable")]
    pub publish_all_ports: bool,
    /// Read-only root file system.
    #[serde(deserialize_with = "nullable")]
    pub readonly_rootfs: bool,
    /// Security options.
    #[serde(deserialize_with = "str_or_list")]
    pub security_opt: Option<Vec<String>>,
    /// UTS namespace mode.
    #[serde(rename = "UTSMode", deserialize_with = "nullable")]
    pub uts_mode: String,
    /// User namespace mode.
    #[serde(deserialize_with = "nullable")]
    pub userns_mode: String,
    /// Size of /dev/shm in bytes.
    #[serde(deserialize_with = "nullable")]
    pub shm_size: i64,
    /// `[height, width]` of the initial tty.
    #[serde(deserialize_with = "nullable")]
    pub console_size: [u64; 2],
    /// Windows only.
    #[serde(deserialize_with = "nullable")]
    pub isolation: String,
    /// Relative CPU weight.
    #[serde(deserialize_with = "nullable")]
    pub cpu_shares: i64,
    /// Memory limit in bytes.
    #[serde(deserialize_with = "nullable")]
    pub memory: i64,
    /// Parent cgroup.
    #[serde(deserialize_with = "nullable")]
    pub cgroup_parent: String,
    /// Block I/O weight.
    #[serde(deserialize_with = "nullable")]
    pub blkio_weight: i64,
    /// Per-device weights.
    #[serde(deserialize_with = "nullable")]
    pub blkio_weight_device: Option<Vec<Value>>,
    /// Per-device read rate.
    #[serde(rename = "BlkioDeviceReadBps", deserialize_with = "nullable")]
    pub blkio_device_read_bps: Option<Vec<Value>>,
    /// Per-device write rate.
    #[serde(rename = "BlkioDeviceWriteBps", deserialize_with = "nullable")]
    pub blkio_device_write_bps: Option<Vec<Value>>,
    /// Per-device read IOPS.
    #[serde(rename = "BlkioDeviceReadIOps", deserialize_with = "nullable")]
    pub blkio_device_read_iops: Option<Vec<Value>>,
    /// Per-device write IOPS.
    #[serde(rename = "BlkioDeviceWriteIOps", deserialize_with = "nullable")]
    pub blkio_device_write_iops: Option<Vec<Value>>,
    /// CFS period.
    #[serde(deserialize_with = "nullable")]
    pub cpu_period: i64,
    /// CFS quota.
    #[serde(deserialize_with = "nullable")]
    pub cpu_quota: i64,
    /// CPUs allowed (`0-2`, `0,1`).
    #[serde(deserialize_with = "nullable")]
    pub cpuset_cpus: String,
    /// Memory nodes allowed.
    #[serde(deserialize_with = "nullable")]
    pub cpuset_mems: String,
    /// Devices.
    #[serde(deserialize_with = "nullable")]
    pub devices: Option<Vec<DeviceMapping>>,
    /// Kernel memory limit.
    #[serde(deserialize_with = "nullable")]
    pub kernel_memory: i64,
    /// Soft memory limit.
    #[serde(deserialize_with = "nullable")]
    pub memory_reservation: i64,
    /// Memory + swap; `-1` = unlimited swap.
    #[serde(deserialize_with = "nullable")]
    pub memory_swap: i64,
    /// 0–100; `-1` (or absent) = the kernel's default.
    #[serde(deserialize_with = "nullable")]
    pub memory_swappiness: Option<i64>,
    /// Disable the OOM killer.
    #[serde(deserialize_with = "nullable")]
    pub oom_kill_disable: bool,
    /// Maximum number of processes; 0 = unlimited.
    #[serde(deserialize_with = "nullable")]
    pub pids_limit: i64,
    /// Resource limits.
    #[serde(deserialize_with = "nullable")]
    pub ulimits: Option<Vec<Ulimit>>,
}

/// Below this, a memory limit is refused (dockerd's `linuxMinMemory`).
pub const MIN_MEMORY: i64 = 4 * 1024 * 1024;

/// The body of `POST /containers/create`: the `Config` fields at the top
/// level, plus `HostConfig` and `NetworkingConfig`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateRequest {
    /// Resource fields that API < 1.18 clients put in the Config itself.
    #[serde(default, deserialize_with = "nullable")]
    pub memory: i64,
    /// See `memory`.
    #[serde(default, deserialize_with = "nullable")]
    pub memory_swap: i64,
    /// See `memory`.
    #[serde(default, deserialize_with = "nullable")]
    pub cpu_shares: i64,
    /// See `memory` (the 1.2 name of `CpusetCpus`).
    #[serde(default, deserialize_with = "nullable")]
    pub cpuset: String,
    /// The host configuration.
    #[serde(default, deserialize_with = "nullable")]
    pub host_config: Option<HostConfig>,
    /// Endpoint settings per network (kept for inspect).
    #[serde(default, deserialize_with = "nullable")]
    pub networking_config: Option<Value>,
    /// Everything else is the Config.
    #[serde(flatten)]
    pub config: Config,
}

impl CreateRequest {
    /// Parses a create body.
    pub fn parse(body: &str) -> Result<CreateRequest, serde_json::Error> {
        serde_json::from_str(body)
    }

    /// The host config, with the legacy top-level resource fields moved in
    /// where the host config does not set them.
    pub fn host_config(&self) -> HostConfig {
        let mut hc = self.host_config.clone().unwrap_or_default();
        if hc.memory == 0 {
            hc.memory = self.memory;
        }
        if hc.memory_swap == 0 {
            hc.memory_swap = self.memory_swap;
        }
        if hc.cpu_shares == 0 {
            hc.cpu_shares = self.cpu_shares;
        }
        if hc.cpuset_cpus.is_empty() {
            hc.cpuset_cpus.clone_from(&self.cpuset);
        }
        hc
    }
}

/// The 201 answer of create.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateResponse {
    /// The new container's 64-hex ID.
    pub id: String,
    /// Warnings (never `null`: today's dockerd sends `[]`).
    pub warnings: Vec<String>,
}

/// `State` of inspect.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerState {
    /// `created`, `running`, `paused`, `restarting`, `removing`, `exited`, `dead`.
    pub status: String,
    /// Running (also while paused).
    pub running: bool,
    /// Frozen.
    pub paused: bool,
    /// Waiting to be restarted by its policy.
    pub restarting: bool,
    /// Killed by the OOM killer.
    #[serde(rename = "OOMKilled")]
    pub oom_killed: bool,
    /// Could not be removed.
    pub dead: bool,
    /// Host PID of the process, 0 when not running.
    pub pid: i64,
    /// Last exit code.
    pub exit_code: i64,
    /// Why the last start failed.
    pub error: String,
    /// RFC 3339 (Go's zero time if never started).
    pub started_at: String,
    /// RFC 3339 (Go's zero time if never stopped).
    pub finished_at: String,
}

/// One entry of inspect's `Mounts` and the list's `Mounts`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MountPoint {
    /// `volume` or `bind` (API 1.25's field; today's clients read it).
    #[serde(rename = "Type", skip_serializing_if = "String::is_empty", default)]
    pub kind: String,
    /// Volume name (empty for binds).
    #[serde(skip_serializing_if = "String::is_empty", default)]
    pub name: String,
    /// Host path.
    pub source: String,
    /// Container path.
    pub destination: String,
    /// Volume driver.
    #[serde(skip_serializing_if = "String::is_empty", default)]
    pub driver: String,
    /// `ro`, `rw`, `z`, ...
    pub mode: String,
    /// Writable.
    #[serde(rename = "RW")]
    pub rw: bool,
    /// Bind propagation.
    pub propagation: String,
}

/// `NetworkSettings` of inspect (v1.24).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct NetworkSettings {
    /// Bridge name.
    pub bridge: String,
    /// Sandbox ID.
    #[serde(rename = "SandboxID")]
    pub sandbox_id: String,
    /// Hairpin NAT.
    pub hairpin_mode: bool,
    /// Link-local IPv6.
    #[serde(rename = "LinkLocalIPv6Address")]
    pub link_local_ipv6_address: String,
    /// Its prefix length.
    #[serde(rename = "LinkLocalIPv6PrefixLen")]
    pub link_local_ipv6_prefix_len: i64,
    /// Published ports (`{}` when none, never `null`).
    pub ports: BTreeMap<String, Option<Vec<PortBinding>>>,
    /// Network namespace path.
    pub sandbox_key: String,
    /// Extra addresses.
    #[serde(rename = "SecondaryIPAddresses")]
    pub secondary_ip_addresses: Option<Vec<Value>>,
    /// Extra IPv6 addresses.
    #[serde(rename = "SecondaryIPv6Addresses")]
    pub secondary_ipv6_addresses: Option<Vec<Value>>,
    /// Default endpoint ID.
    #[serde(rename = "EndpointID")]
    pub endpoint_id: String,
    /// Gateway.
    pub gateway: String,
    /// Global IPv6 address.
    #[serde(rename = "GlobalIPv6Address")]
    pub global_ipv6_address: String,
    /// Its prefix length.
    #[serde(rename = "GlobalIPv6PrefixLen")]
    pub global_ipv6_prefix_len: i64,
    /// IPv4 address.
    #[serde(rename = "IPAddress")]
    pub ip_address: String,
    /// Its prefix length.
    #[serde(rename = "IPPrefixLen")]
    pub ip_prefix_len: i64,
    /// IPv6 gateway.
    #[serde(rename = "IPv6Gateway")]
    pub ipv6_gateway: String,
    /// MAC address.
    pub mac_address: String,
    /// Endpoint settings per network.
    pub networks: BTreeMap<String, Value>,
}

/// `GET /containers/{id}/json` at v1.24. Every sub-object is present:
/// today's CLI dereferences `Config`, `HostConfig`, `NetworkSettings` and
/// `State` without checking, and docker-py reads `State.Status`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerJson {
    /// 64 hex.
    pub id: String,
    /// RFC 3339 with nanoseconds.
    pub created: String,
    /// The program.
    pub path: String,
    /// Its arguments.
    pub args: Vec<String>,
    /// Run state.
    pub state: ContainerState,
    /// `sha256:<hex>`.
    pub image: String,
    /// Host path of the container's resolv.conf.
    pub resolv_conf_path: String,
    /// Host path of its hostname file.
    pub hostname_path: String,
    /// Host path of its hosts file.
    pub hosts_path: String,
    /// Host path of its json-file log.
    pub log_path: String,
    /// `/name`.
    pub name: String,
    /// Restarts done by the restart policy.
    pub restart_count: i64,
    /// Storage driver.
    pub driver: String,
    /// SELinux mount label.
    pub mount_label: String,
    /// SELinux process label.
    pub process_label: String,
    /// AppArmor profile.
    pub app_armor_profile: String,
    /// Running execs.
    #[serde(rename = "ExecIDs")]
    pub exec_ids: Option<Vec<String>>,
    /// The host configuration.
    pub host_config: HostConfig,
    /// Where the container's layer lives.
    pub graph_driver: GraphDriverData,
    /// Size of the container layer (only with `size`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub size_rw: Option<i64>,
    /// Size of the whole rootfs (only with `size`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub size_root_fs: Option<i64>,
    /// Volumes and binds (`[]`, never `null`).
    pub mounts: Vec<MountPoint>,
    /// The merged config.
    pub config: Config,
    /// Network state.
    pub network_settings: NetworkSettings,
}

/// `HostConfig` of a list entry.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SummaryHostConfig {
    /// The network mode.
    pub network_mode: String,
}

/// `NetworkSettings` of a list entry.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SummaryNetworkSettings {
    /// Endpoint settings per network.
    pub networks: BTreeMap<String, Value>,
}

/// A published or exposed port of a list entry.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Port {
    /// Host address, when published.
    #[serde(rename = "IP", skip_serializing_if = "String::is_empty", default)]
    pub ip: String,
    /// Container port.
    #[serde(rename = "PrivatePort")]
    pub private_port: u16,
    /// Host port, when published.
    #[serde(rename = "PublicPort", skip_serializing_if = "Option::is_none", default)]
    pub public_port: Option<u16>,
    /// `tcp` or `udp`.
    #[serde(rename = "Type")]
    pub kind: String,
}

/// One element of `GET /containers/json` (v1.24).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerSummary {
    /// 64 hex.
    pub id: String,
    /// `["/name"]`.
    pub names: Vec<String>,
    /// The image as the user named it.
    pub image: String,
    /// `sha256:<hex>`.
    #[serde(rename = "ImageID")]
    pub image_id: String,
    /// `path args...`.
    pub command: String,
    /// Unix seconds.
    pub created: i64,
    /// Ports (`[]` when none).
    pub ports: Vec<Port>,
    /// Size of the container layer (only with `size`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub size_rw: Option<i64>,
    /// Size of the whole rootfs (only with `size`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub size_root_fs: Option<i64>,
    /// Labels (`{}` when none).
    pub labels: BTreeMap<String, String>,
    /// `created`, `running`, ...
    pub state: String,
    /// `Up 2 minutes`, `Exited (0) 3 seconds ago`, `Created`.
    pub status: String,
    /// Network mode.
    pub host_config: SummaryHostConfig,
    /// Networks.
    pub network_settings: SummaryNetworkSettings,
    /// Mounts (`[]` when none).
    pub mounts: Vec<MountPoint>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The body CLI v28 sends (client-compat §3.1), trimmed of nothing.
    const CLI_BODY: &str = r#"{"Hostname":"","Domainname":"","User":"","AttachStdin":false,"AttachStdout":true,"AttachStderr":true,
 "Tty":false,"OpenStdin":false,"StdinOnce":false,"Env":null,"Cmd":["echo","hi"],"Image":"busybox",
 "Volumes":{},"WorkingDir":"","Entrypoint":null,"OnBuild":null,"Labels":{"a":"b"},
 "HostConfig":{"Binds":null,"ContainerIDFile":"","LogConfig":{"Type":"","Config":{}},"NetworkMode":"none",
   "PortBindings":{},"RestartPolicy":{"Name":"no","MaximumRetryCount":0},"AutoRemove":false,"VolumeDriver":"",
   "VolumesFrom":null,"ConsoleSize":[0,0],"CapAdd":null,"CapDrop":null,"CgroupnsMode":"","Dns":[],
   "DnsOptions":[],"DnsSearch":[],"ExtraHosts":null,"GroupAdd":null,"IpcMode":"","Cgroup":"","Links":null,
   "OomScoreAdj":0,"PidMode":"","Privileged":false,"PublishAllPorts":false,"ReadonlyRootfs":false,
   "SecurityOpt":null,"UTSMode":"","UsernsMode":"","ShmSize":0,"Isolation":"","CpuShares":0,"Memory":0,
   "NanoCpus":0,"CgroupParent":"","BlkioWeight":0,"BlkioWeightDevice":[],"BlkioDeviceReadBps":[],
   "BlkioDeviceWriteBps":[],"BlkioDeviceReadIOps":[],"BlkioDeviceWriteIOps":[],"CpuPeriod":0,"CpuQuota":0,
   "CpuRealtimePeriod":0,"CpuRealtimeRuntime":0,"CpusetCpus":"","CpusetMems":"","Devices":[],
   "DeviceCgroupRules":null,"DeviceRequests":null,"MemoryReservation":0,"MemorySwap":0,"MemorySwappiness":-1,
   "OomKillDisable":false,"PidsLimit":0,"Ulimits":[],"CpuCount":0,"CpuPercent":0,"IOMaximumIOps":0,
   "IOMaximumBandwidth":0,"MaskedPaths":null,"ReadonlyPaths":null},
 "NetworkingConfig":{"EndpointsConfig":{}}}"#;

    #[test]
    fn parses_the_cli_body() {
        let req = CreateRequest::parse(CLI_BODY).unwrap();
        assert_eq!(req.config.image, "busybox");
        assert_eq!(req.config.cmd.as_deref(), Some(&["echo".to_string(), "hi".to_string()][..]));
        assert_eq!(req.config.labels["a"], "b");
        let hc = req.host_config();
        assert_eq!(hc.network_mode, "none");
        assert_eq!(hc.restart_policy.name, "no");
        assert_eq!(hc.memory_swappiness, Some(-1));
    }

    #[test]
    fn tolerates_nulls_strings_and_numbers() {
        let body = r#"{"Image":"x","Hostname":null,"Tty":null,"Cmd":"sh","Entrypoint":"/init","Labels":null,
            "HostConfig":{"Dns":"8.8.8.8","PortBindings":{"80/tcp":[{"HostIp":null,"HostPort":8080}],"81/tcp":null},
            "LogConfig":null,"ConsoleSize":null},"Memory":8388608,"Cpuset":"0"}"#;
        let req = CreateRequest::parse(body).unwrap();
        assert_eq!(req.config.cmd, Some(vec!["sh".to_string()]));
        assert_eq!(req.config.entrypoint, Some(vec!["/init".to_string()]));
        let hc = req.host_config();
        assert_eq!(hc.dns, Some(vec!["8.8.8.8".to_string()]));
        assert_eq!(hc.port_bindings.unwrap()["80/tcp"].as_ref().unwrap()[0].host_port, "8080");
        assert_eq!((hc.memory, hc.cpuset_cpus.as_str()), (8388608, "0"));
    }

    #[test]
    fn refuses_wrong_types_without_panicking() {
        for body in [r#"{"Tty":"yes"}"#, r#"{"Cmd":{"a":1}}"#, r#"{"HostConfig":{"Memory":1e400}}"#, "[]", "7"] {
            assert!(CreateRequest::parse(body).is_err(), "{body}");
        }
    }

    #[test]
    fn merge_follows_dockerd() {
        let image = Config::from_image(&serde_json::json!({
            "Env": ["PATH=/bin", "A=image"], "Cmd": ["sh"], "WorkingDir": "/w", "User": "nobody",
            "ExposedPorts": {"80/tcp": {}}, "Labels": {"l": "image", "m": "image"}
        }));
        let mut c = Config {
            env: Some(vec!["A=mine".into()]),
            labels: [("l".into(), "mine".into())].into(),
            ..Default::default()
        };
        c.merge_image(&image);
        assert_eq!(c.env, Some(vec!["PATH=/bin".to_string(), "A=mine".to_string()]));
        assert_eq!(c.cmd, Some(vec!["sh".to_string()]));
        assert_eq!((c.working_dir.as_str(), c.user.as_str()), ("/w", "nobody"));
        assert!(c.exposed_ports.unwrap().contains_key("80/tcp"));
        assert_eq!((c.labels["l"].as_str(), c.labels["m"].as_str()), ("mine", "image"));

        // A new entrypoint does not inherit the image's Cmd.
        let mut c = Config { entrypoint: Some(vec!["/bin/echo".into()]), ..Default::default() };
        c.merge_image(&image);
        assert_eq!(c.cmd, None);
        assert_eq!(c.entrypoint_and_args(), Some(("/bin/echo".to_string(), vec![])));
        assert_eq!(Config::default().entrypoint_and_args(), None);
    }

    #[test]
    fn inspect_sub_objects_are_never_null() {
        let v = serde_json::to_value(ContainerJson::default()).unwrap();
        for key in ["State", "Config", "HostConfig", "NetworkSettings", "GraphDriver", "Mounts"] {
            assert!(!v[key].is_null(), "{key}");
        }
        assert!(v["NetworkSettings"]["Ports"].is_object());
        assert!(v["HostConfig"]["LogConfig"].is_object());
        assert!(v.get("SizeRw").is_none());
    }
}
