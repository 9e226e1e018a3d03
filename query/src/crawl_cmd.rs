//! `iamref crawl`: fetch the live reference, check the result against the
//! previous data, and only then replace the database (and snapshot).

use crate::exit::{input, Exit, Failure};
use anyhow::{Context, Result};
use iamref_scraper::crawl::{self, Base, CrawlConfig, CrawlError, Event, Progress};
use indicatif::{HumanBytes, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

const AFTER_HELP: &str = "\
FILES:
    The crawl cache lives in CACHE/crawl/ (CACHE: --cache-dir, else $IAMREF_CACHE_DIR, else the
    user cache folder, e.g. ~/.cache/iamref): state.jsonl (ETag, Last-Modified and sha256 per URL),
    objects/SHA256 (every body received, content-addressed) and parsed/ (parsed pages by body
    hash). The default database is CACHE/crawl.sqlite; query it with `iamref --db CACHE/crawl.sqlite`.

SAFETY:
    Nothing is written unless every page was fetched and parsed (or, with --allow-partial, replaced
    by its last good cached copy, recorded in the manifest) and the result keeps, against the data
    it replaces (the --out database and the --snapshot-dir snapshot where they exist, else the
    snapshot shipped in iamref), at least (100 - --max-shrink)% of each source's pages, HTML
    actions, JSON documents, JSON actions and operations, at least half of every service's
    HTML and JSON actions, and every page and JSON document with all its facts (actions,
    resource types, keys, descriptions, required resource types, dependent actions; a
    document's actions, resources, keys, operations and contexts). Every value must be in its
    column's domain (access levels, key types, names, ARNs starting arn:, sizes).
    Refusals exit 3 and leave the previous database and snapshot untouched. Ctrl-C stops at once,
    writes nothing (exit 2), and the next run resumes from the cache. The database and the
    snapshot carry one publication id; `iamref verify DATABASE DIR` tells whether they still
    match (a run killed between the two writes leaves them apart; the next run rewrites both).";

#[derive(clap::Args, Debug)]
#[command(after_help = AFTER_HELP)]
pub struct CrawlArgs {
    /// Base URL of the Service Authorization Reference; the table of contents is
    /// BASE/reference_policies_actions-resources-contextkeys.html and pages are resolved against it
    #[arg(long, value_name = "URL", default_value = crawl::DEFAULT_BASE_URL)]
    pub base_url: String,
    /// Root of AWS's JSON service reference (the index; documents at v1/PREFIX/PREFIX.json)
    #[arg(long, value_name = "URL", default_value = crawl::DEFAULT_SERVICE_REFERENCE_URL)]
    pub service_reference_url: String,
    /// Do not fetch the JSON service reference
    #[arg(long)]
    pub no_service_reference: bool,
    /// Database to write, replaced atomically [default: CACHE/crawl.sqlite]
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Also refresh this snapshot folder (e.g. data)
    #[arg(long, value_name = "DIR")]
    pub snapshot_dir: Option<PathBuf>,
    /// Save every fetched body under DIR: sar-html/*.html, service-reference/index.json,
    /// service-reference/v1/PREFIX/PREFIX.json (`iamref build --from-dir DIR/sar-html` rebuilds
    /// the same data). Written once every URL was fetched, even if the shrink guard then
    /// refuses the result, for inspection
    #[arg(long, value_name = "DIR")]
    pub save_pages: Option<PathBuf>,
    /// Cache folder [default: $IAMREF_CACHE_DIR, else the user cache folder]
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Requests in flight at most
    #[arg(long, value_name = "N", default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub concurrency: u16,
    /// Connect timeout, and the longest wait for a response or the next part of a body, in seconds
    #[arg(long, value_name = "SECONDS", default_value_t = 30.0, value_parser = positive_secs)]
    pub timeout: f64,
    /// Extra attempts after a connection error, timeout, 5xx, 429 or truncated body
    #[arg(long, value_name = "N", default_value_t = 4)]
    pub retries: u32,
    /// First retry delay in milliseconds (doubled each retry, with jitter, at most 30 s)
    #[arg(long, value_name = "MS", default_value_t = 500)]
    pub backoff_ms: u64,
    /// Longest Retry-After (429/503) honoured, in seconds
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    pub max_retry_after: u64,
    /// Largest response accepted, in bytes (suffixes KiB, MiB allowed)
    #[arg(long, value_name = "BYTES", default_value = "20MiB", value_parser = parse_size)]
    pub max_page_bytes: u64,
    /// Fetch every body again (no conditional requests)
    #[arg(long)]
    pub force: bool,
    /// Keep the last good cached copy of pages that still fail after retries, instead of
    /// refusing; the manifest is marked partial and names them
    #[arg(long)]
    pub allow_partial: bool,
    #[command(flatten)]
    pub guard: crate::guard::GuardArgs,
    /// Capture date to record (default: today, UTC)
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = crate::guard::capture_date)]
    pub captured: Option<String>,
    /// Log every URL fetched on stderr (retries and failures are logged unless --quiet)
    #[arg(long, short)]
    pub verbose: bool,
}

