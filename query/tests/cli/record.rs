//! `iamref record` (replaying captured CSM datagrams over loopback UDP,
//! fuzzed datagrams) and CloudTrail input for `iamref calls` and
//! `iamref policy write --from-cloudtrail` (resources, gzip, folder trees,
//! filters). All against the real binary and the snapshot in `data/`.

use crate::support::record::*;
use serde_json::Value;
use std::io::Write;
use std::net::UdpSocket;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

#[test]
fn replays_captured_datagrams() {
    let dir = tempfile::tempdir().unwrap();
    let rec = Recorder::start(dir.path(), &[]);
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let text = std::fs::read_to_string(fixtures().join("csm/boto3-moto.jsonl")).unwrap();
    assert!(
        text.contains(KEY) && text.contains(TOKEN),
        "fixture carries the constructed credentials"
    );
    for line in text.lines() {
        sock.send_to(line.as_bytes(), &rec.addr).unwrap();
    }
    // Malformed and oversized datagrams are counted and skipped.
    sock.send_to(b"{\"Type\":\"ApiCall\",", &rec.addr).unwrap();
    sock.send_to(&[0xff, 0xfe, 0x00], &rec.addr).unwrap();
    sock.send_to(&vec![b' '; 9000], &rec.addr).unwrap();
    let wrong = format!("{{\"Type\":\"ApiCall\",\"Service\":\"S3\",\"Api\":\"X\",\"FinalHttpStatusCode\":\"{KEY}\"}}");
    sock.send_to(wrong.as_bytes(), &rec.addr).unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let (code, out, err) = rec.stop();
    assert!(err.contains("3 malformed, 1 oversized"), "{err}");
    assert!(err.contains("15 call(s), 15 attempt(s)"), "{err}");
    check_recorded(dir.path(), code, &out, &err, &[KEY, TOKEN]);
}

#[test]
fn include_conditional_grants_the_may_also_need_actions() {
    let dir = tempfile::tempdir().unwrap();
    let rec = Recorder::start(dir.path(), &["--include-conditional"]);
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let text = std::fs::read_to_string(fixtures().join("csm/boto3-moto.jsonl")).unwrap();
    for line in text.lines().filter(|l| l.contains("ListObjectsV2")) {
        sock.send_to(line.as_bytes(), &rec.addr).unwrap();
    }
    std::thread::sleep(Duration::from_millis(300));
    let (code, _, err) = rec.stop();
    assert_eq!(code, Some(0), "{err}");
    let policy: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("policy.json")).unwrap()).unwrap();
    let acts = policy_actions(&policy);
    assert!(acts.contains(&"s3:GetObjectAcl".to_string()), "{acts:?}");
    assert!(acts.contains(&"s3:ListBucket".to_string()), "{acts:?}");
}

