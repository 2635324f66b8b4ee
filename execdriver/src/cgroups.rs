//! A cgroup per container (Docker 1.2's libcontainer `cgroups/fs`, plus the
//! unified v2 hierarchy): `docker/<id>` under each v1 controller, or
//! `/sys/fs/cgroup/docker/<id>` on v2. Limits, the device allow-list (v1
//! only: v2 needs an eBPF program, out of scope, so v2 containers see every
//! device node they can mknod), the freezer, member pids, statistics, and
//! removal once the container is gone.

use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::command::Resources;
use crate::devices::DeviceRule;
use crate::error::{Error, Result};

const CGROUP_ROOT: &str = "/sys/fs/cgroup";
/// The v1 controllers a container gets a directory in.
const V1_CONTROLLERS: &[&str] = &["memory", "cpu", "cpuacct", "cpuset", "devices", "freezer", "pids", "blkio"];

/// Which hierarchy the host runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CgroupVersion {
    /// controller → its mount point (hybrid hosts keep cgroup2 elsewhere).
    V1(Vec<(String, PathBuf)>),
    V2(PathBuf),
}

impl CgroupVersion {
    /// Reads `/proc/self/mountinfo`: v1 when any v1 controller is mounted,
    /// else v2 when the unified hierarchy is at `/sys/fs/cgroup`.
    pub fn detect() -> Option<CgroupVersion> {
        let info = fs::read_to_string("/proc/self/mountinfo").ok()?;
        let mut v1 = Vec::new();
        let mut v2 = None;
        for line in info.lines() {
            let Some((left, right)) = line.split_once(" - ") else { continue };
            let mount_point = left.split(' ').nth(4).unwrap_or("");
            let mut r = right.split(' ');
            let fstype = r.next().unwrap_or("");
            let super_opts = r.nth(1).unwrap_or("");
            if fstype == "cgroup" {
                for c in super_opts.split(',') {
                    if V1_CONTROLLERS.contains(&c) && !v1.iter().any(|(n, _): &(String, PathBuf)| n == c) {
                        v1.push((c.to_string(), PathBuf::from(mount_point)));
                    }
                }
            } else if fstype == "cgroup2" && mount_point == CGROUP_ROOT {
                v2 = Some(PathBuf::from(mount_point));
            }
        }
        if !v1.is_empty() { Some(CgroupVersion::V1(v1)) } else { v2.map(CgroupVersion::V2) }
    }
}

/// Memory, CPU, block I/O and pids figures (what `docker stats` shows).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Stats {
    pub memory_usage: u64,
    pub memory_max_usage: u64,
    /// `u64::MAX`-ish when unlimited, as the kernel reports it.
    pub memory_limit: u64,
    /// Times the limit was hit (v1 `memory.failcnt`; v2 has none).
    pub memory_failcnt: u64,
    /// `memory.stat` key/value pairs.
    pub memory_stats: Vec<(String, u64)>,
    /// Total CPU time, nanoseconds.
    pub cpu_usage: u64,
    /// Per CPU, nanoseconds (v1 only).
    pub percpu_usage: Vec<u64>,
    /// CPU time in the kernel and in user space, nanoseconds.
    pub cpu_kernel: u64,
    pub cpu_user: u64,
    /// CFS periods, throttled periods, and time throttled (nanoseconds).
    pub throttled: (u64, u64, u64),
    /// (major, minor, op, bytes) from blkio/io accounting.
    pub blkio_service_bytes: Vec<(u64, u64, String, u64)>,
    /// (major, minor, op, operations).
    pub blkio_serviced: Vec<(u64, u64, String, u64)>,
    pub pids_current: u64,
    /// `pids.max`; 0 when unlimited.
    pub pids_limit: u64,
}

