//! Recording what a workload calls:
//!
//! - `iamref record`: listen for SDK client-side monitoring (CSM)
//!   datagrams on loopback, show the calls and the policy growing, then
//!   write the policy and a call log (both atomically);
//! - CloudTrail input for `iamref calls` and
//!   `iamref policy write --from-cloudtrail` (files, `.json.gz`, folder
//!   trees), with principal and time filters.
//!
//! The mapping itself (calls -> needs) is `iamref_policy::record`.

use crate::exit::{input, Exit};
use crate::output::{Format, Out};
use anyhow::Result;
use iamref_dataset::atomic::{AtomicFile, Mode};
use iamref_dataset::db::Connection;
use iamref_policy::record::cloudtrail::{self, Filter, ReadStats};
use iamref_policy::record::ops::OperationIndex;
use iamref_policy::record::{csm, log, service_ids, Call, Options, Outcome, Recording, ServiceRef};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

fn pretty(v: &Value) -> Result<Vec<u8>> {
    let mut b = serde_json::to_vec_pretty(v)?;
    b.push(b'\n');
    Ok(b)
}

// ---------------------------------------------------------------------------
// CloudTrail input.
// ---------------------------------------------------------------------------

/// Filters of CloudTrail input (`calls`, `policy write --from-cloudtrail`).
#[derive(clap::Args, Debug, Clone, Default)]
pub struct TrailArgs {
    /// Only records of this principal (`userIdentity.arn`); a role ARN also
    /// matches the role's assumed-role sessions
    #[arg(long, value_name = "ARN")]
    pub principal: Option<String>,
    /// Only records at or after this time (ISO 8601: 2026-06-01, 2026-06-01T10:00:00Z)
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// Only records at or before this time (a date includes the whole day)
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
    /// Count failed calls (errorCode) as needs too (AccessDenied always counts)
    #[arg(long)]
    pub include_errors: bool,
}

impl TrailArgs {
    pub fn filter(&self) -> Result<Filter> {
        let t = |s: &Option<String>, what: &str| -> Result<Option<String>> {
            s.as_deref()
                .map(|v| cloudtrail::check_time(v).map_err(|e| input(format!("--{what}: {e}"))))
                .transpose()
        };
        if let Some(p) = &self.principal {
            if !p.starts_with("arn:") {
                return Err(input(format!(
                    "--principal {p:?} is not an ARN (e.g. arn:aws:iam::123456789012:role/app)"
                )));
            }
        }
        Ok(Filter {
            principal: self.principal.clone(),
            since: t(&self.since, "since")?,
            until: t(&self.until, "until")?,
        })
    }

    fn any(&self) -> bool {
        self.principal.is_some() || self.since.is_some() || self.until.is_some()
    }
}

/// A readable stream for a file or stdin, gzip decompressed when the
/// bytes say so (magic `1f 8b`), whatever the name.
fn open_stream(path: Option<&Path>) -> Result<(String, Box<dyn BufRead>)> {
    let (name, raw): (String, Box<dyn Read>) = match path {
        Some(p) if p.as_os_str() != "-" => (
            p.display().to_string(),
            Box::new(std::fs::File::open(p).map_err(|e| input(format!("{}: {e}", p.display())))?),
        ),
        _ => ("stdin".to_string(), Box::new(std::io::stdin())),
    };
    let mut r = BufReader::with_capacity(1 << 20, raw);
    let gz = r
        .fill_buf()
        .map(|b| b.starts_with(&[0x1f, 0x8b]))
        .unwrap_or(false);
    Ok(if gz {
        (
            name,
            Box::new(BufReader::with_capacity(
                1 << 20,
                flate2::read::MultiGzDecoder::new(r),
            )),
        )
    } else {
        (name, Box::new(r))
    })
}

/// What reading some input gave.
pub struct Input {
    pub recording: Recording,
    pub trail: Option<ReadStats>,
    pub files: usize,
}

/// Read calls from a text list (`s3:GetObject` per line) or CloudTrail
/// (file, gzip, folder tree, stdin) into a recording.
pub fn read_calls(
    idx: &OperationIndex,
    path: Option<&Path>,
    trail: &TrailArgs,
    options: Options,
) -> Result<Input> {
    read_calls_each(idx, path, trail, options, &mut |_| {})
}

