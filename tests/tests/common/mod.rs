//! What every end-to-end suite needs: the built `docker` binary, a daemon
//! on a temporary root that is known to be ready (it said `READY=1` on a
//! notify socket the test owns), clients to call it, and the rule that
//! under `CI=true` a test that cannot run is a failure, not a skip.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::{UnixDatagram, UnixStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

pub mod dockerd;
pub mod image_tools;
pub mod images;
#[path = "../../support/registry.rs"]
pub mod registry;

/// The venv the test command makes with docker-py 7.2 (or
/// `$DOCKER_PY_PYTHON`); `None` when missing outside CI.
pub fn docker_py() -> Option<PathBuf> {
    let python = std::env::var("DOCKER_PY_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|_| workspace().join("target/pyvenv/bin/python"));
    require(python.to_str().unwrap(), "a venv with docker-py 7.2 (run the README's test command)").then_some(python)
}

/// The workspace root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// The `docker` binary, built once per test process.
pub fn docker_bin() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "--quiet", "-p", "cli", "--bin", "docker"])
            .current_dir(workspace())
            .status()
            .expect("running cargo build");
        assert!(status.success(), "building the docker binary failed");
        let target =
            std::env::var("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|_| workspace().join("target"));
        target.join("debug").join("docker")
    })
    .clone()
}

/// True when tests must not skip.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// Whether an external tool is there; under CI its absence fails the test.
pub fn require(path: &str, what: &str) -> bool {
    if Path::new(path).exists() {
        return true;
    }
    assert!(!in_ci(), "{what} is required under CI=true but {path} is missing");
    eprintln!("SKIPPED: {what} not found at {path}");
    false
}

/// The real docker CLI v28.
pub const REAL_CLI: &str = "/usr/local/bin/docker";

/// A free TCP port on loopback.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A `docker -d` process on its own temporary root and socket.
pub struct Daemon {
    pub dir: tempfile::TempDir,
    pub socket: PathBuf,
    pub pidfile: PathBuf,
    pub child: Option<Child>,
    lines: Mutex<mpsc::Receiver<String>>,
    ready: Option<mpsc::Receiver<String>>,
    pub log: std::sync::Arc<Mutex<Vec<String>>>,
}

/// How to start a daemon.
#[derive(Default)]
pub struct DaemonOptions {
    /// More `docker` arguments (after `-d`).
    pub args: Vec<String>,
    /// Extra environment.
    pub env: Vec<(String, String)>,
    /// Reuse this directory instead of a fresh one.
    pub dir: Option<tempfile::TempDir>,
    /// Run the daemon in this network namespace with its bridge network
    /// (default `docker0`, made there); without one the daemon gets `-b
    /// none` unless `args` name a bridge, so no test touches the host's
    /// interfaces or iptables.
    pub netns: Option<PathBuf>,
}

/// A named network namespace (`ip netns add`) with `lo` up, deleted on
/// drop: the bridge, veths and iptables rules a daemon makes in it go with
/// it, even when the test fails.
pub struct NetNs {
    pub name: String,
}

impl NetNs {
    pub fn new() -> NetNs {
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let name = format!("dkt-{}-{n}", std::process::id());
        let run = |args: &[&str]| {
            let out = Command::new("ip").args(args).output().expect("running ip");
            assert!(out.status.success(), "ip {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        };
        run(&["netns", "add", &name]);
        let ns = NetNs { name };
        run(&["-n", &ns.name, "link", "set", "lo", "up"]);
        ns
    }

    /// `/run/netns/<name>`.
    pub fn path(&self) -> PathBuf {
        Path::new("/run/netns").join(&self.name)
    }

    /// Runs a host program inside the namespace (`nsenter --net`).
    pub fn exec(&self, args: &[&str]) -> Output {
        Command::new("nsenter").arg(format!("--net={}", self.path().display())).arg("--").args(args).output().unwrap()
    }
}

impl Drop for NetNs {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.name]).output();
    }
}

