//! Live end-to-end tests of `iamref record` with a real SDK: boto3 calls
//! S3, SQS, DynamoDB, Step Functions, CloudWatch Logs and STS, and (in a
//! second workload) creates an IAM role and a Lambda function, and (in a
//! third) uploads in parts and copies S3 objects, on moto's
//! server (a local mock of AWS on 127.0.0.1) with client-side monitoring
//! on, and the recorded policies are checked.
//!
//! Setup: a throwaway venv under the target folder with boto3 and
//! moto[server] installed from PyPI at pinned versions (kept between runs;
//! a changed pin makes a new one). Skips with a message where python3,
//! venv or pip (or PyPI) is unavailable, and fails instead under
//! `IAMREF_TEST_STRICT=1`. Every step is bounded in time.

use crate::support::live::{free_tcp_port, venv, Killed};
use crate::support::record::{
    assert_no_object_extras, check_recorded, check_replay, policy_actions, Recorder,
};
use iamref_testkit::python::run_bounded;
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What one recorded workload left: the recording folder, the recorder's
/// exit code and output, and the constructed credentials it must not leak.
struct Live {
    dir: tempfile::TempDir,
    code: Option<i32>,
    stdout: String,
    stderr: String,
    secrets: [String; 3],
}

/// Runs the boto3 `script` (in tests/fixtures/csm) against a fresh moto
/// server with client-side monitoring sent to `iamref record ARGS`;
/// `None` (a skip, a failure in strict mode) where the venv cannot be made.
#[track_caller]
fn record_workload(script: &str, args: &[&str]) -> Option<Live> {
    let venv = match venv() {
        Ok(v) => v,
        Err(why) => {
            iamref_testkit::skip(format!("Python tools unavailable: {why}"));
            return None;
        }
    };
    let port = free_tcp_port();
    let moto = Killed(
        Command::new(venv.join("bin/moto_server"))
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("moto_server installed but not runnable"),
    );
    let start = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "moto_server did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let dir = tempfile::tempdir().unwrap();
    let rec = Recorder::start(dir.path(), args);
    let csm_port = rec.addr.rsplit(':').next().unwrap().to_string();
    let key = iamref_policy::record::csm::access_key_for_account(
        "ASIA",
        123_456_789_012,
        0x1234_5678_9abc_def0,
    );
    let secret = "iamref-constructed-secret-not-a-key";
    let token = "IAMREFCONSTRUCTEDSESSIONTOKENNOTREAL";
    let workload = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/csm")
        .join(script);
    let out = run_bounded(
        Command::new(venv.join("bin/python"))
            .arg(&workload)
            .env("AWS_CSM_ENABLED", "true")
            .env("AWS_CSM_PORT", &csm_port)
            .env("AWS_CSM_HOST", "127.0.0.1")
            .env("AWS_ACCESS_KEY_ID", &key)
            .env("AWS_SECRET_ACCESS_KEY", secret)
            .env("AWS_SESSION_TOKEN", token)
            // No config or credentials of the machine: files that do not exist.
            .env("AWS_CONFIG_FILE", dir.path().join("no-aws-config"))
            .env(
                "AWS_SHARED_CREDENTIALS_FILE",
                dir.path().join("no-aws-credentials"),
            )
            .env("MOTO_ENDPOINT", format!("http://127.0.0.1:{port}")),
        Duration::from_secs(180),
    )
    .expect("the boto3 workload timed out");
    assert!(
        out.status.success(),
        "workload: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::thread::sleep(Duration::from_millis(500));
    let (code, stdout, stderr) = rec.stop();
    drop(moto);
    Some(Live {
        dir,
        code,
        stdout,
        stderr,
        secrets: [key, secret.to_string(), token.to_string()],
    })
}

#[test]
fn boto3_on_moto_records_a_working_policy() {
    let Some(l) = record_workload("workload.py", &[]) else {
        return;
    };
    assert!(l.stderr.contains("15 call(s)"), "{}", l.stderr);
    let secrets: Vec<&str> = l.secrets.iter().map(String::as_str).collect();
    check_recorded(l.dir.path(), l.code, &l.stdout, &l.stderr, &secrets);
}

#[test]
fn a_recorded_lambda_deployment_passes_its_role_to_lambda_only() {
    // boto3 creates a role and a Lambda function on moto; the recorded
    // iam:PassRole is granted without --include-conditional (CreateFunction's
    // Role is a required member of its API model: it always passes a role)
    // and carries the reference's context.
    let Some(l) = record_workload("workload_lambda.py", &[]) else {
        return;
    };
    assert_eq!(l.code, Some(0), "{}", l.stderr);
    let policy: serde_json::Value =
        serde_json::from_slice(&std::fs::read(l.dir.path().join("policy.json")).unwrap()).unwrap();
    let statements = policy["Statement"].as_array().unwrap();
    let with = |action: &str| {
        statements
            .iter()
            .find(|s| s["Action"].as_array().unwrap().iter().any(|a| a == action))
            .unwrap_or_else(|| panic!("{action} not granted in {policy:#}"))
    };
    assert_eq!(
        with("iam:PassRole")["Condition"],
        serde_json::json!({"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}}),
        "{policy:#}"
    );
    assert_eq!(
        with("lambda:CreateFunction")["Condition"],
        serde_json::Value::Null
    );
    assert!(with("iam:CreateRole")["Condition"].is_null(), "{policy:#}");
    let log = std::fs::read_to_string(l.dir.path().join("calls.jsonl")).unwrap();
    for s in &l.secrets {
        assert!(!log.contains(s.as_str()) && !l.stdout.contains(s.as_str()));
    }
}

#[test]
fn a_recorded_multipart_upload_and_copy_grant_put_and_get_object_only() {
    // boto3: two multipart uploads (one part uploaded, one copied with
    // UploadPartCopy) and a CopyObject into another bucket. CSM datagrams
    // carry the operation, never its parameters: what the recording can
    // know is the actions every call of the operation needs, scoped to
    // the account and region (S3 object ARNs name neither: `*/*`). It
    // cannot tell the copy source from the destination, and so grants
    // s3:GetObject and s3:PutObject on every object. What it must not do
    // is grant what a plain multipart upload does not need: the ACL,
    // object-lock and tagging actions come only with their headers (the
    // over-grant of issue #19), and GetObjectVersion only with a
    // versionId.
    let Some(l) = record_workload("workload_s3.py", &[]) else {
        return;
    };
    assert_eq!(l.code, Some(0), "{}", l.stderr);
    assert!(l.stderr.contains("11 call(s)"), "{}", l.stderr);
    let policy: serde_json::Value =
        serde_json::from_slice(&std::fs::read(l.dir.path().join("policy.json")).unwrap()).unwrap();
    assert_eq!(
        policy_actions(&policy),
        ["s3:CreateBucket", "s3:GetObject", "s3:PutObject"],
        "{policy:#}"
    );
    assert_eq!(
        policy,
        serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [
                {"Sid": "S3Bucket", "Effect": "Allow",
                 "Action": ["s3:CreateBucket"],
                 "Resource": "arn:aws:s3:::*"},
                // Any object, through an access point too (the formats
                // of both actions), in the account and region of the call.
                {"Sid": "S3AccesspointobjectObject", "Effect": "Allow",
                 "Action": ["s3:GetObject", "s3:PutObject"],
                 "Resource": ["arn:aws:s3:::*/*",
                              "arn:aws:s3:us-east-1:123456789012:accesspoint/*/object/*"]}
            ]
        }),
        "{policy:#}"
    );
    assert_no_object_extras(&policy);
    // Every call is in the log, and the log replays to the same policy.
    let log = std::fs::read_to_string(l.dir.path().join("calls.jsonl")).unwrap();
    for op in [
        "CreateMultipartUpload",
        "UploadPart",
        "UploadPartCopy",
        "CompleteMultipartUpload",
        "CopyObject",
    ] {
        assert!(log.contains(&format!("\"{op}\"")), "{op}: {log}");
    }
    check_replay(l.dir.path(), &[]);
    for s in &l.secrets {
        assert!(!log.contains(s.as_str()) && !l.stdout.contains(s.as_str()));
    }
}
