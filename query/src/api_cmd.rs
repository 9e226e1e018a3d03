//! API-operation queries, from AWS's JSON service reference (and the HTML
//! operations table where pages have one):
//!
//! - `iamref api s3:CopyObject`: the IAM actions an API operation needs;
//! - `iamref sdk boto3 s3.copy_object`: the same, from an SDK method;
//! - `iamref calls [FILE|-]`: the actions that cover a list of calls or a
//!   CloudTrail log;
//! - `iamref crosscheck`: every disagreement between the HTML pages and
//!   the JSON reference.

use crate::exit::{input, Exit};
use crate::lookup::{context_text, refuse};
use crate::output::{Format, Out};
use anyhow::Result;
use iamref_dataset::db::Connection;
use iamref_dataset::lookup::{self, ApiRow};
use iamref_dataset::reconcile::{count_by_kind, crosscheck_selected, DiffKind, Difference};
pub use iamref_policy::record::CallsRow;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct ApiArgs {
    /// `SERVICE:Operation` (e.g. s3:CopyObject), or `SERVICE Operation`
    #[arg(required = true, num_args = 1..=2, value_name = "OPERATION")]
    pub operation: Vec<String>,
    #[command(flatten)]
    pub fmt: crate::output::FormatArg,
}

#[derive(clap::Args)]
pub struct SdkArgs {
    /// SDK package, e.g. boto3 (case-insensitive)
    pub package: String,
    /// `client.method` (e.g. s3.copy_object), or client and method as two words
    #[arg(required = true, num_args = 1..=2, value_name = "METHOD")]
    pub method: Vec<String>,
    #[command(flatten)]
    pub fmt: crate::output::FormatArg,
}

#[derive(clap::Args)]
pub struct CallsArgs {
    /// Input: lines of `service:Operation` (or `service Operation`), or
    /// CloudTrail JSON (`{"Records": [...]}`, a JSON array or one event per
    /// line, gzipped or not), or a folder of CloudTrail files (the S3
    /// delivery layout); `-` or nothing for stdin
    #[arg(value_name = "FILE")]
    pub file: Option<PathBuf>,
    #[command(flatten)]
    pub trail: crate::record_cmd::TrailArgs,
    #[command(flatten)]
    pub fmt: crate::output::FormatArg,
}

#[derive(clap::Args)]
pub struct CrosscheckArgs {
    /// Only these service prefixes
    #[arg(value_name = "PREFIX")]
    pub prefixes: Vec<String>,
    /// Only this kind of difference (service, action, resource_type,
    /// arn_format, condition_key, resource_type_condition_key,
    /// action_resource_type, action_condition_key, condition_key_placement,
    /// access_level)
    #[arg(long, value_name = "KIND")]
    pub kind: Option<String>,
    #[command(flatten)]
    pub fmt: crate::output::FormatArg,
}

/// One summary row of `crosscheck` (table output).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CrosscheckSummary {
    /// A prefix, or `(all)` for the totals.
    pub prefix: String,
    pub kind: String,
    pub count: usize,
}

fn split_call(args: &[String]) -> Option<(String, String)> {
    match args {
        [one] => {
            let (p, o) = one.split_once(':')?;
            let (p, o) = (p.trim(), o.trim());
            (!p.is_empty() && !o.is_empty() && !o.contains(':'))
                .then(|| (p.to_string(), o.to_string()))
        }
        [p, o] => {
            let (p, o) = (p.trim(), o.trim());
            (!p.is_empty() && !o.is_empty()).then(|| (p.to_string(), o.to_string()))
        }
        _ => None,
    }
}

const API_HEADERS: [&str; 8] = [
    "operation",
    "action",
    "access_level",
    "resource_types",
    "condition_keys",
    "sources",
    "known",
    "context",
];

fn print_api_rows(rows: &[ApiRow], out: &mut Out) -> Result<()> {
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.operation.clone(),
                r.action.clone(),
                r.access_level.clone().unwrap_or_default(),
                r.resource_types.join(", "),
                r.condition_keys.join(", "),
                r.sources.clone(),
                if r.known { "yes" } else { "no" }.to_string(),
                context_text(&r.context),
            ]
        })
        .collect();
    out.records(&API_HEADERS, &cells, rows)?;
    Ok(())
}

/// `iamref api s3:CopyObject`.
pub fn api(conn: &Connection, a: ApiArgs, out: &mut Out) -> Result<Exit> {
    let Some((prefix, op)) = split_call(&a.operation) else {
        return Err(input(format!(
            "{:?}: expected SERVICE:Operation (e.g. s3:CopyObject) or SERVICE Operation",
            a.operation.join(" ")
        )));
    };
    let (prefix, oid, name) = lookup::find_operation(conn, &prefix, &op).map_err(refuse)?;
    let rows = lookup::operation_rows(conn, &prefix, oid, &name)?;
    print_api_rows(&rows, out)?;
    if rows.is_empty() {
        crate::diag::info(format_args!(
            "{prefix}:{name}: the reference names no IAM action for this operation"
        ));
        Ok(Exit::NotFound)
    } else {
        Ok(Exit::Found)
    }
}

