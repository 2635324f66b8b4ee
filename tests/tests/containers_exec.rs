//! `docker exec` end to end, with the real docker CLI v28 and docker-py 7.2
//! against a busybox image imported from a local tar: output and exit codes,
//! the container's namespaces (hostname), piped stdin, a tty, a missing
//! binary, detached execs, and the 409s of stopped and paused containers.

mod common;

use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::image_tools::{docker_py_json, import_busybox, ok};
use common::images;
use common::{Daemon, REAL_CLI, require, stderr, stdout};

fn tools_present() -> bool {
    require(REAL_CLI, "the docker CLI v28") && require(images::BUSYBOX, "busybox-static")
}

/// The real CLI with `input` on its stdin, killed after 60 s; `Err` with
/// what it printed when it hung (so cleanup can use it without panicking).
fn try_cli(d: &Daemon, args: &[&str], input: Option<&[u8]>) -> Result<Output, Output> {
    let mut child = d
        .real_cli_command()
        .args(args)
        .stdin(if input.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|_| empty_output())?;
    if let (Some(input), Some(mut stdin)) = (input, child.stdin.take()) {
        // Dropping the pipe after the write is the client's end of file.
        let _ = stdin.write_all(input);
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().map_err(|_| empty_output())?.is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            return Err(child.wait_with_output().unwrap_or_else(|_| empty_output()));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().map_err(|_| empty_output())
}

fn empty_output() -> Output {
    Command::new("true").output().unwrap()
}

fn cli_in(d: &Daemon, args: &[&str], input: Option<&[u8]>) -> Output {
    match try_cli(d, args, input) {
        Ok(out) => out,
        Err(out) => panic!("docker {args:?} hung: {}\n{}", stdout(&out), stderr(&out)),
    }
}

fn cli(d: &Daemon, args: &[&str]) -> Output {
    cli_in(d, args, None)
}

/// Removes the containers when the test ends, failed or not.
struct Cleanup<'a>(&'a Daemon, &'a [&'a str]);

impl Drop for Cleanup<'_> {
    fn drop(&mut self) {
        let mut args = vec!["rm", "-f"];
        args.extend_from_slice(self.1);
        let _ = try_cli(self.0, &args, None);
    }
}

#[test]
fn the_cli_execs_in_a_running_container() {
    if !tools_present() {
        return;
    }
    let d = Daemon::start();
    import_busybox(&d);
    let _cleanup = Cleanup(&d, &["ex", "stopped"]);
    ok(&cli(&d, &["run", "-d", "--name", "ex", "busybox", "sleep", "30"]));

    let out = cli(&d, &["exec", "ex", "echo", "hi"]);
    assert_eq!((stdout(&out).as_str(), out.status.code()), ("hi\n", Some(0)), "{}", stderr(&out));

    let out = cli(&d, &["exec", "ex", "sh", "-c", "echo out; echo err >&2; exit 4"]);
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert_eq!((stdout(&out).as_str(), stderr(&out).as_str()), ("out\n", "err\n"));

    let id = ok(&cli(&d, &["inspect", "-f", "{{.Id}}", "ex"])).trim().to_string();
    let hostname = ok(&cli(&d, &["exec", "ex", "hostname"]));
    assert_eq!(hostname.trim(), &id[..12], "the exec joins the container's uts namespace");
    let pid1 = ok(&cli(&d, &["exec", "ex", "cat", "/proc/1/cmdline"]));
    assert_eq!(pid1, "sleep\u{0}30\u{0}", "the exec joins the container's pid namespace");

    let out = cli_in(&d, &["exec", "-i", "ex", "cat"], Some(b"hello\nworld\n"));
    assert_eq!((stdout(&out).as_str(), out.status.code()), ("hello\nworld\n", Some(0)), "{}", stderr(&out));

    let out = cli(&d, &["exec", "-t", "ex", "tty"]);
    assert!(stdout(&out).starts_with("/dev/pts/"), "{}{}", stdout(&out), stderr(&out));
    assert_eq!(out.status.code(), Some(0));

    let out = cli(&d, &["exec", "ex", "nosuch"]);
    let text = format!("{}{}", stdout(&out), stderr(&out));
    assert_eq!(out.status.code(), Some(127), "{text}");
    assert!(text.contains("executable file not found"), "{text}");

    ok(&cli(&d, &["exec", "-d", "ex", "sh", "-c", "echo detached > /tmp/d"]));
    let deadline = Instant::now() + Duration::from_secs(10);
    while !cli(&d, &["exec", "ex", "cat", "/tmp/d"]).status.success() {
        assert!(Instant::now() < deadline, "the detached exec did not run");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(ok(&cli(&d, &["exec", "ex", "cat", "/tmp/d"])), "detached\n");

    ok(&cli(&d, &["pause", "ex"]));
    let out = cli(&d, &["exec", "ex", "true"]);
    assert!(!out.status.success() && stderr(&out).contains("is paused, unpause the container"), "{}", stderr(&out));
    ok(&cli(&d, &["unpause", "ex"]));

    ok(&cli(&d, &["create", "--name", "stopped", "busybox", "true"]));
    let out = cli(&d, &["exec", "stopped", "true"]);
    assert!(!out.status.success() && stderr(&out).contains("is not running"), "{}", stderr(&out));
}

#[test]
fn docker_py_exec_run() {
    let Some(python) = common::docker_py() else { return };
    if !tools_present() {
        return;
    }
    let d = Daemon::start();
    import_busybox(&d);
    let _cleanup = Cleanup(&d, &["pyexec"]);
    let script = r#"
ct = c.containers.run('busybox', 'sleep 30', detach=True, name='pyexec')
out = {}
code, output = ct.exec_run('echo hi')
out["echo"] = [code, output.decode()]
code, output = ct.exec_run(['sh', '-c', 'exit 4'])
out["exit"] = code
print(json.dumps(out))
"#;
    let got = docker_py_json(&python, &d, script, &[]);
    assert_eq!(got["echo"], serde_json::json!([0, "hi\n"]), "{got}");
    assert_eq!(got["exit"], 4, "{got}");
}