/// New limits for a running container (`docker update`); `None` leaves a
/// limit as it is. Values as the API has them: bytes, microseconds, `-1`
/// for "unlimited" where the kernel knows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResourceUpdate {
    pub memory: Option<i64>,
    /// Memory plus swap; `-1` unlimited swap.
    pub memory_swap: Option<i64>,
    /// Soft limit.
    pub memory_reservation: Option<i64>,
    pub cpu_shares: Option<i64>,
    pub cpu_period: Option<i64>,
    /// `-1` removes the quota.
    pub cpu_quota: Option<i64>,
    pub cpuset_cpus: Option<String>,
    pub cpuset_mems: Option<String>,
    pub blkio_weight: Option<u16>,
}

impl ResourceUpdate {
    /// Whether anything is to change.
    pub fn is_empty(&self) -> bool {
        *self == ResourceUpdate::default()
    }
}

/// One container's cgroup(s).
#[derive(Debug)]
pub struct Cgroup {
    id: String,
    version: CgroupVersion,
    /// controller → directory (v1); one entry named "" (v2).
    dirs: Vec<(String, PathBuf)>,
}

fn read(path: &Path) -> std::io::Result<String> {
    fs::read_to_string(path).map(|s| s.trim().to_string())
}

fn read_u64(path: &Path) -> u64 {
    read(path).ok().and_then(|s| s.parse().ok()).unwrap_or(0)
}

/// v2's `cpu.weight` for v1 `cpu.shares` (the formula runc and crun use).
pub fn shares_to_weight(shares: u64) -> u64 {
    if shares == 0 {
        return 100;
    }
    1 + ((shares.clamp(2, 262_144) - 2) * 9999) / 262_142
}

/// `key value` lines (`memory.stat`, `cpu.stat`, `cpuacct.stat`).
fn keyed(text: &str) -> Vec<(String, u64)> {
    text.lines()
        .filter_map(|l| l.split_once(' ').and_then(|(k, v)| Some((k.to_string(), v.trim().parse().ok()?))))
        .collect()
}

/// v1 blkio lines `major:minor Op value`; the closing `Total n` line (two
/// fields) is not a device's.
fn blkio_lines(text: &str) -> Vec<(u64, u64, String, u64)> {
    text.lines()
        .filter_map(|line| {
            let f: Vec<&str> = line.split(' ').collect();
            let [dev, op, value] = f[..] else { return None };
            let (major, minor) = dev.split_once(':')?;
            Some((major.parse().ok()?, minor.parse().ok()?, op.to_string(), value.parse().ok()?))
        })
        .collect()
}

/// v2 `io.stat` lines `major:minor rbytes=.. wbytes=.. rios=..`: the keys
/// named in `ops`, as v1-style entries.
fn io_stat(text: &str, ops: &[(&str, &str)]) -> Vec<(u64, u64, String, u64)> {
    let mut out = Vec::new();
    for line in text.lines() {
        let mut parts = line.split(' ');
        let Some((major, minor)) = parts.next().and_then(|d| d.split_once(':')) else { continue };
        let (Ok(major), Ok(minor)) = (major.parse(), minor.parse()) else { continue };
        for kv in parts {
            let Some((k, v)) = kv.split_once('=') else { continue };
            if let Some((_, op)) = ops.iter().find(|(key, _)| *key == k) {
                out.push((major, minor, op.to_string(), v.parse().unwrap_or(0)));
            }
        }
    }
    out
}

/// A byte limit as the file takes it: `-1` (v1) or `max` (v2) for none.
fn limit_text(value: i64, v2: bool) -> String {
    match (value, v2) {
        (v, true) if v < 0 => "max".into(),
        (v, false) if v < 0 => "-1".into(),
        (v, _) => v.to_string(),
    }
}

