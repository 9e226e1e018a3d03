//! The HTTP forward proxy of `iamref record --proxy`.
//!
//! - `CONNECT` to an AWS host (`*.amazonaws.com`, `*.amazonaws.com.cn`,
//!   `*.api.aws`) is intercepted: TLS is ended with a certificate for the
//!   host signed by the local CA ([`ca`]), each request is forwarded to the
//!   real host (TLS verified against the system roots) or to
//!   `--upstream-endpoint`, and the answer comes back.
//! - `CONNECT` to any other host is tunneled untouched.
//! - Plain-HTTP requests (absolute-form URI) are forwarded and recorded.
//!
//! Each intercepted request becomes an [`Event::Call`] through
//! [`iamref_policy::record::proxy::call_of`] (pure); the recording
//! session ([`session`], with the CSM socket of [`csm`]) maps it. Bodies are streamed both ways; only the first
//! [`BODY_PREFIX`] bytes of a request (and of an error response) are kept,
//! in memory, to find the members naming resources and the error code,
//! and are never written anywhere. Headers other than the ones naming
//! the operation never leave this crate: the `Authorization` header and
//! `X-Amz-Security-Token` are reduced to the account id the access key
//! id encodes.

pub mod ca;
pub mod csm;
pub mod session;

use anyhow::{anyhow, Context, Result};
use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body::{Body, Frame, SizeHint};
use http_body_util::{combinators::BoxBody, BodyExt, Empty, Full};
use hyper::body::Incoming;
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::{TokioIo, TokioTimer};
use iamref_policy::record::proxy::{self as wire, BODY_PREFIX};
use iamref_policy::record::Call;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;
use tokio::net::TcpStream;

/// At most this many client connections at once; more wait in the
/// kernel's backlog.
pub const MAX_CONNECTIONS: usize = 2048;
/// A client must send a request's head within this time.
const HEADER_TIMEOUT: Duration = Duration::from_secs(30);
/// Connecting upstream (TCP and TLS) must succeed within this time.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
/// Request heads larger than this are refused (hyper answers 431).
const MAX_HEAD: usize = 256 * 1024;

/// What the proxy tells the recorder.
#[derive(Debug)]
pub enum Event {
    /// An intercepted AWS API call (and its response).
    Call(Box<Call>),
    /// An intercepted request that is no AWS API call iamref knows; why.
    Unknown(String),
    /// A request the proxy could not read or forward; answered with an
    /// error. What went wrong (no header values, no body).
    Malformed(String),
    /// A `CONNECT` to a host that is not AWS's, tunneled untouched.
    Tunneled(String),
}

/// Where intercepted requests go instead of the real host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upstream {
    pub https: bool,
    pub host: String,
    pub port: u16,
}

/// Why an upstream endpoint was refused; each names the URL as given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpstreamError {
    /// Not `http://` or `https://`.
    NotHttp(String),
    /// A path, query, fragment or user part, or no host.
    HasPath(String),
    /// The part after the last `:` is not a port number.
    BadPort { url: String, port: String },
}

impl std::fmt::Display for UpstreamError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            UpstreamError::NotHttp(url) => {
                write!(f, "{url:?}: expected http://HOST:PORT or https://HOST:PORT")
            }
            UpstreamError::HasPath(url) => write!(
                f,
                "{url:?}: expected http://HOST:PORT or https://HOST:PORT, without a path"
            ),
            UpstreamError::BadPort { url, port } => {
                write!(f, "{url:?}: {port:?} is not a port number")
            }
        }
    }
}

impl std::error::Error for UpstreamError {}

