//! A loopback HTTP/1.1 server for crawl tests and benchmarks: serves files
//! from memory on 127.0.0.1 with optional latency and injectable faults,
//! answers conditional requests (ETag = sha256 of the body), and counts
//! what it served. Hand-written on tokio so faults (hangs, truncated
//! bodies) are exactly what the test asks for.
//!
//! Used by `scraper/tests/crawl.rs`, `scraper/benches/crawl.rs` and the
//! `query` CLI tests (crawl, harden).

use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Table of contents file name.
pub const TOC: &str = "reference_policies_actions-resources-contextkeys.html";
/// HTML pages are served under this path, the JSON reference under `SR`.
pub const HTML: &str = "/reference/";
pub const SR: &str = "/sr/";
/// The live JSON host, as index.json names it.
pub const LIVE_SR: &str = "https://servicereference.us-east-1.amazonaws.com/";

/// A fault injected into the answers for one path.
#[derive(Debug, Clone)]
pub enum Fault {
    /// Answer with this status and a short body.
    Status(u16),
    /// 429 with `Retry-After: secs`.
    TooMany { retry_after: u64 },
    /// Say nothing for this long (then close).
    Hang(Duration),
    /// Declare the full Content-Length, send half the body, close.
    Truncate,
    /// 302 to this absolute URL.
    Redirect(String),
    /// A body of this many bytes (declared in Content-Length).
    Oversize(usize),
    /// Stream this many bytes without a Content-Length (chunked), to test
    /// the cap while streaming.
    OversizeChunked(usize),
}

struct FaultSlot {
    fault: Fault,
    /// `None`: every request; `Some(n)`: the next n requests.
    remaining: Option<usize>,
}

#[derive(Default)]
pub struct Shared {
    files: Mutex<HashMap<String, Vec<u8>>>,
    faults: Mutex<HashMap<String, FaultSlot>>,
    /// Path -> number of 200 bodies served.
    bodies: Mutex<BTreeMap<String, u64>>,
    pub requests: AtomicU64,
    pub not_modified: AtomicU64,
    latency_ms: AtomicU64,
    /// Gzip bodies for clients that accept it.
    gzip: std::sync::atomic::AtomicBool,
    user_agents: Mutex<Vec<String>>,
}

pub struct Server {
    pub addr: SocketAddr,
    pub shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Server {
    /// Start serving (on the current tokio runtime).
    pub async fn start() -> Server {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local addr");
        let shared = Arc::new(Shared::default());
        let s = shared.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((sock, _)) = listener.accept().await else {
                    continue;
                };
                let s = s.clone();
                tokio::spawn(async move {
                    let _ = serve_conn(sock, s).await;
                });
            }
        });
        Server { addr, shared, task }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }
    pub fn base_url(&self) -> String {
        self.url(HTML)
    }
    pub fn sr_url(&self) -> String {
        self.url(SR)
    }

    pub fn put(&self, path: &str, bytes: Vec<u8>) {
        self.shared
            .files
            .lock()
            .unwrap()
            .insert(path.to_string(), bytes);
    }
    pub fn get(&self, path: &str) -> Option<Vec<u8>> {
        self.shared.files.lock().unwrap().get(path).cloned()
    }
    pub fn put_page(&self, file: &str, bytes: Vec<u8>) {
        self.put(&format!("{HTML}{file}"), bytes);
    }
    pub fn set_latency(&self, d: Duration) {
        self.shared
            .latency_ms
            .store(d.as_millis() as u64, Ordering::Relaxed);
    }
    /// Send bodies gzip-encoded to clients that accept gzip.
    pub fn set_gzip(&self, on: bool) {
        self.shared.gzip.store(on, Ordering::Relaxed);
    }
    /// Inject `fault` on `path` for the next `times` requests (`None`: always).
    pub fn fault(&self, path: &str, fault: Fault, times: Option<usize>) {
        self.shared.faults.lock().unwrap().insert(
            path.to_string(),
            FaultSlot {
                fault,
                remaining: times,
            },
        );
    }
    pub fn clear_faults(&self) {
        self.shared.faults.lock().unwrap().clear();
    }
    /// 200 bodies served per path.
    pub fn bodies(&self) -> BTreeMap<String, u64> {
        self.shared.bodies.lock().unwrap().clone()
    }
    /// 200 bodies served under a path prefix.
    pub fn bodies_under(&self, prefix: &str) -> u64 {
        self.bodies()
            .iter()
            .filter(|(k, _)| k.starts_with(prefix))
            .map(|(_, v)| v)
            .sum()
    }
    pub fn reset_counts(&self) {
        self.shared.bodies.lock().unwrap().clear();
        self.shared.requests.store(0, Ordering::Relaxed);
        self.shared.not_modified.store(0, Ordering::Relaxed);
    }
    pub fn user_agents(&self) -> Vec<String> {
        self.shared.user_agents.lock().unwrap().clone()
    }

    /// Serve a set of pages: `pages` (file name, bytes) under `/reference/`
    /// plus a table of contents linking them as `./list_*.html`.
    pub fn serve_pages(&self, pages: &[(String, Vec<u8>)]) {
        for (f, b) in pages {
            self.put_page(f, b.clone());
        }
        let names: Vec<&str> = pages.iter().map(|(f, _)| f.as_str()).collect();
        self.put_page(TOC, toc_html(&names).into_bytes());
    }

    /// Serve a JSON service reference: `docs` (prefix, bytes) under `/sr/`
    /// with an index naming the live host (`rewrite = false`) or this
    /// server (`rewrite = true`).
    pub fn serve_service_reference(&self, docs: &[(String, Vec<u8>)], rewrite: bool) {
        let host = if rewrite {
            self.sr_url()
        } else {
            LIVE_SR.to_string()
        };
        let index: Vec<String> = docs
            .iter()
            .map(|(p, _)| format!("{{\"service\":\"{p}\",\"url\":\"{host}v1/{p}/{p}.json\"}}"))
            .collect();
        self.put(SR, format!("[{}]", index.join(",")).into_bytes());
        for (p, b) in docs {
            self.put(&format!("{SR}v1/{p}/{p}.json"), b.clone());
        }
    }
}

