//! Folding parsed pages into one [`Service`] per prefix.
//!
//! Several pages can share a prefix (`ses` has four, `aws-marketplace`
//! eleven). The prefix's data is the union of its pages, as AWS's JSON does
//! it: an action named on two pages keeps the resource types of both, and
//! every action, resource type and condition key remembers its pages.
//!
//! # The merged value of an action listed on several pages
//!
//! Pages are merged in file-name order, so the rule is deterministic:
//!
//! - **access level** and **description**: the first page, by file name,
//!   that gives one (the JSON reference fills in what no page gives);
//! - **permission-only**: true if any page lists the action in its
//!   permission-only table;
//! - resource types, keys and dependent actions: the union.
//!
//! What each page says is kept beside the merged value, in
//! [`Action::per_page`], for every action listed on two or more pages
//! (and, for descriptions only, as [`Action::variants`] where they differ).

use crate::model::*;
use std::collections::BTreeMap;

/// Merge pages into services, sorted by prefix; within a service, actions,
/// resource types, condition keys and operations are sorted by name
/// (case-insensitively, ties broken by the exact spelling), so that the
/// same pages always give the same result whatever order they come in.
pub fn merge_pages(mut pages: Vec<Page>) -> Vec<Service> {
    pages.sort_by(|a, b| a.file.cmp(&b.file));
    let mut by_prefix: BTreeMap<String, Service> = BTreeMap::new();
    for page in pages {
        let key = page.prefix.to_ascii_lowercase();
        let svc = by_prefix
            .entry(key)
            .or_insert_with(|| Service::new(&page.prefix, &page.service_name, Sources::HTML));
        merge_page(svc, page);
    }
    let mut out: Vec<Service> = by_prefix.into_values().collect();
    for s in &mut out {
        for a in &mut s.actions {
            // Per-page facts are kept only where two pages speak.
            if a.per_page.len() < 2 {
                a.per_page.clear();
            }
        }
        sort_service(s);
    }
    out
}

fn merge_page(svc: &mut Service, page: Page) {
    let file = page.file.clone();
    svc.pages.push(PageRef {
        file: page.file,
        service_name: page.service_name,
        url: page.url,
        sha256: page.sha256,
        layout: page.layout,
    });
    for mut a in page.actions {
        push_unique(&mut a.pages, &file);
        let facts = PageFacts {
            page: file.clone(),
            access_level: a.access_level.clone(),
            description: a.description.clone(),
            permission_only: a.permission_only,
        };
        a.per_page.clear();
        let at = match svc
            .actions
            .iter()
            .position(|x| x.name.eq_ignore_ascii_case(&a.name))
        {
            None => {
                svc.actions.push(a);
                svc.actions.len() - 1
            }
            Some(i) => {
                merge_action(&mut svc.actions[i], a);
                i
            }
        };
        // A page naming an action twice: its first row speaks for it.
        let per_page = &mut svc.actions[at].per_page;
        if !per_page.iter().any(|f| f.page == facts.page) {
            per_page.push(facts);
        }
    }
    for mut r in page.resource_types {
        push_unique(&mut r.pages, &file);
        match svc
            .resource_types
            .iter_mut()
            .find(|x| x.name.eq_ignore_ascii_case(&r.name))
        {
            None => svc.resource_types.push(r),
            Some(existing) => {
                for arn in r.arns {
                    if !existing.arns.iter().any(|x| x.arn == arn.arn) {
                        existing.arns.push(arn);
                    }
                }
                merge_keys(&mut existing.condition_keys, r.condition_keys);
                push_unique(&mut existing.pages, &file);
                if existing.doc_url.is_none() {
                    existing.doc_url = r.doc_url;
                }
            }
        }
    }
    for mut k in page.condition_keys {
        push_unique(&mut k.pages, &file);
        match svc
            .condition_keys
            .iter_mut()
            .find(|x| x.name.eq_ignore_ascii_case(&k.name))
        {
            None => svc.condition_keys.push(k),
            Some(existing) => {
                push_unique(&mut existing.pages, &file);
                // What this page says differently is kept, with the page.
                let mut v = Variant {
                    source: file.clone(),
                    description: None,
                    r#type: None,
                };
                match (&existing.description, k.description) {
                    (None, d) => existing.description = d,
                    (Some(e), Some(d)) if *e != d => v.description = Some(d),
                    _ => {}
                }
                match (&existing.r#type, k.r#type) {
                    (None, t) => existing.r#type = t,
                    (Some(e), Some(t)) if *e != t => v.r#type = Some(t),
                    _ => {}
                }
                if v.description.is_some() || v.r#type.is_some() {
                    existing.variants.push(v);
                }
            }
        }
    }
    for op in page.operations {
        merge_operation(&mut svc.operations, op);
    }
}

