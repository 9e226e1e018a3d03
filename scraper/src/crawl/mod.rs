//! The live crawler: discovers the Service Authorization Reference pages
//! from its table of contents, fetches them (and AWS's JSON service
//! reference) concurrently and incrementally, and parses them with the same
//! pipeline as `iamref build`.
//!
//! ```no_run
//! # async fn f() -> Result<(), iamref_scraper::crawl::CrawlError> {
//! use iamref_scraper::crawl::{crawl, CrawlConfig};
//! let cfg = CrawlConfig::new(std::path::PathBuf::from("/tmp/iamref-cache/crawl"));
//! let result = crawl(&cfg, &()).await?;
//! let assembled = result.assemble(None).expect("every fetched document parses");
//! # Ok(()) }
//! ```
//!
//! Nothing here writes a database: the caller decides whether the result is
//! good enough to publish (see `iamref crawl`). The cache (see [`cache`])
//! is updated as bodies arrive, so an interrupted crawl resumes.

pub mod cache;
pub mod http;

use crate::pipeline::{self, Assembled, PageSource};
use cache::{Cache, Entry};
use futures_util::future::join_all;
use http::{Fetched, Fetcher, Validators};
use iamref_dataset::model::Page;
use reqwest::Url;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::Duration;

/// Default base URL of the Service Authorization Reference.
pub const DEFAULT_BASE_URL: &str =
    "https://docs.aws.amazon.com/service-authorization/latest/reference/";
/// Default root of AWS's JSON service reference.
pub const DEFAULT_SERVICE_REFERENCE_URL: &str = "https://servicereference.us-east-1.amazonaws.com/";
/// The table of contents, relative to the base URL.
pub const TOC_FILE: &str = "reference_policies_actions-resources-contextkeys.html";

/// How to crawl. [`CrawlConfig::new`] gives the defaults `iamref crawl` uses.
#[derive(Debug, Clone)]
pub struct CrawlConfig {
    /// Base URL of the reference; pages are resolved against it.
    pub base_url: String,
    /// Root of the JSON service reference; `None` skips it.
    pub service_reference_url: Option<String>,
    /// Where the crawl cache lives (state, objects, parsed pages).
    pub cache_dir: PathBuf,
    /// Requests in flight at most.
    pub concurrency: usize,
    /// Connect timeout, and the longest wait for the response head or for
    /// the next piece of a body.
    pub timeout: Duration,
    /// Extra attempts after a transient failure.
    pub retries: u32,
    /// First backoff delay (doubled each retry, with jitter).
    pub backoff: Duration,
    pub backoff_max: Duration,
    /// Longest `Retry-After` honoured.
    pub retry_after_cap: Duration,
    /// Largest body accepted (checked while streaming).
    pub max_page_bytes: u64,
    /// Ignore the cached validators: fetch every body again.
    pub force: bool,
    /// Keep the last good cached copy of pages that fail, instead of failing.
    pub allow_partial: bool,
    pub user_agent: String,
}

impl CrawlConfig {
    pub fn new(cache_dir: PathBuf) -> CrawlConfig {
        CrawlConfig {
            base_url: DEFAULT_BASE_URL.to_string(),
            service_reference_url: Some(DEFAULT_SERVICE_REFERENCE_URL.to_string()),
            cache_dir,
            concurrency: 8,
            timeout: Duration::from_secs(30),
            retries: 4,
            backoff: Duration::from_millis(500),
            backoff_max: Duration::from_secs(30),
            retry_after_cap: Duration::from_secs(60),
            max_page_bytes: 20 * 1024 * 1024,
            force: false,
            allow_partial: false,
            user_agent: default_user_agent(),
        }
    }
}

/// `iamref/VERSION (+REPOSITORY)`.
pub fn default_user_agent() -> String {
    format!(
        "iamref/{} (+{})",
        env!("CARGO_PKG_VERSION"),
        env!("CARGO_PKG_REPOSITORY")
    )
}

