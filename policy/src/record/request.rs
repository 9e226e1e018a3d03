//! What one call's request says beyond its operation, for the recorder:
//! the members it sends (a role passed in an optional member makes
//! `iam:PassRole` needed), the ARNs its role members hold, S3's copy
//! source (CopyObject and UploadPartCopy read one object and write
//! another: each action gets the object of its side), and what an EC2
//! call created (CloudTrail's `responseElements`: the tags a create call
//! carries go on what it created, not on the VPC it names).

use super::ops::{OpAction, OpEntry};
use super::{arns, cloudtrail, Call};
use std::borrow::Cow;

/// What one call says beyond its operation, read once per call.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Facts {
    pub copy: Option<Copy>,
    pub created: Option<Created>,
    pub elements: Option<Elements>,
}

/// The facts of one call.
pub fn facts(entry: &OpEntry, call: &Call) -> Facts {
    Facts {
        copy: copy_source(entry, call),
        created: created(entry, call),
        elements: elements(entry, call),
    }
}

/// An operation whose request names its resources one per element of a
/// list (S3 DeleteObjects' keys): each element, with the call's other
/// parameters, names one resource.
pub struct Each {
    pub prefix: &'static str,
    pub operation: &'static str,
    /// Where the list is (a member path, `[]` its elements): as the model
    /// names it (the proxy's call log) and as the body writes it; the
    /// first present is read.
    pub lists: &'static [&'static str],
    /// The element's member naming the resource, and the request
    /// parameter it stands for (`Key`: the object key, `key`).
    pub member: (&'static str, &'static str),
    /// Element members that ask for an action: an element with one needs
    /// it, on that element's resource.
    pub asks: &'static [(&'static str, &'static str)],
    pub why: &'static str,
}

/// Reviewed against the S3 API reference; `request::tests` checks each.
pub const EACH: &[Each] = &[Each {
    prefix: "s3",
    operation: "DeleteObjects",
    lists: &["Delete.Objects[]", "Delete.Object[]"],
    member: ("Key", "key"),
    asks: &[("VersionId", "s3:DeleteObjectVersion")],
    why: "S3 API reference, DeleteObjects: the body's Delete lists up to 1,000 objects (Object: Key, VersionId); each is deleted as DeleteObject would delete it (s3:DeleteObject on the object), one given with a VersionId as DeleteObjectVersion (s3:DeleteObjectVersion)",
}];

/// The [`EACH`] entry of an operation.
pub fn each_of(prefix: &str, operation: &str) -> Option<&'static Each> {
    EACH.iter().find(|e| {
        e.prefix.eq_ignore_ascii_case(prefix) && e.operation.eq_ignore_ascii_case(operation)
    })
}

/// The elements one call of an [`EACH`] operation names.
#[derive(Debug, Clone, PartialEq)]
pub struct Elements {
    /// Per element: the call's parameters with the element's resource
    /// (`key`), and the actions it asks for.
    pub items: Vec<(serde_json::Value, Vec<&'static str>)>,
}

/// The elements of a call, when its operation is one of [`EACH`] and its
/// request lists some.
pub fn elements(entry: &OpEntry, call: &Call) -> Option<Elements> {
    let e = each_of(&entry.prefix, &entry.name)?;
    let params = call.params.as_ref()?;
    let list = e
        .lists
        .iter()
        .map(|l| cloudtrail::param_values(params, l))
        .find(|v| !v.is_empty())?;
    let mut items = Vec::new();
    for el in list {
        let Some(v) = cloudtrail::param_path(el, e.member.0).and_then(|v| v.as_str()) else {
            continue;
        };
        let mut p = params.clone();
        if let Some(m) = p.as_object_mut() {
            m.insert(e.member.1.to_string(), serde_json::Value::from(v));
        }
        let asks = e
            .asks
            .iter()
            .filter(|(m, _)| cloudtrail::param_path(el, m).is_some())
            .map(|(_, a)| *a)
            .collect();
        items.push((p, asks));
    }
    (!items.is_empty()).then_some(Elements { items })
}

/// The parameter sets that name an action's resources, one per element,
/// for a call of an [`EACH`] operation: every element for the actions no
/// element member asks for, the asking elements for the others; `None`
/// for other calls (or no element asks for it).
pub fn element_params<'a>(a: &OpAction, facts: &'a Facts) -> Option<Vec<&'a serde_json::Value>> {
    let el = facts.elements.as_ref()?;
    let asked =
        |x: &(serde_json::Value, Vec<&str>)| x.1.iter().any(|y| y.eq_ignore_ascii_case(&a.action));
    let v: Vec<_> = if el.items.iter().any(asked) {
        el.items.iter().filter(|x| asked(x)).map(|x| &x.0).collect()
    } else if EACH
        .iter()
        .flat_map(|e| e.asks)
        .any(|(_, x)| x.eq_ignore_ascii_case(&a.action))
    {
        return None;
    } else {
        el.items.iter().map(|x| &x.0).collect()
    };
    Some(v)
}

