//! What a container sees from inside, through the real docker CLI v28
//! against a busybox image pulled from a loopback registry: its own pid
//! namespace, its short id as hostname, Docker 1.2's capability set (all of
//! the host's with `--privileged`), a read-only `/proc/sys`, none of the
//! host's mounts, a memory limit in its cgroup that kills a process going
//! over it, and an interactive shell on a pty (`run -it`, with the real
//! CLI and our own client).

mod common;

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::image_tools::{ok, real_cli_within};
use common::images::{self, Format};
use common::registry::{RegistryAuth, TestRegistry};
use common::{Daemon, REAL_CLI, require, stderr, stdout};

fn cli(d: &Daemon, args: &[&str]) -> Output {
    real_cli_within(d, args, 60)
}

fn tools_present() -> bool {
    require(REAL_CLI, "the docker CLI v28") && require(images::BUSYBOX, "busybox-static")
}

/// A daemon with `busybox` pulled through the real CLI from a registry on
/// loopback (the registry is dropped once the image is in).
fn daemon_with_pulled_busybox() -> Daemon {
    let d = Daemon::start();
    let reg = TestRegistry::start(RegistryAuth::None);
    images::busybox().push(&reg.host, None, "busybox", "latest", Format::Schema2);
    let remote = format!("{}/busybox", reg.host);
    ok(&cli(&d, &["pull", &remote]));
    ok(&cli(&d, &["tag", &remote, "busybox"]));
    d
}

/// Removes the named containers when the test ends, failed or not.
struct Cleanup<'a>(&'a Daemon, Vec<&'static str>);

impl Drop for Cleanup<'_> {
    fn drop(&mut self) {
        let mut args = vec!["rm", "-f"];
        args.extend(self.1.iter().copied());
        let _ = cli(self.0, &args);
    }
}

/// The capability mask of Docker 1.2's default set, by capability number
/// (linux/capability.h), written out here rather than taken from the
/// execdriver so the test checks the numbers themselves.
fn default_capability_mask() -> u64 {
    const CHOWN: u32 = 0;
    const DAC_OVERRIDE: u32 = 1;
    const FOWNER: u32 = 3;
    const FSETID: u32 = 4;
    const KILL: u32 = 5;
    const SETGID: u32 = 6;
    const SETUID: u32 = 7;
    const SETPCAP: u32 = 8;
    const NET_BIND_SERVICE: u32 = 10;
    const NET_RAW: u32 = 13;
    const SYS_CHROOT: u32 = 18;
    const MKNOD: u32 = 27;
    const AUDIT_WRITE: u32 = 29;
    const SETFCAP: u32 = 31;
    [
        CHOWN,
        DAC_OVERRIDE,
        FOWNER,
        FSETID,
        KILL,
        SETGID,
        SETUID,
        SETPCAP,
        NET_BIND_SERVICE,
        NET_RAW,
        SYS_CHROOT,
        MKNOD,
        AUDIT_WRITE,
        SETFCAP,
    ]
    .iter()
    .fold(0, |mask, bit| mask | 1 << bit)
}

/// The value of `field` (`CapEff`, `CapBnd`) in a `/proc/*/status` text.
fn cap_field(status: &str, field: &str) -> u64 {
    let line = status.lines().find(|l| l.starts_with(&format!("{field}:"))).unwrap_or_else(|| panic!("{status}"));
    u64::from_str_radix(line.split_whitespace().nth(1).unwrap(), 16).unwrap()
}

