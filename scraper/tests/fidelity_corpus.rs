//! Facts the merge used to drop, checked on the real corpus of 2026-06-14
//! (pages and JSON): service names with " - " in their heading, the JSON's
//! operation `Context`, condition keys with two types, and per-page
//! descriptions of a shared prefix. Each test skips, with a message, when
//! the corpus (`../shared/corpus` beside the workspace root) is absent, and
//! fails instead under `IAMREF_TEST_STRICT=1`.

use iamref_dataset::reconcile::{crosscheck, DiffKind};
use iamref_dataset::{Service, JSON_SOURCE};
use iamref_scraper::pipeline;
use std::sync::OnceLock;

/// The 2026-06-14 build, shared by the tests below; `None` (a skip, or a
/// failure in strict mode) without the corpus.
#[track_caller]
fn build() -> Option<&'static Vec<Service>> {
    static S: OnceLock<Vec<Service>> = OnceLock::new();
    let root = iamref_testkit::corpus(&["sar-html/2026-06-14", "service-reference/2026-06-14"])?;
    Some(S.get_or_init(|| {
        let html = root.join("sar-html/2026-06-14");
        let json = root.join("service-reference/2026-06-14");
        let pages = pipeline::read_pages_dir(&html).unwrap();
        let parsed = pipeline::collect_pages(pipeline::parse_all(&pages, &|| {})).unwrap();
        let docs = pipeline::read_service_reference_dir(&json).unwrap();
        let a = pipeline::assemble_with_json(parsed, docs, "corpus", None).unwrap();
        a.services
    }))
}

fn service<'a>(s: &'a [Service], prefix: &str) -> &'a Service {
    s.iter().find(|x| x.prefix == prefix).unwrap()
}

#[test]
fn names_keep_the_part_after_a_dash() {
    let Some(s) = build() else { return };
    assert_eq!(service(s, "odb").name, "AWS Service - Oracle Database@AWS");
    assert_eq!(
        service(s, "arc-zonal-shift").name,
        "Amazon Application Recovery Controller - Zonal Shift"
    );
    let ses = service(s, "ses");
    let mm = ses
        .pages
        .iter()
        .find(|p| p.file == "list_amazonsimpleemailservice-mailmanager.html")
        .unwrap();
    assert_eq!(
        mm.service_name,
        "Amazon Simple Email Service - Mail Manager"
    );
    // No name anywhere ends with the <title>'s site suffix or a dangling dash.
    for svc in s {
        for p in &svc.pages {
            assert!(
                !p.service_name.contains("Service Authorization Reference")
                    && !p.service_name.ends_with('-'),
                "{}: {:?}",
                p.file,
                p.service_name
            );
        }
    }
}

#[test]
fn operation_context_is_kept() {
    let Some(s) = build() else { return };
    let values: usize = s
        .iter()
        .flat_map(|x| &x.operations)
        .flat_map(|o| &o.actions)
        .flat_map(|a| a.context.values())
        .map(Vec::len)
        .sum();
    assert_eq!(values, 847);
    let lambda = service(s, "lambda");
    let create = lambda
        .operations
        .iter()
        .find(|o| o.name == "CreateFunction")
        .unwrap();
    let pass = create
        .actions
        .iter()
        .find(|a| a.service == "iam" && a.action == "PassRole")
        .unwrap();
    assert_eq!(
        pass.context.get("iam:PassedToService").map(Vec::as_slice),
        Some(&["lambda.amazonaws.com".to_string()][..])
    );
}

#[test]
fn a_key_with_two_types_keeps_both_and_crosscheck_reports_it() {
    let Some(s) = build() else { return };
    let elb = service(s, "elasticloadbalancing");
    let k = elb
        .condition_keys
        .iter()
        .find(|k| k.name == "elasticloadbalancing:ListenerProtocol")
        .unwrap();
    // ArrayOfString on list_awselasticloadbalancing.html (first by file
    // name), String on the v2 page; the JSON lists both.
    assert_eq!(k.r#type.as_deref(), Some("ArrayOfString"));
    assert_eq!(k.all_types(), ["ArrayOfString", "String"]);
    let v2 = k
        .variants
        .iter()
        .find(|v| v.source == "list_awselasticloadbalancingv2.html")
        .unwrap();
    assert_eq!(v2.r#type.as_deref(), Some("String"));
    assert!(k.variants.iter().any(|v| v.source == JSON_SOURCE));

    let diffs = crosscheck(s);
    let types: Vec<_> = diffs
        .iter()
        .filter(|d| d.kind == DiffKind::ConditionKeyType)
        .collect();
    let lp = types
        .iter()
        .find(|d| d.item == "elasticloadbalancing:ListenerProtocol")
        .unwrap();
    assert_eq!(lp.html.as_deref(), Some("ArrayOfString, String"));
    let iot = types
        .iter()
        .find(|d| d.item == "iot:IncludeSocketInformation")
        .unwrap();
    assert_eq!(
        (iot.html.as_deref(), iot.json.as_deref()),
        (Some("String"), Some("Bool"))
    );
    assert_eq!(types.len(), 2, "{types:#?}");
}

#[test]
fn per_page_descriptions_of_a_shared_prefix_are_kept() {
    let Some(s) = build() else { return };
    let actions = s
        .iter()
        .flat_map(|x| &x.actions)
        .filter(|a| a.variants.iter().any(|v| v.description.is_some()))
        .count();
    let keys = s
        .iter()
        .flat_map(|x| &x.condition_keys)
        .filter(|k| k.variants.iter().any(|v| v.description.is_some()))
        .count();
    assert_eq!((actions, keys), (42, 37));
    // Every variant names one of the prefix's pages and differs from the
    // merged description.
    for svc in s {
        for a in &svc.actions {
            for v in &a.variants {
                assert!(svc.pages.iter().any(|p| p.file == v.source), "{}", v.source);
                assert!(a.pages.contains(&v.source));
                assert_ne!(v.description, a.description);
            }
        }
    }
}
