//! `iamref policy write` and `iamref policy tighten`, run as a user would,
//! on the snapshot shipped in `data/` (no database given). Resources are
//! asserted exactly.

use assert_cmd::Command;
use serde_json::{json, Value};
use std::path::PathBuf;

fn iamref() -> Command {
    // One cache for every test of this module: the snapshot is materialized
    // once (atomically) and then read.
    let cache = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("write-cli-cache");
    crate::support::iamref(&cache)
}

fn templates() -> PathBuf {
    crate::support::fixtures().join("templates")
}

/// Runs `iamref ARGS`, expecting `code`; returns (stdout, stderr).
fn run(args: &[&str], code: i32) -> (String, String) {
    let out = iamref().args(args).output().unwrap();
    let (o, e) = (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    );
    assert_eq!(
        out.status.code(),
        Some(code),
        "{args:?}\nstdout:\n{o}\nstderr:\n{e}"
    );
    (o, e)
}

fn policy(args: &[&str]) -> (Value, String) {
    let (o, e) = run(args, 0);
    (serde_json::from_str(&o).unwrap(), e)
}

/// Action → Resource (as written), over all statements.
fn resource_of(p: &Value, action: &str) -> Value {
    p["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["Action"].as_array().unwrap().iter().any(|a| a == action))
        .unwrap_or_else(|| panic!("{action} not granted in {p:#}"))["Resource"]
        .clone()
}

#[test]
fn bucket_and_its_objects_as_the_aws_docs_teach() {
    let (p, err) = policy(&[
        "policy",
        "write",
        "s3:ListBucket",
        "s3:GetObject",
        "s3:PutObject",
        "-r",
        "arn:aws:s3:::awsexamplebucket1",
    ]);
    assert_eq!(
        p,
        json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "S3Bucket", "Effect": "Allow", "Action": ["s3:ListBucket"],
             "Resource": "arn:aws:s3:::awsexamplebucket1"},
            {"Sid": "S3Object", "Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"],
             "Resource": "arn:aws:s3:::awsexamplebucket1/*"}
        ]})
    );
    assert_eq!(
        err,
        "iamref: warning: derived: s3:GetObject: arn:aws:s3:::awsexamplebucket1/* (object) derived from arn:aws:s3:::awsexamplebucket1\n\
         iamref: warning: derived: s3:PutObject: arn:aws:s3:::awsexamplebucket1/* (object) derived from arn:aws:s3:::awsexamplebucket1\n"
    );
    // --format json carries the notes too; -q keeps only widening ones
    // (derivation is reported as widening: objects were not named).
    let (o, _) = run(
        &[
            "policy",
            "write",
            "s3:GetObject",
            "-r",
            "arn:aws:s3:::awsexamplebucket1",
            "--format",
            "json",
        ],
        0,
    );
    let v: Value = serde_json::from_str(&o).unwrap();
    assert_eq!(v["notes"][0]["code"], "derived");
    assert_eq!(v["notes"][0]["widens"], true);
    assert_eq!(
        v["notes"][0]["resources"],
        json!(["arn:aws:s3:::awsexamplebucket1/*"])
    );
    assert_eq!(
        v["notes"][0]["from"],
        json!(["arn:aws:s3:::awsexamplebucket1"])
    );
    assert_eq!(
        v["policy"]["Statement"][0]["Resource"],
        "arn:aws:s3:::awsexamplebucket1/*"
    );
}

#[test]
fn names_with_slashes_and_policy_variables_are_kept_exactly() {
    let secret = "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf";
    let (p, err) = policy(&[
        "policy",
        "write",
        "secretsmanager:GetSecretValue",
        "-r",
        secret,
    ]);
    assert_eq!(resource_of(&p, "secretsmanager:GetSecretValue"), secret);
    assert_eq!(err, "");

    let lg = "arn:aws:logs:us-east-1:123456789012:log-group:/app/prod";
    let (p, _) = policy(&[
        "policy",
        "write",
        "logs:CreateLogGroup",
        "logs:PutLogEvents",
        "-r",
        lg,
    ]);
    assert_eq!(resource_of(&p, "logs:CreateLogGroup"), lg);
    assert_eq!(
        resource_of(&p, "logs:PutLogEvents"),
        "arn:aws:logs:us-east-1:123456789012:log-group:/app/prod:log-stream:*"
    );

    let home = "arn:aws:s3:::b/home/${aws:username}/*";
    let (p, _) = policy(&[
        "policy",
        "write",
        "s3:GetObject",
        "s3:ListBucket",
        "-r",
        home,
    ]);
    assert_eq!(resource_of(&p, "s3:GetObject"), home);
    assert_eq!(resource_of(&p, "s3:ListBucket"), "arn:aws:s3:::b");
}

