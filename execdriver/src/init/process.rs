//! The container process's side of the init, between the monitor's fork and
//! `execve`: stdio, hostname, loopback, mounts (for a new container) or the
//! container's root (for exec), then pty, user, environment, capabilities.

use std::ffi::CString;
use std::fs::{File, OpenOptions};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use caps::CapSet;
use nix::sched::{CloneFlags, setns};
use nix::sys::signal::{SigHandler, SigSet, SigmaskHow, Signal, sigaction, sigprocmask};
use nix::unistd::{Gid, Uid, chdir, chroot, dup2, execve, fchdir, setgid, setgroups, sethostname, setsid, setuid};

use super::network::Network;
use super::{Failure, rootfs, user};
use crate::capabilities::capability_set;
use crate::command::{Command, NetworkMode, Process};
use crate::protocol::{self, Go, Report};

fn fail<E: std::fmt::Display>(what: &str, e: E) -> Failure {
    Failure { message: format!("{what}: {e}"), not_found: false }
}

/// A new container's pid 1. Returns only on failure.
pub(super) fn run_container(ctl: BorrowedFd<'_>, cmd: &Command, fds: Vec<OwnedFd>) -> Failure {
    match setup_container(ctl, cmd, fds) {
        Ok(never) => match never {},
        Err(f) => f,
    }
}

fn setup_container(ctl: BorrowedFd<'_>, cmd: &Command, fds: Vec<OwnedFd>) -> Result<std::convert::Infallible, Failure> {
    setsid().map_err(|e| fail("setsid", e))?;
    if !cmd.process.tty {
        install_stdio(&fds)?;
    }
    drop(fds);
    if !cmd.hostname.is_empty() {
        sethostname(&cmd.hostname).map_err(|e| fail("sethostname", e))?;
    }
    if !cmd.domainname.is_empty() {
        // Per UTS namespace: this writes ours, not the host's.
        std::fs::write("/proc/sys/kernel/domainname", &cmd.domainname).map_err(|e| fail("setdomainname", e))?;
    }
    let mut network = None;
    if matches!(cmd.network, NetworkMode::None | NetworkMode::Bridge(_)) {
        let mut net = Network::open().map_err(|e| fail("bringing up lo", e))?;
        net.loopback_up().map_err(|e| fail("bringing up lo", e))?;
        network = Some(net);
    }
    rootfs::prepare(cmd)?;
    rootfs::pivot(&cmd.rootfs)?;
    rootfs::restrict_proc()?;
    finish(ctl, &cmd.process, &cmd.hostname, true, || match (&cmd.network, network.as_mut()) {
        // Only now is our veth end here: the daemon made it before `Go`.
        (NetworkMode::Bridge(bridge), Some(net)) => net.configure_eth0(bridge).map_err(|e| fail("setting up eth0", e)),
        _ => Ok(()),
    })
}

/// A `docker exec` process: already in the container's namespaces (the
/// monitor joined them); `root` is the container's `/proc/<pid>/root`.
pub(super) fn run_exec(ctl: BorrowedFd<'_>, process: &Process, fds: Vec<OwnedFd>, root: Option<OwnedFd>) -> Failure {
    let result = (|| {
        setsid().map_err(|e| fail("setsid", e))?;
        if !process.tty {
            install_stdio(&fds)?;
        }
        if let Some(root) = &root {
            // setns(CLONE_NEWNS) leaves the root at the namespace's original
            // mount, which pivot_root detached; enter the container's root.
            fchdir(root.as_raw_fd()).map_err(|e| fail("fchdir container root", e))?;
            chroot(".").map_err(|e| fail("chroot container root", e))?;
            chdir("/").map_err(|e| fail("chdir /", e))?;
        }
        let hostname = nix::unistd::gethostname().map(|h| h.to_string_lossy().into_owned()).unwrap_or_default();
        finish(ctl, process, &hostname, false, || Ok(()))
    })();
    match result {
        Ok(never) => match never {},
        Err(f) => f,
    }
}

/// Monitor side of exec: enters every namespace of `pid`. The fds are all
/// opened first because /proc changes meaning once the mount ns is joined.
pub(super) fn join_namespaces(pid: i32) -> Result<Option<OwnedFd>, Failure> {
    let open = |p: String| File::open(&p).map_err(|e| fail(&p, e));
    let kinds = [
        ("ipc", CloneFlags::CLONE_NEWIPC),
        ("uts", CloneFlags::CLONE_NEWUTS),
        ("net", CloneFlags::CLONE_NEWNET),
        ("pid", CloneFlags::CLONE_NEWPID),
        ("mnt", CloneFlags::CLONE_NEWNS),
    ];
    let mut nss = Vec::new();
    for (name, flag) in kinds {
        nss.push((open(format!("/proc/{pid}/ns/{name}"))?, flag));
    }
    let root: OwnedFd = open(format!("/proc/{pid}/root"))?.into();
    for (ns, flag) in nss {
        setns(ns.as_fd(), flag).map_err(|e| fail("setns", e))?;
    }
    Ok(Some(root))
}

