//! API operations to IAM actions, from the dataset's operations (AWS's own
//! map, cross-service actions included), each action classified as
//! *always* needed by the call or *conditional* (needed only with some
//! parameters or configurations).
//!
//! AWS's map lists every action an operation *may* need: `CreateTable`
//! names `dynamodb:TagResource` (only with `Tags`), `ListObjectsV2` names
//! `s3:GetObjectAcl` and `s3-object-lambda:ListBucket`. The evidence, in
//! order ([`Rule`]):
//!
//! 1. a reviewed override ([`OVERRIDES`], each entry tested);
//! 2. the action that bears the operation's own name, in the operation's
//!    home prefix, is always needed, every other one is conditional;
//! 3. an operation naming a single action always needs it;
//! 4. otherwise (no action bears its name), the home-prefix actions that
//!    are not tagging actions and not `iam:PassRole` are always needed;
//!    tagging (access level `Tagging`), `iam:PassRole` and other
//!    services' actions are conditional.

use iamref_dataset::Service;
use std::collections::{BTreeMap, HashMap};

/// Whether a call always needs an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Class {
    Always,
    /// Needed only with some parameters or configurations; the reason.
    Conditional(&'static str),
}

/// Which piece of evidence classified an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Rule {
    Override,
    OwnName,
    Single,
    HomePrefix,
}

impl Rule {
    pub fn as_str(self) -> &'static str {
        match self {
            Rule::Override => "reviewed override",
            Rule::OwnName => "action named like the operation",
            Rule::Single => "single action",
            Rule::HomePrefix => "home-prefix actions (no action named like the operation)",
        }
    }
}

/// A reviewed override: the actions the operation always needs (every
/// other action of its map is conditional), and why.
pub struct Override {
    pub prefix: &'static str,
    pub operation: &'static str,
    pub always: &'static [&'static str],
    pub why: &'static str,
}

/// Reviewed against the AWS API references; `ops::tests` checks each
/// entry against the dataset.
pub const OVERRIDES: &[Override] = &[
    Override {
        prefix: "s3",
        operation: "ListObjectsV2",
        always: &["s3:ListBucket"],
        why: "S3 API reference: ListObjectsV2 requires s3:ListBucket; s3:GetObjectAcl and s3-object-lambda only with FetchOwner / Object Lambda access points",
    },
    Override {
        prefix: "s3",
        operation: "ListObjects",
        always: &["s3:ListBucket"],
        why: "as ListObjectsV2",
    },
    Override {
        prefix: "s3",
        operation: "CopyObject",
        always: &["s3:GetObject", "s3:PutObject"],
        why: "S3 API reference: read on the source, write on the target; versions, ACL, legal hold, retention and tagging only with those headers",
    },
    Override {
        prefix: "s3",
        operation: "HeadObject",
        always: &["s3:GetObject"],
        why: "S3 API reference: HEAD needs READ access to the object (s3:GetObject)",
    },
    Override {
        prefix: "s3",
        operation: "DeleteObjects",
        always: &["s3:DeleteObject"],
        why: "S3 API reference: s3:DeleteObject per key; DeleteObjectVersion with version ids, BypassGovernanceRetention with the bypass header",
    },
    Override {
        prefix: "states",
        operation: "CreateStateMachine",
        always: &["states:CreateStateMachine", "iam:PassRole"],
        why: "Step Functions API reference: roleArn is a required parameter, so the role is always passed",
    },
    Override {
        prefix: "s3",
        operation: "CreateMultipartUpload",
        always: &["s3:PutObject"],
        why: "S3 API reference, CreateMultipartUpload: initiating an upload needs s3:PutObject on the object; s3:PutObjectAcl only with the x-amz-acl / x-amz-grant-* headers, s3:PutObjectLegalHold and s3:PutObjectRetention only with the object-lock headers, s3:PutObjectTagging only with x-amz-tagging (all optional members of CreateMultipartUploadRequest in botocore's s3 model)",
    },
    Override {
        prefix: "s3",
        operation: "UploadPartCopy",
        always: &["s3:GetObject", "s3:PutObject"],
        why: "S3 API reference, UploadPartCopy: read on the source object, write on the destination; s3:GetObjectVersion only when x-amz-copy-source names a versionId",
    },
    Override {
        prefix: "dynamodb",
        operation: "TransactWriteItems",
        always: &[],
        why: "DynamoDB API reference, TransactWriteItems: each of TransactItems is a Put, Update, Delete or ConditionCheck on its own table, each authorized by its own action (PutItem, UpdateItem, DeleteItem, ConditionCheckItem): which ones depends on the request",
    },
    Override {
        prefix: "dynamodb",
        operation: "ExecuteStatement",
        always: &[],
        why: "the PartiQL action depends on the statement (SELECT, INSERT, UPDATE, DELETE)",
    },
];

