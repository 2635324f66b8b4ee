//! `docker stats` and `docker update` end to end, with the real docker CLI
//! v28, docker-py 7.2 and our own client against a busybox image imported
//! from a local tar: the stats objects' fields, one-shot and streamed;
//! zeroes for a container that does not run; new limits reaching the live
//! cgroup and the stored host config, kept across a daemon restart and
//! applied at the next start; refusals with dockerd's status codes.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::process::{Command, Output};
use std::time::Duration;

use common::image_tools::{docker_py_json, import_busybox, ok, real_cli_within, restart};
use common::images;
use common::{Daemon, DaemonOptions, REAL_CLI, docker_bin, require, stderr, stdout};
use serde_json::Value;

const MIB: u64 = 1 << 20;

/// The real CLI, killed after 60 s so a hang fails the test.
fn cli(d: &Daemon, args: &[&str]) -> Output {
    real_cli_within(d, args, 60)
}

/// Our own client, killed after 60 s.
fn ours(d: &Daemon, args: &[&str]) -> Output {
    common::image_tools::output_within(Command::new(docker_bin()).arg("-H").arg(d.host()).args(args), 60)
}

fn tools_present() -> bool {
    require(REAL_CLI, "the docker CLI v28") && require(images::BUSYBOX, "busybox-static")
}

/// Removes the named containers when dropped (also when a test fails), so
/// no container outlives its daemon.
struct Removed {
    host: String,
    names: Vec<&'static str>,
}

impl Removed {
    fn new(d: &Daemon, names: &[&'static str]) -> Removed {
        Removed { host: d.host(), names: names.to_vec() }
    }
}

impl Drop for Removed {
    fn drop(&mut self) {
        let _ = Command::new(docker_bin()).arg("-H").arg(&self.host).arg("rm").arg("-f").args(&self.names).output();
    }
}

fn inspect(d: &Daemon, name: &str) -> Value {
    let text = ok(&cli(d, &["inspect", name]));
    let v: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    v[0].clone()
}

/// A file of the container's cgroup, found from its pid 1's
/// `/proc/<pid>/cgroup` (v1: the controller's line; v2: the `0::` line).
fn cgroup_file(d: &Daemon, name: &str, controller: &str, v1: &str, v2: &str) -> String {
    let pid = inspect(d, name)["State"]["Pid"].as_i64().expect("a pid");
    let table = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap();
    let v1_path = table.lines().find_map(|l| {
        let mut f = l.splitn(3, ':');
        let (_, controllers, path) = (f.next()?, f.next()?, f.next()?);
        controllers.split(',').any(|c| c == controller).then(|| path.to_string())
    });
    let file = match v1_path {
        Some(path) => format!("/sys/fs/cgroup/{controller}{path}/{v1}"),
        None => {
            let path = table.lines().find_map(|l| l.strip_prefix("0::")).expect("a cgroup line");
            format!("/sys/fs/cgroup{path}/{v2}")
        }
    };
    std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{file}: {e}")).trim().to_string()
}

fn memory_limit(d: &Daemon, name: &str) -> String {
    cgroup_file(d, name, "memory", "memory.limit_in_bytes", "memory.max")
}

/// `GET path` on the daemon's socket, past the response head; reads fail
/// after 20 s rather than hang the test.
fn open_stream(d: &Daemon, path: &str) -> BufReader<UnixStream> {
    let mut s = UnixStream::connect(&d.socket).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    // HTTP/1.0: the body is the objects themselves, without chunk framing.
    write!(s, "GET {path} HTTP/1.0\r\nHost: docker\r\n\r\n").unwrap();
    let mut reader = BufReader::new(s);
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    assert!(line.contains(" 200 "), "{line}");
    loop {
        line.clear();
        assert!(reader.read_line(&mut line).unwrap() > 0, "no end of the head");
        if line.trim().is_empty() {
            break;
        }
    }
    reader
}

/// Reads `count` JSON lines of a stream, then hangs up.
fn stream_lines(d: &Daemon, path: &str, count: usize) -> Vec<Value> {
    let mut reader = open_stream(d, path);
    let mut objects = Vec::new();
    let mut line = String::new();
    while objects.len() < count {
        line.clear();
        assert!(reader.read_line(&mut line).unwrap() > 0, "stream ended after {} objects", objects.len());
        if line.trim_start().starts_with('{') {
            objects.push(serde_json::from_str(line.trim()).unwrap_or_else(|e| panic!("{e}: {line}")));
        }
    }
    objects
}

#[test]
fn stats_for_the_real_cli_docker_py_and_our_client() {
    if !tools_present() {
        return;
    }
    // Debug logs tell when a stats job notices its client has gone.
    let d = Daemon::start_with(DaemonOptions { args: vec!["-D".into()], ..Default::default() });
    import_busybox(&d);
    let _cleanup = Removed::new(&d, &["st", "idle"]);
    ok(&cli(&d, &["run", "-d", "--name", "st", "-m", "64m", "busybox", "sleep", "600"]));
    ok(&cli(&d, &["create", "--name", "idle", "busybox", "true"]));

    // The real CLI's table: its NAME column and the limit of `-m 64m`.
    let out = cli(&d, &["stats", "--no-stream", "st"]);
    let table = ok(&out);
    let row = table.lines().find(|l| l.contains(" st ")).unwrap_or_else(|| panic!("no row for st:\n{table}"));
    assert!(row.contains("/ 64MiB"), "{table}");
    let usage = row.split_whitespace().find(|w| w.ends_with("iB") || w.ends_with('B')).unwrap_or("");
    assert!(!usage.starts_with("0B"), "memory in use: {table}");

    // One object, primed: precpu_stats is the sample before.
    let (code, body) = d.http("GET", "/containers/st/stats?stream=0", "");
    assert_eq!(code, 200, "{body}");
    let v: Value = serde_json::from_str(body.trim()).unwrap_or_else(|e| panic!("{e}: {body}"));
    assert_ne!(v["read"], "0001-01-01T00:00:00Z");
    assert_eq!(v["name"], "/st");
    let (cpu, pre) = (&v["cpu_stats"], &v["precpu_stats"]);
    assert!(cpu["cpu_usage"]["total_usage"].as_u64() > Some(0), "{v}");
    assert!(cpu["system_cpu_usage"].as_u64() > pre["system_cpu_usage"].as_u64(), "{v}");
    assert!(pre["system_cpu_usage"].as_u64() > Some(0), "primed with an earlier sample: {v}");
    assert!(cpu["cpu_usage"]["percpu_usage"].is_array() || cpu["online_cpus"].as_u64() > Some(0), "{v}");
    for key in ["usage_in_kernelmode", "usage_in_usermode"] {
        assert!(cpu["cpu_usage"][key].is_u64(), "{key}: {v}");
    }
    assert!(cpu["throttling_data"]["periods"].is_u64(), "{v}");
    let mem = &v["memory_stats"];
    assert!(mem["usage"].as_u64() > Some(0), "{v}");
    assert_eq!(mem["limit"].as_u64(), Some(64 * MIB));
    assert!(mem["stats"].is_object() && mem["max_usage"].is_u64() && mem["failcnt"].is_u64(), "{v}");
    assert!(v["blkio_stats"]["io_service_bytes_recursive"].is_array(), "{v}");
    assert_eq!(v["pids_stats"]["current"], 1, "{v}");

    // A stream: each object carries the previous one's CPU figures.
    let objects = stream_lines(&d, "/containers/st/stats", 2);
    assert_eq!(objects[1]["precpu_stats"], objects[0]["cpu_stats"]);
    assert!(objects[1]["read"] != objects[0]["read"]);
    // The client hung up: the job ends at its next write.
    d.wait_for_log_count("stats client gone; stream ended", 1, 10);

    // A stream ends when its container stops.
    let mut reader = open_stream(&d, "/containers/st/stats?stream=1");
    let mut first = String::new();
    assert!(reader.read_line(&mut first).unwrap() > 0 && first.starts_with('{'), "{first}");
    ok(&cli(&d, &["kill", "st"]));
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut reader, &mut rest).expect("the stream ends (no read timeout)");
    ok(&cli(&d, &["start", "st"]));

