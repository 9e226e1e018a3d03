//! `iamref policy simulate`: would AWS allow these requests under these
//! policies, and why (the engine is `iamref_policy::simulate`, pure; this
//! reads the files, the requests and the catalog, and prints).

use crate::exit::{input, Exit};
use crate::output::{Format, Out};
use crate::render::table;
use anyhow::Result;
use iamref_dataset::db::Connection;
use iamref_policy::simulate::batch::{self, Batch, Row};
use iamref_policy::simulate::context::Context;
use iamref_policy::simulate::lines::{self, ReadError, MAX_LINE, MAX_REQUESTS};
use iamref_policy::simulate::requests::{
    context_from_json, CallRequests, ContextError, Defaults, LineError,
};
use iamref_policy::simulate::{Doc, DocsError, Layer, Policies, Request, Trace};
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(clap::Args)]
pub struct SimulateArgs {
    /// Identity-based policy file (one policy or a JSON list); repeatable
    #[arg(long, value_name = "FILE")]
    pub identity: Vec<PathBuf>,
    /// Resource-based policy of the resource (one policy or a list)
    #[arg(long, value_name = "FILE")]
    pub resource_policy: Option<PathBuf>,
    /// Permissions boundary (one policy or a list: it allows what any allows)
    #[arg(long, value_name = "FILE")]
    pub boundary: Option<PathBuf>,
    /// Service control policies of one level of the organization, root first;
    /// repeat once per level (root, each OU, the account)
    #[arg(long, value_name = "FILE")]
    pub scp: Vec<PathBuf>,
    /// Resource control policies of one level, root first; repeatable
    /// (RCPFullAccess is always assumed at every level)
    #[arg(long, value_name = "FILE")]
    pub rcp: Vec<PathBuf>,
    /// Session policy passed when the role was assumed
    #[arg(long, value_name = "FILE")]
    pub session_policy: Option<PathBuf>,
    /// VPC endpoint policy the request goes through
    #[arg(long, value_name = "FILE")]
    pub endpoint_policy: Option<PathBuf>,
    /// The action of one request (`s3:GetObject`)
    #[arg(long, value_name = "ACTION", conflicts_with = "requests")]
    pub action: Option<String>,
    /// The resource ARN of the request (default `*`)
    #[arg(long, value_name = "ARN", requires = "action")]
    pub resource: Option<String>,
    /// Who makes the request: a user, role, assumed-role session or
    /// federated-user ARN, a service principal, an account ID
    #[arg(long, value_name = "ARN")]
    pub principal: Option<String>,
    /// The account that owns the resource (default: the ARN's, else the
    /// principal's)
    #[arg(long, value_name = "ID")]
    pub resource_account: Option<String>,
    /// Request context: a JSON object of condition keys to a string or a
    /// list of strings (`{"aws:SourceIp": "203.0.113.7"}`)
    #[arg(long, value_name = "JSON")]
    pub context_json: Option<String>,
    /// Many requests: JSON lines (`action`, `resource`, `principal`,
    /// `resource_account`, `context`), `iamref calls -f jsonl` output
    /// (rows needed only in some configurations are left out), or
    /// CloudTrail / `iamref record --log` files (each action the calls
    /// need, on the resources they name); `-` for stdin (request lines)
    #[arg(long, value_name = "FILE")]
    pub requests: Option<PathBuf>,
    #[command(flatten)]
    pub fmt: crate::output::DocFormatArg,
}

