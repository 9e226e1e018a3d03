//! The `iamref` binary's tests, in one test binary (one link instead of a
//! dozen), a module per command or concern:
//!
//!     cargo test -p iamref-query --test cli              # all of them
//!     cargo test -p iamref-query --test cli policy_check::  # one module
//!
//! Helpers live in [`support`] and the `iamref-testkit` crate (binary
//! builders, corpus locator, strict-mode skips, the loopback server,
//! pinned Python venvs); fixtures in `query/tests/fixtures/`. A test that
//! needs something absent (the corpus, Python/PyPI, git) prints
//! `SKIP <test>: <why>`, and fails instead under `IAMREF_TEST_STRICT=1`.

mod support;

/// `iamref api|sdk|calls|crosscheck` on a database built from the corpus.
mod api;
/// `iamref crawl` against the loopback server.
mod crawl;
/// `iamref diff` over databases, snapshots, bundles and git revisions.
mod diff;
/// `iamref export` (CSV, JSON lines, policy_sentry; DuckDB, Athena SQL).
mod export;
/// Each command's own `--format` values.
mod formats;
/// The publication guard (issue 21, round 2): damaged multi-page
/// prefixes, swapped cells, out-of-domain values, dropped JSON sections.
mod guard;
/// Adversarial input on `build`, `crawl` and `sql`.
mod harden;
/// Lookups (`action`, `check`, `expand`, `actions`, `arn`, `service`),
/// `sql`, `build`, completions, the shipped snapshot.
mod lookup;
/// Per-page facts of multi-page prefixes in `iamref diff` (constructed
/// snapshots).
mod pages;
/// `iamref policy check` on the constructed fixture policies.
mod policy_check;
/// `iamref record --proxy`: boto3 and the JavaScript SDK v3 through the
/// proxy on moto's server; hostile input on the proxy port.
mod proxy;
/// Every README.md ```console example, run and compared.
mod readme;
/// `iamref record` on replayed datagrams.
mod record;
/// The recorders on generated and mutated input.
mod record_fuzz;
/// `iamref record` with a real SDK (boto3) on moto's server.
mod record_live;
/// `iamref arn`, `check`, `write`, `tighten` on ids with ':', alternative
/// required types, fixed ARNs and vendor formats.
mod resources;
/// `iamref policy simulate`, `explain`, `prune`, and agreement with
/// iam-simulate (npm).
mod simulate;
/// `iamref policy write` and `policy tighten`.
mod write;