#[test]
fn run_instances_stops_and_widens_only_when_told() {
    let inst = "arn:aws:ec2:us-east-1:123456789012:instance/*";
    let (o, e) = run(&["policy", "write", "ec2:RunInstances", "-r", inst], 2);
    assert_eq!(o, "");
    assert!(e.starts_with("iamref: error: 1 action cannot be scoped to the ARNs given without widening:\n  ec2:RunInstances: needs image (arn:${Partition}:ec2:${Region}::image/${ImageId}), network-interface"), "{e}");
    assert!(
        e.contains(&format!("given {inst}; --widen would grant")),
        "{e}"
    );
    assert!(
        e.contains("subnet (arn:${Partition}:ec2:${Region}:${Account}:subnet/${SubnetId})"),
        "{e}"
    );

    let (p, e) = policy(&["policy", "write", "ec2:RunInstances", "-r", inst, "--widen"]);
    assert_eq!(
        resource_of(&p, "ec2:RunInstances"),
        json!([
            "arn:aws:ec2:*:*:network-interface/*",
            "arn:aws:ec2:*:*:security-group/*",
            "arn:aws:ec2:*:*:subnet/*",
            "arn:aws:ec2:*::image/*",
            inst
        ])
    );
    let widened: Vec<&str> = e
        .lines()
        .filter(|l| l.starts_with("iamref: warning: widened: ec2:RunInstances: "))
        .collect();
    assert_eq!(widened.len(), 1, "{e}");
    // -q keeps what widens and drops the rest (dependent-action notes).
    let (_, quiet) = run(
        &[
            "policy",
            "write",
            "ec2:RunInstances",
            "-r",
            inst,
            "--widen",
            "-q",
        ],
        0,
    );
    assert!(quiet.contains("iamref: warning: widened:"), "{quiet}");
    assert!(!quiet.contains("dependent-action"), "{quiet}");
    assert!(
        e.contains("iamref: note: dependent-action: iam:PassRole: "),
        "{e}"
    );
}

#[test]
fn dependent_actions_never_land_on_star_silently() {
    let (p, e) = policy(&["policy", "write", "ec2:RunInstances", "--include-dependent"]);
    assert_eq!(resource_of(&p, "iam:PassRole"), "arn:aws:iam::*:role/*");
    assert!(
        e.contains("iamref: note: dependent-included: iam:PassRole: "),
        "{e}"
    );
    assert!(
        e.contains("iamref: warning: generic: iam:PassRole: "),
        "{e}"
    );
}

#[test]
fn wildcard_only_actions_get_their_own_statement() {
    let (p, e) = policy(&[
        "policy",
        "write",
        "s3:ListAllMyBuckets",
        "s3:GetObject",
        "-r",
        "arn:aws:s3:::b/*",
    ]);
    assert_eq!(p["Statement"][1]["Sid"], "WildcardOnly");
    assert_eq!(p["Statement"][1]["Action"], json!(["s3:ListAllMyBuckets"]));
    assert_eq!(p["Statement"][1]["Resource"], "*");
    assert!(
        e.contains("iamref: warning: wildcard-only: s3:ListAllMyBuckets: "),
        "{e}"
    );
}