impl Upstream {
    /// `http://127.0.0.1:5000`, `https://localhost:4566` (a path is refused).
    pub fn parse(url: &str) -> std::result::Result<Upstream, UpstreamError> {
        let (https, rest) = if let Some(r) = url.strip_prefix("http://") {
            (false, r)
        } else if let Some(r) = url.strip_prefix("https://") {
            (true, r)
        } else {
            return Err(UpstreamError::NotHttp(url.into()));
        };
        let rest = rest.trim_end_matches('/');
        if rest.is_empty() || rest.contains(['/', '?', '#', '@']) {
            return Err(UpstreamError::HasPath(url.into()));
        }
        let default = if https { 443 } else { 80 };
        let (host, port) = match rest.rsplit_once(':') {
            Some((h, p)) if !h.ends_with(']') || h.starts_with('[') => match p.parse::<u16>() {
                Ok(p) => (h, p),
                Err(_) if h.starts_with('[') => (rest, default),
                Err(_) => {
                    return Err(UpstreamError::BadPort {
                        url: url.into(),
                        port: p.into(),
                    })
                }
            },
            _ => (rest, default),
        };
        Ok(Upstream {
            https,
            host: host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_string(),
            port,
        })
    }
}

/// How the proxy runs.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub ca_dir: PathBuf,
    pub upstream: Option<Upstream>,
}

/// A running proxy.
pub struct Proxy {
    pub local: SocketAddr,
    pub ca_pem: PathBuf,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Proxy {
    /// Wait until it stopped (after `stop` was set).
    pub fn join(mut self) {
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

type ProxyBody = BoxBody<Bytes, hyper::Error>;

struct State {
    ca: ca::Ca,
    upstream: Option<Upstream>,
    client_tls: Arc<rustls::ClientConfig>,
    sink: Sink,
    requests: AtomicU64,
}

/// Where events go (the recorder's channel: a full channel waits for it,
/// nothing is dropped).
pub type Sink = Arc<dyn Fn(Event) + Send + Sync>;

impl State {
    fn emit(&self, e: Event) {
        (self.sink)(e);
    }
}

/// The system's root certificates (the distribution's CA bundle), else
/// the Mozilla roots compiled in.
fn client_tls() -> Result<Arc<rustls::ClientConfig>> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::CertificateDer;
    let mut roots = rustls::RootCertStore::empty();
    for p in [
        "/etc/ssl/certs/ca-certificates.crt",
        "/etc/pki/tls/certs/ca-bundle.crt",
        "/etc/ssl/ca-bundle.pem",
        "/etc/ssl/cert.pem",
    ] {
        if let Ok(certs) = CertificateDer::pem_file_iter(p) {
            for c in certs.flatten() {
                let _ = roots.add(c);
            }
            if !roots.is_empty() {
                break;
            }
        }
    }
    if roots.is_empty() {
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    }
    let mut c = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| anyhow!("TLS: {e}"))?
    .with_root_certificates(roots)
    .with_no_client_auth();
    c.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(c))
}

/// Bind, make or read the CA, and serve on a thread of its own until
/// `stop` is set. Errors (the address taken, the CA folder unwritable)
/// come back before anything runs.
pub fn start(cfg: Config, sink: Sink, stop: Arc<AtomicBool>) -> Result<Proxy> {
    let ca = ca::Ca::load_or_create(&cfg.ca_dir)?;
    let ca_pem = ca.cert_path.clone();
    let listener = std::net::TcpListener::bind(cfg.listen)
        .with_context(|| format!("cannot listen on {}", cfg.listen))?;
    listener.set_nonblocking(true)?;
    let local = listener.local_addr()?;
    let state = Arc::new(State {
        ca,
        upstream: cfg.upstream,
        client_tls: client_tls()?,
        sink,
        requests: AtomicU64::new(0),
    });
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("iamref-proxy")
        .enable_all()
        .build()?;
    let thread = std::thread::Builder::new()
        .name("iamref-proxy".into())
        .spawn(move || {
            rt.block_on(serve(listener, state, stop));
            rt.shutdown_timeout(Duration::from_millis(200));
        })?;
    Ok(Proxy {
        local,
        ca_pem,
        thread: Some(thread),
    })
}

