//! The least-privilege policy writer: pure over a [`Catalog`], no SQL.
//!
//! [`write_policy`] turns a [`Request`] (actions with optional resources,
//! access levels on ARNs, wildcard-only needs) into statements and notes,
//! or stops with [`WriteError`]. It never widens silently: a grant broader
//! than the ARNs given is either derived from them (bucket → its objects,
//! log group → its streams) and reported as a [`Note`], or, when nothing
//! can be derived, a stop naming the action, the ARNs given and the ARN
//! formats it needs. `Options::widen` turns stops into the generic
//! pattern, each reported.
//!
//! Every required resource type of every granted action is covered;
//! actions that take only `"*"` get their own statement; dependent actions
//! are notes unless `Options::include_dependent`.
//!
//! - [`needs`]: the needs table of standard input → [`Need`]s.
//! - [`template`]: policy_sentry's YAML templates → [`Request`].
//! - [`render`]: JSON, YAML and Terraform output.
//! - [`tighten`]: rewrite an existing policy so each action keeps only the
//!   Resources it can use.

pub mod needs;
pub mod render;
pub mod template;
pub mod tighten;

mod data;
mod scope;

use serde::Serialize;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

pub use crate::catalog::Catalog;

/// An access level, as the reference names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AccessLevel {
    List,
    Read,
    Write,
    PermissionsManagement,
    Tagging,
}

impl AccessLevel {
    pub const ALL: [AccessLevel; 5] = [
        AccessLevel::List,
        AccessLevel::Read,
        AccessLevel::Write,
        AccessLevel::PermissionsManagement,
        AccessLevel::Tagging,
    ];

    /// As the reference writes it: `Read`, `Permissions management`.
    pub fn as_str(self) -> &'static str {
        match self {
            AccessLevel::List => "List",
            AccessLevel::Read => "Read",
            AccessLevel::Write => "Write",
            AccessLevel::PermissionsManagement => "Permissions management",
            AccessLevel::Tagging => "Tagging",
        }
    }

    /// As policy_sentry's templates and iamref's flags write it:
    /// `read`, `permissions-management`.
    pub fn template_key(self) -> &'static str {
        match self {
            AccessLevel::List => "list",
            AccessLevel::Read => "read",
            AccessLevel::Write => "write",
            AccessLevel::PermissionsManagement => "permissions-management",
            AccessLevel::Tagging => "tagging",
        }
    }

    /// Either spelling, any case.
    pub fn parse(s: &str) -> Option<AccessLevel> {
        let k = s.trim().to_ascii_lowercase().replace([' ', '_'], "-");
        AccessLevel::ALL.into_iter().find(|l| l.template_key() == k)
    }
}

impl fmt::Display for AccessLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub enum Effect {
    #[default]
    Allow,
    Deny,
}

impl Effect {
    pub fn as_str(self) -> &'static str {
        match self {
            Effect::Allow => "Allow",
            Effect::Deny => "Deny",
        }
    }
}

/// Condition-key values an API operation sets when it calls an action
/// (the reference's operation `Context`): `iam:PassedToService` →
/// `lambda.amazonaws.com` for the iam:PassRole of lambda:CreateFunction.
pub type ContextValues = BTreeMap<String, BTreeSet<String>>;

/// One action (or IAM wildcard pattern) to grant, with the resources it
/// needs (added to [`Request::resources`]).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Need {
    pub action: String,
    pub resources: Vec<String>,
    /// Needed only in this context (from `iamref api`/`calls` output):
    /// the statement gets a `StringEquals` condition on these keys when
    /// every need of the action has one. Empty: needed unconditionally.
    pub context: ContextValues,
}

impl Need {
    pub fn new(action: impl Into<String>) -> Need {
        Need {
            action: action.into(),
            resources: Vec::new(),
            context: ContextValues::new(),
        }
    }
}

/// The context an action is granted in, given the contexts of every need
/// of it: `None` (unconditional) when any need has none; else the keys
/// every need names, each with the union of their values. Never narrower
/// than any one need.
pub fn meet_contexts<'a>(
    mut all: impl Iterator<Item = Option<&'a ContextValues>>,
) -> Option<ContextValues> {
    let mut acc: ContextValues = all.next()??.clone();
    for c in all {
        let c = c?;
        acc.retain(|k, _| c.contains_key(k));
        for (k, v) in acc.iter_mut() {
            v.extend(c[k].iter().cloned());
        }
    }
    acc.retain(|_, v| !v.is_empty());
    (!acc.is_empty()).then_some(acc)
}