/// [`read_calls`], handing each call to `each` as well.
pub fn read_calls_each(
    idx: &OperationIndex,
    path: Option<&Path>,
    trail: &TrailArgs,
    options: Options,
    each: &mut dyn FnMut(&Call),
) -> Result<Input> {
    let filter = trail.filter()?;
    let mut rec = Recording::new(options);
    let mut add = |rec: &mut Recording, call: Call| {
        rec.add(idx, &call);
        each(&call);
    };
    if let Some(dir) = path.filter(|p| p.is_dir()) {
        let files = cloudtrail::files(dir).map_err(input)?;
        if files.is_empty() {
            return Err(input(format!(
                "{}: no CloudTrail files (.json, .jsonl, .json.gz) in this folder or below",
                dir.display()
            )));
        }
        let mut stats = ReadStats::default();
        for f in &files {
            // One unreadable file never loses the others.
            let (name, r) = match open_stream(Some(f)) {
                Ok(x) => x,
                Err(e) => {
                    stats.skip(format!("{e:#}"));
                    continue;
                }
            };
            cloudtrail::read(r, &name, &filter, &mut stats, |c| add(&mut rec, c)).map_err(input)?;
        }
        return Ok(Input {
            recording: rec,
            trail: Some(stats),
            files: files.len(),
        });
    }
    let (name, r) = open_stream(path)?;
    let mut stats = ReadStats::default();
    let kind = log::read_stream(r, &name, &filter, &mut stats, |c| add(&mut rec, c)).map_err(
        |e| match e {
            log::ReadError::FilterOnList(name) => input(format!(
                "{name}: --principal, --since and --until filter CloudTrail records; this input is a list of calls"
            )),
            log::ReadError::Io(e) => e.into(),
            e => input(e.to_string()),
        },
    )?;
    Ok(Input {
        recording: rec,
        trail: (kind == log::Kind::Trail).then_some(stats),
        files: 1,
    })
}

impl Input {
    /// Records that could not be read (the output covers the others).
    pub fn skipped(&self) -> u64 {
        self.trail.as_ref().map_or(0, |t| t.skipped)
    }
}

/// The exit of a command whose output is written: `Exit::Skipped` (2)
/// when input records were skipped, else `ok`.
pub fn unless_skipped(r: &Input, ok: Exit) -> Exit {
    if r.skipped() > 0 {
        Exit::Skipped
    } else {
        ok
    }
}

/// The stderr report of a reading: unmapped calls, failures, filters,
/// the share of calls whose resources were resolved.
pub fn report(r: &Input, quiet: bool) {
    let rec = &r.recording;
    // What could not be read is said whatever -q says: the output lacks it.
    if let Some(t) = &r.trail {
        for s in &t.skipped_at {
            crate::diag::warning(format_args!("skipped: {}", crate::output::safe(s)));
        }
        if t.skipped > 0 {
            crate::diag::warning(format_args!(
                "{} record(s) could not be read and were skipped{}; the output covers the others (exit 2)",
                t.skipped,
                if t.skipped as usize > t.skipped_at.len() {
                    format!(" ({} named above)", t.skipped_at.len())
                } else {
                    String::new()
                }
            ));
        }
    }
    for u in rec.unmapped() {
        crate::diag::info(format_args!(
            "{}: {}{}",
            crate::output::safe(&u.first_at),
            crate::output::safe(&u.reason),
            if u.count > 1 {
                format!(" ({} calls)", u.count)
            } else {
                String::new()
            }
        ));
    }
    if quiet {
        return;
    }
    if let Some(t) = r.trail.as_ref().filter(|t| !t.other_events.is_empty()) {
        let classes: Vec<String> = t
            .other_events
            .iter()
            .map(|(k, n)| format!("{} {n}", crate::output::safe(k)))
            .collect();
        crate::diag::note(format_args!(
            "events that are not API calls, neither granted nor unmapped: {}",
            classes.join(", ")
        ));
    }
    for n in rec
        .notes()
        .into_iter()
        .filter(|n| !n.starts_with("unmapped: "))
    {
        crate::diag::note(format_args!("{n}"));
    }
    if let Some(t) = &r.trail {
        let s = &rec.stats;
        crate::diag::info(format_args!(
            "{} record(s) in {} file(s), {} filtered out; {} call(s) mapped, {} unmapped, {} failed ({} denied){}",
            t.records,
            r.files,
            t.filtered,
            s.mapped,
            s.unmapped,
            s.failed,
            s.denied,
            if s.skipped_errors > 0 {
                format!(", {} failed call(s) not counted (--include-errors counts them)", s.skipped_errors)
            } else {
                String::new()
            }
        ));
        if s.resource_calls > 0 {
            crate::diag::info(format_args!(
                "resources resolved for {} of {} call(s) whose actions take resources ({:.1}%); the others are scoped to their region and account",
                s.resolved,
                s.resource_calls,
                100.0 * s.resolved as f64 / s.resource_calls as f64
            ));
        }
    }
}

/// The CloudTrail flags of `policy write` without `--from-cloudtrail`: an error.
pub fn no_trail_flags(trail: &TrailArgs, include_conditional: bool) -> Result<()> {
    if trail.any() || trail.include_errors || include_conditional {
        return Err(input(
            "--principal, --since, --until, --include-errors and --include-conditional go with --from-cloudtrail PATH",
        ));
    }
    Ok(())
}

