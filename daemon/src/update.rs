//! The `container_update` job (Docker 1.12's `daemon/update.go`; Docker
//! 1.2 had no update): new memory, CPU and block I/O limits and a new
//! restart policy for a container. The body is checked as dockerd checks
//! it (`verifyContainerResources` with `update` set), the non-zero fields
//! are merged into the stored `HostConfig`, saved atomically, and applied
//! to the live cgroup when the container runs; a stopped container gets
//! them at its next start.

use std::collections::BTreeSet;

use engine::names::env;
use engine::{ErrorKind, Job, Status};
use execdriver::cgroups::ResourceUpdate;
use runconfig::container::{HostConfig, MIN_MEMORY, RestartPolicy};
use runconfig::stats::{UpdateConfig, UpdateResponse};

use crate::error::ContainerError;
use crate::runtime::{Control, blocking};
use crate::{Daemon, events, sysinfo};

/// Why an update was refused.
#[derive(Debug, thiserror::Error)]
enum UpdateError {
    /// Lookup, validation, store or driver failure.
    #[error(transparent)]
    Container(#[from] ContainerError),
    /// The container's state forbids this change (dockerd's
    /// `errCannotUpdate` text).
    #[error("Cannot update container {id}: {reason}")]
    Cannot { id: String, reason: String },
    /// The kernel refused the new limits (the stored config is restored).
    #[error("Cannot update container {id}: {source}")]
    Refused { id: String, source: ContainerError },
    /// The new memory limit would exceed the swap limit already set.
    #[error("Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time")]
    SwapBelowMemory,
}

impl UpdateError {
    fn kind(&self) -> ErrorKind {
        match self {
            UpdateError::Container(e) | UpdateError::Refused { source: e, .. } => e.kind(),
            // dockerd 1.12 answered 500 for all of these; today's answers
            // 409 for the swap clash, and a state clash is a conflict here
            // as everywhere else in this daemon.
            UpdateError::Cannot { .. } | UpdateError::SwapBelowMemory => ErrorKind::Conflict,
        }
    }
}

/// Runs `container_update CONTAINER` with the JSON body in env `body`.
pub async fn update(daemon: Daemon, job: Job) -> Status {
    let Some(name) = job.args().first().cloned() else {
        return job.errorf("Usage: container_update CONTAINER").await;
    };
    let config: UpdateConfig = match serde_json::from_str(&job.getenv(env::BODY)) {
        Ok(c) => c,
        Err(e) => return job.fail(ErrorKind::BadParameter, format!("invalid update body: {e}")).await,
    };
    match update_container(&daemon, &name, config).await {
        Ok((warnings, c)) => {
            events::log(&job, "update", &c, &[]).await;
            let answer = serde_json::to_string(&UpdateResponse { warnings }).unwrap_or_default();
            match job.print(answer).await {
                Ok(()) => Status::OK,
                Err(e) => job.errorf(format!("container_update: {e}")).await,
            }
        }
        Err(e) => job.fail(e.kind(), e).await,
    }
}

async fn update_container(
    daemon: &Daemon,
    name: &str,
    u: UpdateConfig,
) -> Result<(Vec<String>, crate::container::Container), UpdateError> {
    // The checks read the host's cgroup and CPU files.
    let (u, warnings) = blocking(name, move || {
        let mut u = u;
        Ok(check(&mut u).map(|warnings| (u, warnings)))
    })
    .await??;
    let handle = daemon.containers().get(name)?;
    let (id, old, new) = {
        let mut c = handle.lock();
        let id = c.id.clone();
        if c.state.removal_in_progress || c.state.dead {
            let reason = "Container is marked for removal and cannot be \"update\".".to_string();
            return Err(UpdateError::Cannot { id, reason });
        }
        if c.state.running && u.kernel_memory != 0 {
            let reason = "Can not update kernel memory to a running container, please stop it first.".to_string();
            return Err(UpdateError::Cannot { id, reason });
        }
        let hc = &c.host_config;
        // Today's dockerd's check: the kernel keeps memory below memory+swap.
        if u.memory > 0 && u.memory_swap == 0 && hc.memory_swap > 0 && u.memory > hc.memory_swap {
            return Err(UpdateError::SwapBelowMemory);
        }
        if u.memory == 0 && u.memory_swap > 0 && hc.memory > 0 && u.memory_swap < hc.memory {
            return Err(bad("Minimum memoryswap limit should be larger than memory limit, see usage"));
        }
        let old = c.host_config.clone();
        merge(&mut c.host_config, &u);
        (id, old, c.clone())
    };

    let d = daemon.clone();
    let saved = new.clone();
    if let Err(e) = blocking(&id, move || d.containers().save(&saved)).await {
        handle.lock().host_config = old;
        return Err(e.into());
    }

    // Asked whatever the state seen above: a container that started since
    // gets the limits now, one that stopped has them saved for its start.
    let live = live_update(&u);
    if !live.is_empty() {
        let slot = daemon.runtime().slot(&id);
        match slot.control(|reply| Control::Update(Box::new(live), reply)).await {
            Ok(()) | Err(ContainerError::NotRunning(_)) => {}
            Err(e) => {
                // dockerd restores the stored config when the kernel refuses.
                let restored = {
                    let mut c = handle.lock();
                    c.host_config = old;
                    c.clone()
                };
                let d = daemon.clone();
                if let Err(save) = blocking(&id, move || d.containers().save(&restored)).await {
                    tracing::error!(container = %id, error = %save, "could not restore the host config");
                }
                return Err(UpdateError::Refused { id, source: e });
            }
        }
    }
    Ok((warnings, new))
}

fn bad(text: &str) -> UpdateError {
    UpdateError::Container(ContainerError::BadParameter(text.to_string()))
}

/// dockerd's `verifyContainerResources(update=true)`: refuses bad values,
/// drops (with a warning) what the host's cgroups cannot do.
fn check(u: &mut UpdateConfig) -> Result<Vec<String>, UpdateError> {
    let features = sysinfo::cgroup_features();
    let mut warnings = Vec::new();
    let mut warn = |text: &str| {
        tracing::warn!("{text}");
        warnings.push(text.to_string());
    };
    if u.memory != 0 && u.memory < MIN_MEMORY {
        return Err(bad("Minimum memory limit allowed is 4MB"));
    }
    if u.memory > 0 && !features.memory {
        warn("Your kernel does not support memory limit capabilities. Limitation discarded.");
        (u.memory, u.memory_swap) = (0, 0);
    }
    if u.memory > 0 && u.memory_swap != -1 && u.memory_swap != 0 && !features.swap {
        warn("Your kernel does not support swap limit capabilities, memory limited without swap.");
        u.memory_swap = 0;
    }
    if u.memory > 0 && u.memory_swap > 0 && u.memory_swap < u.memory {
        return Err(bad("Minimum memoryswap limit should be larger than memory limit, see usage"));
    }
    if u.memory_reservation > 0 && !features.memory {
        warn("Your kernel does not support memory soft limit capabilities. Limitation discarded.");
        u.memory_reservation = 0;
    }
    if u.memory_reservation > 0 && u.memory_reservation < MIN_MEMORY {
        return Err(bad("Minimum memory reservation allowed is 4MB"));
    }
    if u.memory > 0 && u.memory_reservation > 0 && u.memory < u.memory_reservation {
        return Err(bad("Minimum memory limit should be larger than memory reservation limit, see usage"));
    }
    if u.kernel_memory > 0 && !features.kernel_memory {
        warn("Your kernel does not support kernel memory limit capabilities. Limitation discarded.");
        u.kernel_memory = 0;
    }
    if u.kernel_memory > 0 && u.kernel_memory < MIN_MEMORY {
        return Err(bad("Minimum kernel memory limit allowed is 4MB"));
    }
    if u.cpu_shares < 0 {
        return Err(bad(&format!("Invalid CPU shares: {}", u.cpu_shares)));
    }
    if u.cpu_shares > 0 && !features.cpu_shares {
        warn("Your kernel does not support CPU shares. Shares discarded.");
        u.cpu_shares = 0;
    }
    if u.cpu_period > 0 && !features.cpu_cfs_period {
        warn("Your kernel does not support CPU cfs period. Period discarded.");
        u.cpu_period = 0;
    }
    if u.cpu_period != 0 && !(1000..=1_000_000).contains(&u.cpu_period) {
        return Err(bad("CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)"));
    }
    if u.cpu_quota > 0 && !features.cpu_cfs_quota {
        warn("Your kernel does not support CPU cfs quota. Quota discarded.");
        u.cpu_quota = 0;
    }
    if u.cpu_quota > 0 && u.cpu_quota < 1000 {
        return Err(bad("CPU cfs quota can not be less than 1ms (i.e. 1000)"));
    }
    if (!u.cpuset_cpus.is_empty() || !u.cpuset_mems.is_empty()) && !features.cpuset {
        warn("Your kernel does not support cpuset. Cpuset discarded.");
        (u.cpuset_cpus, u.cpuset_mems) = (String::new(), String::new());
    }
    check_cpuset(&u.cpuset_cpus, "/sys/devices/system/cpu/online", "cpuset cpus", "CPUs")?;
    check_cpuset(&u.cpuset_mems, "/sys/devices/system/node/online", "cpuset mems", "memory nodes")?;
    if u.blkio_weight > 0 && !blkio_weight_supported() {
        warn("Your kernel does not support Block I/O weight. Weight discarded.");
        u.blkio_weight = 0;
    }
    if u.blkio_weight > 0 && !(10..=1000).contains(&u.blkio_weight) {
        return Err(bad("Range of blkio weight is from 10 to 1000"));
    }
    check_restart_policy(&u.restart_policy)?;
    Ok(warnings)
}

/// A cpuset list that parses and names only what the host has (the
/// host's list read from `online`; no such file means node 0 only).
fn check_cpuset(value: &str, online: &str, what: &str, plural: &str) -> Result<(), UpdateError> {
    if value.is_empty() {
        return Ok(());
    }
    let wanted = parse_list(value).ok_or_else(|| bad(&format!("Invalid value {value} for {what}")))?;
    let available_text = std::fs::read_to_string(online).map_or_else(|_| "0".to_string(), |s| s.trim().to_string());
    let available = parse_list(&available_text).unwrap_or_default();
    if !wanted.is_subset(&available) {
        return Err(bad(&format!(
            "Requested {plural} are not available - requested {value}, available: {available_text}"
        )));
    }
    Ok(())
}

/// `0-2,4` → {0,1,2,4}; `None` when malformed.
fn parse_list(s: &str) -> Option<BTreeSet<u32>> {
    let mut out = BTreeSet::new();
    for part in s.split(',') {
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b): (u32, u32) = (a.parse().ok()?, b.parse().ok()?);
                if a > b || b - a > 4096 {
                    return None;
                }
                out.extend(a..=b);
            }
            None => {
                out.insert(part.parse().ok()?);
            }
        }
    }
    Some(out)
}

