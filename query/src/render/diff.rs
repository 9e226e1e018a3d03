//! `iamref diff`'s output: the changes as JSON, JSON lines, TSV, the
//! terminal changelog (grouped by prefix) or a Markdown release note.

use super::markdown::code;
use crate::diff_cmd::DiffFormat;
use crate::output::{tsv_cell, Out};
use iamref_dataset::diff::{Change, ChangeType, Kind, Summary};
use serde_json::Value;
use std::collections::HashMap;
use std::io::Write;

/// Write `changes` (between `sides`, as the user named them) in `format`;
/// `names` are the services' names by lower-case prefix.
pub fn write(
    out: &mut Out,
    format: DiffFormat,
    sides: (&str, &str),
    changes: &[Change],
    names: &HashMap<String, &str>,
    summary: &Summary,
) -> std::io::Result<()> {
    let w = out.w();
    match format {
        DiffFormat::Json => {
            let doc = serde_json::json!({
                "old": sides.0,
                "new": sides.1,
                "summary": summary,
                "changes": changes,
            });
            serde_json::to_writer_pretty(&mut *w, &doc)?;
            writeln!(w)?;
        }
        DiffFormat::Jsonl => {
            for c in changes {
                serde_json::to_writer(&mut *w, c)?;
                writeln!(w)?;
            }
        }
        DiffFormat::Tsv => {
            if !changes.is_empty() {
                writeln!(w, "prefix\tkind\tname\tchange\tfield\told\tnew")?;
            }
            for c in changes {
                let v = |v: &Option<Value>| v.as_ref().map(|v| v.to_string()).unwrap_or_default();
                writeln!(
                    w,
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}",
                    tsv_cell(&c.prefix),
                    c.kind.as_str(),
                    tsv_cell(&c.name),
                    c.change.as_str(),
                    c.field.as_deref().unwrap_or(""),
                    tsv_cell(&v(&c.old)),
                    tsv_cell(&v(&c.new))
                )?;
            }
        }
        DiffFormat::Table => {
            if !changes.is_empty() {
                let text = changelog(changes, names, summary);
                let bold_color = out.color;
                let w = out.w();
                for line in text.lines() {
                    if bold_color && !line.starts_with(' ') && !line.is_empty() {
                        writeln!(w, "\x1b[1m{line}\x1b[0m")?;
                    } else {
                        writeln!(w, "{line}")?;
                    }
                }
            }
        }
        DiffFormat::Markdown => {
            if !changes.is_empty() {
                w.write_all(markdown(sides.0, sides.1, changes, names, summary).as_bytes())?;
            }
        }
    }
    Ok(())
}

/// A value on one line: strings bare, lists comma-separated in brackets.
fn show(v: &Option<Value>) -> String {
    fn one(v: &Value) -> String {
        match v {
            Value::Null => "(none)".to_string(),
            Value::String(s) => s.clone(),
            Value::Array(a) => format!("[{}]", a.iter().map(one).collect::<Vec<_>>().join(", ")),
            other => other.to_string(),
        }
    }
    v.as_ref().map(one).unwrap_or_default()
}

/// What an added or removed item is, in a few words.
fn describe(c: &Change) -> String {
    let v = match c.change {
        ChangeType::Removed => &c.old,
        _ => &c.new,
    };
    let Some(v) = v else { return String::new() };
    match c.kind {
        Kind::Service => format!(
            "{} ({} actions, {} resource types, {} condition keys)",
            v["name"].as_str().unwrap_or(""),
            v["actions"],
            v["resource_types"],
            v["condition_keys"]
        ),
        Kind::Action => v["access_level"].as_str().unwrap_or("").to_string(),
        Kind::ArnFormat => v.as_str().unwrap_or("").to_string(),
        Kind::ResourceType => show(&Some(v["arns"].clone())),
        Kind::ConditionKey => v["type"].as_str().unwrap_or("").to_string(),
        Kind::Operation => show(&Some(v["actions"].clone())),
    }
}

/// The item's full name: `s3:GetObject`, `s3:bucket`, `s3:Copy` ...
fn full_name(c: &Change) -> String {
    match c.kind {
        Kind::Service => c.prefix.clone(),
        // Condition keys carry their own prefix (`aws:…`, `s3:…`).
        Kind::ConditionKey => c.name.clone(),
        _ => format!("{}:{}", c.prefix, c.name),
    }
}

