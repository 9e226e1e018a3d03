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
use crate::output::{Format, Out};
use anyhow::Result;
use iamref_dataset::db::Connection;
use iamref_dataset::lookup;
use iamref_dataset::reconcile::{crosscheck as run_crosscheck, Difference};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
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

/// One IAM action an API operation needs (`api`, `sdk`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiRow {
    /// `prefix:Operation`, e.g. `s3:CopyObject`.
    pub operation: String,
    /// `prefix:Action`, e.g. `s3-object-lambda:PutObject`.
    pub action: String,
    /// The operations table's access level, else the action's.
    pub access_level: Option<String>,
    /// Resource types the action takes (empty: `"*"` only).
    pub resource_types: Vec<String>,
    /// Condition keys of the action (action level and resource-type rows)
    /// and those the operation names for it (e.g. `iam:PassedToService`).
    pub condition_keys: Vec<String>,
    /// Which source maps the operation to this action: html, json or both.
    pub sources: String,
    /// Whether the action is defined in the dataset.
    pub known: bool,
    /// Condition-key values the operation sets for this action (AWS's
    /// `Context`), e.g. `{"iam:PassedToService": ["lambda.amazonaws.com"]}`.
    #[serde(default)]
    pub context: BTreeMap<String, Vec<String>>,
}

/// One action covering some calls (`calls`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallsRow {
    /// `prefix:Action`.
    pub action: String,
    pub access_level: Option<String>,
    /// The input calls (`prefix:Operation`) that need it, sorted.
    pub needed_by: Vec<String>,
    /// Whether the action is defined in the dataset.
    pub known: bool,
    /// `always`, or `conditional` when only some parameters or
    /// configurations of the calls need it ("may also need").
    pub needed: String,
    /// ARNs from the CloudTrail records (resources[] and request
    /// parameters), else patterns scoped to their region and account;
    /// `*` for actions without resource types; empty for call lists.
    pub resources: Vec<String>,
    /// Why it is conditional; denials ("denied: needs ...").
    pub notes: Vec<String>,
    /// Condition-key values every call needing it sets (AWS's `Context`:
    /// iam:PassRole from lambda:CreateFunction has `iam:PassedToService`
    /// = `lambda.amazonaws.com`); empty when some call sets none.
    #[serde(default)]
    pub context: BTreeMap<String, Vec<String>>,
}

/// One summary row of `crosscheck` (table output).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CrosscheckSummary {
    /// A prefix, or `(all)` for the totals.
    pub prefix: String,
    pub kind: String,
    pub count: usize,
}

// ---------------------------------------------------------------------------
// Lookups.
// ---------------------------------------------------------------------------

use crate::matching::distance;

/// Up to three close names, best first.
pub fn suggest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let limit = (name.chars().count() / 3).max(2);
    let lower = name.to_lowercase();
    let mut scored: Vec<(usize, String)> = candidates
        .into_iter()
        .filter_map(|c| {
            let d = distance(name, c);
            let cl = c.to_lowercase();
            let close = d <= limit
                || (lower.len() >= 4 && (cl.starts_with(&lower) || lower.starts_with(&cl)));
            close.then(|| (d, c.to_string()))
        })
        .collect();
    scored.sort();
    scored.dedup_by(|a, b| a.1 == b.1);
    scored.into_iter().take(3).map(|(_, c)| c).collect()
}

fn did_you_mean(s: &[String]) -> String {
    if s.is_empty() {
        String::new()
    } else {
        format!("; did you mean {}?", s.join(", "))
    }
}

struct Db<'c> {
    conn: &'c Connection,
}

impl<'c> Db<'c> {
    /// The service's id and prefix as stored.
    fn service(&self, prefix: &str) -> Result<Option<(i64, String)>> {
        Ok(lookup::service(self.conn, prefix)?)
    }

