//! `iamref policy` subcommands: `check` (in `policy_check_cmd`) and
//! `iamref policy write` (a least-privilege policy for a list of actions).

use crate::exit::{input, Exit};
use crate::lookup;
use crate::matching::{arn_matches_format, policy_pattern};
use crate::output::{Format, Out};
use anyhow::Result;
use rusqlite::Connection;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;

#[derive(clap::Subcommand)]
pub enum PolicyCmd {
    /// Check IAM policies (identity or resource-based) against the data:
    /// structure, actions, resources, conditions, broad grants; files,
    /// folders of *.json, or `-`
    Check(crate::policy_check_cmd::CheckArgs),
    /// Write a least-privilege policy for actions: each action scoped to the
    /// ARNs of its resource types (or the --resource ARNs that fit them)
    Write(WriteArgs),
}

#[derive(clap::Args)]
pub struct WriteArgs {
    /// Actions or patterns, e.g. s3:GetObject s3:List*; `-` reads them from standard input, one per line
    #[arg(required_unless_present = "from_cloudtrail", value_name = "ACTION")]
    pub actions: Vec<String>,
    /// Instead of actions: the calls of a CloudTrail log (file, .json.gz,
    /// folder tree in the S3 delivery layout, `iamref record --log` output,
    /// or `-`), granted on the resources the records name
    #[arg(long, value_name = "PATH", conflicts_with = "actions")]
    pub from_cloudtrail: Option<std::path::PathBuf>,
    #[command(flatten)]
    pub trail: crate::record_cmd::TrailArgs,
    /// With --from-cloudtrail: grant the parameter-dependent actions too
    #[arg(long)]
    pub include_conditional: bool,
    /// Concrete ARNs (or patterns) to scope to; each action gets those its resource types match
    #[arg(long = "resource", short, value_name = "ARN")]
    pub resources: Vec<String>,
    /// Partition for generated ARN patterns
    #[arg(long, default_value = "aws")]
    pub partition: String,
}

pub fn run(conn: &Connection, cmd: PolicyCmd, out: &mut Out) -> Result<Exit> {
    match cmd {
        PolicyCmd::Check(a) => crate::policy_check_cmd::check(conn, a, out),
        PolicyCmd::Write(a) => write(conn, a, out),
    }
}

// ---------------------------------------------------------------------------
// write
// ---------------------------------------------------------------------------

fn camel(s: &str) -> String {
    s.split(['-', '_', '.', ' ', '/'])
        .map(|p| {
            let mut c = p.chars();
            match c.next() {
                Some(f) => f.to_ascii_uppercase().to_string() + c.as_str(),
                None => String::new(),
            }
        })
        .collect::<String>()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect()
}

/// A statement id from the service and what the statement is scoped to.
fn sid_for(prefix: &str, types: &BTreeSet<String>, resources: &[String]) -> String {
    let what = if resources == ["*"] {
        "AllResources".to_string()
    } else {
        types.iter().map(|t| camel(t)).collect::<Vec<_>>().join("")
    };
    format!("{}{}", camel(prefix), what)
}

