//! The container's filesystem view, built inside its new mount namespace
//! (Docker 1.2's libcontainer `mount/init.go` and `mount/nodes`):
//! rootfs bind-mounted onto itself, /proc, /sys (ro), /dev (tmpfs with the
//! default nodes and the `--device` ones), /dev/pts (a new instance),
//! /dev/shm, /dev/mqueue, the container's /etc files and volumes, then
//! `pivot_root` and the /proc restrictions.

use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Component, Path, PathBuf};

use nix::mount::{MntFlags, MsFlags, mount, umount2};
use nix::sys::stat::{Mode, SFlag, makedev, mknod, umask};
use nix::unistd::{chdir, pivot_root};

use super::Failure;
use crate::command::Command;
use crate::devices::DEFAULT_NODES;

fn fail<E: std::fmt::Display>(what: impl std::fmt::Display, e: E) -> Failure {
    Failure { message: format!("{what}: {e}"), not_found: false }
}

fn mnt(
    src: Option<&str>,
    target: &Path,
    fstype: Option<&str>,
    flags: MsFlags,
    data: Option<&str>,
) -> Result<(), Failure> {
    mount(src, target, fstype, flags, data).map_err(|e| fail(format!("mount {}", target.display()), e))
}

/// `dest` (absolute, inside the container) under `rootfs`, with `..`
/// dropped so a volume cannot land outside the rootfs.
fn under(rootfs: &Path, dest: &Path) -> PathBuf {
    let mut out = rootfs.to_path_buf();
    for c in dest.components() {
        if let Component::Normal(p) = c {
            out.push(p);
        }
    }
    out
}

fn mkdir(path: &Path) -> Result<(), Failure> {
    fs::create_dir_all(path).map_err(|e| fail(format!("mkdir {}", path.display()), e))
}

/// Creates `target` as a file or directory like `source` so it can be a
/// bind-mount point.
fn mount_point_like(source: &Path, target: &Path) -> Result<(), Failure> {
    if source.is_dir() {
        return mkdir(target);
    }
    if let Some(parent) = target.parent() {
        mkdir(parent)?;
    }
    if !target.exists() {
        fs::File::create(target).map_err(|e| fail(format!("create {}", target.display()), e))?;
    }
    Ok(())
}

fn bind(source: &Path, target: &Path, read_only: bool) -> Result<(), Failure> {
    mount_point_like(source, target)?;
    mount(Some(source), target, None::<&str>, MsFlags::MS_BIND | MsFlags::MS_REC, None::<&str>)
        .map_err(|e| fail(format!("bind mount {} on {}", source.display(), target.display()), e))?;
    if read_only {
        let flags = MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY;
        mnt(None, target, None, flags, None)?;
    }
    Ok(())
}

/// Everything before `pivot_root`, while the host paths are still visible.
pub(super) fn prepare(cmd: &Command) -> Result<(), Failure> {
    let root = &cmd.rootfs;
    // Nothing we mount may propagate back to the host.
    mnt(None, Path::new("/"), None, MsFlags::MS_REC | MsFlags::MS_PRIVATE, None)?;
    // pivot_root needs the new root to be a mount point.
    mnt(Some(&root.to_string_lossy()), root, None, MsFlags::MS_BIND | MsFlags::MS_REC, None)?;

    let nosx = MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC | MsFlags::MS_NODEV;
    let proc_ = root.join("proc");
    mkdir(&proc_)?;
    mnt(Some("proc"), &proc_, Some("proc"), nosx, None)?;
    let sys = root.join("sys");
    mkdir(&sys)?;
    mnt(Some("sysfs"), &sys, Some("sysfs"), nosx | MsFlags::MS_RDONLY, None)?;

    let dev = root.join("dev");
    mkdir(&dev)?;
    mnt(Some("tmpfs"), &dev, Some("tmpfs"), MsFlags::MS_NOSUID | MsFlags::MS_STRICTATIME, Some("mode=755"))?;
    let pts = dev.join("pts");
    mkdir(&pts)?;
    mnt(
        Some("devpts"),
        &pts,
        Some("devpts"),
        MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC,
        Some("newinstance,ptmxmode=0666,mode=620"),
    )?;
    let shm = dev.join("shm");
    mkdir(&shm)?;
    mnt(Some("shm"), &shm, Some("tmpfs"), nosx, Some("mode=1777,size=65536k"))?;
    let mqueue = dev.join("mqueue");
    mkdir(&mqueue)?;
    mnt(Some("mqueue"), &mqueue, Some("mqueue"), nosx, None)?;

    let old = umask(Mode::empty());
    let nodes = make_nodes(&dev).and_then(|()| make_user_devices(root, cmd));
    umask(old);
    nodes?;
    for (name, target) in [
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
        ("ptmx", "pts/ptmx"),
    ] {
        let link = dev.join(name);
        symlink(target, &link).map_err(|e| fail(format!("symlink {}", link.display()), e))?;
    }
    if cmd.process.tty {
        // The pty slave is bind-mounted here once it exists.
        let console = dev.join("console");
        fs::File::create(&console).map_err(|e| fail(format!("create {}", console.display()), e))?;
    }

    for (src, dest) in [
        (&cmd.hosts_path, "/etc/hosts"),
        (&cmd.hostname_path, "/etc/hostname"),
        (&cmd.resolv_conf_path, "/etc/resolv.conf"),
    ] {
        if let Some(src) = src {
            bind(src, &under(root, Path::new(dest)), false)?;
        }
    }
    for m in &cmd.mounts {
        let target = under(root, &m.destination);
        bind(&m.source, &target, m.read_only)?;
        if m.private {
            mnt(None, &target, None, MsFlags::MS_PRIVATE, None)?;
        }
    }
    Ok(())
}

