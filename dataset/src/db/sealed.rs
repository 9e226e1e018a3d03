//! A database written once from services and sealed, for a cache that
//! must never answer from a damaged copy (the snapshot embedded in the
//! binary, materialized in the user's cache folder).
//!
//! The seal is a file beside the database (`PATH.ok`) that records its
//! size and modification time (nanoseconds since the epoch) once it is
//! completely written: `SIZE MTIME_NS\n`. Readable by all (0644), so that
//! a copy sealed by another user of a shared folder is used, not rebuilt.
//! A copy is intact ([`is_intact`]) when the seal matches, the file starts
//! as SQLite does, and it opens with iamref's schema and a manifest; else
//! the caller writes it again ([`write`]).

use crate::atomic::{self, Mode};
use crate::model::{Manifest, Service};
use crate::Error;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Why a sealed copy could not be written.
#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error("writing the database to {}", path.display())]
    Database { path: PathBuf, source: Error },
    /// The database written, its size and time not readable.
    #[error("reading the size and time of the database written")]
    Metadata { source: std::io::Error },
    #[error("writing {}", path.display())]
    Seal {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The seal of the database at `db`.
pub fn seal_path(db: &Path) -> PathBuf {
    let mut s = db.as_os_str().to_owned();
    s.push(".ok");
    PathBuf::from(s)
}

/// What the seal says of a file: `SIZE MTIME_NS`.
fn seal_text(meta: &std::fs::Metadata) -> String {
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    format!("{} {mtime}", meta.len())
}

/// Is the database at `path` whole: sealed with its size and time, an
/// SQLite file with iamref's schema and a manifest? (Cheap: no full read.)
pub fn is_intact(path: &Path) -> bool {
    open_intact(path).is_some()
}

/// [`is_intact`], handing back the read-only (memory-mapped) connection
/// it read the manifest with, for the caller to read on: the copy is
/// opened once.
pub fn open_intact(path: &Path) -> Option<super::Connection> {
    let meta = std::fs::metadata(path).ok()?;
    // An in-place edit keeping the size changes the modification time.
    let sealed = std::fs::read_to_string(seal_path(path)).ok();
    if sealed.as_deref().map(str::trim) != Some(seal_text(&meta).as_str()) {
        return None;
    }
    let mut head = [0u8; 16];
    let ok_head = std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok()
        && &head == b"SQLite format 3\0";
    if !ok_head {
        return None;
    }
    let conn = super::open_read_only_mapped(path).ok()?;
    super::read_manifest(&conn).ok()?;
    Some(conn)
}

/// Write the database at `path` (atomically), then its seal.
pub fn write(path: &Path, manifest: &Manifest, services: &[Service]) -> Result<(), SealError> {
    super::write_database(path, manifest, services).map_err(|source| SealError::Database {
        path: path.to_path_buf(),
        source,
    })?;
    let meta = std::fs::metadata(path).map_err(|source| SealError::Metadata { source })?;
    let seal = seal_path(path);
    atomic::write(
        &seal,
        format!("{}\n", seal_text(&meta)).as_bytes(),
        Mode::Public,
    )
    .map_err(|source| SealError::Seal { path: seal, source })
}

/// Remove the seal of the database at `path` (if any): the next reader
/// writes it again.
pub fn unseal(path: &Path) {
    let _ = std::fs::remove_file(seal_path(path));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_copy_is_intact_until_changed_or_unsealed() {
        // The snapshot in data/, written into a temporary folder.
        let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../data");
        let (manifest, services) = crate::snapshot::read_snapshot(&data).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("snapshot.sqlite");
        assert!(!is_intact(&db));
        write(&db, &manifest, &services).unwrap();
        assert!(is_intact(&db));
        unseal(&db);
        assert!(!is_intact(&db));
        write(&db, &manifest, &services).unwrap();
        assert!(is_intact(&db));
        // Cut short: the size no longer matches the seal.
        let bytes = std::fs::read(&db).unwrap();
        std::fs::write(&db, &bytes[..bytes.len() / 2]).unwrap();
        assert!(!is_intact(&db));
        // A seal that matches a file that is not SQLite.
        std::fs::write(&db, vec![b'x'; 64]).unwrap();
        let meta = std::fs::metadata(&db).unwrap();
        std::fs::write(seal_path(&db), format!("{}\n", seal_text(&meta))).unwrap();
        assert!(!is_intact(&db));
    }
}
