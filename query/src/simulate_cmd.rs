//! `iamref policy simulate`: would AWS allow these requests under these
//! policies, and why (the engine is `iamref_policy::simulate`, pure; this
//! reads the files, the requests and the catalog, and prints).

use crate::exit::{input, Exit};
use crate::output::{Format, Out};
use crate::render::table;
use anyhow::Result;
use iamref_dataset::db::Connection;
use iamref_policy::arn::Matcher;
use iamref_policy::document::{self, Policy};
use iamref_policy::finding::Severity;
use iamref_policy::simulate::context::Context;
use iamref_policy::simulate::fix::{fix, writer_statement, Fix};
use iamref_policy::simulate::knowledge::{
    about_action, about_resource, quick_type, ActionFormats, Knowledge,
};
use iamref_policy::simulate::requests::{
    context_from_json, parse_line, CallRequests, ContextError, Defaults, LineError,
};
use iamref_policy::simulate::{
    evaluate_with, Decision, Doc, Layer, Options, Outcome, Policies, PolicyType, Request, Trace,
};
use rayon::prelude::*;
use serde::Serialize;
use serde_json::Value;
use std::collections::HashMap;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

/// The most requests one run reads.
const MAX_REQUESTS: usize = 1_000_000;
/// The longest request line read.
const MAX_LINE: usize = 1 << 20;
/// Requests decided (and request lines read) at a time, in parallel.
const CHUNK: usize = 512;
/// About the most bytes of request lines read at a time.
const CHUNK_BYTES: usize = 8 << 20;

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