#[test]
fn access_level_mode_lets_the_arn_pick_the_resource_type() {
    let (p, _) = policy(&["policy", "write", "--read", "arn:aws:s3:::b"]);
    let st = p["Statement"].as_array().unwrap();
    assert_eq!(st.len(), 1);
    assert_eq!(st[0]["Resource"], "arn:aws:s3:::b");
    let acts = st[0]["Action"].as_array().unwrap();
    assert!(acts.contains(&json!("s3:GetBucketPolicy")));
    assert!(!acts.contains(&json!("s3:GetObject")));

    // Object reads are exactly the Read actions taking the object type.
    let (p, _) = policy(&["policy", "write", "--read", "arn:aws:s3:::b/*"]);
    let (o, _) = run(
        &["sql", "SELECT DISTINCT 's3:' || action FROM v_action_resource_types JOIN v_actions USING (prefix, action) \
           WHERE prefix = 's3' AND resource_type = 'object' AND access_level = 'Read' ORDER BY lower(action)", "-f", "tsv"],
        0,
    );
    let want: Vec<&str> = o.lines().skip(1).collect();
    assert!(want.len() > 5, "{o}");
    assert_eq!(p["Statement"][0]["Action"], json!(want));
    assert_eq!(p["Statement"][0]["Resource"], "arn:aws:s3:::b/*");

    // --exclude and a bad ARN.
    let (p, _) = policy(&[
        "policy",
        "write",
        "--read",
        "arn:aws:s3:::b/*",
        "--exclude",
        "s3:GetObjectVersion*",
    ]);
    assert!(!p["Statement"][0]["Action"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a.as_str().unwrap().starts_with("s3:GetObjectVersion")));
    let (_, e) = run(
        &["policy", "write", "--read", "arn:aws:s3:us-east-1f::b"],
        2,
    );
    assert!(e.contains("availability zone"), "{e}");
}

/// The policy_sentry-format templates in tests/fixtures/templates,
/// compared with what the data says.
#[test]
fn policy_sentry_crud_template_matches_the_data() {
    let t = templates().join("crud-bucket-queue.yml");
    let (p, e) = policy(&["policy", "write", "--template", t.to_str().unwrap()]);
    assert_eq!(e, "");
    let sql = |level: &str, prefix: &str, rt: &str, exclude: &str| -> Vec<String> {
        let q = format!(
            "SELECT DISTINCT '{prefix}:' || action FROM v_action_resource_types JOIN v_actions USING (prefix, action) \
             WHERE prefix = '{prefix}' AND resource_type = '{rt}' AND access_level = '{level}' \
             AND action NOT LIKE '{exclude}' ORDER BY lower(action)"
        );
        let (o, _) = run(&["sql", &q, "-f", "tsv"], 0);
        o.lines().skip(1).map(str::to_string).collect()
    };
    // read + write on objects (minus s3:DeleteObject*), list on the bucket,
    // write on the queue (minus sqs:Delete*): each an action set of the data.
    let mut objects = sql("Read", "s3", "object", "DeleteObject%");
    objects.extend(sql("Write", "s3", "object", "DeleteObject%"));
    objects.sort_by_key(|a| a.to_ascii_lowercase());
    objects.dedup();
    let by_sid = |sid: &str| {
        p["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["Sid"] == sid)
            .unwrap_or_else(|| panic!("no {sid} in {p:#}"))
            .clone()
    };
    assert_eq!(by_sid("S3Object")["Action"], json!(objects));
    assert_eq!(
        by_sid("S3Object")["Resource"],
        "arn:aws:s3:::awsexamplebucket1/*"
    );
    assert_eq!(
        by_sid("S3Bucket")["Action"],
        json!(sql("List", "s3", "bucket", "-"))
    );
    assert_eq!(
        by_sid("S3Bucket")["Resource"],
        "arn:aws:s3:::awsexamplebucket1"
    );
    assert_eq!(
        by_sid("SqsQueue")["Action"],
        json!(sql("Write", "sqs", "queue", "Delete%"))
    );
    assert_eq!(
        by_sid("SqsQueue")["Resource"],
        "arn:aws:sqs:us-east-1:123456789012:orders"
    );
    assert_eq!(p["Statement"].as_array().unwrap().len(), 3);
}

#[test]
fn policy_sentry_actions_and_wildcard_templates() {
    let t = templates().join("actions.yml");
    let (o, e) = run(
        &[
            "policy",
            "write",
            "--template",
            t.to_str().unwrap(),
            "--format",
            "yaml",
        ],
        0,
    );
    assert_eq!(
        o,
        "Version: '2012-10-17'\nStatement:\n\
         - Sid: 'Ec2SecurityGroup'\n  Effect: 'Allow'\n  Action:\n  - 'ec2:AuthorizeSecurityGroupEgress'\n  - 'ec2:AuthorizeSecurityGroupIngress'\n  Resource: 'arn:aws:ec2:*:*:security-group/*'\n\
         - Sid: 'KmsKey'\n  Effect: 'Allow'\n  Action:\n  - 'kms:CreateGrant'\n  Resource: 'arn:aws:kms:*:*:key/*'\n\
         - Sid: 'WildcardOnly'\n  Effect: 'Allow'\n  Action:\n  - 'kms:CreateCustomKeyStore'\n  Resource: '*'\n"
    );
    // policy_sentry adds dependent actions on "*"; iamref lists them.
    assert!(
        e.contains("iamref: note: dependent-action: iam:CreateServiceLinkedRole: "),
        "{e}"
    );

    let t = templates().join("wildcard-only.yml");
    let (o, e) = run(
        &[
            "policy",
            "write",
            "--template",
            t.to_str().unwrap(),
            "--format",
            "terraform",
        ],
        0,
    );
    assert!(o.starts_with("data \"aws_iam_policy_document\" \"policy\" {\n  version = \"2012-10-17\"\n\n  statement {\n    sid       = \"WildcardOnly\"\n"), "{o}");
    assert!(o.contains("\"ecr:GetAuthorizationToken\""), "{o}");
    assert!(o.contains("\"s3:ListAllMyBuckets\""), "{o}");
    assert!(!o.contains("\"s3:GetObject\""), "{o}");
    assert!(o.contains("    resources = [\"*\"]\n"), "{o}");
    assert_eq!(
        e,
        "iamref: note: not-wildcard-only: s3:GetObject: left out of wildcard-only: it supports resource-level permissions; name it with -r ARNs instead\n"
    );
}

#[test]
fn bad_templates_name_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let t = dir.path().join("t.yml");
    std::fs::write(&t, "mode: crud\nread:\n- arn:aws:s3:::b\n- s3-bucket\n").unwrap();
    let (_, e) = run(&["policy", "write", "--template", t.to_str().unwrap()], 2);
    assert!(
        e.contains("t.yml: line 4, column 3: read: \"s3-bucket\" is not an ARN"),
        "{e}"
    );
    std::fs::write(&t, "mode: crud\nraed:\n- arn:aws:s3:::b\n").unwrap();
    let (_, e) = run(&["policy", "write", "--template", t.to_str().unwrap()], 2);
    assert!(e.contains("unknown field `raed`"), "{e}");
}

