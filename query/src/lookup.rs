//! Lookups over the dataset, returning typed, serializable results. The
//! JSON field names here are part of iamref's stable output (README).

use crate::exit::input;
use crate::matching::{has_wildcard, suggest, wildcard_match};
use anyhow::Result;
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use std::collections::BTreeMap;

/// `SERVICE:ACTION` split and checked. Either part may hold `*`/`?`.
#[derive(Debug, Clone, PartialEq)]
pub struct ActionRef {
    pub prefix: String,
    pub action: String,
}

impl ActionRef {
    pub fn is_pattern(&self) -> bool {
        has_wildcard(&self.prefix) || has_wildcard(&self.action)
    }
}

/// Reject what cannot be an IAM name, saying why (without echoing a huge
/// argument back).
pub fn check_name(what: &str, s: &str) -> Result<()> {
    if s.is_empty() {
        return Err(input(format!("empty {what}")));
    }
    if s.len() > 512 {
        return Err(input(format!(
            "{what} is {} bytes long; IAM names are far shorter (starts {:?})",
            s.len(),
            s.chars().take(40).collect::<String>()
        )));
    }
    if let Some((i, c)) = s.char_indices().find(|(_, c)| c.is_control()) {
        return Err(input(format!(
            "{what} {:?} contains a control character (U+{:04X}) at byte {i}",
            s, c as u32
        )));
    }
    Ok(())
}

/// Parse `s3:GetObject` (or a pattern such as `s3:Get*`).
pub fn parse_action_ref(s: &str) -> Result<ActionRef> {
    check_name("action", s)?;
    let Some((prefix, action)) = s.split_once(':') else {
        return Err(input(format!(
            "{s:?} is not SERVICE:ACTION (e.g. s3:ListBucket)"
        )));
    };
    let ok = |p: &str| {
        !p.is_empty()
            && p.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.*?".contains(&b))
    };
    if !ok(prefix) || !ok(action) {
        return Err(input(format!(
            "{s:?} is not SERVICE:ACTION: a service prefix and an action name hold letters, digits, '-', '_', '.' and the wildcards '*' and '?'"
        )));
    }
    Ok(ActionRef {
        prefix: prefix.to_string(),
        action: action.to_string(),
    })
}

/// The first column of every row `sql` returns, as strings.
pub fn column(conn: &Connection, sql: &str, params: impl rusqlite::Params) -> Result<Vec<String>> {
    Ok(conn
        .prepare_cached(sql)?
        .query_map(params, |r| r.get(0))?
        .collect::<Result<_, _>>()?)
}

/// A resource type's ARN formats, in page order.
pub fn arn_formats(conn: &Connection, type_id: i64) -> Result<Vec<String>> {
    column(
        conn,
        "SELECT arn FROM arn_formats WHERE resource_type_id = ?1 ORDER BY ord",
        [type_id],
    )
}

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