/// A table of contents in the live page's link style.
pub fn toc_html(files: &[&str]) -> String {
    let mut s = String::from(
        "<!DOCTYPE html><html><head><title>Actions, resources, and condition keys for AWS services</title></head><body><h1>Actions, resources, and condition keys for AWS services</h1><ul>\n",
    );
    for f in files {
        s.push_str(&format!("<li><a href=\"./{f}\">{f}</a></li>\n"));
    }
    s.push_str("</ul></body></html>\n");
    s
}

fn etag_of(b: &[u8]) -> String {
    format!("\"{}\"", hex::encode(&Sha256::digest(b)[..16]))
}

async fn serve_conn(mut sock: TcpStream, s: Arc<Shared>) -> std::io::Result<()> {
    let mut buf = Vec::with_capacity(4096);
    loop {
        // Read one request head.
        let end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            let mut chunk = [0u8; 4096];
            let n = sock.read(&mut chunk).await?;
            if n == 0 {
                return Ok(());
            }
            buf.extend_from_slice(&chunk[..n]);
        };
        let head = String::from_utf8_lossy(&buf[..end]).to_string();
        buf.drain(..end);
        let mut lines = head.split("\r\n");
        let request_line = lines.next().unwrap_or("");
        let path = request_line.split(' ').nth(1).unwrap_or("/").to_string();
        let mut inm = None;
        let mut accepts_gzip = false;
        for l in lines {
            if let Some((k, v)) = l.split_once(':') {
                let k = k.trim().to_ascii_lowercase();
                if k == "accept-encoding" {
                    accepts_gzip = v.contains("gzip");
                } else if k == "if-none-match" {
                    inm = Some(v.trim().to_string());
                } else if k == "user-agent" {
                    s.user_agents.lock().unwrap().push(v.trim().to_string());
                }
            }
        }
        s.requests.fetch_add(1, Ordering::Relaxed);
        let latency = s.latency_ms.load(Ordering::Relaxed);
        if latency > 0 {
            tokio::time::sleep(Duration::from_millis(latency)).await;
        }
        let fault = {
            let mut f = s.faults.lock().unwrap();
            match f.get_mut(&path) {
                Some(slot) => match &mut slot.remaining {
                    None => Some(slot.fault.clone()),
                    Some(0) => None,
                    Some(n) => {
                        *n -= 1;
                        Some(slot.fault.clone())
                    }
                },
                None => None,
            }
        };
        if let Some(fault) = fault {
            match fault {
                Fault::Status(code) => {
                    respond(&mut sock, code, &[], b"injected failure\n").await?;
                }
                Fault::TooMany { retry_after } => {
                    let ra = retry_after.to_string();
                    respond(&mut sock, 429, &[("Retry-After", &ra)], b"slow down\n").await?;
                }
                Fault::Hang(d) => {
                    tokio::time::sleep(d).await;
                    return Ok(());
                }
                Fault::Truncate => {
                    let body = s
                        .files
                        .lock()
                        .unwrap()
                        .get(&path)
                        .cloned()
                        .unwrap_or_default();
                    let head = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\n\r\n",
                        body.len()
                    );
                    sock.write_all(head.as_bytes()).await?;
                    sock.write_all(&body[..body.len() / 2]).await?;
                    sock.flush().await?;
                    return Ok(());
                }
                Fault::Redirect(to) => {
                    respond(&mut sock, 302, &[("Location", &to)], b"").await?;
                }
                Fault::Oversize(n) => {
                    let body = vec![b'x'; n];
                    respond(&mut sock, 200, &[], &body).await?;
                }
                Fault::OversizeChunked(n) => {
                    let head = "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n";
                    sock.write_all(head.as_bytes()).await?;
                    let chunk = vec![b'x'; 64 * 1024];
                    let mut sent = 0;
                    while sent < n {
                        let k = chunk.len().min(n - sent);
                        sock.write_all(format!("{k:x}\r\n").as_bytes()).await?;
                        sock.write_all(&chunk[..k]).await?;
                        sock.write_all(b"\r\n").await?;
                        sent += k;
                    }
                    sock.write_all(b"0\r\n\r\n").await?;
                    sock.flush().await?;
                    return Ok(());
                }
            }
            continue;
        }
        let body = s.files.lock().unwrap().get(&path).cloned();
        match body {
            None => respond(&mut sock, 404, &[], b"not found\n").await?,
            Some(b) => {
                let etag = etag_of(&b);
                if inm.as_deref() == Some(etag.as_str()) {
                    s.not_modified.fetch_add(1, Ordering::Relaxed);
                    respond(&mut sock, 304, &[("ETag", &etag)], b"").await?;
                } else {
                    *s.bodies.lock().unwrap().entry(path.clone()).or_default() += 1;
                    let mut headers = vec![
                        ("ETag", etag.as_str()),
                        ("Last-Modified", "Sun, 14 Jun 2026 00:00:00 GMT"),
                    ];
                    let body = if accepts_gzip && s.gzip.load(Ordering::Relaxed) {
                        use std::io::Write;
                        let mut e =
                            flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                        e.write_all(&b)?;
                        headers.push(("Content-Encoding", "gzip"));
                        e.finish()?
                    } else {
                        b
                    };
                    respond(&mut sock, 200, &headers, &body).await?;
                }
            }
        }
    }
}

