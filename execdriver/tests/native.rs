//! The native driver against the real kernel (run as root): a busybox
//! rootfs in a temp dir, each test one container.

use std::path::Path;
use std::time::Duration;

use execdriver::{Command, Container, ContainerIo, Driver, Process};
use tokio::io::AsyncReadExt;

mod support;
use support::driver;

const APPLETS: &[&str] = &[
    "sh", "cat", "echo", "id", "hostname", "ls", "sleep", "ps", "mount", "ip", "true", "false", "tty", "grep", "wc",
    "touch",
];

fn rootfs() -> tempfile::TempDir {
    support::rootfs(APPLETS, Some(("bob", 1000)))
}

fn command(name: &str, root: &Path, args: &[&str]) -> Command {
    Command {
        id: format!("edtest-{name}-{}", std::process::id()),
        rootfs: root.to_path_buf(),
        hostname: "testhost".into(),
        process: Process { args: args.iter().map(|s| s.to_string()).collect(), ..Default::default() },
        ..Default::default()
    }
}

/// Runs to completion: (exit code, stdout, stderr).
async fn run(cmd: Command) -> (i32, String, String) {
    let mut c = driver().spawn(cmd, None).await.expect("spawn");
    let (out, err) = collect(&mut c).await;
    let code = c.wait().await.expect("wait");
    (code, out.await.expect("stdout"), err.await.expect("stderr"))
}

async fn collect(c: &mut Container) -> (tokio::task::JoinHandle<String>, tokio::task::JoinHandle<String>) {
    match c.take_io() {
        Some(ContainerIo::Pipes { mut stdout, mut stderr, .. }) => (
            tokio::spawn(async move {
                let mut s = String::new();
                let _ = stdout.read_to_string(&mut s).await;
                s
            }),
            tokio::spawn(async move {
                let mut s = String::new();
                let _ = stderr.read_to_string(&mut s).await;
                s
            }),
        ),
        Some(ContainerIo::Tty(mut pty)) => (
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let _ = pty.read_to_end(&mut buf).await;
                String::from_utf8_lossy(&buf).into_owned()
            }),
            tokio::spawn(async { String::new() }),
        ),
        None => panic!("io already taken"),
    }
}

#[tokio::test]
async fn exit_code_and_pipes() {
    let root = rootfs();
    let (code, out, err) = run(command("exit", root.path(), &["sh", "-c", "echo out; echo err >&2; exit 3"])).await;
    assert_eq!((code, out.as_str(), err.as_str()), (3, "out\n", "err\n"));
}

#[tokio::test]
async fn isolation() {
    let root = rootfs();
    let script = "hostname; echo pid=$$; touch /sys/x 2>/dev/null || echo sys-ro; echo x > /dev/null && echo devnull-ok; \
                  echo 1 > /proc/sys/kernel/hostname 2>/dev/null || echo procsys-ro; ip -o link | wc -l; \
                  grep -c ptmxmode=666 /proc/self/mountinfo; echo $PATH; echo home=$HOME; ls /dev";
    let (code, out, err) = run(command("iso", root.path(), &["sh", "-c", script])).await;
    assert_eq!(code, 0, "stderr: {err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "testhost");
    assert_eq!(lines[1], "pid=1");
    assert_eq!(lines[2], "sys-ro");
    assert_eq!(lines[3], "devnull-ok");
    assert_eq!(lines[4], "procsys-ro");
    assert_eq!(lines[5].trim(), "1", "only lo: {out}");
    assert_eq!(lines[6].trim(), "1", "one new devpts instance: {out}");
    assert_eq!(lines[7], execdriver::DEFAULT_PATH);
    assert_eq!(lines[8], "home=/root");
    for node in ["null", "zero", "full", "random", "urandom", "tty", "pts", "shm", "mqueue", "ptmx", "fd", "stdin"] {
        assert!(lines[9..].contains(&node), "/dev/{node} missing: {out}");
    }
}

#[tokio::test]
async fn tty_is_a_new_pts() {
    let root = rootfs();
    let mut cmd = command("tty", root.path(), &["sh", "-c", "tty; echo $TERM"]);
    cmd.process.tty = true;
    let (code, out, _) = run(cmd).await;
    assert_eq!(code, 0);
    assert_eq!(out, "/dev/pts/0\r\nxterm\r\n");
}

#[tokio::test]
async fn user_and_capabilities() {
    let root = rootfs();
    let mut cmd = command("user", root.path(), &["sh", "-c", "id; grep CapEff /proc/self/status"]);
    cmd.process.user = "1000:1000".into();
    let (code, out, err) = run(cmd).await;
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("uid=1000(bob) gid=1000(bob)"), "{out}");
    assert!(out.contains("CapEff:\t0000000000000000"), "{out}");

    let (code, out, _) = run(command("caps", root.path(), &["grep", "CapEff", "/proc/self/status"])).await;
    assert_eq!((code, out.as_str()), (0, "CapEff:\t00000000a80425fb\n"));

    let mut cmd = command("priv", root.path(), &["grep", "CapEff", "/proc/self/status"]);
    cmd.process.privileged = true;
    // Everything the test itself holds (all, on a normal host).
    let ours = std::fs::read_to_string("/proc/self/status").unwrap();
    let ours = ours.lines().find(|l| l.starts_with("CapEff:")).unwrap().to_string();
    let (code, out, _) = run(cmd).await;
    assert_eq!((code, out), (0, format!("{ours}\n")));
}

