//! Reconciling AWS's JSON service reference with the HTML-derived services.
//!
//! The JSON is folded into the services the HTML gave, linking rows rather
//! than duplicating them: a fact both sources state is one row with
//! `sources = both`; what only the JSON states is added with
//! `sources = json`. Each source's statements are kept where that source
//! puts them (the HTML often lists a condition key on a resource-type row
//! that the JSON lists at action level), so [`crosscheck`] can report every
//! disagreement.

use crate::json_doc::*;
use crate::merge::{merge_keys, merge_operation, name_order, sort_service};
use crate::model::*;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// The access level the JSON annotations imply: the first flag set of
/// permissions management, tagging, write, list; `Read` if none is.
pub fn access_level_from(a: &Annotations) -> &'static str {
    if a.is_permission_management {
        "Permissions management"
    } else if a.is_tagging_only {
        "Tagging"
    } else if a.is_write {
        "Write"
    } else if a.is_list {
        "List"
    } else {
        "Read"
    }
}

fn annotations_of(a: &DocAction) -> Option<Annotations> {
    let p = a.annotations.as_ref()?.properties?;
    Some(Annotations {
        is_list: p.is_list,
        is_write: p.is_write,
        is_permission_management: p.is_permission_management,
        is_tagging_only: p.is_tagging_only,
    })
}

fn json_keys(names: &[String]) -> Vec<KeyRef> {
    let mut out: Vec<KeyRef> = Vec::with_capacity(names.len());
    merge_keys(
        &mut out,
        names
            .iter()
            .map(|n| KeyRef {
                name: n.clone(),
                sources: Sources::JSON,
            })
            .collect(),
    );
    out
}

/// Fold `docs` into `services` (as [`crate::merge::merge_pages`] made them)
/// and return every service in canonical order. Documents are applied in
/// prefix order, so the result does not depend on the order of `docs`.
/// A prefix without HTML becomes a JSON-only service.
pub fn reconcile(mut services: Vec<Service>, mut docs: Vec<JsonDocument>) -> Vec<Service> {
    docs.sort_by(|a, b| name_order(&a.prefix, &b.prefix));
    let mut index: HashMap<String, usize> = services
        .iter()
        .enumerate()
        .map(|(i, s)| (s.prefix.to_ascii_lowercase(), i))
        .collect();
    for d in docs {
        let key = d.prefix.to_ascii_lowercase();
        let i = match index.get(&key) {
            Some(&i) => i,
            None => {
                // The JSON has no long service name.
                services.push(Service::new(&d.prefix, &d.prefix, Sources::JSON));
                index.insert(key, services.len() - 1);
                services.len() - 1
            }
        };
        apply_doc(&mut services[i], d.doc);
    }
    services.sort_by(|a, b| name_order(&a.prefix, &b.prefix));
    for s in &mut services {
        sort_service(s);
    }
    services
}