/// One action of an operation, classified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpAction {
    /// `prefix:Name` as the dataset writes it.
    pub action: String,
    pub class: Class,
    /// Condition keys the operation names for it (`iam:PassedToService`).
    pub condition_keys: Vec<String>,
    /// The values the operation sets for some of them (the reference's
    /// `Context`: `iam:PassedToService` = `lambda.amazonaws.com`).
    pub context: crate::write::ContextValues,
}

/// One operation and its classified actions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpEntry {
    pub prefix: String,
    pub name: String,
    pub actions: Vec<OpAction>,
    pub rule: Rule,
}

/// A resource type of an action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeInfo {
    pub name: String,
    pub required: bool,
    pub arns: Vec<String>,
}

/// What the recorder needs of an action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionInfo {
    /// `prefix:Name` as stored.
    pub action: String,
    pub access_level: Option<String>,
    /// Empty: the action takes `"*"` only.
    pub resource_types: Vec<TypeInfo>,
}

impl ActionInfo {
    /// The resource types a grant scopes to: the required ones, else all.
    pub fn scoping_types(&self) -> Vec<&TypeInfo> {
        let req: Vec<&TypeInfo> = self.resource_types.iter().filter(|t| t.required).collect();
        if req.is_empty() {
            self.resource_types.iter().collect()
        } else {
            req
        }
    }
}

/// Operations that need no permission: left out of policies, with a note.
pub const NO_PERMISSION: &[(&str, &str, &str)] = &[(
    "sts",
    "GetCallerIdentity",
    "STS API reference: no permissions are required to perform this operation (an explicit deny has no effect)",
)];

/// The note for a call that needs no permission, if it is one.
pub fn no_permission(prefix: &str, operation: &str) -> Option<&'static str> {
    NO_PERMISSION
        .iter()
        .find(|(p, o, _)| p.eq_ignore_ascii_case(prefix) && o.eq_ignore_ascii_case(operation))
        .map(|(_, _, why)| *why)
}

/// How many operations, and actions of operations, fall in each class.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClassCounts {
    pub operations: usize,
    /// Operations whose actions are all always needed.
    pub all_always: usize,
    /// Operations with at least one conditional action.
    pub some_conditional: usize,
    /// Operations that name no action at all.
    pub no_actions: usize,
    pub always_actions: usize,
    pub conditional_actions: usize,
    /// Operations per deciding rule.
    pub by_rule: BTreeMap<&'static str, usize>,
}

/// The operations of a dataset, indexed for the recorder.
#[derive(Debug, Default)]
pub struct OperationIndex {
    ops: Vec<OpEntry>,
    by_prefix: HashMap<(String, String), usize>,
    by_client: HashMap<(String, String), Vec<usize>>,
    actions: HashMap<String, ActionInfo>,
    prefixes: HashMap<String, String>,
    /// Every ARN format of the services, once.
    formats: Vec<String>,
}

fn is_tagging(info: Option<&ActionInfo>, name: &str) -> bool {
    if let Some(l) = info.and_then(|i| i.access_level.as_deref()) {
        return l.eq_ignore_ascii_case("Tagging");
    }
    let n = name.to_ascii_lowercase();
    n.starts_with("tag") || n.starts_with("untag") || n.contains("tags") || n.ends_with("tagging")
}

fn lower(s: &str) -> String {
    s.to_ascii_lowercase()
}

