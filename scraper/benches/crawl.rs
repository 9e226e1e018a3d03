//! Crawl benchmark against the loopback mirror of the 2026-06-14 corpus
//! with added latency per request (default 50 ms).
//!
//!     cargo bench -p iamref-scraper --bench crawl
//!         cold crawl (HTML only, then HTML + JSON), re-crawl with nothing
//!         changed, re-crawl with one page changed; measured vs ideal.
//!     cargo bench -p iamref-scraper --bench crawl -- --serve [--latency-ms N]
//!         only serve the mirror (prints the URLs) so the real binary can be
//!         timed, e.g. /usr/bin/time -v target/release/iamref crawl ...
//!
//! Skips (with a message) when ../shared/corpus is absent.

use iamref_scraper::crawl::{crawl, CrawlConfig};
use iamref_scraper::pipeline::{self, PageSource};
use iamref_testkit::server::{self, Server, HTML};
use std::time::{Duration, Instant};

fn peak_rss_mib() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let latency_ms: u64 = args
        .iter()
        .position(|a| a == "--latency-ms")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(50);
    let Some((pages, docs)) = server::corpus_files() else {
        eprintln!(
            "crawl benchmark skipped: the corpus is not at {}",
            iamref_testkit::corpus_root().display()
        );
        return;
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let s = rt.block_on(Server::start());
    s.serve_pages(&pages);
    s.serve_service_reference(&docs, true);
    s.set_latency(Duration::from_millis(latency_ms));
    let latency = Duration::from_millis(latency_ms);

    if args.iter().any(|a| a == "--serve") {
        println!(
            "serving {} pages, {} JSON documents, {latency_ms} ms latency",
            pages.len(),
            docs.len()
        );
        println!(
            "--base-url {} --service-reference-url {}",
            s.base_url(),
            s.sr_url()
        );
        rt.block_on(async {
            let _ = tokio::signal::ctrl_c().await;
        });
        return;
    }

    let t = Instant::now();
    let sources: Vec<PageSource> = pages
        .iter()
        .map(|(f, b)| PageSource {
            file: f.clone(),
            bytes: b.clone(),
        })
        .collect();
    let parsed = pipeline::parse_all(&sources, &|| {});
    let parse_time = t.elapsed();
    drop((sources, parsed));
    println!(
        "corpus: {} pages ({:.1} MiB), {} JSON documents; latency {latency_ms} ms per request; parse alone {:.2}s",
        pages.len(),
        pages.iter().map(|p| p.1.len()).sum::<usize>() as f64 / 1048576.0,
        docs.len(),
        parse_time.as_secs_f64()
    );

    for (conc, with_json) in [(8, false), (16, false), (16, true)] {
        let cache = tempfile::tempdir().unwrap();
        let mut c = CrawlConfig::new(cache.path().to_path_buf());
        c.base_url = s.base_url();
        c.service_reference_url = with_json.then(|| s.sr_url());
        c.concurrency = conc;
        let requests = pages.len() + 1 + if with_json { docs.len() + 1 } else { 0 };
        // Two round trips are sequential (TOC, then pages; index, then docs).
        let ideal = latency.mul_f64((requests as f64 / conc as f64).ceil() + 1.0) + parse_time;

        s.reset_counts();
        let t = Instant::now();
        let r = rt.block_on(crawl(&c, &())).unwrap();
        let cold = t.elapsed();
        let what = if with_json { "HTML+JSON" } else { "HTML" };
        println!(
            "cold   {what:9} concurrency {conc:2}: {:6.2}s  ideal {:5.2}s ({requests} requests x {latency_ms} ms / {conc} + parse)  {:.1} MiB, {} bodies",
            cold.as_secs_f64(),
            ideal.as_secs_f64(),
            r.stats.bytes as f64 / 1048576.0,
            s.bodies_under("/")
        );
        drop(r);

        s.reset_counts();
        let t = Instant::now();
        let r = rt.block_on(crawl(&c, &())).unwrap();
        println!(
            "warm   {what:9} concurrency {conc:2}: {:6.2}s  {} bodies served, {} not modified, {} parsed",
            t.elapsed().as_secs_f64(),
            s.bodies_under("/"),
            r.stats.not_modified,
            r.stats.parsed
        );
        drop(r);

        let (f, b) = &pages[pages.len() / 2];
        let mut changed = b.clone();
        changed.extend_from_slice(b"<!-- changed -->\n");
        s.put_page(f, changed);
        s.reset_counts();
        let t = Instant::now();
        let r = rt.block_on(crawl(&c, &())).unwrap();
        println!(
            "1 page changed {what:5} conc. {conc:2}: {:6.2}s  {} bodies served ({}), {} parsed",
            t.elapsed().as_secs_f64(),
            s.bodies_under("/"),
            s.bodies()
                .keys()
                .filter(|k| k.starts_with(HTML))
                .cloned()
                .collect::<Vec<_>>()
                .join(","),
            r.stats.parsed
        );
        s.put_page(f, b.clone());
    }
    if let Some(m) = peak_rss_mib() {
        println!(
            "peak RSS of this process {m:.0} MiB (includes the server's in-memory copy of the corpus; see /usr/bin/time -v on the binary for the crawler alone)"
        );
    }
}
