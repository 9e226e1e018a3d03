//! `policy tighten`: each Allow statement rewritten so every action keeps
//! only the listed Resources it can use, grouped by resource. It never
//! grants more than the input: nothing is added, conditions and other
//! elements are copied to every part, Sids kept (numbered when a
//! statement splits), Deny / NotAction / NotResource statements untouched.

use super::data::{self, Act, Data};
use super::Catalog;
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::BTreeSet;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TightenOptions {
    /// Replace wildcard actions (`s3:Get*`) by the actions they match that
    /// can use some listed Resource, each scoped.
    pub expand_wildcards: bool,
}

/// One thing taken away.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Removal {
    /// 0-based index of the statement in the input.
    pub statement: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// The action as written in the input.
    pub action: String,
    /// Resources no longer granted to it (all of them when the action is
    /// dropped).
    pub resources: Vec<String>,
    pub reason: String,
}

impl std::fmt::Display for Removal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sid = self
            .sid
            .as_deref()
            .map(|s| format!(" ({s})"))
            .unwrap_or_default();
        write!(
            f,
            "statement {}{sid}: - {} on {}: {}",
            self.statement,
            self.action,
            self.resources.join(", "),
            self.reason
        )
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Tightened {
    pub policy: Value,
    pub removed: Vec<Removal>,
    /// Wildcard actions replaced by the actions they match
    /// (`--expand-wildcards`): (statement, pattern, actions).
    pub expanded: Vec<(usize, String, Vec<String>)>,
    pub changed: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TightenError(pub String);

fn strings(v: &Value) -> Option<Vec<String>> {
    match v {
        Value::String(s) => Some(vec![s.clone()]),
        Value::Array(a) => a.iter().map(|x| x.as_str().map(str::to_string)).collect(),
        _ => None,
    }
}

fn one_or_list(v: &[String]) -> Value {
    if v.len() == 1 {
        Value::String(v[0].clone())
    } else {
        Value::Array(v.iter().cloned().map(Value::String).collect())
    }
}

/// The resources (in input order) that one of `acts` can use.
fn usable(d: &Data, acts: &[Act], resources: &[(String, Option<data::Given>)]) -> Vec<String> {
    resources
        .iter()
        .filter(|(text, g)| {
            text == "*"
                || g.as_ref().is_some_and(|g| {
                    acts.iter().any(|a| {
                        a.resource_types()
                            .iter()
                            .any(|(t, _)| d.fits(g, a.prefix(), t))
                    })
                })
        })
        .map(|(t, _)| t.clone())
        .collect()
}

/// The request whose catalog `tighten` needs for `policy`: every Action /
/// NotAction string of its statements (`*` alone names every service).
pub fn catalog_request(policy: &Value) -> super::Request {
    let stmts: Vec<&Value> = match policy.get("Statement") {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(v) => vec![v],
        None => Vec::new(),
    };
    let mut out = Vec::new();
    for s in stmts {
        for k in ["Action", "NotAction"] {
            match s.get(k) {
                Some(Value::String(a)) => out.push(a.clone()),
                Some(Value::Array(a)) => {
                    out.extend(a.iter().filter_map(Value::as_str).map(str::to_string))
                }
                _ => {}
            }
        }
    }
    super::Request {
        needs: out
            .into_iter()
            .map(|a| super::Need::new(if a == "*" { "*:*".to_string() } else { a }))
            .collect(),
        ..super::Request::default()
    }
}

/// Tightens every Allow statement of `policy`.
pub fn tighten(
    cat: &Catalog,
    policy: &Value,
    opts: TightenOptions,
) -> Result<Tightened, TightenError> {
    let Some(obj) = policy.as_object() else {
        return Err(TightenError(
            "not a policy document: the top level is not a JSON object".into(),
        ));
    };
    let stmts: Vec<Value> = match obj.get("Statement") {
        Some(Value::Array(a)) => a.clone(),
        Some(v @ Value::Object(_)) => vec![v.clone()],
        Some(_) => {
            return Err(TightenError(
                "Statement must be an object or a list of objects".into(),
            ))
        }
        None => {
            return Err(TightenError(
                "not an IAM policy: it has no Statement".into(),
            ))
        }
    };
    let d = Data::new(cat);
    let mut used_sids: BTreeSet<String> = stmts
        .iter()
        .filter_map(|s| s.get("Sid").and_then(Value::as_str).map(str::to_string))
        .collect();
    let mut out = Vec::new();
    let mut removed = Vec::new();
    let mut expanded = Vec::new();
    for (i, st) in stmts.iter().enumerate() {
        let Some(map) = st.as_object() else {
            return Err(TightenError(format!("statement {i} is not an object")));
        };
        let sid = map.get("Sid").and_then(Value::as_str).map(str::to_string);
        let untouched = map.get("Effect").and_then(Value::as_str) != Some("Allow")
            || map.contains_key("NotAction")
            || map.contains_key("NotResource");
        let (Some(actions), Some(resources)) = (
            map.get("Action").and_then(strings),
            map.get("Resource").and_then(strings),
        ) else {
            out.push(st.clone());
            continue;
        };
        if untouched {
            out.push(st.clone());
            continue;
        }
        let parsed: Vec<(String, Option<data::Given>)> = resources
            .iter()
            .map(|r| (r.clone(), data::parse_given(r).ok()))
            .collect();
        // (action as written, resources kept), in input order.
        let mut kept: Vec<(String, Vec<String>)> = Vec::new();
        for a in &actions {
            let acts = if a == "*" { None } else { d.expand(a).ok() };
            let Some(acts) = acts else {
                // `*` or an action the data does not know: left as is
                // (`policy check` reports unknown actions).
                kept.push((a.clone(), resources.clone()));
                continue;
            };
            let is_pattern = a.contains(['*', '?']);
            if is_pattern && opts.expand_wildcards {
                let mut names = Vec::new();
                for act in &acts {
                    let u = usable(&d, std::slice::from_ref(act), &parsed);
                    if !u.is_empty() {
                        names.push(act.full());
                        kept.push((act.full(), u));
                    }
                }
                expanded.push((i, a.clone(), names.clone()));
                if names.is_empty() {
                    removed.push(Removal {
                        statement: i,
                        sid: sid.clone(),
                        action: a.clone(),
                        resources: resources.clone(),
                        reason: "none of the actions it matches can use these Resources".into(),
                    });
                }
                continue;
            }
            let u = usable(&d, &acts, &parsed);
            let lost: Vec<String> = resources
                .iter()
                .filter(|r| !u.contains(r))
                .cloned()
                .collect();
            if !lost.is_empty() {
                let reason = if u.is_empty() {
                    if acts.iter().all(|x| x.resource_types().is_empty()) {
                        "it takes only \"*\" (no resource-level permissions); dropped".to_string()
                    } else {
                        "it can use none of the Resources; dropped".to_string()
                    }
                } else {
                    format!(
                        "not a resource type {} takes",
                        if is_pattern {
                            "any action it matches"
                        } else {
                            "it"
                        }
                    )
                };
                removed.push(Removal {
                    statement: i,
                    sid: sid.clone(),
                    action: a.clone(),
                    resources: lost,
                    reason,
                });
            }
            if !u.is_empty() {
                kept.push((a.clone(), u));
            }
        }
        // Group by resources, first appearance first.
        let mut groups: Vec<(Vec<String>, Vec<String>)> = Vec::new();
        for (a, res) in kept {
            match groups.iter_mut().find(|(r, _)| *r == res) {
                Some(g) => {
                    if !g.1.contains(&a) {
                        g.1.push(a)
                    }
                }
                None => groups.push((res, vec![a])),
            }
        }
        let same = groups.len() == 1 && groups[0].0 == resources && groups[0].1 == actions;
        if same {
            out.push(st.clone());
            continue;
        }
        for (n, (res, acts)) in groups.into_iter().enumerate() {
            let mut m = Map::new();
            for (k, v) in map {
                match k.as_str() {
                    "Sid" => {
                        let s = v.as_str().unwrap_or_default();
                        let new = if n == 0 {
                            s.to_string()
                        } else {
                            let mut k = n + 1;
                            while used_sids.contains(&format!("{s}{k}")) {
                                k += 1;
                            }
                            format!("{s}{k}")
                        };
                        used_sids.insert(new.clone());
                        m.insert(k.clone(), Value::String(new));
                    }
                    "Action" => {
                        m.insert(
                            k.clone(),
                            Value::Array(acts.iter().cloned().map(Value::String).collect()),
                        );
                    }
                    "Resource" => {
                        m.insert(k.clone(), one_or_list(&res));
                    }
                    _ => {
                        m.insert(k.clone(), v.clone());
                    }
                }
            }
            out.push(Value::Object(m));
        }
    }
    let changed = !removed.is_empty() || !expanded.is_empty() || out != stmts;
    let mut doc = obj.clone();
    let statement = match obj.get("Statement") {
        Some(Value::Object(_)) if out.len() == 1 => out.pop().expect("one statement"),
        _ => Value::Array(out),
    };
    doc.insert("Statement".into(), statement);
    Ok(Tightened {
        policy: Value::Object(doc),
        removed,
        expanded,
        changed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actions(policy: &Value) -> Vec<String> {
        catalog_request(policy)
            .needs
            .into_iter()
            .map(|n| n.action)
            .collect()
    }

    #[test]
    fn the_catalog_request_names_every_action_and_not_action() {
        // Constructed policies.
        let p = serde_json::json!({"Statement": [
            {"Effect": "Allow", "Action": ["s3:GetObject", 1], "Resource": "*"},
            {"Effect": "Deny", "NotAction": "iam:*", "Resource": "*"},
            {"Effect": "Allow", "Action": "*", "Resource": "*"}
        ]});
        assert_eq!(actions(&p), ["s3:GetObject", "iam:*", "*:*"]);
        // One statement as an object; none at all.
        let one = serde_json::json!({"Statement": {"Action": "sqs:SendMessage"}});
        assert_eq!(actions(&one), ["sqs:SendMessage"]);
        assert!(actions(&serde_json::json!({})).is_empty());
        assert!(
            actions(&serde_json::json!({"Statement": [{"Action": "kms:Decrypt"}]}))
                .iter()
                .all(|a| a == "kms:Decrypt")
        );
    }
}