#[test]
fn record_refuses_bad_arguments_and_warns_off_loopback() {
    let dir = tempfile::tempdir().unwrap();
    let out = iamref(dir.path())
        .args(["record", "--duration", "0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--duration"));
    // A port in use.
    let busy = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = busy.local_addr().unwrap().port().to_string();
    let out = iamref(dir.path())
        .args(["record", "--duration", "1", "--port", &port])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cannot listen on") && err.contains("--port"),
        "{err}"
    );
    // Not loopback: a warning (0.0.0.0 binds every interface).
    let out = iamref(dir.path())
        .args([
            "record",
            "--duration",
            "0.2",
            "--port",
            "0",
            "--listen",
            "0.0.0.0",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("warning") && err.contains("not loopback"),
        "{err}"
    );
    assert_eq!(out.status.code(), Some(1), "no calls recorded: {err}");
    // An output folder that does not exist fails before recording.
    let out = iamref(dir.path())
        .args(["record", "--duration", "0.2", "--port", "0", "--out"])
        .arg(dir.path().join("no/such/dir/p.json"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

// ---------------------------------------------------------------------------
// CloudTrail.
// ---------------------------------------------------------------------------

fn trail() -> String {
    std::fs::read_to_string(fixtures().join("cloudtrail/trail.json")).unwrap()
}

/// Writes the records as the CloudTrail file `name` in `dir` and runs
/// `policy write --from-cloudtrail` on it, which must succeed: the policy
/// and the run's stderr.
fn policy_from_records(dir: &Path, name: &str, records: &[String]) -> (Value, String) {
    let trail = dir.join(name);
    std::fs::write(
        &trail,
        format!("{{\"Records\": [{}]}}", records.join(",\n")),
    )
    .unwrap();
    let out = iamref(dir)
        .args(["policy", "write", "--from-cloudtrail"])
        .arg(&trail)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "{err}");
    (serde_json::from_slice(&out.stdout).unwrap(), err)
}

fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

#[test]
fn cloudtrail_policy_names_the_resources_touched() {
    let dir = tempfile::tempdir().unwrap();
    let out = iamref(dir.path())
        .args(["policy", "write", "--from-cloudtrail"])
        .arg(fixtures().join("cloudtrail/trail.json"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "{err}");
    let p: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        resources_of(&p, "s3:GetObject"),
        ["arn:aws:s3:::reports-bucket/2026/06/summary.csv"]
    );
    assert_eq!(
        resources_of(&p, "s3:ListBucket"),
        ["arn:aws:s3:::reports-bucket"]
    );
    assert_eq!(
        resources_of(&p, "sqs:SendMessage"),
        ["arn:aws:sqs:us-east-1:123456789012:jobs"]
    );
    assert_eq!(
        resources_of(&p, "dynamodb:PutItem"),
        ["arn:aws:dynamodb:us-east-1:123456789012:table/orders"]
    );
    assert_eq!(
        resources_of(&p, "lambda:InvokeFunction"),
        ["arn:aws:lambda:us-east-1:123456789012:function:resize"]
    );
    assert_eq!(resources_of(&p, "cloudwatch:PutMetricData"), ["*"]);
    let acts = policy_actions(&p);
    // The failed (not denied) call is left out without --include-errors;
    // the denied one counts and says what it needs.
    assert!(!acts.contains(&"sqs:DeleteQueue".to_string()), "{acts:?}");
    assert!(err.contains("denied: needs logs:PutLogEvents"), "{err}");
    assert!(acts.contains(&"logs:PutLogEvents".to_string()), "{acts:?}");
    assert!(err.contains("resources resolved for"), "{err}");
    // The console sign-in is an event of another class: counted apart,
    // neither a call nor unmapped.
    assert!(
        err.contains(
            "events that are not API calls, neither granted nor unmapped: AwsConsoleSignIn 1"
        ),
        "{err}"
    );
    assert!(!err.contains("ConsoleLogin"), "{err}");
    // --include-errors counts the failed call.
    let out = iamref(dir.path())
        .args(["policy", "write", "--include-errors", "--from-cloudtrail"])
        .arg(fixtures().join("cloudtrail/trail.json"))
        .output()
        .unwrap();
    let p: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(policy_actions(&p).contains(&"sqs:DeleteQueue".to_string()));
}

#[test]
fn cloudtrail_filters() {
    let dir = tempfile::tempdir().unwrap();
    let f = fixtures().join("cloudtrail/trail.json");
    let run = |args: &[&str]| -> Vec<String> {
        let out = iamref(dir.path())
            .args(["calls", "-f", "json"])
            .arg(&f)
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.code() == Some(0) || out.status.code() == Some(1),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        v.as_array()
            .unwrap()
            .iter()
            .filter(|r| r["needed"] == "always")
            .map(|r| r["action"].as_str().unwrap().to_string())
            .collect()
    };
    let all = run(&[]);
    assert!(all.contains(&"dynamodb:PutItem".to_string()), "{all:?}");
    // The role matches its assumed-role sessions; the other role's call is out.
    let app = run(&["--principal", "arn:aws:iam::123456789012:role/app"]);
    assert!(app.contains(&"s3:GetObject".to_string()), "{app:?}");
    assert!(!app.contains(&"dynamodb:PutItem".to_string()), "{app:?}");
    let day = run(&["--since", "2026-06-14T10:02", "--until", "2026-06-14T10:03"]);
    assert_eq!(day, ["dynamodb:PutItem", "s3:ListBucket"], "{day:?}");
    let out = iamref(dir.path())
        .args(["calls", "--since", "yesterday"])
        .arg(&f)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("ISO 8601"));
}

#[test]
fn cloudtrail_gzip_and_delivery_tree() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("logs");
    let day = root.join("AWSLogs/123456789012/CloudTrail/us-east-1/2026/06/14");
    std::fs::create_dir_all(&day).unwrap();
    let text = trail();
    let v: Value = serde_json::from_str(&text).unwrap();
    let recs = v["Records"].as_array().unwrap();
    // Two delivery files, gzipped, and a stray file that is not a log.
    let (a, b) = recs.split_at(recs.len() / 2);
    for (i, part) in [a, b].iter().enumerate() {
        let body = serde_json::to_vec(&serde_json::json!({ "Records": part })).unwrap();
        std::fs::write(
            day.join(format!(
                "123456789012_CloudTrail_us-east-1_20260614T10{i}0Z_x.json.gz"
            )),
            gz(&body),
        )
        .unwrap();
    }
    std::fs::write(day.join("README.txt"), "not a log").unwrap();
    let run = |p: &Path| -> (Vec<String>, String) {
        let out = iamref(dir.path())
            .args(["calls", "-f", "json"])
            .arg(p)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        assert!(out.status.success(), "{err}");
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        let mut acts: Vec<String> = v
            .as_array()
            .unwrap()
            .iter()
            .map(|r| format!("{} {}", r["action"], r["resources"]))
            .collect();
        acts.sort();
        (acts, err)
    };
    let (tree, err) = run(&root);
    assert!(err.contains("in 2 file(s)"), "{err}");
    let (plain, _) = run(&fixtures().join("cloudtrail/trail.json"));
    assert_eq!(tree, plain);
    // A single gzipped file, and gzip on stdin.
    let one = dir.path().join("one.json.gz");
    std::fs::write(&one, gz(text.as_bytes())).unwrap();
    assert_eq!(run(&one).0, plain);
    let out = iamref(dir.path())
        .args(["calls", "-", "-f", "json"])
        .write_stdin_bytes(gz(text.as_bytes()))
        .unwrap();
    assert!(out.status.success());
    // JSON lines export of the same records.
    let lines: String = recs
        .iter()
        .map(|r| serde_json::to_string(r).unwrap() + "\n")
        .collect();
    let jl = dir.path().join("export.jsonl");
    std::fs::write(&jl, lines).unwrap();
    assert_eq!(run(&jl).0, plain);
    // A truncated gzip file is an error naming it.
    let bad = dir.path().join("bad.json.gz");
    let g = gz(text.as_bytes());
    std::fs::write(&bad, &g[..g.len() / 2]).unwrap();
    let out = iamref(dir.path()).arg("calls").arg(&bad).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad.json.gz"));
    // An empty folder.
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let out = iamref(dir.path())
        .arg("calls")
        .arg(&empty)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no CloudTrail files"));
}