#[tokio::test]
async fn missing_binary_is_a_clear_error() {
    let root = rootfs();
    let cmd = command("nosuch", root.path(), &["nosuch"]);
    let id = cmd.id.clone();
    let err = driver().spawn(cmd, None).await.expect_err("must fail");
    assert_eq!(err.to_string(), "exec: \"nosuch\": executable file not found in $PATH");
    assert!(err.is_not_found());
    assert!(!Path::new("/sys/fs/cgroup/memory/docker").join(&id).exists());
}

#[tokio::test]
async fn cgroup_limits_pause_kill_and_cleanup() {
    let root = rootfs();
    let mut cmd = command("cg", root.path(), &["sleep", "30"]);
    cmd.resources.memory = 64 << 20;
    cmd.resources.cpu_shares = 512;
    let mut c = driver().spawn(cmd, None).await.expect("spawn");
    let mem = c.cgroup_path("memory").expect("memory cgroup");
    let limit_file = if mem.join("memory.max").exists() { "memory.max" } else { "memory.limit_in_bytes" };
    assert_eq!(std::fs::read_to_string(mem.join(limit_file)).unwrap().trim(), (64u64 << 20).to_string());
    assert_eq!(c.pids().unwrap(), vec![c.pid()]);
    assert_eq!(c.stats().memory_limit, 64 << 20);

    c.pause().await.expect("pause");
    assert!(c.is_paused());
    c.unpause().await.expect("unpause");
    assert!(!c.is_paused());

    c.kill(9).expect("kill");
    assert_eq!(c.wait().await.unwrap(), 137);
    assert!(!mem.exists(), "cgroup left behind");
}

#[tokio::test]
async fn paused_process_finishes_after_unpause() {
    let root = rootfs();
    let mut c = driver().spawn(command("pause", root.path(), &["sleep", "1"]), None).await.expect("spawn");
    c.pause().await.expect("pause");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let frozen = tokio::time::timeout(Duration::from_millis(200), c.wait()).await;
    assert!(frozen.is_err(), "a frozen sleep must not finish");
    c.unpause().await.expect("unpause");
    assert_eq!(c.wait().await.unwrap(), 0);
}

#[tokio::test]
async fn exec_joins_the_container() {
    let root = rootfs();
    let mut cmd = command("exec", root.path(), &["sleep", "30"]);
    cmd.hostname = "exechost".into();
    let mut c = driver().spawn(cmd, None).await.expect("spawn");
    let process = Process {
        args: vec!["sh".into(), "-c".into(), "hostname; cat /proc/1/cmdline; echo; echo $$; ls /bin/busybox".into()],
        ..Default::default()
    };
    let mut e = c.exec(process).await.expect("exec");
    let mut out = String::new();
    if let Some(ContainerIo::Pipes { mut stdout, .. }) = e.take_io() {
        stdout.read_to_string(&mut out).await.unwrap();
    }
    assert_eq!(e.wait().await.unwrap(), 0);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "exechost");
    assert_eq!(lines[1], "sleep\u{0}30\u{0}");
    assert_ne!(lines[2], "1");
    assert_eq!(lines[3], "/bin/busybox");

    let mut t = c.exec(Process { args: vec!["tty".into()], tty: true, ..Default::default() }).await.expect("exec tty");
    let mut buf = Vec::new();
    if let Some(ContainerIo::Tty(mut pty)) = t.take_io() {
        pty.read_to_end(&mut buf).await.unwrap();
    }
    assert_eq!(t.wait().await.unwrap(), 0);
    assert_eq!(String::from_utf8_lossy(&buf), "/dev/pts/0\r\n");

    c.terminate().expect("terminate");
    assert_eq!(c.wait().await.unwrap(), 137);
}

#[tokio::test]
async fn mounts_files_and_host_network() {
    let root = rootfs();
    let host = tempfile::tempdir().expect("tempdir");
    std::fs::write(host.path().join("hosts"), "127.0.0.1 localhost testhost\n").unwrap();
    std::fs::create_dir(host.path().join("vol")).unwrap();
    std::fs::write(host.path().join("vol/f"), "volume\n").unwrap();
    let script = "cat /etc/hosts; cat /data/f; touch /data/g 2>/dev/null || echo ro; ip -o link | wc -l";
    let mut cmd = command("mounts", root.path(), &["sh", "-c", script]);
    cmd.hosts_path = Some(host.path().join("hosts"));
    cmd.mounts.push(execdriver::BindMount {
        source: host.path().join("vol"),
        destination: "/data".into(),
        read_only: true,
        private: false,
    });
    cmd.network = execdriver::NetworkMode::Host;
    let (code, out, err) = run(cmd).await;
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(&lines[..3], &["127.0.0.1 localhost testhost", "volume", "ro"]);
    let host_links = std::fs::read_dir("/sys/class/net").unwrap().count();
    assert_eq!(lines[3].trim(), host_links.to_string(), "host network: {out}");
    // Nothing the container mounted is visible on the host.
    assert!(!std::fs::read_to_string("/proc/self/mountinfo").unwrap().contains(&root.path().display().to_string()));
}
