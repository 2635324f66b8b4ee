//! What the image suites do to a daemon besides running a client: read an
//! image over the API, list what its graph driver holds, follow a pull's
//! progress stream as it arrives, restart it on the same root, and run our
//! own client with a home directory of its own (so `login` never writes the
//! user's `~/.docker`).
#![allow(dead_code)]

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use super::{Daemon, DaemonOptions, docker_bin, stderr, stdout};

/// Asserts the command succeeded; its stdout.
#[track_caller]
pub fn ok(out: &Output) -> String {
    assert!(out.status.success(), "command failed ({:?}):\n{}{}", out.status, stdout(out), stderr(out));
    stdout(out)
}

/// Asserts the command failed; its stderr (and stdout, where clients also
/// print errors).
#[track_caller]
pub fn fails(out: &Output) -> String {
    assert!(!out.status.success(), "command succeeded but should not have:\n{}{}", stdout(out), stderr(out));
    format!("{}{}", stderr(out), stdout(out))
}

/// Our client with `HOME` and `DOCKER_CONFIG` pointing at `home`.
pub fn ours_at(d: &Daemon, home: &Path, args: &[&str]) -> Output {
    Command::new(docker_bin())
        .arg("-H")
        .arg(d.host())
        .args(args)
        .env("HOME", home)
        .env("DOCKER_CONFIG", home.join(".docker"))
        .output()
        .unwrap()
}

/// `GET /images/<name>/json` as JSON; panics unless 200.
#[track_caller]
pub fn inspect(d: &Daemon, name: &str) -> serde_json::Value {
    let (status, body) = d.http("GET", &format!("/v1.24/images/{name}/json"), "");
    assert_eq!(status, 200, "inspect {name}: {body}");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("inspect {name}: {e}: {body}"))
}

/// `GET /images/json` as JSON.
pub fn list(d: &Daemon) -> Vec<serde_json::Value> {
    let (status, body) = d.http("GET", "/v1.24/images/json", "");
    assert_eq!(status, 200, "images: {body}");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("images: {e}: {body}"))
}

/// Every `repo:tag` the daemon lists.
pub fn repo_tags(d: &Daemon) -> BTreeSet<String> {
    list(d)
        .iter()
        .flat_map(|i| i["RepoTags"].as_array().cloned().unwrap_or_default())
        .filter_map(|t| t.as_str().map(String::from))
        .filter(|t| t != "<none>:<none>")
        .collect()
}

/// `RootFS.Layers` of an inspect answer.
pub fn diff_ids(v: &serde_json::Value) -> Vec<String> {
    v["RootFS"]["Layers"]
        .as_array()
        .unwrap_or_else(|| panic!("no RootFS.Layers in {v}"))
        .iter()
        .map(|l| l.as_str().unwrap().to_string())
        .collect()
}

/// The daemon's root (`-g`).
pub fn root(d: &Daemon) -> PathBuf {
    d.dir.path().join("root")
}

/// Where graph drivers keep layers under a root, whichever is in use.
pub fn driver_dirs(root: &Path) -> Vec<PathBuf> {
    ["overlay", "overlay2", "vfs/dir", "aufs/diff", "btrfs/subvolumes"].iter().map(|d| root.join(d)).collect()
}

/// Every layer and image entry the daemon's root holds: the children of
/// the driver directories and of `graph/`, less staging directories
/// (`_tmp`, dot-names) a daemon keeps for its own use.
pub fn stored_entries(root: &Path) -> BTreeSet<PathBuf> {
    let mut dirs = driver_dirs(root);
    dirs.push(root.join("graph"));
    dirs.into_iter()
        .filter_map(|d| std::fs::read_dir(d).ok())
        .flat_map(|entries| entries.flatten().map(|e| e.path()))
        .filter(|p| !p.file_name().is_some_and(|n| n.to_string_lossy().starts_with(['.', '_'])))
        .collect()
}

/// Every copy of `rel` in any layer of the daemon's graph driver.
pub fn in_layers(root: &Path, rel: &str) -> Vec<PathBuf> {
    driver_dirs(root).iter().flat_map(|d| super::images::find_in_layers(d, rel, 3)).collect()
}

/// Follows `POST /images/create?fromImage=<image>&tag=<tag>` on the
/// daemon's socket, giving each progress line (one JSON message) to `f`
/// as it arrives until `f` returns false or the stream ends. Returns
/// whether `f` stopped it.
pub fn follow_pull(socket: &Path, image: &str, tag: &str, mut f: impl FnMut(&serde_json::Value) -> bool) -> bool {
    let mut s = UnixStream::connect(socket).unwrap();
    write!(
        s,
        "POST /v1.24/images/create?fromImage={image}&tag={tag} HTTP/1.0\r\nHost: docker\r\nContent-Length: 0\r\n\r\n"
    )
    .unwrap();
    let reader = BufReader::new(s);
    for line in reader.split(b'\n').map_while(Result::ok) {
        let line = String::from_utf8_lossy(&line);
        // Chunk sizes, headers and blank lines are not JSON; each JSON
        // message starts at a '{' on its own line or after chunk framing.
        let Some(start) = line.find('{') else { continue };
        let Ok(msg) = serde_json::from_str::<serde_json::Value>(line[start..].trim_end()) else { continue };
        if !f(&msg) {
            return true;
        }
    }
    false
}

/// SIGTERM, wait for the exit, and start a new daemon on the same root
/// with `args`.
pub fn restart(mut d: Daemon, args: &[&str]) -> Daemon {
    if d.child.is_some() {
        d.signal(nix::sys::signal::Signal::SIGTERM);
        assert_eq!(d.wait_exit(30), 0, "a clean SIGTERM exit; log:\n{}", d.log.lock().unwrap().join("\n"));
    }
    respawn(d, args)
}

