//! Resources as IAM sees them, through the real binary on the shipped
//! snapshot: ids with ':', alternative required types, fixed ARNs,
//! `${Vendor}` formats, ranking, derivation, never-silent widening and
//! secrets without their suffix. Resources are asserted exactly.

use assert_cmd::Command;
use serde_json::{json, Value};
use std::path::PathBuf;

fn iamref() -> Command {
    let cache = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("resources-cli-cache");
    crate::support::iamref(&cache)
}

/// Runs `iamref ARGS` with `stdin`, expecting `code`; (stdout, stderr).
fn run_in(args: &[&str], stdin: &str, code: i32) -> (String, String) {
    let out = iamref().args(args).write_stdin(stdin).output().unwrap();
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

fn run(args: &[&str], code: i32) -> (String, String) {
    run_in(args, "", code)
}

/// Every Resource of a written policy, in order.
fn resources(policy: &str) -> Vec<String> {
    let v: Value = serde_json::from_str(policy).unwrap();
    v["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| match &s["Resource"] {
            Value::String(r) => vec![r.clone()],
            Value::Array(a) => a.iter().map(|r| r.as_str().unwrap().to_string()).collect(),
            _ => Vec::new(),
        })
        .collect()
}

fn check_stdin(policy: &Value, code: i32) -> String {
    run_in(&["policy", "check", "-"], &policy.to_string(), code).0
}

fn allow(action: &str, resources: &[&str]) -> Value {
    json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": action, "Resource": resources}
    ]})
}

/// `iamref arn ARN -f json`: prefix:type, best first.
fn arn_types(arn: &str) -> Vec<String> {
    let (o, _) = run(&["arn", arn, "-f", "json"], 0);
    let v: Value = serde_json::from_str(&o).unwrap();
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
}

const MODEL: &str =
    "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-5-sonnet-20240620-v1:0";

#[test]
fn bedrock_invoke_model_on_the_model_it_names() {
    assert_eq!(arn_types(MODEL), ["bedrock:foundation-model"]);
    check_stdin(&allow("bedrock:InvokeModel", &[MODEL]), 0);
    check_stdin(
        &allow(
            "bedrock:InvokeModel",
            &["arn:aws:bedrock:*::foundation-model/*"],
        ),
        0,
    );
    let (o, e) = run(&["policy", "write", "bedrock:InvokeModel", "-r", MODEL], 0);
    assert_eq!(resources(&o), [MODEL]);
    assert!(
        e.contains("alternatives: bedrock:InvokeModel") && e.contains("inference-profile"),
        "{e}"
    );
    let (o, _) = run(
        &[
            "policy",
            "write",
            "bedrock:InvokeModel",
            "-r",
            "arn:aws:bedrock:*::foundation-model/*",
        ],
        0,
    );
    assert_eq!(resources(&o), ["arn:aws:bedrock:*::foundation-model/*"]);
}

#[test]
fn ids_with_colons_fit_their_type() {
    let keys = [
        "arn:aws:s3:::logs-bucket/2024-01-01T00:00:00Z.json",
        "arn:aws:s3:::b/sessions/user:42/*",
    ];
    let p = allow("s3:GetObject", &keys);
    check_stdin(&p, 0);
    let (o, _) = run(
        &[
            "policy",
            "write",
            "s3:GetObject",
            "-r",
            keys[0],
            "-r",
            keys[1],
        ],
        0,
    );
    assert_eq!(resources(&o), [keys[1], keys[0]]);
    // tighten keeps every correct grant.
    let dir = tempfile::TempDir::new().unwrap();
    let f = dir.path().join("p.json");
    std::fs::write(&f, p.to_string()).unwrap();
    let (o, _) = run(&["policy", "tighten", f.to_str().unwrap()], 0);
    assert_eq!(resources(&o), keys);
    let stream =
        "arn:aws:dynamodb:us-east-1:123456789012:table/orders/stream/2024-01-01T00:00:00.000";
    assert_eq!(arn_types(stream)[0], "dynamodb:stream");
    let (o, _) = run(&["policy", "write", "dynamodb:GetRecords", "-r", stream], 0);
    assert_eq!(resources(&o), [stream]);
}

