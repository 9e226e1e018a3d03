//! The catalogs and indexes a command loads from the dataset, and the
//! step from recorded needs to a policy, in one place (the commands call
//! it; it calls no command):
//!
//! - [`catalog_for_namespace`]: the services an ARN is resolved in
//!   (`iamref arn`);
//! - [`for_request`]: the services a `policy write` request needs;
//! - [`for_prefixes`]: the services a set of policies names (`policy
//!   check`, `simulate`, `explain`);
//! - [`index`]: the operations, for the recorders (`record`, `calls`,
//!   `--from-cloudtrail`, `prune`, `simulate`);
//! - [`write_group`], [`policy_from_needs`]: recorded needs to a policy by
//!   `policy write`'s writer.

use crate::exit::input;
use anyhow::{Context, Result};
use iamref_dataset::db::{Connection, Operations, Selection};
use iamref_dataset::lookup;
use iamref_policy::catalog::Catalog;
use iamref_policy::record::ops::OperationIndex;
use iamref_policy::record::Need;
use iamref_policy::write::{write_policy, Request, WriteError};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};

/// The catalog an ARN is resolved in (`iamref arn`, `Catalog::resolve`):
/// the services with formats in its namespace (the ARN's service part,
/// lowercase) and those with `${Vendor}` formats; every service when the
/// namespace is not literal.
pub fn catalog_for_namespace(conn: &Connection, namespace: Option<&str>) -> Result<Catalog> {
    let _tx = iamref_dataset::db::read_transaction(conn)?;
    let (all_prefixes, ns) = lookup::namespaces(conn)?;
    let list: Option<Vec<String>> = namespace.map(|n| {
        let mut want: BTreeSet<String> = ns
            .by_namespace
            .get(n)
            .into_iter()
            .flatten()
            .cloned()
            .collect();
        for (k, v) in &ns.by_namespace {
            if k.contains("${") {
                want.extend(v.iter().cloned());
            }
        }
        want.into_iter().collect()
    });
    let services = iamref_dataset::db::read(conn, &Selection::policy(list.as_deref()))
        .context("reading the services")?;
    Ok(Catalog::new(services, all_prefixes))
}

/// The prefixes a request names, or `None` when a pattern spans services
/// (load them all).
fn prefixes(req: &Request, ns: &lookup::Namespaces) -> Option<BTreeSet<String>> {
    let mut out = BTreeSet::new();
    let actions = req
        .needs
        .iter()
        .map(|n| n.action.as_str())
        .chain(req.wildcard_only.iter().map(String::as_str))
        .chain(req.skip_resource_constraints.iter().map(String::as_str))
        .chain(req.exclude.iter().map(String::as_str));
    for a in actions {
        let p = a.split_once(':').map(|(p, _)| p).unwrap_or(a);
        if p.contains(['*', '?']) {
            return None;
        }
        out.insert(p.to_ascii_lowercase());
    }
    for (_, p) in &req.service_wildcard {
        out.insert(p.to_ascii_lowercase());
    }
    // ARNs in access-level mode: the services whose formats have that
    // service part.
    for (_, arn) in &req.access {
        let svc = arn
            .split(':')
            .nth(2)
            .unwrap_or_default()
            .to_ascii_lowercase();
        if svc.contains(['*', '?', '$']) {
            return None;
        }
        out.extend(ns.by_namespace.get(&svc).into_iter().flatten().cloned());
        out.insert(svc);
    }
    Some(out)
}

/// The catalog for a request: its services, those of the dependent
/// actions they list (with `--include-dependent`; as notes they need only
/// their names), and those sharing an ARN namespace with any of them (the
/// most specific format wins across services: `arn:aws:s3:::b/k` is an S3
/// object, not an ssm:bucket). One bulk read of the services.
pub fn for_request(conn: &Connection, req: &Request) -> Result<Catalog> {
    // One read transaction for all the queries (each would take the file
    // lock on its own); dropped, it ends.
    let _tx = iamref_dataset::db::read_transaction(conn)?;
    let (all_prefixes, ns) = lookup::namespaces(conn)?;
    // Dependent actions are granted in the context their operations set
    // (iam:PassRole only to the service that asks for it).
    let with_contexts = |cat: Catalog| -> Result<Catalog> {
        if !req.options.include_dependent {
            return Ok(cat);
        }
        let sel = Selection {
            facts: false,
            operations: Operations::WithContext,
            ..Selection::policy(None)
        };
        let services =
            iamref_dataset::db::read(conn, &sel).context("reading the operations' contexts")?;
        // By prefix and operation name, as SQL's NOCASE orders them.
        let mut ops: Vec<(&str, &iamref_dataset::Operation)> = services
            .iter()
            .flat_map(|s| s.operations.iter().map(move |o| (s.prefix.as_str(), o)))
            .collect();
        ops.sort_by_cached_key(|(p, o)| (p.to_ascii_lowercase(), o.name.to_ascii_lowercase()));
        Ok(
            cat.with_operation_contexts(iamref_policy::catalog::operation_contexts(
                ops.into_iter(),
            )),
        )
    };
    let Some(mut want) = prefixes(req, &ns) else {
        let services = iamref_dataset::db::read(conn, &Selection::policy(None))
            .context("reading the services")?;
        return with_contexts(Catalog::new(services, all_prefixes));
    };
    if req.options.include_dependent {
        let list: Vec<String> = want.iter().cloned().collect();
        for p in &list {
            want.extend(lookup::dependent_prefixes(conn, p)?);
        }
    }
    let sharing: BTreeSet<String> = want
        .iter()
        .filter_map(|p| ns.by_prefix.get(p))
        .flatten()
        .filter_map(|n| ns.by_namespace.get(n))
        .flatten()
        .cloned()
        .collect();
    want.extend(sharing);
    let list: Vec<String> = want.into_iter().collect();
    let services = iamref_dataset::db::read(conn, &Selection::policy(Some(&list)))
        .context("reading the services")?;
    with_contexts(Catalog::new(services, all_prefixes))
}

