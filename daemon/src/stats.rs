//! The `container_stats` job (Docker 1.12's `daemon/stats.go`; Docker 1.2
//! had no stats): CPU, memory, block I/O and pids figures from the
//! container's cgroup, asked of its monitor, plus the host's CPU time from
//! `/proc/stat` and the interfaces of the container's network namespace
//! from `/proc/<pid>/net/dev`.
//!
//! Streaming writes one object a second (dockerd's collector interval),
//! each carrying the previous sample's CPU figures as `precpu_stats`, and
//! ends when the container stops or the client goes away. `stream=0`
//! answers one object after two samples a second apart, as dockerd 1.12
//! primes it, so the client's CPU % is a real figure. A container that does
//! not run gets one object of zeroes (dockerd's answer to `stream=0`; a
//! stream of one, rather than dockerd 1.12's silent wait, so `stats -a`
//! shows stopped containers at once).

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, SystemTime};

use engine::{Job, Status};
use runconfig::stats::{BlkioStatEntry, BlkioStats, CpuStats, CpuUsage, MemoryStats, NetworkStats, PidsStats};
use runconfig::stats::{StatsJson, ThrottlingData};

use crate::container::rfc3339_nano;
use crate::error::ContainerError;
use crate::runtime::{Control, blocking};
use crate::store::Handle;
use crate::{Daemon, sysinfo};

/// dockerd's stats collector interval.
const INTERVAL: Duration = Duration::from_secs(1);

/// Linux reports `/proc/stat` in USER_HZ, fixed at 100 for user space.
const NANOS_PER_TICK: u64 = 10_000_000;

/// Runs `container_stats CONTAINER` (env `stream`).
pub async fn stats(daemon: Daemon, job: Job) -> Status {
    let Some(name) = job.args().first().cloned() else {
        return job.errorf("Usage: container_stats CONTAINER").await;
    };
    let stream = job.getenv_bool("stream");
    let handle = match daemon.containers().get(&name) {
        Ok(h) => h,
        Err(e) => return job.fail(e.kind(), e).await,
    };
    let (id, wire_name) = {
        let c = handle.lock();
        (c.id.clone(), format!("/{}", c.name))
    };
    let blank = || StatsJson { name: wire_name.clone(), id: id.clone(), ..Default::default() };

    let mut previous: Option<CpuStats> = None;
    let mut ticks = tokio::time::interval(INTERVAL);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut written = false;
    loop {
        ticks.tick().await;
        let running = {
            let c = handle.lock();
            c.state.running && !c.state.restarting
        };
        let sample =
            if running { sample(&daemon, &handle, &id).await } else { Err(ContainerError::NotRunning(id.clone())) };
        let mut object = match sample {
            Ok(object) => object,
            // The container stopped (or never ran): a stream ends there.
            Err(ContainerError::NotRunning(_)) => {
                if !written {
                    return print(&job, &blank()).await.err().unwrap_or(Status::OK);
                }
                return Status::OK;
            }
            Err(e) => return job.fail(e.kind(), e).await,
        };
        object.name.clone_from(&wire_name);
        object.id.clone_from(&id);
        let primed = previous.is_some();
        object.precpu_stats = previous.replace(object.cpu_stats.clone()).unwrap_or_default();
        if !stream && !primed {
            continue;
        }
        if let Err(status) = print(&job, &object).await {
            return status;
        }
        written = true;
        if !stream {
            return Status::OK;
        }
    }
}

/// Writes one object as a line; `Err` with the job's status when the
/// stream must end. A failed write is the client gone: not an error worth
/// a log line, the job just ends.
async fn print(job: &Job, object: &StatsJson) -> Result<(), Status> {
    let mut line = match serde_json::to_string(object) {
        Ok(line) => line,
        Err(e) => return Err(job.errorf(format!("encoding stats: {e}")).await),
    };
    line.push('\n');
    job.print(line).await.map_err(|e| {
        tracing::debug!(error = %e, "stats client gone; stream ended");
        Status::OK
    })
}

