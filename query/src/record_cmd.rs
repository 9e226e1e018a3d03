//! Recording what a workload calls:
//!
//! - `iamref record`: listen for SDK client-side monitoring (CSM)
//!   datagrams on loopback, show the calls and the policy growing, then
//!   write the policy and a call log (both atomically);
//! - CloudTrail input for `iamref calls` and
//!   `iamref policy write --from-cloudtrail` (files, `.json.gz`, folder
//!   trees), with principal and time filters.
//!
//! The mapping itself (calls -> needs) is `iamref_policy::record`; the
//! recording session (the CSM socket, the proxy, the event loop, the call
//! log) is `iamref_proxy::session`. Here: the flags, the live view and
//! status line, the outputs and the end report.

use crate::exit::{input, Exit};
use crate::output::{pretty_json, Format, Out};
use anyhow::Result;
use iamref_dataset::atomic::{AtomicFile, Mode};
use iamref_dataset::db::Connection;
use iamref_policy::record::cloudtrail::{self, Filter};
use iamref_policy::record::input::{self as calls_input, Input, InputError};
use iamref_policy::record::ops::OperationIndex;
use iamref_policy::record::{log, Call, Options, Outcome, Recording};
use iamref_proxy::csm;
use iamref_proxy::session::{Notice, Session, SessionError, Sources, View};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

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
    let (name, mut r) = crate::input::open(path, 1 << 20)?;
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

