//! The capability set a container keeps: Docker 1.2's template list, then
//! `--cap-add`, `--cap-drop` (either may say `ALL`), or everything when
//! privileged. Everything else is dropped from the bounding set by the init.

use std::collections::HashSet;

use caps::Capability;

/// Docker 1.2's `template.New().Capabilities`.
pub const DEFAULT_CAPABILITIES: &[&str] = &[
    "CHOWN",
    "DAC_OVERRIDE",
    "FSETID",
    "FOWNER",
    "MKNOD",
    "NET_RAW",
    "SETGID",
    "SETUID",
    "SETFCAP",
    "SETPCAP",
    "NET_BIND_SERVICE",
    "SYS_CHROOT",
    "KILL",
    "AUDIT_WRITE",
];

fn parse(name: &str) -> Result<Capability, String> {
    let upper = name.trim().to_ascii_uppercase();
    let full = if upper.starts_with("CAP_") { upper } else { format!("CAP_{upper}") };
    full.parse::<Capability>().map_err(|_| format!("Unknown capability: {name}"))
}

/// The capabilities a process keeps, as Docker 1.2's `TweakCapabilities`
/// computed them (add first, then drop; `ALL` on either side).
pub fn capability_set(
    privileged: bool,
    cap_add: &[String],
    cap_drop: &[String],
) -> Result<HashSet<Capability>, String> {
    // What this kernel knows: naming a newer capability would fail to drop.
    let all = caps::runtime::thread_all_supported();
    if privileged {
        return Ok(all);
    }
    let mut set = HashSet::new();
    for name in DEFAULT_CAPABILITIES {
        set.insert(parse(name)?);
    }
    for name in cap_add {
        if name.eq_ignore_ascii_case("ALL") {
            set.extend(all.iter().copied());
        } else {
            set.insert(parse(name)?);
        }
    }
    for name in cap_drop {
        if name.eq_ignore_ascii_case("ALL") {
            set.clear();
        } else {
            set.remove(&parse(name)?);
        }
    }
    Ok(set)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_set_and_tweaks() {
        let set = capability_set(false, &[], &[]).unwrap();
        assert_eq!(set.len(), 14);
        let set = capability_set(false, &["NET_ADMIN".into()], &["chown".into()]).unwrap();
        assert!(set.contains(&Capability::CAP_NET_ADMIN));
        assert!(!set.contains(&Capability::CAP_CHOWN));
        assert!(capability_set(false, &[], &["ALL".into()]).unwrap().is_empty());
        assert!(capability_set(false, &["BOGUS".into()], &[]).is_err());
        assert_eq!(capability_set(true, &[], &[]).unwrap(), caps::runtime::thread_all_supported());
    }
}
