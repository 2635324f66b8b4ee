//! Image content the tests build themselves and push to a loopback registry
//! with `skopeo`: layer tars written entry by entry (so a test can make the
//! evil ones a real tool would refuse to write), gzip'd, with an image config
//! and a Docker schema 2 or OCI manifest around them, laid out as skopeo's
//! `dir:` transport and copied verbatim to `docker://<host>/<repo>:<tag>`.
//! The bytes in the registry are ours, so the image id (the config digest),
//! the layer diff ids and the manifest digest are known before any pull.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

/// `sha256:<hex>` of some bytes.
pub fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{:x}", Sha256::digest(bytes))
}

/// `sha256:<hex>` of a file's content.
pub fn sha256_file(path: &Path) -> String {
    sha256(&std::fs::read(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display())))
}

/// One layer: its tar, the gzip'd blob and both digests.
pub struct Layer {
    pub tar: Vec<u8>,
    pub gz: Vec<u8>,
    /// sha256 of the uncompressed tar (what `RootFS.Layers` lists).
    pub diff_id: String,
    /// sha256 of the gzip'd blob (what the manifest lists).
    pub digest: String,
}

/// Writes a layer tar one raw header at a time: names and link targets go
/// into the header as given, with no clean-up, so `../x`, absolute links and
/// whiteout files are written exactly as a test means them.
pub struct LayerBuilder {
    tar: tar::Builder<Vec<u8>>,
    level: flate2::Compression,
}

impl Default for LayerBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl LayerBuilder {
    pub fn new() -> Self {
        LayerBuilder { tar: tar::Builder::new(Vec::new()), level: flate2::Compression::default() }
    }

    /// gzip level for `finish` (0 stores: fast for incompressible data).
    pub fn level(mut self, level: u32) -> Self {
        self.level = flate2::Compression::new(level);
        self
    }

    /// One raw entry.
    pub fn entry(&mut self, name: &str, kind: tar::EntryType, link: &str, mode: u32, data: &[u8]) -> &mut Self {
        assert!(name.len() < 100 && link.len() < 100, "names here fit the 100-byte header field: {name} {link}");
        let mut h = tar::Header::new_ustar();
        {
            let old = h.as_old_mut();
            old.name[..name.len()].copy_from_slice(name.as_bytes());
            old.linkname[..link.len()].copy_from_slice(link.as_bytes());
        }
        h.set_entry_type(kind);
        h.set_mode(mode);
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(1_700_000_000);
        h.set_size(data.len() as u64);
        h.set_cksum();
        self.tar.append(&h, data).unwrap();
        self
    }

    pub fn dir(&mut self, path: &str) -> &mut Self {
        self.entry(&format!("{}/", path.trim_end_matches('/')), tar::EntryType::Directory, "", 0o755, &[])
    }

    pub fn file(&mut self, path: &str, data: &[u8], mode: u32) -> &mut Self {
        self.entry(path, tar::EntryType::Regular, "", mode, data)
    }

    pub fn symlink(&mut self, path: &str, target: &str) -> &mut Self {
        self.entry(path, tar::EntryType::Symlink, target, 0o777, &[])
    }

    pub fn hardlink(&mut self, path: &str, target: &str) -> &mut Self {
        self.entry(path, tar::EntryType::Link, target, 0o644, &[])
    }

    /// Deletes `path` of a lower layer (an empty `.wh.<name>` file).
    pub fn whiteout(&mut self, path: &str) -> &mut Self {
        let (dir, name) = path.rsplit_once('/').map_or(("", path), |(d, n)| (d, n));
        let wh = if dir.is_empty() { format!(".wh.{name}") } else { format!("{dir}/.wh.{name}") };
        self.file(&wh, &[], 0o600)
    }

    /// Hides everything lower layers have in `dir` (`.wh..wh..opq`).
    pub fn opaque(&mut self, dir: &str) -> &mut Self {
        self.file(&format!("{}/.wh..wh..opq", dir.trim_end_matches('/')), &[], 0o600)
    }

