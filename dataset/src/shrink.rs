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
//! Facts are compared by name (actions, resource types and keys compared
//! case-insensitively, as IAM does), not by count, so a page saved with
//! another page's content is seen losing its own. The rule: every page and
//! document of the data being replaced must be in the new data and keep
//! every fact it stated. A page that is missing, empty or shrunk is named
//! with what it lost (counts and the first few names, lowercase).

use crate::model::*;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

/// The facts one HTML page states, by name (lowercase), so that a page
/// whose content was replaced by another's is seen losing its own.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageFacts {
    pub actions: BTreeSet<String>,
    pub resource_types: BTreeSet<String>,
    pub keys: BTreeSet<String>,
    /// Actions described.
    pub descriptions: BTreeSet<String>,
    /// `action resource-type` pairs marked required.
    pub required: BTreeSet<String>,
    /// `action [resource-type] dependent-action` triples.
    pub dependent: BTreeSet<String>,
}

impl PageFacts {
    fn kinds(&self) -> [(&'static str, &BTreeSet<String>); 6] {
        [
            ("actions", &self.actions),
            ("resource types", &self.resource_types),
            ("condition keys", &self.keys),
            ("descriptions", &self.descriptions),
            ("required resource types", &self.required),
            ("dependent actions", &self.dependent),
        ]
    }
}

/// The facts one JSON service reference document states, by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DocFacts {
    pub actions: BTreeSet<String>,
    pub resources: BTreeSet<String>,
    pub keys: BTreeSet<String>,
    pub operations: BTreeSet<String>,
    /// `operation prefix:action key` triples of the operations' contexts.
    pub contexts: BTreeSet<String>,
}

impl DocFacts {
    fn kinds(&self) -> [(&'static str, &BTreeSet<String>); 5] {
        [
            ("actions", &self.actions),
            ("resources", &self.resources),
            ("condition keys", &self.keys),
            ("operations", &self.operations),
            ("operation contexts", &self.contexts),
        ]
    }
}

/// Facts per page file and per JSON document (by prefix, lowercase).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Inventory {
    pub pages: BTreeMap<String, PageFacts>,
    pub documents: BTreeMap<String, DocFacts>,
}

fn low(s: &str) -> String {
    s.to_ascii_lowercase()
}

impl Inventory {
    /// The facts of a dataset. Every page and document the manifest lists
    /// is present, with no facts if the services attribute none to it.
    pub fn of(manifest: &Manifest, services: &[Service]) -> Inventory {
        let mut inv = Inventory::default();
        for p in manifest.pages.keys() {
            inv.pages.entry(p.clone()).or_default();
        }
        for d in manifest.json_documents.keys() {
            inv.documents.entry(low(d)).or_default();
        }
        for s in services {
            for p in &s.pages {
                inv.pages.entry(p.file.clone()).or_default();
            }
            for a in s.actions.iter().filter(|a| a.sources.has_html()) {
                let name = low(&a.name);
                let rows: Vec<&ActionResource> = a
                    .resource_types
                    .iter()
                    .chain(a.scenarios.iter().flat_map(|x| x.resource_types.iter()))
                    .filter(|r| r.sources.has_html())
                    .collect();
                for p in &a.pages {
                    let f = inv.pages.entry(p.clone()).or_default();
                    f.actions.insert(name.clone());
                    let variant = a.variants.iter().find(|v| v.source == *p);
                    if variant.and_then(|v| v.description.as_ref()).is_some()
                        || a.description.as_deref().is_some_and(|d| !d.is_empty())
                    {
                        f.descriptions.insert(name.clone());
                    }
                    for d in &a.dependent_actions {
                        f.dependent.insert(format!("{name} {}", low(d)));
                    }
                    for r in &rows {
                        if r.required {
                            f.required.insert(format!("{name} {}", low(&r.name)));
                        }
                        for d in &r.dependent_actions {
                            f.dependent
                                .insert(format!("{name} {} {}", low(&r.name), low(d)));
                        }
                    }
                }
            }
            for r in s.resource_types.iter().filter(|r| r.sources.has_html()) {
                for p in &r.pages {
                    inv.pages
                        .entry(p.clone())
                        .or_default()
                        .resource_types
                        .insert(low(&r.name));
                }
            }
            for k in s.condition_keys.iter().filter(|k| k.sources.has_html()) {
                for p in &k.pages {
                    inv.pages
                        .entry(p.clone())
                        .or_default()
                        .keys
                        .insert(low(&k.name));
                }
            }
            if !s.sources.has_json() {
                continue;
            }
            let d = inv.documents.entry(low(&s.prefix)).or_default();
            d.actions.extend(
                s.actions
                    .iter()
                    .filter(|a| a.sources.has_json())
                    .map(|a| low(&a.name)),
            );
            d.resources.extend(
                s.resource_types
                    .iter()
                    .filter(|r| r.sources.has_json())
                    .map(|r| low(&r.name)),
            );
            d.keys.extend(
                s.condition_keys
                    .iter()
                    .filter(|k| k.sources.has_json())
                    .map(|k| low(&k.name)),
            );
            for o in s.operations.iter().filter(|o| o.sources.has_json()) {
                let op = low(&o.name);
                for a in o.actions.iter().filter(|a| a.sources.has_json()) {
                    for k in a.context.keys() {
                        d.contexts.insert(format!(
                            "{op} {}:{} {}",
                            low(&a.service),
                            low(&a.action),
                            low(k)
                        ));
                    }
                }
                d.operations.insert(op);
            }
        }
        inv
    }
}

