//! `iamref policy check` (lint an identity policy against the data) and
//! `iamref policy write` (a least-privilege policy for a list of actions).

use crate::exit::{input, Exit};
use crate::lookup::{self, ActionInfo};
use crate::matching::{arn_matches_format, key_matches_template, policy_pattern};
use crate::output::{Format, Out};
use anyhow::Result;
use rusqlite::Connection;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(clap::Subcommand)]
pub enum PolicyCmd {
    /// Check an IAM identity policy against the data: unknown actions,
    /// resources that no resource type of an action matches, actions that
    /// need "*", condition keys an action does not support
    Check(CheckArgs),
    /// Write a least-privilege policy: actions scoped to the given ARNs (or
    /// derived from them), access levels on ARNs, policy_sentry templates
    Write(Box<crate::write_cmd::WriteArgs>),
    /// Rewrite a policy so each action keeps only the Resources it can use
    /// (never grants more; removals on stderr; exit 1 when changed)
    Tighten(crate::write_cmd::TightenArgs),
}

impl PolicyCmd {
    /// Does the command print a policy (and so take `--format yaml|terraform`)?
    pub fn renders_policy(&self) -> bool {
        matches!(self, PolicyCmd::Write(_) | PolicyCmd::Tighten(_))
    }
}

#[derive(clap::Args)]
pub struct CheckArgs {
    /// Policy document (JSON); `-` reads standard input
    pub file: PathBuf,
}

pub fn run(conn: &Connection, cmd: PolicyCmd, out: &mut Out) -> Result<Exit> {
    match cmd {
        PolicyCmd::Check(a) => check(conn, a, out),
        PolicyCmd::Write(a) => {
            let quiet = out.quiet;
            crate::write_cmd::write(conn, *a, out, quiet)
        }
        PolicyCmd::Tighten(a) => {
            let quiet = out.quiet;
            crate::write_cmd::tighten_cmd(conn, a, out, quiet)
        }
    }
}

// ---------------------------------------------------------------------------
// check
// ---------------------------------------------------------------------------

#[derive(Debug, Serialize, PartialEq)]
pub struct Finding {
    /// `error` (the policy will not do what it says) or `warning`.
    pub severity: &'static str,
    /// 0-based statement index, and its Sid if any.
    pub statement: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// Stable identifier, e.g. `unknown-action`.
    pub code: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    pub message: String,
}

/// A policy element that may be a string or a list of strings.
fn strings(v: Option<&Value>, what: &str, stmt: usize) -> Result<Vec<String>> {
    match v {
        None => Ok(Vec::new()),
        Some(Value::String(s)) => Ok(vec![s.clone()]),
        Some(Value::Array(a)) => a
            .iter()
            .map(|x| {
                x.as_str().map(str::to_string).ok_or_else(|| {
                    input(format!(
                        "statement {stmt}: every {what} entry must be a string, found {x}"
                    ))
                })
            })
            .collect(),
        Some(other) => Err(input(format!(
            "statement {stmt}: {what} must be a string or a list of strings, found {other}"
        ))),
    }
}

fn read_policy(file: &Path) -> Result<Value> {
    let (name, text) = crate::input::read_text(Some(file))?;
    serde_json::from_str(&text).map_err(|e| {
        input(format!(
            "{name}: not a JSON policy document: {e} (line {}, column {})",
            e.line(),
            e.column()
        ))
    })
}

/// Every condition key an action supports (action level, resource-type
/// rows, and the resource types' own keys).
fn supported_keys(conn: &Connection, info: &ActionInfo) -> Result<BTreeSet<String>> {
    let mut keys: BTreeSet<String> = info.condition_keys.iter().cloned().collect();
    for r in info
        .resource_types
        .iter()
        .chain(info.scenarios.iter().flat_map(|s| s.resource_types.iter()))
    {
        keys.extend(r.condition_keys.iter().cloned());
        let mut q = conn.prepare_cached(
            "SELECT k.condition_key FROM resource_type_condition_keys k
             JOIN resource_types t ON t.id = k.resource_type_id JOIN services s ON s.id = t.service_id
             WHERE s.prefix = ?1 AND t.name = ?2",
        )?;
        for k in q.query_map([&info.prefix, &r.name], |row| row.get::<_, String>(0))? {
            keys.insert(k?);
        }
    }
    Ok(keys)
}

/// Keys AWS documents per service and per action; other `aws:` keys are
/// global and valid with any action.
fn is_service_scoped_global(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    k.starts_with("aws:requesttag/") || k.starts_with("aws:resourcetag/") || k == "aws:tagkeys"
}