/// A proportional-weight I/O scheduler's weight file exists.
fn blkio_weight_supported() -> bool {
    match sysinfo::v1_mount("blkio") {
        Some(dir) => dir.join("blkio.weight").exists() || dir.join("blkio.bfq.weight").exists(),
        None => std::fs::read_to_string("/sys/fs/cgroup/cgroup.controllers")
            .is_ok_and(|c| c.split_whitespace().any(|x| x == "io")),
    }
}

/// The restart policy rules of create (an empty name leaves the policy).
fn check_restart_policy(policy: &RestartPolicy) -> Result<(), UpdateError> {
    match policy.name.as_str() {
        "" | "no" | "always" | "unless-stopped" if policy.maximum_retry_count != 0 => {
            Err(bad(&format!("maximum restart count not valid with restart policy type: {}", policy.name)))
        }
        "" | "no" | "always" | "unless-stopped" => Ok(()),
        "on-failure" if policy.maximum_retry_count < 0 => Err(bad("maximum restart count must be a positive integer")),
        "on-failure" => Ok(()),
        other => Err(bad(&format!("invalid restart policy {other}"))),
    }
}

/// dockerd's `UpdateContainer`: every non-zero field replaces the stored one.
fn merge(hc: &mut HostConfig, u: &UpdateConfig) {
    if u.blkio_weight != 0 {
        hc.blkio_weight = i64::from(u.blkio_weight);
    }
    let set = |field: &mut i64, value: i64| {
        if value != 0 {
            *field = value;
        }
    };
    set(&mut hc.cpu_shares, u.cpu_shares);
    set(&mut hc.cpu_period, u.cpu_period);
    set(&mut hc.cpu_quota, u.cpu_quota);
    set(&mut hc.memory, u.memory);
    set(&mut hc.memory_swap, u.memory_swap);
    set(&mut hc.memory_reservation, u.memory_reservation);
    set(&mut hc.kernel_memory, u.kernel_memory);
    if !u.cpuset_cpus.is_empty() {
        hc.cpuset_cpus.clone_from(&u.cpuset_cpus);
    }
    if !u.cpuset_mems.is_empty() {
        hc.cpuset_mems.clone_from(&u.cpuset_mems);
    }
    if !u.restart_policy.name.is_empty() {
        hc.restart_policy = u.restart_policy.clone();
    }
}