impl Daemon {
    /// Starts a daemon and waits for its `READY=1`.
    pub fn start() -> Daemon {
        Self::start_with(DaemonOptions::default())
    }

    /// Starts a daemon with options and waits for its `READY=1`.
    pub fn start_with(opts: DaemonOptions) -> Daemon {
        let mut d = Self::spawn(opts);
        d.wait_ready();
        d
    }

    /// Spawns a daemon without waiting.
    pub fn spawn(opts: DaemonOptions) -> Daemon {
        let dir = opts.dir.unwrap_or_else(|| tempfile::tempdir().unwrap());
        let socket = dir.path().join("docker.sock");
        let pidfile = dir.path().join("docker.pid");
        let notify = dir.path().join("notify.sock");
        let _ = std::fs::remove_file(&notify);
        let listener = UnixDatagram::bind(&notify).unwrap();
        let mut cmd = match &opts.netns {
            Some(ns) => {
                let mut c = Command::new("nsenter");
                c.arg(format!("--net={}", ns.display())).arg("--").arg(docker_bin());
                c
            }
            None => Command::new(docker_bin()),
        };
        cmd.arg("-d")
            .arg("-H")
            .arg(format!("unix://{}", socket.display()))
            .arg("-g")
            .arg(dir.path().join("root"))
            .arg("-p")
            .arg(&pidfile)
            .args(&opts.args)
            .env("NOTIFY_SOCKET", &notify)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let names_bridge =
            opts.args.iter().any(|a| ["-b", "--bridge", "--bip"].contains(&a.split('=').next().unwrap_or("")));
        if opts.netns.is_none() && !names_bridge {
            cmd.args(["-b", "none"]);
        }
        for (k, v) in &opts.env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("spawning docker -d");
        let (tx, rx) = mpsc::channel();
        let log = std::sync::Arc::new(Mutex::new(Vec::new()));
        let stderr = child.stderr.take().unwrap();
        let log_copy = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                log_copy.lock().unwrap().push(line.clone());
                let _ = tx.send(line);
            }
        });
        let (ready_tx, ready_rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut buf = [0u8; 256];
            loop {
                match listener.recv(&mut buf) {
                    Ok(n) => break drop(ready_tx.send(String::from_utf8_lossy(&buf[..n]).into_owned())),
                    // A stop/continue of the test process interrupts the wait.
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(_) => break,
                }
            }
        });
        Daemon { dir, socket, pidfile, child: Some(child), lines: Mutex::new(rx), ready: Some(ready_rx), log }
    }

    /// Waits (at most 60 s) for the daemon's notify message; panics with its
    /// log if it exits or stays silent.
    pub fn wait_ready(&mut self) -> String {
        let rx = self.ready.take().expect("wait_ready is called once");
        match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(msg) => msg,
            Err(_) => {
                let status = self.child.as_mut().unwrap().try_wait().unwrap();
                panic!("daemon not ready (status {status:?}); log:\n{}", self.log.lock().unwrap().join("\n"));
            }
        }
    }

    /// `unix://<socket>`.
    pub fn host(&self) -> String {
        format!("unix://{}", self.socket.display())
    }

    /// Waits (at most `secs`) until the log has `count` lines containing
    /// `needle`. Lines are recorded before they are announced, so the count
    /// is checked after each announcement.
    pub fn wait_for_log_count(&self, needle: &str, count: usize, secs: u64) {
        let rx = self.lines.lock().unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(secs);
        loop {
            if self.log.lock().unwrap().iter().filter(|l| l.contains(needle)).count() >= count {
                return;
            }
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if rx.recv_timeout(left).is_err() {
                panic!("fewer than {count} log lines with {needle:?}; log:\n{}", self.log.lock().unwrap().join("\n"));
            }
        }
    }

    /// The daemon's pid.
    pub fn pid(&self) -> nix::unistd::Pid {
        nix::unistd::Pid::from_raw(self.child.as_ref().unwrap().id() as i32)
    }

    /// Sends a signal.
    pub fn signal(&self, sig: nix::sys::signal::Signal) {
        nix::sys::signal::kill(self.pid(), sig).unwrap();
    }

    /// Waits (at most `secs`) for the process to exit; its exit code, or
    /// 128 + signal for a signal death.
    pub fn wait_exit(&mut self, secs: u64) -> i32 {
        use std::os::unix::process::ExitStatusExt;
        let child = self.child.as_mut().unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(secs);
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                self.child = None;
                return status.code().unwrap_or_else(|| 128 + status.signal().unwrap_or(0));
            }
            assert!(std::time::Instant::now() < deadline, "daemon still running after {secs}s");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Runs our own client against this daemon.
    pub fn client(&self, args: &[&str]) -> Output {
        Command::new(docker_bin()).arg("-H").arg(self.host()).args(args).output().unwrap()
    }

    /// The real docker CLI v28 aimed at this daemon, with its own empty
    /// config directory; the caller adds arguments and stdio.
    pub fn real_cli_command(&self) -> Command {
        let config = self.dir.path().join("cli-config");
        std::fs::create_dir_all(&config).unwrap();
        let mut cmd = Command::new(REAL_CLI);
        cmd.env("DOCKER_HOST", self.host()).env("DOCKER_CONFIG", &config);
        cmd
    }

    /// Runs the real docker CLI v28 against this daemon.
    pub fn real_cli(&self, args: &[&str]) -> Output {
        self.real_cli_command().args(args).output().unwrap()
    }

    /// One HTTP/1.0 request on the unix socket: (status, body).
    pub fn http(&self, method: &str, path: &str, body: &str) -> (u16, String) {
        http_unix(&self.socket, method, path, body)
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        clean_up_containers(self.dir.path());
    }
}