#[test]
fn a_container_sees_only_itself() {
    if !tools_present() {
        return;
    }
    let d = daemon_with_pulled_busybox();
    let _cleanup = Cleanup(&d, vec!["iso"]);
    let script = "echo pid=$$; echo cmd=$(cat /proc/1/cmdline | tr '\\0' ' '); \
                  echo procs=$(ls /proc | grep -c '^[0-9]'); echo host=$(hostname); \
                  echo mounts; cut -d' ' -f2 /proc/mounts; echo end; grep ^Cap /proc/self/status; \
                  if echo 1 > /proc/sys/kernel/shm_rmid_forced; then echo sys=written; else echo sys=refused; fi";
    let out = cli(&d, &["run", "--name", "iso", "busybox", "sh", "-c", script]);
    let text = ok(&out);
    let id = ok(&cli(&d, &["inspect", "-f", "{{.Id}}", "iso"])).trim().to_string();

    assert!(text.contains("pid=1\n"), "the container's command is its pid 1: {text}");
    assert!(text.contains("cmd=sh -c "), "{text}");
    // sh, the subshell of `$(...)` and its ls and grep: nothing of the
    // host's, which has far more.
    let procs: usize = text.lines().find_map(|l| l.strip_prefix("procs=")).unwrap().parse().unwrap();
    assert!(procs <= 4, "only the container's own processes are visible: {text}");
    let host_procs = std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().parse::<u32>().is_ok())
        .count();
    assert!(host_procs > 4, "the host shows {host_procs} processes");
    assert!(text.contains(&format!("host={}\n", &id[..12])), "the hostname is the short id: {text}");

    let mounts: BTreeSet<&str> =
        text.split("mounts\n").nth(1).unwrap().split("end\n").next().unwrap().lines().collect();
    let allowed: BTreeSet<&str> = [
        "/",
        "/proc",
        "/sys",
        "/dev",
        "/dev/pts",
        "/dev/shm",
        "/dev/mqueue",
        "/etc/hosts",
        "/etc/hostname",
        "/etc/resolv.conf",
        "/proc/sys",
        "/proc/irq",
        "/proc/bus",
        "/proc/sysrq-trigger",
        "/proc/kcore",
        "/proc/timer_list",
        "/proc/keys",
        "/proc/latency_stats",
        "/proc/timer_stats",
        "/proc/sched_debug",
        "/proc/scsi",
        "/proc/acpi",
        "/sys/firmware",
    ]
    .into();
    assert!(mounts.contains("/proc") && mounts.contains("/dev/pts"), "{text}");
    let foreign: Vec<_> = mounts.difference(&allowed).collect();
    assert!(foreign.is_empty(), "host mounts leaked into the container: {foreign:?}");
    let host_mounts = std::fs::read_to_string("/proc/self/mounts").unwrap();
    let host_only = host_mounts.lines().filter_map(|l| l.split(' ').nth(1)).filter(|m| !allowed.contains(m)).count();
    assert!(host_only > 0, "the host has mounts of its own, so the check above means something");

    assert_eq!(cap_field(&text, "CapEff"), default_capability_mask(), "{text}");
    assert_eq!(cap_field(&text, "CapBnd"), default_capability_mask(), "dropped from the bounding set too: {text}");
    assert!(text.contains("sys=refused\n"), "/proc/sys is read-only: {text}");

    let out = cli(&d, &["run", "--rm", "--privileged", "busybox", "cat", "/proc/self/status"]);
    let host = std::fs::read_to_string("/proc/self/status").unwrap();
    assert_eq!(cap_field(&ok(&out), "CapEff"), cap_field(&host, "CapBnd"), "privileged keeps every capability");
    let out = cli(
        &d,
        &["run", "--rm", "--cap-drop", "CHOWN", "--cap-add", "SYS_ADMIN", "busybox", "cat", "/proc/self/status"],
    );
    assert_eq!(
        cap_field(&ok(&out), "CapEff"),
        (default_capability_mask() & !1) | 1 << 21,
        "--cap-drop CHOWN --cap-add SYS_ADMIN"
    );
}

/// The host path of a cgroup v1 controller's file for container `id`, or
/// the v2 file; whichever this host has.
fn cgroup_file(id: &str, v1: (&str, &str), v2: &str) -> std::path::PathBuf {
    let v1_path = std::path::Path::new("/sys/fs/cgroup").join(v1.0).join("docker").join(id).join(v1.1);
    if v1_path.exists() { v1_path } else { std::path::Path::new("/sys/fs/cgroup/docker").join(id).join(v2) }
}

#[test]
fn a_memory_limit_is_in_the_cgroup_and_enforced() {
    if !tools_present() {
        return;
    }
    let d = daemon_with_pulled_busybox();
    let _cleanup = Cleanup(&d, vec!["capped", "hog"]);
    let id =
        ok(&cli(&d, &["run", "-d", "--name", "capped", "-m", "32m", "busybox", "sleep", "600"])).trim().to_string();
    let limit = cgroup_file(&id, ("memory", "memory.limit_in_bytes"), "memory.max");
    assert_eq!(std::fs::read_to_string(&limit).unwrap().trim(), "33554432", "{}", limit.display());
    let own = ok(&cli(&d, &["exec", "capped", "cat", "/proc/self/cgroup"]));
    assert!(own.lines().any(|l| l.contains(&format!("/docker/{id}"))), "exec joins the container's cgroups: {own}");
    ok(&cli(&d, &["rm", "-f", "capped"]));
    assert!(!limit.exists(), "the cgroup is removed with the container");

    // 60 MB in a shell variable cannot fit in 32 MB (this host has no swap
    // to spill to; with swap, `--memory-swap` equal to the limit forbids it).
    let out = cli(
        &d,
        &[
            "run",
            "--name",
            "hog",
            "-m",
            "32m",
            "--memory-swap",
            "32m",
            "busybox",
            "sh",
            "-c",
            "x=$(head -c 60000000 /dev/zero | tr '\\0' a); echo survived ${#x}",
        ],
    );
    assert_eq!(out.status.code(), Some(137), "killed by the OOM killer: {}{}", stdout(&out), stderr(&out));
    assert!(!stdout(&out).contains("survived"), "{}", stdout(&out));
    let state = ok(&cli(&d, &["inspect", "-f", "{{.State.OOMKilled}} {{.State.ExitCode}}", "hog"]));
    assert_eq!(state.trim(), "true 137", "the OOM kill is recorded");
    let until = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() + 1;
    let until = until.to_string();
    let events = ok(&cli(&d, &["events", "--since", "0", "--until", &until, "--filter", "container=hog"]));
    let oom = events.find(" oom ").unwrap_or_else(|| panic!("no oom event: {events}"));
    assert!(events[oom..].contains(" die "), "oom comes before die: {events}");
}

