//! The daemon's side of the native driver (Docker 1.2's
//! `execdriver/native/driver.go`): spawns the container init, runs the
//! start handshake, owns the cgroup, and gives the daemon a [`Container`]
//! handle for wait, kill, pause, stats, resize and exec.

use std::future::Future;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use nix::sys::signal::{Signal, kill};
use nix::sys::socket::{AddressFamily, SockFlag, SockType, socketpair};
use nix::unistd::Pid;
use tokio::net::unix::pipe;

use crate::cgroups::{Cgroup, ResourceUpdate, Stats};
use crate::command::{BridgeNetwork, Command, NetworkMode, Process};
use crate::devices::default_allowed_devices;
use crate::error::{Error, Result};
use crate::init::INIT_NAME;
use crate::netlink::{self, Netlink};
use crate::protocol::{self, Go, Report, Start};
use crate::pty::{Pty, set_size};

/// Runs after the container process exists (its host pid given) and joined
/// its cgroup, before the user's command is exec'd: the daemon configures a
/// bridge network here. An `Err` text aborts the start.
pub type PreStartHook = Box<dyn FnOnce(i32) -> std::result::Result<(), String> + Send>;

/// What every exec driver offers (Docker 1.2's `execdriver.Driver`); the
/// returned [`Container`] carries kill/pause/unpause/terminate/pids.
pub trait Driver: Send + Sync {
    /// `native` (Docker's `-e` value).
    fn name(&self) -> &'static str;
    /// Starts `cmd`; resolves once the user's command has been exec'd.
    fn spawn(&self, cmd: Command, pre_start: Option<PreStartHook>) -> impl Future<Output = Result<Container>> + Send;
}

/// The native driver: namespaces + cgroups through a re-executed init.
#[derive(Debug, Clone)]
pub struct NativeDriver {
    init_path: PathBuf,
}

impl Default for NativeDriver {
    fn default() -> Self {
        Self::new()
    }
}

impl NativeDriver {
    /// The daemon's own binary is the init (`/proc/self/exe` still works if
    /// the file was replaced by an upgrade).
    pub fn new() -> NativeDriver {
        NativeDriver { init_path: PathBuf::from("/proc/self/exe") }
    }

    /// A separate init binary (tests; the crate's `dockerinit` bin).
    pub fn with_init(path: impl Into<PathBuf>) -> NativeDriver {
        NativeDriver { init_path: path.into() }
    }
}

impl Driver for NativeDriver {
    fn name(&self) -> &'static str {
        "native"
    }

    async fn spawn(&self, mut cmd: Command, pre_start: Option<PreStartHook>) -> Result<Container> {
        let id = cmd.id.clone();
        if let NetworkMode::Bridge(net) = &mut cmd.network {
            // Before the Command goes to the init, which must know its end's name.
            name_veth_pair(net).map_err(io_err(&id, "choosing veth names"))?;
        }
        let devices =
            if cmd.allowed_devices.is_empty() { default_allowed_devices() } else { cmd.allowed_devices.clone() };
        let (resources, privileged) = (cmd.resources.clone(), cmd.process.privileged);
        let cg_id = id.clone();
        let cgroup = tokio::task::spawn_blocking(move || Cgroup::create(&cg_id, &resources, &devices, privileged))
            .await
            .map_err(|e| Error::Io { id: id.clone(), what: "creating cgroup", source: std::io::Error::other(e) })??;
        let cgroup = Arc::new(cgroup);
        let (tty, open_stdin) = (cmd.process.tty, cmd.process.open_stdin);
        let launched =
            launch(&self.init_path, &id, Start::Run(Box::new(cmd)), tty, open_stdin, Some(cgroup.clone()), pre_start)
                .await;
        match launched {
            Ok(l) => Ok(Container {
                id,
                init_path: self.init_path.clone(),
                pid: l.pid,
                monitor: l.monitor,
                io: Some(l.io),
                console: l.console,
                cgroup,
                exit_code: None,
                oom_killed: false,
            }),
            Err(e) => {
                let _ = tokio::task::spawn_blocking(move || cgroup.destroy()).await;
                Err(e)
            }
        }
    }
}