pub fn write_policy(
    conn: &Connection,
    patterns: &[String],
    resources: &[String],
    partition: &str,
) -> Result<(Value, Vec<String>)> {
    let mut notes = Vec::new();
    /// What one action is granted on: resources, and their resource types.
    #[derive(Default)]
    struct Grant {
        resources: BTreeSet<String>,
        types: BTreeSet<String>,
    }
    let mut grants: BTreeMap<String, Grant> = BTreeMap::new();
    for p in patterns {
        let r = lookup::parse_action_ref(p)?;
        let ids = lookup::resolve_actions(conn, &r)?;
        if ids.is_empty() {
            return Err(input(format!("{p} matches no action")));
        }
        for (id, prefix, name) in ids {
            let full = format!("{prefix}:{name}");
            let info = lookup::action_info(conn, id)?;
            let mut res = BTreeSet::new();
            let mut types = BTreeSet::new();
            if !info.resource_level {
                res.insert("*".to_string());
            } else {
                for arn in resources {
                    for t in &info.resource_types {
                        if t.arns.iter().any(|f| arn_matches_format(f, arn)) {
                            res.insert(arn.clone());
                            types.insert(t.name.clone());
                        }
                    }
                }
                if res.is_empty() {
                    // Scope to the ARN patterns of its required resource
                    // types (all of them when none is required).
                    let required: Vec<_> =
                        info.resource_types.iter().filter(|t| t.required).collect();
                    let chosen: Vec<_> = if required.is_empty() {
                        info.resource_types.iter().collect()
                    } else {
                        required
                    };
                    for t in chosen {
                        types.insert(t.name.clone());
                        for f in &t.arns {
                            res.insert(policy_pattern(f).replacen(
                                "arn:aws:",
                                &format!("arn:{partition}:"),
                                1,
                            ));
                        }
                        if t.arns.is_empty() {
                            notes.push(format!(
                                "{full}: resource type {} has no ARN format in the data",
                                t.name
                            ));
                        }
                    }
                    if !resources.is_empty() {
                        notes.push(format!(
                            "{full}: none of the --resource ARNs fit its resource types; scoped to {}",
                            res.iter().cloned().collect::<Vec<_>>().join(", ")
                        ));
                    }
                    if res.is_empty() {
                        res.insert("*".to_string());
                    }
                }
            }
            let g = grants.entry(full).or_default();
            g.resources.extend(res);
            g.types.extend(types);
        }
    }
    // Group actions that share the same resources into one statement.
    /// Resources → (actions granted on them, resource type names).
    type Groups = BTreeMap<Vec<String>, (Vec<String>, BTreeSet<String>)>;
    let mut groups: Groups = BTreeMap::new();
    for (action, g) in grants {
        let e = groups.entry(g.resources.into_iter().collect()).or_default();
        e.1.extend(g.types);
        e.0.push(action);
    }
    let mut statements = Vec::new();
    let mut used_sids: BTreeMap<String, usize> = BTreeMap::new();
    let mut ordered: Vec<_> = groups.into_iter().collect();
    ordered.sort_by(|a, b| a.1 .0.cmp(&b.1 .0));
    for (res, (actions, types)) in ordered {
        let prefix = actions[0].split(':').next().unwrap_or_default();
        let mut sid = sid_for(prefix, &types, &res);
        let n = used_sids.entry(sid.clone()).or_insert(0);
        *n += 1;
        if *n > 1 {
            sid = format!("{sid}{n}");
        }
        let resource = if res.len() == 1 {
            json!(res[0])
        } else {
            json!(res)
        };
        statements.push(json!({
            "Sid": sid,
            "Effect": "Allow",
            "Action": actions,
            "Resource": resource,
        }));
    }
    Ok((
        json!({"Version": "2012-10-17", "Statement": statements}),
        notes,
    ))
}

fn write(conn: &Connection, a: WriteArgs, out: &mut Out) -> Result<Exit> {
    if let Some(p) = &a.from_cloudtrail {
        return crate::record_cmd::write_from_cloudtrail(
            conn,
            p,
            &a.trail,
            a.include_conditional,
            out,
        );
    }
    crate::record_cmd::no_trail_flags(&a.trail, a.include_conditional)?;
    let mut patterns = Vec::new();
    for p in &a.actions {
        if p == "-" {
            let (_, text) = crate::input::read_text(None)?;
            patterns.extend(
                text.lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty() && !l.starts_with('#'))
                    .map(|l| l.split_whitespace().next().unwrap_or(l).to_string()),
            );
        } else {
            patterns.push(p.clone());
        }
    }
    if patterns.is_empty() {
        return Err(input("no actions given"));
    }
    for r in &a.resources {
        lookup::check_name("--resource ARN", r)?;
        if r != "*" && !r.starts_with("arn:") {
            return Err(input(format!("--resource {r:?} is not an ARN")));
        }
    }
    let (policy, notes) = write_policy(conn, &patterns, &a.resources, &a.partition)?;
    for n in notes {
        eprintln!("note: {n}");
    }
    let compact = out.format == Format::Jsonl;
    let w = out.w();
    if compact {
        serde_json::to_writer(&mut *w, &policy)?;
    } else {
        serde_json::to_writer_pretty(&mut *w, &policy)?;
    }
    writeln!(w)?;
    Ok(Exit::Found)
}
