//! The `iamref` binary's API-operation commands (api, sdk, calls,
//! crosscheck) on a database built from the 2026-06-14 corpus pair (HTML
//! pages + JSON service reference). Each test skips, with a message, when
//! the corpus (`../shared/corpus` beside the workspace root) is absent, and
//! fails instead under `IAMREF_TEST_STRICT=1`.

use crate::support::iamref_db as iamref;
use iamref_testkit::iamref_bin;
use serde_json::Value;
use std::path::PathBuf;
use std::sync::OnceLock;

#[track_caller]
fn corpus() -> Option<(PathBuf, PathBuf)> {
    let root = iamref_testkit::corpus(&["sar-html/2026-06-14", "service-reference/2026-06-14"])?;
    Some((
        root.join("sar-html/2026-06-14"),
        root.join("service-reference/2026-06-14"),
    ))
}

/// One database for every test in this module, built by the real binary;
/// `None` (a skip) without the corpus.
#[track_caller]
fn db() -> Option<PathBuf> {
    static DB: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    let (html, json) = corpus()?;
    let (_, p) = DB.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("both.sqlite");
        iamref_bin()
            .args(["build", "-q", "--from-dir"])
            .arg(&html)
            .arg("--service-reference-dir")
            .arg(&json)
            .arg("--out")
            .arg(&out)
            .assert()
            .success();
        (dir, out)
    });
    Some(p.clone())
}

fn json_of(out: &[u8]) -> Vec<Value> {
    serde_json::from_slice(out).expect("valid JSON array")
}