/// The daemon's ends of a process's stdio.
#[derive(Debug)]
pub enum ContainerIo {
    /// `stdin` only when the process was started with `open_stdin`.
    Pipes {
        stdin: Option<pipe::Sender>,
        stdout: pipe::Receiver,
        stderr: pipe::Receiver,
    },
    Tty(Pty),
}

struct Launched {
    pid: i32,
    monitor: tokio::process::Child,
    io: ContainerIo,
    /// A second handle on the pty master, for resize after `io` is taken.
    console: Option<OwnedFd>,
}

fn io_err(id: &str, what: &'static str) -> impl FnOnce(std::io::Error) -> Error {
    let id = id.to_string();
    move |source| Error::Io { id, what, source }
}

/// Spawns the init, hands it `start`, and drives the handshake.
async fn launch(
    init: &Path,
    id: &str,
    start: Start,
    tty: bool,
    open_stdin: bool,
    cgroup: Option<Arc<Cgroup>>,
    pre_start: Option<PreStartHook>,
) -> Result<Launched> {
    let (ours, theirs) = socketpair(AddressFamily::Unix, SockType::SeqPacket, None, SockFlag::SOCK_CLOEXEC)
        .map_err(|e| io_err(id, "control socket")(e.into()))?;
    let mut child_fds: Vec<OwnedFd> = Vec::new();
    let mut pipes = None;
    if !tty {
        let pipe = || nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(|e| io_err(id, "stdio pipe")(e.into()));
        let stdin = if open_stdin {
            let (r, w) = pipe()?;
            child_fds.push(r);
            Some(pipe::Sender::from_owned_fd(w).map_err(io_err(id, "stdin pipe"))?)
        } else {
            child_fds.push(std::fs::File::open("/dev/null").map_err(io_err(id, "open /dev/null"))?.into());
            None
        };
        let (out_r, out_w) = pipe()?;
        let (err_r, err_w) = pipe()?;
        child_fds.push(out_w);
        child_fds.push(err_w);
        let stdout = pipe::Receiver::from_owned_fd(out_r).map_err(io_err(id, "stdout pipe"))?;
        let stderr = pipe::Receiver::from_owned_fd(err_r).map_err(io_err(id, "stderr pipe"))?;
        pipes = Some(ContainerIo::Pipes { stdin, stdout, stderr });
    }

    let mut monitor = {
        // Dropped at the end of this block, closing our copy of `theirs`:
        // only then does the socket reach EOF when the init execs.
        let mut c = tokio::process::Command::new(init);
        c.arg0(INIT_NAME)
            .env_clear()
            .stdin(std::process::Stdio::from(theirs))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::inherit());
        c.spawn().map_err(|source| Error::SpawnInit { id: id.to_string(), path: init.to_path_buf(), source })?
    };

    let hs_id = id.to_string();
    let result = tokio::task::spawn_blocking(move || handshake(&hs_id, ours, start, child_fds, cgroup, pre_start))
        .await
        .unwrap_or_else(|e| Err((None, io_err(id, "handshake task")(std::io::Error::other(e)))));
    match result {
        Ok((pid, console)) => {
            let (io, console) = match (pipes, console) {
                (Some(p), _) => (p, None),
                (None, Some(master)) => {
                    let dup = master.try_clone().map_err(io_err(id, "dup pty master"))?;
                    (ContainerIo::Tty(Pty::new(master).map_err(io_err(id, "pty master"))?), Some(dup))
                }
                (None, None) => return Err(io_err(id, "pty")(std::io::Error::other("init sent no pty master"))),
            };
            Ok(Launched { pid, monitor, io, console })
        }
        Err((pid, e)) => {
            if let Some(pid) = pid {
                let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
            }
            let _ = monitor.start_kill();
            let _ = monitor.wait().await;
            Err(e)
        }
    }
}

type HandshakeError = (Option<i32>, Error);