    /// The rows of one operation.
    fn operation_rows(&self, prefix: &str, oid: i64, op_name: &str) -> Result<Vec<ApiRow>> {
        let acts = lookup::operation_actions(self.conn, oid)?;
        let mut rows = Vec::with_capacity(acts.len());
        for a in acts {
            let info = lookup::action_summary(self.conn, &a.service, &a.action)?;
            let mut keys = a.condition_keys;
            let (full, access_level, resource_types, known) = match info {
                Some(i) => {
                    keys.extend(i.condition_keys);
                    (
                        format!("{}:{}", i.prefix, i.name),
                        a.access_level.or(i.access_level),
                        i.resource_types,
                        true,
                    )
                }
                None => (
                    format!("{}:{}", a.service, a.action),
                    a.access_level,
                    Vec::new(),
                    false,
                ),
            };
            rows.push(ApiRow {
                operation: format!("{prefix}:{op_name}"),
                action: full,
                access_level,
                resource_types,
                condition_keys: sorted_unique(keys),
                sources: a.sources.as_str().to_string(),
                known,
                context: a.context,
            });
        }
        Ok(rows)
    }
}

fn sorted_unique(mut v: Vec<String>) -> Vec<String> {
    v.sort_by(|a, b| {
        a.to_ascii_lowercase()
            .cmp(&b.to_ascii_lowercase())
            .then_with(|| a.cmp(b))
    });
    v.dedup_by(|a, b| a.eq_ignore_ascii_case(b));
    v
}

/// Why an operation could not be found (a message for the user).
enum Lookup {
    Found(String, i64, String),
    Unknown(String),
}

/// "unknown service prefix …; did you mean …?"
fn unknown_prefix(db: &Db, prefix: &str) -> Result<String> {
    let prefixes = lookup::prefixes(db.conn)?;
    let s = suggest(prefix, prefixes.iter().map(String::as_str));
    Ok(format!(
        "unknown service prefix {prefix:?}{}",
        did_you_mean(&s)
    ))
}

fn find_operation(db: &Db, prefix: &str, op: &str) -> Result<Lookup> {
    let Some((sid, prefix)) = db.service(prefix)? else {
        return Ok(Lookup::Unknown(unknown_prefix(db, prefix)?));
    };
    if let Some((oid, name)) = lookup::operation(db.conn, sid, op)? {
        return Ok(Lookup::Found(prefix, oid, name));
    }
    let names = lookup::operation_names(db.conn, sid)?;
    if names.is_empty() {
        return Ok(Lookup::Unknown(format!(
            "{prefix}:{op}: the dataset has no API operations for {prefix} (its JSON service reference lists none)"
        )));
    }
    let s = suggest(op, names.iter().map(String::as_str));
    Ok(Lookup::Unknown(format!(
        "{prefix}:{op}: unknown API operation{}",
        did_you_mean(&s)
    )))
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
                crate::lookup::context_text(&r.context),
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
    let db = Db { conn };
    match find_operation(&db, &prefix, &op)? {
        Lookup::Unknown(msg) => Err(input(msg)),
        Lookup::Found(prefix, oid, name) => {
            let rows = db.operation_rows(&prefix, oid, &name)?;
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
    let found = lookup::sdk_operations(conn, &a.package, &client, &method)?;
    if found.is_empty() {
        let packages = lookup::sdk_packages(conn)?;
        if !packages.iter().any(|p| p.eq_ignore_ascii_case(&a.package)) {
            return Err(input(format!(
                "unknown SDK package {:?}; the dataset knows {}",
                a.package,
                if packages.is_empty() {
                    "none (build with --service-reference-dir)".to_string()
                } else {
                    packages.join(", ")
                }
            )));
        }
        let clients = lookup::sdk_clients(conn, &a.package)?;
        if !clients.iter().any(|c| c.eq_ignore_ascii_case(&client)) {
            let s = suggest(&client, clients.iter().map(String::as_str));
            return Err(input(format!(
                "{}: unknown client {client:?}{}",
                a.package,
                did_you_mean(&s)
            )));
        }
        let methods = lookup::sdk_methods(conn, &a.package, &client)?;
        let s = suggest(&method, methods.iter().map(String::as_str));
        return Err(input(format!(
            "{} {client}: unknown method {method:?}{}",
            a.package,
            did_you_mean(&s)
        )));
    }
    let db = Db { conn };
    let mut rows = Vec::new();
    for (prefix, oid, name) in found {
        rows.extend(db.operation_rows(&prefix, oid, &name)?);
    }
    print_api_rows(&rows, out)?;
    Ok(if rows.is_empty() {
        Exit::NotFound
    } else {
        Exit::Found
    })
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
        .into_iter()
        .map(|n| CallsRow {
            action: n.action.clone(),
            access_level: n.access_level.clone(),
            needed_by: sorted_unique(n.calls.iter().cloned().collect()),
            known: n.known,
            needed: if n.conditional {
                "conditional"
            } else {
                "always"
            }
            .to_string(),
            resources: if from_list {
                Vec::new()
            } else {
                n.resources.iter().cloned().collect()
            },
            notes: n.notes.iter().cloned().collect(),
            context: n
                .context
                .iter()
                .flatten()
                .map(|(k, v)| (k.clone(), v.iter().cloned().collect()))
                .collect(),
        })
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
                crate::lookup::context_text(&r.context),
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
        if rows.is_empty() {
            Exit::NotFound
        } else {
            Exit::Found
        },
    ))
}

