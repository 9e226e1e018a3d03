//! `iamref policy simulate` as a user runs it: the real binary on
//! constructed policies (written into a temporary folder by each test)
//! against the snapshot shipped in `data/`: decisions and exit codes, the
//! explanation in json, the per-layer table, batches of JSON lines and
//! `iamref calls -f jsonl` rows, the writer's fix for a denied request, and
//! bad input located by file, line and column.

use assert_cmd::Command;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use tempfile::TempDir;

fn cache() -> &'static Path {
    static DIR: OnceLock<TempDir> = OnceLock::new();
    DIR.get_or_init(|| TempDir::new().unwrap()).path()
}

fn iamref() -> Command {
    crate::support::iamref(cache())
}

fn write(dir: &TempDir, name: &str, text: &str) -> PathBuf {
    let p = dir.path().join(name);
    std::fs::write(&p, text).unwrap();
    p
}

const SESSION: &str = "arn:aws:sts::111122223333:assumed-role/App/s1";

/// An identity policy (constructed): objects under the team's home, the
/// bucket listed only from the office network.
const IDENTITY: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {"Sid": "Home", "Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"],
     "Resource": "arn:aws:s3:::example-bucket/home/${aws:PrincipalTag/team}/*"},
    {"Sid": "List", "Effect": "Allow", "Action": "s3:ListBucket",
     "Resource": "arn:aws:s3:::example-bucket",
     "Condition": {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}}
  ]
}"#;

fn run(args: &[&str]) -> (i32, String, String) {
    let out = iamref()
        .args(["policy", "simulate"])
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn json(s: &str) -> Value {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("not JSON ({e}): {s}"))
}

#[test]
fn one_request_allowed_and_denied_with_the_explanation() {
    let d = TempDir::new().unwrap();
    let id = write(&d, "id.json", IDENTITY);
    let id = id.to_str().unwrap();
    let (code, out, err) = run(&[
        "--identity",
        id,
        "--action",
        "s3:GetObject",
        "--resource",
        "arn:aws:s3:::example-bucket/home/red/a.txt",
        "--principal",
        SESSION,
        "--context-json",
        r#"{"aws:principaltag/team": "red"}"#,
        "-f",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v = json(&out);
    assert_eq!(v["decision"], "allowed");
    assert_eq!(v["resource_type"], "s3:object");
    assert_eq!(v["statements"][0]["sid"], "Home");
    assert_eq!(v["statements"][0]["applied"], true);
    assert_eq!(v["statements"][0]["line"], 4);

    // Another team's home: the Resource fails, an identity allow is missing.
    let (code, out, _) = run(&[
        "--identity",
        id,
        "--action",
        "s3:GetObject",
        "--resource",
        "arn:aws:s3:::example-bucket/home/blue/a.txt",
        "--principal",
        SESSION,
        "--context-json",
        r#"{"aws:PrincipalTag/team": "red"}"#,
        "-f",
        "json",
    ]);
    assert_eq!(code, 1);
    let v = json(&out);
    assert_eq!(v["decision"], "implicit-deny");
    assert_eq!(v["blocked_by"], serde_json::json!(["identity"]));
    assert_eq!(v["statements"][0]["failed"]["element"], "Resource");
    assert_eq!(v["statements"][1]["failed"]["element"], "Action");
    // The fix is the writer's statement, scoped to the one object.
    assert_eq!(
        v["fix"]["statement"]["Resource"],
        "arn:aws:s3:::example-bucket/home/blue/a.txt"
    );
    assert_eq!(
        v["fix"]["statement"]["Action"],
        serde_json::json!(["s3:GetObject"])
    );

    // The condition that failed, with the values compared.
    let (code, out, _) = run(&[
        "--identity",
        id,
        "--action",
        "s3:ListBucket",
        "--resource",
        "arn:aws:s3:::example-bucket",
        "--principal",
        SESSION,
        "--context-json",
        r#"{"aws:SourceIp": "198.51.100.7"}"#,
        "-f",
        "json",
    ]);
    assert_eq!(code, 1);
    let f = &json(&out)["statements"][1]["failed"];
    assert_eq!(f["element"], "Condition");
    assert_eq!(f["condition"]["key"], "aws:SourceIp");
    assert_eq!(
        f["condition"]["expected"],
        serde_json::json!(["203.0.113.0/24"])
    );
    assert_eq!(
        f["condition"]["actual"],
        serde_json::json!(["198.51.100.7"])
    );
}

#[test]
fn layers_scp_levels_boundary_and_explicit_deny() {
    let d = TempDir::new().unwrap();
    let id = write(
        &d,
        "id.json",
        r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}}"#,
    );
    let root = write(
        &d,
        "root.json",
        r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}"#,
    );
    let ou = write(
        &d,
        "ou.json",
        r#"[{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:Get*", "Resource": "*"}},
 {"Version": "2012-10-17", "Statement": {"Sid": "NoDelete", "Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*"}}]"#,
    );
    let boundary = write(
        &d,
        "b.json",
        r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": ["s3:GetObject", "s3:DeleteObject"], "Resource": "*"}}"#,
    );
    let p = |x: &PathBuf| x.to_str().unwrap().to_string();
    let base = [
        "--identity".to_string(),
        p(&id),
        "--scp".into(),
        p(&root),
        "--scp".into(),
        p(&ou),
        "--boundary".into(),
        p(&boundary),
        "--principal".into(),
        SESSION.into(),
        "--resource-account".into(),
        "111122223333".into(),
        "-f".into(),
        "json".into(),
    ];
    let go = |action: &str| {
        let mut args: Vec<String> = base.to_vec();
        args.extend([
            "--action".into(),
            action.into(),
            "--resource".into(),
            "arn:aws:s3:::b/k".into(),
        ]);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, out, err) = run(&args);
        (code, json(&out), err)
    };
    let (code, v, err) = go("s3:GetObject");
    assert_eq!(code, 0, "{err}");
    let states: Vec<String> = v["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            format!(
                "{}{}={}",
                l["policy_type"].as_str().unwrap(),
                l.get("level").map(|x| x.to_string()).unwrap_or_default(),
                l["state"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        states,
        [
            "scp0=ALLOW",
            "scp1=ALLOW",
            "identity=ALLOW",
            "boundary=ALLOW"
        ]
    );
    // Put: the OU's SCP does not allow it, nor does the boundary.
    let (code, v, _) = go("s3:PutObject");
    assert_eq!(code, 1);
    assert_eq!(v["blocked_by"], serde_json::json!(["scp", "boundary"]));
    assert!(v["fix"]["message"].as_str().unwrap().contains("cannot fix"));
    // Delete: the OU's explicit deny.
    let (code, v, _) = go("s3:DeleteObject");
    assert_eq!(code, 1);
    assert_eq!(v["decision"], "explicit-deny");
    assert_eq!(v["blocked_by"], serde_json::json!(["scp"]));
    let deny = v["statements"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["sid"] == "NoDelete")
        .unwrap();
    assert_eq!(
        (deny["policy"].as_u64(), deny["applied"].as_bool()),
        (Some(1), Some(true))
    );

    // The table: one row per layer, one per statement.
    let mut args: Vec<String> = base[..base.len() - 2].to_vec();
    args.extend([
        "--action".into(),
        "s3:DeleteObject".into(),
        "--resource".into(),
        "arn:aws:s3:::b/k".into(),
    ]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, out, _) = run(&args);
    assert_eq!(code, 1);
    assert!(
        out.contains("decision: explicit-deny (blocked by scp)"),
        "{out}"
    );
    assert!(
        out.lines()
            .any(|l| l.starts_with("scp[1]") && l.ends_with("EXPLICIT_DENY")),
        "{out}"
    );
    assert!(
        out.lines()
            .any(|l| l.contains("NoDelete") && l.ends_with("applies")),
        "{out}"
    );
}

