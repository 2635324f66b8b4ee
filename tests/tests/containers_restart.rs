//! A daemon killed with SIGKILL while containers run: the next daemon kills
//! what was left running (plain, paused and `--restart=always` containers
//! alike), unmounts their root filesystems, lists each with the right state,
//! and brings the `always` one back as a fresh process.

mod common;

use std::process::Output;
use std::time::{Duration, Instant};

use common::image_tools::{import_busybox, kill9_and_restart, ok, real_cli_within};
use common::images;
use common::{Daemon, REAL_CLI, require};

fn cli(d: &Daemon, args: &[&str]) -> Output {
    real_cli_within(d, args, 60)
}

fn inspect(d: &Daemon, name: &str) -> serde_json::Value {
    let text = ok(&cli(d, &["inspect", name]));
    serde_json::from_str::<serde_json::Value>(&text).unwrap_or_else(|e| panic!("{e}: {text}"))[0].clone()
}

/// Alive and not a zombie waiting for its reaper.
fn alive(pid: i64) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat.rsplit_once(") ").is_some_and(|(_, rest)| !rest.starts_with('Z')),
        Err(_) => false,
    }
}

fn mounts_of(id: &str) -> usize {
    std::fs::read_to_string("/proc/self/mountinfo").unwrap().lines().filter(|l| l.contains(id)).count()
}

/// Removes the containers when the test ends, failed or not.
struct Cleanup<'a>(&'a Daemon);

impl Drop for Cleanup<'_> {
    fn drop(&mut self) {
        let _ = cli(self.0, &["rm", "-f", "plain", "frozen", "always"]);
    }
}

#[test]
fn after_a_kill_9_nothing_of_the_old_containers_runs() {
    if !(require(REAL_CLI, "the docker CLI v28") && require(images::BUSYBOX, "busybox-static")) {
        return;
    }
    let d = Daemon::start();
    import_busybox(&d);
    for (name, extra) in [("plain", None), ("frozen", None), ("always", Some("--restart=always"))] {
        let mut args = vec!["run", "-d", "--name", name];
        args.extend(extra);
        args.extend(["busybox", "sleep", "600"]);
        ok(&cli(&d, &args));
    }
    ok(&cli(&d, &["pause", "frozen"]));
    let before: Vec<(String, i64)> = ["plain", "frozen", "always"]
        .iter()
        .map(|n| {
            let v = inspect(&d, n);
            (v["Id"].as_str().unwrap().to_string(), v["State"]["Pid"].as_i64().unwrap())
        })
        .collect();
    assert!(before.iter().all(|(_, pid)| alive(*pid)));

    let d = kill9_and_restart(d, &[]);
    let _cleanup = Cleanup(&d);
    // The new daemon answered READY only after the store loaded, so the old
    // processes are already gone here: no waiting.
    for (id, pid) in &before {
        assert!(!alive(*pid), "process {pid} of {id} outlived its daemon");
    }
    for name in ["plain", "frozen"] {
        let s = inspect(&d, name)["State"].clone();
        assert_eq!(
            (s["Status"].as_str(), s["Running"].as_bool(), s["Paused"].as_bool(), s["ExitCode"].as_i64()),
            (Some("exited"), Some(false), Some(false), Some(255)),
            "{name}: {s}"
        );
    }
    let (plain_id, _) = &before[0];
    assert_eq!(mounts_of(plain_id), 0, "the old daemon's mount of the root fs is gone");
    assert!(
        common::container_cgroup_dirs(plain_id).is_empty(),
        "and so is its cgroup: {:?}",
        common::container_cgroup_dirs(plain_id)
    );

    // `always` comes back by itself: the restart runs after READY, so this
    // one is polled, with a deadline.
    let deadline = Instant::now() + Duration::from_secs(20);
    let new_pid = loop {
        let s = inspect(&d, "always")["State"].clone();
        if s["Running"] == true {
            break s["Pid"].as_i64().unwrap();
        }
        assert!(Instant::now() < deadline, "the always container did not come back: {s}");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_ne!(new_pid, before[2].1);
    assert!(alive(new_pid));
    assert_eq!(ok(&cli(&d, &["exec", "always", "echo", "back"])), "back\n");

    // And the plain one starts again on the same root, its layer mounted once.
    ok(&cli(&d, &["start", "plain"]));
    assert_eq!(mounts_of(plain_id), 1, "one mount, not one stacked on a leftover");
    ok(&cli(&d, &["rm", "-f", "plain", "frozen", "always"]));
    assert_eq!(mounts_of(plain_id), 0);
    for (id, _) in &before {
        assert!(common::container_cgroup_dirs(id).is_empty(), "{id}: {:?}", common::container_cgroup_dirs(id));
    }
}
