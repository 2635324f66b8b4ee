//! `commit` end to end, with the real docker CLI v28, our own client and
//! docker-py 7.2 against a busybox image imported from a local tar: the
//! committed image carries the container's written and deleted files, the
//! `--change` config, the message and author in its history; a running
//! container is paused for the commit and runs on; a commit of nothing adds
//! no layer; bad requests are refused with dockerd's statuses; the vfs
//! driver commits the same way.

mod common;

use std::process::Output;

use common::image_tools::{docker_py_json, import_busybox, ok, real_cli_within, tar_files};
use common::images;
use common::{Daemon, DaemonOptions, REAL_CLI, require, stderr, stdout};

fn cli(d: &Daemon, args: &[&str]) -> Output {
    real_cli_within(d, args, 60)
}

fn tools_present() -> bool {
    require(REAL_CLI, "the docker CLI v28") && require(images::BUSYBOX, "busybox-static")
}

/// The entry names of `image`'s top layer, from `docker save`.
fn top_layer_entries(d: &Daemon, image: &str) -> Vec<String> {
    let saved = d.dir.path().join("saved.tar");
    ok(&cli(d, &["save", "-o", saved.to_str().unwrap(), image]));
    let files = tar_files(&saved);
    std::fs::remove_file(&saved).unwrap();
    let manifest: serde_json::Value = serde_json::from_slice(&files["manifest.json"]).unwrap();
    let top = manifest[0]["Layers"].as_array().unwrap().last().unwrap().as_str().unwrap().to_string();
    let mut layer = tar::Archive::new(&files[&top][..]);
    layer.entries().unwrap().map(|e| e.unwrap().path().unwrap().to_string_lossy().into_owned()).collect()
}

fn inspect(d: &Daemon, name: &str) -> serde_json::Value {
    let text = ok(&cli(d, &["inspect", name]));
    let v: serde_json::Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    v[0].clone()
}