/// `iamref policy write --from-cloudtrail PATH`.
pub fn write_from_cloudtrail(
    conn: &Connection,
    path: &Path,
    trail: &TrailArgs,
    include_conditional: bool,
    split: &crate::split::SplitArgs,
    out: &mut Out,
    quiet: bool,
) -> Result<Exit> {
    let idx = crate::catalog::index(conn)?;
    let r = read_calls(
        &idx,
        Some(path),
        trail,
        Options {
            include_conditional,
            include_errors: trail.include_errors,
        },
    )?;
    report(&r, quiet);
    let granted = r.recording.granted();
    if granted.is_empty() {
        crate::diag::info(format_args!(
            "no call in {} maps to an action to grant",
            path.display()
        ));
        return Ok(Exit::NotFound);
    }
    let (policy, notes) = crate::catalog::policy_from_needs(conn, &granted)?;
    crate::catalog::print_record_notes(&notes);
    let maybe: Vec<&str> = r
        .recording
        .needs()
        .into_iter()
        .filter(|n| n.conditional && !include_conditional)
        .map(|n| n.action.as_str())
        .collect();
    if !maybe.is_empty() && !quiet {
        crate::diag::note(format_args!(
            "may also need (parameter-dependent, granted with --include-conditional): {}",
            maybe.join(", ")
        ));
    }
    if let Some(paths) = crate::split::write_parts(&policy, split)? {
        crate::split::print_paths(out.w(), &paths)?;
        return Ok(unless_skipped(&r, Exit::Found));
    }
    let compact = out.format == Format::Jsonl;
    let w = out.w();
    if compact {
        serde_json::to_writer(&mut *w, &policy)?;
        writeln!(w)?;
    } else {
        w.write_all(&pretty(&policy)?)?;
    }
    Ok(unless_skipped(&r, Exit::Found))
}

// ---------------------------------------------------------------------------
// `iamref record`
// ---------------------------------------------------------------------------

#[derive(clap::Args, Debug)]
pub struct RecordArgs {
    /// UDP port to listen on for CSM datagrams (the SDKs' AWS_CSM_PORT; 0
    /// picks a free one); default 31000, and with --proxy only when given
    #[arg(long)]
    pub port: Option<u16>,
    /// Address to listen on; anything but loopback exposes the credentials
    /// the SDKs send (CSM datagrams in clear text; the proxy to anyone who
    /// can reach it): a warning says so
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1")]
    pub listen: IpAddr,
    /// Also (or only) record through an HTTP(S) forward proxy on this port
    /// or address (default 127.0.0.1:10080), for SDKs without CSM (Go v2,
    /// JavaScript v3, Rust): AWS hosts are intercepted with a local CA,
    /// others tunneled untouched
    #[arg(long, value_name = "[ADDR:]PORT", num_args = 0..=1, default_missing_value = "10080")]
    pub proxy: Option<String>,
    /// Folder of the proxy's CA (ca.pem, ca-key.pem), made on first use;
    /// default: `proxy-ca` in iamref's config folder
    #[arg(long, value_name = "DIR")]
    pub ca_dir: Option<PathBuf>,
    /// Send every intercepted request to this endpoint instead of the real
    /// AWS host (moto, LocalStack, tests): http://HOST:PORT or https://HOST:PORT
    #[arg(long, value_name = "URL")]
    pub upstream_endpoint: Option<String>,
    /// Show only failed calls as they come (denied ones as "denied: needs ACTION")
    #[arg(long)]
    pub fails_only: bool,
    /// Write the policy here (atomically) when recording ends; default:
    /// standard output
    #[arg(long, value_name = "FILE", conflicts_with = "split")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub split: crate::split::SplitArgs,
    /// Write the calls here (JSON lines, CloudTrail-shaped, atomically):
    /// replay with `iamref calls FILE` or `iamref policy write --from-cloudtrail FILE`
    #[arg(long, value_name = "FILE")]
    pub log: Option<PathBuf>,
    /// Stop after this many seconds (default: at Ctrl-C)
    #[arg(long, value_name = "SECONDS")]
    pub duration: Option<f64>,
    /// Grant the parameter-dependent actions too (listed as "may also need" otherwise)
    #[arg(long)]
    pub include_conditional: bool,
    /// Write the addresses actually bound to this file once listening
    /// (`127.0.0.1:PORT` for CSM, `proxy 127.0.0.1:PORT` for the proxy,
    /// one a line): for scripts that start the workload next
    #[arg(long, value_name = "FILE")]
    pub ready_file: Option<PathBuf>,
    #[command(flatten)]
    pub fmt: crate::output::DocFormatArg,
}

/// The proxy's address: `PORT` (on `--listen`) or `IP:PORT`; an IP that
/// is not loopback must be the one `--listen` names.
fn proxy_addr(spec: &str, listen: IpAddr) -> Result<SocketAddr> {
    if let Ok(port) = spec.parse::<u16>() {
        return Ok(SocketAddr::new(listen, port));
    }
    let addr: SocketAddr = spec.parse().map_err(|_| {
        input(format!(
            "--proxy {spec:?}: expected a port (10080) or an address (127.0.0.1:10080)"
        ))
    })?;
    if !addr.ip().is_loopback() && addr.ip() != listen {
        return Err(input(format!(
            "--proxy {addr}: not loopback; anyone who can reach it can use the proxy and see the calls: say --listen {} too",
            addr.ip()
        )));
    }
    Ok(addr)
}

