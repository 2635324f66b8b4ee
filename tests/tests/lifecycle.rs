//! `docker -d` as a process: start-up, readiness, the pidfile, signals,
//! socket activation, and bad flags.

mod common;

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Daemon, DaemonOptions, docker_bin, require, stderr, stdout};
use nix::sys::signal::Signal;

#[test]
fn ready_is_sent_once_the_daemon_serves() {
    let mut d = Daemon::spawn(DaemonOptions::default());
    let message = d.wait_ready();
    assert_eq!(message.trim(), "READY=1");
    // Ready means serving: the very next request is answered.
    let (status, body) = d.http("GET", "/_ping", "");
    assert_eq!((status, body.as_str()), (200, "OK"));
    assert_eq!(std::fs::read_to_string(&d.pidfile).unwrap(), d.pid().to_string());
}

#[test]
fn sigterm_exits_zero_and_removes_the_pidfile() {
    let mut d = Daemon::start();
    assert!(d.pidfile.exists());
    d.signal(Signal::SIGTERM);
    assert_eq!(d.wait_exit(20), 0);
    assert!(!d.pidfile.exists(), "pidfile removed at shutdown");
    assert!(
        d.log
            .lock()
            .unwrap()
            .iter()
            .any(|l| l.contains("Received signal 'terminated', starting shutdown of docker..."))
    );
}

#[test]
fn a_second_daemon_on_a_live_pidfile_refuses_to_start() {
    let first = Daemon::start();
    let out = Command::new(docker_bin())
        .args(["-d", "-b", "none", "-H"])
        .arg(format!("unix://{}/other.sock", first.dir.path().display()))
        .arg("-g")
        .arg(first.dir.path().join("root2"))
        .arg("-p")
        .arg(&first.pidfile)
        .env_remove("NOTIFY_SOCKET")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    let wanted = format!(
        "Error starting daemon: pid file found, ensure docker is not running or delete {}",
        first.pidfile.display()
    );
    assert!(err.lines().any(|l| l == wanted), "stderr was:\n{err}");
    // The first daemon is untouched.
    assert_eq!(first.http("GET", "/_ping", "").0, 200);
    assert_eq!(std::fs::read_to_string(&first.pidfile).unwrap(), first.pid().to_string());
}

/// Opens `GET /events` and waits for the response head: from then on a job
/// is running, and shutdown waits up to 5 s for it.
fn hold_events(d: &Daemon) -> UnixStream {
    let mut s = UnixStream::connect(&d.socket).unwrap();
    write!(s, "GET /v1.24/events HTTP/1.1\r\nHost: docker\r\n\r\n").unwrap();
    let mut head = [0u8; 12];
    s.read_exact(&mut head).unwrap();
    assert_eq!(&head, b"HTTP/1.1 200");
    s
}

#[test]
fn repeated_sigints_force_the_exit_during_a_slow_shutdown() {
    let mut d = Daemon::start();
    let _events = hold_events(&d);
    let started = Instant::now();
    for n in 1..=4 {
        d.signal(Signal::SIGINT);
        // Each signal is logged as it is handled; waiting for the line keeps
        // the kernel from merging two pending SIGINTs into one.
        if n < 4 {
            d.wait_for_log_count("Received signal 'interrupt'", n, 10);
        }
    }
    assert_eq!(d.wait_exit(10), 130, "128 + SIGINT");
    assert!(started.elapsed() < Duration::from_secs(5), "exited before the 5 s job timeout");
    assert!(d.log.lock().unwrap().iter().any(|l| l.contains("Force shutdown of docker, interrupting cleanup")));
    assert!(d.pidfile.exists(), "clean-up was skipped, so the pidfile is still there");
}

#[test]
fn a_slow_shutdown_still_ends_after_the_job_timeout() {
    let mut d = Daemon::start();
    let _events = hold_events(&d);
    let started = Instant::now();
    d.signal(Signal::SIGTERM);
    assert_eq!(d.wait_exit(20), 0);
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(4900), "waited for the running job: {took:?}");
    assert!(!d.pidfile.exists());
}

#[test]
fn sigquit_exits_at_once_without_cleanup_unless_debug() {
    let mut d = Daemon::start();
    d.signal(Signal::SIGQUIT);
    assert_eq!(d.wait_exit(10), 131);
    assert!(d.pidfile.exists(), "no clean-up on SIGQUIT");

    // With DEBUG set, SIGQUIT keeps its default action (a core-dumping kill).
    let mut d = Daemon::start_with(DaemonOptions { env: vec![("DEBUG".into(), "1".into())], ..Default::default() });
    d.signal(Signal::SIGQUIT);
    assert_eq!(d.wait_exit(10), 128 + Signal::SIGQUIT as i32);
    assert!(!d.log.lock().unwrap().iter().any(|l| l.contains("Received signal 'quit'")), "not trapped");
}

