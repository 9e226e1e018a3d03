//! AccessDenied messages read back into who, what, which resource and
//! which policy type denied it, in the shapes AWS documents ("User: P is
//! not authorized to perform: A on resource: R because no identity-based
//! policy allows the A action", "… with an explicit deny in a service
//! control policy: ARN"), inside the CLI and SDK wrappers ("An error
//! occurred (AccessDeniedException) when calling the X operation: …",
//! the Java SDK's "(Service: …; Status Code: 403; …)"), and the JSON of
//! `aws sts decode-authorization-message`.

use super::PolicyType;
use serde::Serialize;
use serde_json::Value;

/// What an AccessDenied message says.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Denial {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub principal: Option<String>,
    pub action: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// The policy type that denied it, when the message says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy_type: Option<PolicyType>,
    /// An explicit deny (else: no policy of that type allows it).
    pub explicit: bool,
    /// The denying policy's ARN, when AWS includes it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy_arn: Option<String>,
    /// From the CLI/SDK wrapper: the error code and the operation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
    /// From a decoded authorization message: the request context.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub context: Vec<(String, Vec<String>)>,
    /// From a decoded authorization message: the statements that matched.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub matched_statements: Vec<Value>,
}

/// What every shape starts from; said when nothing matches.
pub const EXPECTED: &str = "expected an AccessDenied message (\"User: ARN is not authorized to perform: ACTION [on resource: ARN] [because no … policy allows …| with an explicit deny in …]\"), optionally inside \"An error occurred (CODE) when calling the OPERATION operation: …\", or the JSON of `aws sts decode-authorization-message`";

/// The policy types as AWS's messages name them.
const NAMES: &[(&str, PolicyType)] = &[
    ("identity-based policy", PolicyType::Identity),
    ("identity-based policies", PolicyType::Identity),
    ("resource-based policy", PolicyType::Resource),
    ("resource-based policies", PolicyType::Resource),
    ("service control policy", PolicyType::Scp),
    ("service control policies", PolicyType::Scp),
    ("resource control policy", PolicyType::Rcp),
    ("resource control policies", PolicyType::Rcp),
    ("permissions boundary", PolicyType::Boundary),
    ("permissions boundaries", PolicyType::Boundary),
    ("session policy", PolicyType::Session),
    ("session policies", PolicyType::Session),
    ("vpc endpoint policy", PolicyType::Endpoint),
    ("vpc endpoint policies", PolicyType::Endpoint),
];