async fn respond(
    sock: &mut TcpStream,
    code: u16,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<()> {
    let reason = match code {
        200 => "OK",
        302 => "Found",
        304 => "Not Modified",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    };
    let mut head = format!("HTTP/1.1 {code} {reason}\r\n");
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    if code != 304 {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    sock.write_all(head.as_bytes()).await?;
    if code != 304 {
        sock.write_all(body).await?;
    }
    sock.flush().await
}

// ---------------------------------------------------------------------------
// Inputs: the real corpus when present, constructed fixtures otherwise.
// ---------------------------------------------------------------------------

pub const DATE: &str = "2026-06-14";

/// `(file or prefix, bytes)` pairs.
pub type Files = Vec<(String, Vec<u8>)>;

/// The corpus pages of [`DATE`] (sorted by name) and its JSON documents,
/// or `None` when the corpus is absent (no message: the caller decides
/// whether that is a skip, a fallback or a benchmark that does not run).
pub fn corpus_files() -> Option<(Files, Files)> {
    let root = crate::corpus_root();
    let html = root.join("sar-html").join(DATE);
    let sr = root.join("service-reference").join(DATE);
    if !html.is_dir() {
        return None;
    }
    let mut pages: Vec<(String, Vec<u8>)> = std::fs::read_dir(&html)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let n = e.file_name().into_string().ok()?;
            (n.starts_with("list_") && n.ends_with(".html"))
                .then(|| (n, std::fs::read(e.path()).unwrap()))
        })
        .collect();
    pages.sort();
    let mut docs = Vec::new();
    if let Ok(rd) = std::fs::read_dir(sr.join("v1")) {
        for e in rd.filter_map(|e| e.ok()) {
            let p = e.file_name().into_string().unwrap();
            if let Ok(b) = std::fs::read(e.path().join(format!("{p}.json"))) {
                docs.push((p, b));
            }
        }
    }
    docs.sort();
    Some((pages, docs))
}

