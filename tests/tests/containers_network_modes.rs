//! The network modes of issue 4, seen from inside containers through the
//! real docker CLI v28: the default of a daemon run with `-b none` (the
//! fixture's default; the bridge is `network_bridge.rs`'s) and `--net=none`
//! give a namespace with loopback only, `--net=host` the
//! host's own interfaces, `--net=container:NAME` the other container's
//! namespace; joining a stopped or missing container is a clear error.

mod common;

use std::collections::BTreeSet;
use std::process::Output;

use common::image_tools::{fails, import_busybox, ok, real_cli_within};
use common::images;
use common::{Daemon, REAL_CLI, require};

fn cli(d: &Daemon, args: &[&str]) -> Output {
    real_cli_within(d, args, 60)
}

/// Interface names in a `/proc/net/dev` text (up to a `===` line, if any).
fn interfaces(dev: &str) -> BTreeSet<String> {
    dev.lines()
        .take_while(|l| *l != "===")
        .filter_map(|l| l.split_once(':'))
        .map(|(name, _)| name.trim().to_string())
        .collect()
}

/// Removes the containers when the test ends, failed or not.
struct Cleanup<'a>(&'a Daemon);

impl Drop for Cleanup<'_> {
    fn drop(&mut self) {
        let _ = cli(self.0, &["rm", "-f", "holder", "stopped"]);
    }
}

#[test]
fn none_host_and_container_modes() {
    if !(require(REAL_CLI, "the docker CLI v28") && require(images::BUSYBOX, "busybox-static")) {
        return;
    }
    let d = Daemon::start();
    import_busybox(&d);
    let _cleanup = Cleanup(&d);
    let host_ns = std::fs::read_link("/proc/self/ns/net").unwrap().display().to_string();
    let host_ifaces = interfaces(&std::fs::read_to_string("/proc/net/dev").unwrap());
    assert!(host_ifaces.len() > 1, "this host has more than loopback: {host_ifaces:?}");
    let lo: BTreeSet<String> = ["lo".to_string()].into();

    for mode in [None, Some("--net=none")] {
        let mut args = vec!["run", "--rm"];
        args.extend(mode);
        args.extend([
            "busybox",
            "sh",
            "-c",
            "cat /proc/net/dev; echo ===; readlink /proc/self/ns/net; ip link show lo",
        ]);
        let out = ok(&cli(&d, &args));
        assert_eq!(interfaces(&out), lo, "{mode:?}: loopback only: {out}");
        assert!(!out.contains(&host_ns), "{mode:?}: a namespace of its own");
        assert!(out.contains("UP"), "{mode:?}: loopback is up: {out}");
    }

    let out = ok(&cli(
        &d,
        &[
            "run",
            "--rm",
            "--net=host",
            "busybox",
            "sh",
            "-c",
            "cat /proc/net/dev; echo ===; readlink /proc/self/ns/net",
        ],
    ));
    assert!(out.contains(&host_ns), "the host's namespace: {out}");
    assert_eq!(interfaces(&out), host_ifaces);

    ok(&cli(&d, &["run", "-d", "--name", "holder", "--net=none", "busybox", "sleep", "600"]));
    let holder_ns = ok(&cli(&d, &["exec", "holder", "readlink", "/proc/self/ns/net"]));
    let out = ok(&cli(&d, &["run", "--rm", "--net=container:holder", "busybox", "readlink", "/proc/self/ns/net"]));
    assert_eq!(out, holder_ns, "joined the holder's namespace");
    assert_ne!(out.trim(), host_ns);
    // ... and its identity: host name, hosts file (dockerd 1.12's rule).
    let holder_name = ok(&cli(&d, &["exec", "holder", "hostname"]));
    let joined =
        ok(&cli(&d, &["run", "--rm", "--net=container:holder", "busybox", "sh", "-c", "hostname; cat /etc/hosts"]));
    assert!(joined.starts_with(&holder_name), "{joined}");
    assert_eq!(joined[holder_name.len()..], ok(&cli(&d, &["exec", "holder", "cat", "/etc/hosts"])));
    let mode = ok(&cli(&d, &["inspect", "-f", "{{.HostConfig.NetworkMode}}", "holder"]));
    assert_eq!(mode.trim(), "none");

    ok(&cli(&d, &["create", "--name", "stopped", "busybox", "true"]));
    let err = fails(&cli(&d, &["run", "--rm", "--net=container:stopped", "busybox", "true"]));
    assert!(err.contains("cannot join network of a non running container: stopped"), "{err}");
    let err = fails(&cli(&d, &["run", "--rm", "--net=container:nosuch", "busybox", "true"]));
    assert!(err.contains("No such container: nosuch"), "{err}");
    assert_eq!(
        ok(&cli(&d, &["ps", "-aq"])).lines().count(),
        2,
        "holder and stopped only: the failed runs were removed"
    );
}