/// Read a message. `Err`: what was expected (and, for an encoded
/// message, how to decode it).
pub fn parse(text: &str) -> Result<Denial, String> {
    let text = text.trim();
    if text.starts_with('{') {
        return decoded(text);
    }
    if text.contains("Encoded authorization failure message:") {
        return Err("an encoded authorization failure message: decode it first with `aws sts decode-authorization-message --encoded-message …` (it needs sts:DecodeAuthorizationMessage) and pass the JSON it prints".into());
    }
    let mut d = Denial::default();
    let mut msg = text;
    // CLI / SDK wrapper: "An error occurred (Code) when calling the Op operation: …".
    if let Some(i) = msg.find("An error occurred (") {
        let rest = &msg[i + "An error occurred (".len()..];
        if let Some((code, rest)) = rest.split_once(')') {
            d.error_code = Some(code.to_string());
            let rest = rest.trim_start();
            if let Some(r) = rest.strip_prefix("when calling the ") {
                if let Some((op, r)) = r.split_once(" operation") {
                    d.operation = Some(op.to_string());
                    msg = r.trim_start_matches(':').trim_start();
                }
            } else {
                msg = rest.trim_start_matches(':').trim_start();
            }
        }
    }
    const NOT: &str = " is not authorized to perform: ";
    let Some(i) = msg.find(NOT) else {
        return Err(EXPECTED.into());
    };
    let who = msg[..i].trim();
    let who = who.rsplit_once("User: ").map_or(who, |x| x.1).trim();
    if !who.is_empty() {
        d.principal = Some(who.to_string());
    }
    let mut rest = msg[i + NOT.len()..].trim();
    // The Java SDK appends "(Service: …; Status Code: 403; …)".
    if let Some(j) = rest.find(" (Service: ") {
        rest = rest[..j].trim_end();
    }
    let rest = rest.trim_end_matches(['.', '"', '\'']);
    let (head, reason) = match (rest.find(" because "), rest.find(" with an explicit deny")) {
        (Some(a), Some(b)) => {
            let k = a.min(b);
            (&rest[..k], Some(rest[k..].trim()))
        }
        (Some(k), None) | (None, Some(k)) => (&rest[..k], Some(rest[k..].trim())),
        (None, None) => (rest, None),
    };
    let (action, resource) = match head.split_once(" on resource: ") {
        Some((a, r)) => (a.trim(), Some(r.trim().trim_matches(['"', '\'']))),
        None => (head.trim(), None),
    };
    if action.is_empty() || !action.contains(':') || action.contains(' ') {
        return Err(format!(
            "{EXPECTED}; the action {action:?} is not SERVICE:ACTION"
        ));
    }
    d.action = action.to_string();
    d.resource = resource.filter(|r| !r.is_empty()).map(str::to_string);
    if let Some(reason) = reason {
        let lower = reason.to_ascii_lowercase();
        let after = if let Some(r) = lower.strip_prefix("with an explicit deny in ") {
            d.explicit = true;
            r
        } else if let Some(r) = lower.strip_prefix("because no ") {
            r
        } else {
            lower.as_str()
        };
        let after = after
            .strip_prefix("an ")
            .or_else(|| after.strip_prefix("a "))
            .unwrap_or(after);
        let Some((name, ty)) = NAMES.iter().find(|(n, _)| after.starts_with(n)) else {
            return Err(format!(
                "{EXPECTED}; the reason {reason:?} names no policy type"
            ));
        };
        d.policy_type = Some(*ty);
        // "…: arn:aws:…" after the type name, in the original case.
        let offset = reason.len() - after.len() + name.len();
        if let Some(arn) = reason[offset..].trim_start().strip_prefix(':') {
            let arn = arn.split_whitespace().next().unwrap_or("");
            if arn.starts_with("arn:") {
                d.policy_arn = Some(arn.to_string());
            }
        }
    }
    Ok(d)
}

