//! Volumes end to end, with the real docker CLI v28 and our own client
//! against a busybox image imported from a local tar: `-v /data` makes a
//! directory under `<root>/volumes` whose data outlives `restart`, is shared
//! by `--volumes-from` (read-only with `:ro`), and goes with `rm -v` once
//! no other container uses it; an image `VOLUME` starts with the image's
//! content; binds show host files; a named volume is shared by name and
//! kept by `rm -v`; inspect's `Mounts` lists all of them; and a restarted
//! daemon mounts the same volumes again.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::image_tools::{import_busybox, ok, real_cli_within, restart};
use common::images;
use common::{Daemon, REAL_CLI, require, stderr, stdout};

fn cli(d: &Daemon, args: &[&str]) -> Output {
    real_cli_within(d, args, 60)
}

fn tools_present() -> bool {
    require(REAL_CLI, "the docker CLI v28") && require(images::BUSYBOX, "busybox-static")
}

fn inspect(d: &Daemon, name: &str) -> serde_json::Value {
    let text = ok(&cli(d, &["inspect", name]));
    let v: serde_json::Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    v[0].clone()
}

fn volumes_dir(d: &Daemon) -> PathBuf {
    d.dir.path().join("root/volumes")
}

/// The one volume mount of `name`, checked against the local driver's
/// layout: (volume name, its `_data`).
fn only_volume(d: &Daemon, name: &str, destination: &str) -> (String, PathBuf) {
    let c = inspect(d, name);
    let mounts = c["Mounts"].as_array().unwrap_or_else(|| panic!("{c}"));
    let m = mounts.iter().find(|m| m["Destination"] == destination).unwrap_or_else(|| panic!("{c}"));
    assert_eq!(
        (m["Type"].as_str(), m["Driver"].as_str(), m["RW"].as_bool()),
        (Some("volume"), Some("local"), Some(true))
    );
    let vol = m["Name"].as_str().unwrap().to_string();
    assert!(vol.len() == 64 && vol.bytes().all(|b| b.is_ascii_hexdigit()), "{vol}");
    let data = volumes_dir(d).join(&vol).join("_data");
    assert_eq!(m["Source"].as_str(), Some(data.to_str().unwrap()), "{m}");
    (vol, data)
}

