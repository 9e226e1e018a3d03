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
    let mut k = about_resource(cat, m, policies, req);
    k.notes.extend(about_action(cat, policies, &req.action));
    k
}

/// The part of [`knowledge`] that depends on the resource (and action):
/// the type, whether the action takes it or only `"*"`.
pub fn about_resource(
    cat: &Catalog,
    m: &mut Matcher,
    policies: &Policies,
    req: &Request,
) -> Knowledge {
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
    k
}

/// The part of [`knowledge`] that depends on the action only: conditions
/// of the statements naming it on keys it never supplies.
pub fn about_action(cat: &Catalog, policies: &Policies, action: &str) -> Vec<String> {
    let mut notes = Vec::new();
    let Some(id) = cat.action_by_full_name(action) else {
        return notes;
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
            if !action_in(a, action) {
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
                if !judged || gives(key) {
                    continue;
                }
                let lk = key.to_ascii_lowercase();
                if seen.contains(&lk) {
                    continue;
                }
                seen.push(lk);
                notes.push(format!(
                    "{name} supplies no {key}: the condition at {}:{} is true only through IfExists or a negated operator",
                    d.file, c.key.at.line
                ));
            }
        }
    }
    notes
}

/// The formats of an action's resource types, each with the formats of its
/// namespace narrower than it: what [`quick_type`] needs to read a
/// concrete ARN's type straight from its text (built once per action).
pub struct ActionFormats {
    formats: Vec<(String, crate::arn::Format, Vec<crate::arn::Format>)>,
}

impl ActionFormats {
    pub fn new(cat: &Catalog, m: &mut Matcher, action: &str) -> ActionFormats {
        let mut formats = Vec::new();
        if let Some(id) = cat.action_by_full_name(action) {
            let (svc, act) = cat.get(id);
            for ar in &act.resource_types {
                let Some((ti, rt)) = cat.resource_type(id.service, &ar.name) else {
                    continue;
                };
                for f in cat.formats(id.service, ti) {
                    let narrower: Vec<crate::arn::Format> = cat
                        .namespace_formats(f)
                        .into_iter()
                        .filter(|o| o.as_str() != f.as_str() && m.strictly_narrower(o, f))
                        .cloned()
                        .collect();
                    formats.push((format!("{}:{}", svc.prefix, rt.name), f.clone(), narrower));
                }
            }
        }
        ActionFormats { formats }
    }
}

/// The action's resource type a concrete ARN belongs to, read from its
/// text; `None` when none of the action's types takes it or the ARN is a
/// pattern (then ask [`about_resource`]).
pub fn quick_type(f: &ActionFormats, arn: &str) -> Option<String> {
    f.formats
        .iter()
        .find(|(_, fmt, narrower)| fmt.takes_arn(arn, narrower) == Some(true))
        .map(|(t, _, _)| t.clone())
}
