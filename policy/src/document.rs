//! The policy document model: what a policy says, with the line and column
//! of every element, read from JSON with [`crate::json`]. Every valid shape
//! is accepted (`Statement` object or list; string or list elements;
//! identity and resource-based policies with `Principal`/`NotPrincipal`).
//! Shapes IAM rejects become findings in [`Policy::problems`], so one run
//! reports all of them; only text that is not JSON at all is an error.

use crate::finding::{severity_of, Finding, Location};
use crate::json::{self, JsonError, Node, Value};
use crate::names::suggest;

/// A value with the place it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spanned<T> {
    pub value: T,
    pub at: Location,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    Allow,
    Deny,
}

/// `Action`, `Resource` and their `Not` forms: strings, with places.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Element {
    pub at: Location,
    pub items: Vec<Spanned<String>>,
}

/// One `"Operator": {"key": values}` pair of a `Condition` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    pub operator: Spanned<String>,
    pub key: Spanned<String>,
    pub values: Vec<Spanned<String>>,
}

/// One principal a `Principal`/`NotPrincipal` names: its kind (`AWS`,
/// `Service`, `Federated`, `CanonicalUser`, or `*` for the bare
/// `"Principal": "*"`) and the value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrincipalEntry {
    pub kind: String,
    pub value: Spanned<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// 0-based position in the policy.
    pub index: usize,
    pub at: Location,
    pub sid: Option<Spanned<String>>,
    pub effect: Option<Spanned<Effect>>,
    pub action: Option<Element>,
    pub not_action: Option<Element>,
    pub resource: Option<Element>,
    pub not_resource: Option<Element>,
    pub principal: Option<Location>,
    pub not_principal: Option<Location>,
    /// The entries of `Principal` or `NotPrincipal` (whichever the
    /// statement has; both is a finding and the later one is kept), as
    /// the simulator reads them.
    pub principals: Vec<PrincipalEntry>,
    pub conditions: Vec<Condition>,
    pub condition_at: Option<Location>,
}

