//! What a daemon killed with SIGKILL leaves behind: container processes
//! still running in their cgroups with nobody to supervise them. Docker 1.2's
//! native driver made sure none survived the daemon; ours cannot tie a
//! container's life to one daemon thread (the parent-death signal fires when
//! the *thread* that forked exits), so the next daemon kills what is left
//! before it marks the container exited or restarts it.

use std::fs;
use std::io::ErrorKind;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::cgroups::CgroupVersion;

/// How long the killed processes get to leave their cgroup.
const EMPTY_DEADLINE: Duration = Duration::from_secs(5);

/// The cgroup directories container `id` would have on this host.
fn dirs(id: &str) -> Vec<PathBuf> {
    match CgroupVersion::detect() {
        Some(CgroupVersion::V1(controllers)) => {
            let mut dirs: Vec<PathBuf> = controllers.iter().map(|(_, mount)| mount.join("docker").join(id)).collect();
            // Controllers mounted together (cpu,cpuacct) share a directory.
            dirs.sort();
            dirs.dedup();
            dirs
        }
        Some(CgroupVersion::V2(root)) => vec![root.join("docker").join(id)],
        None => Vec::new(),
    }
}

fn members(dirs: &[PathBuf]) -> Vec<i32> {
    let mut pids: Vec<i32> = dirs
        .iter()
        .filter_map(|d| fs::read_to_string(d.join("cgroup.procs")).ok())
        .flat_map(|text| text.lines().filter_map(|l| l.trim().parse().ok()).collect::<Vec<i32>>())
        .collect();
    pids.sort_unstable();
    pids.dedup();
    pids
}

/// Kills every process left in container `id`'s cgroup and removes the
/// cgroup. Returns how many processes were killed; an error names the
/// directory that would not go away.
pub fn reap_leftovers(id: &str) -> std::io::Result<usize> {
    let dirs: Vec<PathBuf> = dirs(id).into_iter().filter(|d| d.is_dir()).collect();
    if dirs.is_empty() {
        return Ok(0);
    }
    // A paused container's processes cannot act on SIGKILL until thawed.
    for d in &dirs {
        let _ = fs::write(d.join("freezer.state"), "THAWED");
        let _ = fs::write(d.join("cgroup.freeze"), "0");
    }
    let mut killed = std::collections::BTreeSet::new();
    let deadline = Instant::now() + EMPTY_DEADLINE;
    loop {
        let pids = members(&dirs);
        if pids.is_empty() {
            break;
        }
        if Instant::now() > deadline {
            return Err(std::io::Error::other(format!("processes {pids:?} of container {id} would not die")));
        }
        for pid in pids {
            if kill(Pid::from_raw(pid), Signal::SIGKILL).is_ok() {
                killed.insert(pid);
            }
        }
        // Polled: a cgroup v1 has no notification of becoming empty that
        // works without a release agent.
        std::thread::sleep(Duration::from_millis(5));
    }
    for d in &dirs {
        loop {
            match fs::remove_dir(d) {
                Ok(()) => break,
                Err(e) if e.kind() == ErrorKind::NotFound => break,
                Err(e) if Instant::now() > deadline => {
                    return Err(std::io::Error::new(e.kind(), format!("removing {}: {e}", d.display())));
                }
                // EBUSY while the killed processes finish exiting.
                Err(_) => std::thread::sleep(Duration::from_millis(5)),
            }
        }
    }
    Ok(killed.len())
}
