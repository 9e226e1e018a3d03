//! What kind of policy a document is (identity, resource-based, trust,
//! SCP, RCP, permissions boundary, session, VPC endpoint), and the rules
//! each kind has that the others do not: which characters a Sid may hold,
//! which elements a statement must or must not have, which actions a trust
//! policy allows, the federated providers' keys, and the size quotas.
//!
//! The kind is detected from the document's shape and the file's name
//! ([`PolicyKind::detect`]); `policy check --kind` overrides it.

use crate::document::{finding, Policy, Statement};
use crate::finding::Finding;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PolicyKind {
    Identity,
    Resource,
    Trust,
    Scp,
    Rcp,
    Boundary,
    Session,
    Endpoint,
}

impl PolicyKind {
    pub const ALL: [PolicyKind; 8] = [
        PolicyKind::Identity,
        PolicyKind::Resource,
        PolicyKind::Trust,
        PolicyKind::Scp,
        PolicyKind::Rcp,
        PolicyKind::Boundary,
        PolicyKind::Session,
        PolicyKind::Endpoint,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            PolicyKind::Identity => "identity",
            PolicyKind::Resource => "resource",
            PolicyKind::Trust => "trust",
            PolicyKind::Scp => "scp",
            PolicyKind::Rcp => "rcp",
            PolicyKind::Boundary => "boundary",
            PolicyKind::Session => "session",
            PolicyKind::Endpoint => "endpoint",
        }
    }
    pub fn parse(s: &str) -> Option<PolicyKind> {
        PolicyKind::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(s))
    }

    /// The kind of `policy`, read from its shape and, when given, the
    /// file's name (`trust.json`, `org-scp.json`, `bucket-policy.json`):
    /// a name word picks SCP, RCP, boundary, session, endpoint, trust or
    /// resource; else statements with a Principal make a trust policy
    /// (only `sts:AssumeRole*`, `sts:TagSession`, `sts:SetSourceIdentity`
    /// actions, no Resource) or a resource-based one; else identity.
    pub fn detect(policy: &Policy, file_name: Option<&str>) -> PolicyKind {
        if let Some(name) = file_name {
            let stem = name
                .rsplit(['/', '\\'])
                .next()
                .unwrap_or(name)
                .to_ascii_lowercase();
            let words: Vec<&str> = stem.split(|c: char| !c.is_ascii_alphanumeric()).collect();
            let has = |w: &str| words.contains(&w);
            let by_name = [
                ("scp", PolicyKind::Scp),
                ("rcp", PolicyKind::Rcp),
                ("boundary", PolicyKind::Boundary),
                ("session", PolicyKind::Session),
                ("endpoint", PolicyKind::Endpoint),
                ("vpce", PolicyKind::Endpoint),
                ("trust", PolicyKind::Trust),
                ("identity", PolicyKind::Identity),
                ("assume", PolicyKind::Trust),
            ];
            if let Some((_, k)) = by_name.iter().find(|(w, _)| has(w)) {
                return *k;
            }
        }
        let with_principal: Vec<&Statement> = policy
            .statements
            .iter()
            .filter(|s| s.principal.is_some() || s.not_principal.is_some())
            .collect();
        if with_principal.is_empty() {
            return PolicyKind::Identity;
        }
        let trust_only = policy.statements.iter().all(|s| {
            s.resource.is_none()
                && s.not_resource.is_none()
                && s.action.as_ref().is_some_and(|a| {
                    !a.items.is_empty() && a.items.iter().all(|i| trust_action(&i.value))
                })
        });
        if trust_only {
            PolicyKind::Trust
        } else {
            PolicyKind::Resource
        }
    }

    /// Does IAM itself validate the document (Sids of letters and digits)?
    /// Resource-based policies of other services (KMS, SNS, SQS, S3,
    /// Lambda), endpoint policies, SCPs and RCPs accept other characters.
    pub fn iam_validated(self) -> bool {
        matches!(
            self,
            PolicyKind::Identity | PolicyKind::Boundary | PolicyKind::Session | PolicyKind::Trust
        )
    }
}