#[test]
fn volumes_persist_are_shared_and_are_removed_with_rm_v() {
    if !tools_present() {
        return;
    }
    let d = Daemon::start();
    import_busybox(&d);

    let out = cli(&d, &["run", "--name", "vw", "-v", "/data", "busybox", "sh", "-c", "echo run >> /data/f"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let (vol, data) = only_volume(&d, "vw", "/data");
    assert_eq!(inspect(&d, "vw")["Config"]["Volumes"], serde_json::json!({"/data": {}}));
    assert_eq!(std::fs::read_to_string(data.join("f")).unwrap(), "run\n");
    ok(&cli(&d, &["restart", "vw"]));
    assert_eq!(ok(&cli(&d, &["wait", "vw"])).trim(), "0");
    assert_eq!(std::fs::read_to_string(data.join("f")).unwrap(), "run\nrun\n", "the data survived the restart");

    // --volumes-from, with the real CLI and ours; `:ro` makes it read-only.
    assert_eq!(ok(&cli(&d, &["run", "--rm", "--volumes-from", "vw", "busybox", "cat", "/data/f"])), "run\nrun\n");
    assert_eq!(ok(&d.client(&["run", "--rm", "--volumes-from", "vw", "busybox", "cat", "/data/f"])), "run\nrun\n");
    let out = cli(&d, &["run", "--rm", "--volumes-from", "vw:ro", "busybox", "sh", "-c", "echo x > /data/g"]);
    assert_ne!(out.status.code(), Some(0));
    assert!(stderr(&out).contains("Read-only file system"), "{}", stderr(&out));
    assert!(!data.join("g").exists());
    ok(&cli(&d, &["create", "--name", "keep", "--volumes-from", "vw", "busybox", "true"]));
    assert_eq!(only_volume(&d, "keep", "/data").0, vol);

    // `rm -v` leaves a volume another container uses, and removes it with
    // the last one; plain `rm` keeps it.
    ok(&cli(&d, &["rm", "-v", "vw"]));
    assert!(data.is_dir(), "still used by keep");
    ok(&cli(&d, &["rm", "-v", "keep"]));
    assert!(!volumes_dir(&d).join(&vol).exists(), "rm -v removed the volume");
    ok(&d.client(&["create", "--name", "plain", "-v", "/p", "busybox", "true"]));
    let (_, plain) = only_volume(&d, "plain", "/p");
    ok(&d.client(&["rm", "plain"]));
    assert!(plain.is_dir(), "plain rm keeps the volume");
    std::fs::remove_dir_all(plain.parent().unwrap()).unwrap();

    // Errors: dockerd's texts.
    let out = cli(&d, &["create", "--volumes-from", "nosuch", "busybox", "true"]);
    assert!(stderr(&out).contains("No such container: nosuch"), "{}", stderr(&out));
    let out = cli(&d, &["create", "-v", "bad/name:/x", "busybox", "true"]);
    assert!(stderr(&out).contains("invalid characters for a local volume name"), "{}", stderr(&out));
    assert_eq!(stdout(&cli(&d, &["ps", "-aq"])), "");
}

#[test]
fn named_volumes_are_shared_by_name_and_kept_by_rm_v() {
    if !tools_present() {
        return;
    }
    let d = Daemon::start();
    import_busybox(&d);
    ok(&cli(&d, &["run", "--name", "n1", "-v", "shared:/x", "busybox", "sh", "-c", "echo one > /x/f"]));
    let out = d.client(&["run", "--name", "n2", "-v", "shared:/y:ro", "busybox", "sh", "-c", "cat /y/f; touch /y/g"]);
    assert_eq!(stdout(&out), "one\n");
    assert!(stderr(&out).contains("Read-only file system"), "{}", stderr(&out));
    let data = volumes_dir(&d).join("shared/_data");
    let m = &inspect(&d, "n2")["Mounts"][0];
    assert_eq!(
        (m["Type"].as_str(), m["Name"].as_str(), m["Source"].as_str(), m["RW"].as_bool()),
        (Some("volume"), Some("shared"), data.to_str(), Some(false)),
        "{m}"
    );
    ok(&cli(&d, &["rm", "-v", "n1", "n2"]));
    assert_eq!(std::fs::read_to_string(data.join("f")).unwrap(), "one\n", "rm -v keeps named volumes");
}

#[test]
fn image_volumes_start_with_the_image_content_and_binds_show_host_files() {
    if !tools_present() {
        return;
    }
    let d = Daemon::start();
    import_busybox(&d);
    ok(&cli(
        &d,
        &["run", "--name", "seed", "busybox", "sh", "-c", "mkdir /vol && echo seeded > /vol/s && chmod 750 /vol"],
    ));
    ok(&cli(&d, &["commit", "-c", "VOLUME /vol", "seed", "volimg"]));
    ok(&cli(&d, &["rm", "seed"]));

    let out = cli(&d, &["run", "--name", "fromimg", "volimg", "sh", "-c", "cat /vol/s; stat -c %a /vol"]);
    assert_eq!(ok(&out), "seeded\n750\n");
    let (_, data) = only_volume(&d, "fromimg", "/vol");
    assert_eq!(std::fs::read_to_string(data.join("s")).unwrap(), "seeded\n");

    // A bind, read-only; a writable one shows the container's writes.
    let host = d.dir.path().join("hostdir");
    std::fs::create_dir(&host).unwrap();
    std::fs::write(host.join("h"), "from host\n").unwrap();
    let spec = format!("{}:/mnt:ro", host.display());
    let out = cli(&d, &["run", "--name", "bound", "-v", &spec, "busybox", "sh", "-c", "cat /mnt/h; echo x > /mnt/y"]);
    assert_eq!(stdout(&out), "from host\n");
    assert!(stderr(&out).contains("Read-only file system"), "{}", stderr(&out));
    let mounts = &inspect(&d, "bound")["Mounts"];
    assert_eq!(mounts.as_array().unwrap().len(), 1, "{mounts}");
    let m = &mounts[0];
    assert_eq!(
        (m["Type"].as_str(), m["Source"].as_str(), m["Destination"].as_str(), m["RW"].as_bool(), m["Mode"].as_str()),
        (Some("bind"), host.to_str(), Some("/mnt"), Some(false), Some("ro")),
        "{m}"
    );
    let spec = format!("{}:/mnt", host.display());
    ok(&d.client(&["run", "--rm", "-v", &spec, "busybox", "sh", "-c", "echo back > /mnt/w"]));
    assert_eq!(std::fs::read_to_string(host.join("w")).unwrap(), "back\n");

    // A volume path through an absolute symlink of the image resolves in
    // the container: it is filled from the image's /etc, not the host's.
    ok(&cli(&d, &["run", "--name", "lnk", "busybox", "ln", "-s", "/etc", "/lnk"]));
    ok(&cli(&d, &["commit", "-c", "VOLUME /lnk", "lnk", "lnkimg"]));
    let out = cli(&d, &["run", "--rm", "lnkimg", "sh", "-c", "cat /lnk/passwd; echo w > /lnk/new; ls /etc/new"]);
    assert_eq!(
        ok(&out),
        "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n/etc/new\n",
        "{}",
        stderr(&out)
    );

    ok(&cli(&d, &["rm", "-v", "fromimg", "bound", "lnk"]));
    assert!(!data.exists());
    ok(&cli(&d, &["rmi", "volimg", "lnkimg"]));
}

#[test]
fn volumes_stay_attached_across_a_daemon_restart() {
    if !tools_present() {
        return;
    }
    let d = Daemon::start();
    import_busybox(&d);
    let host = d.dir.path().join("hostdir");
    std::fs::create_dir(&host).unwrap();
    let spec = format!("{}:/mnt", host.display());
    let script = "cat /data/f 2>/dev/null; echo x >> /data/f; echo y >> /mnt/f";
    let out = cli(&d, &["run", "--name", "pv", "-v", "/data", "-v", &spec, "busybox", "sh", "-c", script]);
    assert_eq!((out.status.code(), stdout(&out).as_str()), (Some(0), ""), "{}", stderr(&out));
    let before = inspect(&d, "pv")["Mounts"].clone();

    let d = restart(d, &[]);
    assert_eq!(inspect(&d, "pv")["Mounts"], before);
    assert_eq!(ok(&cli(&d, &["start", "-a", "pv"])), "x\n");
    assert_eq!(std::fs::read_to_string(host.join("f")).unwrap(), "y\ny\n");
    let (_, data) = only_volume(&d, "pv", "/data");
    ok(&cli(&d, &["rm", "-v", "pv"]));
    assert!(!data.exists());
    assert!(Path::new(&host).join("f").exists(), "rm -v leaves binds alone");
}
