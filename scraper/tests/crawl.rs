//! The crawler against an in-process loopback server (127.0.0.1 only)
//! serving the real corpus (`../shared/corpus`), or constructed fixture
//! pages when the corpus is absent (with a message; a failure under
//! `IAMREF_TEST_STRICT=1`). Faults are injected per path.

use iamref_dataset::Service;
use iamref_scraper::crawl::{crawl, CrawlConfig, CrawlError, Origin};
use iamref_scraper::pipeline::{self, PageSource};
use iamref_testkit::server::{self, Fault, Server, HTML, SR, TOC};
use std::time::Duration;

/// Short timeouts and backoffs so fault tests stay quick.
fn config(s: &Server, cache: &std::path::Path) -> CrawlConfig {
    let mut c = CrawlConfig::new(cache.to_path_buf());
    c.base_url = s.base_url();
    c.service_reference_url = Some(s.sr_url());
    c.concurrency = 8;
    c.timeout = Duration::from_millis(1500);
    c.retries = 3;
    c.backoff = Duration::from_millis(10);
    c.backoff_max = Duration::from_millis(50);
    c.retry_after_cap = Duration::from_secs(1);
    c
}

/// What `iamref build --from-dir` makes of these pages.
/// What `iamref build` makes of these pages (and JSON documents, if any).
fn build_services(pages: &[(String, Vec<u8>)], docs: &[(String, Vec<u8>)]) -> Vec<Service> {
    let sources: Vec<PageSource> = pages
        .iter()
        .map(|(f, b)| PageSource {
            file: f.clone(),
            bytes: b.clone(),
        })
        .collect();
    let parsed = pipeline::collect_pages(pipeline::parse_all(&sources, &|| {})).unwrap();
    if docs.is_empty() {
        pipeline::assemble(parsed, "build", None).services
    } else {
        pipeline::assemble_with_json(parsed, docs.to_vec(), "build", None)
            .unwrap()
            .services
    }
}