fn actions_of(rows: &[Value]) -> Vec<String> {
    rows.iter()
        .map(|r| r["action"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn api_lists_the_actions_copy_object_needs() {
    let Some(db) = db() else { return };
    for args in [
        vec!["api", "s3:CopyObject"],
        vec!["api", "s3", "copyobject"],
    ] {
        let out = iamref(&db)
            .args(&args)
            .args(["--format", "json"])
            .assert()
            .success()
            .get_output()
            .stdout
            .clone();
        let rows = json_of(&out);
        let acts = actions_of(&rows);
        for want in ["s3:GetObject", "s3:PutObject", "s3-object-lambda:PutObject"] {
            assert!(acts.iter().any(|a| a == want), "{want} not in {acts:?}");
        }
        let get = rows.iter().find(|r| r["action"] == "s3:GetObject").unwrap();
        assert_eq!(get["operation"], "s3:CopyObject");
        assert_eq!(get["sources"], "json");
        assert_eq!(get["known"], true);
        assert_eq!(get["access_level"], "Read");
        assert!(get["resource_types"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r == "object"));
        assert!(!get["condition_keys"].as_array().unwrap().is_empty());
    }
}

#[test]
fn api_unknown_operation_suggests_a_close_name() {
    let Some(db) = db() else { return };
    let out = iamref(&db).args(["api", "s3:CopyObjet"]).assert().code(2);
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(err.contains("did you mean CopyObject"), "{err}");
    let out = iamref(&db).args(["api", "s33:CopyObject"]).assert().code(2);
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(err.contains("unknown service prefix"), "{err}");
    iamref(&db).args(["api", "no-colon"]).assert().code(2);
}

#[test]
fn api_context_keys_of_pass_role_are_listed() {
    let Some(db) = db() else { return };
    let out = iamref(&db)
        .args(["api", "access-analyzer:StartPolicyGeneration", "-f", "json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let rows = json_of(&out);
    let pass = rows.iter().find(|r| r["action"] == "iam:PassRole").unwrap();
    assert!(pass["condition_keys"]
        .as_array()
        .unwrap()
        .iter()
        .any(|k| k == "iam:PassedToService"));
}

#[test]
fn sdk_method_maps_to_the_same_actions() {
    let Some(db) = db() else { return };
    let out = iamref(&db)
        .args(["sdk", "boto3", "S3.Copy_Object", "-f", "jsonl"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let rows: Vec<Value> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let acts = actions_of(&rows);
    assert!(acts.iter().any(|a| a == "s3:GetObject"));
    assert!(acts.iter().any(|a| a == "s3-object-lambda:PutObject"));
    let out = iamref(&db)
        .args(["sdk", "boto3", "s3", "copy_objekt"])
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(err.contains("did you mean copy_object"), "{err}");
    iamref(&db)
        .args(["sdk", "nosuchsdk", "s3.copy_object"])
        .assert()
        .code(2);
}

#[test]
fn calls_from_lines_dedupe_and_report_unknowns() {
    let Some(db) = db() else { return };
    let input = "# constructed input\ns3:CopyObject\ns3 GetObject\ns3:NoSuchOperation\n";
    let out = iamref(&db)
        .args(["calls", "-", "-f", "json"])
        .write_stdin(input)
        .assert()
        .success();
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(err.contains("line 4"), "{err}");
    assert!(err.contains("NoSuchOperation"), "{err}");
    let rows = json_of(&out.get_output().stdout);
    let acts = actions_of(&rows);
    let mut sorted = acts.clone();
    sorted.sort_by_key(|a| a.to_ascii_lowercase());
    sorted.dedup();
    assert_eq!(acts, sorted, "sorted and deduplicated");
    let get = rows.iter().find(|r| r["action"] == "s3:GetObject").unwrap();
    assert_eq!(
        get["needed_by"],
        serde_json::json!(["s3:CopyObject", "s3:GetObject"])
    );
}

#[test]
fn calls_from_cloudtrail_map_event_sources() {
    let Some(db) = db() else { return };
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("trail.json");
    // Constructed CloudTrail-shaped document.
    std::fs::write(
        &f,
        r#"{"Records": [
  {"eventSource": "s3.amazonaws.com", "eventName": "CopyObject"},
  {"eventSource": "monitoring.amazonaws.com", "eventName": "PutMetricData"},
  {"eventSource": "nosuchservice.amazonaws.com", "eventName": "DoThing"}
]}"#,
    )
    .unwrap();
    let out = iamref(&db)
        .arg("calls")
        .arg(&f)
        .args(["-f", "json"])
        .assert()
        .success();
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(err.contains("record 3 (line 4)"), "{err}");
    assert!(err.contains("nosuchservice.amazonaws.com"), "{err}");
    let acts = actions_of(&json_of(&out.get_output().stdout));
    assert!(acts.iter().any(|a| a == "s3:PutObject"));
    assert!(
        acts.iter().any(|a| a == "cloudwatch:PutMetricData"),
        "{acts:?}"
    );
}

#[test]
fn calls_exit_codes() {
    let Some(db) = db() else { return };
    iamref(&db)
        .args(["calls", "-"])
        .write_stdin("s3:NoSuchOperation\n")
        .assert()
        .code(1);
    iamref(&db)
        .args(["calls", "-"])
        .write_stdin("s3:CopyObject\nthis line is not a call\n")
        .assert()
        .code(2);
    iamref(&db)
        .args(["calls", "-"])
        .write_stdin("{\"Records\": [{\"eventName\": \"x\"}]}")
        .assert()
        .code(2);
}

#[test]
fn iot1click_is_json_only_and_queryable() {
    let Some(db) = db() else { return };
    let out = iamref(&db)
        .args(["crosscheck", "iot1click", "-f", "json"])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let rows = json_of(&out);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["kind"], "service");
    assert_eq!(rows[0]["only_in"], "json");
    // Its actions are in the database, marked json.
    let conn = rusqlite::Connection::open(&db).unwrap();
    let (n, both): (i64, i64) = conn
        .query_row(
            "SELECT COUNT(*), SUM(sources != 'json') FROM v_actions WHERE prefix = 'iot1click'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert!(n > 0);
    assert_eq!(both, 0);
}

#[test]
fn crosscheck_reports_details_and_a_summary() {
    let Some(db) = db() else { return };
    let out = iamref(&db)
        .args(["crosscheck", "-f", "json"])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let rows = json_of(&out);
    assert!(!rows.is_empty());
    for r in &rows {
        for field in [
            "kind",
            "prefix",
            "action",
            "resource_type",
            "item",
            "only_in",
            "html",
            "json",
        ] {
            assert!(r.get(field).is_some(), "{field} missing in {r}");
        }
    }
    assert!(rows
        .iter()
        .any(|r| r["kind"] == "service" && r["prefix"] == "iot1click"));
    assert!(rows.iter().any(|r| r["kind"] == "access_level"));
    // Table output on a pipe: the summary, tab-separated, totals first.
    let out = iamref(&db).arg("crosscheck").assert().code(1);
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    let first = text.lines().next().unwrap();
    assert!(first.starts_with("(all)\t"), "{first}");
    let total: usize = text
        .lines()
        .filter(|l| l.starts_with("(all)\t"))
        .map(|l| l.rsplit('\t').next().unwrap().parse::<usize>().unwrap())
        .sum();
    assert_eq!(total, rows.len());
    iamref(&db)
        .args(["crosscheck", "--kind", "nonsense"])
        .assert()
        .code(2);
}

#[test]
fn build_needs_a_source() {
    let dir = tempfile::tempdir().unwrap();
    let out = iamref_bin()
        .args(["build", "--out"])
        .arg(dir.path().join("x.sqlite"))
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(err.contains("--service-reference-dir"), "{err}");
}

#[test]
fn json_only_build_works() {
    let Some((_, json)) = corpus() else { return };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("json.sqlite");
    iamref_bin()
        .args(["build", "-q", "--service-reference-dir"])
        .arg(&json)
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let o = iamref(&out)
        .args(["api", "s3:CopyObject", "-f", "json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert!(actions_of(&json_of(&o)).iter().any(|a| a == "s3:GetObject"));
    // Nothing to compare with: an error, not an empty report.
    iamref(&out).arg("crosscheck").assert().code(2);
}

#[test]
fn operation_context_shows_in_api_and_action() {
    let Some(db) = db() else { return };
    let out = iamref(&db)
        .args(["api", "lambda:CreateFunction", "--format", "json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let rows = json_of(&out);
    let pass = rows.iter().find(|r| r["action"] == "iam:PassRole").unwrap();
    assert_eq!(
        pass["context"],
        serde_json::json!({"iam:PassedToService": ["lambda.amazonaws.com"]})
    );
    let text = iamref(&db)
        .args(["api", "lambda:CreateFunction", "--format", "tsv"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(text).unwrap();
    assert!(
        text.lines().next().unwrap().ends_with("\tcontext"),
        "{text}"
    );
    assert!(
        text.lines().any(|l| l.contains("iam:PassRole")
            && l.ends_with("\tiam:PassedToService=lambda.amazonaws.com")),
        "{text}"
    );

    let out = iamref(&db)
        .args(["action", "iam:PassRole", "--format", "json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let info: Value = serde_json::from_slice(&out).unwrap();
    let info = if info.is_array() {
        info[0].clone()
    } else {
        info
    };
    let op = info["operations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["prefix"] == "lambda" && o["operation"] == "CreateFunction")
        .unwrap();
    assert_eq!(
        op["context"]["iam:PassedToService"][0],
        "lambda.amazonaws.com"
    );
    let text = iamref(&db)
        .args(["action", "iam:PassRole"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(text).unwrap();
    assert!(
        text.contains("lambda:CreateFunction (iam:PassedToService=lambda.amazonaws.com)"),
        "{text}"
    );
}

#[test]
fn crosscheck_reports_condition_key_type_disagreements() {
    let Some(db) = db() else { return };
    let out = iamref(&db)
        .args([
            "crosscheck",
            "--kind",
            "condition_key_type",
            "--format",
            "json",
        ])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let rows = json_of(&out);
    let items: Vec<&str> = rows.iter().map(|r| r["item"].as_str().unwrap()).collect();
    assert_eq!(
        items,
        [
            "elasticloadbalancing:ListenerProtocol",
            "iot:IncludeSocketInformation"
        ]
    );
    assert_eq!(rows[0]["html"], "ArrayOfString, String");
}

#[test]
fn condition_key_shows_every_type_a_source_gives() {
    let Some(db) = db() else { return };
    let out = iamref(&db)
        .args(["condition-key", "elasticloadbalancing:ListenerProtocol"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("  type          ArrayOfString\n"), "{text}");
    assert!(
        text.contains("  also typed    ArrayOfString, String (json); String (list_awselasticloadbalancingv2.html)\n"),
        "{text}"
    );
    let out = iamref(&db)
        .args([
            "condition-key",
            "elasticloadbalancing:ListenerProtocol",
            "-f",
            "json",
        ])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v[0]["other_types"][1]["type"], "String");
    assert_eq!(
        v[0]["other_types"][1]["source"],
        "list_awselasticloadbalancingv2.html"
    );
}

#[test]
fn action_shows_what_other_pages_of_its_prefix_say() {
    let Some(db) = db() else { return };
    let out = iamref(&db)
        .args(["action", "aws-marketplace:TagResource", "-f", "json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v: Value = serde_json::from_slice(&out).unwrap();
    let v = if v.is_array() { v[0].clone() } else { v };
    let other = &v["other_descriptions"][0];
    assert_eq!(other["page"], "list_awsmarketplacedeploymentservice.html");
    assert_eq!(
        other["text"],
        "Grants permission to tag a deployment parameter resource"
    );
    assert_ne!(v["description"], other["text"]);
    let text = iamref(&db)
        .args(["action", "aws-marketplace:TagResource"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(text).unwrap();
    assert!(text.contains("  also described     Grants permission to tag a deployment parameter resource (list_awsmarketplacedeploymentservice.html)\n"), "{text}");
}