trait WriteStdin {
    fn write_stdin_bytes(&mut self, b: Vec<u8>) -> std::io::Result<std::process::Output>;
}

impl WriteStdin for Command {
    fn write_stdin_bytes(&mut self, b: Vec<u8>) -> std::io::Result<std::process::Output> {
        let mut child = self
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        let mut stdin = child.stdin.take().unwrap();
        let t = std::thread::spawn(move || {
            let _ = stdin.write_all(&b);
        });
        let out = child.wait_with_output()?;
        let _ = t.join();
        Ok(out)
    }
}

#[test]
fn record_on_a_pipe_without_out_ends_with_the_policy_line() {
    let dir = tempfile::tempdir().unwrap();
    let ready = dir.path().join("ready");
    let mut child = iamref(dir.path())
        .args(["record", "--port", "0", "--duration", "3", "--ready-file"])
        .arg(&ready)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    while !std::fs::read_to_string(&ready).is_ok_and(|s| s.ends_with('\n')) {
        if start.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("iamref record did not start listening");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let addr = std::fs::read_to_string(&ready).unwrap().trim().to_string();
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let text = std::fs::read_to_string(fixtures().join("csm/boto3-moto.jsonl")).unwrap();
    for line in text.lines().filter(|l| l.contains("ListObjectsV2")) {
        sock.send_to(line.as_bytes(), &addr).unwrap();
    }
    // The duration ends the recording.
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(lines[0]["action"], "s3:ListBucket");
    assert_eq!(policy_actions(&lines[1]["policy"]), ["s3:ListBucket"]);
}

#[test]
fn a_recorded_pass_role_is_granted_only_to_the_service_that_passed_it() {
    // Constructed: one CloudTrail record of lambda:CreateFunction passing
    // a role; the reference's operation context says to which service.
    let dir = tempfile::tempdir().unwrap();
    let trail = dir.path().join("trail.json");
    std::fs::write(
        &trail,
        r#"{"Records": [{"eventVersion": "1.08", "eventTime": "2026-06-01T10:00:00Z",
  "eventSource": "lambda.amazonaws.com", "eventName": "CreateFunction20150331",
  "awsRegion": "us-east-1", "recipientAccountId": "123456789012",
  "userIdentity": {"type": "AssumedRole", "arn": "arn:aws:sts::123456789012:assumed-role/deployer/s", "accountId": "123456789012"},
  "requestParameters": {"functionName": "resize", "role": "arn:aws:iam::123456789012:role/resize-exec"},
  "responseElements": {"functionArn": "arn:aws:lambda:us-east-1:123456789012:function:resize"}}]}"#,
    )
    .unwrap();
    // `calls` shows the context ...
    let out = iamref(dir.path())
        .args(["calls", "-f", "json"])
        .arg(&trail)
        .output()
        .unwrap();
    assert!(out.status.success());
    let rows: Value = serde_json::from_slice(&out.stdout).unwrap();
    let pass = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["action"] == "iam:PassRole")
        .unwrap();
    assert_eq!(
        pass["context"],
        serde_json::json!({"iam:PassedToService": ["lambda.amazonaws.com"]})
    );
    // ... and the policy written from the trail keeps it as a condition,
    // without claiming PassRole is left out.
    let out = iamref(dir.path())
        .args([
            "policy",
            "write",
            "--include-conditional",
            "--from-cloudtrail",
        ])
        .arg(&trail)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "{err}");
    let p: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        resources_of(&p, "iam:PassRole"),
        ["arn:aws:iam::123456789012:role/resize-exec"]
    );
    let st = p["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["Action"] == serde_json::json!(["iam:PassRole"]))
        .unwrap();
    assert_eq!(
        st["Condition"],
        serde_json::json!({"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}})
    );
    assert!(err.contains("note: context: iam:PassRole: "), "{err}");
    assert!(!err.contains("dependent-action: iam:PassRole"), "{err}");
}

#[test]
fn cloudtrail_resources_with_slashes_are_resolved_exactly() {
    // Constructed records: a log group and stream, a secret by ARN and by
    // name, an SSM parameter path: names with '/', as everyday IAM has.
    let dir = tempfile::tempdir().unwrap();
    let rec = |source: &str, name: &str, params: &str| {
        format!(
            r#"{{"eventVersion": "1.08", "eventTime": "2026-06-01T10:00:00Z", "eventSource": "{source}",
  "eventName": "{name}", "awsRegion": "us-east-1", "recipientAccountId": "123456789012",
  "userIdentity": {{"type": "AssumedRole", "arn": "arn:aws:sts::123456789012:assumed-role/app/s", "accountId": "123456789012"}},
  "requestParameters": {params}}}"#
        )
    };
    let records = [
        rec(
            "logs.amazonaws.com",
            "CreateLogStream",
            r#"{"logGroupName": "/aws/lambda/fn", "logStreamName": "2026/06/01/[$LATEST]abc"}"#,
        ),
        rec(
            "secretsmanager.amazonaws.com",
            "GetSecretValue",
            r#"{"secretId": "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf"}"#,
        ),
        rec(
            "secretsmanager.amazonaws.com",
            "DescribeSecret",
            r#"{"secretId": "prod/api-key"}"#,
        ),
        rec(
            "ssm.amazonaws.com",
            "GetParameter",
            r#"{"name": "/app/prod/db-url", "withDecryption": true}"#,
        ),
    ];
    let (p, err) = policy_from_records(dir.path(), "trail.json", &records);
    assert!(
        err.contains("resources resolved for 4 of 4 call(s)"),
        "{err}"
    );
    assert_eq!(
        resources_of(&p, "logs:CreateLogStream"),
        ["arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/fn:log-stream:2026/06/01/[$LATEST]abc"]
    );
    assert_eq!(
        resources_of(&p, "secretsmanager:GetSecretValue"),
        ["arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf"]
    );
    // A secret named without its ARN: AWS's six random characters as `?`.
    assert_eq!(
        resources_of(&p, "secretsmanager:DescribeSecret"),
        ["arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/api-key-??????"]
    );
    assert_eq!(
        resources_of(&p, "ssm:GetParameter"),
        ["arn:aws:ssm:us-east-1:123456789012:parameter/app/prod/db-url"]
    );
    // What it wrote checks with no error.
    let policy = dir.path().join("policy.json");
    std::fs::write(&policy, serde_json::to_vec_pretty(&p).unwrap()).unwrap();
    let check = iamref(dir.path())
        .args(["policy", "check", "--min-severity", "error"])
        .arg(&policy)
        .output()
        .unwrap();
    assert_eq!(
        check.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
}

/// `-q` quiets `policy write --from-cloudtrail` as every command: the
/// summary and the informational notes go, the policy and what could not
/// be read stay (and what widens the policy would stay too).
#[test]
fn quiet_cloudtrail_replay_keeps_only_what_a_script_must_see() {
    let dir = tempfile::TempDir::new().unwrap();
    let run = |quiet: bool| {
        let mut c = iamref(dir.path());
        c.args(["policy", "write", "--from-cloudtrail"])
            .arg(fixtures().join("cloudtrail/trail.json"));
        if quiet {
            c.arg("-q");
        }
        let out = c.output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        (
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    };
    let (loud_out, loud_err) = run(false);
    let (quiet_out, quiet_err) = run(true);
    assert_eq!(loud_out, quiet_out, "the same policy");
    assert!(loud_err.contains("record(s) in 1 file(s)"), "{loud_err}");
    assert!(loud_err.contains("note: "), "{loud_err}");
    assert!(!quiet_err.contains("record(s) in"), "{quiet_err}");
    for line in quiet_err.lines() {
        assert!(loud_err.contains(line), "-q added {line:?}");
    }
    assert!(quiet_err.lines().count() < loud_err.lines().count());
}

/// Issue 19's recording cases on the real binary over one constructed
/// trail: the required `Role` of lambda:CreateFunction and the optional
/// `monitoringRoleArn` that rds:CreateDBInstance sent pass their roles
/// (iam:PassRole always, on those roles, in the operations' contexts);
/// CopyObject reads the (URL-encoded, versioned) `x-amz-copy-source` and
/// writes only the destination; an IAM role name with its path, an RDS
/// identifier and a URL-encoded Connect instance ARN become their ARNs;
/// EC2's CreateSecurityGroup tags the group its response names.
#[test]
fn recorded_calls_name_the_resources_and_roles_they_pass() {
    let dir = tempfile::tempdir().unwrap();
    let trail = dir.path().join("trail.json");
    let rec = |source: &str, name: &str, params: &str, extra: &str| {
        format!(
            r#"{{"eventVersion": "1.08", "eventType": "AwsApiCall", "eventTime": "2026-06-01T10:00:00Z",
  "eventSource": "{source}", "eventName": "{name}", "awsRegion": "us-east-1", "recipientAccountId": "123456789012",
  "userIdentity": {{"type": "AssumedRole", "arn": "arn:aws:sts::123456789012:assumed-role/deployer/s", "accountId": "123456789012"}},
  "requestParameters": {params}{extra}}}"#
        )
    };
    let records = [
        rec(
            "lambda.amazonaws.com",
            "CreateFunction20150331",
            r#"{"functionName": "resize", "role": "arn:aws:iam::123456789012:role/lambda/resize-exec", "runtime": "python3.12"}"#,
            "",
        ),
        rec(
            "s3.amazonaws.com",
            "CopyObject",
            r#"{"bucketName": "reports-archive", "key": "2026/06/summary.csv", "x-amz-copy-source": "reports/2026%2F06/summary%20final.csv?versionId=3sL4kqtJlcpXroDTDmJ"}"#,
            r#", "resources": [{"type": "AWS::S3::Object", "ARN": "arn:aws:s3:::reports-archive/2026/06/summary.csv"}, {"type": "AWS::S3::Object", "ARN": "arn:aws:s3:::reports/2026/06/summary final.csv"}]"#,
        ),
        rec(
            "iam.amazonaws.com",
            "CreateRole",
            r#"{"roleName": "resize-exec", "path": "/lambda/", "assumeRolePolicyDocument": "{}"}"#,
            "",
        ),
        rec(
            "rds.amazonaws.com",
            "CreateDBInstance",
            r#"{"dBInstanceIdentifier": "orders-db", "engine": "postgres", "monitoringRoleArn": "arn:aws:iam::123456789012:role/rds-monitoring"}"#,
            "",
        ),
        rec(
            "connect.amazonaws.com",
            "DescribeQueue",
            r#"{"InstanceId": "arn%3Aaws%3Aconnect%3Aus-east-1%3A123456789012%3Ainstance%2F4f1c9a2e-0000-4000-8000-0123456789ab", "QueueId": "q-1"}"#,
            "",
        ),
    ];
    let (p, err) = policy_from_records(dir.path(), "trail.json", &records);
    assert!(
        err.contains("resources resolved for 5 of 5 call(s)"),
        "{err}"
    );
    let connect = "arn:aws:connect:us-east-1:123456789012:instance/4f1c9a2e-0000-4000-8000-0123456789ab/queue/q-1";
    assert_eq!(
        p,
        serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [
                {"Sid": "ConnectQueue", "Effect": "Allow", "Action": ["connect:DescribeQueue"],
                 "Resource": connect},
                {"Sid": "IamRole", "Effect": "Allow", "Action": ["iam:CreateRole"],
                 "Resource": "arn:aws:iam::123456789012:role/lambda/resize-exec"},
                // Each role only to the service whose call passed it.
                {"Sid": "IamRole2", "Effect": "Allow", "Action": ["iam:PassRole"],
                 "Resource": "arn:aws:iam::123456789012:role/lambda/resize-exec",
                 "Condition": {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}}},
                {"Sid": "IamRole3", "Effect": "Allow", "Action": ["iam:PassRole"],
                 "Resource": "arn:aws:iam::123456789012:role/rds-monitoring",
                 "Condition": {"StringEquals": {"iam:PassedToService": [
                     "rds-preview.amazonaws.com", "rds.amazonaws.com"
                 ]}}},
                {"Sid": "LambdaFunction", "Effect": "Allow", "Action": ["lambda:CreateFunction"],
                 "Resource": "arn:aws:lambda:us-east-1:123456789012:function:resize"},
                {"Sid": "RdsDb", "Effect": "Allow", "Action": ["rds:CreateDBInstance"],
                 "Resource": "arn:aws:rds:us-east-1:123456789012:db:orders-db"},
                {"Sid": "S3Object", "Effect": "Allow", "Action": ["s3:PutObject"],
                 "Resource": "arn:aws:s3:::reports-archive/2026/06/summary.csv"},
                {"Sid": "S3Object2", "Effect": "Allow", "Action": ["s3:GetObject", "s3:GetObjectVersion"],
                 "Resource": "arn:aws:s3:::reports/2026/06/summary final.csv"}
            ]
        }),
        "{p:#}"
    );
    // `calls` says the same: PassRole always, needed by both calls.
    let out = iamref(dir.path())
        .args(["calls", "-f", "json"])
        .arg(&trail)
        .output()
        .unwrap();
    assert!(out.status.success());
    let rows: Value = serde_json::from_slice(&out.stdout).unwrap();
    // One row per service the role goes to.
    let pass: Vec<&Value> = rows
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["action"] == "iam:PassRole")
        .collect();
    assert_eq!(pass.len(), 2, "{rows:#}");
    for (row, by) in pass
        .iter()
        .zip(["lambda:CreateFunction", "rds:CreateDBInstance"])
    {
        assert_eq!(row["needed"], "always", "{row:#}");
        assert_eq!(row["needed_by"], serde_json::json!([by]), "{row:#}");
    }
    // Without the optional member, rds:CreateDBInstance passes no role.
    let (p, _) = policy_from_records(
        dir.path(),
        "bare.json",
        &[rec(
            "rds.amazonaws.com",
            "CreateDBInstance",
            r#"{"dBInstanceIdentifier": "orders-db", "engine": "postgres"}"#,
            "",
        )],
    );
    assert_eq!(policy_actions(&p), ["rds:CreateDBInstance"]);
    // EC2: the tags of CreateSecurityGroup go on the group it created
    // (its responseElements), not on the VPC the request names.
    let (p, _) = policy_from_records(
        dir.path(),
        "sg.json",
        &[rec(
            "ec2.amazonaws.com",
            "CreateSecurityGroup",
            r#"{"groupName": "web", "groupDescription": "web", "vpcId": "vpc-0a1b2c3d",
                   "tagSpecificationSet": {"items": [{"resourceType": "security-group", "tags": [{"key": "team", "value": "web"}]}]}}"#,
            r#", "responseElements": {"requestId": "r-1", "_return": true, "groupId": "sg-0123456789abcdef0"}"#,
        )],
    );
    assert_eq!(
        resources_of(&p, "ec2:CreateTags"),
        ["arn:aws:ec2:us-east-1:123456789012:security-group/sg-0123456789abcdef0"]
    );
}