/// An operation that creates resources and may tag them as it does, and
/// where CloudTrail's `responseElements` name what it created.
pub struct Creates {
    pub prefix: &'static str,
    pub operation: &'static str,
    /// The tagging action of the operation's map.
    pub tags: &'static str,
    /// The request members that carry the tags (the model's name and
    /// CloudTrail's).
    pub tag_members: &'static [&'static str],
    /// (path in `responseElements`, `[]` over a list; the ARN variable).
    pub ids: &'static [(&'static str, &'static str)],
    pub why: &'static str,
}

const EC2_TAGS: &[&str] = &["TagSpecifications", "tagSpecificationSet"];

/// Reviewed against the EC2 API reference and user guide ("Grant
/// permission to tag resources during creation": ec2:CreateTags on the
/// resource being created, when the request has TagSpecifications);
/// `request::tests` checks each entry.
pub const CREATES: &[Creates] = &[
    Creates {
        prefix: "ec2",
        operation: "CreateSecurityGroup",
        tags: "ec2:CreateTags",
        tag_members: EC2_TAGS,
        ids: &[("groupId", "SecurityGroupId")],
        why: "CreateSecurityGroup returns groupId; TagSpecifications tag the new group",
    },
    Creates {
        prefix: "ec2",
        operation: "RunInstances",
        tags: "ec2:CreateTags",
        tag_members: EC2_TAGS,
        ids: &[("instancesSet.items[].instanceId", "InstanceId")],
        why: "RunInstances returns the reservation's instancesSet; TagSpecifications of type instance tag them (the volumes and network interfaces it creates are not in the response: those stay scoped patterns)",
    },
    Creates {
        prefix: "ec2",
        operation: "CreateVpc",
        tags: "ec2:CreateTags",
        tag_members: EC2_TAGS,
        ids: &[("vpc.vpcId", "VpcId")],
        why: "CreateVpc returns vpc.vpcId",
    },
    Creates {
        prefix: "ec2",
        operation: "CreateSubnet",
        tags: "ec2:CreateTags",
        tag_members: EC2_TAGS,
        ids: &[("subnet.subnetId", "SubnetId")],
        why: "CreateSubnet returns subnet.subnetId",
    },
    Creates {
        prefix: "ec2",
        operation: "CreateVolume",
        tags: "ec2:CreateTags",
        tag_members: EC2_TAGS,
        ids: &[("volumeId", "VolumeId")],
        why: "CreateVolume returns volumeId",
    },
];

/// What one call of a [`CREATES`] operation created.
#[derive(Debug, Clone, PartialEq)]
pub struct Created {
    pub tags: &'static str,
    /// The request carries tags.
    pub tagged: bool,
    /// The resource types its tag specifications name (`instance`,
    /// `volume`), as EC2 names them (its resource types' names).
    pub tagged_types: Vec<String>,
    /// (ARN variable, id) of each resource the response names.
    pub ids: Vec<(&'static str, String)>,
    /// The ARN variables of what the operation creates.
    pub vars: Vec<&'static str>,
}

/// The strings at a path of a JSON value (`instancesSet.items[].instanceId`).
fn at_path<'a>(v: &'a serde_json::Value, path: &str, out: &mut Vec<&'a str>) {
    let (head, rest) = path.split_once('.').unwrap_or((path, ""));
    let (key, list) = match head.strip_suffix("[]") {
        Some(k) => (k, true),
        None => (head, false),
    };
    let Some(next) = v.get(key) else {
        return;
    };
    let items: Vec<&serde_json::Value> = if list {
        next.as_array()
            .map(|a| a.iter().collect())
            .unwrap_or_default()
    } else {
        vec![next]
    };
    for it in items {
        if rest.is_empty() {
            if let Some(s) = it.as_str().filter(|s| !s.is_empty()) {
                out.push(s);
            }
        } else {
            at_path(it, rest, out);
        }
    }
}

