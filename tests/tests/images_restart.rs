//! Images on disk across daemon lives: images and tags survive a SIGTERM
//! and a restart on the same root (both drivers); after `kill -9` in the
//! middle of a pull of a ~100 MB image, the restarted daemon lists no half
//! image and the same pull runs again to a whole one.

mod common;

use common::image_tools::{
    diff_ids, follow_pull, in_layers, inspect, kill9_and_restart, list, ok, repo_tags, restart, root,
};
use common::images::{self, Format};
use common::registry::{RegistryAuth, TestRegistry};
use common::{Daemon, DaemonOptions, require};

fn tools_present() -> bool {
    require("/usr/bin/skopeo", "skopeo")
        && require("/usr/bin/docker-registry", "docker-registry (distribution 2.8)")
        && require(images::BUSYBOX, "busybox-static")
}

fn survives_a_restart(args: &[&str]) {
    let reg = TestRegistry::start(RegistryAuth::None);
    let bb = images::busybox().push(&reg.host, None, "busybox", "latest", Format::Schema2);
    let ml = images::multilayer().push(&reg.host, None, "layered", "v3", Format::Oci);
    let d =
        Daemon::start_with(DaemonOptions { args: args.iter().map(|a| a.to_string()).collect(), ..Default::default() });
    ok(&d.client(&["pull", &bb.reference]));
    ok(&d.client(&["pull", &ml.reference]));
    ok(&d.client(&["tag", &bb.reference, "mine/bb:kept"]));
    let tags = repo_tags(&d);
    let before: Vec<serde_json::Value> =
        [&bb.reference, &ml.reference, "mine/bb:kept"].iter().map(|n| inspect(&d, n)).collect();

    let d = restart(d, args);
    assert_eq!(repo_tags(&d), tags);
    for (n, v) in [&bb.reference, &ml.reference, "mine/bb:kept"].iter().zip(&before) {
        let now = inspect(&d, n);
        assert_eq!(now["Id"], v["Id"], "{n}");
        assert_eq!(diff_ids(&now), diff_ids(v), "{n}");
        assert_eq!(now["RepoTags"], v["RepoTags"], "{n}");
    }
    assert!(!in_layers(&root(&d), "bin/busybox").is_empty());
    // And the images are still usable: untag and delete work after it.
    ok(&d.client(&["rmi", "mine/bb:kept"]));
    ok(&d.client(&["rmi", &bb.reference]));
    assert_eq!(repo_tags(&d).into_iter().collect::<Vec<_>>(), std::slice::from_ref(&ml.reference));
}

#[test]
fn images_and_tags_survive_a_restart_on_overlay() {
    if tools_present() {
        survives_a_restart(&["-s", "overlay"]);
    }
}

#[test]
fn images_and_tags_survive_a_restart_on_vfs() {
    if tools_present() {
        survives_a_restart(&["-s", "vfs"]);
    }
}

#[test]
fn kill_9_during_a_pull_leaves_no_half_image() {
    if !tools_present() {
        return;
    }
    let reg = TestRegistry::start(RegistryAuth::None);
    let big = images::big(100, 5);
    let noise0 = images::sha256(&images::noise(7, 20_000_000 * 6 / 10));
    let pushed = big.push(&reg.host, None, "big", "latest", Format::Schema2);
    drop(big);
    let d = Daemon::start();

    // Kill the daemon as soon as the progress stream shows bytes arriving.
    let mut seen = Vec::new();
    let stopped = follow_pull(&d.socket, &pushed.name, "latest", |msg| {
        seen.push(msg.to_string());
        !(msg["status"] == "Downloading" && msg["progressDetail"]["current"].as_u64().unwrap_or(0) > 0)
    });
    assert!(stopped, "the pull showed Downloading progress before it ended: {seen:?}");
    let d = kill9_and_restart(d, &[]);

    let images_now = list(&d);
    assert!(images_now.is_empty(), "no half image after kill -9: {images_now:?}");
    let (status, body) = d.http("GET", "/v1.24/images/json?all=1", "");
    assert_eq!((status, body.trim()), (200, "[]"), "not even an untagged one");
    let (status, _) = d.http("GET", &format!("/v1.24/images/{}/json", pushed.reference), "");
    assert_eq!(status, 404);

    // The same pull again, to the end.
    let out = ok(&d.client(&["pull", &pushed.reference]));
    assert!(out.contains("Downloaded newer image"), "{out}");
    let v = inspect(&d, &pushed.reference);
    assert_eq!(v["Id"], pushed.image_id.as_str());
    assert_eq!(diff_ids(&v), pushed.diff_ids);
    let files = in_layers(&root(&d), "big/0/noise.bin");
    assert!(!files.is_empty());
    for f in &files {
        assert_eq!(images::sha256_file(f), noise0, "{}", f.display());
    }
    for i in 0..5 {
        assert!(!in_layers(&root(&d), &format!("big/{i}/text.txt")).is_empty(), "layer {i} whole");
    }
}
