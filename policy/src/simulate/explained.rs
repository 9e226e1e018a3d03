//! What `iamref explain` says about a denial ([`super::explain::parse`]'s
//! [`Denial`]): the action as the reference writes it, the resource's type
//! and ARN format ([`Catalog::resolve`]), and the fix by the policy type
//! that denied it, with the writer's statement where a policy can be
//! added to. Pure over the catalog.

use super::explain::Denial;
use super::fix::writer_statement;
use super::principal::Principal;
use super::PolicyType;
use crate::arn::{Matcher, Pattern};
use crate::catalog::Catalog;
use serde::Serialize;
use serde_json::{json, Value};

/// A denial explained (`explain`'s JSON).
#[derive(Debug, Serialize)]
pub struct Explained {
    pub principal: Option<String>,
    pub action: String,
    pub resource: Option<String>,
    pub resource_type: Option<String>,
    pub arn_format: Option<String>,
    pub policy_type: Option<PolicyType>,
    pub explicit: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy_arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub context: Vec<(String, Vec<String>)>,
    pub notes: Vec<String>,
    pub fix: Fix,
}

/// How to allow the denied call.
#[derive(Debug, Serialize)]
pub struct Fix {
    pub message: String,
    /// The statement to add, when a policy can be added to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub statement: Option<Value>,
    /// Can an identity-based policy of the principal fix it?
    pub identity_policy_can_fix: bool,
}

/// The services a denial's explanation reads: its action's and its ARN's
/// (the type an ARN resolves to is its namespace owner's), lowercase,
/// sorted, without wildcards.
pub fn catalog_prefixes(d: &Denial) -> Vec<String> {
    let mut prefixes: Vec<String> = d
        .action
        .split_once(':')
        .map(|p| p.0.to_ascii_lowercase())
        .into_iter()
        .chain(
            d.resource
                .as_deref()
                .filter(|r| r.starts_with("arn:"))
                .and_then(|r| r.split(':').nth(2))
                .map(str::to_ascii_lowercase),
        )
        .filter(|p| !p.is_empty() && !p.contains(['*', '?', '$']))
        .collect();
    prefixes.sort();
    prefixes.dedup();
    prefixes
}

/// Explain a denial over the catalog of its action's and ARN's services.
pub fn explained(cat: &Catalog, d: Denial) -> Explained {
    let mut notes = Vec::new();
    let id = cat.action_by_full_name(&d.action);
    let action = match id {
        Some(id) => cat.full_name(id),
        None => {
            notes.push(format!("the reference lists no action {}", d.action));
            d.action.clone()
        }
    };
    let (mut resource_type, mut arn_format) = (None, None);
    if let Some(pat) = d.resource.as_deref().and_then(|r| Pattern::parse(r).ok()) {
        let mut m = Matcher::new();
        let resolved = cat.resolve(&mut m, &pat);
        // The action's own type first, else the best answer.
        let pick = resolved
            .iter()
            .find(|r| {
                id.is_some_and(|id| {
                    let (_, act) = cat.get(id);
                    let rt = &cat.service_at(r.service).resource_types[r.resource_type as usize];
                    r.service == id.service
                        && act
                            .resource_types
                            .iter()
                            .any(|a| a.name.eq_ignore_ascii_case(&rt.name))
                })
            })
            .or(resolved.first());
        if let Some(r) = pick {
            let svc = cat.service_at(r.service);
            let rt = &svc.resource_types[r.resource_type as usize];
            resource_type = Some(format!("{}:{}", svc.prefix, rt.name));
            arn_format = cat
                .formats(r.service, r.resource_type)
                .get(r.format as usize)
                .map(|f| f.as_str().to_string());
        }
    }
    let fix = fix(cat, &d, &action);
    Explained {
        principal: d.principal,
        action,
        resource: d.resource,
        resource_type,
        arn_format,
        policy_type: d.policy_type,
        explicit: d.explicit,
        policy_arn: d.policy_arn,
        operation: d.operation,
        context: d.context,
        notes,
        fix,
    }
}

