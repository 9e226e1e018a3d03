//! The policy simulator: would AWS allow this request, and why?
//!
//! [`evaluate`] follows AWS's documented policy evaluation logic, in its
//! order, pure over the policies and the request:
//!
//! 1. An explicit `Deny` in any policy that applies wins.
//! 2. RCPs: every level must allow; AWS attaches `RCPFullAccess` at every
//!    level and it cannot be detached, so only their `Deny`s can block.
//! 3. SCPs: every level (root, each OU, the account) must allow, except
//!    for a service-linked role (role path `/aws-service-role/`), which
//!    SCPs do not restrict.
//! 4. A VPC endpoint policy, when given, must allow.
//! 5. Resource-based policy. In the principal's own account, a statement
//!    naming the IAM user, the session itself (assumed-role or
//!    federated-user session ARN), everyone (`*`) or a service grants on
//!    its own: no identity policy, permissions boundary or session policy
//!    is needed. One naming the role (for a session of it) counts as an
//!    allow beside the identity policies, still limited by the boundary
//!    and the session policy; one naming only the account delegates to the
//!    identity policies. Across accounts both sides must allow.
//! 6. Identity policies must allow; 7. the permissions boundary and 8. the
//!    session policy, when given, must allow too (they intersect).
//! 9. Otherwise: implicit deny.
//!
//! Not modelled: the management account (SCPs and RCPs never apply to
//! it: iamref cannot tell which account that is, so pass no `--scp` for
//! it), RCPs' service scope (they apply only to the services AWS lists),
//! the federated-user rule for a resource policy naming the IAM user who
//! called GetFederationToken, and `NotPrincipal` with `Deny` needing the
//! account as well as the principal (an entry that names the principal
//! in any way excludes it here).

pub mod batch;
pub mod condition;
pub mod context;
pub mod explain;
pub mod explained;
pub mod fix;
pub mod knowledge;
pub mod lines;
pub mod principal;
pub mod prune;
pub mod requests;

use crate::document::{Element, Policy, Statement};
use context::{arn_match, expand, Context};
use principal::{Named, Principal};
use serde::Serialize;

/// The kinds of policy AWS evaluates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PolicyType {
    Scp,
    Rcp,
    Endpoint,
    Resource,
    Identity,
    Boundary,
    Session,
}

impl PolicyType {
    pub fn as_str(self) -> &'static str {
        match self {
            PolicyType::Scp => "scp",
            PolicyType::Rcp => "rcp",
            PolicyType::Endpoint => "endpoint",
            PolicyType::Resource => "resource",
            PolicyType::Identity => "identity",
            PolicyType::Boundary => "boundary",
            PolicyType::Session => "session",
        }
    }
    /// The name AWS's messages use (`service control policy`).
    pub fn describe(self) -> &'static str {
        match self {
            PolicyType::Scp => "service control policy",
            PolicyType::Rcp => "resource control policy",
            PolicyType::Endpoint => "VPC endpoint policy",
            PolicyType::Resource => "resource-based policy",
            PolicyType::Identity => "identity-based policy",
            PolicyType::Boundary => "permissions boundary",
            PolicyType::Session => "session policy",
        }
    }
    /// Does a `Principal` in this kind of policy name who it applies to?
    fn reads_principal(self) -> bool {
        matches!(self, PolicyType::Resource | PolicyType::Endpoint)
    }
}

/// A policy and where it came from.
#[derive(Debug, Clone)]
pub struct Doc {
    /// Shared with each [`Trace`] of its statements.
    pub file: std::sync::Arc<str>,
    /// Its 0-based position when the file holds a list of policies.
    pub position: Option<usize>,
    pub policy: Policy,
}

impl Doc {
    /// The policies of one file's text (one policy or a JSON list of
    /// them), each named `file`; refused when not JSON, or at the first
    /// policy IAM would reject.
    pub fn all_of(file: &str, text: &str) -> Result<Vec<Doc>, DocsError> {
        let policies = crate::document::parse_many(text).map_err(DocsError::NotJson)?;
        let list = policies.len() > 1 || text.trim_start().starts_with('[');
        let mut out = Vec::with_capacity(policies.len());
        for (i, policy) in policies.into_iter().enumerate() {
            if let Some(f) = policy.rejection() {
                return Err(DocsError::Rejected(Box::new(f.clone())));
            }
            out.push(Doc {
                file: file.into(),
                position: list.then_some(i),
                policy,
            });
        }
        Ok(out)
    }
}

