//! The query commands: arguments, lookups, rendering.

use crate::exit::{input, Exit};
use crate::lookup::{self, refuse};
use crate::matching::policy_pattern;
use crate::output::{tsv_cell, Format, Out};
use crate::render::table;
use anyhow::Result;
use iamref_dataset::db::Connection;
use iamref_dataset::lookup::{
    self as data, ActionFilter, ActionInfo, LookupError, ResourceTypeUse,
};
use iamref_dataset::sql::{Cell, Row as SqlRow};
use serde::Serialize;
use std::io::Write;

fn join(v: &[String]) -> String {
    v.join(",")
}

/// The first `n` items, then how many more (for long lists on a terminal).
fn abbreviate(v: &[String], n: usize) -> String {
    if v.len() <= n {
        return v.join(", ");
    }
    format!(
        "{}, … and {} more (--format json lists all)",
        v[..n].join(", "),
        v.len() - n
    )
}

// ---------------------------------------------------------------------------
// action
// ---------------------------------------------------------------------------

#[derive(clap::Args)]
pub struct ActionArgs {
    /// Actions such as s3:GetObject, any case; wildcards allowed (s3:Get*)
    #[arg(required = true, value_name = "ACTION")]
    pub actions: Vec<String>,
    #[command(flatten)]
    pub fmt: crate::output::FormatArg,
}

fn finish_with_errors(errors: Vec<anyhow::Error>, any: bool) -> Result<Exit> {
    let mut errors = errors.into_iter();
    match errors.next() {
        None => Ok(Exit::lookup(any)),
        Some(first) => {
            for e in errors {
                crate::diag::error(format_args!("{e:#}"));
            }
            Err(first)
        }
    }
}

pub fn action(conn: &Connection, a: ActionArgs, out: &mut Out) -> Result<Exit> {
    // An unknown exact name is an error (exit 2) after the others are shown.
    let (infos, refused) = data::actions_named(conn, &a.actions)?;
    let errors = refused.into_iter().map(refuse).collect();
    match out.format {
        Format::Json => out.json(&infos)?,
        Format::Jsonl => out.jsonl(&infos)?,
        Format::Tsv => out.tsv(&ACTION_TSV, &action_tsv_rows(&infos))?,
        Format::Table => {
            for (i, info) in infos.iter().enumerate() {
                if i > 0 {
                    writeln!(out.w())?;
                }
                render_action(out, info)?;
            }
        }
    }
    out.w().flush()?;
    finish_with_errors(errors, !infos.is_empty())
}

const ACTION_TSV: [&str; 9] = [
    "prefix",
    "action",
    "access_level",
    "resource_level",
    "resource_type",
    "required",
    "arn",
    "condition_keys",
    "dependent_actions",
];

/// One row per (action, resource type, ARN format); the action-level row
/// has an empty resource type.
fn action_tsv_rows(infos: &[ActionInfo]) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    for i in infos {
        let base = |rt: &str, req: &str, arn: &str, keys: &[String], deps: &[String]| {
            vec![
                i.prefix.clone(),
                i.action.clone(),
                i.access_level.clone().unwrap_or_default(),
                i.resource_level.to_string(),
                rt.to_string(),
                req.to_string(),
                arn.to_string(),
                join(keys),
                join(deps),
            ]
        };
        for r in &i.resource_types {
            let req = r.required.to_string();
            if r.arns.is_empty() {
                rows.push(base(
                    &r.name,
                    &req,
                    "",
                    &r.condition_keys,
                    &r.dependent_actions,
                ));
            }
            for arn in &r.arns {
                rows.push(base(
                    &r.name,
                    &req,
                    arn,
                    &r.condition_keys,
                    &r.dependent_actions,
                ));
            }
        }
        rows.push(base("", "", "", &i.condition_keys, &i.dependent_actions));
    }
    rows
}