fn handshake(
    id: &str,
    sock: OwnedFd,
    start: Start,
    fds: Vec<OwnedFd>,
    cgroup: Option<Arc<Cgroup>>,
    pre_start: Option<PreStartHook>,
) -> std::result::Result<(i32, Option<OwnedFd>), HandshakeError> {
    let proto = |pid: Option<i32>| move |source: std::io::Error| (pid, Error::Protocol { id: id.to_string(), source });
    let raw: Vec<i32> = fds.iter().map(|f| f.as_raw_fd()).collect();
    protocol::send(sock.as_fd(), &start, &raw).map_err(proto(None))?;
    drop(fds);
    let (mut pid, mut ready, mut console) = (None, false, None);
    while pid.is_none() || !ready {
        match protocol::recv::<Report>(sock.as_fd()).map_err(proto(pid))? {
            Some((Report::Pid(p), _)) => pid = Some(p),
            Some((Report::Ready { console: has }, mut got)) => {
                ready = true;
                if has {
                    console = got.pop();
                }
            }
            Some((Report::Error { message, not_found }, _)) => {
                return Err((pid, Error::Start { id: id.to_string(), message, not_found }));
            }
            None => {
                let message = "container init exited during setup".to_string();
                return Err((pid, Error::Start { id: id.to_string(), message, not_found: false }));
            }
        }
    }
    let pid = pid.ok_or_else(|| proto(None)(std::io::Error::other("no pid reported")))?;
    if let Some(cg) = &cgroup {
        cg.add(pid).map_err(|e| (Some(pid), e))?;
    }
    if let Start::Run(cmd) = &start {
        if let NetworkMode::Bridge(net) = &cmd.network {
            attach_veth(net, pid)
                .map_err(|message| (Some(pid), Error::Start { id: id.to_string(), message, not_found: false }))?;
        }
    }
    if let Some(hook) = pre_start {
        hook(pid).map_err(|message| (Some(pid), Error::Start { id: id.to_string(), message, not_found: false }))?;
    }
    protocol::send(sock.as_fd(), &Go, &[]).map_err(proto(Some(pid)))?;
    match protocol::recv::<Report>(sock.as_fd()).map_err(proto(Some(pid)))? {
        None => Ok((pid, console)),
        Some((Report::Error { message, not_found }, _)) => {
            Err((Some(pid), Error::Start { id: id.to_string(), message, not_found }))
        }
        Some(_) => Err(proto(Some(pid))(std::io::Error::other("unexpected message after start"))),
    }
}

/// `prefix` + `digits` random hex digits (Docker's `GenerateRandomName`).
fn random_name(prefix: &str, digits: usize) -> std::io::Result<String> {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).map_err(std::io::Error::other)?;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    Ok(format!("{prefix}{}", &hex[..digits.min(hex.len())]))
}

/// Fills the veth names the daemon left empty: the host end `veth` + 7 hex
/// digits as today's Docker names it, the container end likewise (Docker
/// 1.2 gave both ends its `veth` prefix). The container end is made inside
/// the container's new namespace and renamed `eth0` there, so its name
/// never meets the host's.
fn name_veth_pair(net: &mut BridgeNetwork) -> std::io::Result<()> {
    if net.host_veth.is_empty() {
        net.host_veth = random_name("veth", 7)?;
    }
    if net.peer.is_empty() {
        net.peer = random_name("veth", 7)?;
    }
    Ok(())
}

