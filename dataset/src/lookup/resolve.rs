//! Names as a user gives them (`s3:get*`, `S3`, `permissions-management`,
//! `s3:bucket`): checked, resolved to rows (wildcards expanded), and
//! refused with a typed [`LookupError`] that carries the closest known
//! name. The caller (the binary) words any hint about its commands.

use super::{action, action_names, actions_of, prefixes, resource_type, resource_type_names};
use super::{list_actions, service_row, ActionQuery, ActionRow};
use crate::domain::ACCESS_LEVELS;
use crate::names::{has_wildcard, suggest, wildcard_match};
use crate::Error;
use rusqlite::Connection;

/// Why a name was refused, or the dataset could not be read.
#[derive(Debug, thiserror::Error)]
pub enum LookupError {
    #[error(transparent)]
    Data(#[from] Error),
    /// `what` is what the caller calls the name ("action", "ARN").
    #[error("empty {what}")]
    Empty { what: String },
    #[error("{what} is {len} bytes long; IAM names are far shorter (starts {start:?})")]
    TooLong {
        what: String,
        len: usize,
        /// The first 40 characters.
        start: String,
    },
    #[error("{what} {name:?} contains a control character (U+{code:04X}) at byte {at}")]
    ControlCharacter {
        what: String,
        name: String,
        code: u32,
        at: usize,
    },
    #[error("{0:?} is not SERVICE:ACTION (e.g. s3:ListBucket)")]
    NotServiceAction(String),
    /// A pattern where one action is asked for (as written).
    #[error("{0:?} is a pattern, not one action")]
    Pattern(String),
    #[error("{0:?} is not SERVICE:ACTION: a service prefix and an action name hold letters, digits, '-', '_', '.' and the wildcards '*' and '?'")]
    ServiceActionCharacters(String),
    #[error("{0:?} is not PREFIX:NAME (e.g. s3:bucket)")]
    NotPrefixName(String),
    #[error("unknown service prefix {prefix}{}", did_you_mean(.suggestion))]
    UnknownPrefix {
        prefix: String,
        suggestion: Option<String>,
    },
    /// `given` as written; `prefix` as stored; `suggestion` an action of it.
    #[error("unknown action {given}{}", did_you_mean(&.suggestion.as_ref().map(|s| format!("{prefix}:{s}"))))]
    UnknownAction {
        given: String,
        prefix: String,
        suggestion: Option<String>,
    },
    #[error(
        "unknown access level {0:?}; expected list, read, write, permissions-management or tagging"
    )]
    UnknownAccessLevel(String),
    /// `prefix` as stored; `suggestion` a resource type of it.
    #[error("unknown resource type {prefix}:{name}{}", did_you_mean(&.suggestion.as_ref().map(|s| format!("{prefix}:{s}"))))]
    UnknownResourceType {
        prefix: String,
        name: String,
        suggestion: Option<String>,
    },
    #[error("unknown condition key {key}{}", did_you_mean(.suggestion))]
    UnknownConditionKey {
        key: String,
        suggestion: Option<String>,
    },
    /// A prefix `iamref api` was given (quoted, up to three suggestions).
    #[error("unknown service prefix {prefix:?}{}", did_you_mean_any(.suggestions))]
    UnknownApiService {
        prefix: String,
        suggestions: Vec<String>,
    },
    #[error("{prefix}:{operation}: the dataset has no API operations for {prefix} (its JSON service reference lists none)")]
    NoOperations { prefix: String, operation: String },
    #[error("{prefix}:{operation}: unknown API operation{}", did_you_mean_any(.suggestions))]
    UnknownOperation {
        prefix: String,
        operation: String,
        suggestions: Vec<String>,
    },
    /// `known`: the packages the dataset has (none when it was built
    /// without the JSON service reference).
    #[error("unknown SDK package {package:?}; the dataset knows {}", if .known.is_empty() { "none".to_string() } else { .known.join(", ") })]
    UnknownSdkPackage { package: String, known: Vec<String> },
    #[error("{package}: unknown client {client:?}{}", did_you_mean_any(.suggestions))]
    UnknownSdkClient {
        package: String,
        client: String,
        suggestions: Vec<String>,
    },
    #[error("{package} {client}: unknown method {method:?}{}", did_you_mean_any(.suggestions))]
    UnknownSdkMethod {
        package: String,
        client: String,
        method: String,
        suggestions: Vec<String>,
    },
}

