//! The exec driver's [`Command`] for a container (Docker 1.2's
//! `populateCommand` in `daemon/container.go`): process, hostname, network
//! mode, bind mounts, the three network files and the cgroup limits, from
//! the container's merged Config and HostConfig.

use std::fs::DirBuilder;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use execdriver::{BindMount, Command, NetworkMode, Process, Resources};

use crate::container::Container;
use crate::error::ContainerError;
use crate::store::ContainerStore;

/// Builds the command for `c`, whose root filesystem is mounted at
/// `rootfs`. Blocking: missing bind-mount sources are created (0755, as
/// Docker 1.2 did).
pub fn build(c: &Container, rootfs: PathBuf, store: &ContainerStore) -> Result<Command, ContainerError> {
    let hc = &c.host_config;
    let dir = c.dir(store.dir());
    let file = |name: &str| Some(dir.join(name)).filter(|p| p.exists());
    Ok(Command {
        id: c.id.clone(),
        rootfs,
        process: Process {
            args: std::iter::once(c.path.clone()).chain(c.args.iter().cloned()).collect(),
            env: c.config.env.clone().unwrap_or_default(),
            working_dir: c.config.working_dir.clone(),
            user: c.config.user.clone(),
            tty: c.config.tty,
            open_stdin: c.config.open_stdin,
            privileged: hc.privileged,
            cap_add: hc.cap_add.clone().unwrap_or_default(),
            cap_drop: hc.cap_drop.clone().unwrap_or_default(),
        },
        hostname: c.config.hostname.clone(),
        domainname: c.config.domainname.clone(),
        network: network_mode(c, store)?,
        mounts: binds(c)?,
        hosts_path: file("hosts"),
        hostname_path: file("hostname"),
        resolv_conf_path: file("resolv.conf"),
        resources: Resources {
            memory: hc.memory,
            memory_swap: hc.memory_swap,
            cpu_shares: hc.cpu_shares,
            cpuset_cpus: hc.cpuset_cpus.clone(),
        },
        allowed_devices: Vec::new(),
    })
}

/// Bridge networking arrives with the network driver; until then the
/// default mode is a namespace with loopback only, as Docker 1.2 with
/// `-b none`.
fn network_mode(c: &Container, store: &ContainerStore) -> Result<NetworkMode, ContainerError> {
    let mode = c.host_config.network_mode.as_str();
    match mode {
        "" | "none" | "default" | "bridge" => Ok(NetworkMode::None),
        "host" => Ok(NetworkMode::Host),
        _ => {
            let Some(other) = mode.strip_prefix("container:") else {
                return Err(ContainerError::BadParameter(format!("network {mode} not found")));
            };
            let handle = store.get(other)?;
            let other = handle.lock();
            if !other.state.running || other.state.pid <= 0 {
                return Err(ContainerError::BadParameter(format!(
                    "cannot join network of a non running container: {}",
                    other.name
                )));
            }
            Ok(NetworkMode::Container(other.state.pid as i32))
        }
    }
}

/// `-v /host:/ctr[:ro|rw]`. Named volumes need the volume store, which
/// does not exist yet: they are refused with a clear error.
fn binds(c: &Container) -> Result<Vec<BindMount>, ContainerError> {
    let mut mounts = Vec::new();
    for spec in c.host_config.binds.iter().flatten() {
        let bad = |reason: &str| ContainerError::Bind { id: c.id.clone(), spec: spec.clone(), reason: reason.into() };
        let parts: Vec<&str> = spec.split(':').collect();
        let (source, destination, mode) = match parts.as_slice() {
            [s, d] => (*s, *d, ""),
            [s, d, m] => (*s, *d, *m),
            _ => return Err(bad("expected /host:/container[:mode]")),
        };
        if !source.starts_with('/') {
            return Err(bad("named volumes are not supported yet; give an absolute host path"));
        }
        if !destination.starts_with('/') {
            return Err(bad("the container path must be absolute"));
        }
        let modes: Vec<&str> = mode.split(',').filter(|m| !m.is_empty()).collect();
        if modes.iter().any(|m| !matches!(*m, "ro" | "rw" | "z" | "Z" | "private" | "rprivate")) {
            return Err(bad("invalid mode"));
        }
        let source = Path::new(source);
        if !source.exists() {
            DirBuilder::new().recursive(true).mode(0o755).create(source).map_err(|e| {
                bad(&format!("Could not create local directory '{}' for bind mount: {e}!", source.display()))
            })?;
        }
        mounts.push(BindMount {
            source: source.to_path_buf(),
            destination: PathBuf::from(destination),
            read_only: modes.contains(&"ro"),
            private: false,
        });
    }
    Ok(mounts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binds_parse_modes_and_create_sources() {
        let tmp = tempfile::tempdir().unwrap();
        let src = tmp.path().join("a/b");
        let mut c = Container { id: "c1".into(), ..Default::default() };
        c.host_config.binds = Some(vec![format!("{}:/data:ro", src.display()), "/tmp:/t".into()]);
        let m = binds(&c).unwrap();
        assert!(src.is_dir());
        assert_eq!((m[0].destination.as_path(), m[0].read_only), (Path::new("/data"), true));
        assert!(!m[1].read_only);
        c.host_config.binds = Some(vec!["vol:/data".into()]);
        assert!(binds(&c).unwrap_err().to_string().contains("named volumes"));
        c.host_config.binds = Some(vec!["/x:/y:bogus".into()]);
        assert!(binds(&c).is_err());
    }
}