/// What a failed test may leave behind its killed daemon: container
/// processes (they outlive a SIGKILLed daemon), their cgroups and their
/// mounted root filesystems.
fn clean_up_containers(dir: &Path) {
    let ids: Vec<String> = std::fs::read_dir(dir.join("root/containers"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|id| id.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit()))
        .collect();
    for id in ids {
        kill_cgroup(&id);
    }
    dockerd::unmount_under(dir);
}

/// The cgroup directories of container `id` that exist (one per v1
/// controller, or the v2 one). The execdriver has the same walk; the
/// layering keeps this crate off it.
pub fn container_cgroup_dirs(id: &str) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("/sys/fs/cgroup")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("docker").join(id))
        .chain([Path::new("/sys/fs/cgroup/docker").join(id)])
        .filter(|d| d.is_dir())
        .collect();
    dirs.sort();
    dirs.dedup();
    dirs
}

/// Kills whatever runs in container `id`'s cgroups and removes them.
fn kill_cgroup(id: &str) {
    let dirs = container_cgroup_dirs(id);
    for d in &dirs {
        let _ = std::fs::write(d.join("freezer.state"), "THAWED");
    }
    // Clean-up, not a synchronisation: killed processes leave their cgroup
    // a moment later, and a cgroup v1 has no event for becoming empty.
    for _ in 0..500 {
        let pids: Vec<i32> = dirs
            .iter()
            .filter_map(|d| std::fs::read_to_string(d.join("cgroup.procs")).ok())
            .flat_map(|t| t.lines().filter_map(|l| l.trim().parse().ok()).collect::<Vec<i32>>())
            .collect();
        if pids.is_empty() {
            break;
        }
        for pid in pids {
            let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGKILL);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    for d in &dirs {
        for _ in 0..100 {
            if std::fs::remove_dir(d).is_ok() || !d.exists() {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// One HTTP/1.0 request on a unix socket: (status, body).
pub fn http_unix(socket: &Path, method: &str, path: &str, body: &str) -> (u16, String) {
    let mut s = UnixStream::connect(socket).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.0\r\nHost: docker\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let status = head.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    (status, body.to_string())
}

/// stdout as text.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// stderr as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
