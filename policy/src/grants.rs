//! Which actions a policy could grant: the `Action` / `NotAction`
//! patterns of its Allow statements (`iamref diff --since-policy`).
//! Deliberately minimal: resources, conditions and Deny statements are
//! ignored; this answers "which actions could it grant", not "what does
//! it allow" (that is [`crate::simulate`]).

use crate::names::wildcard_match;
use serde_json::Value;

/// The Action and NotAction patterns of a policy's Allow statements.
#[derive(Debug, Default)]
pub struct Grants {
    /// Per statement: (patterns, is NotAction).
    statements: Vec<(Vec<String>, bool)>,
}

impl Grants {
    /// Does some Allow statement grant `action` (`prefix:Name`)?
    pub fn grants(&self, action: &str) -> bool {
        self.statements.iter().any(|(patterns, not)| {
            let hit = patterns.iter().any(|p| wildcard_match(p, action));
            hit != *not
        })
    }
}

/// Why a document gives no grants; each names the document.
#[derive(Debug, thiserror::Error)]
pub enum GrantsError {
    #[error("{name}: not a JSON policy (line {line}, column {column}: {message})")]
    NotJson {
        name: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{0}: no \"Statement\" (an object or a list of objects)")]
    NoStatement(String),
    /// `at`: `statement N, Action` or `NotAction`.
    #[error("{name}: {at}: expected strings, found {found}")]
    NotStrings {
        name: String,
        at: String,
        found: String,
    },
    #[error("{name}: {at}: expected a string or a list of strings, found {found}")]
    NotStringOrList {
        name: String,
        at: String,
        found: String,
    },
    #[error("{0}: no Allow statement with Action or NotAction, so the policy grants no action")]
    NoAllow(String),
}

/// Read the Allow statements' `Action` / `NotAction` strings of an IAM
/// policy document named `name`.
pub fn granted_patterns(name: &str, text: &str) -> Result<Grants, GrantsError> {
    let doc: Value = serde_json::from_str(text).map_err(|e| GrantsError::NotJson {
        name: name.into(),
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    })?;
    let statements = match doc.get("Statement") {
        Some(Value::Array(a)) => a.iter().collect::<Vec<_>>(),
        Some(s @ Value::Object(_)) => vec![s],
        _ => return Err(GrantsError::NoStatement(name.into())),
    };
    let strings = |v: &Value, at: &str| -> Result<Vec<String>, GrantsError> {
        match v {
            Value::String(s) => Ok(vec![s.clone()]),
            Value::Array(a) => a
                .iter()
                .map(|x| {
                    x.as_str()
                        .map(str::to_string)
                        .ok_or_else(|| GrantsError::NotStrings {
                            name: name.into(),
                            at: at.into(),
                            found: x.to_string(),
                        })
                })
                .collect(),
            other => Err(GrantsError::NotStringOrList {
                name: name.into(),
                at: at.into(),
                found: other.to_string(),
            }),
        }
    };
    let mut g = Grants::default();
    for (i, st) in statements.iter().enumerate() {
        let effect = st.get("Effect").and_then(Value::as_str).unwrap_or("");
        if effect != "Allow" {
            continue;
        }
        if let Some(v) = st.get("Action") {
            g.statements
                .push((strings(v, &format!("statement {i}, Action"))?, false));
        } else if let Some(v) = st.get("NotAction") {
            g.statements
                .push((strings(v, &format!("statement {i}, NotAction"))?, true));
        }
    }
    if g.statements.is_empty() {
        return Err(GrantsError::NoAllow(name.into()));
    }
    Ok(g)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_grants_follow_action_and_not_action() {
        // Constructed policies.
        let g = granted_patterns(
            "p.json",
            r#"{"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": ["s3:Get*", "ec2:DescribeInstances"], "Resource": "*"},
                {"Effect": "Deny", "Action": "iam:*", "Resource": "*"}
            ]}"#,
        )
        .unwrap();
        assert!(g.grants("s3:GetObject"));
        assert!(g.grants("S3:getobjectacl"));
        assert!(!g.grants("s3:PutObject"));
        assert!(g.grants("ec2:DescribeInstances"));
        assert!(!g.grants("iam:PassRole"));
        let g = granted_patterns(
            "p.json",
            r#"{"Statement": {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}}"#,
        )
        .unwrap();
        assert!(g.grants("s3:PutObject"));
        assert!(!g.grants("iam:PassRole"));
    }

    #[test]
    fn bad_policies_say_what_is_wrong() {
        let e = granted_patterns("p.json", "{\n  \"Statement\": [\n oops")
            .unwrap_err()
            .to_string();
        assert!(e.contains("p.json") && e.contains("line 3"), "{e}");
        let e = granted_patterns("p.json", r#"{"Version": "2012-10-17"}"#).unwrap_err();
        assert!(matches!(e, GrantsError::NoStatement(_)), "{e}");
        let e = granted_patterns(
            "p.json",
            r#"{"Statement": [{"Effect": "Allow", "Action": [1]}]}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("statement 0, Action"), "{e}");
        let e = granted_patterns(
            "p.json",
            r#"{"Statement": [{"Effect": "Deny", "Action": "*"}]}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("grants no action"), "{e}");
    }
}