fn render_resource_rows(out: &mut Out, rts: &[ResourceTypeUse], indent: &str) -> Result<()> {
    let width = rts
        .iter()
        .map(|r| r.name.len() + usize::from(r.required))
        .max()
        .unwrap_or(0);
    for r in rts {
        let label = format!("{}{}", r.name, if r.required { "*" } else { "" });
        let pad = " ".repeat(width - label.len() + 2);
        if r.arns.is_empty() {
            writeln!(out.w(), "{indent}{label}{pad}(not defined by the service)")?;
        }
        for (n, arn) in r.arns.iter().enumerate() {
            let lead = if n == 0 {
                label.clone()
            } else {
                " ".repeat(label.len())
            };
            let hint = out.dim(&format!("  → Resource: {}", policy_pattern(arn)));
            writeln!(out.w(), "{indent}{lead}{pad}{arn}{hint}")?;
        }
        let sub = format!("{indent}{}", " ".repeat(width + 2));
        if !r.condition_keys.is_empty() {
            writeln!(
                out.w(),
                "{sub}condition keys: {}",
                r.condition_keys.join(", ")
            )?;
        }
        if !r.dependent_actions.is_empty() {
            writeln!(
                out.w(),
                "{sub}dependent actions: {}",
                r.dependent_actions.join(", ")
            )?;
        }
    }
    Ok(())
}

fn render_action(out: &mut Out, i: &ActionInfo) -> Result<()> {
    let title = out.bold(&format!("{}:{}", i.prefix, i.action));
    let po = if i.permission_only {
        " [permission only]"
    } else {
        ""
    };
    writeln!(out.w(), "{title}{po}  ({})", i.service)?;
    let field = |out: &mut Out, k: &str, v: &str| writeln!(out.w(), "  {k:<19}{v}");
    field(
        out,
        "access level",
        i.access_level.as_deref().unwrap_or("(not stated)"),
    )?;
    if let Some(d) = &i.description {
        field(out, "description", d)?;
    }
    if i.resource_level {
        field(
            out,
            "resource-level",
            "yes: scope Resource to these types (* = required)",
        )?;
        render_resource_rows(out, &i.resource_types, "    ")?;
    } else {
        field(out, "resource-level", "no: grant it on \"Resource\": \"*\"")?;
    }
    for s in &i.scenarios {
        field(out, "scenario", &s.name)?;
        render_resource_rows(out, &s.resource_types, "    ")?;
    }
    if !i.condition_keys.is_empty() {
        field(out, "condition keys", &i.condition_keys.join(", "))?;
    }
    if !i.dependent_actions.is_empty() {
        field(out, "dependent actions", &i.dependent_actions.join(", "))?;
    }
    if !i.operations.is_empty() {
        let ops: Vec<String> = i
            .operations
            .iter()
            .map(|o| {
                if o.context.is_empty() {
                    format!("{}:{}", o.prefix, o.operation)
                } else {
                    format!(
                        "{}:{} ({})",
                        o.prefix,
                        o.operation,
                        lookup::context_text(&o.context)
                    )
                }
            })
            .collect();
        field(out, "needed by API", &ops.join(", "))?;
    }
    if let Some(u) = &i.doc_url {
        field(out, "documentation", u)?;
    }
    let mut src = i.pages.join(", ");
    if i.sources != "html" {
        src = format!(
            "{src}{}source: {}",
            if src.is_empty() { "" } else { "; " },
            i.sources
        );
    }
    for d in &i.other_descriptions {
        field(out, "also described", &format!("{} ({})", d.text, d.page))?;
    }
    field(out, "from", &src)?;
    Ok(())
}

// ---------------------------------------------------------------------------
// check
// ---------------------------------------------------------------------------

#[derive(clap::Args)]
pub struct CheckArgs {
    /// One action, e.g. s3:ListBucket (no wildcards)
    #[arg(value_name = "ACTION")]
    pub action: String,
    #[command(flatten)]
    pub fmt: crate::output::FormatArg,
}

