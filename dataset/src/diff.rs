//! Field-level differences between two datasets (two `Vec<Service>`, from a
//! database, a snapshot folder or a git revision of one): what
//! `iamref diff` reports.
//!
//! Items are matched by name, case-insensitively (as IAM compares them):
//! services by prefix, actions, resource types, condition keys and
//! operations by name within their prefix, ARN formats by their text
//! within their resource type. Each [`Change`] is one line of the
//! changelog: an item `added` or `removed`, or one `field` of it `changed`
//! with its `old` and `new` value.
//!
//! A new (or removed) prefix is one `service` change, plus one `action`
//! change per action it holds, so that "which actions are new" and the
//! action filters see them; its resource types, condition keys and
//! operations are counted in the service change's value, not listed.
//! Provenance (`pages`, `sources`, page hashes) and documentation links
//! are not compared: they change without IAM changing.

use crate::domain::ACCESS_LEVELS;
use crate::model::*;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::HashMap;

/// What kind of item a change is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    Service,
    Action,
    ResourceType,
    ArnFormat,
    ConditionKey,
    Operation,
}

impl Kind {
    pub const ALL: [Kind; 6] = [
        Kind::Service,
        Kind::Action,
        Kind::ResourceType,
        Kind::ArnFormat,
        Kind::ConditionKey,
        Kind::Operation,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Service => "service",
            Kind::Action => "action",
            Kind::ResourceType => "resource-type",
            Kind::ArnFormat => "arn-format",
            Kind::ConditionKey => "condition-key",
            Kind::Operation => "operation",
        }
    }

    /// Parse a kind as written on the command line (`resource-type`,
    /// `resource_type` and `resourcetype` all work, any case).
    pub fn parse(s: &str) -> Option<Kind> {
        let norm: String = s
            .chars()
            .filter(|c| !matches!(c, '-' | '_'))
            .collect::<String>()
            .to_ascii_lowercase();
        Kind::ALL
            .into_iter()
            .find(|k| k.as_str().replace('-', "") == norm)
    }
}

/// Added, removed, or a field changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeType {
    Added,
    Removed,
    Changed,
}

impl ChangeType {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeType::Added => "added",
            ChangeType::Removed => "removed",
            ChangeType::Changed => "changed",
        }
    }
}

/// One change. Every field is always serialized (null when it does not
/// apply), so each JSON line has the same keys.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    /// The service prefix, as the newer side writes it.
    pub prefix: String,
    pub kind: Kind,
    /// The item: the prefix (service), action, resource type, condition
    /// key or operation name; for an ARN format, its resource type.
    pub name: String,
    pub change: ChangeType,
    /// For `changed`: which field, e.g. `access_level`, `resource_types`,
    /// `resource_types.bucket.condition_keys`.
    pub field: Option<String>,
    /// The removed item, or the field's old value.
    pub old: Option<Value>,
    /// The added item, or the field's new value.
    pub new: Option<Value>,
}

impl Change {
    /// For an action change: its access level in the older and newer data
    /// (an added item has only a new one).
    pub fn access_levels(&self) -> impl Iterator<Item = &str> {
        fn level(v: &Option<Value>) -> Option<&str> {
            v.as_ref()?.get("access_level")?.as_str()
        }
        let (o, n) = if self.field.as_deref() == Some("access_level") {
            (
                self.old.as_ref().and_then(Value::as_str),
                self.new.as_ref().and_then(Value::as_str),
            )
        } else {
            (level(&self.old), level(&self.new))
        };
        o.into_iter().chain(n)
    }
}

/// Headline counts of a diff.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Summary {
    pub services_added: usize,
    pub services_removed: usize,
    pub services_changed: usize,
    pub actions_added: usize,
    pub actions_removed: usize,
    /// Actions with at least one changed field.
    pub actions_changed: usize,
    pub access_levels_changed: usize,
    /// Actions whose resource types (names or required flags) changed.
    pub action_resource_types_changed: usize,
    pub resource_types_added: usize,
    pub resource_types_removed: usize,
    pub arn_formats_added: usize,
    pub arn_formats_removed: usize,
    pub condition_keys_added: usize,
    pub condition_keys_removed: usize,
    pub condition_key_types_changed: usize,
    pub operations_added: usize,
    pub operations_removed: usize,
    pub operations_changed: usize,
    /// Items of any kind with at least one changed field.
    pub items_changed: usize,
    /// Every change listed.
    pub changes: usize,
}

/// Count `changes` (after any filtering).
pub fn summarize(changes: &[Change]) -> Summary {
    let mut s = Summary {
        changes: changes.len(),
        ..Summary::default()
    };
    let mut changed_items: std::collections::HashSet<(&str, Kind, &str)> = Default::default();
    let mut level_changed: std::collections::HashSet<(&str, &str)> = Default::default();
    for c in changes {
        use ChangeType::*;
        match (c.kind, c.change) {
            (Kind::Service, Added) => s.services_added += 1,
            (Kind::Service, Removed) => s.services_removed += 1,
            (Kind::Action, Added) => s.actions_added += 1,
            (Kind::Action, Removed) => s.actions_removed += 1,
            (Kind::ResourceType, Added) => s.resource_types_added += 1,
            (Kind::ResourceType, Removed) => s.resource_types_removed += 1,
            (Kind::ArnFormat, Added) => s.arn_formats_added += 1,
            (Kind::ArnFormat, Removed) => s.arn_formats_removed += 1,
            (Kind::ConditionKey, Added) => s.condition_keys_added += 1,
            (Kind::ConditionKey, Removed) => s.condition_keys_removed += 1,
            (Kind::Operation, Added) => s.operations_added += 1,
            (Kind::Operation, Removed) => s.operations_removed += 1,
            (kind, Changed) => {
                let field = c.field.as_deref().unwrap_or("");
                // An access level that changed on one page of a prefix is
                // an access-level change too: counted once per action.
                let per_page_level =
                    field.starts_with("per_page[") && field.ends_with("].access_level");
                if kind == Kind::Action && (field == "access_level" || per_page_level) {
                    level_changed.insert((c.prefix.as_str(), c.name.as_str()));
                }
                match (kind, field) {
                    (Kind::Action, "resource_types") => s.action_resource_types_changed += 1,
                    (Kind::ConditionKey, "type") => s.condition_key_types_changed += 1,
                    _ => {}
                }
                if changed_items.insert((c.prefix.as_str(), kind, c.name.as_str())) {
                    match kind {
                        Kind::Service => s.services_changed += 1,
                        Kind::Action => s.actions_changed += 1,
                        Kind::Operation => s.operations_changed += 1,
                        _ => {}
                    }
                }
            }
        }
    }
    s.items_changed = changed_items.len();
    s.access_levels_changed = level_changed.len();
    s
}