impl Cgroup {
    /// Creates the cgroup and applies limits and the device list.
    pub fn create(id: &str, resources: &Resources, devices: &[DeviceRule], allow_all_devices: bool) -> Result<Cgroup> {
        let version = CgroupVersion::detect().ok_or_else(|| Error::NoCgroups { id: id.to_string() })?;
        let mut cg = Cgroup { id: id.to_string(), version: version.clone(), dirs: Vec::new() };
        match &version {
            CgroupVersion::V1(controllers) => {
                for (name, mount) in controllers {
                    let parent = mount.join("docker");
                    let dir = parent.join(id);
                    cg.mkdir(&parent)?;
                    if name == "cpuset" {
                        cg.inherit_cpuset(mount, &parent)?;
                    }
                    cg.mkdir(&dir)?;
                    if name == "cpuset" {
                        cg.inherit_cpuset(&parent, &dir)?;
                    }
                    cg.dirs.push((name.clone(), dir));
                }
            }
            CgroupVersion::V2(root) => {
                let parent = root.join("docker");
                cg.mkdir(&parent)?;
                // Controllers must be delegated down each level.
                for level in [root.as_path(), parent.as_path()] {
                    let available = read(&level.join("cgroup.controllers")).unwrap_or_default();
                    let enable: Vec<String> = ["cpu", "cpuset", "memory", "pids", "io"]
                        .iter()
                        .filter(|c| available.split(' ').any(|a| a == **c))
                        .map(|c| format!("+{c}"))
                        .collect();
                    if !enable.is_empty() {
                        cg.write(&level.join("cgroup.subtree_control"), &enable.join(" "))?;
                    }
                }
                let dir = parent.join(id);
                cg.mkdir(&dir)?;
                cg.dirs.push((String::new(), dir));
            }
        }
        if let Err(e) = cg.apply(resources, devices, allow_all_devices) {
            let _ = cg.destroy();
            return Err(e);
        }
        Ok(cg)
    }

    fn err(&self, path: &Path, source: std::io::Error) -> Error {
        Error::Cgroup { id: self.id.clone(), path: path.to_path_buf(), source }
    }

    fn mkdir(&self, dir: &Path) -> Result<()> {
        match fs::create_dir(dir) {
            Err(e) if e.kind() != ErrorKind::AlreadyExists => Err(self.err(dir, e)),
            _ => Ok(()),
        }
    }

    fn write(&self, path: &Path, value: &str) -> Result<()> {
        fs::write(path, value).map_err(|e| self.err(path, e))
    }

    /// A new v1 cpuset starts empty and refuses tasks until it has cpus and mems.
    fn inherit_cpuset(&self, from: &Path, to: &Path) -> Result<()> {
        for file in ["cpuset.cpus", "cpuset.mems"] {
            if read(&to.join(file)).unwrap_or_default().is_empty() {
                let value = read(&from.join(file)).map_err(|e| self.err(&from.join(file), e))?;
                self.write(&to.join(file), &value)?;
            }
        }
        Ok(())
    }

    fn dir(&self, controller: &str) -> Option<&Path> {
        match self.version {
            CgroupVersion::V1(_) => self.dirs.iter().find(|(n, _)| n == controller).map(|(_, d)| d.as_path()),
            CgroupVersion::V2(_) => self.dirs.first().map(|(_, d)| d.as_path()),
        }
    }

    fn v2(&self) -> bool {
        matches!(self.version, CgroupVersion::V2(_))
    }

    /// Whether the kernel's OOM killer killed a member: the `oom_kill`
    /// counter of `memory.oom_control` (v1, kernels ≥ 4.13) or of
    /// `memory.events` (v2). Read before the cgroup is removed.
    pub fn oom_killed(&self) -> bool {
        let file = if self.v2() { "memory.events" } else { "memory.oom_control" };
        let Some(text) = self.dir("memory").and_then(|d| fs::read_to_string(d.join(file)).ok()) else {
            return false;
        };
        text.lines().filter_map(|l| l.strip_prefix("oom_kill ")).any(|n| n.trim().parse::<u64>().is_ok_and(|n| n > 0))
    }