fn positive_secs(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v > 0.0 && v <= 3600.0 => Ok(v),
        _ => Err(format!(
            "{s:?}: expected a number of seconds between 0 and 3600"
        )),
    }
}

fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let (num, mult) = if let Some(n) = t.strip_suffix("MiB") {
        (n, 1024 * 1024)
    } else if let Some(n) = t.strip_suffix("KiB") {
        (n, 1024)
    } else {
        (t, 1)
    };
    match num.trim().parse::<u64>() {
        Ok(n) if n > 0 => n
            .checked_mul(mult)
            .ok_or_else(|| format!("{s:?} is too large")),
        _ => Err(format!(
            "{s:?}: expected a size in bytes, e.g. 20971520 or 20MiB"
        )),
    }
}

/// The cache folder: `--cache-dir`, `$IAMREF_CACHE_DIR`, the user cache.
/// (Same rule as `locate::cache_path`.)
pub fn cache_base(flag: Option<&Path>) -> PathBuf {
    if let Some(d) = flag {
        return d.to_path_buf();
    }
    crate::locate::cache_dir()
}

/// Today's date (UTC) as YYYY-MM-DD.
fn today_utc() -> String {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    iamref_dataset::domain::iso_utc(ms)[..10].to_string()
}

/// Progress: a bar on a terminal, log lines otherwise.
struct Report {
    bar: Option<ProgressBar>,
    quiet: bool,
    verbose: bool,
    bytes: AtomicU64,
    retries: AtomicU64,
    errors: AtomicU64,
}

impl Report {
    fn new(quiet: bool, verbose: bool) -> Report {
        let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let pb = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
            pb.set_style(
                ProgressStyle::with_template(
                    "crawling [{bar:30}] {pos}/{len} {msg} {elapsed} ETA {eta}",
                )
                .expect("valid template")
                .progress_chars("=> "),
            );
            pb.enable_steady_tick(Duration::from_millis(200));
            pb
        });
        Report {
            bar,
            quiet,
            verbose,
            bytes: AtomicU64::new(0),
            retries: AtomicU64::new(0),
            errors: AtomicU64::new(0),
        }
    }

    fn log(&self, line: String) {
        match &self.bar {
            Some(b) => b.println(crate::diag::render(crate::diag::Level::Info, &line)),
            None => crate::diag::info(format_args!("{line}")),
        }
    }

    fn refresh(&self) {
        if let Some(b) = &self.bar {
            b.set_message(format!(
                "{}, {} retries, {} errors",
                HumanBytes(self.bytes.load(Ordering::Relaxed)),
                self.retries.load(Ordering::Relaxed),
                self.errors.load(Ordering::Relaxed)
            ));
        }
    }

    fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

impl Progress for Report {
    fn event(&self, e: Event<'_>) {
        match e {
            Event::Discovered { n } => {
                if let Some(b) = &self.bar {
                    b.inc_length(n as u64);
                }
            }
            Event::Fetched {
                url,
                bytes,
                not_modified,
            } => {
                self.bytes.fetch_add(bytes, Ordering::Relaxed);
                if let Some(b) = &self.bar {
                    b.inc(1);
                }
                if self.verbose && !self.quiet {
                    let what = if not_modified {
                        "unchanged".to_string()
                    } else {
                        HumanBytes(bytes).to_string()
                    };
                    self.log(format!("fetched {url} ({what})"));
                }
            }
            Event::Retrying {
                url,
                attempt,
                error,
                delay,
            } => {
                self.retries.fetch_add(1, Ordering::Relaxed);
                if !self.quiet {
                    self.log(format!(
                        "retry: {url}: {error}; attempt {} in {:.1}s",
                        attempt + 1,
                        delay.as_secs_f64()
                    ));
                }
            }
            Event::Failed { url, error } => {
                self.errors.fetch_add(1, Ordering::Relaxed);
                if let Some(b) = &self.bar {
                    b.inc(1);
                }
                if !self.quiet {
                    self.log(format!("failed: {url}: {error}"));
                }
            }
            Event::CarriedOver { url } => {
                if !self.quiet {
                    self.log(format!(
                        "partial: {url}: keeping the last good copy from the cache"
                    ));
                }
            }
            Event::Parsing { n } => {
                if !self.quiet && (self.bar.is_none() || self.verbose) {
                    self.log(format!("parsing {n} new or changed page(s)"));
                }
            }
        }
        self.refresh();
    }
}