/// Something that happened during a crawl, for a progress display.
#[derive(Debug)]
pub enum Event<'a> {
    /// `n` more URLs are to be fetched (the table of contents, then its
    /// pages, then the JSON index and its documents).
    Discovered { n: usize },
    /// A URL is done: a body of `bytes`, or unchanged (304).
    Fetched {
        url: &'a str,
        bytes: u64,
        not_modified: bool,
    },
    /// A transient failure; another attempt follows after `delay`.
    Retrying {
        url: &'a str,
        attempt: u32,
        error: &'a str,
        delay: Duration,
    },
    /// A URL failed for good (after retries).
    Failed { url: &'a str, error: &'a str },
    /// A failed URL is replaced by its last good cached copy.
    CarriedOver { url: &'a str },
    /// Parsing `n` new or changed pages.
    Parsing { n: usize },
}

/// Receives [`Event`]s. `()` ignores them.
pub trait Progress: Send + Sync {
    fn event(&self, e: Event<'_>);
}

impl Progress for () {
    fn event(&self, _: Event<'_>) {}
}

#[derive(Debug, thiserror::Error)]
pub enum CrawlError {
    /// Bad configuration (a URL that does not parse, ...).
    #[error("{0}")]
    Config(String),
    /// A configured base URL that is not an http(s) URL with a host
    /// (`problem` says which: "is not a URL: …" or "must be …").
    #[error("the {which} {url:?} {problem}")]
    BadBase {
        which: Base,
        url: String,
        problem: String,
    },
    /// The cache folder cannot be used.
    #[error("crawl cache: {0}")]
    Cache(String),
    /// URLs that still failed after retries (and, with `allow_partial`,
    /// had no cached copy to fall back on).
    #[error("{} URL(s) failed:\n{}", .0.len(), .0.iter().map(|f| format!("  {}: {}", f.url, f.error)).collect::<Vec<_>>().join("\n"))]
    Failed(Vec<Failure>),
    /// The table of contents links no service page.
    #[error("{0}: the table of contents links no list_*.html page; has the layout changed? (nothing was written)")]
    EmptyToc(String),
    /// Pages that were fetched but could not be parsed.
    #[error("{} page(s) could not be parsed:\n{}", .0.len(), .0.iter().map(|f| format!("  {}: {}", f.url, f.error)).collect::<Vec<_>>().join("\n"))]
    Parse(Vec<Failure>),
}

/// Which base URL of a [`CrawlConfig`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Base {
    /// `base_url`: the Service Authorization Reference.
    Reference,
    /// `service_reference_url`: the JSON service reference.
    ServiceReference,
}

impl std::fmt::Display for Base {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Base::Reference => "reference base URL",
            Base::ServiceReference => "service reference base URL",
        })
    }
}

/// One URL that could not be used, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub url: String,
    pub error: String,
}

/// Where a page's bytes came from in this crawl.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A body received in this crawl.
    Downloaded,
    /// 304: the cached body is current.
    NotModified,
    /// The fetch failed; the last good cached copy is used (`allow_partial`).
    CarriedOver { error: String },
}

/// One fetched page.
#[derive(Debug, Clone)]
pub struct CrawledPage {
    /// File name, e.g. `list_amazons3.html`.
    pub file: String,
    pub url: String,
    pub sha256: String,
    pub bytes: Vec<u8>,
    pub origin: Origin,
}

/// The JSON service reference as fetched: bytes only (ingestion is separate).
#[derive(Debug, Clone, Default)]
pub struct ServiceReference {
    pub index_url: String,
    /// The index as served (its URLs still name the host it was served from).
    pub index: Vec<u8>,
    /// `(prefix, document bytes)`, sorted by prefix.
    pub documents: Vec<(String, Vec<u8>)>,
    /// Documents replaced by a cached copy after failing (`allow_partial`).
    pub carried_over: Vec<Failure>,
}

/// Counters for one crawl.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CrawlStats {
    /// Requests sent, including retries.
    pub requests: u64,
    /// Bodies received (200s).
    pub bodies: u64,
    /// 304 answers.
    pub not_modified: u64,
    /// Body bytes received (after decompression).
    pub bytes: u64,
    pub retries: u64,
    /// Pages parsed in this crawl (the rest came from the parse cache).
    pub parsed: u64,
}

