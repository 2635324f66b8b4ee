//! Device nodes a container gets in `/dev` and the device cgroup allow-list
//! (libcontainer's `DefaultSimpleDevices` / `DefaultAllowedDevices`, which
//! Docker 1.2's template used).

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
}