/// Every change from `old` to `new`, sorted by prefix, kind, name, change
/// and field. The same data on both sides gives no change.
pub fn diff(old: &[Service], new: &[Service]) -> Vec<Change> {
    let mut out = Vec::new();
    let old_idx = index(old, |s| &s.prefix);
    let mut seen = vec![false; old.len()];
    for n in new {
        match old_idx.get(&n.prefix.to_ascii_lowercase()) {
            Some(&i) => {
                seen[i] = true;
                diff_service(&old[i], n, &mut out);
            }
            None => whole_service(n, ChangeType::Added, &mut out),
        }
    }
    for (i, o) in old.iter().enumerate() {
        if !seen[i] {
            whole_service(o, ChangeType::Removed, &mut out);
        }
    }
    sort_changes(&mut out);
    out
}

/// Which changes `iamref diff` keeps: every filter that is set must hold
/// (an empty list is no filter).
#[derive(Default)]
pub struct Filter<'a> {
    /// Service prefixes, any case.
    pub prefixes: &'a [String],
    pub kinds: &'a [Kind],
    /// Access levels as [`access_level`] spells them: an action change
    /// whose action has one of them, before or after. Other kinds are
    /// left out.
    pub access_levels: &'a [&'static str],
    /// Only changes to the actions (`prefix:Name`) this accepts (a
    /// policy's grants); other kinds are left out.
    pub actions: Option<&'a dyn Fn(&str) -> bool>,
}

/// Why a [`Filter`] can keep nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    /// An action filter with kinds that leave actions out.
    #[error("an action filter selects action changes, but the kinds leave actions out")]
    ActionsExcluded,
}

impl Filter<'_> {
    /// Refuse a filter that can keep nothing whatever the data.
    pub fn check(&self) -> Result<(), FilterError> {
        if self.actions.is_some() && !self.kinds.is_empty() && !self.kinds.contains(&Kind::Action) {
            return Err(FilterError::ActionsExcluded);
        }
        Ok(())
    }

    /// Whether `c` is kept.
    pub fn keeps(&self, c: &Change) -> bool {
        (self.prefixes.is_empty()
            || self
                .prefixes
                .iter()
                .any(|p| p.eq_ignore_ascii_case(&c.prefix)))
            && (self.kinds.is_empty() || self.kinds.contains(&c.kind))
            && (self.access_levels.is_empty()
                || (c.kind == Kind::Action
                    && c.access_levels()
                        .any(|l| self.access_levels.iter().any(|x| x.eq_ignore_ascii_case(l)))))
            && self.actions.is_none_or(|grants| {
                c.kind == Kind::Action && grants(&format!("{}:{}", c.prefix, c.name))
            })
    }

    /// Drop the changes not kept.
    pub fn apply(&self, changes: &mut Vec<Change>) {
        changes.retain(|c| self.keeps(c));
    }
}

/// The first of `prefixes` (any case) that neither side has, with the
/// closest prefix of either side ([`crate::names::suggest`]); `None` when
/// both sides together know every one.
pub fn unknown_prefix<'a>(
    old: &'a [Service],
    new: &'a [Service],
    prefixes: &'a [String],
) -> Option<(&'a str, Option<&'a str>)> {
    let known = |p: &str, s: &[Service]| s.iter().any(|x| x.prefix.eq_ignore_ascii_case(p));
    let p = prefixes.iter().find(|p| !known(p, old) && !known(p, new))?;
    let names = old.iter().chain(new).map(|s| s.prefix.as_str());
    Some((p.as_str(), crate::names::suggest(p, names)))
}

/// Each service's name by its prefix in lower case, from either side (the
/// new side's where both have it): what the renderers title a prefix with.
pub fn service_names<'a>(old: &'a [Service], new: &'a [Service]) -> HashMap<String, &'a str> {
    old.iter()
        .chain(new)
        .map(|s| (s.prefix.to_ascii_lowercase(), s.name.as_str()))
        .collect()
}

/// An access level of a diff filter: one of [`ACCESS_LEVELS`] in any case
/// (surrounding white space ignored), in its canonical spelling.
pub fn access_level(s: &str) -> Option<&'static str> {
    ACCESS_LEVELS
        .iter()
        .find(|x| x.eq_ignore_ascii_case(s.trim()))
        .copied()
}

/// Canonical order of changes.
pub fn sort_changes(changes: &mut [Change]) {
    changes.sort_by(|a, b| {
        a.prefix
            .to_ascii_lowercase()
            .cmp(&b.prefix.to_ascii_lowercase())
            .then(a.kind.cmp(&b.kind))
            .then_with(|| {
                a.name
                    .to_ascii_lowercase()
                    .cmp(&b.name.to_ascii_lowercase())
            })
            .then(a.change.cmp(&b.change))
            .then_with(|| a.field.cmp(&b.field))
            .then_with(|| cmp_value(&a.old, &b.old))
            .then_with(|| cmp_value(&a.new, &b.new))
    });
}

fn cmp_value(a: &Option<Value>, b: &Option<Value>) -> std::cmp::Ordering {
    let s = |v: &Option<Value>| v.as_ref().map(|v| v.to_string()).unwrap_or_default();
    s(a).cmp(&s(b))
}