#[test]
fn an_overlong_id_in_one_record_never_loses_the_policy() {
    // Constructed records: a Connect queue whose instance id is 100,000
    // characters (longer than any ARN IAM takes) beside a good call.
    let dir = tempfile::tempdir().unwrap();
    let rec = |source: &str, name: &str, params: &str| {
        format!(
            r#"{{"eventVersion": "1.08", "eventType": "AwsApiCall", "eventSource": "{source}", "eventName": "{name}",
  "awsRegion": "us-east-1", "recipientAccountId": "123456789012", "requestParameters": {params}}}"#
        )
    };
    let long = "i".repeat(100_000);
    let (p, err) = policy_from_records(
        dir.path(),
        "trail.json",
        &[
            rec(
                "connect.amazonaws.com",
                "DescribeQueue",
                &format!(r#"{{"InstanceId": "{long}", "QueueId": "q-1"}}"#),
            ),
            rec(
                "sqs.amazonaws.com",
                "DeleteQueue",
                r#"{"queueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/jobs"}"#,
            ),
        ],
    );
    assert!(
        err.contains("resources resolved for 1 of 2 call(s)"),
        "{err}"
    );
    assert_eq!(
        resources_of(&p, "sqs:DeleteQueue"),
        ["arn:aws:sqs:us-east-1:123456789012:jobs"]
    );
    // The overlong call is granted on its scoped pattern, not on the id.
    let connect = resources_of(&p, "connect:DescribeQueue");
    assert!(!connect.is_empty(), "{p:#}");
    for r in &connect {
        assert!(
            r.len() < 200 && r.starts_with("arn:aws:connect:us-east-1:123456789012:"),
            "{r}"
        );
    }
}