fn install_stdio(fds: &[OwnedFd]) -> Result<(), Failure> {
    if fds.len() != 3 {
        return Err(fail("stdio", format!("expected 3 descriptors, got {}", fds.len())));
    }
    for (target, fd) in fds.iter().enumerate() {
        dup2(fd.as_raw_fd(), target as i32).map_err(|e| fail("dup2 stdio", e))?;
    }
    Ok(())
}

/// Opens a pty in the container's own devpts instance (so `tty` says
/// `/dev/pts/N`) and makes the slave our stdio and controlling terminal.
fn open_console(bind_console: bool) -> Result<OwnedFd, Failure> {
    use nix::fcntl::OFlag;
    let master = nix::pty::posix_openpt(OFlag::O_RDWR | OFlag::O_NOCTTY | OFlag::O_CLOEXEC)
        .map_err(|e| fail("open /dev/ptmx", e))?;
    nix::pty::grantpt(&master).map_err(|e| fail("grantpt", e))?;
    nix::pty::unlockpt(&master).map_err(|e| fail("unlockpt", e))?;
    let name = nix::pty::ptsname_r(&master).map_err(|e| fail("ptsname", e))?;
    // Opened without O_NOCTTY by a fresh session leader: it becomes our
    // controlling terminal, no TIOCSCTTY needed.
    let slave = OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(nix::libc::O_CLOEXEC)
        .open(&name)
        .map_err(|e| fail(&name, e))?;
    if bind_console {
        nix::mount::mount(
            Some(name.as_str()),
            "/dev/console",
            None::<&str>,
            nix::mount::MsFlags::MS_BIND,
            None::<&str>,
        )
        .map_err(|e| fail("bind mount /dev/console", e))?;
    }
    for target in 0..3 {
        dup2(slave.as_raw_fd(), target).map_err(|e| fail("dup2 tty", e))?;
    }
    let fd: OwnedFd = master.as_fd().try_clone_to_owned().map_err(|e| fail("dup pty master", e))?;
    Ok(fd)
}

/// The common tail: user, env, pty, path lookup, handshake, then exec.
/// `after_go` runs once the daemon says go, still with every capability
/// (a bridged container's `eth0` is configured there).
fn finish(
    ctl: BorrowedFd<'_>,
    p: &Process,
    hostname: &str,
    bind_console: bool,
    after_go: impl FnOnce() -> Result<(), Failure>,
) -> Result<std::convert::Infallible, Failure> {
    let user = user::resolve(&p.user).map_err(|m| Failure { message: m, not_found: false })?;
    let env = build_env(&p.env, hostname, &user.home, p.tty);
    let keep =
        capability_set(p.privileged, &p.cap_add, &p.cap_drop).map_err(|m| Failure { message: m, not_found: false })?;
    let path = lookup(p.args.first().map(String::as_str).unwrap_or(""), &env)?;
    let dir = if p.working_dir.is_empty() { "/" } else { p.working_dir.as_str() };
    chdir(dir).map_err(|e| fail(&format!("Cannot chdir to {dir}"), e))?;
    let console = if p.tty { Some(open_console(bind_console)?) } else { None };

    let fds: Vec<i32> = console.iter().map(|c| c.as_raw_fd()).collect();
    protocol::send(ctl, &Report::Ready { console: console.is_some() }, &fds).map_err(|e| fail("report ready", e))?;
    drop(console);
    match protocol::recv::<Go>(ctl) {
        Ok(Some(_)) => {}
        Ok(None) => return Err(fail("waiting for start", "daemon went away")),
        Err(e) => return Err(fail("waiting for start", e)),
    }
    after_go()?;

    // Privileged keeps whatever the daemon has (all, unless the host
    // itself runs us with fewer).
    for cap in caps::runtime::thread_all_supported() {
        if !p.privileged && !keep.contains(&cap) {
            caps::drop(None, CapSet::Bounding, cap).map_err(|e| fail("dropping capability", e))?;
        }
    }
    setgroups(&user.groups.iter().map(|g| Gid::from_raw(*g)).collect::<Vec<_>>()).map_err(|e| fail("setgroups", e))?;
    setgid(Gid::from_raw(user.gid)).map_err(|e| fail("setgid", e))?;
    setuid(Uid::from_raw(user.uid)).map_err(|e| fail("setuid", e))?;
    // A non-root uid lost every capability in setuid; root keeps `keep`.
    if user.uid == 0 && !p.privileged {
        for set in [CapSet::Effective, CapSet::Inheritable, CapSet::Permitted] {
            caps::set(None, set, &keep).map_err(|e| fail("setting capabilities", e))?;
        }
    }

    reset_signals();
    let cstr = |s: &str| CString::new(s).map_err(|_| fail("argument", format!("{s:?} contains NUL")));
    let c_path = cstr(&path)?;
    let argv = p.args.iter().map(|a| cstr(a)).collect::<Result<Vec<_>, _>>()?;
    let envp = env.iter().map(|a| cstr(a)).collect::<Result<Vec<_>, _>>()?;
    let err = match execve(&c_path, &argv, &envp) {
        Ok(never) => match never {},
        Err(e) => e,
    };
    let name = p.args.first().map(String::as_str).unwrap_or("");
    Err(Failure { message: format!("exec: \"{name}\": {}", err.desc().to_lowercase()), not_found: false })
}