pub fn check(conn: &Connection, a: CheckArgs, out: &mut Out) -> Result<Exit> {
    let res = data::resource_level(conn, &a.action).map_err(|e| match e {
        LookupError::Pattern(_) => input(format!(
            "check takes one action, not a pattern ({}); use `iamref expand` first",
            a.action
        )),
        e => refuse(e),
    })?;
    match out.format {
        Format::Json => out.json(&[&res])?,
        Format::Jsonl => out.jsonl(&[&res])?,
        Format::Tsv => out.tsv(
            &["action", "resource_level", "resource_types"],
            &[vec![
                res.action.clone(),
                res.resource_level.to_string(),
                join(&res.resource_types),
            ]],
        )?,
        Format::Table => {
            if res.resource_level {
                writeln!(
                    out.w(),
                    "{}\tresource-level\t{}",
                    res.action,
                    join(&res.resource_types)
                )?;
            } else {
                writeln!(out.w(), "{}\twildcard-only\t*", res.action)?;
            }
        }
    }
    Ok(Exit::lookup(res.resource_level))
}

// ---------------------------------------------------------------------------
// actions, expand
// ---------------------------------------------------------------------------

#[derive(clap::Args)]
pub struct ActionsArgs {
    /// Only this service prefix
    #[arg(long, short)]
    pub service: Option<String>,
    /// Only this access level: list, read, write, permissions-management, tagging
    #[arg(long, short)]
    pub access_level: Option<String>,
    /// Only actions that take this resource type (NAME or PREFIX:NAME)
    #[arg(long, short)]
    pub resource_type: Option<String>,
    /// Only actions without resource-level permissions (must be granted on "*")
    #[arg(long)]
    pub wildcard_only: bool,
    /// Only actions that support this condition key
    #[arg(long, short)]
    pub condition_key: Option<String>,
    /// Only permission-only actions (no API operation of their own)
    #[arg(long)]
    pub permission_only: bool,
    #[command(flatten)]
    pub fmt: crate::output::FormatArg,
}

fn print_action_rows(out: &mut Out, rows: &[data::ActionRow]) -> Result<()> {
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                format!("{}:{}", r.prefix, r.action),
                r.access_level.clone().unwrap_or_default(),
                join(&r.resource_types),
            ]
        })
        .collect();
    match out.format {
        Format::Tsv => out.tsv(&["action", "access_level", "resource_types"], &cells)?,
        _ => out.records(&["action", "access level", "resource types"], &cells, rows)?,
    }
    Ok(())
}

pub fn actions(conn: &Connection, a: ActionsArgs, out: &mut Out) -> Result<Exit> {
    let f = ActionFilter {
        service: a.service,
        access_level: a.access_level,
        resource_type: a.resource_type,
        wildcard_only: a.wildcard_only,
        condition_key: a.condition_key,
        permission_only: a.permission_only,
    };
    let rows = data::filter_actions(conn, &f).map_err(refuse)?;
    print_action_rows(out, &rows)?;
    Ok(Exit::lookup(!rows.is_empty()))
}

#[derive(clap::Args)]
pub struct ExpandArgs {
    /// IAM action patterns: s3:Get*, ec2:Describe?pc*, *:ListTagsForResource
    #[arg(required = true, value_name = "PATTERN")]
    pub patterns: Vec<String>,
    #[command(flatten)]
    pub fmt: crate::output::FormatArg,
}

#[derive(Serialize)]
struct Expanded {
    action: String,
}

pub fn expand(conn: &Connection, a: ExpandArgs, out: &mut Out) -> Result<Exit> {
    let names = data::expand_patterns(conn, &a.patterns).map_err(refuse)?;
    match out.format {
        Format::Table => {
            let w = out.w();
            for n in &names {
                writeln!(w, "{n}")?;
            }
        }
        _ => {
            let items: Vec<Expanded> = names
                .iter()
                .map(|n| Expanded { action: n.clone() })
                .collect();
            let rows: Vec<Vec<String>> = names.iter().map(|n| vec![n.clone()]).collect();
            out.records(&["action"], &rows, &items)?;
        }
    }
    Ok(Exit::lookup(!names.is_empty()))
}

// ---------------------------------------------------------------------------
// services, service
// ---------------------------------------------------------------------------

pub fn services(conn: &Connection, out: &mut Out) -> Result<Exit> {
    let rows = data::services(conn)?;
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.prefix.clone(),
                r.name.clone(),
                r.actions.to_string(),
                r.sources.to_string(),
            ]
        })
        .collect();
    out.records(&["prefix", "name", "actions", "sources"], &cells, &rows)?;
    Ok(Exit::lookup(!rows.is_empty()))
}

