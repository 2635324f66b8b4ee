//! `-u uid[:gid]` / `-u name[:group]` resolved against the container's own
//! `/etc/passwd` and `/etc/group` (Docker 1.2's `user.GetUserGroupSupplementaryHome`).

use std::fs;

/// Who the process runs as.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct ExecUser {
    pub uid: u32,
    pub gid: u32,
    pub groups: Vec<u32>,
    pub home: String,
}

struct PasswdEntry {
    name: String,
    uid: u32,
    gid: u32,
    home: String,
}

fn passwd(text: &str) -> Vec<PasswdEntry> {
    text.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            if f.len() < 7 {
                return None;
            }
            Some(PasswdEntry { name: f[0].into(), uid: f[2].parse().ok()?, gid: f[3].parse().ok()?, home: f[5].into() })
        })
        .collect()
}

/// (name, gid, members)
fn groups(text: &str) -> Vec<(String, u32, Vec<String>)> {
    text.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            if f.len() < 4 {
                return None;
            }
            let members = f[3].split(',').filter(|m| !m.is_empty()).map(String::from).collect();
            Some((f[0].to_string(), f[2].parse().ok()?, members))
        })
        .collect()
}

/// Resolves `spec` with the given file contents (missing files are empty).
pub(crate) fn resolve_with(spec: &str, passwd_text: &str, group_text: &str) -> Result<ExecUser, String> {
    let (user, group) = match spec.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (spec, None),
    };
    let users = passwd(passwd_text);
    let entry = if user.is_empty() {
        users.iter().find(|e| e.uid == 0)
    } else if let Ok(uid) = user.parse::<u32>() {
        users.iter().find(|e| e.uid == uid)
    } else {
        users.iter().find(|e| e.name == user)
    };
    let (uid, mut gid, home, name) = match (entry, user.parse::<u32>()) {
        (Some(e), _) => (e.uid, e.gid, e.home.clone(), Some(e.name.clone())),
        (None, Ok(uid)) => (uid, uid, "/".to_string(), None),
        (None, Err(_)) if user.is_empty() => (0, 0, "/".to_string(), None),
        (None, Err(_)) => return Err(format!("Unable to find user {user}: no matching entries in passwd file")),
    };
    let all_groups = groups(group_text);
    if let Some(g) = group.filter(|g| !g.is_empty()) {
        gid = match g.parse::<u32>() {
            Ok(n) => n,
            Err(_) => all_groups
                .iter()
                .find(|(n, _, _)| n == g)
                .map(|(_, id, _)| *id)
                .ok_or_else(|| format!("Unable to find group {g}: no matching entries in group file"))?,
        };
    }
    let groups = match (&name, group) {
        (Some(name), None) => all_groups.iter().filter(|(_, _, m)| m.contains(name)).map(|(_, id, _)| *id).collect(),
        _ => Vec::new(),
    };
    Ok(ExecUser { uid, gid, groups, home })
}

/// Resolves against the current root (called after `pivot_root`).
pub(crate) fn resolve(spec: &str) -> Result<ExecUser, String> {
    let p = fs::read_to_string("/etc/passwd").unwrap_or_default();
    let g = fs::read_to_string("/etc/group").unwrap_or_default();
    resolve_with(spec, &p, &g)
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: &str = "root:x:0:0:root:/root:/bin/sh\nbob:x:1000:1000::/home/bob:/bin/sh\n";
    const G: &str = "root:x:0:\nstaff:x:50:bob\nbob:x:1000:\n";

    #[test]
    fn resolves() {
        assert_eq!(resolve_with("", P, G).unwrap(), ExecUser { uid: 0, gid: 0, groups: vec![], home: "/root".into() });
        let bob = resolve_with("bob", P, G).unwrap();
        assert_eq!((bob.uid, bob.gid, bob.groups, bob.home.as_str()), (1000, 1000, vec![50], "/home/bob"));
        let n = resolve_with("1234:99", P, G).unwrap();
        assert_eq!((n.uid, n.gid), (1234, 99));
        assert_eq!(resolve_with("bob:staff", P, G).unwrap().gid, 50);
        assert!(resolve_with("nobody", P, G).is_err());
        assert!(resolve_with("bob:nogroup", P, G).is_err());
    }
}
