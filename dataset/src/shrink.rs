//! What a dataset holds page by page and JSON document by document, and
//! what a new dataset lost against the one it would replace: the per-page
//! half of the publication guard (the per-source and per-prefix totals
//! live beside the command, in `iamref-query`'s `guard.rs`).
//!
//! Pure: manifests and services in, facts and losses out.
//!
//! A page's facts are the facts the merged services attribute to it: the
//! actions, resource types and condition keys listing the page in their
//! `pages`, and for its actions the descriptions, the required resource
//! types and the dependent actions. A JSON document's facts are the items
//! of its prefix that carry the JSON source: actions, resources, keys,
//! operations and the operation contexts (`iam:PassedToService`).
//!
//! The rule: every page and document of the data being replaced must be in
//! the new data, and keep at least as many of each fact. A page that is
//! missing, empty or shrunk is named with what it lost.

use crate::model::*;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// The facts one HTML page states.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PageFacts {
    pub actions: usize,
    pub resource_types: usize,
    pub keys: usize,
    pub descriptions: usize,
    pub required: usize,
    pub dependent: usize,
}

/// The facts one JSON service reference document states.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DocFacts {
    pub actions: usize,
    pub resources: usize,
    pub keys: usize,
    pub operations: usize,
    pub contexts: usize,
}

/// Facts per page file and per JSON document (by prefix, lowercase).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Inventory {
    pub pages: BTreeMap<String, PageFacts>,
    pub documents: BTreeMap<String, DocFacts>,
}

impl Inventory {
    /// The facts of a dataset. Every page and document the manifest lists
    /// is present, with zero facts if the services attribute none to it.
    pub fn of(manifest: &Manifest, services: &[Service]) -> Inventory {
        let mut inv = Inventory::default();
        for p in manifest.pages.keys() {
            inv.pages.entry(p.clone()).or_default();
        }
        for d in manifest.json_documents.keys() {
            inv.documents.entry(d.to_ascii_lowercase()).or_default();
        }
        for s in services {
            for p in &s.pages {
                inv.pages.entry(p.file.clone()).or_default();
            }
            for a in &s.actions {
                if a.sources.has_html() {
                    let rows = a
                        .resource_types
                        .iter()
                        .chain(a.scenarios.iter().flat_map(|x| x.resource_types.iter()))
                        .filter(|r| r.sources.has_html());
                    let (mut required, mut dependent) = (0, a.dependent_actions.len());
                    for r in rows {
                        required += usize::from(r.required);
                        dependent += r.dependent_actions.len();
                    }
                    for p in &a.pages {
                        let f = inv.pages.entry(p.clone()).or_default();
                        f.actions += 1;
                        let variant = a.variants.iter().find(|v| v.source == *p);
                        if variant.and_then(|v| v.description.as_ref()).is_some()
                            || a.description.as_deref().is_some_and(|d| !d.is_empty())
                        {
                            f.descriptions += 1;
                        }
                        f.required += required;
                        f.dependent += dependent;
                    }
                }
            }
            for r in &s.resource_types {
                if r.sources.has_html() {
                    for p in &r.pages {
                        inv.pages.entry(p.clone()).or_default().resource_types += 1;
                    }
                }
            }
            for k in &s.condition_keys {
                if k.sources.has_html() {
                    for p in &k.pages {
                        inv.pages.entry(p.clone()).or_default().keys += 1;
                    }
                }
            }
            if !s.sources.has_json() {
                continue;
            }
            let d = inv
                .documents
                .entry(s.prefix.to_ascii_lowercase())
                .or_default();
            d.actions += s.actions.iter().filter(|a| a.sources.has_json()).count();
            d.resources += s
                .resource_types
                .iter()
                .filter(|r| r.sources.has_json())
                .count();
            d.keys += s
                .condition_keys
                .iter()
                .filter(|k| k.sources.has_json())
                .count();
            for o in s.operations.iter().filter(|o| o.sources.has_json()) {
                d.operations += 1;
                d.contexts += o
                    .actions
                    .iter()
                    .filter(|a| a.sources.has_json())
                    .map(|a| a.context.len())
                    .sum::<usize>();
            }
        }
        inv
    }
}

fn lost(what: &[(&str, usize, usize)]) -> String {
    let mut s = String::new();
    for (name, o, n) in what {
        if n < o {
            if !s.is_empty() {
                s.push_str(", ");
            }
            let _ = write!(s, "{} {name} ({o}→{n})", o - n);
        }
    }
    s
}

