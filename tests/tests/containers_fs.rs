//! A container's file system end to end, with the real docker CLI v28 and
//! our own client: `diff` (A/C/D lines), `export` (the merged root as a
//! tar), `cp` both ways for files and directories on running and stopped
//! containers, the archive endpoints' stat header and errors, and tars
//! that try to write outside the container's root.

mod common;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use common::image_tools::{import_busybox, ok, output_within, real_cli_within, wait_within};
use common::images;
use common::{Daemon, REAL_CLI, docker_bin, require, stderr};

const PASSWD: &[u8] = b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n";

fn tools_present() -> bool {
    require(REAL_CLI, "the docker CLI v28") && require(images::BUSYBOX, "busybox-static")
}

/// The real CLI, killed after 60 s so a hang fails the test.
fn real(d: &Daemon, args: &[&str]) -> Output {
    real_cli_within(d, args, 60)
}

/// Our client, killed after 60 s.
fn ours(d: &Daemon, args: &[&str]) -> Output {
    output_within(Command::new(docker_bin()).arg("-H").arg(d.host()).args(args), 60)
}

/// One of the two clients, by name, so each check runs with both.
fn client(which: &str) -> fn(&Daemon, &[&str]) -> Output {
    if which == "real" { real } else { ours }
}

/// A client's stdout written to `file` (`docker export c > file`).
fn to_file(d: &Daemon, which: &str, args: &[&str], file: &Path) -> Output {
    let mut cmd = if which == "real" {
        d.real_cli_command()
    } else {
        let mut c = Command::new(docker_bin());
        c.arg("-H").arg(d.host());
        c
    };
    cmd.args(args).stdin(Stdio::null()).stdout(std::fs::File::create(file).unwrap()).stderr(Stdio::piped());
    let what = format!("{cmd:?}");
    wait_within(cmd.spawn().unwrap(), 60, &what)
}

fn mounts_of(id: &str) -> usize {
    std::fs::read_to_string("/proc/self/mountinfo").unwrap().lines().filter(|l| l.contains(id)).count()
}

fn id_of(d: &Daemon, name: &str) -> String {
    ok(&real(d, &["inspect", "-f", "{{.Id}}", name])).trim().to_string()
}

/// Every regular file of a tar: name → contents; directories → empty.
fn tar_entries(bytes: &[u8]) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    for e in tar::Archive::new(bytes).entries().unwrap() {
        let mut e = e.unwrap();
        let name = e.path().unwrap().display().to_string().trim_end_matches('/').to_string();
        let mut data = Vec::new();
        e.read_to_end(&mut data).unwrap();
        out.insert(name, data);
    }
    out
}

/// One raw HTTP/1.0 request: (status, head, body).
fn raw(d: &Daemon, method: &str, path: &str, body: &[u8]) -> (u16, String, Vec<u8>) {
    let mut s = UnixStream::connect(&d.socket).unwrap();
    write!(s, "{method} {path} HTTP/1.0\r\nHost: docker\r\nContent-Type: application/x-tar\r\n").unwrap();
    write!(s, "Content-Length: {}\r\n\r\n", body.len()).unwrap();
    s.write_all(body).unwrap();
    let mut answer = Vec::new();
    s.read_to_end(&mut answer).unwrap();
    let split = answer.windows(4).position(|w| w == b"\r\n\r\n").unwrap_or(answer.len());
    let head = String::from_utf8_lossy(&answer[..split]).into_owned();
    let body = answer.get(split + 4..).unwrap_or_default().to_vec();
    let status = head.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    (status, head, body)
}

/// The decoded `X-Docker-Container-Path-Stat` of a response head.
fn path_stat(head: &str) -> serde_json::Value {
    let line = head
        .lines()
        .find_map(|l| l.split_once(':').filter(|(k, _)| k.eq_ignore_ascii_case("x-docker-container-path-stat")))
        .unwrap_or_else(|| panic!("no stat header in {head}"))
        .1
        .trim();
    serde_json::from_slice(&base64_decode(line)).unwrap()
}

