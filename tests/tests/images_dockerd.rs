//! Cross-checks with the real dockerd 20.10 (Debian's docker.io, started by
//! the test on its own root and socket with networking off): an image it
//! pulled from the loopback registry and saved loads into ours with the
//! same id, layers and whiteouts; one saved by ours loads into dockerd with
//! the same id and layers.

mod common;

use common::dockerd::{DOCKERD, Dockerd};
use common::image_tools::{diff_ids, in_layers, inspect, ok, root, save_manifest};
use common::images::{self, Format, names};
use common::registry::{RegistryAuth, TestRegistry};
use common::{Daemon, DaemonOptions, REAL_CLI, require};

fn tools_present() -> bool {
    require("/usr/bin/skopeo", "skopeo")
        && require("/usr/bin/docker-registry", "docker-registry (distribution 2.8)")
        && require(images::BUSYBOX, "busybox-static")
        && require(DOCKERD, "dockerd 20.10 (docker.io)")
        && require(REAL_CLI, "the docker CLI v28")
}

/// dockerd's `image inspect` as JSON.
fn dockerd_inspect(dd: &Dockerd, name: &str) -> serde_json::Value {
    let out = ok(&dd.cli(&["image", "inspect", name]));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    v[0].clone()
}

#[test]
fn an_image_saved_by_dockerd_loads_into_ours() {
    if !tools_present() {
        return;
    }
    let reg = TestRegistry::start(RegistryAuth::None);
    let bb = images::busybox().push(&reg.host, None, "busybox", "latest", Format::Schema2);
    let ml = images::multilayer().push(&reg.host, None, "layered", "latest", Format::Oci);
    let dd = Dockerd::start();
    ok(&dd.cli(&["pull", &bb.reference]));
    ok(&dd.cli(&["pull", &ml.reference]));
    assert_eq!(dockerd_inspect(&dd, &bb.reference)["Id"], bb.image_id.as_str(), "dockerd agrees on the id");
    let tmp = tempfile::tempdir().unwrap();
    let saved = tmp.path().join("from-dockerd.tar");
    ok(&dd.cli(&["save", "-o", saved.to_str().unwrap(), &bb.reference, &ml.reference]));
    assert_eq!(save_manifest(&saved).as_array().unwrap().len(), 2);

    let d = Daemon::start_with(DaemonOptions { args: vec!["-s".into(), "vfs".into()], ..Default::default() });
    ok(&d.real_cli(&["load", "-i", saved.to_str().unwrap()]));
    for p in [&bb, &ml] {
        let v = inspect(&d, &p.reference);
        assert_eq!(v["Id"], p.image_id.as_str(), "{}", p.reference);
        assert_eq!(diff_ids(&v), p.diff_ids, "{}", p.reference);
        assert_eq!(v["Config"]["Cmd"], serde_json::json!(["sh"]));
    }
    // dockerd's layer.tar files carry `.wh.` entries; the load honours them.
    let tops = in_layers(&root(&d), "layer3.txt");
    assert_eq!(tops.len(), 1, "{tops:?}");
    let top = tops[0].parent().unwrap();
    assert_eq!(names(&top.join("data")), ["added.txt", "keep.txt"]);
    assert_eq!(names(&top.join("opq")), ["new.txt"]);
    let busybox = in_layers(&root(&d), "bin/busybox");
    assert!(!busybox.is_empty());
    for b in busybox {
        assert_eq!(images::sha256_file(&b), images::sha256_file(std::path::Path::new(images::BUSYBOX)));
    }
}

#[test]
fn an_image_saved_by_ours_loads_into_dockerd() {
    if !tools_present() {
        return;
    }
    let reg = TestRegistry::start(RegistryAuth::None);
    let bb = images::busybox().push(&reg.host, None, "busybox", "latest", Format::Schema2);
    let ml = images::multilayer().push(&reg.host, None, "layered", "latest", Format::Schema2);
    let d = Daemon::start();
    ok(&d.client(&["pull", &bb.reference]));
    ok(&d.client(&["pull", &ml.reference]));
    ok(&d.client(&["tag", &ml.reference, "local/layered:v1"]));
    let tmp = tempfile::tempdir().unwrap();
    let saved = tmp.path().join("from-ours.tar");
    ok(&d.client(&["save", "-o", saved.to_str().unwrap(), &bb.reference, "local/layered:v1"]));

    let dd = Dockerd::start();
    let out = ok(&dd.cli(&["load", "-i", saved.to_str().unwrap()]));
    assert!(out.contains("Loaded image: local/layered:v1"), "{out}");
    assert!(out.contains(&format!("Loaded image: {}", bb.reference)), "{out}");
    for (name, p) in [(bb.reference.as_str(), &bb), ("local/layered:v1", &ml)] {
        let v = dockerd_inspect(&dd, name);
        assert_eq!(v["Id"], p.image_id.as_str(), "{name}: {v}");
        assert_eq!(diff_ids(&v), p.diff_ids, "{name}");
        assert_eq!(v["Architecture"], "amd64");
    }
    // dockerd's own save of what it loaded lists the same layers again.
    let again = tmp.path().join("again.tar");
    ok(&dd.cli(&["save", "-o", again.to_str().unwrap(), "local/layered:v1"]));
    let m = save_manifest(&again);
    assert_eq!(m[0]["Layers"].as_array().unwrap().len(), 3, "{m}");
}
