//! The layer store: layers by chain ID (`sha256(parent-chain + " " +
//! diff-id)`, as dockerd since 1.10), each with its diff ID, parent, size
//! and a tar-split record so its tar can be given back byte for byte (which
//! keeps diff IDs and so image IDs stable across save/load and push/pull).
//! Docker 1.2 named layers by random IDs instead; content addressing is a
//! deliberate departure.
//!
//! On disk: `<root>/layers/<chain hex>/{diff,parent,size,tar-split.gz}`;
//! contents in the driver under the chain hex. A layer appears only once
//! whole: extraction goes to a staging ID (`staging-<random>` both here and
//! in the driver) and the metadata directory is renamed into place last, so
//! a layer exists iff `layers/<chain hex>` does.

use std::collections::HashMap;
use std::fs;
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use parking_lot::{Mutex, RwLock};
use sha2::{Digest, Sha256};

use crate::archive::{self, Reassemble, hex};
use crate::driver::{Driver, WhiteoutFormat};
use crate::error::{GraphError, Result};

/// What is known of a stored layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerInfo {
    /// `sha256:<hex>` chain ID.
    pub chain_id: String,
    /// `sha256:<hex>` of the uncompressed tar.
    pub diff_id: String,
    /// The parent's chain ID.
    pub parent: Option<String>,
    /// Bytes of file contents in this layer.
    pub size: i64,
}

/// The layer store.
#[derive(Debug)]
pub struct LayerStore {
    root: PathBuf,
    driver: Arc<dyn Driver>,
    layers: RwLock<HashMap<String, LayerInfo>>,
    /// Serialises commits and removals: the check "exists?" and the renames
    /// that follow must not interleave.
    commit_lock: Mutex<()>,
}

/// A layer extracted to a staging place, not yet visible. Dropping it
/// removes what was extracted.
#[derive(Debug)]
pub struct StagedLayer {
    staging: String,
    meta: PathBuf,
    parent: Option<String>,
    diff_id: String,
    size: i64,
    driver: Arc<dyn Driver>,
    done: bool,
}

impl StagedLayer {
    /// The diff ID computed while extracting.
    pub fn diff_id(&self) -> &str {
        &self.diff_id
    }
}

impl Drop for StagedLayer {
    fn drop(&mut self) {
        if !self.done {
            if let Err(e) = self.driver.remove(&self.staging) {
                tracing::warn!(layer = %self.staging, error = %e, "removing a staged layer");
            }
            let _ = fs::remove_dir_all(&self.meta);
        }
    }
}

/// The hex part of a `sha256:` ID (or the ID itself if bare).
pub(crate) fn hex_of(id: &str) -> &str {
    id.strip_prefix("sha256:").unwrap_or(id)
}

