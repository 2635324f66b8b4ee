//! Resource usage and resource limits on the wire: the objects of
//! `GET /containers/{id}/stats` (engine-api `types.StatsJSON` of Docker
//! 1.12, API v1.24) and the body and answer of `POST /containers/{id}/update`
//! (`container.UpdateConfig`, `ContainerUpdateResponse`).
//!
//! Field names are explicit: stats use Go's snake_case JSON tags, update
//! uses the PascalCase of the Go field names. Go's `nil` slices and maps are
//! `null` on the wire, so those are `Option`s here; decoding accepts absent
//! keys everywhere, so the client reads what any daemon version sends.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};

use crate::container::RestartPolicy;

/// `null` or absent → the type's default.
fn nullable<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// The `read` time of an object with no sample: Go's zero `time.Time`.
pub const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

/// One stats object (`types.StatsJSON`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct StatsJson {
    /// When the sample was taken (RFC 3339 with nanoseconds).
    #[serde(rename = "read")]
    pub read: String,
    /// `/<name>`. Not in API v1.24: today's dockerd sends it and CLI v28
    /// takes its NAME and CONTAINER ID columns from it, so it is sent too.
    #[serde(rename = "name", skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// The container's ID (today's dockerd, as `name`).
    #[serde(rename = "id", skip_serializing_if = "String::is_empty")]
    pub id: String,
    /// The CPU figures of the previous sample (zero in a stream's first
    /// object), for the client's CPU % from the difference.
    #[serde(rename = "precpu_stats")]
    pub precpu_stats: CpuStats,
    /// The CPU figures now.
    #[serde(rename = "cpu_stats")]
    pub cpu_stats: CpuStats,
    /// Memory.
    #[serde(rename = "memory_stats")]
    pub memory_stats: MemoryStats,
    /// Block I/O.
    #[serde(rename = "blkio_stats")]
    pub blkio_stats: BlkioStats,
    /// Number of processes.
    #[serde(rename = "pids_stats")]
    pub pids_stats: PidsStats,
    /// Per interface of the container's network namespace, `lo` left out;
    /// absent when there is none (Go's `omitempty`).
    #[serde(rename = "networks", skip_serializing_if = "Option::is_none")]
    pub networks: Option<BTreeMap<String, NetworkStats>>,
}

impl Default for StatsJson {
    /// What dockerd answers for a container that does not run: every
    /// figure zero, `read` the zero time.
    fn default() -> Self {
        StatsJson {
            read: ZERO_TIME.to_string(),
            name: String::new(),
            id: String::new(),
            precpu_stats: CpuStats::default(),
            cpu_stats: CpuStats::default(),
            memory_stats: MemoryStats::default(),
            blkio_stats: BlkioStats::default(),
            pids_stats: PidsStats::default(),
            networks: None,
        }
    }
}

/// `types.CPUStats`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CpuStats {
    /// The container's CPU time.
    #[serde(rename = "cpu_usage")]
    pub cpu_usage: CpuUsage,
    /// The host's CPU time since boot (all CPUs), nanoseconds.
    #[serde(rename = "system_cpu_usage")]
    pub system_cpu_usage: u64,
    /// CPUs online. Not in API v1.24 (today's dockerd sends it): on cgroup
    /// v2 there is no per-CPU usage for clients to count CPUs from.
    #[serde(rename = "online_cpus", skip_serializing_if = "is_zero")]
    pub online_cpus: u64,
    /// CFS throttling.
    #[serde(rename = "throttling_data")]
    pub throttling_data: ThrottlingData,
}

/// `types.CPUUsage`, nanoseconds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CpuUsage {
    /// All CPU time used.
    #[serde(rename = "total_usage")]
    pub total_usage: u64,
    /// Per CPU (cgroup v1 only).
    #[serde(rename = "percpu_usage")]
    pub percpu_usage: Option<Vec<u64>>,
    /// In the kernel.
    #[serde(rename = "usage_in_kernelmode")]
    pub usage_in_kernelmode: u64,
    /// In user space.
    #[serde(rename = "usage_in_usermode")]
    pub usage_in_usermode: u64,
}

/// `types.ThrottlingData`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ThrottlingData {
    /// CFS periods elapsed.
    #[serde(rename = "periods")]
    pub periods: u64,
    /// Periods in which the container was throttled.
    #[serde(rename = "throttled_periods")]
    pub throttled_periods: u64,
    /// Time throttled, nanoseconds.
    #[serde(rename = "throttled_time")]
    pub throttled_time: u64,
}