/// The default CA folder: `proxy-ca` in iamref's config folder.
fn default_ca_dir() -> Result<PathBuf> {
    directories::ProjectDirs::from("", "", "iamref")
        .map(|d| d.config_dir().join("proxy-ca"))
        .ok_or_else(|| input("no home folder to keep the proxy's CA in: say --ca-dir DIR"))
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// A file written atomically ([`iamref_dataset::atomic`]); errors
/// creating it are bad input (a folder that is not writable).
fn create_output(path: &Path, mode: Mode) -> Result<AtomicFile> {
    AtomicFile::create(path, mode).map_err(|e| input(e.to_string()))
}

/// Counters of a recording session.
#[derive(Debug, Default, Clone, Copy)]
pub struct Counters {
    pub datagrams: u64,
    pub calls: u64,
    pub attempts: u64,
    pub malformed: u64,
    pub oversized: u64,
    /// Requests the proxy intercepted (AWS calls or not).
    pub proxied: u64,
    /// Intercepted requests that are no AWS API call iamref knows.
    pub proxy_unknown: u64,
    /// Requests the proxy could not read or forward (answered with an error).
    pub proxy_malformed: u64,
    /// CONNECTs to other hosts, tunneled untouched.
    pub tunneled: u64,
}

/// Stop on Ctrl-C: a thread with a small runtime waits for the signal.
fn on_ctrl_c(stop: Arc<AtomicBool>) {
    std::thread::spawn(move || {
        let rt = match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(rt) => rt,
            Err(_) => return,
        };
        rt.block_on(async {
            if tokio::signal::ctrl_c().await.is_ok() {
                stop.store(true, Ordering::SeqCst);
            }
        });
    });
}

/// Bind a UDP socket with a large receive buffer (4 MiB asked; the
/// kernel caps it at `net.core.rmem_max`), so bursts of datagrams wait in
/// the kernel instead of being dropped while the recorder is descheduled.
fn bind(addr: SocketAddr) -> std::io::Result<UdpSocket> {
    use socket2::{Domain, Protocol, Socket, Type};
    let s = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
    let _ = s.set_recv_buffer_size(4 << 20);
    s.bind(&addr.into())?;
    Ok(s.into())
}

/// The kernel's count of datagrams dropped on this socket (its receive
/// buffer full): the `drops` column of `/proc/net/udp` or `udp6` on the
/// socket's inode; `None` where that is not readable (not Linux).
fn kernel_drops(s: &UdpSocket) -> Option<u64> {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        use std::os::unix::fs::MetadataExt;
        let ino = std::fs::metadata(format!("/proc/self/fd/{}", s.as_raw_fd()))
            .ok()?
            .ino();
        ["/proc/net/udp", "/proc/net/udp6"]
            .iter()
            .filter_map(|f| std::fs::read_to_string(f).ok())
            .find_map(|t| drops_in(&t, ino))
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = s;
        None
    }
}

/// The `drops` (last) column of the `/proc/net/udp` row whose inode (the
/// tenth column) is `ino`.
fn drops_in(table: &str, ino: u64) -> Option<u64> {
    table.lines().skip(1).find_map(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        (f.len() >= 13 && f[9].parse() == Ok(ino)).then(|| f.last()?.parse().ok())?
    })
}

/// What the sources send the recording loop.
enum Msg {
    Data(Vec<u8>),
    Oversized,
    Proxy(iamref_proxy::Event),
}

/// At most this many distinct proxy problems are printed as they come;
/// all are counted.
const SHOW_PROBLEMS: u64 = 20;