#[test]
fn conjunctive_groups_stop_alternatives_do_not() {
    let inst = "arn:aws:ec2:us-east-1:123456789012:instance/i-0123456789abcdef0";
    let (_, e) = run(&["policy", "write", "ec2:AttachVolume", "-r", inst], 2);
    assert!(e.contains("ec2:AttachVolume: needs volume"), "{e}");
    let out = check_stdin(&allow("ec2:AttachVolume", &[inst]), 1);
    assert!(out.contains("missing-required-resource"), "{out}");
    // athena:TagResource takes one resource ARN of four types.
    let wg = "arn:aws:athena:us-east-1:123456789012:workgroup/primary";
    let (o, e) = run(&["policy", "write", "athena:TagResource", "-r", wg], 0);
    assert_eq!(resources(&o), [wg]);
    assert!(e.contains("alternatives: athena:TagResource"), "{e}");
    check_stdin(&allow("athena:TagResource", &[wg]), 0);
}

#[test]
fn vendor_formats_rank_last_and_scope_their_actions() {
    let rp =
        "arn:aws:backup:us-east-1:123456789012:recovery-point:1EB3B5E7-9EB0-435A-A80B-108B488B0D45";
    let (o, _) = run(
        &["policy", "write", "backup:DescribeRecoveryPoint", "-r", rp],
        0,
    );
    assert_eq!(resources(&o), [rp]);
    assert_eq!(arn_types(rp), ["backup:recoveryPoint"]);
    for arn in [
        MODEL,
        "arn:aws:ecs:us-east-1:123456789012:task-definition/web:12",
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf",
    ] {
        let t = arn_types(arn);
        assert!(
            !t.contains(&"backup:recoveryPoint".to_string()),
            "{arn}: {t:?}"
        );
    }
}

#[test]
fn the_owner_ranks_first() {
    for (arn, owner) in [
        ("arn:aws:iam::123456789012:user/alice", "iam:user"),
        ("arn:aws:iam::123456789012:role/service/app", "iam:role"),
        (
            "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            "kms:key",
        ),
        (
            "arn:aws:lambda:us-east-1:123456789012:function:f:prod",
            "lambda:function alias",
        ),
        (
            "arn:aws:logs:us-east-1:123456789012:log-group:a:log-stream:b",
            "logs:log-stream",
        ),
    ] {
        assert_eq!(arn_types(arn)[0], owner, "{arn}");
    }
    assert_eq!(
        arn_types("arn:aws:logs:us-east-1:123456789012:log-group:x:*"),
        ["logs:log-group", "logs:log-stream"]
    );
}

#[test]
fn derivation_only_between_names_of_the_same_thing() {
    let conn = "arn:aws:networkmanager::123456789012:connection/global-network-01231231231231231/connection-07f6fd08867abc123";
    let (o, e) = run(
        &[
            "policy",
            "write",
            "networkmanager:UpdateConnection",
            "-r",
            conn,
        ],
        0,
    );
    assert_eq!(
        resources(&o),
        [
            conn,
            "arn:aws:networkmanager::123456789012:global-network/global-network-01231231231231231"
        ]
    );
    assert!(
        e.contains("derived: networkmanager:UpdateConnection"),
        "{e}"
    );
}

#[test]
fn quiet_never_hides_a_widening() {
    let (o, e) = run(&["policy", "write", "-q", "s3:GetObject"], 0);
    assert_eq!(
        resources(&o),
        ["arn:aws:s3:*:*:accesspoint/*/object/*", "arn:aws:s3:::*/*"]
    );
    assert!(e.contains("generic: s3:GetObject"), "{e}");
    let (o, _) = run(&["policy", "write", "-q", "-f", "json", "s3:GetObject"], 0);
    let v: Value = serde_json::from_str(&o).unwrap();
    assert_eq!(v["notes"][0]["code"], "generic");
    assert_eq!(v["notes"][0]["widens"], true);
}

#[test]
fn access_levels_keep_to_the_namespace_owner() {
    let inst = "arn:aws:ec2:us-east-1:123456789012:instance/i-0123456789abcdef0";
    let (o, e) = run(&["policy", "write", "--write", inst], 0);
    assert!(
        !o.contains("ssm:StartSession") && !o.contains("ec2-instance-connect:"),
        "{o}"
    );
    assert!(o.contains("ec2:StopInstances"), "{o}");
    assert!(
        e.contains("other-service: -: left out:") && e.contains("ssm:StartSession"),
        "{e}"
    );
    let (o, e) = run(
        &[
            "policy",
            "write",
            "--write",
            "arn:aws:iam::123456789012:role/app",
        ],
        0,
    );
    assert!(!o.contains("sts:AssumeRole"), "{o}");
    assert!(e.contains("sts:AssumeRole"), "{e}");
}