/// What a crawl produced.
#[derive(Debug, Clone)]
pub struct CrawlResult {
    pub base_url: String,
    pub toc: Vec<u8>,
    /// Pages sorted by file name.
    pub pages: Vec<CrawledPage>,
    /// Parsed pages, same order.
    pub parsed: Vec<Page>,
    pub service_reference: Option<ServiceReference>,
    /// Every URL that was replaced by a cached copy (`allow_partial`).
    pub carried_over: Vec<Failure>,
    pub stats: CrawlStats,
}

impl CrawlResult {
    /// Merge the parsed pages into services, as `iamref build` does; a
    /// partial crawl is marked in the manifest with a note per page.
    ///
    /// With the JSON service reference fetched, its documents are
    /// reconciled with the pages; a document that cannot be read fails the
    /// whole result, as an unreadable page does.
    pub fn assemble(&self, captured: Option<String>) -> Result<Assembled, pipeline::PipelineError> {
        let mut a = match &self.service_reference {
            Some(sr) => pipeline::assemble_with_json(
                self.parsed.clone(),
                sr.documents.clone(),
                &self.base_url,
                captured,
            )?,
            None => pipeline::assemble(self.parsed.clone(), &self.base_url, captured),
        };
        if !self.carried_over.is_empty() {
            a.manifest.partial = true;
            for f in &self.carried_over {
                a.manifest.notes.push(format!(
                    "{} kept from an earlier crawl (this crawl failed: {})",
                    f.url, f.error
                ));
            }
        }
        Ok(a)
    }

    /// The pages as `pipeline` takes them.
    pub fn page_sources(&self) -> Vec<PageSource> {
        self.pages
            .iter()
            .map(|p| PageSource {
                file: p.file.clone(),
                bytes: p.bytes.clone(),
            })
            .collect()
    }

    /// Write every fetched body under `dir`, in the corpus layout:
    /// `sar-html/*.html` (the pages and the table of contents),
    /// `service-reference/index.json` and
    /// `service-reference/v1/PREFIX/PREFIX.json`. `iamref build --from-dir
    /// DIR/sar-html` gives the same services as this crawl.
    pub fn save_pages(&self, dir: &Path) -> Result<(), String> {
        let html = dir.join("sar-html");
        cache::write_atomic(&html.join(TOC_FILE), &self.toc)?;
        for p in &self.pages {
            cache::write_atomic(&html.join(&p.file), &p.bytes)?;
        }
        if let Some(sr) = &self.service_reference {
            let d = dir.join("service-reference");
            cache::write_atomic(&d.join("index.json"), &sr.index)?;
            for (prefix, bytes) in &sr.documents {
                let p = d.join("v1").join(prefix).join(format!("{prefix}.json"));
                cache::write_atomic(&p, bytes)?;
            }
        }
        Ok(())
    }
}

fn parse_base(which: Base, s: &str) -> Result<Url, CrawlError> {
    let mut s = s.trim().to_string();
    if !s.ends_with('/') {
        s.push('/');
    }
    let bad = |problem: String| CrawlError::BadBase {
        which,
        url: s.clone(),
        problem,
    };
    let u = Url::parse(&s).map_err(|e| bad(format!("is not a URL: {e}")))?;
    if !matches!(u.scheme(), "http" | "https") || u.host_str().is_none() {
        return Err(bad("must be an http:// or https:// URL with a host".into()));
    }
    Ok(u)
}

/// A name that is safe as a file name: `[A-Za-z0-9._-]`, not starting with a dot.
fn safe_name(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with('.')
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

struct Ctx<'a> {
    fetcher: Fetcher,
    cache: Cache,
    progress: &'a dyn Progress,
    force: bool,
    allow_partial: bool,
    /// Pages being parsed while the rest download: page file → result.
    preparsed: std::sync::Mutex<std::collections::HashMap<String, PreParse>>,
}

type PreParse = tokio::sync::oneshot::Receiver<Result<Page, crate::parse::ParseError>>;

