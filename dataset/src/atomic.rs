//! The one way iamref writes a file: into a temporary file beside it,
//! flushed and synced, given its documented mode, then renamed over the
//! destination, and the folder synced. A reader sees the old file or the
//! new one, never half of one; a failure leaves the old file as it was
//! (the temporary file is removed).
//!
//! Modes (Unix), chosen per file, never inherited from the temporary
//! file (which is created 0600):
//!
//! | [`Mode`] | Bits | Used for |
//! |---|---|---|
//! | [`Mode::Public`] | 0644 | databases, exports, snapshots' files, policies, SARIF, the crawl cache, the CA certificate |
//! | [`Mode::Private`] | 0600 | the proxy CA's private key; `record --log` call logs (they name the workload's principals, accounts and resources) |

use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// The permission bits a written file gets (see the module's table).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// 0644: readable by others, as an ordinary output.
    Public,
    /// 0600: the owner only.
    Private,
}

impl Mode {
    pub fn bits(self) -> u32 {
        match self {
            Mode::Public => 0o644,
            Mode::Private => 0o600,
        }
    }
}

/// A file being written; nothing appears at its path until [`finish`].
///
/// [`finish`]: AtomicFile::finish
pub struct AtomicFile {
    w: BufWriter<tempfile::NamedTempFile>,
    path: PathBuf,
    mode: Mode,
}

fn named(path: &Path, e: io::Error) -> io::Error {
    io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

fn parent(path: &Path) -> &Path {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

impl AtomicFile {
    /// A temporary file in `path`'s folder (which must exist). Errors name
    /// the folder.
    pub fn create(path: &Path, mode: Mode) -> io::Result<AtomicFile> {
        let dir = parent(path);
        let tmp = tempfile::Builder::new()
            .prefix(".iamref-")
            .tempfile_in(dir)
            .map_err(|e| {
                io::Error::new(
                    e.kind(),
                    format!(
                        "{}: cannot create a file in {}: {e}",
                        path.display(),
                        dir.display()
                    ),
                )
            })?;
        Ok(AtomicFile {
            w: BufWriter::with_capacity(1 << 16, tmp),
            path: path.to_path_buf(),
            mode,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Flush, set the mode, sync, rename over the destination, sync the
    /// folder. Errors name the destination.
    pub fn finish(self) -> io::Result<()> {
        let path = self.path;
        let tmp = self
            .w
            .into_inner()
            .map_err(|e| named(&path, e.into_error()))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            tmp.as_file()
                .set_permissions(std::fs::Permissions::from_mode(self.mode.bits()))
                .map_err(|e| named(&path, e))?;
        }
        #[cfg(not(unix))]
        let _ = self.mode;
        tmp.as_file().sync_all().map_err(|e| named(&path, e))?;
        tmp.persist(&path).map_err(|e| named(&path, e.error))?;
        sync_dir(parent(&path));
        Ok(())
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.w.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.w.flush()
    }
}

/// Write `bytes` at `path` atomically with `mode`.
pub fn write(path: &Path, bytes: &[u8], mode: Mode) -> io::Result<()> {
    let mut f = AtomicFile::create(path, mode)?;
    f.write_all(bytes).map_err(|e| named(path, e))?;
    f.finish()
}

/// Make a rename in `dir` durable (best effort: not every file system
/// lets a folder be opened for syncing).
pub fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_whole_files_with_their_documented_mode() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out.json");
        write(&p, b"old", Mode::Public).unwrap();
        write(&p, b"new", Mode::Private).unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"new");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&p), 0o600);
            write(&p, b"again", Mode::Public).unwrap();
            assert_eq!(mode(&p), 0o644);
        }
        // Only the file: no temporary file is left beside it.
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1);
    }

    #[test]
    fn an_unfinished_file_leaves_the_old_one() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("log.jsonl");
        write(&p, b"kept", Mode::Public).unwrap();
        let mut f = AtomicFile::create(&p, Mode::Public).unwrap();
        f.write_all(b"half of a").unwrap();
        drop(f); // a failure before finish
        assert_eq!(std::fs::read(&p).unwrap(), b"kept");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn errors_name_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("no-such-folder/out.json");
        let e = write(&p, b"x", Mode::Public).unwrap_err().to_string();
        assert!(e.contains("no-such-folder"), "{e}");
    }
}
