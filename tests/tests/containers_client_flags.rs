//! Our own client's `run`/`create` flags of Docker 1.2 (and the few later
//! ones it also takes), end to end: each flag becomes the create body's
//! field and the daemon acts on it. `--env-file`, `--dns`/`--dns-search`,
//! `--add-host`, `--cidfile`, `--cpuset`/`--memory-swap` (read from the
//! host's cgroup files while the container runs), `--device`, `--expose`
//! and `--link` (a missing container refused at create, an existing one
//! stored), `--lxc-conf` (a warning).
//! Nothing resolves a name: the DNS settings are only read back from the
//! container's files.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::image_tools::{fails, import_busybox, ok, output_within};
use common::images;
use common::{Daemon, docker_bin, require, stderr, stdout};

/// Our client against `d`, killed after 60 s so a hang fails the test.
fn client(d: &Daemon, args: &[&str]) -> Output {
    output_within(Command::new(docker_bin()).arg("-H").arg(d.host()).args(args), 60)
}

fn daemon_with_busybox() -> Option<Daemon> {
    if !require(images::BUSYBOX, "busybox-static") {
        return None;
    }
    let d = Daemon::start();
    import_busybox(&d);
    Some(d)
}

/// `GET /containers/<name>/json`.
#[track_caller]
fn inspect(d: &Daemon, name: &str) -> serde_json::Value {
    let (status, body) = d.http("GET", &format!("/v1.24/containers/{name}/json"), "");
    assert_eq!(status, 200, "inspect {name}: {body}");
    serde_json::from_str(&body).unwrap()
}

/// Every container, running or not, by full ID.
fn all_ids(d: &Daemon) -> Vec<String> {
    ok(&client(d, &["ps", "-a", "-q", "--no-trunc"])).lines().map(str::to_string).collect()
}

/// The container's cgroup directory for `controller` on this host: cgroup
/// v1 (`<mount>/docker/<id>`) or v2 (`/sys/fs/cgroup/docker/<id>`).
fn cgroup_dir(controller: &str, id: &str) -> PathBuf {
    let v1 = Path::new("/sys/fs/cgroup").join(controller);
    if v1.is_dir() { v1.join("docker").join(id) } else { Path::new("/sys/fs/cgroup/docker").join(id) }
}

#[test]
fn env_file_variables_reach_the_container() {
    let Some(d) = daemon_with_busybox() else { return };
    let file = d.dir.path().join("vars.env");
    std::fs::write(&file, "# settings\nGREETING=hello world\n\nFROM_CLIENT\nOVERRIDDEN=file\n").unwrap();
    let out = Command::new(docker_bin())
        .args(["-H", &d.host(), "run", "--rm", "--env-file", file.to_str().unwrap()])
        .args(["-e", "OVERRIDDEN=flag", "busybox", "env"])
        .env("FROM_CLIENT", "client value")
        .output()
        .unwrap();
    let env = ok(&out);
    for want in ["GREETING=hello world", "FROM_CLIENT=client value", "OVERRIDDEN=flag"] {
        assert!(env.lines().any(|l| l == want), "{want} missing from:\n{env}");
    }
    assert!(!env.contains("settings") && !env.contains("OVERRIDDEN=file"), "{env}");

    // A missing file is a usage error naming it, and nothing is created.
    let missing = d.dir.path().join("missing.env");
    let out = client(&d, &["run", "--rm", "--env-file", missing.to_str().unwrap(), "busybox", "env"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!("open {}: no such file or directory", missing.display())),
        "{}",
        stderr(&out)
    );
    assert!(all_ids(&d).is_empty());
}