fn apply_doc(svc: &mut Service, doc: ServiceDoc) {
    svc.sources = svc.sources.union(Sources::JSON);
    if doc.version.is_some() {
        svc.json_version = doc.version;
    }

    // Service-level condition keys.
    let mut key_idx: HashMap<String, usize> = svc
        .condition_keys
        .iter()
        .enumerate()
        .map(|(i, k)| (k.name.to_ascii_lowercase(), i))
        .collect();
    for k in doc.condition_keys {
        let ty = (!k.types.is_empty()).then(|| k.types.join(", "));
        match key_idx.get(&k.name.to_ascii_lowercase()) {
            Some(&i) => {
                let e = &mut svc.condition_keys[i];
                e.sources = e.sources.union(Sources::JSON);
                match (&e.r#type, ty) {
                    (None, t) => e.r#type = t,
                    // The JSON types it otherwise: keep that too.
                    (Some(h), Some(t)) if *h != t => e.variants.push(Variant {
                        source: JSON_SOURCE.to_string(),
                        description: None,
                        r#type: Some(t),
                    }),
                    _ => {}
                }
            }
            None => {
                key_idx.insert(k.name.to_ascii_lowercase(), svc.condition_keys.len());
                svc.condition_keys.push(ConditionKey {
                    name: k.name,
                    description: None,
                    r#type: ty,
                    doc_url: None,
                    pages: Vec::new(),
                    sources: Sources::JSON,
                    variants: Vec::new(),
                });
            }
        }
    }

    // Resource types and their ARN formats and keys.
    let mut rt_idx: HashMap<String, usize> = svc
        .resource_types
        .iter()
        .enumerate()
        .map(|(i, r)| (r.name.to_ascii_lowercase(), i))
        .collect();
    for r in doc.resources {
        let i = match rt_idx.get(&r.name.to_ascii_lowercase()) {
            Some(&i) => {
                let e = &mut svc.resource_types[i];
                e.sources = e.sources.union(Sources::JSON);
                i
            }
            None => {
                rt_idx.insert(r.name.to_ascii_lowercase(), svc.resource_types.len());
                svc.resource_types.push(ResourceType {
                    name: r.name.clone(),
                    doc_url: None,
                    arns: Vec::new(),
                    condition_keys: Vec::new(),
                    pages: Vec::new(),
                    sources: Sources::JSON,
                });
                svc.resource_types.len() - 1
            }
        };
        let e = &mut svc.resource_types[i];
        for arn in r.arn_formats {
            match e.arns.iter_mut().find(|x| x.arn == arn) {
                Some(x) => x.sources = x.sources.union(Sources::JSON),
                None => e.arns.push(ArnFormat {
                    arn,
                    sources: Sources::JSON,
                }),
            }
        }
        merge_keys(&mut e.condition_keys, json_keys(&r.condition_keys));
    }

    // Actions.
    let mut act_idx: HashMap<String, usize> = svc
        .actions
        .iter()
        .enumerate()
        .map(|(i, a)| (a.name.to_ascii_lowercase(), i))
        .collect();
    for a in doc.actions {
        let ann = annotations_of(&a);
        let rows: Vec<ActionResource> = a
            .resources
            .iter()
            .map(|r| ActionResource {
                name: r.name.clone(),
                // The JSON does not say which resource types are required.
                required: false,
                condition_keys: json_keys(&r.condition_keys),
                dependent_actions: Vec::new(),
                sources: Sources::JSON,
            })
            .collect();
        let keys = json_keys(&a.action_condition_keys);
        let i = match act_idx.get(&a.name.to_ascii_lowercase()) {
            Some(&i) => i,
            None => {
                let mut n = Action::new(a.name.clone());
                // Only the JSON states it (the union below adds JSON).
                n.sources = Sources::NONE;
                act_idx.insert(a.name.to_ascii_lowercase(), svc.actions.len());
                svc.actions.push(n);
                svc.actions.len() - 1
            }
        };
        let e = &mut svc.actions[i];
        e.sources = e.sources.union(Sources::JSON);
        if ann.is_some() {
            e.annotations = ann;
        }
        if e.access_level.is_none() {
            e.access_level = ann.map(|x| access_level_from(&x).to_string());
        }
        e.supported_by.extend(a.supported_by);
        for row in rows {
            match e
                .resource_types
                .iter_mut()
                .find(|x| x.name.eq_ignore_ascii_case(&row.name))
            {
                Some(x) => {
                    x.sources = x.sources.union(Sources::JSON);
                    merge_keys(&mut x.condition_keys, row.condition_keys);
                }
                None => e.resource_types.push(row),
            }
        }
        merge_keys(&mut e.condition_keys, keys);
    }

    // Operations (merged with the HTML operations table by name).
    for op in doc.operations {
        let mut o = Operation {
            name: op.name,
            actions: Vec::new(),
            sdk: Vec::new(),
            sources: Sources::JSON,
        };
        for aa in &op.authorized_actions {
            let oa = OperationAction {
                service: aa.service.clone(),
                action: aa.name.clone(),
                condition_keys: aa.context_keys(),
                context: aa.context_values(),
                access_level: None,
                sources: Sources::JSON,
            };
            match o.actions.iter_mut().find(|x| {
                x.service.eq_ignore_ascii_case(&oa.service)
                    && x.action.eq_ignore_ascii_case(&oa.action)
            }) {
                Some(x) => {
                    for k in oa.condition_keys {
                        if !x.condition_keys.contains(&k) {
                            x.condition_keys.push(k);
                        }
                    }
                    for (k, vals) in oa.context {
                        let slot = x.context.entry(k).or_default();
                        for v in vals {
                            if !slot.contains(&v) {
                                slot.push(v);
                            }
                        }
                    }
                }
                None => o.actions.push(oa),
            }
        }
        for s in op.sdk {
            let m = SdkMethod {
                package: s.package,
                client: s.name,
                method: s.method,
            };
            if !o.sdk.contains(&m) {
                o.sdk.push(m);
            }
        }
        merge_operation(&mut svc.operations, o);
    }
    for op in &mut svc.operations {
        op.sdk.sort();
    }
}