    pub fn finish(self) -> Layer {
        let level = self.level;
        let tar = self.tar.into_inner().unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), level);
        gz.write_all(&tar).unwrap();
        let gz = gz.finish().unwrap();
        Layer { diff_id: sha256(&tar), digest: sha256(&gz), tar, gz }
    }
}

/// Which manifest the registry gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// `application/vnd.docker.distribution.manifest.v2+json`.
    Schema2,
    /// `application/vnd.oci.image.manifest.v1+json`.
    Oci,
}

/// Layers plus an image config.
pub struct Image {
    pub layers: Vec<Layer>,
    pub config: Vec<u8>,
}

/// What a push put in the registry.
#[derive(Clone, Debug)]
pub struct Pushed {
    /// `<host>/<repo>:<tag>`.
    pub reference: String,
    /// `<host>/<repo>`.
    pub name: String,
    pub tag: String,
    /// The image id a v2 pull gives: the config digest.
    pub image_id: String,
    pub diff_ids: Vec<String>,
    pub layer_digests: Vec<String>,
    pub manifest_digest: String,
    pub manifest: Vec<u8>,
}

impl Image {
    /// An image of these layers for `linux/<arch>` running `cmd`.
    pub fn new(layers: Vec<Layer>, arch: &str, cmd: &[&str]) -> Image {
        let history: Vec<serde_json::Value> = layers
            .iter()
            .enumerate()
            .map(|(i, l)| {
                serde_json::json!({
                    "created": format!("2024-01-01T00:00:0{}Z", i.min(9)),
                    "created_by": format!("/bin/sh -c #(nop) ADD file:{} in / ", &l.diff_id[7..19]),
                })
            })
            .collect();
        let config = serde_json::json!({
            "architecture": arch,
            "os": "linux",
            "created": "2024-01-01T00:00:09Z",
            "config": {
                "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
                "Cmd": cmd,
                "Labels": {"org.example.seeded-by": "tests"},
            },
            "rootfs": {"type": "layers", "diff_ids": layers.iter().map(|l| l.diff_id.clone()).collect::<Vec<_>>()},
            "history": history,
        });
        Image { layers, config: serde_json::to_vec(&config).unwrap() }
    }

    pub fn image_id(&self) -> String {
        sha256(&self.config)
    }

    /// The manifest for `format` (pretty-printed: it has whitespace a
    /// tamper can flip without changing its meaning).
    pub fn manifest(&self, format: Format) -> Vec<u8> {
        let (mt, cfg_mt, layer_mt) = match format {
            Format::Schema2 => (
                "application/vnd.docker.distribution.manifest.v2+json",
                "application/vnd.docker.container.image.v1+json",
                "application/vnd.docker.image.rootfs.diff.tar.gzip",
            ),
            Format::Oci => (
                "application/vnd.oci.image.manifest.v1+json",
                "application/vnd.oci.image.config.v1+json",
                "application/vnd.oci.image.layer.v1.tar+gzip",
            ),
        };
        let m = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": mt,
            "config": {"mediaType": cfg_mt, "size": self.config.len(), "digest": self.image_id()},
            "layers": self.layers.iter().map(|l| serde_json::json!({
                "mediaType": layer_mt, "size": l.gz.len(), "digest": l.digest,
            })).collect::<Vec<_>>(),
        });
        serde_json::to_vec_pretty(&m).unwrap()
    }

    /// Writes skopeo's `dir:` layout for this image into `dir`.
    pub fn write_dir(&self, dir: &Path, format: Format) -> Vec<u8> {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(dir.join("version"), "Directory Transport Version: 1.1\n").unwrap();
        let manifest = self.manifest(format);
        std::fs::write(dir.join("manifest.json"), &manifest).unwrap();
        std::fs::write(dir.join(&self.image_id()[7..]), &self.config).unwrap();
        for l in &self.layers {
            std::fs::write(dir.join(&l.digest[7..]), &l.gz).unwrap();
        }
        manifest
    }

    /// Pushes to `<host>/<repo>:<tag>` with skopeo (blobs and manifest
    /// copied verbatim).
    pub fn push(&self, host: &str, creds: Option<(&str, &str)>, repo: &str, tag: &str, format: Format) -> Pushed {
        let dir = tempfile::tempdir().unwrap();
        let manifest = self.write_dir(dir.path(), format);
        skopeo_copy(&format!("dir:{}", dir.path().display()), &format!("docker://{host}/{repo}:{tag}"), creds);
        let v: serde_json::Value = serde_json::from_slice(&self.config).unwrap();
        Pushed {
            reference: format!("{host}/{repo}:{tag}"),
            name: format!("{host}/{repo}"),
            tag: tag.into(),
            image_id: self.image_id(),
            diff_ids: v["rootfs"]["diff_ids"].as_array().unwrap().iter().map(|d| d.as_str().unwrap().into()).collect(),
            layer_digests: self.layers.iter().map(|l| l.digest.clone()).collect(),
            manifest_digest: sha256(&manifest),
            manifest,
        }
    }
}

