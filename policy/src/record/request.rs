//! What one call's request says beyond its operation, for the recorder:
//! the members it sends (a role passed in an optional member makes
//! `iam:PassRole` needed), the ARNs its role members hold, and S3's copy
//! source (CopyObject and UploadPartCopy read one object and write
//! another: each action gets the object of its side).

use super::ops::{OpAction, OpEntry};
use super::{arns, cloudtrail, Call};
use std::borrow::Cow;

/// An operation that reads the object `x-amz-copy-source` names, and the
/// actions of its map that are the read (every other one writes the
/// destination).
pub struct CopyReads {
    pub prefix: &'static str,
    pub operation: &'static str,
    pub reads: &'static [&'static str],
    pub why: &'static str,
}

/// Reviewed against the S3 API reference; `request::tests` checks each.
pub const COPY_READS: &[CopyReads] = &[
    CopyReads {
        prefix: "s3",
        operation: "CopyObject",
        reads: &["s3:GetObject", "s3:GetObjectVersion"],
        why: "S3 API reference, CopyObject: read access (s3:GetObject) on the source object named by x-amz-copy-source, s3:GetObjectVersion when it names a versionId; write access (s3:PutObject and the ACL, legal hold, retention and tagging actions with their headers) on the destination",
    },
    CopyReads {
        prefix: "s3",
        operation: "UploadPartCopy",
        reads: &["s3:GetObject", "s3:GetObjectVersion"],
        why: "S3 API reference, UploadPartCopy: s3:GetObject on the source object, s3:GetObjectVersion when x-amz-copy-source names a versionId; s3:PutObject on the destination",
    },
];

/// The copy source of one call of a [`COPY_READS`] operation.
#[derive(Debug, Clone, PartialEq)]
pub struct Copy {
    pub reads: &'static [&'static str],
    /// The source object as request parameters of its own (`bucketName`
    /// and `key`, or `copySourceArn`); `None` when the call does not say
    /// (or says something that is not `bucket/key`).
    pub source: Option<serde_json::Value>,
    /// The copy source names a version (`?versionId=`).
    pub version: bool,
    /// The source object's ARN (to tell it from the destination among
    /// CloudTrail's `resources`).
    pub arn: Option<String>,
}

impl Copy {
    fn reads(&self, action: &str) -> bool {
        self.reads.iter().any(|r| r.eq_ignore_ascii_case(action))
    }
}

/// The copy source of a call, when its operation reads one.
pub fn copy_source(entry: &OpEntry, call: &Call) -> Option<Copy> {
    let c = COPY_READS.iter().find(|c| {
        c.prefix.eq_ignore_ascii_case(&entry.prefix)
            && c.operation.eq_ignore_ascii_case(&entry.name)
    })?;
    let parsed = call.params.as_ref().and_then(cloudtrail::copy_source);
    let arn = parsed.as_ref().map(|(p, _)| match p.get("copySourceArn") {
        Some(a) => a.as_str().unwrap_or_default().to_string(),
        None => format!(
            "arn:{}:s3:::{}/{}",
            arns::partition_of(call.region.as_deref()),
            p["bucketName"].as_str().unwrap_or_default(),
            p["key"].as_str().unwrap_or_default()
        ),
    });
    Some(Copy {
        reads: c.reads,
        version: parsed.as_ref().is_some_and(|p| p.1),
        source: parsed.map(|p| p.0),
        arn,
    })
}

/// The request parameters that name an action's resources: the copy
/// source for the actions that read it, the rest of the request for the
/// others, the whole request otherwise.
pub fn params_for<'a>(
    a: &OpAction,
    call: &'a Call,
    copy: Option<&'a Copy>,
) -> Option<Cow<'a, serde_json::Value>> {
    match copy {
        Some(c) if c.reads(&a.action) => c.source.as_ref().map(Cow::Borrowed),
        Some(_) => call
            .params
            .as_ref()
            .map(|p| Cow::Owned(cloudtrail::without_copy_source(p))),
        None => call.params.as_ref().map(Cow::Borrowed),
    }
}

/// The ARNs a record lists (CloudTrail `resources`) that may be an
/// action's: for a copy, the source object is the reading actions' only
/// (named by the copy source itself), never the destination's.
pub fn listed_for<'a>(a: &OpAction, call: &'a Call, copy: Option<&Copy>) -> Vec<&'a str> {
    match copy {
        Some(c) if c.reads(&a.action) => Vec::new(),
        Some(c) => call
            .resources
            .iter()
            .map(String::as_str)
            .filter(|r| Some(*r) != c.arn.as_deref())
            .collect(),
        None => call.resources.iter().map(String::as_str).collect(),
    }
}

/// Does the call's request ask for this (conditional) action: does it
/// send one of the action's members (an optional role member), or name a
/// version of its copy source (`s3:GetObjectVersion`)?
pub fn sends(a: &OpAction, call: &Call, copy: Option<&Copy>) -> bool {
    if let Some(c) = copy {
        if c.version && a.action.eq_ignore_ascii_case("s3:GetObjectVersion") {
            return true;
        }
    }
    let Some(p) = &call.params else {
        return false;
    };
    a.members
        .iter()
        .any(|m| cloudtrail::param_path(p, m).is_some())
}