/// The changes for the live cgroup (kernel memory never reaches one).
fn live_update(u: &UpdateConfig) -> ResourceUpdate {
    let some = |v: i64| (v != 0).then_some(v);
    let text = |s: &String| (!s.is_empty()).then(|| s.clone());
    ResourceUpdate {
        memory: some(u.memory),
        memory_swap: some(u.memory_swap),
        memory_reservation: some(u.memory_reservation),
        cpu_shares: some(u.cpu_shares),
        cpu_period: some(u.cpu_period),
        cpu_quota: some(u.cpu_quota),
        cpuset_cpus: text(&u.cpuset_cpus),
        cpuset_mems: text(&u.cpuset_mems),
        blkio_weight: (u.blkio_weight != 0).then_some(u.blkio_weight),
    }
}

/// The stored limits a start does not apply itself: the exec driver's
/// `Resources` carries only Docker 1.2's four (memory, swap, shares,
/// cpuset cpus), so the monitor applies these right after the start.
pub(crate) fn start_extras(hc: &HostConfig) -> ResourceUpdate {
    let some = |v: i64| (v != 0).then_some(v);
    ResourceUpdate {
        memory_reservation: some(hc.memory_reservation),
        cpu_period: some(hc.cpu_period),
        cpu_quota: some(hc.cpu_quota),
        cpuset_mems: (!hc.cpuset_mems.is_empty()).then(|| hc.cpuset_mems.clone()),
        blkio_weight: u16::try_from(hc.blkio_weight).ok().filter(|w| *w != 0),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checked(f: impl FnOnce(&mut UpdateConfig)) -> Result<Vec<String>, String> {
        let mut u = UpdateConfig::default();
        f(&mut u);
        check(&mut u).map_err(|e| e.to_string())
    }

    #[test]
    fn dockerd_refusals() {
        assert_eq!(checked(|u| u.memory = 1024).unwrap_err(), "Minimum memory limit allowed is 4MB");
        assert!(checked(|u| u.memory = MIN_MEMORY).is_ok());
        assert!(checked(|u| (u.memory, u.memory_swap) = (64 << 20, 32 << 20)).is_err());
        assert!(checked(|u| (u.memory, u.memory_swap) = (64 << 20, -1)).is_ok());
        assert!(checked(|u| u.memory_swap = 64 << 20).is_ok(), "swap alone is allowed in an update");
        assert!(checked(|u| u.cpuset_cpus = "0-x".into()).unwrap_err().starts_with("Invalid value 0-x"));
        assert!(checked(|u| u.cpuset_cpus = "4000".into()).unwrap_err().starts_with("Requested CPUs"));
        assert!(checked(|u| u.cpuset_cpus = "0".into()).is_ok());
        assert!(checked(|u| u.cpu_period = 10).is_err());
        assert!(checked(|u| u.cpu_quota = 10).is_err());
        assert!(checked(|u| u.restart_policy.name = "sometimes".into()).is_err());
        assert!(
            checked(|u| u.restart_policy = RestartPolicy { name: "always".into(), maximum_retry_count: 2 }).is_err()
        );
        assert!(checked(|u| (u.memory, u.memory_reservation) = (8 << 20, 16 << 20)).is_err());
    }

    #[test]
    fn only_non_zero_fields_change() {
        let mut hc = HostConfig { memory: 64 << 20, cpu_shares: 512, ..Default::default() };
        hc.restart_policy.name = "always".into();
        let u = UpdateConfig { memory: 48 << 20, cpuset_cpus: "0".into(), ..Default::default() };
        merge(&mut hc, &u);
        assert_eq!((hc.memory, hc.cpu_shares, hc.cpuset_cpus.as_str()), (48 << 20, 512, "0"));
        assert_eq!(hc.restart_policy.name, "always");
        let live = live_update(&u);
        assert_eq!((live.memory, live.cpu_shares, live.cpuset_cpus), (Some(48 << 20), None, Some("0".into())));
    }

    #[test]
    fn cpuset_lists() {
        assert_eq!(parse_list("0-2,4"), Some(BTreeSet::from([0, 1, 2, 4])));
        assert_eq!(parse_list("2-1"), None);
        assert_eq!(parse_list(""), None);
    }

    #[test]
    fn extras_applied_after_a_start() {
        assert!(start_extras(&HostConfig { memory: 1 << 30, cpu_shares: 2, ..Default::default() }).is_empty());
        let hc = HostConfig { cpu_quota: 50_000, blkio_weight: 300, ..Default::default() };
        let extras = start_extras(&hc);
        assert_eq!((extras.cpu_quota, extras.blkio_weight), (Some(50_000), Some(300)));
    }
}