/// `iamref services` takes only `--format`.
#[derive(clap::Args)]
pub struct ServicesArgs {
    #[command(flatten)]
    pub fmt: crate::output::FormatArg,
}

#[derive(clap::Args)]
pub struct ServiceArgs {
    /// Service prefix, e.g. s3
    pub prefix: String,
    #[command(flatten)]
    pub fmt: crate::output::FormatArg,
}

pub fn service(conn: &Connection, a: ServiceArgs, out: &mut Out) -> Result<Exit> {
    lookup::check_name("service prefix", &a.prefix)?;
    let (sid, prefix, name) = data::service_id(conn, &a.prefix).map_err(refuse)?;
    let info = data::service_info(conn, sid, prefix, name)?;
    match out.format {
        Format::Json => out.json(&[&info])?,
        Format::Jsonl => out.jsonl(&[&info])?,
        Format::Tsv => {
            let mut rows = Vec::new();
            for (l, n) in &info.access_levels {
                rows.push(vec!["access_level".into(), l.clone(), n.to_string()]);
            }
            for r in &info.resource_types {
                for arn in &r.arns {
                    rows.push(vec!["resource_type".into(), r.name.clone(), arn.clone()]);
                }
            }
            for k in &info.condition_keys {
                rows.push(vec![
                    "condition_key".into(),
                    k.condition_key.clone(),
                    k.r#type.clone().unwrap_or_default(),
                ]);
            }
            out.tsv(&["kind", "name", "value"], &rows)?;
        }
        Format::Table => {
            let title = out.bold(&format!("{}  ({})", info.prefix, info.name));
            let w = out.w();
            writeln!(w, "{title}")?;
            writeln!(w, "  pages: {}", info.pages.join(", "))?;
            let levels: Vec<String> = info
                .access_levels
                .iter()
                .map(|(l, n)| format!("{l} {n}"))
                .collect();
            writeln!(w, "  actions: {} ({})", info.actions, levels.join(", "))?;
            writeln!(w, "  resource types: {}", info.resource_types.len())?;
            for r in &info.resource_types {
                writeln!(w, "    {:<32} {}", r.name, r.arns.join("  "))?;
            }
            writeln!(w, "  condition keys: {}", info.condition_keys.len())?;
            for k in &info.condition_keys {
                writeln!(
                    w,
                    "    {:<48} {}",
                    k.condition_key,
                    k.r#type.as_deref().unwrap_or("")
                )?;
            }
        }
    }
    Ok(Exit::Found)
}

// ---------------------------------------------------------------------------
// resource-type, condition-key
// ---------------------------------------------------------------------------

#[derive(clap::Args)]
pub struct ResourceTypeArgs {
    /// PREFIX:NAME, e.g. s3:bucket
    pub resource_type: String,
    #[command(flatten)]
    pub fmt: crate::output::FormatArg,
}

pub fn resource_type(conn: &Connection, a: ResourceTypeArgs, out: &mut Out) -> Result<Exit> {
    let id = data::resource_type_id(conn, &a.resource_type).map_err(refuse)?;
    let info = data::resource_type_info(conn, id)?;
    match out.format {
        Format::Json => out.json(&[&info])?,
        Format::Jsonl => out.jsonl(&[&info])?,
        Format::Tsv => {
            let rows: Vec<Vec<String>> = info
                .actions
                .iter()
                .map(|x| {
                    vec![
                        info.prefix.clone(),
                        info.resource_type.clone(),
                        x.action.clone(),
                        x.required.to_string(),
                    ]
                })
                .collect();
            out.tsv(&["prefix", "resource_type", "action", "required"], &rows)?;
        }
        Format::Table => {
            let title = out.bold(&format!("{}:{}", info.prefix, info.resource_type));
            let w = out.w();
            writeln!(w, "{title}")?;
            for arn in &info.arns {
                writeln!(
                    w,
                    "  arn               {arn}   (Resource: {})",
                    policy_pattern(arn)
                )?;
            }
            if !info.condition_keys.is_empty() {
                writeln!(w, "  condition keys    {}", info.condition_keys.join(", "))?;
            }
            writeln!(w, "  actions ({}; * = required):", info.actions.len())?;
            for x in &info.actions {
                writeln!(w, "    {}{}", x.action, if x.required { "*" } else { "" })?;
            }
        }
    }
    Ok(Exit::Found)
}