fn did_you_mean_any(s: &[String]) -> String {
    if s.is_empty() {
        String::new()
    } else {
        format!("; did you mean {}?", s.join(", "))
    }
}

fn did_you_mean(s: &Option<String>) -> String {
    s.as_ref()
        .map(|s| format!("; did you mean {s}?"))
        .unwrap_or_default()
}

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
/// name back). `what` names it in the error.
pub fn check_name(what: &str, s: &str) -> Result<(), LookupError> {
    if s.is_empty() {
        return Err(LookupError::Empty { what: what.into() });
    }
    if s.len() > 512 {
        return Err(LookupError::TooLong {
            what: what.into(),
            len: s.len(),
            start: s.chars().take(40).collect(),
        });
    }
    if let Some((at, c)) = s.char_indices().find(|(_, c)| c.is_control()) {
        return Err(LookupError::ControlCharacter {
            what: what.into(),
            name: s.into(),
            code: c as u32,
            at,
        });
    }
    Ok(())
}

/// Parse `s3:GetObject` (or a pattern such as `s3:Get*`).
pub fn parse_action_ref(s: &str) -> Result<ActionRef, LookupError> {
    check_name("action", s)?;
    let Some((prefix, action)) = s.split_once(':') else {
        return Err(LookupError::NotServiceAction(s.into()));
    };
    let ok = |p: &str| {
        !p.is_empty()
            && p.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.*?".contains(&b))
    };
    if !ok(prefix) || !ok(action) {
        return Err(LookupError::ServiceActionCharacters(s.into()));
    }
    Ok(ActionRef {
        prefix: prefix.to_string(),
        action: action.to_string(),
    })
}

/// Service row id, canonical prefix and name for a prefix (any case), or
/// [`LookupError::UnknownPrefix`] with the closest prefix.
pub fn service_id(conn: &Connection, prefix: &str) -> Result<(i64, String, String), LookupError> {
    if let Some(f) = service_row(conn, prefix)? {
        return Ok(f);
    }
    let all = prefixes(conn)?;
    Err(LookupError::UnknownPrefix {
        prefix: prefix.into(),
        suggestion: suggest(prefix, all.iter().map(String::as_str)).map(str::to_string),
    })
}

/// Action row ids, prefixes and names (as stored) matching a reference:
/// exact (any case) or a wildcard pattern. An exact name that does not
/// exist is [`LookupError::UnknownAction`]; a pattern that matches
/// nothing is an empty list.
pub fn resolve_actions(
    conn: &Connection,
    r: &ActionRef,
) -> Result<Vec<(i64, String, String)>, LookupError> {
    if !r.is_pattern() {
        let (sid, prefix, _) = service_id(conn, &r.prefix)?;
        if let Some((id, name)) = action(conn, sid, &r.action)? {
            return Ok(vec![(id, prefix, name)]);
        }
        let names = action_names(conn, sid)?;
        let suggestion = suggest(&r.action, names.iter().map(String::as_str)).map(str::to_string);
        return Err(LookupError::UnknownAction {
            given: format!("{}:{}", r.prefix, r.action),
            prefix,
            suggestion,
        });
    }
    let mut out = Vec::new();
    let prefixes: Vec<String> = if has_wildcard(&r.prefix) {
        prefixes(conn)?
            .into_iter()
            .filter(|p| wildcard_match(&r.prefix, p))
            .collect()
    } else {
        vec![service_id(conn, &r.prefix)?.1]
    };
    for p in prefixes {
        for row in actions_of(conn, &p)? {
            if wildcard_match(&r.action, &row.2) {
                out.push(row);
            }
        }
    }
    Ok(out)
}

