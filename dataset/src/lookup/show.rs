//! What `iamref service` and `iamref condition-key` show, as typed,
//! serializable results (their JSON field names are part of iamref's
//! stable output, README).

use super::{
    condition_key_actions, condition_key_other_types, condition_key_resource_types, condition_keys,
    service_summary, LookupError,
};
use crate::names::{key_matches_template, suggest};
use crate::Error;
use rusqlite::Connection;
use serde::Serialize;

/// A service: its pages, actions per access level, resource types and
/// condition keys.
#[derive(Debug, Clone, Serialize)]
pub struct ServiceInfo {
    pub prefix: String,
    pub name: String,
    pub pages: Vec<String>,
    /// All its actions.
    pub actions: i64,
    /// Actions per access level (`(none)` for none), by level.
    pub access_levels: Vec<(String, i64)>,
    pub resource_types: Vec<NameArns>,
    pub condition_keys: Vec<KeyInfo>,
}

/// A resource type and its ARN formats, in page order.
#[derive(Debug, Clone, Serialize)]
pub struct NameArns {
    pub name: String,
    pub arns: Vec<String>,
}

/// A condition key as one service defines it.
#[derive(Debug, Serialize, Clone)]
pub struct KeyInfo {
    pub prefix: String,
    pub condition_key: String,
    pub r#type: Option<String>,
    pub description: Option<String>,
}

/// The service of row id `sid` (its `prefix` and `name` as stored).
pub fn service_info(
    conn: &Connection,
    sid: i64,
    prefix: String,
    name: String,
) -> Result<ServiceInfo, Error> {
    let summary = service_summary(conn, sid)?;
    let resource_types = summary
        .resource_types
        .into_iter()
        .map(|(name, arns)| NameArns { name, arns })
        .collect();
    let condition_keys = summary
        .condition_keys
        .into_iter()
        .map(|(condition_key, r#type, description)| KeyInfo {
            prefix: prefix.clone(),
            condition_key,
            r#type,
            description,
        })
        .collect();
    Ok(ServiceInfo {
        actions: summary.access_levels.iter().map(|(_, n)| n).sum(),
        prefix,
        name,
        pages: summary.pages,
        access_levels: summary.access_levels,
        resource_types,
        condition_keys,
    })
}

/// An action that lists a condition key.
#[derive(Debug, Clone, Serialize)]
pub struct KeyUse {
    pub action: String,
    /// Resource type whose row lists the key; null for action-level keys.
    pub resource_type: Option<String>,
}

/// A type a page or the JSON gives a key where it differs from the one
/// in `definitions`.
#[derive(Debug, Clone, Serialize)]
pub struct OtherType {
    pub prefix: String,
    /// The page file, or `json`.
    pub source: String,
    pub r#type: String,
}

/// A condition key: the services defining it, the actions and resource
/// types listing it.
#[derive(Debug, Clone, Serialize)]
pub struct ConditionKeyInfo {
    pub condition_key: String,
    pub definitions: Vec<KeyInfo>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub other_types: Vec<OtherType>,
    pub actions: Vec<KeyUse>,
    pub resource_types: Vec<String>,
}

/// The condition keys a key names (checked): those of that name (any
/// case), else the templates it fits (`aws:ResourceTag/Owner` fits
/// `aws:ResourceTag/${TagKey}`), by name; none is
/// [`LookupError::UnknownConditionKey`] with the closest key.
pub fn condition_key_info(
    conn: &Connection,
    key: &str,
) -> Result<Vec<ConditionKeyInfo>, LookupError> {
    super::check_name("condition key", key)?;
    let all = condition_keys(conn)?;
    let mut names: Vec<String> = all
        .iter()
        .filter(|k| k.1.eq_ignore_ascii_case(key))
        .map(|k| k.1.clone())
        .collect();
    if names.is_empty() {
        names = all
            .iter()
            .filter(|k| key_matches_template(&k.1, key))
            .map(|k| k.1.clone())
            .collect();
    }
    names.sort();
    names.dedup();
    if names.is_empty() {
        let cands = all.iter().map(|k| k.1.as_str());
        return Err(LookupError::UnknownConditionKey {
            key: key.into(),
            suggestion: suggest(key, cands).map(str::to_string),
        });
    }
    let mut infos = Vec::new();
    for name in &names {
        let definitions = all
            .iter()
            .filter(|k| &k.1 == name)
            .map(|k| KeyInfo {
                prefix: k.0.clone(),
                condition_key: k.1.clone(),
                r#type: k.2.clone(),
                description: k.3.clone(),
            })
            .collect();
        let actions = condition_key_actions(conn, name)?
            .into_iter()
            .map(|(action, resource_type)| KeyUse {
                action,
                resource_type,
            })
            .collect();
        let other_types = condition_key_other_types(conn, name)?
            .into_iter()
            .map(|(prefix, source, r#type)| OtherType {
                prefix,
                source,
                r#type,
            })
            .collect();
        infos.push(ConditionKeyInfo {
            condition_key: name.clone(),
            definitions,
            other_types,
            actions,
            resource_types: condition_key_resource_types(conn, name)?,
        });
    }
    Ok(infos)
}
