//! The image suites' own fixtures, checked against real tools: the layer
//! tars we write are what `tar` and `skopeo` read, the evil ones hold the
//! raw names they are meant to, pushes reach the registry byte for byte,
//! the tamper breaks only the digest, and dockerd 20.10 starts and is
//! cleaned up.

mod common;

use std::path::Path;
use std::process::Command;

use common::dockerd::{DOCKERD, Dockerd};
use common::image_tools::ok;
use common::images::{self, Format, LayerBuilder, sha256};
use common::registry::{RegistryAuth, TestRegistry};
use common::{REAL_CLI, require};

fn tar_listing(gz: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("layer.tgz");
    std::fs::write(&f, gz).unwrap();
    ok(&Command::new("tar").arg("-tvzf").arg(&f).output().unwrap())
}

/// (name, link target) of each entry, raw from the headers.
fn raw_entries(gz: &[u8]) -> Vec<(String, String)> {
    let mut ar = tar::Archive::new(flate2::read::GzDecoder::new(gz));
    ar.entries()
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let link = e.link_name_bytes().map(|l| String::from_utf8_lossy(&l).into_owned()).unwrap_or_default();
            (String::from_utf8_lossy(&e.path_bytes()).into_owned(), link)
        })
        .collect()
}

#[test]
fn layers_are_real_gzip_tars_with_the_names_we_wrote() {
    if !require(images::BUSYBOX, "busybox-static") {
        return;
    }
    let bb = images::busybox_layer();
    let listing = tar_listing(&bb.gz);
    assert!(listing.lines().any(|l| l.ends_with(" bin/busybox")), "{listing}");
    assert!(listing.lines().any(|l| l.starts_with('l') && l.ends_with(" bin/sh -> busybox")), "{listing}");
    assert!(listing.lines().any(|l| l.starts_with("drwxrwxrwt") && l.ends_with(" tmp/")), "{listing}");
    assert_eq!(bb.diff_id, sha256(&bb.tar));
    assert_eq!(bb.digest, sha256(&bb.gz));
    assert!(bb.gz.len() < bb.tar.len());

    let ml = images::multilayer();
    let l2 = tar_listing(&ml.layers[1].gz);
    assert!(l2.contains(" data/.wh.gone.txt") && l2.contains(" opq/.wh..wh..opq"), "{l2}");

    // The evil names are in the headers exactly as written (GNU tar's
    // listing would strip the leading `/` and `../`).
    let outside = tempfile::tempdir().unwrap();
    let out = outside.path().display().to_string();
    let dotdot = raw_entries(&images::evil_dotdot(outside.path()).layers[0].gz);
    let climbing = format!("{}{}/escape-me", "../".repeat(20), out.trim_start_matches('/'));
    assert_eq!(dotdot[1], (climbing.clone(), String::new()));
    let sym = raw_entries(&images::evil_symlink(outside.path()).layers[0].gz);
    assert_eq!(sym, [("evil-link".into(), out.clone()), ("evil-link/pwned".into(), String::new())]);
    let victim = format!("{out}/victim");
    let hard = raw_entries(&images::evil_hardlink(Path::new(&victim)).layers[0].gz);
    assert_eq!(hard[0], ("hardlink-out".into(), victim.clone()));
    assert_eq!(hard[1], ("hardlink-up".into(), climbing.replace("escape-me", "victim")));
    assert_eq!(hard[2], ("hardlink-out".into(), String::new()));

    // Big image: incompressible and compressible parts, one file each per layer.
    let n = images::noise(1, 1 << 20);
    let mut b = LayerBuilder::new().level(1);
    b.file("n", &n, 0o644);
    let l = b.finish();
    assert!(l.gz.len() > 1 << 20, "noise does not compress");
    let mut b = LayerBuilder::new().level(1);
    b.file("t", &images::text(1, 1 << 20), 0o644);
    assert!(b.finish().gz.len() < 1 << 18, "text compresses");
}