/// One request's answer, as printed.
#[derive(Serialize)]
struct Row {
    /// The request's line in `--requests`.
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<usize>,
    action: String,
    resource: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    principal: Option<String>,
    decision: Decision,
    blocked_by: Vec<PolicyType>,
    #[serde(skip_serializing_if = "Option::is_none")]
    resource_type: Option<String>,
    cross_account: bool,
    layers: Vec<Layer>,
    statements: Vec<Trace>,
    /// In a batch: statements not naming the action (not listed).
    #[serde(skip_serializing_if = "Option::is_none")]
    other_statements: Option<usize>,
    notes: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    fix: Option<Fix>,
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
    // The actions' services, and the services owning the ARNs' namespaces
    // (the type an ARN resolves to is its owner's).
    let mut prefixes: Vec<String> = requests
        .iter()
        .flat_map(|(_, r)| {
            let action = r.action.split_once(':').map(|p| p.0);
            let arn = r
                .resource
                .split(':')
                .nth(2)
                .filter(|_| r.resource.starts_with("arn:"));
            action.into_iter().chain(arn)
        })
        .map(str::to_ascii_lowercase)
        .filter(|p| !p.is_empty() && !p.contains(['*', '?', '$']))
        .collect();
    prefixes.sort();
    prefixes.dedup();
    let cat = crate::catalog::for_prefixes(conn, Some(prefixes))?;
    let mut m = Matcher::new();
    let mut rows = Vec::with_capacity(requests.len());
    let mut denied = 0;
    // A batch lists, per request, the statements naming its action (the
    // others are counted); one request lists them all.
    let opts = Options {
        all_statements: a.requests.is_none(),
    };
    // What the reference says, and the fixes, per action and resource:
    // a batch repeats them.
    let mut by_action: HashMap<String, Vec<String>> = HashMap::new();
    let mut by_resource: HashMap<(String, String), Knowledge> = HashMap::new();
    let mut formats_of: HashMap<String, ActionFormats> = HashMap::new();
    let mut templates: HashMap<(String, String), Option<Value>> = HashMap::new();
    let mut quick_of: HashMap<(String, String), Option<String>> = HashMap::new();
    // Requests are decided in parallel, a chunk at a time (the evaluation
    // is pure), then explained in order with the caches below, and a
    // chunk's JSON lines are written in parallel too, then in order.
    for chunk in requests.chunks(CHUNK) {
        let outcomes: Vec<Outcome> = chunk
            .par_iter()
            .map(|(_, r)| evaluate_with(&policies, r, opts))
            .collect();
        let mut chunk_rows = Vec::with_capacity(chunk.len());
        for ((line, r), o) in chunk.iter().zip(outcomes) {
            let key = (r.action.clone(), r.resource.clone());
            // A concrete ARN of a type the action takes: read from its text
            // (a batch meets many); anything else through the catalog.
            // A batch repeats its (action, resource) pairs: each is read once.
            let quick = match quick_of.get(&key) {
                Some(t) => t.clone(),
                None => {
                    let formats = formats_of
                        .entry(r.action.clone())
                        .or_insert_with(|| ActionFormats::new(&cat, &mut m, &r.action));
                    let t = quick_type(formats, &r.resource);
                    quick_of.insert(key.clone(), t.clone());
                    t
                }
            };
            let mut k = match quick {
                Some(t) => Knowledge {
                    resource_type: Some(t),
                    notes: Vec::new(),
                },
                None => by_resource
                    .entry(key.clone())
                    .or_insert_with(|| about_resource(&cat, &mut m, &policies, r))
                    .clone(),
            };
            k.notes.extend(
                by_action
                    .entry(r.action.clone())
                    .or_insert_with(|| about_action(&cat, &policies, &r.action))
                    .iter()
                    .cloned(),
            );
            if o.decision != Decision::Allowed {
                denied += 1;
            }
            let fix = (o.decision != Decision::Allowed).then(|| {
                // The writer's statement for a concrete ARN of a type the
                // action takes is that ARN: one writer call per action and
                // type, the ARN put in (else one call per resource).
                let ty = k.resource_type.clone();
                fix(&o.blocked_by, o.decision, || {
                    let concrete = !r.resource.contains(['*', '?']) && !r.resource.contains("${");
                    match ty.filter(|_| concrete) {
                        Some(t) => {
                            let tkey = (r.action.clone(), t);
                            if let Some(Some(tpl)) = templates.get(&tkey) {
                                let mut st: Value = tpl.clone();
                                st["Resource"] = Value::String(r.resource.clone());
                                return Some(st);
                            }
                            let st = writer_statement(&cat, &r.action, Some(&r.resource));
                            let exact = st
                                .as_ref()
                                .is_some_and(|s| s["Resource"] == r.resource.as_str());
                            if exact {
                                templates.insert(tkey, st.clone());
                            }
                            st
                        }
                        None => writer_statement(&cat, &r.action, Some(&r.resource)),
                    }
                })
            });
            chunk_rows.push(row(*line, a.requests.is_some(), r, o, k, fix));
        }
        // JSON lines are written as they come: a batch is not kept.
        if out.format == Format::Jsonl {
            let lines: Vec<Vec<u8>> = chunk_rows
                .par_iter()
                .map(|row| {
                    let mut b = Vec::with_capacity(4096);
                    write_row(&mut b, row).map(|()| {
                        b.push(b'\n');
                        b
                    })
                })
                .collect::<Result<_, _>>()?;
            let w = out.w();
            for l in lines {
                w.write_all(&l)?;
            }
        } else if out.format == Format::Json || a.requests.is_none() {
            rows.extend(chunk_rows);
        } else {
            rows.extend(chunk_rows.into_iter().map(|row| Row {
                statements: Vec::new(),
                layers: Vec::new(),
                notes: Vec::new(),
                ..row
            }));
        }
    }
    match out.format {
        Format::Json => {
            let w = out.w();
            if a.requests.is_none() {
                serde_json::to_writer_pretty(&mut *w, &rows[0])?;
            } else {
                let overall = if rows.iter().any(|r| r.decision == Decision::ExplicitDeny) {
                    Decision::ExplicitDeny
                } else if denied > 0 {
                    Decision::ImplicitDeny
                } else {
                    Decision::Allowed
                };
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
    Ok(if denied == 0 {
        Exit::Found
    } else {
        Exit::NotFound
    })
}

fn row(
    line: Option<usize>,
    batch: bool,
    r: &Request,
    o: Outcome,
    k: Knowledge,
    fix: Option<Fix>,
) -> Row {
    let mut notes = o.notes;
    notes.extend(k.notes);
    Row {
        line,
        action: r.action.clone(),
        resource: r.resource.clone(),
        principal: r.principal.clone(),
        decision: o.decision,
        blocked_by: o.blocked_by,
        resource_type: k.resource_type,
        cross_account: o.cross_account,
        layers: o.layers,
        statements: o.statements,
        other_statements: batch.then_some(o.other_statements),
        notes,
        fix,
    }
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
    let policies = document::parse_many(&text).map_err(|e| {
        input(format!(
            "{name}:{}:{}: {}",
            e.at.line, e.at.column, e.message
        ))
    })?;
    let list = policies.len() > 1 || text.trim_start().starts_with('[');
    let mut out = Vec::with_capacity(policies.len());
    for (i, policy) in policies.into_iter().enumerate() {
        refuse_invalid(&name, &policy)?;
        out.push(Doc {
            file: name.as_str().into(),
            position: list.then_some(i),
            policy,
        });
    }
    Ok(out)
}

fn refuse_invalid(name: &str, p: &Policy) -> Result<()> {
    if let Some(f) = p.problems.iter().find(|f| f.severity == Severity::Error) {
        return Err(input(format!(
            "{name}:{}:{}: {} (IAM rejects this policy; `iamref policy check` lists every problem)",
            f.location.line,
            f.location.column,
            safe(&f.message)
        )));
    }
    Ok(())
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
    let name = if path.as_os_str() == "-" {
        "stdin".to_string()
    } else {
        path.display().to_string()
    };
    let mut reader: Box<dyn BufRead> = if path.as_os_str() == "-" {
        Box::new(std::io::BufReader::new(std::io::stdin()))
    } else {
        Box::new(std::io::BufReader::new(
            std::fs::File::open(path).map_err(|e| input(format!("{name}: {e}")))?,
        ))
    };
    let defaults = Defaults {
        principal: a.principal.clone(),
        resource_account: a.resource_account.clone(),
        context: flag_context(a)?,
    };
    let mut out = Vec::new();
    let mut buf = Vec::new();
    let mut n = 0;
    // Lines are read a chunk at a time and parsed in parallel; errors are
    // reported for the first line that has one, as if read one by one.
    let mut lines: Vec<(usize, String)> = Vec::with_capacity(CHUNK);
    let mut done = false;
    while !done {
        lines.clear();
        let mut stop: Option<anyhow::Error> = None;
        let mut bytes = 0;
        // A chunk holds at most CHUNK lines and about CHUNK_BYTES of them
        // (lines may each be MAX_LINE long).
        while lines.len() < CHUNK && bytes < CHUNK_BYTES {
            buf.clear();
            let got = match std::io::Read::take(reader.as_mut(), MAX_LINE as u64 + 1)
                .read_until(b'\n', &mut buf)
            {
                Ok(got) => got,
                Err(e) => {
                    stop = Some(input(format!("{name}: {e}")));
                    break;
                }
            };
            if got == 0 {
                done = true;
                break;
            }
            n += 1;
            if buf.len() > MAX_LINE && !buf.ends_with(b"\n") {
                stop = Some(input(format!(
                    "{name}:{n}: a line longer than {MAX_LINE} bytes"
                )));
                break;
            }
            let Ok(line) = std::str::from_utf8(&buf) else {
                stop = Some(input(format!("{name}:{n}: not UTF-8 text")));
                break;
            };
            let line = line.trim();
            if !line.is_empty() {
                bytes += line.len();
                lines.push((n, line.to_string()));
            }
        }
        let parsed: Vec<_> = lines
            .par_iter()
            .map(|(_, line)| parse_line(line, &defaults))
            .collect();
        for ((n, _), requests) in lines.iter().zip(parsed) {
            let n = *n;
            let at = |msg: String| input(format!("{name}:{n}:1: {msg}"));
            let requests = requests.map_err(|e| match e {
                LineError::Json { column, message } => input(format!("{name}:{n}:{column}: {message}")),
                LineError::CloudTrail => at(
                    "a CloudTrail record among request lines: give a CloudTrail file or folder on its own (not on stdin)".into(),
                ),
                LineError::Context(c) => at(format!("context: {}", context_error(&c))),
                e @ (LineError::NoAction | LineError::NotString(_) | LineError::ResourcesNotList) => {
                    at(e.to_string())
                }
            })?;
            for r in requests {
                if out.len() >= MAX_REQUESTS {
                    return Err(input(format!(
                        "{name}: more than {MAX_REQUESTS} requests; split the file"
                    )));
                }
                out.push((Some(n), r));
            }
        }
        if let Some(e) = stop {
            return Err(e);
        }
    }
    if out.is_empty() {
        return Err(input(format!("{name}: no requests")));
    }
    Ok(out)
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
    let text = String::from_utf8_lossy(&head);
    let t = text.trim_start();
    let first = t.lines().next().unwrap_or("");
    t.starts_with('[')
        || (t.starts_with('{')
            && (first.contains("\"Records\"")
                || first.contains("\"eventSource\"")
                || (first.trim() == "{" && t.contains("\"Records\""))))
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

/// A batch row as one JSON line, exactly as `serde_json::to_writer` writes
/// it (the same members, order and escapes; the tests compare the two),
/// without its per-byte escaping of every member name: a batch's output
/// is mostly names and short strings. Rare parts go through serde_json.
fn write_row(b: &mut Vec<u8>, row: &Row) -> serde_json::Result<()> {
    b.push(b'{');
    if let Some(l) = row.line {
        b.extend_from_slice(b"\"line\":");
        num(b, l);
        b.push(b',');
    }
    b.extend_from_slice(b"\"action\":");
    text(b, &row.action);
    b.extend_from_slice(b",\"resource\":");
    text(b, &row.resource);
    if let Some(p) = &row.principal {
        b.extend_from_slice(b",\"principal\":");
        text(b, p);
    }
    b.extend_from_slice(b",\"decision\":\"");
    b.extend_from_slice(row.decision.as_str().as_bytes());
    b.extend_from_slice(b"\",\"blocked_by\":[");
    for (i, t) in row.blocked_by.iter().enumerate() {
        if i > 0 {
            b.push(b',');
        }
        b.push(b'"');
        b.extend_from_slice(t.as_str().as_bytes());
        b.push(b'"');
    }
    b.push(b']');
    if let Some(t) = &row.resource_type {
        b.extend_from_slice(b",\"resource_type\":");
        text(b, t);
    }
    b.extend_from_slice(if row.cross_account {
        b",\"cross_account\":true,\"layers\":["
    } else {
        b",\"cross_account\":false,\"layers\":["
    });
    for (i, l) in row.layers.iter().enumerate() {
        if i > 0 {
            b.push(b',');
        }
        b.extend_from_slice(b"{\"policy_type\":\"");
        b.extend_from_slice(l.policy_type.as_str().as_bytes());
        b.push(b'"');
        if let Some(level) = l.level {
            b.extend_from_slice(b",\"level\":");
            num(b, level);
        }
        b.extend_from_slice(b",\"state\":\"");
        b.extend_from_slice(l.state.as_str().as_bytes());
        b.extend_from_slice(b"\"}");
    }
    b.extend_from_slice(b"],\"statements\":[");
    for (i, t) in row.statements.iter().enumerate() {
        if i > 0 {
            b.push(b',');
        }
        write_trace(b, t)?;
    }
    b.push(b']');
    if let Some(n) = row.other_statements {
        b.extend_from_slice(b",\"other_statements\":");
        num(b, n);
    }
    b.extend_from_slice(b",\"notes\":[");
    for (i, n) in row.notes.iter().enumerate() {
        if i > 0 {
            b.push(b',');
        }
        text(b, n);
    }
    b.push(b']');
    if let Some(f) = &row.fix {
        b.extend_from_slice(b",\"fix\":");
        serde_json::to_writer(&mut *b, f)?;
    }
    b.push(b'}');
    Ok(())
}

fn write_trace(b: &mut Vec<u8>, t: &Trace) -> serde_json::Result<()> {
    b.extend_from_slice(b"{\"policy_type\":\"");
    b.extend_from_slice(t.policy_type.as_str().as_bytes());
    b.push(b'"');
    if let Some(level) = t.level {
        b.extend_from_slice(b",\"level\":");
        num(b, level);
    }
    b.extend_from_slice(b",\"file\":");
    text(b, &t.file);
    if let Some(p) = t.policy {
        b.extend_from_slice(b",\"policy\":");
        num(b, p);
    }
    b.extend_from_slice(b",\"index\":");
    num(b, t.index);
    if let Some(s) = &t.sid {
        b.extend_from_slice(b",\"sid\":");
        text(b, s);
    }
    b.extend_from_slice(b",\"line\":");
    num(b, t.line as usize);
    b.extend_from_slice(b",\"column\":");
    num(b, t.column as usize);
    b.extend_from_slice(b",\"effect\":");
    text(b, t.effect);
    b.extend_from_slice(if t.applied {
        b",\"applied\":true"
    } else {
        b",\"applied\":false"
    });
    if let Some(n) = &t.named {
        b.extend_from_slice(b",\"named\":");
        serde_json::to_writer(&mut *b, n)?;
    }
    if let Some(f) = &t.failed {
        b.extend_from_slice(b",\"failed\":{\"element\":");
        text(b, f.element);
        b.extend_from_slice(b",\"line\":");
        num(b, f.line as usize);
        b.extend_from_slice(b",\"column\":");
        num(b, f.column as usize);
        b.extend_from_slice(b",\"detail\":");
        text(b, &f.detail);
        if let Some(c) = &f.condition {
            b.extend_from_slice(b",\"condition\":");
            serde_json::to_writer(&mut *b, c)?;
        }
        b.push(b'}');
    }
    b.push(b'}');
    Ok(())
}

/// A number in decimal (as serde_json writes it).
fn num(b: &mut Vec<u8>, mut n: usize) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    b.extend_from_slice(&digits[i..]);
}

/// A JSON string, as serde_json writes it: plain text (most of a batch)
/// copied as is, anything with a character to escape through serde_json.
fn text(b: &mut Vec<u8>, s: &str) {
    // No branch per byte: most strings need no escape.
    let plain = s
        .bytes()
        .fold(true, |ok, c| ok & (c >= 0x20) & (c != b'"') & (c != b'\\'));
    if plain {
        b.push(b'"');
        b.extend_from_slice(s.as_bytes());
        b.push(b'"');
    } else {
        // Writing a str into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *b, s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use iamref_policy::simulate::condition::Failed;
    use iamref_policy::simulate::principal::Named;
    use iamref_policy::simulate::{Failure, State};

    /// Constructed strings at the edges of JSON's escapes.
    const ODD: [&str; 7] = [
        "",
        "plain arn:aws:s3:::b/k",
        "quote \" and back\\slash",
        "controls \u{0}\u{1}\u{8}\t\n\u{b}\u{c}\r\u{1f} end",
        "unicode é ✓ \u{7f} \u{2028} 🦀",
        "\"",
        "\\",
    ];

    fn trace(i: usize, s: &str) -> Trace {
        Trace {
            policy_type: PolicyType::Scp,
            level: (i.is_multiple_of(2)).then_some(i),
            file: (*s).into(),
            policy: (i.is_multiple_of(3)).then_some(i * 7),
            index: i,
            sid: (i % 2 == 1).then(|| s.to_string()),
            line: 4_000_000_000,
            column: i as u32,
            effect: if i.is_multiple_of(2) { "Allow" } else { "Deny" },
            applied: i.is_multiple_of(2),
            named: (i.is_multiple_of(4)).then_some(Named::Session),
            failed: (i % 2 == 1).then(|| Failure {
                element: "Condition",
                line: 0,
                column: 10,
                detail: s.to_string(),
                condition: (i % 3 == 1).then(|| Failed {
                    operator: s.into(),
                    key: "aws:SourceIp".into(),
                    expected: vec![s.into(), "x".into()],
                    actual: (i % 5 == 1).then(|| vec![s.to_string()]),
                    why: s.into(),
                }),
            }),
        }
    }

    #[test]
    fn a_row_written_by_hand_is_what_serde_json_writes() {
        for (i, s) in ODD.iter().enumerate() {
            for variant in 0..4usize {
                let some = variant.is_multiple_of(2);
                let row = Row {
                    line: some.then_some(usize::MAX - i),
                    action: s.to_string(),
                    resource: format!("arn:aws:s3:::{s}"),
                    principal: some.then(|| s.to_string()),
                    decision: [
                        Decision::Allowed,
                        Decision::ImplicitDeny,
                        Decision::ExplicitDeny,
                    ][variant % 3],
                    blocked_by: vec![PolicyType::Identity, PolicyType::Boundary][..variant % 3]
                        .to_vec(),
                    resource_type: (!some).then(|| s.to_string()),
                    cross_account: variant == 1,
                    layers: (0..variant)
                        .map(|l| Layer {
                            policy_type: PolicyType::Rcp,
                            level: (l.is_multiple_of(2)).then_some(l),
                            state: State::NoImpact,
                        })
                        .collect(),
                    statements: (0..variant * 3).map(|k| trace(k + i, s)).collect(),
                    other_statements: (variant < 2).then_some(variant * 1000),
                    notes: vec![s.to_string(); variant],
                    fix: (variant == 3).then(|| Fix {
                        message: s.to_string(),
                        statement: some.then(|| serde_json::json!({"Resource": s})),
                    }),
                };
                let mut b = Vec::new();
                write_row(&mut b, &row).unwrap();
                let want = serde_json::to_vec(&row).unwrap();
                assert_eq!(
                    String::from_utf8_lossy(&b),
                    String::from_utf8_lossy(&want),
                    "string {i}, variant {variant}"
                );
            }
        }
    }
}