/// One sample of a running container.
async fn sample(daemon: &Daemon, handle: &Handle, id: &str) -> Result<StatsJson, ContainerError> {
    let cg = daemon.runtime().slot(id).control(Control::Stats).await?;
    let read = rfc3339_nano(SystemTime::now());
    let pid = handle.lock().state.pid;
    let (system, networks, memory, cpus) =
        blocking(id, move || Ok((system_cpu_usage(), networks(pid), sysinfo::mem_total(), sysinfo::ncpu() as u64)))
            .await?;
    Ok(to_wire(cg, read, system, networks, memory, cpus))
}

/// The wire object of a cgroup sample.
fn to_wire(
    cg: execdriver::Stats,
    read: String,
    system_cpu_usage: u64,
    networks: Option<BTreeMap<String, NetworkStats>>,
    machine_memory: u64,
    online_cpus: u64,
) -> StatsJson {
    let entries = |list: Vec<(u64, u64, String, u64)>| {
        Some(list.into_iter().map(|(major, minor, op, value)| BlkioStatEntry { major, minor, op, value }).collect())
    };
    // dockerd 1.12 reports an unlimited container's limit as the host's
    // memory, so clients show a meaningful MEM %.
    let limit = if machine_memory > 0 && cg.memory_limit > machine_memory { machine_memory } else { cg.memory_limit };
    StatsJson {
        read,
        name: String::new(),
        id: String::new(),
        precpu_stats: CpuStats::default(),
        cpu_stats: CpuStats {
            cpu_usage: CpuUsage {
                total_usage: cg.cpu_usage,
                percpu_usage: Some(cg.percpu_usage).filter(|p| !p.is_empty()),
                usage_in_kernelmode: cg.cpu_kernel,
                usage_in_usermode: cg.cpu_user,
            },
            system_cpu_usage,
            online_cpus,
            throttling_data: ThrottlingData {
                periods: cg.throttled.0,
                throttled_periods: cg.throttled.1,
                throttled_time: cg.throttled.2,
            },
        },
        memory_stats: MemoryStats {
            usage: cg.memory_usage,
            max_usage: cg.memory_max_usage,
            stats: Some(cg.memory_stats.into_iter().collect()),
            failcnt: cg.memory_failcnt,
            limit,
        },
        blkio_stats: BlkioStats {
            io_service_bytes_recursive: entries(cg.blkio_service_bytes),
            io_serviced_recursive: entries(cg.blkio_serviced),
            // Only CFQ accounts these; dockerd sends them empty without it.
            io_queue_recursive: Some(Vec::new()),
            io_service_time_recursive: Some(Vec::new()),
            io_wait_time_recursive: Some(Vec::new()),
            io_merged_recursive: Some(Vec::new()),
            io_time_recursive: Some(Vec::new()),
            sectors_recursive: Some(Vec::new()),
        },
        pids_stats: PidsStats { current: cg.pids_current, limit: cg.pids_limit },
        networks,
    }
}

/// The host's CPU time since boot, all CPUs (dockerd's
/// `getSystemCPUUsage`: the first seven fields of the `cpu` line).
fn system_cpu_usage() -> u64 {
    std::fs::read_to_string("/proc/stat").map_or(0, |text| parse_system_cpu(&text))
}

fn parse_system_cpu(text: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix("cpu "))
        .map(|rest| rest.split_whitespace().take(7).filter_map(|v| v.parse::<u64>().ok()).sum::<u64>())
        .map_or(0, |ticks| ticks.saturating_mul(NANOS_PER_TICK))
}

