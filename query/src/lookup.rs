//! The lookups' refusals (`iamref_dataset::lookup::LookupError`) as the
//! binary words them: bad input (exit 2), with a hint at the command
//! that lists the names when no close one is known.

use crate::exit::input;
use anyhow::Result;
use iamref_dataset::lookup::{self as data, LookupError};
use std::collections::BTreeMap;

/// A lookup's error for the user: a refused name is bad input, with a
/// hint at `iamref services` / `expand` / `service` when nothing close
/// is known (and at `build --service-reference-dir` when there is no SDK
/// data); a failure to read stays the dataset's error.
pub fn refuse(e: LookupError) -> anyhow::Error {
    let hint = match &e {
        LookupError::UnknownPrefix {
            suggestion: None, ..
        } => "; `iamref services` lists them".to_string(),
        LookupError::UnknownAction {
            suggestion: None,
            prefix,
            ..
        } => format!("; `iamref expand '{prefix}:*'` lists the service's actions"),
        LookupError::UnknownResourceType {
            suggestion: None,
            prefix,
            ..
        } => format!("; `iamref service {prefix}` lists its resource types"),
        LookupError::UnknownSdkPackage { known, .. } if known.is_empty() => {
            " (build with --service-reference-dir)".to_string()
        }
        _ => String::new(),
    };
    match e {
        LookupError::Data(e) => e.into(),
        e => input(format!("{e}{hint}")),
    }
}

/// [`data::check_name`], refused as bad input.
pub fn check_name(what: &str, s: &str) -> Result<()> {
    data::check_name(what, s).map_err(refuse)
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