pub fn simulate(conn: &Connection, a: SimulateArgs, out: &mut Out) -> Result<Exit> {
    let policies = read_policies(&a)?;
    let requests: Vec<(Option<usize>, Request)> =
        match (&a.requests, &a.action) {
            (Some(path), _) if is_cloudtrail(path) => from_trail(conn, path, &a, out.quiet)?,
            (Some(path), _) => read_requests(path, &a)?,
            (None, Some(action)) => {
                let context = flag_context(&a)?;
                vec![(
                    None,
                    Request {
                        action: action.clone(),
                        resource: a.resource.clone().unwrap_or_else(|| "*".into()),
                        principal: a.principal.clone(),
                        resource_account: a.resource_account.clone(),
                        context,
                    },
                )]
            }
            (None, None) => return Err(input(
                "policy simulate needs a request: --action A [--resource ARN], or --requests FILE",
            )),
        };
    let cat = crate::catalog::for_prefixes(
        conn,
        Some(batch::catalog_prefixes(requests.iter().map(|(_, r)| r))),
    )?;
    let mut rows = Vec::with_capacity(requests.len());
    let mut b = Batch::new(&cat, &policies, a.requests.is_some());
    for chunk in requests.chunks(batch::CHUNK) {
        let chunk_rows = b.decide(chunk);
        // JSON lines are written as they come: a batch is not kept.
        if out.format == Format::Jsonl {
            let lines = batch::json_lines(&chunk_rows)?;
            let w = out.w();
            for l in lines {
                w.write_all(&l)?;
            }
        } else if out.format == Format::Json || a.requests.is_none() {
            rows.extend(chunk_rows);
        } else {
            rows.extend(chunk_rows.into_iter().map(Row::brief));
        }
    }
    let denied = b.denied();
    match out.format {
        Format::Json => {
            let w = out.w();
            if a.requests.is_none() {
                serde_json::to_writer_pretty(&mut *w, &rows[0])?;
            } else {
                let overall = batch::overall(&rows, denied);
                serde_json::to_writer_pretty(
                    &mut *w,
                    &serde_json::json!({
                        "decision": overall,
                        "requests": rows.len(),
                        "allowed": rows.len() - denied,
                        "denied": denied,
                        "results": rows,
                    }),
                )?;
            }
            writeln!(w)?;
        }
        Format::Jsonl => {}
        _ => {
            if a.requests.is_none() {
                table_one(out, &rows[0])?;
            } else {
                table_many(out, &rows, denied)?;
            }
        }
    }
    // The process ends after this: freeing every request and the catalog
    // costs time for nothing.
    std::mem::forget((requests, rows, cat, policies));
    Ok(Exit::check(denied > 0))
}

fn read_policies(a: &SimulateArgs) -> Result<Policies> {
    let one = |p: &Path| read_docs(p);
    let opt =
        |p: &Option<PathBuf>| -> Result<Option<Vec<Doc>>> { p.as_deref().map(one).transpose() };
    let mut identity = Vec::new();
    for p in &a.identity {
        identity.extend(one(p)?);
    }
    Ok(Policies {
        identity,
        resource: opt(&a.resource_policy)?.unwrap_or_default(),
        boundary: opt(&a.boundary)?,
        session: opt(&a.session_policy)?,
        endpoint: opt(&a.endpoint_policy)?,
        scp: a.scp.iter().map(|p| one(p)).collect::<Result<_>>()?,
        rcp: a.rcp.iter().map(|p| one(p)).collect::<Result<_>>()?,
    })
}

/// One file: a policy or a list of policies. Not JSON, or a policy IAM
/// would reject: exit 2, at FILE:LINE:COLUMN.
fn read_docs(path: &Path) -> Result<Vec<Doc>> {
    let (name, text) = crate::input::read_text(Some(path))?;
    Doc::all_of(&name, &text).map_err(|e| match e {
        e @ DocsError::NotJson(_) => input(format!("{name}:{e}")),
        DocsError::Rejected(f) => input(format!(
            "{name}:{}:{}: {} (IAM rejects this policy; `iamref policy check` lists every problem)",
            f.location.line,
            f.location.column,
            safe(&f.message)
        )),
    })
}

/// `--context-json`, parsed (`iamref_policy::simulate::requests`); its
/// keys escaped in errors.
fn flag_context(a: &SimulateArgs) -> Result<Context> {
    match &a.context_json {
        Some(j) => context_from_json(j)
            .map_err(|e| input(format!("--context-json: {}", context_error(&e)))),
        None => Ok(Context::new()),
    }
}

/// A context error as printed: keys from input escaped.
fn context_error(e: &ContextError) -> String {
    match e {
        ContextError::Values { key } => {
            format!("{}: values are strings, numbers or booleans", safe(key))
        }
        ContextError::Value { key } => format!("{}: a string or a list of strings", safe(key)),
        ContextError::Json { .. } | ContextError::NotObject => e.to_string(),
    }
}