/// SIGKILL and start a new daemon on the same root with `args`.
pub fn kill9_and_restart(mut d: Daemon, args: &[&str]) -> Daemon {
    d.signal(nix::sys::signal::Signal::SIGKILL);
    assert_eq!(d.wait_exit(30), 128 + 9);
    respawn(d, args)
}

fn respawn(mut d: Daemon, args: &[&str]) -> Daemon {
    let dir = std::mem::replace(&mut d.dir, tempfile::tempdir().unwrap());
    drop(d);
    Daemon::start_with(DaemonOptions {
        args: args.iter().map(|a| a.to_string()).collect(),
        dir: Some(dir),
        ..Default::default()
    })
}

/// An overlay mount of some layer directories (lowest last), read-only,
/// unmounted on drop.
pub struct OverlayMount {
    pub dir: tempfile::TempDir,
}

impl OverlayMount {
    /// `mount -t overlay -o lowerdir=<top>:...:<bottom>`; Err if the kernel
    /// refuses.
    pub fn new(lowers_top_first: &[PathBuf]) -> nix::Result<OverlayMount> {
        let dir = tempfile::tempdir().unwrap();
        let lower: Vec<String> = lowers_top_first.iter().map(|p| p.display().to_string()).collect();
        let data = format!("lowerdir={}", lower.join(":"));
        nix::mount::mount(
            Some("overlay"),
            dir.path(),
            Some("overlay"),
            nix::mount::MsFlags::MS_RDONLY,
            Some(data.as_str()),
        )?;
        Ok(OverlayMount { dir })
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for OverlayMount {
    fn drop(&mut self) {
        if nix::mount::umount2(self.dir.path(), nix::mount::MntFlags::empty()).is_err() {
            let _ = nix::mount::umount2(self.dir.path(), nix::mount::MntFlags::MNT_DETACH);
        }
    }
}

/// The files of a `docker save` tar: name -> content.
pub fn tar_files(path: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    use std::io::Read;
    let mut out = std::collections::BTreeMap::new();
    let mut ar = tar::Archive::new(std::fs::File::open(path).unwrap());
    for e in ar.entries().unwrap() {
        let mut e = e.unwrap();
        let name = e.path().unwrap().to_string_lossy().trim_start_matches("./").to_string();
        let mut data = Vec::new();
        e.read_to_end(&mut data).unwrap();
        out.insert(name, data);
    }
    out
}

/// The `manifest.json` of a `docker save` tar.
pub fn save_manifest(path: &Path) -> serde_json::Value {
    let files = tar_files(path);
    let m = files
        .get("manifest.json")
        .unwrap_or_else(|| panic!("no manifest.json in the saved tar; it has {:?}", files.keys().collect::<Vec<_>>()));
    serde_json::from_slice(m).unwrap()
}

/// Runs `cmd` (stdin closed) and gives its output, killing it if it has
/// not exited within `secs`: a client that blocks (the docker CLI prompts
/// for credentials after a 401 even without a terminal) fails the test
/// instead of hanging it. Panics on the deadline, naming the command.
#[track_caller]
pub fn output_within(cmd: &mut Command, secs: u64) -> Output {
    use std::process::Stdio;
    let child = cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    wait_within(child, secs, &format!("{cmd:?}"))
}

/// Waits for a spawned client (stdout/stderr piped), killing it and
/// panicking with what it printed if it runs longer than `secs`.
#[track_caller]
pub fn wait_within(child: std::process::Child, secs: u64, what: &str) -> Output {
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(std::time::Duration::from_secs(secs)) {
        Ok(out) => out.unwrap(),
        Err(_) => {
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL);
            let out = rx.recv().unwrap().unwrap();
            panic!("{what} still running after {secs}s, killed; it printed:\n{}{}", stdout(&out), stderr(&out));
        }
    }
}

/// Imports a one-layer busybox rootfs (Debian's static busybox and its
/// applets) as `busybox:latest`, through our own client.
#[track_caller]
pub fn import_busybox(d: &Daemon) {
    let tar = d.dir.path().join("busybox-rootfs.tar");
    std::fs::write(&tar, super::images::busybox_layer().tar).unwrap();
    ok(&output_within(
        Command::new(docker_bin()).arg("-H").arg(d.host()).args(["import", tar.to_str().unwrap(), "busybox"]),
        60,
    ));
}

/// The real docker CLI v28 against `d` (as `Daemon::real_cli`), within
/// `secs`.
#[track_caller]
pub fn real_cli_within(d: &Daemon, args: &[&str], secs: u64) -> Output {
    output_within(d.real_cli_command().args(args), secs)
}

/// Runs a docker-py `script` (`python -c`, within 60 s) after a preamble
/// that imports `json`, `sys` and `docker` and makes `c`, a client of `d`
/// negotiating its API version; `args` are `sys.argv[2..]`. The one JSON
/// object it printed.
#[track_caller]
pub fn docker_py_json(python: &Path, d: &Daemon, script: &str, args: &[&str]) -> serde_json::Value {
    let script =
        format!("import json, sys, docker\nc = docker.DockerClient(base_url=sys.argv[1], version='auto')\n{script}");
    let out = output_within(Command::new(python).arg("-c").arg(script).arg(d.host()).args(args), 60);
    let text = ok(&out);
    serde_json::from_str(text.trim()).unwrap_or_else(|e| panic!("{e}: {text}"))
}
