//! The `iamref` binary's modules: each command's arguments, its output
//! and its process I/O (files, standard input, sockets, signals, the
//! terminal, `git`), over the libraries' lookups and engines
//! (`iamref-dataset`, `iamref-policy`, `iamref-scraper`, `iamref-proxy`).

pub mod api_cmd;
pub mod build_cmd;
pub mod catalog;
pub mod commands;
pub mod crawl_cmd;
pub mod diag;
pub mod diff_cmd;
pub mod exit;
pub mod explain_cmd;
pub mod guard;
pub mod input;
pub mod locate;
pub mod lookup;
pub mod matching;
pub mod output;
pub mod policy;
pub mod policy_check_cmd;
pub mod prune_cmd;
pub mod record_cmd;
pub mod render;
pub mod simulate_cmd;
pub mod split;
pub mod write_cmd;