/// The actions a trust policy may allow.
pub fn trust_action(a: &str) -> bool {
    let a = a.to_ascii_lowercase();
    a.starts_with("sts:assumerole")
        || matches!(
            a.as_str(),
            "sts:tagsession" | "sts:setsourceidentity" | "sts:setcontext" | "sts:*"
        )
}

/// The services RCPs apply to (AWS Organizations User Guide, "Resource
/// control policies (RCPs)", list of supported services, 2026).
pub const RCP_SERVICES: &[&str] = &[
    "s3",
    "sts",
    "kms",
    "sqs",
    "secretsmanager",
    "ecr",
    "aoss",
    "cognito-idp",
    "logs",
    "dynamodb",
];

/// Size quotas, in characters as IAM counts them (white space outside
/// strings excluded): (kinds, limit, what it is). IAM User Guide, "IAM and
/// AWS STS quotas"; AWS Organizations User Guide, "Quotas".
pub const QUOTAS: &[(PolicyKind, usize, &str)] = &[
    (
        PolicyKind::Identity,
        6_144,
        "a managed policy (inline: user 2,048, group 5,120, role 10,240)",
    ),
    (
        PolicyKind::Boundary,
        6_144,
        "a managed policy (a permissions boundary is one)",
    ),
    (
        PolicyKind::Trust,
        2_048,
        "a role trust policy (raised on request up to 8,192)",
    ),
    (PolicyKind::Scp, 5_120, "a service control policy"),
    (PolicyKind::Rcp, 5_120, "a resource control policy"),
    (
        PolicyKind::Resource,
        20_480,
        "an S3 bucket policy (KMS key policies: 32,768)",
    ),
];

