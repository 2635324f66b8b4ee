//! Bad input never gets past the daemon and never stops it: layers that try
//! `../`, an absolute symlink written through, and hard links to host files
//! each fail the pull with an error naming the entry, change nothing
//! outside the layer directory and leave no layer behind; a manifest whose
//! bytes miss their digest is refused; an unknown image is a 404 `No such
//! image`; a tag with bad characters is a 400. After each, the daemon still
//! answers.

mod common;

use std::os::unix::fs::MetadataExt;
use std::path::Path;

use common::image_tools::{fails, inspect, ok, root, stored_entries};
use common::images::{self, Format, Image, tree};
use common::registry::{RegistryAuth, TestRegistry};
use common::{Daemon, REAL_CLI, require};

fn tools_present() -> bool {
    require("/usr/bin/skopeo", "skopeo")
        && require("/usr/bin/docker-registry", "docker-registry (distribution 2.8)")
        && require(images::BUSYBOX, "busybox-static")
}

/// Pulls `img` (pushed as `<repo>:latest`) with our client and with the
/// docker CLI: both fail with an error naming `entry`, and the daemon's root
/// holds no more than before.
fn refused(reg: &TestRegistry, d: &Daemon, img: Image, repo: &str, entry: &str) {
    let pushed = img.push(&reg.host, None, repo, "latest", Format::Schema2);
    let before = stored_entries(&root(d));
    let mut outputs = vec![d.client(&["pull", &pushed.reference])];
    if require(REAL_CLI, "the docker CLI v28") {
        outputs.push(d.real_cli(&["pull", &pushed.reference]));
    }
    for out in &outputs {
        let err = fails(out);
        assert!(err.contains(entry), "the error names {entry:?}: {err}");
        assert_eq!(stored_entries(&root(d)), before, "no layer of {repo} is left; error was: {err}");
        let (status, _) = d.http("GET", &format!("/v1.24/images/{}/json", pushed.reference), "");
        assert_eq!(status, 404, "no image {repo}");
        ok(&d.client(&["version"]));
    }
    let stray: Vec<String> =
        tree(d.dir.path()).into_iter().filter(|p| p.ends_with("escape-me") || p.ends_with("pwned")).collect();
    assert!(stray.is_empty(), "nothing of {repo} written anywhere under the daemon's directory: {stray:?}");
}

#[test]
fn layers_that_escape_are_refused_and_change_nothing_outside() {
    if !tools_present() {
        return;
    }
    let reg = TestRegistry::start(RegistryAuth::None);
    let d = Daemon::start();
    let outside = tempfile::tempdir().unwrap();
    let victim = outside.path().join("victim");
    std::fs::write(&victim, "original\n").unwrap();
    let snapshot = |p: &Path| tree(p);
    let before = snapshot(outside.path());

    refused(&reg, &d, images::evil_dotdot(outside.path()), "evil/dotdot", "escape-me");
    refused(&reg, &d, images::evil_symlink(outside.path()), "evil/symlink", "evil-link");
    refused(&reg, &d, images::evil_hardlink(&victim), "evil/hardlink", "hardlink-");

    assert_eq!(snapshot(outside.path()), before, "nothing appeared in {}", outside.path().display());
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "original\n");
    assert_eq!(std::fs::metadata(&victim).unwrap().nlink(), 1, "no hard link to the victim anywhere");
    assert!(ok(&d.client(&["images", "-q"])).trim().is_empty());
}

#[test]
fn a_manifest_that_misses_its_digest_is_refused() {
    if !tools_present() {
        return;
    }
    let reg = TestRegistry::start(RegistryAuth::None);
    let pushed = images::busybox().push(&reg.host, None, "tampered", "latest", Format::Schema2);
    images::tamper_manifest(reg.storage_dir(), &pushed.manifest_digest);
    let d = Daemon::start();
    let by_digest = format!("{}@{}", pushed.name, pushed.manifest_digest);
    for reference in [&by_digest, &pushed.reference] {
        let err = fails(&d.client(&["pull", reference]));
        assert!(err.to_lowercase().contains("digest"), "{reference}: the error says the digest does not match: {err}");
        if require(REAL_CLI, "the docker CLI v28") {
            let err = fails(&d.real_cli(&["pull", reference]));
            assert!(err.to_lowercase().contains("digest"), "{reference}: {err}");
        }
    }
    let (status, _) = d.http("GET", &format!("/v1.24/images/{}/json", pushed.reference), "");
    assert_eq!(status, 404);
    assert!(ok(&d.client(&["images", "-q"])).trim().is_empty());
    ok(&d.client(&["version"]));
}

#[test]
fn unknown_images_are_404_and_bad_tags_are_400() {
    if !tools_present() {
        return;
    }
    let d = Daemon::start();
    let (status, body) = d.http("GET", "/v1.24/images/nosuch/json", "");
    assert_eq!(status, 404, "{body}");
    assert!(body.contains("No such image: nosuch"), "{body}");
    let (status, body) = d.http("DELETE", "/v1.24/images/nosuch", "");
    assert_eq!(status, 404, "{body}");
    let (status, body) = d.http("GET", "/v1.24/images/nosuch/history", "");
    assert_eq!(status, 404, "{body}");
    if require(REAL_CLI, "the docker CLI v28") {
        let err = fails(&d.real_cli(&["inspect", "--type", "image", "nosuch"]));
        assert!(err.contains("No such image: nosuch"), "{err}");
    }

    let reg = TestRegistry::start(RegistryAuth::None);
    let pushed = images::busybox().push(&reg.host, None, "busybox", "latest", Format::Schema2);
    ok(&d.client(&["pull", &pushed.reference]));
    let id = &pushed.image_id[7..];
    for (repo, tag) in [("bad%2Frepo", "Tag%21"), ("Bad", "latest"), ("good", "bad%20tag"), ("bad..repo", "x")] {
        let (status, body) = d.http("POST", &format!("/v1.24/images/{id}/tag?repo={repo}&tag={tag}"), "");
        assert_eq!(status, 400, "repo={repo} tag={tag}: {body}");
        assert!(!body.trim().is_empty(), "the 400 says why");
        ok(&d.client(&["version"]));
    }
    let err = fails(&d.client(&["tag", &pushed.reference, "Bad:Tag!"]));
    assert!(err.contains("Bad") || err.to_lowercase().contains("invalid"), "{err}");
    // Nothing was tagged by the refusals; the good tag still works.
    let v = inspect(&d, &pushed.reference);
    assert_eq!(v["RepoTags"], serde_json::json!([pushed.reference]));
    ok(&d.client(&["tag", &pushed.reference, "good:tag"]));
    assert_eq!(inspect(&d, "good:tag")["Id"], pushed.image_id.as_str());
}