/// Why a file's text gives no policies to simulate.
#[derive(Debug, Clone, thiserror::Error)]
pub enum DocsError {
    /// Not JSON.
    #[error("{}:{}: {}", .0.at.line, .0.at.column, .0.message)]
    NotJson(crate::document::ParseError),
    /// A policy IAM would reject: its first error.
    #[error("{}:{}: {}", .0.location.line, .0.location.column, .0.message)]
    Rejected(Box<crate::finding::Finding>),
}

/// Every policy of one simulation. `None`: that kind is not in play
/// (a boundary given as an empty list allows nothing).
#[derive(Debug, Clone, Default)]
pub struct Policies {
    pub identity: Vec<Doc>,
    pub resource: Vec<Doc>,
    pub boundary: Option<Vec<Doc>>,
    pub session: Option<Vec<Doc>>,
    pub endpoint: Option<Vec<Doc>>,
    /// One entry per level, from the root down.
    pub scp: Vec<Vec<Doc>>,
    pub rcp: Vec<Vec<Doc>>,
}

/// One request.
#[derive(Debug, Clone, Default)]
pub struct Request {
    pub action: String,
    /// The resource ARN, or `*` for an action that takes none.
    pub resource: String,
    pub principal: Option<String>,
    pub resource_account: Option<String>,
    pub context: Context,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Decision {
    Allowed,
    ImplicitDeny,
    ExplicitDeny,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Allowed => "allowed",
            Decision::ImplicitDeny => "implicit-deny",
            Decision::ExplicitDeny => "explicit-deny",
        }
    }
}

/// What one policy type (one level, for SCPs and RCPs) did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum State {
    Allow,
    NoImpact,
    ImplicitDeny,
    ExplicitDeny,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Allow => "ALLOW",
            State::NoImpact => "NO_IMPACT",
            State::ImplicitDeny => "IMPLICIT_DENY",
            State::ExplicitDeny => "EXPLICIT_DENY",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Layer {
    pub policy_type: PolicyType,
    /// 0-based level for SCPs and RCPs (0 = root).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub level: Option<usize>,
    pub state: State,
}

/// The element of a statement that did not match, with what was compared.
#[derive(Debug, Clone, Serialize)]
pub struct Failure {
    /// `Action`, `NotAction`, `Resource`, `NotResource`, `Principal`,
    /// `NotPrincipal` or `Condition`.
    pub element: &'static str,
    pub line: u32,
    pub column: u32,
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub condition: Option<condition::Failed>,
}

/// One statement considered, and what became of it.
#[derive(Debug, Clone, Serialize)]
pub struct Trace {
    pub policy_type: PolicyType,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub level: Option<usize>,
    #[serde(serialize_with = "shared_str")]
    pub file: std::sync::Arc<str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<usize>,
    pub index: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    pub line: u32,
    pub column: u32,
    pub effect: &'static str,
    pub applied: bool,
    /// How a resource-based statement named the principal.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub named: Option<Named>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failed: Option<Failure>,
}

/// The answer for one request.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub decision: Decision,
    /// The policy types that denied it (explicitly or by not allowing).
    pub blocked_by: Vec<PolicyType>,
    pub cross_account: bool,
    pub layers: Vec<Layer>,
    pub statements: Vec<Trace>,
    /// Statements whose `Action`/`NotAction` did not name the action, left
    /// out of `statements` when [`Options::all_statements`] is off.
    #[serde(skip_serializing_if = "is_zero")]
    pub other_statements: usize,
    /// What the evaluation assumed (a resource account taken from the
    /// principal, an SCP skipped for a service-linked role).
    pub notes: Vec<String>,
}

fn shared_str<S: serde::Serializer>(s: &std::sync::Arc<str>, ser: S) -> Result<S::Ok, S::Error> {
    ser.serialize_str(s)
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// How much an evaluation explains.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// A trace for every statement, also those whose `Action` does not
    /// name the request's action (else only counted).
    pub all_statements: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            all_statements: true,
        }
    }
}

