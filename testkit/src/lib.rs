//! Test-only support shared by the tests of every iamref crate (a
//! dev-dependency, never published):
//!
//! - strict mode: [`skip`] and [`fallback`] print a message and let the test
//!   return, or fail it when `IAMREF_TEST_STRICT=1` (CI sets it), so a test
//!   cannot pass without running;
//! - the corpus locator ([`corpus_root`], [`corpus`]): the real reference
//!   pages live outside the repository, in `../shared/corpus` beside the
//!   workspace root (`IAMREF_TEST_CORPUS` points elsewhere);
//! - the `iamref` binary builders ([`iamref`], [`iamref_process`],
//!   [`iamref_db`]);
//! - [`server`]: the loopback HTTP server crawl tests and benchmarks use,
//!   and constructed fixture pages;
//! - [`python`]: throwaway venvs with pinned packages ([`python::pins`]);
//! - [`npm`]: pinned npm packages installed once under the target folder;
//! - [`expectations`]: the policy fixtures' `expectations.toml`, read and
//!   compared for the engine's and the binary's tests.

use std::fmt::Display;
use std::path::{Path, PathBuf};

pub mod expectations;
pub mod npm;
pub mod python;
pub mod server;

/// The pinned test dependencies, in one place: exact versions only
/// (checked by tests), chosen from what the registry served when set.
pub mod pins {
    /// `query/tests/cli/export.rs` (PyPI): policy_sentry answering from
    /// the export, DuckDB running the Athena CloudTrail join.
    pub const EXPORT_TOOLS: &[&str] = &["policy_sentry==0.15.2", "duckdb==2.0.1"];
    /// `query/tests/cli/record_live.rs` (PyPI): a real SDK against moto's
    /// server. botocore pinned too (boto3 accepts a range of it), to the
    /// primary version `tools/gen_operations.py` reads the models of.
    pub const LIVE_AWS: &[&str] = &["boto3==1.44.8", "botocore==1.44.8", "moto[server]==5.2.5"];
    /// `query/tests/cli/export.rs` (PyPI): the CloudTrail join in Spark
    /// local mode (needs Java 17, which Spark 3.5 supports).
    pub const SPARK: &[&str] = &["pyspark==3.5.8"];
    /// Every Python pin set, for the checks.
    pub const PYTHON: &[&[&str]] = &[EXPORT_TOOLS, LIVE_AWS, SPARK];
    /// `query/tests/cli/simulate.rs` (npm): the differential simulator.
    pub const NPM_IAM_SIMULATE: &str = "@cloud-copilot/iam-simulate@0.1.173";
    /// `query/tests/cli/policy_check.rs` (npm): Microsoft's SARIF
    /// validator (the 2.1.0 schema and the SARIF rules; a self-contained
    /// .NET build for Linux, pulled in as an optional dependency).
    pub const NPM_SARIF_MULTITOOL: &str = "@microsoft/sarif-multitool@5.7.0";
    /// The single-package npm pins (installed by [`crate::npm::install`]),
    /// for the checks.
    pub const NPM: &[&str] = &[NPM_IAM_SIMULATE, NPM_SARIF_MULTITOOL];
    /// `query/tests/cli/proxy.rs` (npm): the AWS SDK for JavaScript v3
    /// through `record --proxy` (v3 needs an agent for a proxy).
    pub const NPM_AWS_SDK_JS: &[&str] = &[
        "@aws-sdk/client-s3@3.1178.0",
        "@aws-sdk/client-sqs@3.1178.0",
        "@aws-sdk/client-dynamodb@3.1178.0",
        "https-proxy-agent@9.1.0",
        "@smithy/node-http-handler@4.14.2",
    ];
}

/// The environment variable that turns every skip into a failure.
pub const STRICT_VAR: &str = "IAMREF_TEST_STRICT";
/// The environment variable naming the corpus folder (default:
/// `../shared/corpus` relative to the workspace root).
pub const CORPUS_VAR: &str = "IAMREF_TEST_CORPUS";

/// Whether `IAMREF_TEST_STRICT=1` is set.
pub fn strict() -> bool {
    strict_value(std::env::var_os(STRICT_VAR).as_deref())
}

fn strict_value(v: Option<&std::ffi::OsStr>) -> bool {
    v.is_some_and(|v| v == "1")
}

/// The running test's name (libtest names each test's thread after it).
pub fn test_name() -> String {
    std::thread::current()
        .name()
        .unwrap_or("<unnamed test>")
        .to_string()
}

/// The test cannot run here because `why`: prints `SKIP <test>: <why>` to
/// stderr (the caller then returns), or panics with that message in strict
/// mode.
#[track_caller]
pub fn skip(why: impl Display) {
    let msg = format!("SKIP {}: {why}", test_name());
    if strict() {
        panic!("{msg} ({STRICT_VAR}=1 makes a skipped test fail)");
    }
    eprintln!("{msg}");
}

