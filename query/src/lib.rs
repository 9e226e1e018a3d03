//! iamref's query side: locating the database, the lookups behind each
//! command, and output formatting. The `iamref` binary is a thin layer
//! over this crate.

pub mod build_cmd;
pub mod commands;
pub mod crawl_cmd;
pub mod exit;
pub mod locate;
pub mod output;
