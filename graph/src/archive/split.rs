//! tar-split: what it takes to give a layer tar back byte for byte after it
//! was extracted. Every byte of the stream is kept except regular-file
//! contents, which are named by path and size and read back from the layer
//! directory. The idea is vbatts/tar-split's (which dockerd uses since 1.10);
//! the record format here is our own compact binary one, gzip'd on disk.
//!
//! Records: `R <u32 len> <bytes>` raw stream bytes, `F <u32 len> <path>
//! <u64 size>` file contents, `E` end; integers little-endian, after the
//! magic `TSPLIT1\n`.
//!
//! Limitation: a tar that writes the same regular file twice keeps only the
//! last contents on disk, so its first copy cannot be given back; the layer
//! store's digest check then fails the reassembled stream rather than
//! return different bytes.

use std::cell::RefCell;
use std::ffi::OsStr;
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;

use sha2::{Digest, Sha256};

const MAGIC: &[u8] = b"TSPLIT1\n";
/// Raw bytes are flushed as one record once this much has gathered.
const RAW_CHUNK: usize = 64 * 1024;

/// Sits between the layer stream and `tar::Archive`: hashes every byte and
/// writes the tar-split records. The tar crate reads a non-seekable stream
/// strictly in order and only as far as it needs (headers, then the entry's
/// data when asked), so an entry's content range is always announced
/// (`skip_file`) before any of its bytes pass through here.
pub(crate) struct Recorder<'a> {
    inner: RefCell<&'a mut dyn Read>,
    state: RefCell<State<'a>>,
}

struct State<'a> {
    hasher: Sha256,
    pos: u64,
    skip_until: u64,
    raw: Vec<u8>,
    out: &'a mut dyn Write,
}

impl State<'_> {
    fn flush_raw(&mut self) -> io::Result<()> {
        if self.raw.is_empty() {
            return Ok(());
        }
        let len = u32::try_from(self.raw.len()).map_err(io::Error::other)?;
        self.out.write_all(b"R")?;
        self.out.write_all(&len.to_le_bytes())?;
        self.out.write_all(&self.raw)?;
        self.raw.clear();
        Ok(())
    }

    fn consume(&mut self, data: &[u8]) -> io::Result<()> {
        self.hasher.update(data);
        let mut rest = data;
        if self.pos < self.skip_until {
            let skip = (self.skip_until - self.pos).min(rest.len() as u64) as usize;
            self.pos += skip as u64;
            rest = &rest[skip..];
        }
        self.raw.extend_from_slice(rest);
        self.pos += rest.len() as u64;
        if self.raw.len() >= RAW_CHUNK {
            self.flush_raw()?;
        }
        Ok(())
    }
}

impl<'a> Recorder<'a> {
    /// Starts recording `src` into `out`.
    pub(crate) fn new(src: &'a mut dyn Read, out: &'a mut dyn Write) -> io::Result<Recorder<'a>> {
        out.write_all(MAGIC)?;
        Ok(Recorder {
            inner: RefCell::new(src),
            state: RefCell::new(State { hasher: Sha256::new(), pos: 0, skip_until: 0, raw: Vec::new(), out }),
        })
    }

    /// Announces that the next `size` bytes, starting at `file_pos`, are the
    /// contents of `path` (relative to the layer root) and are not to be kept.
    pub(crate) fn skip_file(&self, file_pos: u64, size: u64, path: &[u8]) -> io::Result<()> {
        let mut st = self.state.borrow_mut();
        if file_pos != st.pos || st.pos < st.skip_until {
            return Err(io::Error::other(format!(
                "tar-split: entry data at offset {file_pos} but the stream is at {}",
                st.pos
            )));
        }
        st.flush_raw()?;
        let len = u32::try_from(path.len()).map_err(io::Error::other)?;
        st.out.write_all(b"F")?;
        st.out.write_all(&len.to_le_bytes())?;
        st.out.write_all(path)?;
        st.out.write_all(&size.to_le_bytes())?;
        st.skip_until = file_pos + size;
        Ok(())
    }

    /// Reads what the tar reader left (end-of-archive blocks, padding,
    /// trailing garbage) so the digest covers the whole stream, closes the
    /// record and returns the `sha256:` digest.
    pub(crate) fn finish(self) -> io::Result<String> {
        let mut buf = vec![0u8; 32 * 1024];
        let mut reader = &self;
        loop {
            match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        let mut st = self.state.into_inner();
        st.flush_raw()?;
        st.out.write_all(b"E")?;
        st.out.flush()?;
        Ok(format!("sha256:{}", hex(&st.hasher.finalize())))
    }
}

