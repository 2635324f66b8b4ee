//! Apply, tar-split and diff tests, evil tars included. They run as root
//! (ownership, devices, `trusted.*` xattrs).

use std::fs;
use std::io::{Cursor, Read};
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::Path;

use sha2::{Digest, Sha256};

use super::*;
use crate::GraphError;
use crate::driver::WhiteoutFormat;

/// A tar written header by header, so tests can say things the `tar`
/// crate's builder refuses to (`..`, absolute paths).
#[derive(Default)]
pub(crate) struct RawTar(pub(crate) Vec<u8>);

impl RawTar {
    pub(crate) fn entry(&mut self, name: &str, kind: tar::EntryType, link: &str, data: &[u8], mode: u32) -> &mut Self {
        let mut h = tar::Header::new_gnu();
        h.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
        h.as_old_mut().linkname[..link.len()].copy_from_slice(link.as_bytes());
        h.set_entry_type(kind);
        h.set_mode(mode);
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(1_500_000_000);
        h.set_size(data.len() as u64);
        h.set_cksum();
        self.0.extend_from_slice(h.as_bytes());
        self.0.extend_from_slice(data);
        self.0.resize(self.0.len().div_ceil(512) * 512, 0);
        self
    }
    pub(crate) fn dir(&mut self, name: &str) -> &mut Self {
        self.entry(name, tar::EntryType::Directory, "", b"", 0o755)
    }
    pub(crate) fn file(&mut self, name: &str, data: &[u8]) -> &mut Self {
        self.entry(name, tar::EntryType::Regular, "", data, 0o644)
    }
    pub(crate) fn symlink(&mut self, name: &str, target: &str) -> &mut Self {
        self.entry(name, tar::EntryType::Symlink, target, b"", 0o777)
    }
    pub(crate) fn hardlink(&mut self, name: &str, target: &str) -> &mut Self {
        self.entry(name, tar::EntryType::Link, target, b"", 0o644)
    }
    pub(crate) fn done(&mut self) -> Vec<u8> {
        let mut out = std::mem::take(&mut self.0);
        out.extend_from_slice(&[0u8; 1024]);
        out
    }
}

fn apply(tar: &[u8], dest: &Path, format: WhiteoutFormat) -> crate::Result<(Applied, Vec<u8>)> {
    let mut split = Vec::new();
    let applied = apply_layer(&mut Cursor::new(tar), dest, format, &mut split)?;
    Ok((applied, split))
}

fn sha(bytes: &[u8]) -> String {
    format!("sha256:{}", hex(&Sha256::digest(bytes)))
}

/// A temp dir with `layer/` (the target) and `outside/` (must not change).
fn sandbox() -> (tempfile::TempDir, std::path::PathBuf, std::path::PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let layer = tmp.path().join("layer");
    let outside = tmp.path().join("outside");
    fs::create_dir(&layer).unwrap();
    fs::create_dir(&outside).unwrap();
    fs::write(outside.join("keep"), b"keep").unwrap();
    (tmp, layer, outside)
}

fn listing(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        let mut names: Vec<_> = fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name()).collect();
        names.sort();
        for n in names {
            let p = dir.join(&n);
            let m = fs::symlink_metadata(&p).unwrap();
            let rel = p.strip_prefix(root).unwrap().display().to_string();
            let content =
                if m.is_file() { String::from_utf8_lossy(&fs::read(&p).unwrap()).into_owned() } else { String::new() };
            out.push(format!("{rel} {:o} {content}", m.mode()));
            if m.is_dir() {
                walk(root, &p, out);
            }
        }
    }
    walk(dir, dir, &mut out);
    out
}

fn assert_bad(r: crate::Result<(Applied, Vec<u8>)>, needle: &str) {
    match r {
        Err(GraphError::BadLayer(msg)) => assert!(msg.contains(needle), "{msg:?} lacks {needle:?}"),
        other => panic!("expected BadLayer({needle}), got {other:?}"),
    }
}

#[test]
fn dotdot_entry_is_refused() {
    for format in [WhiteoutFormat::Overlay, WhiteoutFormat::Copy] {
        let (_tmp, layer, outside) = sandbox();
        let tar = RawTar::default().file("../outside/x", b"pwned").done();
        assert_bad(apply(&tar, &layer, format), "breakout");
        let tar = RawTar::default().file("a/../../../etc/x", b"pwned").done();
        assert_bad(apply(&tar, &layer, format), "breakout");
        assert_eq!(listing(&outside), vec!["keep 100644 keep"]);
    }
}