// ---------------------------------------------------------------------------
// The cross-check.
// ---------------------------------------------------------------------------

/// What kind of disagreement a [`Difference`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DiffKind {
    /// A service prefix only one source has.
    Service,
    /// An action only one source lists.
    Action,
    /// A service resource type only one source defines.
    ResourceType,
    /// An ARN format of a resource type both define, in one source only.
    ArnFormat,
    /// A service condition key only one source defines.
    ConditionKey,
    /// A condition key of a resource type (both define), in one source only.
    ResourceTypeConditionKey,
    /// A resource type of an action (both list), in one source only.
    ActionResourceType,
    /// A condition key of an action (both list), in one source only, at
    /// any level (action or resource-type row).
    ActionConditionKey,
    /// A condition key both sources give an action, placed differently
    /// (action level vs a resource-type row).
    ConditionKeyPlacement,
    /// The HTML access level disagrees with the JSON annotations.
    AccessLevel,
    /// A condition key's type differs between the JSON and a page, or
    /// between two pages of a shared prefix.
    ConditionKeyType,
}

impl DiffKind {
    /// Every kind, in the order summaries list them.
    pub const ALL: [DiffKind; 11] = [
        DiffKind::Service,
        DiffKind::Action,
        DiffKind::ResourceType,
        DiffKind::ArnFormat,
        DiffKind::ConditionKey,
        DiffKind::ResourceTypeConditionKey,
        DiffKind::ActionResourceType,
        DiffKind::ActionConditionKey,
        DiffKind::ConditionKeyPlacement,
        DiffKind::AccessLevel,
        DiffKind::ConditionKeyType,
    ];

    /// A kind by its name (`arn_format`).
    pub fn parse(s: &str) -> Option<DiffKind> {
        DiffKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            DiffKind::Service => "service",
            DiffKind::Action => "action",
            DiffKind::ResourceType => "resource_type",
            DiffKind::ArnFormat => "arn_format",
            DiffKind::ConditionKey => "condition_key",
            DiffKind::ResourceTypeConditionKey => "resource_type_condition_key",
            DiffKind::ActionResourceType => "action_resource_type",
            DiffKind::ActionConditionKey => "action_condition_key",
            DiffKind::ConditionKeyPlacement => "condition_key_placement",
            DiffKind::AccessLevel => "access_level",
            DiffKind::ConditionKeyType => "condition_key_type",
        }
    }
}

/// One disagreement between the HTML pages and the JSON reference. Every
/// field is always present (null when it does not apply).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Difference {
    pub kind: DiffKind,
    pub prefix: String,
    /// The action concerned (action-level kinds).
    pub action: Option<String>,
    /// The resource type concerned (ARN formats, resource-type keys,
    /// action resource types).
    pub resource_type: Option<String>,
    /// What differs: the action, resource type, ARN, key name, or (for
    /// `access_level`) the action name.
    pub item: String,
    /// `html` or `json` when the item is in one source only.
    pub only_in: Option<String>,
    /// What the HTML says, for value differences (placement, access level).
    pub html: Option<String>,
    /// What the JSON says, for value differences.
    pub json: Option<String>,
}

/// Differences counted by kind: the totals (no prefix) first, then per
/// prefix, each in [`DiffKind::ALL`]'s order.
pub fn count_by_kind(diffs: &[Difference]) -> Vec<(Option<String>, DiffKind, usize)> {
    let mut totals: BTreeMap<DiffKind, usize> = BTreeMap::new();
    let mut per: BTreeMap<(String, DiffKind), usize> = BTreeMap::new();
    for d in diffs {
        *totals.entry(d.kind).or_default() += 1;
        *per.entry((d.prefix.clone(), d.kind)).or_default() += 1;
    }
    totals
        .into_iter()
        .map(|(k, n)| (None, k, n))
        .chain(per.into_iter().map(|((p, k), n)| (Some(p), k, n)))
        .collect()
}