#[test]
fn skopeo_reads_our_dir_layout_in_both_manifest_formats() {
    if !require("/usr/bin/skopeo", "skopeo") || !require(images::BUSYBOX, "busybox-static") {
        return;
    }
    let img = images::multilayer();
    for format in [Format::Schema2, Format::Oci] {
        let dir = tempfile::tempdir().unwrap();
        img.write_dir(dir.path(), format);
        let out = Command::new("skopeo")
            .args(["--insecure-policy", "inspect", "--config"])
            .arg(format!("dir:{}", dir.path().display()))
            .output()
            .unwrap();
        let cfg: serde_json::Value = serde_json::from_str(&ok(&out)).unwrap();
        assert_eq!(cfg["rootfs"]["diff_ids"][2], img.layers[2].diff_id, "{format:?}");
        // A copy to an OCI layout keeps our blobs.
        let oci = tempfile::tempdir().unwrap();
        images::skopeo_copy(&format!("dir:{}", dir.path().display()), &format!("oci:{}:t", oci.path().display()), None);
        for l in &img.layers {
            let blob = oci.path().join("blobs/sha256").join(&l.digest[7..]);
            assert_eq!(std::fs::read(&blob).unwrap(), l.gz, "{format:?}");
        }
    }
}

#[test]
fn pushes_reach_the_registry_verbatim_and_the_tamper_breaks_the_digest() {
    if !require("/usr/bin/skopeo", "skopeo") || !require(images::BUSYBOX, "busybox-static") {
        return;
    }
    let reg = TestRegistry::start(RegistryAuth::None);
    let img = images::busybox();
    let schema2 = img.push(&reg.host, None, "busybox", "latest", Format::Schema2);
    let oci = img.push(&reg.host, None, "busybox-oci", "latest", Format::Oci);
    for p in [&schema2, &oci] {
        let served = images::registry_manifest(&p.reference, None);
        assert_eq!(served, p.manifest, "{}", p.reference);
        assert_eq!(sha256(&served), p.manifest_digest);
    }
    assert_ne!(schema2.manifest_digest, oci.manifest_digest);
    assert_eq!(schema2.image_id, oci.image_id);

    let (amd, arm, list) = images::push_manifest_list(&reg.host, "multiarch", "latest");
    let served = images::registry_manifest(&format!("{}/multiarch:latest", reg.host), None);
    assert_eq!(sha256(&served), list);
    assert_ne!(amd.image_id, arm.image_id);

    images::tamper_manifest(reg.storage_dir(), &schema2.manifest_digest);
    let served = images::registry_manifest(&schema2.reference, None);
    assert_eq!(served.len(), schema2.manifest.len());
    assert_ne!(sha256(&served), schema2.manifest_digest, "the registry now serves bytes that miss their digest");
    let parsed: serde_json::Value = serde_json::from_slice(&served).unwrap();
    assert_eq!(parsed["config"]["digest"], schema2.image_id.as_str());
}

#[test]
fn dockerd_starts_answers_and_is_cleaned_up() {
    if !require(DOCKERD, "dockerd 20.10 (docker.io)") || !require(REAL_CLI, "the docker CLI v28") {
        return;
    }
    let d = Dockerd::start();
    let v = ok(&d.cli(&["version", "--format", "{{.Server.Version}}"]));
    assert!(v.starts_with("20.10."), "{v}");
    let pid = d.pid();
    let kids = common::dockerd::descendants(pid);
    assert!(!kids.is_empty(), "dockerd runs its own containerd");
    let dir = d.dir.path().to_path_buf();
    drop(d);
    for p in std::iter::once(pid).chain(kids) {
        let stat = std::fs::read_to_string(format!("/proc/{p}/stat")).unwrap_or_default();
        // Gone, or a zombie of a dead parent being reaped.
        assert!(stat.is_empty() || stat.contains(") Z "), "pid {p} still running: {stat}");
    }
    assert!(!dir.exists(), "{} removed", dir.display());
    let mounts = std::fs::read_to_string("/proc/self/mounts").unwrap();
    assert!(!mounts.contains(dir.to_str().unwrap()), "{mounts}");
}

#[test]
fn the_big_image_is_about_100_mb_over_five_layers() {
    let t = std::time::Instant::now();
    let big = images::big(100, 5);
    let tar: usize = big.layers.iter().map(|l| l.tar.len()).sum();
    let gz: usize = big.layers.iter().map(|l| l.gz.len()).sum();
    assert_eq!(big.layers.len(), 5);
    assert!((100_000_000..102_000_000).contains(&tar), "{tar}");
    assert!((60_000_000..80_000_000).contains(&gz), "60% incompressible, 40% text: {gz}");
    eprintln!("built in {:?}: {tar} bytes of tar, {gz} gzip'd", t.elapsed());
}