#[test]
fn dns_and_extra_hosts_are_in_the_container_files() {
    let Some(d) = daemon_with_busybox() else { return };
    let out = client(
        &d,
        &[
            "run",
            "--rm",
            "--dns",
            "10.0.0.2",
            "--dns-search",
            "example.test",
            "--add-host",
            "h:10.1.2.3",
            "--add-host",
            "six:fe80::1",
            "busybox",
            "cat",
            "/etc/resolv.conf",
            "/etc/hosts",
        ],
    );
    let files = ok(&out);
    let lines: Vec<&str> = files.lines().collect();
    assert!(lines.contains(&"nameserver 10.0.0.2"), "{files}");
    assert!(lines.contains(&"search example.test"), "{files}");
    assert_eq!(lines.iter().filter(|l| l.starts_with("nameserver")).count(), 1, "only --dns: {files}");
    assert!(lines.contains(&"10.1.2.3\th"), "{files}");
    assert!(lines.contains(&"fe80::1\tsix"), "{files}");

    let out = client(&d, &["run", "--rm", "--dns", "resolver.example", "busybox", "true"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("resolver.example is not an ip address"), "{}", stderr(&out));
    assert!(all_ids(&d).is_empty());
}

#[test]
fn cidfile_gets_the_id_and_is_never_reused() {
    let Some(d) = daemon_with_busybox() else { return };
    let cid = d.dir.path().join("container.id");
    let cid_arg = cid.to_str().unwrap();
    ok(&client(&d, &["run", "--cidfile", cid_arg, "busybox", "true"]));
    let id = std::fs::read_to_string(&cid).unwrap();
    assert_eq!(all_ids(&d), [id.as_str()], "the file holds the full ID, no newline");

    let out = client(&d, &["run", "--cidfile", cid_arg, "busybox", "true"]);
    let err = fails(&out);
    assert_eq!(out.status.code(), Some(1));
    let want = format!("Container ID file found, make sure the other container isn't running or delete {cid_arg}");
    assert!(err.contains(&want), "{err}");
    assert_eq!(all_ids(&d), [id.as_str()], "no second container");
    assert_eq!(std::fs::read_to_string(&cid).unwrap(), id, "the file is left alone");

    // A create that fails leaves no empty file behind.
    let other = d.dir.path().join("other.id");
    fails(&client(&d, &["create", "--cidfile", other.to_str().unwrap(), "nosuchimage-local"]));
    assert!(!other.exists());
    ok(&client(&d, &["rm", &id]));
}

#[test]
fn cpuset_and_memory_swap_reach_the_cgroup() {
    let Some(d) = daemon_with_busybox() else { return };
    let id = ok(&client(
        &d,
        &["run", "-d", "--cpuset", "0", "-m", "64m", "--memory-swap", "128m", "busybox", "sleep", "60"],
    ))
    .trim()
    .to_string();
    let host_config = &inspect(&d, &id)["HostConfig"];
    assert_eq!(host_config["CpusetCpus"], "0");
    assert_eq!(host_config["MemorySwap"], 128 << 20);
    let cpus = std::fs::read_to_string(cgroup_dir("cpuset", &id).join("cpuset.cpus"));
    let memsw = cgroup_dir("memory", &id).join("memory.memsw.limit_in_bytes");
    let swap = memsw.exists().then(|| std::fs::read_to_string(&memsw));
    ok(&client(&d, &["rm", "-f", &id]));
    assert_eq!(cpus.unwrap().trim(), "0");
    if let Some(swap) = swap {
        assert_eq!(swap.unwrap().trim(), (128u64 << 20).to_string());
    }

    // Today's spelling and an unlimited swap.
    let id = ok(&client(&d, &["create", "--cpuset-cpus", "0", "-m", "64m", "--memory-swap", "-1", "busybox", "true"]));
    let host_config = &inspect(&d, id.trim())["HostConfig"];
    assert_eq!((&host_config["CpusetCpus"], &host_config["MemorySwap"]), (&"0".into(), &(-1).into()));
    ok(&client(&d, &["rm", id.trim()]));
}

#[test]
fn a_device_is_usable_inside() {
    let Some(d) = daemon_with_busybox() else { return };
    let out = client(
        &d,
        &[
            "run",
            "--rm",
            "--device",
            "/dev/null:/dev/xnull",
            "busybox",
            "sh",
            "-c",
            "echo x > /dev/xnull && ls -l /dev/xnull",
        ],
    );
    let listing = ok(&out);
    assert!(listing.starts_with("crw-rw-rw-"), "a character device with the host's mode: {listing}");
    assert!(listing.contains("1,   3"), "the host's numbers: {listing}");

    // Read-only in the device cgroup: opening for reading works, for writing
    // is refused. /dev/loop-control is in no default rule (and writing to it
    // would do nothing anyway).
    if Path::new("/dev/loop-control").exists() {
        let script = "true < /dev/xlc && echo read-ok; echo x > /dev/xlc";
        let out =
            client(&d, &["run", "--rm", "--device", "/dev/loop-control:/dev/xlc:r", "busybox", "sh", "-c", script]);
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        assert_eq!(stdout(&out), "read-ok\n");
        assert!(stderr(&out).contains("Operation not permitted"), "{}", stderr(&out));
    }

    // Not a device: the start fails clearly, and --rm removes the container.
    let out = client(&d, &["run", "--rm", "--device", "/etc/hostname:/dev/x", "busybox", "true"]);
    let err = fails(&out);
    assert!(
        err.contains("error gathering device information while adding custom device /etc/hostname: not a device node"),
        "{err}"
    );
    assert!(all_ids(&d).is_empty());
}

#[test]
fn expose_and_link_are_stored_lxc_conf_ignored() {
    let Some(d) = daemon_with_busybox() else { return };
    let id = ok(&client(&d, &["create", "--expose", "8080", "--expose", "53/udp", "busybox", "true"]));
    let exposed = inspect(&d, id.trim())["Config"]["ExposedPorts"].clone();
    assert_eq!(exposed, serde_json::json!({"53/udp": {}, "8080/tcp": {}}));
    ok(&client(&d, &["rm", id.trim()]));

    // A link must name an existing container (checked at create, as
    // dockerd 1.12 does); one that does is kept, shown as dockerd shows it.
    // (This daemon runs with `-b none`, so the link is not acted on; the
    // bridge suite does that.)
    let out = client(&d, &["run", "--name", "linked", "--link", "missing:alias", "busybox", "true"]);
    assert_ne!(out.status.code(), Some(0));
    assert!(stderr(&out).contains("Could not get container for missing"), "{}", stderr(&out));
    ok(&client(&d, &["create", "--name", "target", "busybox", "true"]));
    let out = client(&d, &["run", "--name", "linked", "--link", "target:alias", "busybox", "true"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(inspect(&d, "linked")["HostConfig"]["Links"], serde_json::json!(["/target:/linked/alias"]));
    ok(&client(&d, &["rm", "linked", "target"]));

    // --lxc-conf is checked, then ignored with a warning.
    let out = client(&d, &["create", "--lxc-conf", "lxc.utsname=box", "busybox", "true"]);
    let id = ok(&out);
    assert!(stderr(&out).contains("WARNING: --lxc-conf is ignored"), "{}", stderr(&out));
    ok(&client(&d, &["rm", id.trim()]));
}