async fn serve(listener: std::net::TcpListener, state: Arc<State>, stop: Arc<AtomicBool>) {
    let listener = match tokio::net::TcpListener::from_std(listener) {
        Ok(l) => l,
        Err(e) => {
            state.emit(Event::Malformed(format!("proxy listener: {e}")));
            return;
        }
    };
    let slots = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    let mut tick = tokio::time::interval(Duration::from_millis(50));
    loop {
        tokio::select! {
            _ = tick.tick() => {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
            }
            slot = slots.clone().acquire_owned() => {
                let Ok(slot) = slot else { break };
                tokio::select! {
                    r = listener.accept() => match r {
                        Ok((s, _)) => {
                            let _ = s.set_nodelay(true);
                            let st = state.clone();
                            tokio::spawn(async move {
                                client(st, s).await;
                                drop(slot);
                            });
                        }
                        // Out of descriptors and the like: wait, keep serving.
                        Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
                    },
                    _ = tokio::time::sleep(Duration::from_millis(50)) => {
                        if stop.load(Ordering::SeqCst) {
                            break;
                        }
                    }
                }
            }
        }
    }
}

fn text(status: StatusCode, msg: &str) -> Response<ProxyBody> {
    let mut r = Response::new(
        Full::new(Bytes::from(format!("iamref proxy: {msg}\n")))
            .map_err(|never| match never {})
            .boxed(),
    );
    *r.status_mut() = status;
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

fn empty() -> ProxyBody {
    Empty::<Bytes>::new()
        .map_err(|never| match never {})
        .boxed()
}

/// Why a connection's requests could not be read.
fn count_conn_error(state: &State, e: hyper::Error, what: &str) {
    if e.is_parse() || e.is_parse_too_large() || e.is_timeout() {
        state.emit(Event::Malformed(format!("{what}: {e}")));
    }
}

/// One client connection: requests to the proxy itself.
async fn client(state: Arc<State>, s: TcpStream) {
    let st = state.clone();
    let svc = hyper::service::service_fn(move |req| {
        let st = st.clone();
        async move { Ok::<_, std::convert::Infallible>(proxy_request(st, req).await) }
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT)
        .max_buf_size(MAX_HEAD)
        .serve_connection(TokioIo::new(s), svc)
        .with_upgrades();
    if let Err(e) = conn.await {
        count_conn_error(&state, e, "a request to the proxy");
    }
}

fn host_port(auth: &http::uri::Authority, default: u16) -> (String, u16) {
    (
        auth.host()
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string(),
        auth.port_u16().unwrap_or(default),
    )
}

async fn proxy_request(state: Arc<State>, req: Request<Incoming>) -> Response<ProxyBody> {
    if req.method() == Method::CONNECT {
        let Some(auth) = req.uri().authority().cloned() else {
            state.emit(Event::Malformed("CONNECT without HOST:PORT".into()));
            return text(StatusCode::BAD_REQUEST, "CONNECT needs HOST:PORT");
        };
        let (host, port) = host_port(&auth, 443);
        if wire::is_aws_host(&host) {
            let st = state.clone();
            tokio::spawn(async move {
                if let Ok(up) = hyper::upgrade::on(req).await {
                    intercept(st, up, host, port).await;
                }
            });
            return Response::new(empty());
        }
        let tcp =
            match tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect((host.as_str(), port)))
                .await
            {
                Ok(Ok(t)) => t,
                Ok(Err(e)) => {
                    return text(
                        StatusCode::BAD_GATEWAY,
                        &format!("cannot reach {host}:{port}: {e}"),
                    )
                }
                Err(_) => {
                    return text(
                        StatusCode::GATEWAY_TIMEOUT,
                        &format!("{host}:{port}: timed out"),
                    )
                }
            };
        state.emit(Event::Tunneled(format!("{host}:{port}")));
        tokio::spawn(async move {
            if let Ok(up) = hyper::upgrade::on(req).await {
                let mut up = TokioIo::new(up);
                let mut tcp = tcp;
                let _ = tokio::io::copy_bidirectional(&mut up, &mut tcp).await;
            }
        });
        return Response::new(empty());
    }
    // Plain HTTP: an absolute-form URI names the host.
    let Some(auth) = req.uri().authority().cloned() else {
        state.emit(Event::Malformed(format!(
            "{} request without an absolute URI (not a proxy request)",
            req.method()
        )));
        return text(
            StatusCode::BAD_REQUEST,
            "this is a forward proxy: send absolute URIs (http://host/path) or CONNECT",
        );
    };
    if req.uri().scheme_str() != Some("http") {
        state.emit(Event::Malformed(
            "a proxy request whose scheme is not http".into(),
        ));
        return text(
            StatusCode::BAD_REQUEST,
            "only http:// URIs are proxied; use CONNECT for https",
        );
    }
    let (host, port) = host_port(&auth, 80);
    let target = match &state.upstream {
        Some(u) if wire::is_aws_host(&host) => Target::from(u),
        _ => Target {
            tls: false,
            host: host.clone(),
            port,
        },
    };
    let mut conn = None;
    forward(&state, req, &host, &target, &mut conn).await
}

/// The upstream connection of a client connection, kept for its next
/// request, and where it goes.
type Upstreamed = Option<(Target, SendRequest<ProxyBody>)>;

/// Where one request goes.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Target {
    tls: bool,
    host: String,
    port: u16,
}