async fn serve(
    n: usize,
    rewrite_index: bool,
) -> (Server, Vec<(String, Vec<u8>)>, Vec<(String, Vec<u8>)>) {
    let (pages, docs, _) = server::inputs(n);
    let s = Server::start().await;
    s.serve_pages(&pages);
    s.serve_service_reference(&docs, rewrite_index);
    (s, pages, docs)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transient_faults_end_with_the_same_data_as_build() {
    // The index names the live host: the crawler must re-base it.
    let (s, pages, docs) = serve(24, false).await;
    let p = |i: usize| format!("{HTML}{}", pages[i % pages.len()].0);
    s.fault(&p(0), Fault::Status(500), Some(2));
    s.fault(&p(1), Fault::TooMany { retry_after: 1 }, Some(1));
    s.fault(&p(2), Fault::Hang(Duration::from_secs(4)), Some(1));
    s.fault(&p(3), Fault::Truncate, Some(2));
    s.fault(&p(4), Fault::Status(503), Some(1));
    s.fault(&format!("{HTML}{TOC}"), Fault::Status(502), Some(1));
    s.fault(SR, Fault::Truncate, Some(1));
    let d0 = &docs[0].0;
    s.fault(
        &format!("{SR}v1/{d0}/{d0}.json"),
        Fault::Status(500),
        Some(1),
    );
    s.set_latency(Duration::from_millis(5));

    let cache = tempfile::tempdir().unwrap();
    let r = crawl(&config(&s, cache.path()), &()).await.unwrap();
    assert!(r.stats.retries >= 9, "retries: {:?}", r.stats);
    assert!(r.carried_over.is_empty());
    assert_eq!(r.pages.len(), pages.len());
    let assembled = r.assemble(None).unwrap();
    assert!(!assembled.manifest.partial);
    assert_eq!(assembled.services, build_services(&pages, &docs));

    // Every byte as served.
    for (cp, (f, b)) in r.pages.iter().zip(&pages) {
        assert_eq!(&cp.file, f);
        assert!(&cp.bytes == b, "{f} differs");
        assert_eq!(cp.origin, Origin::Downloaded);
    }
    let sr = r.service_reference.as_ref().unwrap();
    assert_eq!(&sr.documents, &docs);
    assert_eq!(sr.index, s.get(SR).unwrap());

    // --save-pages, then build from the saved folder: same services.
    let saved = tempfile::tempdir().unwrap();
    r.save_pages(saved.path()).unwrap();
    let from_dir = pipeline::read_pages_dir(&saved.path().join("sar-html")).unwrap();
    let rebuilt: Vec<(String, Vec<u8>)> = from_dir.into_iter().map(|p| (p.file, p.bytes)).collect();
    assert_eq!(build_services(&rebuilt, &docs), assembled.services);
    assert!(saved.path().join("sar-html").join(TOC).is_file());
    assert!(saved.path().join("service-reference/index.json").is_file());
    assert_eq!(
        std::fs::read(
            saved
                .path()
                .join(format!("service-reference/v1/{d0}/{d0}.json"))
        )
        .unwrap(),
        docs[0].1
    );
    // Identified as iamref.
    let uas = s.user_agents();
    assert!(
        uas.iter()
            .all(|ua| ua.starts_with("iamref/") && ua.contains("(+https://")),
        "{uas:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn permanent_failures_fail_and_name_each_url() {
    let (s, pages, _) = serve(8, true).await;
    let bad = format!("{HTML}{}", pages[1].0);
    s.fault(&bad, Fault::Status(500), None);
    // A page the table of contents links but the server does not have.
    let mut names: Vec<&str> = pages.iter().map(|p| p.0.as_str()).collect();
    names.push("list_gone.html");
    s.put_page(TOC, server::toc_html(&names).into_bytes());

    let cache = tempfile::tempdir().unwrap();
    let err = crawl(&config(&s, cache.path()), &()).await.unwrap_err();
    let CrawlError::Failed(f) = &err else {
        panic!("expected Failed, got {err}")
    };
    assert_eq!(f.len(), 2, "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains(&s.url(&bad))
            && msg.contains("HTTP 500")
            && msg.contains("gave up after 4 attempts"),
        "{msg}"
    );
    assert!(
        msg.contains("list_gone.html") && msg.contains("404"),
        "{msg}"
    );
    // The 404 is not retried; the 500 is, 3 times.
    assert_eq!(s.bodies().get(&format!("{HTML}list_gone.html")), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirects_stay_on_the_configured_hosts() {
    let (s, pages, _) = serve(4, true).await;
    let other = Server::start().await; // another port: another origin
    other.put("/elsewhere.html", pages[0].1.clone());
    let p0 = format!("{HTML}{}", pages[0].0);
    s.fault(&p0, Fault::Redirect(other.url("/elsewhere.html")), None);
    // A redirect on the same host is followed.
    let p1 = format!("{HTML}{}", pages[1].0);
    s.put("/moved.html", pages[1].1.clone());
    s.fault(&p1, Fault::Redirect(s.url("/moved.html")), None);

    let cache = tempfile::tempdir().unwrap();
    let err = crawl(&config(&s, cache.path()), &()).await.unwrap_err();
    let msg = err.to_string();
    assert!(
        matches!(&err, CrawlError::Failed(f) if f.len() == 1),
        "{msg}"
    );
    assert!(
        msg.contains(&s.url(&p0))
            && msg.contains("refused")
            && msg.contains(&other.url("/elsewhere.html")),
        "{msg}"
    );
    assert_eq!(
        other
            .shared
            .requests
            .load(std::sync::atomic::Ordering::Relaxed),
        0
    );
    assert_eq!(s.bodies().get("/moved.html"), Some(&1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_bodies_are_refused_while_streaming() {
    let (s, pages, _) = serve(4, true).await;
    let p0 = format!("{HTML}{}", pages[0].0);
    let p1 = format!("{HTML}{}", pages[1].0);
    s.fault(&p0, Fault::Oversize(3 << 20), None);
    s.fault(&p1, Fault::OversizeChunked(3 << 20), None);
    let cache = tempfile::tempdir().unwrap();
    let mut c = config(&s, cache.path());
    c.max_page_bytes = 2 << 20;
    let err = crawl(&c, &()).await.unwrap_err();
    let msg = err.to_string();
    assert!(
        matches!(&err, CrawlError::Failed(f) if f.len() == 2),
        "{msg}"
    );
    assert!(
        msg.contains("--max-page-bytes") && msg.contains(&s.url(&p1)),
        "{msg}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recrawl_is_conditional_and_reparses_only_changes() {
    let (s, pages, docs) = serve(12, true).await;
    let cache = tempfile::tempdir().unwrap();
    let c = config(&s, cache.path());
    let first = crawl(&c, &()).await.unwrap();
    assert_eq!(s.bodies_under(HTML), pages.len() as u64 + 1);
    assert_eq!(first.stats.parsed, pages.len() as u64);

    // Nothing changed: no page or document body, nothing parsed.
    s.reset_counts();
    let second = crawl(&c, &()).await.unwrap();
    assert_eq!(s.bodies_under("/"), 0, "{:?}", s.bodies());
    assert_eq!(second.stats.bodies, 0);
    assert_eq!(
        second.stats.not_modified,
        pages.len() as u64 + docs.len() as u64 + 2
    );
    assert_eq!(second.stats.parsed, 0);
    assert!(second.pages.iter().all(|p| p.origin == Origin::NotModified));
    assert_eq!(
        second.assemble(None).unwrap().services,
        first.assemble(None).unwrap().services
    );

    // One page changes: exactly one body, one parse.
    let (f, b) = &pages[3];
    let changed = String::from_utf8(b.clone())
        .unwrap()
        .replacen("</body>", "<!-- changed --></body>", 1)
        .into_bytes();
    s.put_page(f, changed.clone());
    s.reset_counts();
    let third = crawl(&c, &()).await.unwrap();
    assert_eq!(s.bodies_under("/").to_owned(), 1, "{:?}", s.bodies());
    assert_eq!(s.bodies().get(&format!("{HTML}{f}")), Some(&1));
    assert_eq!(third.stats.parsed, 1);
    let page = third.pages.iter().find(|p| &p.file == f).unwrap();
    assert_eq!(page.bytes, changed);
    assert_eq!(page.origin, Origin::Downloaded);

    // --force: every body again.
    s.reset_counts();
    let mut forced = c.clone();
    forced.force = true;
    crawl(&forced, &()).await.unwrap();
    assert_eq!(s.bodies_under(HTML), pages.len() as u64 + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allow_partial_keeps_the_last_good_copy() {
    let (s, pages, docs) = serve(6, true).await;
    let cache = tempfile::tempdir().unwrap();
    let c = config(&s, cache.path());
    let good = crawl(&c, &()).await.unwrap().assemble(None).unwrap();

    let bad = format!("{HTML}{}", pages[2].0);
    s.fault(&bad, Fault::Status(500), None);
    let d = &docs[1].0;
    let bad_doc = format!("{SR}v1/{d}/{d}.json");
    s.fault(&bad_doc, Fault::Hang(Duration::from_secs(5)), None);
    // A new page the cache has never seen cannot be carried over.
    assert!(crawl(&c, &()).await.is_err());

    let mut partial = c.clone();
    partial.allow_partial = true;
    partial.force = true;
    let r = crawl(&partial, &()).await.unwrap();
    let urls: Vec<&str> = r.carried_over.iter().map(|f| f.url.as_str()).collect();
    assert!(urls.contains(&s.url(&bad).as_str()), "{urls:?}");
    let a = r.assemble(None).unwrap();
    assert!(a.manifest.partial);
    assert!(
        a.manifest
            .notes
            .iter()
            .any(|n| n.contains(&pages[2].0) && n.contains("HTTP 500")),
        "{:?}",
        a.manifest.notes
    );
    assert_eq!(a.services, good.services);
    assert_eq!(r.service_reference.unwrap().documents, docs);

    // Without a cached copy there is nothing to fall back on.
    let fresh = tempfile::tempdir().unwrap();
    let mut c2 = partial.clone();
    c2.cache_dir = fresh.path().to_path_buf();
    let err = crawl(&c2, &()).await.unwrap_err().to_string();
    assert!(err.contains("no earlier copy"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_table_of_contents_is_refused() {
    let s = Server::start().await;
    s.put_page(TOC, server::toc_html(&[]).into_bytes());
    let cache = tempfile::tempdir().unwrap();
    let mut c = config(&s, cache.path());
    c.service_reference_url = None;
    let err = crawl(&c, &()).await.unwrap_err();
    assert!(matches!(err, CrawlError::EmptyToc(_)), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn index_urls_on_foreign_hosts_are_not_followed() {
    let (s, _, _) = serve(3, true).await;
    s.put(
        SR,
        br#"[{"service":"evil","url":"http://127.0.0.2:9/v1/evil/evil.json"},{"service":"../x","url":"v1/x/x.json"}]"#.to_vec(),
    );
    let cache = tempfile::tempdir().unwrap();
    let err = crawl(&config(&s, cache.path()), &())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("127.0.0.2:9") && err.contains("not followed"),
        "{err}"
    );
    assert!(err.contains("not a valid prefix"), "{err}");
}

/// The whole corpus (476 pages, every JSON document) in one crawl, compared
/// with a build from the corpus folder.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_corpus_crawl_matches_build() {
    let (s, pages, docs) = serve(usize::MAX, true).await;
    let cache = tempfile::tempdir().unwrap();
    let mut c = config(&s, cache.path());
    c.concurrency = 16;
    let r = crawl(&c, &()).await.unwrap();
    assert_eq!(r.pages.len(), pages.len());
    assert_eq!(
        r.service_reference.as_ref().unwrap().documents.len(),
        docs.len()
    );
    let a = r.assemble(None).unwrap();
    let expected = match server::corpus_files() {
        Some(_) => {
            let dir = iamref_testkit::corpus_root()
                .join("sar-html")
                .join(server::DATE);
            let src = pipeline::read_pages_dir(&dir).unwrap();
            let parsed = pipeline::collect_pages(pipeline::parse_all(&src, &|| {})).unwrap();
            pipeline::assemble_with_json(parsed, docs.clone(), "build", None)
                .unwrap()
                .services
        }
        None => build_services(&pages, &docs),
    };
    assert_eq!(a.services.len(), expected.len());
    assert!(a.services == expected, "crawl and build disagree");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_that_stops_parsing_is_refused_or_carried_over() {
    let (s, pages, _) = serve(4, true).await;
    let cache = tempfile::tempdir().unwrap();
    let mut c = config(&s, cache.path());
    c.service_reference_url = None;
    let good = crawl(&c, &()).await.unwrap().assemble(None).unwrap();

    // The page now has no title and no prefix sentence.
    s.put_page(
        &pages[1].0,
        b"<html><body><p>Moved.</p></body></html>".to_vec(),
    );
    let err = crawl(&c, &()).await.unwrap_err();
    assert!(
        matches!(&err, CrawlError::Parse(f) if f.len() == 1 && f[0].url.ends_with(&pages[1].0)),
        "{err}"
    );
    let mut partial = c.clone();
    partial.allow_partial = true;
    let r = crawl(&partial, &()).await.unwrap();
    assert_eq!(r.carried_over.len(), 1);
    let a = r.assemble(None).unwrap();
    assert!(a.manifest.partial && a.manifest.notes[0].contains("does not parse"));
    assert_eq!(a.services, good.services);
}

/// Counts finished URLs and wakes the test when `target` are done.
struct Counter {
    done: std::sync::atomic::AtomicUsize,
    target: usize,
    notify: tokio::sync::Notify,
}

impl iamref_scraper::crawl::Progress for Counter {
    fn event(&self, e: iamref_scraper::crawl::Event<'_>) {
        if let iamref_scraper::crawl::Event::Fetched { .. } = e {
            let n = self.done.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
            if n == self.target {
                self.notify.notify_one();
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_crawl_resumes_from_the_cache() {
    let (s, pages, _) = serve(10, true).await;
    let hung = format!("{HTML}{}", pages[4].0);
    s.fault(&hung, Fault::Hang(Duration::from_secs(30)), None);
    let cache = tempfile::tempdir().unwrap();
    let mut c = config(&s, cache.path());
    c.service_reference_url = None;
    c.timeout = Duration::from_secs(30);
    // Everything but the hung page (TOC + pages - 1), then "Ctrl-C": the
    // crawl future is dropped, as `iamref crawl` does on SIGINT.
    let counter = Counter {
        done: Default::default(),
        target: pages.len(),
        notify: tokio::sync::Notify::new(),
    };
    tokio::select! {
        r = crawl(&c, &counter) => panic!("the crawl should hang, got {:?}", r.map(|r| r.stats)),
        _ = counter.notify.notified() => {}
    }
    s.clear_faults();
    s.reset_counts();
    let r = crawl(&c, &()).await.unwrap();
    assert_eq!(s.bodies().into_iter().collect::<Vec<_>>(), vec![(hung, 1)]);
    assert_eq!(r.stats.parsed, pages.len() as u64);
    assert_eq!(
        r.assemble(None).unwrap().services,
        build_services(&pages, &[])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gzip_bodies_are_decoded_and_capped_after_decoding() {
    let (s, pages, docs) = serve(4, true).await;
    s.set_gzip(true);
    let cache = tempfile::tempdir().unwrap();
    let mut c = config(&s, cache.path());
    let r = crawl(&c, &()).await.unwrap();
    for (cp, (_, b)) in r.pages.iter().zip(&pages) {
        assert!(&cp.bytes == b);
    }
    assert_eq!(r.service_reference.unwrap().documents, docs);
    // The cap applies to what the page decompresses to.
    let fresh = tempfile::tempdir().unwrap();
    c.cache_dir = fresh.path().to_path_buf();
    let smallest = pages.iter().map(|p| p.1.len()).min().unwrap() as u64;
    c.max_page_bytes = smallest - 1;
    let err = crawl(&c, &()).await.unwrap_err().to_string();
    assert!(err.contains("--max-page-bytes"), "{err}");
}