/// The master side of a pty whose slave is a child's stdin, stdout and
/// stderr: what a terminal user types and sees.
struct Terminal {
    master: std::fs::File,
    seen: Vec<u8>,
}

impl Terminal {
    fn spawn(cmd: &mut Command) -> (Terminal, std::process::Child) {
        let pty = nix::pty::openpty(None, None).expect("openpty");
        let slave: OwnedFd = pty.slave;
        let stdio = |fd: &OwnedFd| Stdio::from(fd.as_fd().try_clone_to_owned().unwrap());
        let child = cmd.stdin(stdio(&slave)).stdout(stdio(&slave)).stderr(stdio(&slave)).spawn().unwrap();
        drop(slave);
        (Terminal { master: std::fs::File::from(pty.master), seen: Vec::new() }, child)
    }

    /// Reads until `needle` has been seen (after what was already
    /// consumed), or panics with the screen after 30 s.
    fn expect(&mut self, needle: &str) {
        let deadline = Instant::now() + Duration::from_secs(30);
        let fd = self.master.as_fd().try_clone_to_owned().unwrap();
        loop {
            if let Some(at) = String::from_utf8_lossy(&self.seen).find(needle) {
                self.seen.drain(..at + needle.len());
                return;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(!left.is_zero(), "{needle:?} never appeared: {:?}", String::from_utf8_lossy(&self.seen));
            let mut fds = [nix::poll::PollFd::new(fd.as_fd(), nix::poll::PollFlags::POLLIN)];
            let ms = u16::try_from(left.as_millis()).unwrap_or(u16::MAX);
            if nix::poll::poll(&mut fds, ms).unwrap_or(0) == 0 {
                continue;
            }
            let mut buf = [0u8; 4096];
            match self.master.read(&mut buf) {
                Ok(0) | Err(_) => {
                    panic!("the terminal closed before {needle:?}: {:?}", String::from_utf8_lossy(&self.seen))
                }
                Ok(n) => self.seen.extend_from_slice(&buf[..n]),
            }
        }
    }

    fn send(&mut self, text: &str) {
        self.master.write_all(text.as_bytes()).unwrap();
    }
}

#[test]
fn run_it_gives_a_shell_on_a_pty() {
    if !tools_present() {
        return;
    }
    let d = daemon_with_pulled_busybox();
    let _cleanup = Cleanup(&d, vec!["shell-real", "shell-ours"]);
    let config = d.dir.path().join("cli-config");
    std::fs::create_dir_all(&config).unwrap();
    for (name, client) in [("shell-real", std::path::PathBuf::from(REAL_CLI)), ("shell-ours", common::docker_bin())] {
        let mut cmd = Command::new(client);
        cmd.env("DOCKER_HOST", d.host())
            .env("DOCKER_CONFIG", &config)
            .args(["run", "-it", "--name", name, "busybox", "sh"]);
        let (mut term, mut child) = Terminal::spawn(&mut cmd);

        // The arithmetic is done by the container's shell, so seeing 42
        // means the keystrokes reached it and its answer came back through
        // the pty.
        term.send("tty; echo answer=$((6*7))\n");
        term.expect("/dev/pts/0");
        term.expect("answer=42");
        term.send("exit 5\n");
        let deadline = Instant::now() + Duration::from_secs(30);
        let status = loop {
            if let Some(s) = child.try_wait().unwrap() {
                break s;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("{name}: run -it did not end after exit: {:?}", String::from_utf8_lossy(&term.seen));
            }
            // The client's own exit is the only signal there is to wait on.
            std::thread::sleep(Duration::from_millis(20));
        };
        assert_eq!(status.code(), Some(5), "{name}: {:?}", String::from_utf8_lossy(&term.seen));
        let tty = ok(&cli(&d, &["inspect", "-f", "{{.Config.Tty}} {{.Config.OpenStdin}} {{.State.ExitCode}}", name]));
        assert_eq!(tty.trim(), "true true 5", "{name}");
    }
}
