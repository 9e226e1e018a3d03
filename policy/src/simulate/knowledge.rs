//! What the reference knows about a request that IAM's string matching
//! does not: the resource type an ARN resolves to, whether the action
//! takes it (or takes only `"*"`), and condition keys the action never
//! supplies. These are reported beside the decision; they never change it
//! (IAM itself only matches strings).

use super::{action_in, Policies, Request};
use crate::arn::{Matcher, Pattern};
use crate::catalog::Catalog;
use crate::names::key_matches_template;

/// The reference's view of one request.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Knowledge {
    /// `s3:object`: the action's resource type the ARN resolves to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_type: Option<String>,
    pub notes: Vec<String>,
}

/// What the catalog says about `req` and the statements that name its
/// action. `m` is reused across requests (it remembers decisions).
pub fn knowledge(cat: &Catalog, m: &mut Matcher, policies: &Policies, req: &Request) -> Knowledge {
    let mut k = Knowledge::default();
    let Some(id) = cat.action_by_full_name(&req.action) else {
        let prefix = req.action.split(':').next().unwrap_or("");
        if cat.service(prefix).is_some() {
            k.notes
                .push(format!("the reference lists no action {}", req.action));
        } else if !cat.has_prefix(prefix) {
            k.notes
                .push(format!("the reference has no service prefix {prefix:?}"));
        }
        return k;
    };
    let (svc, act) = cat.get(id);
    let name = format!("{}:{}", svc.prefix, act.name);
    let docs = || {
        policies
            .identity
            .iter()
            .chain(&policies.resource)
            .chain(policies.boundary.iter().flatten())
            .chain(policies.session.iter().flatten())
            .chain(policies.endpoint.iter().flatten())
            .chain(policies.scp.iter().flatten())
            .chain(policies.rcp.iter().flatten())
    };
    if act.resource_types.is_empty() {
        if req.resource != "*" {
            k.notes.push(format!(
                "{name} takes no resource type: AWS authorizes it on \"*\", so only a Resource matching \"*\" allows it (simulated on {} as given)",
                req.resource
            ));
        }
        for d in docs() {
            for st in &d.policy.statements {
                let (Some(a), Some(r)) = (&st.action, &st.resource) else {
                    continue;
                };
                if st.is_allow()
                    && action_in(a, &req.action)
                    && !r.items.iter().any(|i| i.value == "*")
                {
                    k.notes.push(format!(
                        "{}:{}: statement {}{} names {name}, which takes only \"*\", with Resource {}: it never allows {name}",
                        d.file,
                        st.at.line,
                        st.index,
                        st.sid().map(|s| format!(" ({s})")).unwrap_or_default(),
                        super::list(r)
                    ));
                }
            }
        }
    } else if let Ok(pat) = Pattern::parse(&req.resource) {
        // The catalog's one answer for "which resource type is this ARN".
        let resolved = cat.resolve(m, &pat);
        let mut takes = Vec::new();
        let mut other = Vec::new();
        for r in &resolved {
            let (owner, rt) = (
                cat.service_at(r.service),
                &cat.service_at(r.service).resource_types[r.resource_type as usize],
            );
            let taken = r.service == id.service
                && act
                    .resource_types
                    .iter()
                    .any(|a| a.name.eq_ignore_ascii_case(&rt.name));
            let name = format!("{}:{}", owner.prefix, rt.name);
            if taken {
                takes.push(name);
            } else {
                other.push(name);
            }
        }
        if let Some(t) = takes.first() {
            k.resource_type = Some(t.clone());
        } else {
            let wanted: Vec<String> = act
                .resource_types
                .iter()
                .map(|r| format!("{}{}", r.name, if r.required { "*" } else { "" }))
                .collect();
            k.notes.push(match other.first() {
                Some(o) => format!(
                    "{name} cannot take this ARN: it is a {o}; {name} takes {}",
                    wanted.join(", ")
                ),
                None => format!(
                    "{} is no resource type of {}; {name} takes {}",
                    req.resource,
                    svc.prefix,
                    wanted.join(", ")
                ),
            });
        }
    }
    // Condition keys the action never supplies.
    let mut supplied: Vec<&str> = act.condition_keys.iter().map(|k| k.name.as_str()).collect();
    for ar in &act.resource_types {
        supplied.extend(ar.condition_keys.iter().map(|k| k.name.as_str()));
        if let Some((_, rt)) = cat.resource_type(id.service, &ar.name) {
            supplied.extend(rt.condition_keys.iter().map(|k| k.name.as_str()));
        }
    }
    let gives = |key: &str| {
        supplied
            .iter()
            .any(|s| s.eq_ignore_ascii_case(key) || key_matches_template(s, key))
    };
    let mut seen = Vec::new();
    for d in docs() {
        for st in &d.policy.statements {
            let Some(a) = &st.action else { continue };
            if !action_in(a, &req.action) {
                continue;
            }
            for c in &st.conditions {
                let key = c.key.value.as_str();
                let Some((prefix, rest)) = key.split_once(':') else {
                    continue;
                };
                let lower = rest.to_ascii_lowercase();
                let judged = if prefix.eq_ignore_ascii_case("aws") {
                    lower.starts_with("requesttag/")
                        || lower.starts_with("resourcetag/")
                        || lower == "tagkeys"
                } else {
                    prefix.eq_ignore_ascii_case(&svc.prefix)
                };
                if !judged || gives(key) || req.context.contains(key) {
                    continue;
                }
                let lk = key.to_ascii_lowercase();
                if seen.contains(&lk) {
                    continue;
                }
                seen.push(lk);
                k.notes.push(format!(
                    "{name} supplies no {key}: the condition at {}:{} is true only through IfExists or a negated operator",
                    d.file, c.key.at.line
                ));
            }
        }
    }
    k
}