/// The host half of Docker 1.2's `veth` strategy (`Veth.Create`): a veth
/// pair whose host end joins the bridge, up, and whose other end is made
/// inside the network namespace of `pid`, where the init configures it
/// after `Go`. Both ends get the MTU when the pair is made. On failure
/// nothing is left behind (deleting one end deletes both); the text goes to
/// the user.
///
/// Departure: Docker 1.2 made both ends here and then moved one into the
/// container (`ip link set ... netns`), which costs the start 25-45 ms
/// while the kernel waits for RCU grace periods; making it in place costs
/// nothing and also spares the container end a host-unique name.
fn attach_veth(net: &BridgeNetwork, pid: i32) -> std::result::Result<(), String> {
    let (veth, bridge) = (net.host_veth.as_str(), net.bridge.as_str());
    let attach_err = |e: std::io::Error| format!("cannot attach {veth} to bridge {bridge}: {}", netlink::cause(&e));
    if !net.mac.is_empty() && netlink::parse_mac(&net.mac).is_none() {
        return Err(format!("invalid MAC address {:?} for the container's eth0", net.mac));
    }
    let mut nl = Netlink::open().map_err(|e| e.to_string())?;
    // The bridge first: a missing one must not leave a pair behind.
    let master = nl.link(bridge).map_err(attach_err)?;
    nl.create_veth(veth, &net.peer, net.mtu, pid).map_err(|e| e.to_string())?;
    let configured = (|| {
        let host = nl.link(veth).map_err(|e| e.to_string())?;
        nl.set_master(&host, &master).map_err(attach_err)?;
        nl.set_up(&host).map_err(|e| e.to_string())
    })();
    if configured.is_err() {
        // Ours for certain: the creation above succeeded under this name.
        let _ = nl.delete_link(veth);
    }
    configured
}

fn exit_code(status: std::process::ExitStatus) -> i32 {
    status.code().or_else(|| status.signal().map(|s| 128 + s)).unwrap_or(255)
}

fn signal(id: &str, pid: i32, sig: i32) -> Result<()> {
    let err = |source| Error::Signal { id: id.to_string(), pid, signal: sig, source };
    let signal = Signal::try_from(sig).map_err(err)?;
    kill(Pid::from_raw(pid), signal).map_err(err)
}

/// A running (or exited, not yet dropped) container.
#[derive(Debug)]
pub struct Container {
    id: String,
    init_path: PathBuf,
    pid: i32,
    monitor: tokio::process::Child,
    io: Option<ContainerIo>,
    console: Option<OwnedFd>,
    cgroup: Arc<Cgroup>,
    exit_code: Option<i32>,
    oom_killed: bool,
}

impl Container {
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Host pid of the container's pid 1.
    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// The daemon's stdio ends; `None` once taken.
    pub fn take_io(&mut self) -> Option<ContainerIo> {
        self.io.take()
    }

    /// Waits for pid 1 to exit: its exit code, 128+signal when killed.
    /// The cgroup is removed (any straggler killed) before this returns.
    pub async fn wait(&mut self) -> Result<i32> {
        if let Some(code) = self.exit_code {
            return Ok(code);
        }
        let status = self.monitor.wait().await.map_err(io_err(&self.id, "waiting for the container"))?;
        let code = exit_code(status);
        self.exit_code = Some(code);
        let cg = self.cgroup.clone();
        self.oom_killed = tokio::task::spawn_blocking(move || {
            let oom = cg.oom_killed();
            cg.destroy().map(|()| oom)
        })
        .await
        .map_err(|e| io_err(&self.id, "removing cgroup")(std::io::Error::other(e)))??;
        Ok(code)
    }

    /// Whether the OOM killer struck the container (known once
    /// [`Container::wait`] has returned).
    pub fn oom_killed(&self) -> bool {
        self.oom_killed
    }

    fn running(&self) -> Result<()> {
        match self.exit_code {
            Some(_) => Err(Error::NotRunning { id: self.id.clone() }),
            None => Ok(()),
        }
    }

    /// Sends `sig` to pid 1 (SIGKILL takes the whole pid namespace along).
    pub fn kill(&self, sig: i32) -> Result<()> {
        self.running()?;
        signal(&self.id, self.pid, sig)
    }

    /// SIGKILL to every process of the container, through the cgroup.
    pub fn terminate(&self) -> Result<()> {
        self.running()?;
        let _ = signal(&self.id, self.pid, Signal::SIGKILL as i32);
        for pid in self.cgroup.pids()? {
            let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
        }
        Ok(())
    }

    pub async fn pause(&self) -> Result<()> {
        self.running()?;
        self.cgroup.set_frozen(true).await
    }

    pub async fn unpause(&self) -> Result<()> {
        self.running()?;
        self.cgroup.set_frozen(false).await
    }