#[test]
fn the_cli_commits_files_deletions_changes_and_history() {
    if !tools_present() {
        return;
    }
    let d = Daemon::start();
    import_busybox(&d);
    let out = cli(&d, &["run", "--name", "wr", "busybox", "sh", "-c", "echo hello > /file && rm /etc/group"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    let id = ok(&cli(&d, &["commit", "-c", "ENV FOO=bar", "-m", "msg", "-a", "me", "wr", "img:1"])).trim().to_string();
    assert!(id.starts_with("sha256:") && id.len() == 71, "{id}");
    assert_eq!(ok(&cli(&d, &["run", "--rm", "img:1", "cat", "/file"])), "hello\n");
    let env = ok(&cli(&d, &["run", "--rm", "img:1", "env"]));
    assert!(env.lines().any(|l| l == "FOO=bar"), "{env}");
    let out = cli(&d, &["run", "--rm", "img:1", "sh", "-c", "ls /etc/group || echo gone; cat /etc/passwd"]);
    assert!(ok(&out).starts_with("gone\nroot:"), "the deleted file stays deleted: {}", stdout(&out));

    let history = ok(&cli(&d, &["history", "--no-trunc", "--format", "{{.ID}}|{{.Comment}}|{{.CreatedBy}}", "img:1"]));
    let top = history.lines().next().unwrap();
    assert_eq!(top, format!("{id}|msg|sh -c echo hello > /file && rm /etc/group"), "{history}");
    assert_eq!(history.lines().count(), 2, "{history}");

    let image = inspect(&d, "img:1");
    let container = ok(&cli(&d, &["inspect", "-f", "{{.Id}}", "wr"])).trim().to_string();
    let busybox = inspect(&d, "busybox");
    assert_eq!(image["Container"], container.as_str(), "{image}");
    assert_eq!(image["Author"], "me");
    assert_eq!(image["Comment"], "msg");
    assert_eq!(image["Parent"], busybox["Id"], "{image}");
    assert_eq!(image["Config"]["Cmd"], serde_json::json!(["sh", "-c", "echo hello > /file && rm /etc/group"]));
    assert_eq!(image["RootFS"]["Layers"].as_array().unwrap().len(), 2, "{image}");
    let mut entries = top_layer_entries(&d, "img:1");
    entries.sort();
    assert_eq!(entries, ["etc", "etc/.wh.group", "file"], "only the container's own changes");

    // Our own client: a new default command, and no tag.
    let out = d.client(&["commit", "-c", "CMD [\"cat\", \"/file\"]", "-m", "ours", "wr"]);
    let ours = ok(&out).trim().to_string();
    assert!(ours.starts_with("sha256:"), "{ours}");
    assert_eq!(ok(&d.client(&["run", "--rm", &ours])), "hello\n");
    assert_eq!(inspect(&d, &ours)["Comment"], "ours");

    // A container that changed nothing: a history entry, no layer.
    ok(&cli(&d, &["create", "--name", "idle", "busybox", "true"]));
    let idle = ok(&cli(&d, &["commit", "idle", "idle:1"])).trim().to_string();
    assert_eq!(inspect(&d, &idle)["RootFS"]["Layers"].as_array().unwrap().len(), 1);
    let history = ok(&cli(&d, &["history", "-q", "idle:1"]));
    assert_eq!(history.lines().count(), 2, "{history}");

    // Errors: dockerd's statuses.
    let out = cli(&d, &["commit", "nope", "x:1"]);
    assert!(stderr(&out).contains("No such container: nope"), "{}", stderr(&out));
    let (status, body) = d.http("POST", "/v1.24/commit?container=wr&repo=Bad%20Repo", "");
    assert_eq!(status, 400, "{body}");
    let (status, body) = d.http("POST", "/v1.24/commit?container=wr&changes=RUN%20x", "");
    assert_eq!(status, 400, "{body}");

    ok(&cli(&d, &["rm", "wr", "idle"]));
}

#[test]
fn a_running_container_is_paused_for_its_commit_and_runs_on() {
    if !tools_present() {
        return;
    }
    let d = Daemon::start();
    import_busybox(&d);
    ok(&cli(&d, &["run", "-d", "--name", "rr", "busybox", "sleep", "300"]));
    ok(&cli(&d, &["exec", "rr", "sh", "-c", "echo live > /live"]));
    let start = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() - 1;

    let id = ok(&cli(&d, &["commit", "rr", "live:1"])).trim().to_string();
    assert_eq!(ok(&cli(&d, &["run", "--rm", "live:1", "cat", "/live"])), "live\n");
    let state = &inspect(&d, "rr")["State"];
    assert_eq!((state["Running"].as_bool(), state["Paused"].as_bool()), (Some(true), Some(false)), "{state}");

    let until = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() + 1;
    let events = ok(&cli(
        &d,
        &[
            "events",
            "--since",
            &start.to_string(),
            "--until",
            &until.to_string(),
            "--filter",
            "container=rr",
            "--format",
            "{{.Action}}",
        ],
    ));
    let actions: Vec<&str> = events.lines().filter(|a| matches!(*a, "pause" | "commit" | "unpause")).collect();
    assert_eq!(actions, ["pause", "commit", "unpause"], "{events}");

    // `--pause=false` leaves it running throughout.
    let out = cli(&d, &["commit", "--pause=false", "rr"]);
    assert!(ok(&out).starts_with("sha256:"));
    assert_ne!(ok(&out).trim(), id);

    ok(&cli(&d, &["rm", "-f", "rr"]));
}

#[test]
fn docker_py_commits_a_container() {
    let Some(python) = common::docker_py() else { return };
    if !tools_present() {
        return;
    }
    let d = Daemon::start();
    import_busybox(&d);
    let script = r#"
ct = c.containers.run('busybox', ['sh', '-c', 'echo py > /py'], detach=True, name='pyc')
ct.wait()
img = ct.commit(repository='pyimg', tag='2', message='from py', author='py', changes=['ENV X=1'])
out = {"tags": img.tags, "comment": img.attrs["Comment"], "author": img.attrs["Author"]}
out["cat"] = c.containers.run('pyimg:2', 'cat /py', remove=True).decode()
out["env"] = img.attrs["Config"]["Env"]
ct.remove()
print(json.dumps(out))
"#;
    let got = docker_py_json(&python, &d, script, &[]);
    assert_eq!(got["tags"], serde_json::json!(["pyimg:2"]), "{got}");
    assert_eq!((got["comment"].as_str(), got["author"].as_str()), (Some("from py"), Some("py")), "{got}");
    assert_eq!(got["cat"], "py\n", "{got}");
    assert_eq!(got["env"][0], "X=1", "{got}");
    assert_eq!(stdout(&cli(&d, &["ps", "-aq"])), "");
}

#[test]
fn commits_on_vfs_carry_changes_and_deletions_and_volumes_are_filled() {
    if !tools_present() {
        return;
    }
    let d = Daemon::start_with(DaemonOptions { args: vec!["-s".into(), "vfs".into()], ..Default::default() });
    import_busybox(&d);
    let script = "echo v > /file && rm /etc/group && mkdir /seed && echo s > /seed/x";
    ok(&cli(&d, &["run", "--name", "vv", "busybox", "sh", "-c", script]));
    ok(&cli(&d, &["commit", "-c", "VOLUME /seed", "vv", "vimg"]));
    let out = cli(&d, &["run", "--rm", "vimg", "sh", "-c", "cat /file /seed/x; ls /etc/group || echo gone"]);
    assert_eq!(ok(&out), "v\ns\ngone\n");
    assert_eq!(inspect(&d, "vimg")["RootFS"]["Layers"].as_array().unwrap().len(), 2);
    // Only the container's own changes: none of the daemon's mount points.
    let mut entries = top_layer_entries(&d, "vimg");
    entries.sort();
    assert_eq!(entries, ["etc", "etc/.wh.group", "file", "seed", "seed/x"]);
    ok(&cli(&d, &["rm", "vv"]));
}
