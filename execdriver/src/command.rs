//! What the daemon decides about a container process (Docker 1.2's
//! `execdriver.Command`), serialisable so it crosses to the init over a
//! socket unchanged.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::devices::{Device, DeviceRule};

/// One container's full description.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Command {
    /// Container id; names the cgroup (`docker/<id>`).
    pub id: String,
    /// The root filesystem, already mounted by the graph driver.
    pub rootfs: PathBuf,
    pub process: Process,
    pub hostname: String,
    pub domainname: String,
    pub network: NetworkMode,
    pub mounts: Vec<BindMount>,
    /// Bind-mounted onto `/etc/hosts`, `/etc/hostname`, `/etc/resolv.conf`
    /// when set (files in the container directory).
    pub hosts_path: Option<PathBuf>,
    pub hostname_path: Option<PathBuf>,
    pub resolv_conf_path: Option<PathBuf>,
    pub resources: Resources,
    /// The device cgroup allow-list; empty means [`crate::default_allowed_devices`].
    /// Ignored when privileged (every device is allowed).
    pub allowed_devices: Vec<DeviceRule>,
    /// Host devices (`--device`) created as nodes in the container besides
    /// the default ones; their cgroup rules are in `allowed_devices`.
    #[serde(default)]
    pub devices: Vec<Device>,
}

/// The process to run: shared by a container's first process and `docker exec`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Process {
    /// `args[0]` is looked up in the container's `PATH` unless it has a `/`.
    pub args: Vec<String>,
    /// `KEY=value` entries; `PATH`, `HOME`, `HOSTNAME` (and `TERM` with a
    /// tty) are added when missing.
    pub env: Vec<String>,
    /// Empty means `/`.
    pub working_dir: String,
    /// `uid[:gid]` or `name[:group]`, resolved against the container's
    /// `/etc/passwd` and `/etc/group`; empty means root.
    pub user: String,
    pub tty: bool,
    pub open_stdin: bool,
    pub privileged: bool,
    /// Capability names as Docker spells them (`NET_ADMIN`, `ALL`).
    pub cap_add: Vec<String>,
    pub cap_drop: Vec<String>,
}

/// `--net`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub enum NetworkMode {
    /// A new network namespace with only `lo`, up.
    #[default]
    None,
    /// The host's namespace.
    Host,
    /// Join the namespace of this (host) pid: `--net=container:NAME`.
    Container(i32),
    /// A new namespace with `lo` and an `eth0` on a host bridge (Docker
    /// 1.2's libcontainer `veth` strategy): the driver makes a veth pair
    /// with the host end on the bridge and the other end inside the
    /// namespace, where the init names it `eth0` and configures it before
    /// the user's command runs. The pair goes when the namespace does.
    Bridge(BridgeNetwork),
}

/// `eth0` of a bridged container, as the network driver allocated it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct BridgeNetwork {
    /// The host bridge (`docker0`) the host end joins.
    pub bridge: String,
    /// The container's IPv4 address.
    pub ip: std::net::Ipv4Addr,
    pub prefix_len: u8,
    /// The default route's next hop (the bridge's address).
    pub gateway: std::net::Ipv4Addr,
    /// `02:42:...`; empty lets the kernel choose.
    pub mac: String,
    /// Of both ends; 0 keeps the kernel's default.
    pub mtu: u32,
    /// The host end's name (`veth` + 7 hex digits); chosen by the driver at
    /// spawn when empty.
    #[serde(default)]
    pub host_veth: String,
    /// The container end's name until the init renames it `eth0`; chosen
    /// by the driver at spawn when empty. It only exists inside the
    /// container's namespace.
    #[serde(default)]
    pub peer: String,
}

/// `-v /host:/ctr[:ro]`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct BindMount {
    pub source: PathBuf,
    pub destination: PathBuf,
    pub read_only: bool,
    pub private: bool,
}

/// Cgroup limits; zero or empty means "no limit".
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Resources {
    /// Bytes.
    pub memory: i64,
    /// Memory plus swap, bytes; `-1` unlimited swap.
    pub memory_swap: i64,
    /// Relative weight (Docker's default is 1024).
    pub cpu_shares: i64,
    /// `0-2,4`.
    pub cpuset_cpus: String,
}