/// `skopeo copy` with the loopback registry's plain HTTP; panics with
/// skopeo's output when it fails.
pub fn skopeo_copy(src: &str, dest: &str, creds: Option<(&str, &str)>) {
    let mut cmd = Command::new("skopeo");
    cmd.args(["--insecure-policy", "copy", "--quiet", "--src-tls-verify=false", "--dest-tls-verify=false"]);
    if let Some((u, p)) = creds {
        cmd.arg("--dest-creds").arg(format!("{u}:{p}"));
    }
    let out = cmd.arg(src).arg(dest).output().expect("running skopeo");
    assert!(
        out.status.success(),
        "skopeo copy {src} {dest} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The raw manifest a registry serves for `<host>/<repo>:<tag>` (via
/// `skopeo inspect --raw`).
pub fn registry_manifest(reference: &str, creds: Option<(&str, &str)>) -> Vec<u8> {
    let mut cmd = Command::new("skopeo");
    cmd.args(["--insecure-policy", "inspect", "--raw", "--tls-verify=false"]);
    if let Some((u, p)) = creds {
        cmd.arg("--creds").arg(format!("{u}:{p}"));
    }
    let out = cmd.arg(format!("docker://{reference}")).output().unwrap();
    assert!(out.status.success(), "skopeo inspect {reference}: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

/// Where Debian's busybox-static puts its binary.
pub const BUSYBOX: &str = "/bin/busybox";

/// A busybox rootfs in one layer: `/bin/busybox` from busybox-static, a
/// symlink per applet, `/etc/passwd`, `/etc/group`, `/tmp`.
pub fn busybox_layer() -> Layer {
    let bin = std::fs::read(BUSYBOX).expect("reading /bin/busybox (Debian's busybox-static)");
    let list = Command::new(BUSYBOX).arg("--list").output().expect("busybox --list");
    let mut b = LayerBuilder::new();
    b.dir("bin").file("bin/busybox", &bin, 0o755);
    for applet in String::from_utf8_lossy(&list.stdout).lines() {
        if !applet.is_empty() && applet != "busybox" {
            b.symlink(&format!("bin/{applet}"), "busybox");
        }
    }
    b.dir("etc")
        .file("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n", 0o644)
        .file("etc/group", b"root:x:0:\nnogroup:x:65534:\n", 0o644)
        .dir("root")
        .entry("tmp/", tar::EntryType::Directory, "", 0o1777, &[]);
    b.finish()
}

/// The busybox image (`Cmd ["sh"]`).
pub fn busybox() -> Image {
    Image::new(vec![busybox_layer()], "amd64", &["sh"])
}

/// Three layers; the second deletes `data/gone.txt` of the first with a
/// `.wh.` file and makes `opq/` opaque (hiding `old1.txt`, `old2.txt`).
/// Each layer holds a marker `layerN.txt` so a test can find its directory.
pub fn multilayer() -> Image {
    let mut l1 = LayerBuilder::new();
    l1.file("layer1.txt", b"one\n", 0o644)
        .dir("data")
        .file("data/keep.txt", b"kept\n", 0o644)
        .file("data/gone.txt", b"deleted in layer 2\n", 0o644)
        .dir("opq")
        .file("opq/old1.txt", b"hidden by the opaque dir\n", 0o644)
        .file("opq/old2.txt", b"hidden by the opaque dir\n", 0o644);
    let mut l2 = LayerBuilder::new();
    l2.file("layer2.txt", b"two\n", 0o644).dir("data").whiteout("data/gone.txt").dir("opq").opaque("opq").file(
        "opq/new.txt",
        b"the only file left in opq\n",
        0o644,
    );
    let mut l3 = LayerBuilder::new();
    l3.file("layer3.txt", b"three\n", 0o644).dir("data").file("data/added.txt", b"added in layer 3\n", 0o644);
    Image::new(vec![l1.finish(), l2.finish(), l3.finish()], "amd64", &["sh"])
}

/// A cheap, deterministic pseudo-random stream (xorshift64*): data gzip
/// cannot shrink, without a random-number crate.
pub fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        out.extend_from_slice(&x.wrapping_mul(0x2545_f491_4f6c_dd1d).to_le_bytes());
    }
    out.truncate(len);
    out
}

/// Text that gzip shrinks well (numbered log-like lines).
pub fn text(seed: u64, len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 64);
    let mut i = 0u64;
    while out.len() < len {
        out.extend_from_slice(
            format!("{seed:04} line {i:08} the quick brown fox jumps over the lazy dog\n").as_bytes(),
        );
        i += 1;
    }
    out.truncate(len);
    out
}

/// About `total_mb` MB over `layers` layers, each with an incompressible
/// and a compressible file (60/40). Layer `i` holds `big/<i>/noise.bin`
/// and `big/<i>/text.txt`.
pub fn big(total_mb: usize, layers: usize) -> Image {
    let per = total_mb * 1_000_000 / layers;
    let ls = (0..layers)
        .map(|i| {
            let mut b = LayerBuilder::new().level(1);
            b.dir("big").dir(&format!("big/{i}"));
            b.file(&format!("big/{i}/noise.bin"), &noise(i as u64 + 7, per * 6 / 10), 0o644);
            b.file(&format!("big/{i}/text.txt"), &text(i as u64, per * 4 / 10), 0o644);
            b.finish()
        })
        .collect();
    Image::new(ls, "amd64", &["sh"])
}

/// A path that climbs out of any layer directory to `target` (absolute):
/// enough `../` to reach `/` from any depth a daemon root can have here.
pub fn climbing_path(target: &Path) -> String {
    let rel = target.to_str().unwrap().trim_start_matches('/');
    format!("{}{rel}", "../".repeat(20))
}

/// A layer with an entry `../../…/<outside>/escape-me`.
pub fn evil_dotdot(outside: &Path) -> Image {
    let mut b = LayerBuilder::new();
    b.file("harmless.txt", b"fine\n", 0o644).file(&climbing_path(&outside.join("escape-me")), b"pwned\n", 0o644);
    Image::new(vec![b.finish()], "amd64", &["sh"])
}

/// A layer with `evil-link -> <outside>` (absolute) and then
/// `evil-link/pwned` written through it.
pub fn evil_symlink(outside: &Path) -> Image {
    let mut b = LayerBuilder::new();
    b.symlink("evil-link", outside.to_str().unwrap()).file("evil-link/pwned", b"pwned\n", 0o644);
    Image::new(vec![b.finish()], "amd64", &["sh"])
}

/// A layer with `hardlink-out` linked to the host file `victim` (absolute),
/// `hardlink-up` linked to it through `../`, and then content written to
/// `hardlink-out`.
pub fn evil_hardlink(victim: &Path) -> Image {
    let mut b = LayerBuilder::new();
    b.hardlink("hardlink-out", victim.to_str().unwrap()).hardlink("hardlink-up", &climbing_path(victim)[..]).file(
        "hardlink-out",
        b"pwned\n",
        0o644,
    );
    Image::new(vec![b.finish()], "amd64", &["sh"])
}

/// Pushes an amd64 and an arm64 image under `<repo>:amd64` / `:arm64` and a
/// manifest list naming both under `<repo>:<tag>` (no-auth registry only).
/// Returns (the amd64 push, the arm64 push, the list's digest).
pub fn push_manifest_list(host: &str, repo: &str, tag: &str) -> (Pushed, Pushed, String) {
    let mut amd = LayerBuilder::new();
    amd.file("arch.txt", b"amd64\n", 0o644);
    let mut arm = LayerBuilder::new();
    arm.file("arch.txt", b"arm64\n", 0o644);
    let amd = Image::new(vec![busybox_layer(), amd.finish()], "amd64", &["sh"]).push(
        host,
        None,
        repo,
        "amd64",
        Format::Schema2,
    );
    let arm = Image::new(vec![busybox_layer(), arm.finish()], "arm64", &["sh"]).push(
        host,
        None,
        repo,
        "arm64",
        Format::Schema2,
    );
    let list = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.list.v2+json",
        "manifests": [
            {"mediaType": "application/vnd.docker.distribution.manifest.v2+json", "size": arm.manifest.len(),
             "digest": arm.manifest_digest, "platform": {"architecture": "arm64", "os": "linux", "variant": "v8"}},
            {"mediaType": "application/vnd.docker.distribution.manifest.v2+json", "size": amd.manifest.len(),
             "digest": amd.manifest_digest, "platform": {"architecture": "amd64", "os": "linux"}},
        ],
    });
    let body = serde_json::to_vec_pretty(&list).unwrap();
    let (status, answer) = http_tcp(
        host,
        "PUT",
        &format!("/v2/{repo}/manifests/{tag}"),
        "application/vnd.docker.distribution.manifest.list.v2+json",
        &body,
    );
    assert_eq!(status, 201, "PUT manifest list: {answer}");
    (amd, arm, sha256(&body))
}

