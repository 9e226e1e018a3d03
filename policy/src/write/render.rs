//! A policy document (as JSON) rendered for where it is deployed: JSON,
//! YAML for CloudFormation (`PolicyDocument:`), or a Terraform
//! `aws_iam_policy_document` data block.
//!
//! The renderers take any policy document, including the conditions and
//! principals that `policy tighten` keeps, and never reorder statements.

use serde_json::Value;
use std::fmt::Write as _;

/// Output formats of `policy write` / `policy tighten`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Render {
    /// Pretty JSON (two-space indent).
    Json,
    /// One line of JSON.
    JsonCompact,
    /// YAML, every string single-quoted (so `'2012-10-17'` stays a string).
    Yaml,
    /// A Terraform `data "aws_iam_policy_document"` block.
    Terraform,
}

/// The document as text in `format`, ending with a newline. `name` is the
/// Terraform data source label (sanitized; `policy` when empty).
pub fn render(policy: &Value, format: Render, name: &str) -> String {
    match format {
        Render::Json => {
            let mut s = serde_json::to_string_pretty(policy).expect("a JSON value serializes");
            s.push('\n');
            s
        }
        Render::JsonCompact => {
            let mut s = serde_json::to_string(policy).expect("a JSON value serializes");
            s.push('\n');
            s
        }
        Render::Yaml => {
            let mut s = String::new();
            yaml_value(&mut s, policy, 0, false);
            if !s.ends_with('\n') {
                s.push('\n');
            }
            s
        }
        Render::Terraform => terraform(policy, name),
    }
}

// ---------------------------------------------------------------------------
// YAML
// ---------------------------------------------------------------------------

fn yaml_quote(s: &str) -> String {
    // Single-quoted scalars only escape `'`; line breaks would fold, so a
    // string holding one is written double-quoted with JSON escapes (a
    // subset of YAML's double-quoted escapes).
    if s.contains(['\n', '\r', '\t']) || s.chars().any(char::is_control) {
        serde_json::to_string(s).expect("a string serializes")
    } else {
        format!("'{}'", s.replace('\'', "''"))
    }
}

fn yaml_key(k: &str) -> String {
    let plain = !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && k.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && !matches!(
            k.to_ascii_lowercase().as_str(),
            "y" | "n" | "yes" | "no" | "on" | "off" | "true" | "false" | "null"
        );
    if plain {
        k.to_string()
    } else {
        yaml_quote(k)
    }
}

fn yaml_scalar(v: &Value) -> Option<String> {
    match v {
        Value::Null => Some("null".into()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) => Some(yaml_quote(s)),
        Value::Array(a) if a.is_empty() => Some("[]".into()),
        Value::Object(o) if o.is_empty() => Some("{}".into()),
        _ => None,
    }
}

/// Writes `v` at `indent`. `inline` means the cursor is already after a
/// `- ` at that indent, so the first line needs no indentation.
fn yaml_value(out: &mut String, v: &Value, indent: usize, inline: bool) {
    let pad = " ".repeat(indent);
    match v {
        Value::Object(o) if !o.is_empty() => {
            for (i, (k, val)) in o.iter().enumerate() {
                if !(inline && i == 0) {
                    out.push_str(&pad);
                }
                out.push_str(&yaml_key(k));
                out.push(':');
                match yaml_scalar(val) {
                    Some(s) => {
                        out.push(' ');
                        out.push_str(&s);
                        out.push('\n');
                    }
                    None => {
                        out.push('\n');
                        // Sequences under a key sit at the key's indent, as
                        // CloudFormation's own examples write them.
                        let child = if val.is_array() { indent } else { indent + 2 };
                        yaml_value(out, val, child, false);
                    }
                }
            }
        }
        Value::Array(a) if !a.is_empty() => {
            for (i, item) in a.iter().enumerate() {
                if !(inline && i == 0) {
                    out.push_str(&pad);
                }
                out.push_str("- ");
                match yaml_scalar(item) {
                    Some(s) => {
                        out.push_str(&s);
                        out.push('\n');
                    }
                    None => yaml_value(out, item, indent + 2, true),
                }
            }
        }
        other => {
            if !inline {
                out.push_str(&pad);
            }
            out.push_str(&yaml_scalar(other).unwrap_or_default());
            out.push('\n');
        }
    }
}

// ---------------------------------------------------------------------------
// Terraform
// ---------------------------------------------------------------------------

/// A Terraform (HCL) string literal: `${` and `%{` would start
/// interpolations, so IAM policy variables come out as `$${aws:username}`.
fn hcl_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '$' | '%' if chars.peek() == Some(&'{') => {
                out.push(c);
                out.push(c);
            }
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn hcl_scalar(v: &Value) -> String {
    match v {
        Value::String(s) => hcl_string(s),
        Value::Bool(b) => hcl_string(&b.to_string()),
        Value::Number(n) => hcl_string(&n.to_string()),
        Value::Null => "null".into(),
        other => hcl_string(&other.to_string()),
    }
}

fn hcl_list(v: &Value) -> String {
    let items: Vec<String> = match v {
        Value::Array(a) => a.iter().map(hcl_scalar).collect(),
        other => vec![hcl_scalar(other)],
    };
    format!("[{}]", items.join(", "))
}

