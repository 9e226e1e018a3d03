//! The whole real corpus (`../shared/corpus` from the workspace root)
//! through the pipeline, checked against invariants, known facts and AWS's
//! JSON service reference for the same day. Each test skips, with a
//! message, where the corpus is absent, and fails instead under
//! `IAMREF_TEST_STRICT=1`.

use iamref_dataset::model::*;
use iamref_scraper::pipeline::{self, Assembled};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::OnceLock;

/// The corpus root, when it holds both days' pages and the JSON of
/// 2026-06-14; otherwise a skip (a failure in strict mode) and `None`.
#[track_caller]
fn corpus() -> Option<PathBuf> {
    iamref_testkit::corpus(&[
        "sar-html/2026-06-14",
        "sar-html/2026-05-10",
        "service-reference/2026-06-14",
    ])
}

fn build(date: &str) -> Assembled {
    let dir = corpus().unwrap().join("sar-html").join(date);
    let pages = pipeline::read_pages_dir(&dir).unwrap();
    let results = pipeline::parse_all(&pages, &|| {});
    let parsed = pipeline::collect_pages(results).unwrap_or_else(|e| panic!("{date}: {e}"));
    pipeline::assemble(parsed, &dir.display().to_string(), Some(date.into()))
}

/// The 2026-06-14 build, shared by the tests below (None: no corpus).
#[track_caller]
fn june() -> Option<&'static Assembled> {
    static A: OnceLock<Assembled> = OnceLock::new();
    corpus()?;
    Some(A.get_or_init(|| build("2026-06-14")))
}

fn service<'a>(a: &'a Assembled, prefix: &str) -> &'a Service {
    a.services
        .iter()
        .find(|s| s.prefix == prefix)
        .unwrap_or_else(|| panic!("no service {prefix}"))
}

fn action<'a>(s: &'a Service, name: &str) -> &'a Action {
    s.actions
        .iter()
        .find(|a| a.name == name)
        .unwrap_or_else(|| panic!("no action {}:{name}", s.prefix))
}

fn arns(s: &Service, rt: &str) -> Vec<String> {
    s.resource_types
        .iter()
        .find(|r| r.name == rt)
        .unwrap_or_else(|| panic!("{}: no resource type {rt}", s.prefix))
        .arns
        .iter()
        .map(|a| a.arn.clone())
        .collect()
}

#[test]
fn june_counts() {
    let Some(a) = june() else { return };
    let c = a.manifest.counts;
    println!("2026-06-14: {c:?}");
    assert_eq!(c.pages, 476);
    assert_eq!(a.manifest.pages.len(), 476);
    assert_eq!(c.prefixes, 456);
    assert_eq!(a.services.len(), 456);
    // 21,027 observed on 2026-06-14; the bound catches a silent collapse
    // (a public dataset once fell from 21,425 actions to 271).
    assert!(c.actions > 20_000 && c.actions < 25_000, "{c:?}");
    assert!(c.resource_types > 2_000, "{c:?}");
    assert!(c.condition_keys > 2_000, "{c:?}");
    // Classic layout throughout.
    assert!(a
        .services
        .iter()
        .flat_map(|s| &s.pages)
        .all(|p| p.layout == Layout::Classic));
}

#[test]
fn june_invariants() {
    let Some(a) = june() else { return };
    for s in &a.services {
        assert!(!s.actions.is_empty(), "{} has no actions", s.prefix);
        let mut seen = BTreeSet::new();
        for act in &s.actions {
            assert!(
                !act.name.trim().is_empty(),
                "{}: empty action name",
                s.prefix
            );
            assert!(
                act.name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)),
                "{}:{} is not an action name",
                s.prefix,
                act.name
            );
            assert!(
                seen.insert(act.name.to_ascii_lowercase()),
                "{}:{} twice",
                s.prefix,
                act.name
            );
            let level = act.access_level.as_deref();
            assert!(
                matches!(
                    level,
                    Some("List" | "Read" | "Write" | "Permissions management" | "Tagging")
                ),
                "{}:{} access level {level:?}",
                s.prefix,
                act.name
            );
            assert!(!act.pages.is_empty());
            for r in &act.resource_types {
                assert!(
                    !r.name.is_empty() && !r.name.contains('*'),
                    "{}:{}",
                    s.prefix,
                    act.name
                );
            }
        }
        for r in &s.resource_types {
            assert!(!r.arns.is_empty(), "{}: {} has no ARN", s.prefix, r.name);
            for arn in &r.arns {
                assert!(
                    arn.arn.starts_with("arn:") && !arn.arn.contains(char::is_whitespace),
                    "{}: {} ARN {:?}",
                    s.prefix,
                    r.name,
                    arn.arn
                );
            }
        }
        for k in &s.condition_keys {
            assert!(k.name.contains(':'), "{}: key {:?}", s.prefix, k.name);
            assert!(
                k.r#type.is_some(),
                "{}: key {} has no type",
                s.prefix,
                k.name
            );
        }
    }
}