/// What a call created, when its operation is one of [`CREATES`].
pub fn created(entry: &OpEntry, call: &Call) -> Option<Created> {
    let c = CREATES.iter().find(|c| {
        c.prefix.eq_ignore_ascii_case(&entry.prefix)
            && c.operation.eq_ignore_ascii_case(&entry.name)
    })?;
    let mut ids = Vec::new();
    if let Some(r) = &call.response {
        for (path, var) in c.ids {
            let mut found = Vec::new();
            at_path(r, path, &mut found);
            ids.extend(found.into_iter().map(|id| (*var, id.to_string())));
        }
    }
    let specs = call.params.as_ref().and_then(|p| {
        c.tag_members
            .iter()
            .find_map(|m| cloudtrail::param_path(p, m))
    });
    // CloudTrail: `{"items": [{"resourceType": …}]}`; the model: a list.
    let items = specs
        .and_then(|s| s.get("items").unwrap_or(s).as_array())
        .map(Vec::as_slice)
        .unwrap_or_default();
    let tagged_types = items
        .iter()
        .filter_map(|i| cloudtrail::param_path(i, "resourceType")?.as_str())
        .map(str::to_string)
        .collect();
    Some(Created {
        tags: c.tags,
        tagged: specs.is_some(),
        tagged_types,
        ids,
        vars: c.ids.iter().map(|(_, v)| *v).collect(),
    })
}

/// A variable every format has beside its own (the call fills it).
fn scope_var(v: &str) -> bool {
    matches!(v, "Partition" | "Region" | "Account")
}