fn index<T>(items: &[T], name: impl Fn(&T) -> &str) -> HashMap<String, usize> {
    items
        .iter()
        .enumerate()
        .map(|(i, x)| (name(x).to_ascii_lowercase(), i))
        .collect()
}

struct Ctx<'a> {
    prefix: &'a str,
    out: &'a mut Vec<Change>,
}

impl Ctx<'_> {
    fn push(
        &mut self,
        kind: Kind,
        name: &str,
        change: ChangeType,
        old: Option<Value>,
        new: Option<Value>,
    ) {
        self.out.push(Change {
            prefix: self.prefix.to_string(),
            kind,
            name: name.to_string(),
            change,
            field: None,
            old,
            new,
        });
    }

    fn added(&mut self, kind: Kind, name: &str, value: Value) {
        self.push(kind, name, ChangeType::Added, None, Some(value));
    }

    fn removed(&mut self, kind: Kind, name: &str, value: Value) {
        self.push(kind, name, ChangeType::Removed, Some(value), None);
    }

    /// Record a field change if the two values differ.
    fn field<T: PartialEq + Serialize + ?Sized>(
        &mut self,
        kind: Kind,
        name: &str,
        field: &str,
        old: &T,
        new: &T,
    ) {
        if old != new {
            self.out.push(Change {
                prefix: self.prefix.to_string(),
                kind,
                name: name.to_string(),
                change: ChangeType::Changed,
                field: Some(field.to_string()),
                old: Some(serde_json::to_value(old).expect("serializes")),
                new: Some(serde_json::to_value(new).expect("serializes")),
            });
        }
    }
}

/// A service added or removed as a whole: one service change with its
/// counts, and one change per action.
fn whole_service(s: &Service, change: ChangeType, out: &mut Vec<Change>) {
    let mut cx = Ctx {
        prefix: &s.prefix,
        out,
    };
    let value = json!({
        "name": s.name,
        "actions": s.actions.len(),
        "resource_types": s.resource_types.len(),
        "condition_keys": s.condition_keys.len(),
        "operations": s.operations.len(),
    });
    let (old, new) = match change {
        ChangeType::Removed => (Some(value), None),
        _ => (None, Some(value)),
    };
    cx.push(Kind::Service, &s.prefix, change, old, new);
    for a in &s.actions {
        let v = action_value(a);
        match change {
            ChangeType::Removed => cx.removed(Kind::Action, &a.name, v),
            _ => cx.added(Kind::Action, &a.name, v),
        }
    }
}

/// Walk two lists matched by name: `f(Some, Some)` for pairs, then the
/// unmatched of `new` and of `old`.
fn pair<'a, T>(
    old: &'a [T],
    new: &'a [T],
    name: impl Fn(&T) -> &str,
    mut f: impl FnMut(Option<&'a T>, Option<&'a T>),
) {
    let idx = index(old, &name);
    let mut seen = vec![false; old.len()];
    for n in new {
        match idx.get(&name(n).to_ascii_lowercase()) {
            Some(&i) => {
                seen[i] = true;
                f(Some(&old[i]), Some(n));
            }
            None => f(None, Some(n)),
        }
    }
    for (i, o) in old.iter().enumerate() {
        if !seen[i] {
            f(Some(o), None);
        }
    }
}

