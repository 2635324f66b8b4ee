//! The conformance suite every driver passes (Docker's
//! `graphtest` package, re-done): create/exists/remove, a three-layer chain
//! with whiteouts and an opaque directory seen through `get`, nested
//! `get`/`put`, and changes → exported tar → applied again. Runs as root;
//! overlay needs a kernel with overlayfs and a non-overlay backing fs.

use std::fs;
use std::io::Cursor;
use std::path::Path;
use std::sync::Arc;

use super::{Driver, WhiteoutFormat, new_driver};
use crate::archive::{self, ChangeKind};

/// A driver on a temp root; its layers are removed (and so unmounted) on
/// drop, even when a test fails.
struct Harness {
    driver: Arc<dyn Driver>,
    ids: std::cell::RefCell<Vec<String>>,
    _tmp: tempfile::TempDir,
}

impl Harness {
    fn new(name: &str) -> Harness {
        let tmp = tempfile::tempdir().unwrap();
        let driver: Arc<dyn Driver> = Arc::from(new_driver(name, tmp.path().join(name), &[]).unwrap());
        Harness { driver, ids: Default::default(), _tmp: tmp }
    }

    fn layer(&self, id: &str, parent: Option<&str>, tar: &[u8]) {
        self.driver.create(id, parent).unwrap();
        self.ids.borrow_mut().push(id.to_string());
        let dest = self.driver.diff_dir(id);
        archive::apply_layer(&mut Cursor::new(tar), &dest, self.driver.whiteout_format(), &mut std::io::sink())
            .unwrap();
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        for id in self.ids.borrow().iter().rev() {
            let _ = self.driver.remove(id);
        }
    }
}

fn each_driver(test: impl Fn(&Harness)) {
    for name in ["vfs", "overlay"] {
        test(&Harness::new(name));
    }
}