/// Requests from JSON lines: this command's own shape, or `iamref calls
/// -f jsonl` rows (one request per resource). The command line's
/// `--principal`, `--resource-account` and `--context-json` fill what a
/// line does not say.
fn read_requests(path: &Path, a: &SimulateArgs) -> Result<Vec<(Option<usize>, Request)>> {
    // The standard library's default buffer (8 KiB), as before.
    let (name, reader) = crate::input::open(Some(path), 8 * 1024)?;
    let defaults = Defaults {
        principal: a.principal.clone(),
        resource_account: a.resource_account.clone(),
        context: flag_context(a)?,
    };
    lines::read(reader, &defaults).map_err(|e| match e {
        ReadError::Io(e) => input(format!("{name}: {e}")),
        ReadError::TooLong(n) => input(format!("{name}:{n}: a line longer than {MAX_LINE} bytes")),
        ReadError::NotUtf8(n) => input(format!("{name}:{n}: not UTF-8 text")),
        ReadError::Line { line: n, error } => {
            let at = |msg: String| input(format!("{name}:{n}:1: {msg}"));
            match error {
                LineError::Json { column, message } => input(format!("{name}:{n}:{column}: {message}")),
                LineError::CloudTrail => at(
                    "a CloudTrail record among request lines: give a CloudTrail file or folder on its own (not on stdin)".into(),
                ),
                LineError::Context(c) => at(format!("context: {}", context_error(&c))),
                e @ (LineError::NoAction | LineError::NotString(_) | LineError::ResourcesNotList) => {
                    at(e.to_string())
                }
            }
        }
        ReadError::TooMany => input(format!("{name}: more than {MAX_REQUESTS} requests; split the file")),
        ReadError::Empty => input(format!("{name}: no requests")),
    })
}

pub(crate) use crate::output::safe;

fn layer_name(l: &Layer) -> String {
    match l.level {
        Some(i) => format!("{}[{i}]", l.policy_type.as_str()),
        None => l.policy_type.as_str().to_string(),
    }
}

fn statement_result(t: &Trace) -> String {
    match &t.failed {
        None => match t.named {
            Some(n) => format!("applies (names the principal as {})", n.as_str()),
            None => "applies".into(),
        },
        Some(f) => format!("{}: {}", f.element, safe(&f.detail)),
    }
}

fn table_one(out: &mut Out, r: &Row) -> Result<()> {
    let w = out.w();
    let ty = r
        .resource_type
        .as_deref()
        .map(|t| format!(" ({t})"))
        .unwrap_or_default();
    writeln!(w, "{} on {}{ty}", safe(&r.action), safe(&r.resource))?;
    if let Some(p) = &r.principal {
        writeln!(w, "principal: {}", safe(p))?;
    }
    let blocked: Vec<&str> = r.blocked_by.iter().map(|b| b.as_str()).collect();
    if blocked.is_empty() {
        writeln!(w, "decision: {}", r.decision.as_str())?;
    } else {
        writeln!(
            w,
            "decision: {} (blocked by {})",
            r.decision.as_str(),
            blocked.join(", ")
        )?;
    }
    writeln!(w)?;
    let mut layers = vec![vec!["POLICY".to_string(), "STATE".to_string()]];
    for l in &r.layers {
        layers.push(vec![layer_name(l), l.state.as_str().to_string()]);
    }
    table::write(w, &layers)?;
    if !r.statements.is_empty() {
        writeln!(w)?;
        let mut rows = vec![["POLICY", "AT", "#", "SID", "EFFECT", "RESULT"]
            .map(String::from)
            .to_vec()];
        for t in &r.statements {
            let ty = match t.level {
                Some(i) => format!("{}[{i}]", t.policy_type.as_str()),
                None => t.policy_type.as_str().to_string(),
            };
            let index = match t.policy {
                Some(p) => format!("{p}.{}", t.index),
                None => t.index.to_string(),
            };
            rows.push(vec![
                ty,
                format!("{}:{}", safe(&t.file), t.line),
                index,
                t.sid.as_deref().map(safe).unwrap_or_else(|| "-".into()),
                t.effect.to_string(),
                statement_result(t),
            ]);
        }
        table::write(w, &rows)?;
    }
    for n in &r.notes {
        writeln!(w, "note: {}", safe(n))?;
    }
    if let Some(f) = &r.fix {
        writeln!(w, "fix: {}", f.message)?;
        if let Some(s) = &f.statement {
            writeln!(w, "{}", serde_json::to_string_pretty(s)?)?;
        }
    }
    Ok(())
}