/// Evaluate one request against the policies, every statement traced.
pub fn evaluate(policies: &Policies, req: &Request) -> Outcome {
    evaluate_with(policies, req, Options::default())
}

/// Evaluate one request against the policies.
pub fn evaluate_with(policies: &Policies, req: &Request, opts: Options) -> Outcome {
    let principal = req.principal.as_deref().map(Principal::parse);
    let mut notes = Vec::new();
    let ctx = request_context(req, principal.as_ref(), &mut notes);
    let resource_account = ctx
        .get("aws:ResourceAccount")
        .and_then(|v| v.first().cloned());
    let cross_account = match (
        principal.as_ref().and_then(Principal::account),
        &resource_account,
    ) {
        (Some(p), Some(r)) => p != r,
        _ => false,
    };
    let mut statements = Vec::new();
    let mut other_statements = 0;
    let mut layer = |t: PolicyType, level: Option<usize>, docs: &[Doc]| {
        eval_layer(
            t,
            level,
            docs,
            req,
            &ctx,
            principal.as_ref(),
            (&mut statements, &mut other_statements, opts),
        )
    };
    let identity = layer(PolicyType::Identity, None, &policies.identity);
    let resource = layer(PolicyType::Resource, None, &policies.resource);
    let boundary = policies
        .boundary
        .as_ref()
        .map(|d| layer(PolicyType::Boundary, None, d));
    let session = policies
        .session
        .as_ref()
        .map(|d| layer(PolicyType::Session, None, d));
    let endpoint = policies
        .endpoint
        .as_ref()
        .map(|d| layer(PolicyType::Endpoint, None, d));
    let slr = principal
        .as_ref()
        .is_some_and(Principal::is_service_linked_role);
    if slr && !policies.scp.is_empty() {
        notes.push("SCPs do not apply to a service-linked role: skipped".into());
    }
    let scp: Vec<Verdict> = if slr {
        Vec::new()
    } else {
        policies
            .scp
            .iter()
            .enumerate()
            .map(|(i, d)| layer(PolicyType::Scp, Some(i), d))
            .collect()
    };
    let rcp: Vec<Verdict> = policies
        .rcp
        .iter()
        .enumerate()
        .map(|(i, d)| layer(PolicyType::Rcp, Some(i), d))
        .collect();

    // Gather every layer with its type and level.
    let mut all: Vec<(PolicyType, Option<usize>, &Verdict)> = Vec::new();
    for (i, v) in scp.iter().enumerate() {
        all.push((PolicyType::Scp, Some(i), v));
    }
    for (i, v) in rcp.iter().enumerate() {
        all.push((PolicyType::Rcp, Some(i), v));
    }
    if let Some(v) = &endpoint {
        all.push((PolicyType::Endpoint, None, v));
    }
    if !policies.resource.is_empty() {
        all.push((PolicyType::Resource, None, &resource));
    }
    if !policies.identity.is_empty() {
        all.push((PolicyType::Identity, None, &identity));
    }
    if let Some(v) = &boundary {
        all.push((PolicyType::Boundary, None, v));
    }
    if let Some(v) = &session {
        all.push((PolicyType::Session, None, v));
    }

    let mut blocked: Vec<(PolicyType, Option<usize>)> = Vec::new();
    let explicit: Vec<(PolicyType, Option<usize>)> = all
        .iter()
        .filter(|x| x.2.deny)
        .map(|x| (x.0, x.1))
        .collect();
    let mut needed: Vec<(PolicyType, Option<usize>)> = Vec::new();
    if explicit.is_empty() {
        for (i, v) in scp.iter().enumerate() {
            if !v.allow {
                blocked.push((PolicyType::Scp, Some(i)));
            }
            needed.push((PolicyType::Scp, Some(i)));
        }
        if let Some(v) = &endpoint {
            if !v.allow {
                blocked.push((PolicyType::Endpoint, None));
            }
            needed.push((PolicyType::Endpoint, None));
        }
        let direct = resource.allow
            && matches!(
                resource.named,
                Some(Named::Anyone | Named::User | Named::Session | Named::Other)
            );
        if cross_account {
            if !resource.allow {
                blocked.push((PolicyType::Resource, None));
                if policies.resource.is_empty() {
                    notes.push(format!(
                        "the principal's account {} is not the resource's {}: cross-account access needs a resource-based policy allowing it (none given)",
                        principal.as_ref().and_then(Principal::account).unwrap_or("?"),
                        resource_account.as_deref().unwrap_or("?")
                    ));
                }
            }
            needed.push((PolicyType::Resource, None));
        }
        if direct && !cross_account {
            needed.push((PolicyType::Resource, None));
        } else {
            let role_grant =
                resource.allow && resource.named == Some(Named::Role) && !cross_account;
            if role_grant {
                needed.push((PolicyType::Resource, None));
            }
            if identity.allow {
                needed.push((PolicyType::Identity, None));
            } else if !role_grant {
                blocked.push((PolicyType::Identity, None));
            }
            if let Some(v) = &boundary {
                needed.push((PolicyType::Boundary, None));
                if !v.allow {
                    blocked.push((PolicyType::Boundary, None));
                }
            }
            if let Some(v) = &session {
                needed.push((PolicyType::Session, None));
                if !v.allow {
                    blocked.push((PolicyType::Session, None));
                }
            }
        }
    }
    let decision = if !explicit.is_empty() {
        Decision::ExplicitDeny
    } else if !blocked.is_empty() {
        Decision::ImplicitDeny
    } else {
        Decision::Allowed
    };
    let mut layers = Vec::new();
    for (t, level, v) in &all {
        let state = if v.deny {
            State::ExplicitDeny
        } else if blocked.contains(&(*t, *level)) {
            State::ImplicitDeny
        } else if *t == PolicyType::Rcp || (v.allow && needed.contains(&(*t, *level))) {
            State::Allow
        } else {
            State::NoImpact
        };
        layers.push(Layer {
            policy_type: *t,
            level: *level,
            state,
        });
    }
    if cross_account && !all.iter().any(|x| x.0 == PolicyType::Resource) {
        layers.push(Layer {
            policy_type: PolicyType::Resource,
            level: None,
            state: State::ImplicitDeny,
        });
    }
    let mut blocked_by: Vec<PolicyType> = if explicit.is_empty() {
        blocked.iter().map(|b| b.0).collect()
    } else {
        explicit.iter().map(|b| b.0).collect()
    };
    blocked_by.dedup();
    // Statements in the order of the layers (stable within a policy).
    statements.sort_by_key(|t| (t.policy_type, t.level));
    Outcome {
        decision,
        blocked_by,
        cross_account,
        layers,
        statements,
        other_statements,
        notes,
    }
}