/// [`read_calls`], handing each call to `each` as well: the folder or
/// stream opened here, read by `iamref_policy::record::input`, its errors
/// worded here.
pub fn read_calls_each(
    idx: &OperationIndex,
    path: Option<&Path>,
    trail: &TrailArgs,
    options: Options,
    each: &mut dyn FnMut(&Call),
) -> Result<Input> {
    let filter = trail.filter()?;
    let read = match path.filter(|p| p.is_dir()) {
        Some(dir) => calls_input::read_folder(
            idx,
            dir,
            |f| open_stream(Some(f)).map_err(|e| format!("{e:#}")),
            &filter,
            options,
            each,
        ),
        None => {
            let (name, r) = open_stream(path)?;
            calls_input::read_stream(idx, r, &name, &filter, options, each)
        }
    };
    read.map_err(|e| match e {
        InputError::Stream(log::ReadError::FilterOnList(name)) => input(format!(
            "{name}: --principal, --since and --until filter CloudTrail records; this input is a list of calls"
        )),
        InputError::Stream(log::ReadError::Io(e)) => e.into(),
        e => input(e.to_string()),
    })
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
    if !quiet {
        print_maybe(&r.recording);
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
        w.write_all(&pretty_json(&policy)?)?;
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

/// A file written atomically ([`iamref_dataset::atomic`]); errors
/// creating it are bad input (a folder that is not writable).
fn create_output(path: &Path, mode: Mode) -> Result<AtomicFile> {
    AtomicFile::create(path, mode).map_err(|e| input(e.to_string()))
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
            csm::Listener::bind(addr).map_err(|e| {
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
    let mut sources = Sources::new(Arc::new(AtomicBool::new(false)));
    if let Some(listen) = proxy_at {
        let ca_dir = match &a.ca_dir {
            Some(d) => d.clone(),
            None => default_ca_dir()?,
        };
        let p = iamref_proxy::start(
            iamref_proxy::Config {
                listen,
                ca_dir,
                upstream,
            },
            sources.proxy_sink(),
            sources.stop_flag(),
        )
        .map_err(|e| input(format!("--proxy: {e:#}")))?;
        sources.add_proxy(p);
    }
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
    if let Some(p) = sources.proxy() {
        let (local, ca) = (p.local, p.ca_pem.display());
        crate::diag::status(format_args!(
            "proxy on {local}, CA certificate {ca}; run the workload with:\n  HTTPS_PROXY=http://{local} HTTP_PROXY=http://{local}\n  AWS_CA_BUNDLE={ca}\n  NODE_EXTRA_CA_CERTS={ca}\n  SSL_CERT_FILE={ca}   (OpenSSL clients; it replaces their system roots)\n{until}",
        ));
        ready.push_str(&format!("proxy {local}\n"));
    }
    if let Some(r) = &a.ready_file {
        // Whole or absent: a script polling for it never reads half.
        iamref_dataset::atomic::write(r, ready.as_bytes(), Mode::Public)
            .map_err(|e| input(format!("{}: {e}", r.display())))?;
    }
    on_ctrl_c(sources.stop_flag());
    let deadline = a
        .duration
        .map(|d| Instant::now() + Duration::from_secs_f64(d));
    if let Some(sock) = sock {
        sources.add_csm(sock)?;
    }

    let mut session = Session::new(
        &idx,
        Options {
            include_conditional: a.include_conditional,
            include_errors: true,
        },
    );
    let live = out.tty && out.format == Format::Table;
    let mut view = LiveView {
        out,
        live,
        status: live && !quiet,
        fails_only: a.fails_only,
        last_status: Instant::now(),
        shown: None,
    };
    let ran = session.run(
        &mut sources,
        deadline,
        log.as_mut().map(|l| l as &mut dyn Write),
        &mut view,
    );
    let out = view.out;
    if let Err(SessionError::View(e)) = ran {
        return Err(e);
    }
    if live && !quiet {
        eprintln!();
    }
    if let Err(SessionError::Log(e)) = ran {
        return Err(anyhow::Error::from(e)
            .context("writing the call log (nothing was published; the recording is lost)"));
    }
    let (rec, c) = (&session.recording, session.counters);
    // Outputs.
    let granted = rec.granted();
    let (policy, notes) = crate::catalog::policy_from_needs(conn, &granted)?;
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
            f.write_all(&pretty_json(&policy)?)?;
            f.finish()?;
        }
        (None, None) => {
            let whole = live || (out.format != Format::Jsonl && out.tty);
            let w = out.w();
            if whole {
                w.write_all(&pretty_json(&policy)?)?;
            } else {
                serde_json::to_writer(&mut *w, &json!({ "policy": policy }))?;
                writeln!(w)?;
            }
        }
    }
    // What widens the policy is said whatever -q says.
    crate::catalog::print_record_notes(&notes);
    warn_unread_bodies(rec);
    if !quiet {
        for n in rec.notes().iter() {
            crate::diag::note(format_args!("{}", crate::output::safe(n)));
        }
        print_maybe(rec);
        if session.account.is_none() && c.calls > 0 {
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
    let dropped = sources.kernel_drops();
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
    Ok(Exit::lookup(c.calls > 0))
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

/// The "may also need" note of the parameter-dependent actions left out.
fn print_maybe(rec: &Recording) {
    let maybe = rec.maybe_needed();
    if !maybe.is_empty() {
        crate::diag::note(format_args!(
            "may also need (parameter-dependent, granted with --include-conditional): {}",
            maybe.join(", ")
        ));
    }
}

/// What `record` shows while it records: the live view (terminal) or one
/// JSON line per newly needed action (pipe), and the status line.
struct LiveView<'o> {
    out: &'o mut Out,
    live: bool,
    /// The status line is shown (live, not `-q`).
    status: bool,
    fails_only: bool,
    last_status: Instant,
    /// What the status line showed last ([`Session::progress`]).
    shown: Option<(u64, u64)>,
}

impl View for LiveView<'_> {
    fn notice(&mut self, n: Notice<'_>) {
        match n {
            Notice::Accounts {
                accounts,
                per_attempt,
            } => {
                let list = accounts.iter().cloned().collect::<Vec<_>>().join(", ");
                if per_attempt {
                    crate::diag::note(format_args!("calls from more than one account ({list}); each call is scoped to the account of the attempt before it"));
                } else {
                    crate::diag::note(format_args!("calls from more than one account ({list})"));
                }
            }
            Notice::NotRecorded(why) => crate::diag::info(format_args!(
                "proxy: not recorded: {}",
                crate::output::safe(why)
            )),
            Notice::ProxyProblem(why) => {
                crate::diag::info(format_args!("proxy: {}", crate::output::safe(why)))
            }
        }
    }

    fn call(&mut self, s: &Session<'_>, outcome: &Outcome, call: &Call) -> Result<()> {
        show(
            self.out,
            self.live,
            self.fails_only,
            &s.recording,
            outcome,
            call,
        )?;
        if self.status && self.last_status.elapsed() > Duration::from_millis(250) {
            status_line(s);
            self.shown = Some(s.progress());
            self.last_status = Instant::now();
        }
        Ok(())
    }

    fn idle(&mut self, s: &Session<'_>) {
        if self.status && self.last_status.elapsed() > Duration::from_millis(250) {
            let now = s.progress();
            if self.shown != Some(now) {
                status_line(s);
                self.shown = Some(now);
            }
            self.last_status = Instant::now();
        }
    }
}

fn status_line(s: &Session<'_>) {
    let (c, rec) = (&s.counters, &s.recording);
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
        Outcome::Mapped { call, .. } if failed && c.denied() => rec.denied_note(call),
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
        if rec.unmapped_first(call) {
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
