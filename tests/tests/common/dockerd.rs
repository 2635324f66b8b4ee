//! Debian's dockerd 20.10 (`docker.io`) on its own temporary data root,
//! exec root, pidfile and socket, with networking off: the real daemon our
//! saved images are checked against. It starts the containerd it manages
//! itself (state under the exec root). Drop stops it (SIGTERM, then SIGKILL
//! of it and its containerd), unmounts whatever it left under its
//! directory and removes the directory.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::{UnixDatagram, UnixStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::REAL_CLI;

/// Where Debian puts dockerd.
pub const DOCKERD: &str = "/usr/sbin/dockerd";

pub struct Dockerd {
    pub dir: tempfile::TempDir,
    pub socket: PathBuf,
    child: Option<Child>,
    pub log: Arc<Mutex<Vec<String>>>,
}

impl Dockerd {
    /// Starts dockerd and waits (at most 60 s) for its `READY=1`; then
    /// `/_ping` must answer `OK`.
    pub fn start() -> Dockerd {
        // A short path: containerd's sockets live under the exec root and
        // unix socket paths are limited to 108 bytes.
        let dir = tempfile::Builder::new().prefix("dd").tempdir_in("/tmp").unwrap();
        let socket = dir.path().join("dockerd.sock");
        let config = dir.path().join("daemon.json");
        std::fs::write(&config, "{}").unwrap();
        let notify_path = dir.path().join("notify.sock");
        let notify = UnixDatagram::bind(&notify_path).unwrap();
        notify.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
        let mut child = Command::new(DOCKERD)
            .arg("--config-file")
            .arg(&config)
            .arg("--data-root")
            .arg(dir.path().join("root"))
            .arg("--exec-root")
            .arg(dir.path().join("exec"))
            .arg("--pidfile")
            .arg(dir.path().join("dockerd.pid"))
            .arg("-H")
            .arg(format!("unix://{}", socket.display()))
            .args(["--bridge", "none", "--iptables=false", "--ip-masq=false"])
            .env("NOTIFY_SOCKET", &notify_path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawning dockerd");
        let log = Arc::new(Mutex::new(Vec::new()));
        let stderr = child.stderr.take().unwrap();
        let copy = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                copy.lock().unwrap().push(line);
            }
        });
        let mut d = Dockerd { dir, socket, child: Some(child), log };
        // dockerd says READY=1 (sd_notify) once its listeners are bound.
        // Retried on EINTR: a signal handler another test of the same
        // binary installed may interrupt the wait.
        let ready = loop {
            match notify.recv(&mut [0u8; 256]) {
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                other => break other,
            }
        };
        let status = d.child.as_mut().unwrap().try_wait().unwrap();
        assert!(
            ready.is_ok() && status.is_none() && ping(&d.socket),
            "dockerd not ready ({ready:?}, exit {status:?}); log:\n{}",
            d.log.lock().unwrap().join("\n")
        );
        d
    }

    /// `unix://<socket>`.
    pub fn host(&self) -> String {
        format!("unix://{}", self.socket.display())
    }

    /// The real docker CLI v28 against this dockerd.
    pub fn cli(&self, args: &[&str]) -> Output {
        let config = self.dir.path().join("cli-config");
        std::fs::create_dir_all(&config).unwrap();
        Command::new(REAL_CLI)
            .env("DOCKER_HOST", self.host())
            .env("DOCKER_CONFIG", &config)
            .args(args)
            .output()
            .unwrap()
    }

    /// The daemon's pid.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().unwrap().id()
    }
}

/// Whether `/_ping` on this socket answers `OK`.
pub fn ping(socket: &Path) -> bool {
    let Ok(mut s) = UnixStream::connect(socket) else { return false };
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    if s.write_all(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n").is_err() {
        return false;
    }
    let mut raw = String::new();
    let _ = s.read_to_string(&mut raw);
    raw.starts_with("HTTP/1.") && raw.ends_with("OK")
}

/// Every pid below `pid` (from /proc).
pub fn descendants(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    let mut stack = vec![pid];
    while let Some(p) = stack.pop() {
        // A child belongs to the thread that forked it, and Go forks from
        // any of its threads: every task's `children` has to be read.
        let Ok(tasks) = std::fs::read_dir(format!("/proc/{p}/task")) else { continue };
        for task in tasks.flatten() {
            let Ok(children) = std::fs::read_to_string(task.path().join("children")) else { continue };
            for c in children.split_whitespace().filter_map(|c| c.parse().ok()) {
                out.push(c);
                stack.push(c);
            }
        }
    }
    out
}

/// Unmounts every mount point under `dir`, deepest first.
pub fn unmount_under(dir: &Path) {
    let Ok(mounts) = std::fs::read_to_string("/proc/self/mounts") else { return };
    let prefix = format!("{}/", dir.display());
    let mut points: Vec<&str> =
        mounts.lines().filter_map(|l| l.split_whitespace().nth(1)).filter(|p| p.starts_with(&prefix)).collect();
    points.sort_by_key(|p| std::cmp::Reverse(p.len()));
    for p in points {
        if nix::mount::umount2(p, nix::mount::MntFlags::empty()).is_err() {
            let _ = nix::mount::umount2(p, nix::mount::MntFlags::MNT_DETACH);
        }
    }
}

impl Drop for Dockerd {
    fn drop(&mut self) {
        use nix::sys::signal::{Signal, kill};
        use nix::unistd::Pid;
        if let Some(mut child) = self.child.take() {
            let kids = descendants(child.id());
            let _ = kill(Pid::from_raw(child.id() as i32), Signal::SIGTERM);
            let deadline = Instant::now() + Duration::from_secs(20);
            while child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
            for k in kids {
                let _ = kill(Pid::from_raw(k as i32), Signal::SIGKILL);
            }
        }
        unmount_under(self.dir.path());
    }
}
