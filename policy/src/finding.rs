//! What `policy check` reports: a [`Finding`] per statement, code and
//! cause, never one per expanded action.

use serde::Serialize;

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing; nothing wrong.
    Info,
    /// Risky or suspicious: the policy does what it says, but maybe not
    /// what was meant.
    Warning,
    /// The policy does not do what it says, or is invalid.
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
    pub fn parse(s: &str) -> Option<Severity> {
        match s.to_ascii_lowercase().as_str() {
            "info" => Some(Severity::Info),
            "warning" => Some(Severity::Warning),
            "error" => Some(Severity::Error),
            _ => None,
        }
    }
}

/// A place in the policy file: 1-based line and column (in characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Default)]
pub struct Location {
    pub line: u32,
    pub column: u32,
}

/// One problem found in a policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Stable kebab-case identifier (see [`CODES`]).
    pub code: &'static str,
    pub severity: Severity,
    /// 0-based statement index; `None` for the whole document.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub statement: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// Where in the file (the element the finding is about).
    pub location: Location,
    /// The actions concerned (`s3:GetObject`), in catalog order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<String>,
    pub message: String,
    /// How to fix it, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

/// Every code `policy check` can report: code, severity, parliament's
/// equivalent (if any), and a one-line description. The README's table is
/// checked against this list.
pub const CODES: &[(&str, Severity, &str, &str)] = &[
    // Structure.
    ("malformed", Severity::Error, "MALFORMED", "an element has the wrong JSON type or shape"),
    ("duplicate-key", Severity::Error, "", "a JSON object repeats a key; which one IAM reads is undefined"),
    ("unknown-element", Severity::Error, "MALFORMED", "an element IAM does not know (a misspelled Effect, Actions, ...)"),
    ("missing-statement", Severity::Error, "MALFORMED", "the policy has no Statement"),
    ("empty-statement", Severity::Error, "MALFORMED", "a statement or an element of it is empty"),
    ("missing-effect", Severity::Error, "MALFORMED", "a statement has no Effect"),
    ("invalid-effect", Severity::Error, "MALFORMED", "Effect is neither Allow nor Deny"),
    ("missing-action", Severity::Error, "MALFORMED", "a statement has neither Action nor NotAction"),
    ("missing-resource", Severity::Error, "MALFORMED", "a statement has neither Resource nor NotResource"),
    ("action-and-not-action", Severity::Error, "MALFORMED", "a statement has both Action and NotAction"),
    ("resource-and-not-resource", Severity::Error, "MALFORMED", "a statement has both Resource and NotResource"),
    ("unknown-principal", Severity::Warning, "UNKNOWN_PRINCIPAL", "an AWS principal that is not \"*\", an account ID or an IAM ARN, or a Service that is not a service principal"),
    ("unknown-federation-source", Severity::Warning, "UNKNOWN_FEDERATION_SOURCE", "a Federated principal that is not a SAML/OIDC provider ARN or a known identity provider"),
    ("principal-and-not-principal", Severity::Error, "MALFORMED", "a statement has both Principal and NotPrincipal"),
    ("missing-version", Severity::Warning, "NO_VERSION", "no Version: policy variables are not substituted"),
    ("old-version", Severity::Warning, "OLD_VERSION", "Version 2008-10-17: policy variables are not substituted"),
    ("invalid-version", Severity::Error, "INVALID_VERSION", "Version is not 2012-10-17 or 2008-10-17"),
    ("variable-needs-version", Severity::Error, "", "a policy variable is used but the Version does not substitute it"),
    ("invalid-sid", Severity::Error, "INVALID_SID", "a Sid holds characters other than letters and digits"),
    ("duplicate-sid", Severity::Error, "DUPLICATE_SID", "two statements share a Sid"),
    // Actions.
    ("invalid-action", Severity::Error, "UNKNOWN_ACTION", "an action is not SERVICE:ACTION"),
    ("unknown-prefix", Severity::Error, "UNKNOWN_PREFIX", "no service has this prefix"),
    ("unknown-action", Severity::Error, "UNKNOWN_ACTION", "the service has no such action"),
    ("wildcard-matches-nothing", Severity::Error, "UNKNOWN_ACTION", "an action wildcard matches no action"),
    ("all-actions", Severity::Warning, "", "the statement allows every action of every service"),
    // Resources.
    ("invalid-arn", Severity::Error, "INVALID_ARN", "a Resource is not an ARN or \"*\""),
    ("invalid-partition", Severity::Error, "INVALID_ARN", "an ARN names a partition that does not exist"),
    ("invalid-region", Severity::Error, "INVALID_ARN", "an ARN names a region that does not exist (an availability zone, a typo)"),
    ("invalid-account", Severity::Error, "INVALID_ARN", "an ARN's account is not a 12-digit account ID"),
    ("resource-mismatch", Severity::Error, "RESOURCE_MISMATCH", "actions of an Allow statement that no listed Resource can name"),
    ("missing-required-resource", Severity::Error, "", "an allowed action can never succeed: no Allow statement reaches a resource type it requires"),
    ("wildcard-only-action", Severity::Error, "RESOURCE_MISMATCH", "an action that only accepts \"*\" is given specific ARNs"),
    ("secret-without-suffix", Severity::Warning, "", "a Secrets Manager secret ARN without the 6-character suffix every secret ARN ends in: it matches no secret"),
    ("principal-not-allowed", Severity::Error, "", "a Principal where the policy's kind takes none (identity, boundary, session, SCP) or an RCP Principal other than \"*\""),
    ("missing-principal", Severity::Error, "", "a resource-based or trust policy statement without Principal"),
    ("trust-resource", Severity::Error, "", "a trust policy statement with Resource: IAM rejects it"),
    ("trust-action", Severity::Error, "", "a trust policy allows an action other than sts:AssumeRole*, sts:TagSession, sts:SetSourceIdentity, sts:SetContext"),
    ("rcp-allow", Severity::Error, "", "an RCP with Effect Allow: only AWS's RCPFullAWSAccess allows"),
    ("rcp-unsupported-service", Severity::Error, "", "an RCP names actions of a service RCPs do not apply to"),
    ("policy-too-large", Severity::Warning, "", "over the size quota of the policy's kind (error past the largest any variant accepts)"),
    ("unused-resource", Severity::Warning, "", "a Resource that no action of the statement can use"),
    ("deny-matches-nothing", Severity::Warning, "", "a Deny statement whose Resources no action it names can use"),
    ("resource-star", Severity::Warning, "RESOURCE_STAR", "\"*\" for actions that support resource-level permissions"),
    // Conditions.
    ("unknown-operator", Severity::Error, "UNKNOWN_OPERATOR", "a condition operator IAM does not know"),
    ("unknown-condition-key", Severity::Error, "UNKNOWN_CONDITION_FOR_ACTION", "a condition key no service defines"),
    ("mismatched-type", Severity::Error, "MISMATCHED_TYPE", "the operator cannot compare the key's type"),
    ("mismatched-type-but-usable", Severity::Info, "MISMATCHED_TYPE_BUT_USABLE", "the operator works on the key's type, but a better one exists (StringEquals on an ARN key is a documented pattern)"),
    ("invalid-condition-value", Severity::Error, "MISMATCHED_TYPE", "a value that cannot parse as the operator's type"),
    ("set-operator-on-single-value", Severity::Warning, "", "ForAllValues/ForAnyValue on a single-valued key"),
    ("for-all-values-with-allow", Severity::Info, "", "ForAllValues in an Allow is true when the key is absent (for actions that never supply it: condition-always-matches)"),
    ("condition-never-matches", Severity::Warning, "UNKNOWN_CONDITION_FOR_ACTION", "a condition on a key no action of the statement supplies: the statement never applies to them"),
    ("condition-always-matches", Severity::Warning, "UNKNOWN_CONDITION_FOR_ACTION", "a negated, IfExists or Null condition on a key the actions never supply: it does not restrict them"),
    ("bad-pattern-for-mfa", Severity::Warning, "BAD_PATTERN_FOR_MFA", "aws:MultiFactorAuthPresent tested with Bool false, which is absent (not false) without MFA"),
    // Broad grants and risk.
    ("public-principal", Severity::Warning, "", "Principal \"*\" with no condition limiting who: anyone can"),
    ("allow-not-principal", Severity::Warning, "", "Allow with NotPrincipal allows every principal not listed"),
    ("web-identity-trust-unscoped", Severity::Warning, "", "a federated trust (GitHub OIDC, Cognito, other OIDC) without the provider's sub/aud condition"),
    ("self-rewriting-policy", Severity::Warning, "", "the policy lets the principal it allows rewrite the policy itself"),
    ("cross-account-trust-without-external-id", Severity::Info, "", "a role trusts an AWS account without sts:ExternalId (right for your own accounts, a confused-deputy risk for third parties)"),
    ("allow-not-action", Severity::Warning, "", "Allow with NotAction grants every action not listed, including future ones"),
    ("allow-not-resource", Severity::Warning, "", "Allow with NotResource grants every resource not listed"),
    ("permissions-management", Severity::Warning, "PERMISSIONS_MANAGEMENT_ACTIONS", "permissions-management actions on \"*\""),
    ("privilege-escalation", Severity::Warning, "PRIVILEGE_ESCALATION", "a known privilege-escalation combination of actions"),
    ("credentials-exposure", Severity::Warning, "CREDENTIALS_EXPOSURE", "actions that return credentials"),
];