#[test]
fn unknown_actions_and_bad_arns_are_exit_2_with_a_suggestion() {
    let (_, e) = run(&["policy", "write", "s3:GetObjekt"], 2);
    assert!(e.contains("did you mean s3:GetObject?"), "{e}");
    let (_, e) = run(
        &[
            "policy",
            "write",
            "s3:GetObject",
            "-r",
            "arn:aws:s3::bucket",
        ],
        2,
    );
    assert!(e.contains("arn:aws:s3::bucket"), "{e}");
    let (_, e) = run(&["policy", "write"], 2);
    assert!(e.contains("nothing to write"), "{e}");
}

#[test]
fn stdin_from_iamref_calls() {
    let calls = iamref()
        .args(["calls", "-"])
        .write_stdin("s3 GetObject\n")
        .output()
        .unwrap();
    assert!(calls.status.success());
    // GetObject also needs s3-object-lambda:GetObject (and more), which
    // an S3 object ARN cannot scope: a stop naming it, then --widen.
    let out = iamref()
        .args(["policy", "write", "-", "-r", "arn:aws:s3:::b/*"])
        .write_stdin(calls.stdout.clone())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let e = String::from_utf8(out.stderr).unwrap();
    assert!(
        e.contains("\n  s3-object-lambda:GetObject: needs objectlambdaaccesspoint"),
        "{e}"
    );
    let out = iamref()
        .args(["policy", "write", "-", "-r", "arn:aws:s3:::b/*", "--widen"])
        .write_stdin(calls.stdout)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let p: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(resource_of(&p, "s3:GetObject"), "arn:aws:s3:::b/*");
    assert_eq!(
        resource_of(&p, "s3-object-lambda:GetObject"),
        "arn:aws:s3-object-lambda:*:*:accesspoint/*"
    );
    let e = String::from_utf8(out.stderr).unwrap();
    assert!(
        e.contains("iamref: warning: widened: s3-object-lambda:GetObject: "),
        "{e}"
    );
    // Per-line ARNs scope that line's action.
    let out = iamref()
        .args(["policy", "write", "-"])
        .write_stdin("s3:GetObject\tarn:aws:s3:::one/*\nsqs:SendMessage arn:aws:sqs:us-east-1:123456789012:q\n")
        .output()
        .unwrap();
    let p: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(resource_of(&p, "s3:GetObject"), "arn:aws:s3:::one/*");
    assert_eq!(
        resource_of(&p, "sqs:SendMessage"),
        "arn:aws:sqs:us-east-1:123456789012:q"
    );
}

