//! One GET done properly: bounded concurrency, timeouts, retries with
//! exponential backoff and jitter, `Retry-After`, conditional requests, a
//! size cap enforced while streaming, and redirects kept on the configured
//! hosts.

use super::{CrawlConfig, Event, Progress};
use futures_util::StreamExt;
use rand::Rng;
use reqwest::header::{
    HeaderMap, CONTENT_LENGTH, ETAG, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED, RETRY_AFTER,
};
use reqwest::{StatusCode, Url};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;

/// `scheme://host:port` of a URL, the unit "configured host" is checked at.
pub fn origin(u: &Url) -> String {
    format!(
        "{}://{}:{}",
        u.scheme(),
        u.host_str().unwrap_or(""),
        u.port_or_known_default().unwrap_or(0)
    )
}

/// What a successful GET gave.
pub enum Fetched {
    /// 304: the cached body is current.
    NotModified,
    Body {
        bytes: Vec<u8>,
        etag: Option<String>,
        last_modified: Option<String>,
    },
}

/// Validators for a conditional request.
#[derive(Default, Clone)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

enum AttemptError {
    /// Worth another try (after `after`, if the server said so).
    Retry {
        msg: String,
        after: Option<Duration>,
    },
    /// Will not get better by asking again.
    Fatal(String),
}

#[derive(Default)]
pub struct Counters {
    pub requests: AtomicU64,
    pub bodies: AtomicU64,
    pub not_modified: AtomicU64,
    pub bytes: AtomicU64,
    pub retries: AtomicU64,
}

pub struct Fetcher {
    client: reqwest::Client,
    permits: Semaphore,
    timeout: Duration,
    retries: u32,
    backoff: Duration,
    backoff_max: Duration,
    retry_after_cap: Duration,
    max_bytes: u64,
    pub counters: Counters,
}

/// An error and its causes on one line (reqwest hides the useful part in
/// the source chain).
fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let t = c.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        cur = c.source();
    }
    s
}

impl Fetcher {
    pub fn new(cfg: &CrawlConfig, allowed: Vec<String>) -> Result<Fetcher, String> {
        let allowed = Arc::new(allowed);
        let policy = reqwest::redirect::Policy::custom(move |attempt| {
            let o = origin(attempt.url());
            if !allowed.contains(&o) {
                let msg = format!(
                    "redirect to {} refused: only {} are followed",
                    attempt.url(),
                    allowed.join(", ")
                );
                attempt.error(msg)
            } else if attempt.previous().len() >= 5 {
                attempt.error("more than 5 redirects")
            } else {
                attempt.follow()
            }
        });
        let client = reqwest::Client::builder()
            .user_agent(cfg.user_agent.clone())
            .redirect(policy)
            .connect_timeout(cfg.timeout)
            .read_timeout(cfg.timeout)
            .gzip(true)
            .brotli(true)
            .build()
            .map_err(|e| chain(&e))?;
        Ok(Fetcher {
            client,
            permits: Semaphore::new(cfg.concurrency.max(1)),
            timeout: cfg.timeout,
            retries: cfg.retries,
            backoff: cfg.backoff,
            backoff_max: cfg.backoff_max,
            retry_after_cap: cfg.retry_after_cap,
            max_bytes: cfg.max_page_bytes,
            counters: Counters::default(),
        })
    }