/// One HTTP/1.0 request over TCP: (status, body).
pub fn http_tcp(host: &str, method: &str, path: &str, content_type: &str, body: &[u8]) -> (u16, String) {
    use std::io::Read;
    let mut s = std::net::TcpStream::connect(host).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.0\r\nHost: {host}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .unwrap();
    s.write_all(body).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let raw = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    (head.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0), body.to_string())
}

/// Makes the registry serve a manifest that no longer hashes to its digest:
/// flips one whitespace byte of the stored blob (distribution's filesystem
/// layout, `docker/registry/v2/blobs/sha256/<xx>/<hex>/data`). The JSON
/// still parses and means the same; only the digest check can catch it.
pub fn tamper_manifest(storage: &Path, digest: &str) {
    let hex = digest.strip_prefix("sha256:").unwrap();
    let data = storage.join(format!("docker/registry/v2/blobs/sha256/{}/{hex}/data", &hex[..2]));
    let mut bytes = std::fs::read(&data).unwrap_or_else(|e| panic!("reading {}: {e}", data.display()));
    let i = bytes.iter().position(|b| *b == b' ').expect("a pretty-printed manifest has spaces");
    bytes[i] = b'\t';
    std::fs::write(&data, &bytes).unwrap();
    assert_ne!(sha256(&bytes), digest);
}

/// Every existing `<dir>/<rel>` for `dir` at most `depth` levels below
/// `root` (symlinks not followed): where a daemon's graph driver keeps a
/// path of a layer, whatever its layout (`overlay/<id>/diff/...`,
/// `vfs/dir/<id>/...`).
pub fn find_in_layers(root: &Path, rel: &str, depth: usize) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![(root.to_path_buf(), 0)];
    while let Some((dir, d)) = stack.pop() {
        let candidate = dir.join(rel);
        if candidate.symlink_metadata().is_ok() {
            found.push(candidate);
        }
        if d >= depth {
            continue;
        }
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for e in entries.flatten() {
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                stack.push((e.path(), d + 1));
            }
        }
    }
    found.sort();
    found
}

/// The sorted names in a directory.
pub fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Every path under `dir` (relative, sorted; symlinks not followed).
pub fn tree(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for e in entries.flatten() {
            let p = e.path();
            out.push(p.strip_prefix(dir).unwrap().to_string_lossy().into_owned());
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                stack.push(p);
            }
        }
    }
    out.sort();
    out
}
