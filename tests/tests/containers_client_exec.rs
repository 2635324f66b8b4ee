//! Our own client's `exec` end to end (the real CLI's are in
//! `containers_exec.rs`): output and exit codes, stdin with `-i`, a missing
//! executable, `-d`, and the error for a container that is not there.

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

/// Removes the container when the test ends, passed or failed.
struct Remove<'a>(&'a Daemon, &'a str);

impl Drop for Remove<'_> {
    fn drop(&mut self) {
        let _ = client(self.0, &["rm", "-f", self.1]);
    }
}

#[test]
fn exec_runs_commands_in_a_running_container() {
    if !require(images::BUSYBOX, "busybox-static") {
        return;
    }
    let d = daemon_with_busybox();
    ok(&client(&d, &["run", "-d", "--name", "ex", "busybox", "sleep", "30"]));
    let _rm = Remove(&d, "ex");

    let out = client(&d, &["exec", "ex", "echo", "hi"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "hi\n");

    let out = client(&d, &["exec", "ex", "sh", "-c", "echo out; echo err >&2; exit 4"]);
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert_eq!(stdout(&out), "out\n");
    assert_eq!(stderr(&out), "err\n", "stderr stays apart from stdout");

    let mut child = Command::new(docker_bin())
        .args(["-H", &d.host(), "exec", "-i", "ex", "cat"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"x\n").unwrap();
    let out = wait_within(child, 60, "docker");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "x\n");

    let out = client(&d, &["exec", "ex", "nosuch"]);
    assert_ne!(out.status.code(), Some(0));
    let said = format!("{}{}", stdout(&out), stderr(&out));
    assert!(said.contains("executable file not found"), "{said}");

    let out = client(&d, &["exec", "-d", "ex", "sleep", "1"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "", "-d prints nothing");

    let out = client(&d, &["exec", "nosuchcontainer", "echo", "hi"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).starts_with("Error response from daemon: "), "{}", stderr(&out));
    assert_eq!(stderr(&out).lines().count(), 1, "{}", stderr(&out));
}