#[derive(clap::Args)]
pub struct ConditionKeyArgs {
    /// Condition key, e.g. s3:prefix or aws:ResourceTag/Owner
    pub key: String,
    #[command(flatten)]
    pub fmt: crate::output::FormatArg,
}

pub fn condition_key(conn: &Connection, a: ConditionKeyArgs, out: &mut Out) -> Result<Exit> {
    let infos = data::condition_key_info(conn, &a.key).map_err(refuse)?;
    match out.format {
        Format::Json => out.json(&infos)?,
        Format::Jsonl => out.jsonl(&infos)?,
        Format::Tsv => {
            let mut rows = Vec::new();
            for i in &infos {
                for u in &i.actions {
                    rows.push(vec![
                        i.condition_key.clone(),
                        u.action.clone(),
                        u.resource_type.clone().unwrap_or_default(),
                    ]);
                }
            }
            out.tsv(&["condition_key", "action", "resource_type"], &rows)?;
        }
        Format::Table => {
            for i in &infos {
                let title = out.bold(&i.condition_key);
                let w = out.w();
                writeln!(w, "{title}")?;
                let mut types: Vec<&str> = i
                    .definitions
                    .iter()
                    .filter_map(|d| d.r#type.as_deref())
                    .collect();
                types.sort();
                types.dedup();
                writeln!(w, "  type          {}", types.join(", "))?;
                if !i.other_types.is_empty() {
                    let others: Vec<String> = i
                        .other_types
                        .iter()
                        .map(|o| format!("{} ({})", o.r#type, o.source))
                        .collect();
                    writeln!(w, "  also typed    {}", others.join("; "))?;
                }
                let prefixes: Vec<String> =
                    i.definitions.iter().map(|d| d.prefix.clone()).collect();
                writeln!(
                    w,
                    "  defined by    {} service(s): {}",
                    prefixes.len(),
                    abbreviate(&prefixes, 12)
                )?;
                if let Some(d) = i.definitions.iter().find_map(|d| d.description.as_deref()) {
                    writeln!(w, "  description   {d}")?;
                }
                if !i.resource_types.is_empty() {
                    writeln!(
                        w,
                        "  resource types ({}): {}",
                        i.resource_types.len(),
                        abbreviate(&i.resource_types, 12)
                    )?;
                }
                writeln!(w, "  actions ({}):", i.actions.len())?;
                for u in &i.actions {
                    match &u.resource_type {
                        Some(rt) => writeln!(w, "    {}  (on {rt})", u.action)?,
                        None => writeln!(w, "    {}", u.action)?,
                    }
                }
            }
        }
    }
    Ok(Exit::Found)
}

// ---------------------------------------------------------------------------
// arn
// ---------------------------------------------------------------------------

#[derive(clap::Args)]
pub struct ArnArgs {
    /// An ARN, or an ARN pattern with * and ? as in a policy's Resource
    pub arn: String,
    #[command(flatten)]
    pub fmt: crate::output::FormatArg,
}

pub fn arn(conn: &Connection, a: ArnArgs, out: &mut Out) -> Result<Exit> {
    use iamref_policy::arn::{validate, Pattern};
    use iamref_policy::arn_types::arn_matches;
    lookup::check_name("ARN", &a.arn)?;
    if a.arn == "*" {
        return Err(input(
            "\"*\" matches every resource type; give an ARN such as arn:aws:s3:::my-bucket",
        ));
    }
    let pattern = Pattern::parse(&a.arn).map_err(|e| {
        input(format!(
            "{:?} {} (at character {})",
            a.arn,
            e.message,
            e.offset + 1
        ))
    })?;
    for p in validate(&pattern) {
        crate::diag::warning(format_args!(
            "{}{}",
            p.message,
            p.fix.map(|f| format!("; write {f}")).unwrap_or_default()
        ));
    }
    // The catalog's one answer (the same as check, write and the
    // recorders): best first.
    let ns = iamref_policy::arn_types::namespace(&pattern);
    let cat = crate::catalog::catalog_for_namespace(conn, ns.as_deref())?;
    let matches = arn_matches(&cat, &pattern);
    match out.format {
        Format::Table => {
            for m in &matches {
                let title = out.bold(&format!("{}:{}", m.prefix, m.resource_type));
                let w = out.w();
                writeln!(w, "{title}  {}", m.arn_format)?;
                writeln!(
                    w,
                    "  actions ({}): {}",
                    m.actions.len(),
                    m.actions.join(", ")
                )?;
            }
        }
        _ => {
            let rows: Vec<Vec<String>> = matches
                .iter()
                .map(|m| {
                    vec![
                        m.prefix.clone(),
                        m.resource_type.clone(),
                        m.arn_format.clone(),
                        join(&m.actions),
                    ]
                })
                .collect();
            out.records(
                &["prefix", "resource_type", "arn_format", "actions"],
                &rows,
                &matches,
            )?;
        }
    }
    Ok(Exit::lookup(!matches.is_empty()))
}

// ---------------------------------------------------------------------------
// sql
// ---------------------------------------------------------------------------

#[derive(clap::Args)]
pub struct SqlArgs {
    /// A read-only SQL statement, e.g. "SELECT * FROM v_actions WHERE prefix = 's3'"
    pub query: String,
    /// Stop the query after this many seconds (exit 2); 0: no limit
    #[arg(long, value_name = "SECONDS", default_value_t = 10.0, value_parser = timeout_secs)]
    pub timeout: f64,
    #[command(flatten)]
    pub fmt: crate::output::FormatArg,
}

fn timeout_secs(s: &str) -> std::result::Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if (0.0..=86_400.0).contains(&v) => Ok(v),
        _ => Err(format!(
            "{s:?}: expected a number of seconds between 0 (no limit) and 86400"
        )),
    }
}

pub fn sql(conn: &Connection, a: SqlArgs, out: &mut Out) -> Result<Exit> {
    use iamref_dataset::sql::{self, SqlError};
    let stmt = sql::prepare(conn, &a.query).map_err(|e| input(e.to_string()))?;
    let cols: Vec<String> = stmt.columns().to_vec();
    let mut sink = RowSink::new(out, &cols);
    match stmt.run(a.timeout, |r| sink.row(r)) {
        Ok(_) => {}
        Err(SqlError::Sink(e)) => return Err(e),
        Err(e) => {
            sink.finish()?;
            return Err(input(match e {
                SqlError::TimedOut { rows } => format!(
                    "SQL: the query was stopped after --timeout {} s ({rows} row(s) written); \
                     narrow it (WHERE, LIMIT) or raise --timeout (0: no limit)",
                    a.timeout
                ),
                e => e.to_string(),
            }));
        }
    }
    let any = sink.count > 0;
    sink.finish()?;
    Ok(Exit::lookup(any))
}

/// Writes query rows as they come, in the chosen format, holding at most
/// one batch of rows (to align the columns of the first screenfuls on a
/// terminal): memory does not grow with the result.
struct RowSink<'a> {
    out: &'a mut Out,
    cols: &'a [String],
    count: u64,
    /// Table on a terminal: rows held until the widths are known.
    pending: Vec<Vec<String>>,
    widths: Option<Vec<usize>>,
}