impl Ctx<'_> {
    /// Start parsing a freshly downloaded page on the rayon pool, so that
    /// parsing overlaps the downloads still in flight.
    fn preparse(&self, file: &str, got: &Got) {
        if !matches!(got.origin, Origin::Downloaded) || self.cache.has_parsed(&got.sha256) {
            return;
        }
        let (tx, rx) = tokio::sync::oneshot::channel();
        let src = PageSource {
            file: file.to_string(),
            bytes: got.bytes.clone(),
        };
        rayon::spawn(move || {
            let _ = tx.send(pipeline::parse_source(&src));
        });
        if let Ok(mut m) = self.preparsed.lock() {
            m.insert(file.to_string(), rx);
        }
    }

    /// The result of [`Ctx::preparse`] for this page, if it was started.
    async fn take_preparsed(&self, file: &str) -> Option<Result<Page, crate::parse::ParseError>> {
        let rx = self.preparsed.lock().ok()?.remove(file)?;
        rx.await.ok()
    }
}

/// A body, and whether it came over the wire.
struct Got {
    bytes: Vec<u8>,
    sha256: String,
    origin: Origin,
}

impl Ctx<'_> {
    /// Fetch one URL through the cache. With `allow_partial`, a failure
    /// falls back on the last cached body of the URL.
    async fn get(&self, url: &Url) -> Result<Got, Failure> {
        let key = url.as_str();
        let prev = self.cache.entry(key);
        // Only ask "has it changed?" if the body we would fall back on exists.
        let cond = match &prev {
            Some(e) if !self.force && self.cache.has_object(&e.sha256) => Some(Validators {
                etag: e.etag.clone(),
                last_modified: e.last_modified.clone(),
            }),
            _ => None,
        }
        .filter(|v| v.etag.is_some() || v.last_modified.is_some());
        let r = self.fetcher.fetch(url, cond.as_ref(), self.progress).await;
        let r = match r {
            Ok(Fetched::NotModified) => {
                let cached = prev
                    .as_ref()
                    .and_then(|p| Some((self.cache.get_object(&p.sha256)?, p.sha256.clone())));
                match cached {
                    Some((bytes, sha256)) => {
                        self.fetcher
                            .counters
                            .not_modified
                            .fetch_add(1, Ordering::Relaxed);
                        self.progress.event(Event::Fetched {
                            url: key,
                            bytes: 0,
                            not_modified: true,
                        });
                        return Ok(Got {
                            bytes,
                            sha256,
                            origin: Origin::NotModified,
                        });
                    }
                    None => {
                        // The object vanished between the check and now:
                        // ask again without validators.
                        match self.fetcher.fetch(url, None, self.progress).await {
                            Ok(Fetched::Body {
                                bytes,
                                etag,
                                last_modified,
                            }) => Ok((bytes, etag, last_modified)),
                            Ok(Fetched::NotModified) => {
                                Err("unexpected 304 to an unconditional request".to_string())
                            }
                            Err(e) => Err(e),
                        }
                    }
                }
            }
            Ok(Fetched::Body {
                bytes,
                etag,
                last_modified,
            }) => Ok((bytes, etag, last_modified)),
            Err(e) => Err(e),
        };
        match r {
            Ok((bytes, etag, last_modified)) => {
                let sha256 = self
                    .cache
                    .put_object(&bytes)
                    .map_err(|e| fail(key, format!("storing the body in the cache: {e}")))?;
                self.cache
                    .record(Entry {
                        url: key.to_string(),
                        etag,
                        last_modified,
                        sha256: sha256.clone(),
                        good: prev.and_then(|p| p.good),
                        check: None,
                    })
                    .map_err(|e| fail(key, format!("recording the crawl state: {e}")))?;
                self.progress.event(Event::Fetched {
                    url: key,
                    bytes: bytes.len() as u64,
                    not_modified: false,
                });
                Ok(Got {
                    bytes,
                    sha256,
                    origin: Origin::Downloaded,
                })
            }
            Err(error) => {
                self.progress.event(Event::Failed {
                    url: key,
                    error: &error,
                });
                if self.allow_partial {
                    // Prefer the last copy known to parse.
                    let fallback = prev.and_then(|p| {
                        p.good
                            .into_iter()
                            .chain(std::iter::once(p.sha256))
                            .find_map(|sha| Some((self.cache.get_object(&sha)?, sha)))
                    });
                    if let Some((bytes, sha256)) = fallback {
                        self.progress.event(Event::CarriedOver { url: key });
                        return Ok(Got {
                            bytes,
                            sha256,
                            origin: Origin::CarriedOver { error },
                        });
                    }
                    return Err(fail(
                        key,
                        format!("{error} (no earlier copy in the cache to fall back on)"),
                    ));
                }
                Err(fail(key, error))
            }
        }
    }
}