    pub fn is_paused(&self) -> bool {
        self.cgroup.is_frozen()
    }

    /// Host pids of every process in the container (`docker top`).
    pub fn pids(&self) -> Result<Vec<i32>> {
        self.cgroup.pids()
    }

    pub fn stats(&self) -> Stats {
        self.cgroup.stats()
    }

    /// [`Container::stats`] read off the async workers, for a caller that
    /// samples a running container again and again (`docker stats`).
    pub async fn sample(&self) -> Result<Stats> {
        self.running()?;
        let cg = self.cgroup.clone();
        tokio::task::spawn_blocking(move || cg.stats())
            .await
            .map_err(|e| io_err(&self.id, "reading cgroup statistics")(std::io::Error::other(e)))
    }

    /// New limits on the live cgroup (`docker update`).
    pub async fn update(&self, resources: ResourceUpdate) -> Result<()> {
        self.running()?;
        let cg = self.cgroup.clone();
        tokio::task::spawn_blocking(move || cg.update(&resources))
            .await
            .map_err(|e| io_err(&self.id, "updating cgroup limits")(std::io::Error::other(e)))?
    }

    /// The cgroup directory of a controller (`""` on v2).
    pub fn cgroup_path(&self, controller: &str) -> Option<PathBuf> {
        self.cgroup.path(controller)
    }

    /// Resizes the container's terminal.
    pub fn resize(&self, height: u16, width: u16) -> Result<()> {
        let fd = self.console.as_ref().ok_or_else(|| Error::NoTty { id: self.id.clone() })?;
        set_size(fd.as_fd(), height, width).map_err(io_err(&self.id, "resizing the tty"))
    }

    /// `docker exec`: a new process in the container's namespaces and cgroup.
    pub async fn exec(&self, process: Process) -> Result<ExecProcess> {
        self.running()?;
        let (tty, open_stdin) = (process.tty, process.open_stdin);
        let start = Start::Exec { id: self.id.clone(), pid: self.pid, process: Box::new(process) };
        let l = launch(&self.init_path, &self.id, start, tty, open_stdin, Some(self.cgroup.clone()), None).await?;
        Ok(ExecProcess {
            id: self.id.clone(),
            pid: l.pid,
            monitor: l.monitor,
            io: Some(l.io),
            console: l.console,
            exit_code: None,
        })
    }
}

impl Drop for Container {
    /// A container handle dropped while running (daemon error path, test
    /// failure) must not leak processes or cgroup directories.
    fn drop(&mut self) {
        if self.exit_code.is_none() {
            let _ = kill(Pid::from_raw(self.pid), Signal::SIGKILL);
            let _ = self.monitor.start_kill();
            let _ = self.cgroup.destroy();
        }
    }
}

/// A process started by [`Container::exec`].
#[derive(Debug)]
pub struct ExecProcess {
    id: String,
    pid: i32,
    monitor: tokio::process::Child,
    io: Option<ContainerIo>,
    console: Option<OwnedFd>,
    exit_code: Option<i32>,
}

impl ExecProcess {
    /// Host pid.
    pub fn pid(&self) -> i32 {
        self.pid
    }

    pub fn take_io(&mut self) -> Option<ContainerIo> {
        self.io.take()
    }

    pub async fn wait(&mut self) -> Result<i32> {
        if let Some(code) = self.exit_code {
            return Ok(code);
        }
        let status = self.monitor.wait().await.map_err(io_err(&self.id, "waiting for the exec'd process"))?;
        let code = exit_code(status);
        self.exit_code = Some(code);
        Ok(code)
    }

    pub fn kill(&self, sig: i32) -> Result<()> {
        if self.exit_code.is_some() {
            return Err(Error::NotRunning { id: self.id.clone() });
        }
        signal(&self.id, self.pid, sig)
    }

    pub fn resize(&self, height: u16, width: u16) -> Result<()> {
        let fd = self.console.as_ref().ok_or_else(|| Error::NoTty { id: self.id.clone() })?;
        set_size(fd.as_fd(), height, width).map_err(io_err(&self.id, "resizing the tty"))
    }
}
