//! Volumes (`daemon/volumes.go` of Docker 1.2, with the layout and rules of
//! dockerd 1.12's `local` driver): binds `-v /host:/ctr[:ro]`,
//! `--volumes-from NAME[:ro|rw]`, and anonymous volumes for the config's
//! and the image's `Volumes`, each a directory `<root>/volumes/<64 hex>/_data`
//! filled with the image's content at its path when it is made.
//!
//! Everything is decided at create and recorded in the container's
//! `MountPoints` (so `--volumes-from` and a restarted daemon see the same
//! volumes); `start` only bind-mounts what is recorded. A named volume
//! (`-v name:/ctr`) is the same directory under its name, made (and filled)
//! by the first container that names it and shared by every later one;
//! `rm -v` keeps it, as today's dockerd does. The volume API (`docker
//! volume ...`) does not exist yet.

use std::fs::{self, DirBuilder};
use std::os::unix::fs::DirBuilderExt;
use std::path::{Component, Path, PathBuf};

use execdriver::BindMount;

use crate::Daemon;
use crate::container::{Container, MountPoint};
use crate::error::ContainerError;
use crate::store::ContainerStore;

/// The volume driver of every volume here.
pub const LOCAL_DRIVER: &str = "local";

/// dockerd's default propagation of a bind on Linux, as inspect shows it.
const BIND_PROPAGATION: &str = "rprivate";

/// `/a//b/` → `/a/b`; `None` unless absolute and free of `..`.
fn clean(path: &str) -> Option<String> {
    let p = Path::new(path);
    if !p.is_absolute() {
        return None;
    }
    let mut out = PathBuf::from("/");
    for c in p.components() {
        match c {
            Component::Normal(n) => out.push(n),
            Component::RootDir | Component::CurDir => {}
            Component::ParentDir | Component::Prefix(_) => return None,
        }
    }
    Some(out.to_string_lossy().into_owned())
}

/// Parses one `-v` bind, `/host:/ctr[:mode]`.
pub fn parse_bind(id: &str, spec: &str) -> Result<MountPoint, ContainerError> {
    let bad = |reason: &str| ContainerError::Bind { id: id.to_string(), spec: spec.to_string(), reason: reason.into() };
    let parts: Vec<&str> = spec.split(':').collect();
    let (source, destination, mode) = match parts.as_slice() {
        [s, d] => (*s, *d, ""),
        [s, d, m] => (*s, *d, *m),
        _ => return Err(bad("expected /host:/container[:mode]")),
    };
    let destination = clean(destination).ok_or_else(|| bad("the container path must be absolute"))?;
    if destination == "/" {
        return Err(bad("the container path must not be /"));
    }
    let modes: Vec<&str> = mode.split(',').filter(|m| !m.is_empty()).collect();
    if modes.iter().any(|m| !matches!(*m, "ro" | "rw" | "z" | "Z" | "private" | "rprivate")) {
        return Err(bad("invalid mode"));
    }
    if !source.starts_with('/') {
        if !valid_volume_name(source) {
            return Err(ContainerError::BadParameter(format!(
                "create {source}: \"{source}\" includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, use absolute path"
            )));
        }
        // The source is the volume's `_data`, known once it exists.
        return Ok(MountPoint {
            destination,
            rw: !modes.contains(&"ro"),
            name: source.to_string(),
            driver: LOCAL_DRIVER.to_string(),
            mode: mode.to_string(),
            named: true,
            ..Default::default()
        });
    }
    Ok(MountPoint {
        source: clean(source).ok_or_else(|| bad("the host path must be absolute"))?,
        destination,
        rw: !modes.contains(&"ro"),
        mode: mode.to_string(),
        propagation: BIND_PROPAGATION.to_string(),
        ..Default::default()
    })
}