impl Read for &Recorder<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.borrow_mut().read(buf)?;
        self.state.borrow_mut().consume(&buf[..n])?;
        Ok(n)
    }
}

/// Lower-case hex of bytes.
pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// Rebuilds the tar from a tar-split record (already gunzipped) and the
/// layer directory `root` holding the files' contents.
pub struct Reassemble<R: Read> {
    split: R,
    root: PathBuf,
    started: bool,
    current: Current,
}

enum Current {
    Idle,
    Raw(u64),
    File { file: File, remaining: u64, path: PathBuf },
    Done,
}

impl<R: Read> Reassemble<R> {
    /// Reads records from `split`, file contents from under `root`.
    pub fn new(split: R, root: PathBuf) -> Reassemble<R> {
        Reassemble { split, root, started: false, current: Current::Idle }
    }

    fn next_record(&mut self) -> io::Result<()> {
        let mut tag = [0u8; 1];
        self.split.read_exact(&mut tag)?;
        self.current = match tag[0] {
            b'R' => Current::Raw(u64::from(read_u32(&mut self.split)?)),
            b'F' => {
                let len = read_u32(&mut self.split)? as usize;
                let mut path = vec![0u8; len];
                self.split.read_exact(&mut path)?;
                let mut size = [0u8; 8];
                self.split.read_exact(&mut size)?;
                let path = self.root.join(OsStr::from_bytes(&path));
                // The layer's own files never sit behind its symlinks (apply
                // refuses that), so refusing a final symlink is enough.
                let file = File::options()
                    .read(true)
                    .custom_flags(nix::libc::O_NOFOLLOW)
                    .open(&path)
                    .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
                Current::File { file, remaining: u64::from_le_bytes(size), path }
            }
            b'E' => Current::Done,
            other => return Err(io::Error::other(format!("tar-split: unknown record {other:#x}"))),
        };
        Ok(())
    }
}

fn read_u32(r: &mut impl Read) -> io::Result<u32> {
    let mut b = [0u8; 4];
    r.read_exact(&mut b)?;
    Ok(u32::from_le_bytes(b))
}

impl<R: Read> Read for Reassemble<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if !self.started {
            let mut magic = [0u8; MAGIC.len()];
            self.split.read_exact(&mut magic)?;
            if magic != MAGIC {
                return Err(io::Error::other("tar-split: bad magic"));
            }
            self.started = true;
        }
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            match &mut self.current {
                Current::Done => return Ok(0),
                Current::Idle | Current::Raw(0) | Current::File { remaining: 0, .. } => self.next_record()?,
                Current::Raw(left) => {
                    let want = (*left).min(buf.len() as u64) as usize;
                    self.split.read_exact(&mut buf[..want])?;
                    *left -= want as u64;
                    return Ok(want);
                }
                Current::File { file, remaining, path } => {
                    let want = (*remaining).min(buf.len() as u64) as usize;
                    let n = file.read(&mut buf[..want])?;
                    if n == 0 {
                        return Err(io::Error::new(
                            io::ErrorKind::UnexpectedEof,
                            format!("{}: shorter than the layer recorded", path.display()),
                        ));
                    }
                    *remaining -= n as u64;
                    return Ok(n);
                }
            }
        }
    }
}
