//! The JSON service reference reconciled with the HTML pages of the same
//! day (2026-06-14), from the shared corpus. Each test skips, with a
//! message, when the corpus (`../shared/corpus` beside the workspace root)
//! is absent, and fails instead under `IAMREF_TEST_STRICT=1`.

use iamref_dataset::{Service, Sources};
use iamref_scraper::pipeline;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

#[track_caller]
fn corpus() -> Option<(PathBuf, PathBuf)> {
    let root = iamref_testkit::corpus(&["sar-html/2026-06-14", "service-reference/2026-06-14"])?;
    Some((
        root.join("sar-html/2026-06-14"),
        root.join("service-reference/2026-06-14"),
    ))
}

fn build(html: &Path, json: &Path, reverse_docs: bool) -> pipeline::Assembled {
    let pages = pipeline::read_pages_dir(html).unwrap();
    let parsed = pipeline::collect_pages(pipeline::parse_all(&pages, &|| {})).unwrap();
    let mut docs = pipeline::read_service_reference_dir(json).unwrap();
    if reverse_docs {
        docs.reverse();
    }
    pipeline::assemble_with_json(parsed, docs, "corpus", Some("2026-06-14".into())).unwrap()
}

fn service<'a>(services: &'a [Service], prefix: &str) -> &'a Service {
    services.iter().find(|s| s.prefix == prefix).unwrap()
}

#[test]
fn corpus_pair_reconciles_without_duplicates() {
    let Some((html, json)) = corpus() else { return };
    let a = build(&html, &json, false);
    let m = &a.manifest;
    assert_eq!(m.json_documents.len(), 462);
    assert_eq!(m.pages.len(), 476);
    // Every prefix once; every action once per prefix.
    let mut prefixes = HashSet::new();
    for s in &a.services {
        assert!(
            prefixes.insert(s.prefix.to_ascii_lowercase()),
            "{} twice",
            s.prefix
        );
        let mut names = HashSet::new();
        for act in &s.actions {
            assert!(
                names.insert(act.name.to_ascii_lowercase()),
                "{}:{} twice",
                s.prefix,
                act.name
            );
        }
    }
    // The union is no bigger than the two sources' sum minus their overlap:
    // actions in both are single rows marked both.
    let both = a
        .services
        .iter()
        .flat_map(|s| &s.actions)
        .filter(|x| x.sources == Sources::BOTH)
        .count();
    let html_only = a
        .services
        .iter()
        .flat_map(|s| &s.actions)
        .filter(|x| x.sources == Sources::HTML)
        .count();
    let json_only = a
        .services
        .iter()
        .flat_map(|s| &s.actions)
        .filter(|x| x.sources == Sources::JSON)
        .count();
    assert_eq!(both + html_only + json_only, m.counts.actions);
    // HTML alone gives 21027 actions, the JSON 21360.
    assert_eq!(both + html_only, 21027);
    assert_eq!(both + json_only, 21360);
    assert!(both > 20_000, "{both} actions in both sources");

    let s3 = service(&a.services, "s3");
    assert_eq!(s3.sources, Sources::BOTH);
    assert!(s3.json_version.is_some());
    let get = s3.actions.iter().find(|x| x.name == "GetObject").unwrap();
    assert_eq!(get.sources, Sources::BOTH);
    assert!(get.annotations.is_some());
    assert_eq!(get.access_level.as_deref(), Some("Read"));
    let copy = s3
        .operations
        .iter()
        .find(|o| o.name == "CopyObject")
        .unwrap();
    let acts: Vec<String> = copy
        .actions
        .iter()
        .map(|x| format!("{}:{}", x.service, x.action))
        .collect();
    for want in ["s3:GetObject", "s3:PutObject", "s3-object-lambda:PutObject"] {
        assert!(acts.iter().any(|x| x == want), "{want} not in {acts:?}");
    }
    assert!(copy
        .sdk
        .iter()
        .any(|m| m.package == "Boto3" && m.client == "s3" && m.method == "copy_object"));

    let iot1click = service(&a.services, "iot1click");
    assert_eq!(iot1click.sources, Sources::JSON);
    assert!(iot1click.pages.is_empty());
    assert!(!iot1click.actions.is_empty());
    assert!(iot1click
        .actions
        .iter()
        .all(|x| x.sources == Sources::JSON && x.access_level.is_some()));
}

#[test]
fn corpus_build_is_deterministic() {
    let Some((html, json)) = corpus() else { return };
    let a = build(&html, &json, false);
    let b = build(&html, &json, true);
    assert_eq!(
        serde_json::to_string(&a.services).unwrap(),
        serde_json::to_string(&b.services).unwrap()
    );
    assert_eq!(a.manifest, b.manifest);
}