/// The canonical spelling ([`ACCESS_LEVELS`]) of an access level given in
/// any case, with `-` or `_` for spaces (`permissions-management`; also
/// `permission management`).
pub fn access_level(s: &str) -> Result<&'static str, LookupError> {
    let norm = s.to_ascii_lowercase().replace(['-', '_'], " ");
    let norm = match norm.trim() {
        "permission management" => "permissions management",
        n => n,
    };
    ACCESS_LEVELS
        .into_iter()
        .find(|l| l.eq_ignore_ascii_case(norm))
        .ok_or_else(|| LookupError::UnknownAccessLevel(s.into()))
}

/// Filters of `iamref actions` as given (names unchecked, any case); all
/// that are set must hold.
#[derive(Debug, Default)]
pub struct ActionFilter {
    pub service: Option<String>,
    pub access_level: Option<String>,
    /// `NAME` or `PREFIX:NAME`.
    pub resource_type: Option<String>,
    pub wildcard_only: bool,
    pub condition_key: Option<String>,
    pub permission_only: bool,
}

/// The actions `f` selects: each name checked, prefixes and the access
/// level resolved (unknown ones refused), in the order the filters are
/// listed.
pub fn filter_actions(conn: &Connection, f: &ActionFilter) -> Result<Vec<ActionRow>, LookupError> {
    let mut q = ActionQuery {
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
    Ok(list_actions(conn, &q)?)
}

/// Resource type row id by `PREFIX:NAME` (names can contain spaces).
pub fn resource_type_id(conn: &Connection, spec: &str) -> Result<i64, LookupError> {
    check_name("resource type", spec)?;
    let Some((p, name)) = spec.split_once(':') else {
        return Err(LookupError::NotPrefixName(spec.into()));
    };
    let (sid, prefix, _) = service_id(conn, p)?;
    if let Some(id) = resource_type(conn, sid, name)? {
        return Ok(id);
    }
    let names = resource_type_names(conn, sid)?;
    Err(LookupError::UnknownResourceType {
        suggestion: suggest(name, names.iter().map(String::as_str)).map(str::to_string),
        prefix,
        name: name.into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn action_refs() {
        let r = parse_action_ref("s3:Get*").unwrap();
        assert_eq!((r.prefix.as_str(), r.action.as_str()), ("s3", "Get*"));
        assert!(r.is_pattern());
        assert!(!parse_action_ref("s3:GetObject").unwrap().is_pattern());
        assert!(matches!(
            parse_action_ref("s3GetObject"),
            Err(LookupError::NotServiceAction(_))
        ));
        assert!(matches!(
            parse_action_ref("s3:Get Object"),
            Err(LookupError::ServiceActionCharacters(_))
        ));
        assert!(matches!(
            parse_action_ref(""),
            Err(LookupError::Empty { .. })
        ));
    }

    #[test]
    fn names_checked() {
        assert!(check_name("ARN", "arn:aws:s3:::b").is_ok());
        let e = check_name("ARN", "a\u{7}b").unwrap_err();
        assert_eq!(
            e.to_string(),
            "ARN \"a\\u{7}b\" contains a control character (U+0007) at byte 1"
        );
        let e = check_name("action", &"x".repeat(600)).unwrap_err();
        assert!(e.to_string().starts_with("action is 600 bytes long"));
    }

    #[test]
    fn access_levels_in_any_spelling() {
        assert_eq!(access_level("READ").unwrap(), "Read");
        assert_eq!(
            access_level("permissions-management").unwrap(),
            "Permissions management"
        );
        assert_eq!(
            access_level("permission_management").unwrap(),
            "Permissions management"
        );
        assert_eq!(access_level(" tagging ").unwrap(), "Tagging");
        assert!(matches!(
            access_level("admin"),
            Err(LookupError::UnknownAccessLevel(_))
        ));
    }

    #[test]
    fn refusals_carry_the_closest_name() {
        let e = LookupError::UnknownAction {
            given: "S3:GetObjekt".into(),
            prefix: "s3".into(),
            suggestion: Some("GetObject".into()),
        };
        assert_eq!(
            e.to_string(),
            "unknown action S3:GetObjekt; did you mean s3:GetObject?"
        );
        let e = LookupError::UnknownPrefix {
            prefix: "s4".into(),
            suggestion: None,
        };
        assert_eq!(e.to_string(), "unknown service prefix s4");
    }
}