/// `types.MemoryStats`, bytes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MemoryStats {
    /// Now.
    #[serde(rename = "usage")]
    pub usage: u64,
    /// The most ever (cgroup v1; `memory.peak` on v2 where the kernel has it).
    #[serde(rename = "max_usage")]
    pub max_usage: u64,
    /// `memory.stat`.
    #[serde(rename = "stats")]
    pub stats: Option<BTreeMap<String, u64>>,
    /// Times the limit was hit (cgroup v1).
    #[serde(rename = "failcnt")]
    pub failcnt: u64,
    /// The limit; the host's memory when unlimited (dockerd's rule).
    #[serde(rename = "limit")]
    pub limit: u64,
}

/// `types.BlkioStatEntry`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct BlkioStatEntry {
    /// Device major number.
    #[serde(rename = "major")]
    pub major: u64,
    /// Device minor number.
    #[serde(rename = "minor")]
    pub minor: u64,
    /// `Read`, `Write`, `Sync`, `Async`, `Total`.
    #[serde(rename = "op")]
    pub op: String,
    /// Bytes or operations.
    #[serde(rename = "value")]
    pub value: u64,
}

/// `types.BlkioStats`: the lists the kernel accounts, `null` otherwise.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct BlkioStats {
    /// Bytes per device and operation.
    #[serde(rename = "io_service_bytes_recursive")]
    pub io_service_bytes_recursive: Option<Vec<BlkioStatEntry>>,
    /// Operations per device and operation.
    #[serde(rename = "io_serviced_recursive")]
    pub io_serviced_recursive: Option<Vec<BlkioStatEntry>>,
    /// CFQ queue figures (none without the CFQ scheduler).
    #[serde(rename = "io_queue_recursive")]
    pub io_queue_recursive: Option<Vec<BlkioStatEntry>>,
    /// CFQ.
    #[serde(rename = "io_service_time_recursive")]
    pub io_service_time_recursive: Option<Vec<BlkioStatEntry>>,
    /// CFQ.
    #[serde(rename = "io_wait_time_recursive")]
    pub io_wait_time_recursive: Option<Vec<BlkioStatEntry>>,
    /// CFQ.
    #[serde(rename = "io_merged_recursive")]
    pub io_merged_recursive: Option<Vec<BlkioStatEntry>>,
    /// CFQ.
    #[serde(rename = "io_time_recursive")]
    pub io_time_recursive: Option<Vec<BlkioStatEntry>>,
    /// CFQ.
    #[serde(rename = "sectors_recursive")]
    pub sectors_recursive: Option<Vec<BlkioStatEntry>>,
}

/// `types.PidsStats` (both `omitempty`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PidsStats {
    /// Processes in the cgroup.
    #[serde(rename = "current", skip_serializing_if = "is_zero")]
    pub current: u64,
    /// `pids.max`; 0 = no limit.
    #[serde(rename = "limit", skip_serializing_if = "is_zero")]
    pub limit: u64,
}

/// `types.NetworkStats` of one interface.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct NetworkStats {
    /// Bytes received.
    #[serde(rename = "rx_bytes")]
    pub rx_bytes: u64,
    /// Packets received.
    #[serde(rename = "rx_packets")]
    pub rx_packets: u64,
    /// Receive errors.
    #[serde(rename = "rx_errors")]
    pub rx_errors: u64,
    /// Incoming packets dropped.
    #[serde(rename = "rx_dropped")]
    pub rx_dropped: u64,
    /// Bytes sent.
    #[serde(rename = "tx_bytes")]
    pub tx_bytes: u64,
    /// Packets sent.
    #[serde(rename = "tx_packets")]
    pub tx_packets: u64,
    /// Send errors.
    #[serde(rename = "tx_errors")]
    pub tx_errors: u64,
    /// Outgoing packets dropped.
    #[serde(rename = "tx_dropped")]
    pub tx_dropped: u64,
}