fn fail(url: &str, error: impl Into<String>) -> Failure {
    Failure {
        url: url.to_string(),
        error: error.into(),
    }
}

/// Crawl: table of contents, pages, JSON service reference; then parse.
/// Fails if any URL still fails after retries (unless `allow_partial` and a
/// cached copy exists) or any page does not parse.
pub async fn crawl(cfg: &CrawlConfig, progress: &dyn Progress) -> Result<CrawlResult, CrawlError> {
    let base = parse_base(Base::Reference, &cfg.base_url)?;
    let sr_base = match &cfg.service_reference_url {
        Some(s) => Some(parse_base(Base::ServiceReference, s)?),
        None => None,
    };
    let mut allowed = vec![http::origin(&base)];
    if let Some(s) = &sr_base {
        allowed.push(http::origin(s));
    }
    allowed.dedup();
    let fetcher = Fetcher::new(cfg, allowed).map_err(CrawlError::Config)?;
    let cache = Cache::open(&cfg.cache_dir).map_err(CrawlError::Cache)?;
    let ctx = Ctx {
        fetcher,
        cache,
        progress,
        force: cfg.force,
        allow_partial: cfg.allow_partial,
        preparsed: Default::default(),
    };

    // The service reference runs beside the HTML crawl.
    let sr_fut = async {
        match &sr_base {
            Some(b) => Some(fetch_service_reference(&ctx, b).await),
            None => None,
        }
    };
    let html_fut = fetch_html(&ctx, &base);
    let (html, sr) = tokio::join!(html_fut, sr_fut);
    let (toc, got) = html?;
    let mut failures: Vec<Failure> = Vec::new();
    let mut carried_over = Vec::new();
    let mut pages = Vec::with_capacity(got.len());
    for (file, url, r) in got {
        match r {
            Ok(g) => {
                if let Origin::CarriedOver { error } = &g.origin {
                    carried_over.push(fail(url.as_str(), error.clone()));
                }
                pages.push(CrawledPage {
                    file,
                    url: url.to_string(),
                    sha256: g.sha256,
                    bytes: g.bytes,
                    origin: g.origin,
                })
            }
            Err(f) => failures.push(f),
        }
    }
    let service_reference = match sr {
        None => None,
        Some(Ok(sr)) => {
            carried_over.extend(sr.carried_over.iter().cloned());
            Some(sr)
        }
        Some(Err(mut f)) => {
            failures.append(&mut f);
            None
        }
    };
    if !failures.is_empty() {
        let _ = ctx.cache.compact();
        return Err(CrawlError::Failed(failures));
    }
    pages.sort_by(|a, b| a.file.cmp(&b.file));

    let parsed = parse_pages(&ctx, &mut pages, &mut carried_over).await;
    let _ = ctx.cache.compact();
    let (parsed, n_parsed) = parsed?;
    let c = &ctx.fetcher.counters;
    let stats = CrawlStats {
        requests: c.requests.load(Ordering::Relaxed),
        bodies: c.bodies.load(Ordering::Relaxed),
        not_modified: c.not_modified.load(Ordering::Relaxed),
        bytes: c.bytes.load(Ordering::Relaxed),
        retries: c.retries.load(Ordering::Relaxed),
        parsed: n_parsed,
    };
    Ok(CrawlResult {
        base_url: base.to_string(),
        toc: toc.bytes,
        pages,
        parsed,
        service_reference,
        carried_over,
        stats,
    })
}

type PageResults = Vec<(String, Url, Result<Got, Failure>)>;