/// The JSON `aws sts decode-authorization-message` prints (or its
/// `DecodedMessage` string).
fn decoded(text: &str) -> Result<Denial, String> {
    let v: Value = serde_json::from_str(text).map_err(|e| {
        format!(
            "line {}, column {}: not JSON ({e}); {EXPECTED}",
            e.line(),
            e.column()
        )
    })?;
    let v = match v.get("DecodedMessage").and_then(Value::as_str) {
        Some(inner) => serde_json::from_str(inner)
            .map_err(|e| format!("DecodedMessage is not JSON ({e}); {EXPECTED}"))?,
        None => v,
    };
    let Some(ctx) = v.get("context") else {
        return Err(format!("{EXPECTED}; this JSON has no \"context\""));
    };
    let s = |x: Option<&Value>| x.and_then(Value::as_str).map(str::to_string);
    let Some(action) = s(ctx.get("action")) else {
        return Err(format!("{EXPECTED}; its context has no \"action\""));
    };
    let mut d = Denial {
        principal: s(ctx.pointer("/principal/arn")).or_else(|| s(ctx.pointer("/principal/name"))),
        action,
        resource: s(ctx.get("resource")),
        explicit: v
            .get("explicitDeny")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        ..Denial::default()
    };
    for item in ctx
        .pointer("/conditions/items")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some(key) = s(item.get("key")) else {
            continue;
        };
        let values: Vec<String> = item
            .pointer("/values/items")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|x| s(x.get("value")))
            .collect();
        d.context.push((key, values));
    }
    d.matched_statements = v
        .pointer("/matchedStatements/items")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    // A matched statement's source names the policy type it came from.
    for st in &d.matched_statements {
        let effect = s(st.get("effect")).unwrap_or_default();
        let ty = s(st.pointer("/source/type"))
            .unwrap_or_default()
            .to_ascii_lowercase();
        if d.explicit && !effect.eq_ignore_ascii_case("deny") {
            continue;
        }
        d.policy_type = match ty.as_str() {
            "iam" | "user" | "role" | "group" => Some(PolicyType::Identity),
            "resource" => Some(PolicyType::Resource),
            "organizations" | "scp" => Some(PolicyType::Scp),
            "rcp" => Some(PolicyType::Rcp),
            "boundary" | "permissionsboundary" => Some(PolicyType::Boundary),
            "session" => Some(PolicyType::Session),
            "vpce" | "vpcendpoint" => Some(PolicyType::Endpoint),
            _ => d.policy_type,
        };
        if let Some(arn) = s(st.pointer("/source/arn")) {
            d.policy_arn = Some(arn);
        }
        if d.policy_type.is_some() {
            break;
        }
    }
    if !d.explicit && d.policy_type.is_none() && d.matched_statements.is_empty() {
        // Denied with nothing matched: no policy allowed it.
        d.policy_type = Some(PolicyType::Identity);
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    const U: &str = "arn:aws:iam::111122223333:user/ana";

    #[test]
    fn every_documented_shape() {
        let cases: &[(&str, Option<PolicyType>, bool)] = &[
            (
                "because no identity-based policy allows the s3:GetObject action",
                Some(PolicyType::Identity),
                false,
            ),
            (
                "because no resource-based policy allows the s3:GetObject action",
                Some(PolicyType::Resource),
                false,
            ),
            (
                "because no service control policy allows the s3:GetObject action",
                Some(PolicyType::Scp),
                false,
            ),
            (
                "because no permissions boundary allows the s3:GetObject action",
                Some(PolicyType::Boundary),
                false,
            ),
            (
                "because no session policy allows the s3:GetObject action",
                Some(PolicyType::Session),
                false,
            ),
            (
                "because no VPC endpoint policy allows the s3:GetObject action",
                Some(PolicyType::Endpoint),
                false,
            ),
            (
                "with an explicit deny in a service control policy",
                Some(PolicyType::Scp),
                true,
            ),
            (
                "with an explicit deny in a resource control policy",
                Some(PolicyType::Rcp),
                true,
            ),
            (
                "with an explicit deny in an identity-based policy",
                Some(PolicyType::Identity),
                true,
            ),
            (
                "with an explicit deny in a resource-based policy",
                Some(PolicyType::Resource),
                true,
            ),
            (
                "with an explicit deny in a permissions boundary",
                Some(PolicyType::Boundary),
                true,
            ),
            (
                "with an explicit deny in a session policy",
                Some(PolicyType::Session),
                true,
            ),
            (
                "with an explicit deny in a VPC endpoint policy",
                Some(PolicyType::Endpoint),
                true,
            ),
        ];
        for (reason, ty, explicit) in cases {
            let m = format!("User: {U} is not authorized to perform: s3:GetObject on resource: arn:aws:s3:::b/k {reason}");
            let d = parse(&m).unwrap_or_else(|e| panic!("{m}: {e}"));
            assert_eq!(d.principal.as_deref(), Some(U));
            assert_eq!(d.action, "s3:GetObject");
            assert_eq!(d.resource.as_deref(), Some("arn:aws:s3:::b/k"));
            assert_eq!((d.policy_type, d.explicit), (*ty, *explicit), "{reason}");
        }
    }

    #[test]
    fn policy_arns_wrappers_and_no_resource() {
        let m = "An error occurred (AccessDeniedException) when calling the ListSecrets operation: User: arn:aws:sts::111122223333:assumed-role/App/s is not authorized to perform: secretsmanager:ListSecrets because no identity-based policy allows the secretsmanager:ListSecrets action";
        let d = parse(m).unwrap();
        assert_eq!(d.error_code.as_deref(), Some("AccessDeniedException"));
        let q = parse("User: a is not authorized to perform: s3:GetObject on resource: \"arn:aws:s3:::b/k\" because no identity-based policy allows the s3:GetObject action").unwrap();
        assert_eq!(q.resource.as_deref(), Some("arn:aws:s3:::b/k"));
        assert_eq!(d.operation.as_deref(), Some("ListSecrets"));
        assert_eq!(d.resource, None);
        assert_eq!(
            d.principal.as_deref(),
            Some("arn:aws:sts::111122223333:assumed-role/App/s")
        );
        let m = "User: arn:aws:iam::111122223333:user/ana is not authorized to perform: ec2:RunInstances on resource: arn:aws:ec2:us-east-1:111122223333:instance/* with an explicit deny in a service control policy: arn:aws:organizations::999988887777:policy/o-abc/service_control_policy/p-xyz";
        let d = parse(m).unwrap();
        assert_eq!(
            d.policy_arn.as_deref(),
            Some("arn:aws:organizations::999988887777:policy/o-abc/service_control_policy/p-xyz")
        );
        assert!(d.explicit);
        let m = "User: arn:aws:iam::111122223333:user/ana is not authorized to perform: iam:ListRoles on resource: arn:aws:iam::111122223333:role/ with an explicit deny in an identity-based policy: arn:aws:iam::111122223333:policy/NoIam.";
        let d = parse(m).unwrap();
        assert_eq!(
            d.policy_arn.as_deref(),
            Some("arn:aws:iam::111122223333:policy/NoIam")
        );
        // The Java SDK's suffix; no reason at all (older messages).
        let m = "User: arn:aws:iam::111122223333:user/ana is not authorized to perform: sqs:SendMessage on resource: arn:aws:sqs:us-east-1:111122223333:q (Service: AmazonSQS; Status Code: 403; Error Code: AccessDenied; Request ID: x)";
        let d = parse(m).unwrap();
        assert_eq!(
            d.resource.as_deref(),
            Some("arn:aws:sqs:us-east-1:111122223333:q")
        );
        assert_eq!(d.policy_type, None);
    }

    #[test]
    fn decoded_authorization_messages() {
        let inner = r#"{"allowed":false,"explicitDeny":true,"matchedStatements":{"items":[{"statementId":"NoRun","effect":"DENY","source":{"type":"IAM","arn":"arn:aws:iam::111122223333:policy/NoRun"}}]},"failures":{"items":[]},"context":{"principal":{"id":"AIDAX","name":"ana","arn":"arn:aws:iam::111122223333:user/ana"},"action":"ec2:RunInstances","resource":"arn:aws:ec2:us-east-1:111122223333:instance/*","conditions":{"items":[{"key":"ec2:InstanceType","values":{"items":[{"value":"p5.48xlarge"}]}}]}}}"#;
        for text in [
            inner.to_string(),
            serde_json::json!({"DecodedMessage": inner}).to_string(),
        ] {
            let d = parse(&text).unwrap();
            assert_eq!(d.action, "ec2:RunInstances");
            assert_eq!(
                d.principal.as_deref(),
                Some("arn:aws:iam::111122223333:user/ana")
            );
            assert!(d.explicit);
            assert_eq!(d.policy_type, Some(PolicyType::Identity));
            assert_eq!(
                d.policy_arn.as_deref(),
                Some("arn:aws:iam::111122223333:policy/NoRun")
            );
            assert_eq!(
                d.context,
                vec![(
                    "ec2:InstanceType".to_string(),
                    vec!["p5.48xlarge".to_string()]
                )]
            );
        }
    }

    #[test]
    fn unreadable_messages_say_what_was_expected() {
        for bad in [
            "Access Denied",
            "",
            "{\"a\": 1}",
            "{not json",
            "User: x is not authorized to perform: Get Object",
        ] {
            let e = parse(bad).unwrap_err();
            assert!(e.contains("expected"), "{bad}: {e}");
        }
        assert!(parse("Encoded authorization failure message: abc")
            .unwrap_err()
            .contains("decode-authorization-message"));
    }
}