/// Add `op` to `ops`, merging with an operation of the same name (compared
/// case-insensitively) and joining sources.
pub fn merge_operation(ops: &mut Vec<Operation>, op: Operation) {
    match ops
        .iter_mut()
        .find(|x| x.name.eq_ignore_ascii_case(&op.name))
    {
        None => ops.push(op),
        Some(existing) => {
            existing.sources = existing.sources.union(op.sources);
            for a in op.actions {
                match existing.actions.iter_mut().find(|x| {
                    x.service.eq_ignore_ascii_case(&a.service)
                        && x.action.eq_ignore_ascii_case(&a.action)
                }) {
                    None => existing.actions.push(a),
                    Some(e) => {
                        e.sources = e.sources.union(a.sources);
                        for k in a.condition_keys {
                            push_unique(&mut e.condition_keys, &k);
                        }
                        for (k, vals) in a.context {
                            let slot = e.context.entry(k).or_default();
                            for v in vals {
                                push_unique(slot, &v);
                            }
                        }
                        if e.access_level.is_none() {
                            e.access_level = a.access_level;
                        }
                    }
                }
            }
            for s in op.sdk {
                if !existing.sdk.contains(&s) {
                    existing.sdk.push(s);
                }
            }
        }
    }
}

fn merge_action(existing: &mut Action, a: Action) {
    for p in &a.pages {
        push_unique(&mut existing.pages, p);
    }
    match (&existing.description, a.description) {
        (None, d) => existing.description = d,
        (Some(e), Some(d)) if *e != d => {
            // Another page of the prefix describes it differently: keep
            // that description with its page.
            if let Some(page) = a.pages.first() {
                existing.variants.push(Variant {
                    source: page.clone(),
                    description: Some(d),
                    r#type: None,
                });
            }
        }
        _ => {}
    }
    if existing.access_level.is_none() {
        existing.access_level = a.access_level;
    }
    if existing.doc_url.is_none() {
        existing.doc_url = a.doc_url;
    }
    existing.permission_only |= a.permission_only;
    for r in a.resource_types {
        match existing
            .resource_types
            .iter_mut()
            .find(|x| x.name.eq_ignore_ascii_case(&r.name))
        {
            None => existing.resource_types.push(r),
            Some(e) => {
                e.required |= r.required;
                merge_keys(&mut e.condition_keys, r.condition_keys);
                for d in r.dependent_actions {
                    push_unique(&mut e.dependent_actions, &d);
                }
            }
        }
    }
    merge_keys(&mut existing.condition_keys, a.condition_keys);
    for d in a.dependent_actions {
        push_unique(&mut existing.dependent_actions, &d);
    }
    for s in a.scenarios {
        if !existing.scenarios.iter().any(|x| x.name == s.name) {
            existing.scenarios.push(s);
        }
    }
}

/// Union `new` into `keys`, matching names case-insensitively and joining
/// their sources.
pub fn merge_keys(keys: &mut Vec<KeyRef>, new: Vec<KeyRef>) {
    for k in new {
        match keys
            .iter_mut()
            .find(|x| x.name.eq_ignore_ascii_case(&k.name))
        {
            None => keys.push(k),
            Some(e) => e.sources = e.sources.union(k.sources),
        }
    }
}

fn push_unique(v: &mut Vec<String>, s: &str) {
    if !v.iter().any(|x| x == s) {
        v.push(s.to_string());
    }
}

/// Canonical order of names: case-insensitive, ties by exact spelling.
pub fn name_order(a: &str, b: &str) -> std::cmp::Ordering {
    a.to_ascii_lowercase()
        .cmp(&b.to_ascii_lowercase())
        .then_with(|| a.cmp(b))
}