/// dockerd's local volume names: `[a-zA-Z0-9][a-zA-Z0-9_.-]+`.
fn valid_volume_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    name.len() >= 2
        && bytes.next().is_some_and(|b| b.is_ascii_alphanumeric())
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// `NAME[:ro|rw]` of `--volumes-from`.
fn parse_volumes_from(spec: &str) -> Result<(&str, bool), ContainerError> {
    match spec.split_once(':') {
        None => Ok((spec, true)),
        Some((name, "rw")) => Ok((name, true)),
        Some((name, "ro")) => Ok((name, false)),
        Some((_, mode)) => Err(ContainerError::BadParameter(format!("invalid mode for volumes-from: {mode}"))),
    }
}

/// `<root>/volumes/<name>`.
fn volume_dir(daemon: &Daemon, name: &str) -> PathBuf {
    daemon.layout().volumes.join(name)
}

/// Decides `c`'s mount points (blocking), as dockerd's
/// `registerMountPoints` + `createContainerPlatformSpecificSettings`: the
/// volumes of `--volumes-from` containers, then the binds (which win on the
/// same path), then a new anonymous volume for each `Volumes` path still
/// free. Returns the names of the volumes it made, for the caller to
/// [`remove_volumes`] if the create fails later; on its own failure it
/// removes them itself.
pub fn register(daemon: &Daemon, c: &mut Container) -> Result<Vec<String>, ContainerError> {
    let mut points = std::collections::BTreeMap::new();
    for spec in c.host_config.volumes_from.iter().flatten() {
        let (name, writable) = parse_volumes_from(spec)?;
        // Today's dockerd answers 400 here (1.12: 404, which makes today's
        // CLI try to pull the image): the container is a bad parameter of
        // this create, not the thing looked for.
        let other = match daemon.containers().get(name) {
            Ok(handle) => handle.lock().clone(),
            Err(e @ ContainerError::NoSuchContainer(_)) => return Err(ContainerError::BadParameter(e.to_string())),
            Err(e) => return Err(e),
        };
        for m in other.mount_points.values() {
            // The mode is not inherited, only its read-only-ness (dockerd).
            let m = MountPoint { rw: m.rw && writable, mode: String::new(), ..m.clone() };
            points.insert(m.destination.clone(), m);
        }
    }
    for spec in c.host_config.binds.iter().flatten() {
        let m = parse_bind(&c.id, spec)?;
        points.insert(m.destination.clone(), m);
    }
    // Named volumes not made yet are made (and filled) like anonymous ones.
    let mut wanted: Vec<(String, Option<String>)> = Vec::new();
    for m in points.values_mut().filter(|m| m.named && m.source.is_empty()) {
        let data = volume_dir(daemon, &m.name).join("_data");
        if data.is_dir() {
            m.source = data.to_string_lossy().into_owned();
        } else {
            wanted.push((m.destination.clone(), Some(m.name.clone())));
        }
    }
    for path in c.config.volumes.iter().flatten().map(|(p, _)| p) {
        let destination = clean(path).ok_or_else(|| {
            ContainerError::BadParameter(format!(
                "Invalid volume destination path: '{path}' mount path must be absolute."
            ))
        })?;
        if !points.contains_key(&destination) {
            wanted.push((destination, None));
        }
    }
    let mut made = Vec::new();
    if !wanted.is_empty() {
        let driver = daemon.graph().driver();
        let rootfs = driver.get(c.layer_id())?;
        let created = wanted.iter().try_for_each(|(destination, named)| {
            let name = named.clone().unwrap_or_else(crate::create::random_id);
            let data = create_volume(daemon, &c.id, &name, &rootfs, destination)?;
            made.push(name.clone());
            let source = data.to_string_lossy().into_owned();
            match points.get_mut(destination) {
                Some(m) => m.source = source,
                None => {
                    let m = MountPoint {
                        source,
                        destination: destination.clone(),
                        rw: true,
                        name,
                        driver: LOCAL_DRIVER.to_string(),
                        ..Default::default()
                    };
                    points.insert(destination.clone(), m);
                }
            }
            Ok(())
        });
        if let Err(e) = driver.put(c.layer_id()) {
            tracing::warn!(container = %c.id, error = %e, "unmounting after filling volumes");
        }
        if let Err(e) = created {
            remove_volumes(daemon, &made);
            return Err(e);
        }
    }
    c.mount_points = points;
    Ok(made)
}

