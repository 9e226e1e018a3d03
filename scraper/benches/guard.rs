//! What the publication guard's checks cost next to the build they guard
//! (issue #21: at most 10% of `bash bench/build.sh`), on the real corpus
//! (`../shared/corpus`, the 2026-06-14 pages and JSON): the build's own
//! steps (reading, parsing and assembling; writing the database), and each
//! check, timed apart. The checks:
//!
//! - the domain check of every value (`domain::check_services`) beside
//!   the new data's profile and inventory (`guard::examine`, two threads),
//!   then their review against the database being replaced: before the
//!   write, nothing else running;
//! - that database read whole as a baseline (`guard::database_baseline`),
//!   which `build` runs on a thread while the pages parse.
//!
//! Skipped, with a message, where the corpus is absent.
//!
//! `cargo bench -p iamref-scraper --bench guard`

use criterion::{criterion_group, criterion_main, Criterion};
use iamref_dataset::guard;
use iamref_scraper::pipeline::build::{self, Input, Progress};
use std::time::Duration;

struct Quiet;

impl Progress for Quiet {
    fn parsing(&self, _: usize) {}
    fn parsed(&self) {}
    fn done(&self) {}
}

fn benches(c: &mut Criterion) {
    let root = iamref_testkit::corpus_root();
    let (pages, json) = (
        root.join("sar-html/2026-06-14"),
        root.join("service-reference/2026-06-14"),
    );
    if !pages.is_dir() || !json.is_dir() {
        eprintln!(
            "SKIPPED: corpus not found at {}; the guard benchmarks need it",
            root.display()
        );
        return;
    }
    let input = Input {
        pages_dir: Some(&pages),
        json_dir: Some(&json),
        captured: None,
    };
    let built = build::build(&input, &Quiet).unwrap();
    let (manifest, services) = (&built.manifest, &built.services);
    // The database being replaced: the same build, written before.
    let dir = tempfile::tempdir().unwrap();
    let previous = dir.path().join("previous.sqlite");
    iamref_dataset::db::write_database(&previous, manifest, services).unwrap();
    let old = guard::database_baseline(Some(&previous)).unwrap().unwrap();

    let mut g = c.benchmark_group("guard");
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(5));
    g.bench_function("build: read, parse, assemble (pages + JSON)", |b| {
        b.iter(|| build::build(&input, &Quiet).unwrap())
    });
    g.bench_function("build: write the database", |b| {
        let out = dir.path().join("out.sqlite");
        b.iter(|| iamref_dataset::db::write_database(&out, manifest, services).unwrap())
    });
    g.bench_function(
        "check: domain beside profile and inventory, then review",
        |b| {
            b.iter(|| {
                let (bad, facts) = guard::examine(manifest, services);
                assert!(bad.is_empty());
                let report = guard::review(
                    [(old.what.as_str(), &old.profile, &old.inventory)],
                    &facts.profile,
                    &facts.inventory,
                    10.0,
                );
                assert!(report.is_none());
            })
        },
    );
    g.bench_function(
        "check: the previous database read as a baseline (on a thread)",
        |b| b.iter(|| guard::database_baseline(Some(&previous)).unwrap().unwrap()),
    );
    g.finish();
}

criterion_group!(guard_checks, benches);
criterion_main!(guard_checks);