fn tf_label(name: &str) -> String {
    let mut s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if !s.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        s.insert(0, '_');
    }
    if s == "_" {
        "policy".into()
    } else {
        s
    }
}

fn tf_principals(out: &mut String, block: &str, v: &Value) {
    match v {
        Value::String(s) if s == "*" => {
            let _ = writeln!(
                out,
                "    {block} {{\n      type        = \"*\"\n      identifiers = [\"*\"]\n    }}"
            );
        }
        Value::Object(o) => {
            for (ty, ids) in o {
                let _ = writeln!(
                    out,
                    "    {block} {{\n      type        = {}\n      identifiers = {}\n    }}",
                    hcl_string(ty),
                    hcl_list(ids)
                );
            }
        }
        other => {
            let _ = writeln!(
                out,
                "    {block} {{\n      type        = \"AWS\"\n      identifiers = {}\n    }}",
                hcl_list(other)
            );
        }
    }
}

fn terraform(policy: &Value, name: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "data \"aws_iam_policy_document\" \"{}\" {{",
        tf_label(name)
    );
    if let Some(v) = policy.get("Version").and_then(Value::as_str) {
        let _ = writeln!(out, "  version = {}", hcl_string(v));
    }
    if let Some(id) = policy.get("Id").and_then(Value::as_str) {
        let _ = writeln!(out, "  policy_id = {}", hcl_string(id));
    }
    let stmts: Vec<&Value> = match policy.get("Statement") {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(v @ Value::Object(_)) => vec![v],
        _ => Vec::new(),
    };
    for st in stmts {
        out.push_str("\n  statement {\n");
        let fields = [
            ("Sid", "sid", false),
            ("Effect", "effect", false),
            ("Action", "actions", true),
            ("NotAction", "not_actions", true),
            ("Resource", "resources", true),
            ("NotResource", "not_resources", true),
        ];
        // Aligned as `terraform fmt` aligns them.
        let attrs: Vec<(&str, String)> = fields
            .iter()
            .filter_map(|(key, attr, list)| {
                st.get(*key)
                    .map(|v| (*attr, if *list { hcl_list(v) } else { hcl_scalar(v) }))
            })
            .collect();
        let width = attrs.iter().map(|(a, _)| a.len()).max().unwrap_or(0);
        for (attr, val) in attrs {
            let _ = writeln!(out, "    {attr:<width$} = {val}");
        }
        if let Some(p) = st.get("Principal") {
            tf_principals(&mut out, "principals", p);
        }
        if let Some(p) = st.get("NotPrincipal") {
            tf_principals(&mut out, "not_principals", p);
        }
        if let Some(Value::Object(ops)) = st.get("Condition") {
            for (op, keys) in ops {
                if let Value::Object(keys) = keys {
                    for (key, values) in keys {
                        let _ = writeln!(
                            out,
                            "    condition {{\n      test     = {}\n      variable = {}\n      values   = {}\n    }}",
                            hcl_string(op),
                            hcl_string(key),
                            hcl_list(values)
                        );
                    }
                }
            }
        }
        out.push_str("  }\n");
    }
    out.push_str("}\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample() -> Value {
        json!({
            "Version": "2012-10-17",
            "Statement": [
                {"Sid": "S3Bucket", "Effect": "Allow", "Action": ["s3:ListBucket"],
                 "Resource": "arn:aws:s3:::b"},
                {"Sid": "Home", "Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"],
                 "Resource": ["arn:aws:s3:::b/home/${aws:username}/*"],
                 "Condition": {"Bool": {"aws:SecureTransport": true}}}
            ]
        })
    }

    #[test]
    fn yaml_round_trips_through_a_yaml_parser() {
        let text = render(&sample(), Render::Yaml, "");
        let back: Value = serde_norway::from_str(&text).unwrap();
        assert_eq!(back, sample(), "{text}");
        assert!(text.starts_with("Version: '2012-10-17'\nStatement:\n- Sid: 'S3Bucket'\n"));
    }

    #[test]
    fn yaml_quotes_awkward_strings() {
        let v = json!({"a:b": ["it's", "line\nbreak", "yes", ""], "no": {}});
        let text = render(&v, Render::Yaml, "");
        let back: Value = serde_norway::from_str(&text).unwrap();
        assert_eq!(back, v, "{text}");
    }

    #[test]
    fn terraform_escapes_policy_variables() {
        let text = render(&sample(), Render::Terraform, "my role");
        assert!(text.starts_with(
            "data \"aws_iam_policy_document\" \"my_role\" {\n  version = \"2012-10-17\"\n"
        ));
        assert!(text.contains("resources = [\"arn:aws:s3:::b/home/$${aws:username}/*\"]"));
        assert!(text.contains(
            "    condition {\n      test     = \"Bool\"\n      variable = \"aws:SecureTransport\"\n      values   = [\"true\"]\n    }\n"
        ));
        assert!(text.contains("    actions   = [\"s3:ListBucket\"]\n"));
        assert_eq!(text.matches("statement {").count(), 2);
    }

    #[test]
    fn hcl_strings() {
        assert_eq!(hcl_string(r#"a"b\c"#), r#""a\"b\\c""#);
        assert_eq!(hcl_string("%{x} ${y} $z"), "\"%%{x} $${y} $z\"");
        assert_eq!(tf_label("9lives"), "_9lives");
        assert_eq!(tf_label(""), "policy");
    }
}