#[test]
fn socket_activation_serves_on_the_passed_socket() {
    if !require("/usr/bin/systemd-socket-activate", "systemd-socket-activate") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("activated.sock");
    let mut activator = Command::new("/usr/bin/systemd-socket-activate")
        .arg("-l")
        .arg(&socket)
        .arg("-E")
        .arg("NOTIFY_SOCKET=")
        .arg(docker_bin())
        .args(["-d", "-b", "none", "-H", "fd://", "-g"])
        .arg(dir.path().join("root"))
        .arg("-p")
        .arg(dir.path().join("docker.pid"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The activator says when its socket listens.
    let mut err = activator.stderr.take().unwrap();
    let mut seen = Vec::new();
    let mut byte = [0u8; 1];
    while !String::from_utf8_lossy(&seen).contains("Listening on") {
        assert_eq!(err.read(&mut byte).unwrap(), 1, "systemd-socket-activate ended early");
        seen.push(byte[0]);
    }
    // The first connection makes it exec the daemon on the socket.
    let out = Command::new(docker_bin())
        .arg("-H")
        .arg(format!("unix://{}", socket.display()))
        .arg("version")
        .output()
        .unwrap();
    let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(activator.id() as i32), Signal::SIGTERM);
    let _ = activator.wait();
    assert!(out.status.success(), "stderr: {}", stderr(&out));
    assert!(stdout(&out).contains("Server API version: 1.24"), "{}", stdout(&out));
}

#[test]
fn fd_without_activation_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(docker_bin())
        .args(["-d", "-b", "none", "-H", "fd://", "-g"])
        .arg(dir.path().join("root"))
        .arg("-p")
        .arg(dir.path().join("docker.pid"))
        .env_remove("LISTEN_FDS")
        .env_remove("LISTEN_PID")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).lines().any(|l| l == "Error starting daemon: No sockets found"), "{}", stderr(&out));
}

#[test]
fn bad_flags_are_one_clear_line() {
    let cases: [(&[&str], &str); 5] = [
        (
            &["-d", "--bip=notacidr"],
            "docker: invalid value \"notacidr\" for flag --bip: invalid CIDR address: notacidr. See 'docker --help'.",
        ),
        (
            &["-d", "--mtu=big"],
            "docker: invalid value \"big\" for flag --mtu: strconv.ParseInt: parsing \"big\": invalid syntax. See 'docker --help'.",
        ),
        (
            &["-d", "-H", "tcp://nohost"],
            "docker: invalid value \"tcp://nohost\" for flag -H: Invalid bind address format: tcp://nohost. See 'docker --help'.",
        ),
        (&["-d", "--nosuchflag"], "docker: flag provided but not defined: --nosuchflag. See 'docker --help'."),
        (
            &["-d", "--iptables=maybe"],
            "docker: invalid value \"maybe\" for flag --iptables: strconv.ParseBool: parsing \"maybe\": invalid syntax. See 'docker --help'.",
        ),
    ];
    for (args, want) in cases {
        let out = Command::new(docker_bin()).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert_eq!(stderr(&out).trim_end(), want, "{args:?}");
    }
    // A combination 1.2 refuses is refused before anything is touched.
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(docker_bin())
        .args(["-d", "--iptables=false", "--icc=false", "-g"])
        .arg(dir.path().join("root"))
        .arg("-p")
        .arg(dir.path().join("docker.pid"))
        .arg("-H")
        .arg(format!("unix://{}/d.sock", dir.path().display()))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("Error starting daemon: You specified --iptables=false with --icc=false."),
        "{}",
        stderr(&out)
    );
    assert!(!dir.path().join("docker.pid").exists());
}

#[test]
fn version_flag_and_unknown_commands() {
    let out = Command::new(docker_bin()).arg("-v").output().unwrap();
    assert!(out.status.success());
    assert!(stdout(&out).starts_with("Docker version 0.1.0, build "), "{}", stdout(&out));
    let out = Command::new(docker_bin()).arg("frobnicate").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stderr(&out).trim_end(), "docker: 'frobnicate' is not a docker command. See 'docker help'.");
    let out = Command::new(docker_bin()).arg("help").output().unwrap();
    assert!(out.status.success());
    for cmd in ["events", "info", "version"] {
        assert!(stdout(&out).lines().any(|l| l.trim_start().starts_with(cmd)), "help lists {cmd}");
    }
    let out = Command::new(docker_bin()).args(["events", "--help"]).output().unwrap();
    assert!(out.status.success());
    assert!(stdout(&out).contains("Usage: docker events [OPTIONS]"), "{}", stdout(&out));
    assert!(stdout(&out).contains("--since=\"\""), "{}", stdout(&out));
}