    fn apply(&self, r: &Resources, devices: &[DeviceRule], allow_all: bool) -> Result<()> {
        let v2 = self.v2();
        if let Some(mem) = self.dir("memory") {
            if r.memory > 0 {
                self.write(&mem.join(if v2 { "memory.max" } else { "memory.limit_in_bytes" }), &r.memory.to_string())?;
            }
            if r.memory_swap != 0 && r.memory > 0 {
                let (file, value) = match (v2, r.memory_swap) {
                    (true, -1) => ("memory.swap.max", "max".to_string()),
                    (true, total) => ("memory.swap.max", total.saturating_sub(r.memory).max(0).to_string()),
                    (false, total) => ("memory.memsw.limit_in_bytes", total.to_string()),
                };
                let path = mem.join(file);
                // Hosts without swap accounting have no such file; Docker 1.2
                // warned and ran the container without the swap limit.
                if path.exists() {
                    self.write(&path, &value)?;
                } else {
                    tracing::warn!(container = %self.id, "swap limit not supported by this kernel; ignored");
                }
            }
        }
        if r.cpu_shares > 0
            && let Some(cpu) = self.dir("cpu")
        {
            if v2 {
                self.write(&cpu.join("cpu.weight"), &shares_to_weight(r.cpu_shares as u64).to_string())?;
            } else {
                self.write(&cpu.join("cpu.shares"), &r.cpu_shares.to_string())?;
            }
        }
        if !r.cpuset_cpus.is_empty()
            && let Some(cs) = self.dir("cpuset")
        {
            self.write(&cs.join("cpuset.cpus"), &r.cpuset_cpus)?;
        }
        if !v2 && let Some(dev) = self.dir("devices") {
            if allow_all {
                self.write(&dev.join("devices.allow"), "a")?;
            } else {
                self.write(&dev.join("devices.deny"), "a")?;
                for rule in devices {
                    self.write(&dev.join("devices.allow"), &rule.to_cgroup_line())?;
                }
            }
        }
        Ok(())
    }

    /// Moves `pid` (and its future children) into every controller.
    pub fn add(&self, pid: i32) -> Result<()> {
        for (_, dir) in &self.dirs {
            self.write(&dir.join("cgroup.procs"), &pid.to_string())?;
        }
        Ok(())
    }

    /// The directory of `controller` (`""` on v2): for tests and `docker top`.
    pub fn path(&self, controller: &str) -> Option<PathBuf> {
        self.dir(controller).map(Path::to_path_buf)
    }

    /// Host pids of every member.
    pub fn pids(&self) -> Result<Vec<i32>> {
        let dir =
            self.dir("freezer").or_else(|| self.dir("memory")).or_else(|| self.dirs.first().map(|(_, d)| d.as_path()));
        let Some(dir) = dir else { return Ok(Vec::new()) };
        let path = dir.join("cgroup.procs");
        let text = read(&path).map_err(|e| self.err(&path, e))?;
        Ok(text.lines().filter_map(|l| l.trim().parse().ok()).collect())
    }