    /// GET `url`, retrying transient failures. The error is the last one.
    pub async fn fetch(
        &self,
        url: &Url,
        cond: Option<&Validators>,
        progress: &dyn Progress,
    ) -> Result<Fetched, String> {
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let r = {
                let _permit = self.permits.acquire().await.map_err(|e| e.to_string())?;
                self.counters.requests.fetch_add(1, Ordering::Relaxed);
                self.attempt(url, cond).await
            };
            match r {
                Ok(f) => return Ok(f),
                Err(AttemptError::Fatal(m)) => return Err(m),
                Err(AttemptError::Retry { msg, .. }) if attempt > self.retries => {
                    return Err(format!("{msg} (gave up after {attempt} attempts)"))
                }
                Err(AttemptError::Retry { msg, after }) => {
                    let delay = match after {
                        Some(d) => d.min(self.retry_after_cap),
                        None => self.backoff_delay(attempt),
                    };
                    self.counters.retries.fetch_add(1, Ordering::Relaxed);
                    progress.event(Event::Retrying {
                        url: url.as_str(),
                        attempt,
                        error: &msg,
                        delay,
                    });
                    tokio::time::sleep(delay).await;
                }
            }
        }
    }

    /// `backoff * 2^(attempt-1)`, capped, with "equal jitter" (half fixed,
    /// half random) so that parallel retries spread out.
    fn backoff_delay(&self, attempt: u32) -> Duration {
        let exp = self
            .backoff
            .saturating_mul(1u32 << (attempt - 1).min(16))
            .min(self.backoff_max);
        let half = exp / 2;
        let jitter = rand::rng().random_range(0.0..=1.0);
        half + half.mul_f64(jitter)
    }

    async fn attempt(&self, url: &Url, cond: Option<&Validators>) -> Result<Fetched, AttemptError> {
        let mut req = self.client.get(url.clone());
        if let Some(v) = cond {
            if let Some(e) = &v.etag {
                req = req.header(IF_NONE_MATCH, e);
            }
            if let Some(lm) = &v.last_modified {
                req = req.header(IF_MODIFIED_SINCE, lm);
            }
        }
        let secs = self.timeout.as_secs_f64();
        let resp = match tokio::time::timeout(self.timeout, req.send()).await {
            Err(_) => {
                return Err(AttemptError::Retry {
                    msg: format!("no response within {secs}s"),
                    after: None,
                })
            }
            Ok(Err(e)) if e.is_redirect() || e.is_builder() => {
                return Err(AttemptError::Fatal(chain(&e)))
            }
            Ok(Err(e)) => {
                return Err(AttemptError::Retry {
                    msg: chain(&e),
                    after: None,
                })
            }
            Ok(Ok(r)) => r,
        };
        let status = resp.status();
        if status == StatusCode::NOT_MODIFIED && cond.is_some() {
            return Ok(Fetched::NotModified);
        }
        if status == StatusCode::TOO_MANY_REQUESTS || status == StatusCode::SERVICE_UNAVAILABLE {
            return Err(AttemptError::Retry {
                msg: format!("HTTP {status}"),
                after: retry_after(resp.headers()),
            });
        }
        if status.is_server_error() {
            return Err(AttemptError::Retry {
                msg: format!("HTTP {status}"),
                after: None,
            });
        }
        if !status.is_success() {
            let hint = if status.is_redirection() {
                " (redirect without a usable Location)"
            } else {
                ""
            };
            return Err(AttemptError::Fatal(format!("HTTP {status}{hint}")));
        }
        let header = |name| {
            resp.headers()
                .get(name)
                .and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok())
                .map(str::to_string)
        };
        let etag = header(ETAG);
        let last_modified = header(LAST_MODIFIED);
        // Content-Length as sent (reqwest hides it once it decompresses).
        let declared: Option<u64> = if resp.headers().contains_key("content-encoding") {
            None
        } else {
            header(CONTENT_LENGTH).and_then(|v| v.trim().parse().ok())
        };
        if let Some(n) = declared {
            if n > self.max_bytes {
                return Err(AttemptError::Fatal(too_big(n, self.max_bytes)));
            }
        }
        let mut stream = resp.bytes_stream();
        let mut bytes: Vec<u8> = Vec::with_capacity(declared.unwrap_or(0) as usize);
        loop {
            match tokio::time::timeout(self.timeout, stream.next()).await {
                Err(_) => {
                    return Err(AttemptError::Retry {
                        msg: format!("body stalled for {secs}s after {} bytes", bytes.len()),
                        after: None,
                    })
                }
                Ok(None) => break,
                Ok(Some(Err(e))) => {
                    return Err(AttemptError::Retry {
                        msg: format!("body cut off after {} bytes: {}", bytes.len(), chain(&e)),
                        after: None,
                    })
                }
                Ok(Some(Ok(chunk))) => {
                    self.counters
                        .bytes
                        .fetch_add(chunk.len() as u64, Ordering::Relaxed);
                    if bytes.len() as u64 + chunk.len() as u64 > self.max_bytes {
                        return Err(AttemptError::Fatal(too_big(
                            bytes.len() as u64 + chunk.len() as u64,
                            self.max_bytes,
                        )));
                    }
                    bytes.extend_from_slice(&chunk);
                }
            }
        }
        if let Some(n) = declared {
            if (bytes.len() as u64) < n {
                return Err(AttemptError::Retry {
                    msg: format!("truncated body: {} of {n} bytes", bytes.len()),
                    after: None,
                });
            }
        }
        self.counters.bodies.fetch_add(1, Ordering::Relaxed);
        Ok(Fetched::Body {
            bytes,
            etag,
            last_modified,
        })
    }
}

fn too_big(n: u64, max: u64) -> String {
    format!("response is over {max} bytes (at least {n}); raise --max-page-bytes if this page is genuine")
}

/// `Retry-After` in seconds (the HTTP-date form is treated as absent, so
/// the normal backoff applies).
fn retry_after(h: &HeaderMap) -> Option<Duration> {
    let v = h.get(RETRY_AFTER)?.to_str().ok()?.trim();
    v.parse::<u64>().ok().map(Duration::from_secs)
}
