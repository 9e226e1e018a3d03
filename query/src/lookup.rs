//! The lookup commands' side of the dataset's lookups
//! (`iamref_dataset::lookup`, which holds the queries and the typed,
//! serializable results): names from the command line checked, resolved
//! (wildcards), and refused with a suggestion when unknown.

use crate::exit::input;
use crate::matching::{has_wildcard, suggest, wildcard_match};
use anyhow::Result;
use iamref_dataset::db::Connection;
use iamref_dataset::lookup as data;
pub use iamref_dataset::lookup::{
    action_info, arn_formats, resource_type_info, services, ActionInfo, ActionRow, ResourceTypeUse,
};
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

/// Service id and canonical prefix for a prefix (any case), or an error
/// with a suggestion.
pub fn service_id(conn: &Connection, prefix: &str) -> Result<(i64, String, String)> {
    if let Some(f) = data::service_row(conn, prefix)? {
        return Ok(f);
    }
    let all = data::prefixes(conn)?;
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
        if let Some((id, name)) = data::action(conn, sid, &r.action)? {
            return Ok(vec![(id, prefix, name)]);
        }
        let names = data::action_names(conn, sid)?;
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
    let prefixes: Vec<String> = if has_wildcard(&r.prefix) {
        data::prefixes(conn)?
            .into_iter()
            .filter(|p| wildcard_match(&r.prefix, p))
            .collect()
    } else {
        vec![service_id(conn, &r.prefix)?.1]
    };
    for p in prefixes {
        for row in data::actions_of(conn, &p)? {
            if wildcard_match(&r.action, &row.2) {
                out.push(row);
            }
        }
    }
    Ok(out)
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

/// The actions `f` selects: each name checked, prefixes and the access
/// level resolved (unknown ones refused), in the order the flags are read.
pub fn list_actions(conn: &Connection, f: &ActionFilter) -> Result<Vec<data::ActionRow>> {
    let mut q = data::ActionQuery {
        wildcard_only: f.wildcard_only,
        permission_only: f.permission_only,
        ..Default::default()
    };
    if let Some(p) = &f.service {
        q.prefix = Some(service_id(conn, p)?.1);
    }
    if let Some(l) = &f.access_level {
        q.access_level = Some(access_level(l)?.to_string());
    }
    if let Some(rt) = &f.resource_type {
        let (p, name) = match rt.split_once(':') {
            Some((p, n)) => (Some(p), n),
            None => (None, rt.as_str()),
        };
        check_name("resource type", name)?;
        q.resource_type = Some(name.to_string());
        if let Some(p) = p {
            q.resource_type_prefix = Some(service_id(conn, p)?.1);
        }
    }
    if let Some(k) = &f.condition_key {
        check_name("condition key", k)?;
        q.condition_key = Some(k.clone());
    }
    Ok(data::list_actions(conn, &q)?)
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
    if let Some(id) = data::resource_type(conn, sid, name)? {
        return Ok(id);
    }
    let names = data::resource_type_names(conn, sid)?;
    Err(input(match suggest(name, names.iter().map(String::as_str)) {
        Some(s) => format!("unknown resource type {prefix}:{name}; did you mean {prefix}:{s}?"),
        None => format!(
            "unknown resource type {prefix}:{name}; `iamref service {prefix}` lists its resource types"
        ),
    }))
}