    // A container that does not run: one object of zeroes, then the end.
    let (code, body) = d.http("GET", "/containers/idle/stats?stream=0", "");
    assert_eq!(code, 200, "{body}");
    let v: Value = serde_json::from_str(body.trim()).unwrap_or_else(|e| panic!("{e}: {body}"));
    assert_eq!((v["read"].as_str(), v["memory_stats"]["usage"].as_u64()), (Some("0001-01-01T00:00:00Z"), Some(0)));
    let (code, body) = d.http("GET", "/containers/idle/stats?stream=1", "");
    assert_eq!((code, body.trim().lines().count()), (200, 1), "{body}");

    let (code, body) = d.http("GET", "/containers/nope/stats?stream=0", "");
    assert_eq!(code, 404, "{body}");
    assert!(body.contains("No such container: nope"), "{body}");

    // docker-py reads the same object.
    if let Some(python) = common::docker_py() {
        let script = r#"
s = c.containers.get('st').stats(stream=False)
print(json.dumps({"limit": s["memory_stats"]["limit"], "usage": s["memory_stats"]["usage"],
                  "cpu": s["cpu_stats"]["cpu_usage"]["total_usage"], "pre": s["precpu_stats"]["system_cpu_usage"]}))
"#;
        let got = docker_py_json(&python, &d, script, &[]);
        assert_eq!(got["limit"].as_u64(), Some(64 * MIB), "{got}");
        assert!(got["usage"].as_u64() > Some(0) && got["cpu"].as_u64() > Some(0) && got["pre"].as_u64() > Some(0));
    }