fn make_nodes(dev: &Path) -> Result<(), Failure> {
    for &(name, major, minor) in DEFAULT_NODES {
        let path = dev.join(name);
        mknod(&path, SFlag::S_IFCHR, Mode::from_bits_truncate(0o666), makedev(major, minor))
            .map_err(|e| fail(format!("mknod {}", path.display()), e))?;
    }
    Ok(())
}

/// The `--device` nodes, at their container paths with the host node's
/// numbers and mode. A path that already has a node (`--device
/// /dev/null`) keeps it, as libcontainer's `CreateDeviceNode` did.
fn make_user_devices(root: &Path, cmd: &Command) -> Result<(), Failure> {
    for d in &cmd.devices {
        let path = under(root, &d.path);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(|e| fail(format!("mkdir {}", parent.display()), e))?;
        }
        let kind = if d.kind == 'b' { SFlag::S_IFBLK } else { SFlag::S_IFCHR };
        match mknod(&path, kind, Mode::from_bits_truncate(d.mode), makedev(d.major.into(), d.minor.into())) {
            Ok(()) | Err(nix::errno::Errno::EEXIST) => {}
            Err(e) => return Err(fail(format!("mknod {}", d.path.display()), e)),
        }
    }
    Ok(())
}

/// Makes `rootfs` the root and detaches the host's tree (runc's
/// `pivot_root(".", ".")` trick: no directory needed inside the rootfs).
pub(super) fn pivot(rootfs: &Path) -> Result<(), Failure> {
    chdir(rootfs).map_err(|e| fail(format!("chdir {}", rootfs.display()), e))?;
    pivot_root(".", ".").map_err(|e| fail(format!("pivot_root {}", rootfs.display()), e))?;
    // The old root is now stacked on "."; keep its unmount from reaching the host.
    mnt(None, Path::new("."), None, MsFlags::MS_SLAVE | MsFlags::MS_REC, None)?;
    umount2(".", MntFlags::MNT_DETACH).map_err(|e| fail("detach old root", e))?;
    chdir("/").map_err(|e| fail("chdir /", e))
}

/// Docker 1.2's restrictions on /proc, applied after the pivot.
pub(super) fn restrict_proc() -> Result<(), Failure> {
    for p in ["/proc/sys", "/proc/sysrq-trigger", "/proc/irq", "/proc/bus"] {
        let path = Path::new(p);
        if !path.exists() {
            continue;
        }
        mnt(Some(p), path, None, MsFlags::MS_BIND | MsFlags::MS_REC, None)?;
        mnt(None, path, None, MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY, None)?;
    }
    let kcore = Path::new("/proc/kcore");
    if kcore.exists() {
        mnt(Some("/dev/null"), kcore, None, MsFlags::MS_BIND, None)?;
    }
    Ok(())
}