/// What to write.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Request {
    /// Named actions (or patterns), each with optional resources of its own.
    pub needs: Vec<Need>,
    /// Resources (ARNs or patterns) for every named action (`-r`).
    pub resources: Vec<String>,
    /// Access-level mode (`--read ARN`): the actions of that level whose
    /// resource types match the ARN, each scoped to it.
    pub access: Vec<(AccessLevel, String)>,
    /// Wildcard-only actions of a service at a level (`--service-read s3`).
    pub service_wildcard: Vec<(AccessLevel, String)>,
    /// Wildcard-only actions named one by one (policy_sentry's
    /// `single-actions`); an action that supports resources is left out
    /// with a note.
    pub wildcard_only: Vec<String>,
    /// Actions granted on `"*"` on purpose (reported).
    pub skip_resource_constraints: Vec<String>,
    /// Action patterns never granted.
    pub exclude: Vec<String>,
    pub options: Options,
}

/// Why a [`Request`] cannot be written as it stands, decided before any
/// catalog is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    /// Nothing asked: no action, access-level ARN, service, wildcard-only
    /// action or action granted on `"*"`.
    #[error("nothing to write")]
    Nothing,
    /// Resources for the named actions, but no action named.
    #[error("resources for the named actions, but no action is named")]
    ResourcesWithoutActions,
}

impl Request {
    /// Refuse a request that asks for nothing, or names resources for
    /// named actions without naming one.
    pub fn check(&self) -> Result<(), RequestError> {
        if self.needs.is_empty()
            && self.access.is_empty()
            && self.service_wildcard.is_empty()
            && self.wildcard_only.is_empty()
            && self.skip_resource_constraints.is_empty()
        {
            return Err(RequestError::Nothing);
        }
        if !self.resources.is_empty() && self.needs.is_empty() {
            return Err(RequestError::ResourcesWithoutActions);
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// Grant the generic pattern where the writer would stop (reported).
    pub widen: bool,
    /// Grant the dependent actions the reference lists (else notes).
    pub include_dependent: bool,
    /// Partition of generic patterns.
    pub partition: String,
    pub effect: Effect,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            widen: false,
            include_dependent: false,
            partition: "aws".into(),
            effect: Effect::Allow,
        }
    }
}

/// What a note reports (stable, kebab-case in output).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum NoteCode {
    /// Scoped to an ARN derived from a given one (bucket → `bucket/*`).
    Derived,
    /// `--widen`: the generic pattern where no ARN fits or derives.
    Widened,
    /// No resources given for the action: the generic patterns of its
    /// resource types.
    Generic,
    /// The action takes only `"*"`, though resources were given.
    WildcardOnly,
    /// Granted on `"*"` because the request said so.
    SkipResourceConstraints,
    /// A dependent action the reference lists, not granted.
    DependentAction,
    /// A dependent action granted (`--include-dependent`).
    DependentIncluded,
    /// Named as wildcard-only but it supports resources: left out.
    NotWildcardOnly,
    /// Access-level mode: an action of the level that takes the ARN but
    /// also needs other resource types none of the ARNs give: left out.
    LeftOut,
    /// Access-level mode: no action of that level takes the ARN.
    NothingAtLevel,
    /// An exclude pattern that matched no requested action.
    ExcludeUnused,
    /// Granted only in the context its operations set (a `StringEquals`
    /// condition such as `iam:PassedToService`).
    Context,
    /// Scoped to one alternative of a group of required types; the note
    /// names the others the action also takes.
    Alternatives,
    /// Access-level mode: actions of other services whose resource type
    /// shares the ARN's format, left out.
    OtherService,
    /// A Secrets Manager secret named without its 6-character suffix:
    /// no real secret ARN matches it.
    SecretSuffix,
}

impl NoteCode {
    pub fn as_str(self) -> &'static str {
        match self {
            NoteCode::Derived => "derived",
            NoteCode::Widened => "widened",
            NoteCode::Generic => "generic",
            NoteCode::WildcardOnly => "wildcard-only",
            NoteCode::SkipResourceConstraints => "skip-resource-constraints",
            NoteCode::DependentAction => "dependent-action",
            NoteCode::DependentIncluded => "dependent-included",
            NoteCode::NotWildcardOnly => "not-wildcard-only",
            NoteCode::LeftOut => "left-out",
            NoteCode::NothingAtLevel => "nothing-at-level",
            NoteCode::ExcludeUnused => "exclude-unused",
            NoteCode::Context => "context",
            NoteCode::Alternatives => "alternatives",
            NoteCode::OtherService => "other-service",
            NoteCode::SecretSuffix => "secret-suffix",
        }
    }
}