#[test]
fn tighten_splits_the_combined_statement() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("combined.json");
    std::fs::write(
        &f,
        r#"{"Version": "2012-10-17", "Statement": [
  {"Sid": "Combined", "Effect": "Allow",
   "Action": ["s3:GetObject", "s3:GetObjectVersion", "s3:ListBucket"],
   "Resource": ["arn:aws:s3:::awsexamplebucket1", "arn:aws:s3:::awsexamplebucket1/*"],
   "Condition": {"Bool": {"aws:SecureTransport": "true"}}},
  {"Sid": "DenyDelete", "Effect": "Deny", "Action": "s3:Delete*", "Resource": "*"}
]}"#,
    )
    .unwrap();
    let (o, e) = run(&["policy", "tighten", f.to_str().unwrap()], 1);
    let p: Value = serde_json::from_str(&o).unwrap();
    let cond = json!({"Bool": {"aws:SecureTransport": "true"}});
    assert_eq!(
        p["Statement"],
        json!([
            {"Sid": "Combined", "Effect": "Allow", "Action": ["s3:GetObject", "s3:GetObjectVersion"],
             "Resource": "arn:aws:s3:::awsexamplebucket1/*", "Condition": cond},
            {"Sid": "Combined2", "Effect": "Allow", "Action": ["s3:ListBucket"],
             "Resource": "arn:aws:s3:::awsexamplebucket1", "Condition": cond},
            {"Sid": "DenyDelete", "Effect": "Deny", "Action": "s3:Delete*", "Resource": "*"}
        ])
    );
    assert_eq!(
        e,
        "statement 0 (Combined): - s3:GetObject on arn:aws:s3:::awsexamplebucket1: not a resource type it takes\n\
         statement 0 (Combined): - s3:GetObjectVersion on arn:aws:s3:::awsexamplebucket1: not a resource type it takes\n\
         statement 0 (Combined): - s3:ListBucket on arn:aws:s3:::awsexamplebucket1/*: not a resource type it takes\n"
    );
    // Already tight: unchanged, exit 0.
    let tight = dir.path().join("tight.json");
    std::fs::write(&tight, &o).unwrap();
    let (o2, e2) = run(&["policy", "tighten", tight.to_str().unwrap()], 0);
    assert_eq!(serde_json::from_str::<Value>(&o2).unwrap(), p);
    assert_eq!(e2, "");

    // --expand-wildcards: the listed actions the Resources allow.
    let w = dir.path().join("w.json");
    std::fs::write(&w, r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:List*","Resource":"arn:aws:s3:::b"}]}"#).unwrap();
    let (o, _) = run(
        &[
            "policy",
            "tighten",
            "--expand-wildcards",
            w.to_str().unwrap(),
        ],
        1,
    );
    let p: Value = serde_json::from_str(&o).unwrap();
    let acts = p["Statement"][0]["Action"].as_array().unwrap();
    assert!(acts.contains(&json!("s3:ListBucket")));
    assert!(!acts.contains(&json!("s3:ListAllMyBuckets")));
    let (o, _) = run(&["policy", "tighten", w.to_str().unwrap()], 0);
    assert_eq!(
        serde_json::from_str::<Value>(&o).unwrap()["Statement"][0]["Action"],
        "s3:List*"
    );
    // Not JSON: exit 2 with the place.
    std::fs::write(&w, "{\"Version\": ").unwrap();
    let (_, e) = run(&["policy", "tighten", w.to_str().unwrap()], 2);
    assert!(e.contains("line 1"), "{e}");
}

