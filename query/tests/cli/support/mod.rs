//! Paths and helpers the CLI test modules share (everything that is not
//! specific to `query` lives in `iamref-testkit`).

#![allow(dead_code)]

pub mod live;
pub mod record;

use std::path::{Path, PathBuf};

pub use iamref_testkit::{iamref, iamref_db, iamref_process};

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `query/tests/fixtures`, the constructed inputs of these tests.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}