/// The ARNs of what the call created that its tagging action is granted
/// on: each id in the formats of the action that take exactly it (beside
/// partition, region and account); a type the tag specifications name
/// whose ids the response does not give (RunInstances' volumes) as its
/// pattern scoped to the call's region and account.
pub fn created_arns(
    a: &OpAction,
    facts: &Facts,
    info: &super::ops::ActionInfo,
    call: &Call,
) -> Vec<String> {
    let Some(c) = facts
        .created
        .as_ref()
        .filter(|c| c.tags.eq_ignore_ascii_case(&a.action))
    else {
        return Vec::new();
    };
    let formats: Vec<&str> = info
        .resource_types
        .iter()
        .flat_map(|t| t.arns.iter().map(String::as_str))
        .collect();
    let mut out = Vec::new();
    if c.ids.is_empty() {
        // The response is not in the record: what the operation creates,
        // scoped, never what the request names (CreateSecurityGroup's VPC).
        for f in &formats {
            let vars = arns::variables(f);
            if c.vars.iter().any(|v| vars.contains(v))
                && vars.iter().all(|v| scope_var(v) || c.vars.contains(v))
            {
                out.push(arns::scoped_pattern(
                    f,
                    call.region.as_deref(),
                    call.account.as_deref(),
                ));
            }
        }
        return out;
    }
    for t in &c.tagged_types {
        let Some(ty) = info
            .resource_types
            .iter()
            .find(|x| x.name.eq_ignore_ascii_case(t))
        else {
            continue;
        };
        let given = ty
            .arns
            .iter()
            .any(|f| c.ids.iter().any(|(v, _)| arns::variables(f).contains(v)));
        if !given {
            for f in ty.arns.iter() {
                out.push(arns::scoped_pattern(
                    f,
                    call.region.as_deref(),
                    call.account.as_deref(),
                ));
            }
        }
    }
    for (var, id) in &c.ids {
        if id.contains(['*', '?', '$', '/', ':']) || id.len() > crate::arn::MAX_PATTERN_LEN {
            continue;
        }
        for f in &formats {
            let vars = arns::variables(f);
            let own = vars.iter().all(|v| scope_var(v) || v == var);
            if !own || !vars.contains(var) {
                continue;
            }
            if let Some(arn) = arns::fill(f, |v| match v {
                "Partition" => Some(arns::partition_of(call.region.as_deref()).to_string()),
                "Region" => call.region.clone(),
                "Account" => call.account.clone(),
                _ => Some(id.clone()),
            }) {
                out.push(arn);
            }
        }
    }
    out
}

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
    facts: &'a Facts,
) -> Option<Cow<'a, serde_json::Value>> {
    match facts.copy.as_ref() {
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
pub fn listed_for<'a>(a: &OpAction, call: &'a Call, facts: &Facts) -> Vec<&'a str> {
    match facts.copy.as_ref() {
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
/// send one of the action's members (an optional role member), name a
/// version of its copy source (`s3:GetObjectVersion`), or tag what it
/// creates (EC2's `TagSpecifications`: `ec2:CreateTags`)?
pub fn sends(a: &OpAction, call: &Call, facts: &Facts) -> bool {
    if let Some(c) = &facts.copy {
        if c.version && a.action.eq_ignore_ascii_case("s3:GetObjectVersion") {
            return true;
        }
    }
    if let Some(c) = &facts.created {
        if c.tagged && c.tags.eq_ignore_ascii_case(&a.action) {
            return true;
        }
    }
    if let Some(e) = &facts.elements {
        if e.items
            .iter()
            .any(|(_, asks)| asks.iter().any(|x| x.eq_ignore_ascii_case(&a.action)))
        {
            return true;
        }
    }
    let Some(p) = &call.params else {
        return false;
    };
    a.members
        .iter()
        .any(|m| !cloudtrail::param_values(p, m).is_empty())
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
    // Every element a path through lists and maps reaches
    // (`Targets[].RoleArn`: each target's role).
    for v in members
        .iter()
        .flat_map(|m| cloudtrail::param_values(params, m))
    {
        match v {
            serde_json::Value::String(s) => values.push(s),
            serde_json::Value::Object(o) => {
                values.extend(o.values().filter_map(serde_json::Value::as_str))
            }
            serde_json::Value::Array(a) => {
                values.extend(a.iter().filter_map(serde_json::Value::as_str))
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    for v in values
        .into_iter()
        .filter(|v| v.len() <= crate::arn::MAX_PATTERN_LEN)
    {
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
    fn every_create_names_its_tagging_action_and_ids_the_resource_types_know() {
        let idx = snapshot_index();
        for c in CREATES {
            let e = idx
                .operation(c.prefix, c.operation)
                .unwrap_or_else(|| panic!("{}:{} not in the dataset", c.prefix, c.operation));
            assert!(
                e.actions
                    .iter()
                    .any(|a| a.action.eq_ignore_ascii_case(c.tags)),
                "{}: {} not in its map",
                c.operation,
                c.tags
            );
            let info = idx.action(c.tags).unwrap();
            for (_, var) in c.ids {
                assert!(
                    info.resource_types
                        .iter()
                        .flat_map(|t| t.arns.iter())
                        .any(|f| arns::variables(f).contains(var)),
                    "{}: no format of {} takes {var}",
                    c.operation,
                    c.tags
                );
            }
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
        let f1 = facts(e, &c);
        let copy = f1.copy.clone().unwrap();
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
            params_for(get, &c, &f1).unwrap().as_ref(),
            &serde_json::json!({"bucketName": "src", "key": "in dir/a+b.txt"})
        );
        assert_eq!(
            params_for(put, &c, &f1).unwrap().as_ref(),
            &serde_json::json!({"bucketName": "dst", "key": "out/copy.txt"})
        );
        assert!(sends(ver, &c, &f1));
        assert!(!sends(get, &c, &f1));
        // A leading '/', no version; an access point ARN.
        let c = call(serde_json::json!({"x-amz-copy-source": "/src/k"}));
        let f = facts(e, &c);
        let copy = f.copy.clone().unwrap();
        assert!(!copy.version && !sends(ver, &c, &f));
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
        assert!(params_for(get, &c, &facts(e, &c)).is_none());
    }
}