impl From<&Upstream> for Target {
    fn from(u: &Upstream) -> Target {
        Target {
            tls: u.https,
            host: u.host.clone(),
            port: u.port,
        }
    }
}

/// The TLS connection a client opened with CONNECT to an AWS host.
async fn intercept(state: Arc<State>, up: hyper::upgrade::Upgraded, host: String, port: u16) {
    let config = match state.ca.server_config(&host) {
        Ok(c) => c,
        Err(e) => {
            state.emit(Event::Malformed(format!("{e:#}")));
            return;
        }
    };
    let acceptor = tokio_rustls::TlsAcceptor::from(config);
    let tls = match tokio::time::timeout(HEADER_TIMEOUT, acceptor.accept(TokioIo::new(up))).await {
        Ok(Ok(t)) => t,
        Ok(Err(e)) => {
            state.emit(Event::Malformed(format!(
                "TLS with the client for {host} failed: {e} (is the CA in {} trusted by the client? AWS_CA_BUNDLE, NODE_EXTRA_CA_CERTS, SSL_CERT_FILE)",
                state.ca.cert_path.display()
            )));
            return;
        }
        Err(_) => {
            state.emit(Event::Malformed(format!(
                "TLS with the client for {host}: timed out"
            )));
            return;
        }
    };
    let target = match &state.upstream {
        Some(u) => Target::from(u),
        None => Target {
            tls: true,
            host: host.clone(),
            port,
        },
    };
    let conn: Arc<tokio::sync::Mutex<Upstreamed>> = Arc::new(tokio::sync::Mutex::new(None));
    let st = state.clone();
    let svc = hyper::service::service_fn(move |req: Request<Incoming>| {
        let st = st.clone();
        let host = host.clone();
        let target = target.clone();
        let conn = conn.clone();
        async move {
            let mut guard = conn.lock().await;
            let mut c = guard.take();
            let r = forward(&st, req, &host, &target, &mut c).await;
            *guard = c;
            Ok::<_, std::convert::Infallible>(r)
        }
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT)
        .max_buf_size(MAX_HEAD)
        .serve_connection(TokioIo::new(tls), svc);
    if let Err(e) = conn.await {
        count_conn_error(&state, e, "an intercepted request");
    }
}

async fn connect(state: &State, t: &Target) -> Result<SendRequest<ProxyBody>> {
    let go = async {
        let tcp = TcpStream::connect((t.host.as_str(), t.port))
            .await
            .with_context(|| format!("cannot reach {}:{}", t.host, t.port))?;
        let _ = tcp.set_nodelay(true);
        if t.tls {
            let name = rustls::pki_types::ServerName::try_from(t.host.clone())
                .map_err(|e| anyhow!("{}: {e}", t.host))?;
            let tls = tokio_rustls::TlsConnector::from(state.client_tls.clone())
                .connect(name, tcp)
                .await
                .with_context(|| format!("TLS with {}:{}", t.host, t.port))?;
            let (send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls)).await?;
            tokio::spawn(conn);
            Ok(send)
        } else {
            let (send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tcp)).await?;
            tokio::spawn(conn);
            Ok(send)
        }
    };
    tokio::time::timeout(CONNECT_TIMEOUT, go)
        .await
        .map_err(|_| anyhow!("{}:{}: timed out connecting", t.host, t.port))?
}