impl OperationIndex {
    pub fn new(services: &[Service]) -> OperationIndex {
        let mut idx = OperationIndex::default();
        let mut seen = std::collections::HashSet::new();
        for s in services {
            for f in s.resource_types.iter().flat_map(|t| &t.arns) {
                if seen.insert(f.arn.as_str()) {
                    idx.formats.push(f.arn.clone());
                }
            }
        }
        for s in services {
            idx.prefixes.insert(lower(&s.prefix), s.prefix.clone());
            for a in &s.actions {
                let full = format!("{}:{}", s.prefix, a.name);
                let resource_types = a
                    .resource_types
                    .iter()
                    .map(|r| TypeInfo {
                        name: r.name.clone(),
                        required: r.required,
                        arns: s
                            .resource_types
                            .iter()
                            .find(|t| t.name.eq_ignore_ascii_case(&r.name))
                            .map(|t| t.arns.iter().map(|f| f.arn.clone()).collect())
                            .unwrap_or_default(),
                    })
                    .collect();
                idx.actions.insert(
                    lower(&full),
                    ActionInfo {
                        action: full,
                        access_level: a.access_level.clone(),
                        resource_types,
                    },
                );
            }
        }
        for s in services {
            for op in &s.operations {
                let entry = idx.classify(&s.prefix, op);
                let n = idx.ops.len();
                idx.by_prefix.insert((lower(&s.prefix), lower(&op.name)), n);
                for m in &op.sdk {
                    let v = idx
                        .by_client
                        .entry((lower(&m.client), lower(&op.name)))
                        .or_default();
                    if !v.contains(&n) {
                        v.push(n);
                    }
                }
                idx.ops.push(entry);
            }
        }
        idx
    }

    /// Every ARN format of the services.
    pub fn formats(&self) -> impl Iterator<Item = &str> {
        self.formats.iter().map(String::as_str)
    }

    /// The stored spelling of a prefix.
    pub fn prefix(&self, prefix: &str) -> Option<&str> {
        self.prefixes.get(&lower(prefix)).map(String::as_str)
    }

    pub fn action(&self, action: &str) -> Option<&ActionInfo> {
        self.actions.get(&lower(action))
    }

    /// An operation by IAM prefix.
    pub fn operation(&self, prefix: &str, operation: &str) -> Option<&OpEntry> {
        self.by_prefix
            .get(&(lower(prefix), lower(operation)))
            .map(|&i| &self.ops[i])
    }

    /// Operations by SDK client name (`stepfunctions`) and operation.
    pub fn by_client(&self, client: &str, operation: &str) -> Vec<&OpEntry> {
        self.by_client
            .get(&(lower(client), lower(operation)))
            .map(|v| v.iter().map(|&i| &self.ops[i]).collect())
            .unwrap_or_default()
    }

    /// Operation names of a prefix (for suggestions).
    pub fn operation_names(&self, prefix: &str) -> Vec<&str> {
        let p = lower(prefix);
        self.ops
            .iter()
            .filter(|o| lower(&o.prefix) == p)
            .map(|o| o.name.as_str())
            .collect()
    }

    pub fn operations(&self) -> &[OpEntry] {
        &self.ops
    }

