//! `policy prune`: an identity policy cut down to what recorded calls used.
//!
//! Each recorded call (action, resource) is matched against every Allow
//! statement's `Action` and `Resource` (conditions are not known from a
//! log, so a statement with conditions counts as usable: they are kept).
//! A statement keeps only the action entries and resource entries that
//! matched some call; an action wildcard (`s3:Get*`) is narrowed to the
//! recorded actions it matched. Deny statements and statements with
//! `NotAction`/`NotResource` are kept as they are. The result never grants
//! more than the input: every kept pair was in the input's cross product.
//! What went unused, and the calls the input already denies, are reported.

use super::context::{arn_match, expand, Context};
use super::{evaluate, Decision, Doc, Policies, Request};
use crate::names::{has_wildcard, wildcard_match};
use serde::Serialize;
use serde_json::{Map, Value};

/// One recorded call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    pub action: String,
    /// The ARN (or ARN pattern scoped to region and account, when the log
    /// named none; `*` for actions without resources).
    pub resource: String,
}

/// Something prune took away.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unused {
    pub statement: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// `statement`, `action` or `resource`.
    pub kind: &'static str,
    /// The entry as written (empty for a whole statement).
    pub entry: String,
    /// For a narrowed wildcard: the actions it keeps.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub kept: Vec<String>,
}

