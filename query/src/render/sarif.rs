//! `policy check --format sarif`: the report as one SARIF 2.1.0 log (GitHub
//! code scanning). The rules are the finding codes of
//! [`iamref_policy::finding::CODES`], with the weight of each
//! ([`security_severity`]) from the engine; this module only words them.

use crate::output::{one_line, Out};
use iamref_policy::finding::{security_severity, Location, Severity, CODES};
use iamref_policy::lint::report::Report;
use serde_json::{json, Value};
use std::io::Write;
use std::path::Path;

/// SARIF's level for a severity.
fn sarif_level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// A file path as a SARIF `uri` (a URI reference), relative to `root` (the
/// repository's folder code scanning resolves URIs against) for every file
/// under it, whether the path was given absolute or relative (`../x.json`
/// is resolved first); a file outside it, or stdin, keeps an absolute
/// `file://` URI (or `-`). Characters outside the unreserved set and `/`
/// are percent-encoded.
pub fn path_uri(file: &str, root: Option<&Path>) -> String {
    let p = Path::new(file);
    let abs = std::fs::canonicalize(p).ok();
    let rel = match (&abs, root.and_then(|r| std::fs::canonicalize(r).ok())) {
        (Some(a), Some(r)) => a.strip_prefix(&r).ok().map(Path::to_path_buf),
        _ => None,
    };
    let (prefix, text) = match (rel, abs) {
        (Some(r), _) => ("", r.display().to_string().replace('\\', "/")),
        (None, Some(a)) => ("file://", a.display().to_string().replace('\\', "/")),
        (None, None) if p.is_absolute() => ("file://", file.replace('\\', "/")),
        (None, None) => (
            "",
            iamref_policy::lint_config::strip_dot(p)
                .display()
                .to_string()
                .replace('\\', "/"),
        ),
    };
    let mut s = String::from(prefix);
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            s.push(b as char);
        } else {
            s.push_str(&format!("%{b:02X}"));
        }
    }
    s
}

fn physical(file: &str, at: Location, root: Option<&Path>) -> Value {
    json!({
        "physicalLocation": {
            "artifactLocation": { "uri": path_uri(file, root) },
            "region": { "startLine": at.line.max(1), "startColumn": at.column.max(1) },
        }
    })
}

/// The rules: one per finding code, in [`CODES`] order.
pub fn sarif_rules() -> Vec<Value> {
    CODES
        .iter()
        .map(|(code, sev, parliament, desc)| {
            let mut props = json!({ "tags": ["security", "iam"] });
            if !parliament.is_empty() {
                props["parliament"] = json!(parliament);
            }
            // A string, as code scanning reads it: "8.0".
            props["security-severity"] = json!(format!("{:.1}", security_severity(code)));
            json!({
                "id": code,
                "name": rule_name(code),
                "shortDescription": { "text": desc },
                "defaultConfiguration": { "level": sarif_level(*sev) },
                "properties": props,
            })
        })
        .chain(std::iter::once(json!({
            "id": INPUT_RULE,
            "name": rule_name(INPUT_RULE),
            "shortDescription": { "text": "a file that cannot be read, or is not a JSON policy document" },
            "defaultConfiguration": { "level": "error" },
            "properties": { "tags": ["iam"], "security-severity": "5.0" },
        })))
        .collect()
}

/// A rule's `name`: the code in PascalCase (`resource-mismatch` is
/// `ResourceMismatch`). SARIF wants a name that differs from the id
/// (validator rule SARIF1001), so a one-word code gets `Policy` appended.
fn rule_name(code: &str) -> String {
    let mut name: String = code
        .split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect();
    if name.eq_ignore_ascii_case(code) {
        name.push_str("Policy");
    }
    name
}

/// The rule of inputs that could not be checked (not a finding code: the
/// run exits 2 for them).
const INPUT_RULE: &str = "unreadable-input";