#[test]
fn absolute_and_rooted_dotdot_names_stay_inside() {
    let (_tmp, layer, _outside) = sandbox();
    let tar = RawTar::default().file("/abs", b"1").file("/a/../b", b"2").file("/../../c", b"3").done();
    apply(&tar, &layer, WhiteoutFormat::Overlay).unwrap();
    assert_eq!(fs::read(layer.join("abs")).unwrap(), b"1");
    assert_eq!(fs::read(layer.join("b")).unwrap(), b"2");
    assert_eq!(fs::read(layer.join("c")).unwrap(), b"3");
}

#[test]
fn write_through_own_absolute_symlink_is_refused() {
    for format in [WhiteoutFormat::Overlay, WhiteoutFormat::Copy] {
        let (_tmp, layer, outside) = sandbox();
        let tar = RawTar::default().symlink("evil", outside.to_str().unwrap()).file("evil/pwned", b"x").done();
        assert_bad(apply(&tar, &layer, format), "would write outside the layer");
        assert_eq!(listing(&outside), vec!["keep 100644 keep"]);
    }
}

#[test]
fn dotdot_symlink_chain_is_refused() {
    let (_tmp, layer, outside) = sandbox();
    let tar = RawTar::default()
        .dir("d/")
        .symlink("d/up", "..")
        .symlink("d/up2", "../..")
        .file("d/up2/outside/pwned", b"x")
        .done();
    assert_bad(apply(&tar, &layer, WhiteoutFormat::Overlay), "breakout");
    let tar = RawTar::default().symlink("up", "..").file("up/up/outside/pwned", b"x").done();
    assert_bad(apply(&tar, &layer, WhiteoutFormat::Copy), "breakout");
    assert_eq!(listing(&outside), vec!["keep 100644 keep"]);
}

#[test]
fn symlink_entries_themselves_may_point_anywhere() {
    let (_tmp, layer, _outside) = sandbox();
    let tar = RawTar::default().dir("bin/").symlink("bin/sh", "/bin/busybox").symlink("up", "../../..").done();
    apply(&tar, &layer, WhiteoutFormat::Overlay).unwrap();
    assert_eq!(fs::read_link(layer.join("bin/sh")).unwrap(), Path::new("/bin/busybox"));
}

#[test]
fn bad_hardlinks_are_refused() {
    let (_tmp, layer, outside) = sandbox();
    let tar = RawTar::default().hardlink("passwd", "/etc/passwd").done();
    assert_bad(apply(&tar, &layer, WhiteoutFormat::Overlay), "does not exist in this layer");
    let tar = RawTar::default().hardlink("x", "../../outside/keep").done();
    assert_bad(apply(&tar, &layer, WhiteoutFormat::Overlay), "breakout");
    let tar = RawTar::default().symlink("s", outside.to_str().unwrap()).hardlink("x", "s/keep").done();
    assert_bad(apply(&tar, &layer, WhiteoutFormat::Copy), "symlink");
    assert_eq!(fs::metadata(outside.join("keep")).unwrap().nlink(), 1);
}

#[test]
fn inherited_symlink_parent_becomes_a_directory_in_copies() {
    let (_tmp, layer, outside) = sandbox();
    std::os::unix::fs::symlink(&outside, layer.join("lib")).unwrap();
    let tar = RawTar::default().file("lib/x", b"x").done();
    apply(&tar, &layer, WhiteoutFormat::Copy).unwrap();
    assert!(fs::symlink_metadata(layer.join("lib")).unwrap().is_dir());
    assert_eq!(listing(&outside), vec!["keep 100644 keep"]);
}

#[test]
fn whiteouts_in_copies_remove_paths_and_lower_children() {
    let (_tmp, layer, _outside) = sandbox();
    for p in ["a", "b", "b/sub"] {
        fs::create_dir(layer.join(p)).unwrap();
    }
    for p in ["a/f", "a/g", "b/x", "b/sub/y"] {
        fs::write(layer.join(p), p).unwrap();
    }
    let tar = RawTar::default()
        .file("a/.wh.f", b"")
        .dir("b/sub/")
        .file("b/sub/mine", b"m")
        .file("b/.wh..wh..opq", b"")
        .file("b/new", b"n")
        .done();
    apply(&tar, &layer, WhiteoutFormat::Copy).unwrap();
    assert_eq!(
        listing(&layer),
        vec!["a 40755 ", "a/g 100644 a/g", "b 40755 ", "b/new 100644 n", "b/sub 40755 ", "b/sub/mine 100644 m"]
    );
}