// ---------------------------------------------------------------------------
// `crosscheck`
// ---------------------------------------------------------------------------

const KINDS: &[&str] = &[
    "service",
    "action",
    "resource_type",
    "arn_format",
    "condition_key",
    "resource_type_condition_key",
    "action_resource_type",
    "action_condition_key",
    "condition_key_placement",
    "access_level",
    "condition_key_type",
];

/// `iamref crosscheck [PREFIX...] [--kind KIND]`.
pub fn crosscheck(conn: &Connection, a: CrosscheckArgs, out: &mut Out) -> Result<Exit> {
    if let Some(k) = &a.kind {
        if !KINDS.contains(&k.as_str()) {
            return Err(input(format!(
                "unknown kind {k:?}; expected one of {}",
                KINDS.join(", ")
            )));
        }
    }
    let db = Db { conn };
    for p in &a.prefixes {
        if db.service(p)?.is_none() {
            return Err(input(unknown_prefix(&db, p)?));
        }
    }
    let (has_html, has_json) = lookup::has_sources(conn)?;
    if !has_json || !has_html {
        return Err(input(format!(
            "the database has no {} data to compare with; build it with both --from-dir and --service-reference-dir",
            if has_json { "HTML" } else { "JSON service reference" }
        )));
    }
    let mut services = iamref_dataset::db::read_services(conn)?;
    if !a.prefixes.is_empty() {
        services.retain(|s| a.prefixes.iter().any(|p| p.eq_ignore_ascii_case(&s.prefix)));
    }
    let mut diffs: Vec<Difference> = run_crosscheck(&services);
    if let Some(k) = &a.kind {
        diffs.retain(|d| d.kind.as_str() == k);
    }
    if out.format == Format::Table {
        // Counted by position in KINDS, so that kinds come in that order.
        let rank = |d: &Difference| {
            KINDS
                .iter()
                .position(|k| *k == d.kind.as_str())
                .unwrap_or(0)
        };
        let mut totals: BTreeMap<usize, usize> = BTreeMap::new();
        let mut per: BTreeMap<(String, usize), usize> = BTreeMap::new();
        for d in &diffs {
            *totals.entry(rank(d)).or_default() += 1;
            *per.entry((d.prefix.clone(), rank(d))).or_default() += 1;
        }
        let row = |prefix: &str, k: usize, count: usize| CrosscheckSummary {
            prefix: prefix.to_string(),
            kind: KINDS[k].to_string(),
            count,
        };
        let summary: Vec<CrosscheckSummary> = totals
            .iter()
            .map(|(&k, &count)| row("(all)", k, count))
            .chain(per.iter().map(|((p, k), &count)| row(p, *k, count)))
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
    Ok(if diffs.is_empty() {
        Exit::Found
    } else {
        Exit::NotFound
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_are_close_names() {
        let names = ["CopyObject", "GetObject", "PutObject", "ListBuckets"];
        assert_eq!(suggest("CopyObjet", names), ["CopyObject"]);
        assert!(suggest("Zzzzzz", names).is_empty());
        assert_eq!(distance("kitten", "sitting"), 3);
    }
}