pub fn services(conn: &Connection) -> Result<Vec<ServiceRow>> {
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

/// Service id and canonical prefix for a prefix (any case), or an error
/// with a suggestion.
pub fn service_id(conn: &Connection, prefix: &str) -> Result<(i64, String, String)> {
    let found = conn
        .query_row(
            "SELECT id, prefix, name FROM services WHERE prefix = ?1",
            [prefix],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    if let Some(f) = found {
        return Ok(f);
    }
    let all = column(conn, "SELECT prefix FROM services", [])?;
    Err(input(
        match suggest(prefix, all.iter().map(String::as_str)) {
            Some(s) => format!("unknown service prefix {prefix}; did you mean {s}?"),
            None => format!("unknown service prefix {prefix}; `iamref services` lists them"),
        },
    ))
}

/// Action ids matching a reference: exact (any case) or a wildcard
/// pattern. An exact name that does not exist is an error with a
/// suggestion; a pattern that matches nothing returns an empty list.
pub fn resolve_actions(conn: &Connection, r: &ActionRef) -> Result<Vec<(i64, String, String)>> {
    if !r.is_pattern() {
        let (sid, prefix, _) = service_id(conn, &r.prefix)?;
        let found: Option<(i64, String)> = conn
            .query_row(
                "SELECT id, name FROM actions WHERE service_id = ?1 AND name = ?2",
                params![sid, r.action],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()?;
        if let Some((id, name)) = found {
            return Ok(vec![(id, prefix, name)]);
        }
        let names = column(
            conn,
            "SELECT name FROM actions WHERE service_id = ?1",
            [sid],
        )?;
        return Err(input(
            match suggest(&r.action, names.iter().map(String::as_str)) {
                Some(s) => format!(
                    "unknown action {}:{}; did you mean {prefix}:{s}?",
                    r.prefix, r.action
                ),
                None => format!(
                "unknown action {}:{}; `iamref expand '{prefix}:*'` lists the service's actions",
                r.prefix, r.action
            ),
            },
        ));
    }
    let mut out = Vec::new();
    let mut q = conn.prepare_cached(
        "SELECT a.id, s.prefix, a.name FROM actions a JOIN services s ON s.id = a.service_id
         WHERE s.prefix = ?1 ORDER BY a.name",
    )?;
    let prefixes: Vec<String> = if has_wildcard(&r.prefix) {
        conn.prepare("SELECT prefix FROM services ORDER BY prefix")?
            .query_map([], |row| row.get::<_, String>(0))?
            .filter_map(|p| p.ok())
            .filter(|p| wildcard_match(&r.prefix, p))
            .collect()
    } else {
        vec![service_id(conn, &r.prefix)?.1]
    };
    for p in prefixes {
        let rows = q.query_map([&p], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?;
        for row in rows {
            let row: (i64, String, String) = row?;
            if wildcard_match(&r.action, &row.2) {
                out.push(row);
            }
        }
    }
    Ok(out)
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

/// `key=value` pairs of an operation's context, for text output
/// (`iam:PassedToService=lambda.amazonaws.com`).
pub fn context_text(context: &BTreeMap<String, Vec<String>>) -> String {
    context
        .iter()
        .map(|(k, vals)| format!("{k}={}", vals.join("|")))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The context of one operation-action row.
pub fn operation_context(
    conn: &Connection,
    operation_action_id: i64,
) -> Result<BTreeMap<String, Vec<String>>> {
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

pub fn action_info(conn: &Connection, id: i64) -> Result<ActionInfo> {
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

/// Filters for `iamref actions`; all that are set must hold.
#[derive(Debug, Default)]
pub struct ActionFilter {
    pub service: Option<String>,
    pub access_level: Option<String>,
    pub resource_type: Option<String>,
    pub wildcard_only: bool,
    pub condition_key: Option<String>,
    pub permission_only: bool,
}

/// Canonical spelling of an access level given in any case, with `-` or
/// `_` for spaces (`permissions-management`).
pub fn access_level(s: &str) -> Result<&'static str> {
    let norm = s.to_ascii_lowercase().replace(['-', '_'], " ");
    Ok(match norm.trim() {
        "list" => "List",
        "read" => "Read",
        "write" => "Write",
        "permissions management" | "permission management" => "Permissions management",
        "tagging" => "Tagging",
        _ => {
            return Err(input(format!(
                "unknown access level {s:?}; expected list, read, write, permissions-management or tagging"
            )))
        }
    })
}

pub fn list_actions(conn: &Connection, f: &ActionFilter) -> Result<Vec<ActionRow>> {
    let mut sql = String::from(
        "SELECT a.id, s.prefix, a.name, a.access_level, a.permission_only,
                (SELECT group_concat(resource_type, ',') FROM
                    (SELECT r.resource_type || CASE WHEN r.required THEN '*' ELSE '' END AS resource_type
                     FROM action_resource_types r WHERE r.action_id = a.id AND r.scenario_id IS NULL ORDER BY r.ord))
         FROM actions a JOIN services s ON s.id = a.service_id WHERE 1",
    );
    let mut args: Vec<String> = Vec::new();
    if let Some(p) = &f.service {
        let (_, prefix, _) = service_id(conn, p)?;
        args.push(prefix);
        sql += &format!(" AND s.prefix = ?{}", args.len());
    }
    if let Some(l) = &f.access_level {
        args.push(access_level(l)?.to_string());
        sql += &format!(" AND a.access_level = ?{}", args.len());
    }
    if f.wildcard_only {
        sql += " AND NOT EXISTS (SELECT 1 FROM action_resource_types r WHERE r.action_id = a.id AND r.scenario_id IS NULL)";
    }
    if f.permission_only {
        sql += " AND a.permission_only";
    }
    if let Some(rt) = &f.resource_type {
        let (p, name) = match rt.split_once(':') {
            Some((p, n)) => (Some(p), n),
            None => (None, rt.as_str()),
        };
        check_name("resource type", name)?;
        args.push(name.to_string());
        sql += &format!(
            " AND EXISTS (SELECT 1 FROM action_resource_types r WHERE r.action_id = a.id AND r.resource_type = ?{})",
            args.len()
        );
        if let Some(p) = p {
            let (_, prefix, _) = service_id(conn, p)?;
            args.push(prefix);
            sql += &format!(" AND s.prefix = ?{}", args.len());
        }
    }
    if let Some(k) = &f.condition_key {
        check_name("condition key", k)?;
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

pub fn resource_type_info(conn: &Connection, type_id: i64) -> Result<ResourceTypeInfo> {
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

/// Resource type id by `PREFIX:NAME` (names can contain spaces).
pub fn resource_type_id(conn: &Connection, spec: &str) -> Result<i64> {
    check_name("resource type", spec)?;
    let Some((p, name)) = spec.split_once(':') else {
        return Err(input(format!(
            "{spec:?} is not PREFIX:NAME (e.g. s3:bucket)"
        )));
    };
    let (sid, prefix, _) = service_id(conn, p)?;
    let id: Option<i64> = conn
        .query_row(
            "SELECT id FROM resource_types WHERE service_id = ?1 AND name = ?2",
            params![sid, name],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(id) = id {
        return Ok(id);
    }
    let names = column(
        conn,
        "SELECT name FROM resource_types WHERE service_id = ?1",
        [sid],
    )?;
    Err(input(match suggest(name, names.iter().map(String::as_str)) {
        Some(s) => format!("unknown resource type {prefix}:{name}; did you mean {prefix}:{s}?"),
        None => format!(
            "unknown resource type {prefix}:{name}; `iamref service {prefix}` lists its resource types"
        ),
    }))
}
