//! The value checks of the container flags (Docker 1.2's `opts` package
//! and `runconfig.ParseDevice`) and the `--env-file` reader: each takes the
//! text of one flag occurrence and gives back what is stored, or the
//! reason it is refused (which the flag set words as a usage error).

use std::path::Path;

use runconfig::container::DeviceMapping;

/// `opts.ParseEnvFile`: one `KEY=value` a line, the value as written; `#`
/// lines and blank ones skipped; a bare `KEY` as `-e KEY`. Errors name the
/// file and line. Like today's CLI (not 1.2) leading blanks are trimmed and
/// a blank line may hold spaces.
pub(super) fn parse_env_file(path: &Path) -> Result<Vec<String>, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("open {}: {}", path.display(), io_text(&e)))?;
    let text = String::from_utf8_lossy(&bytes);
    let mut vars = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim_start_matches([' ', '\t']);
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let name = line.split_once('=').map_or(line.trim_end(), |(k, _)| k);
        if name.is_empty() || name.contains([' ', '\t']) {
            return Err(format!(
                "poorly formatted environment: variable '{name}' has white spaces or is empty ({}, line {})",
                path.display(),
                n + 1
            ));
        }
        vars.push(match line.split_once('=') {
            Some(_) => line.to_string(),
            None => validate_env(name)?,
        });
    }
    Ok(vars)
}

/// An I/O error as Go prints it: `no such file or directory`, without
/// Rust's `(os error 2)`.
fn io_text(e: &std::io::Error) -> String {
    let text = e.to_string();
    let text = text.split(" (os error").next().unwrap_or(&text);
    let mut chars = text.chars();
    chars.next().map(|c| c.to_lowercase().chain(chars).collect()).unwrap_or_default()
}

/// `opts.ValidateIPAddress`: the address in its canonical form.
pub(super) fn validate_ip(s: &str) -> Result<String, String> {
    s.trim().parse::<std::net::IpAddr>().map(|ip| ip.to_string()).map_err(|_| format!("{s} is not an ip address"))
}

/// `opts.ValidateDnsSearch`: `.` (no search domain) or a domain name, given
/// back without its trailing dot. Also refused, as today's CLI does: names
/// of 255 characters or more.
pub(super) fn validate_dns_search(s: &str) -> Result<String, String> {
    let s = s.trim_matches(' ');
    if s == "." {
        return Ok(s.to_string());
    }
    let invalid = || format!("{s} is not a valid domain");
    let name = s.trim_end();
    let name = name.strip_suffix('.').unwrap_or(name);
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    if !name.chars().any(|c| c.is_ascii_alphabetic()) || name.len() >= 255 || !name.split('.').all(label_ok) {
        return Err(invalid());
    }
    Ok(name.to_string())
}

/// `--add-host host:ip` (today's `opts.ValidateExtraHost`); the IP may be
/// IPv6, so the split is at the first colon.
pub(super) fn validate_extra_host(s: &str) -> Result<String, String> {
    match s.split_once(':') {
        Some((host, ip)) if !host.is_empty() => match ip.parse::<std::net::IpAddr>() {
            Ok(_) => Ok(s.to_string()),
            Err(_) => Err(format!("invalid IP address in add-host: {ip:?}")),
        },
        _ => Err(format!("bad format for add-host: {s:?}")),
    }
}

/// `--link name:alias`; a bare `name` is its own alias (today's CLI; 1.2
/// required both parts).
pub(super) fn validate_link(s: &str) -> Result<String, String> {
    let parts: Vec<&str> = s.split(':').collect();
    match parts.as_slice() {
        [name] | [name, _] if !name.is_empty() && !parts.iter().any(|p| p.is_empty()) => Ok(s.to_string()),
        _ => Err(format!("bad format for links: {s}")),
    }
}

/// `runconfig.ParseDevice`: `/host[:/container][:permissions]`, the
/// container path defaulting to the host's and the permissions to `rwm`.
/// As today's CLI, `/host:rw` is the host path with permissions, and both
/// paths must be absolute and the permissions some of `r`, `w`, `m`.
pub(super) fn device(s: &str) -> Result<DeviceMapping, String> {
    let mode_ok = |m: &str| !m.is_empty() && m.chars().all(|c| matches!(c, 'r' | 'w' | 'm'));
    let (host, inside, permissions) = match s.split(':').collect::<Vec<_>>().as_slice() {
        [host] => (*host, *host, "rwm"),
        [host, mode] if mode_ok(mode) => (*host, *host, *mode),
        [host, inside] => (*host, *inside, "rwm"),
        [host, inside, mode] => (*host, *inside, *mode),
        _ => return Err(format!("Invalid device specification: {s}")),
    };
    for path in [host, inside] {
        if !path.starts_with('/') {
            return Err(format!("{path} is not an absolute path"));
        }
    }
    if !mode_ok(permissions) {
        return Err(format!("invalid device mode: {permissions}"));
    }
    Ok(DeviceMapping {
        path_on_host: host.to_string(),
        path_in_container: inside.to_string(),
        cgroup_permissions: permissions.to_string(),
    })
}

/// `opts.ValidateEnv`: `KEY=value` as is; a bare `KEY` takes the client's
/// own value when it has one.
pub(super) fn validate_env(e: &str) -> Result<String, String> {
    match e.split_once('=') {
        Some(("", _)) => Err(format!("invalid environment variable: {e}")),
        Some(_) => Ok(e.to_string()),
        None if e.is_empty() => Err(format!("invalid environment variable: {e}")),
        None => Ok(std::env::var(e).map_or_else(|_| e.to_string(), |v| format!("{e}={v}"))),
    }
}

/// A label is `key=value`, or a bare `key` with an empty value.
pub(super) fn validate_label(l: &str) -> Result<String, String> {
    match l.split_once('=').map_or(l, |(k, _)| k) {
        "" => Err(format!("invalid label format: {l:?} (expected key=value)")),
        _ => Ok(l.to_string()),
    }
}

pub(super) fn validate_workdir(w: &str) -> Result<String, String> {
    if w.starts_with('/') {
        Ok(w.to_string())
    } else {
        Err(format!("the working directory '{w}' is invalid, it needs to be an absolute path"))
    }
}