/// Load the catalog a set of policies needs: the union of their prefixes
/// (every service when one needs all), plus the list of every prefix, in
/// one read transaction.
pub fn for_prefixes(conn: &Connection, prefixes: Option<Vec<String>>) -> Result<Catalog> {
    let _tx = iamref_dataset::db::read_transaction(conn).context("opening a read transaction")?;
    let services = iamref_dataset::db::read(
        conn,
        &iamref_dataset::db::Selection::policy(prefixes.as_deref()),
    )
    .context("reading the services the policies name")?;
    let all = iamref_dataset::lookup::prefixes(conn)?;
    Ok(Catalog::new(services, all))
}

/// One group of actions with the resources they were seen on, for
/// `iamref record` and `--from-cloudtrail`: the writer with `--widen`, so a
/// recording always gives a policy; what widens is in the notes.
pub fn write_group(
    conn: &Connection,
    needs: Vec<iamref_policy::write::Need>,
    resources: &[String],
    partition: &str,
) -> Result<(Value, Vec<iamref_policy::write::Note>)> {
    let mut req = Request {
        needs,
        resources: resources.to_vec(),
        ..Request::default()
    };
    req.options.widen = true;
    req.options.partition = partition.to_string();
    let cat = for_request(conn, &req)?;
    let w = write_policy(&cat, &req).map_err(|e: WriteError| input(e.to_string()))?;
    Ok((w.policy(), w.notes))
}

/// The dataset's operations, indexed once per run: the facts the recorder
/// uses (actions, their resource types and ARN formats) and every
/// operation with its contexts and SDK clients, without texts or
/// provenance.
pub fn index(conn: &Connection) -> Result<OperationIndex> {
    use iamref_dataset::db::{Operations, Selection};
    let sel = Selection {
        operations: Operations::All,
        ..Selection::policy(None)
    };
    let mut services = iamref_dataset::db::read(conn, &sel).context("reading the operations")?;
    // By prefix, as SQL's NOCASE orders them.
    services.sort_by_cached_key(|s| s.prefix.to_ascii_lowercase());
    Ok(OperationIndex::new(&services))
}

/// At most this many resources per action in a written policy; more
/// under one path are widened to the path's wildcard, with a note.
pub const MAX_RESOURCES: usize = 20;

/// A policy granting the needs: actions that share the same resources
/// share a statement, each group written by `policy write`'s writer (so
/// every resource is checked against the action's resource types).
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

/// Prints the notes on stderr: all of them, or under `-q` only those that
/// widen.
pub fn print_record_notes(notes: &[RecordNote]) {
    for n in notes {
        if n.widens {
            crate::diag::widening(&n.text);
        } else {
            crate::diag::note(&n.text);
        }
    }
}

pub fn policy_from_needs(conn: &Connection, needs: &[&Need]) -> Result<(Value, Vec<RecordNote>)> {
    // Actions with the same resources (and context) share a statement.
    type Group = (Vec<String>, Vec<(String, Vec<String>)>);
    let mut groups: BTreeMap<Group, Vec<iamref_policy::write::Need>> = BTreeMap::new();
    let mut notes = Vec::new();
    for n in needs {
        let mut n = (*n).clone();
        // Collapsing ARNs to a path wildcard widens.
        notes.extend(
            iamref_policy::record::collapse_resources(&mut n, MAX_RESOURCES)
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
            .push(iamref_policy::write::Need {
                action: n.action.clone(),
                resources: Vec::new(),
                context,
            });
    }
    let mut statements: Vec<Value> = Vec::new();
    let mut sids: BTreeMap<String, usize> = BTreeMap::new();
    let mut written: Vec<iamref_policy::write::Note> = Vec::new();
    for ((resources, _), needs) in groups {
        let partition = resources
            .iter()
            .find_map(|r| r.strip_prefix("arn:").and_then(|r| r.split(':').next()))
            .filter(|p| !p.is_empty() && *p != "*")
            .unwrap_or("aws")
            .to_string();
        let (policy, n) = write_group(conn, needs, &resources, &partition)?;
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
        n.code != iamref_policy::write::NoteCode::DependentAction
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