/// The request context with the keys AWS derives from the principal and
/// the resource added when the request does not set them.
fn request_context(req: &Request, p: Option<&Principal>, notes: &mut Vec<String>) -> Context {
    let mut ctx = req.context.clone();
    if let Some(p) = p {
        if let Some(arn) = p.principal_arn() {
            ctx.set_default("aws:PrincipalArn", &arn);
        }
        if let Some(a) = p.account() {
            ctx.set_default("aws:PrincipalAccount", a);
        }
        if let Some(t) = p.principal_type() {
            ctx.set_default("aws:PrincipalType", t);
        }
        if let principal::Kind::User { name, .. } = &p.kind {
            ctx.set_default("aws:username", name);
        }
        ctx.set_default(
            "aws:PrincipalIsAWSService",
            if matches!(p.kind, principal::Kind::Service(_)) {
                "true"
            } else {
                "false"
            },
        );
    }
    let from_arn = req
        .resource
        .split(':')
        .nth(4)
        .filter(|a| !a.is_empty() && req.resource.starts_with("arn:"))
        .map(str::to_string);
    match (&req.resource_account, from_arn) {
        (Some(a), _) => ctx.set_default("aws:ResourceAccount", a),
        (None, Some(a)) => ctx.set_default("aws:ResourceAccount", &a),
        (None, None) => {
            if !ctx.contains("aws:ResourceAccount") {
                if let Some(a) = p.and_then(Principal::account) {
                    if req.resource != "*" {
                        notes.push(format!(
                            "the resource ARN names no account: taken to be the principal's ({a}); give --resource-account for another"
                        ));
                    }
                    ctx.set_default("aws:ResourceAccount", a);
                }
            }
        }
    }
    ctx
}

