//! Parse benchmarks on the real corpus (`../shared/corpus` from the
//! workspace root): one large page (EC2), and every 2026-06-14 page in
//! parallel. Skipped, with a message, where the corpus is absent.
//!
//! `cargo bench -p iamref-scraper --bench parse`

use criterion::{criterion_group, criterion_main, Criterion};
use iamref_scraper::pipeline;
use std::path::PathBuf;
use std::time::Duration;

fn corpus_day() -> Option<PathBuf> {
    let p = iamref_testkit::corpus_root().join("sar-html/2026-06-14");
    if p.is_dir() {
        Some(p)
    } else {
        eprintln!(
            "SKIPPED: corpus not found at {}; the parse benchmarks need it",
            p.display()
        );
        None
    }
}

fn benches(c: &mut Criterion) {
    let Some(dir) = corpus_day() else { return };

    let ec2 = std::fs::read_to_string(dir.join("list_amazonec2.html")).unwrap();
    let mut g = c.benchmark_group("parse");
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    g.bench_function("list_amazonec2.html", |b| {
        b.iter(|| iamref_scraper::parse_page("list_amazonec2.html", &ec2).unwrap())
    });

    let pages = pipeline::read_pages_dir(&dir).unwrap();
    g.measurement_time(Duration::from_secs(10));
    g.bench_function("all 2026-06-14 pages, parallel", |b| {
        b.iter(|| {
            let r = pipeline::parse_all(&pages, &|| {});
            assert!(r.iter().all(|p| p.is_ok()));
            r
        })
    });
    g.finish();
}

criterion_group!(parse, benches);
criterion_main!(parse);