#[test]
fn cross_account_and_resource_policy() {
    let d = TempDir::new().unwrap();
    let id = write(
        &d,
        "id.json",
        r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"}}"#,
    );
    let queue = write(
        &d,
        "queue.json",
        r#"{"Version": "2012-10-17", "Statement": {"Sid": "Producer", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/App"}, "Action": "sqs:SendMessage", "Resource": "arn:aws:sqs:us-east-1:444455556666:q"}}"#,
    );
    let arn = "arn:aws:sqs:us-east-1:444455556666:q";
    let (code, out, _) = run(&[
        "--identity",
        id.to_str().unwrap(),
        "--action",
        "sqs:SendMessage",
        "--resource",
        arn,
        "--principal",
        SESSION,
        "-f",
        "json",
    ]);
    assert_eq!(code, 1);
    let v = json(&out);
    assert_eq!(v["cross_account"], true);
    assert_eq!(v["blocked_by"], serde_json::json!(["resource"]));
    let (code, out, _) = run(&[
        "--identity",
        id.to_str().unwrap(),
        "--resource-policy",
        queue.to_str().unwrap(),
        "--action",
        "sqs:SendMessage",
        "--resource",
        arn,
        "--principal",
        SESSION,
        "-f",
        "json",
    ]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(json(&out)["resource_type"], "sqs:queue");
}

#[test]
fn batches_of_requests_and_calls_rows() {
    let d = TempDir::new().unwrap();
    let id = write(&d, "id.json", IDENTITY);
    let reqs = write(&d, "reqs.jsonl", &format!(
        "{{\"action\": \"s3:GetObject\", \"resource\": \"arn:aws:s3:::example-bucket/home/red/a\", \"context\": {{\"aws:PrincipalTag/team\": \"red\"}}}}\n\n{{\"action\": \"s3:PutObject\", \"resource\": \"arn:aws:s3:::example-bucket/home/red/b\", \"principal\": \"{SESSION}\"}}\n"
    ));
    let (code, out, err) = run(&[
        "--identity",
        id.to_str().unwrap(),
        "--requests",
        reqs.to_str().unwrap(),
        "-f",
        "jsonl",
    ]);
    assert_eq!(code, 1, "{err}");
    let lines: Vec<Value> = out.lines().map(json).collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(
        (lines[0]["line"].as_u64(), lines[0]["decision"].as_str()),
        (Some(1), Some("allowed"))
    );
    assert_eq!(
        (lines[1]["line"].as_u64(), lines[1]["decision"].as_str()),
        (Some(3), Some("implicit-deny"))
    );
    // json: one object with the overall decision.
    let (_, out, _) = run(&[
        "--identity",
        id.to_str().unwrap(),
        "--requests",
        reqs.to_str().unwrap(),
        "-f",
        "json",
    ]);
    let v = json(&out);
    assert_eq!(
        (
            v["decision"].as_str(),
            v["requests"].as_u64(),
            v["denied"].as_u64()
        ),
        (Some("implicit-deny"), Some(2), Some(1))
    );
    // The table names each denied call with the statement that allows it.
    let (_, out, _) = run(&[
        "--identity",
        id.to_str().unwrap(),
        "--requests",
        reqs.to_str().unwrap(),
    ]);
    assert!(out.contains("2 requests: 1 allowed, 1 denied"), "{out}");
    assert!(
        out.contains("\"Resource\":\"arn:aws:s3:::example-bucket/home/red/b\""),
        "{out}"
    );

    // `iamref calls -f jsonl` output replays: one request per resource.
    let list = write(&d, "calls.txt", "s3:GetObject\ns3:ListBuckets\n");
    let calls = iamref()
        .args(["calls", "-f", "jsonl", list.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        calls.status.success(),
        "{}",
        String::from_utf8_lossy(&calls.stderr)
    );
    let calls_file = write(
        &d,
        "calls.jsonl",
        std::str::from_utf8(&calls.stdout).unwrap(),
    );
    let all = write(
        &d,
        "all.json",
        r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}}"#,
    );
    let (code, out, _) = run(&[
        "--identity",
        all.to_str().unwrap(),
        "--requests",
        calls_file.to_str().unwrap(),
        "-f",
        "jsonl",
    ]);
    assert_eq!(code, 1);
    let got: Vec<(String, String)> = out
        .lines()
        .map(json)
        .map(|v| {
            (
                v["action"].as_str().unwrap().to_string(),
                v["decision"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(
        got.contains(&("s3:ListAllMyBuckets".into(), "allowed".into())),
        "{got:?}"
    );
    assert!(
        got.contains(&("s3:GetObject".into(), "implicit-deny".into())),
        "{got:?}"
    );
    // Rows the calls need only in some configurations are left out.
    assert!(!got.iter().any(|g| g.0 == "s3:GetObjectTagging"), "{got:?}");
}

#[test]
fn bad_input_is_exit_2_with_file_line_and_column() {
    let d = TempDir::new().unwrap();
    let broken = write(
        &d,
        "broken.json",
        "{\"Version\": \"2012-10-17\",\n  \"Statement\": [,]}",
    );
    let (code, _, err) = run(&[
        "--identity",
        broken.to_str().unwrap(),
        "--action",
        "s3:GetObject",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("broken.json:2:17"), "{err}");
    let invalid = write(&d, "invalid.json", "{\"Version\": \"2012-10-17\",\n  \"Statement\": [{\"Effect\": \"allow\", \"Action\": \"s3:*\", \"Resource\": \"*\"}]}");
    let (code, _, err) = run(&[
        "--identity",
        invalid.to_str().unwrap(),
        "--action",
        "s3:GetObject",
    ]);
    assert_eq!(code, 2);
    assert!(
        err.contains("invalid.json:2:28") && err.contains("IAM rejects"),
        "{err}"
    );
    let id = write(&d, "id.json", IDENTITY);
    let reqs = write(
        &d,
        "reqs.jsonl",
        "{\"action\": \"s3:GetObject\"}\n{\"action\": \n",
    );
    let (code, _, err) = run(&[
        "--identity",
        id.to_str().unwrap(),
        "--requests",
        reqs.to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("reqs.jsonl:2:"), "{err}");
    let reqs = write(&d, "reqs2.jsonl", "{\"resource\": \"*\"}\n");
    let (code, _, err) = run(&[
        "--identity",
        id.to_str().unwrap(),
        "--requests",
        reqs.to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    assert!(
        err.contains("reqs2.jsonl:1:1: expected an object with \"action\""),
        "{err}"
    );
    let (code, _, err) = run(&[
        "--identity",
        id.to_str().unwrap(),
        "--action",
        "s3:GetObject",
        "--context-json",
        "[1]",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("--context-json"), "{err}");
    let (code, _, err) = run(&["--identity", id.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("needs a request"), "{err}");
}

#[test]
fn the_reference_knows_more_than_iam() {
    let d = TempDir::new().unwrap();
    let p = write(
        &d,
        "p.json",
        r#"{"Version": "2012-10-17", "Statement": [
  {"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "arn:aws:s3:::*"},
  {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*", "Condition": {"StringEqualsIfExists": {"aws:RequestTag/team": "red"}}}]}"#,
    );
    let (_, out, _) = run(&[
        "--identity",
        p.to_str().unwrap(),
        "--action",
        "s3:ListAllMyBuckets",
        "-f",
        "json",
    ]);
    let v = json(&out);
    assert_eq!(v["decision"], "implicit-deny");
    assert!(
        v["notes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n.as_str().unwrap().contains("takes only \"*\"")),
        "{v}"
    );
    let (code, out, _) = run(&[
        "--identity",
        p.to_str().unwrap(),
        "--action",
        "s3:GetObject",
        "--resource",
        "arn:aws:s3:::b/k",
        "-f",
        "json",
    ]);
    assert_eq!(code, 0);
    let v = json(&out);
    assert!(
        v["notes"].as_array().unwrap().iter().any(|n| n
            .as_str()
            .unwrap()
            .contains("s3:GetObject supplies no aws:RequestTag/team")),
        "{v}"
    );
    let (_, out, _) = run(&[
        "--identity",
        p.to_str().unwrap(),
        "--action",
        "s3:GetObject",
        "--resource",
        "arn:aws:s3:::b",
        "-f",
        "json",
    ]);
    let v = json(&out);
    assert!(
        v["notes"].as_array().unwrap().iter().any(|n| n
            .as_str()
            .unwrap()
            .contains("cannot take this ARN: it is a s3:bucket")),
        "{v}"
    );
}

// ---------------------------------------------------------------------------
// iamref explain
// ---------------------------------------------------------------------------

fn explain(args: &[&str], stdin: Option<&str>) -> (i32, String, String) {
    let mut c = iamref();
    c.arg("explain").args(args);
    if let Some(s) = stdin {
        c.write_stdin(s);
    }
    let out = c.output().unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn explain_every_message_shape() {
    let who = "arn:aws:sts::111122223333:assumed-role/Analyst/ana";
    let head = format!("User: {who} is not authorized to perform: s3:GetObject on resource: arn:aws:s3:::example-bucket/q3.csv");
    let shapes: &[(&str, &str, bool, bool)] = &[
        ("because no identity-based policy allows the s3:GetObject action", "identity", false, true),
        ("because no resource-based policy allows the s3:GetObject action", "resource", false, false),
        ("because no service control policy allows the s3:GetObject action", "scp", false, false),
        ("because no permissions boundary allows the s3:GetObject action", "boundary", false, false),
        ("because no session policy allows the s3:GetObject action", "session", false, false),
        ("because no VPC endpoint policy allows the s3:GetObject action", "endpoint", false, false),
        ("with an explicit deny in a service control policy: arn:aws:organizations::999988887777:policy/o-a/service_control_policy/p-b", "scp", true, false),
        ("with an explicit deny in a resource control policy", "rcp", true, false),
        ("with an explicit deny in an identity-based policy: arn:aws:iam::111122223333:policy/NoReads", "identity", true, false),
        ("with an explicit deny in a resource-based policy", "resource", true, false),
        ("with an explicit deny in a permissions boundary", "boundary", true, false),
        ("with an explicit deny in a session policy", "session", true, false),
        ("with an explicit deny in a VPC endpoint policy", "endpoint", true, false),
    ];
    for (reason, ty, explicit, identity_fixes) in shapes {
        for wrapped in [false, true] {
            let mut msg = format!("{head} {reason}");
            if wrapped {
                msg = format!(
                    "An error occurred (AccessDenied) when calling the GetObject operation: {msg}"
                );
            }
            let (code, out, err) = explain(&["-f", "json", &msg], None);
            assert_eq!(code, 0, "{msg}: {err}");
            let v = json(&out);
            assert_eq!(v["principal"], who);
            assert_eq!(v["action"], "s3:GetObject");
            assert_eq!(v["resource"], "arn:aws:s3:::example-bucket/q3.csv");
            assert_eq!(v["resource_type"], "s3:object");
            assert_eq!(
                v["arn_format"],
                "arn:${Partition}:s3:::${BucketName}/${ObjectName}"
            );
            assert_eq!(
                (v["policy_type"].as_str(), v["explicit"].as_bool()),
                (Some(*ty), Some(*explicit)),
                "{reason}"
            );
            assert_eq!(
                v["fix"]["identity_policy_can_fix"], *identity_fixes,
                "{reason}"
            );
            if wrapped {
                assert_eq!(v["operation"], "GetObject");
            }
            if *explicit || !identity_fixes {
                assert!(
                    v["fix"]["message"].as_str().unwrap().contains("cannot fix")
                        || v["fix"]["message"].as_str().unwrap().contains("can fix it"),
                    "{reason}: {v}"
                );
            }
        }
    }
    // The writer's statement, scoped to the resource, for a missing allow.
    let (_, out, _) = explain(
        &[
            "-f",
            "json",
            &format!("{head} because no identity-based policy allows the s3:GetObject action"),
        ],
        None,
    );
    let v = json(&out);
    assert_eq!(
        v["fix"]["statement"]["Resource"],
        "arn:aws:s3:::example-bucket/q3.csv"
    );
    // The policy ARN where AWS includes it.
    let (_, out, _) = explain(&["-f", "json", &format!("{head} {}", shapes[8].0)], None);
    assert_eq!(
        json(&out)["policy_arn"],
        "arn:aws:iam::111122223333:policy/NoReads"
    );
}

#[test]
fn explain_reads_stdin_decoded_messages_and_refuses_the_rest() {
    let decoded = r#"{"DecodedMessage": "{\"allowed\":false,\"explicitDeny\":false,\"matchedStatements\":{\"items\":[]},\"failures\":{\"items\":[]},\"context\":{\"principal\":{\"id\":\"AIDAX\",\"name\":\"ana\",\"arn\":\"arn:aws:iam::111122223333:user/ana\"},\"action\":\"ec2:RunInstances\",\"resource\":\"arn:aws:ec2:us-east-1:111122223333:instance/*\",\"conditions\":{\"items\":[{\"key\":\"ec2:InstanceType\",\"values\":{\"items\":[{\"value\":\"t3.micro\"}]}}]}}}"}"#;
    let (code, out, err) = explain(&["-f", "json"], Some(decoded));
    assert_eq!(code, 0, "{err}");
    let v = json(&out);
    assert_eq!(v["action"], "ec2:RunInstances");
    assert_eq!(v["resource_type"], "ec2:instance");
    assert_eq!(v["policy_type"], "identity");
    assert_eq!(v["context"][0][0], "ec2:InstanceType");
    let (code, out, _) = explain(&[], Some("User: arn:aws:iam::111122223333:user/ana is not authorized to perform: sqs:SendMessage on resource: arn:aws:sqs:us-east-1:111122223333:q because no identity-based policy allows the sqs:SendMessage action\n"));
    assert_eq!(code, 0);
    assert!(out.contains("resource type  sqs:queue"), "{out}");
    assert!(
        out.contains("\"Resource\": \"arn:aws:sqs:us-east-1:111122223333:q\""),
        "{out}"
    );
    for bad in [
        "Access Denied",
        "{\"x\": 1}",
        "Encoded authorization failure message: AbC",
    ] {
        let (code, _, err) = explain(&[bad], None);
        assert_eq!(code, 2, "{bad}");
        assert!(
            err.contains("expected") || err.contains("decode-authorization-message"),
            "{bad}: {err}"
        );
    }
}

// ---------------------------------------------------------------------------
// iamref policy prune
// ---------------------------------------------------------------------------

#[test]
fn prune_to_what_the_trail_used() {
    let d = TempDir::new().unwrap();
    let p = write(
        &d,
        "app.json",
        r#"{"Version": "2012-10-17", "Statement": [
  {"Sid": "Data", "Effect": "Allow", "Action": ["s3:Get*", "s3:PutObject"], "Resource": ["arn:aws:s3:::reports-bucket/*", "arn:aws:s3:::archive-bucket/*"]},
  {"Sid": "Unused", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"},
  {"Sid": "Tagged", "Effect": "Allow", "Action": "dynamodb:PutItem", "Resource": "*", "Condition": {"StringEquals": {"aws:RequestedRegion": "us-east-1"}}},
  {"Sid": "NoDelete", "Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*"}]}"#,
    );
    let trail = crate::support::fixtures().join("cloudtrail/trail.json");
    let out = iamref()
        .args([
            "policy",
            "prune",
            p.to_str().unwrap(),
            "--from-cloudtrail",
            trail.to_str().unwrap(),
            "-q",
            "-f",
            "json",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = json(std::str::from_utf8(&out.stdout).unwrap());
    let st = v["policy"]["Statement"].as_array().unwrap();
    let sids: Vec<&str> = st.iter().map(|s| s["Sid"].as_str().unwrap()).collect();
    assert_eq!(sids, ["Data", "Tagged", "NoDelete"]);
    assert_eq!(st[0]["Action"], "s3:GetObject");
    assert_eq!(st[0]["Resource"], "arn:aws:s3:::reports-bucket/*");
    assert_eq!(
        st[1]["Condition"]["StringEquals"]["aws:RequestedRegion"],
        "us-east-1"
    );
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("statement 1 (Unused): removed: no recorded call used it"),
        "{err}"
    );
    assert!(
        err.contains("statement 0 (Data): - resource arn:aws:s3:::archive-bucket/*"),
        "{err}"
    );
    assert!(err.contains("denied: lambda:InvokeFunction on arn:aws:lambda:us-east-1:123456789012:function:resize"), "{err}");
    assert!(v["denied"]
        .as_array()
        .unwrap()
        .iter()
        .any(|x| x["action"] == "lambda:InvokeFunction"));
    // The pruned policy allows every call the input allowed: prune it
    // again and nothing changes.
    let again = write(&d, "again.json", &v["policy"].to_string());
    let out = iamref()
        .args([
            "policy",
            "prune",
            again.to_str().unwrap(),
            "--from-cloudtrail",
            trail.to_str().unwrap(),
            "-q",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Bad input.
    let bad = write(
        &d,
        "bad.json",
        "{\"Version\": \"2012-10-17\", \"Statement\": [}",
    );
    let out = iamref()
        .args([
            "policy",
            "prune",
            bad.to_str().unwrap(),
            "--from-cloudtrail",
            trail.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad.json:1:"));
}

#[test]
fn cloudtrail_replays_as_requests() {
    let d = TempDir::new().unwrap();
    let p = write(
        &d,
        "p.json",
        r#"{"Version": "2012-10-17", "Statement": [
  {"Effect": "Allow", "Action": ["s3:GetObject", "dynamodb:PutItem"], "Resource": "*"}]}"#,
    );
    let trail = crate::support::fixtures().join("cloudtrail/trail.json");
    let (code, out, err) = run(&[
        "--identity",
        p.to_str().unwrap(),
        "--requests",
        trail.to_str().unwrap(),
        "--principal",
        "arn:aws:sts::123456789012:assumed-role/app/i-0abc",
        "-q",
        "-f",
        "jsonl",
    ]);
    assert_eq!(code, 1, "{err}");
    let got: Vec<(String, String, String)> = out
        .lines()
        .map(json)
        .map(|v| {
            (
                v["action"].as_str().unwrap().to_string(),
                v["resource"].as_str().unwrap().to_string(),
                v["decision"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(
        got.contains(&(
            "s3:GetObject".into(),
            "arn:aws:s3:::reports-bucket/2026/06/summary.csv".into(),
            "allowed".into()
        )),
        "{got:?}"
    );
    assert!(
        got.contains(&(
            "dynamodb:PutItem".into(),
            "arn:aws:dynamodb:us-east-1:123456789012:table/orders".into(),
            "allowed".into()
        )),
        "{got:?}"
    );
    assert!(
        got.iter()
            .any(|g| g.0 == "lambda:InvokeFunction" && g.2 == "implicit-deny"),
        "{got:?}"
    );
    // Only what the calls always need: no parameter-dependent actions.
    assert!(!got.iter().any(|g| g.0 == "s3:GetObjectTagging"), "{got:?}");
}

/// A constructed trail (not real records): each call is simulated as the
/// principal that made it, from its source IP, in its region.
#[test]
fn cloudtrail_calls_keep_their_principal_source_ip_and_region() {
    let d = TempDir::new().unwrap();
    let p = write(
        &d,
        "p.json",
        r#"{"Version": "2012-10-17", "Statement": [
  {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
   "Condition": {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"},
                 "ArnEquals": {"aws:PrincipalArn": "arn:aws:iam::123456789012:role/app"}}},
  {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*",
   "Condition": {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}}]}"#,
    );
    let record = |role: &str, ip: &str, region: &str, source: &str, name: &str, params: &str| {
        format!(
            r#"{{"eventVersion": "1.09", "userIdentity": {{"type": "AssumedRole", "arn": "arn:aws:sts::123456789012:assumed-role/{role}/s", "accountId": "123456789012", "sessionContext": {{"sessionIssuer": {{"type": "Role", "arn": "arn:aws:iam::123456789012:role/{role}"}}}}}}, "eventTime": "2026-06-14T10:00:00Z", "eventSource": "{source}", "eventName": "{name}", "awsRegion": "{region}", "sourceIPAddress": "{ip}", "requestParameters": {params}, "eventType": "AwsApiCall", "recipientAccountId": "123456789012"}}"#
        )
    };
    let get = r#"{"bucketName": "b", "key": "k"}"#.to_string();
    let send = |region: &str| {
        format!(r#"{{"queueUrl": "https://sqs.{region}.amazonaws.com/123456789012/jobs"}}"#)
    };
    let (s3, sqs) = ("s3.amazonaws.com", "sqs.amazonaws.com");
    // (role, source IP, region, event source, event name, parameters);
    // "AWS Internal": a service calling on the role's behalf, no address.
    let calls = [
        (
            "app",
            "203.0.113.10",
            "us-east-1",
            s3,
            "GetObject",
            get.clone(),
        ),
        (
            "app",
            "198.51.100.7",
            "us-east-1",
            s3,
            "GetObject",
            get.clone(),
        ),
        (
            "other",
            "203.0.113.10",
            "us-east-1",
            s3,
            "GetObject",
            get.clone(),
        ),
        ("app", "AWS Internal", "us-east-1", s3, "GetObject", get),
        (
            "app",
            "203.0.113.10",
            "eu-west-1",
            sqs,
            "SendMessage",
            send("eu-west-1"),
        ),
        (
            "app",
            "203.0.113.10",
            "us-east-1",
            sqs,
            "SendMessage",
            send("us-east-1"),
        ),
    ];
    let records: Vec<String> = calls
        .iter()
        .map(|(role, ip, region, source, name, params)| {
            record(role, ip, region, source, name, params)
        })
        .collect();
    let trail = write(
        &d,
        "trail.json",
        &format!(r#"{{"Records": [{}]}}"#, records.join(",")),
    );
    let (code, out, err) = run(&[
        "--identity",
        p.to_str().unwrap(),
        "--requests",
        trail.to_str().unwrap(),
        "-q",
        "-f",
        "jsonl",
    ]);
    assert_eq!(code, 1, "{err}");
    let mut got: Vec<(String, String, String, String)> = out
        .lines()
        .map(json)
        .map(|v| {
            let s = |k: &str| v[k].as_str().unwrap_or("-").to_string();
            (s("action"), s("principal"), s("resource"), s("decision"))
        })
        .collect();
    got.sort();
    let app = "arn:aws:sts::123456789012:assumed-role/app/s";
    let other = "arn:aws:sts::123456789012:assumed-role/other/s";
    let want = |a: &str, p: &str, r: &str, d: &str| (a.into(), p.into(), r.into(), d.into());
    let mut expected = vec![
        // From inside 203.0.113.0/24, as role app: allowed.
        want("s3:GetObject", app, "arn:aws:s3:::b/k", "allowed"),
        // From another address; with no address at all.
        want("s3:GetObject", app, "arn:aws:s3:::b/k", "implicit-deny"),
        want("s3:GetObject", app, "arn:aws:s3:::b/k", "implicit-deny"),
        // Another role, from the right address.
        want("s3:GetObject", other, "arn:aws:s3:::b/k", "implicit-deny"),
        want(
            "sqs:SendMessage",
            app,
            "arn:aws:sqs:eu-west-1:123456789012:jobs",
            "allowed",
        ),
        want(
            "sqs:SendMessage",
            app,
            "arn:aws:sqs:us-east-1:123456789012:jobs",
            "implicit-deny",
        ),
    ];
    expected.sort();
    assert_eq!(got, expected, "{out}");
    // The failed conditions name what each request carried.
    assert!(out.contains("198.51.100.7"), "{out}");
}

// ---------------------------------------------------------------------------
// Against iam-simulate (npm), on constructed requests
// ---------------------------------------------------------------------------

/// iam-simulate, pinned, installed once per build into the target folder;
/// `Err`: why not (the test then skips, or fails under IAMREF_TEST_STRICT=1).
fn iam_simulate() -> Result<PathBuf, String> {
    iamref_testkit::npm::install(
        Path::new(env!("CARGO_TARGET_TMPDIR")),
        iamref_testkit::pins::NPM_IAM_SIMULATE,
    )
}

/// Reads the policies and request lines, prints one decision per line.
const DECISIONS_JS: &str = r#"
import { readFileSync } from 'node:fs'
import { runSimulation } from '@cloud-copilot/iam-simulate'
const [dir] = process.argv.slice(2)
const read = (f) => JSON.parse(readFileSync(`${dir}/${f}`, 'utf8'))
const identity = read('identity.json'), boundary = read('boundary.json'), scps = read('scps.json')
for (const line of readFileSync(`${dir}/requests.jsonl`, 'utf8').split('\n').filter((l) => l.trim())) {
  const r = JSON.parse(line)
  const res = await runSimulation({
    request: { principal: r.principal, action: r.action,
      resource: { resource: r.resource, accountId: r.resource_account }, contextVariables: r.context },
    identityPolicies: [{ name: 'identity', policy: identity }],
    permissionBoundaryPolicies: [{ name: 'boundary', policy: boundary }],
    serviceControlPolicies: scps.map((level, i) => ({ orgIdentifier: `level-${i}`,
      policies: level.map((policy, j) => ({ name: `scp-${i}-${j}`, policy })) })),
    resourceControlPolicies: [],
  }, {})
  console.log(res.resultType === 'error' ? 'error: ' + JSON.stringify(res.errors) : res.overallResult)
}
"#;

#[test]
fn decisions_agree_with_iam_simulate() {
    let js = match iam_simulate() {
        Ok(d) => d,
        Err(why) => {
            iamref_testkit::skip(format!("iam-simulate (npm) is unavailable: {why}"));
            return;
        }
    };
    // Constructed policies: statements with conditions of every family the
    // two engines share, a boundary, and three SCP levels.
    let acct = "111122223333";
    let teams = ["red", "blue", "green"];
    let mut st = Vec::new();
    for i in 0..30 {
        let team = teams[i % 3];
        st.push(match i % 6 {
            0 => serde_json::json!({"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": format!("arn:aws:s3:::b{}/{team}/*", i % 4), "Condition": {"StringEquals": {"aws:PrincipalTag/team": team}}}),
            1 => serde_json::json!({"Effect": "Allow", "Action": "s3:ListBucket", "Resource": format!("arn:aws:s3:::b{}", i % 4), "Condition": {"IpAddress": {"aws:SourceIp": ["203.0.113.0/25", "2001:db8::/32"]}, "Bool": {"aws:SecureTransport": "true"}}}),
            2 => serde_json::json!({"Effect": "Allow", "Action": "dynamodb:*", "Resource": format!("arn:aws:dynamodb:us-east-1:{acct}:table/t{}", i % 4), "Condition": {"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["${aws:PrincipalTag/team}"]}}}),
            3 => serde_json::json!({"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": format!("arn:aws:sqs:*:{acct}:q{}", i % 4), "Condition": {"NumericLessThan": {"aws:MultiFactorAuthAge": "3600"}, "DateGreaterThan": {"aws:CurrentTime": "2026-01-01T00:00:00Z"}}}),
            4 => serde_json::json!({"Effect": "Deny", "Action": "s3:*", "NotResource": format!("arn:aws:s3:::b{}/*", i % 4), "Condition": {"StringNotLikeIfExists": {"aws:PrincipalTag/team": "r*"}}}),
            _ => serde_json::json!({"Effect": "Allow", "NotAction": ["iam:*", "organizations:*"], "Resource": "*", "Condition": {"ForAnyValue:StringEquals": {"aws:TagKeys": ["admin"]}}}),
        });
    }
    let d = TempDir::new().unwrap();
    let doc = |st: serde_json::Value| serde_json::json!({"Version": "2012-10-17", "Statement": st});
    write(
        &d,
        "identity.json",
        &doc(serde_json::Value::Array(st)).to_string(),
    );
    write(&d, "boundary.json", &doc(serde_json::json!([{"Effect": "Allow", "Action": ["s3:*", "dynamodb:*", "sqs:*", "ec2:Describe*"], "Resource": "*"}])).to_string());
    let full = doc(serde_json::json!([{"Effect": "Allow", "Action": "*", "Resource": "*"}]));
    let ou = doc(
        serde_json::json!([{"Effect": "Allow", "Action": ["s3:*", "dynamodb:*", "ec2:*"], "Resource": "*"}, {"Effect": "Deny", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::b3/*"}]),
    );
    write(
        &d,
        "scps.json",
        &serde_json::json!([[full], [ou], [full]]).to_string(),
    );
    write(&d, "scp0.json", &serde_json::json!([full]).to_string());
    write(&d, "scp1.json", &serde_json::json!([ou]).to_string());
    // Deterministic requests (a small linear congruential generator).
    let mut seed: u64 = 18;
    let mut next = |n: u64| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) % n
    };
    let mut lines = String::new();
    for _ in 0..400 {
        let team = teams[next(3) as usize];
        let (action, resource) = match next(6) {
            0 => (
                ["s3:GetObject", "s3:PutObject"][next(2) as usize].to_string(),
                format!(
                    "arn:aws:s3:::b{}/{}/k{}",
                    next(4),
                    teams[next(3) as usize],
                    next(9)
                ),
            ),
            1 => (
                "s3:ListBucket".to_string(),
                format!("arn:aws:s3:::b{}", next(5)),
            ),
            2 => (
                ["dynamodb:GetItem", "dynamodb:Query"][next(2) as usize].to_string(),
                format!("arn:aws:dynamodb:us-east-1:{acct}:table/t{}", next(5)),
            ),
            3 => (
                "sqs:SendMessage".to_string(),
                format!("arn:aws:sqs:us-east-1:{acct}:q{}", next(5)),
            ),
            4 => ("ec2:DescribeInstances".to_string(), "*".to_string()),
            _ => ("iam:ListRoles".to_string(), "*".to_string()),
        };
        let secure = ["true", "false"][next(2) as usize];
        let ip = [
            format!("203.0.113.{}", next(255)),
            "2001:db8::7".to_string(),
            "198.51.100.1".to_string(),
        ][next(3) as usize]
            .clone();
        let mfa = next(7200).to_string();
        let now = ["2025-06-01T00:00:00Z", "2026-06-01T00:00:00Z"][next(2) as usize];
        let mut ctx = serde_json::json!({
            "aws:PrincipalTag/team": team,
            "aws:SecureTransport": secure,
            "aws:SourceIp": ip,
            "aws:MultiFactorAuthAge": mfa,
            "aws:CurrentTime": now,
        });
        if next(2) == 0 {
            let keys: &[&str] = if next(2) == 0 {
                &["admin", "x"]
            } else {
                &["x"]
            };
            ctx["aws:TagKeys"] = serde_json::json!(keys);
        }
        if action.starts_with("dynamodb:") {
            ctx["dynamodb:LeadingKeys"] = serde_json::json!([teams[next(3) as usize]]);
        }
        lines.push_str(&serde_json::json!({"action": action, "resource": resource, "principal": format!("arn:aws:iam::{acct}:user/u"), "resource_account": acct, "context": ctx}).to_string());
        lines.push('\n');
    }
    write(&d, "requests.jsonl", &lines);
    std::fs::write(js.join("decisions.mjs"), DECISIONS_JS).unwrap();
    let node = std::process::Command::new("node")
        .arg(js.join("decisions.mjs"))
        .arg(d.path())
        .output()
        .expect("node runs where npm does");
    assert!(
        node.status.success(),
        "{}",
        String::from_utf8_lossy(&node.stderr)
    );
    let theirs: Vec<String> = String::from_utf8(node.stdout)
        .unwrap()
        .lines()
        .map(|l| match l {
            "Allowed" => "allowed".to_string(),
            "ImplicitlyDenied" => "implicit-deny".to_string(),
            "ExplicitlyDenied" => "explicit-deny".to_string(),
            other => panic!("iam-simulate: {other}"),
        })
        .collect();
    let p = |n: &str| d.path().join(n).to_str().unwrap().to_string();
    let (_, out, err) = run(&[
        "--identity",
        &p("identity.json"),
        "--boundary",
        &p("boundary.json"),
        "--scp",
        &p("scp0.json"),
        "--scp",
        &p("scp1.json"),
        "--scp",
        &p("scp0.json"),
        "--requests",
        &p("requests.jsonl"),
        "-f",
        "jsonl",
    ]);
    let ours: Vec<(String, String, String)> = out
        .lines()
        .map(json)
        .map(|v| {
            (
                v["decision"].as_str().unwrap().to_string(),
                v["action"].as_str().unwrap().to_string(),
                v["resource"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(ours.len(), 400, "{err}");
    assert_eq!(theirs.len(), 400);
    let differ: Vec<String> = ours
        .iter()
        .zip(&theirs)
        .enumerate()
        .filter(|(_, (o, t))| &o.0 != *t)
        .map(|(i, (o, t))| {
            format!(
                "line {}: {} on {}: iamref {}, iam-simulate {t}",
                i + 1,
                o.1,
                o.2,
                o.0
            )
        })
        .collect();
    assert!(
        differ.is_empty(),
        "{} of 400 differ:\n{}",
        differ.len(),
        differ.join("\n")
    );
    // The requests reach every decision.
    for want in ["allowed", "implicit-deny", "explicit-deny"] {
        assert!(theirs.iter().any(|t| t == want), "no {want}");
    }
}