fn tree(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        let mut names: Vec<_> = fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name()).collect();
        names.sort();
        for n in names {
            let p = dir.join(&n);
            let rel = p.strip_prefix(root).unwrap().display().to_string();
            let m = fs::symlink_metadata(&p).unwrap();
            if m.is_dir() {
                out.push(format!("{rel}/"));
                walk(root, &p, out);
            } else {
                out.push(format!("{rel}={}", String::from_utf8_lossy(&fs::read(&p).unwrap_or_default())));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out
}

fn mounted(path: &Path) -> bool {
    let info = fs::read_to_string("/proc/self/mountinfo").unwrap();
    let p = path.display().to_string();
    info.lines().any(|l| l.split(' ').nth(4) == Some(p.as_str()))
}

fn base() -> Vec<u8> {
    archive::tests::RawTar::default()
        .dir("etc/")
        .file("etc/a", b"a")
        .file("etc/b", b"b")
        .dir("var/")
        .file("var/x", b"x")
        .dir("var/sub/")
        .file("var/sub/y", b"y")
        .file("keep", b"k")
        .done()
}

fn middle() -> Vec<u8> {
    archive::tests::RawTar::default().file("etc/.wh.a", b"").file("var/.wh..wh..opq", b"").file("var/z", b"z").done()
}

fn top() -> Vec<u8> {
    archive::tests::RawTar::default().file("etc/c", b"c").file("new", b"n").done()
}

const MERGED: &[&str] = &["etc/", "etc/b=b", "etc/c=c", "keep=k", "new=n", "var/", "var/z=z"];

#[test]
fn create_exists_remove() {
    each_driver(|h| {
        let d = &h.driver;
        assert!(!d.exists("one"));
        d.create("one", None).unwrap();
        assert!(d.exists("one"));
        assert!(d.diff_dir("one").is_dir());
        d.create("two", Some("one")).unwrap();
        assert!(d.create("three", Some("missing")).is_err(), "{}", d.name());
        d.remove("two").unwrap();
        d.remove("one").unwrap();
        assert!(!d.exists("one") && !d.exists("two"));
        d.remove("never").unwrap();
    });
}

#[test]
fn chain_with_whiteouts_merges() {
    each_driver(|h| {
        h.layer("l1", None, &base());
        h.layer("l2", Some("l1"), &middle());
        h.layer("l3", Some("l2"), &top());
        let root = h.driver.get("l3").unwrap();
        assert_eq!(tree(&root), MERGED, "{}", h.driver.name());
        h.driver.put("l3").unwrap();
    });
}

#[test]
fn rename_keeps_contents_and_parent() {
    each_driver(|h| {
        h.layer("l1", None, &base());
        h.driver
            .create("staging-x", if h.driver.whiteout_format() == WhiteoutFormat::Copy { Some("l1") } else { None })
            .unwrap();
        h.ids.borrow_mut().push("staging-x".into());
        let dest = h.driver.diff_dir("staging-x");
        archive::apply_layer(&mut Cursor::new(middle()), &dest, h.driver.whiteout_format(), &mut std::io::sink())
            .unwrap();
        h.driver.rename("staging-x", "l2", Some("l1")).unwrap();
        h.ids.borrow_mut().push("l2".into());
        assert!(!h.driver.exists("staging-x"));
        let root = h.driver.get("l2").unwrap();
        assert_eq!(tree(&root), ["etc/", "etc/b=b", "keep=k", "var/", "var/z=z"], "{}", h.driver.name());
        h.driver.put("l2").unwrap();
    });
}

#[test]
fn nested_get_put_unmounts_at_the_end() {
    each_driver(|h| {
        h.layer("l1", None, &base());
        h.layer("l2", Some("l1"), &middle());
        let a = h.driver.get("l2").unwrap();
        let b = h.driver.get("l2").unwrap();
        assert_eq!(a, b);
        h.driver.put("l2").unwrap();
        assert!(a.join("keep").exists(), "{}: still in use", h.driver.name());
        h.driver.put("l2").unwrap();
        if h.driver.name() == "overlay" {
            assert!(!mounted(&a));
            assert!(!a.join("keep").exists());
        }
        // A base layer needs no mount but counts the same way.
        let base = h.driver.get("l1").unwrap();
        assert!(base.join("keep").exists());
        h.driver.put("l1").unwrap();
    });
}

#[test]
fn changes_export_and_apply_round_trip() {
    each_driver(|h| {
        h.layer("l1", None, &base());
        h.layer("l2", Some("l1"), &middle());
        h.layer("l3", Some("l2"), &top());
        let format = h.driver.whiteout_format();
        let parent = h.driver.get("l2").unwrap();
        let changes = archive::changes(&h.driver.diff_dir("l3"), format, Some(&parent)).unwrap();
        let shown: Vec<String> = changes.iter().map(|c| format!("{:?} {}", c.kind, c.path)).collect();
        assert_eq!(shown, ["Modified /etc", "Added /etc/c", "Added /new"], "{}", h.driver.name());
        assert!(changes.iter().all(|c| c.kind != ChangeKind::Deleted));

        let middle_changes = {
            let base_root = h.driver.get("l1").unwrap();
            let c = archive::changes(&h.driver.diff_dir("l2"), format, Some(&base_root)).unwrap();
            h.driver.put("l1").unwrap();
            c
        };
        let deleted: Vec<&str> =
            middle_changes.iter().filter(|c| c.kind == ChangeKind::Deleted).map(|c| c.path.as_str()).collect();
        assert_eq!(deleted, ["/etc/a", "/var/sub", "/var/x"], "{}", h.driver.name());

        let mut tar = Vec::new();
        archive::export_diff(&h.driver.diff_dir("l3"), format, Some(&parent), &mut tar).unwrap();
        h.driver.put("l2").unwrap();
        h.layer("l3b", Some("l2"), &tar);
        let root = h.driver.get("l3b").unwrap();
        assert_eq!(tree(&root), MERGED, "{}", h.driver.name());
        h.driver.put("l3b").unwrap();
    });
}

#[test]
fn storage_options_are_refused() {
    for name in ["vfs", "overlay"] {
        let tmp = tempfile::tempdir().unwrap();
        let err = new_driver(name, tmp.path().join(name), &["size=10G".into()]).unwrap_err();
        assert_eq!(err.to_string(), format!("{name}: unknown option size"));
        let err = new_driver(name, tmp.path().join(name), &["junk".into()]).unwrap_err();
        assert_eq!(err.to_string(), format!("{name}: unable to parse key/value option: junk"));
    }
    let tmp = tempfile::tempdir().unwrap();
    assert!(new_driver("aufs", tmp.path().join("aufs"), &[]).is_err());
}

#[test]
fn overlay_reports_mount_paths() {
    let h = Harness::new("overlay");
    h.layer("l1", None, &base());
    h.layer("l2", Some("l1"), &middle());
    let m = h.driver.metadata("l2");
    assert!(m["LowerDir"].contains("/overlay/l/"), "{m:?}");
    assert!(m["UpperDir"].ends_with("/l2/diff"));
    assert_eq!(h.driver.status()[0].0, "Backing Filesystem");
}