/// `iamref sdk boto3 s3.copy_object`.
pub fn sdk(conn: &Connection, a: SdkArgs, out: &mut Out) -> Result<Exit> {
    let (client, method) = match a.method.as_slice() {
        [one] => match one.rsplit_once('.') {
            Some((c, m)) if !c.is_empty() && !m.is_empty() => (c.to_string(), m.to_string()),
            _ => {
                return Err(input(format!(
                    "{one:?}: expected CLIENT.METHOD (e.g. s3.copy_object) or CLIENT METHOD"
                )))
            }
        },
        [c, m] => (c.clone(), m.clone()),
        _ => return Err(input("expected CLIENT.METHOD or CLIENT METHOD")),
    };
    let found = lookup::sdk_method(conn, &a.package, &client, &method).map_err(refuse)?;
    let mut rows = Vec::new();
    for (prefix, oid, name) in found {
        rows.extend(lookup::operation_rows(conn, &prefix, oid, &name)?);
    }
    print_api_rows(&rows, out)?;
    Ok(Exit::lookup(!rows.is_empty()))
}

// ---------------------------------------------------------------------------
// `calls`
// ---------------------------------------------------------------------------

/// `iamref calls [FILE|-]`.
pub fn calls(conn: &Connection, a: CallsArgs, quiet: bool, out: &mut Out) -> Result<Exit> {
    use iamref_policy::record::Options;
    let idx = crate::catalog::index(conn)?;
    let r = crate::record_cmd::read_calls(
        &idx,
        a.file.as_deref(),
        &a.trail,
        Options {
            include_conditional: true,
            include_errors: a.trail.include_errors,
        },
    )?;
    crate::record_cmd::report(&r, quiet || r.trail.is_none());
    let from_list = r.trail.is_none();
    let rows: Vec<CallsRow> = r
        .recording
        .needs()
        .iter()
        .map(|n| CallsRow::of(n, !from_list))
        .collect();
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.action.clone(),
                r.access_level.clone().unwrap_or_default(),
                r.needed_by.join(", "),
                if r.known { "yes" } else { "no" }.to_string(),
                r.needed.clone(),
                r.resources.join(", "),
                context_text(&r.context),
            ]
        })
        .collect();
    out.records(
        &[
            "action",
            "access_level",
            "needed_by",
            "known",
            "needed",
            "resources",
            "context",
        ],
        &cells,
        &rows,
    )?;
    let s = r.recording.stats;
    let not_matched = s.unmapped;
    if not_matched > 0 {
        crate::diag::info(format_args!(
            "{not_matched} of {} call(s) not matched, {} matched",
            s.calls,
            s.mapped + s.no_permission
        ));
    }
    Ok(crate::record_cmd::unless_skipped(
        &r,
        Exit::lookup(!rows.is_empty()),
    ))
}

// ---------------------------------------------------------------------------
// `crosscheck`
// ---------------------------------------------------------------------------

/// `iamref crosscheck [PREFIX...] [--kind KIND]`.
pub fn crosscheck(conn: &Connection, a: CrosscheckArgs, out: &mut Out) -> Result<Exit> {
    let kind = match &a.kind {
        None => None,
        Some(k) => Some(DiffKind::parse(k).ok_or_else(|| {
            input(format!(
                "unknown kind {k:?}; expected one of {}",
                DiffKind::ALL.map(DiffKind::as_str).join(", ")
            ))
        })?),
    };
    for p in &a.prefixes {
        lookup::api_service(conn, p).map_err(refuse)?;
    }
    let (has_html, has_json) = lookup::has_sources(conn)?;
    if !has_json || !has_html {
        return Err(input(format!(
            "the database has no {} data to compare with; build it with both --from-dir and --service-reference-dir",
            if has_json { "HTML" } else { "JSON service reference" }
        )));
    }
    let services = iamref_dataset::db::read_services(conn)?;
    let diffs: Vec<Difference> = crosscheck_selected(services, &a.prefixes, kind);
    if out.format == Format::Table {
        let summary: Vec<CrosscheckSummary> = count_by_kind(&diffs)
            .into_iter()
            .map(|(prefix, kind, count)| CrosscheckSummary {
                prefix: prefix.unwrap_or_else(|| "(all)".to_string()),
                kind: kind.as_str().to_string(),
                count,
            })
            .collect();
        let cells: Vec<Vec<String>> = summary
            .iter()
            .map(|s| vec![s.prefix.clone(), s.kind.clone(), s.count.to_string()])
            .collect();
        out.records(&["prefix", "kind", "count"], &cells, &summary)?;
    } else {
        let opt = |s: &Option<String>| s.clone().unwrap_or_default();
        let cells: Vec<Vec<String>> = diffs
            .iter()
            .map(|d| {
                vec![
                    d.kind.as_str().to_string(),
                    d.prefix.clone(),
                    opt(&d.action),
                    opt(&d.resource_type),
                    d.item.clone(),
                    opt(&d.only_in),
                    opt(&d.html),
                    opt(&d.json),
                ]
            })
            .collect();
        out.records(
            &[
                "kind",
                "prefix",
                "action",
                "resource_type",
                "item",
                "only_in",
                "html",
                "json",
            ],
            &cells,
            &diffs,
        )?;
    }
    // The checkers' rule: 0 nothing found, 1 disagreements found.
    Ok(Exit::check(!diffs.is_empty()))
}