/// Makes `<root>/volumes/<name>/_data`, a copy of the image's directory at
/// `destination` when it has one (dockerd copies it at create, with its
/// owner and mode); the `_data` path.
fn create_volume(
    daemon: &Daemon,
    id: &str,
    name: &str,
    rootfs: &Path,
    destination: &str,
) -> Result<PathBuf, ContainerError> {
    let dir = volume_dir(daemon, name);
    let data = dir.join("_data");
    DirBuilder::new().mode(0o755).create(&dir).map_err(ContainerError::io(id, &dir))?;
    // Resolved as the container would see it: an image symlink on the way
    // (`/var/run` -> `/run`) must not lead to the host's directory.
    let inside = graph::archive::resolve_in_root(rootfs, destination)?;
    let filled = match fs::symlink_metadata(&inside) {
        Ok(m) if m.is_dir() => graph::copy_tree(&inside, &data).map_err(ContainerError::from),
        Ok(_) => Err(ContainerError::BadParameter(format!(
            "cannot mount volume over existing file, file exists {}",
            inside.display()
        ))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            DirBuilder::new().mode(0o755).create(&data).map_err(ContainerError::io(id, &data))
        }
        Err(e) => Err(ContainerError::io(id, &inside)(e)),
    };
    if let Err(e) = filled {
        let _ = fs::remove_dir_all(&dir);
        return Err(e);
    }
    tracing::debug!(container = %id, volume = %name, destination, "volume created");
    Ok(data)
}

/// Removes volume directories (blocking); failures are logged, as the
/// container they served is gone either way.
pub fn remove_volumes(daemon: &Daemon, names: &[String]) {
    for name in names {
        let dir = volume_dir(daemon, name);
        match fs::remove_dir_all(&dir) {
            Ok(()) => tracing::info!(volume = %name, "volume removed"),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => tracing::warn!(volume = %name, path = %dir.display(), error = %e, "removing a volume"),
        }
    }
}

/// The volumes of `c` that no other container uses (`rm -v`).
pub fn unused_volumes(store: &ContainerStore, c: &Container) -> Vec<String> {
    let others = store.list();
    c.mount_points
        .values()
        .filter(|m| m.is_volume() && !m.named && m.driver == LOCAL_DRIVER)
        .filter(|m| !others.iter().any(|o| o.id != c.id && o.mount_points.values().any(|om| om.name == m.name)))
        .map(|m| m.name.clone())
        .collect()
}

/// The exec driver's bind mounts for `c`, whose root filesystem is at
/// `rootfs` (blocking): its recorded mount points, parents before children,
/// plus binds of a host config given to `start` by an old client that
/// create never saw. A missing bind source is created (0755), as Docker
/// does. Destinations are resolved in the root's scope, as dockerd does, so
/// a symlink in the image cannot point a mount outside the container.
pub fn mounts(c: &Container, rootfs: &Path) -> Result<Vec<BindMount>, ContainerError> {
    let mut points = c.mount_points.clone();
    for spec in c.host_config.binds.iter().flatten() {
        let m = parse_bind(&c.id, spec)?;
        if !points.contains_key(&m.destination) && m.is_volume() {
            return Err(ContainerError::BadParameter(format!(
                "named volume {} must be given at create, not at start",
                m.name
            )));
        }
        points.entry(m.destination.clone()).or_insert(m);
    }
    let mut out = Vec::new();
    for m in points.values() {
        let source = Path::new(&m.source);
        if !source.exists() {
            if m.is_volume() {
                return Err(ContainerError::BadParameter(format!(
                    "volume {} of container {} is missing: {}",
                    m.name,
                    c.id,
                    source.display()
                )));
            }
            DirBuilder::new().recursive(true).mode(0o755).create(source).map_err(|e| ContainerError::Bind {
                id: c.id.clone(),
                spec: format!("{}:{}", m.source, m.destination),
                reason: format!("Could not create local directory '{}' for bind mount: {e}!", source.display()),
            })?;
        }
        let resolved = graph::archive::resolve_in_root(rootfs, &m.destination)?;
        let inside = resolved.strip_prefix(rootfs).map_err(|_| {
            ContainerError::BadParameter(format!("mount destination {} leaves the container", m.destination))
        })?;
        out.push(BindMount {
            source: source.to_path_buf(),
            destination: Path::new("/").join(inside),
            read_only: !m.rw,
            private: false,
        });
    }
    Ok(out)
}