fn summary_line(s: &Summary) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut add = |n: usize, what: &str| {
        if n > 0 {
            parts.push(format!("{n} {what}"));
        }
    };
    add(s.services_added, "services added");
    add(s.services_removed, "services removed");
    add(s.actions_added, "actions added");
    add(s.actions_removed, "actions removed");
    add(s.access_levels_changed, "access levels changed");
    add(
        s.action_resource_types_changed,
        "actions with changed resource types",
    );
    add(s.resource_types_added, "resource types added");
    add(s.resource_types_removed, "resource types removed");
    add(s.arn_formats_added, "ARN formats added");
    add(s.arn_formats_removed, "ARN formats removed");
    add(s.condition_keys_added, "condition keys added");
    add(s.condition_keys_removed, "condition keys removed");
    add(s.condition_key_types_changed, "condition key types changed");
    add(s.operations_added, "operations added");
    add(s.operations_removed, "operations removed");
    if s.items_changed > 0 {
        parts.push(format!("{} items with changed fields", s.items_changed));
    }
    format!("{} changes: {}", s.changes, parts.join(", "))
}

/// The terminal changelog: per prefix, one line per change (`+` added,
/// `-` removed, `~` changed), then a summary line.
fn changelog(changes: &[Change], names: &HashMap<String, &str>, s: &Summary) -> String {
    let mut text = String::new();
    let mut last: Option<&str> = None;
    for c in changes {
        if last != Some(c.prefix.as_str()) {
            if last.is_some() {
                text.push('\n');
            }
            let name = names
                .get(&c.prefix.to_ascii_lowercase())
                .copied()
                .unwrap_or("");
            text.push_str(&format!("{}  {name}\n", c.prefix));
            last = Some(&c.prefix);
        }
        let sign = match c.change {
            ChangeType::Added => '+',
            ChangeType::Removed => '-',
            ChangeType::Changed => '~',
        };
        let kind = c.kind.as_str();
        let name = full_name(c);
        let line = match c.change {
            ChangeType::Changed => format!(
                "  {sign} {kind:<13} {name}  {}: {} -> {}",
                c.field.as_deref().unwrap_or(""),
                show(&c.old),
                show(&c.new)
            ),
            _ => {
                let d = describe(c);
                if d.is_empty() {
                    format!("  {sign} {kind:<13} {name}")
                } else {
                    format!("  {sign} {kind:<13} {name}  {d}")
                }
            }
        };
        text.push_str(&line);
        text.push('\n');
    }
    text.push('\n');
    text.push_str(&summary_line(s));
    text.push('\n');
    text
}

/// A release note / pull request body.
fn markdown(
    old: &str,
    new: &str,
    changes: &[Change],
    names: &HashMap<String, &str>,
    s: &Summary,
) -> String {
    let mut m = format!("# IAM changes from {} to {}\n\n", code(old), code(new));
    m.push_str("| | added | removed | changed |\n|---|---:|---:|---:|\n");
    let rows: [(&str, usize, usize, String); 6] = [
        (
            "services",
            s.services_added,
            s.services_removed,
            s.services_changed.to_string(),
        ),
        (
            "actions",
            s.actions_added,
            s.actions_removed,
            s.actions_changed.to_string(),
        ),
        (
            "resource types",
            s.resource_types_added,
            s.resource_types_removed,
            String::new(),
        ),
        (
            "ARN formats",
            s.arn_formats_added,
            s.arn_formats_removed,
            String::new(),
        ),
        (
            "condition keys",
            s.condition_keys_added,
            s.condition_keys_removed,
            String::new(),
        ),
        (
            "operations",
            s.operations_added,
            s.operations_removed,
            s.operations_changed.to_string(),
        ),
    ];
    for (what, a, r, c) in rows {
        m.push_str(&format!("| {what} | {a} | {r} | {c} |\n"));
    }
    m.push_str(&format!(
        "\n{} access levels changed, {} actions with changed resource types, {} condition key types changed.\n",
        s.access_levels_changed, s.action_resource_types_changed, s.condition_key_types_changed
    ));
    let mut last: Option<&str> = None;
    for c in changes {
        if last != Some(c.prefix.as_str()) {
            let name = names
                .get(&c.prefix.to_ascii_lowercase())
                .copied()
                .unwrap_or("");
            m.push_str(&format!("\n## {} {name}\n\n", code(&c.prefix)));
            last = Some(&c.prefix);
        }
        let name = code(&full_name(c));
        let kind = c.kind.as_str();
        let line = match c.change {
            ChangeType::Changed => format!(
                "- **changed** {kind} {name}: {} {} → {}",
                c.field.as_deref().unwrap_or(""),
                code(&show(&c.old)),
                code(&show(&c.new))
            ),
            ChangeType::Added | ChangeType::Removed => {
                let d = describe(c);
                let d = if d.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", code(&d))
                };
                format!("- **{}** {kind} {name}{d}", c.change.as_str())
            }
        };
        m.push_str(&line);
        m.push('\n');
    }
    m
}
