//! iamref's dataset: the domain model of the AWS Service Authorization
//! Reference, its SQLite schema, and the snapshot format.
//!
//! No network code lives here.

pub mod atomic;
pub mod cloudtrail;
pub mod db;
pub mod diff;
pub mod domain;
pub mod export;
pub mod guard;
pub mod json_doc;
pub mod lookup;
pub mod merge;
pub mod model;
pub mod names;
pub mod publication;
pub mod reconcile;
pub mod schema;
pub mod shrink;
pub mod snapshot;
pub mod sql;

pub use model::*;

use std::path::{Path, PathBuf};

/// SHA-256 of bytes, lowercase hex: how pages and documents are named in
/// the manifest and the crawl cache.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(bytes))
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("SQLite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("{0}: {1}")]
    Io(PathBuf, std::io::Error),
    #[error("{0}: invalid JSON: {1}")]
    Json(PathBuf, serde_json::Error),
    /// Nothing at the path (the binary says how to build one).
    #[error("no database at {0}")]
    NoDatabase(PathBuf),
    #[error("{0} is not an iamref database ({1})")]
    NotADatabase(PathBuf, String),
    #[error("{path} has schema version {found}, this iamref reads version {supported}; rebuild it with `iamref build`")]
    SchemaMismatch {
        path: PathBuf,
        found: i64,
        supported: i64,
    },
    #[error("the database has schema version {found}, newer than this iamref supports ({supported}); upgrade iamref")]
    SchemaTooNew { found: i64, supported: i64 },
    #[error("corrupt data: {0}")]
    Corrupt(String),
    /// A snapshot in a format this iamref does not read
    /// ([`snapshot::READS`]): newer (upgrade) or retired (regenerate it;
    /// the binary says how).
    #[error(
        "corrupt data: {}: snapshot format {found} is not supported (this iamref reads formats {}); {}",
        path.display(),
        snapshot::READS.map(|f| f.to_string()).join(" and "),
        if *found > snapshot::FORMAT { "upgrade iamref" } else { "regenerate the snapshot" }
    )]
    SnapshotFormat { path: PathBuf, found: u32 },
    /// The place to write to is in the way (not a folder, or holds files
    /// that are not ours).
    #[error("{0}")]
    Destination(String),
    /// A folder to write is a file (an export's folder).
    #[error("{} exists and is not a folder; give a new folder name", .0.display())]
    NotAFolder(PathBuf),
}

impl Error {
    pub fn io(path: &Path, e: std::io::Error) -> Error {
        Error::Io(path.to_path_buf(), e)
    }
}