/// A small constructed (not AWS-written) service page in the classic layout.
pub fn fixture_page(prefix: &str, actions: &[&str]) -> String {
    let name = format!("Example {}", prefix.to_uppercase());
    let mut rows = String::new();
    for a in actions {
        rows.push_str(&format!(
            "<tr><td><a id=\"{prefix}-{a}\"></a><a href=\"https://example.invalid/{a}\">{a}</a></td><td>Grants permission to {a}</td><td>Read</td><td><a href=\"#{prefix}-thing\">thing*</a></td><td></td><td></td></tr>\n"
        ));
    }
    format!(
        "<!DOCTYPE html><html><head><title>Actions, resources, and condition keys for {name} - Service Authorization Reference</title></head><body>\
<h1>Actions, resources, and condition keys for {name}</h1>\
<p>{name} (service prefix: <code class=\"code\">{prefix}</code>) provides the following service-specific resources, actions, and condition context keys for use in IAM permission policies.</p>\
<h2 id=\"{prefix}-actions-as-permissions\">Actions defined by {name}</h2>\
<div class=\"table-container\"><table><thead><tr><th>Actions</th><th>Description</th><th>Access level</th><th>Resource types (*required)</th><th>Condition keys</th><th>Dependent actions</th></tr></thead>\n{rows}</table></div>\
<h2 id=\"{prefix}-resources-for-iam-policies\">Resource types defined by {name}</h2>\
<div class=\"table-container\"><table><thead><tr><th>Resource types</th><th>ARN</th><th>Condition keys</th></tr></thead>\
<tr><td><a id=\"{prefix}-thing\"></a>thing</td><td><code class=\"code\">arn:${{Partition}}:{prefix}:${{Region}}:${{Account}}:thing/${{ThingId}}</code></td><td></td></tr></table></div>\
<h2 id=\"{prefix}-policy-keys\">Condition keys for {name}</h2>\
<p>{name} defines no service-specific condition keys.</p>\
</body></html>\n"
    )
}

/// Constructed fixture pages and JSON documents (clearly not AWS data).
pub fn fixtures(n: usize) -> (Files, Files) {
    let mut pages = Vec::new();
    let mut docs = Vec::new();
    for i in 0..n {
        let prefix = format!("fixture{i}");
        let actions = ["GetThing", "ListThings", "PutThing"];
        pages.push((
            format!("list_example{prefix}.html"),
            fixture_page(&prefix, &actions).into_bytes(),
        ));
        docs.push((
            prefix.clone(),
            format!("{{\"Name\":\"{prefix}\",\"Actions\":[{{\"Name\":\"GetThing\"}}],\"Version\":\"v1.0\"}}\n")
                .into_bytes(),
        ));
    }
    (pages, docs)
}

/// Pages and documents for a test: the first `n` corpus pages (and every
/// JSON document whose prefix a chosen page mentions, at most `n`), or `n`
/// fixture pages when the corpus is absent (a [`crate::fallback`]: a
/// failure in strict mode). `n = usize::MAX`: everything.
#[track_caller]
pub fn inputs(n: usize) -> (Files, Files, bool) {
    match corpus_files() {
        Some((mut pages, mut docs)) => {
            // Spread the subset over the alphabet (different layouts/sizes).
            if n < pages.len() {
                let step = pages.len() / n;
                pages = pages.into_iter().step_by(step.max(1)).take(n).collect();
            }
            docs.truncate(n);
            (pages, docs, true)
        }
        None => {
            crate::fallback(format!(
                "the corpus is not at {} (sar-html/{DATE}); serving constructed fixture pages instead",
                crate::corpus_root().display()
            ));
            let (p, d) = fixtures(n.min(6));
            (p, d, false)
        }
    }
}