impl Statement {
    pub fn sid(&self) -> Option<String> {
        self.sid.as_ref().map(|s| s.value.clone())
    }
    pub fn is_allow(&self) -> bool {
        matches!(
            self.effect,
            Some(Spanned {
                value: Effect::Allow,
                ..
            })
        )
    }
    pub fn is_deny(&self) -> bool {
        matches!(
            self.effect,
            Some(Spanned {
                value: Effect::Deny,
                ..
            })
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub version: Option<Spanned<String>>,
    pub statements: Vec<Statement>,
    /// Structural findings found while reading.
    pub problems: Vec<Finding>,
    /// Characters as IAM counts them against its size quotas (white space
    /// outside strings not counted); 0 when unknown (a policy read out of
    /// a list of policies).
    pub size: usize,
}

/// The document is not JSON; where and why.
pub type ParseError = JsonError;

const TOP_ELEMENTS: &[&str] = &["Version", "Id", "Statement"];
const STATEMENT_ELEMENTS: &[&str] = &[
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
];

/// A finding about statement `st` (or the document when `None`).
pub(crate) fn finding(
    code: &'static str,
    st: Option<&Statement>,
    at: Location,
    actions: Vec<String>,
    message: String,
    fix: Option<String>,
) -> Finding {
    Finding {
        code,
        severity: severity_of(code),
        statement: st.map(|s| s.index),
        sid: st.and_then(Statement::sid),
        location: at,
        actions,
        message,
        fix,
    }
}

/// Read a policy document.
pub fn parse(text: &str) -> Result<Policy, ParseError> {
    let root = json::parse(text)?;
    let mut p = from_node(&root);
    p.size = quota_size(text);
    Ok(p)
}

/// The size IAM counts: every character but white space outside strings.
pub fn quota_size(text: &str) -> usize {
    let (mut n, mut in_str, mut esc) = (0, false, false);
    for c in text.trim_start_matches('\u{feff}').chars() {
        if in_str {
            n += 1;
            match (esc, c) {
                (true, _) => esc = false,
                (false, '\\') => esc = true,
                (false, '"') => in_str = false,
                _ => {}
            }
        } else if c == '"' {
            in_str = true;
            n += 1;
        } else if !c.is_whitespace() {
            n += 1;
        }
    }
    n
}

/// Read a file holding one policy or a JSON list of policies (the shape
/// `policy simulate` takes for `--identity`, `--boundary`, `--scp`...):
/// every policy keeps the lines and columns of the whole file.
pub fn parse_many(text: &str) -> Result<Vec<Policy>, ParseError> {
    let root = json::parse(text)?;
    Ok(match &root.value {
        Value::Array(items) => items.iter().map(from_node).collect(),
        _ => vec![from_node(&root)],
    })
}

/// Read a policy from a parsed JSON value.
pub fn from_node(root: &Node) -> Policy {
    let mut p = Policy {
        version: None,
        statements: Vec::new(),
        problems: Vec::new(),
        size: 0,
    };
    let doc_problem = |code, at, message: String, fix: Option<String>| {
        finding(code, None, at, Vec::new(), message, fix)
    };
    let Value::Object(members) = &root.value else {
        p.problems.push(doc_problem(
            "malformed",
            root.at,
            format!("a policy is a JSON object, not {}", root.kind()),
            None,
        ));
        return p;
    };
    let mut problems = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    let mut statement_node = None;
    for (k, v) in members {
        if seen.contains(&k.name.as_str()) {
            problems.push(doc_problem(
                "duplicate-key",
                k.at,
                format!("{:?} appears more than once in the policy", k.name),
                Some("keep one".into()),
            ));
        }
        seen.push(&k.name);
        match k.name.as_str() {
            "Version" => match v.as_str() {
                Some(s) => {
                    p.version = Some(Spanned {
                        value: s.to_string(),
                        at: v.at,
                    })
                }
                None => problems.push(doc_problem(
                    "malformed",
                    v.at,
                    format!("Version must be a string, not {}", v.kind()),
                    Some("\"Version\": \"2012-10-17\"".into()),
                )),
            },
            "Id" => {
                if v.as_str().is_none() {
                    problems.push(doc_problem(
                        "malformed",
                        v.at,
                        format!("Id must be a string, not {}", v.kind()),
                        None,
                    ));
                }
            }
            "Statement" => statement_node = Some(v),
            other => problems.push(unknown_element(other, k.at, TOP_ELEMENTS, None)),
        }
    }
    match &p.version {
        None => problems.push(doc_problem(
            "missing-version",
            root.at,
            "the policy has no Version: IAM then reads it as 2008-10-17, without policy variables"
                .into(),
            Some("add \"Version\": \"2012-10-17\"".into()),
        )),
        Some(v) if v.value == "2008-10-17" => problems.push(doc_problem(
            "old-version",
            v.at,
            "Version 2008-10-17 does not substitute policy variables".into(),
            Some("\"Version\": \"2012-10-17\"".into()),
        )),
        Some(v) if v.value != "2012-10-17" => problems.push(doc_problem(
            "invalid-version",
            v.at,
            format!(
                "Version {:?} is not a policy language version (2012-10-17 or 2008-10-17)",
                v.value
            ),
            Some("\"Version\": \"2012-10-17\"".into()),
        )),
        Some(_) => {}
    }
    match statement_node {
        None => problems.push(doc_problem(
            "missing-statement",
            root.at,
            "the policy has no Statement".into(),
            None,
        )),
        Some(node) => {
            let list: Vec<&Node> = match &node.value {
                Value::Array(items) => items.iter().collect(),
                Value::Object(_) => vec![node],
                _ => {
                    problems.push(doc_problem(
                        "malformed",
                        node.at,
                        format!(
                            "Statement must be an object or a list of objects, not {}",
                            node.kind()
                        ),
                        None,
                    ));
                    Vec::new()
                }
            };
            if list.is_empty() && matches!(node.value, Value::Array(_)) {
                problems.push(doc_problem(
                    "empty-statement",
                    node.at,
                    "Statement is an empty list".into(),
                    None,
                ));
            }
            for (i, s) in list.into_iter().enumerate() {
                let st = statement(i, s, &mut problems);
                p.statements.push(st);
            }
        }
    }
    p.problems = problems;
    p
}

fn unknown_element(name: &str, at: Location, known: &[&str], st: Option<&Statement>) -> Finding {
    let close = suggest(name, known.iter().copied()).or_else(|| {
        known
            .iter()
            .copied()
            .find(|k| k.eq_ignore_ascii_case(name) || format!("{k}s").eq_ignore_ascii_case(name))
    });
    finding(
        "unknown-element",
        st,
        at,
        Vec::new(),
        format!("{name:?} is not a policy element; IAM rejects the policy"),
        close.map(|c| format!("did you mean {c:?}?")),
    )
}

fn statement(index: usize, node: &Node, problems: &mut Vec<Finding>) -> Statement {
    let mut st = Statement {
        index,
        at: node.at,
        sid: None,
        effect: None,
        action: None,
        not_action: None,
        resource: None,
        not_resource: None,
        principal: None,
        not_principal: None,
        principals: Vec::new(),
        conditions: Vec::new(),
        condition_at: None,
    };
    let Value::Object(members) = &node.value else {
        problems.push(finding(
            "malformed",
            Some(&st),
            node.at,
            Vec::new(),
            format!("a statement must be an object, not {}", node.kind()),
            None,
        ));
        return st;
    };
    if members.is_empty() {
        problems.push(finding(
            "empty-statement",
            Some(&st),
            node.at,
            Vec::new(),
            "the statement is empty".into(),
            None,
        ));
        return st;
    }
    // Sid first, so every later finding names it.
    if let Some((_, v)) = members.iter().find(|(k, _)| k.name == "Sid") {
        if let Some(s) = v.as_str() {
            st.sid = Some(Spanned {
                value: s.to_string(),
                at: v.at,
            });
        }
    }
    let mut seen: Vec<&str> = Vec::new();
    let mut local = Vec::new();
    for (k, v) in members {
        if seen.contains(&k.name.as_str()) {
            local.push(finding(
                "duplicate-key",
                Some(&st),
                k.at,
                Vec::new(),
                format!("{:?} appears more than once in the statement; which one IAM reads is undefined", k.name),
                Some("merge them into one list".into()),
            ));
        }
        seen.push(&k.name);
        match k.name.as_str() {
            // Which characters a Sid may hold depends on the policy's
            // kind: `check` decides (crate::kinds).
            "Sid" => {
                if v.as_str().is_none() {
                    local.push(finding(
                        "malformed",
                        Some(&st),
                        v.at,
                        Vec::new(),
                        format!("Sid must be a string, not {}", v.kind()),
                        None,
                    ))
                }
            }
            "Effect" => match v.as_str() {
                Some(e @ ("Allow" | "Deny")) => {
                    st.effect = Some(Spanned {
                        value: if e == "Allow" {
                            Effect::Allow
                        } else {
                            Effect::Deny
                        },
                        at: v.at,
                    })
                }
                Some(other) => {
                    let fix = if other.eq_ignore_ascii_case("allow") {
                        Some("\"Effect\": \"Allow\"".to_string())
                    } else if other.eq_ignore_ascii_case("deny") {
                        Some("\"Effect\": \"Deny\"".to_string())
                    } else {
                        None
                    };
                    local.push(finding(
                        "invalid-effect",
                        Some(&st),
                        v.at,
                        Vec::new(),
                        format!(
                            "Effect {other:?} is neither \"Allow\" nor \"Deny\" (case matters)"
                        ),
                        fix,
                    ))
                }
                None => local.push(finding(
                    "invalid-effect",
                    Some(&st),
                    v.at,
                    Vec::new(),
                    format!(
                        "Effect must be the string \"Allow\" or \"Deny\", not {}",
                        v.kind()
                    ),
                    None,
                )),
            },
            "Action" => st.action = element("Action", v, &st, &mut local),
            "NotAction" => st.not_action = element("NotAction", v, &st, &mut local),
            "Resource" => st.resource = element("Resource", v, &st, &mut local),
            "NotResource" => st.not_resource = element("NotResource", v, &st, &mut local),
            "Principal" => {
                st.principals = principal("Principal", v, &st, &mut local);
                st.principal = Some(k.at);
            }
            "NotPrincipal" => {
                st.principals = principal("NotPrincipal", v, &st, &mut local);
                st.not_principal = Some(k.at);
            }
            "Condition" => {
                st.condition_at = Some(k.at);
                st.conditions = conditions(v, &st, &mut local);
            }
            other => local.push(unknown_element(other, k.at, STATEMENT_ELEMENTS, Some(&st))),
        }
    }
    let both = |a: bool, b: bool, code, what: &str, local: &mut Vec<Finding>| {
        if a && b {
            local.push(finding(
                code,
                Some(&st),
                node.at,
                Vec::new(),
                format!("the statement has both {what}; IAM rejects the policy"),
                Some("keep one of them".into()),
            ));
        }
    };
    both(
        st.action.is_some(),
        st.not_action.is_some(),
        "action-and-not-action",
        "Action and NotAction",
        &mut local,
    );
    both(
        st.resource.is_some(),
        st.not_resource.is_some(),
        "resource-and-not-resource",
        "Resource and NotResource",
        &mut local,
    );
    both(
        st.principal.is_some(),
        st.not_principal.is_some(),
        "principal-and-not-principal",
        "Principal and NotPrincipal",
        &mut local,
    );
    if st.effect.is_none() && !seen.contains(&"Effect") {
        local.push(finding(
            "missing-effect",
            Some(&st),
            node.at,
            Vec::new(),
            "the statement has no Effect".into(),
            Some("add \"Effect\": \"Allow\" or \"Deny\"".into()),
        ));
    }
    if !seen.contains(&"Action") && !seen.contains(&"NotAction") {
        local.push(finding(
            "missing-action",
            Some(&st),
            node.at,
            Vec::new(),
            "the statement has neither Action nor NotAction".into(),
            None,
        ));
    }
    // Trust policies (a Principal and no Resource) are valid.
    let has_principal = st.principal.is_some() || st.not_principal.is_some();
    if !seen.contains(&"Resource") && !seen.contains(&"NotResource") && !has_principal {
        local.push(finding(
            "missing-resource",
            Some(&st),
            node.at,
            Vec::new(),
            "the statement has neither Resource nor NotResource".into(),
            Some("add \"Resource\" with the ARNs it applies to".into()),
        ));
    }
    problems.extend(local);
    st
}

fn element(name: &str, v: &Node, st: &Statement, out: &mut Vec<Finding>) -> Option<Element> {
    let mut items = Vec::new();
    let bad = |n: &Node, out: &mut Vec<Finding>| {
        out.push(finding(
            "malformed",
            Some(st),
            n.at,
            Vec::new(),
            format!("{name} entries must be strings, not {}", n.kind()),
            None,
        ))
    };
    match &v.value {
        Value::String(s) => items.push(Spanned {
            value: s.clone(),
            at: v.at,
        }),
        Value::Array(list) => {
            for n in list {
                match n.as_str() {
                    Some(s) => items.push(Spanned {
                        value: s.to_string(),
                        at: n.at,
                    }),
                    None => bad(n, out),
                }
            }
        }
        _ => {
            out.push(finding(
                "malformed",
                Some(st),
                v.at,
                Vec::new(),
                format!(
                    "{name} must be a string or a list of strings, not {}",
                    v.kind()
                ),
                None,
            ));
            return None;
        }
    }
    if matches!(&v.value, Value::Array(list) if list.is_empty()) {
        out.push(finding(
            "empty-statement",
            Some(st),
            v.at,
            Vec::new(),
            format!("{name} is an empty list: the statement applies to nothing"),
            None,
        ));
    }
    if let Some(e) = items.iter().find(|i| i.value.is_empty()) {
        out.push(finding(
            "empty-statement",
            Some(st),
            e.at,
            Vec::new(),
            format!("{name} holds an empty string"),
            None,
        ));
    }
    Some(Element { at: v.at, items })
}

fn principal(name: &str, v: &Node, st: &Statement, out: &mut Vec<Finding>) -> Vec<PrincipalEntry> {
    duplicate_keys(v, name, st, out);
    let mut entries = Vec::new();
    if let Value::String(s) = &v.value {
        entries.push(PrincipalEntry {
            kind: "*".into(),
            value: Spanned {
                value: s.clone(),
                at: v.at,
            },
        });
    }
    let ok = match &v.value {
        Value::String(s) => s == "*",
        Value::Object(m) => m.iter().all(|(k, val)| {
            matches!(
                k.name.as_str(),
                "AWS" | "Service" | "Federated" | "CanonicalUser"
            ) && match &val.value {
                Value::String(_) => true,
                Value::Array(a) => a.iter().all(|x| x.as_str().is_some()),
                _ => false,
            }
        }),
        _ => false,
    };
    if !ok {
        out.push(finding(
            "malformed",
            Some(st),
            v.at,
            Vec::new(),
            format!(
                "{name} must be \"*\" or an object of AWS, Service, Federated or CanonicalUser to a string or list of strings"
            ),
            None,
        ));
        return Vec::new();
    }
    let Value::Object(m) = &v.value else {
        return entries;
    };
    for (k, val) in m {
        let items: Vec<&Node> = match &val.value {
            Value::Array(a) => a.iter().collect(),
            _ => vec![val],
        };
        for item in items {
            let Some(p) = item.as_str() else { continue };
            entries.push(PrincipalEntry {
                kind: k.name.clone(),
                value: Spanned {
                    value: p.to_string(),
                    at: item.at,
                },
            });
            let problem = match k.name.as_str() {
                "AWS" => (!aws_principal(p)).then(|| {
                    (
                        "unknown-principal",
                        format!("{p:?} is not \"*\", a 12-digit account ID or an IAM ARN (arn:aws:iam::123456789012:root, :role/NAME, :user/NAME)"),
                    )
                }),
                "Service" => (!(p.ends_with(".amazonaws.com")
                    || p.ends_with(".amazonaws.com.cn")
                    || p.ends_with(".amazon.com")
                    || p == "*"))
                    .then(|| {
                        (
                            "unknown-principal",
                            format!("{p:?} is not a service principal (SERVICE.amazonaws.com)"),
                        )
                    }),
                "Federated" => (!federation_source(p)).then(|| {
                    (
                        "unknown-federation-source",
                        format!("{p:?} is neither a SAML or OIDC provider ARN nor a known identity provider"),
                    )
                }),
                _ => None,
            };
            if let Some((code, message)) = problem {
                out.push(finding(code, Some(st), item.at, Vec::new(), message, None));
            }
        }
    }
    entries
}

fn aws_principal(p: &str) -> bool {
    if p == "*" || (p.len() == 12 && p.bytes().all(|b| b.is_ascii_digit())) {
        return true;
    }
    let parts: Vec<&str> = p.splitn(6, ':').collect();
    parts.len() == 6
        && parts[0] == "arn"
        && crate::arn::PARTITIONS.contains(&parts[1])
        && matches!(parts[2], "iam" | "sts")
        // An account ID, or the few AWS-owned names (the legacy CloudFront
        // origin access identity is arn:aws:iam::cloudfront:user/…).
        && ((parts[4].len() == 12 && parts[4].bytes().all(|b| b.is_ascii_digit()))
            || matches!(parts[4], "cloudfront" | "aws"))
        && (parts[5] == "root"
            || [
                "user/",
                "role/",
                "assumed-role/",
                "federated-user/",
                "group/",
            ]
            .iter()
            .any(|k| parts[5].starts_with(k)))
}

fn federation_source(p: &str) -> bool {
    const PROVIDERS: &[&str] = &[
        "cognito-identity.amazonaws.com",
        "www.amazon.com",
        "graph.facebook.com",
        "accounts.google.com",
        "appleid.apple.com",
    ];
    PROVIDERS.contains(&p)
        || (p.starts_with("arn:")
            && (p.contains(":saml-provider/") || p.contains(":oidc-provider/")))
}

/// Keys repeated in an object anywhere below `v` (a Condition's operators
/// or keys, a Principal's kinds): which one IAM reads is undefined. Keys
/// compare as IAM compares them: condition keys without case.
fn duplicate_keys(v: &Node, what: &str, st: &Statement, out: &mut Vec<Finding>) {
    let mut stack = vec![v];
    while let Some(n) = stack.pop() {
        match &n.value {
            Value::Object(members) => {
                let mut seen: Vec<&str> = Vec::new();
                for (k, child) in members {
                    let dup = if what == "Condition" {
                        seen.iter().any(|s| s.eq_ignore_ascii_case(&k.name))
                    } else {
                        seen.contains(&k.name.as_str())
                    };
                    if dup {
                        out.push(finding(
                            "duplicate-key",
                            Some(st),
                            k.at,
                            Vec::new(),
                            format!("{:?} appears more than once in the same object of {what}; which one IAM reads is undefined", k.name),
                            Some("merge them into one".into()),
                        ));
                    }
                    seen.push(&k.name);
                    stack.push(child);
                }
            }
            Value::Array(items) => stack.extend(items.iter()),
            _ => {}
        }
    }
}

fn conditions(v: &Node, st: &Statement, out: &mut Vec<Finding>) -> Vec<Condition> {
    duplicate_keys(v, "Condition", st, out);
    let mut list = Vec::new();
    let Value::Object(ops) = &v.value else {
        out.push(finding(
            "malformed",
            Some(st),
            v.at,
            Vec::new(),
            format!("Condition must be an object of operators, not {}", v.kind()),
            None,
        ));
        return list;
    };
    for (op, keys) in ops {
        let Value::Object(keys) = &keys.value else {
            out.push(finding(
                "malformed",
                Some(st),
                keys.at,
                Vec::new(),
                format!(
                    "the condition operator {} must map to an object of keys, not {}",
                    op.name,
                    keys.kind()
                ),
                None,
            ));
            continue;
        };
        for (key, vals) in keys {
            let values: Vec<Spanned<String>> = match &vals.value {
                Value::Array(a) => a
                    .iter()
                    .filter_map(|n| {
                        n.scalar_text().map(|t| Spanned { value: t, at: n.at }).or_else(|| {
                            out.push(finding(
                                "malformed",
                                Some(st),
                                n.at,
                                Vec::new(),
                                format!("condition values must be strings, numbers or booleans, not {}", n.kind()),
                                None,
                            ));
                            None
                        })
                    })
                    .collect(),
                _ => match vals.scalar_text() {
                    Some(t) => vec![Spanned { value: t, at: vals.at }],
                    None => {
                        out.push(finding(
                            "malformed",
                            Some(st),
                            vals.at,
                            Vec::new(),
                            format!("condition values must be strings, numbers or booleans, not {}", vals.kind()),
                            None,
                        ));
                        continue;
                    }
                },
            };
            list.push(Condition {
                operator: Spanned {
                    value: op.name.clone(),
                    at: op.at,
                },
                key: Spanned {
                    value: key.name.clone(),
                    at: key.at,
                },
                values,
            });
        }
    }
    list
}

impl Policy {
    /// The first problem IAM rejects the policy for (an error), if any.
    pub fn rejection(&self) -> Option<&Finding> {
        self.problems
            .iter()
            .find(|f| f.severity == crate::finding::Severity::Error)
    }

    /// The service prefixes the policy's actions and condition keys name
    /// (lowercase, sorted); `None` when a wildcard prefix (`*`, `*:*`,
    /// `s*:Get*`) needs every service.
    pub fn prefixes(&self) -> Option<Vec<String>> {
        let mut out = Vec::new();
        for st in &self.statements {
            for e in [&st.action, &st.not_action].into_iter().flatten() {
                for item in &e.items {
                    let prefix = item
                        .value
                        .split_once(':')
                        .map(|x| x.0)
                        .unwrap_or(&item.value);
                    if prefix.contains(['*', '?']) {
                        return None;
                    }
                    out.push(prefix.to_ascii_lowercase());
                }
            }
            // A key's service decides whether the key exists and who
            // supplies it, whatever else the run loads.
            for c in &st.conditions {
                if let Some((prefix, _)) = c.key.value.split_once(':') {
                    if !prefix.eq_ignore_ascii_case("aws") && !prefix.contains('.') {
                        out.push(prefix.to_ascii_lowercase());
                    }
                }
            }
        }
        out.sort();
        out.dedup();
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(text: &str) -> Vec<&'static str> {
        parse(text)
            .unwrap()
            .problems
            .iter()
            .map(|f| f.code)
            .collect()
    }

    #[test]
    fn every_valid_shape() {
        let one = r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}}"#;
        let p = parse(one).unwrap();
        assert!(p.problems.is_empty(), "{:?}", p.problems);
        assert_eq!(p.statements.len(), 1);
        assert_eq!(p.prefixes(), Some(vec!["s3".to_string()]));
        let trust = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}"#;
        assert!(codes(trust).is_empty());
        let wild = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["*"], "Resource": ["*"]}]}"#;
        assert_eq!(parse(wild).unwrap().prefixes(), None);
    }

    #[test]
    fn structural_problems() {
        assert_eq!(
            codes(r#"{"Statement": []}"#),
            ["missing-version", "empty-statement"]
        );
        assert_eq!(
            codes(
                r#"{"Version": "2012-10-17", "Statement": [{"Effect": "allow", "Action": "s3:*", "NotAction": "s3:Get*", "Resource": "*", "NotResource": "x", "Resources": "*"}]}"#
            ),
            [
                "invalid-effect",
                "unknown-element",
                "action-and-not-action",
                "resource-and-not-resource"
            ]
        );
        assert_eq!(
            codes(
                r#"{"Version": "2012-10-17", "Statement": [{"Sid": "my sid", "Effect": "Allow", "Action": "s3:*", "Action": "s3:Get*", "Resource": "*"}]}"#
            ),
            // The Sid's characters are the kind's rule (crate::kinds).
            ["duplicate-key"]
        );
        assert_eq!(
            codes(r#"{"Version": "2012-10-18", "Statement": [{"Action": 3}]}"#),
            [
                "invalid-version",
                "malformed",
                "missing-effect",
                "missing-resource"
            ]
        );
        assert_eq!(codes("[1]"), ["malformed"]);
    }

    #[test]
    fn principals() {
        let pol = |p: &str| {
            format!(
                r#"{{"Version": "2012-10-17", "Statement": [{{"Effect": "Allow", "Principal": {p}, "Action": "sts:AssumeRole"}}]}}"#
            )
        };
        assert!(codes(&pol(
            r#"{"AWS": ["123456789012", "arn:aws:iam::123456789012:role/x", "*"]}"#
        ))
        .is_empty());
        assert!(codes(&pol(r#"{"Service": "lambda.amazonaws.com"}"#)).is_empty());
        assert!(codes(&pol(r#"{"Federated": "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"}"#)).is_empty());
        assert_eq!(codes(&pol(r#"{"AWS": "bob"}"#)), ["unknown-principal"]);
        assert_eq!(
            codes(&pol(r#"{"Service": "lambda"}"#)),
            ["unknown-principal"]
        );
        assert_eq!(
            codes(&pol(r#"{"Federated": "example.com"}"#)),
            ["unknown-federation-source"]
        );
        assert_eq!(codes(&pol(r#""me""#)), ["malformed"]);
    }

    #[test]
    fn duplicate_keys_at_any_depth() {
        let p = |cond: &str| {
            format!(
                r#"{{"Version": "2012-10-17", "Statement": [{{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*", "Condition": {cond}}}]}}"#
            )
        };
        assert_eq!(
            codes(&p(
                r#"{"StringEquals": {"aws:username": "a"}, "StringEquals": {"aws:username": "b"}}"#
            )),
            ["duplicate-key"]
        );
        assert_eq!(
            codes(&p(
                r#"{"StringEquals": {"aws:username": "a", "aws:UserName": "b"}}"#
            )),
            ["duplicate-key"]
        );
        assert!(codes(&p(
            r#"{"StringEquals": {"aws:username": "a"}, "StringLike": {"aws:username": "b*"}}"#
        ))
        .is_empty());
    }

    #[test]
    fn conditions_keep_places() {
        let p = parse("{\"Version\": \"2012-10-17\", \"Statement\": [{\"Effect\": \"Deny\", \"Action\": \"s3:*\", \"Resource\": \"*\",\n \"Condition\": {\"Bool\": {\"aws:SecureTransport\": false}}}]}").unwrap();
        let c = &p.statements[0].conditions[0];
        assert_eq!(c.operator.value, "Bool");
        assert_eq!(c.values[0].value, "false");
        assert_eq!(c.key.at.line, 2);
    }
}