#[test]
fn whiteouts_in_overlay_are_devices_and_xattrs() {
    let (_tmp, layer, _outside) = sandbox();
    let tar = RawTar::default().file("a/.wh.f", b"").file("b/.wh..wh..opq", b"").file("b/new", b"n").done();
    apply(&tar, &layer, WhiteoutFormat::Overlay).unwrap();
    let m = fs::symlink_metadata(layer.join("a/f")).unwrap();
    assert!(m.file_type().is_char_device() && m.rdev() == 0);
    assert_eq!(xattr::get(layer.join("b"), OVERLAY_OPAQUE_XATTR).unwrap().as_deref(), Some(&b"y"[..]));
    assert!(!layer.join("b/.wh..wh..opq").exists());
}

/// A tar using most of what layers contain, written by the `tar` crate
/// (GNU long names), with a PAX header by hand and trailing zeros.
fn rich_tar() -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Directory);
    h.set_mode(0o1777);
    h.set_mtime(1_600_000_000);
    h.set_size(0);
    b.append_data(&mut h, "tmp/", std::io::empty()).unwrap();
    let long = format!("deep/{}/file.txt", "x".repeat(150));
    // cap_net_raw, VFS_CAP_REVISION_2.
    let cap: &[u8] = &[1, 0, 0, 2, 0, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    b.append_pax_extensions([("SCHILY.xattr.security.capability", cap), ("mtime", b"1600000002.5")]).unwrap();
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Regular);
    h.set_mode(0o4755);
    h.set_uid(1000);
    h.set_gid(1000);
    h.set_mtime(1_600_000_001);
    h.set_size(5000);
    b.append_data(&mut h, &long, &vec![7u8; 5000][..]).unwrap();
    let mut h = tar::Header::new_ustar();
    h.set_entry_type(tar::EntryType::Regular);
    h.set_mode(0o644);
    h.set_size(3);
    b.append_data(&mut h, "bin/ping", &b"abc"[..]).unwrap();
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Link);
    h.set_size(0);
    h.set_mode(0o644);
    b.append_link(&mut h, "bin/ping6", "bin/ping").unwrap();
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Char);
    h.set_mode(0o666);
    h.set_size(0);
    h.set_device_major(1).unwrap();
    h.set_device_minor(3).unwrap();
    b.append_data(&mut h, "dev/null", std::io::empty()).unwrap();
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Fifo);
    h.set_mode(0o600);
    h.set_size(0);
    b.append_data(&mut h, "run/fifo", std::io::empty()).unwrap();
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Symlink);
    h.set_size(0);
    b.append_link(&mut h, "bin/sh", "/bin/busybox").unwrap();
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Regular);
    h.set_size(0);
    b.append_data(&mut h, "etc/.wh.gone", std::io::empty()).unwrap();
    b.append_data(&mut h, "var/.wh..wh..opq", std::io::empty()).unwrap();
    let mut out = b.into_inner().unwrap();
    out.extend_from_slice(&[0u8; 1024]);
    out.extend_from_slice(&[0u8; 7000]);
    out
}

#[test]
fn rich_tar_applies_with_metadata() {
    let (_tmp, layer, _outside) = sandbox();
    let tar = rich_tar();
    let (applied, _) = apply(&tar, &layer, WhiteoutFormat::Overlay).unwrap();
    assert_eq!(applied.diff_id, sha(&tar));
    assert_eq!(applied.size, 5003);
    let long = layer.join(format!("deep/{}/file.txt", "x".repeat(150)));
    let m = fs::metadata(&long).unwrap();
    assert_eq!(
        (m.mode() & 0o7777, m.uid(), m.gid(), m.mtime(), m.mtime_nsec()),
        (0o4755, 1000, 1000, 1_600_000_002, 500_000_000)
    );
    assert!(xattr::get(&long, "security.capability").unwrap().is_some());
    assert_eq!(fs::metadata(layer.join("tmp")).unwrap().permissions().mode() & 0o7777, 0o1777);
    assert_eq!(fs::metadata(layer.join("tmp")).unwrap().mtime(), 1_600_000_000);
    assert_eq!(
        fs::metadata(layer.join("bin/ping6")).unwrap().ino(),
        fs::metadata(layer.join("bin/ping")).unwrap().ino()
    );
    assert_eq!(fs::metadata(layer.join("dev/null")).unwrap().rdev(), nix::sys::stat::makedev(1, 3));
    assert!(fs::metadata(layer.join("run/fifo")).unwrap().file_type().is_fifo());
}