/// The kind's structural rules, as findings.
pub fn rules(policy: &Policy, kind: PolicyKind, out: &mut Vec<Finding>) {
    for st in &policy.statements {
        if let Some(sid) = &st.sid {
            let s = &sid.value;
            if kind.iam_validated() && !s.chars().all(|c| c.is_ascii_alphanumeric()) {
                out.push(finding(
                    "invalid-sid",
                    Some(st),
                    sid.at,
                    Vec::new(),
                    format!(
                        "Sid {s:?} may hold only letters A-Z, a-z and digits 0-9 in {} policies",
                        kind.as_str()
                    ),
                    Some(format!(
                        "\"Sid\": {:?}",
                        s.chars()
                            .filter(char::is_ascii_alphanumeric)
                            .collect::<String>()
                    )),
                ));
            }
        }
        let has_principal = st.principal.is_some() || st.not_principal.is_some();
        let principal_at = st.principal.or(st.not_principal).unwrap_or(st.at);
        match kind {
            PolicyKind::Identity | PolicyKind::Boundary | PolicyKind::Session if has_principal => {
                out.push(finding(
                    "principal-not-allowed",
                    Some(st),
                    principal_at,
                    Vec::new(),
                    format!("a {} policy names no Principal (it applies to whoever it is attached to); IAM rejects the policy", kind.as_str()),
                    Some("remove Principal, or check the policy as --kind resource".into()),
                ));
            }
            PolicyKind::Scp if has_principal => out.push(finding(
                "principal-not-allowed",
                Some(st),
                principal_at,
                Vec::new(),
                "SCPs do not support Principal or NotPrincipal; AWS Organizations rejects the policy".into(),
                Some("limit principals with a condition on aws:PrincipalArn".into()),
            )),
            PolicyKind::Rcp => {
                let star = st.principal.is_some()
                    && st.principals.iter().all(|p| p.value.value == "*" && (p.kind == "*" || p.kind == "AWS"));
                if !star {
                    out.push(finding(
                        "principal-not-allowed",
                        Some(st),
                        principal_at,
                        Vec::new(),
                        "an RCP statement's Principal must be \"*\" (limit principals with conditions); AWS Organizations rejects the policy".into(),
                        Some("\"Principal\": \"*\" with a condition on aws:PrincipalOrgID or aws:PrincipalArn".into()),
                    ));
                }
                if st.is_allow() {
                    out.push(finding(
                        "rcp-allow",
                        Some(st),
                        st.effect.as_ref().map(|e| e.at).unwrap_or(st.at),
                        Vec::new(),
                        "only AWS's RCPFullAWSAccess may Allow in an RCP; a custom RCP denies".into(),
                        Some("\"Effect\": \"Deny\"".into()),
                    ));
                }
                for a in st.action.iter().chain(&st.not_action).flat_map(|e| &e.items) {
                    let prefix = a.value.split(':').next().unwrap_or("").to_ascii_lowercase();
                    if prefix != "*" && !prefix.contains(['*', '?']) && !RCP_SERVICES.contains(&prefix.as_str()) {
                        out.push(finding(
                            "rcp-unsupported-service",
                            Some(st),
                            a.at,
                            vec![a.value.clone()],
                            format!("RCPs do not apply to {prefix}: this statement has no effect on its actions (RCPs apply to {})", RCP_SERVICES.join(", ")),
                            None,
                        ));
                    }
                }
            }
            PolicyKind::Resource | PolicyKind::Trust if !has_principal => out.push(finding(
                "missing-principal",
                Some(st),
                st.at,
                Vec::new(),
                format!("a {} policy statement must name a Principal; the service rejects the policy", if kind == PolicyKind::Trust { "trust" } else { "resource-based" }),
                None,
            )),
            _ => {}
        }
        let has_resource = st.resource.is_some() || st.not_resource.is_some();
        if kind == PolicyKind::Trust {
            if let Some(r) = st.resource.as_ref().or(st.not_resource.as_ref()) {
                out.push(finding(
                    "trust-resource",
                    Some(st),
                    r.at,
                    Vec::new(),
                    "a trust policy has no Resource (the role is the resource); IAM rejects the policy".into(),
                    Some("remove Resource".into()),
                ));
            }
            for a in st.action.iter().flat_map(|e| &e.items) {
                if !trust_action(&a.value) {
                    out.push(finding(
                        "trust-action",
                        Some(st),
                        a.at,
                        vec![a.value.clone()],
                        format!("{} is not an action a trust policy can allow (sts:AssumeRole*, sts:TagSession, sts:SetSourceIdentity, sts:SetContext)", a.value),
                        None,
                    ));
                }
            }
        } else if has_principal && !has_resource && kind != PolicyKind::Identity {
            out.push(finding(
                "missing-resource",
                Some(st),
                st.at,
                Vec::new(),
                "the statement has neither Resource nor NotResource".into(),
                Some("add \"Resource\" with the ARNs it applies to".into()),
            ));
        }
    }
    if policy.size > 0 {
        if let Some((_, limit, what)) = QUOTAS.iter().find(|(k, _, _)| *k == kind) {
            let hard = match kind {
                PolicyKind::Identity => 10_240,
                PolicyKind::Trust => 8_192,
                _ => *limit,
            };
            if policy.size > *limit {
                out.push(Finding {
                    severity: if policy.size > hard {
                        crate::finding::Severity::Error
                    } else {
                        crate::finding::Severity::Warning
                    },
                    ..finding(
                        "policy-too-large",
                        None,
                        crate::finding::Location { line: 1, column: 1 },
                        Vec::new(),
                        format!(
                            "{} characters (white space outside strings not counted); the quota for {what} is {limit}",
                            policy.size
                        ),
                        Some(if kind == PolicyKind::Identity {
                            "split it into several policies (`iamref policy tighten FILE --split PREFIX` writes PREFIX-1.json, ... each under the quota), or use an inline role policy (10,240)".into()
                        } else {
                            "split it into several policies, each under the quota".into()
                        }),
                    )
                });
            }
        }
    }
}

/// Keys that limit who a public (`"*"`) principal is: a condition on one
/// of them, with a positive operator, makes a `"*"` grant non-public.
const LIMITING_KEYS: &[&str] = &[
    "aws:sourcearn",
    "aws:sourceaccount",
    "aws:sourceowner",
    "aws:sourceorgid",
    "aws:sourceorgpaths",
    "aws:principalorgid",
    "aws:principalorgpaths",
    "aws:principalaccount",
    "aws:principalarn",
    "aws:principalservicename",
    "aws:sourcevpce",
    "aws:sourcevpc",
    "aws:sourceip",
    "aws:userid",
    "aws:calledvia",
    "kms:calleraccount",
    "kms:viaservice",
    "s3:dataaccesspointaccount",
    "s3:dataaccesspointarn",
    "lambda:functionarn",
    "cognito-identity.amazonaws.com:aud",
];

