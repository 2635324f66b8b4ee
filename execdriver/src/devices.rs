//! Device nodes a container gets in `/dev` and the device cgroup allow-list
//! (libcontainer's `DefaultSimpleDevices` / `DefaultAllowedDevices`, which
//! Docker 1.2's template used), and the host devices `--device` adds
//! (libcontainer's `devices.GetDevice`).

use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// One device cgroup rule: `c 1:3 rwm`; `None` major/minor is `*`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct DeviceRule {
    /// `c`, `b` or `a`.
    pub kind: char,
    pub major: Option<u32>,
    pub minor: Option<u32>,
    /// Any of `r`, `w`, `m`.
    pub access: String,
}

impl DeviceRule {
    /// The line written to `devices.allow`.
    pub fn to_cgroup_line(&self) -> String {
        let num = |n: Option<u32>| n.map_or_else(|| "*".to_string(), |n| n.to_string());
        if self.kind == 'a' {
            return "a".to_string();
        }
        format!("{} {}:{} {}", self.kind, num(self.major), num(self.minor), self.access)
    }
}

/// A host device given to a container (`--device /dev/sdc:/dev/xvdc:rwm`):
/// created as a node at `path` inside the container and allowed in its
/// device cgroup with `permissions`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Device {
    /// Absolute, inside the container.
    pub path: PathBuf,
    /// `c` or `b`.
    pub kind: char,
    pub major: u32,
    pub minor: u32,
    /// The cgroup access: any of `r`, `w`, `m`.
    pub permissions: String,
    /// Permission bits of the host node, kept on the new one.
    pub mode: u32,
}

/// Why a host path cannot be given to a container as a device.
#[derive(Debug, thiserror::Error)]
pub enum DeviceError {
    #[error("{}: {source}", path.display())]
    Stat { path: PathBuf, source: std::io::Error },
    /// libcontainer's `ErrNotADeviceNode`.
    #[error("{}: not a device node", path.display())]
    NotADevice { path: PathBuf },
}

impl Device {
    /// Reads the host node at `host` (not following a symlink, as
    /// libcontainer's `Lstat`), to be created at `path` in the container.
    pub fn from_host(host: &Path, path: &Path, permissions: &str) -> Result<Device, DeviceError> {
        let meta =
            std::fs::symlink_metadata(host).map_err(|source| DeviceError::Stat { path: host.to_path_buf(), source })?;
        let kind = match meta.file_type() {
            t if t.is_char_device() => 'c',
            t if t.is_block_device() => 'b',
            _ => return Err(DeviceError::NotADevice { path: host.to_path_buf() }),
        };
        let rdev = meta.rdev();
        Ok(Device {
            path: path.to_path_buf(),
            kind,
            major: nix::sys::stat::major(rdev) as u32,
            minor: nix::sys::stat::minor(rdev) as u32,
            permissions: permissions.to_string(),
            mode: meta.mode() & 0o7777,
        })
    }

    /// The device cgroup rule that lets the container use it.
    pub fn rule(&self) -> DeviceRule {
        DeviceRule {
            kind: self.kind,
            major: Some(self.major),
            minor: Some(self.minor),
            access: self.permissions.clone(),
        }
    }
}

/// A node created in the container's `/dev`: name, major, minor (all
/// character devices, mode 0666).
pub(crate) const DEFAULT_NODES: &[(&str, u64, u64)] =
    &[("null", 1, 3), ("zero", 1, 5), ("full", 1, 7), ("random", 1, 8), ("urandom", 1, 9), ("tty", 5, 0)];

const ALLOWED: &[(char, Option<u32>, Option<u32>, &str)] = &[
    // mknod of anything, as 1.2 allowed; using the node is what is limited.
    ('c', None, None, "m"),
    ('b', None, None, "m"),
    ('c', Some(1), Some(3), "rwm"),
    ('c', Some(1), Some(5), "rwm"),
    ('c', Some(1), Some(7), "rwm"),
    ('c', Some(1), Some(8), "rwm"),
    ('c', Some(1), Some(9), "rwm"),
    ('c', Some(5), Some(0), "rwm"),
    // /dev/console, /dev/tty0, /dev/tty1
    ('c', Some(5), Some(1), "rwm"),
    ('c', Some(4), Some(0), "rwm"),
    ('c', Some(4), Some(1), "rwm"),
    // /dev/pts/* and /dev/ptmx
    ('c', Some(136), None, "rwm"),
    ('c', Some(5), Some(2), "rwm"),
    // tun/tap
    ('c', Some(10), Some(200), "rwm"),
];

/// Docker 1.2's default allow-list.
pub fn default_allowed_devices() -> Vec<DeviceRule> {
    ALLOWED
        .iter()
        .map(|&(kind, major, minor, access)| DeviceRule { kind, major, minor, access: access.to_string() })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cgroup_lines() {
        let rules = default_allowed_devices();
        assert_eq!(rules[0].to_cgroup_line(), "c *:* m");
        assert_eq!(rules[2].to_cgroup_line(), "c 1:3 rwm");
        assert!(rules.iter().any(|r| r.to_cgroup_line() == "c 136:* rwm"));
    }

    #[test]
    fn host_devices() {
        let null = Device::from_host(Path::new("/dev/null"), Path::new("/dev/xnull"), "rw").unwrap();
        assert_eq!((null.kind, null.major, null.minor, null.mode), ('c', 1, 3, 0o666));
        assert_eq!(null.path, Path::new("/dev/xnull"));
        assert_eq!(null.rule().to_cgroup_line(), "c 1:3 rw");
        let e = Device::from_host(Path::new("/etc/hostname"), Path::new("/x"), "rwm").unwrap_err();
        assert_eq!(e.to_string(), "/etc/hostname: not a device node");
        let e = Device::from_host(Path::new("/dev/no-such-device"), Path::new("/x"), "rwm").unwrap_err();
        assert!(e.to_string().starts_with("/dev/no-such-device: No such file"), "{e}");
    }
}