    // Our own client: 1.12's table.
    let table = ok(&ours(&d, &["stats", "--no-stream", "st"]));
    let mut lines = table.lines();
    let header: Vec<&str> = lines.next().unwrap_or("").split("   ").map(str::trim).filter(|c| !c.is_empty()).collect();
    assert_eq!(header, ["CONTAINER", "CPU %", "MEM USAGE / LIMIT", "MEM %", "NET I/O", "BLOCK I/O", "PIDS"]);
    let row = lines.next().unwrap_or("");
    assert!(row.starts_with("st ") && row.contains("/ 64MiB") && row.trim_end().ends_with(" 1"), "{table}");
    let out = ours(&d, &["stats", "--no-stream", "nope"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("No such container: nope"), "{}", stderr(&out));
    let all = ok(&ours(&d, &["stats", "--no-stream", "-a"]));
    assert_eq!(all.lines().count(), 3, "header, st and idle:\n{all}");
}

#[test]
fn update_changes_limits_live_and_keeps_them() {
    if !tools_present() {
        return;
    }
    let mut d = Daemon::start();
    import_busybox(&d);
    let _cleanup = Removed::new(&d, &["up"]);
    // Leaves at once on SIGTERM, so the daemon's shutdown does not wait.
    let run = ["run", "-d", "--name", "up", "-m", "64m", "busybox", "sh", "-c", "trap 'exit 0' TERM; sleep 600 & wait"];
    ok(&cli(&d, &run));
    assert_eq!(memory_limit(&d, "up"), (64 * MIB).to_string());

    // The real CLI: the live cgroup and the stored host config change.
    assert_eq!(ok(&cli(&d, &["update", "-m", "48m", "up"])).trim(), "up");
    assert_eq!(memory_limit(&d, "up"), (48 * MIB).to_string());
    assert_eq!(inspect(&d, "up")["HostConfig"]["Memory"].as_u64(), Some(48 * MIB));

    // docker-py's `Container.update`.
    if let Some(python) = common::docker_py() {
        let script = r#"
print(json.dumps(c.containers.get('up').update(restart_policy={'Name': 'on-failure', 'MaximumRetryCount': 2})))
"#;
        assert_eq!(docker_py_json(&python, &d, script, &[]), serde_json::json!({"Warnings": []}));
        let policy = &inspect(&d, "up")["HostConfig"]["RestartPolicy"];
        assert_eq!((policy["Name"].as_str(), policy["MaximumRetryCount"].as_i64()), (Some("on-failure"), Some(2)));
    }

    // Our client, with CPU shares and a CFS quota (which a start applies
    // after the fact, see below).
    let out = ours(&d, &["update", "--cpu-shares", "512", "--cpu-quota", "50000", "up"]);
    assert_eq!(ok(&out).trim(), "up");
    assert_eq!(cgroup_file(&d, "up", "cpu", "cpu.cfs_quota_us", "cpu.max").split(' ').next(), Some("50000"));
    let shares = cgroup_file(&d, "up", "cpu", "cpu.shares", "cpu.weight");
    assert!(shares == "512" || shares == "20", "cpu.shares 512 (or its v2 weight): {shares}");
    assert_eq!(inspect(&d, "up")["HostConfig"]["CpuShares"], 512);
    assert_eq!(inspect(&d, "up")["HostConfig"]["Memory"].as_u64(), Some(48 * MIB), "unchanged by a shares update");

    // Refusals, with dockerd's texts and status codes.
    let (code, body) = d.http("POST", "/containers/up/update", r#"{"Memory":1024}"#);
    assert_eq!(code, 400, "{body}");
    assert!(body.contains("Minimum memory limit allowed is 4MB"), "{body}");
    let (code, body) = d.http("POST", "/containers/up/update", r#"{"Memory":"lots"}"#);
    assert_eq!(code, 400, "{body}");
    let (code, body) = d.http("POST", "/containers/up/update", r#"{"CpusetCpus":"0-x"}"#);
    assert_eq!(code, 400, "{body}");
    let (code, body) = d.http("POST", "/containers/nope/update", r#"{"Memory":50331648}"#);
    assert_eq!(code, 404, "{body}");
    assert!(body.contains("No such container: nope"), "{body}");
    let out = ours(&d, &["update", "-m", "1k", "up"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(stderr(&out).contains("Minimum memory limit allowed is 4MB"), "{}", stderr(&out));
    let out = ours(&d, &["update", "up"]);
    assert_eq!(out.status.code(), Some(2), "no flags is a usage error: {}", stderr(&out));
    assert_eq!(memory_limit(&d, "up"), (48 * MIB).to_string(), "nothing refused reached the cgroup");

    // Kept across a daemon restart; a stopped container's update is
    // applied at its next start.
    d = restart(d, &[]);
    let hc = &inspect(&d, "up")["HostConfig"];
    assert_eq!((hc["Memory"].as_u64(), hc["CpuShares"].as_u64()), (Some(48 * MIB), Some(512)), "{hc}");
    assert_eq!(ok(&ours(&d, &["update", "-m", "40m", "up"])).trim(), "up");
    ok(&cli(&d, &["start", "up"]));
    assert_eq!(memory_limit(&d, "up"), (40 * MIB).to_string());
    let shares = cgroup_file(&d, "up", "cpu", "cpu.shares", "cpu.weight");
    assert!(shares == "512" || shares == "20", "{shares}");
    assert_eq!(cgroup_file(&d, "up", "cpu", "cpu.cfs_quota_us", "cpu.max").split(' ').next(), Some("50000"));
}
