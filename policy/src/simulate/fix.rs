//! How to allow a request the simulator denied (`policy simulate`): the
//! writer's statement when an identity policy is what is missing; else
//! which policy to look at. Pure over the catalog.

use super::{Decision, PolicyType};
use crate::catalog::Catalog;
use crate::write::{write_policy, Need, Request as WriteRequest};
use serde::Serialize;
use serde_json::Value;

/// How to allow a denied request.
#[derive(Debug, Serialize, Clone, PartialEq)]
pub struct Fix {
    pub message: String,
    /// The statement `policy write` gives for this action and resource.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub statement: Option<Value>,
}

/// The fix for a denied request (`blocked`: the policy types that did not
/// allow it; `d`: the decision): `statement` gives the writer's statement
/// when one can help (called at most once, not for an explicit deny).
pub fn fix(blocked: &[PolicyType], d: Decision, statement: impl FnOnce() -> Option<Value>) -> Fix {
    let names: Vec<&str> = blocked.iter().map(|b| b.describe()).collect();
    if d == Decision::ExplicitDeny {
        return Fix {
            message: format!(
                "an explicit deny in the {}: no Allow can fix it; change or remove the Deny statement that applied",
                names.join(", and in the ")
            ),
            statement: None,
        };
    }
    if blocked != [PolicyType::Identity] {
        return Fix {
            message: format!(
                "not allowed by the {}{}",
                names.join(", nor the "),
                if blocked.contains(&PolicyType::Identity) {
                    " (an identity policy alone cannot fix this)"
                } else {
                    ": an identity policy cannot fix this"
                }
            ),
            statement: statement(),
        };
    }
    let statement = statement();
    Fix {
        message: if statement.is_some() {
            "no identity policy allows it: add this statement to one".into()
        } else {
            "no identity policy allows it".into()
        },
        statement,
    }
}

/// What `policy write` grants for the one action on the one resource
/// (none, or `*`: the action alone), never widened: its first statement,
/// `None` when the writer stops.
pub fn writer_statement(cat: &Catalog, action: &str, resource: Option<&str>) -> Option<Value> {
    let mut need = Need::new(action.to_string());
    if let Some(r) = resource.filter(|r| *r != "*") {
        need.resources.push(r.to_string());
    }
    let req = WriteRequest {
        needs: vec![need],
        ..WriteRequest::default()
    };
    let w = write_policy(cat, &req).ok()?;
    w.policy()["Statement"].as_array()?.first().cloned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::tests::small;

    #[test]
    fn an_explicit_deny_has_no_statement() {
        let mut called = false;
        let f = fix(
            &[PolicyType::Scp, PolicyType::Identity],
            Decision::ExplicitDeny,
            || {
                called = true;
                None
            },
        );
        assert!(!called);
        assert_eq!(f.statement, None);
        assert_eq!(
            f.message,
            "an explicit deny in the service control policy, and in the identity-based policy: no Allow can fix it; change or remove the Deny statement that applied"
        );
    }

    #[test]
    fn a_missing_identity_allow_gets_the_writers_statement() {
        let cat = small();
        let st = writer_statement(&cat, "s3:GetObject", Some("arn:aws:s3:::b/k")).unwrap();
        assert_eq!(st["Action"], serde_json::json!(["s3:GetObject"]));
        assert_eq!(st["Resource"], "arn:aws:s3:::b/k");
        let f = fix(&[PolicyType::Identity], Decision::ImplicitDeny, || {
            Some(st.clone())
        });
        assert_eq!(f.statement, Some(st));
        assert_eq!(
            f.message,
            "no identity policy allows it: add this statement to one"
        );
        let f = fix(&[PolicyType::Identity], Decision::ImplicitDeny, || None);
        assert_eq!(f.message, "no identity policy allows it");
        // Another layer: the statement, and that identity alone cannot fix it.
        let f = fix(&[PolicyType::Boundary], Decision::ImplicitDeny, || None);
        assert!(
            f.message.ends_with(": an identity policy cannot fix this"),
            "{}",
            f.message
        );
        let f = fix(
            &[PolicyType::Identity, PolicyType::Boundary],
            Decision::ImplicitDeny,
            || None,
        );
        assert!(
            f.message
                .ends_with("(an identity policy alone cannot fix this)"),
            "{}",
            f.message
        );
    }

    #[test]
    fn the_writer_statement_of_an_unknown_action_is_none() {
        let cat = small();
        assert_eq!(writer_statement(&cat, "s3:NoSuchAction", None), None);
        // `*` is the action alone.
        assert_eq!(
            writer_statement(&cat, "s3:ListAllMyBuckets", Some("*")),
            writer_statement(&cat, "s3:ListAllMyBuckets", None)
        );
    }
}