/// The whole report as one SARIF 2.1.0 log.
pub fn sarif(r: &Report, root: Option<&Path>) -> Value {
    let mut results = Vec::new();
    for fr in &r.files {
        for f in &fr.findings {
            let index = CODES.iter().position(|c| c.0 == f.code);
            let mut text = one_line(&f.message);
            if let Some(fix) = &f.fix {
                text.push_str(&format!(" Fix: {}", one_line(fix)));
            }
            let mut props = json!({});
            if let Some(i) = f.statement {
                props["statement"] = json!(i);
            }
            if let Some(sid) = &f.sid {
                props["sid"] = json!(sid);
            }
            if !f.actions.is_empty() {
                props["actions"] = json!(f.actions);
            }
            let mut res = json!({
                "ruleId": f.code,
                "level": sarif_level(f.severity),
                "message": { "text": text },
                "locations": [physical(&fr.file, f.location, root)],
                "properties": props,
            });
            if let Some(i) = index {
                res["ruleIndex"] = json!(i);
            }
            results.push(res);
        }
    }
    let notifications: Vec<Value> = r
        .errors
        .iter()
        .map(|e| {
            json!({
                "level": "error",
                "message": { "text": e.message },
                "locations": [physical(&e.file, Location { line: e.line, column: e.column }, root)],
            })
        })
        .collect();
    // An input that could not be checked is also a result, placed where
    // the reading stopped, so code scanning shows it on the file.
    for e in &r.errors {
        results.push(json!({
            "ruleId": INPUT_RULE,
            "ruleIndex": CODES.len(),
            "level": "error",
            "message": { "text": one_line(&e.message) },
            "locations": [physical(&e.file, Location { line: e.line, column: e.column }, root)],
        }));
    }
    let mut invocation = json!({ "executionSuccessful": r.errors.is_empty() });
    if !notifications.is_empty() {
        invocation["toolExecutionNotifications"] = json!(notifications);
    }
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "iamref",
                    "version": env!("CARGO_PKG_VERSION"),
                    "informationUri": "https://github.com/iamref/iamref",
                    "rules": sarif_rules(),
                }
            },
            "invocations": [invocation],
            "columnKind": "unicodeCodePoints",
            "results": results,
        }]
    })
}

pub fn write(out: &mut Out, r: &Report, root: Option<&Path>) -> std::io::Result<()> {
    let w = out.w();
    serde_json::to_writer_pretty(&mut *w, &sarif(r, root))?;
    writeln!(w)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_are_relative_or_file_and_encoded() {
        assert_eq!(path_uri("./policies/a b.json", None), "policies/a%20b.json");
        assert_eq!(path_uri("p/x#1.json", None), "p/x%231.json");
        assert_eq!(
            path_uri("/nonexistent/p.json", None),
            "file:///nonexistent/p.json"
        );
        let d = tempfile::TempDir::new().unwrap();
        std::fs::create_dir(d.path().join("sub")).unwrap();
        std::fs::write(d.path().join("sub/a b.json"), "{}").unwrap();
        let abs = d.path().join("sub/a b.json");
        assert_eq!(
            path_uri(abs.to_str().unwrap(), Some(d.path())),
            "sub/a%20b.json"
        );
        let up = d.path().join("sub/../sub/a b.json");
        assert_eq!(
            path_uri(up.to_str().unwrap(), Some(d.path())),
            "sub/a%20b.json"
        );
        assert!(
            path_uri(abs.to_str().unwrap(), Some(&d.path().join("sub/x"))).starts_with("file:///")
        );
    }

    #[test]
    fn every_code_is_a_rule_with_a_level() {
        let rules = sarif_rules();
        // Every code, then the rule of inputs that could not be checked.
        assert_eq!(rules.len(), CODES.len() + 1);
        for (r, c) in rules.iter().zip(CODES) {
            assert_eq!(r["id"], c.0);
            assert_eq!(r["defaultConfiguration"]["level"], sarif_level(c.1));
            let sev: f64 = r["properties"]["security-severity"]
                .as_str()
                .unwrap()
                .parse()
                .unwrap();
            assert!((0.1..=10.0).contains(&sev), "{}", c.0);
        }
        assert_eq!(rules[CODES.len()]["id"], INPUT_RULE);
        assert_eq!(rules[0]["properties"]["security-severity"], "6.0");
    }

    #[test]
    fn rule_names_differ_from_ids() {
        assert_eq!(rule_name("resource-mismatch"), "ResourceMismatch");
        assert_eq!(rule_name("malformed"), "MalformedPolicy");
    }
}