/// What `policy write` and `policy tighten` print passes `iamref policy
/// check` with no error.
#[test]
fn written_policies_check_with_no_error() {
    let dir = tempfile::tempdir().unwrap();
    let t = templates();
    let runs: Vec<Vec<String>> = vec![
        vec![
            "s3:ListBucket",
            "s3:GetObject",
            "s3:PutObject",
            "-r",
            "arn:aws:s3:::awsexamplebucket1",
        ],
        vec![
            "ec2:RunInstances",
            "-r",
            "arn:aws:ec2:us-east-1:123456789012:instance/*",
            "--widen",
            "--include-dependent",
        ],
        vec![
            "logs:PutLogEvents",
            "logs:CreateLogGroup",
            "-r",
            "arn:aws:logs:us-east-1:123456789012:log-group:/app/prod",
        ],
        vec![
            "s3:GetObject",
            "s3:ListBucket",
            "-r",
            "arn:aws:s3:::b/home/${aws:username}/*",
        ],
        vec![
            "secretsmanager:GetSecretValue",
            "kms:Decrypt",
            "-r",
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf",
            "-r",
            "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        ],
        vec![
            "--read",
            "arn:aws:s3:::b",
            "--write",
            "arn:aws:s3:::b/*",
            "--list",
            "arn:aws:s3:::b",
        ],
        vec![
            "--template",
            t.join("crud-bucket-queue.yml").to_str().unwrap(),
        ],
        vec!["--template", t.join("actions.yml").to_str().unwrap()],
        vec!["--template", t.join("wildcard-only.yml").to_str().unwrap()],
        vec![
            "dynamodb:Query",
            "dynamodb:GetItem",
            "-r",
            "arn:aws:dynamodb:us-east-1:123456789012:table/orders",
        ],
    ]
    .into_iter()
    .map(|v| v.into_iter().map(str::to_string).collect())
    .collect();
    let mut files = Vec::new();
    for (i, args) in runs.iter().enumerate() {
        let mut a = vec!["policy".to_string(), "write".to_string()];
        a.extend(args.iter().cloned());
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        let (o, _) = run(&a, 0);
        let f = dir.path().join(format!("w{i}.json"));
        std::fs::write(&f, o).unwrap();
        files.push(f);
    }
    let combined = dir.path().join("combined.json");
    std::fs::write(
        &combined,
        r#"{"Version": "2012-10-17", "Statement": [{"Sid": "Combined", "Effect": "Allow",
   "Action": ["s3:GetObject", "s3:GetObjectVersion", "s3:ListBucket"],
   "Resource": ["arn:aws:s3:::awsexamplebucket1", "arn:aws:s3:::awsexamplebucket1/*"]}]}"#,
    )
    .unwrap();
    let (o, _) = run(&["policy", "tighten", combined.to_str().unwrap()], 1);
    let f = dir.path().join("tightened.json");
    std::fs::write(&f, o).unwrap();
    files.push(f);
    let mut args = vec!["policy", "check", "--min-severity", "error"];
    args.extend(files.iter().map(|f| f.to_str().unwrap()));
    run(&args, 0);
}