async fn fetch_html(ctx: &Ctx<'_>, base: &Url) -> Result<(Got, PageResults), CrawlError> {
    let toc_url = base
        .join(TOC_FILE)
        .map_err(|e| CrawlError::Config(format!("{base}{TOC_FILE}: {e}")))?;
    ctx.progress.event(Event::Discovered { n: 1 });
    let toc = ctx
        .get(&toc_url)
        .await
        .map_err(|f| CrawlError::Failed(vec![f]))?;
    let text = String::from_utf8_lossy(&toc.bytes);
    let names: Vec<String> = crate::parse::parse_toc(&text)
        .into_iter()
        .filter(|n| safe_name(n))
        .collect();
    if names.is_empty() {
        return Err(CrawlError::EmptyToc(toc_url.to_string()));
    }
    ctx.progress.event(Event::Discovered { n: names.len() });
    let futs = names.into_iter().map(|file| async move {
        match base.join(&file) {
            Ok(url) => {
                let r = ctx.get(&url).await;
                if let Ok(g) = &r {
                    ctx.preparse(&file, g);
                }
                (file, url, r)
            }
            Err(e) => {
                let r = Err(fail(&format!("{base}{file}"), e.to_string()));
                (file, base.clone(), r)
            }
        }
    });
    Ok((toc, join_all(futs).await))
}

#[derive(serde::Deserialize)]
struct IndexEntry {
    service: String,
    url: String,
}

/// The index, then every document it lists. Document URLs on a host other
/// than the configured one are re-based onto the configured root (the index
/// names the live host even when served by a mirror); the path is kept.
async fn fetch_service_reference(
    ctx: &Ctx<'_>,
    base: &Url,
) -> Result<ServiceReference, Vec<Failure>> {
    ctx.progress.event(Event::Discovered { n: 1 });
    let index = ctx.get(base).await.map_err(|f| vec![f])?;
    let entries: Vec<IndexEntry> = serde_json::from_slice(&index.bytes).map_err(|e| {
        vec![fail(
            base.as_str(),
            format!("the service reference index is not the expected JSON list of {{\"service\", \"url\"}}: {e}"),
        )]
    })?;
    let mut failures = Vec::new();
    let mut targets = Vec::new();
    for e in entries {
        if !safe_name(&e.service) {
            failures.push(fail(
                &e.url,
                format!(
                    "service name {:?} in the index is not a valid prefix",
                    e.service
                ),
            ));
            continue;
        }
        match rebase(base, &e.url) {
            Ok(u) => targets.push((e.service, u)),
            Err(m) => failures.push(fail(&e.url, m)),
        }
    }
    ctx.progress.event(Event::Discovered { n: targets.len() });
    let results = join_all(targets.into_iter().map(|(prefix, url)| async move {
        let r = ctx.get(&url).await;
        (prefix, r)
    }))
    .await;
    let mut documents = Vec::new();
    let mut carried_over = Vec::new();
    for (prefix, r) in results {
        match r {
            Ok(g) => {
                if let Origin::CarriedOver { error } = g.origin {
                    carried_over.push(fail(&prefix, error));
                }
                documents.push((prefix, g.bytes));
            }
            Err(f) => failures.push(f),
        }
    }
    if !failures.is_empty() {
        return Err(failures);
    }
    documents.sort_by(|a, b| a.0.cmp(&b.0));
    documents.dedup_by(|a, b| a.0 == b.0);
    if let Origin::CarriedOver { error } = index.origin {
        carried_over.push(fail(base.as_str(), error));
    }
    Ok(ServiceReference {
        index_url: base.to_string(),
        index: index.bytes,
        documents,
        carried_over,
    })
}

/// Resolve an index URL onto the configured service-reference root.
fn rebase(base: &Url, raw: &str) -> Result<Url, String> {
    let u = base
        .join(raw)
        .map_err(|e| format!("not a URL in the service reference index: {e}"))?;
    if http::origin(&u) == http::origin(base) {
        return Ok(u);
    }
    let live = Url::parse(DEFAULT_SERVICE_REFERENCE_URL).expect("valid constant");
    if http::origin(&u) == http::origin(&live) {
        let rel = u.path().trim_start_matches('/');
        return base
            .join(rel)
            .map_err(|e| format!("cannot re-base onto {base}: {e}"));
    }
    Err(format!(
        "not on the configured service reference host ({}); not followed",
        http::origin(base)
    ))
}

