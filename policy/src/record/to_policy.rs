//! Recorded needs to a policy (`iamref record`, `policy write
//! --from-cloudtrail`): actions seen on the same resources (and in the
//! same context) share a statement, each group written by `policy
//! write`'s writer with `widen` (a recording always gives a policy; what
//! widens is in the notes), so every resource is checked against the
//! action's resource types.
//!
//! Pure over one [`Catalog`] for all the needs: the caller loads it once
//! for [`catalog_request`] (the union of the groups' actions).

use super::Need;
use crate::catalog::Catalog;
use crate::write::{self, write_policy, NoteCode, Request, WriteError};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};

/// At most this many resources per action in a written policy; more
/// under one path are widened to the path's wildcard, with a note.
pub const MAX_RESOURCES: usize = 20;

/// A note on a recorded policy, and whether it says the policy is broader
/// than the calls asked for (such notes are printed whatever `-q` says).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct RecordNote {
    pub widens: bool,
    pub text: String,
}

impl std::fmt::Display for RecordNote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

/// The request whose catalog covers every group [`policy_from_needs`]
/// writes: the actions of the needs the dataset knows, granted with
/// `widen` (the catalog plan reads their services and those sharing an
/// ARN namespace with them; resources and partitions do not change it).
pub fn catalog_request(needs: &[&Need]) -> Request {
    let mut req = Request {
        needs: needs
            .iter()
            .filter(|n| n.known)
            .map(|n| write::Need::new(n.action.clone()))
            .collect(),
        ..Request::default()
    };
    req.options.widen = true;
    req
}

/// One group of actions with the resources they were seen on: the writer
/// with `widen`, in `partition`.
pub fn write_group(
    cat: &Catalog,
    needs: Vec<write::Need>,
    resources: &[String],
    partition: &str,
) -> Result<(Value, Vec<write::Note>), WriteError> {
    let mut req = Request {
        needs,
        resources: resources.to_vec(),
        ..Request::default()
    };
    req.options.widen = true;
    req.options.partition = partition.to_string();
    let w = write_policy(cat, &req)?;
    Ok((w.policy(), w.notes))
}

/// The partition of a group's resources: the first ARN's, else `aws`.
fn partition_of(resources: &[String]) -> String {
    resources
        .iter()
        .find_map(|r| r.strip_prefix("arn:").and_then(|r| r.split(':').next()))
        .filter(|p| !p.is_empty() && *p != "*")
        .unwrap_or("aws")
        .to_string()
}

