//! The reader (`db::read`) reads a selection by id ranges: on the shipped
//! data, the whole read is the snapshot it was written from, the policy
//! selection (what `policy check` and `policy write` load) is that less
//! what it documents leaving out, and every selection of prefixes gives
//! exactly the selected services of the whole read, in id order.

use iamref_dataset::db::{self, Selection};
use iamref_dataset::snapshot;
use std::path::Path;

#[test]
fn selections_read_exactly_their_services_on_the_shipped_snapshot() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../data");
    let (manifest, services) = snapshot::read_snapshot(&data).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db.sqlite");
    db::write_database(&path, &manifest, &services).unwrap();
    let conn = db::open_read_only(&path).unwrap();

    // Everything: the snapshot back.
    let everything = db::read(&conn, &Selection::all()).unwrap();
    assert!(
        everything == services,
        "the whole read differs from the snapshot"
    );
    let all = db::read(&conn, &Selection::policy(None)).unwrap();
    assert_eq!(all.len(), services.len());
    // The whole lean read against the snapshot.
    let mut want = services.clone();
    for s in &mut want {
        s.pages.clear();
        s.operations.clear();
        for a in &mut s.actions {
            a.pages.clear();
            a.supported_by.clear();
            a.variants.clear();
            a.description = None;
            a.doc_url = None;
            // Per-page facts are facts (read), their descriptions texts.
            for f in &mut a.per_page {
                f.description = None;
            }
        }
        for r in &mut s.resource_types {
            r.pages.clear();
        }
        for k in &mut s.condition_keys {
            k.pages.clear();
            k.variants.clear();
            k.description = None;
            k.doc_url = None;
        }
    }
    assert!(all == want, "the lean read differs from the snapshot's");

    let pick = |prefixes: &[&str]| {
        let list: Vec<String> = prefixes.iter().map(|p| p.to_string()).collect();
        let got = db::read(&conn, &Selection::policy(Some(&list))).unwrap();
        let expect: Vec<_> = all
            .iter()
            .filter(|s| prefixes.iter().any(|p| p.eq_ignore_ascii_case(&s.prefix)))
            .cloned()
            .collect();
        assert_eq!(got.len(), expect.len(), "{prefixes:?}");
        assert!(got == expect, "selection {prefixes:?} differs");
    };
    // What `bench/policy_write.sh` loads (8 services and those sharing
    // their ARN namespaces), in any order and case.
    pick(&[
        "s3",
        "sqs",
        "dynamodb",
        "kms",
        "lambda",
        "logs",
        "secretsmanager",
        "sns",
        "ssm",
        "events",
        "kinesis",
        "devops-guru",
        "s3-object-lambda",
    ]);
    pick(&["SNS", "ec2", "iam", "nope"]);
    pick(&["ec2"]);
    pick(&[]);
    // Every 7th service, then every other one: many ranges, merged or not.
    let prefixes: Vec<&str> = all.iter().map(|s| s.prefix.as_str()).collect();
    pick(&prefixes.iter().step_by(7).copied().collect::<Vec<_>>());
    pick(&prefixes.iter().step_by(2).copied().collect::<Vec<_>>());
    pick(&prefixes);
    // Details only for the actions some pattern matches (`policy check`):
    // those are the lean read's; every other action of the services keeps
    // its name, access level, flags and sources, and nothing else.
    let list: Vec<String> = ["ec2", "s3", "IAM", "lambda", "sqs"]
        .iter()
        .map(|p| p.to_string())
        .collect();
    let patterns: Vec<String> = [
        "ec2:Describe*",
        "EC2:startinstances",
        "s3:*",
        "iam:PassRole",
        "lambda:Invoke?unction",
        "nope:Thing",
    ]
    .iter()
    .map(|p| p.to_string())
    .collect();
    let got = db::read(
        &conn,
        &Selection {
            actions: Some(patterns),
            ..Selection::policy(Some(&list))
        },
    )
    .unwrap();
    let matches = |prefix: &str, name: &str| match prefix {
        "ec2" => {
            name.to_ascii_lowercase().starts_with("describe")
                || name.eq_ignore_ascii_case("StartInstances")
        }
        "s3" => true,
        "iam" => name == "PassRole",
        "lambda" => name.eq_ignore_ascii_case("InvokeFunction"),
        _ => false,
    };
    let mut want: Vec<_> = all
        .iter()
        .filter(|s| list.iter().any(|p| p.eq_ignore_ascii_case(&s.prefix)))
        .cloned()
        .collect();
    let (mut detailed, mut bare) = (0, 0);
    for s in &mut want {
        for a in &mut s.actions {
            if matches(&s.prefix, &a.name) {
                detailed += 1;
                continue;
            }
            bare += 1;
            a.resource_types.clear();
            a.condition_keys.clear();
            a.dependent_actions.clear();
            a.scenarios.clear();
            a.per_page.clear();
        }
    }
    assert!(
        detailed > 300 && bare > 600,
        "{detailed} detailed, {bare} bare"
    );
    assert!(got == want, "the read with action patterns differs");
}