fn only(kind: DiffKind, prefix: &str, item: &str, src: Sources) -> Difference {
    Difference {
        kind,
        prefix: prefix.to_string(),
        action: None,
        resource_type: None,
        item: item.to_string(),
        only_in: Some(src.as_str().to_string()),
        html: None,
        json: None,
    }
}

fn one_sided(s: Sources) -> bool {
    s == Sources::HTML || s == Sources::JSON
}

/// [`crosscheck`] of the services among `services` whose prefix is one of
/// `prefixes` (any case; none: every service), only the differences of
/// `kind` when given.
pub fn crosscheck_selected(
    mut services: Vec<Service>,
    prefixes: &[String],
    kind: Option<DiffKind>,
) -> Vec<Difference> {
    if !prefixes.is_empty() {
        services.retain(|s| prefixes.iter().any(|p| p.eq_ignore_ascii_case(&s.prefix)));
    }
    let mut diffs = crosscheck(&services);
    if let Some(k) = kind {
        diffs.retain(|d| d.kind == k);
    }
    diffs
}

/// Every disagreement between the two sources in reconciled `services`,
/// sorted by prefix, kind, action, resource type, item.
pub fn crosscheck(services: &[Service]) -> Vec<Difference> {
    let mut out = Vec::new();
    for s in services {
        if s.sources != Sources::BOTH {
            out.push(only(DiffKind::Service, &s.prefix, &s.prefix, s.sources));
            continue;
        }
        let p = s.prefix.as_str();
        for r in &s.resource_types {
            if one_sided(r.sources) {
                out.push(only(DiffKind::ResourceType, p, &r.name, r.sources));
                continue;
            }
            for a in &r.arns {
                if one_sided(a.sources) {
                    let mut d = only(DiffKind::ArnFormat, p, &a.arn, a.sources);
                    d.resource_type = Some(r.name.clone());
                    out.push(d);
                }
            }
            for k in &r.condition_keys {
                if one_sided(k.sources) {
                    let mut d = only(DiffKind::ResourceTypeConditionKey, p, &k.name, k.sources);
                    d.resource_type = Some(r.name.clone());
                    out.push(d);
                }
            }
        }
        for k in &s.condition_keys {
            if one_sided(k.sources) {
                out.push(only(DiffKind::ConditionKey, p, &k.name, k.sources));
            }
            if let Some(d) = key_type_disagreement(p, k) {
                out.push(d);
            }
        }
        for a in &s.actions {
            if one_sided(a.sources) {
                out.push(only(DiffKind::Action, p, &a.name, a.sources));
                continue;
            }
            check_action(p, a, &mut out);
        }
    }
    out.sort();
    out
}