/// A policy granting the needs: actions that share the same resources
/// (and context) share a statement, each group written by [`write_group`]
/// over `cat` (loaded for [`catalog_request`]). Resource lists longer than
/// [`MAX_RESOURCES`] are collapsed (a widening note); needs the dataset
/// does not know are left out with a note.
pub fn policy_from_needs(
    cat: &Catalog,
    needs: &[&Need],
) -> Result<(Value, Vec<RecordNote>), WriteError> {
    // Actions with the same resources (and context) share a statement.
    type Group = (Vec<String>, Vec<(String, Vec<String>)>);
    let mut groups: BTreeMap<Group, Vec<write::Need>> = BTreeMap::new();
    let mut notes = Vec::new();
    for n in needs {
        let mut n = (*n).clone();
        // Collapsing ARNs to a path wildcard widens.
        notes.extend(
            super::collapse_resources(&mut n, MAX_RESOURCES)
                .into_iter()
                .map(|text| RecordNote { widens: true, text }),
        );
        if !n.known {
            notes.push(RecordNote {
                widens: false,
                text: format!(
                    "{}: not an action of the dataset; left out of the policy",
                    n.action
                ),
            });
            continue;
        }
        let context = n.context.clone().unwrap_or_default();
        let key: Vec<(String, Vec<String>)> = context
            .iter()
            .map(|(k, v)| (k.clone(), v.iter().cloned().collect()))
            .collect();
        groups
            .entry((n.resources.iter().cloned().collect(), key))
            .or_default()
            .push(write::Need {
                action: n.action.clone(),
                resources: Vec::new(),
                context,
            });
    }
    let mut statements: Vec<Value> = Vec::new();
    let mut sids: BTreeMap<String, usize> = BTreeMap::new();
    let mut written: Vec<write::Note> = Vec::new();
    for ((resources, _), needs) in groups {
        let partition = partition_of(&resources);
        let (policy, n) = write_group(cat, needs, &resources, &partition)?;
        written.extend(n);
        for mut st in policy["Statement"].as_array().cloned().unwrap_or_default() {
            if let Some(sid) = st["Sid"].as_str().map(str::to_string) {
                let k = sids.entry(sid.clone()).or_insert(0);
                *k += 1;
                if *k > 1 {
                    st["Sid"] = json!(format!("{sid}{k}"));
                }
            }
            statements.push(st);
        }
    }
    // Each group is written on its own: a dependent action one group
    // reports as not granted may be granted by another.
    let granted: BTreeSet<String> = statements
        .iter()
        .filter_map(|st| st["Action"].as_array())
        .flatten()
        .filter_map(|a| a.as_str())
        .map(str::to_ascii_lowercase)
        .collect();
    written.retain(|n| {
        n.code != NoteCode::DependentAction
            || !n
                .action
                .as_deref()
                .is_some_and(|a| granted.contains(&a.to_ascii_lowercase()))
    });
    written.sort();
    written.dedup();
    notes.extend(written.iter().map(|n| RecordNote {
        widens: n.widens,
        text: n.to_string(),
    }));
    Ok((
        json!({"Version": "2012-10-17", "Statement": statements}),
        notes,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::tests::small;

    /// A constructed need (not a recording of real calls).
    fn need(action: &str, resources: &[&str], known: bool) -> Need {
        Need::constructed(action, resources, known)
    }

    /// Nothing recorded: a policy of no statement, and no note; the
    /// catalog for it holds no service.
    #[test]
    fn no_needs_give_a_policy_of_no_statement() {
        assert!(catalog_request(&[]).needs.is_empty());
        let (policy, notes) = policy_from_needs(&small(), &[]).unwrap();
        assert_eq!(policy, json!({"Version": "2012-10-17", "Statement": []}));
        assert!(notes.is_empty());
    }

    fn statements(policy: &Value) -> Vec<(Vec<String>, Vec<String>)> {
        let strings = |v: &Value| -> Vec<String> {
            match v {
                Value::Array(a) => a
                    .iter()
                    .filter_map(|x| x.as_str())
                    .map(String::from)
                    .collect(),
                Value::String(s) => vec![s.clone()],
                _ => Vec::new(),
            }
        };
        policy["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .map(|st| (strings(&st["Action"]), strings(&st["Resource"])))
            .collect()
    }

    #[test]
    fn the_catalog_request_names_the_known_actions_once_widened() {
        let a = need("s3:GetObject", &["arn:aws:s3:::b/k"], true);
        let b = need("dynamodb:GetItem", &[], true);
        let c = need("nope:Thing", &[], false);
        let req = catalog_request(&[&a, &b, &c]);
        let actions: Vec<&str> = req.needs.iter().map(|n| n.action.as_str()).collect();
        assert_eq!(actions, ["s3:GetObject", "dynamodb:GetItem"]);
        assert!(req.options.widen);
        assert!(req.resources.is_empty());
    }

    #[test]
    fn actions_on_the_same_resources_share_a_statement() {
        let cat = small();
        let get = need("s3:GetObject", &["arn:aws:s3:::b/k"], true);
        let put = need("s3:PutObject", &["arn:aws:s3:::b/k"], true);
        let item = need(
            "dynamodb:GetItem",
            &["arn:aws:dynamodb:us-east-1:123456789012:table/t"],
            true,
        );
        let unknown = need("s3:NotAnAction", &[], false);
        let (policy, notes) = policy_from_needs(&cat, &[&get, &item, &put, &unknown]).unwrap();
        assert_eq!(policy["Version"], "2012-10-17");
        let st = statements(&policy);
        assert_eq!(st.len(), 2, "{policy:#}");
        assert!(st.contains(&(
            vec!["s3:GetObject".to_string(), "s3:PutObject".to_string()],
            vec!["arn:aws:s3:::b/k".to_string()]
        )));
        assert!(st.contains(&(
            vec!["dynamodb:GetItem".to_string()],
            vec!["arn:aws:dynamodb:us-east-1:123456789012:table/t".to_string()]
        )));
        assert!(notes.contains(&RecordNote {
            widens: false,
            text: "s3:NotAnAction: not an action of the dataset; left out of the policy".into(),
        }));
        // Sids stay unique across groups.
        let sids: BTreeSet<&str> = policy["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|s| s["Sid"].as_str())
            .collect();
        assert_eq!(sids.len(), 2);
    }

    #[test]
    fn long_resource_lists_collapse_with_a_widening_note() {
        let cat = small();
        let arns: Vec<String> = (0..MAX_RESOURCES + 5)
            .map(|i| format!("arn:aws:s3:::b/dir/k{i}"))
            .collect();
        let refs: Vec<&str> = arns.iter().map(String::as_str).collect();
        let get = need("s3:GetObject", &refs, true);
        let (policy, notes) = policy_from_needs(&cat, &[&get]).unwrap();
        let st = statements(&policy);
        assert_eq!(st.len(), 1);
        assert!(st[0].1.len() <= MAX_RESOURCES, "{policy:#}");
        assert!(st[0].1.iter().any(|r| r.ends_with("/*")), "{policy:#}");
        assert!(notes.iter().any(|n| n.widens), "{notes:?}");
    }

    #[test]
    fn the_partition_comes_from_the_resources() {
        assert_eq!(partition_of(&["arn:aws-cn:s3:::b".into()]), "aws-cn");
        assert_eq!(partition_of(&["arn:*:s3:::b".into()]), "aws");
        assert_eq!(partition_of(&["*".into()]), "aws");
        assert_eq!(partition_of(&[]), "aws");
    }
}
