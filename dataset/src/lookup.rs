//! Lookups the commands make besides reading services back ([`crate::db::read`]):
//! small queries with typed results, so that no SQL lives outside this
//! crate.

use crate::{Error, Sources};
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

mod api;
mod resolve;
mod show;
pub use api::{api_service, find_operation, operation_rows, sdk_method, ApiRow};
pub use resolve::{
    access_level, check_name, filter_actions, parse_action_ref, resolve_actions, resource_type_id,
    service_id, ActionFilter, ActionRef, LookupError,
};
pub use show::{
    condition_key_info, service_info, ConditionKeyInfo, KeyInfo, KeyUse, NameArns, OtherType,
    ServiceInfo,
};

/// Every prefix of the dataset, as stored, by prefix (any case: read
/// from the prefix index, no sort).
pub fn prefixes(conn: &Connection) -> Result<Vec<String>, Error> {
    let mut q = conn.prepare_cached("SELECT prefix FROM services ORDER BY prefix")?;
    let rows = q.query_map([], |r| r.get::<_, String>(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Which prefixes have ARN formats in which namespace (the service part
/// of `arn:${Partition}:SERVICE:…`), both ways, lowercase.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Namespaces {
    /// namespace → prefixes.
    pub by_namespace: BTreeMap<String, BTreeSet<String>>,
    /// prefix → namespaces.
    pub by_prefix: BTreeMap<String, BTreeSet<String>>,
}

/// Every prefix of the dataset (as stored, in id order), and which
/// prefixes have formats in which namespace. One scan of the formats over
/// the base tables, no string functions: the service part is cut out here,
/// and a pair is copied only when it changes (a service's formats nearly
/// all share one namespace).
pub fn namespaces(conn: &Connection) -> Result<(Vec<String>, Namespaces), Error> {
    // In id order (the rowid), so a service is found by binary search.
    let mut services: Vec<(i64, String)> = Vec::new();
    {
        let mut q = conn.prepare_cached("SELECT id, prefix FROM services ORDER BY id")?;
        let mut rows = q.query([])?;
        while let Some(r) = rows.next()? {
            services.push((r.get(0)?, r.get(1)?));
        }
    }
    let mut n = Namespaces::default();
    let mut q = conn.prepare_cached(
        "SELECT t.service_id, f.arn FROM resource_types t
         JOIN arn_formats f ON f.resource_type_id = t.id",
    )?;
    // The last pair stored: service id, lowercase namespace.
    let mut last: Option<(i64, String)> = None;
    let mut rows = q.query([])?;
    while let Some(r) = rows.next()? {
        let sid: i64 = r.get(0)?;
        let Some(ns) = arn_namespace(r.get_ref(1)?.as_str().map_err(rusqlite::Error::from)?) else {
            continue;
        };
        if last
            .as_ref()
            .is_some_and(|(s, l)| *s == sid && l.eq_ignore_ascii_case(ns))
        {
            continue;
        }
        let Ok(i) = services.binary_search_by_key(&sid, |(id, _)| *id) else {
            continue;
        };
        let (p, ns) = (services[i].1.to_ascii_lowercase(), ns.to_ascii_lowercase());
        n.by_namespace
            .entry(ns.clone())
            .or_default()
            .insert(p.clone());
        n.by_prefix.entry(p).or_default().insert(ns.clone());
        last = Some((sid, ns));
    }
    Ok((services.into_iter().map(|(_, p)| p).collect(), n))
}

/// The service part of an ARN format written with `${Partition}` (`s3` in
/// `arn:${Partition}:s3:::…`), as the reference writes it; `None` for any
/// other format. The literal part compares without case, as SQL `LIKE`.
pub fn arn_namespace(arn: &str) -> Option<&str> {
    const HEAD: &str = "arn:${Partition}:";
    let head = arn.get(..HEAD.len())?;
    if !head.eq_ignore_ascii_case(HEAD) {
        return None;
    }
    let rest = &arn[HEAD.len()..];
    Some(rest.split(':').next().unwrap_or(rest))
}

/// The prefixes (lowercase) of the dependent actions the actions of
/// `prefix` (any case) list, at action level or on a resource-type row.
pub fn dependent_prefixes(conn: &Connection, prefix: &str) -> Result<Vec<String>, Error> {
    let mut q = conn.prepare_cached(
        "SELECT DISTINCT lower(substr(dependent_action, 1, instr(dependent_action, ':') - 1))
         FROM v_dependent_actions WHERE prefix = ?1 AND instr(dependent_action, ':') > 0",
    )?;
    let rows = q.query_map([prefix], |r| r.get::<_, String>(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Does any service hold data from the HTML pages, and from the JSON
/// service reference?
pub fn has_sources(conn: &Connection) -> Result<(bool, bool), Error> {
    Ok(conn.query_row(
        "SELECT coalesce(max(sources & 1), 0) != 0, coalesce(max(sources & 2), 0) != 0 FROM services",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?)
}

/// A service's row id and its prefix as stored, for a prefix in any case.
pub fn service(conn: &Connection, prefix: &str) -> Result<Option<(i64, String)>, Error> {
    Ok(conn
        .prepare_cached("SELECT id, prefix FROM services WHERE prefix = ?1")?
        .query_row([prefix], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?)
}

/// An API operation of a service (by row id), by name in any case: its
/// row id and name as stored.
pub fn operation(
    conn: &Connection,
    service_id: i64,
    name: &str,
) -> Result<Option<(i64, String)>, Error> {
    Ok(conn
        .prepare_cached("SELECT id, name FROM operations WHERE service_id = ?1 AND name = ?2")?
        .query_row(params![service_id, name], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?)
}

/// The names of a service's API operations (for suggestions).
pub fn operation_names(conn: &Connection, service_id: i64) -> Result<Vec<String>, Error> {
    let mut q = conn.prepare_cached("SELECT name FROM operations WHERE service_id = ?1")?;
    let v = q
        .query_map([service_id], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    Ok(v)
}

/// What `iamref api` shows of an action an operation needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionSummary {
    /// Prefix and name as stored.
    pub prefix: String,
    pub name: String,
    pub access_level: Option<String>,
    /// The resource types of its rows outside scenarios, in page order.
    pub resource_types: Vec<String>,
    /// Its condition keys, action level and on rows outside scenarios.
    pub condition_keys: Vec<String>,
}

/// An action by prefix and name (any case).
pub fn action_summary(
    conn: &Connection,
    prefix: &str,
    name: &str,
) -> Result<Option<ActionSummary>, Error> {
    let row: Option<(i64, String, String, Option<String>)> = conn
        .prepare_cached(
            "SELECT a.id, s.prefix, a.name, a.access_level FROM actions a
             JOIN services s ON s.id = a.service_id WHERE s.prefix = ?1 AND a.name = ?2",
        )?
        .query_row([prefix, name], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .optional()?;
    let Some((aid, prefix, name, access_level)) = row else {
        return Ok(None);
    };
    let resource_types: Vec<String> = conn
        .prepare_cached(
            "SELECT resource_type FROM action_resource_types
             WHERE action_id = ?1 AND scenario_id IS NULL ORDER BY ord",
        )?
        .query_map([aid], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let condition_keys: Vec<String> = conn
        .prepare_cached(
            "SELECT k.condition_key FROM action_condition_keys k
             LEFT JOIN action_resource_types r ON r.id = k.action_resource_type_id
             WHERE k.action_id = ?1 AND r.scenario_id IS NULL",
        )?
        .query_map([aid], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    Ok(Some(ActionSummary {
        prefix,
        name,
        access_level,
        resource_types,
        condition_keys,
    }))
}

/// One action an operation needs, as the operations table or the JSON
/// states it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperationActionRow {
    /// The action's prefix and name as the operation writes them.
    pub service: String,
    pub action: String,
    pub access_level: Option<String>,
    pub sources: Sources,
    /// The condition keys the operation names for it, in order.
    pub condition_keys: Vec<String>,
    /// The values the operation sets for some keys (AWS's `Context`).
    pub context: BTreeMap<String, Vec<String>>,
}

/// The actions an operation (by row id) needs, in order.
pub fn operation_actions(
    conn: &Connection,
    operation_id: i64,
) -> Result<Vec<OperationActionRow>, Error> {
    let acts: Vec<(i64, String, String, Option<String>, u8)> = conn
        .prepare_cached(
            "SELECT id, service, action, access_level, sources FROM operation_actions
             WHERE operation_id = ?1 ORDER BY ord",
        )?
        .query_map([operation_id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })?
        .collect::<Result<_, _>>()?;
    let mut out = Vec::with_capacity(acts.len());
    for (oaid, service, action, access_level, sources) in acts {
        let condition_keys: Vec<String> = conn
            .prepare_cached(
                "SELECT condition_key FROM operation_action_condition_keys
                 WHERE operation_action_id = ?1 ORDER BY ord",
            )?
            .query_map([oaid], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        out.push(OperationActionRow {
            service,
            action,
            access_level,
            sources: Sources::from_bits(sources),
            condition_keys,
            context: operation_context(conn, oaid)?,
        });
    }
    Ok(out)
}

/// The context of one operation-action row (by row id).
pub fn operation_context(
    conn: &Connection,
    operation_action_id: i64,
) -> Result<BTreeMap<String, Vec<String>>, Error> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut q = conn.prepare_cached(
        "SELECT condition_key, value FROM operation_action_context
         WHERE operation_action_id = ?1 ORDER BY condition_key, ord",
    )?;
    for row in q.query_map([operation_action_id], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
    })? {
        let (k, v) = row?;
        out.entry(k).or_default().push(v);
    }
    Ok(out)
}

/// The operations an SDK method calls: (service prefix, operation row id,
/// operation name), by prefix and name. Package, client and method
/// compare without case.
pub fn sdk_operations(
    conn: &Connection,
    package: &str,
    client: &str,
    method: &str,
) -> Result<Vec<(String, i64, String)>, Error> {
    let v = conn
        .prepare_cached(
            "SELECT s.prefix, o.id, o.name FROM sdk_methods m
             JOIN operations o ON o.id = m.operation_id
             JOIN services s ON s.id = o.service_id
             WHERE m.package = ?1 AND m.client = ?2 AND m.method = ?3
             ORDER BY s.prefix, o.name",
        )?
        .query_map([package, client, method], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?
        .collect::<Result<_, _>>()?;
    Ok(v)
}

/// The SDK packages the dataset knows (for messages).
pub fn sdk_packages(conn: &Connection) -> Result<Vec<String>, Error> {
    strings(conn, "SELECT DISTINCT package FROM sdk_methods", &[])
}

/// The clients of an SDK package (any case).
pub fn sdk_clients(conn: &Connection, package: &str) -> Result<Vec<String>, Error> {
    strings(
        conn,
        "SELECT DISTINCT client FROM sdk_methods WHERE package = ?1",
        &[package],
    )
}

/// The methods of an SDK package's client (any case).
pub fn sdk_methods(conn: &Connection, package: &str, client: &str) -> Result<Vec<String>, Error> {
    strings(
        conn,
        "SELECT DISTINCT method FROM sdk_methods WHERE package = ?1 AND client = ?2",
        &[package, client],
    )
}

/// The first column of every row of `sql`.
fn strings(conn: &Connection, sql: &str, args: &[&str]) -> Result<Vec<String>, Error> {
    let mut q = conn.prepare_cached(sql)?;
    let v = q
        .query_map(rusqlite::params_from_iter(args), |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    Ok(v)
}

// ---------------------------------------------------------------------------
// What the lookup commands show (`iamref action`, `actions`, `services`,
// `service`, `resource-type`, `condition-key`). The JSON field names of the
// serializable results are part of iamref's stable output (README).
// ---------------------------------------------------------------------------

fn sources_str(bits: u8) -> &'static str {
    match bits {
        1 => "html",
        2 => "json",
        _ => "both",
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ServiceRow {
    pub prefix: String,
    pub name: String,
    pub actions: i64,
    pub sources: &'static str,
}

pub fn services(conn: &Connection) -> Result<Vec<ServiceRow>, Error> {
    let mut q = conn.prepare(
        "SELECT s.prefix, s.name, (SELECT count(*) FROM actions a WHERE a.service_id = s.id), s.sources
         FROM services s ORDER BY s.prefix",
    )?;
    let rows = q
        .query_map([], |r| {
            Ok(ServiceRow {
                prefix: r.get(0)?,
                name: r.get(1)?,
                actions: r.get(2)?,
                sources: sources_str(r.get(3)?),
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

/// A service's row id, prefix and name as stored, for a prefix in any case.
pub fn service_row(
    conn: &Connection,
    prefix: &str,
) -> Result<Option<(i64, String, String)>, Error> {
    Ok(conn
        .query_row(
            "SELECT id, prefix, name FROM services WHERE prefix = ?1",
            [prefix],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?)
}

/// An action of a service (by row id), by name in any case: its row id
/// and name as stored.
pub fn action(
    conn: &Connection,
    service_id: i64,
    name: &str,
) -> Result<Option<(i64, String)>, Error> {
    Ok(conn
        .query_row(
            "SELECT id, name FROM actions WHERE service_id = ?1 AND name = ?2",
            params![service_id, name],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()?)
}

/// The action names of a service (by row id), for suggestions.
pub fn action_names(conn: &Connection, service_id: i64) -> Result<Vec<String>, Error> {
    ids_strings(
        conn,
        "SELECT name FROM actions WHERE service_id = ?1",
        service_id,
    )
}

/// The actions of a prefix (any case): row id, prefix and name as
/// stored, by name.
pub fn actions_of(conn: &Connection, prefix: &str) -> Result<Vec<(i64, String, String)>, Error> {
    let mut q = conn.prepare_cached(
        "SELECT a.id, s.prefix, a.name FROM actions a JOIN services s ON s.id = a.service_id
         WHERE s.prefix = ?1 ORDER BY a.name",
    )?;
    let v = q
        .query_map([prefix], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?
        .collect::<Result<_, _>>()?;
    Ok(v)
}

/// The resource types an action (by row id) takes outside scenarios, in
/// page order, each `NAME` or `NAME*` when required.
pub fn action_resource_types(conn: &Connection, action_id: i64) -> Result<Vec<String>, Error> {
    ids_strings(
        conn,
        "SELECT resource_type || CASE WHEN required THEN '*' ELSE '' END FROM action_resource_types
         WHERE action_id = ?1 AND scenario_id IS NULL ORDER BY ord",
        action_id,
    )
}

/// A resource type of a service (by row id), by name in any case.
pub fn resource_type(conn: &Connection, service_id: i64, name: &str) -> Result<Option<i64>, Error> {
    Ok(conn
        .query_row(
            "SELECT id FROM resource_types WHERE service_id = ?1 AND name = ?2",
            params![service_id, name],
            |r| r.get(0),
        )
        .optional()?)
}

/// The resource type names of a service (by row id), for suggestions.
pub fn resource_type_names(conn: &Connection, service_id: i64) -> Result<Vec<String>, Error> {
    ids_strings(
        conn,
        "SELECT name FROM resource_types WHERE service_id = ?1",
        service_id,
    )
}

/// A resource type's ARN formats, in page order.
pub fn arn_formats(conn: &Connection, type_id: i64) -> Result<Vec<String>, Error> {
    ids_strings(
        conn,
        "SELECT arn FROM arn_formats WHERE resource_type_id = ?1 ORDER BY ord",
        type_id,
    )
}

/// What `iamref service` shows of a service (by row id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceSummary {
    /// Its page files, sorted.
    pub pages: Vec<String>,
    /// Actions per access level (`(none)` for none), by level.
    pub access_levels: Vec<(String, i64)>,
    /// Resource types by name, each with its ARN formats in page order.
    pub resource_types: Vec<(String, Vec<String>)>,
    /// Condition keys by name: name, type, description.
    pub condition_keys: Vec<(String, Option<String>, Option<String>)>,
}

pub fn service_summary(conn: &Connection, service_id: i64) -> Result<ServiceSummary, Error> {
    let pages = ids_strings(
        conn,
        "SELECT file FROM pages WHERE service_id = ?1 ORDER BY file",
        service_id,
    )?;
    let access_levels: Vec<(String, i64)> = conn
        .prepare(
            "SELECT coalesce(access_level, '(none)'), count(*) FROM actions WHERE service_id = ?1
             GROUP BY 1 ORDER BY 1",
        )?
        .query_map([service_id], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let mut resource_types = Vec::new();
    for (tid, tname) in conn
        .prepare("SELECT id, name FROM resource_types WHERE service_id = ?1 ORDER BY name")?
        .query_map([service_id], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
        })?
        .collect::<Result<Vec<_>, _>>()?
    {
        resource_types.push((tname, arn_formats(conn, tid)?));
    }
    let condition_keys = conn
        .prepare("SELECT name, type, description FROM condition_keys WHERE service_id = ?1 ORDER BY name")?
        .query_map([service_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<Result<_, _>>()?;
    Ok(ServiceSummary {
        pages,
        access_levels,
        resource_types,
        condition_keys,
    })
}

/// One condition key of one service: prefix, name, type, description.
pub type KeyRow = (String, String, Option<String>, Option<String>);

/// Every condition key of every service, by prefix.
pub fn condition_keys(conn: &Connection) -> Result<Vec<KeyRow>, Error> {
    let v = conn
        .prepare(
            "SELECT s.prefix, k.name, k.type, k.description FROM condition_keys k
             JOIN services s ON s.id = k.service_id ORDER BY s.prefix",
        )?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
        .collect::<Result<_, _>>()?;
    Ok(v)
}

/// Where a condition key (any case) is used: the actions (`prefix:Name`)
/// that list it, with the resource type of the row (`None`: action
/// level), distinct and sorted.
pub fn condition_key_actions(
    conn: &Connection,
    key: &str,
) -> Result<Vec<(String, Option<String>)>, Error> {
    let v = conn
        .prepare(
            "SELECT DISTINCT s.prefix || ':' || a.name, r.resource_type FROM action_condition_keys k
             JOIN actions a ON a.id = k.action_id JOIN services s ON s.id = a.service_id
             LEFT JOIN action_resource_types r ON r.id = k.action_resource_type_id
             WHERE k.condition_key = ?1 ORDER BY 1, 2",
        )?
        .query_map(params![key], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    Ok(v)
}

/// The resource types (`prefix:name`) that list a condition key, sorted.
pub fn condition_key_resource_types(conn: &Connection, key: &str) -> Result<Vec<String>, Error> {
    let v = conn
        .prepare(
            "SELECT s.prefix || ':' || t.name FROM resource_type_condition_keys k
             JOIN resource_types t ON t.id = k.resource_type_id JOIN services s ON s.id = t.service_id
             WHERE k.condition_key = ?1 ORDER BY 1",
        )?
        .query_map(params![key], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    Ok(v)
}

/// The types pages or the JSON give a key where they differ from the
/// merged one: prefix, source (page file or `json`), type.
pub fn condition_key_other_types(
    conn: &Connection,
    key: &str,
) -> Result<Vec<(String, String, String)>, Error> {
    let v = conn
        .prepare(
            "SELECT prefix, source, type FROM v_condition_key_types
             WHERE condition_key = ?1 AND source != 'merged' ORDER BY prefix, source",
        )?
        .query_map(params![key], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<Result<_, _>>()?;
    Ok(v)
}

/// The first column of `sql` with `?1` bound to a row id.
fn ids_strings(conn: &Connection, sql: &str, id: i64) -> Result<Vec<String>, Error> {
    let mut q = conn.prepare_cached(sql)?;
    let v = q.query_map([id], |r| r.get(0))?.collect::<Result<_, _>>()?;
    Ok(v)
}

#[derive(Debug, Clone, Serialize)]
pub struct ResourceTypeUse {
    pub name: String,
    pub required: bool,
    /// ARN formats of the resource type (empty if the service does not
    /// define it).
    pub arns: Vec<String>,
    pub condition_keys: Vec<String>,
    pub dependent_actions: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ScenarioInfo {
    pub name: String,
    pub resource_types: Vec<ResourceTypeUse>,
}

#[derive(Debug, Clone, Serialize)]
pub struct OperationRef {
    pub prefix: String,
    pub operation: String,
    /// Condition-key values the operation sets when it authorizes this
    /// action (AWS's `Context`), e.g. `iam:PassedToService` =
    /// `lambda.amazonaws.com`. Omitted when none.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub context: BTreeMap<String, Vec<String>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ActionInfo {
    pub prefix: String,
    pub service: String,
    pub action: String,
    pub access_level: Option<String>,
    pub description: Option<String>,
    pub doc_url: Option<String>,
    /// Supports resource-level permissions (names at least one resource type).
    pub resource_level: bool,
    pub permission_only: bool,
    pub resource_types: Vec<ResourceTypeUse>,
    /// Action-level condition keys.
    pub condition_keys: Vec<String>,
    pub dependent_actions: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub scenarios: Vec<ScenarioInfo>,
    /// API operations that need this action.
    pub operations: Vec<OperationRef>,
    pub pages: Vec<String>,
    /// Descriptions other pages of a shared prefix give (the one above is
    /// the first page's), with their page.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub other_descriptions: Vec<PageText>,
    pub sources: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct PageText {
    pub page: String,
    pub text: String,
}

/// The actions `names` give (exact names or wildcard patterns), each
/// once, in the order first named; a name that resolves to none is its
/// refusal, and the others are still answered.
pub fn actions_named(
    conn: &Connection,
    names: &[String],
) -> Result<(Vec<ActionInfo>, Vec<LookupError>), Error> {
    let mut infos = Vec::new();
    let mut refused = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for name in names {
        match parse_action_ref(name).and_then(|r| resolve_actions(conn, &r)) {
            Ok(ids) => {
                for (id, _, _) in ids {
                    if seen.insert(id) {
                        infos.push(action_info(conn, id)?);
                    }
                }
            }
            Err(e) => refused.push(e),
        }
    }
    Ok((infos, refused))
}

/// Whether one action takes resources (`iamref check`), and which types.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResourceLevel {
    /// `PREFIX:Name` as stored.
    pub action: String,
    pub resource_level: bool,
    pub resource_types: Vec<String>,
}

/// The [`ResourceLevel`] of the one action `name` names (any case); a
/// pattern is refused ([`LookupError::Pattern`]) after the name parses,
/// before it is resolved.
pub fn resource_level(conn: &Connection, name: &str) -> Result<ResourceLevel, LookupError> {
    let r = parse_action_ref(name)?;
    if r.is_pattern() {
        return Err(LookupError::Pattern(name.into()));
    }
    let ids = resolve_actions(conn, &r)?;
    let (id, prefix, name) = ids
        .into_iter()
        .next()
        .expect("exact name resolves to one action");
    let rts = action_resource_types(conn, id)?;
    Ok(ResourceLevel {
        action: format!("{prefix}:{name}"),
        resource_level: !rts.is_empty(),
        resource_types: rts,
    })
}

/// The actions the patterns give (`iamref expand`), `PREFIX:Name` as
/// stored, sorted without regard to case and each once; the first
/// pattern that does not parse or resolve is the error.
pub fn expand_patterns(conn: &Connection, patterns: &[String]) -> Result<Vec<String>, LookupError> {
    let mut names: Vec<String> = Vec::new();
    for p in patterns {
        let r = parse_action_ref(p)?;
        for (_, prefix, name) in resolve_actions(conn, &r)? {
            names.push(format!("{prefix}:{name}"));
        }
    }
    names.sort_by_key(|n| n.to_ascii_lowercase());
    names.dedup();
    Ok(names)
}

pub fn action_info(conn: &Connection, id: i64) -> Result<ActionInfo, Error> {
    let mut info = conn.query_row(
        "SELECT s.prefix, s.name, a.name, a.access_level, a.description, a.doc_url, a.permission_only, a.sources
         FROM actions a JOIN services s ON s.id = a.service_id WHERE a.id = ?1",
        [id],
        |r| {
            Ok(ActionInfo {
                prefix: r.get(0)?,
                service: r.get(1)?,
                action: r.get(2)?,
                access_level: r.get(3)?,
                description: r.get(4)?,
                doc_url: r.get(5)?,
                resource_level: false,
                permission_only: r.get(6)?,
                resource_types: Vec::new(),
                condition_keys: Vec::new(),
                dependent_actions: Vec::new(),
                scenarios: Vec::new(),
                operations: Vec::new(),
                pages: Vec::new(),
                other_descriptions: Vec::new(),
                sources: sources_str(r.get(7)?),
            })
        },
    )?;

    // Keys and dependent actions per row (NULL row id = action level).
    let mut keys: Vec<(Option<i64>, String)> = conn
        .prepare_cached(
            "SELECT action_resource_type_id, condition_key FROM action_condition_keys
             WHERE action_id = ?1 ORDER BY action_resource_type_id, ord",
        )?
        .query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let mut deps: Vec<(Option<i64>, String)> = conn
        .prepare_cached(
            "SELECT action_resource_type_id, dependent_action FROM dependent_actions
             WHERE action_id = ?1 ORDER BY action_resource_type_id, ord",
        )?
        .query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let take = |v: &mut Vec<(Option<i64>, String)>, row: Option<i64>| -> Vec<String> {
        let (mine, rest): (Vec<_>, Vec<_>) =
            std::mem::take(v).into_iter().partition(|(r, _)| *r == row);
        *v = rest;
        mine.into_iter().map(|(_, k)| k).collect()
    };

    type Row = (i64, Option<i64>, Option<String>, String, bool, Option<i64>);
    let rows: Vec<Row> = conn
        .prepare_cached(
            "SELECT r.id, r.scenario_id, sc.name, r.resource_type, r.required, r.resource_type_id
             FROM action_resource_types r LEFT JOIN scenarios sc ON sc.id = r.scenario_id
             WHERE r.action_id = ?1 ORDER BY r.ord",
        )?
        .query_map([id], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        })?
        .collect::<Result<_, _>>()?;
    let mut resource_types = Vec::new();
    let mut scenarios: Vec<ScenarioInfo> = Vec::new();
    for (rid, scenario, scenario_name, name, required, type_id) in rows {
        let arns = match type_id {
            Some(t) => arn_formats(conn, t)?,
            None => Vec::new(),
        };
        let u = ResourceTypeUse {
            name,
            required,
            arns,
            condition_keys: take(&mut keys, Some(rid)),
            dependent_actions: take(&mut deps, Some(rid)),
        };
        match (scenario, scenario_name) {
            (Some(_), Some(sn)) => match scenarios.iter_mut().find(|s| s.name == sn) {
                Some(s) => s.resource_types.push(u),
                None => scenarios.push(ScenarioInfo {
                    name: sn,
                    resource_types: vec![u],
                }),
            },
            _ => resource_types.push(u),
        }
    }
    let rows: Vec<(String, String, i64)> = conn
        .prepare_cached(
            "SELECT s.prefix, o.name, oa.id FROM operation_actions oa
             JOIN operations o ON o.id = oa.operation_id JOIN services s ON s.id = o.service_id
             WHERE oa.service = ?1 AND oa.action = ?2 ORDER BY s.prefix, o.name, oa.id",
        )?
        .query_map(params![info.prefix, info.action], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?
        .collect::<Result<_, _>>()?;
    let mut operations: Vec<OperationRef> = Vec::with_capacity(rows.len());
    for (prefix, operation, oaid) in rows {
        let context = operation_context(conn, oaid)?;
        match operations.last_mut() {
            Some(last) if last.prefix == prefix && last.operation == operation => {
                for (k, vals) in context {
                    last.context.entry(k).or_default().extend(vals);
                }
            }
            _ => operations.push(OperationRef {
                prefix,
                operation,
                context,
            }),
        }
    }
    let pages: Vec<String> = conn
        .prepare_cached(
            "SELECT p.file FROM action_pages ap JOIN pages p ON p.id = ap.page_id
             WHERE ap.action_id = ?1 ORDER BY p.file",
        )?
        .query_map([id], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    info.resource_level = !resource_types.is_empty();
    info.condition_keys = take(&mut keys, None);
    info.dependent_actions = take(&mut deps, None);
    info.resource_types = resource_types;
    info.scenarios = scenarios;
    info.operations = operations;
    info.pages = pages;
    info.other_descriptions = conn
        .prepare_cached(
            "SELECT source, description FROM action_variants
             WHERE action_id = ?1 AND description IS NOT NULL ORDER BY source",
        )?
        .query_map([id], |r| {
            Ok(PageText {
                page: r.get(0)?,
                text: r.get(1)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(info)
}

#[derive(Debug, Clone, Serialize)]
pub struct ActionRow {
    pub prefix: String,
    pub action: String,
    pub access_level: Option<String>,
    pub resource_level: bool,
    pub permission_only: bool,
    pub resource_types: Vec<String>,
}

/// What `iamref actions` filters on, resolved: names as stored (the
/// caller has checked them and found the prefixes); all that are set must
/// hold.
#[derive(Debug, Default, Clone)]
pub struct ActionQuery {
    /// The service prefix.
    pub prefix: Option<String>,
    /// The access level, canonically spelled (`Permissions management`).
    pub access_level: Option<String>,
    /// Takes a resource type of this name (any case) …
    pub resource_type: Option<String>,
    /// … of this service.
    pub resource_type_prefix: Option<String>,
    pub wildcard_only: bool,
    pub condition_key: Option<String>,
    pub permission_only: bool,
}

/// The actions `f` selects, by prefix and name.
pub fn list_actions(conn: &Connection, f: &ActionQuery) -> Result<Vec<ActionRow>, Error> {
    let mut sql = String::from(
        "SELECT a.id, s.prefix, a.name, a.access_level, a.permission_only,
                (SELECT group_concat(resource_type, ',') FROM
                    (SELECT r.resource_type || CASE WHEN r.required THEN '*' ELSE '' END AS resource_type
                     FROM action_resource_types r WHERE r.action_id = a.id AND r.scenario_id IS NULL ORDER BY r.ord))
         FROM actions a JOIN services s ON s.id = a.service_id WHERE 1",
    );
    let mut args: Vec<String> = Vec::new();
    if let Some(p) = &f.prefix {
        args.push(p.clone());
        sql += &format!(" AND s.prefix = ?{}", args.len());
    }
    if let Some(l) = &f.access_level {
        args.push(l.clone());
        sql += &format!(" AND a.access_level = ?{}", args.len());
    }
    if f.wildcard_only {
        sql += " AND NOT EXISTS (SELECT 1 FROM action_resource_types r WHERE r.action_id = a.id AND r.scenario_id IS NULL)";
    }
    if f.permission_only {
        sql += " AND a.permission_only";
    }
    if let Some(name) = &f.resource_type {
        args.push(name.clone());
        sql += &format!(
            " AND EXISTS (SELECT 1 FROM action_resource_types r WHERE r.action_id = a.id AND r.resource_type = ?{})",
            args.len()
        );
        if let Some(p) = &f.resource_type_prefix {
            args.push(p.clone());
            sql += &format!(" AND s.prefix = ?{}", args.len());
        }
    }
    if let Some(k) = &f.condition_key {
        args.push(k.clone());
        sql += &format!(
            " AND EXISTS (SELECT 1 FROM action_condition_keys k WHERE k.action_id = a.id AND k.condition_key = ?{})",
            args.len()
        );
    }
    sql += " ORDER BY s.prefix, a.name";
    let mut q = conn.prepare(&sql)?;
    let rows = q
        .query_map(rusqlite::params_from_iter(args.iter()), |r| {
            let rts: Option<String> = r.get(5)?;
            let resource_types: Vec<String> = rts
                .map(|s| s.split(',').map(str::to_string).collect())
                .unwrap_or_default();
            Ok(ActionRow {
                prefix: r.get(1)?,
                action: r.get(2)?,
                access_level: r.get(3)?,
                permission_only: r.get(4)?,
                resource_level: !resource_types.is_empty(),
                resource_types,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

#[derive(Debug, Clone, Serialize)]
pub struct ResourceTypeInfo {
    pub prefix: String,
    pub resource_type: String,
    pub arns: Vec<String>,
    pub condition_keys: Vec<String>,
    /// Actions that name this resource type (`*` marks required).
    pub actions: Vec<ResourceTypeAction>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ResourceTypeAction {
    pub action: String,
    pub required: bool,
}

pub fn resource_type_info(conn: &Connection, type_id: i64) -> Result<ResourceTypeInfo, Error> {
    let (prefix, name): (String, String) = conn.query_row(
        "SELECT s.prefix, t.name FROM resource_types t JOIN services s ON s.id = t.service_id WHERE t.id = ?1",
        [type_id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let arns = arn_formats(conn, type_id)?;
    let condition_keys = conn
        .prepare_cached(
            "SELECT condition_key FROM resource_type_condition_keys WHERE resource_type_id = ?1 ORDER BY ord",
        )?
        .query_map([type_id], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let actions = conn
        .prepare_cached(
            "SELECT a.name, max(r.required) FROM action_resource_types r JOIN actions a ON a.id = r.action_id
             WHERE r.resource_type_id = ?1 AND r.scenario_id IS NULL GROUP BY a.id ORDER BY a.name",
        )?
        .query_map([type_id], |r| {
            Ok(ResourceTypeAction {
                action: format!("{}:{}", prefix, r.get::<_, String>(0)?),
                required: r.get(1)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(ResourceTypeInfo {
        prefix,
        resource_type: name,
        arns,
        condition_keys,
        actions,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    /// The namespaces cut out in Rust are the ones the SQL definition
    /// gives (`lower(substr(arn, 18, …))` over `v_resource_types`), on the
    /// shipped snapshot in `data/`.
    #[test]
    fn namespaces_agree_with_the_sql_definition() {
        let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../data");
        let (manifest, services) = crate::snapshot::read_snapshot(&data).unwrap();
        let conn = crate::db::write_in_memory(&manifest, &services).unwrap();
        let (all, ns) = namespaces(&conn).unwrap();
        let want_all: Vec<String> = services.iter().map(|s| s.prefix.clone()).collect();
        assert_eq!(all, want_all);
        let mut by_name = want_all.clone();
        by_name.sort_by_key(|p| p.to_ascii_lowercase());
        assert_eq!(prefixes(&conn).unwrap(), by_name);
        let mut by_namespace: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let mut by_prefix: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let mut q = conn
            .prepare(
                "SELECT DISTINCT lower(prefix), lower(substr(arn, 18, instr(substr(arn, 18), ':') - 1))
                 FROM v_resource_types WHERE arn LIKE 'arn:${Partition}:%'",
            )
            .unwrap();
        let rows = q
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
            .unwrap();
        for row in rows {
            let (p, n) = row.unwrap();
            by_namespace.entry(n.clone()).or_default().insert(p.clone());
            by_prefix.entry(p).or_default().insert(n);
        }
        assert!(by_prefix.len() > 300, "{}", by_prefix.len());
        assert_eq!(ns.by_namespace, by_namespace);
        assert_eq!(ns.by_prefix, by_prefix);
        // Namespaces shared across services are there (s3 holds ssm's bucket).
        assert!(by_namespace["s3"].len() > 1);
    }

    #[test]
    fn resource_level_of_one_action_and_patterns_expanded() {
        // On the shipped snapshot in `data/`.
        let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../data");
        let (manifest, services) = crate::snapshot::read_snapshot(&data).unwrap();
        let conn = crate::db::write_in_memory(&manifest, &services).unwrap();
        let r = resource_level(&conn, "S3:getobjecttorrent").unwrap();
        assert_eq!(r.action, "s3:GetObjectTorrent");
        assert!(r.resource_level);
        // Required types marked `*`.
        assert_eq!(r.resource_types, ["object*"]);
        let r = resource_level(&conn, "s3:ListAllMyBuckets").unwrap();
        assert!(!r.resource_level && r.resource_types.is_empty(), "{r:?}");
        assert!(matches!(
            resource_level(&conn, "s3:Get*"),
            Err(LookupError::Pattern(p)) if p == "s3:Get*"
        ));
        assert!(matches!(
            resource_level(&conn, "s3"),
            Err(LookupError::NotServiceAction(_))
        ));
        assert!(matches!(
            resource_level(&conn, "s3:NoSuchAction"),
            Err(LookupError::UnknownAction { .. })
        ));
        // Sorted without regard to case, each once.
        let got = expand_patterns(
            &conn,
            &["s3:GetObjectT*", "S3:getobjecttagging", "s3:GetBucketAcl"].map(String::from),
        )
        .unwrap();
        assert_eq!(
            got,
            [
                "s3:GetBucketAcl",
                "s3:GetObjectTagging",
                "s3:GetObjectTorrent"
            ]
        );
        // The first pattern refused is the error.
        assert!(matches!(
            expand_patterns(&conn, &["nope:X".into(), "s3".into()]),
            Err(LookupError::UnknownPrefix { .. })
        ));
    }

    #[test]
    fn actions_named_once_each_and_unknown_names_refused() {
        // On the shipped snapshot in `data/`.
        let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../data");
        let (manifest, services) = crate::snapshot::read_snapshot(&data).unwrap();
        let conn = crate::db::write_in_memory(&manifest, &services).unwrap();
        let names =
            ["s3:getobject", "s3:GetObject*", "s3:NoSuchAction", "nope:X"].map(String::from);
        let (infos, refused) = actions_named(&conn, &names).unwrap();
        let got: Vec<String> = infos
            .iter()
            .map(|i| format!("{}:{}", i.prefix, i.action))
            .collect();
        assert_eq!(got[0], "s3:GetObject");
        assert_eq!(got.iter().filter(|a| *a == "s3:GetObject").count(), 1);
        assert!(got.len() > 2 && got.iter().all(|a| a.starts_with("s3:GetObject")));
        assert!(
            matches!(refused[0], LookupError::UnknownAction { .. }),
            "{refused:?}"
        );
        assert!(
            matches!(refused[1], LookupError::UnknownPrefix { .. }),
            "{refused:?}"
        );
        assert_eq!(refused.len(), 2);
    }

    #[test]
    fn arn_namespace_is_the_service_part() {
        assert_eq!(
            arn_namespace("arn:${Partition}:s3:::${BucketName}"),
            Some("s3")
        );
        assert_eq!(
            arn_namespace("ARN:${partition}:Logs:${Region}"),
            Some("Logs")
        );
        assert_eq!(arn_namespace("arn:${Partition}:iam"), Some("iam"));
        assert_eq!(arn_namespace("arn:${Partition}::x"), Some(""));
        assert_eq!(arn_namespace("arn:aws:s3:::b"), None);
        assert_eq!(arn_namespace("arn:${Part"), None);
        assert_eq!(arn_namespace("*"), None);
    }

    /// Dependent actions' prefixes, from a constructed service whose
    /// actions list `kms:Decrypt` (row level) and one without a prefix.
    #[test]
    fn dependent_prefixes_are_those_of_the_listed_actions() {
        use crate::model::*;
        let mut s = Service::new("x", "Service X", Sources::HTML);
        let mut a = Action::new("GetThing");
        a.dependent_actions = vec!["KMS:Decrypt".into(), "nocolon".into()];
        a.resource_types.push(ActionResource {
            name: "thing".into(),
            required: true,
            condition_keys: vec![],
            dependent_actions: vec!["s3:GetObject".into()],
            sources: Sources::HTML,
        });
        s.actions.push(a);
        s.resource_types.push(ResourceType {
            name: "thing".into(),
            doc_url: None,
            arns: vec![],
            condition_keys: vec![],
            pages: vec![],
            sources: Sources::HTML,
        });
        let conn = crate::db::write_in_memory(&Manifest::default(), &[s]).unwrap();
        let mut got = dependent_prefixes(&conn, "X").unwrap();
        got.sort();
        assert_eq!(got, ["kms", "s3"]);
        assert!(dependent_prefixes(&conn, "nope").unwrap().is_empty());
    }
}