#[test]
fn secrets_without_their_suffix() {
    let bare = "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db";
    let (_, e) = run(
        &[
            "policy",
            "write",
            "secretsmanager:GetSecretValue",
            "-r",
            bare,
        ],
        0,
    );
    assert!(
        e.contains("secret-suffix") && e.contains("secret:prod/db-??????"),
        "{e}"
    );
    let out = check_stdin(&allow("secretsmanager:GetSecretValue", &[bare]), 1);
    assert!(
        out.contains("secret-without-suffix") && out.contains("prod/db-??????"),
        "{out}"
    );
}

#[test]
fn the_recorder_grants_the_model_called_not_a_fixed_arn() {
    let trail = json!({"Records": [
        {"eventVersion": "1.09", "eventSource": "bedrock.amazonaws.com", "eventName": "InvokeModel",
         "awsRegion": "us-east-1", "eventType": "AwsApiCall", "recipientAccountId": "123456789012",
         "userIdentity": {"type": "AssumedRole", "accountId": "123456789012"},
         "requestParameters": {"modelId": MODEL}},
        {"eventVersion": "1.09", "eventSource": "bedrock.amazonaws.com", "eventName": "InvokeModel",
         "awsRegion": "us-east-1", "eventType": "AwsApiCall", "recipientAccountId": "123456789012",
         "userIdentity": {"type": "AssumedRole", "accountId": "123456789012"},
         "requestParameters": {"modelId": "us.anthropic.claude-3-5-sonnet-20240620-v1:0"}}
    ]});
    let dir = tempfile::TempDir::new().unwrap();
    let f = dir.path().join("trail.json");
    std::fs::write(&f, trail.to_string()).unwrap();
    let (o, _) = run(
        &["policy", "write", "--from-cloudtrail", f.to_str().unwrap()],
        0,
    );
    assert_eq!(
        resources(&o),
        [
            "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-3-5-sonnet-20240620-v1:0",
            MODEL
        ]
    );
}

#[test]
fn byte_order_marks_are_accepted_by_tighten_and_templates() {
    let dir = tempfile::TempDir::new().unwrap();
    let p = dir.path().join("bom.json");
    let policy = allow("s3:GetObject", &["arn:aws:s3:::b/*", "arn:aws:s3:::b"]);
    std::fs::write(&p, format!("\u{feff}{policy}")).unwrap();
    let (o, _) = run(&["policy", "tighten", p.to_str().unwrap()], 1);
    assert_eq!(resources(&o), ["arn:aws:s3:::b/*"]);
    let t = dir.path().join("bom.yml");
    std::fs::write(&t, "\u{feff}mode: actions\nactions:\n- s3:GetObject\n").unwrap();
    let (o, _) = run(&["policy", "write", "--template", t.to_str().unwrap()], 0);
    assert_eq!(
        resources(&o),
        ["arn:aws:s3:*:*:accesspoint/*/object/*", "arn:aws:s3:::*/*"]
    );
}

/// One bad record or file never loses the rest of a run: a folder mixing
/// good records, a record with `resources` as a string, one that is not an
/// event and a damaged file gives the policy of the rest, names what was
/// skipped, and exits 2. An unknown region is recorded as it says.
#[test]
fn bad_records_are_named_and_skipped() {
    let dir = tempfile::TempDir::new().unwrap();
    let ev = |region: &str, bucket: &str| {
        json!({"eventVersion": "1.09", "eventSource": "s3.amazonaws.com", "eventName": "GetObject",
               "awsRegion": region, "eventType": "AwsApiCall", "recipientAccountId": "123456789012",
               "requestParameters": {"bucketName": bucket, "key": "k"}})
    };
    let mut odd = ev("us-east-1", "b2");
    odd["resources"] = json!("not a list");
    std::fs::write(
        dir.path().join("a.json"),
        json!({"Records": [ev("eu-central-3", "b1"), odd, json!({"eventSource": 7})]}).to_string(),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("b.json"),
        "{\"Records\": [{\"eventSource\": \"s3.amazon",
    )
    .unwrap();
    let out = iamref()
        .args(["policy", "write", "--from-cloudtrail"])
        .arg(dir.path())
        .output()
        .unwrap();
    let (o, e) = (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    );
    assert_eq!(out.status.code(), Some(2), "{o}\n{e}");
    assert_eq!(resources(&o), ["arn:aws:s3:::b1/k", "arn:aws:s3:::b2/k"]);
    assert!(
        e.contains("a.json: record 3") && e.contains("b.json"),
        "{e}"
    );
    assert!(e.contains("could not be read and were skipped"), "{e}");
}