/// `iamref record`.
pub fn record(conn: &Connection, a: RecordArgs, quiet: bool, out: &mut Out) -> Result<Exit> {
    if let Some(d) = a.duration {
        if !(d.is_finite() && d > 0.0) {
            return Err(input(format!(
                "--duration {d}: expected a positive number of seconds"
            )));
        }
    }
    let proxy_at = a
        .proxy
        .as_deref()
        .map(|p| proxy_addr(p, a.listen))
        .transpose()?;
    if proxy_at.is_none() && (a.ca_dir.is_some() || a.upstream_endpoint.is_some()) {
        return Err(input("--ca-dir and --upstream-endpoint go with --proxy"));
    }
    let upstream = a
        .upstream_endpoint
        .as_deref()
        .map(iamref_proxy::Upstream::parse)
        .transpose()
        .map_err(|e| input(format!("--upstream-endpoint {e}")))?;
    // CSM listens unless only the proxy was asked for.
    let csm_port = match (a.port, proxy_at) {
        (Some(p), _) => Some(p),
        (None, None) => Some(31000),
        (None, Some(_)) => None,
    };
    let idx = crate::catalog::index(conn)?;
    if !a.listen.is_loopback() {
        crate::diag::warning(format_args!(
            "listening on {}, not loopback: SDK datagrams carry access keys and session tokens in clear text, and anyone who can reach the proxy can use it and see the calls",
            a.listen
        ));
    }
    let sock = csm_port
        .map(|port| {
            let addr = SocketAddr::new(a.listen, port);
            bind(addr).map_err(|e| {
                input(format!(
                    "cannot listen on {addr}: {e} (another recorder running? try --port with another port, or 0 for a free one)"
                ))
            })
        })
        .transpose()?;
    // Open the outputs first: a bad path fails before recording.
    let mut log = a
        .log
        .as_deref()
        .map(|p| create_output(p, Mode::Private))
        .transpose()?;
    if let Some(o) = &a.out {
        create_output(o, Mode::Public)?; // dropped: only checks the folder is writable
    }
    let stop = Arc::new(AtomicBool::new(false));
    let (tx, rx) = mpsc::sync_channel::<Msg>(1 << 16);
    let proxy = match proxy_at {
        Some(listen) => {
            let ca_dir = match &a.ca_dir {
                Some(d) => d.clone(),
                None => default_ca_dir()?,
            };
            let ptx = tx.clone();
            let sink: iamref_proxy::Sink = Arc::new(move |e| {
                let _ = ptx.send(Msg::Proxy(e));
            });
            let p = iamref_proxy::start(
                iamref_proxy::Config {
                    listen,
                    ca_dir,
                    upstream,
                },
                sink,
                stop.clone(),
            )
            .map_err(|e| input(format!("--proxy: {e:#}")))?;
            Some(p)
        }
        None => None,
    };
    let until = match a.duration {
        Some(d) => format!("stopping after {d} s or at Ctrl-C"),
        None => "Ctrl-C stops".to_string(),
    };
    let mut ready = String::new();
    if let Some(sock) = &sock {
        let local = sock.local_addr()?;
        crate::diag::status(format_args!(
            "listening on {local}; run the workload with AWS_CSM_ENABLED=true AWS_CSM_PORT={}{}; {until}",
            local.port(),
            if local.ip().is_loopback() && local.ip() == IpAddr::from([127, 0, 0, 1]) {
                String::new()
            } else {
                format!(" AWS_CSM_HOST={}", local.ip())
            },
        ));
        ready.push_str(&format!("{local}\n"));
    }
    if let Some(p) = &proxy {
        let ca = p.ca_pem.display();
        crate::diag::status(format_args!(
            "proxy on {}, CA certificate {ca}; run the workload with:\n  HTTPS_PROXY=http://{0} HTTP_PROXY=http://{0}\n  AWS_CA_BUNDLE={ca}\n  NODE_EXTRA_CA_CERTS={ca}\n  SSL_CERT_FILE={ca}   (OpenSSL clients; it replaces their system roots)\n{until}",
            p.local
        ));
        ready.push_str(&format!("proxy {}\n", p.local));
    }
    if let Some(r) = &a.ready_file {
        std::fs::write(r, ready).map_err(|e| input(format!("{}: {e}", r.display())))?;
    }
    on_ctrl_c(stop.clone());
    let deadline = a
        .duration
        .map(|d| Instant::now() + Duration::from_secs_f64(d));

    // A receiver thread only drains the socket (so bursts do not overflow
    // the kernel buffer); this thread parses and maps.
    // A second handle on the socket keeps it open to read the kernel's
    // drop counter after the receiver has stopped.
    let probe = sock.as_ref().and_then(|s| s.try_clone().ok());
    let mut receiver = match sock {
        Some(sock) => {
            sock.set_read_timeout(Some(Duration::from_millis(50)))?;
            let rstop = stop.clone();
            let tx = tx.clone();
            Some(std::thread::spawn(move || {
                let mut buf = vec![0u8; 65_536];
                loop {
                    if rstop.load(Ordering::SeqCst) {
                        break;
                    }
                    match sock.recv_from(&mut buf) {
                        Ok((n, _)) => {
                            // Oversized datagrams are not copied, only measured.
                            let msg = if n > csm::MAX_DATAGRAM {
                                Msg::Oversized
                            } else {
                                Msg::Data(buf[..n].to_vec())
                            };
                            if tx.send(msg).is_err() {
                                break;
                            }
                        }
                        Err(e)
                            if matches!(
                                e.kind(),
                                std::io::ErrorKind::WouldBlock
                                    | std::io::ErrorKind::TimedOut
                                    | std::io::ErrorKind::Interrupted
                            ) => {}
                        Err(_) => {
                            // ICMP errors and the like: keep listening.
                        }
                    }
                }
            }))
        }
        None => None,
    };
    drop(tx);
    let mut proxy = proxy;

    let mut rec = Recording::new(Options {
        include_conditional: a.include_conditional,
        include_errors: true,
    });
    let mut c = Counters::default();
    let live = out.tty && out.format == Format::Table;
    let mut last_status = Instant::now();
    let mut shown: Option<(u64, u64)> = None;
    let mut account: Option<String> = None;
    let mut accounts_seen = std::collections::BTreeSet::new();
    let mut log_err: Option<anyhow::Error> = None;
    let mut problems: BTreeSet<String> = BTreeSet::new();
    // After the stop: the sources are stopped and joined, what they sent
    // is drained.
    let mut draining = false;
    loop {
        let msg = if draining {
            match rx.try_recv() {
                Ok(m) => m,
                Err(_) => break,
            }
        } else {
            if stop.load(Ordering::SeqCst) || deadline.is_some_and(|d| Instant::now() >= d) {
                stop.store(true, Ordering::SeqCst);
                if let Some(r) = receiver.take() {
                    let _ = r.join();
                }
                if let Some(p) = proxy.take() {
                    p.join();
                }
                draining = true;
                continue;
            }
            match rx.recv_timeout(Duration::from_millis(100)) {
                Ok(m) => m,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    if live && !quiet && last_status.elapsed() > Duration::from_millis(250) {
                        let now = (c.datagrams + c.proxied, rec.stats.calls);
                        if shown != Some(now) {
                            status_line(&c, &rec);
                            shown = Some(now);
                        }
                        last_status = Instant::now();
                    }
                    continue;
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    stop.store(true, Ordering::SeqCst);
                    continue;
                }
            }
        };
        let (call, line) = match msg {
            Msg::Proxy(e) => match e {
                iamref_proxy::Event::Call(call) => {
                    c.proxied += 1;
                    c.calls += 1;
                    (*call, None)
                }
                iamref_proxy::Event::Unknown(why) => {
                    c.proxied += 1;
                    c.proxy_unknown += 1;
                    if c.proxy_unknown <= SHOW_PROBLEMS && problems.insert(why.clone()) {
                        crate::diag::info(format_args!(
                            "proxy: not recorded: {}",
                            crate::output::safe(&why)
                        ));
                    }
                    continue;
                }
                iamref_proxy::Event::Malformed(why) => {
                    c.proxy_malformed += 1;
                    if c.proxy_malformed <= SHOW_PROBLEMS && problems.insert(why.clone()) {
                        crate::diag::info(format_args!("proxy: {}", crate::output::safe(&why)));
                    }
                    continue;
                }
                iamref_proxy::Event::Tunneled(_) => {
                    c.tunneled += 1;
                    continue;
                }
            },
            msg => {
                c.datagrams += 1;
                let msg = match msg {
                    Msg::Data(m) => m,
                    _ => {
                        c.oversized += 1;
                        continue;
                    }
                };
                let d = match csm::parse(&msg) {
                    Ok(d) => d,
                    Err(csm::CsmError::Oversized(_)) => {
                        c.oversized += 1;
                        continue;
                    }
                    Err(_) => {
                        c.malformed += 1;
                        continue;
                    }
                };
                drop(msg);
                if d.kind == Some(csm::Kind::ApiCallAttempt) {
                    c.attempts += 1;
                    if let Some(acct) = &d.account {
                        if accounts_seen.insert(acct.clone()) && accounts_seen.len() > 1 {
                            crate::diag::note(format_args!("calls from more than one account ({}); each call is scoped to the account of the attempt before it", accounts_seen.iter().cloned().collect::<Vec<_>>().join(", ")));
                        }
                        account = Some(acct.clone());
                    }
                    continue;
                }
                c.calls += 1;
                let call = Call {
                    at: format!("datagram {}", c.datagrams),
                    service: Some(ServiceRef::SdkId(d.service.clone())),
                    operation: d.api.clone(),
                    region: d.region.clone(),
                    account: account.clone(),
                    status: d.final_http_status,
                    error: d.failure().map(str::to_string),
                    denied_action: d.denied_action.clone(),
                    ..Default::default()
                };
                (call, Some(d))
            }
        };
        if line.is_none() {
            if let Some(acct) = &call.account {
                if accounts_seen.insert(acct.clone()) && accounts_seen.len() > 1 {
                    crate::diag::note(format_args!(
                        "calls from more than one account ({})",
                        accounts_seen.iter().cloned().collect::<Vec<_>>().join(", ")
                    ));
                }
                account.get_or_insert_with(|| acct.clone());
            }
        }
        let outcome = rec.add(&idx, &call);
        let prefix = match &outcome {
            Outcome::Mapped { call, .. } | Outcome::NoPermission { call, .. } => {
                call.split(':').next().map(str::to_string)
            }
            Outcome::Unmapped { .. } => match &call.service {
                Some(ServiceRef::SdkId(id)) => service_ids::lookup(id)
                    .and_then(|r| r.iam_prefix)
                    .map(str::to_string),
                _ => None,
            },
        };
        if let Some(l) = log.as_mut() {
            if log_err.is_none() {
                let entry = match &line {
                    Some(d) => log::csm_line(d, account.as_deref(), prefix.as_deref(), now_ms()),
                    None => log::proxy_line(&call, prefix.as_deref(), now_ms()),
                };
                if let Err(e) = serde_json::to_writer(&mut *l, &entry)
                    .map_err(anyhow::Error::from)
                    .and_then(|_| l.write_all(b"\n").map_err(anyhow::Error::from))
                {
                    log_err = Some(e);
                    stop.store(true, Ordering::SeqCst);
                }
            }
        }
        show(out, live, a.fails_only, &rec, &outcome, &call)?;
        if live && !quiet && last_status.elapsed() > Duration::from_millis(250) {
            status_line(&c, &rec);
            shown = Some((c.datagrams + c.proxied, rec.stats.calls));
            last_status = Instant::now();
        }
    }
    if live && !quiet {
        eprintln!();
    }
    if let Some(e) = log_err {
        return Err(
            e.context("writing the call log (nothing was published; the recording is lost)")
        );
    }
    // Outputs.
    let granted = rec.granted();
    let (policy, notes) = if granted.is_empty() {
        (
            json!({"Version": "2012-10-17", "Statement": []}),
            Vec::new(),
        )
    } else {
        crate::catalog::policy_from_needs(conn, &granted)?
    };
    if let Some(l) = log {
        l.finish()?;
    }
    // A policy --split cannot cut (one statement over the quota) is not
    // lost: it goes to standard output whole, and the run exits 2.
    let (parts, split_failed) = match crate::split::write_parts(&policy, &a.split) {
        Ok(p) => (p, None),
        Err(e) => (None, Some(e)),
    };
    match (&a.out, &parts) {
        (_, Some(paths)) => crate::split::print_paths(out.w(), paths)?,
        (Some(p), None) => {
            let mut f = create_output(p, Mode::Public)?;
            f.write_all(&pretty(&policy)?)?;
            f.finish()?;
        }
        (None, None) => {
            let whole = live || (out.format != Format::Jsonl && out.tty);
            let w = out.w();
            if whole {
                w.write_all(&pretty(&policy)?)?;
            } else {
                serde_json::to_writer(&mut *w, &json!({ "policy": policy }))?;
                writeln!(w)?;
            }
        }
    }
    // What widens the policy is said whatever -q says.
    crate::catalog::print_record_notes(&notes);
    warn_unread_bodies(&rec);
    if !quiet {
        for n in rec.notes().iter() {
            crate::diag::note(format_args!("{}", crate::output::safe(n)));
        }
        let maybe: Vec<String> = rec
            .needs()
            .into_iter()
            .filter(|n| n.conditional && !a.include_conditional)
            .map(|n| n.action.clone())
            .collect();
        if !maybe.is_empty() {
            crate::diag::note(format_args!(
                "may also need (parameter-dependent, granted with --include-conditional): {}",
                maybe.join(", ")
            ));
        }
        if account.is_none() && c.calls > 0 {
            crate::diag::note(format_args!("no access key encoded an account id (old-format keys, or no attempts seen): resources are scoped to account *"));
        }
    }
    let proxied = if proxy_at.is_some() {
        format!(
            "; proxy: {} request(s), {} not AWS API calls iamref knows, {} malformed or failed, {} tunneled",
            c.proxied, c.proxy_unknown, c.proxy_malformed, c.tunneled
        )
    } else {
        String::new()
    };
    // Datagrams the kernel dropped (the recorder fell behind) are calls
    // the policy may miss: said whatever -q says.
    let dropped = probe.as_ref().and_then(kernel_drops);
    if let Some(n) = dropped.filter(|n| *n > 0) {
        crate::diag::warning(format_args!(
            "the kernel dropped {n} datagram(s) the recorder could not take in time: the policy may miss calls (a larger net.core.rmem_max, or a slower workload, helps)"
        ));
    }
    let dropped = dropped
        .map(|n| format!(", {n} dropped by the kernel"))
        .unwrap_or_default();
    crate::diag::info(format_args!(
        "{} datagram(s): {} call(s), {} attempt(s), {} malformed, {} oversized{dropped}{proxied}; {} action(s) granted{}{}",
        c.datagrams,
        c.calls,
        c.attempts,
        c.malformed,
        c.oversized,
        granted.len(),
        a.out
            .as_ref()
            .map(|p| format!(", policy in {}", p.display()))
            .unwrap_or_default(),
        a.log
            .as_ref()
            .map(|p| format!(", calls in {}", p.display()))
            .unwrap_or_default(),
    ));
    if let Some(e) = split_failed {
        return Err(e.context("the policy was written to standard output whole"));
    }
    Ok(if c.calls == 0 {
        Exit::NotFound
    } else {
        Exit::Found
    })
}