/// Put a service into its canonical order (see [`merge_pages`]). Resource
/// types of an action keep page order: it is meaningful (required first).
pub fn sort_service(s: &mut Service) {
    s.pages.sort_by(|a, b| a.file.cmp(&b.file));
    s.actions.sort_by(|a, b| name_order(&a.name, &b.name));
    s.resource_types
        .sort_by(|a, b| name_order(&a.name, &b.name));
    s.condition_keys
        .sort_by(|a, b| name_order(&a.name, &b.name));
    s.operations.sort_by(|a, b| name_order(&a.name, &b.name));
    for a in &mut s.actions {
        a.pages.sort();
    }
    for r in &mut s.resource_types {
        r.pages.sort();
    }
    for k in &mut s.condition_keys {
        k.pages.sort();
        k.variants.sort();
    }
    for a in &mut s.actions {
        a.variants.sort();
        a.per_page.sort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(file: &str, prefix: &str, actions: Vec<Action>) -> Page {
        Page {
            file: file.into(),
            service_name: format!("Service of {file}"),
            prefix: prefix.into(),
            url: None,
            sha256: "00".into(),
            layout: Layout::Classic,
            actions,
            resource_types: vec![],
            condition_keys: vec![],
            operations: vec![],
            warnings: vec![],
        }
    }

    fn action(name: &str, rts: &[&str]) -> Action {
        let mut a = Action::new(name);
        a.resource_types = rts
            .iter()
            .map(|r| ActionResource {
                name: r.to_string(),
                required: true,
                condition_keys: vec![],
                dependent_actions: vec![],
                sources: Sources::HTML,
            })
            .collect();
        a
    }

    #[test]
    fn pages_sharing_a_prefix_are_unioned() {
        let p1 = page(
            "list_b.html",
            "apigateway",
            vec![action("GET", &["RestApi"])],
        );
        let p2 = page(
            "list_a.html",
            "apigateway",
            vec![action("get", &["Api", "RestApi"]), action("POST", &[])],
        );
        let out = merge_pages(vec![p1, p2]);
        assert_eq!(out.len(), 1);
        let s = &out[0];
        // The first page by file name gives the service name.
        assert_eq!(s.name, "Service of list_a.html");
        assert_eq!(s.actions.len(), 2);
        let get = &s.actions[0];
        assert_eq!(get.name, "get");
        let rts: Vec<_> = get.resource_types.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(rts, ["Api", "RestApi"]);
        assert_eq!(get.pages, ["list_a.html", "list_b.html"]);
    }

    #[test]
    fn each_page_keeps_its_facts_and_the_merged_value_follows_the_rule() {
        // Constructed: one action on two pages of a prefix, the pages
        // disagreeing on all three facts; a second action on one page.
        let mut on_b = action("ListViews", &[]);
        on_b.access_level = Some("Read".into());
        on_b.description = Some("Grants permission to list views (b)".into());
        on_b.permission_only = true;
        let mut on_a = action("listviews", &[]);
        on_a.access_level = Some("List".into());
        on_a.description = Some("Grants permission to list views (a)".into());
        let mut on_a_only = action("GetView", &[]);
        on_a_only.access_level = Some("Read".into());
        for order in [[0, 1], [1, 0]] {
            let pages = [
                page("list_b.html", "billing", vec![on_b.clone()]),
                page(
                    "list_a.html",
                    "billing",
                    vec![on_a.clone(), on_a_only.clone()],
                ),
            ];
            let out = merge_pages(order.iter().map(|&i| pages[i].clone()).collect());
            let s = &out[0];
            let get = &s.actions[0];
            assert_eq!(get.name, "GetView");
            assert!(get.per_page.is_empty(), "one page: nothing per page");
            let list = &s.actions[1];
            // The first page by file name that gives a value gives it;
            // permission-only is true if any page says so.
            assert_eq!(list.name, "listviews");
            assert_eq!(list.access_level.as_deref(), Some("List"));
            assert_eq!(
                list.description.as_deref(),
                Some("Grants permission to list views (a)")
            );
            assert!(list.permission_only);
            assert_eq!(
                list.per_page,
                [
                    PageFacts {
                        page: "list_a.html".into(),
                        access_level: Some("List".into()),
                        description: Some("Grants permission to list views (a)".into()),
                        permission_only: false,
                    },
                    PageFacts {
                        page: "list_b.html".into(),
                        access_level: Some("Read".into()),
                        description: Some("Grants permission to list views (b)".into()),
                        permission_only: true,
                    },
                ]
            );
        }
    }

    #[test]
    fn order_of_input_pages_does_not_matter() {
        let a = page("list_a.html", "x", vec![action("B", &[]), action("a", &[])]);
        let b = page("list_b.html", "y", vec![action("C", &["r"])]);
        assert_eq!(
            merge_pages(vec![a.clone(), b.clone()]),
            merge_pages(vec![b, a])
        );
    }
}