/// The fix for a denial, by the policy type that denied it.
fn fix(cat: &Catalog, d: &Denial, action: &str) -> Fix {
    let who = d.principal.as_deref().unwrap_or("the principal");
    let at = d
        .policy_arn
        .as_deref()
        .map(|a| format!(" ({a})"))
        .unwrap_or_default();
    let no = |message: String| Fix {
        message,
        statement: None,
        identity_policy_can_fix: false,
    };
    if d.explicit {
        let ty = d.policy_type.map_or("a policy".to_string(), with_article);
        let where_ = match d.policy_type {
            Some(PolicyType::Scp) => "the organization's SCPs attached to the account, its OUs or the root (ask the organization's administrators)",
            Some(PolicyType::Rcp) => "the organization's RCPs attached to the resource's account, its OUs or the root",
            Some(PolicyType::Identity) => "the policies attached to the principal, its groups or the role",
            Some(PolicyType::Resource) => "the resource's own policy (bucket, key, queue, topic, secret policy…)",
            Some(PolicyType::Boundary) => "the permissions boundary set on the user or role",
            Some(PolicyType::Session) => "the session policy passed when the session was created",
            Some(PolicyType::Endpoint) => "the policy of the VPC endpoint the request went through",
            None => "every policy that applies",
        };
        return no(format!(
            "an explicit deny in {ty}{at}: no Allow, in an identity policy or anywhere, can fix it; change that Deny statement (or its conditions) in {where_}"
        ));
    }
    let stmt = || writer_statement(cat, action, d.resource.as_deref());
    match d.policy_type {
        Some(PolicyType::Identity) => {
            let statement = stmt();
            Fix {
                message: format!(
                    "no identity-based policy of {who} allows {action}: add {} to one",
                    if statement.is_some() { "this statement" } else { "a statement allowing it" }
                ),
                statement,
                identity_policy_can_fix: true,
            }
        }
        Some(PolicyType::Resource) => {
            // The resource's policy must name the principal (a session by
            // its role).
            let principal = d
                .principal
                .as_deref()
                .map(|p| Principal::parse(p).principal_arn().unwrap_or_else(|| p.to_string()));
            let statement = stmt().map(|mut s| {
                if let (Some(p), Some(obj)) = (&principal, s.as_object_mut()) {
                    let mut m = serde_json::Map::new();
                    for (k, v) in obj.iter() {
                        m.insert(k.clone(), v.clone());
                        if k == "Effect" {
                            m.insert("Principal".into(), json!({ "AWS": p }));
                        }
                    }
                    *obj = m;
                }
                s
            });
            Fix {
                message: format!(
                    "no resource-based policy allows {action}: across accounts the resource's policy must allow {who} too; add this statement to it (an identity policy alone cannot fix this)"
                ),
                statement,
                identity_policy_can_fix: false,
            }
        }
        Some(PolicyType::Scp) => no(format!(
            "no service control policy allows {action}: an identity policy cannot fix it; every level of the organization (root, each OU, the account) must allow it (ask the organization's administrators)"
        )),
        Some(PolicyType::Rcp) => no(format!(
            "no resource control policy allows {action}: an identity policy cannot fix it; look at the RCPs of the resource's account, its OUs and the root"
        )),
        Some(PolicyType::Boundary) => Fix {
            message: format!(
                "the permissions boundary of {who} does not allow {action}: an identity policy cannot fix it; the boundary must allow it too (this statement, in the boundary policy)"
            ),
            statement: stmt(),
            identity_policy_can_fix: false,
        },
        Some(PolicyType::Session) => Fix {
            message: format!(
                "the session policy does not allow {action}: an identity policy cannot fix it; create a new session whose session policy allows it (this statement)"
            ),
            statement: stmt(),
            identity_policy_can_fix: false,
        },
        Some(PolicyType::Endpoint) => Fix {
            message: format!(
                "the VPC endpoint policy does not allow {action}: an identity policy cannot fix it; the endpoint's policy must allow it (this statement, with a Principal)"
            ),
            statement: stmt(),
            identity_policy_can_fix: false,
        },
        None => Fix {
            message: format!(
                "the message does not say which policy denied it; if no identity policy allows {action}, add this statement (run `iamref policy simulate` with the policies in play to find out)"
            ),
            statement: stmt(),
            identity_policy_can_fix: true,
        },
    }
}