impl std::fmt::Display for Unused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sid = self
            .sid
            .as_deref()
            .map(|s| format!(" ({s})"))
            .unwrap_or_default();
        match (self.kind, self.kept.is_empty()) {
            ("statement", _) => write!(
                f,
                "statement {}{sid}: removed: no recorded call used it",
                self.statement
            ),
            ("action", false) => write!(
                f,
                "statement {}{sid}: - {} + {}: only these were used",
                self.statement,
                self.entry,
                self.kept.join(", ")
            ),
            (kind, _) => write!(
                f,
                "statement {}{sid}: - {kind} {}: no recorded call used it",
                self.statement, self.entry
            ),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Pruned {
    pub policy: Value,
    pub unused: Vec<Unused>,
    /// Calls the input policy denies whatever their context (indexes).
    pub denied: Vec<usize>,
    pub changed: bool,
}

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

/// Does a policy `Resource` entry cover the call's resource? A call's
/// resource that is itself a pattern (the log named no ARN) is covered by
/// every entry that could have been the one used: either matches the other.
fn covers(entry: &str, resource: &str, ctx: &Context, vars: bool) -> bool {
    let hit = |p: &str, t: &str| expand(p, ctx, vars, true).is_ok_and(|toks| arn_match(&toks, t));
    hit(entry, resource) || (has_wildcard(resource) && hit(resource, entry))
}

/// Prune `policy` (the document as JSON) to what `calls` used.
/// `principal`: who made the calls (for the denied-calls report).
pub fn prune(policy: &Value, calls: &[Call], principal: Option<&str>) -> Result<Pruned, String> {
    let text = policy.to_string();
    let parsed = crate::document::parse(&text).map_err(|e| e.message)?;
    let vars = matches!(&parsed.version, Some(v) if v.value != "2008-10-17");
    let Some(obj) = policy.as_object() else {
        return Err("not a policy document: the top level is not a JSON object".into());
    };
    let stmts: Vec<Value> = match obj.get("Statement") {
        Some(Value::Array(a)) => a.clone(),
        Some(v @ Value::Object(_)) => vec![v.clone()],
        _ => return Err("Statement must be an object or a list of objects".into()),
    };
    // Which calls does the input deny whatever their context (a log does
    // not carry every condition key): Allow conditions taken as met, Deny
    // statements with conditions as not applying.
    let mut certain = parsed.clone();
    for st in &mut certain.statements {
        if st.is_allow() {
            st.conditions.clear();
        } else if !st.conditions.is_empty() {
            st.effect = None;
        }
    }
    let docs = Policies {
        identity: vec![Doc {
            file: "policy".into(),
            position: None,
            policy: certain,
        }],
        ..Policies::default()
    };
    let ctx = Context::new();
    let mut denied = Vec::new();
    for (i, c) in calls.iter().enumerate() {
        let r = Request {
            action: c.action.clone(),
            resource: c.resource.clone(),
            principal: principal.map(str::to_string),
            ..Request::default()
        };
        // A call the log named no ARN for: allowed when some Allow
        // statement could have allowed it (its ARN is unknown).
        let allowed = if c.resource != "*" && has_wildcard(&c.resource) {
            parsed.statements.iter().any(|st| {
                st.is_allow()
                    && st
                        .action
                        .as_ref()
                        .is_some_and(|a| super::action_in(a, &c.action))
                    && st.resource.as_ref().is_some_and(|e| {
                        e.items
                            .iter()
                            .any(|x| covers(&x.value, &c.resource, &ctx, vars))
                    })
            })
        } else {
            evaluate(&docs, &r).decision == Decision::Allowed
        };
        if !allowed {
            denied.push(i);
        }
    }
    let mut out_stmts = Vec::new();
    let mut unused = Vec::new();
    for (i, st) in stmts.iter().enumerate() {
        let sid = st.get("Sid").and_then(Value::as_str).map(str::to_string);
        let plain = st.get("Effect").and_then(Value::as_str) == Some("Allow")
            && st.get("NotAction").is_none()
            && st.get("NotResource").is_none();
        let (Some(actions), Some(resources)) = (
            st.get("Action").and_then(strings),
            st.get("Resource").and_then(strings),
        ) else {
            out_stmts.push(st.clone());
            continue;
        };
        if !plain {
            out_stmts.push(st.clone());
            continue;
        }
        let mut used_actions: Vec<(String, Vec<String>)> =
            actions.iter().map(|a| (a.clone(), Vec::new())).collect();
        let mut used_resources = vec![false; resources.len()];
        for c in calls {
            let ri: Vec<usize> = (0..resources.len())
                .filter(|&j| covers(&resources[j], &c.resource, &ctx, vars))
                .collect();
            if ri.is_empty() {
                continue;
            }
            let mut any = false;
            for (a, hits) in used_actions.iter_mut() {
                if wildcard_match(a, &c.action) {
                    any = true;
                    if !hits.iter().any(|h| h.eq_ignore_ascii_case(&c.action)) {
                        hits.push(c.action.clone());
                    }
                }
            }
            if any {
                for j in ri {
                    used_resources[j] = true;
                }
            }
        }
        let mut kept_actions: Vec<String> = Vec::new();
        for (a, hits) in &used_actions {
            if hits.is_empty() {
                unused.push(Unused {
                    statement: i,
                    sid: sid.clone(),
                    kind: "action",
                    entry: a.clone(),
                    kept: Vec::new(),
                });
            } else if has_wildcard(a) {
                let mut h = hits.clone();
                h.sort();
                unused.push(Unused {
                    statement: i,
                    sid: sid.clone(),
                    kind: "action",
                    entry: a.clone(),
                    kept: h.clone(),
                });
                kept_actions.extend(h);
            } else {
                kept_actions.push(a.clone());
            }
        }
        let mut seen = std::collections::HashSet::new();
        kept_actions.retain(|a| seen.insert(a.to_ascii_lowercase()));
        if kept_actions.is_empty() {
            unused.push(Unused {
                statement: i,
                sid: sid.clone(),
                kind: "statement",
                entry: String::new(),
                kept: Vec::new(),
            });
            continue;
        }
        let mut kept_resources = Vec::new();
        for (j, r) in resources.iter().enumerate() {
            if used_resources[j] {
                kept_resources.push(r.clone());
            } else {
                unused.push(Unused {
                    statement: i,
                    sid: sid.clone(),
                    kind: "resource",
                    entry: r.clone(),
                    kept: Vec::new(),
                });
            }
        }
        let mut m = Map::new();
        for (k, v) in st.as_object().into_iter().flatten() {
            match k.as_str() {
                "Action" => m.insert(k.clone(), one_or_list(&kept_actions)),
                "Resource" => m.insert(k.clone(), one_or_list(&kept_resources)),
                _ => m.insert(k.clone(), v.clone()),
            };
        }
        out_stmts.push(Value::Object(m));
    }
    let mut out = obj.clone();
    out.insert("Statement".into(), Value::Array(out_stmts));
    let policy_out = Value::Object(out);
    Ok(Pruned {
        changed: !unused.is_empty(),
        policy: policy_out,
        unused,
        denied,
    })
}

/// The calls a recording used, from its needs (those always needed: a
/// recording's `granted`): one per action and resource, and for an action
/// seen on no resource, one on any (`arn:*:*:*:*:*`: any resource the
/// statement lists).
pub fn calls_from_needs<'a>(needs: impl IntoIterator<Item = &'a crate::record::Need>) -> Vec<Call> {
    let mut calls = Vec::new();
    for n in needs {
        if n.resources.is_empty() {
            calls.push(Call {
                action: n.action.clone(),
                resource: "arn:*:*:*:*:*".into(),
            });
        }
        for res in &n.resources {
            calls.push(Call {
                action: n.action.clone(),
                resource: res.clone(),
            });
        }
    }
    calls
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn call(a: &str, r: &str) -> Call {
        Call {
            action: a.into(),
            resource: r.into(),
        }
    }

    #[test]
    fn calls_from_needs_one_per_resource_or_any() {
        // Constructed needs (not a real recording).
        let need = |action: &str, resources: &[&str]| {
            crate::record::Need::constructed(action, resources, true)
        };
        let needs = [
            need("s3:GetObject", &["arn:aws:s3:::b/k", "arn:aws:s3:::a/k"]),
            need("sqs:ListQueues", &[]),
        ];
        assert_eq!(
            calls_from_needs(&needs),
            [
                call("s3:GetObject", "arn:aws:s3:::a/k"),
                call("s3:GetObject", "arn:aws:s3:::b/k"),
                call("sqs:ListQueues", "arn:*:*:*:*:*"),
            ]
        );
    }

    #[test]
    fn keeps_what_was_used_and_reports_the_rest() {
        let p = json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "Data", "Effect": "Allow", "Action": ["s3:Get*", "s3:PutObject", "s3:DeleteObject"],
             "Resource": ["arn:aws:s3:::a/*", "arn:aws:s3:::b/*"]},
            {"Sid": "Queues", "Effect": "Allow", "Action": "sqs:*", "Resource": "*"},
            {"Sid": "Guard", "Effect": "Deny", "Action": "s3:DeleteBucket", "Resource": "*"},
            {"Sid": "Tagged", "Effect": "Allow", "Action": "ec2:StartInstances", "Resource": "*",
             "Condition": {"StringEquals": {"aws:ResourceTag/team": "red"}}}
        ]});
        let calls = [
            call("s3:GetObject", "arn:aws:s3:::a/k"),
            call("s3:GetObjectTagging", "arn:aws:s3:::a/k"),
            call("s3:PutObject", "arn:aws:s3:::a/j"),
            call(
                "ec2:StartInstances",
                "arn:aws:ec2:us-east-1:111122223333:instance/i-1",
            ),
            call("kms:Decrypt", "arn:aws:kms:us-east-1:111122223333:key/k"),
        ];
        let r = prune(&p, &calls, None).unwrap();
        assert!(r.changed);
        let st = r.policy["Statement"].as_array().unwrap();
        assert_eq!(st.len(), 3, "{}", r.policy);
        assert_eq!(
            st[0]["Action"],
            json!(["s3:GetObject", "s3:GetObjectTagging", "s3:PutObject"])
        );
        assert_eq!(st[0]["Resource"], json!("arn:aws:s3:::a/*"));
        assert_eq!(st[1]["Sid"], "Guard");
        assert_eq!(
            st[2]["Condition"], p["Statement"][3]["Condition"],
            "conditions kept"
        );
        let lines: Vec<String> = r.unused.iter().map(|u| u.to_string()).collect();
        assert!(
            lines.contains(
                &"statement 0 (Data): - action s3:DeleteObject: no recorded call used it"
                    .to_string()
            ),
            "{lines:?}"
        );
        assert!(
            lines.contains(
                &"statement 0 (Data): - resource arn:aws:s3:::b/*: no recorded call used it"
                    .to_string()
            ),
            "{lines:?}"
        );
        assert!(
            lines.contains(&"statement 1 (Queues): removed: no recorded call used it".to_string()),
            "{lines:?}"
        );
        // kms:Decrypt was denied by the input already.
        assert_eq!(r.denied, vec![4]);
    }

    #[test]
    fn unchanged_when_everything_was_used() {
        let p = json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::a/*"}]});
        let r = prune(&p, &[call("s3:GetObject", "arn:aws:s3:::a/k")], None).unwrap();
        assert!(!r.changed);
        assert_eq!(r.policy, p);
    }

    #[test]
    fn a_call_without_an_arn_keeps_every_resource_it_could_have_used() {
        let p = json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "sqs:SendMessage",
             "Resource": ["arn:aws:sqs:us-east-1:111122223333:q1", "arn:aws:sqs:eu-west-1:111122223333:q2"]}]});
        let r = prune(
            &p,
            &[call(
                "sqs:SendMessage",
                "arn:aws:sqs:us-east-1:111122223333:*",
            )],
            None,
        )
        .unwrap();
        assert_eq!(
            r.policy["Statement"][0]["Resource"],
            json!("arn:aws:sqs:us-east-1:111122223333:q1")
        );
        assert!(r.denied.is_empty());
    }
}
