//! Every image command end to end through real clients — the docker CLI
//! v28, our own client and docker-py 7.2 — against a daemon on a temporary
//! root and a real registry (distribution 2.8) on loopback seeded with a
//! busybox image we built: pull, images, inspect, tag, history, save, rmi,
//! load, push to a new repository, and a pull of that back into a fresh
//! root with the same image id and the same layer contents.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::image_tools::{
    diff_ids, docker_py_json, fails, in_layers, inspect, ok, ours_at, repo_tags, root, save_manifest,
};
use common::images::{self, Format, Pushed, sha256, sha256_file};
use common::registry::{RegistryAuth, TestRegistry};
use common::{Daemon, REAL_CLI, require};

/// Which client drives the daemon.
#[derive(Clone, Copy, Debug)]
enum Client {
    Real,
    Ours,
}

struct Run<'a> {
    d: &'a Daemon,
    client: Client,
    home: PathBuf,
}

impl Run<'_> {
    fn cmd(&self, args: &[&str]) -> Output {
        match self.client {
            Client::Real => self.d.real_cli(args),
            Client::Ours => ours_at(self.d, &self.home, args),
        }
    }
}

fn tools_present() -> bool {
    require("/usr/bin/skopeo", "skopeo")
        && require("/usr/bin/docker-registry", "docker-registry (distribution 2.8)")
        && require(images::BUSYBOX, "busybox-static")
}

/// The pulled image is the one in the registry, byte for byte: its id is
/// the config digest, its layers are our diff ids, and `bin/busybox` in the
/// driver's layer directory is Debian's binary.
fn assert_is_busybox(d: &Daemon, name: &str, pushed: &Pushed) {
    let v = inspect(d, name);
    assert_eq!(v["Id"], pushed.image_id.as_str(), "{name}: {v}");
    assert_eq!(diff_ids(&v), pushed.diff_ids, "{name}");
    assert_eq!(v["Architecture"], "amd64");
    assert_eq!(v["Os"], "linux");
    assert_eq!(v["Config"]["Cmd"], serde_json::json!(["sh"]));
    assert_eq!(v["Config"]["Labels"]["org.example.seeded-by"], "tests");
    let copies = in_layers(&root(d), "bin/busybox");
    assert!(!copies.is_empty(), "no bin/busybox in any layer under {}", root(d).display());
    let want = sha256_file(Path::new(images::BUSYBOX));
    for c in &copies {
        assert_eq!(sha256_file(c), want, "{}", c.display());
    }
    let sh = in_layers(&root(d), "bin/sh");
    assert!(sh.iter().all(|p| std::fs::read_link(p).is_ok_and(|t| t == Path::new("busybox"))), "{sh:?}");
}

