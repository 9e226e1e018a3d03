//! Parsing AWS's machine-readable service reference
//! (`https://servicereference.us-east-1.amazonaws.com/`): the root
//! `index.json` and one `v1/PREFIX/PREFIX.json` document per service.
//!
//! Pure functions, no I/O: bytes in, typed documents or an error naming the
//! document and the JSON path of the problem out.

use iamref_dataset::domain;
use iamref_dataset::json_doc::{IndexEntry, JsonDocument, ServiceDoc};

pub use iamref_dataset::json_doc;

/// A document that could not be read, with the path inside it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{document}: {message}")]
pub struct JsonError {
    /// What was being read, e.g. `v1/s3/s3.json` or `index.json`.
    pub document: String,
    pub message: String,
}

fn de<T: serde::de::DeserializeOwned>(document: &str, bytes: &[u8]) -> Result<T, JsonError> {
    // Fast path; on failure, parse again tracking the path for the message.
    if let Ok(v) = serde_json::from_slice(bytes) {
        return Ok(v);
    }
    let mut d = serde_json::Deserializer::from_slice(bytes);
    let v: T = serde_path_to_error::deserialize(&mut d).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let message = if path == "." || path.is_empty() {
            format!("invalid JSON: {inner}")
        } else {
            format!("invalid JSON at {path}: {inner}")
        };
        JsonError {
            document: document.to_string(),
            message,
        }
    })?;
    d.end().map_err(|e| JsonError {
        document: document.to_string(),
        message: format!("trailing data after the document: {e}"),
    })?;
    Ok(v)
}

/// The conventional name of a prefix's document, for messages.
pub fn document_name(prefix: &str) -> String {
    format!("v1/{prefix}/{prefix}.json")
}

/// Parse one service document. `prefix` is the one it was fetched under;
/// it names the document in errors and must be the document's `Name`
/// (compared case-insensitively).
pub fn parse_service_doc(prefix: &str, bytes: &[u8]) -> Result<ServiceDoc, JsonError> {
    let name = document_name(prefix);
    if bytes.len() > domain::MAX_DOCUMENT_BYTES {
        return Err(JsonError {
            document: name,
            message: format!(
                "{} bytes, over the {} MiB a service reference document may have",
                bytes.len(),
                domain::MAX_DOCUMENT_BYTES >> 20
            ),
        });
    }
    let doc: ServiceDoc = de(&name, bytes)?;
    if doc.name.trim().is_empty() {
        return Err(JsonError {
            document: name,
            message: "the document has an empty Name".into(),
        });
    }
    if !doc.name.eq_ignore_ascii_case(prefix) {
        return Err(JsonError {
            document: name,
            message: format!(
                "the document is named {:?}, not {prefix:?} as its location says",
                doc.name
            ),
        });
    }
    for (i, a) in doc.actions.iter().enumerate() {
        if a.name.trim().is_empty() {
            return Err(JsonError {
                document: name,
                message: format!("Actions[{i}] has an empty Name"),
            });
        }
    }
    for (i, r) in doc.resources.iter().enumerate() {
        if r.name.trim().is_empty() {
            return Err(JsonError {
                document: name,
                message: format!("Resources[{i}] has an empty Name"),
            });
        }
    }
    // Every value against its field's domain (names, key types, ARNs).
    let bad = domain::check_document(&name, &doc);
    if !bad.is_empty() {
        let shown: Vec<String> = bad
            .iter()
            .take(5)
            .map(|l| {
                format!(
                    "{}: {}",
                    l.place.trim_start_matches(&format!("{name}, ")),
                    l.violation
                )
            })
            .collect();
        let more = if bad.len() > 5 {
            format!("; … and {} more", bad.len() - 5)
        } else {
            String::new()
        };
        return Err(JsonError {
            document: name,
            message: format!(
                "{} value(s) {}: {}{more}",
                bad.len(),
                domain::MARK,
                shown.join("; ")
            ),
        });
    }
    Ok(doc)
}

/// Parse one document and record its hash.
pub fn parse_document(prefix: &str, bytes: &[u8]) -> Result<JsonDocument, JsonError> {
    let doc = parse_service_doc(prefix, bytes)?;
    Ok(JsonDocument {
        prefix: doc.name.clone(),
        sha256: iamref_dataset::sha256_hex(bytes),
        doc,
    })
}