/// Headers that belong to one hop, never forwarded.
const HOP: &[&str] = &[
    "connection",
    "proxy-connection",
    "keep-alive",
    "proxy-authorization",
    "proxy-authenticate",
    "te",
    "trailer",
    "upgrade",
];

/// Forward one request to `target` (reusing `conn`), record it, hand the
/// answer back.
async fn forward(
    state: &State,
    req: Request<Incoming>,
    host: &str,
    target: &Target,
    conn: &mut Upstreamed,
) -> Response<ProxyBody> {
    let n = state.requests.fetch_add(1, Ordering::Relaxed) + 1;
    let (mut parts, body) = req.into_parts();
    let method = parts.method.to_string();
    let path = parts.uri.path().to_string();
    let query = parts.uri.query().unwrap_or("").to_string();
    let headers: Vec<(String, String)> = parts
        .headers
        .iter()
        .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
        .collect();
    let prefix = Arc::new(Mutex::new(Vec::new()));
    let body = Tee::new(body.boxed(), prefix.clone(), None).boxed();
    // Origin form upstream; the Host header stays the AWS host (SigV4
    // signed it).
    let pq = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "/".into());
    parts.uri = match pq.parse() {
        Ok(u) => u,
        Err(_) => {
            return text(
                StatusCode::BAD_REQUEST,
                "a request target that cannot be forwarded",
            )
        }
    };
    for h in HOP {
        parts.headers.remove(*h);
    }
    if !parts.headers.contains_key(http::header::HOST) {
        if let Ok(v) = http::HeaderValue::from_str(host) {
            parts.headers.insert(http::header::HOST, v);
        }
    }
    let up = Request::from_parts(parts, body);
    let reused = match conn.take() {
        Some((t, mut s)) if &t == target => s.ready().await.ok().map(|_| s),
        _ => None,
    };
    let mut sender = match reused {
        Some(s) => s,
        None => match connect(state, target).await {
            Ok(s) => s,
            Err(e) => {
                state.emit(Event::Malformed(format!("request {n} to {host}: {e:#}")));
                return text(StatusCode::BAD_GATEWAY, &format!("{e:#}"));
            }
        },
    };
    let resp = match sender.send_request(up).await {
        Ok(r) => r,
        Err(e) => {
            state.emit(Event::Malformed(format!(
                "request {n} to {host}: upstream: {e}"
            )));
            return text(StatusCode::BAD_GATEWAY, &format!("upstream: {e}"));
        }
    };
    *conn = Some((target.clone(), sender));
    let status = resp.status().as_u16();
    let rheaders: Vec<(String, String)> = resp
        .headers()
        .iter()
        .filter(|(k, _)| k.as_str().eq_ignore_ascii_case("x-amzn-errortype"))
        .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
        .collect();
    let host = host.to_string();
    let record = move |rbody: &[u8]| -> Event {
        let pre = prefix.lock().unwrap_or_else(|e| e.into_inner());
        let r = wire::Request {
            method: &method,
            host: &host,
            path: &path,
            query: &query,
            headers: &headers,
            body: &pre[..],
        };
        let response = wire::response_of(status, &rheaders, rbody);
        match wire::call_of(format!("proxy request {n}"), &r, Some(&response)) {
            Ok(c) => Event::Call(Box::new(c)),
            Err(e) => Event::Unknown(e),
        }
    };
    let (mut rparts, rbody) = resp.into_parts();
    // The upstream's `Connection: close` (moto sends it) is about its
    // hop: the client's connection to the proxy stays open.
    for h in HOP {
        rparts.headers.remove(*h);
    }
    if status < 300 {
        state.emit(record(&[]));
        return Response::from_parts(rparts, rbody.boxed());
    }
    // An error: its code is in the body; record when the body ends.
    let sink = state.sink.clone();
    let rprefix = Arc::new(Mutex::new(Vec::new()));
    let p2 = rprefix.clone();
    let done: Box<dyn FnOnce() + Send + Sync> = Box::new(move || {
        let b = p2.lock().unwrap_or_else(|e| e.into_inner());
        sink(record(&b));
    });
    Response::from_parts(rparts, Tee::new(rbody.boxed(), rprefix, Some(done)).boxed())
}

