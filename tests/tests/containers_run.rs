//! Containers running end to end, with the real docker CLI v28 and
//! docker-py 7.2 against a busybox image imported from a local tar: run
//! (attach before start, exit code from the `die` event, `--rm`), exit
//! codes, a missing command, a tty, logs, stop, kill, wait, start -a,
//! pause/unpause, top, rm -f, and the daemon's SIGTERM stopping what runs
//! (and `--restart=always` bringing it back).

mod common;

use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use common::image_tools::{docker_py_json, import_busybox, ok, real_cli_within};
use common::images;
use common::{Daemon, DaemonOptions, REAL_CLI, require, stderr, stdout};

/// The real CLI, killed after 60 s so a hang fails the test instead of
/// blocking it.
fn cli(d: &Daemon, args: &[&str]) -> Output {
    real_cli_within(d, args, 60)
}

fn tools_present() -> bool {
    require(REAL_CLI, "the docker CLI v28") && require(images::BUSYBOX, "busybox-static")
}

fn state(d: &Daemon, name: &str) -> serde_json::Value {
    let text = ok(&cli(d, &["inspect", name]));
    let v: serde_json::Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    v[0]["State"].clone()
}

fn mounts_of(id: &str) -> usize {
    std::fs::read_to_string("/proc/self/mountinfo").unwrap().lines().filter(|l| l.contains(id)).count()
}

