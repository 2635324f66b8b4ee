//! Our own client running containers end to end (the real CLI's runs are in
//! `containers_run.rs`): `run` attaches before it starts, streams output,
//! takes the exit code from `wait` and removes with `--rm`; `run -d`,
//! `logs`, `stop`, `wait`, stdin with `-i`, `--rm` after a failed start, and
//! `top`, `pause`, `unpause`, `restart`, `kill`, `start` of a detached one.

mod common;

use std::io::Write;
use std::process::{Command, Output, Stdio};

use common::image_tools::{import_busybox, ok, output_within, wait_within};
use common::images;
use common::{Daemon, docker_bin, require, stderr, stdout};

/// Our client against `d`, killed after 60 s so a hang fails the test.
fn client(d: &Daemon, args: &[&str]) -> Output {
    output_within(Command::new(docker_bin()).arg("-H").arg(d.host()).args(args), 60)
}

fn daemon_with_busybox() -> Daemon {
    let d = Daemon::start();
    import_busybox(&d);
    d
}

fn names_of_all(d: &Daemon) -> String {
    ok(&client(d, &["ps", "-a"]))
}

#[test]
fn run_streams_output_and_returns_the_exit_code() {
    if !require(images::BUSYBOX, "busybox-static") {
        return;
    }
    let d = daemon_with_busybox();
    let out = client(&d, &["run", "--rm", "--name", "hello", "busybox", "echo", "hi"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "hi\n");
    assert!(!names_of_all(&d).contains("hello"), "--rm removed it");

    let out = client(&d, &["run", "busybox", "sh", "-c", "echo out; echo err >&2; exit 3"]);
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(stdout(&out), "out\n");
    assert_eq!(stderr(&out), "err\n", "stderr stays apart from stdout");

    // A command that is not there: a clear error, exit 1, and --rm still
    // removes the container that never started.
    let out = client(&d, &["run", "--rm", "--name", "broken", "busybox", "nosuchcommand"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("executable file not found"), "{}", stderr(&out));
    assert!(!names_of_all(&d).contains("broken"), "--rm removed the failed container");
}

#[test]
fn detached_runs_log_stop_and_wait() {
    if !require(images::BUSYBOX, "busybox-static") {
        return;
    }
    let d = daemon_with_busybox();
    let id = ok(&client(&d, &["run", "-d", "--name", "sleeper", "busybox", "sh", "-c", "echo started; exec sleep 30"]));
    assert_eq!(id.trim().len(), 64, "{id}");
    // `logs -f` ends when the container does; follow it after the stop.
    let follow = Command::new(docker_bin())
        .args(["-H", &d.host(), "logs", "-f", "sleeper"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    assert_eq!(ok(&client(&d, &["stop", "-t", "1", "sleeper"])).trim(), "sleeper");
    assert_eq!(ok(&client(&d, &["wait", "sleeper"])).trim(), "137", "SIGKILL after the 1 s grace");
    let followed = wait_within(follow, 30, "docker");
    assert_eq!(stdout(&followed), "started\n");
    assert_eq!(ok(&client(&d, &["logs", "sleeper"])), "started\n");
    assert!(names_of_all(&d).contains("sleeper"));
    ok(&client(&d, &["rm", "sleeper"]));
}

#[test]
fn run_with_stdin_copies_it_and_ends_at_its_end() {
    if !require(images::BUSYBOX, "busybox-static") {
        return;
    }
    let d = daemon_with_busybox();
    let mut child = Command::new(docker_bin())
        .args(["-H", &d.host(), "run", "-i", "--rm", "busybox", "cat"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"hello\nworld\n").unwrap();
    let out = wait_within(child, 60, "docker");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "hello\nworld\n");
}

#[test]
fn our_client_tops_pauses_restarts_kills_and_starts_again() {
    if !require(images::BUSYBOX, "busybox-static") {
        return;
    }
    let d = daemon_with_busybox();
    let state = |what: &str| ok(&client(&d, &["inspect", "-f", what, "lc"])).trim().to_string();
    ok(&client(&d, &["run", "-d", "--name", "lc", "busybox", "sleep", "30"]));
    // start returns once the command has been exec'd: top sees it at once.
    let top = ok(&client(&d, &["top", "lc"]));
    assert!(top.lines().next().unwrap_or("").contains("PID") && top.contains("sleep 30"), "{top}");
    let first_pid = state("{{.State.Pid}}");

    assert_eq!(ok(&client(&d, &["pause", "lc"])).trim(), "lc");
    assert_eq!(state("{{.State.Status}} {{.State.Paused}}"), "paused true");
    assert!(fails_with(&client(&d, &["pause", "lc"]), "is already paused"));
    assert_eq!(ok(&client(&d, &["unpause", "lc"])).trim(), "lc");
    assert_eq!(state("{{.State.Status}}"), "running");

    assert_eq!(ok(&client(&d, &["restart", "-t", "1", "lc"])).trim(), "lc");
    assert_eq!(state("{{.State.Running}}"), "true");
    assert_ne!(state("{{.State.Pid}}"), first_pid, "a new process");

    assert_eq!(ok(&client(&d, &["kill", "-s", "KILL", "lc"])).trim(), "lc");
    assert_eq!(ok(&client(&d, &["wait", "lc"])).trim(), "137");
    assert!(fails_with(&client(&d, &["kill", "lc"]), "is not running"));
    assert!(fails_with(&client(&d, &["top", "lc"]), "is not running"));

    assert_eq!(ok(&client(&d, &["start", "lc"])).trim(), "lc");
    assert_eq!(state("{{.State.Running}}"), "true");
    assert_eq!(ok(&client(&d, &["rm", "-f", "lc"])).trim(), "lc");
    assert!(!names_of_all(&d).contains("lc"));
    assert!(fails_with(&client(&d, &["start", "lc"]), "No such container: lc"));
}

/// Failed with exit 1 and `text` in its one-line error.
fn fails_with(out: &Output, text: &str) -> bool {
    out.status.code() == Some(1) && stderr(out).contains(text)
}