/// The ARNs of `formats` the members hold: an ARN as given (a `*` in it
/// is text), a bare name as the format filled with it (`resize-exec` ->
/// `arn:aws:iam::123456789012:role/resize-exec`); strings inside a map or
/// list member too (Cognito's `Roles`). What is not one of the formats'
/// (an instance profile's ARN) is left out.
pub fn member_arns(
    params: &serde_json::Value,
    members: &[String],
    formats: &[&str],
    call: &Call,
    judge: &mut arns::Judge,
) -> Vec<String> {
    let mut values: Vec<&str> = Vec::new();
    for m in members {
        match cloudtrail::param_path(params, m) {
            Some(serde_json::Value::String(s)) => values.push(s),
            Some(serde_json::Value::Object(o)) => {
                values.extend(o.values().filter_map(serde_json::Value::as_str))
            }
            Some(serde_json::Value::Array(a)) => {
                values.extend(a.iter().filter_map(serde_json::Value::as_str))
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    for v in values {
        if v.starts_with("arn:") {
            let arn = crate::arn::escape(v);
            if formats.iter().any(|f| judge.is_instance(f, &arn)) {
                out.push(arn.into_owned());
            }
        } else if !v.is_empty() && !v.contains([':', '/', '*']) {
            // A role given by name (Glue's `Role`, RDS's
            // `DomainIAMRoleName`).
            let p = serde_json::json!({ "roleName": v });
            for f in formats {
                if let Some(arn) = cloudtrail::arn_from_params(
                    f,
                    &p,
                    call.region.as_deref(),
                    call.account.as_deref(),
                    judge,
                ) {
                    out.push(arn);
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::ops::tests::snapshot_index;

    fn call(params: serde_json::Value) -> Call {
        Call {
            region: Some("us-east-1".into()),
            account: Some("123456789012".into()),
            params: Some(params),
            ..Default::default()
        }
    }

    #[test]
    fn every_copy_read_names_actions_of_its_operation() {
        for c in COPY_READS {
            let e = snapshot_index()
                .operation(c.prefix, c.operation)
                .unwrap_or_else(|| panic!("{}:{} not in the dataset", c.prefix, c.operation));
            for r in c.reads {
                assert!(
                    e.actions.iter().any(|a| a.action.eq_ignore_ascii_case(r)),
                    "{}:{}: {r} not in its map",
                    c.prefix,
                    c.operation
                );
            }
            // Something is written too: the destination's actions.
            assert!(e
                .actions
                .iter()
                .any(|a| !c.reads.contains(&a.action.as_str())));
        }
    }

    #[test]
    fn copy_object_reads_the_source_and_writes_the_destination() {
        let idx = snapshot_index();
        let e = idx.operation("s3", "CopyObject").unwrap();
        // Constructed: CloudTrail's spelling, a key with a space and a
        // slash percent-encoded, a version.
        let c = call(serde_json::json!({
            "bucketName": "dst", "key": "out/copy.txt",
            "x-amz-copy-source": "src/in%20dir/a%2Bb.txt?versionId=3HL4kqtJlcpXroDTDmJ"
        }));
        let copy = copy_source(e, &c).unwrap();
        assert!(copy.version);
        assert_eq!(copy.arn.as_deref(), Some("arn:aws:s3:::src/in dir/a+b.txt"));
        let get = e
            .actions
            .iter()
            .find(|a| a.action == "s3:GetObject")
            .unwrap();
        let put = e
            .actions
            .iter()
            .find(|a| a.action == "s3:PutObject")
            .unwrap();
        let ver = e
            .actions
            .iter()
            .find(|a| a.action == "s3:GetObjectVersion")
            .unwrap();
        assert_eq!(
            params_for(get, &c, Some(&copy)).unwrap().as_ref(),
            &serde_json::json!({"bucketName": "src", "key": "in dir/a+b.txt"})
        );
        assert_eq!(
            params_for(put, &c, Some(&copy)).unwrap().as_ref(),
            &serde_json::json!({"bucketName": "dst", "key": "out/copy.txt"})
        );
        assert!(sends(ver, &c, Some(&copy)));
        assert!(!sends(get, &c, Some(&copy)));
        // A leading '/', no version; an access point ARN.
        let c = call(serde_json::json!({"x-amz-copy-source": "/src/k"}));
        let copy = copy_source(e, &c).unwrap();
        assert!(!copy.version && !sends(ver, &c, Some(&copy)));
        assert_eq!(
            copy.source,
            Some(serde_json::json!({"bucketName": "src", "key": "k"}))
        );
        let c = call(serde_json::json!({
            "CopySource": "arn%3Aaws%3As3%3Aus-west-2%3A123456789012%3Aaccesspoint%2Fap%2Fobject%2Fk"
        }));
        let copy = copy_source(e, &c).unwrap();
        assert_eq!(
            copy.arn.as_deref(),
            Some("arn:aws:s3:us-west-2:123456789012:accesspoint/ap/object/k")
        );
        // No copy source: the reads have no parameters of their own.
        let c = call(serde_json::json!({"bucketName": "dst", "key": "k"}));
        let copy = copy_source(e, &c).unwrap();
        assert!(params_for(get, &c, Some(&copy)).is_none());
    }
}