#[test]
fn tar_split_gives_back_the_same_bytes() {
    let mut tars = vec![rich_tar()];
    tars.push(RawTar::default().dir("a/").file("a/b", b"hello").hardlink("a/c", "a/b").file("a/.wh.x", b"").done());
    let mut empty_files = RawTar::default().file("e", b"").file("f", b"1").done();
    empty_files.extend_from_slice(&[0u8; 512 * 3 + 17]);
    tars.push(empty_files);
    tars.push(vec![0u8; 1024]);
    for (i, tar) in tars.iter().enumerate() {
        for format in [WhiteoutFormat::Overlay, WhiteoutFormat::Copy] {
            let (_tmp, layer, _outside) = sandbox();
            let (applied, split) = apply(tar, &layer, format).unwrap();
            assert_eq!(applied.diff_id, sha(tar));
            let mut back = Vec::new();
            Reassemble::new(&split[..], layer.clone()).read_to_end(&mut back).unwrap();
            assert_eq!(back.len(), tar.len(), "tar {i}");
            assert!(back == *tar, "tar {i} differs after reassembly");
            // File contents are not in the record.
            if i == 0 {
                assert!(split.len() + 4000 < tar.len(), "file contents were kept in the record");
            }
        }
    }
}

#[test]
fn truncated_tar_is_an_error() {
    let (_tmp, layer, _outside) = sandbox();
    let tar = RawTar::default().file("big", &[1u8; 2000]).done();
    assert!(apply(&tar[..1000], &layer, WhiteoutFormat::Overlay).is_err());
}

#[test]
fn copy_changes_and_export_round_trip() {
    let tmp = tempfile::tempdir().unwrap();
    let (lower, upper, again) = (tmp.path().join("lower"), tmp.path().join("upper"), tmp.path().join("again"));
    let base =
        RawTar::default().dir("etc/").file("etc/a", b"a").file("etc/b", b"b").dir("var/").file("var/x", b"x").done();
    fs::create_dir(&lower).unwrap();
    apply(&base, &lower, WhiteoutFormat::Copy).unwrap();
    crate::driver::copy::copy_tree(&lower, &upper).unwrap();
    crate::driver::copy::copy_tree(&lower, &again).unwrap();
    assert!(changes(&upper, WhiteoutFormat::Copy, Some(&lower)).unwrap().is_empty());

    fs::remove_file(upper.join("etc/a")).unwrap();
    fs::write(upper.join("etc/b"), b"changed").unwrap();
    fs::write(upper.join("new"), b"n").unwrap();
    let got = changes(&upper, WhiteoutFormat::Copy, Some(&lower)).unwrap();
    let want = vec![
        Change { path: "/etc".into(), kind: ChangeKind::Modified },
        Change { path: "/etc/a".into(), kind: ChangeKind::Deleted },
        Change { path: "/etc/b".into(), kind: ChangeKind::Modified },
        Change { path: "/new".into(), kind: ChangeKind::Added },
    ];
    assert_eq!(got, want);

    let mut tar = Vec::new();
    export_diff(&upper, WhiteoutFormat::Copy, Some(&lower), &mut tar).unwrap();
    apply(&tar, &again, WhiteoutFormat::Copy).unwrap();
    assert_eq!(listing(&again), listing(&upper));
}

#[test]
fn overlay_changes_and_export() {
    let tmp = tempfile::tempdir().unwrap();
    let (lower, upper) = (tmp.path().join("lower"), tmp.path().join("upper"));
    fs::create_dir(&lower).unwrap();
    fs::create_dir(&upper).unwrap();
    let base = RawTar::default().dir("etc/").file("etc/a", b"a").dir("var/").file("var/x", b"x").done();
    apply(&base, &lower, WhiteoutFormat::Overlay).unwrap();
    let top = RawTar::default()
        .file("etc/.wh.a", b"")
        .file("var/.wh..wh..opq", b"")
        .file("var/y", b"y")
        .file("n", b"")
        .done();
    apply(&top, &upper, WhiteoutFormat::Overlay).unwrap();
    let got: Vec<String> = changes(&upper, WhiteoutFormat::Overlay, Some(&lower))
        .unwrap()
        .into_iter()
        .map(|c| format!("{:?} {}", c.kind, c.path))
        .collect();
    assert_eq!(got, ["Modified /etc", "Deleted /etc/a", "Added /n", "Modified /var", "Deleted /var/x", "Added /var/y"]);

    let mut tar = Vec::new();
    export_diff(&upper, WhiteoutFormat::Overlay, Some(&lower), &mut tar).unwrap();
    let mut names = Vec::new();
    for e in tar::Archive::new(&tar[..]).entries().unwrap() {
        names.push(e.unwrap().path().unwrap().display().to_string());
    }
    assert_eq!(names, ["etc", "etc/.wh.a", "n", "var", "var/.wh..wh..opq", "var/y"]);
}