fn diff_service(o: &Service, n: &Service, out: &mut Vec<Change>) {
    let mut cx = Ctx {
        prefix: &n.prefix,
        out,
    };
    cx.field(Kind::Service, &n.prefix, "name", &o.name, &n.name);
    if o.prefix != n.prefix {
        cx.field(Kind::Service, &n.prefix, "prefix", &o.prefix, &n.prefix);
    }
    pair(
        &o.actions,
        &n.actions,
        |a| &a.name,
        |a, b| match (a, b) {
            (Some(a), Some(b)) => diff_action(&mut cx, a, b),
            (None, Some(b)) => cx.added(Kind::Action, &b.name, action_value(b)),
            (Some(a), None) => cx.removed(Kind::Action, &a.name, action_value(a)),
            (None, None) => {}
        },
    );
    pair(
        &o.resource_types,
        &n.resource_types,
        |r| &r.name,
        |a, b| match (a, b) {
            (Some(a), Some(b)) => diff_resource_type(&mut cx, a, b),
            (None, Some(b)) => cx.added(Kind::ResourceType, &b.name, resource_type_value(b)),
            (Some(a), None) => cx.removed(Kind::ResourceType, &a.name, resource_type_value(a)),
            (None, None) => {}
        },
    );
    pair(
        &o.condition_keys,
        &n.condition_keys,
        |k| &k.name,
        |a, b| match (a, b) {
            (Some(a), Some(b)) => {
                let name = &b.name;
                if a.name != b.name {
                    cx.field(Kind::ConditionKey, name, "name", &a.name, &b.name);
                }
                cx.field(Kind::ConditionKey, name, "type", &a.r#type, &b.r#type);
                cx.field(
                    Kind::ConditionKey,
                    name,
                    "description",
                    &a.description,
                    &b.description,
                );
            }
            (None, Some(b)) => cx.added(Kind::ConditionKey, &b.name, key_value(b)),
            (Some(a), None) => cx.removed(Kind::ConditionKey, &a.name, key_value(a)),
            (None, None) => {}
        },
    );
    pair(
        &o.operations,
        &n.operations,
        |x| &x.name,
        |a, b| match (a, b) {
            (Some(a), Some(b)) => {
                let name = &b.name;
                if a.name != b.name {
                    cx.field(Kind::Operation, name, "name", &a.name, &b.name);
                }
                let same_actions = a.actions.len() == b.actions.len()
                    && a.actions
                        .iter()
                        .zip(&b.actions)
                        .all(|(x, y)| x.service == y.service && x.action == y.action);
                if !same_actions {
                    cx.field(
                        Kind::Operation,
                        name,
                        "actions",
                        &operation_actions(a),
                        &operation_actions(b),
                    );
                }
                let same_context = same_actions
                    && a.actions
                        .iter()
                        .zip(&b.actions)
                        .all(|(x, y)| x.context == y.context);
                if !same_context {
                    cx.field(
                        Kind::Operation,
                        name,
                        "context",
                        &operation_context(a),
                        &operation_context(b),
                    );
                }
                if a.sdk != b.sdk {
                    cx.field(Kind::Operation, name, "sdk", &sdk(a), &sdk(b));
                }
            }
            (None, Some(b)) => cx.added(Kind::Operation, &b.name, operation_value(b)),
            (Some(a), None) => cx.removed(Kind::Operation, &a.name, operation_value(a)),
            (None, None) => {}
        },
    );
}

fn names(keys: &[KeyRef]) -> Vec<&str> {
    keys.iter().map(|k| k.name.as_str()).collect()
}

/// An action's resource types as `name` or `name*` (required), in order.
fn row_names(rows: &[ActionResource]) -> Vec<String> {
    rows.iter()
        .map(|r| {
            if r.required {
                format!("{}*", r.name)
            } else {
                r.name.clone()
            }
        })
        .collect()
}

fn row_value(r: &ActionResource) -> Value {
    json!({
        "name": r.name,
        "required": r.required,
        "condition_keys": names(&r.condition_keys),
        "dependent_actions": r.dependent_actions,
    })
}

fn scenarios_value(s: &[Scenario]) -> Value {
    Value::Array(
        s.iter()
            .map(|s| {
                json!({
                    "name": s.name,
                    "resource_types": s.resource_types.iter().map(row_value).collect::<Vec<_>>(),
                })
            })
            .collect(),
    )
}

/// An action as a change's value: what IAM behaviour depends on.
fn action_value(a: &Action) -> Value {
    json!({
        "access_level": a.access_level,
        "description": a.description,
        "permission_only": a.permission_only,
        "resource_types": a.resource_types.iter().map(row_value).collect::<Vec<_>>(),
        "condition_keys": names(&a.condition_keys),
        "dependent_actions": a.dependent_actions,
        "scenarios": scenarios_value(&a.scenarios),
    })
}

fn diff_action(cx: &mut Ctx, a: &Action, b: &Action) {
    let k = Kind::Action;
    let name = &b.name;
    if a.name != b.name {
        cx.field(k, name, "name", &a.name, &b.name);
    }
    cx.field(k, name, "access_level", &a.access_level, &b.access_level);
    cx.field(k, name, "description", &a.description, &b.description);
    cx.field(
        k,
        name,
        "permission_only",
        &a.permission_only,
        &b.permission_only,
    );
    // What each page says, on every page both sides have facts for: a
    // change on one page of a multi-page prefix names the page, even where
    // the merged value stays.
    // A page that lists the action on one side only, where both sides
    // keep per-page facts: that page's facts against nothing (the action
    // came to or left the page; its merged fields may not change).
    if !a.per_page.is_empty() && !b.per_page.is_empty() {
        let none: Option<&PageFacts> = None;
        for old in a
            .per_page
            .iter()
            .filter(|f| !b.per_page.iter().any(|g| g.page == f.page))
        {
            cx.field(
                k,
                name,
                &format!("per_page[{}]", old.page),
                &Some(old),
                &none,
            );
        }
        for new in b
            .per_page
            .iter()
            .filter(|f| !a.per_page.iter().any(|g| g.page == f.page))
        {
            cx.field(
                k,
                name,
                &format!("per_page[{}]", new.page),
                &none,
                &Some(new),
            );
        }
    }
    for old in &a.per_page {
        if let Some(new) = b.per_page.iter().find(|f| f.page == old.page) {
            let field = |what: &str| format!("per_page[{}].{what}", old.page);
            cx.field(
                k,
                name,
                &field("access_level"),
                &old.access_level,
                &new.access_level,
            );
            cx.field(
                k,
                name,
                &field("description"),
                &old.description,
                &new.description,
            );
            cx.field(
                k,
                name,
                &field("permission_only"),
                &old.permission_only,
                &new.permission_only,
            );
        }
    }
    // Compared in place first: most actions do not change, and building
    // the values to report only when they differ keeps a full diff fast.
    let same_rows = a.resource_types.len() == b.resource_types.len()
        && a.resource_types
            .iter()
            .zip(&b.resource_types)
            .all(|(x, y)| x.name == y.name && x.required == y.required);
    if !same_rows {
        cx.field(
            k,
            name,
            "resource_types",
            &row_names(&a.resource_types),
            &row_names(&b.resource_types),
        );
    }
    let same_details = same_rows
        && a.resource_types
            .iter()
            .zip(&b.resource_types)
            .all(|(x, y)| {
                same_names(&x.condition_keys, &y.condition_keys)
                    && x.dependent_actions == y.dependent_actions
            });
    if !same_details {
        // Per-row keys and dependent actions, for rows both sides have.
        pair(
            &a.resource_types,
            &b.resource_types,
            |r| &r.name,
            |x, y| {
                if let (Some(x), Some(y)) = (x, y) {
                    if !same_names(&x.condition_keys, &y.condition_keys) {
                        cx.field(
                            k,
                            name,
                            &format!("resource_types.{}.condition_keys", y.name),
                            &names(&x.condition_keys),
                            &names(&y.condition_keys),
                        );
                    }
                    cx.field(
                        k,
                        name,
                        &format!("resource_types.{}.dependent_actions", y.name),
                        &x.dependent_actions,
                        &y.dependent_actions,
                    );
                }
            },
        );
    }
    if !same_names(&a.condition_keys, &b.condition_keys) {
        cx.field(
            k,
            name,
            "condition_keys",
            &names(&a.condition_keys),
            &names(&b.condition_keys),
        );
    }
    cx.field(
        k,
        name,
        "dependent_actions",
        &a.dependent_actions,
        &b.dependent_actions,
    );
    if a.scenarios != b.scenarios {
        let (x, y) = (scenarios_value(&a.scenarios), scenarios_value(&b.scenarios));
        cx.field(k, name, "scenarios", &x, &y);
    }
}

/// Same key names in the same order (sources aside)?
fn same_names(a: &[KeyRef], b: &[KeyRef]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.name == y.name)
}

