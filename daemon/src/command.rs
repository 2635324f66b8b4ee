//! The exec driver's [`Command`] for a container (Docker 1.2's
//! `populateCommand` in `daemon/container.go`): process, hostname, network
//! mode (with the bridge driver's `eth0` when the start allocated one),
//! the links' environment, volumes and bind mounts, the three network
//! files, the cgroup limits and the `--device` nodes, from the container's
//! merged Config and HostConfig.

use std::path::{Path, PathBuf};

use execdriver::{
    BridgeNetwork, Command, Device, DeviceRule, NetworkMode, Process, Resources, default_allowed_devices,
};

use crate::container::Container;
use crate::error::ContainerError;
use crate::store::ContainerStore;

/// Builds the command for `c`, whose root filesystem is mounted at
/// `rootfs`; `eth0` is the bridge address of this run, `link_env` the
/// links' variables (before the container's own, which win, as in Docker
/// 1.2). Blocking: missing bind-mount sources are created (0755, as Docker
/// 1.2 did); the mounts are the volumes module's.
pub fn build(
    c: &Container,
    rootfs: PathBuf,
    store: &ContainerStore,
    eth0: Option<BridgeNetwork>,
    link_env: &[String],
) -> Result<Command, ContainerError> {
    let hc = &c.host_config;
    let network = network_mode(c, store, eth0)?;
    // `--net=container:X` takes X's host name and its hosts, hostname and
    // resolv.conf files, as dockerd 1.12 does: the namespace's identity is
    // X's.
    let (dir, hostname, domainname) = match hc.network_mode.strip_prefix("container:") {
        Some(other) => {
            let other = store.get(other)?.lock().clone();
            (other.dir(store.dir()), other.config.hostname, other.config.domainname)
        }
        None => (c.dir(store.dir()), c.config.hostname.clone(), c.config.domainname.clone()),
    };
    let file = |name: &str| Some(dir.join(name)).filter(|p| p.exists());
    let mounts = crate::volumes::mounts(c, &rootfs)?;
    let (devices, allowed_devices) = devices(c)?;
    Ok(Command {
        id: c.id.clone(),
        rootfs,
        process: Process {
            args: std::iter::once(c.path.clone()).chain(c.args.iter().cloned()).collect(),
            env: link_env.iter().chain(c.config.env.iter().flatten()).cloned().collect(),
            working_dir: c.config.working_dir.clone(),
            user: c.config.user.clone(),
            tty: c.config.tty,
            open_stdin: c.config.open_stdin,
            privileged: hc.privileged,
            cap_add: hc.cap_add.clone().unwrap_or_default(),
            cap_drop: hc.cap_drop.clone().unwrap_or_default(),
        },
        hostname,
        domainname,
        network,
        mounts,
        hosts_path: file("hosts"),
        hostname_path: file("hostname"),
        resolv_conf_path: file("resolv.conf"),
        resources: Resources {
            memory: hc.memory,
            memory_swap: hc.memory_swap,
            cpu_shares: hc.cpu_shares,
            cpuset_cpus: hc.cpuset_cpus.clone(),
        },
        allowed_devices,
        devices,
    })
}

/// The host devices of `--device`, read now (at start, as Docker 1.2 did,
/// so a device plugged in after the create is found), and the allow-list:
/// the defaults plus one rule per device. No devices keeps the list empty,
/// which the driver reads as the defaults.
fn devices(c: &Container) -> Result<(Vec<Device>, Vec<DeviceRule>), ContainerError> {
    let mut devices = Vec::new();
    for m in c.host_config.devices.iter().flatten() {
        let inside = if m.path_in_container.is_empty() { &m.path_on_host } else { &m.path_in_container };
        let permissions = if m.cgroup_permissions.is_empty() { "rwm" } else { m.cgroup_permissions.as_str() };
        if !Path::new(inside).is_absolute() || !permissions.chars().all(|p| matches!(p, 'r' | 'w' | 'm')) {
            return Err(ContainerError::BadParameter(format!(
                "invalid device mapping {}:{inside}:{permissions}",
                m.path_on_host
            )));
        }
        let device = Device::from_host(Path::new(&m.path_on_host), Path::new(inside), permissions).map_err(|e| {
            ContainerError::BadParameter(format!("error gathering device information while adding custom device {e}"))
        })?;
        devices.push(device);
    }
    let allowed = match devices.is_empty() {
        true => Vec::new(),
        false => default_allowed_devices().into_iter().chain(devices.iter().map(Device::rule)).collect(),
    };
    Ok((devices, allowed))
}

/// The default mode is the bridge when the start allocated an address,
/// else (`-b none`) a namespace with loopback only, as Docker 1.2's
/// `NetworkDisabled`.
fn network_mode(
    c: &Container,
    store: &ContainerStore,
    eth0: Option<BridgeNetwork>,
) -> Result<NetworkMode, ContainerError> {
    let mode = c.host_config.network_mode.as_str();
    match mode {
        "" | "default" | "bridge" => Ok(eth0.map_or(NetworkMode::None, NetworkMode::Bridge)),
        "none" => Ok(NetworkMode::None),
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

#[cfg(test)]
mod tests {
    use runconfig::container::DeviceMapping;

    use super::*;

    fn with_devices(list: &[(&str, &str, &str)]) -> Container {
        let mut c = Container::default();
        c.host_config.devices = Some(
            list.iter()
                .map(|(h, c, p)| DeviceMapping {
                    path_on_host: h.to_string(),
                    path_in_container: c.to_string(),
                    cgroup_permissions: p.to_string(),
                })
                .collect(),
        );
        c
    }

    #[test]
    fn devices_add_nodes_and_rules_to_the_defaults() {
        let (nodes, rules) = devices(&Container::default()).unwrap();
        assert!(nodes.is_empty() && rules.is_empty(), "no devices: the driver's defaults");

        let (nodes, rules) =
            devices(&with_devices(&[("/dev/null", "/dev/xnull", "rw"), ("/dev/zero", "", "")])).unwrap();
        let paths: Vec<_> = nodes.iter().map(|d| d.path.to_str().unwrap()).collect();
        assert_eq!(paths, ["/dev/xnull", "/dev/zero"], "an empty container path is the host's");
        assert_eq!(rules.len(), default_allowed_devices().len() + 2);
        let lines: Vec<_> = rules.iter().rev().take(2).map(DeviceRule::to_cgroup_line).collect();
        assert_eq!(lines, ["c 1:5 rwm", "c 1:3 rw"], "empty permissions are rwm");

        let e = devices(&with_devices(&[("/etc/hostname", "/dev/x", "rwm")])).unwrap_err();
        assert_eq!(
            e.to_string(),
            "error gathering device information while adding custom device /etc/hostname: not a device node"
        );
        assert!(devices(&with_devices(&[("/dev/null", "rel", "rwm")])).is_err());
        assert!(devices(&with_devices(&[("/dev/null", "/dev/n", "rwx")])).is_err());
    }
}
