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

/// Memory, CPU and block I/O figures (what `docker stats` shows).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Stats {
    pub memory_usage: u64,
    pub memory_max_usage: u64,
    /// `u64::MAX`-ish when unlimited, as the kernel reports it.
    pub memory_limit: u64,
    /// `memory.stat` key/value pairs.
    pub memory_stats: Vec<(String, u64)>,
    /// Total CPU time, nanoseconds.
    pub cpu_usage: u64,
    pub percpu_usage: Vec<u64>,
    /// (major, minor, op, bytes) from blkio/io accounting.
    pub blkio_service_bytes: Vec<(u64, u64, String, u64)>,
    pub pids_current: u64,
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

    /// Reads the accounting files.
    pub fn stats(&self) -> Stats {
        let mut s = Stats::default();
        let v2 = self.v2();
        if let Some(mem) = self.dir("memory") {
            if v2 {
                s.memory_usage = read_u64(&mem.join("memory.current"));
                s.memory_max_usage = read_u64(&mem.join("memory.peak"));
                s.memory_limit = read(&mem.join("memory.max")).ok().and_then(|v| v.parse().ok()).unwrap_or(u64::MAX);
            } else {
                s.memory_usage = read_u64(&mem.join("memory.usage_in_bytes"));
                s.memory_max_usage = read_u64(&mem.join("memory.max_usage_in_bytes"));
                s.memory_limit = read_u64(&mem.join("memory.limit_in_bytes"));
            }
            s.memory_stats = read(&mem.join("memory.stat"))
                .unwrap_or_default()
                .lines()
                .filter_map(|l| l.split_once(' ').and_then(|(k, v)| Some((k.to_string(), v.parse().ok()?))))
                .collect();
        }
        if v2 {
            if let Some(dir) = self.dir("") {
                let stat = read(&dir.join("cpu.stat")).unwrap_or_default();
                s.cpu_usage = stat
                    .lines()
                    .find_map(|l| l.strip_prefix("usage_usec ").and_then(|v| v.parse::<u64>().ok()))
                    .unwrap_or(0)
                    * 1000;
                for line in read(&dir.join("io.stat")).unwrap_or_default().lines() {
                    let mut parts = line.split(' ');
                    let dev = parts.next().unwrap_or("");
                    let (major, minor) = dev.split_once(':').unwrap_or(("0", "0"));
                    for kv in parts {
                        let Some((k, v)) = kv.split_once('=') else { continue };
                        let op = match k {
                            "rbytes" => "Read",
                            "wbytes" => "Write",
                            _ => continue,
                        };
                        s.blkio_service_bytes.push((
                            major.parse().unwrap_or(0),
                            minor.parse().unwrap_or(0),
                            op.into(),
                            v.parse().unwrap_or(0),
                        ));
                    }
                }
                s.pids_current = read_u64(&dir.join("pids.current"));
            }
        } else {
            if let Some(acct) = self.dir("cpuacct") {
                s.cpu_usage = read_u64(&acct.join("cpuacct.usage"));
                s.percpu_usage = read(&acct.join("cpuacct.usage_percpu"))
                    .unwrap_or_default()
                    .split_whitespace()
                    .filter_map(|v| v.parse().ok())
                    .collect();
            }
            if let Some(blk) = self.dir("blkio") {
                for line in read(&blk.join("blkio.throttle.io_service_bytes")).unwrap_or_default().lines() {
                    let f: Vec<&str> = line.split(' ').collect();
                    if let [dev, op, value] = f[..]
                        && let Some((major, minor)) = dev.split_once(':')
                    {
                        s.blkio_service_bytes.push((
                            major.parse().unwrap_or(0),
                            minor.parse().unwrap_or(0),
                            op.into(),
                            value.parse().unwrap_or(0),
                        ));
                    }
                }
            }
            if let Some(p) = self.dir("pids") {
                s.pids_current = read_u64(&p.join("pids.current"));
            }
        }
        s
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

    #[test]
    fn weight_conversion() {
        assert_eq!(shares_to_weight(2), 1);
        assert_eq!(shares_to_weight(262_144), 10000);
        assert_eq!(shares_to_weight(1024), 39);
    }
}
