//! The output formats that are more than records (those are
//! [`crate::output::Out`]): one renderer per format, so no command file
//! words a format of its own.
//!
//! - [`table`]: the one column aligner (`Out::table`, `iamref sql`'s
//!   streamed table, `policy simulate`'s tables).
//! - [`sarif`]: `policy check --format sarif`.
//! - [`diff`]: `iamref diff`'s changelog, Markdown release note, TSV and
//!   JSON.
//! - [`markdown`]: Markdown pieces (the README's findings table, code
//!   spans).

pub mod diff;
pub mod markdown;
pub mod sarif;
pub mod table;