/// The calls whose request body the proxy did not read (or not whole),
/// counted and the first of them named, whatever -q says: what their
/// bodies name may be missing from the policy.
fn warn_unread_bodies(rec: &Recording) {
    let (n, named) = rec.unread_bodies();
    if n == 0 {
        return;
    }
    let mut msg = format!(
        "{n} request body(ies) not read, or not whole: the resources and roles they name may be missing from the policy"
    );
    for w in named {
        msg.push('\n');
        msg.push_str(w);
    }
    if n > named.len() as u64 {
        msg.push_str(&format!("\nand {} more", n - named.len() as u64));
    }
    crate::diag::warning(msg);
}

fn status_line(c: &Counters, rec: &Recording) {
    eprint!(
        "\r\x1b[2Kcalls {}  actions {}  unmapped {}  failed {}  malformed {}",
        c.calls,
        rec.granted().len(),
        rec.stats.unmapped,
        rec.stats.failed,
        c.malformed + c.oversized
    );
    let _ = std::io::stderr().flush();
}

/// The live view (terminal) or one JSON line per newly needed action
/// (pipe); with `fails_only`, only failed calls.
fn show(
    out: &mut Out,
    live: bool,
    fails_only: bool,
    rec: &Recording,
    outcome: &Outcome,
    c: &Call,
) -> Result<()> {
    let failed = c.failed();
    if fails_only && !failed {
        return Ok(());
    }
    let status = match (c.status, &c.error) {
        (_, Some(e)) => format!(" [{}]", crate::output::safe(e)),
        (Some(s), None) if s >= 400 => format!(" [HTTP {s}]"),
        _ => String::new(),
    };
    // "denied: needs ACTION", as the recording noted it.
    let denied = match outcome {
        Outcome::Mapped { call, .. } if failed && c.denied() => rec
            .failures()
            .into_iter()
            .find(|f| &f.call == call && f.note.is_some())
            .and_then(|f| f.note.clone()),
        _ => None,
    };
    if live {
        let mut lines = Vec::new();
        match outcome {
            Outcome::Mapped { call, new } => {
                for n in new {
                    let res = rec
                        .need(n)
                        .map(|x| x.resources.iter().cloned().collect::<Vec<_>>().join(", "))
                        .unwrap_or_default();
                    lines.push(format!(
                        "+ {n:<40} {}   ({call}{status})",
                        crate::output::safe(&res)
                    ));
                }
                if let Some(d) = &denied {
                    lines.push(format!("! {call}{status}: {d}"));
                } else if (new.is_empty() || fails_only) && !status.is_empty() {
                    lines.push(format!("  {call}{status}"));
                }
            }
            Outcome::NoPermission { call, .. } => {
                lines.push(format!("  {call}: needs no permission{status}"))
            }
            Outcome::Unmapped { call, reason } => lines.push(format!(
                "? {}: {}",
                crate::output::safe(call),
                crate::output::safe(reason)
            )),
        }
        if !lines.is_empty() {
            // Clear the status line (stderr) before the list grows (stdout).
            eprint!("\r\x1b[2K");
            let w = out.w();
            for l in lines {
                writeln!(w, "{l}")?;
            }
            w.flush()?;
        }
    } else if let Outcome::Mapped { call, new } = outcome {
        let w = out.w();
        let mut lines: Vec<Value> = new
            .iter()
            .map(|n| {
                let need = rec.need(n);
                json!({
                    "action": n,
                    "call": call,
                    "resources": need.map(|x| x.resources.iter().cloned().collect::<Vec<_>>()).unwrap_or_default(),
                    "status": c.status,
                    "error": c.error,
                })
            })
            .collect();
        if let Some(d) = &denied {
            lines.push(json!({"call": call, "status": c.status, "error": c.error, "note": d}));
        } else if fails_only && lines.is_empty() {
            lines.push(json!({"call": call, "status": c.status, "error": c.error}));
        }
        for l in lines {
            serde_json::to_writer(&mut *w, &l)?;
            writeln!(w)?;
        }
        w.flush()?;
    } else if let Outcome::Unmapped { call, reason } = outcome {
        // Once per distinct call; the end report counts them.
        if rec
            .unmapped()
            .iter()
            .any(|u| &u.call == call && u.count == 1)
        {
            crate::diag::info(format_args!(
                "unmapped call {}: {}",
                crate::output::safe(call),
                crate::output::safe(reason)
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn kernel_drops_are_read_from_the_sockets_row() {
        // Constructed /proc/net/udp text: two sockets, the second (inode
        // 4242) with 35 drops.
        let t = "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
  1: 0100007F:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000   101        0 1111 2 0000000000000000 0
  2: 0100007F:7918 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 4242 2 0000000000000000 35
";
        assert_eq!(super::drops_in(t, 4242), Some(35));
        assert_eq!(super::drops_in(t, 1111), Some(0));
        assert_eq!(super::drops_in(t, 7), None);
        assert_eq!(super::drops_in("garbage\nno columns here", 1), None);
    }

    #[test]
    fn a_live_socket_has_a_drop_counter() {
        let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        if cfg!(target_os = "linux") {
            assert_eq!(super::kernel_drops(&s), Some(0));
        }
    }

    use super::*;

    #[test]
    fn proxy_addresses_bind_loopback_unless_listen_says_otherwise() {
        let lo = IpAddr::from([127, 0, 0, 1]);
        assert_eq!(
            proxy_addr("10080", lo).unwrap(),
            "127.0.0.1:10080".parse().unwrap()
        );
        assert_eq!(proxy_addr("127.0.0.1:0", lo).unwrap().port(), 0);
        let e = proxy_addr("0.0.0.0:10080", lo).unwrap_err().to_string();
        assert!(e.contains("--listen 0.0.0.0"), "{e}");
        let any = IpAddr::from([0, 0, 0, 0]);
        assert_eq!(proxy_addr("0.0.0.0:10080", any).unwrap().ip(), any);
        let e = proxy_addr("localhost:x", lo).unwrap_err().to_string();
        assert!(e.contains("expected a port"), "{e}");
    }
}