fn table_many(out: &mut Out, rows: &[Row], denied: usize) -> Result<()> {
    let w = out.w();
    let mut t = vec![["LINE", "DECISION", "ACTION", "RESOURCE", "BLOCKED BY"]
        .map(String::from)
        .to_vec()];
    for r in rows {
        let blocked: Vec<&str> = r.blocked_by.iter().map(|b| b.as_str()).collect();
        t.push(vec![
            r.line.map_or_else(|| "-".to_string(), |l| l.to_string()),
            r.decision.as_str().to_string(),
            safe(&r.action),
            safe(&r.resource),
            if blocked.is_empty() {
                "-".into()
            } else {
                blocked.join(",")
            },
        ]);
    }
    table::write(w, &t)?;
    writeln!(
        w,
        "{} requests: {} allowed, {denied} denied",
        rows.len(),
        rows.len() - denied
    )?;
    for (i, r) in rows.iter().enumerate() {
        let Some(f) = &r.fix else { continue };
        writeln!(
            w,
            "{}: {} on {}: {}",
            r.line
                .map_or_else(|| format!("request {}", i + 1), |l| format!("line {l}")),
            safe(&r.action),
            safe(&r.resource),
            f.message
        )?;
        if let Some(s) = &f.statement {
            writeln!(w, "  {}", serde_json::to_string(s)?)?;
        }
    }
    Ok(())
}

/// Is `path` CloudTrail (a folder of trail files, a `.gz`, `{"Records":
/// [...]}`, a JSON list, or JSON lines of events such as `iamref record
/// --log` writes) rather than request lines?
fn is_cloudtrail(path: &Path) -> bool {
    if path.as_os_str() == "-" {
        return false;
    }
    if path.is_dir() || path.extension().is_some_and(|e| e == "gz") {
        return true;
    }
    let Ok(f) = std::fs::File::open(path) else {
        return false;
    };
    let mut head = Vec::new();
    let _ = std::io::Read::read_to_end(&mut std::io::Read::take(f, 64 * 1024), &mut head);
    lines::is_cloudtrail(&String::from_utf8_lossy(&head))
}

/// Requests from CloudTrail (or a call log): every action the calls always
/// need, on each resource the records name (ARNs, else patterns scoped to
/// their region and account), per caller: the principal that made the
/// call, its source IP (`aws:SourceIp`) and region
/// (`aws:RequestedRegion`). `--principal` and `--context-json` give what
/// a record does not say.
fn from_trail(
    conn: &Connection,
    path: &Path,
    a: &SimulateArgs,
    quiet: bool,
) -> Result<Vec<(Option<usize>, Request)>> {
    let idx = crate::catalog::index(conn)?;
    let options = iamref_policy::record::Options::default();
    let mut calls = CallRequests::new(options);
    let r = crate::record_cmd::read_calls_each(
        &idx,
        Some(path),
        &crate::record_cmd::TrailArgs::default(),
        options,
        &mut |c| calls.add(&idx, c),
    )?;
    crate::record_cmd::report(&r, quiet);
    let defaults = Defaults {
        principal: a.principal.clone(),
        resource_account: a.resource_account.clone(),
        context: flag_context(a)?,
    };
    let out: Vec<(Option<usize>, Request)> = calls
        .requests(&defaults)
        .into_iter()
        .map(|r| (None, r))
        .collect();
    if out.is_empty() {
        return Err(input(format!(
            "{}: no call maps to an action to simulate",
            path.display()
        )));
    }
    Ok(out)
}