pub fn crawl(a: CrawlArgs, quiet: bool) -> Result<Exit> {
    let base = cache_base(a.cache_dir.as_deref());
    let out = a.out.clone().unwrap_or_else(|| base.join("crawl.sqlite"));
    let mut cfg = CrawlConfig::new(base.join("crawl"));
    cfg.base_url = a.base_url.clone();
    cfg.service_reference_url = (!a.no_service_reference).then(|| a.service_reference_url.clone());
    cfg.concurrency = a.concurrency as usize;
    cfg.timeout = Duration::from_secs_f64(a.timeout);
    cfg.retries = a.retries;
    cfg.backoff = Duration::from_millis(a.backoff_ms);
    cfg.retry_after_cap = Duration::from_secs(a.max_retry_after);
    cfg.max_page_bytes = a.max_page_bytes;
    cfg.force = a.force;
    cfg.allow_partial = a.allow_partial;

    let report = Report::new(quiet, a.verbose);
    if !quiet && report.bar.is_none() {
        crate::diag::info(format_args!(
            "crawling {} (cache {})",
            cfg.base_url,
            cfg.cache_dir.display()
        ));
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let outcome = rt.block_on(async {
        tokio::select! {
            r = crawl::crawl(&cfg, &report) => Some(r),
            _ = tokio::signal::ctrl_c() => None,
        }
    });
    report.finish();
    let result = match outcome {
        None => {
            return Err(anyhow::anyhow!(
                "interrupted: nothing was written; {} is as it was, and the next crawl resumes from the cache",
                out.display()
            ))
        }
        Some(Ok(r)) => r,
        Some(Err(e)) => {
            return Err(match e {
                CrawlError::Config(m) => input(m),
                CrawlError::BadBase {
                    which,
                    url,
                    problem,
                } => {
                    let flag = match which {
                        Base::Reference => "--base-url",
                        Base::ServiceReference => "--service-reference-url",
                    };
                    input(format!("{flag} {url:?} {problem}"))
                }
                CrawlError::Cache(m) => anyhow::anyhow!(
                    "crawl cache {}: {m} (point --cache-dir somewhere writable)",
                    cfg.cache_dir.display()
                ),
                e @ (CrawlError::Failed(_) | CrawlError::EmptyToc(_) | CrawlError::Parse(_)) => {
                    let hint = if a.allow_partial {
                        "Retry later (fetched pages are cached); --allow-partial was given, but \
                         the cache holds no good copy of the failing pages to keep"
                    } else {
                        "Retry later (fetched pages are cached), or pass --allow-partial to keep \
                         the last good copy of the failing pages"
                    };
                    Failure::Refused(format!(
                        "crawl failed, nothing written ({} is untouched):\n{e}\n{hint}",
                        out.display()
                    ))
                    .into()
                }
            })
        }
    };
    drop(rt);

    if let Some(dir) = &a.save_pages {
        result
            .save_pages(dir)
            .map_err(|e| anyhow::anyhow!("saving pages: {e}"))?;
    }
    let captured = a.captured.clone().or_else(|| Some(today_utc()));
    let mut assembled = result.assemble(captured).map_err(|e| {
        Failure::Refused(format!(
            "{e}\nnothing written; the previous data is unchanged"
        ))
    })?;
    crate::build_cmd::print_warnings(&assembled.warnings, quiet);
    let c = assembled.manifest.counts;
    if assembled.services.is_empty() {
        return Err(Failure::Refused(format!(
            "{}: the pages yielded no service data; nothing written",
            cfg.base_url
        ))
        .into());
    }
    crate::guard::publish(
        &mut assembled.manifest,
        &assembled.services,
        Some(&out),
        a.snapshot_dir.as_deref(),
        crate::guard::Compare {
            shipped: true,
            database: iamref_dataset::guard::database_baseline(Some(&out)),
        },
        &a.guard,
        quiet,
    )?;
    if !quiet {
        let s = &result.stats;
        let docs = result
            .service_reference
            .as_ref()
            .map_or(0, |sr| sr.documents.len());
        crate::diag::info(format_args!(
            "crawled: {} pages + {} JSON documents; {} bodies downloaded ({}), {} unchanged (304), {} pages parsed, {} requests, {} retries",
            result.pages.len(),
            docs,
            s.bodies,
            HumanBytes(s.bytes),
            s.not_modified,
            s.parsed,
            s.requests,
            s.retries
        ));
        if !result.carried_over.is_empty() {
            crate::diag::info(format_args!(
                "partial: {} URL(s) kept from an earlier crawl (recorded in the manifest)",
                result.carried_over.len()
            ));
        }
        crate::diag::info(format_args!(
            "wrote {}: {} prefixes, {} actions, {} resource types, {} condition keys, {} warnings",
            out.display(),
            c.prefixes,
            c.actions,
            c.resource_types,
            c.condition_keys,
            assembled.warnings.len()
        ));
    }
    Ok(Exit::Found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("20MiB"), Ok(20 * 1024 * 1024));
        assert_eq!(parse_size("512KiB"), Ok(512 * 1024));
        assert_eq!(parse_size("1000"), Ok(1000));
        assert!(parse_size("0").is_err());
        assert!(parse_size("lots").is_err());
    }

    #[test]
    fn date() {
        let d = today_utc();
        assert_eq!(d.len(), 10);
        assert!(d.starts_with("20"));
    }
}