    fn classify(&self, prefix: &str, op: &iamref_dataset::Operation) -> OpEntry {
        let full = |a: &iamref_dataset::OperationAction| {
            self.action(&format!("{}:{}", a.service, a.action))
                .map(|i| i.action.clone())
                .unwrap_or_else(|| format!("{}:{}", a.service, a.action))
        };
        let mk = |a: &iamref_dataset::OperationAction, class| OpAction {
            action: full(a),
            class,
            condition_keys: a.condition_keys.clone(),
            context: a
                .context
                .iter()
                .map(|(k, v)| (k.clone(), v.iter().cloned().collect()))
                .collect(),
        };
        let cond_reason = |a: &iamref_dataset::OperationAction, home: &str| -> &'static str {
            let info = self.action(&format!("{}:{}", a.service, a.action));
            if a.service.eq_ignore_ascii_case("iam") && a.action.eq_ignore_ascii_case("PassRole") {
                "when the request passes a role"
            } else if is_tagging(info, &a.action) {
                "when the request carries tags"
            } else if a.service.eq_ignore_ascii_case("kms") {
                "when the resource is encrypted with a customer managed KMS key"
            } else if !a.service.eq_ignore_ascii_case(home) {
                "cross-service: only in some configurations"
            } else {
                "depends on the request's parameters"
            }
        };
        if let Some(o) = OVERRIDES
            .iter()
            .find(|o| o.prefix.eq_ignore_ascii_case(prefix) && o.operation == op.name)
        {
            let actions = op
                .actions
                .iter()
                .map(|a| {
                    let name = format!("{}:{}", a.service, a.action);
                    let class = if o.always.iter().any(|x| x.eq_ignore_ascii_case(&name)) {
                        Class::Always
                    } else {
                        Class::Conditional(cond_reason(a, prefix))
                    };
                    mk(a, class)
                })
                .collect();
            return OpEntry {
                prefix: prefix.to_string(),
                name: op.name.clone(),
                actions,
                rule: Rule::Override,
            };
        }
        // The home prefix: the operation's own, else the most frequent
        // prefix among its actions (iam aside).
        let home: String = if op
            .actions
            .iter()
            .any(|a| a.service.eq_ignore_ascii_case(prefix))
        {
            prefix.to_string()
        } else {
            let mut counts: BTreeMap<String, usize> = BTreeMap::new();
            for a in op.actions.iter().filter(|a| a.service != "iam") {
                *counts.entry(lower(&a.service)).or_default() += 1;
            }
            counts
                .into_iter()
                .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
                .map(|(p, _)| p)
                .unwrap_or_else(|| prefix.to_string())
        };
        let own = |a: &iamref_dataset::OperationAction| {
            a.service.eq_ignore_ascii_case(&home) && a.action.eq_ignore_ascii_case(&op.name)
        };
        let (rule, actions) = if op.actions.iter().any(own) {
            let v = op
                .actions
                .iter()
                .map(|a| {
                    let c = if own(a) {
                        Class::Always
                    } else {
                        Class::Conditional(cond_reason(a, &home))
                    };
                    mk(a, c)
                })
                .collect();
            (Rule::OwnName, v)
        } else if op.actions.len() == 1 {
            (Rule::Single, vec![mk(&op.actions[0], Class::Always)])
        } else {
            let v = op
                .actions
                .iter()
                .map(|a| {
                    let info = self.action(&format!("{}:{}", a.service, a.action));
                    let passrole = a.service.eq_ignore_ascii_case("iam")
                        && a.action.eq_ignore_ascii_case("PassRole");
                    let c = if a.service.eq_ignore_ascii_case(&home)
                        && !passrole
                        && !is_tagging(info, &a.action)
                    {
                        Class::Always
                    } else {
                        Class::Conditional(cond_reason(a, &home))
                    };
                    mk(a, c)
                })
                .collect();
            (Rule::HomePrefix, v)
        };
        OpEntry {
            prefix: prefix.to_string(),
            name: op.name.clone(),
            actions,
            rule,
        }
    }

    /// How many operations and actions fall in each class.
    pub fn class_counts(&self) -> ClassCounts {
        let mut c = ClassCounts {
            operations: self.ops.len(),
            ..Default::default()
        };
        for o in &self.ops {
            if o.actions.is_empty() {
                c.no_actions += 1;
                continue;
            }
            *c.by_rule.entry(o.rule.as_str()).or_default() += 1;
            let cond = o
                .actions
                .iter()
                .filter(|a| a.class != Class::Always)
                .count();
            c.conditional_actions += cond;
            c.always_actions += o.actions.len() - cond;
            if cond == 0 {
                c.all_always += 1;
            } else {
                c.some_conditional += 1;
            }
        }
        c
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::path::Path;
    use std::sync::OnceLock;

    /// The snapshot shipped in `data/`.
    pub(crate) fn snapshot_index() -> &'static OperationIndex {
        static I: OnceLock<OperationIndex> = OnceLock::new();
        I.get_or_init(|| {
            let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../data");
            let (_, services) = iamref_dataset::snapshot::read_snapshot(&dir).unwrap();
            OperationIndex::new(&services)
        })
    }

    fn always(prefix: &str, op: &str) -> Vec<String> {
        let o = snapshot_index()
            .operation(prefix, op)
            .unwrap_or_else(|| panic!("{prefix}:{op} missing"));
        o.actions
            .iter()
            .filter(|a| a.class == Class::Always)
            .map(|a| a.action.clone())
            .collect()
    }

    fn conditional(prefix: &str, op: &str) -> Vec<String> {
        let o = snapshot_index().operation(prefix, op).unwrap();
        o.actions
            .iter()
            .filter(|a| a.class != Class::Always)
            .map(|a| a.action.clone())
            .collect()
    }

    #[test]
    fn override_list_objects_v2() {
        assert_eq!(always("s3", "ListObjectsV2"), ["s3:ListBucket"]);
        let c = conditional("s3", "ListObjectsV2");
        assert!(c.contains(&"s3:GetObjectAcl".to_string()), "{c:?}");
        assert!(
            c.contains(&"s3-object-lambda:ListBucket".to_string()),
            "{c:?}"
        );
    }

    #[test]
    fn override_list_objects() {
        assert_eq!(always("s3", "ListObjects"), ["s3:ListBucket"]);
    }

    #[test]
    fn override_copy_object() {
        assert_eq!(always("s3", "CopyObject"), ["s3:GetObject", "s3:PutObject"]);
        assert!(conditional("s3", "CopyObject").contains(&"s3-object-lambda:PutObject".into()));
    }

    #[test]
    fn override_head_object() {
        assert_eq!(always("s3", "HeadObject"), ["s3:GetObject"]);
    }

    #[test]
    fn override_delete_objects() {
        assert_eq!(always("s3", "DeleteObjects"), ["s3:DeleteObject"]);
        assert!(conditional("s3", "DeleteObjects").contains(&"s3:BypassGovernanceRetention".into()));
    }

    #[test]
    fn override_create_state_machine() {
        assert_eq!(
            always("states", "CreateStateMachine"),
            ["states:CreateStateMachine", "iam:PassRole"]
        );
        assert!(conditional("states", "CreateStateMachine").contains(&"states:TagResource".into()));
    }

    #[test]
    fn override_multipart_upload_grants_put_object_only() {
        assert_eq!(always("s3", "CreateMultipartUpload"), ["s3:PutObject"]);
        let c = conditional("s3", "CreateMultipartUpload");
        for a in [
            "s3:PutObjectAcl",
            "s3:PutObjectLegalHold",
            "s3:PutObjectRetention",
            "s3:PutObjectTagging",
        ] {
            assert!(c.contains(&a.to_string()), "{a}: {c:?}");
        }
    }

    #[test]
    fn override_upload_part_copy_reads_the_source_and_writes_the_target() {
        assert_eq!(
            always("s3", "UploadPartCopy"),
            ["s3:GetObject", "s3:PutObject"]
        );
        assert_eq!(conditional("s3", "UploadPartCopy"), ["s3:GetObjectVersion"]);
    }

    #[test]
    fn override_transact_write_items_depends_on_its_items() {
        assert!(always("dynamodb", "TransactWriteItems").is_empty());
        let mut c = conditional("dynamodb", "TransactWriteItems");
        c.sort();
        assert_eq!(
            c,
            [
                "dynamodb:ConditionCheckItem",
                "dynamodb:DeleteItem",
                "dynamodb:PutItem",
                "dynamodb:UpdateItem"
            ]
        );
    }

    #[test]
    fn override_execute_statement() {
        assert!(always("dynamodb", "ExecuteStatement").is_empty());
        assert_eq!(conditional("dynamodb", "ExecuteStatement").len(), 4);
    }

    #[test]
    fn every_override_names_actions_of_its_operation() {
        for o in OVERRIDES {
            let e = snapshot_index()
                .operation(o.prefix, o.operation)
                .unwrap_or_else(|| panic!("{}:{} not in the dataset", o.prefix, o.operation));
            for a in o.always {
                assert!(
                    e.actions.iter().any(|x| x.action.eq_ignore_ascii_case(a)),
                    "{}:{}: {a} is not in its map",
                    o.prefix,
                    o.operation
                );
            }
            assert_eq!(e.rule, Rule::Override);
        }
    }

    #[test]
    fn evidence_rules() {
        // Own name: CreateTable always, the rest of its long map conditional.
        assert_eq!(always("dynamodb", "CreateTable"), ["dynamodb:CreateTable"]);
        let c = snapshot_index()
            .operation("dynamodb", "CreateTable")
            .unwrap();
        let tag = c
            .actions
            .iter()
            .find(|a| a.action == "dynamodb:TagResource")
            .unwrap();
        assert_eq!(
            tag.class,
            Class::Conditional("when the request carries tags")
        );
        assert_eq!(always("s3", "CreateBucket"), ["s3:CreateBucket"]);
        assert_eq!(always("logs", "CreateLogGroup"), ["logs:CreateLogGroup"]);
        // Single action under another name.
        assert_eq!(always("s3", "ListBuckets"), ["s3:ListAllMyBuckets"]);
        // Home prefix of an operation whose actions live elsewhere.
        assert_eq!(
            always("kms", "ReEncrypt"),
            ["kms:ReEncryptFrom", "kms:ReEncryptTo"]
        );
    }

    #[test]
    fn counts_per_class() {
        let c = snapshot_index().class_counts();
        eprintln!("{c:#?}");
        assert_eq!(
            c.all_always + c.some_conditional + c.no_actions,
            c.operations
        );
        assert!(c.all_always > 10_000 && c.some_conditional > 1_000, "{c:?}");
        assert_eq!(
            c.by_rule.values().sum::<usize>() + c.no_actions,
            c.operations
        );
    }

    #[test]
    fn clients_find_operations() {
        let v = snapshot_index().by_client("stepfunctions", "ListStateMachines");
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].prefix, "states");
        assert!(no_permission("sts", "GetCallerIdentity").is_some());
        assert!(no_permission("sts", "AssumeRole").is_none());
    }
}