/// Cell `i` of a row.
fn cell<'r>(r: &'r SqlRow<'_>, i: usize) -> Result<Cell<'r>> {
    r.get(i).map_err(|e| anyhow::anyhow!("SQL: {e}"))
}

/// Rows a terminal table holds to compute column widths.
const ALIGN_BATCH: usize = 1000;

impl<'a> RowSink<'a> {
    fn new(out: &'a mut Out, cols: &'a [String]) -> RowSink<'a> {
        RowSink {
            out,
            cols,
            count: 0,
            pending: Vec::new(),
            widths: None,
        }
    }

    /// One cell as text, written straight out (tabs and newlines become
    /// spaces, as in `tsv_cell`).
    fn write_cell(w: &mut impl std::io::Write, v: Cell<'_>) -> std::io::Result<()> {
        match v {
            Cell::Null => Ok(()),
            Cell::Integer(n) => write!(w, "{n}"),
            Cell::Real(f) => write!(w, "{f}"),
            Cell::Text(t) => {
                let text = String::from_utf8_lossy(t);
                if text.contains(['\t', '\n', '\r']) {
                    w.write_all(tsv_cell(&text).as_bytes())
                } else {
                    w.write_all(text.as_bytes())
                }
            }
            Cell::Blob(b) => write!(w, "<{} bytes>", b.len()),
        }
    }

    fn row(&mut self, r: &SqlRow<'_>) -> Result<()> {
        use std::io::Write;
        let first = self.count == 0;
        self.count += 1;
        let n = self.cols.len();
        match self.out.format {
            Format::Json | Format::Jsonl => {
                let mut obj = serde_json::Map::with_capacity(n);
                for (i, c) in self.cols.iter().enumerate() {
                    obj.insert(c.clone(), cell(r, i)?.to_json());
                }
                let json = self.out.format == Format::Json;
                let w = self.out.w();
                if json {
                    w.write_all(if first { b"[\n" } else { b",\n" })?;
                    let pretty = serde_json::to_string_pretty(&obj)?;
                    for (i, line) in pretty.lines().enumerate() {
                        if i > 0 {
                            w.write_all(b"\n")?;
                        }
                        w.write_all(b"  ")?;
                        w.write_all(line.as_bytes())?;
                    }
                } else {
                    serde_json::to_writer(&mut *w, &obj)?;
                    w.write_all(b"\n")?;
                }
            }
            Format::Table if self.out.tty => {
                let mut cells = Vec::with_capacity(n);
                for i in 0..n {
                    let mut b = Vec::new();
                    Self::write_cell(&mut b, cell(r, i)?)?;
                    cells.push(String::from_utf8_lossy(&b).into_owned());
                }
                self.pending.push(cells);
                if self.pending.len() >= ALIGN_BATCH {
                    self.flush_table()?;
                }
            }
            Format::Tsv | Format::Table => {
                if first && self.out.format == Format::Tsv {
                    writeln!(self.out.w(), "{}", self.cols.join("\t"))?;
                }
                let w = self.out.w();
                for i in 0..n {
                    if i > 0 {
                        w.write_all(b"\t")?;
                    }
                    Self::write_cell(w, cell(r, i)?)?;
                }
                w.write_all(b"\n")?;
            }
        }
        Ok(())
    }

    /// Aligned rows on a terminal: the widths of the first batch (with the
    /// header) hold for the rest.
    fn flush_table(&mut self) -> std::io::Result<()> {
        use std::io::Write;
        let rows = std::mem::take(&mut self.pending);
        if self.widths.is_none() {
            let mut widths = Vec::new();
            table::fit(&mut widths, self.cols);
            for r in &rows {
                table::fit(&mut widths, r);
            }
            let head: Vec<String> = self.cols.iter().map(|h| h.to_uppercase()).collect();
            let head = self.out.bold(&table::line(&head, &widths));
            writeln!(self.out.w(), "{head}")?;
            self.widths = Some(widths);
        }
        let widths = self.widths.clone().unwrap_or_default();
        for r in rows {
            writeln!(self.out.w(), "{}", table::line(&r, &widths))?;
        }
        Ok(())
    }

    fn finish(&mut self) -> std::io::Result<()> {
        use std::io::Write;
        match self.out.format {
            Format::Json => {
                let end: &[u8] = if self.count == 0 { b"[]\n" } else { b"\n]\n" };
                self.out.w().write_all(end)?;
            }
            Format::Tsv if self.count == 0 => {
                writeln!(self.out.w(), "{}", self.cols.join("\t"))?;
            }
            Format::Table
                if self.out.tty && (!self.pending.is_empty() || self.widths.is_none()) =>
            {
                self.flush_table()?;
            }
            _ => {}
        }
        self.out.w().flush()
    }
}
