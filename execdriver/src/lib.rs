//! The exec driver (Docker 1.2's `daemon/execdriver` and `execdriver/native`):
//! everything needed to turn a [`Command`] the daemon decided into an
//! isolated, running container process and to manage it afterwards.
//!
//! Shape of one container start:
//!
//! ```text
//! daemon ──spawn /proc/self/exe (argv[0] "dockerinit")──▶ monitor (init::main)
//!        ◀─SOCK_SEQPACKET on the monitor's stdin: Command + stdio fds──▶
//!                                 monitor: unshare(NEWNS|NEWUTS|NEWIPC|NEWPID[|NEWNET]), fork
//!                                   └─▶ container pid 1: lo up, mounts, pivot_root, pty, user
//!        ◀── pid, ready (+ pty master) ── ; daemon joins the cgroup; for --net=bridge makes
//!            the veth pair (host end on the bridge, up; the other end inside pid 1's
//!            namespace); runs the pre-start hook
//!        ─── go ──▶ pid 1 [turns its veth end into eth0: name, MAC, address, up, default
//!                   route], drops capabilities, switches user, execs the user's command
//!        ◀── EOF (exec succeeded: the socket is close-on-exec) or an error line
//! ```
//!
//! Both sides speak rtnetlink through the crate's `netlink` module (no `ip`
//! tool); a failure on either side fails the start with the interface
//! named, and the pair dies with the container's network namespace, so the
//! exit path has nothing to remove.
//!
//! The monitor is single-threaded (a fresh exec of our binary, nothing else
//! started), so forking there is safe; the multi-threaded daemon never forks
//! user code itself. It stays behind only to wait for pid 1 and exit with its
//! status, so the daemon reaps one direct child per container with tokio.
#![deny(unsafe_code)]

mod capabilities;
pub mod cgroups;
mod command;
mod devices;
mod error;
pub mod init;
mod leftover;
mod native;
mod netlink;
mod protocol;
mod pty;

pub use capabilities::{DEFAULT_CAPABILITIES, capability_set};
pub use cgroups::{CgroupVersion, Stats};
pub use command::{BindMount, BridgeNetwork, Command, NetworkMode, Process, Resources};
pub use devices::{Device, DeviceError, DeviceRule, default_allowed_devices};
pub use error::{Error, Result};
pub use leftover::reap_leftovers;
pub use native::{Container, ContainerIo, Driver, ExecProcess, NativeDriver, PreStartHook};
pub use pty::Pty;

/// The `PATH` a container gets when its command sets none (Docker 1.2's
/// `DefaultPathEnv`).
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