/// The severity of a code (panics on an unknown code: a programming error).
pub fn severity_of(code: &str) -> Severity {
    CODES
        .iter()
        .find(|c| c.0 == code)
        .map(|c| c.1)
        .unwrap_or_else(|| panic!("unknown finding code {code}"))
}

/// How much a code's risk weighs, 0.1 to 10 (the scale of code scanning's
/// `security-severity`: high from 7, medium from 4): the risks that grant
/// others access rank highest, then broad grants, then the severity.
pub fn security_severity(code: &str) -> f32 {
    match code {
        "public-principal"
        | "allow-not-principal"
        | "privilege-escalation"
        | "web-identity-trust-unscoped"
        | "self-rewriting-policy" => 8.0,
        "credentials-exposure"
        | "permissions-management"
        | "allow-not-action"
        | "allow-not-resource"
        | "all-actions" => 7.0,
        _ => match CODES.iter().find(|c| c.0 == code).map(|c| c.1) {
            Some(Severity::Error) => 6.0,
            Some(Severity::Warning) => 4.0,
            Some(Severity::Info) | None => 1.0,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_a_security_severity_in_range() {
        for (code, sev, _, _) in CODES {
            let s = security_severity(code);
            assert!((0.1..=10.0).contains(&s), "{code}");
            // No code ranks below the default of its severity.
            let floor = match sev {
                Severity::Error => 6.0,
                Severity::Warning => 4.0,
                Severity::Info => 1.0,
            };
            assert!(s >= floor, "{code}");
        }
        assert_eq!(security_severity("public-principal"), 8.0);
        assert_eq!(security_severity("all-actions"), 7.0);
        assert_eq!(security_severity("resource-mismatch"), 6.0);
        assert_eq!(security_severity("resource-star"), 4.0);
        assert_eq!(security_severity("mismatched-type-but-usable"), 1.0);
    }
}