/// The body of `POST /containers/{id}/update` (`container.UpdateConfig`):
/// zero or empty means "leave as it is". Other `Resources` keys that
/// clients send (CLI v28 sends them all, mostly `null`) are ignored, as
/// Docker 1.12 ignored them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct UpdateConfig {
    /// Block I/O weight, 10–1000.
    #[serde(rename = "BlkioWeight", deserialize_with = "nullable")]
    pub blkio_weight: u16,
    /// Relative CPU weight.
    #[serde(rename = "CpuShares", deserialize_with = "nullable")]
    pub cpu_shares: i64,
    /// CFS period, microseconds.
    #[serde(rename = "CpuPeriod", deserialize_with = "nullable")]
    pub cpu_period: i64,
    /// CFS quota, microseconds.
    #[serde(rename = "CpuQuota", deserialize_with = "nullable")]
    pub cpu_quota: i64,
    /// CPUs allowed (`0-2,4`).
    #[serde(rename = "CpusetCpus", deserialize_with = "nullable")]
    pub cpuset_cpus: String,
    /// Memory nodes allowed.
    #[serde(rename = "CpusetMems", deserialize_with = "nullable")]
    pub cpuset_mems: String,
    /// Memory limit, bytes.
    #[serde(rename = "Memory", deserialize_with = "nullable")]
    pub memory: i64,
    /// Memory plus swap, bytes; `-1` unlimited swap.
    #[serde(rename = "MemorySwap", deserialize_with = "nullable")]
    pub memory_swap: i64,
    /// Soft limit, bytes.
    #[serde(rename = "MemoryReservation", deserialize_with = "nullable")]
    pub memory_reservation: i64,
    /// Kernel memory limit, bytes (stopped containers only).
    #[serde(rename = "KernelMemory", deserialize_with = "nullable")]
    pub kernel_memory: i64,
    /// A new restart policy when its name is not empty.
    #[serde(rename = "RestartPolicy", deserialize_with = "nullable")]
    pub restart_policy: RestartPolicy,
}

/// The answer of an update.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct UpdateResponse {
    /// What was discarded or is risky (never `null`).
    #[serde(rename = "Warnings", deserialize_with = "nullable")]
    pub warnings: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stopped_container_reads_as_dockerd_1_12_zeroes() {
        let v = serde_json::to_value(StatsJson::default()).unwrap();
        assert_eq!(v["read"], ZERO_TIME);
        assert!(v["precpu_stats"]["cpu_usage"]["percpu_usage"].is_null());
        assert_eq!(v["cpu_stats"]["throttling_data"]["periods"], 0);
        assert!(v["memory_stats"]["stats"].is_null());
        assert!(v["blkio_stats"]["io_service_bytes_recursive"].is_null());
        assert_eq!(v["pids_stats"], serde_json::json!({}));
        for absent in ["networks", "name", "id"] {
            assert!(v.get(absent).is_none(), "{absent}");
        }
        assert!(v["cpu_stats"].get("online_cpus").is_none());
    }

    #[test]
    fn round_trip_and_lenient_decoding() {
        let mut s = StatsJson { name: "/web".into(), ..Default::default() };
        s.cpu_stats.cpu_usage.percpu_usage = Some(vec![1, 2]);
        s.networks = Some(BTreeMap::from([("eth0".into(), NetworkStats { rx_bytes: 5, ..Default::default() })]));
        let text = serde_json::to_string(&s).unwrap();
        assert_eq!(serde_json::from_str::<StatsJson>(&text).unwrap(), s);
        let sparse: StatsJson = serde_json::from_str(r#"{"read":"x","memory_stats":{"usage":3}}"#).unwrap();
        assert_eq!((sparse.read.as_str(), sparse.memory_stats.usage), ("x", 3));
    }

    #[test]
    fn update_bodies_as_the_cli_sends_them() {
        let body = r#"{"BlkioWeight":0,"CpuShares":0,"Memory":50331648,"MemorySwap":0,"CpusetCpus":"",
            "Ulimits":null,"PidsLimit":null,"KernelMemory":null,"RestartPolicy":{"Name":"","MaximumRetryCount":0}}"#;
        let u: UpdateConfig = serde_json::from_str(body).unwrap();
        assert_eq!(u, UpdateConfig { memory: 48 << 20, ..Default::default() });
        assert!(serde_json::from_str::<UpdateConfig>(r#"{"Memory":"lots"}"#).is_err());
        let r: UpdateResponse = serde_json::from_str(r#"{"Warnings":null}"#).unwrap();
        assert!(r.warnings.is_empty());
    }
}
