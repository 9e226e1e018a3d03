//! The shape of AWS's machine-readable service reference
//! (`https://servicereference.us-east-1.amazonaws.com/v1/PREFIX/PREFIX.json`),
//! as typed data. Parsing bytes into these types lives in the scraper
//! (`iamref_scraper::service_reference`); reconciling them with the HTML
//! data lives in [`crate::reconcile`].
//!
//! The types are tolerant: unknown fields are ignored, and every list or
//! object may be missing or `null`.

use serde::{Deserialize, Deserializer, Serialize};
use std::collections::BTreeMap;

/// A list or map that may be absent or `null` (then empty).
fn list<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// One service document (`v1/PREFIX/PREFIX.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct ServiceDoc {
    /// The service prefix, e.g. `s3`.
    pub name: String,
    /// Document version, e.g. `v1.4`.
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default, deserialize_with = "list")]
    pub actions: Vec<DocAction>,
    #[serde(default, deserialize_with = "list")]
    pub resources: Vec<DocResource>,
    #[serde(default, deserialize_with = "list")]
    pub condition_keys: Vec<DocConditionKey>,
    #[serde(default, deserialize_with = "list")]
    pub operations: Vec<DocOperation>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct DocAction {
    pub name: String,
    /// Condition keys the document lists at action level.
    #[serde(default, deserialize_with = "list")]
    pub action_condition_keys: Vec<String>,
    #[serde(default)]
    pub annotations: Option<DocAnnotations>,
    /// Resource types the action takes, with keys specific to each.
    #[serde(default, deserialize_with = "list")]
    pub resources: Vec<DocActionResource>,
    /// e.g. `{"IAM Action Last Accessed": true}`.
    #[serde(default, deserialize_with = "list")]
    pub supported_by: BTreeMap<String, bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct DocAnnotations {
    #[serde(default)]
    pub properties: Option<DocAnnotationProperties>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct DocAnnotationProperties {
    #[serde(default)]
    pub is_list: bool,
    #[serde(default)]
    pub is_write: bool,
    #[serde(default)]
    pub is_permission_management: bool,
    #[serde(default)]
    pub is_tagging_only: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct DocActionResource {
    pub name: String,
    #[serde(default, deserialize_with = "list")]
    pub condition_keys: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct DocResource {
    pub name: String,
    #[serde(rename = "ARNFormats", default, deserialize_with = "list")]
    pub arn_formats: Vec<String>,
    #[serde(default, deserialize_with = "list")]
    pub condition_keys: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct DocConditionKey {
    pub name: String,
    /// Usually one type (`String`, `ArrayOfString`, ...); a few keys list two.
    #[serde(default, deserialize_with = "list")]
    pub types: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct DocOperation {
    pub name: String,
    #[serde(default, deserialize_with = "list")]
    pub authorized_actions: Vec<DocAuthorizedAction>,
    #[serde(rename = "SDK", default, deserialize_with = "list")]
    pub sdk: Vec<DocSdk>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct DocAuthorizedAction {
    /// Action name, e.g. `PutObject`.
    pub name: String,
    /// Prefix of the action's service, e.g. `s3-object-lambda`.
    pub service: String,
    /// Condition key values the operation sets when it authorizes the
    /// action, e.g. `{"iam:PassedToService": ["lambda.amazonaws.com"]}`.
    #[serde(default)]
    pub context: Option<serde_json::Value>,
}

impl DocAuthorizedAction {
    /// The values `context` gives each key (a single string is a list of
    /// one; other JSON values are kept as their JSON text).
    pub fn context_values(&self) -> BTreeMap<String, Vec<String>> {
        let mut out = BTreeMap::new();
        if let Some(serde_json::Value::Object(m)) = &self.context {
            for (k, v) in m {
                let text = |v: &serde_json::Value| match v {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                let vals: Vec<String> = match v {
                    serde_json::Value::Array(a) => a.iter().map(text).collect(),
                    serde_json::Value::Null => Vec::new(),
                    other => vec![text(other)],
                };
                out.insert(k.clone(), vals);
            }
        }
        out
    }

    /// Names of the condition keys in `context`, sorted.
    pub fn context_keys(&self) -> Vec<String> {
        match &self.context {
            Some(serde_json::Value::Object(m)) => m.keys().cloned().collect(),
            _ => Vec::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct DocSdk {
    /// Client name, e.g. `s3`.
    pub name: String,
    /// e.g. `copy_object`.
    pub method: String,
    /// e.g. `Boto3`.
    pub package: String,
}

/// One entry of `index.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexEntry {
    pub service: String,
    pub url: String,
}

/// A parsed document with what the build records about it.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonDocument {
    /// Prefix the document was fetched under (the `v1/PREFIX/` folder).
    pub prefix: String,
    /// SHA-256 of the document bytes, lowercase hex.
    pub sha256: String,
    pub doc: ServiceDoc,
}
