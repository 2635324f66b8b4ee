//! Facts about the host that `info` reports: kernel, OS, memory, CPUs, which
//! cgroup controllers exist (cgroup v1 or v2), forwarding and bridge
//! netfilter switches. Read from `/proc` and `/sys` on each call; `info` is
//! not a hot path and the answers can change.

use std::path::{Path, PathBuf};

/// Which cgroup features containers can use.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CgroupFeatures {
    /// `1` or `2`.
    pub version: u8,
    /// Memory limits.
    pub memory: bool,
    /// Memory+swap limits.
    pub swap: bool,
    /// Kernel memory limits (v1 only).
    pub kernel_memory: bool,
    /// `memory.oom_control` (v1) / always with memory on v2.
    pub oom_kill_disable: bool,
    /// CFS period.
    pub cpu_cfs_period: bool,
    /// CFS quota.
    pub cpu_cfs_quota: bool,
    /// CPU shares / weight.
    pub cpu_shares: bool,
    /// cpusets.
    pub cpuset: bool,
    /// pids limit.
    pub pids: bool,
}

fn read_trimmed(path: impl AsRef<Path>) -> Option<String> {
    std::fs::read_to_string(path).ok().map(|s| s.trim().to_string())
}

/// cgroup v2 when the unified hierarchy is mounted at `/sys/fs/cgroup`.
pub fn cgroup_features() -> CgroupFeatures {
    if let Some(controllers) = read_trimmed("/sys/fs/cgroup/cgroup.controllers") {
        let has = |c: &str| controllers.split_whitespace().any(|x| x == c);
        let memory = has("memory");
        let swap_off =
            read_trimmed("/proc/cmdline").is_some_and(|c| c.split_whitespace().any(|a| a == "swapaccount=0"));
        return CgroupFeatures {
            version: 2,
            memory,
            swap: memory && !swap_off,
            kernel_memory: false,
            oom_kill_disable: false,
            cpu_cfs_period: has("cpu"),
            cpu_cfs_quota: has("cpu"),
            cpu_shares: has("cpu"),
            cpuset: has("cpuset"),
            pids: has("pids"),
        };
    }
    let memory = v1_mount("memory");
    let cpu = v1_mount("cpu");
    let exists = |dir: &Option<PathBuf>, file: &str| dir.as_ref().is_some_and(|d| d.join(file).exists());
    CgroupFeatures {
        version: 1,
        memory: memory.is_some(),
        swap: exists(&memory, "memory.memsw.limit_in_bytes"),
        kernel_memory: exists(&memory, "memory.kmem.limit_in_bytes"),
        oom_kill_disable: exists(&memory, "memory.oom_control"),
        cpu_cfs_period: exists(&cpu, "cpu.cfs_period_us"),
        cpu_cfs_quota: exists(&cpu, "cpu.cfs_quota_us"),
        cpu_shares: exists(&cpu, "cpu.shares"),
        cpuset: v1_mount("cpuset").is_some(),
        pids: v1_mount("pids").is_some(),
    }
}

/// The mount point of a cgroup v1 controller, from `/proc/self/mountinfo`.
pub fn v1_mount(controller: &str) -> Option<PathBuf> {
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    mountinfo.lines().find_map(|line| {
        let (left, right) = line.split_once(" - ")?;
        let mut right = right.split_whitespace();
        if right.next()? != "cgroup" {
            return None;
        }
        let super_options = right.nth(1)?;
        let mount_point = left.split_whitespace().nth(4)?;
        super_options.split(',').any(|o| o == controller).then(|| PathBuf::from(mount_point))
    })
}

/// `PRETTY_NAME` of os-release, `<unknown>` when there is none.
pub fn operating_system() -> String {
    let text = std::fs::read_to_string("/etc/os-release").or_else(|_| std::fs::read_to_string("/usr/lib/os-release"));
    let name = text
        .ok()
        .and_then(|t| t.lines().find_map(|l| l.strip_prefix("PRETTY_NAME=").map(|v| v.trim_matches('"').to_string())));
    let mut name = name.unwrap_or_else(|| "<unknown>".to_string());
    if Path::new("/.dockerenv").exists() {
        name.push_str(" (containerized)");
    }
    name
}

/// The kernel release (`uname -r`), `<unknown>` if unreadable.
pub fn kernel_version() -> String {
    nix::sys::utsname::uname()
        .map(|u| u.release().to_string_lossy().into_owned())
        .unwrap_or_else(|_| "<unknown>".to_string())
}

/// The machine (`uname -m`).
pub fn architecture() -> String {
    nix::sys::utsname::uname().map(|u| u.machine().to_string_lossy().into_owned()).unwrap_or_default()
}

/// Total memory in bytes.
pub fn mem_total() -> u64 {
    read_trimmed("/proc/meminfo")
        .and_then(|m| {
            m.lines().find_map(|l| {
                l.strip_prefix("MemTotal:").and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            })
        })
        .map_or(0, |kb| kb * 1024)
}

/// CPUs this process may run on.
pub fn ncpu() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Open file descriptors of this process.
pub fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count())
}

/// `/proc/sys/...` switch reading `1`.
pub fn sysctl_on(path: &str) -> bool {
    read_trimmed(path).as_deref() == Some("1")
}

/// The host name.
pub fn hostname() -> String {
    nix::unistd::gethostname().map(|h| h.to_string_lossy().into_owned()).unwrap_or_default()
}

/// The MTU of the default route's interface, 1500 when there is none
/// (`GetDefaultNetworkMtu` of Docker 1.2).
pub fn default_route_mtu() -> u32 {
    let iface = std::fs::read_to_string("/proc/net/route").ok().and_then(|routes| {
        routes.lines().skip(1).find_map(|l| {
            let mut f = l.split_whitespace();
            let (iface, dest) = (f.next()?, f.next()?);
            (dest == "00000000").then(|| iface.to_string())
        })
    });
    iface.and_then(|i| read_trimmed(format!("/sys/class/net/{i}/mtu"))).and_then(|m| m.parse().ok()).unwrap_or(1500)
}

/// The file system type under `path` (`extfs`, `xfs`, `tmpfs`, ...), named
/// as Docker names backing file systems.
pub fn backing_filesystem(path: &Path) -> String {
    use nix::sys::statfs::{self, FsType};
    let Ok(fs) = statfs::statfs(path) else { return "<unknown>".to_string() };
    let t = fs.filesystem_type();
    let known: [(FsType, &str); 6] = [
        (statfs::EXT4_SUPER_MAGIC, "extfs"),
        (statfs::XFS_SUPER_MAGIC, "xfs"),
        (statfs::BTRFS_SUPER_MAGIC, "btrfs"),
        (statfs::TMPFS_MAGIC, "tmpfs"),
        (statfs::OVERLAYFS_SUPER_MAGIC, "overlayfs"),
        (statfs::NFS_SUPER_MAGIC, "nfs"),
    ];
    known.iter().find(|(k, _)| *k == t).map_or_else(|| format!("{:#x}", t.0), |(_, n)| n.to_string())
}

/// True when the kernel lists overlayfs.
pub fn overlay_supported() -> bool {
    read_trimmed("/proc/filesystems").is_some_and(|f| f.lines().any(|l| l.split_whitespace().last() == Some("overlay")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_facts_are_plausible() {
        assert!(mem_total() > 0);
        assert!(ncpu() >= 1);
        assert!(open_fds() >= 3);
        assert!(!kernel_version().is_empty());
        assert!((68..=65535).contains(&default_route_mtu()));
        let cg = cgroup_features();
        assert!(cg.version == 1 || cg.version == 2);
    }
}