/// The whole round trip with one client. Details are read over the API
/// (client-independent); each command's own output is checked where both
/// clients print the same thing.
fn round_trip(client: Client) {
    let reg = TestRegistry::start(RegistryAuth::None);
    let pushed = images::busybox().push(&reg.host, None, "busybox", "latest", Format::Schema2);
    let host = reg.host.as_str();
    let d = Daemon::start();
    let home = tempfile::tempdir().unwrap();
    let run = Run { d: &d, client, home: home.path().to_path_buf() };
    let short = &pushed.image_id[7..19];

    // pull
    let out = ok(&run.cmd(&["pull", &format!("{host}/busybox")]));
    assert!(out.contains(&format!("Status: Downloaded newer image for {host}/busybox:latest")), "{client:?}: {out}");
    assert_is_busybox(&d, &format!("{host}/busybox:latest"), &pushed);
    let v = inspect(&d, &format!("{host}/busybox"));
    let digests: Vec<&str> = v["RepoDigests"].as_array().unwrap().iter().filter_map(|x| x.as_str()).collect();
    assert!(digests.contains(&format!("{host}/busybox@{}", pushed.manifest_digest).as_str()), "{v}");
    assert_eq!(v["Size"].as_u64().unwrap(), v["VirtualSize"].as_u64().unwrap_or(v["Size"].as_u64().unwrap()));
    assert!(v["Size"].as_u64().unwrap() >= std::fs::metadata(images::BUSYBOX).unwrap().len(), "{v}");

    // A second pull downloads nothing.
    let out = ok(&run.cmd(&["pull", &format!("{host}/busybox:latest")]));
    assert!(out.contains("Image is up to date for"), "{client:?}: {out}");
    assert!(!out.contains("Downloading") && !out.contains("Pull complete"), "{client:?}: {out}");

    // images
    let out = ok(&run.cmd(&["images"]));
    let row = out.lines().find(|l| l.starts_with(&format!("{host}/busybox "))).unwrap_or_else(|| panic!("{out}"));
    assert!(row.split_whitespace().nth(1) == Some("latest") && row.contains(short), "{client:?}: {out}");
    let out = ok(&run.cmd(&["images", "-q", "--no-trunc"]));
    assert_eq!(out.trim(), pushed.image_id, "{client:?}");

    // inspect (the client's own JSON)
    let out = ok(&run.cmd(&["inspect", &format!("{host}/busybox")]));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{client:?}: {e}: {out}"));
    assert_eq!(v[0]["Id"], pushed.image_id.as_str(), "{client:?}: {out}");

    // tag
    ok(&run.cmd(&["tag", &format!("{host}/busybox"), "mine/bb:v1"]));
    assert_eq!(inspect(&d, "mine/bb:v1")["Id"], pushed.image_id.as_str());
    let tags = repo_tags(&d);
    assert!(tags.contains("mine/bb:v1") && tags.contains(&format!("{host}/busybox:latest")), "{tags:?}");

    // history
    let out = ok(&run.cmd(&["history", "--no-trunc", "mine/bb:v1"]));
    let first = out.lines().nth(1).unwrap_or_else(|| panic!("{client:?}: {out}"));
    assert!(first.contains(&pushed.image_id[7..]), "{client:?}: {out}");
    assert!(out.contains("ADD file:"), "{client:?}: {out}");

    // save
    let saved = home.path().join("bb.tar");
    ok(&run.cmd(&["save", "-o", saved.to_str().unwrap(), "mine/bb:v1", &format!("{host}/busybox:latest")]));
    let m = save_manifest(&saved);
    let m0 = &m[0];
    assert_eq!(m0["Config"].as_str().map(|c| c.trim_end_matches(".json")), Some(&pushed.image_id[7..]), "{m}");
    let repo_tags_saved: Vec<&str> = m0["RepoTags"].as_array().unwrap().iter().filter_map(|t| t.as_str()).collect();
    assert!(repo_tags_saved.contains(&"mine/bb:v1"), "{m}");
    assert_eq!(m0["Layers"].as_array().unwrap().len(), 1, "{m}");

    // rmi: untag, then delete
    let out = ok(&run.cmd(&["rmi", "mine/bb:v1"]));
    assert!(out.contains("Untagged: mine/bb:v1"), "{client:?}: {out}");
    assert!(!out.contains("Deleted"), "still tagged elsewhere: {out}");
    let out = ok(&run.cmd(&["rmi", &format!("{host}/busybox")]));
    assert!(out.contains(&format!("Deleted: {}", pushed.image_id)), "{client:?}: {out}");
    assert!(ok(&run.cmd(&["images", "-q"])).trim().is_empty());
    assert!(in_layers(&root(&d), "bin/busybox").is_empty(), "layer data goes with the image");
    let (status, _) = d.http("GET", "/v1.24/images/mine/bb:v1/json", "");
    assert_eq!(status, 404);

    // load
    ok(&run.cmd(&["load", "-i", saved.to_str().unwrap()]));
    assert_is_busybox(&d, "mine/bb:v1", &pushed);
    assert_eq!(inspect(&d, &format!("{host}/busybox:latest"))["Id"], pushed.image_id.as_str());

    // push to a new repository, then pull it back into a fresh root.
    let copy = format!("{host}/copies/bb:v2");
    ok(&run.cmd(&["tag", "mine/bb:v1", &copy]));
    let out = ok(&run.cmd(&["push", &copy]));
    assert!(out.contains("v2: digest: sha256:"), "{client:?}: {out}");
    let served = images::registry_manifest(&copy, None);
    assert!(out.contains(&sha256(&served)), "the push reports the manifest digest the registry serves: {out}");
    let m: serde_json::Value = serde_json::from_slice(&served).unwrap();
    assert_eq!(m["config"]["digest"], pushed.image_id.as_str(), "the config travels unchanged");

    let fresh = Daemon::start();
    let fresh_run = Run { d: &fresh, client, home: home.path().to_path_buf() };
    ok(&fresh_run.cmd(&["pull", &copy]));
    assert_is_busybox(&fresh, &copy, &pushed);
    assert_eq!(inspect(&fresh, &copy)["Id"], inspect(&d, &copy)["Id"]);
    let ours: Vec<String> = in_layers(&root(&d), "bin/busybox").iter().map(|p| sha256_file(p)).collect();
    let theirs: Vec<String> = in_layers(&root(&fresh), "bin/busybox").iter().map(|p| sha256_file(p)).collect();
    assert_eq!(ours, theirs);
}