/// The types the pages and the JSON give `k`, when they are not all one.
fn key_type_disagreement(p: &str, k: &ConditionKey) -> Option<Difference> {
    if k.variants.iter().all(|v| v.r#type.is_none()) {
        return None;
    }
    let json_variant = k
        .variants
        .iter()
        .find(|v| v.source == JSON_SOURCE)
        .and_then(|v| v.r#type.clone());
    // The merged type is the first page's when a page types the key.
    let mut html: Vec<String> = Vec::new();
    if k.sources.has_html() {
        html.extend(k.r#type.clone());
    }
    for v in &k.variants {
        if v.source != JSON_SOURCE {
            if let Some(t) = &v.r#type {
                if !html.contains(t) {
                    html.push(t.clone());
                }
            }
        }
    }
    let json = json_variant.or_else(|| k.sources.has_json().then(|| k.r#type.clone()).flatten());
    if html.len() <= 1 && (json.is_none() || html.first() == json.as_ref() || html.is_empty()) {
        return None;
    }
    Some(Difference {
        kind: DiffKind::ConditionKeyType,
        prefix: p.to_string(),
        action: None,
        resource_type: None,
        item: k.name.clone(),
        only_in: None,
        html: Some(html.join(", ")),
        json,
    })
}

fn check_action(p: &str, a: &Action, out: &mut Vec<Difference>) {
    let with_action = |mut d: Difference| {
        d.action = Some(a.name.clone());
        d
    };
    for r in &a.resource_types {
        if one_sided(r.sources) {
            let mut d = with_action(only(DiffKind::ActionResourceType, p, &r.name, r.sources));
            d.resource_type = Some(r.name.clone());
            out.push(d);
        }
    }
    // Where each source places each key: "action" or "resource:NAME".
    // Placement is compared only over the levels both sources have (the
    // action level and resource-type rows both list): a key on a row only
    // one source has is already reported with that row.
    type Places = (String, BTreeSet<String>, BTreeSet<String>, bool, bool);
    let mut places: BTreeMap<String, Places> = BTreeMap::new();
    let mut note = |k: &KeyRef, place: String, common: bool| {
        let e = places
            .entry(k.name.to_ascii_lowercase())
            .or_insert_with(|| {
                (
                    k.name.clone(),
                    BTreeSet::new(),
                    BTreeSet::new(),
                    false,
                    false,
                )
            });
        if k.sources.has_html() {
            e.3 = true;
            if common {
                e.1.insert(place.clone());
            }
        }
        if k.sources.has_json() {
            e.4 = true;
            if common {
                e.2.insert(place);
            }
        }
    };
    for k in &a.condition_keys {
        note(k, "action".to_string(), true);
    }
    for r in &a.resource_types {
        for k in &r.condition_keys {
            note(
                k,
                format!("resource:{}", r.name),
                r.sources == Sources::BOTH,
            );
        }
    }
    for (name, html, json, in_html, in_json) in places.into_values() {
        match (!in_html, !in_json) {
            (false, true) => out.push(with_action(only(
                DiffKind::ActionConditionKey,
                p,
                &name,
                Sources::HTML,
            ))),
            (true, false) => out.push(with_action(only(
                DiffKind::ActionConditionKey,
                p,
                &name,
                Sources::JSON,
            ))),
            (false, false) if html != json => {
                let join = |s: &BTreeSet<String>| s.iter().cloned().collect::<Vec<_>>().join(", ");
                out.push(Difference {
                    kind: DiffKind::ConditionKeyPlacement,
                    prefix: p.to_string(),
                    action: Some(a.name.clone()),
                    resource_type: None,
                    item: name,
                    only_in: None,
                    html: Some(join(&html)),
                    json: Some(join(&json)),
                });
            }
            _ => {}
        }
    }
    if let (Some(level), Some(ann)) = (&a.access_level, &a.annotations) {
        let implied = access_level_from(ann);
        if !level.eq_ignore_ascii_case(implied) {
            out.push(Difference {
                kind: DiffKind::AccessLevel,
                prefix: p.to_string(),
                action: Some(a.name.clone()),
                resource_type: None,
                item: a.name.clone(),
                only_in: None,
                html: Some(level.clone()),
                json: Some(format!("{implied} ({})", flags(ann))),
            });
        }
    }
}

/// The annotation flags that are set, e.g. `IsWrite, IsTaggingOnly`.
pub fn flags(a: &Annotations) -> String {
    let mut v = Vec::new();
    if a.is_list {
        v.push("IsList");
    }
    if a.is_write {
        v.push("IsWrite");
    }
    if a.is_permission_management {
        v.push("IsPermissionManagement");
    }
    if a.is_tagging_only {
        v.push("IsTaggingOnly");
    }
    if v.is_empty() {
        "no flags".to_string()
    } else {
        v.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn differences_counted_by_kind_totals_first() {
        let d = |kind: DiffKind, prefix: &str| Difference {
            kind,
            prefix: prefix.into(),
            action: None,
            resource_type: None,
            item: "x".into(),
            only_in: None,
            html: None,
            json: None,
        };
        let diffs = [
            d(DiffKind::AccessLevel, "s3"),
            d(DiffKind::Action, "sqs"),
            d(DiffKind::Action, "s3"),
            d(DiffKind::Action, "s3"),
        ];
        let all = |k, n| (None, k, n);
        let one = |p: &str, k, n| (Some(p.to_string()), k, n);
        assert_eq!(
            count_by_kind(&diffs),
            [
                all(DiffKind::Action, 3),
                all(DiffKind::AccessLevel, 1),
                one("s3", DiffKind::Action, 2),
                one("s3", DiffKind::AccessLevel, 1),
                one("sqs", DiffKind::Action, 1),
            ]
        );
        for k in DiffKind::ALL {
            assert_eq!(DiffKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(DiffKind::parse("actions"), None);
    }
    use crate::merge::merge_pages;

    // Constructed fixtures: one HTML page for prefix `demo` and JSON
    // documents for `DEMO` (same prefix, other case) and `jsononly`.
    fn html_page() -> Page {
        let mut get = Action::new("GetThing");
        get.access_level = Some("Read".into());
        get.resource_types = vec![ActionResource {
            name: "thing".into(),
            required: true,
            condition_keys: vec![KeyRef::html("demo:Flavour")],
            dependent_actions: vec![],
            sources: Sources::HTML,
        }];
        let mut tag = Action::new("TagThing");
        tag.access_level = Some("Write".into());
        Page {
            file: "list_demo.html".into(),
            service_name: "Demo Service".into(),
            prefix: "demo".into(),
            url: None,
            sha256: "00".into(),
            layout: Layout::Classic,
            actions: vec![get, tag, Action::new("HtmlOnly")],
            resource_types: vec![ResourceType {
                name: "thing".into(),
                doc_url: None,
                arns: vec![ArnFormat {
                    arn: "arn:${Partition}:demo:::thing/${Id}".into(),
                    sources: Sources::HTML,
                }],
                condition_keys: vec![],
                pages: vec![],
                sources: Sources::HTML,
            }],
            condition_keys: vec![ConditionKey {
                name: "demo:Flavour".into(),
                description: Some("The flavour".into()),
                r#type: Some("String".into()),
                doc_url: None,
                pages: vec![],
                sources: Sources::HTML,
                variants: vec![],
            }],
            operations: vec![Operation {
                name: "GetThing".into(),
                actions: vec![OperationAction {
                    service: "demo".into(),
                    action: "GetThing".into(),
                    condition_keys: vec![],
                    context: Default::default(),
                    access_level: Some("Read".into()),
                    sources: Sources::HTML,
                }],
                sdk: vec![],
                sources: Sources::HTML,
            }],
            warnings: vec![],
        }
    }

    fn doc(prefix: &str, json: &str) -> JsonDocument {
        JsonDocument {
            prefix: prefix.into(),
            sha256: "ff".into(),
            doc: serde_json::from_str(json).unwrap(),
        }
    }

    const DEMO: &str = r#"{
      "Name": "DEMO", "Version": "v1.4",
      "Actions": [
        {"Name": "getthing", "ActionConditionKeys": ["demo:Flavour"],
         "Annotations": {"Properties": {"IsList": false, "IsPermissionManagement": false, "IsTaggingOnly": false, "IsWrite": false}},
         "Resources": [{"Name": "thing"}, {"Name": "other"}],
         "SupportedBy": {"IAM Action Last Accessed": true}},
        {"Name": "TagThing",
         "Annotations": {"Properties": {"IsList": false, "IsPermissionManagement": false, "IsTaggingOnly": true, "IsWrite": true}}},
        {"Name": "JsonOnly",
         "Annotations": {"Properties": {"IsList": true, "IsPermissionManagement": false, "IsTaggingOnly": false, "IsWrite": false}}}
      ],
      "Resources": [
        {"Name": "thing", "ARNFormats": ["arn:${Partition}:demo:::thing/${Id}", "arn:${Partition}:demo:::thing2/${Id}"]},
        {"Name": "other", "ARNFormats": ["arn:${Partition}:demo:::other/${Id}"]}
      ],
      "ConditionKeys": [{"Name": "demo:Flavour", "Types": ["String"]}, {"Name": "demo:New", "Types": ["Bool"]}],
      "Operations": [
        {"Name": "GetThing", "AuthorizedActions": [{"Name": "GetThing", "Service": "demo"},
            {"Name": "PassRole", "Service": "iam", "Context": {"iam:PassedToService": ["demo.amazonaws.com"]}}],
         "SDK": [{"Name": "demo", "Method": "get_thing", "Package": "Boto3"}]},
        {"Name": "ListThings", "AuthorizedActions": [{"Name": "JsonOnly", "Service": "demo"}], "SDK": []}
      ]
    }"#;

    const JSON_ONLY: &str = r#"{
      "Name": "jsononly",
      "Actions": [
        {"Name": "SetPolicy", "Annotations": {"Properties": {"IsList": false, "IsPermissionManagement": true, "IsTaggingOnly": false, "IsWrite": true}},
         "Resources": [{"Name": "box", "ConditionKeys": ["aws:ResourceTag/${TagKey}"]}]},
        {"Name": "NoAnnotations"}
      ],
      "Resources": [{"Name": "box", "ARNFormats": ["arn:${Partition}:jsononly:${Region}:${Account}:box/${Id}"]}],
      "Version": "v1.1"
    }"#;

    fn reconciled() -> Vec<Service> {
        reconcile(
            merge_pages(vec![html_page()]),
            vec![doc("jsononly", JSON_ONLY), doc("DEMO", DEMO)],
        )
    }

    #[test]
    fn rows_in_both_sources_are_linked_not_duplicated() {
        let out = reconciled();
        assert_eq!(out.len(), 2);
        let s = &out[0];
        assert_eq!(s.prefix, "demo");
        assert_eq!(s.sources, Sources::BOTH);
        assert_eq!(s.json_version.as_deref(), Some("v1.4"));
        let names: Vec<_> = s.actions.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["GetThing", "HtmlOnly", "JsonOnly", "TagThing"]);
        let get = &s.actions[0];
        assert_eq!(get.sources, Sources::BOTH);
        assert_eq!(get.access_level.as_deref(), Some("Read"));
        assert!(get.annotations.is_some());
        assert_eq!(
            get.supported_by.get("IAM Action Last Accessed"),
            Some(&true)
        );
        // thing: both, required as the HTML says; other: JSON only, not required.
        assert_eq!(get.resource_types.len(), 2);
        assert_eq!(get.resource_types[0].sources, Sources::BOTH);
        assert!(get.resource_types[0].required);
        assert_eq!(get.resource_types[1].name, "other");
        assert_eq!(get.resource_types[1].sources, Sources::JSON);
        assert!(!get.resource_types[1].required);
        // The HTML has the key on the resource row, the JSON at action level:
        // both are recorded where each source puts them.
        assert_eq!(
            get.resource_types[0].condition_keys,
            [KeyRef::html("demo:Flavour")]
        );
        assert_eq!(
            get.condition_keys,
            [KeyRef {
                name: "demo:Flavour".into(),
                sources: Sources::JSON
            }]
        );
        assert_eq!(s.actions[1].sources, Sources::HTML);
        let j = &s.actions[2];
        assert_eq!(j.sources, Sources::JSON);
        assert_eq!(j.access_level.as_deref(), Some("List"));

        let thing = &s.resource_types[1];
        assert_eq!(thing.name, "thing");
        assert_eq!(thing.sources, Sources::BOTH);
        assert_eq!(thing.arns[0].sources, Sources::BOTH);
        assert_eq!(thing.arns[1].sources, Sources::JSON);
        assert_eq!(s.resource_types[0].sources, Sources::JSON);

        assert_eq!(s.condition_keys[0].sources, Sources::BOTH);
        assert_eq!(
            s.condition_keys[0].description.as_deref(),
            Some("The flavour")
        );
        assert_eq!(s.condition_keys[1].sources, Sources::JSON);
        assert_eq!(s.condition_keys[1].r#type.as_deref(), Some("Bool"));

        let op = &s.operations[0];
        assert_eq!(op.name, "GetThing");
        assert_eq!(op.sources, Sources::BOTH);
        assert_eq!(op.actions[0].sources, Sources::BOTH);
        assert_eq!(op.actions[1].service, "iam");
        assert_eq!(op.actions[1].sources, Sources::JSON);
        assert_eq!(op.actions[1].condition_keys, ["iam:PassedToService"]);
        assert_eq!(op.sdk[0].method, "get_thing");
        assert_eq!(s.operations[1].sources, Sources::JSON);
    }

    #[test]
    fn a_prefix_without_html_becomes_a_json_only_service() {
        let out = reconciled();
        let s = &out[1];
        assert_eq!(s.prefix, "jsononly");
        assert_eq!(s.sources, Sources::JSON);
        assert!(s.pages.is_empty());
        assert_eq!(s.json_version.as_deref(), Some("v1.1"));
        let set = &s.actions[1];
        assert_eq!(set.name, "SetPolicy");
        assert_eq!(set.sources, Sources::JSON);
        assert_eq!(set.access_level.as_deref(), Some("Permissions management"));
        assert_eq!(set.resource_types[0].sources, Sources::JSON);
        assert_eq!(
            set.resource_types[0].condition_keys[0].sources,
            Sources::JSON
        );
        // No annotations: no access level is made up.
        assert_eq!(s.actions[0].access_level, None);
        assert_eq!(s.resource_types[0].sources, Sources::JSON);
    }

    #[test]
    fn result_does_not_depend_on_document_order() {
        let a = reconcile(
            merge_pages(vec![html_page()]),
            vec![doc("DEMO", DEMO), doc("jsononly", JSON_ONLY)],
        );
        assert_eq!(a, reconciled());
        assert_eq!(
            serde_json::to_string(&a).unwrap(),
            serde_json::to_string(&reconciled()).unwrap()
        );
    }

    #[test]
    fn access_level_follows_the_flag_priority() {
        let mut a = Annotations::default();
        assert_eq!(access_level_from(&a), "Read");
        a.is_list = true;
        assert_eq!(access_level_from(&a), "List");
        a.is_write = true;
        assert_eq!(access_level_from(&a), "Write");
        a.is_tagging_only = true;
        assert_eq!(access_level_from(&a), "Tagging");
        a.is_permission_management = true;
        assert_eq!(access_level_from(&a), "Permissions management");
    }

    #[test]
    fn crosscheck_selected_keeps_the_prefixes_and_kind_asked() {
        let all = crosscheck(&reconciled());
        assert_eq!(crosscheck_selected(reconciled(), &[], None), all);
        let demo = crosscheck_selected(reconciled(), &["demo".into()], None);
        assert!(!demo.is_empty());
        assert!(demo.iter().all(|d| d.prefix.eq_ignore_ascii_case("demo")));
        assert_eq!(
            demo.len(),
            all.iter().filter(|d| d.prefix != "jsononly").count()
        );
        let actions = crosscheck_selected(reconciled(), &[], Some(DiffKind::Action));
        assert_eq!(actions.len(), 2);
        assert!(actions.iter().all(|d| d.kind == DiffKind::Action));
        assert!(crosscheck_selected(reconciled(), &["nope".into()], None).is_empty());
    }

    #[test]
    fn crosscheck_reports_every_kind_of_difference() {
        let diffs = crosscheck(&reconciled());
        let has =
            |kind: DiffKind, item: &str| diffs.iter().any(|d| d.kind == kind && d.item == item);
        assert!(has(DiffKind::Service, "jsononly"));
        assert!(has(DiffKind::Action, "HtmlOnly"));
        assert!(has(DiffKind::Action, "JsonOnly"));
        assert!(has(DiffKind::ResourceType, "other"));
        assert!(has(
            DiffKind::ArnFormat,
            "arn:${Partition}:demo:::thing2/${Id}"
        ));
        assert!(has(DiffKind::ConditionKey, "demo:New"));
        assert!(has(DiffKind::ActionResourceType, "other"));
        let placement = diffs
            .iter()
            .find(|d| d.kind == DiffKind::ConditionKeyPlacement)
            .unwrap();
        assert_eq!(placement.action.as_deref(), Some("GetThing"));
        assert_eq!(placement.html.as_deref(), Some("resource:thing"));
        assert_eq!(placement.json.as_deref(), Some("action"));
        // TagThing: the HTML says Write, the annotations say Tagging.
        let al = diffs
            .iter()
            .find(|d| d.kind == DiffKind::AccessLevel)
            .unwrap();
        assert_eq!(al.item, "TagThing");
        assert_eq!(al.html.as_deref(), Some("Write"));
        assert_eq!(al.json.as_deref(), Some("Tagging (IsWrite, IsTaggingOnly)"));
        // Nothing about jsononly beyond the service itself.
        assert_eq!(diffs.iter().filter(|d| d.prefix == "jsononly").count(), 1);
        let mut sorted = diffs.clone();
        sorted.sort();
        assert_eq!(diffs, sorted);
    }
}