#[test]
fn june_known_facts() {
    let Some(a) = june() else { return };
    let s3 = service(a, "s3");
    // As the page states them: both resource types optional.
    let rt_flags = |a: &Action| -> Vec<(String, bool)> {
        a.resource_types
            .iter()
            .map(|r| (r.name.clone(), r.required))
            .collect()
    };
    let s = |x: &str| x.to_string();
    let list_bucket = action(s3, "ListBucket");
    assert_eq!(list_bucket.access_level.as_deref(), Some("List"));
    assert_eq!(
        rt_flags(list_bucket),
        [(s("accesspoint"), false), (s("bucket"), false)]
    );
    assert_eq!(arns(s3, "bucket"), ["arn:${Partition}:s3:::${BucketName}"]);

    let get_object = action(s3, "GetObject");
    assert_eq!(get_object.access_level.as_deref(), Some("Read"));
    assert_eq!(
        rt_flags(get_object),
        [(s("accesspointobject"), false), (s("object"), false)]
    );
    assert_eq!(
        arns(s3, "object"),
        ["arn:${Partition}:s3:::${BucketName}/${ObjectName}"]
    );
    assert!(get_object
        .condition_keys
        .iter()
        .any(|k| k.name == "s3:TlsVersion"));

    let all = action(s3, "ListAllMyBuckets");
    assert!(all.resource_types.is_empty(), "{:?}", all.resource_types);
    assert!(action(s3, "InitiateReplication").permission_only);
    assert!(!get_object.permission_only);

    // apigateway:GET is on two pages; the service has the union.
    let dir = corpus().unwrap().join("sar-html/2026-06-14");
    let mut union: BTreeSet<String> = BTreeSet::new();
    let mut per_page = Vec::new();
    for f in [
        "list_amazonapigatewaymanagement.html",
        "list_amazonapigatewaymanagementv2.html",
    ] {
        let html = std::fs::read_to_string(dir.join(f)).unwrap();
        let p = iamref_scraper::parse_page(f, &html).unwrap();
        assert_eq!(p.prefix, "apigateway");
        let get = p.actions.iter().find(|a| a.name == "GET").unwrap();
        let names: BTreeSet<String> = get.resource_types.iter().map(|r| r.name.clone()).collect();
        assert!(!names.is_empty());
        per_page.push(names.clone());
        union.extend(names);
    }
    assert!(per_page[0] != per_page[1]);
    let get = action(service(a, "apigateway"), "GET");
    let merged: BTreeSet<String> = get.resource_types.iter().map(|r| r.name.clone()).collect();
    assert_eq!(merged, union);
    assert!(merged.len() > per_page[0].len() && merged.len() > per_page[1].len());
    assert_eq!(get.pages.len(), 2);
    assert!(merged.contains("RestApi") && merged.contains("Route"));

    // ec2:RunInstances and its scenarios.
    let run = action(service(a, "ec2"), "RunInstances");
    let names: Vec<&str> = run.scenarios.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "EC2-Classic-EBS",
            "EC2-Classic-InstanceStore",
            "EC2-VPC-EBS",
            "EC2-VPC-EBS-Subnet",
            "EC2-VPC-InstanceStore",
            "EC2-VPC-InstanceStore-Subnet"
        ]
    );
    let classic_ebs: Vec<(&str, bool)> = run.scenarios[0]
        .resource_types
        .iter()
        .map(|r| (r.name.as_str(), r.required))
        .collect();
    assert_eq!(
        classic_ebs,
        [
            ("image", true),
            ("instance", true),
            ("security-group", true),
            ("volume", true),
            ("key-pair", false),
            ("placement-group", false),
            ("snapshot", false)
        ]
    );
    assert_eq!(run.access_level.as_deref(), Some("Write"));
    let image = &run.resource_types[0];
    assert_eq!((image.name.as_str(), image.required), ("image", true));
    assert_eq!(
        image.dependent_actions,
        ["ec2:CreateTags", "iam:PassRole", "ssm:GetParameters"]
    );
    assert!(run.condition_keys.iter().any(|k| k.name == "ec2:Region"));
    // The scenario rows are not resource-type rows of the action itself.
    assert!(run
        .resource_types
        .iter()
        .all(|r| !r.name.contains("SCENARIO")));

    // Several pages per prefix.
    assert_eq!(service(a, "aws-marketplace").pages.len(), 11);
    assert_eq!(service(a, "ses").pages.len(), 4);
}