fn limited(st: &Statement) -> bool {
    st.conditions.iter().any(|c| {
        let op = crate::conditions::parse_operator(&c.operator.value);
        let positive = op.as_ref().is_ok_and(|o| !o.negated && !o.is_null());
        positive && LIMITING_KEYS.contains(&c.key.value.to_ascii_lowercase().as_str())
    })
}

fn has_key(st: &Statement, key: &str) -> bool {
    st.conditions
        .iter()
        .any(|c| c.key.value.eq_ignore_ascii_case(key))
}

/// Who a statement lets in: public principals, NotPrincipal, federated
/// trusts without their provider's identifying keys, other accounts
/// without an external id.
pub fn principal_risks(policy: &Policy, kind: PolicyKind, out: &mut Vec<Finding>) {
    for st in policy.statements.iter().filter(|s| s.is_allow()) {
        if let Some(at) = st.not_principal {
            out.push(finding(
                "allow-not-principal",
                Some(st),
                at,
                Vec::new(),
                "Allow with NotPrincipal allows every principal not listed, anonymous ones included".into(),
                Some("list the principals in Principal".into()),
            ));
            continue;
        }
        let Some(at) = st.principal else { continue };
        let public = st
            .principals
            .iter()
            .any(|p| p.value.value == "*" && (p.kind == "*" || p.kind == "AWS"));
        if public && !limited(st) && kind != PolicyKind::Rcp {
            out.push(finding(
                "public-principal",
                Some(st),
                at,
                Vec::new(),
                "Principal \"*\" with no condition limiting who (aws:SourceArn, aws:SourceAccount, aws:PrincipalOrgID, aws:SourceVpce, …): anyone, in any account, is allowed".into(),
                Some("add a condition on aws:PrincipalOrgID, aws:SourceAccount or aws:SourceArn, or name the principals".into()),
            ));
        }
        if kind != PolicyKind::Trust {
            continue;
        }
        for p in st.principals.iter().filter(|p| p.kind == "Federated") {
            let v = p.value.value.to_ascii_lowercase();
            // The keys that say which identities of the provider may assume
            // the role; any one of them scopes the trust.
            let (provider, keys): (String, Vec<String>) =
                if v.ends_with("oidc-provider/token.actions.githubusercontent.com") {
                    (
                        "GitHub Actions identity (any repository's workflow)".into(),
                        vec!["token.actions.githubusercontent.com:sub".into()],
                    )
                } else if v == "cognito-identity.amazonaws.com" {
                    (
                        "Amazon Cognito identity (of any identity pool)".into(),
                        vec!["cognito-identity.amazonaws.com:aud".into()],
                    )
                } else if let Some((_, host)) = v.split_once("oidc-provider/") {
                    (
                        format!("token of {host}"),
                        vec![format!("{host}:aud"), format!("{host}:sub")],
                    )
                } else {
                    continue;
                };
            if !keys.iter().any(|k| has_key(st, k)) {
                out.push(finding(
                    "web-identity-trust-unscoped",
                    Some(st),
                    p.value.at,
                    Vec::new(),
                    format!(
                        "the trust lets any {provider} assume the role: no {} condition",
                        keys.join(" or ")
                    ),
                    Some(format!(
                        "add a StringEquals or StringLike condition on {}",
                        keys[0]
                    )),
                ));
            }
        }
        let other_account = st.principals.iter().any(|p| {
            p.kind == "AWS" && p.value.value != "*" && !p.value.value.contains(":assumed-role/")
        });
        if other_account && !has_key(st, "sts:ExternalId") {
            out.push(finding(
                "cross-account-trust-without-external-id",
                Some(st),
                at,
                Vec::new(),
                "the role trusts an AWS account principal without an sts:ExternalId condition: if that account is a third party's, it can be made a confused deputy".into(),
                Some("for a third party, add \"StringEquals\": {\"sts:ExternalId\": \"…\"}".into()),
            ));
        }
    }
}