fn arns(r: &ResourceType) -> Vec<&str> {
    r.arns.iter().map(|a| a.arn.as_str()).collect()
}

fn resource_type_value(r: &ResourceType) -> Value {
    json!({ "arns": arns(r), "condition_keys": names(&r.condition_keys) })
}

fn diff_resource_type(cx: &mut Ctx, a: &ResourceType, b: &ResourceType) {
    let name = &b.name;
    if a.name != b.name {
        cx.field(Kind::ResourceType, name, "name", &a.name, &b.name);
    }
    if !same_names(&a.condition_keys, &b.condition_keys) {
        cx.field(
            Kind::ResourceType,
            name,
            "condition_keys",
            &names(&a.condition_keys),
            &names(&b.condition_keys),
        );
    }
    // ARN formats: added and removed, matched by their exact text.
    for x in &b.arns {
        if !a.arns.iter().any(|y| y.arn == x.arn) {
            cx.added(Kind::ArnFormat, name, Value::String(x.arn.clone()));
        }
    }
    for y in &a.arns {
        if !b.arns.iter().any(|x| x.arn == y.arn) {
            cx.removed(Kind::ArnFormat, name, Value::String(y.arn.clone()));
        }
    }
}

fn key_value(k: &ConditionKey) -> Value {
    json!({ "type": k.r#type, "description": k.description })
}

fn operation_actions(o: &Operation) -> Vec<String> {
    o.actions
        .iter()
        .map(|a| format!("{}:{}", a.service, a.action))
        .collect()
}

/// `{"iam:PassRole": {"iam:PassedToService": ["lambda.amazonaws.com"]}}`:
/// the condition-key values an operation sets per action it authorizes.
fn operation_context(o: &Operation) -> Value {
    let mut m = serde_json::Map::new();
    for a in &o.actions {
        if !a.context.is_empty() {
            m.insert(
                format!("{}:{}", a.service, a.action),
                serde_json::to_value(&a.context).expect("serializes"),
            );
        }
    }
    Value::Object(m)
}

fn sdk(o: &Operation) -> Vec<String> {
    o.sdk
        .iter()
        .map(|s| format!("{} {}.{}", s.package, s.client, s.method))
        .collect()
}

fn operation_value(o: &Operation) -> Value {
    let mut v = json!({ "actions": operation_actions(o), "sdk": sdk(o) });
    let ctx = operation_context(o);
    if ctx.as_object().is_some_and(|m| !m.is_empty()) {
        v["context"] = ctx;
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn svc(prefix: &str) -> Service {
        let mut s = Service::new(prefix, format!("Service {prefix}"), Sources::HTML);
        let mut a = Action::new("GetThing");
        a.access_level = Some("Read".into());
        a.description = Some("Grants permission to get a thing".into());
        a.resource_types.push(ActionResource {
            name: "thing".into(),
            required: true,
            condition_keys: vec![KeyRef::html("x:Color")],
            dependent_actions: vec![],
            sources: Sources::HTML,
        });
        s.actions.push(a);
        s.resource_types.push(ResourceType {
            name: "thing".into(),
            doc_url: None,
            arns: vec![ArnFormat {
                arn: "arn:${Partition}:x:::thing/${Id}".into(),
                sources: Sources::HTML,
            }],
            condition_keys: vec![],
            pages: vec![],
            sources: Sources::HTML,
        });
        s.condition_keys.push(ConditionKey {
            name: "x:Color".into(),
            description: Some("Filters by color".into()),
            r#type: Some("String".into()),
            doc_url: None,
            pages: vec![],
            sources: Sources::HTML,
            variants: vec![],
        });
        s.operations.push(Operation {
            name: "GetThing".into(),
            actions: vec![OperationAction {
                service: prefix.into(),
                action: "GetThing".into(),
                condition_keys: vec![],
                context: Default::default(),
                access_level: None,
                sources: Sources::JSON,
            }],
            sdk: vec![],
            sources: Sources::JSON,
        });
        s
    }

    #[test]
    fn prefixes_neither_side_has_are_named_with_the_closest() {
        let old = vec![svc("s3"), svc("sqs")];
        let mut renamed = svc("SNS");
        renamed.name = "Renamed".into();
        let new = vec![svc("s3"), renamed];
        let p = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(unknown_prefix(&old, &new, &p(&["S3", "sqs", "sns"])), None);
        let asked = p(&["s3", "sqx", "nope"]);
        assert_eq!(
            unknown_prefix(&old, &new, &asked),
            Some(("sqx", Some("sqs")))
        );
        let names = service_names(&old, &new);
        assert_eq!(names["sns"], "Renamed");
        assert_eq!(names["sqs"], "Service sqs");
        assert_eq!(names.len(), 3);
    }

    fn one(changes: &[Change]) -> &Change {
        assert_eq!(changes.len(), 1, "{changes:#?}");
        &changes[0]
    }

    #[test]
    fn identical_inputs_give_no_change() {
        let a = vec![svc("x"), svc("y")];
        assert!(diff(&a, &a.clone()).is_empty());
        // Provenance alone is not a change.
        let mut b = a.clone();
        b[0].pages.push(PageRef {
            file: "list_x.html".into(),
            service_name: "Service x".into(),
            url: None,
            sha256: "ff".into(),
            layout: Layout::Classic,
        });
        b[0].actions[0].sources = Sources::BOTH;
        b[0].actions[0].doc_url = Some("https://example.invalid".into());
        assert!(diff(&a, &b).is_empty());
        // Names compare case-insensitively: a prefix spelled differently
        // is the same service.
        let mut c = a.clone();
        c[1].prefix = "Y".into();
        let ch = diff(&a, &c);
        assert_eq!(one(&ch).field.as_deref(), Some("prefix"));
    }

    #[test]
    fn services_added_and_removed_list_their_actions() {
        let old = vec![svc("x")];
        let new = vec![svc("y")];
        let ch = diff(&old, &new);
        let kinds: Vec<_> = ch
            .iter()
            .map(|c| (c.prefix.as_str(), c.kind, c.change))
            .collect();
        assert_eq!(
            kinds,
            [
                ("x", Kind::Service, ChangeType::Removed),
                ("x", Kind::Action, ChangeType::Removed),
                ("y", Kind::Service, ChangeType::Added),
                ("y", Kind::Action, ChangeType::Added),
            ]
        );
        assert_eq!(ch[2].new.as_ref().unwrap()["resource_types"], 1);
        assert_eq!(ch[3].new.as_ref().unwrap()["access_level"], "Read");
        let s = summarize(&ch);
        assert_eq!((s.services_added, s.services_removed), (1, 1));
        assert_eq!((s.actions_added, s.actions_removed), (1, 1));
        assert_eq!(s.resource_types_added, 0);
    }

    /// Change one field of `svc("x")` and check exactly that change is
    /// reported, with its old and new values.
    fn check_field(
        edit: impl FnOnce(&mut Service),
        kind: Kind,
        name: &str,
        field: &str,
        old: Value,
        new: Value,
    ) {
        let a = vec![svc("x")];
        let mut b = a.clone();
        edit(&mut b[0]);
        let ch = diff(&a, &b);
        let c = one(&ch);
        assert_eq!(
            (c.kind, c.name.as_str(), c.change, c.field.as_deref()),
            (kind, name, ChangeType::Changed, Some(field))
        );
        assert_eq!(c.old.as_ref(), Some(&old), "old of {field}");
        assert_eq!(c.new.as_ref(), Some(&new), "new of {field}");
        // And back again.
        let back = diff(&b, &a);
        let c = one(&back);
        assert_eq!((c.old.as_ref(), c.new.as_ref()), (Some(&new), Some(&old)));
    }

    #[test]
    fn a_change_on_one_page_names_the_page() {
        // Constructed: GetThing on two pages; the second page changes.
        let facts = |page: &str, level: &str| PageFacts {
            page: page.into(),
            access_level: Some(level.into()),
            description: Some(format!("Grants permission ({page})")),
            permission_only: false,
        };
        let mut a = vec![svc("x")];
        a[0].actions[0].per_page =
            vec![facts("list_x.html", "Read"), facts("list_x2.html", "Read")];
        let mut b = a.clone();
        b[0].actions[0].per_page[1].access_level = Some("Write".into());
        b[0].actions[0].per_page[1].permission_only = true;
        let ch = diff(&a, &b);
        // The summary counts the page's access level as a change of one.
        assert_eq!(summarize(&ch).access_levels_changed, 1);
        assert_eq!(summarize(&ch).actions_changed, 1);
        let got: Vec<_> = ch
            .iter()
            .map(|c| {
                (
                    c.name.as_str(),
                    c.field.as_deref(),
                    c.old.clone(),
                    c.new.clone(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (
                    "GetThing",
                    Some("per_page[list_x2.html].access_level"),
                    Some(json!("Read")),
                    Some(json!("Write"))
                ),
                (
                    "GetThing",
                    Some("per_page[list_x2.html].permission_only"),
                    Some(json!(false)),
                    Some(json!(true))
                ),
            ]
        );
        // A side without per-page facts (a database written before they
        // were kept) is no change.
        let mut old_db = a.clone();
        old_db[0].actions[0].per_page.clear();
        assert!(diff(&old_db, &a).is_empty());
    }

    #[test]
    fn an_action_leaving_or_joining_a_page_names_the_page() {
        // Constructed: GetThing listed on two pages, then on one of them.
        let facts = |page: &str| PageFacts {
            page: page.into(),
            access_level: Some("Read".into()),
            description: Some("Grants permission".into()),
            permission_only: false,
        };
        let mut a = vec![svc("x")];
        a[0].actions[0].per_page = vec![facts("list_x.html"), facts("list_x2.html")];
        let mut b = a.clone();
        b[0].actions[0].per_page.pop();
        let page = json!({"page": "list_x2.html", "access_level": "Read",
            "description": "Grants permission"});
        let ch = diff(&a, &b);
        let got: Vec<_> = ch
            .iter()
            .map(|c| {
                (
                    c.name.as_str(),
                    c.field.as_deref(),
                    c.old.clone(),
                    c.new.clone(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [(
                "GetThing",
                Some("per_page[list_x2.html]"),
                Some(page.clone()),
                Some(Value::Null)
            )]
        );
        assert_eq!(summarize(&ch).actions_changed, 1);
        // And back: the page gained the action.
        let back = diff(&b, &a);
        assert_eq!(back.len(), 1);
        assert_eq!(
            (back[0].old.clone(), back[0].new.clone()),
            (Some(Value::Null), Some(page))
        );
    }

    #[test]
    fn every_field_is_compared() {
        use Kind::*;
        check_field(
            |s| s.name = "Renamed".into(),
            Service,
            "x",
            "name",
            json!("Service x"),
            json!("Renamed"),
        );
        check_field(
            |s| s.actions[0].access_level = Some("Write".into()),
            Action,
            "GetThing",
            "access_level",
            json!("Read"),
            json!("Write"),
        );
        check_field(
            |s| s.actions[0].description = None,
            Action,
            "GetThing",
            "description",
            json!("Grants permission to get a thing"),
            Value::Null,
        );
        check_field(
            |s| s.actions[0].permission_only = true,
            Action,
            "GetThing",
            "permission_only",
            json!(false),
            json!(true),
        );
        check_field(
            |s| s.actions[0].resource_types[0].required = false,
            Action,
            "GetThing",
            "resource_types",
            json!(["thing*"]),
            json!(["thing"]),
        );
        check_field(
            |s| s.actions[0].resource_types[0].condition_keys.clear(),
            Action,
            "GetThing",
            "resource_types.thing.condition_keys",
            json!(["x:Color"]),
            json!([]),
        );
        check_field(
            |s| {
                s.actions[0].resource_types[0]
                    .dependent_actions
                    .push("kms:Decrypt".into())
            },
            Action,
            "GetThing",
            "resource_types.thing.dependent_actions",
            json!([]),
            json!(["kms:Decrypt"]),
        );
        check_field(
            |s| {
                s.actions[0]
                    .condition_keys
                    .push(KeyRef::html("aws:RequestTag/${TagKey}"))
            },
            Action,
            "GetThing",
            "condition_keys",
            json!([]),
            json!(["aws:RequestTag/${TagKey}"]),
        );
        check_field(
            |s| s.actions[0].dependent_actions.push("iam:PassRole".into()),
            Action,
            "GetThing",
            "dependent_actions",
            json!([]),
            json!(["iam:PassRole"]),
        );
        check_field(
            |s| {
                s.actions[0].scenarios.push(Scenario {
                    name: "Classic".into(),
                    resource_types: vec![],
                })
            },
            Action,
            "GetThing",
            "scenarios",
            json!([]),
            json!([{"name": "Classic", "resource_types": []}]),
        );
        check_field(
            |s| {
                s.resource_types[0]
                    .condition_keys
                    .push(KeyRef::html("x:Color"))
            },
            ResourceType,
            "thing",
            "condition_keys",
            json!([]),
            json!(["x:Color"]),
        );
        check_field(
            |s| s.condition_keys[0].r#type = Some("ArrayOfString".into()),
            ConditionKey,
            "x:Color",
            "type",
            json!("String"),
            json!("ArrayOfString"),
        );
        check_field(
            |s| s.condition_keys[0].description = Some("Other".into()),
            ConditionKey,
            "x:Color",
            "description",
            json!("Filters by color"),
            json!("Other"),
        );
        check_field(
            |s| s.operations[0].actions[0].action = "ReadThing".into(),
            Operation,
            "GetThing",
            "actions",
            json!(["x:GetThing"]),
            json!(["x:ReadThing"]),
        );
        check_field(
            |s| {
                s.operations[0].actions[0].context.insert(
                    "iam:PassedToService".into(),
                    vec!["lambda.amazonaws.com".into()],
                );
            },
            Operation,
            "GetThing",
            "context",
            json!({}),
            json!({"x:GetThing": {"iam:PassedToService": ["lambda.amazonaws.com"]}}),
        );
        check_field(
            |s| {
                s.operations[0].sdk.push(SdkMethod {
                    package: "Boto3".into(),
                    client: "x".into(),
                    method: "get_thing".into(),
                })
            },
            Operation,
            "GetThing",
            "sdk",
            json!([]),
            json!(["Boto3 x.get_thing"]),
        );
    }

    #[test]
    fn items_added_and_removed() {
        let a = vec![svc("x")];
        let mut b = a.clone();
        b[0].actions.push(Action::new("PutThing"));
        b[0].resource_types[0].arns.push(ArnFormat {
            arn: "arn:${Partition}:x:::thing2/${Id}".into(),
            sources: Sources::HTML,
        });
        b[0].resource_types.push(ResourceType {
            name: "box".into(),
            doc_url: None,
            arns: vec![],
            condition_keys: vec![],
            pages: vec![],
            sources: Sources::JSON,
        });
        b[0].condition_keys.clear();
        b[0].operations.clear();
        let ch = diff(&a, &b);
        let got: Vec<_> = ch
            .iter()
            .map(|c| (c.kind, c.name.as_str(), c.change))
            .collect();
        use ChangeType::*;
        assert_eq!(
            got,
            [
                (Kind::Action, "PutThing", Added),
                (Kind::ResourceType, "box", Added),
                (Kind::ArnFormat, "thing", Added),
                (Kind::ConditionKey, "x:Color", Removed),
                (Kind::Operation, "GetThing", Removed),
            ]
        );
        assert_eq!(ch[2].new, Some(json!("arn:${Partition}:x:::thing2/${Id}")));
        assert_eq!(
            ch[3].old,
            Some(json!({"type": "String", "description": "Filters by color"}))
        );
        let s = summarize(&ch);
        assert_eq!(
            (
                s.actions_added,
                s.resource_types_added,
                s.arn_formats_added,
                s.condition_keys_removed,
                s.operations_removed
            ),
            (1, 1, 1, 1, 1)
        );
        // Every change serializes with the same keys.
        for c in &ch {
            let v = serde_json::to_value(c).unwrap();
            let keys: Vec<_> = v.as_object().unwrap().keys().cloned().collect();
            assert_eq!(
                keys,
                ["prefix", "kind", "name", "change", "field", "old", "new"]
            );
        }
    }

    #[test]
    fn kinds_parse_as_written() {
        assert_eq!(Kind::parse("resource-type"), Some(Kind::ResourceType));
        assert_eq!(Kind::parse("Condition_Key"), Some(Kind::ConditionKey));
        assert_eq!(Kind::parse("arnformat"), Some(Kind::ArnFormat));
        assert_eq!(Kind::parse("widget"), None);
        for k in Kind::ALL {
            assert_eq!(Kind::parse(k.as_str()), Some(k));
            assert_eq!(serde_json::to_value(k).unwrap(), json!(k.as_str()));
        }
    }

    mod properties {
        use super::super::*;
        use proptest::prelude::*;
        use std::collections::HashSet;

        /// Small random datasets: names from tiny pools (so the two sides
        /// share some and differ in others), in any case.
        fn service() -> impl Strategy<Value = Service> {
            let action = (
                prop::sample::select(vec!["Get", "get", "Put", "List", "Tag"]),
                prop::option::of(prop::sample::select(vec!["Read", "Write", "List"])),
                prop::collection::vec(
                    (prop::sample::select(vec!["a", "b", "c"]), any::<bool>()),
                    0..3,
                ),
                prop::collection::vec(prop::sample::select(vec!["k:1", "k:2"]), 0..2),
            )
                .prop_map(|(name, level, rows, keys)| {
                    let mut a = Action::new(name);
                    a.access_level = level.map(str::to_string);
                    for (r, required) in rows {
                        if !a.resource_types.iter().any(|x| x.name == r) {
                            a.resource_types.push(ActionResource {
                                name: r.into(),
                                required,
                                condition_keys: vec![],
                                dependent_actions: vec![],
                                sources: Sources::HTML,
                            });
                        }
                    }
                    a.condition_keys = keys.into_iter().map(KeyRef::html).collect();
                    a
                });
            (
                prop::sample::select(vec!["x", "y", "Y", "z"]),
                prop::collection::vec(action, 0..5),
                prop::collection::vec(prop::sample::select(vec!["a", "b", "c"]), 0..3),
            )
                .prop_map(|(prefix, actions, rts)| {
                    let mut s = Service::new(prefix, "S", Sources::HTML);
                    for a in actions {
                        if !s
                            .actions
                            .iter()
                            .any(|x| x.name.eq_ignore_ascii_case(&a.name))
                        {
                            s.actions.push(a);
                        }
                    }
                    for r in rts {
                        if !s.resource_types.iter().any(|x| x.name == r) {
                            s.resource_types.push(ResourceType {
                                name: r.into(),
                                doc_url: None,
                                arns: vec![ArnFormat {
                                    arn: format!("arn:${{Partition}}:x:::{r}"),
                                    sources: Sources::HTML,
                                }],
                                condition_keys: vec![],
                                pages: vec![],
                                sources: Sources::HTML,
                            });
                        }
                    }
                    s
                })
        }

        fn dataset() -> impl Strategy<Value = Vec<Service>> {
            prop::collection::vec(service(), 0..4).prop_map(|v| {
                let mut out: Vec<Service> = Vec::new();
                for s in v {
                    if !out.iter().any(|x| x.prefix.eq_ignore_ascii_case(&s.prefix)) {
                        out.push(s);
                    }
                }
                out
            })
        }

        fn actions_of(d: &[Service]) -> HashSet<String> {
            d.iter()
                .flat_map(|s| {
                    s.actions
                        .iter()
                        .map(move |a| format!("{}:{}", s.prefix, a.name).to_ascii_lowercase())
                })
                .collect()
        }

        proptest! {
            #[test]
            fn a_dataset_does_not_differ_from_itself(a in dataset()) {
                prop_assert!(diff(&a, &a).is_empty());
            }

            #[test]
            fn swapping_the_sides_mirrors_every_change(a in dataset(), b in dataset()) {
                let mut mirrored: Vec<Change> = diff(&b, &a)
                    .into_iter()
                    .map(|mut c| {
                        c.change = match c.change {
                            ChangeType::Added => ChangeType::Removed,
                            ChangeType::Removed => ChangeType::Added,
                            ChangeType::Changed => ChangeType::Changed,
                        };
                        std::mem::swap(&mut c.old, &mut c.new);
                        c
                    })
                    .collect();
                let mut forward = diff(&a, &b);
                // Names are reported as the newer side spells them.
                for c in mirrored.iter_mut().chain(forward.iter_mut()) {
                    c.prefix = c.prefix.to_ascii_lowercase();
                    c.name = c.name.to_ascii_lowercase();
                    if c.field.as_deref() == Some("prefix") || c.field.as_deref() == Some("name") {
                        c.field = None;
                        c.old = None;
                        c.new = None;
                    }
                }
                sort_changes(&mut mirrored);
                sort_changes(&mut forward);
                prop_assert_eq!(forward, mirrored);
            }

            #[test]
            fn added_and_removed_actions_are_the_set_differences(a in dataset(), b in dataset()) {
                let s = summarize(&diff(&a, &b));
                let (old, new) = (actions_of(&a), actions_of(&b));
                prop_assert_eq!(s.actions_added, new.difference(&old).count());
                prop_assert_eq!(s.actions_removed, old.difference(&new).count());
            }
        }
    }

    #[test]
    fn filters_keep_what_every_set_filter_allows() {
        let action = |name: &str, level: &str| Action {
            access_level: Some(level.to_string()),
            ..Action::new(name)
        };
        let mut old = svc("s3");
        old.actions.push(action("GetObject", "Read"));
        let mut new = old.clone();
        new.actions.push(action("PutObject", "Write"));
        new.actions.push(action("ListBucket", "List"));
        let changes = diff(&[old, svc("ec2")], &[new, svc("iam")]);
        let kept = |f: &Filter| -> Vec<String> {
            let mut c = changes.clone();
            f.apply(&mut c);
            c.iter()
                .map(|c| format!("{}:{}:{}", c.kind.as_str(), c.prefix, c.name))
                .collect()
        };
        assert_eq!(kept(&Filter::default()).len(), changes.len());
        let s3 = ["S3".to_string()];
        assert_eq!(
            kept(&Filter {
                prefixes: &s3,
                ..Filter::default()
            }),
            ["action:s3:ListBucket", "action:s3:PutObject"]
        );
        let write = [access_level(" write ").unwrap()];
        assert_eq!(write, ["Write"]);
        assert_eq!(
            kept(&Filter {
                access_levels: &write,
                ..Filter::default()
            }),
            ["action:s3:PutObject"]
        );
        let kinds = [Kind::Service];
        assert_eq!(
            kept(&Filter {
                kinds: &kinds,
                ..Filter::default()
            }),
            ["service:ec2:ec2", "service:iam:iam"]
        );
        let put = |a: &str| a == "s3:PutObject";
        let f = Filter {
            actions: Some(&put),
            ..Filter::default()
        };
        assert_eq!(kept(&f), ["action:s3:PutObject"]);
        assert_eq!(f.check(), Ok(()));
        let f = Filter {
            actions: Some(&put),
            kinds: &kinds,
            ..Filter::default()
        };
        assert_eq!(f.check(), Err(FilterError::ActionsExcluded));
        assert_eq!(
            access_level("Permissions Management"),
            Some("Permissions management")
        );
        assert_eq!(access_level("permissions-management"), None);
    }
}