/// Standard base64 with padding (the header's encoding).
fn base64_decode(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0);
    for c in text.bytes().filter(|c| *c != b'=') {
        let v = ALPHABET.iter().position(|a| *a == c).unwrap_or_else(|| panic!("not base64: {text}"));
        acc = (acc << 6) | v as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

/// A tar whose entries are written exactly as given (names with `..`,
/// links anywhere), as an attacker would.
fn evil_tar(entries: &[(&str, tar::EntryType, &str, &[u8])]) -> Vec<u8> {
    let mut b = images::LayerBuilder::new();
    for (name, kind, link, data) in entries {
        b.entry(name, *kind, link, 0o644, data);
    }
    b.finish().tar
}

#[test]
fn diff_and_export_show_what_a_container_changed() {
    if !tools_present() {
        return;
    }
    let d = Daemon::start();
    import_busybox(&d);
    let work = tempfile::tempdir().unwrap();

    ok(&real(&d, &["run", "--name", "done", "busybox", "sh", "-c", "touch /tmp/new && rm /etc/group"]));
    let expected = "C /etc\nD /etc/group\nC /tmp\nA /tmp/new\n";
    for which in ["real", "ours"] {
        assert_eq!(ok(&client(which)(&d, &["diff", "done"])), expected, "{which} client");

        let tar = work.path().join(format!("{which}.tar"));
        ok(&to_file(&d, which, &["export", "done"], &tar));
        let files = tar_entries(&std::fs::read(&tar).unwrap());
        let busybox = std::fs::read(images::BUSYBOX).unwrap();
        assert!(files.get("bin/busybox") == Some(&busybox), "{which}: {:?}", files.keys().take(20).collect::<Vec<_>>());
        assert!(files.contains_key("tmp/new") && !files.contains_key("etc/group"), "{:?}", files.keys());
        assert_eq!(files.get("etc/passwd").map(Vec::as_slice), Some(PASSWD));

        let out = client(which)(&d, &["export", "nosuch"]);
        assert!(!out.status.success() && stderr(&out).contains("No such container: nosuch"), "{}", stderr(&out));
    }
    let out_file = work.path().join("o.tar");
    ok(&real(&d, &["export", "-o", out_file.to_str().unwrap(), "done"]));
    assert!(tar_entries(&std::fs::read(&out_file).unwrap()).contains_key("tmp/new"));
    ok(&ours(&d, &["export", "-o", out_file.to_str().unwrap(), "done"]));
    assert!(tar_entries(&std::fs::read(&out_file).unwrap()).contains_key("tmp/new"));
    let done = id_of(&d, "done");
    assert_eq!(mounts_of(&done), 0, "diff and export of a stopped container leave no mount behind");
    let until = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() + 1;
    let filter = format!("container={done}");
    let args =
        ["events", "--since", "1", "--until", &until.to_string(), "--filter", &filter, "--format", "{{.Action}}"];
    let events = ok(&real(&d, &args));
    assert!(events.lines().any(|a| a == "export"), "{events}");

    // A running container: what exec wrote shows at once.
    ok(&real(&d, &["run", "-d", "--name", "live", "busybox", "sleep", "300"]));
    ok(&real(&d, &["exec", "live", "sh", "-c", "echo hi > /tmp/live"]));
    for which in ["real", "ours"] {
        assert_eq!(ok(&client(which)(&d, &["diff", "live"])), "C /tmp\nA /tmp/live\n", "{which} client");
        let tar = work.path().join(format!("live-{which}.tar"));
        ok(&to_file(&d, which, &["export", "live"], &tar));
        assert_eq!(tar_entries(&std::fs::read(&tar).unwrap()).get("tmp/live").map(Vec::as_slice), Some(&b"hi\n"[..]));
    }
    assert_eq!(ok(&real(&d, &["exec", "live", "cat", "/tmp/live"])), "hi\n", "the container still runs");
    let out = ours(&d, &["diff", "nosuch"]);
    assert!(stderr(&out).contains("No such container: nosuch"), "{}", stderr(&out));

    ok(&real(&d, &["rm", "-f", "done", "live"]));
}

#[test]
fn cp_copies_files_and_directories_both_ways() {
    if !tools_present() {
        return;
    }
    let d = Daemon::start();
    import_busybox(&d);
    ok(&real(&d, &["run", "-d", "--name", "running", "busybox", "sleep", "300"]));
    ok(&real(&d, &["create", "--name", "stopped", "busybox", "sh"]));
    let work = tempfile::tempdir().unwrap();
    let w = |p: &str| work.path().join(p).to_str().unwrap().to_string();
    std::fs::write(w("file"), images::noise(7, 100_000)).unwrap();
    std::fs::create_dir_all(w("dir/sub")).unwrap();
    std::fs::write(w("dir/a"), b"a").unwrap();
    std::fs::write(w("dir/sub/b"), b"b").unwrap();

    for which in ["real", "ours"] {
        let cp = client(which);
        for c in ["running", "stopped"] {
            let tag = format!("{which}-{c}");
            let at = |p: &str| format!("{c}:{p}");

            ok(&cp(&d, &["cp", &at("/etc/passwd"), &w(&format!("passwd-{tag}"))]));
            assert_eq!(std::fs::read(w(&format!("passwd-{tag}"))).unwrap(), PASSWD, "{tag}");
            // The daemon's own file, not the empty mount point in the layer.
            ok(&cp(&d, &["cp", &at("/etc/hostname"), &w(&format!("hostname-{tag}"))]));
            let hostname = ok(&real(&d, &["inspect", "-f", "{{.Config.Hostname}}", c]));
            assert_eq!(std::fs::read_to_string(w(&format!("hostname-{tag}"))).unwrap(), hostname, "{tag}");

            // A file into a directory and back.
            ok(&cp(&d, &["cp", &w("file"), &at("/tmp/")]));
            ok(&cp(&d, &["cp", &at("/tmp/file"), &w(&format!("file-{tag}"))]));
            assert_eq!(std::fs::read(w(&format!("file-{tag}"))).unwrap(), std::fs::read(w("file")).unwrap());
            if c == "running" {
                let seen = ok(&real(&d, &["exec", c, "md5sum", "/tmp/file"]));
                let local = Command::new("md5sum").arg(w("file")).output().unwrap();
                assert_eq!(seen.split_whitespace().next(), ok(&local).split_whitespace().next(), "{tag}");
            }

            // A directory both ways: to a new name, then into an existing
            // directory.
            ok(&cp(&d, &["cp", &w("dir"), &at(&format!("/tmp/dir-{tag}"))]));
            ok(&cp(&d, &["cp", &at(&format!("/tmp/dir-{tag}")), &w(&format!("back-{tag}"))]));
            assert_eq!(std::fs::read(w(&format!("back-{tag}/sub/b"))).unwrap(), b"b");
            std::fs::create_dir(w(&format!("into-{tag}"))).unwrap();
            ok(&cp(&d, &["cp", &at("/etc"), &w(&format!("into-{tag}"))]));
            assert_eq!(std::fs::read(w(&format!("into-{tag}/etc/passwd"))).unwrap(), PASSWD);

            // `-`: the tar itself.
            let tar = work.path().join(format!("{tag}.tar"));
            let out = to_file(&d, which, &["cp", &at("/etc/passwd"), "-"], &tar);
            assert!(out.status.success(), "{}", stderr(&out));
            let files = tar_entries(&std::fs::read(&tar).unwrap());
            assert!(files.get("passwd").map(Vec::as_slice) == Some(PASSWD), "{tag}: {:?}", files.keys());

            let out = cp(&d, &["cp", &at("/nope"), &w("x")]);
            assert!(!out.status.success() && stderr(&out).contains("/nope"), "{tag}: {}", stderr(&out));
            assert!(!work.path().join("x").exists());
        }
        let out = cp(&d, &["cp", &w("file"), "nosuch:/tmp/x"]);
        assert!(!out.status.success() && stderr(&out).contains("nosuch"), "{which}: {}", stderr(&out));
        let out = cp(&d, &["cp", "nosuch:/etc/passwd", &w("y")]);
        assert!(stderr(&out).contains("No such container: nosuch"), "{which}: {}", stderr(&out));
    }
    let (status, _, _) = raw(&d, "HEAD", "/containers/nosuch/archive?path=/etc", b"");
    assert_eq!(status, 404);
    assert_eq!(mounts_of(&id_of(&d, "stopped")), 0, "cp on a stopped container leaves no mount behind");
    ok(&real(&d, &["rm", "-f", "running", "stopped"]));
}

#[test]
fn archive_endpoints_stat_and_refuse_tars_that_escape() {
    if !tools_present() {
        return;
    }
    let d = Daemon::start();
    import_busybox(&d);
    ok(&real(&d, &["run", "-d", "--name", "box", "busybox", "sleep", "300"]));
    let outside = tempfile::tempdir().unwrap();
    let target = outside.path().to_str().unwrap().to_string();

    let (status, head, _) = raw(&d, "HEAD", "/containers/box/archive?path=/tmp", b"");
    assert_eq!(status, 200, "{head}");
    let stat = path_stat(&head);
    assert_eq!(stat["name"], "tmp");
    assert_eq!(stat["mode"].as_u64().unwrap() & (1 << 31), 1 << 31, "{stat}");
    let (_, head, _) = raw(&d, "HEAD", "/containers/box/archive?path=/bin/sh", b"");
    let stat = path_stat(&head);
    assert_eq!(
        (stat["linkTarget"].as_str(), stat["mode"].as_u64().unwrap() & (1 << 27)),
        (Some("/bin/busybox"), 1 << 27)
    );
    let (status, head, body) = raw(&d, "GET", "/v1.24/containers/box/archive?path=/etc/passwd", b"");
    assert_eq!((status, path_stat(&head)["size"].as_u64()), (200, Some(PASSWD.len() as u64)));
    assert_eq!(tar_entries(&body).get("passwd").map(Vec::as_slice), Some(PASSWD));
    let (status, _, body) = raw(&d, "GET", "/v1.24/containers/box/archive?path=/nope", b"");
    assert_eq!(status, 404);
    assert_eq!(String::from_utf8_lossy(&body), "{\"message\":\"Could not find the file /nope in container box\"}");

    // Docker 1.2's copy.
    let (status, _, body) = raw(&d, "POST", "/v1.24/containers/box/copy", br#"{"Resource":"/etc/passwd"}"#);
    assert!(status == 200 && tar_entries(&body).get("passwd").map(Vec::as_slice) == Some(PASSWD), "{status}");
    let (status, _, body) = raw(&d, "POST", "/v1.24/containers/box/copy", br#"{"Resource":"/nope"}"#);
    assert_eq!((status, String::from_utf8_lossy(&body).contains("Could not find the file /nope")), (404, true));

    let put = |path: &str, tar: &[u8]| raw(&d, "PUT", &format!("/v1.24/containers/box/archive?path={path}"), tar);
    let one = evil_tar(&[("x", tar::EntryType::Regular, "", b"x")]);
    assert_eq!(put("/nope", &one).0, 404);
    let (status, _, body) = put("/etc/passwd", &one);
    assert_eq!((status, String::from_utf8_lossy(&body).contains("extraction point is not a directory")), (400, true));

    // `..` out of the directory and the root.
    let up = format!("../../../../../../../../..{target}/dotdot");
    let (status, _, body) = put("/tmp", &evil_tar(&[(&up, tar::EntryType::Regular, "", b"x")]));
    assert_eq!(status, 400, "{}", String::from_utf8_lossy(&body));
    // An absolute symlink, then a write through it.
    let through =
        evil_tar(&[("esc", tar::EntryType::Symlink, &target, b""), ("esc/pwned", tar::EntryType::Regular, "", b"x")]);
    let (status, _, body) = put("/tmp", &through);
    assert_eq!(status, 400, "{}", String::from_utf8_lossy(&body));
    // A symlink the container made, as the target directory and as a
    // parent inside the tar.
    ok(&real(&d, &["exec", "box", "ln", "-s", &target, "/tmp/planted"]));
    let (status, _, _) = put("/tmp/planted", &one);
    assert_eq!(status, 404, "resolved inside the root, where nothing is");
    let (status, _, _) = put("/tmp", &evil_tar(&[("planted/x", tar::EntryType::Regular, "", b"x")]));
    assert_eq!(status, 400);
    assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 0, "nothing written outside the rootfs");

    // The daemon keeps serving, and the container saw the good writes only.
    assert_eq!(put("/tmp", &one).0, 200);
    assert_eq!(ok(&real(&d, &["exec", "box", "cat", "/tmp/x"])), "x");
    // The freeze for the copy leaves a paused container paused.
    ok(&real(&d, &["pause", "box"]));
    assert_eq!(put("/tmp", &evil_tar(&[("y", tar::EntryType::Regular, "", b"y")])).0, 200);
    assert_eq!(ok(&real(&d, &["inspect", "-f", "{{.State.Paused}}", "box"])), "true\n");
    ok(&real(&d, &["unpause", "box"]));
    assert_eq!(ok(&real(&d, &["exec", "box", "cat", "/tmp/y"])), "y");
    assert_eq!(ok(&ours(&d, &["ps", "-q"])).lines().count(), 1);
    ok(&real(&d, &["rm", "-f", "box"]));
}