#[test]
fn the_cli_runs_containers_with_their_exit_codes() {
    if !tools_present() {
        return;
    }
    let d = Daemon::start();
    import_busybox(&d);

    let out = cli(&d, &["run", "--rm", "busybox", "echo", "hi"]);
    assert_eq!((stdout(&out).as_str(), out.status.code()), ("hi\n", Some(0)), "{}", stderr(&out));
    assert_eq!(ok(&cli(&d, &["ps", "-aq"])), "", "--rm removed it");

    let out = cli(&d, &["run", "--name", "three", "busybox", "sh", "-c", "echo out; echo err >&2; exit 3"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert_eq!((stdout(&out).as_str(), stderr(&out).as_str()), ("out\n", "err\n"));
    let s = state(&d, "three");
    assert_eq!((s["Status"].as_str(), s["ExitCode"].as_i64()), (Some("exited"), Some(3)));
    let logs = cli(&d, &["logs", "three"]);
    assert_eq!((stdout(&logs).as_str(), stderr(&logs).as_str()), ("out\n", "err\n"));

    let out = cli(&d, &["run", "--name", "missing", "busybox", "nosuchcommand"]);
    assert_eq!(out.status.code(), Some(127), "{}", stderr(&out));
    assert!(stderr(&out).contains("executable file not found"), "{}", stderr(&out));
    let s = state(&d, "missing");
    assert_eq!((s["Running"].as_bool(), s["ExitCode"].as_i64()), (Some(false), Some(127)));
    let id = ok(&cli(&d, &["inspect", "-f", "{{.Id}}", "missing"])).trim().to_string();
    assert_eq!(mounts_of(&id), 0, "no mount left behind");

    let out = cli(&d, &["run", "--rm", "-t", "busybox", "tty"]);
    assert!(stdout(&out).starts_with("/dev/pts/"), "{}{}", stdout(&out), stderr(&out));

    let out = cli(&d, &["create", "--name", "again", "busybox", "echo", "again"]);
    ok(&out);
    let out = cli(&d, &["start", "-a", "again"]);
    assert_eq!(ok(&out), "again\n");
    let out = cli(&d, &["wait", "again"]);
    assert_eq!(ok(&out).trim(), "0");
}

#[test]
fn the_cli_stops_kills_pauses_and_removes_detached_containers() {
    if !tools_present() {
        return;
    }
    let d = Daemon::start();
    import_busybox(&d);
    // sh is pid 1 and ignores SIGTERM, so stop has to SIGKILL.
    ok(&cli(&d, &["run", "-d", "--name", "st", "busybox", "sh", "-c", "echo started; sleep 30"]));
    let s = state(&d, "st");
    assert_eq!((s["Running"].as_bool(), s["Status"].as_str()), (Some(true), Some("running")));
    let deadline = Instant::now() + Duration::from_secs(10);
    while ok(&cli(&d, &["logs", "st"])) != "started\n" {
        assert!(Instant::now() < deadline, "no log");
        std::thread::sleep(Duration::from_millis(50));
    }
    let top = ok(&cli(&d, &["top", "st"]));
    assert!(top.contains("sleep 30"), "{top}");

    ok(&cli(&d, &["pause", "st"]));
    assert_eq!(state(&d, "st")["Status"], "paused");
    ok(&cli(&d, &["unpause", "st"]));
    assert_eq!(state(&d, "st")["Status"], "running");

    let began = Instant::now();
    ok(&cli(&d, &["stop", "-t", "1", "st"]));
    assert!(began.elapsed() < Duration::from_secs(8));
    let s = state(&d, "st");
    assert_eq!((s["Running"].as_bool(), s["ExitCode"].as_i64()), (Some(false), Some(137)));
    let out = cli(&d, &["stop", "st"]);
    assert!(out.status.success(), "stopping a stopped container is not an error");

    ok(&cli(&d, &["start", "st"]));
    assert_eq!(state(&d, "st")["Running"], true);
    ok(&cli(&d, &["kill", "st"]));
    assert_eq!(ok(&cli(&d, &["wait", "st"])).trim(), "137");
    let out = cli(&d, &["kill", "st"]);
    assert!(!out.status.success() && stderr(&out).contains("is not running"), "{}", stderr(&out));

    ok(&cli(&d, &["run", "-d", "--name", "gone", "busybox", "sleep", "30"]));
    ok(&cli(&d, &["rm", "-f", "gone"]));
    assert!(!ok(&cli(&d, &["ps", "-a", "--format", "{{.Names}}"])).contains("gone"));
}

#[test]
fn daemon_shutdown_stops_containers_and_always_brings_them_back() {
    if !tools_present() {
        return;
    }
    let mut d = Daemon::start();
    import_busybox(&d);
    ok(&cli(&d, &["run", "-d", "--name", "plain", "busybox", "sleep", "30"]));
    ok(&cli(&d, &["run", "-d", "--name", "always", "--restart=always", "busybox", "sleep", "30"]));
    let id = ok(&cli(&d, &["inspect", "-f", "{{.Id}}", "plain"])).trim().to_string();
    d.signal(nix::sys::signal::Signal::SIGTERM);
    assert_eq!(d.wait_exit(40), 0);
    assert_eq!(mounts_of(&id), 0, "unmounted at shutdown");

    let dir = std::mem::replace(&mut d.dir, tempfile::tempdir().unwrap());
    drop(d);
    let d = Daemon::start_with(DaemonOptions { dir: Some(dir), ..Default::default() });
    let s = state(&d, "plain");
    assert_eq!((s["Running"].as_bool(), s["ExitCode"].as_i64()), (Some(false), Some(137)), "{s}");
    let deadline = Instant::now() + Duration::from_secs(10);
    while state(&d, "always")["Running"] != true {
        assert!(Instant::now() < deadline, "the always container did not come back");
        std::thread::sleep(Duration::from_millis(100));
    }
    ok(&cli(&d, &["rm", "-f", "always"]));
}

#[test]
fn docker_py_runs_a_container() {
    let Some(python) = common::docker_py() else { return };
    if !tools_present() {
        return;
    }
    let d = Daemon::start();
    import_busybox(&d);
    let script = r#"
out = {}
out["run"] = c.containers.run('busybox', 'echo hi', remove=True).decode()
try:
    c.containers.run('busybox', ['sh', '-c', 'echo bad >&2; exit 2'])
except docker.errors.ContainerError as e:
    out["error"] = [e.exit_status, e.stderr.decode()]
ct = c.containers.run('busybox', 'sleep 30', detach=True, name='pyd')
out["status"] = c.containers.get('pyd').status
ct.stop(timeout=1)
ct.reload()
out["stopped"] = ct.status
out["left"] = sorted(x.name for x in c.containers.list(all=True))
print(json.dumps(out))
"#;
    let got = docker_py_json(&python, &d, script, &[]);
    assert_eq!(got["run"], "hi\n", "{got}");
    assert_eq!(got["error"], serde_json::json!([2, "bad\n"]), "{got}");
    assert_eq!((got["status"].as_str(), got["stopped"].as_str()), (Some("running"), Some("exited")), "{got}");
    assert_eq!(got["left"].as_array().unwrap().len(), 2, "{got}");
}

#[test]
fn stdin_reaches_the_container_and_logs_follow_to_the_exit() {
    if !tools_present() {
        return;
    }
    let d = Daemon::start();
    import_busybox(&d);
    let mut child = d
        .real_cli_command()
        .args(["run", "-i", "--rm", "busybox", "cat"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(b"hello\nworld\n").unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert_eq!((stdout(&out).as_str(), out.status.code()), ("hello\nworld\n", Some(0)), "{}", stderr(&out));

    ok(&cli(&d, &["run", "-d", "--name", "slow", "busybox", "sh", "-c", "echo a; sleep 1; echo b"]));
    let out = cli(&d, &["logs", "-f", "slow"]);
    assert_eq!(ok(&out), "a\nb\n");
    let out = cli(&d, &["logs", "--tail", "1", "-t", "slow"]);
    let line = ok(&out);
    assert!(line.ends_with("Z b\n") && line.starts_with("20"), "{line}");
}

#[test]
fn a_slow_reader_of_run_gets_every_byte() {
    if !tools_present() {
        return;
    }
    let d = Daemon::start();
    import_busybox(&d);
    // 40 MB of output, far more than the pipes and sockets between the
    // container and this reader can hold while it does not read.
    let mut child = d
        .real_cli_command()
        .args(["run", "--rm", "busybox", "sh", "-c", "head -c 30000000 /dev/zero | base64 -w 100"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Not a synchronisation: the scenario is a client that reads nothing
    // for a while. The container must wait for it, not lose output.
    std::thread::sleep(Duration::from_secs(2));
    let mut out = child.stdout.take().unwrap();
    let mut total = 0usize;
    let mut lines_ok = true;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = std::io::Read::read(&mut out, &mut buf).unwrap();
        if n == 0 {
            break;
        }
        lines_ok &= buf[..n].iter().all(|b| *b == b'A' || *b == b'\n');
        total += n;
    }
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    // base64 of 30,000,000 zero bytes: 40,000,000 characters in lines of 100.
    assert_eq!(total, 40_400_000, "every byte arrives");
    assert!(lines_ok);
    assert_eq!(ok(&cli(&d, &["ps", "-aq"])), "", "--rm removed it");
}