    /// Freezes (`true`) or thaws every member, waiting until the kernel
    /// reports the new state.
    pub async fn set_frozen(&self, frozen: bool) -> Result<()> {
        let (path, value, state_file, want) = if self.v2() {
            let dir = self.dir("").ok_or_else(|| Error::NoCgroups { id: self.id.clone() })?;
            (
                dir.join("cgroup.freeze"),
                if frozen { "1" } else { "0" },
                dir.join("cgroup.events"),
                if frozen { "frozen 1" } else { "frozen 0" },
            )
        } else {
            let dir = self.dir("freezer").ok_or_else(|| Error::NoCgroups { id: self.id.clone() })?;
            let v = if frozen { "FROZEN" } else { "THAWED" };
            (dir.join("freezer.state"), v, dir.join("freezer.state"), v)
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            self.write(&path, value)?;
            let state = read(&state_file).map_err(|e| self.err(&state_file, e))?;
            if state.lines().any(|l| l.trim() == want) {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(
                    self.err(&state_file, std::io::Error::new(ErrorKind::TimedOut, format!("stuck in {state:?}")))
                );
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Whether the freezer reports the container frozen.
    pub fn is_frozen(&self) -> bool {
        if self.v2() {
            self.dir("")
                .map(|d| read(&d.join("cgroup.events")).unwrap_or_default().contains("frozen 1"))
                .unwrap_or(false)
        } else {
            self.dir("freezer").map(|d| read(&d.join("freezer.state")).unwrap_or_default() == "FROZEN").unwrap_or(false)
        }
    }

    /// Reads the accounting files. A file the kernel does not have leaves
    /// its figures at zero (the controller may be absent or older).
    pub fn stats(&self) -> Stats {
        let mut s = Stats::default();
        if let Some(mem) = self.dir("memory") {
            self.memory_stats(mem, &mut s);
        }
        if self.v2() {
            if let Some(dir) = self.dir("") {
                let cpu = keyed(&read(&dir.join("cpu.stat")).unwrap_or_default());
                let usec = |k: &str| cpu.iter().find(|(n, _)| n == k).map_or(0, |(_, v)| v.saturating_mul(1000));
                (s.cpu_usage, s.cpu_user, s.cpu_kernel) = (usec("usage_usec"), usec("user_usec"), usec("system_usec"));
                let count = |k: &str| cpu.iter().find(|(n, _)| n == k).map_or(0, |(_, v)| *v);
                s.throttled = (count("nr_periods"), count("nr_throttled"), usec("throttled_usec"));
                let io = read(&dir.join("io.stat")).unwrap_or_default();
                s.blkio_service_bytes = io_stat(&io, &[("rbytes", "Read"), ("wbytes", "Write")]);
                s.blkio_serviced = io_stat(&io, &[("rios", "Read"), ("wios", "Write")]);
                s.pids_current = read_u64(&dir.join("pids.current"));
                s.pids_limit = read_u64(&dir.join("pids.max"));
            }
            return s;
        }
        if let Some(acct) = self.dir("cpuacct") {
            s.cpu_usage = read_u64(&acct.join("cpuacct.usage"));
            s.percpu_usage = read(&acct.join("cpuacct.usage_percpu"))
                .unwrap_or_default()
                .split_whitespace()
                .filter_map(|v| v.parse().ok())
                .collect();
            // `cpuacct.stat` counts in USER_HZ, which Linux fixes at 100.
            let ticks = keyed(&read(&acct.join("cpuacct.stat")).unwrap_or_default());
            let ns = |k: &str| ticks.iter().find(|(n, _)| n == k).map_or(0, |(_, v)| v.saturating_mul(10_000_000));
            (s.cpu_user, s.cpu_kernel) = (ns("user"), ns("system"));
        }
        if let Some(cpu) = self.dir("cpu") {
            let stat = keyed(&read(&cpu.join("cpu.stat")).unwrap_or_default());
            let get = |k: &str| stat.iter().find(|(n, _)| n == k).map_or(0, |(_, v)| *v);
            s.throttled = (get("nr_periods"), get("nr_throttled"), get("throttled_time"));
        }
        if let Some(blk) = self.dir("blkio") {
            // libcontainer's order: CFQ's files, then BFQ's, then the
            // throttle layer's, which sees all I/O but only counts it.
            let first = |files: &[&str]| {
                files.iter().map(|f| blkio_lines(&read(&blk.join(f)).unwrap_or_default())).find(|e| !e.is_empty())
            };
            s.blkio_service_bytes = first(&[
                "blkio.io_service_bytes_recursive",
                "blkio.bfq.io_service_bytes_recursive",
                "blkio.throttle.io_service_bytes_recursive",
                "blkio.throttle.io_service_bytes",
            ])
            .unwrap_or_default();
            s.blkio_serviced = first(&[
                "blkio.io_serviced_recursive",
                "blkio.bfq.io_serviced_recursive",
                "blkio.throttle.io_serviced_recursive",
                "blkio.throttle.io_serviced",
            ])
            .unwrap_or_default();
        }
        if let Some(p) = self.dir("pids") {
            s.pids_current = read_u64(&p.join("pids.current"));
            s.pids_limit = read_u64(&p.join("pids.max"));
        }
        s
    }

    fn memory_stats(&self, mem: &Path, s: &mut Stats) {
        if self.v2() {
            s.memory_usage = read_u64(&mem.join("memory.current"));
            s.memory_max_usage = read_u64(&mem.join("memory.peak"));
            s.memory_limit = read(&mem.join("memory.max")).ok().and_then(|v| v.parse().ok()).unwrap_or(u64::MAX);
        } else {
            s.memory_usage = read_u64(&mem.join("memory.usage_in_bytes"));
            s.memory_max_usage = read_u64(&mem.join("memory.max_usage_in_bytes"));
            s.memory_limit = read_u64(&mem.join("memory.limit_in_bytes"));
            s.memory_failcnt = read_u64(&mem.join("memory.failcnt"));
        }
        s.memory_stats = keyed(&read(&mem.join("memory.stat")).unwrap_or_default());
    }

    /// Applies new limits to the live cgroup (`docker update`), in an
    /// order the kernel accepts whichever way each limit moves.
    pub fn update(&self, u: &ResourceUpdate) -> Result<()> {
        let v2 = self.v2();
        if let Some(cs) = self.dir("cpuset") {
            if let Some(cpus) = &u.cpuset_cpus {
                self.write(&cs.join("cpuset.cpus"), cpus)?;
            }
            if let Some(mems) = &u.cpuset_mems {
                self.write(&cs.join("cpuset.mems"), mems)?;
            }
        }
        if let Some(cpu) = self.dir("cpu") {
            if let Some(shares) = u.cpu_shares {
                if v2 {
                    self.write(&cpu.join("cpu.weight"), &shares_to_weight(shares.max(0) as u64).to_string())?;
                } else {
                    self.write(&cpu.join("cpu.shares"), &shares.to_string())?;
                }
            }
            if u.cpu_period.is_some() || u.cpu_quota.is_some() {
                self.set_cfs(cpu, u.cpu_period, u.cpu_quota)?;
            }
        }
        if let Some(weight) = u.blkio_weight
            && let Some(dir) = self.dir(if v2 { "" } else { "blkio" })
        {
            // Only with a proportional I/O scheduler; the daemon warns and
            // drops the weight when the host has none (dockerd's rule).
            let files: &[&str] =
                if v2 { &["io.weight", "io.bfq.weight"] } else { &["blkio.weight", "blkio.bfq.weight"] };
            if let Some(file) = files.iter().map(|f| dir.join(f)).find(|p| p.exists()) {
                let value = if v2 { format!("default {weight}") } else { weight.to_string() };
                self.write(&file, &value)?;
            }
        }
        if let Some(mem) = self.dir("memory") {
            if let Some(soft) = u.memory_reservation {
                let file = if v2 { "memory.low" } else { "memory.soft_limit_in_bytes" };
                self.write(&mem.join(file), &limit_text(soft, v2))?;
            }
            self.set_memory(mem, u.memory, u.memory_swap)?;
        }
        Ok(())
    }

    /// v1 keeps `memory.limit_in_bytes <= memory.memsw.limit_in_bytes`
    /// at every step, so the order of the two writes depends on the
    /// direction (runc's rule); v2 limits swap alone.
    fn set_memory(&self, mem: &Path, memory: Option<i64>, swap: Option<i64>) -> Result<()> {
        if self.v2() {
            if let Some(m) = memory {
                self.write(&mem.join("memory.max"), &limit_text(m, true))?;
            }
            if let Some(total) = swap {
                let current = read(&mem.join("memory.max")).unwrap_or_default();
                let value = match (total, memory.or_else(|| current.parse().ok())) {
                    (-1, _) | (_, None) => "max".to_string(),
                    (total, Some(m)) => total.saturating_sub(m).max(0).to_string(),
                };
                self.write_if_present(&mem.join("memory.swap.max"), &value)?;
            }
            return Ok(());
        }
        let limit = mem.join("memory.limit_in_bytes");
        let memsw = mem.join("memory.memsw.limit_in_bytes");
        match (memory, swap) {
            (Some(m), Some(total)) => {
                let current = read_u64(&limit);
                if total == -1 || current < total as u64 {
                    self.write_if_present(&memsw, &total.to_string())?;
                    self.write(&limit, &m.to_string())
                } else {
                    self.write(&limit, &m.to_string())?;
                    self.write_if_present(&memsw, &total.to_string())
                }
            }
            (Some(m), None) => self.write(&limit, &m.to_string()),
            (None, Some(total)) => self.write_if_present(&memsw, &total.to_string()),
            (None, None) => Ok(()),
        }
    }

    /// A CFS period and quota; the kernel checks each write against the
    /// other value, so a refused first write is retried after the second.
    fn set_cfs(&self, cpu: &Path, period: Option<i64>, quota: Option<i64>) -> Result<()> {
        if self.v2() {
            let current = read(&cpu.join("cpu.max")).unwrap_or_default();
            let mut parts = current.split_whitespace();
            let (old_quota, old_period) = (parts.next().unwrap_or("max").to_string(), parts.next().unwrap_or("100000"));
            let quota = match quota {
                Some(q) if q > 0 => q.to_string(),
                Some(_) => "max".to_string(),
                None => old_quota,
            };
            let period = period.map_or_else(|| old_period.to_string(), |p| p.to_string());
            return self.write(&cpu.join("cpu.max"), &format!("{quota} {period}"));
        }
        let writes: Vec<(PathBuf, String)> = [
            period.map(|p| (cpu.join("cpu.cfs_period_us"), p.to_string())),
            quota.map(|q| (cpu.join("cpu.cfs_quota_us"), if q > 0 { q.to_string() } else { "-1".into() })),
        ]
        .into_iter()
        .flatten()
        .collect();
        let all = |order: &mut dyn Iterator<Item = &(PathBuf, String)>| -> Result<()> {
            for (path, value) in order {
                self.write(path, value)?;
            }
            Ok(())
        };
        all(&mut writes.iter()).or_else(|_| all(&mut writes.iter().rev()))
    }

    /// Hosts without swap accounting have no swap file: Docker warned and
    /// went on without the swap limit.
    fn write_if_present(&self, path: &Path, value: &str) -> Result<()> {
        if path.exists() {
            self.write(path, value)
        } else {
            tracing::warn!(container = %self.id, "swap limit not supported by this kernel; ignored");
            Ok(())
        }
    }

    /// SIGKILLs every member (frozen first on v1 so nothing forks in
    /// between), waits for the cgroup to empty and removes its directories.
    pub fn destroy(&self) -> Result<()> {
        let frozen = !self.v2()
            && self.dir("freezer").map(|d| fs::write(d.join("freezer.state"), "FROZEN").is_ok()).unwrap_or(false);
        if self.v2()
            && let Some(dir) = self.dir("")
            && dir.join("cgroup.kill").exists()
        {
            let _ = fs::write(dir.join("cgroup.kill"), "1");
        }
        for pid in self.pids().unwrap_or_default() {
            let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGKILL);
        }
        if frozen && let Some(d) = self.dir("freezer") {
            let _ = fs::write(d.join("freezer.state"), "THAWED");
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        for (_, dir) in &self.dirs {
            loop {
                match fs::remove_dir(dir) {
                    Ok(()) => break,
                    Err(e) if e.kind() == ErrorKind::NotFound => break,
                    // EBUSY while killed members are still exiting.
                    Err(e) if Instant::now() > deadline => return Err(self.err(dir, e)),
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A v1 cgroup whose controller directories are plain directories.
    fn fake_v1(root: &Path) -> Cgroup {
        let dirs: Vec<(String, PathBuf)> = ["memory", "cpu", "cpuacct", "cpuset", "blkio", "pids"]
            .iter()
            .map(|c| (c.to_string(), root.join(c)))
            .collect();
        for (_, d) in &dirs {
            fs::create_dir_all(d).unwrap();
        }
        Cgroup { id: "fake".into(), version: CgroupVersion::V1(dirs.clone()), dirs }
    }

    #[test]
    fn v1_figures_from_the_accounting_files() {
        let tmp = tempfile::tempdir().unwrap();
        let cg = fake_v1(tmp.path());
        let put = |rel: &str, text: &str| fs::write(tmp.path().join(rel), text).unwrap();
        put("memory/memory.usage_in_bytes", "4096\n");
        put("memory/memory.limit_in_bytes", "67108864\n");
        put("memory/memory.failcnt", "2\n");
        put("memory/memory.stat", "cache 10\ntotal_inactive_file 7\n");
        put("cpuacct/cpuacct.usage", "3000\n");
        put("cpuacct/cpuacct.usage_percpu", "1000 2000 \n");
        put("cpuacct/cpuacct.stat", "user 3\nsystem 1\n");
        put("cpu/cpu.stat", "nr_periods 5\nnr_throttled 1\nthrottled_time 99\n");
        put("blkio/blkio.bfq.io_service_bytes_recursive", "Total 0\n");
        put("blkio/blkio.throttle.io_service_bytes", "8:0 Read 512\n8:0 Write 1024\nTotal 1536\n");
        put("pids/pids.current", "3\n");
        put("pids/pids.max", "max\n");
        let s = cg.stats();
        assert_eq!((s.memory_usage, s.memory_limit, s.memory_failcnt), (4096, 64 << 20, 2));
        assert_eq!(s.memory_stats, vec![("cache".into(), 10), ("total_inactive_file".into(), 7)]);
        assert_eq!((s.cpu_usage, s.percpu_usage.clone()), (3000, vec![1000, 2000]));
        assert_eq!((s.cpu_user, s.cpu_kernel), (30_000_000, 10_000_000));
        assert_eq!(s.throttled, (5, 1, 99));
        assert_eq!(s.blkio_service_bytes, vec![(8, 0, "Read".into(), 512), (8, 0, "Write".into(), 1024)]);
        assert!(s.blkio_serviced.is_empty());
        assert_eq!((s.pids_current, s.pids_limit), (3, 0));
    }

    #[test]
    fn v2_io_stat_lines() {
        let e =
            io_stat("259:0 rbytes=10 wbytes=20 rios=1 wios=2 dbytes=0\nbad\n", &[("rios", "Read"), ("wios", "Write")]);
        assert_eq!(e, vec![(259, 0, "Read".into(), 1), (259, 0, "Write".into(), 2)]);
    }

    #[test]
    fn updates_write_the_limit_files() {
        let tmp = tempfile::tempdir().unwrap();
        let cg = fake_v1(tmp.path());
        let get = |rel: &str| fs::read_to_string(tmp.path().join(rel)).unwrap_or_default();
        fs::write(tmp.path().join("memory/memory.limit_in_bytes"), "67108864").unwrap();
        fs::write(tmp.path().join("memory/memory.memsw.limit_in_bytes"), "134217728").unwrap();
        let u = ResourceUpdate {
            memory: Some(48 << 20),
            memory_reservation: Some(-1),
            cpu_shares: Some(512),
            cpu_period: Some(50_000),
            cpu_quota: Some(-1),
            cpuset_cpus: Some("0".into()),
            blkio_weight: Some(300),
            ..Default::default()
        };
        assert!(!u.is_empty() && ResourceUpdate::default().is_empty());
        cg.update(&u).unwrap();
        assert_eq!(get("memory/memory.limit_in_bytes"), (48 << 20).to_string());
        assert_eq!(get("memory/memory.memsw.limit_in_bytes"), "134217728", "swap untouched");
        assert_eq!(get("memory/memory.soft_limit_in_bytes"), "-1");
        assert_eq!((get("cpu/cpu.shares"), get("cpu/cpu.cfs_period_us")), ("512".into(), "50000".into()));
        assert_eq!(get("cpu/cpu.cfs_quota_us"), "-1");
        assert_eq!(get("cpuset/cpuset.cpus"), "0");
        assert!(!tmp.path().join("blkio/blkio.weight").exists(), "no weight file, no weight");
        cg.update(&ResourceUpdate { memory: Some(32 << 20), memory_swap: Some(-1), ..Default::default() }).unwrap();
        assert_eq!(get("memory/memory.memsw.limit_in_bytes"), "-1");
    }

    #[test]
    fn weight_conversion() {
        assert_eq!(shares_to_weight(2), 1);
        assert_eq!(shares_to_weight(262_144), 10000);
        assert_eq!(shares_to_weight(1024), 39);
    }
}