pub(crate) fn is_hex64(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// `len` random `[a-z0-9]` characters for staging names.
pub(crate) fn random_name(len: usize) -> String {
    crate::driver::random_string(len).to_ascii_lowercase()
}

/// Writes `data` to `path` through a temp file, fsync and rename.
pub(crate) fn write_atomic(path: &Path, data: &[u8]) -> Result<()> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.{}.tmp", random_name(8)));
    let written = (|| {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(data)?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(GraphError::io(path, e));
    }
    sync_dir(path.parent().unwrap_or(Path::new(".")));
    Ok(())
}

/// Makes a rename durable; a failure only weakens durability, so it is
/// not an error.
pub(crate) fn sync_dir(dir: &Path) {
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

fn write_synced(path: &Path, data: &[u8]) -> Result<()> {
    let mut f = fs::File::create(path).map_err(|e| GraphError::io(path, e))?;
    f.write_all(data).and_then(|()| f.sync_all()).map_err(|e| GraphError::io(path, e))
}

impl LayerStore {
    /// Opens the store in `root` (`<root>/layers`), removing what a crash
    /// left: staging layers and half-removed ones.
    pub(crate) fn open(root: PathBuf, driver: Arc<dyn Driver>) -> Result<LayerStore> {
        fs::create_dir_all(&root).map_err(|e| GraphError::io(&root, e))?;
        let mut layers = HashMap::new();
        for entry in fs::read_dir(&root).map_err(|e| GraphError::io(&root, e))? {
            let entry = entry.map_err(|e| GraphError::io(&root, e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let path = entry.path();
            if let Some(rest) = name.strip_prefix("staging-") {
                // A stage or a removal cut short: the driver copy goes first
                // so nothing is left without its marker.
                let id = match rest.strip_prefix("rm-") {
                    Some(hex) => hex.to_string(),
                    None => name.clone(),
                };
                if id == name || !root.join(&id).exists() {
                    driver.remove(&id)?;
                }
                fs::remove_dir_all(&path).map_err(|e| GraphError::io(&path, e))?;
            } else if name.ends_with(".tmp") {
                let _ = fs::remove_file(&path).or_else(|_| fs::remove_dir_all(&path));
            } else if is_hex64(&name) {
                match read_info(&path, &name) {
                    Ok(info) => {
                        layers.insert(info.chain_id.clone(), info);
                    }
                    Err(e) => tracing::warn!(layer = %name, error = %e, "skipping unreadable layer"),
                }
            }
        }
        Ok(LayerStore { root, driver, layers: RwLock::new(layers), commit_lock: Mutex::new(()) })
    }

    /// `sha256` chain ID of `diff_id` on top of `parent`.
    pub fn chain_id(parent: Option<&str>, diff_id: &str) -> String {
        match parent {
            None => diff_id.to_string(),
            Some(p) => format!("sha256:{}", hex(&Sha256::digest(format!("{p} {diff_id}").as_bytes()))),
        }
    }

    /// Whether the layer is stored (whole).
    pub fn exists(&self, chain_id: &str) -> bool {
        self.layers.read().contains_key(&normalise(chain_id))
    }

    /// The layer's record.
    pub fn get(&self, chain_id: &str) -> Option<LayerInfo> {
        self.layers.read().get(&normalise(chain_id)).cloned()
    }

    /// Whether layers can be extracted without their parent's contents
    /// (overlay: yes, so a pull extracts every layer at once; vfs: no).
    pub fn independent_diffs(&self) -> bool {
        self.driver.whiteout_format() == WhiteoutFormat::Overlay
    }

    /// Extracts an uncompressed layer tar to a staging place (blocking),
    /// reading `tar` to its end. `parent` must exist unless
    /// `independent_diffs()`. Fails, leaving nothing, on a bad entry or when
    /// `expected_diff_id` is given and differs.
    pub fn stage(
        &self,
        parent: Option<&str>,
        tar: &mut dyn Read,
        expected_diff_id: Option<&str>,
    ) -> Result<StagedLayer> {
        let parent = parent.map(normalise);
        let copy_parent = match &parent {
            Some(p) if !self.independent_diffs() => {
                if !self.exists(p) {
                    return Err(GraphError::NoSuchImage(p.clone()));
                }
                Some(hex_of(p).to_string())
            }
            _ => None,
        };
        let staging = format!("staging-{}", random_name(16));
        let meta = self.root.join(&staging);
        // The marker first: a crash from here on leaves something `open`
        // finds and removes.
        fs::create_dir(&meta).map_err(|e| GraphError::io(&meta, e))?;
        let mut staged = StagedLayer {
            staging: staging.clone(),
            meta: meta.clone(),
            parent,
            diff_id: String::new(),
            size: 0,
            driver: self.driver.clone(),
            done: false,
        };
        self.driver.create(&staging, copy_parent.as_deref())?;

        let split_path = meta.join("tar-split.gz");
        let file = fs::File::create(&split_path).map_err(|e| GraphError::io(&split_path, e))?;
        let mut gz = GzEncoder::new(BufWriter::new(file), Compression::fast());
        let applied =
            archive::apply_layer(tar, &self.driver.diff_dir(&staging), self.driver.whiteout_format(), &mut gz)?;
        let file = gz.finish().and_then(|w| w.into_inner().map_err(|e| e.into_error()));
        file.and_then(|f| f.sync_all()).map_err(|e| GraphError::io(&split_path, e))?;

        if let Some(expected) = expected_diff_id
            && expected != applied.diff_id
        {
            return Err(GraphError::DigestMismatch { expected: expected.to_string(), actual: applied.diff_id });
        }
        staged.diff_id = applied.diff_id;
        staged.size = applied.size;
        Ok(staged)
    }

    /// Makes a staged layer visible under its chain ID (its parent must
    /// exist by now). Committing a layer that already exists keeps the old
    /// one and drops the staged copy.
    pub fn commit(&self, mut staged: StagedLayer) -> Result<LayerInfo> {
        let chain_id = LayerStore::chain_id(staged.parent.as_deref(), &staged.diff_id);
        let hex = hex_of(&chain_id).to_string();
        let _guard = self.commit_lock.lock();
        if let Some(info) = self.get(&chain_id) {
            return Ok(info);
        }
        if let Some(p) = &staged.parent
            && !self.exists(p)
        {
            return Err(GraphError::NoSuchImage(p.clone()));
        }
        // A driver copy without metadata is what a crash between the two
        // renames below leaves: it was never visible, so it goes.
        if self.driver.exists(&hex) {
            self.driver.remove(&hex)?;
        }
        let info = LayerInfo {
            chain_id: chain_id.clone(),
            diff_id: staged.diff_id.clone(),
            parent: staged.parent.clone(),
            size: staged.size,
        };
        write_synced(&staged.meta.join("diff"), info.diff_id.as_bytes())?;
        write_synced(&staged.meta.join("size"), info.size.to_string().as_bytes())?;
        if let Some(p) = &info.parent {
            write_synced(&staged.meta.join("parent"), p.as_bytes())?;
        }
        sync_dir(&staged.meta);
        let parent_hex = info.parent.as_deref().map(hex_of);
        self.driver.rename(&staged.staging, &hex, parent_hex)?;
        let dst = self.root.join(&hex);
        if let Err(e) = fs::rename(&staged.meta, &dst) {
            let _ = self.driver.remove(&hex);
            return Err(GraphError::io(dst, e));
        }
        sync_dir(&self.root);
        staged.done = true;
        self.layers.write().insert(chain_id, info.clone());
        Ok(info)
    }

    /// `stage` then `commit`.
    pub fn register(
        &self,
        parent: Option<&str>,
        tar: &mut dyn Read,
        expected_diff_id: Option<&str>,
    ) -> Result<LayerInfo> {
        let staged = self.stage(parent, tar, expected_diff_id)?;
        self.commit(staged)
    }

    /// The layer's tar, byte-identical to the one registered. The stream
    /// fails at its end if the bytes do not hash to the diff ID (a layer
    /// changed on disk).
    pub fn tar(&self, chain_id: &str) -> Result<Box<dyn Read + Send>> {
        let info = self.get(chain_id).ok_or_else(|| GraphError::NoSuchImage(chain_id.to_string()))?;
        let hex = hex_of(&info.chain_id);
        let path = self.root.join(hex).join("tar-split.gz");
        let file = fs::File::open(&path).map_err(|e| GraphError::io(&path, e))?;
        let reader = Reassemble::new(GzDecoder::new(io::BufReader::new(file)), self.driver.diff_dir(hex));
        Ok(Box::new(Verify { inner: reader, hasher: Sha256::new(), expected: info.diff_id, done: false }))
    }

    /// Removes a layer and returns whether it was there. The caller (the
    /// image store) decides when a layer is no longer used.
    pub fn remove(&self, chain_id: &str) -> Result<bool> {
        let chain_id = normalise(chain_id);
        let hex = hex_of(&chain_id).to_string();
        let _guard = self.commit_lock.lock();
        if self.layers.write().remove(&chain_id).is_none() {
            return Ok(false);
        }
        // Metadata first (the layer is gone from then on), then contents;
        // `open` finishes the job after a crash.
        let src = self.root.join(&hex);
        let doomed = self.root.join(format!("staging-rm-{hex}"));
        fs::rename(&src, &doomed).map_err(|e| GraphError::io(&src, e))?;
        sync_dir(&self.root);
        self.driver.remove(&hex)?;
        fs::remove_dir_all(&doomed).map_err(|e| GraphError::io(&doomed, e))?;
        Ok(true)
    }

    /// Every stored layer.
    pub fn list(&self) -> Vec<LayerInfo> {
        let mut all: Vec<_> = self.layers.read().values().cloned().collect();
        all.sort_by(|a, b| a.chain_id.cmp(&b.chain_id));
        all
    }

    /// The chain IDs of a list of diff IDs, bottom first.
    pub fn chain_ids(diff_ids: &[String]) -> Vec<String> {
        let mut out: Vec<String> = Vec::with_capacity(diff_ids.len());
        for d in diff_ids {
            let next = LayerStore::chain_id(out.last().map(String::as_str), d);
            out.push(next);
        }
        out
    }

    /// The driver the layers live in.
    pub fn driver(&self) -> &dyn Driver {
        &*self.driver
    }
}

fn normalise(id: &str) -> String {
    if id.starts_with("sha256:") { id.to_string() } else { format!("sha256:{id}") }
}

fn read_info(dir: &Path, hex: &str) -> Result<LayerInfo> {
    let read = |name: &str| -> Result<Option<String>> {
        let path = dir.join(name);
        match fs::read_to_string(&path) {
            Ok(s) => Ok(Some(s.trim().to_string())),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(GraphError::io(path, e)),
        }
    };
    let diff_id = read("diff")?.ok_or_else(|| GraphError::io(dir.join("diff"), io::ErrorKind::NotFound.into()))?;
    let size = read("size")?.and_then(|s| s.parse().ok()).unwrap_or(0);
    Ok(LayerInfo { chain_id: format!("sha256:{hex}"), diff_id, parent: read("parent")?, size })
}

/// Hashes what passes and fails at the end if it is not the diff ID.
struct Verify<R> {
    inner: R,
    hasher: Sha256,
    expected: String,
    done: bool,
}

impl<R: Read> Read for Verify<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n == 0 && !buf.is_empty() && !self.done {
            self.done = true;
            let actual = format!("sha256:{}", hex(&self.hasher.clone().finalize()));
            if actual != self.expected {
                return Err(io::Error::other(format!(
                    "layer {}: reassembled tar is {actual}, the layer changed on disk",
                    self.expected
                )));
            }
        }
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use super::*;
    use crate::Graph;
    use crate::archive::tests::RawTar;

    fn sha(bytes: &[u8]) -> String {
        format!("sha256:{}", hex(&Sha256::digest(bytes)))
    }

    fn leftovers(root: &Path, driver: &str) -> Vec<String> {
        let mut out = Vec::new();
        let driver_dir = if driver == "vfs" { root.join("vfs/dir") } else { root.join(driver) };
        for dir in [root.join("layers"), driver_dir] {
            for e in fs::read_dir(&dir).unwrap() {
                let name = e.unwrap().file_name().to_string_lossy().into_owned();
                if name.starts_with("staging-") {
                    out.push(name);
                }
            }
        }
        out
    }

    #[test]
    fn chain_id_is_dockers() {
        let d0 = format!("sha256:{}", "a".repeat(64));
        let d1 = format!("sha256:{}", "b".repeat(64));
        assert_eq!(LayerStore::chain_id(None, &d0), d0);
        assert_eq!(LayerStore::chain_id(Some(&d0), &d1), sha(format!("{d0} {d1}").as_bytes()));
        assert_eq!(LayerStore::chain_ids(&[d0.clone(), d1.clone()])[1], LayerStore::chain_id(Some(&d0), &d1));
    }

    #[test]
    fn register_tar_and_reopen() {
        for driver in ["vfs", "overlay"] {
            let tmp = tempfile::tempdir().unwrap();
            let base = RawTar::default().dir("etc/").file("etc/a", b"hello").hardlink("etc/b", "etc/a").done();
            let top = RawTar::default().file("etc/.wh.a", b"").file("etc/c", &[9u8; 3000]).done();
            let (l0, l1) = {
                let g = Graph::new(tmp.path(), driver, &[]).unwrap();
                let l0 = g.layers().register(None, &mut Cursor::new(&base), Some(&sha(&base))).unwrap();
                assert_eq!(l0.chain_id, sha(&base));
                assert_eq!(l0.size, 5);
                let l1 = g.layers().register(Some(&l0.chain_id), &mut Cursor::new(&top), None).unwrap();
                assert_eq!(l1.chain_id, LayerStore::chain_id(Some(&l0.chain_id), &sha(&top)));
                assert_eq!(l1.parent.as_deref(), Some(l0.chain_id.as_str()));
                assert_eq!(l1.size, 3000);
                (l0, l1)
            };
            let g = Graph::new(tmp.path(), driver, &[]).unwrap();
            assert_eq!(g.layers().get(&l1.chain_id), Some(l1.clone()));
            for (info, tar) in [(&l0, &base), (&l1, &top)] {
                let mut back = Vec::new();
                g.layers().tar(&info.chain_id).unwrap().read_to_end(&mut back).unwrap();
                assert!(back == *tar, "{driver}: layer tar differs");
            }
            let meta = tmp.path().join("layers").join(hex_of(&l1.chain_id));
            assert_eq!(fs::read_to_string(meta.join("diff")).unwrap(), sha(&top));
            assert_eq!(fs::read_to_string(meta.join("parent")).unwrap(), l0.chain_id);
            assert!(g.layers().remove(&l1.chain_id).unwrap());
            assert!(!g.layers().exists(&l1.chain_id));
            assert!(!g.driver().exists(hex_of(&l1.chain_id)));
            assert!(!g.layers().remove(&l1.chain_id).unwrap());
            assert!(leftovers(tmp.path(), driver).is_empty());
        }
    }

    #[test]
    fn failures_leave_nothing_behind() {
        for driver in ["vfs", "overlay"] {
            let tmp = tempfile::tempdir().unwrap();
            let outside = tmp.path().join("outside");
            fs::create_dir(&outside).unwrap();
            let g = Graph::new(&tmp.path().join("root"), driver, &[]).unwrap();
            let tar = RawTar::default().file("a", b"a").done();
            let wrong = format!("sha256:{}", "0".repeat(64));
            match g.layers().register(None, &mut Cursor::new(&tar), Some(&wrong)) {
                Err(GraphError::DigestMismatch { expected, actual }) => {
                    assert_eq!((expected, actual), (wrong, sha(&tar)));
                }
                other => panic!("{other:?}"),
            }
            let evil = RawTar::default().symlink("evil", outside.to_str().unwrap()).file("evil/pwned", b"x").done();
            let err = g.layers().register(None, &mut Cursor::new(&evil), None).unwrap_err();
            assert!(matches!(&err, GraphError::BadLayer(m) if m.contains("outside the layer")), "{err}");
            let evil = RawTar::default().file("../../x", b"x").done();
            assert!(matches!(g.layers().register(None, &mut Cursor::new(&evil), None), Err(GraphError::BadLayer(_))));
            assert!(fs::read_dir(&outside).unwrap().next().is_none());
            assert!(leftovers(&tmp.path().join("root"), driver).is_empty());
            assert!(g.layers().list().is_empty());
        }
    }

    #[test]
    fn vfs_needs_the_parent_and_overlay_does_not() {
        let tmp = tempfile::tempdir().unwrap();
        let tar = RawTar::default().file("a", b"a").done();
        let missing = format!("sha256:{}", "1".repeat(64));
        let vfs = Graph::new(&tmp.path().join("v"), "vfs", &[]).unwrap();
        assert!(!vfs.layers().independent_diffs());
        assert!(vfs.layers().stage(Some(&missing), &mut Cursor::new(&tar), None).is_err());
        let ovl = Graph::new(&tmp.path().join("o"), "overlay", &[]).unwrap();
        assert!(ovl.layers().independent_diffs());
        let staged = ovl.layers().stage(Some(&missing), &mut Cursor::new(&tar), None).unwrap();
        // Committing still needs the parent.
        assert!(matches!(ovl.layers().commit(staged), Err(GraphError::NoSuchImage(_))));
        assert!(leftovers(&tmp.path().join("o"), "overlay").is_empty());
    }

    #[test]
    fn the_first_commit_wins() {
        for driver in ["vfs", "overlay"] {
            let tmp = tempfile::tempdir().unwrap();
            let g = Graph::new(tmp.path(), driver, &[]).unwrap();
            let tar = RawTar::default().file("a", b"a").done();
            let one = g.layers().stage(None, &mut Cursor::new(&tar), None).unwrap();
            let two = g.layers().stage(None, &mut Cursor::new(&tar), None).unwrap();
            assert_eq!(one.diff_id(), two.diff_id());
            let a = g.layers().commit(one).unwrap();
            let b = g.layers().commit(two).unwrap();
            assert_eq!(a, b);
            assert!(leftovers(tmp.path(), driver).is_empty());
            let mut back = Vec::new();
            g.layers().tar(&a.chain_id).unwrap().read_to_end(&mut back).unwrap();
            assert_eq!(back, tar);
        }
    }

    #[test]
    fn a_changed_layer_fails_its_tar() {
        let tmp = tempfile::tempdir().unwrap();
        let g = Graph::new(tmp.path(), "vfs", &[]).unwrap();
        let tar = RawTar::default().file("a", b"abc").done();
        let info = g.layers().register(None, &mut Cursor::new(&tar), None).unwrap();
        fs::write(g.driver().diff_dir(hex_of(&info.chain_id)).join("a"), b"xyz").unwrap();
        let mut back = Vec::new();
        assert!(g.layers().tar(&info.chain_id).unwrap().read_to_end(&mut back).is_err());
    }
}
