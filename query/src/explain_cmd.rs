//! `iamref explain MESSAGE`: an AccessDenied message read back (the parser
//! is `iamref_policy::simulate::explain`, pure): who was denied, what,
//! which resource (its type and ARN format from the reference), which
//! policy type, and the fix.

use crate::exit::{input, Exit};
use crate::output::{Format, Out};
use crate::simulate_cmd::safe;
use anyhow::Result;
use iamref_dataset::db::Connection;
use iamref_policy::arn::{Matcher, Pattern};
use iamref_policy::catalog::Catalog;
use iamref_policy::simulate::explain::{parse, Denial};
use iamref_policy::simulate::principal::Principal;
use iamref_policy::simulate::PolicyType;
use iamref_policy::write::{write_policy, Need, Request as WriteRequest};
use serde::Serialize;
use serde_json::{json, Value};
use std::io::Write;

/// The longest message read from stdin.
const MAX_MESSAGE: u64 = 1 << 20;

#[derive(clap::Args)]
pub struct ExplainArgs {
    /// The AccessDenied message (quoted), the CLI's or an SDK's error text,
    /// or the JSON of `aws sts decode-authorization-message`; `-` or
    /// nothing to read it from stdin
    #[arg(value_name = "MESSAGE")]
    pub message: Vec<String>,
    #[command(flatten)]
    pub fmt: crate::output::DocFormatArg,
}

#[derive(Serialize)]
struct Explained {
    principal: Option<String>,
    action: String,
    resource: Option<String>,
    resource_type: Option<String>,
    arn_format: Option<String>,
    policy_type: Option<PolicyType>,
    explicit: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    policy_arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    operation: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    context: Vec<(String, Vec<String>)>,
    notes: Vec<String>,
    fix: Fix,
}

#[derive(Serialize)]
struct Fix {
    message: String,
    /// The statement to add, when a policy can be added to.
    #[serde(skip_serializing_if = "Option::is_none")]
    statement: Option<Value>,
    /// Can an identity-based policy of the principal fix it?
    identity_policy_can_fix: bool,
}

pub fn explain(conn: &Connection, a: ExplainArgs, out: &mut Out) -> Result<Exit> {
    let text = if a.message.is_empty() || a.message == ["-"] {
        let mut s = String::new();
        std::io::Read::read_to_string(
            &mut std::io::Read::take(std::io::stdin().lock(), MAX_MESSAGE),
            &mut s,
        )
        .map_err(|e| input(format!("stdin: {e}")))?;
        s
    } else {
        a.message.join(" ")
    };
    let d = parse(&text).map_err(|e| input(format!("cannot read the message: {e}")))?;
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
    let cat = crate::catalog::for_prefixes(conn, Some(prefixes))?;
    let e = explained(&cat, d);
    match out.format {
        f @ (Format::Json | Format::Jsonl) => {
            let w = out.w();
            if f == Format::Json {
                serde_json::to_writer_pretty(&mut *w, &e)?;
            } else {
                serde_json::to_writer(&mut *w, &e)?;
            }
            writeln!(w)?;
        }
        _ => table(out, &e)?,
    }
    Ok(Exit::Found)
}

fn explained(cat: &Catalog, d: Denial) -> Explained {
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

/// What `policy write` grants for the action on the resource, never widened.
fn statement(cat: &Catalog, action: &str, resource: Option<&str>) -> Option<Value> {
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
    let stmt = || statement(cat, action, d.resource.as_deref());
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

fn table(out: &mut Out, e: &Explained) -> Result<()> {
    let w = out.w();
    let mut rows: Vec<(&str, String)> = Vec::new();
    if let Some(p) = &e.principal {
        rows.push(("principal", safe(p)));
    }
    rows.push(("action", safe(&e.action)));
    if let Some(op) = &e.operation {
        rows.push(("operation", safe(op)));
    }
    if let Some(r) = &e.resource {
        rows.push(("resource", safe(r)));
    }
    if let Some(t) = &e.resource_type {
        let f = e
            .arn_format
            .as_deref()
            .map(|f| format!(" ({f})"))
            .unwrap_or_default();
        rows.push(("resource type", format!("{t}{f}")));
    }
    let denied = match (e.policy_type, e.explicit) {
        (Some(t), true) => format!("an explicit deny in {}", with_article(t)),
        (Some(t), false) => format!("no {} allows it", t.describe()),
        (None, true) => "an explicit deny".into(),
        (None, false) => "(the message does not say)".into(),
    };
    rows.push(("denied by", denied));
    if let Some(a) = &e.policy_arn {
        rows.push(("policy", safe(a)));
    }
    for (k, v) in &e.context {
        rows.push(("context", format!("{} = {}", safe(k), safe(&v.join(", ")))));
    }
    let width = rows.iter().map(|r| r.0.len()).max().unwrap_or(0);
    for (k, v) in rows {
        writeln!(w, "{k:width$}  {v}")?;
    }
    for n in &e.notes {
        writeln!(w, "note: {}", safe(n))?;
    }
    writeln!(w, "fix: {}", safe(&e.fix.message))?;
    if let Some(s) = &e.fix.statement {
        writeln!(w, "{}", serde_json::to_string_pretty(s)?)?;
    }
    Ok(())
}

/// `an identity-based policy`, `a service control policy`.
fn with_article(t: PolicyType) -> String {
    let d = t.describe();
    let article = if d.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {d}")
}