/// `N KIND (O→M: e.g. a, b, c)` for each kind `new` lost names of.
fn lost(old: &[(&str, &BTreeSet<String>)], new: &[(&str, &BTreeSet<String>)]) -> String {
    let mut s = String::new();
    for ((name, o), (_, n)) in old.iter().zip(new) {
        let gone: Vec<&String> = o.difference(n).collect();
        if gone.is_empty() {
            continue;
        }
        if !s.is_empty() {
            s.push_str(", ");
        }
        let eg: Vec<&str> = gone.iter().take(3).map(|g| g.as_str()).collect();
        let _ = write!(
            s,
            "{} {name} ({}→{}; e.g. {}{})",
            gone.len(),
            o.len(),
            n.len(),
            eg.join(", "),
            if gone.len() > 3 { ", …" } else { "" }
        );
    }
    s
}

fn had(what: &[(&str, &BTreeSet<String>)]) -> String {
    what.iter()
        .filter(|(_, o)| !o.is_empty())
        .map(|(name, o)| format!("{} {name}", o.len()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Each page and JSON document of `old` that `new` lacks, left empty, or
/// lost facts of (by name), one line each, with what it lost.
pub fn losses(old: &Inventory, new: &Inventory) -> Vec<String> {
    let mut out = Vec::new();
    let none = PageFacts::default();
    for (page, o) in &old.pages {
        if *o == none {
            continue;
        }
        match new.pages.get(page) {
            None => out.push(format!("page {page}: missing; it had {}", had(&o.kinds()))),
            Some(m) if *m == none => {
                out.push(format!("page {page}: empty; it had {}", had(&o.kinds())))
            }
            Some(m) => {
                let l = lost(&o.kinds(), &m.kinds());
                if !l.is_empty() {
                    out.push(format!("page {page}: shrunk; lost {l}"));
                }
            }
        }
    }
    let none = DocFacts::default();
    for (prefix, o) in &old.documents {
        if *o == none {
            continue;
        }
        let doc = format!("v1/{prefix}/{prefix}.json");
        match new.documents.get(prefix) {
            None => out.push(format!(
                "JSON document {doc}: missing; it had {}",
                had(&o.kinds())
            )),
            Some(m) if *m == none => out.push(format!(
                "JSON document {doc}: empty; it had {}",
                had(&o.kinds())
            )),
            Some(m) => {
                let l = lost(&o.kinds(), &m.kinds());
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
        assert_eq!(inv.pages["list_demo.html"].required.len(), 1);
        assert_eq!(inv.pages["list_demo.html"].dependent.len(), 1);
        assert_eq!(inv.documents["demo"].contexts.len(), 1);
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
                "JSON document v1/demo/demo.json: shrunk; lost 1 actions (2→1; e.g. putthing)"
                    .to_string(),
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
            l[1].contains("lost 1 actions (2→1; e.g. putthing), 1 operations (1→0; e.g. getthing), 1 operation contexts (1→0; e.g. getthing iam:passrole iam:passedtoservice)"),
            "{l:?}"
        );
    }

    #[test]
    fn a_page_holding_another_pages_content_loses_its_own_names() {
        let (m, s) = dataset(false, false);
        let mut s2 = s.clone();
        // list_demo.html now lists PutThing instead of GetThing: same count.
        s2[0].actions[0].pages = vec!["list_demov2.html".into()];
        s2[0].actions[1].pages = vec!["list_demo.html".into(), "list_demov2.html".into()];
        let l = losses(&Inventory::of(&m, &s), &Inventory::of(&m, &s2));
        assert!(
            l[0].starts_with("page list_demo.html: shrunk; lost 1 actions (1→1; e.g. getthing)"),
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
                "page list_demo.html: shrunk; lost 1 required resource types (1→0; e.g. getthing thing), 1 dependent actions (1→0; e.g. getthing thing iam:passrole)"
                    .to_string()
            ]
        );
    }
}