/// Parse what is new; take the rest from the parse cache.
async fn parse_pages(
    ctx: &Ctx<'_>,
    pages: &mut [CrawledPage],
    carried_over: &mut Vec<Failure>,
) -> Result<(Vec<Page>, u64), CrawlError> {
    let mut parsed: Vec<Option<Page>> = pages
        .iter()
        .map(|p| ctx.cache.get_parsed(&p.file, &p.sha256))
        .collect();
    let todo: Vec<usize> = (0..pages.len()).filter(|&i| parsed[i].is_none()).collect();
    let n = todo.len() as u64;
    if !todo.is_empty() {
        ctx.progress.event(Event::Parsing { n: todo.len() });
        // Pages parsed while the downloads went on; the rest now.
        let mut results: Vec<(usize, Result<Page, crate::parse::ParseError>)> = Vec::new();
        let mut rest: Vec<usize> = Vec::new();
        for &i in &todo {
            match ctx.take_preparsed(&pages[i].file).await {
                Some(r) if r.as_ref().map_or(true, |p| p.sha256 == pages[i].sha256) => {
                    results.push((i, r))
                }
                _ => rest.push(i),
            }
        }
        let sources: Vec<PageSource> = rest
            .iter()
            .map(|&i| PageSource {
                file: pages[i].file.clone(),
                bytes: pages[i].bytes.clone(),
            })
            .collect();
        // Parsing is CPU work: run it on rayon, off the async threads.
        let late = tokio::task::spawn_blocking(move || pipeline::parse_all(&sources, &|| {}))
            .await
            .map_err(|e| CrawlError::Cache(format!("the parser stopped: {e}")))?;
        results.extend(rest.into_iter().zip(late));
        results.sort_by_key(|(i, _)| *i);
        let mut errors = Vec::new();
        for (i, r) in results {
            let page = &mut pages[i];
            match r {
                Ok(p) => {
                    let _ = ctx.cache.put_parsed(&p);
                    parsed[i] = Some(p);
                }
                Err(e) => {
                    // Under allow_partial, fall back on the last copy that parsed.
                    let good = ctx.cache.entry(&page.url).and_then(|e| e.good);
                    let fallback = good.filter(|_| ctx.allow_partial).and_then(|sha| {
                        Some((
                            ctx.cache.get_parsed(&page.file, &sha)?,
                            ctx.cache.get_object(&sha)?,
                        ))
                    });
                    match fallback {
                        Some((p, bytes)) => {
                            let error = format!("does not parse: {e}");
                            ctx.progress.event(Event::CarriedOver { url: &page.url });
                            carried_over.push(fail(&page.url, error.clone()));
                            page.sha256 = p.sha256.clone();
                            page.bytes = bytes;
                            page.origin = Origin::CarriedOver { error };
                            parsed[i] = Some(p);
                        }
                        None => errors.push(fail(&page.url, e.to_string())),
                    }
                }
            }
        }
        if !errors.is_empty() {
            return Err(CrawlError::Parse(errors));
        }
    }
    // Remember which body of each page parsed, for a later allow_partial.
    for p in pages.iter() {
        if let Some(mut e) = ctx.cache.entry(&p.url) {
            if e.good.as_deref() != Some(&p.sha256) {
                e.good = Some(p.sha256.clone());
                let _ = ctx.cache.record(e);
            }
        }
    }
    let parsed = parsed.into_iter().flatten().collect();
    Ok((parsed, n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_base_url_is_typed_and_names_no_flag() {
        assert_eq!(
            parse_base(Base::Reference, " https://example.test/ref")
                .unwrap()
                .as_str(),
            "https://example.test/ref/"
        );
        let e = parse_base(Base::ServiceReference, "ftp://x").unwrap_err();
        assert!(
            matches!(&e, CrawlError::BadBase { which: Base::ServiceReference, url, .. } if url == "ftp://x/"),
            "{e}"
        );
        assert_eq!(
            e.to_string(),
            "the service reference base URL \"ftp://x/\" must be an http:// or https:// URL with a host"
        );
        let e = parse_base(Base::Reference, "nope").unwrap_err().to_string();
        assert!(
            e.starts_with("the reference base URL \"nope/\" is not a URL: "),
            "{e}"
        );
        assert!(!e.contains("--"), "{e}");
    }
}