/// Something a script must see: a grant broader (or narrower) than asked,
/// or a fact about the policy.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Note {
    pub code: NoteCode,
    /// True when the policy grants more than the ARNs given.
    pub widens: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// What was granted (or would be), when the note is about resources.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<String>,
    /// The given ARNs it came from.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub from: Vec<String>,
    pub message: String,
}

impl fmt::Display for Note {
    /// `CODE: ACTION: MESSAGE` (`-` when no action), one line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {}: {}",
            self.code.as_str(),
            self.action.as_deref().unwrap_or("-"),
            self.message
        )
    }
}

/// One statement of a written policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Statement {
    pub sid: String,
    pub effect: Effect,
    /// Sorted, as the reference writes the names.
    pub actions: Vec<String>,
    /// Sorted; `["*"]` for wildcard-only actions.
    pub resources: Vec<String>,
    /// `StringEquals` condition keys and values (the operations' context);
    /// empty for none.
    pub condition: ContextValues,
}

/// A written policy and what it reports.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Written {
    pub statements: Vec<Statement>,
    pub notes: Vec<Note>,
}

impl Written {
    /// The IAM policy document.
    pub fn policy(&self) -> Value {
        let stmts: Vec<Value> = self
            .statements
            .iter()
            .map(|s| {
                let res = if s.resources.len() == 1 {
                    json!(s.resources[0])
                } else {
                    json!(s.resources)
                };
                let mut st = json!({"Sid": s.sid, "Effect": s.effect.as_str(), "Action": s.actions, "Resource": res});
                if !s.condition.is_empty() {
                    let keys: serde_json::Map<String, Value> = s
                        .condition
                        .iter()
                        .map(|(k, v)| {
                            let v: Vec<&String> = v.iter().collect();
                            let v = if v.len() == 1 { json!(v[0]) } else { json!(v) };
                            (k.clone(), v)
                        })
                        .collect();
                    st["Condition"] = json!({ "StringEquals": keys });
                }
                st
            })
            .collect();
        json!({"Version": "2012-10-17", "Statement": stmts})
    }

    /// Do any notes report a grant broader than asked?
    pub fn widened(&self) -> bool {
        self.notes.iter().any(|n| n.widens)
    }
}

/// An action that cannot be scoped to what was given without widening.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Stop {
    pub action: String,
    /// The resources given for it.
    pub given: Vec<String>,
    /// Resource types it needs that nothing given fits or derives, with
    /// their ARN formats.
    pub missing: Vec<(String, Vec<String>)>,
    /// What widening would grant (the generic patterns).
    pub widen_to: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum WriteError {
    #[error("{}", unscoped_message(.0))]
    Unscoped(Vec<Stop>),
    #[error("{pattern}: {message}")]
    BadAction { pattern: String, message: String },
    #[error("{resource:?}: {message}")]
    BadResource { resource: String, message: String },
    #[error("{0}")]
    Nothing(String),
}

fn unscoped_message(stops: &[Stop]) -> String {
    unscoped_text(
        stops,
        "widening would grant",
        "give ARNs of those resource types, or widen to grant the generic patterns (each reported as a note)",
    )
}

/// The stops one a line: `  ACTION: needs TYPES; given ARNS; {widen}
/// PATTERNS`, after a count and before `advice` (the binary words both
/// with its flags).
pub fn unscoped_text(stops: &[Stop], widen: &str, advice: &str) -> String {
    let mut s = format!(
        "{} action{} cannot be scoped to the ARNs given without widening:",
        stops.len(),
        if stops.len() == 1 { "" } else { "s" }
    );
    for st in stops {
        let need: Vec<String> = st
            .missing
            .iter()
            .map(|(t, f)| format!("{t} ({})", f.join(" or ")))
            .collect();
        let given = if st.given.is_empty() {
            "none".to_string()
        } else {
            st.given.join(", ")
        };
        s.push_str(&format!(
            "\n  {}: needs {}; given {}; {widen} {}",
            st.action,
            need.join(", "),
            given,
            st.widen_to.join(", ")
        ));
    }
    s.push('\n');
    s.push_str(advice);
    s
}