/// Rust's runtime ignores SIGPIPE in every binary it starts; the user's
/// command must get the default back (and no blocked signals).
#[allow(unsafe_code)]
fn reset_signals() {
    let dfl = nix::sys::signal::SigAction::new(SigHandler::SigDfl, nix::sys::signal::SaFlags::empty(), SigSet::empty());
    for sig in [Signal::SIGPIPE, Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP, Signal::SIGQUIT] {
        // SAFETY: installing SIG_DFL registers no handler code, so no
        // async-signal-safety question arises; we are single-threaded.
        let _ = unsafe { sigaction(sig, &dfl) };
    }
    let _ = sigprocmask(SigmaskHow::SIG_SETMASK, Some(&SigSet::empty()), None);
}

/// The environment Docker 1.2 gave a container: `PATH`, `HOSTNAME`, `HOME`
/// (and `TERM=xterm` with a tty) unless the command sets them.
pub(crate) fn build_env(user_env: &[String], hostname: &str, home: &str, tty: bool) -> Vec<String> {
    let mut env = vec![
        format!("PATH={}", crate::DEFAULT_PATH),
        format!("HOSTNAME={hostname}"),
        format!("HOME={}", if home.is_empty() { "/" } else { home }),
    ];
    if tty {
        env.push("TERM=xterm".into());
    }
    for kv in user_env {
        let key = kv.split('=').next().unwrap_or(kv);
        match env.iter_mut().find(|e| e.split('=').next() == Some(key)) {
            Some(slot) => slot.clone_from(kv),
            None => env.push(kv.clone()),
        }
    }
    env
}

fn is_executable(p: &Path) -> bool {
    std::fs::metadata(p).map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0).unwrap_or(false)
}

/// Go's `exec.LookPath` with the container's `PATH`, and its error text.
fn lookup(name: &str, env: &[String]) -> Result<String, Failure> {
    if name.is_empty() {
        return Err(Failure { message: "exec: \"\": executable file not found in $PATH".into(), not_found: true });
    }
    if name.contains('/') {
        return match std::fs::metadata(name) {
            Ok(_) => Ok(name.to_string()),
            Err(e) => Err(Failure {
                message: format!(
                    "exec: \"{name}\": stat {name}: {}",
                    nix::Error::from_raw(e.raw_os_error().unwrap_or(0)).desc().to_lowercase()
                ),
                not_found: true,
            }),
        };
    }
    let path = env.iter().rev().find_map(|e| e.strip_prefix("PATH=")).unwrap_or(crate::DEFAULT_PATH);
    for dir in path.split(':') {
        let candidate = Path::new(if dir.is_empty() { "." } else { dir }).join(name);
        if is_executable(&candidate) {
            return Ok(candidate.to_string_lossy().into_owned());
        }
    }
    Err(Failure { message: format!("exec: \"{name}\": executable file not found in $PATH"), not_found: true })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_defaults_and_overrides() {
        let env = build_env(&["PATH=/x".into(), "A=b".into()], "abc", "/root", true);
        assert_eq!(env, vec!["PATH=/x", "HOSTNAME=abc", "HOME=/root", "TERM=xterm", "A=b"]);
    }

    #[test]
    fn lookup_errors_read_like_go() {
        let f = lookup("nosuch-binary-xyz", &["PATH=/nonexistent".into()]).unwrap_err();
        assert_eq!(f.message, "exec: \"nosuch-binary-xyz\": executable file not found in $PATH");
        assert!(f.not_found);
        assert!(lookup("/nonexistent/x", &[]).unwrap_err().message.starts_with("exec: \"/nonexistent/x\": stat"));
    }
}