/// The interfaces of the namespace of `pid`, `lo` left out; `None` when
/// the container shares the daemon's namespace (`--net=host`, where
/// dockerd has no interfaces of its own to report) or has no interface.
fn networks(pid: i64) -> Option<BTreeMap<String, NetworkStats>> {
    if pid <= 0 {
        return None;
    }
    let proc = Path::new("/proc").join(pid.to_string());
    let ns = std::fs::read_link(proc.join("ns/net")).ok()?;
    if std::fs::read_link("/proc/self/ns/net").is_ok_and(|own| own == ns) {
        return None;
    }
    let table = parse_net_dev(&std::fs::read_to_string(proc.join("net/dev")).ok()?);
    (!table.is_empty()).then_some(table)
}

/// `/proc/<pid>/net/dev`: two header lines, then `name: 16 counters`
/// (receive bytes, packets, errs, drop, fifo, frame, compressed,
/// multicast; transmit bytes, packets, errs, drop, ...).
fn parse_net_dev(text: &str) -> BTreeMap<String, NetworkStats> {
    let mut out = BTreeMap::new();
    for line in text.lines().skip(2) {
        let Some((name, counters)) = line.split_once(':') else { continue };
        let name = name.trim();
        let n: Vec<u64> = counters.split_whitespace().filter_map(|v| v.parse().ok()).collect();
        if name == "lo" || n.len() < 16 {
            continue;
        }
        out.insert(
            name.to_string(),
            NetworkStats {
                rx_bytes: n[0],
                rx_packets: n[1],
                rx_errors: n[2],
                rx_dropped: n[3],
                tx_bytes: n[8],
                tx_packets: n[9],
                tx_errors: n[10],
                tx_dropped: n[11],
            },
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_cpu_time_from_proc_stat() {
        let text = "cpu  10 20 30 40 50 60 70 80 90 100\ncpu0 1 2 3 4 5 6 7 8\n";
        assert_eq!(parse_system_cpu(text), 280 * NANOS_PER_TICK);
        assert_eq!(parse_system_cpu("intr 1\n"), 0);
    }

    #[test]
    fn interfaces_without_loopback() {
        let text = "Inter-|   Receive |  Transmit\n face |bytes packets|bytes\n    lo: 9 9 0 0 0 0 0 0 9 9 0 0 0 0 0 0\n  eth0: 100 2 1 3 0 0 0 0 200 4 5 6 0 0 0 0\n";
        let t = parse_net_dev(text);
        assert_eq!(t.keys().collect::<Vec<_>>(), ["eth0"]);
        let e = &t["eth0"];
        assert_eq!((e.rx_bytes, e.rx_packets, e.rx_errors, e.rx_dropped), (100, 2, 1, 3));
        assert_eq!((e.tx_bytes, e.tx_packets, e.tx_errors, e.tx_dropped), (200, 4, 5, 6));
    }

    #[test]
    fn unlimited_memory_reads_as_the_host_memory() {
        let cg = execdriver::Stats {
            memory_limit: 9_223_372_036_854_771_712,
            memory_usage: 5,
            percpu_usage: vec![1, 2],
            blkio_service_bytes: vec![(8, 0, "Read".into(), 7)],
            ..Default::default()
        };
        let v = serde_json::to_value(to_wire(cg, "t".into(), 9, None, 1 << 30, 2)).unwrap();
        assert_eq!(v["memory_stats"]["limit"], 1u64 << 30);
        assert_eq!(v["cpu_stats"]["cpu_usage"]["percpu_usage"], serde_json::json!([1, 2]));
        assert_eq!(v["cpu_stats"]["system_cpu_usage"], 9);
        assert_eq!(v["cpu_stats"]["online_cpus"], 2);
        assert_eq!(v["blkio_stats"]["io_service_bytes_recursive"][0]["op"], "Read");
        assert_eq!(v["blkio_stats"]["sectors_recursive"], serde_json::json!([]));
        assert!(v.get("networks").is_none());
        let limited = execdriver::Stats { memory_limit: 64 << 20, ..Default::default() };
        assert_eq!(to_wire(limited, "t".into(), 0, None, 1 << 30, 2).memory_stats.limit, 64 << 20);
    }
}