/// Writes the policy `req` asks for. Pure: the same catalog and request
/// always give the same statements, in the same order, with the same Sids.
pub fn write_policy(cat: &Catalog, req: &Request) -> Result<Written, WriteError> {
    scope::write(cat, req)
}

// ---------------------------------------------------------------------------
// Statements: grouping, Sids, order
// ---------------------------------------------------------------------------

/// Why an action is on `"*"` or scoped; statements never mix kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Kind {
    Scoped,
    WildcardOnly,
    Skip,
}

/// What one action is granted.
#[derive(Debug, Clone, Default)]
pub(crate) struct Grant {
    pub resources: BTreeSet<String>,
    /// Resource type names, for the Sid.
    pub types: BTreeSet<String>,
    /// Granted only in this context (`StringEquals`); `None`: always.
    pub context: Option<ContextValues>,
}

/// `s3-object-lambda` → `S3ObjectLambda`; only ASCII letters and digits.
pub(crate) fn pascal(s: &str) -> String {
    s.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut c = p.chars();
            let first = c.next().map(|f| f.to_ascii_uppercase()).unwrap_or_default();
            std::iter::once(first).chain(c).collect::<String>()
        })
        .collect()
}

/// Groups grants into statements: actions with the same kind and the same
/// resources share one. Sids are `{Service}{ResourceTypes}` (`S3Object`),
/// `WildcardOnly` and `SkipResourceConstraints`, numbered on collision;
/// scoped statements come first, by Sid.
pub(crate) fn statements(
    grants: &BTreeMap<(Kind, String), (String, Grant)>,
    effect: Effect,
) -> Vec<Statement> {
    type Key = (Kind, Vec<String>, Vec<(String, Vec<String>)>);
    /// Actions, resource types and prefixes of one statement.
    type Group = (BTreeSet<String>, BTreeSet<String>, BTreeSet<String>);
    let mut groups: BTreeMap<Key, Group> = BTreeMap::new();
    for ((kind, _), (name, g)) in grants {
        let cond: Vec<(String, Vec<String>)> = g
            .context
            .iter()
            .flatten()
            .map(|(k, v)| (k.clone(), v.iter().cloned().collect()))
            .collect();
        let e = groups
            .entry((*kind, g.resources.iter().cloned().collect(), cond))
            .or_default();
        e.0.insert(name.clone());
        e.1.extend(g.types.iter().cloned());
        if let Some((p, _)) = name.split_once(':') {
            e.2.insert(p.to_ascii_lowercase());
        }
    }
    type Row = (Kind, String, Vec<String>, Vec<String>, ContextValues);
    let mut out: Vec<Row> = groups
        .into_iter()
        .map(|((kind, resources, cond), (actions, types, prefixes))| {
            let base = match kind {
                Kind::WildcardOnly => "WildcardOnly".to_string(),
                Kind::Skip => "SkipResourceConstraints".to_string(),
                Kind::Scoped => {
                    let svc = if prefixes.len() <= 2 {
                        prefixes.iter().map(|p| pascal(p)).collect::<String>()
                    } else {
                        "Mult".to_string()
                    };
                    let ty = if types.len() <= 3 {
                        types.iter().map(|t| pascal(t)).collect::<String>()
                    } else {
                        "Mult".to_string()
                    };
                    format!("{svc}{ty}")
                }
            };
            let mut actions: Vec<String> = actions.into_iter().collect();
            actions.sort_by_key(|a| a.to_ascii_lowercase());
            let cond: ContextValues = cond
                .into_iter()
                .map(|(k, v)| (k, v.into_iter().collect()))
                .collect();
            (kind, base, actions, resources, cond)
        })
        .collect();
    out.sort_by(|a, b| (a.0, &a.1, &a.3, &a.4).cmp(&(b.0, &b.1, &b.3, &b.4)));
    let mut used: BTreeMap<String, usize> = BTreeMap::new();
    out.into_iter()
        .map(|(_, base, actions, resources, condition)| {
            let n = used.entry(base.clone()).or_insert(0);
            *n += 1;
            let sid = if *n == 1 { base } else { format!("{base}{n}") };
            Statement {
                sid,
                effect,
                actions,
                resources,
                condition,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_levels_parse_both_spellings() {
        assert_eq!(
            AccessLevel::parse("Permissions management"),
            Some(AccessLevel::PermissionsManagement)
        );
        assert_eq!(
            AccessLevel::parse("permissions-management"),
            Some(AccessLevel::PermissionsManagement)
        );
        assert_eq!(AccessLevel::parse("READ"), Some(AccessLevel::Read));
        assert_eq!(AccessLevel::parse("delete"), None);
    }

    #[test]
    fn a_request_asks_for_something_and_resources_go_with_actions() {
        let mut r = Request::default();
        assert_eq!(r.check(), Err(RequestError::Nothing));
        r.resources.push("arn:aws:s3:::b".into());
        assert_eq!(r.check(), Err(RequestError::Nothing));
        r.access.push((AccessLevel::Read, "arn:aws:s3:::b".into()));
        assert_eq!(r.check(), Err(RequestError::ResourcesWithoutActions));
        r.needs.push(Need::new("s3:GetObject"));
        assert_eq!(r.check(), Ok(()));
        let fills: [fn(&mut Request); 3] = [
            |r: &mut Request| {
                r.skip_resource_constraints
                    .push("s3:ListAllMyBuckets".into())
            },
            |r: &mut Request| r.wildcard_only.push("s3:ListAllMyBuckets".into()),
            |r: &mut Request| r.service_wildcard.push((AccessLevel::List, "s3".into())),
        ];
        for fill in fills {
            let mut r = Request::default();
            fill(&mut r);
            assert_eq!(r.check(), Ok(()));
        }
    }

    #[test]
    fn pascal_case_sids() {
        assert_eq!(pascal("s3-object-lambda"), "S3ObjectLambda");
        assert_eq!(pascal("log-group"), "LogGroup");
        assert_eq!(pascal("dbCluster"), "DbCluster");
    }

    #[test]
    fn statements_group_and_number_sids() {
        let mut g = BTreeMap::new();
        let grant = |r: &[&str], t: &[&str]| Grant {
            resources: r.iter().map(|s| s.to_string()).collect(),
            types: t.iter().map(|s| s.to_string()).collect(),
            context: None,
        };
        g.insert(
            (Kind::Scoped, "s3:getobject".into()),
            (
                "s3:GetObject".into(),
                grant(&["arn:aws:s3:::a/*"], &["object"]),
            ),
        );
        g.insert(
            (Kind::Scoped, "s3:putobject".into()),
            (
                "s3:PutObject".into(),
                grant(&["arn:aws:s3:::b/*"], &["object"]),
            ),
        );
        g.insert(
            (Kind::Scoped, "s3:deleteobject".into()),
            (
                "s3:DeleteObject".into(),
                grant(&["arn:aws:s3:::a/*"], &["object"]),
            ),
        );
        g.insert(
            (Kind::WildcardOnly, "s3:listallmybuckets".into()),
            ("s3:ListAllMyBuckets".into(), grant(&["*"], &[])),
        );
        let st = statements(&g, Effect::Allow);
        let sids: Vec<&str> = st.iter().map(|s| s.sid.as_str()).collect();
        assert_eq!(sids, ["S3Object", "S3Object2", "WildcardOnly"]);
        assert_eq!(st[0].actions, ["s3:DeleteObject", "s3:GetObject"]);
        assert_eq!(st[1].resources, ["arn:aws:s3:::b/*"]);
    }

    #[test]
    fn an_unscoped_refusal_names_no_flag() {
        let stop = Stop {
            action: "s3:GetObject".into(),
            given: Vec::new(),
            missing: vec![(
                "object".into(),
                vec!["arn:${Partition}:s3:::${BucketName}/${ObjectName}".into()],
            )],
            widen_to: vec!["arn:aws:s3:::*/*".into()],
        };
        let e = WriteError::Unscoped(vec![stop.clone()]).to_string();
        assert_eq!(
            e,
            "1 action cannot be scoped to the ARNs given without widening:\n  s3:GetObject: needs object (arn:${Partition}:s3:::${BucketName}/${ObjectName}); given none; widening would grant arn:aws:s3:::*/*\ngive ARNs of those resource types, or widen to grant the generic patterns (each reported as a note)"
        );
        assert!(!e.contains("--") && !e.contains("-r "), "{e}");
        assert!(unscoped_text(&[stop.clone(), stop], "W", "A").ends_with("; W arn:aws:s3:::*/*\nA"));
    }
}