/// Resource types that actions name but their prefix does not define: a
/// known, exact list, so that a change is noticed.
#[test]
fn june_undefined_resource_types() {
    let Some(a) = june() else { return };
    let mut undefined: Vec<String> = Vec::new();
    for s in &a.services {
        for act in &s.actions {
            for r in act
                .resource_types
                .iter()
                .chain(act.scenarios.iter().flat_map(|x| x.resource_types.iter()))
            {
                if !s
                    .resource_types
                    .iter()
                    .any(|t| t.name.eq_ignore_ascii_case(&r.name))
                {
                    undefined.push(format!("{}:{} -> {}", s.prefix, act.name, r.name));
                }
            }
        }
    }
    undefined.sort();
    undefined.dedup();
    println!("undefined resource types: {undefined:#?}");
    assert_eq!(
        undefined,
        [
            "config:ListTagsForResource -> Connector",
            "config:TagResource -> Connector",
            "config:UntagResource -> Connector",
        ]
    );
    // assemble() warns about exactly these.
    let warned: Vec<&Warning> = a
        .warnings
        .iter()
        .filter(|w| w.message.contains("does not define"))
        .collect();
    assert_eq!(warned.len(), undefined.len(), "{warned:#?}");
    assert!(warned.iter().all(|w| w.page == "list_awsconfig.html"));
    assert_eq!(a.warnings.len(), 3, "{:#?}", a.warnings);
}

/// Per prefix, the HTML's action count against the JSON service reference
/// of the same day.
#[test]
fn june_matches_json_reference() {
    let Some(a) = june() else { return };
    let root = corpus().unwrap().join("service-reference/2026-06-14/v1");
    let mut json_counts: BTreeMap<String, usize> = BTreeMap::new();
    for e in std::fs::read_dir(&root).unwrap() {
        let prefix = e.unwrap().file_name().into_string().unwrap();
        let f = root.join(&prefix).join(format!("{prefix}.json"));
        let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&f).unwrap()).unwrap();
        let n = v["Actions"].as_array().map_or(0, |x| x.len());
        json_counts.insert(prefix, n);
    }
    let html_counts: BTreeMap<String, usize> = a
        .services
        .iter()
        .map(|s| (s.prefix.clone(), s.actions.len()))
        .collect();
    let only_json: Vec<&String> = json_counts
        .keys()
        .filter(|p| !html_counts.contains_key(*p))
        .collect();
    let only_html: Vec<&String> = html_counts
        .keys()
        .filter(|p| !json_counts.contains_key(*p))
        .collect();
    let mut mismatches = Vec::new();
    let (mut html_total, mut json_total) = (0, 0);
    for (p, &h) in &html_counts {
        let Some(&j) = json_counts.get(p) else {
            continue;
        };
        html_total += h;
        json_total += j;
        if h != j {
            mismatches.push(format!("{p}: html {h}, json {j}"));
        }
    }
    println!("prefixes only in JSON: {only_json:?}");
    println!("prefixes only in HTML: {only_html:?}");
    println!("action count mismatches: {mismatches:#?}");
    println!("actions on shared prefixes: html {html_total}, json {json_total}");
    // The differences are AWS's: the JSON lists actions the pages do not
    // (yet) show, never the reverse; a parser that loses tables or misreads
    // names shows up here.
    assert!(
        html_total * 100 >= json_total * 98,
        "html {html_total} vs json {json_total}"
    );
    assert!(only_html.is_empty(), "{only_html:?}");
    let mut html_only_actions = Vec::new();
    for s in &a.services {
        let f = root.join(&s.prefix).join(format!("{}.json", s.prefix));
        let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&f).unwrap()).unwrap();
        let names: BTreeSet<String> = v["Actions"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|x| x["Name"].as_str())
            .map(str::to_ascii_lowercase)
            .collect();
        for act in &s.actions {
            if !names.contains(&act.name.to_ascii_lowercase()) {
                html_only_actions.push(format!("{}:{}", s.prefix, act.name));
            }
        }
    }
    println!("actions in the HTML but not the JSON: {html_only_actions:?}");
    assert!(html_only_actions.is_empty(), "{html_only_actions:?}");
    // No prefix has more actions in the HTML than in the JSON.
    for (p, &h) in &html_counts {
        assert!(
            h <= json_counts[p],
            "{p}: html {h} > json {}",
            json_counts[p]
        );
    }
}

#[test]
fn may_parses_too() {
    let Some(_) = corpus() else { return };
    let a = build("2026-05-10");
    let c = a.manifest.counts;
    println!("2026-05-10: {c:?}");
    assert_eq!(c.pages, 473);
    assert_eq!(c.prefixes, 453);
    assert!(c.actions > 20_000, "{c:?}");
    assert!(action(service(&a, "s3"), "GetObject")
        .resource_types
        .iter()
        .any(|r| r.name == "object"));
    assert!(a.warnings.len() < 10, "{:#?}", a.warnings);
}

#[test]
fn toc_links_every_page() {
    let Some(root) = corpus() else { return };
    let dir = root.join("sar-html/2026-06-14");
    let toc =
        std::fs::read_to_string(dir.join("reference_policies_actions-resources-contextkeys.html"))
            .unwrap();
    let linked: BTreeSet<String> = iamref_scraper::parse_toc(&toc).into_iter().collect();
    let files: BTreeSet<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with("list_"))
        .collect();
    assert_eq!(linked, files);
}