#[test]
fn the_docker_cli_pulls_inspects_tags_saves_loads_removes_and_pushes() {
    if !tools_present() || !require(REAL_CLI, "the docker CLI v28") {
        return;
    }
    round_trip(Client::Real);
}

#[test]
fn our_client_pulls_inspects_tags_saves_loads_removes_and_pushes() {
    if !tools_present() {
        return;
    }
    round_trip(Client::Ours);
}

#[test]
fn the_docker_cli_reads_image_fields_by_template() {
    if !tools_present() || !require(REAL_CLI, "the docker CLI v28") {
        return;
    }
    let reg = TestRegistry::start(RegistryAuth::None);
    let pushed = images::busybox().push(&reg.host, None, "busybox", "1.0", Format::Schema2);
    let d = Daemon::start();
    ok(&d.real_cli(&["pull", &pushed.reference]));
    let out = ok(&d.real_cli(&["inspect", "-f", "{{.Id}} {{json .RootFS.Layers}} {{.Config.Cmd}}", &pushed.reference]));
    assert_eq!(out.trim(), format!("{} {} [sh]", pushed.image_id, serde_json::to_string(&pushed.diff_ids).unwrap()));
    let out = ok(&d.real_cli(&["images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}"]));
    assert_eq!(out.trim(), format!("{} {}", pushed.reference, &pushed.image_id[7..19]));
    let out = ok(&d.real_cli(&["image", "ls", "--digests", "--format", "{{.Digest}}"]));
    assert_eq!(out.trim(), pushed.manifest_digest);
    let out = ok(&d.real_cli(&["history", "--format", "{{.CreatedBy}}", &pushed.reference]));
    assert!(out.trim().starts_with("/bin/sh -c #(nop) ADD file:"), "{out}");
}

#[test]
fn docker_py_pulls_lists_gets_tags_and_removes() {
    let Some(python) = common::docker_py() else { return };
    if !tools_present() {
        return;
    }
    let reg = TestRegistry::start(RegistryAuth::None);
    let pushed = images::busybox().push(&reg.host, None, "busybox", "latest", Format::Oci);
    let d = Daemon::start();
    let script = r#"
name = sys.argv[2]
img = c.images.pull(name, tag='latest')
out = {"pulled": img.id, "tags": img.tags}
out["list"] = sorted(t for i in c.images.list() for t in i.tags)
got = c.images.get(name + ':latest')
out["get"] = got.id
out["attrs_layers"] = got.attrs["RootFS"]["Layers"]
out["tag_ok"] = got.tag('pytest/renamed', tag='v1')
out["after_tag"] = sorted(c.images.get('pytest/renamed:v1').tags)
c.images.remove('pytest/renamed:v1')
out["after_untag"] = sorted(t for i in c.images.list() for t in i.tags)
c.images.remove(name + ':latest')
out["after_remove"] = [i.id for i in c.images.list()]
try:
    c.images.get(name + ':latest')
    out["gone"] = False
except docker.errors.ImageNotFound as e:
    out["gone"] = True
print(json.dumps(out))
"#;
    let got = docker_py_json(&python, &d, script, &[&pushed.name]);
    let reference = format!("{}:latest", pushed.name);
    assert_eq!(got["pulled"], pushed.image_id.as_str(), "{got}");
    assert_eq!(got["tags"], serde_json::json!([reference]), "{got}");
    assert_eq!(got["list"], serde_json::json!([reference]), "{got}");
    assert_eq!(got["get"], pushed.image_id.as_str());
    assert_eq!(got["attrs_layers"], serde_json::json!(pushed.diff_ids));
    assert_eq!(got["tag_ok"], true);
    let mut both = vec![reference.clone(), "pytest/renamed:v1".to_string()];
    both.sort();
    assert_eq!(got["after_tag"], serde_json::json!(both));
    assert_eq!(got["after_untag"], serde_json::json!([reference]));
    assert_eq!(got["after_remove"], serde_json::json!([]));
    assert_eq!(got["gone"], true);
}