/// A body passed through, its first [`BODY_PREFIX`] bytes copied aside;
/// `done` runs once when it ends or is dropped.
struct Tee {
    inner: ProxyBody,
    prefix: Arc<Mutex<Vec<u8>>>,
    done: Option<Box<dyn FnOnce() + Send + Sync>>,
}

impl Tee {
    fn new(
        inner: ProxyBody,
        prefix: Arc<Mutex<Vec<u8>>>,
        done: Option<Box<dyn FnOnce() + Send + Sync>>,
    ) -> Tee {
        Tee {
            inner,
            prefix,
            done,
        }
    }

    fn finish(&mut self) {
        if let Some(f) = self.done.take() {
            f();
        }
    }
}

impl Drop for Tee {
    fn drop(&mut self) {
        self.finish();
    }
}

impl Body for Tee {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let r = Pin::new(&mut self.inner).poll_frame(cx);
        match &r {
            Poll::Ready(Some(Ok(f))) => {
                if let Some(d) = f.data_ref() {
                    let mut p = self.prefix.lock().unwrap_or_else(|e| e.into_inner());
                    let room = BODY_PREFIX.saturating_sub(p.len());
                    p.extend_from_slice(&d[..d.len().min(room)]);
                }
            }
            Poll::Ready(None) | Poll::Ready(Some(Err(_))) => self.finish(),
            Poll::Pending => {}
        }
        r
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upstream_urls() {
        assert_eq!(
            Upstream::parse("http://127.0.0.1:5000").unwrap(),
            Upstream {
                https: false,
                host: "127.0.0.1".into(),
                port: 5000
            }
        );
        assert_eq!(Upstream::parse("https://localhost/").unwrap().port, 443);
        assert_eq!(Upstream::parse("http://[::1]:4566").unwrap().host, "::1");
        for (bad, want) in [
            ("ftp://x", UpstreamError::NotHttp("ftp://x".into())),
            ("http://", UpstreamError::HasPath("http://".into())),
            (
                "http://h:99999",
                UpstreamError::BadPort {
                    url: "http://h:99999".into(),
                    port: "99999".into(),
                },
            ),
            (
                "http://h:1/path",
                UpstreamError::HasPath("http://h:1/path".into()),
            ),
            (
                "127.0.0.1:5000",
                UpstreamError::NotHttp("127.0.0.1:5000".into()),
            ),
        ] {
            let e = Upstream::parse(bad).unwrap_err();
            assert_eq!(e, want, "{bad}");
            assert!(e.to_string().starts_with(&format!("{bad:?}: ")), "{e}");
        }
    }
}