/// `an identity-based policy`, `a service control policy`.
pub fn with_article(t: PolicyType) -> String {
    let d = t.describe();
    let article = if d.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {d}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::tests::small;
    use crate::simulate::explain::parse;

    /// Constructed messages in AWS's documented shape (not captured).
    const U: &str = "arn:aws:iam::111122223333:user/u";

    fn denial(action: &str, resource: &str, reason: &str) -> Denial {
        parse(&format!(
            "User: {U} is not authorized to perform: {action} on resource: {resource} {reason}"
        ))
        .unwrap()
    }

    #[test]
    fn a_missing_identity_allow_names_the_type_and_the_statement() {
        let cat = small();
        let d = denial(
            "S3:getobject",
            "arn:aws:s3:::b/k",
            "because no identity-based policy allows the s3:GetObject action",
        );
        let e = explained(&cat, d);
        // The action as the reference writes it.
        assert_eq!(e.action, "s3:GetObject");
        assert_eq!(e.resource_type.as_deref(), Some("s3:object"));
        assert_eq!(
            e.arn_format.as_deref(),
            Some("arn:${Partition}:s3:::${BucketName}/${ObjectName}")
        );
        assert!(e.notes.is_empty(), "{:?}", e.notes);
        assert!(e.fix.identity_policy_can_fix);
        assert_eq!(
            e.fix.statement,
            writer_statement(&cat, "s3:GetObject", Some("arn:aws:s3:::b/k"))
        );
        assert!(e.fix.message.starts_with(&format!(
            "no identity-based policy of {U} allows s3:GetObject: add this statement"
        )));
    }

    #[test]
    fn a_resource_policy_fix_names_the_principal() {
        let cat = small();
        let d = denial(
            "s3:GetObject",
            "arn:aws:s3:::b/k",
            "because no resource-based policy allows the s3:GetObject action",
        );
        let e = explained(&cat, d);
        assert!(!e.fix.identity_policy_can_fix);
        let st = e.fix.statement.unwrap();
        assert_eq!(st["Principal"], json!({ "AWS": U }));
        // Right after Effect, as a policy is written.
        let keys: Vec<&String> = st.as_object().unwrap().keys().collect();
        let at = keys.iter().position(|k| *k == "Effect").unwrap();
        assert_eq!(keys[at + 1], "Principal");
    }

    #[test]
    fn an_explicit_deny_has_no_statement_and_an_unknown_action_a_note() {
        let cat = small();
        let d = denial(
            "s3:NoSuch",
            "arn:aws:s3:::b",
            "with an explicit deny in a service control policy",
        );
        let e = explained(&cat, d);
        assert_eq!(e.action, "s3:NoSuch");
        assert_eq!(e.notes, ["the reference lists no action s3:NoSuch"]);
        assert_eq!(e.fix.statement, None);
        assert!(!e.fix.identity_policy_can_fix);
        assert!(
            e.fix
                .message
                .starts_with("an explicit deny in a service control policy"),
            "{}",
            e.fix.message
        );
    }

    #[test]
    fn the_catalog_holds_the_actions_and_the_arns_services() {
        let d = denial(
            "S3:GetObject",
            "arn:aws:kms:us-east-1:111122223333:key/k",
            "",
        );
        assert_eq!(catalog_prefixes(&d), ["kms", "s3"]);
        let d = denial("s3:GetObject", "arn:aws:s3:::b/k", "");
        assert_eq!(catalog_prefixes(&d), ["s3"]);
        let d = denial("s3:GetObject", "arn:aws:s*:::b", "");
        assert_eq!(catalog_prefixes(&d), ["s3"]);
    }

    #[test]
    fn articles() {
        assert_eq!(
            with_article(PolicyType::Identity),
            "an identity-based policy"
        );
        assert_eq!(with_article(PolicyType::Scp), "a service control policy");
    }
}
