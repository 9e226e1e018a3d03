//! The catalogs and indexes a command loads from the dataset, in one
//! place (the commands call it; it calls no command). Thin loaders: the
//! plan of which services to read is `iamref_policy::catalog::plan`'s,
//! the step from recorded needs to a policy
//! `iamref_policy::record::to_policy`'s.
//!
//! - [`catalog_for_namespace`]: the services an ARN is resolved in
//!   (`iamref arn`);
//! - [`for_request`]: the services a `policy write` request needs;
//! - [`for_prefixes`]: the services a set of policies names (`simulate`,
//!   `explain`); [`for_check`] the same with only the details `policy
//!   check` consults;
//! - [`index`]: the operations, for the recorders (`record`, `calls`,
//!   `--from-cloudtrail`, `prune`, `simulate`);
//! - [`policy_from_needs`]: recorded needs to a policy, over one catalog
//!   for all of them.

use crate::exit::input;
use anyhow::{Context, Result};
use iamref_dataset::db::{Connection, Operations, Selection};
use iamref_dataset::lookup;
use iamref_policy::catalog::{plan, Catalog};
use iamref_policy::record::ops::OperationIndex;
use iamref_policy::record::to_policy::{self, RecordNote};
use iamref_policy::record::Need;
use iamref_policy::write::Request;
use serde_json::Value;

/// The catalog an ARN is resolved in (`iamref arn`, `Catalog::resolve`):
/// see [`plan::for_namespace`].
pub fn catalog_for_namespace(conn: &Connection, namespace: Option<&str>) -> Result<Catalog> {
    let _tx = iamref_dataset::db::read_transaction(conn)?;
    let (all_prefixes, ns) = lookup::namespaces(conn)?;
    let list = plan::for_namespace(&ns, namespace);
    let services = iamref_dataset::db::read(conn, &Selection::policy(list.as_deref()))
        .context("reading the services")?;
    Ok(Catalog::new(services, all_prefixes))
}

/// The catalog for a request: its services ([`plan::request_prefixes`]),
/// those of the dependent actions they list (with `include_dependent`;
/// as notes they need only their names), and those sharing an ARN
/// namespace with any of them ([`plan::with_sharing`]). One bulk read of
/// the services, in one read transaction.
pub fn for_request(conn: &Connection, req: &Request) -> Result<Catalog> {
    // One read transaction for all the queries (each would take the file
    // lock on its own); dropped, it ends.
    let _tx = iamref_dataset::db::read_transaction(conn)?;
    let (all_prefixes, ns) = lookup::namespaces(conn)?;
    let list = match plan::request_prefixes(req, &ns) {
        None => None,
        Some(mut want) => {
            if req.options.include_dependent {
                for p in want.clone() {
                    want.extend(lookup::dependent_prefixes(conn, &p)?);
                }
            }
            Some(plan::with_sharing(want, &ns))
        }
    };
    let services = iamref_dataset::db::read(conn, &Selection::policy(list.as_deref()))
        .context("reading the services")?;
    let cat = Catalog::new(services, all_prefixes);
    if !req.options.include_dependent {
        return Ok(cat);
    }
    // Dependent actions are granted in the context their operations set
    // (iam:PassRole only to the service that asks for it).
    let sel = Selection {
        facts: false,
        operations: Operations::WithContext,
        ..Selection::policy(None)
    };
    let services =
        iamref_dataset::db::read(conn, &sel).context("reading the operations' contexts")?;
    Ok(cat.with_operation_contexts(plan::operation_contexts_of(&services)))
}

/// Load the catalog a set of policies needs: the union of their prefixes
/// (every service when one needs all), plus the list of every prefix, in
/// one read transaction.
pub fn for_prefixes(conn: &Connection, prefixes: Option<Vec<String>>) -> Result<Catalog> {
    for_check(conn, prefixes, None)
}

/// The catalog of a `policy check` run: [`for_prefixes`], with the
/// details (resource types, keys, dependent actions) only of the actions
/// `actions` matches (`None`: all), the only ones the checks consult
/// (`iamref_policy::lint::catalog_actions`).
pub fn for_check(
    conn: &Connection,
    prefixes: Option<Vec<String>>,
    actions: Option<Vec<String>>,
) -> Result<Catalog> {
    let _tx = iamref_dataset::db::read_transaction(conn).context("opening a read transaction")?;
    let sel = Selection {
        actions,
        ..Selection::policy(prefixes.as_deref())
    };
    let services =
        iamref_dataset::db::read(conn, &sel).context("reading the services the policies name")?;
    let all = iamref_dataset::lookup::prefixes(conn)?;
    Ok(Catalog::new(services, all))
}

/// The dataset's operations, indexed once per run: the facts the recorder
/// uses (actions, their resource types and ARN formats) and every
/// operation with its contexts and SDK clients, without texts or
/// provenance.
pub fn index(conn: &Connection) -> Result<OperationIndex> {
    let sel = Selection {
        operations: Operations::All,
        ..Selection::policy(None)
    };
    let mut services = iamref_dataset::db::read(conn, &sel).context("reading the operations")?;
    // By prefix, as SQL's NOCASE orders them.
    services.sort_by_cached_key(|s| s.prefix.to_ascii_lowercase());
    Ok(OperationIndex::new(&services))
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

/// A policy granting recorded needs (`record`, `--from-cloudtrail`): one
/// catalog for all of them (`to_policy::catalog_request`), loaded once,
/// then `to_policy::policy_from_needs`.
pub fn policy_from_needs(conn: &Connection, needs: &[&Need]) -> Result<(Value, Vec<RecordNote>)> {
    let cat = for_request(conn, &to_policy::catalog_request(needs))?;
    to_policy::policy_from_needs(&cat, needs).map_err(|e| input(crate::write_cmd::write_error(&e)))
}