/// What one policy type (or level) says about a request.
#[derive(Debug, Default)]
struct Verdict {
    allow: bool,
    deny: bool,
    /// For resource-based policies: the strongest way an applied `Allow`
    /// named the principal.
    named: Option<Named>,
}

fn strength(n: Named) -> u8 {
    match n {
        Named::Session | Named::User | Named::Anyone | Named::Other => 3,
        Named::Role => 2,
        Named::Account => 1,
    }
}

fn eval_layer(
    t: PolicyType,
    level: Option<usize>,
    docs: &[Doc],
    req: &Request,
    ctx: &Context,
    p: Option<&Principal>,
    (out, others, opts): (&mut Vec<Trace>, &mut usize, Options),
) -> Verdict {
    let mut v = Verdict::default();
    for d in docs {
        // Without a Version IAM reads 2008-10-17: no policy variables.
        let vars = matches!(&d.policy.version, Some(v) if v.value != "2008-10-17");
        for st in &d.policy.statements {
            let Some(effect) = &st.effect else { continue };
            if !opts.all_statements && !names_action(st, &req.action) {
                *others += 1;
                continue;
            }
            let (failed, named) = statement(t, st, vars, req, ctx, p);
            let applied = failed.is_none();
            let is_allow = effect.value == crate::document::Effect::Allow;
            if applied {
                if is_allow {
                    v.allow = true;
                    if let Some(n) = named {
                        if v.named.is_none_or(|m| strength(n) > strength(m)) {
                            v.named = Some(n);
                        }
                    }
                } else {
                    v.deny = true;
                }
            }
            out.push(Trace {
                policy_type: t,
                level,
                file: d.file.clone(),
                policy: d.position,
                index: st.index,
                sid: st.sid(),
                line: st.at.line,
                column: st.at.column,
                effect: if is_allow { "Allow" } else { "Deny" },
                applied,
                named: if applied { named } else { None },
                failed,
            });
        }
    }
    v
}