fn had(what: &[(&str, usize, usize)]) -> String {
    what.iter()
        .filter(|(_, o, _)| *o > 0)
        .map(|(name, o, _)| format!("{o} {name}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Each page and JSON document of `old` that `new` lacks, left empty, or
/// holds fewer facts of some kind of, one line each, with what it lost.
pub fn losses(old: &Inventory, new: &Inventory) -> Vec<String> {
    let mut out = Vec::new();
    let zero = PageFacts::default();
    for (page, o) in &old.pages {
        if *o == zero {
            continue;
        }
        let n = new.pages.get(page);
        let m = n.copied().unwrap_or_default();
        let facts = [
            ("actions", o.actions, m.actions),
            ("resource types", o.resource_types, m.resource_types),
            ("condition keys", o.keys, m.keys),
            ("descriptions", o.descriptions, m.descriptions),
            ("required resource types", o.required, m.required),
            ("dependent actions", o.dependent, m.dependent),
        ];
        match n {
            None => out.push(format!("page {page}: missing; it had {}", had(&facts))),
            Some(m) if *m == zero => {
                out.push(format!("page {page}: empty; it had {}", had(&facts)))
            }
            Some(_) => {
                let l = lost(&facts);
                if !l.is_empty() {
                    out.push(format!("page {page}: shrunk; lost {l}"));
                }
            }
        }
    }
    let zero = DocFacts::default();
    for (prefix, o) in &old.documents {
        if *o == zero {
            continue;
        }
        let n = new.documents.get(prefix);
        let m = n.copied().unwrap_or_default();
        let facts = [
            ("actions", o.actions, m.actions),
            ("resources", o.resources, m.resources),
            ("condition keys", o.keys, m.keys),
            ("operations", o.operations, m.operations),
            ("operation contexts", o.contexts, m.contexts),
        ];
        let doc = format!("v1/{prefix}/{prefix}.json");
        match n {
            None => out.push(format!(
                "JSON document {doc}: missing; it had {}",
                had(&facts)
            )),
            Some(m) if *m == zero => out.push(format!(
                "JSON document {doc}: empty; it had {}",
                had(&facts)
            )),
            Some(_) => {
                let l = lost(&facts);
                if !l.is_empty() {
                    out.push(format!("JSON document {doc}: shrunk; lost {l}"));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    // Constructed data: one prefix, two pages, and its JSON document.
    fn dataset(drop_second_page: bool, drop_ops: bool) -> (Manifest, Vec<Service>) {
        let mut m = Manifest::default();
        m.pages.insert("list_demo.html".into(), "0".repeat(64));
        if !drop_second_page {
            m.pages.insert("list_demov2.html".into(), "1".repeat(64));
        }
        m.json_documents.insert("demo".into(), "2".repeat(64));
        let mut s = Service::new("demo", "Demo", Sources::BOTH);
        let mut a = Action::new("GetThing");
        a.description = Some("Grants permission to get a thing".into());
        a.pages = vec!["list_demo.html".into()];
        a.sources = Sources::BOTH;
        a.resource_types.push(ActionResource {
            name: "thing".into(),
            required: true,
            condition_keys: Vec::new(),
            dependent_actions: vec!["iam:PassRole".into()],
            sources: Sources::BOTH,
        });
        s.actions.push(a);
        if !drop_second_page {
            let mut b = Action::new("PutThing");
            b.description = Some("Grants permission to put a thing".into());
            b.pages = vec!["list_demov2.html".into()];
            b.sources = Sources::BOTH;
            s.actions.push(b);
        }
        if !drop_ops {
            let mut ctx = BTreeMap::new();
            ctx.insert(
                "iam:PassedToService".into(),
                vec!["demo.amazonaws.com".into()],
            );
            s.operations.push(Operation {
                name: "GetThing".into(),
                actions: vec![OperationAction {
                    service: "iam".into(),
                    action: "PassRole".into(),
                    condition_keys: Vec::new(),
                    context: ctx,
                    access_level: None,
                    sources: Sources::JSON,
                }],
                sdk: Vec::new(),
                sources: Sources::JSON,
            });
        }
        (m, vec![s])
    }

    #[test]
    fn same_data_loses_nothing() {
        let (m, s) = dataset(false, false);
        let inv = Inventory::of(&m, &s);
        assert_eq!(inv.pages["list_demo.html"].required, 1);
        assert_eq!(inv.pages["list_demo.html"].dependent, 1);
        assert_eq!(inv.documents["demo"].contexts, 1);
        assert!(losses(&inv, &inv).is_empty());
    }

    #[test]
    fn a_missing_page_of_a_shared_prefix_is_named() {
        let (m, s) = dataset(false, false);
        let (m2, s2) = dataset(true, false);
        let l = losses(&Inventory::of(&m, &s), &Inventory::of(&m2, &s2));
        assert_eq!(
            l,
            vec![
                "page list_demov2.html: missing; it had 1 actions, 1 descriptions".to_string(),
                "JSON document v1/demo/demo.json: shrunk; lost 1 actions (2→1)".to_string(),
            ]
        );
    }

    #[test]
    fn a_page_listed_but_without_facts_is_empty_and_sections_count() {
        let (m, s) = dataset(false, false);
        let (m2, mut s2) = dataset(false, true);
        s2[0].actions.retain(|a| a.name != "PutThing");
        let l = losses(&Inventory::of(&m, &s), &Inventory::of(&m2, &s2));
        assert!(
            l[0].starts_with("page list_demov2.html: empty; it had 1 actions"),
            "{l:?}"
        );
        assert!(
            l[1].contains("lost 1 actions (2→1), 1 operations (1→0), 1 operation contexts (1→0)"),
            "{l:?}"
        );
    }

    #[test]
    fn a_lost_required_flag_or_dependent_action_is_named() {
        let (m, s) = dataset(false, false);
        let mut s2 = s.clone();
        s2[0].actions[0].resource_types[0].required = false;
        s2[0].actions[0].resource_types[0].dependent_actions.clear();
        let l = losses(&Inventory::of(&m, &s), &Inventory::of(&m, &s2));
        assert_eq!(
            l,
            vec![
                "page list_demo.html: shrunk; lost 1 required resource types (1→0), 1 dependent actions (1→0)"
                    .to_string()
            ]
        );
    }
}
