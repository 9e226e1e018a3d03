//! Runs the real `iamref` binary against a database built from the
//! constructed fixture pages in `tests/fixtures/pages`, and against the
//! snapshot shipped in `data/`.

use crate::support::iamref;
use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;
use std::path::PathBuf;
use tempfile::TempDir;

fn fixtures() -> PathBuf {
    crate::support::fixtures().join("pages")
}

/// A database built from the fixture pages, in a fresh temp dir.
struct Fx {
    dir: TempDir,
    db: PathBuf,
}

impl Fx {
    fn new() -> Fx {
        let dir = TempDir::new().unwrap();
        let db = dir.path().join("fx.sqlite");
        iamref(dir.path())
            .args(["build", "--quiet", "--from-dir"])
            .arg(fixtures())
            .arg("--out")
            .arg(&db)
            .assert()
            .success();
        Fx { dir, db }
    }

    fn cmd(&self) -> Command {
        let mut c = iamref(self.dir.path());
        c.arg("--db").arg(&self.db);
        c
    }

    fn json(&self, args: &[&str]) -> Value {
        let out = self
            .cmd()
            .args(args)
            .args(["--format", "json"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }
}

fn arns_of(action: &Value, rt: &str) -> Vec<String> {
    action["resource_types"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == rt)
        .unwrap_or_else(|| panic!("no resource type {rt} in {action}"))["arns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn action_shows_bucket_versus_object_arns() {
    let fx = Fx::new();
    let v = fx.json(&["action", "s3:listbucket", "S3:GetObject"]);
    let list = &v[0];
    assert_eq!(list["prefix"], "s3");
    assert_eq!(list["action"], "ListBucket");
    assert_eq!(list["access_level"], "List");
    assert_eq!(list["resource_level"], true);
    assert_eq!(
        arns_of(list, "bucket"),
        ["arn:${Partition}:s3:::${BucketName}"]
    );
    assert_eq!(list["resource_types"][0]["required"], true);
    assert_eq!(list["resource_types"][0]["condition_keys"][0], "s3:prefix");
    assert_eq!(list["condition_keys"][0], "s3:authType");
    let get = &v[1];
    assert_eq!(get["action"], "GetObject");
    assert_eq!(
        arns_of(get, "object"),
        ["arn:${Partition}:s3:::${BucketName}/${ObjectName}"]
    );
    assert_eq!(get["pages"][0], "list_amazons3.html");

    // The human view says which Resource to write.
    fx.cmd()
        .args(["action", "s3:ListBucket", "s3:GetObject"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Resource: arn:aws:s3:::*\n"))
        .stdout(predicate::str::contains("Resource: arn:aws:s3:::*/*"));
}

#[test]
fn action_details_dependent_and_permission_only() {
    let fx = Fx::new();
    let v = fx.json(&[
        "action",
        "s3:PutObject",
        "s3:InitiateReplication",
        "sqs:PurgeQueueAudit",
    ]);
    assert_eq!(
        v[0]["resource_types"][0]["dependent_actions"][0],
        "kms:GenerateDataKey"
    );
    assert_eq!(v[0]["condition_keys"][0], "aws:RequestTag/${TagKey}");
    assert_eq!(v[1]["permission_only"], true);
    assert_eq!(v[2]["permission_only"], true);
    // The July 2026 layout page's operations table links actions to APIs.
    let sqs = fx.json(&["action", "sqs:SendMessage"]);
    assert_eq!(sqs[0]["operations"][0]["operation"], "SendMessage");
}

#[test]
fn check_exit_codes() {
    let fx = Fx::new();
    fx.cmd()
        .args(["check", "s3:GetObject"])
        .assert()
        .code(0)
        .stdout("s3:GetObject\tresource-level\tobject*\n");
    fx.cmd()
        .args(["check", "s3:listallmybuckets"])
        .assert()
        .code(1)
        .stdout("s3:ListAllMyBuckets\twildcard-only\t*\n");
    fx.cmd()
        .args(["check", "s3:ListBuckets"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "unknown action s3:ListBuckets; did you mean s3:ListBucket?",
        ));
    fx.cmd()
        .args(["check", "s4:ListBucket"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("did you mean s3?"));
    fx.cmd()
        .args(["check", "s3:Get*"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not a pattern"));
}

#[test]
fn malformed_input_is_a_clear_error_not_a_panic() {
    let fx = Fx::new();
    // The OS caps one argument at 128 KiB; stay just under it.
    let huge = "s3:".to_string() + &"A".repeat(120_000);
    for (arg, msg) in [
        ("", "empty action"),
        ("s3ListBucket", "not SERVICE:ACTION"),
        ("s3:", "not SERVICE:ACTION"),
        ("s3:List\u{7}Bucket", "control character (U+0007)"),
        ("s3:List Bucket", "not SERVICE:ACTION"),
        (huge.as_str(), "bytes long"),
    ] {
        let out = fx.cmd().args(["action", arg]).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{arg:.40}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(msg), "{arg:.40}: {err}");
        assert!(!err.contains("panicked"), "{err}");
        assert!(err.len() < 400, "the error should not echo a huge argument");
    }
}

#[test]
fn expand_matches_like_iam() {
    let fx = Fx::new();
    fx.cmd()
        .args(["expand", "s3:list*", "S3:?etObject"])
        .assert()
        .success()
        .stdout("s3:GetObject\ns3:ListAllMyBuckets\ns3:ListBucket\n");
    fx.cmd()
        .args(["expand", "*:ListQ*"])
        .assert()
        .success()
        .stdout("sqs:ListQueues\n");
    fx.cmd()
        .args(["expand", "s3:Nothing*"])
        .assert()
        .code(1)
        .stdout("");
    let v = fx.json(&["expand", "sqs:*"]);
    let names: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["sqs:ListQueues", "sqs:PurgeQueueAudit", "sqs:SendMessage"]
    );
}

#[test]
fn actions_filters_combine() {
    let fx = Fx::new();
    let names = |args: &[&str]| -> Vec<String> {
        let v = fx.json(args);
        v.as_array()
            .unwrap()
            .iter()
            .map(|x| {
                format!(
                    "{}:{}",
                    x["prefix"].as_str().unwrap(),
                    x["action"].as_str().unwrap()
                )
            })
            .collect()
    };
    assert_eq!(
        names(&["actions", "--wildcard-only"]),
        ["s3:ListAllMyBuckets", "sqs:ListQueues"]
    );
    assert_eq!(
        names(&["actions", "--access-level", "WRITE", "--service", "s3"]),
        ["s3:InitiateReplication", "s3:PutObject"]
    );
    assert_eq!(
        names(&["actions", "--permission-only"]),
        ["s3:InitiateReplication", "sqs:PurgeQueueAudit"]
    );
    assert_eq!(
        names(&[
            "actions",
            "--resource-type",
            "s3:object",
            "--access-level",
            "read"
        ]),
        ["s3:GetObject"]
    );
    assert_eq!(
        names(&["actions", "--condition-key", "s3:prefix"]),
        ["s3:ListBucket"]
    );
    fx.cmd()
        .args(["actions", "--access-level", "sometimes"])
        .assert()
        .code(2);
    fx.cmd()
        .args(["actions", "--service", "sqs", "--access-level", "tagging"])
        .assert()
        .code(1);
    // TSV has a header row and one line per action.
    fx.cmd()
        .args(["actions", "--service", "sqs", "--format", "tsv"])
        .assert()
        .success()
        .stdout("action\taccess_level\tresource_types\nsqs:ListQueues\tList\t\nsqs:PurgeQueueAudit\tRead\tqueue\nsqs:SendMessage\tWrite\tqueue*\n");
}

#[test]
fn arn_tells_bucket_from_objects() {
    let fx = Fx::new();
    let v = fx.json(&["arn", "arn:aws:s3:::awsexamplebucket1"]);
    assert_eq!(v.as_array().unwrap().len(), 1);
    assert_eq!(v[0]["resource_type"], "bucket");
    assert_eq!(v[0]["actions"][0], "s3:ListBucket");
    let v = fx.json(&["arn", "arn:aws:s3:::awsexamplebucket1/*"]);
    assert_eq!(v.as_array().unwrap().len(), 1);
    assert_eq!(v[0]["resource_type"], "object");
    fx.cmd()
        .args(["arn", "arn:aws:ec2:us-east-1:1:instance/i-1"])
        .assert()
        .code(1);
    fx.cmd()
        .args(["arn", "not-an-arn"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("is not an ARN"));
}

#[test]
fn service_resource_type_and_condition_key() {
    let fx = Fx::new();
    let v = fx.json(&["service", "S3"]);
    assert_eq!(v[0]["name"], "Amazon S3");
    assert_eq!(v[0]["actions"], 5);
    let v = fx.json(&["resource-type", "s3:object"]);
    let actions: Vec<&str> = v[0]["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["s3:GetObject", "s3:InitiateReplication", "s3:PutObject"]
    );
    fx.cmd()
        .args(["resource-type", "s3:objekt"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("did you mean s3:object?"));
    // A concrete tag key finds the ${TagKey} template, in both services.
    let v = fx.json(&["condition-key", "aws:RequestTag/team"]);
    assert_eq!(v[0]["condition_key"], "aws:RequestTag/${TagKey}");
    let users: Vec<&str> = v[0]["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["action"].as_str().unwrap())
        .collect();
    assert_eq!(users, ["s3:PutObject", "sqs:SendMessage"]);
    let v = fx.json(&["services"]);
    assert_eq!(v.as_array().unwrap().len(), 2);
}

#[test]
fn sql_is_read_only() {
    let fx = Fx::new();
    fx.cmd()
        .args([
            "sql",
            "SELECT prefix, action FROM v_actions WHERE resource_level = 0 ORDER BY 1, 2",
            "--format",
            "tsv",
        ])
        .assert()
        .success()
        .stdout("prefix\taction\ns3\tListAllMyBuckets\nsqs\tListQueues\n");
    for stmt in [
        "DELETE FROM actions",
        "DROP VIEW v_actions",
        "PRAGMA user_version = 7",
    ] {
        fx.cmd().args(["sql", stmt]).assert().code(2);
    }
    fx.cmd()
        .args(["sql", "SELEC nonsense"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("SQL:"));
    let v = fx.json(&[
        "sql",
        "SELECT prefix, action, arn FROM v_action_resource_types WHERE action = 'ListBucket'",
    ]);
    assert_eq!(v[0]["arn"], "arn:${Partition}:s3:::${BucketName}");
}

#[test]
fn build_refuses_bad_input_and_keeps_the_old_database() {
    let fx = Fx::new();
    let before = std::fs::read(&fx.db).unwrap();
    let bad = fx.dir.path().join("bad");
    std::fs::create_dir(&bad).unwrap();
    std::fs::copy(
        fixtures().join("list_amazons3.html"),
        bad.join("list_amazons3.html"),
    )
    .unwrap();
    std::fs::write(bad.join("list_broken.html"), "<html><body><h1>Actions, resources, and condition keys for X</h1><p>no prefix here</p></body></html>").unwrap();
    fx.cmd()
        .args(["build", "--from-dir"])
        .arg(&bad)
        .arg("--out")
        .arg(&fx.db)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("list_broken.html"))
        .stderr(predicate::str::contains("no service prefix"));
    assert_eq!(
        std::fs::read(&fx.db).unwrap(),
        before,
        "the old database must be untouched"
    );
    fx.cmd()
        .args(["build", "--from-dir", "/nonexistent/iamref", "--out"])
        .arg(&fx.db)
        .assert()
        .code(2);
    // A folder without pages.
    let empty = fx.dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    fx.cmd()
        .args(["build", "--from-dir"])
        .arg(&empty)
        .arg("--out")
        .arg(&fx.db)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no service pages"));
    // No leftovers from failed builds.
    let leftovers: Vec<_> = std::fs::read_dir(fx.dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with(".iamref"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn builds_are_deterministic_and_export_round_trips() {
    let fx = Fx::new();
    let a = fx.dir.path().join("a");
    let b = fx.dir.path().join("b");
    for d in [&a, &b] {
        fx.cmd()
            .args(["build", "-q", "--from-dir"])
            .arg(fixtures())
            .arg("--snapshot-dir")
            .arg(d)
            .assert()
            .success();
    }
    for f in ["manifest.json", "services/s3.json", "services/sqs.json"] {
        assert_eq!(
            std::fs::read(a.join(f)).unwrap(),
            std::fs::read(b.join(f)).unwrap(),
            "{f}"
        );
    }
    // Exporting the database as a snapshot gives the same files.
    let c = fx.dir.path().join("c");
    fx.cmd()
        .args(["export", "--format", "snapshot"])
        .arg(&c)
        .assert()
        .success();
    for f in ["manifest.json", "services/s3.json", "services/sqs.json"] {
        assert_eq!(
            String::from_utf8(std::fs::read(a.join(f)).unwrap()).unwrap(),
            String::from_utf8(std::fs::read(c.join(f)).unwrap()).unwrap(),
            "{f}"
        );
    }
    let j = fx.dir.path().join("x.json");
    fx.cmd().args(["export"]).arg(&j).assert().success();
    let v: Value = serde_json::from_slice(&std::fs::read(&j).unwrap()).unwrap();
    assert_eq!(v["manifest"]["counts"]["actions"], 8);
    let s = fx.dir.path().join("x.sqlite");
    fx.cmd()
        .args(["export", "--format", "sqlite"])
        .arg(&s)
        .assert()
        .success();
    iamref(fx.dir.path())
        .arg("--db")
        .arg(&s)
        .args(["check", "s3:GetObject"])
        .assert()
        .code(0);
    fx.cmd()
        .args(["export", "--format", "yaml", "x"])
        .assert()
        .code(2);
}

#[test]
fn missing_or_foreign_database_says_how_to_fix() {
    let dir = TempDir::new().unwrap();
    iamref(dir.path())
        .args(["--db", "/nonexistent/x.sqlite", "action", "s3:GetObject"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("iamref build"));
    let junk = dir.path().join("junk.sqlite");
    std::fs::write(&junk, b"this is not sqlite").unwrap();
    iamref(dir.path())
        .arg("--db")
        .arg(&junk)
        .args(["action", "s3:GetObject"])
        .assert()
        .code(2);
}

#[test]
fn completions_and_man_page() {
    let dir = TempDir::new().unwrap();
    iamref(dir.path())
        .args(["completions", "bash"])
        .assert()
        .success()
        .stdout(predicate::str::contains("iamref"));
    iamref(dir.path())
        .arg("man")
        .assert()
        .success()
        .stdout(predicate::str::contains(".TH iamref"));
    iamref(dir.path())
        .arg("--help")
        .assert()
        .success()
        .stdout(predicate::str::contains("EXIT CODES"));
    iamref(dir.path()).arg("frobnicate").assert().code(2);
}

// ---------------------------------------------------------------------------
// The shipped snapshot (data/, embedded in the binary).
// ---------------------------------------------------------------------------

#[test]
fn shipped_snapshot_answers_with_no_database_given() {
    let dir = TempDir::new().unwrap();
    let out = iamref(dir.path())
        .args([
            "action",
            "s3:ListBucket",
            "s3:GetObject",
            "s3:ListAllMyBuckets",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        arns_of(&v[0], "bucket"),
        ["arn:${Partition}:s3:::${BucketName}"]
    );
    assert_eq!(
        arns_of(&v[1], "object"),
        ["arn:${Partition}:s3:::${BucketName}/${ObjectName}"]
    );
    assert_eq!(v[2]["resource_level"], false);
    assert_eq!(v[2]["resource_types"].as_array().unwrap().len(), 0);
    // The second run reuses the materialized database (and its seal,
    // `.ok`, recording its size).
    let files: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(files.len(), 2);
    iamref(dir.path())
        .args(["check", "ec2:DescribeInstances"])
        .assert()
        .code(1);
    iamref(dir.path())
        .args(["check", "ec2:TerminateInstances"])
        .assert()
        .code(0);
}

#[test]
fn closed_pipe_is_not_an_error() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    let dir = TempDir::new().unwrap();
    let mut child = crate::support::iamref_process(dir.path())
        .args(["expand", "*:*"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    // The reader is dropped here: the pipe is closed after one line.
    let out = child.wait_with_output().unwrap();
    assert!(first.contains(':'), "{first}");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

// ---------------------------------------------------------------------------
// policy check / policy write
// ---------------------------------------------------------------------------

// `policy check` is tested in policy_check.rs.

#[test]
fn policy_write_scopes_each_action() {
    let fx = Fx::new();
    // `--format json`: the policy and the notes.
    let v = fx.json(&[
        "policy",
        "write",
        "s3:GetObject",
        "s3:ListBucket",
        "s3:ListAllMyBuckets",
        "-r",
        "arn:aws:s3:::mybucket",
        "-r",
        "arn:aws:s3:::mybucket/*",
    ]);
    // ListAllMyBuckets takes only "*": reported, since ARNs were given.
    assert_eq!(v["notes"].as_array().unwrap().len(), 1);
    assert_eq!(v["notes"][0]["code"], "wildcard-only");
    assert_eq!(v["notes"][0]["action"], "s3:ListAllMyBuckets");
    let v = v["policy"].clone();
    assert_eq!(v["Version"], "2012-10-17");
    let st = v["Statement"].as_array().unwrap();
    let by_action = |a: &str| {
        st.iter()
            .find(|s| s["Action"].as_array().unwrap().iter().any(|x| x == a))
            .unwrap()
            .clone()
    };
    assert_eq!(
        by_action("s3:GetObject")["Resource"],
        "arn:aws:s3:::mybucket/*"
    );
    assert_eq!(
        by_action("s3:ListBucket")["Resource"],
        "arn:aws:s3:::mybucket"
    );
    assert_eq!(by_action("s3:ListAllMyBuckets")["Resource"], "*");
    // Without ARNs, the required resource types' patterns.
    let v = fx.json(&["policy", "write", "s3:PutObject"])["policy"].clone();
    assert_eq!(v["Statement"][0]["Resource"], "arn:aws:s3:::*/*");
    assert_eq!(v["Statement"][0]["Sid"], "S3Object");
    // The written policy passes the checker.
    let p = fx.dir.path().join("w.json");
    let out = fx
        .cmd()
        .args(["policy", "write", "s3:*", "sqs:*"])
        .output()
        .unwrap();
    std::fs::write(&p, &out.stdout).unwrap();
    fx.cmd().args(["policy", "check"]).arg(&p).assert().code(0);
}

#[test]
fn calls_feed_policy_write() {
    let fx = Fx::new();
    // The July 2026 fixture page maps SendMessage to sqs:SendMessage and
    // kms:GenerateDataKey (kms has no page in the fixture database).
    let calls = fx
        .cmd()
        .args(["calls", "-"])
        .write_stdin("sqs:SendMessage\nsqs ListQueues\n")
        .output()
        .unwrap();
    assert_eq!(
        calls.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&calls.stderr)
    );
    let text = String::from_utf8(calls.stdout).unwrap();
    let actions: Vec<&str> = text
        .lines()
        .map(|l| l.split('\t').next().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["kms:GenerateDataKey", "sqs:ListQueues", "sqs:SendMessage"]
    );
    // Piped into policy write (unknown kms actions are an error there).
    let known: String = actions
        .iter()
        .filter(|a| a.starts_with("sqs:"))
        .map(|a| format!("{a}\n"))
        .collect();
    let out = fx
        .cmd()
        .args(["policy", "write", "-"])
        .write_stdin(known)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let st = v["Statement"].as_array().unwrap();
    // Scoped statements first, then the wildcard-only one.
    assert_eq!(st.len(), 2);
    assert_eq!(st[0]["Action"][0], "sqs:SendMessage");
    assert_eq!(st[0]["Resource"], "arn:aws:sqs:*:*:*");
    assert_eq!(st[1]["Action"][0], "sqs:ListQueues");
    assert_eq!(st[1]["Resource"], "*");
}

/// The everyday ARNs issue 8 found reported as matching nothing: policy
/// variables and names with `/`, against the shipped snapshot.
#[test]
fn arn_matches_variables_and_names_with_slashes() {
    let dir = TempDir::new().unwrap();
    let types = |arn: &str| -> Vec<String> {
        let out = iamref(dir.path())
            .args(["arn", arn, "--format", "json"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{arn}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        v.as_array()
            .unwrap()
            .iter()
            .map(|m| {
                format!(
                    "{}:{}",
                    m["prefix"].as_str().unwrap(),
                    m["resource_type"].as_str().unwrap()
                )
            })
            .collect()
    };
    assert!(types("arn:aws:iam::*:user/${aws:username}").contains(&"iam:user".to_string()));
    let home = types("arn:aws:s3:::b/home/${aws:username}/*");
    assert!(home.contains(&"s3:object".to_string()), "{home:?}");
    assert!(!home.contains(&"s3:bucket".to_string()), "{home:?}");
    assert!(!home.contains(&"ssm:bucket".to_string()), "{home:?}");
    // One answer with check and write: `…:log-group:G:*` is how AWS writes
    // the log group (ranked first), and it also reaches G's streams.
    assert_eq!(
        types("arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/my-fn:*"),
        ["logs:log-group", "logs:log-stream"]
    );
    assert!(
        types("arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf")
            .contains(&"secretsmanager:Secret".to_string())
    );
    assert_eq!(
        types("arn:aws:dynamodb:us-east-1:123456789012:table/Books/index/ByAuthor"),
        ["dynamodb:index"]
    );
    assert_eq!(
        types("arn:aws:dynamodb:us-east-1:123456789012:table/Books"),
        ["dynamodb:table"]
    );
    // An availability zone is named, and the ARN still matched.
    iamref(dir.path())
        .args(["arn", "arn:aws:ec2:us-east-1f:123456789012:instance/i-1"])
        .assert()
        .success()
        .stderr(predicate::str::contains("availability zone"));
}