/// Does the statement apply? `Err`-like: the first element that failed.
fn statement(
    t: PolicyType,
    st: &Statement,
    vars: bool,
    req: &Request,
    ctx: &Context,
    p: Option<&Principal>,
) -> (Option<Failure>, Option<Named>) {
    let fail = |element: &'static str, at: crate::finding::Location, detail: String| Failure {
        element,
        line: at.line,
        column: at.column,
        detail,
        condition: None,
    };
    // Action / NotAction.
    match (&st.action, &st.not_action) {
        (Some(e), _) => {
            if !action_in(e, &req.action) {
                return (
                    Some(fail("Action", e.at, said(&req.action, " is not among ", e))),
                    None,
                );
            }
        }
        (None, Some(e)) => {
            if action_in(e, &req.action) {
                return (
                    Some(fail("NotAction", e.at, said(&req.action, " is among ", e))),
                    None,
                );
            }
        }
        (None, None) => {
            return (
                Some(fail("Action", st.at, "the statement has no Action".into())),
                None,
            )
        }
    }
    // Resource / NotResource.
    match (&st.resource, &st.not_resource) {
        (Some(e), _) => {
            if !resource_in(e, &req.resource, ctx, vars) {
                return (
                    Some(fail(
                        "Resource",
                        e.at,
                        said(&req.resource, " is not matched by ", e),
                    )),
                    None,
                );
            }
        }
        (None, Some(e)) => {
            if resource_in(e, &req.resource, ctx, vars) {
                return (
                    Some(fail(
                        "NotResource",
                        e.at,
                        said(&req.resource, " is matched by ", e),
                    )),
                    None,
                );
            }
        }
        // A resource-based policy's statement applies to its resource.
        (None, None) if t == PolicyType::Resource => {}
        (None, None) => {
            return (
                Some(fail(
                    "Resource",
                    st.at,
                    "the statement has no Resource".into(),
                )),
                None,
            )
        }
    }
    // Principal / NotPrincipal.
    let mut named = None;
    if t.reads_principal() {
        let at = st.principal.or(st.not_principal).unwrap_or(st.at);
        let hit = p.map_or_else(
            || {
                st.principals
                    .iter()
                    .any(|e| e.value.value == "*")
                    .then_some(Named::Anyone)
            },
            |p| {
                st.principals
                    .iter()
                    .filter_map(|e| principal::names(&e.kind, &e.value.value, p))
                    .max_by_key(|n| strength(*n))
            },
        );
        let who = req.principal.as_deref().unwrap_or("(no principal given)");
        if st.not_principal.is_some() {
            if hit.is_some() {
                return (
                    Some(fail(
                        "NotPrincipal",
                        at,
                        format!("{who} is named in NotPrincipal"),
                    )),
                    None,
                );
            }
            named = Some(Named::Anyone);
        } else if st.principal.is_some() {
            match hit {
                Some(n) => named = Some(n),
                None => {
                    let entries: Vec<String> = st
                        .principals
                        .iter()
                        .map(|e| format!("{}:{}", e.kind, e.value.value))
                        .collect();
                    return (
                        Some(fail(
                            "Principal",
                            at,
                            format!("{who} is not named by {}", entries.join(", ")),
                        )),
                        None,
                    );
                }
            }
        } else if t == PolicyType::Resource {
            return (
                Some(fail(
                    "Principal",
                    st.at,
                    "a resource-based statement without Principal applies to no one".into(),
                )),
                None,
            );
        }
    }
    // Conditions: AND across operators and keys.
    for c in &st.conditions {
        if let Err(f) = condition::holds(c, ctx, vars) {
            let detail = format!(
                "{} {}: {} (policy: {}; request: {})",
                f.operator,
                f.key,
                f.why,
                f.expected.join(", "),
                f.actual
                    .as_ref()
                    .map_or_else(|| "absent".to_string(), |v| v.join(", "))
            );
            return (
                Some(Failure {
                    element: "Condition",
                    line: c.operator.at.line,
                    column: c.operator.at.column,
                    detail,
                    condition: Some(f),
                }),
                None,
            );
        }
    }
    (None, named)
}

/// Does the statement's `Action`/`NotAction` name the action?
fn names_action(st: &Statement, action: &str) -> bool {
    match (&st.action, &st.not_action) {
        (Some(e), _) => action_in(e, action),
        (None, Some(e)) => !action_in(e, action),
        (None, None) => false,
    }
}

/// The element's values, `[a, b]` when several.
fn list(e: &Element) -> String {
    said("", "", e)
}

/// `what` + `verb` + the element's values (`[a, b]` when several), built
/// in one string: a batch words one per statement that does not apply.
fn said(what: &str, verb: &str, e: &Element) -> String {
    let len: usize = e.items.iter().map(|i| i.value.len() + 2).sum();
    let mut out = String::with_capacity(what.len() + verb.len() + len + 2);
    out.push_str(what);
    out.push_str(verb);
    match e.items.as_slice() {
        [one] => out.push_str(&one.value),
        items => {
            out.push('[');
            for (n, i) in items.iter().enumerate() {
                if n > 0 {
                    out.push_str(", ");
                }
                out.push_str(&i.value);
            }
            out.push(']');
        }
    }
    out
}

/// Does an `Action`/`NotAction` list name the action (IAM wildcards, case
/// ignored)?
fn action_in(e: &Element, action: &str) -> bool {
    e.items
        .iter()
        .any(|i| crate::names::wildcard_match(&i.value, action))
}

/// Does a `Resource`/`NotResource` list match the ARN (policy variables
/// substituted; an entry whose variable the request lacks matches nothing)?
fn resource_in(e: &Element, arn: &str, ctx: &Context, vars: bool) -> bool {
    e.items.iter().any(|i| {
        context::plain_match(&i.value, arn, vars, true).unwrap_or_else(|| {
            expand(&i.value, ctx, vars, true).is_ok_and(|toks| arn_match(&toks, arn))
        })
    })
}

#[cfg(test)]
mod tests;
