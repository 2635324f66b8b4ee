//! The `info` job (`daemon/info.go`): system-wide figures, in the v1.24
//! shape with every value properly typed. Docker 1.2 sent booleans as `0`/`1`
//! (`"Debug":0`), which today's CLI refuses to decode, so `docker info`
//! failed; here they are JSON booleans.

use std::collections::BTreeMap;
use std::time::SystemTime;

use engine::{Job, Status, names};
use serde::Serialize;

use crate::daemon::Daemon;
use crate::sysinfo;

/// The body of `GET /info`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct Info {
    #[serde(rename = "ID")]
    id: String,
    containers: usize,
    containers_running: usize,
    containers_paused: usize,
    containers_stopped: usize,
    images: usize,
    driver: String,
    driver_status: Vec<[String; 2]>,
    system_status: Option<Vec<[String; 2]>>,
    plugins: Plugins,
    memory_limit: bool,
    swap_limit: bool,
    kernel_memory: bool,
    cpu_cfs_period: bool,
    cpu_cfs_quota: bool,
    #[serde(rename = "CPUShares")]
    cpu_shares: bool,
    #[serde(rename = "CPUSet")]
    cpu_set: bool,
    pids_limit: bool,
    #[serde(rename = "IPv4Forwarding")]
    ipv4_forwarding: bool,
    bridge_nf_iptables: bool,
    bridge_nf_ip6tables: bool,
    debug: bool,
    #[serde(rename = "NFd")]
    n_fd: usize,
    oom_kill_disable: bool,
    #[serde(rename = "NGoroutines")]
    n_goroutines: usize,
    system_time: String,
    execution_driver: String,
    logging_driver: &'static str,
    cgroup_driver: &'static str,
    cgroup_version: String,
    #[serde(rename = "NEventsListener")]
    n_events_listener: i64,
    kernel_version: String,
    operating_system: String,
    #[serde(rename = "OSType")]
    os_type: &'static str,
    architecture: String,
    index_server_address: &'static str,
    registry_config: RegistryConfig,
    init_sha1: &'static str,
    init_path: String,
    #[serde(rename = "NCPU")]
    ncpu: usize,
    mem_total: u64,
    docker_root_dir: String,
    http_proxy: String,
    https_proxy: String,
    no_proxy: String,
    name: String,
    labels: Vec<String>,
    experimental_build: bool,
    server_version: String,
    cluster_store: &'static str,
    cluster_advertise: &'static str,
    security_options: Vec<String>,
    swarm: Swarm,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct Plugins {
    volume: Vec<String>,
    network: Vec<String>,
    authorization: Option<Vec<String>>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct RegistryConfig {
    #[serde(rename = "InsecureRegistryCIDRs")]
    insecure_registry_cidrs: Vec<String>,
    index_configs: BTreeMap<String, IndexInfo>,
    mirrors: Vec<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct IndexInfo {
    name: String,
    mirrors: Vec<String>,
    secure: bool,
    official: bool,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct Swarm {
    #[serde(rename = "NodeID")]
    node_id: &'static str,
    node_addr: &'static str,
    local_node_state: &'static str,
    control_available: bool,
    error: &'static str,
    remote_managers: Option<Vec<String>>,
}

/// The Docker Hub index, as clients expect it named.
pub const INDEX_SERVER: &str = "https://index.docker.io/v1/";
/// The exec driver's name as 1.2 reported it.
pub const NATIVE_EXEC_DRIVER: &str = "native-0.2";

fn count_entries(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |entries| entries.filter_map(Result::ok).filter(|e| e.path().is_dir()).count())
}

/// Asks another job for a JSON object and returns it (an empty object on
/// failure: `info` reports what it can).
async fn job_json(job: &Job, name: &str) -> serde_json::Value {
    let sub = job.engine().job(name, Vec::<String>::new());
    let out = sub.stdout().add_buffer();
    match sub.run().await {
        Ok(()) => serde_json::from_slice(&out.bytes()).unwrap_or_default(),
        Err(e) => {
            tracing::debug!(job = name, error = %e, "info: sub-job failed");
            serde_json::Value::Null
        }
    }
}

/// The `info` job.
pub async fn info(daemon: Daemon, job: Job) -> Status {
    let events = job_json(&job, names::SUBSCRIBERS_COUNT).await;
    let version = job_json(&job, names::VERSION).await;
    let figures = tokio::task::spawn_blocking(move || collect(&daemon)).await;
    let Ok(mut info) = figures else {
        return job.errorf("info: gathering host figures failed").await;
    };
    info.n_events_listener = events["count"].as_i64().unwrap_or(0);
    info.server_version = version["Version"].as_str().unwrap_or_default().to_string();
    info.n_goroutines = tokio::runtime::Handle::current().metrics().num_alive_tasks();
    match serde_json::to_vec(&info) {
        Ok(body) => {
            let _ = job.print(body).await;
            Status::OK
        }
        Err(e) => job.errorf(format!("info: {e}")).await,
    }
}

/// The figures that take file-system reads.
fn collect(daemon: &Daemon) -> Info {
    let config = daemon.config();
    let layout = daemon.layout();
    let cg = sysinfo::cgroup_features();
    let states: Vec<crate::container::State> = daemon.containers().list().into_iter().map(|c| c.state).collect();
    let running = states.iter().filter(|s| s.running && !s.paused).count();
    let paused = states.iter().filter(|s| s.running && s.paused).count();
    let driver = daemon.storage_driver().to_string();
    let driver_status = match driver.as_str() {
        "overlay" => vec![["Backing Filesystem".to_string(), sysinfo::backing_filesystem(&layout.root)]],
        _ => Vec::new(),
    };
    let env = |k: &str| std::env::var(k).or_else(|_| std::env::var(k.to_lowercase())).unwrap_or_default();
    let mut index_configs = BTreeMap::new();
    index_configs.insert(
        "docker.io".to_string(),
        IndexInfo { name: "docker.io".into(), mirrors: Vec::new(), secure: true, official: true },
    );
    Info {
        id: daemon.id().to_string(),
        containers: states.len(),
        containers_running: running,
        containers_paused: paused,
        containers_stopped: states.len() - running - paused,
        images: count_entries(&layout.graph),
        driver,
        driver_status,
        system_status: None,
        plugins: Plugins { volume: Vec::new(), network: Vec::new(), authorization: None },
        memory_limit: cg.memory,
        swap_limit: cg.swap,
        kernel_memory: cg.kernel_memory,
        cpu_cfs_period: cg.cpu_cfs_period,
        cpu_cfs_quota: cg.cpu_cfs_quota,
        cpu_shares: cg.cpu_shares,
        cpu_set: cg.cpuset,
        pids_limit: cg.pids,
        ipv4_forwarding: sysinfo::sysctl_on("/proc/sys/net/ipv4/ip_forward"),
        bridge_nf_iptables: sysinfo::sysctl_on("/proc/sys/net/bridge/bridge-nf-call-iptables"),
        bridge_nf_ip6tables: sysinfo::sysctl_on("/proc/sys/net/bridge/bridge-nf-call-ip6tables"),
        debug: config.debug,
        n_fd: sysinfo::open_fds(),
        oom_kill_disable: cg.oom_kill_disable,
        n_goroutines: 0,
        system_time: humantime::format_rfc3339_nanos(SystemTime::now()).to_string(),
        execution_driver: if config.exec_driver == "native" {
            NATIVE_EXEC_DRIVER.into()
        } else {
            config.exec_driver.clone()
        },
        logging_driver: "json-file",
        cgroup_driver: "cgroupfs",
        cgroup_version: cg.version.to_string(),
        n_events_listener: 0,
        kernel_version: sysinfo::kernel_version(),
        operating_system: sysinfo::operating_system(),
        os_type: "linux",
        architecture: sysinfo::architecture(),
        index_server_address: INDEX_SERVER,
        registry_config: RegistryConfig {
            insecure_registry_cidrs: vec!["127.0.0.0/8".into()],
            index_configs,
            mirrors: Vec::new(),
        },
        init_sha1: "",
        init_path: std::env::current_exe().map(|p| p.display().to_string()).unwrap_or_default(),
        ncpu: sysinfo::ncpu(),
        mem_total: sysinfo::mem_total(),
        docker_root_dir: layout.root.display().to_string(),
        http_proxy: env("HTTP_PROXY"),
        https_proxy: env("HTTPS_PROXY"),
        no_proxy: env("NO_PROXY"),
        name: sysinfo::hostname(),
        labels: Vec::new(),
        experimental_build: false,
        server_version: String::new(),
        cluster_store: "",
        cluster_advertise: "",
        security_options: Vec::new(),
        swarm: Swarm {
            node_id: "",
            node_addr: "",
            local_node_state: "inactive",
            control_available: false,
            error: "",
            remote_managers: None,
        },
    }
}