pub fn check_policy(conn: &Connection, policy: &Value) -> Result<Vec<Finding>> {
    let stmts: Vec<&Value> = match policy.get("Statement") {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(v @ Value::Object(_)) => vec![v],
        Some(_) => return Err(input("Statement must be an object or a list of objects")),
        None => return Err(input("not an IAM policy: it has no Statement")),
    };
    let mut findings = Vec::new();
    for (i, st) in stmts.iter().enumerate() {
        if !st.is_object() {
            return Err(input(format!("statement {i} is not an object")));
        }
        let sid = st.get("Sid").and_then(Value::as_str).map(str::to_string);
        let mut find = |severity, code, action: Option<String>, message: String| {
            findings.push(Finding {
                severity,
                statement: i,
                sid: sid.clone(),
                code,
                action,
                message,
            })
        };
        let effect = st.get("Effect").and_then(Value::as_str).unwrap_or("");
        if effect != "Allow" && effect != "Deny" {
            find(
                "error",
                "bad-effect",
                None,
                format!("Effect must be \"Allow\" or \"Deny\", found {:?}", effect),
            );
        }
        let actions = strings(st.get("Action"), "Action", i)?;
        let not_actions = strings(st.get("NotAction"), "NotAction", i)?;
        let resources = strings(st.get("Resource"), "Resource", i)?;
        let has_not_resource = st.get("NotResource").is_some();
        if actions.is_empty() && not_actions.is_empty() {
            find(
                "error",
                "no-action",
                None,
                "the statement has neither Action nor NotAction".into(),
            );
        }
        if resources.is_empty() && !has_not_resource {
            find(
                "error",
                "no-resource",
                None,
                "the statement has neither Resource nor NotResource (identity policies need one)"
                    .into(),
            );
        }
        let cond_keys: Vec<String> = st
            .get("Condition")
            .and_then(Value::as_object)
            .map(|ops| {
                ops.values()
                    .filter_map(Value::as_object)
                    .flat_map(|m| m.keys().cloned())
                    .collect()
            })
            .unwrap_or_default();
        for (pat, is_not) in actions
            .iter()
            .map(|a| (a, false))
            .chain(not_actions.iter().map(|a| (a, true)))
        {
            if pat == "*" {
                if !is_not && effect == "Allow" {
                    find(
                        "warning",
                        "allow-all-actions",
                        None,
                        "Action \"*\" allows every action of every service".into(),
                    );
                }
                continue;
            }
            let r = match lookup::parse_action_ref(pat) {
                Ok(r) => r,
                Err(e) => {
                    find(
                        "error",
                        "malformed-action",
                        Some(pat.clone()),
                        e.to_string(),
                    );
                    continue;
                }
            };
            let ids = match lookup::resolve_actions(conn, &r) {
                Ok(ids) => ids,
                Err(e) => {
                    find("error", "unknown-action", Some(pat.clone()), e.to_string());
                    continue;
                }
            };
            if ids.is_empty() {
                find(
                    "error",
                    "no-match",
                    Some(pat.clone()),
                    format!("{pat} matches no action"),
                );
                continue;
            }
            if is_not {
                continue;
            }
            for (id, prefix, name) in ids {
                let full = format!("{prefix}:{name}");
                let info = lookup::action_info(conn, id)?;
                if !resources.is_empty() && !resources.iter().any(|r| r == "*") {
                    if !info.resource_level {
                        find(
                            "error",
                            "needs-wildcard-resource",
                            Some(full.clone()),
                            format!("{full} does not support resource-level permissions: grant it on \"Resource\": \"*\" (in its own statement)"),
                        );
                    } else {
                        let formats: Vec<&String> = info
                            .resource_types
                            .iter()
                            .flat_map(|t| t.arns.iter())
                            .collect();
                        let any = resources
                            .iter()
                            .any(|arn| formats.iter().any(|f| arn_matches_format(f, arn)));
                        if !any {
                            let want: Vec<String> = info
                                .resource_types
                                .iter()
                                .flat_map(|t| {
                                    t.arns
                                        .iter()
                                        .map(move |a| format!("{} ({})", policy_pattern(a), t.name))
                                })
                                .collect();
                            find(
                                "error",
                                "resource-mismatch",
                                Some(full.clone()),
                                format!("no Resource of this statement is an ARN {full} accepts; it takes {}", want.join(", ")),
                            );
                        }
                    }
                }
                if !cond_keys.is_empty() {
                    let supported = supported_keys(conn, &info)?;
                    for k in &cond_keys {
                        let global = k.to_ascii_lowercase().starts_with("aws:")
                            && !is_service_scoped_global(k);
                        let ok = global
                            || supported
                                .iter()
                                .any(|s| s.eq_ignore_ascii_case(k) || key_matches_template(s, k));
                        if !ok {
                            find(
                                "warning",
                                "unsupported-condition-key",
                                Some(full.clone()),
                                format!("{full} does not support condition key {k}; the condition never matches for it"),
                            );
                        }
                    }
                }
            }
        }
    }
    Ok(findings)
}

fn check(conn: &Connection, a: CheckArgs, out: &mut Out) -> Result<Exit> {
    let policy = read_policy(&a.file)?;
    let findings = check_policy(conn, &policy)?;
    match out.format {
        Format::Table => {
            let w = out.w();
            for f in &findings {
                let sid = f
                    .sid
                    .as_deref()
                    .map(|s| format!(" ({s})"))
                    .unwrap_or_default();
                writeln!(
                    w,
                    "{}: statement {}{sid}: {}: {}",
                    f.severity, f.statement, f.code, f.message
                )?;
            }
        }
        _ => {
            let rows: Vec<Vec<String>> = findings
                .iter()
                .map(|f| {
                    vec![
                        f.severity.to_string(),
                        f.statement.to_string(),
                        f.sid.clone().unwrap_or_default(),
                        f.code.to_string(),
                        f.action.clone().unwrap_or_default(),
                        f.message.clone(),
                    ]
                })
                .collect();
            out.records(
                &["severity", "statement", "sid", "code", "action", "message"],
                &rows,
                &findings,
            )?;
        }
    }
    // Exit 1 when there are findings, as linters do; 0 when clean.
    Ok(if findings.is_empty() {
        Exit::Found
    } else {
        Exit::NotFound
    })
}