/// Inspect's `Mounts`, by destination.
pub fn to_wire(c: &Container) -> Vec<runconfig::container::MountPoint> {
    c.mount_points
        .values()
        .map(|m| runconfig::container::MountPoint {
            kind: if m.is_volume() { "volume" } else { "bind" }.to_string(),
            name: m.name.clone(),
            source: m.source.clone(),
            destination: m.destination.clone(),
            driver: m.driver.clone(),
            mode: m.mode.clone(),
            rw: m.rw,
            propagation: m.propagation.clone(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binds_parse_with_modes() {
        let m = parse_bind("c1", "/h//x/:/data/:ro").unwrap();
        assert_eq!((m.source.as_str(), m.destination.as_str(), m.rw, m.mode.as_str()), ("/h/x", "/data", false, "ro"));
        assert!(parse_bind("c1", "/h:/d").unwrap().rw);
        let named = parse_bind("c1", "vol:/data:ro").unwrap();
        assert_eq!((named.name.as_str(), named.named, named.rw, named.source.as_str()), ("vol", true, false, ""));
        assert!(parse_bind("c1", "v/x:/data").unwrap_err().to_string().contains("invalid characters"));
        assert!(parse_bind("c1", "v:/data").is_err());
        assert!(parse_bind("c1", "/x:/y:bogus").is_err());
        assert!(parse_bind("c1", "/x:y").is_err());
        assert!(parse_bind("c1", "/x:/").is_err());
        assert!(parse_bind("c1", "/x:/a/../b").is_err());
    }

    #[test]
    fn volumes_from_modes() {
        assert_eq!(parse_volumes_from("a").unwrap(), ("a", true));
        assert_eq!(parse_volumes_from("a:ro").unwrap(), ("a", false));
        assert_eq!(parse_volumes_from("a:rw").unwrap(), ("a", true));
        assert!(parse_volumes_from("a:x").is_err());
    }

    #[test]
    fn mounts_are_ordered_and_make_bind_sources() {
        let tmp = tempfile::tempdir().unwrap();
        let src = tmp.path().join("a/b");
        let vol = tmp.path().join("vol");
        fs::create_dir(&vol).unwrap();
        let mut c = Container { id: "c1".into(), ..Default::default() };
        let volume = MountPoint {
            source: vol.to_string_lossy().into_owned(),
            destination: "/data/sub".into(),
            rw: true,
            name: "v".into(),
            driver: LOCAL_DRIVER.into(),
            ..Default::default()
        };
        c.mount_points.insert(volume.destination.clone(), volume);
        c.host_config.binds = Some(vec![format!("{}:/data:ro", src.display())]);
        let root = tmp.path().join("root");
        fs::create_dir_all(root.join("real")).unwrap();
        std::os::unix::fs::symlink("/real", root.join("data")).unwrap();
        let m = mounts(&c, &root).unwrap();
        assert!(src.is_dir());
        let got: Vec<(&Path, bool)> = m.iter().map(|m| (m.destination.as_path(), m.read_only)).collect();
        // Through the image's absolute symlink, inside the root.
        assert_eq!(got, [(Path::new("/real"), true), (Path::new("/real/sub"), false)]);
        let wire = to_wire(&c);
        assert_eq!((wire[0].kind.as_str(), wire[0].driver.as_str()), ("volume", "local"));
        fs::remove_dir(&vol).unwrap();
        assert!(mounts(&c, &root).unwrap_err().to_string().contains("missing"));
    }
}
