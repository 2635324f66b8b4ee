//! The container init (Docker 1.2's `dockerinit`): our own binary
//! re-executed by the driver, single-threaded, so it may fork and do the
//! setup that must not happen in a fork of the multi-threaded daemon.
//!
//! Dispatch: the driver execs the binary with `argv[0]` = `dockerinit`;
//! the `docker` binary's `main` calls [`is_init`] first thing and hands over
//! to [`main`] before any runtime or thread exists.
//!
//! This process is the *monitor*: it reads the start message, enters the new
//! namespaces (`unshare`, or `setns` for exec), forks the container process
//! (pid 1 of the new pid namespace), reports its pid and then only waits for
//! it, exiting with its exit code (128+signal when killed) so the daemon
//! reaps one direct child. Docker 1.2 ran the user's command as pid 1; so
//! do we (the forked child execs it).

mod network;
mod process;
mod rootfs;
mod user;

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use nix::sched::{CloneFlags, setns, unshare};
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::{ForkResult, Pid};

use crate::command::NetworkMode;
use crate::protocol::{self, Report, Start};

/// `argv[0]`'s file name that selects the init.
pub const INIT_NAME: &str = "dockerinit";

/// Whether this process was started as the container init: `argv[0]` ends
/// with `dockerinit` (how the driver starts it).
pub fn is_init() -> bool {
    std::env::args_os()
        .next()
        .and_then(|a| std::path::Path::new(&a).file_name().map(|n| n.to_string_lossy().ends_with(INIT_NAME)))
        .unwrap_or(false)
}

/// Runs the init; never returns. The control socket is stdin.
pub fn main() -> ! {
    let code = match monitor() {
        Ok(code) => code,
        Err(message) => {
            eprintln!("dockerinit: {message}");
            1
        }
    };
    std::process::exit(code)
}

/// The failure text sent back to the daemon; `not_found` when the user's
/// command does not exist.
pub(crate) struct Failure {
    pub message: String,
    pub not_found: bool,
}

impl<E: std::fmt::Display> From<(&str, E)> for Failure {
    fn from((what, e): (&str, E)) -> Self {
        Failure { message: format!("{what}: {e}"), not_found: false }
    }
}

fn monitor() -> Result<i32, String> {
    // Move the socket off fd 0: the container's stdio lands on 0-2 later.
    let ctl: OwnedFd = std::io::stdin().as_fd().try_clone_to_owned().map_err(|e| format!("dup control socket: {e}"))?;
    // Our fd 0 must not keep the socket open: the daemon waits for EOF,
    // which must come when the container process execs, not when we exit.
    let null = std::fs::File::open("/dev/null").map_err(|e| format!("open /dev/null: {e}"))?;
    nix::unistd::dup2(std::os::fd::AsRawFd::as_raw_fd(&null), 0).map_err(|e| format!("dup2 /dev/null: {e}"))?;
    let (start, fds) = match protocol::recv::<Start>(ctl.as_fd()) {
        Ok(Some(m)) => m,
        Ok(None) => return Err("no start message".into()),
        Err(e) => return Err(format!("reading start message: {e}")),
    };
    let entered = match &start {
        Start::Run(cmd) => enter_new_namespaces(&cmd.network),
        Start::Exec { pid, .. } => process::join_namespaces(*pid),
    };
    let ns_root = match entered {
        Ok(root) => root,
        Err(f) => {
            report(ctl.as_fd(), f);
            return Ok(1);
        }
    };
    match fork() {
        Err(e) => {
            report(ctl.as_fd(), Failure::from(("fork", e)));
            Ok(1)
        }
        Ok(ForkResult::Child) => {
            let failure = match start {
                Start::Run(cmd) => process::run_container(ctl.as_fd(), &cmd, fds),
                Start::Exec { process, .. } => process::run_exec(ctl.as_fd(), &process, fds, ns_root),
            };
            report(ctl.as_fd(), failure);
            std::process::exit(127)
        }
        Ok(ForkResult::Parent { child }) => {
            let _ = protocol::send(ctl.as_fd(), &Report::Pid(child.as_raw()), &[]);
            // The daemon sees EOF only once the container process has exec'd.
            drop(ctl);
            drop(fds);
            Ok(wait_for(child))
        }
    }
}

#[allow(unsafe_code)]
fn fork() -> nix::Result<ForkResult> {
    // SAFETY: this process is a fresh exec of our binary that never started
    // a thread (Rust's runtime starts none), so the child may run any code.
    unsafe { nix::unistd::fork() }
}

fn report(ctl: BorrowedFd<'_>, f: Failure) {
    let _ = protocol::send(ctl, &Report::Error { message: f.message, not_found: f.not_found }, &[]);
}

fn enter_new_namespaces(net: &NetworkMode) -> Result<Option<OwnedFd>, Failure> {
    let mut flags =
        CloneFlags::CLONE_NEWNS | CloneFlags::CLONE_NEWUTS | CloneFlags::CLONE_NEWIPC | CloneFlags::CLONE_NEWPID;
    match net {
        NetworkMode::Host => {}
        NetworkMode::Container(pid) => {
            let path = format!("/proc/{pid}/ns/net");
            let ns = std::fs::File::open(&path).map_err(|e| Failure::from((path.as_str(), e)))?;
            setns(ns.as_fd(), CloneFlags::CLONE_NEWNET).map_err(|e| Failure::from(("joining network namespace", e)))?;
        }
        NetworkMode::None | NetworkMode::Bridge(_) => flags |= CloneFlags::CLONE_NEWNET,
    }
    unshare(flags).map_err(|e| Failure::from(("unshare namespaces", e)))?;
    Ok(None)
}

fn wait_for(child: Pid) -> i32 {
    loop {
        match waitpid(child, None) {
            Ok(WaitStatus::Exited(_, code)) => return code,
            Ok(WaitStatus::Signaled(_, sig, _)) => return 128 + sig as i32,
            Ok(_) | Err(nix::Error::EINTR) => continue,
            Err(_) => return 255,
        }
    }
}
