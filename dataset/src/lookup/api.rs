//! API operations and SDK methods as a user names them (`s3:CopyObject`,
//! `boto3 s3.copy_object`): found (any case) or refused with the closest
//! names, and the IAM actions they need as typed rows (`iamref api`,
//! `sdk`).

use super::{
    action_summary, operation, operation_actions, operation_names, prefixes, sdk_clients,
    sdk_methods, sdk_operations, sdk_packages, service, LookupError,
};
use crate::names::{sorted_unique, suggestions};
use crate::Error;
use rusqlite::Connection;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One IAM action an API operation needs (`api`, `sdk`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiRow {
    /// `prefix:Operation`, e.g. `s3:CopyObject`.
    pub operation: String,
    /// `prefix:Action`, e.g. `s3-object-lambda:PutObject`.
    pub action: String,
    /// The operations table's access level, else the action's.
    pub access_level: Option<String>,
    /// Resource types the action takes (empty: `"*"` only).
    pub resource_types: Vec<String>,
    /// Condition keys of the action (action level and resource-type rows)
    /// and those the operation names for it (e.g. `iam:PassedToService`).
    pub condition_keys: Vec<String>,
    /// Which source maps the operation to this action: html, json or both.
    pub sources: String,
    /// Whether the action is defined in the dataset.
    pub known: bool,
    /// Condition-key values the operation sets for this action (AWS's
    /// `Context`), e.g. `{"iam:PassedToService": ["lambda.amazonaws.com"]}`.
    #[serde(default)]
    pub context: BTreeMap<String, Vec<String>>,
}

/// A service's row id and prefix as stored, for a prefix in any case, or
/// [`LookupError::UnknownApiService`] with up to three close prefixes.
pub fn api_service(conn: &Connection, prefix: &str) -> Result<(i64, String), LookupError> {
    if let Some(found) = service(conn, prefix)? {
        return Ok(found);
    }
    let all = prefixes(conn)?;
    Err(LookupError::UnknownApiService {
        prefix: prefix.into(),
        suggestions: suggestions(prefix, all.iter().map(String::as_str)),
    })
}

/// An API operation by prefix and name (any case): the prefix as stored,
/// the operation's row id and name as stored.
pub fn find_operation(
    conn: &Connection,
    prefix: &str,
    op: &str,
) -> Result<(String, i64, String), LookupError> {
    let (sid, prefix) = api_service(conn, prefix)?;
    if let Some((oid, name)) = operation(conn, sid, op)? {
        return Ok((prefix, oid, name));
    }
    let names = operation_names(conn, sid)?;
    if names.is_empty() {
        return Err(LookupError::NoOperations {
            prefix,
            operation: op.into(),
        });
    }
    Err(LookupError::UnknownOperation {
        suggestions: suggestions(op, names.iter().map(String::as_str)),
        prefix,
        operation: op.into(),
    })
}

/// The operations an SDK method calls (prefix, operation row id, name),
/// or why there are none: the package, its client or the method unknown.
pub fn sdk_method(
    conn: &Connection,
    package: &str,
    client: &str,
    method: &str,
) -> Result<Vec<(String, i64, String)>, LookupError> {
    let found = sdk_operations(conn, package, client, method)?;
    if !found.is_empty() {
        return Ok(found);
    }
    let packages = sdk_packages(conn)?;
    if !packages.iter().any(|p| p.eq_ignore_ascii_case(package)) {
        return Err(LookupError::UnknownSdkPackage {
            package: package.into(),
            known: packages,
        });
    }
    let clients = sdk_clients(conn, package)?;
    if !clients.iter().any(|c| c.eq_ignore_ascii_case(client)) {
        return Err(LookupError::UnknownSdkClient {
            package: package.into(),
            client: client.into(),
            suggestions: suggestions(client, clients.iter().map(String::as_str)),
        });
    }
    let methods = sdk_methods(conn, package, client)?;
    Err(LookupError::UnknownSdkMethod {
        package: package.into(),
        client: client.into(),
        method: method.into(),
        suggestions: suggestions(method, methods.iter().map(String::as_str)),
    })
}

/// The rows of one operation (by row id; `prefix` and `op_name` as
/// stored), in the operation's order: the operations table's access level
/// else the action's, the action's resource types, its condition keys with
/// those the operation names (sorted, each once whatever its case).
pub fn operation_rows(
    conn: &Connection,
    prefix: &str,
    oid: i64,
    op_name: &str,
) -> Result<Vec<ApiRow>, Error> {
    let acts = operation_actions(conn, oid)?;
    let mut rows = Vec::with_capacity(acts.len());
    for a in acts {
        let info = action_summary(conn, &a.service, &a.action)?;
        let mut keys = a.condition_keys;
        let (full, access_level, resource_types, known) = match info {
            Some(i) => {
                keys.extend(i.condition_keys);
                (
                    format!("{}:{}", i.prefix, i.name),
                    a.access_level.or(i.access_level),
                    i.resource_types,
                    true,
                )
            }
            None => (
                format!("{}:{}", a.service, a.action),
                a.access_level,
                Vec::new(),
                false,
            ),
        };
        rows.push(ApiRow {
            operation: format!("{prefix}:{op_name}"),
            action: full,
            access_level,
            resource_types,
            condition_keys: sorted_unique(keys),
            sources: a.sources.as_str().to_string(),
            known,
            context: a.context,
        });
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_list_close_names() {
        let e = LookupError::UnknownOperation {
            prefix: "s3".into(),
            operation: "CopyObjet".into(),
            suggestions: vec!["CopyObject".into()],
        };
        assert_eq!(
            e.to_string(),
            "s3:CopyObjet: unknown API operation; did you mean CopyObject?"
        );
        let e = LookupError::UnknownApiService {
            prefix: "s4".into(),
            suggestions: vec!["s3".into(), "sns".into()],
        };
        assert_eq!(
            e.to_string(),
            "unknown service prefix \"s4\"; did you mean s3, sns?"
        );
        let e = LookupError::UnknownSdkPackage {
            package: "boto4".into(),
            known: vec![],
        };
        assert_eq!(
            e.to_string(),
            "unknown SDK package \"boto4\"; the dataset knows none"
        );
    }
}