#[test]
fn stdin_from_iamref_api_keeps_the_operations_context() {
    // Both of `api`'s outputs: piped (no header) and `-f tsv` (header).
    for fmt in [None, Some("tsv")] {
        let mut args = vec!["api", "lambda:CreateFunction"];
        if let Some(f) = fmt {
            args.extend(["-f", f]);
        }
        let api = iamref().args(&args).output().unwrap();
        assert!(api.status.success());
        let out = iamref()
            .args(["policy", "write", "-", "--widen"])
            .args(["-r", "arn:aws:lambda:us-east-1:123456789012:function:f"])
            .args(["-r", "arn:aws:iam::123456789012:role/lambda-exec"])
            .write_stdin(api.stdout)
            .output()
            .unwrap();
        let e = String::from_utf8(out.stderr).unwrap();
        assert!(out.status.success(), "{fmt:?}: {e}");
        let p: Value = serde_json::from_slice(&out.stdout).unwrap();
        // The action column, not the operation column, is granted.
        assert_eq!(
            resource_of(&p, "iam:PassRole"),
            "arn:aws:iam::123456789012:role/lambda-exec"
        );
        assert_eq!(
            resource_of(&p, "lambda:CreateFunction"),
            "arn:aws:lambda:us-east-1:123456789012:function:f"
        );
        let st = p["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["Action"] == json!(["iam:PassRole"]))
            .unwrap();
        assert_eq!(
            st["Condition"],
            json!({"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}}),
            "{fmt:?}"
        );
        assert!(
            e.contains("iamref: note: context: iam:PassRole: granted only where iam:PassedToService is lambda.amazonaws.com"),
            "{e}"
        );
        // What it wrote checks with no error (the PassRole + CreateFunction
        // escalation warning stays: it is what the workload does).
        let check = iamref()
            .args(["policy", "check", "--min-severity", "error", "-"])
            .write_stdin(serde_json::to_vec(&p).unwrap())
            .output()
            .unwrap();
        assert_eq!(
            check.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&check.stdout)
        );
    }
    // `iamref calls` output (action first, context last), with a header.
    let calls = iamref()
        .args(["calls", "-f", "tsv", "-"])
        .write_stdin("lambda CreateFunction\necs RunTask\n")
        .output()
        .unwrap();
    assert!(calls.status.success());
    let out = iamref()
        .args(["policy", "write", "-", "--widen", "-q"])
        .write_stdin(calls.stdout)
        .output()
        .unwrap();
    assert!(out.status.success());
    let p: Value = serde_json::from_slice(&out.stdout).unwrap();
    let pass = p["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["Action"] == json!(["iam:PassRole"]))
        .unwrap();
    assert_eq!(
        pass["Condition"]["StringEquals"]["iam:PassedToService"],
        json!([
            "ecs-tasks.amazonaws.com",
            "ecs.amazonaws.com",
            "lambda.amazonaws.com"
        ])
    );
    // --include-dependent uses the same context.
    let (p, e) = policy(&[
        "policy",
        "write",
        "lambda:CreateFunction",
        "--include-dependent",
        "--widen",
        "-r",
        "arn:aws:lambda:us-east-1:123456789012:function:f",
        "-r",
        "arn:aws:iam::123456789012:role/lambda-exec",
    ]);
    let pass = p["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["Action"] == json!(["iam:PassRole"]))
        .unwrap();
    assert_eq!(
        pass["Condition"]["StringEquals"]["iam:PassedToService"],
        "lambda.amazonaws.com"
    );
    assert!(
        e.contains("(StringEquals: the context lambda:CreateFunction sets)"),
        "{e}"
    );
    // A damaged context column names the line.
    let out = iamref()
        .args(["policy", "write", "-"])
        .write_stdin("operation\taction\tcontext\nlambda:CreateFunction\tiam:PassRole\tiam:PassedToService\n")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let e = String::from_utf8(out.stderr).unwrap();
    assert!(
        e.contains("stdin, line 2: context \"iam:PassedToService\" is not KEY=VALUE"),
        "{e}"
    );
}

/// A constructed identity policy of `n` statements, each GetObject on its
/// own bucket's prefixes: about 200 characters a statement.
fn large_policy(n: usize) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": (0..n).map(|i| json!({
            "Sid": format!("Read{i}"),
            "Effect": "Allow",
            "Action": ["s3:GetObject"],
            "Resource": [
                format!("arn:aws:s3:::team-{i}-data/reports/*"),
                format!("arn:aws:s3:::team-{i}-data/exports/*"),
            ],
        })).collect::<Vec<_>>(),
    })
}