#[test]
fn unknown_images_and_bad_names_get_clear_errors_from_every_client() {
    let d = Daemon::start();
    let home = tempfile::tempdir().unwrap();
    let err = fails(&ours_at(&d, home.path(), &["inspect", "nosuch"]));
    // A bare inspect looks for an image or a container (1.2: "No such image
    // or container", later clients: "No such object").
    assert!(err.contains("No such image or container: nosuch") || err.contains("No such object: nosuch"), "{err}");
    let err = fails(&ours_at(&d, home.path(), &["rmi", "nosuch"]));
    assert!(err.contains("No such image: nosuch"), "{err}");
    if require(REAL_CLI, "the docker CLI v28") {
        let err = fails(&d.real_cli(&["image", "inspect", "nosuch"]));
        assert!(err.contains("No such image: nosuch"), "{err}");
        let err = fails(&d.real_cli(&["tag", "nosuch", "other"]));
        assert!(err.contains("No such image: nosuch"), "{err}");
    }
    ok(&d.client(&["version"]));
}

/// Serves `body` once over HTTP on loopback; returns the URL.
fn serve_once(body: Vec<u8>) -> (String, std::thread::JoinHandle<()>) {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/rootfs.tar.gz", listener.local_addr().unwrap());
    let server = std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut line = String::new();
        while reader.read_line(&mut line).unwrap() > 2 {
            line.clear();
        }
        let mut stream = stream;
        write!(stream, "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len()).unwrap();
        stream.write_all(&body).unwrap();
    });
    (url, server)
}

#[test]
fn import_takes_a_url_or_the_request_body() {
    let d = Daemon::start();
    let home = tempfile::tempdir().unwrap();
    let layer = images::busybox_layer();

    // From a URL (gzip'd): the layer's diff ID is the uncompressed tar's.
    let (url, server) = serve_once(layer.gz.clone());
    let out = ok(&ours_at(&d, home.path(), &["import", &url, "imported/url:v1"]));
    server.join().unwrap();
    assert!(out.contains(&format!("Downloading from {url}")), "{out}");
    let image = inspect(&d, "imported/url:v1");
    assert_eq!(Some(image["Id"].as_str().unwrap()), out.lines().last());
    assert_eq!(diff_ids(&image), std::slice::from_ref(&layer.diff_id));
    assert_eq!(image["Comment"], format!("Imported from {url}"));

    // From stdin (plain tar), with a change.
    let tar = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(tar.path(), &layer.tar).unwrap();
    let out = Command::new(common::docker_bin())
        .args(["-H", &d.host(), "import", "--change", "CMD [\"sh\"]", "-", "imported/stdin"])
        .env("HOME", home.path())
        .stdin(std::fs::File::open(tar.path()).unwrap())
        .output()
        .unwrap();
    ok(&out);
    let image = inspect(&d, "imported/stdin:latest");
    assert_eq!(diff_ids(&image), std::slice::from_ref(&layer.diff_id));
    assert_eq!(image["Config"]["Cmd"], serde_json::json!(["sh"]));

    // A URL that does not answer is a clear error, and the daemon goes on.
    let dead = format!("http://127.0.0.1:{}/x.tar", common::free_port());
    let err = fails(&ours_at(&d, home.path(), &["import", &dead, "imported/dead"]));
    assert!(err.contains(&dead), "{err}");
    ok(&d.client(&["version"]));
}
