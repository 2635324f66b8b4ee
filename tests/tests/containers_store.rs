//! The container store end to end, before any container runs: create,
//! list (with the label and status filters compose and `ps` use), inspect,
//! rename and remove through the docker CLI v28, docker-py 7.2 and plain
//! HTTP, against a busybox image imported from a tar built here; and the
//! store surviving a daemon restart.

mod common;

use common::image_tools::{docker_py_json, import_busybox, ok};
use common::images;
use common::{Daemon, DaemonOptions, REAL_CLI, require, stderr};

fn tools_present() -> bool {
    require(REAL_CLI, "the docker CLI v28") && require(images::BUSYBOX, "busybox-static")
}

fn inspect(d: &Daemon, name: &str) -> serde_json::Value {
    let text = ok(&d.real_cli(&["inspect", name]));
    let v: serde_json::Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    v[0].clone()
}

fn names(d: &Daemon, args: &[&str]) -> Vec<String> {
    let mut all = vec!["ps", "--format", "{{.Names}}"];
    all.extend_from_slice(args);
    ok(&d.real_cli(&all)).lines().map(str::to_string).collect()
}

#[test]
fn the_docker_cli_creates_lists_inspects_renames_and_removes() {
    if !tools_present() {
        return;
    }
    let d = Daemon::start();
    let since = now().saturating_sub(1).to_string();
    import_busybox(&d);

    let id = ok(&d.real_cli(&["create", "--name", "web", "-l", "a=b", "busybox", "sleep", "1"])).trim().to_string();
    assert_eq!(id.len(), 64, "{id}");
    assert!(id.bytes().all(|b| b.is_ascii_hexdigit()), "{id}");
    ok(&d.real_cli(&["create", "busybox", "true"]));

    assert!(names(&d, &[]).is_empty(), "nothing runs");
    let all = names(&d, &["-a"]);
    assert_eq!(all.len(), 2, "{all:?}");
    assert!(all.contains(&"web".to_string()));
    let generated = all.iter().find(|n| *n != "web").unwrap();
    assert!(generated.contains('_'), "adjective_surname: {generated}");
    assert_eq!(names(&d, &["-a", "--filter", "label=a=b"]), ["web"]);
    assert_eq!(names(&d, &["-a", "--filter", "label=a"]), ["web"]);
    assert!(names(&d, &["-a", "--filter", "label=a=c"]).is_empty());
    assert_eq!(names(&d, &["--filter", "status=created"]).len(), 2, "status implies -a");
    assert!(names(&d, &["-a", "--filter", "status=running"]).is_empty());
    // Anchored: a generated name may hold "we" (sweet_...).
    assert_eq!(names(&d, &["-a", "--filter", "name=^/we"]), ["web"]);
    assert_eq!(names(&d, &["-a", "--filter", &format!("id={}", &id[..12])]), ["web"]);
    let row = ok(&d.real_cli(&["ps", "-a", "--filter", "name=web", "--format", "{{.Image}}|{{.Command}}|{{.Status}}"]));
    assert_eq!(row.trim(), "busybox|\"sleep 1\"|Created");

    let v = inspect(&d, "web");
    assert_eq!(v["Id"], id.as_str());
    assert_eq!(v["Name"], "/web");
    assert_eq!((v["Path"].as_str(), v["Args"][0].as_str()), (Some("sleep"), Some("1")));
    assert_eq!(v["State"]["Status"], "created");
    assert_eq!(v["State"]["Running"], false);
    assert_eq!(v["Config"]["Labels"]["a"], "b");
    assert_eq!(v["Config"]["Hostname"], &id[..12]);
    assert_eq!(v["HostConfig"]["LogConfig"]["Type"], "json-file");
    assert!(v["NetworkSettings"]["Ports"].is_object(), "{v}");
    assert_eq!(v["Mounts"], serde_json::json!([]));
    assert!(v["Image"].as_str().unwrap().starts_with("sha256:"));
    assert_eq!(inspect(&d, &id[..8])["Id"], id.as_str(), "by ID prefix");
    let hosts = std::fs::read_to_string(v["HostsPath"].as_str().unwrap()).unwrap();
    assert!(hosts.starts_with("127.0.0.1\tlocalhost\n::1\t"), "{hosts}");
    let resolv = std::fs::read_to_string(v["ResolvConfPath"].as_str().unwrap()).unwrap();
    assert!(!resolv.lines().any(|l| l.starts_with("nameserver 127.")), "{resolv}");

    let out = d.real_cli(&["create", "--name", "web", "busybox", "true"]);
    assert!(!out.status.success());
    let expected = format!(
        "Conflict. The container name \"/web\" is already in use by container {id}. You have to remove (or rename) that container to be able to reuse that name."
    );
    assert!(stderr(&out).contains(&expected), "{}", stderr(&out));
    let out = d.real_cli(&["create", "--name", "b@d", "busybox", "true"]);
    assert!(stderr(&out).contains("Invalid container name (b@d), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"));
    let out = d.real_cli(&["create", "-m", "1m", "busybox", "true"]);
    assert!(stderr(&out).contains("Minimum memory limit allowed is 4MB"), "{}", stderr(&out));
    let out = d.real_cli(&["create", "busybox"]);
    assert!(stderr(&out).contains("No command specified"), "{}", stderr(&out));

    let out = d.real_cli(&["rmi", "busybox"]);
    assert!(!out.status.success(), "a container uses the image");
    assert!(stderr(&out).contains(&format!("container {}", &id[..12])), "{}", stderr(&out));

    ok(&d.real_cli(&["rename", "web", "web2"]));
    // `docker inspect` would go on to networks, which come later.
    let out = d.real_cli(&["container", "inspect", "web"]);
    assert!(stderr(&out).contains("No such container: web"), "{}", stderr(&out));
    assert_eq!(inspect(&d, "web2")["Name"], "/web2");
    ok(&d.real_cli(&["rm", "web2"]));
    assert!(!d.dir.path().join("root/containers").join(&id).exists());
    let out = d.real_cli(&["rm", "web2"]);
    assert!(stderr(&out).contains("No such container: web2"), "{}", stderr(&out));
    ok(&d.real_cli(&["rm", generated]));
    assert!(names(&d, &["-a"]).is_empty());
    ok(&d.real_cli(&["rmi", "busybox"]));

    let events = ok(&d.real_cli(&["events", "--since", &since, "--until", &(now() + 1).to_string()]));
    for action in ["create", "rename", "destroy"] {
        assert!(events.contains(&format!("container {action} {id}")), "{action}: {events}");
    }
}

fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

#[test]
fn a_missing_image_makes_the_cli_try_a_pull() {
    if !tools_present() {
        return;
    }
    let d = Daemon::start();
    let (status, body) = d.http("POST", "/v1.24/containers/create", r#"{"Image":"nosuch","Cmd":["true"]}"#);
    assert_eq!((status, body.trim()), (404, r#"{"message":"No such image: nosuch:latest"}"#));
    // A registry on loopback that nobody listens on: the pull is tried and
    // fails without any connection leaving the machine.
    let image = format!("127.0.0.1:{}/nosuch", common::free_port());
    let out = d.real_cli(&["create", &image]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains(&format!("Unable to find image '{image}:latest' locally")), "{}", stderr(&out));
}

#[test]
fn bad_create_bodies_and_unknown_containers_get_clear_errors() {
    if !tools_present() {
        return;
    }
    let d = Daemon::start();
    import_busybox(&d);
    let cases = [
        (r#"{"Image":"busybox","Cmd":{"x":1}}"#, 400, "invalid create body"),
        (r#"{"Image":"busybox","Tty":"yes"}"#, 400, "invalid create body"),
        (r#"{"Image":"busybox"}"#, 500, "No command specified"),
        (r#"{"Cmd":["true"]}"#, 400, "No image"),
        (r#"{"Image":"busybox","Cmd":["true"],"HostConfig":{"Memory":1}}"#, 400, "Minimum memory limit allowed is 4MB"),
        (r#"{"Image":"busybox","Cmd":["true"],"HostConfig":{"CpusetCpus":"1-x"}}"#, 400, "cpuset"),
        (r#"{"Image":"busybox","Cmd":["true"],"HostConfig":{"RestartPolicy":{"Name":"maybe"}}}"#, 400, "restart"),
    ];
    for (body, status, text) in cases {
        let (got, answer) = d.http("POST", "/v1.24/containers/create", body);
        assert_eq!(got, status, "{body}: {answer}");
        assert!(answer.contains(text), "{body}: {answer}");
    }
    // Nulls everywhere are fine, and a string Cmd is one word.
    let body = r#"{"Image":"busybox","Cmd":"true","Env":null,"Labels":null,"HostConfig":null,"Entrypoint":null}"#;
    let (got, answer) = d.http("POST", "/v1.24/containers/create?name=nulls", body);
    assert_eq!(got, 201, "{answer}");
    let reply: serde_json::Value = serde_json::from_str(&answer).unwrap();
    assert_eq!(reply["Warnings"], serde_json::json!([]));
    let (got, answer) = d.http("GET", "/v1.24/containers/nope/json", "");
    assert_eq!((got, answer.trim()), (404, r#"{"message":"No such container: nope"}"#));
    let (got, _) = d.http("DELETE", "/v1.24/containers/nope", "");
    assert_eq!(got, 404);
    let (got, _) = d.http("POST", "/v1.24/containers/nulls/rename?name=a", "");
    assert_eq!(got, 400, "one-character names are refused");
    let (got, answer) = d.http("GET", "/v1.24/containers/json?filters=%7B%22colour%22%3A%5B%22red%22%5D%7D", "");
    assert_eq!(got, 400, "{answer}");
    // Still serving.
    let (got, answer) = d.http("GET", "/v1.24/containers/json?all=1", "");
    assert_eq!(got, 200);
    assert!(answer.contains("\"Names\":[\"/nulls\"]"), "{answer}");
}

#[test]
fn containers_survive_a_restart_and_half_creates_do_not() {
    if !tools_present() {
        return;
    }
    let mut d = Daemon::start();
    import_busybox(&d);
    let id = ok(&d.real_cli(&["create", "--name", "keep", "-l", "k=v", "busybox", "sleep", "5"])).trim().to_string();
    d.signal(nix::sys::signal::Signal::SIGTERM);
    assert_eq!(d.wait_exit(20), 0);

    let containers = d.dir.path().join("root/containers");
    // Pretend the container was running when the daemon died.
    let config = containers.join(&id).join("config.v2.json");
    let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(&config).unwrap()).unwrap();
    v["State"]["Running"] = true.into();
    v["State"]["Pid"] = 4242.into();
    v["State"]["StartedAt"] = "2024-01-01T00:00:00Z".into();
    std::fs::write(&config, v.to_string()).unwrap();
    // And a create cut short: a directory without its config.
    let half = containers.join("f".repeat(64));
    std::fs::create_dir(&half).unwrap();
    std::fs::write(half.join("hostconfig.json"), "{}").unwrap();

    let dir = std::mem::replace(&mut d.dir, tempfile::tempdir().unwrap());
    drop(d);
    let d = Daemon::start_with(DaemonOptions { dir: Some(dir), ..Default::default() });
    assert!(!half.exists(), "the half-made container is gone");
    let v = inspect(&d, "keep");
    assert_eq!(v["Id"], id.as_str());
    assert_eq!(v["Config"]["Labels"]["k"], "v");
    assert_eq!(v["State"]["Status"], "exited");
    assert_eq!((v["State"]["Running"].as_bool(), v["State"]["Pid"].as_i64()), (Some(false), Some(0)));
    assert_eq!(v["State"]["ExitCode"], 255);
    assert_eq!(names(&d, &["-a", "--filter", "label=k=v"]), ["keep"]);
    let status = ok(&d.real_cli(&["ps", "-a", "--format", "{{.Status}}"]));
    assert!(status.starts_with("Exited (255) "), "{status}");
    let out = d.real_cli(&["create", "--name", "keep", "busybox", "true"]);
    assert!(stderr(&out).contains("is already in use"), "names come back too");
}

#[test]
fn docker_py_creates_lists_by_label_renames_and_removes() {
    let Some(python) = common::docker_py() else { return };
    if !tools_present() {
        return;
    }
    let d = Daemon::start();
    import_busybox(&d);
    let script = r#"
out = {}
ct = c.containers.create('busybox', 'true', labels={'com.docker.compose.project': 'p'}, name='pyt')
other = c.containers.create('busybox', 'true')
out["status"] = ct.status
out["all"] = sorted(x.name for x in c.containers.list(all=True))
out["running"] = [x.name for x in c.containers.list()]
out["label"] = [x.name for x in c.containers.list(all=True, filters={'label': 'com.docker.compose.project=p'})]
out["log_type"] = ct.attrs['HostConfig']['LogConfig']['Type']
out["labels"] = ct.attrs['Config']['Labels']
ct.rename('pyt2')
ct.reload()
out["renamed"] = ct.name
try:
    c.containers.create('busybox', 'true', name='pyt2')
except docker.errors.APIError as e:
    out["conflict"] = e.status_code
try:
    c.containers.get('nope')
except docker.errors.NotFound as e:
    out["missing"] = e.explanation
ct.remove()
other.remove(v=True, force=True)
out["after"] = [x.name for x in c.containers.list(all=True)]
print(json.dumps(out))
"#;
    let got = docker_py_json(&python, &d, script, &[]);
    assert_eq!(got["status"], "created", "{got}");
    assert_eq!(got["all"].as_array().unwrap().len(), 2, "{got}");
    assert_eq!(got["running"], serde_json::json!([]), "{got}");
    assert_eq!(got["label"], serde_json::json!(["pyt"]), "{got}");
    assert_eq!(got["log_type"], "json-file");
    assert_eq!(got["labels"], serde_json::json!({"com.docker.compose.project": "p"}));
    assert_eq!(got["renamed"], "pyt2");
    assert_eq!(got["conflict"], 409);
    assert_eq!(got["missing"], "No such container: nope");
    assert_eq!(got["after"], serde_json::json!([]));
}