#[test]
fn a_policy_over_the_managed_quota_is_reported_and_split_to_fit() {
    let dir = tempfile::TempDir::new().unwrap();
    let file = dir.path().join("big.json");
    let big = large_policy(120);
    // IAM's count: no white space outside strings (the compact form).
    let size = big.to_string().len();
    assert!(size > 6_144, "constructed over the quota: {size}");
    std::fs::write(&file, serde_json::to_string_pretty(&big).unwrap()).unwrap();
    let f = file.to_str().unwrap();
    // Without --split: the policy, and a warning -q does not hide.
    let (o, e) = run(&["policy", "tighten", "-q", f], 0);
    let out: Value = serde_json::from_str(&o).unwrap();
    assert_eq!(out["Statement"].as_array().unwrap().len(), 120);
    assert!(
        e.contains(&format!("warning: the policy is {size} characters")) && e.contains("6144"),
        "{e}"
    );
    // With --split: the parts' paths on stdout; each part fits, every
    // statement is in exactly one part, whole and in order.
    let prefix = dir.path().join("role");
    let (o, _) = run(
        &["policy", "tighten", f, "--split", prefix.to_str().unwrap()],
        0,
    );
    let paths: Vec<&str> = o.lines().collect();
    assert!(
        paths.len() >= size.div_ceil(6_144) && paths.len() > 1,
        "{o}"
    );
    let mut statements = Vec::new();
    for (i, p) in paths.iter().enumerate() {
        assert!(p.ends_with(&format!("role-{}.json", i + 1)), "{p}");
        let part: Value = serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap();
        assert!(
            part.to_string().len() <= 6_144,
            "{p}: {}",
            part.to_string().len()
        );
        assert_eq!(part["Version"], "2012-10-17");
        statements.extend(part["Statement"].as_array().unwrap().iter().cloned());
    }
    assert_eq!(Value::Array(statements), big["Statement"]);
    // A statement larger than a whole policy is never cut: exit 2, named.
    let mut huge = large_policy(1);
    huge["Statement"][0]["Resource"] = Value::Array(
        (0..200)
            .map(|k| Value::String(format!("arn:aws:s3:::one-bucket/prefix-{k}/*")))
            .collect(),
    );
    std::fs::write(&file, huge.to_string()).unwrap();
    let (_, e) = run(
        &["policy", "tighten", f, "--split", prefix.to_str().unwrap()],
        2,
    );
    assert!(
        e.contains("statement 0 (Sid Read0)") && e.contains("never cut"),
        "{e}"
    );
    // --split writes JSON: not YAML or Terraform.
    let (_, e) = run(
        &[
            "policy",
            "write",
            "s3:GetObject",
            "--format",
            "yaml",
            "--split",
            "x",
        ],
        2,
    );
    assert!(e.contains("--split writes JSON"), "{e}");
}

#[test]
fn policy_write_and_cloudtrail_replay_split_too() {
    let dir = tempfile::TempDir::new().unwrap();
    // Many actions on many ARNs: the writer's policy is over the quota.
    let mut args: Vec<String> = vec!["policy".into(), "write".into()];
    for a in ["s3:GetObject", "dynamodb:GetItem"] {
        args.push(a.into());
    }
    // Two statements (one per resource set), each under the quota alone.
    for i in 0..75 {
        args.push("-r".into());
        args.push(format!("arn:aws:s3:::bucket-number-{i}/some/prefix/*"));
        args.push("-r".into());
        args.push(format!(
            "arn:aws:dynamodb:us-east-1:111122223333:table/orders-table-{i}"
        ));
    }
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let (o, e) = run(&argv, 0);
    let whole: Value = serde_json::from_str(&o).unwrap();
    assert!(whole.to_string().len() > 6_144);
    assert!(e.contains("warning: the policy is"), "{e}");
    let prefix = dir.path().join("app");
    let mut split = argv.clone();
    split.extend(["--split", prefix.to_str().unwrap()]);
    let (o, _) = run(&split, 0);
    let mut resources = std::collections::BTreeSet::new();
    for p in o.lines() {
        let part: Value = serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap();
        assert!(part.to_string().len() <= 6_144);
        for s in part["Statement"].as_array().unwrap() {
            for r in s["Resource"].as_array().unwrap() {
                resources.insert(r.as_str().unwrap().to_string());
            }
        }
    }
    let want: std::collections::BTreeSet<String> = whole["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["Resource"].as_array().unwrap().iter())
        .map(|r| r.as_str().unwrap().to_string())
        .collect();
    assert_eq!(resources, want);
    // The CloudTrail replay takes --split (one part: it fits).
    let trail = crate::support::fixtures().join("cloudtrail/trail.json");
    let prefix = dir.path().join("trail");
    let out = iamref()
        .args(["policy", "write", "--from-cloudtrail"])
        .arg(&trail)
        .arg("--split")
        .arg(&prefix)
        .output()
        .unwrap();
    let o = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(o.lines().count(), 1, "{o}");
    let part: Value =
        serde_json::from_str(&std::fs::read_to_string(o.trim_end()).unwrap()).unwrap();
    assert!(!part["Statement"].as_array().unwrap().is_empty());
}