/// Parse `index.json`: `[{"service": "s3", "url": "https://…/v1/s3/s3.json"}, …]`.
pub fn parse_index(bytes: &[u8]) -> Result<Vec<IndexEntry>, JsonError> {
    de("index.json", bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Constructed fixture (not an AWS document): the fields the real ones
    // have, plus an unknown field, a null list and a missing one.
    const DOC: &str = r#"{
      "Name": "demo",
      "Version": "v1.4",
      "SomethingNew": {"x": 1},
      "Actions": [
        {"Name": "GetThing", "ActionConditionKeys": ["demo:Flavour"],
         "Annotations": {"Properties": {"IsList": false, "IsPermissionManagement": false,
                                         "IsTaggingOnly": false, "IsWrite": false}},
         "Resources": [{"Name": "thing", "ConditionKeys": ["aws:ResourceTag/${TagKey}"]}],
         "SupportedBy": {"IAM Action Last Accessed": true}},
        {"Name": "ListThings", "Resources": null}
      ],
      "Resources": [{"Name": "thing", "ARNFormats": ["arn:${Partition}:demo:::thing/${Id}"]}],
      "ConditionKeys": [{"Name": "demo:Flavour", "Types": ["String"]}],
      "Operations": [
        {"Name": "GetThing",
         "AuthorizedActions": [{"Name": "GetThing", "Service": "demo"},
                               {"Name": "PassRole", "Service": "iam",
                                "Context": {"iam:PassedToService": ["demo.amazonaws.com"]}}],
         "SDK": [{"Name": "demo", "Method": "get_thing", "Package": "Boto3"}]}
      ]
    }"#;

    #[test]
    fn parses_a_document_tolerating_unknown_and_missing_fields() {
        let d = parse_document("demo", DOC.as_bytes()).unwrap();
        assert_eq!(d.prefix, "demo");
        assert_eq!(d.sha256.len(), 64);
        let doc = d.doc;
        assert_eq!(doc.version.as_deref(), Some("v1.4"));
        assert_eq!(doc.actions.len(), 2);
        assert_eq!(doc.actions[0].action_condition_keys, ["demo:Flavour"]);
        assert_eq!(
            doc.actions[0].resources[0].condition_keys,
            ["aws:ResourceTag/${TagKey}"]
        );
        assert!(doc.actions[1].resources.is_empty());
        assert!(doc.actions[1].annotations.is_none());
        assert_eq!(doc.resources[0].arn_formats.len(), 1);
        assert_eq!(doc.operations[0].sdk[0].method, "get_thing");
        assert_eq!(
            doc.operations[0].authorized_actions[1].context_keys(),
            ["iam:PassedToService"]
        );
    }

    #[test]
    fn errors_name_the_document_and_the_path() {
        let bad = r#"{"Name": "demo", "Actions": [{"Name": "A"}, {"Name": 7}]}"#;
        let e = parse_service_doc("demo", bad.as_bytes()).unwrap_err();
        assert_eq!(e.document, "v1/demo/demo.json");
        assert!(e.message.contains("Actions[1].Name"), "{e}");
        assert!(e.to_string().starts_with("v1/demo/demo.json: "));

        let e = parse_service_doc("demo", b"{\"Name\": \"demo\", ").unwrap_err();
        assert!(e.message.contains("invalid JSON"), "{e}");

        let e = parse_service_doc("demo", br#"{"Name": "other"}"#).unwrap_err();
        assert!(e.message.contains("\"other\""), "{e}");

        let e = parse_service_doc("demo", br#"{"Actions": []}"#).unwrap_err();
        assert!(e.message.contains("Name"), "{e}");

        let e = parse_service_doc("demo", br#"{"Name": "demo"} []"#).unwrap_err();
        assert!(e.message.contains("trailing"), "{e}");
    }

    #[test]
    fn parses_the_index() {
        let idx = parse_index(
            br#"[{"service": "s3", "url": "https://servicereference.us-east-1.amazonaws.com/v1/s3/s3.json"}]"#,
        )
        .unwrap();
        assert_eq!(idx[0].service, "s3");
        let e = parse_index(br#"{"service": "s3"}"#).unwrap_err();
        assert_eq!(e.document, "index.json");
    }
}