/// The test runs, but on weaker input than it was written for (e.g.
/// constructed pages instead of the corpus) because `why`: a message, or
/// a panic in strict mode.
#[track_caller]
pub fn fallback(why: impl Display) {
    let msg = format!("PARTIAL {}: {why}", test_name());
    if strict() {
        panic!("{msg} ({STRICT_VAR}=1 requires the full input)");
    }
    eprintln!("{msg}");
}

/// The workspace root (the folder holding the top `Cargo.toml`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("testkit sits in the workspace root")
        .to_path_buf()
}

/// Where the corpus is expected: `$IAMREF_TEST_CORPUS`, or
/// `../shared/corpus` relative to the workspace root (beside a clone).
pub fn corpus_root() -> PathBuf {
    match std::env::var_os(CORPUS_VAR) {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => workspace_root().join("../shared/corpus"),
    }
}

/// The corpus root when every folder in `parts` (relative to it, e.g.
/// `sar-html/2026-06-14`) exists; otherwise [`skip`] and `None`.
#[track_caller]
pub fn corpus(parts: &[&str]) -> Option<PathBuf> {
    let root = corpus_root();
    let missing: Vec<&str> = parts
        .iter()
        .copied()
        .filter(|p| !root.join(p).is_dir())
        .collect();
    if root.is_dir() && missing.is_empty() {
        return Some(root);
    }
    skip(format!(
        "the corpus is not at {} (needs {}; it lives outside the repository, set {CORPUS_VAR} to move it)",
        root.display(),
        if missing.is_empty() {
            "the folder".to_string()
        } else {
            missing.join(", ")
        }
    ));
    None
}

/// `iamref` (the binary of `iamref-query`, built by cargo for that crate's
/// tests) with no environment changes.
pub fn iamref_bin() -> assert_cmd::Command {
    assert_cmd::Command::cargo_bin("iamref")
        .expect("the iamref binary (built for iamref-query's tests)")
}

/// `iamref` with its own cache folder (`IAMREF_CACHE_DIR`, where the
/// embedded snapshot is materialized), no `IAMREF_DB` and `NO_COLOR=1`.
pub fn iamref(cache: &Path) -> assert_cmd::Command {
    let mut c = iamref_bin();
    c.env("IAMREF_CACHE_DIR", cache)
        .env_remove("IAMREF_DB")
        .env("NO_COLOR", "1");
    c
}

/// [`iamref`] as a `std::process::Command` (to spawn and signal it).
pub fn iamref_process(cache: &Path) -> std::process::Command {
    let mut c = std::process::Command::new(assert_cmd::cargo::cargo_bin("iamref"));
    c.env("IAMREF_CACHE_DIR", cache)
        .env_remove("IAMREF_DB")
        .env("NO_COLOR", "1");
    c
}

/// `iamref --db DB` with `NO_COLOR=1`.
pub fn iamref_db(db: &Path) -> assert_cmd::Command {
    let mut c = iamref_bin();
    c.arg("--db").arg(db).env("NO_COLOR", "1");
    c
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsStr;

    #[test]
    fn strict_only_for_one() {
        assert!(strict_value(Some(OsStr::new("1"))));
        assert!(!strict_value(Some(OsStr::new("0"))));
        assert!(!strict_value(Some(OsStr::new(""))));
        assert!(!strict_value(None));
    }

    #[test]
    fn test_name_is_the_thread_name() {
        let name = test_name();
        // Under libtest's threads; "main" with --test-threads=1.
        assert!(
            name.ends_with("test_name_is_the_thread_name") || name == "main",
            "{name}"
        );
    }

    #[test]
    fn skip_panics_exactly_in_strict_mode() {
        let r = std::panic::catch_unwind(|| skip("constructed reason"));
        assert_eq!(r.is_err(), strict());
        let r = std::panic::catch_unwind(|| fallback("constructed reason"));
        assert_eq!(r.is_err(), strict());
    }

    #[test]
    fn a_missing_corpus_part_skips() {
        let r = std::panic::catch_unwind(|| corpus(&["no-such-folder-in-any-corpus"]));
        match r {
            Ok(found) => {
                assert!(!strict());
                assert!(found.is_none());
            }
            Err(e) => {
                assert!(strict());
                let msg = e.downcast_ref::<String>().cloned().unwrap_or_default();
                assert!(msg.contains("no-such-folder-in-any-corpus"), "{msg}");
                assert!(msg.starts_with("SKIP "), "{msg}");
            }
        }
    }

    #[test]
    fn npm_pins_are_exact() {
        for pin in pins::NPM.iter().chain(pins::NPM_AWS_SDK_JS) {
            let (name, version) = pin.rsplit_once('@').expect("name@version");
            assert!(!name.is_empty() && name != "@", "{pin}");
            assert!(
                !version.is_empty()
                    && version
                        .split('.')
                        .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())),
                "{pin}"
            );
        }
    }

    #[test]
    fn workspace_root_holds_the_workspace() {
        let root = workspace_root();
        assert!(root.join("Cargo.toml").is_file());
        assert!(root.join("testkit/Cargo.toml").is_file());
        assert!(root.join("query/Cargo.toml").is_file());
    }
}
