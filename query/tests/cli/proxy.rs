//! `iamref record --proxy`, end to end.
//!
//! - boto3 (pinned) through the proxy (`HTTPS_PROXY`, `AWS_CA_BUNDLE`,
//!   client-side monitoring off) against moto's server (pinned) on
//!   127.0.0.1 behind `--upstream-endpoint`: the exact policy, resources
//!   named, a multipart upload and copies (GetObject on the copy source,
//!   PutObject on the destinations, no ACL / object-lock grant), a
//!   DeleteObjects of two keys (DeleteObject on both objects); no
//!   credential or body anywhere; the call log replays to the same policy.
//!   CSM listens in the same recording (`--port 0`).
//! - Hostile input on the proxy port (no Python needed): garbage, a
//!   half-open connection, 1,000 connections at once, a 100 MB body
//!   streamed through with bounded memory; all answered and counted, the
//!   recorder keeps serving and writes its outputs at Ctrl-C.
//!
//! - The AWS SDK for JavaScript v3 (npm, pinned) the same way (a
//!   multipart upload, a CopyObject and a DeleteObjects of two keys among
//!   its calls), with
//!   `https-proxy-agent` + `@smithy/node-http-handler` and
//!   `NODE_EXTRA_CA_CERTS`.
//!
//! The venv (boto3 and moto[server], [`pins::LIVE_AWS`], shared with
//! `record_live`) and the npm folder ([`pins::NPM_AWS_SDK_JS`]) are made
//! once under the target folder. Where python3, venv, PyPI, node or npm is
//! unavailable a test skips with a message (`iamref_testkit::skip`), and
//! fails under IAMREF_TEST_STRICT=1.

use crate::support::live::{free_tcp_port, venv, Killed};
use crate::support::record::{assert_no_object_extras, check_replay, Recorder, TOKEN};
use iamref_testkit::python::{pins, run_bounded};
use iamref_testkit::skip;
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const SECRET_KEY: &str = "constructedSecretKeyNotReal0000000000000";

/// The npm folder with the SDK packages, or why not.
fn npm_dir() -> Result<PathBuf, String> {
    iamref_testkit::npm::install_all(
        Path::new(env!("CARGO_TARGET_TMPDIR")),
        "proxy-live",
        pins::NPM_AWS_SDK_JS,
    )
}

/// The proxy's address from the ready file (`proxy ADDR`).
fn proxy_of(dir: &Path) -> String {
    let ready = std::fs::read_to_string(dir.join("ready")).unwrap();
    ready
        .lines()
        .find_map(|l| l.strip_prefix("proxy "))
        .unwrap_or_else(|| panic!("no proxy line in {ready:?}"))
        .to_string()
}

fn start_moto(venv: &Path) -> (Killed, u16) {
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
    (moto, port)
}

#[test]
fn boto3_through_the_proxy_records_the_exact_policy_with_resources() {
    let venv = match venv() {
        Ok(v) => v,
        Err(why) => return skip(why),
    };
    let (_moto, port) = start_moto(&venv);
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca");
    let upstream = format!("http://127.0.0.1:{port}");
    let rec = Recorder::start(
        dir.path(),
        &[
            "--proxy",
            "127.0.0.1:0",
            "--ca-dir",
            ca.to_str().unwrap(),
            "--upstream-endpoint",
            &upstream,
        ],
    );
    let proxy = proxy_of(dir.path());
    // A constructed key id encoding 123456789012 (not a credential).
    let key = iamref_policy::record::csm::access_key_for_account("ASIA", 123_456_789_012, 0x55);
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/proxy/boto3_workload.py");
    let out = run_bounded(
        Command::new(venv.join("bin/python"))
            .arg(&script)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", dir.path())
            .env("HTTPS_PROXY", format!("http://{proxy}"))
            .env("AWS_CA_BUNDLE", ca.join("ca.pem"))
            .env("AWS_CSM_ENABLED", "false")
            .env("AWS_ACCESS_KEY_ID", &key)
            .env("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
            .env("AWS_SESSION_TOKEN", TOKEN)
            .env("AWS_DEFAULT_REGION", "us-east-1")
            .env("AWS_CONFIG_FILE", dir.path().join("no-aws-config"))
            .env(
                "AWS_SHARED_CREDENTIALS_FILE",
                dir.path().join("no-aws-credentials"),
            )
            .env("AWS_EC2_METADATA_DISABLED", "true"),
        Duration::from_secs(180),
    )
    .expect("the boto3 workload did not finish in 180 s");
    let (code, stdout, stderr) = rec.stop();
    assert!(
        out.status.success(),
        "workload failed: {}\nrecorder: {stderr}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(code, Some(0), "stderr: {stderr}");
    let policy: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("policy.json")).unwrap()).unwrap();
    let acct = "123456789012";
    let expected = json!({
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "DynamodbTable", "Effect": "Allow",
             "Action": ["dynamodb:CreateTable", "dynamodb:GetItem", "dynamodb:PutItem"],
             "Resource": format!("arn:aws:dynamodb:us-east-1:{acct}:table/iamref-proxy-table")},
            {"Sid": "LogsLogGroup", "Effect": "Allow",
             "Action": ["logs:CreateLogGroup"],
             "Resource": format!("arn:aws:logs:us-east-1:{acct}:log-group:/iamref/proxy")},
            {"Sid": "LogsLogStream", "Effect": "Allow",
             "Action": ["logs:CreateLogStream"],
             "Resource": format!("arn:aws:logs:us-east-1:{acct}:log-group:/iamref/proxy:log-stream:stream-1")},
            {"Sid": "S3Bucket", "Effect": "Allow",
             "Action": ["s3:ListBucket"],
             "Resource": "arn:aws:s3:::iamref-proxy-bucket"},
            {"Sid": "S3Bucket2", "Effect": "Allow",
             "Action": ["s3:CreateBucket"],
             "Resource": ["arn:aws:s3:::iamref-proxy-bucket",
                          "arn:aws:s3:::iamref-proxy-copies"]},
            // The failed GetObject (NoSuchKey) is recorded as such and
            // counts, as CSM calls do. uploads/big.bin is read only as
            // the copy source of UploadPartCopy and CopyObject: their
            // s3:GetObject is on it, never on the destinations.
            {"Sid": "S3Object", "Effect": "Allow",
             "Action": ["s3:GetObject"],
             "Resource": ["arn:aws:s3:::iamref-proxy-bucket/reports/a.txt",
                          "arn:aws:s3:::iamref-proxy-bucket/reports/missing.txt",
                          "arn:aws:s3:::iamref-proxy-bucket/uploads/big.bin"]},
            // PutObject on what was written: the plain upload, the
            // multipart upload's object (CreateMultipartUpload, UploadPart,
            // CompleteMultipartUpload; no PutObjectAcl, PutObjectLegalHold,
            // PutObjectRetention or PutObjectTagging without their
            // headers), the copied part's upload and the copy.
            {"Sid": "S3Object2", "Effect": "Allow",
             "Action": ["s3:PutObject"],
             "Resource": ["arn:aws:s3:::iamref-proxy-bucket/reports/a.txt",
                          "arn:aws:s3:::iamref-proxy-bucket/uploads/big.bin",
                          "arn:aws:s3:::iamref-proxy-copies/copies/big.bin",
                          "arn:aws:s3:::iamref-proxy-copies/parts/copied.bin"]},
            // One DeleteObjects of the two copies: its XML body names both
            // keys, s3:DeleteObject on each (no DeleteObjectVersion: no
            // version ids).
            {"Sid": "S3Object3", "Effect": "Allow",
             "Action": ["s3:DeleteObject"],
             "Resource": ["arn:aws:s3:::iamref-proxy-copies/copies/big.bin",
                          "arn:aws:s3:::iamref-proxy-copies/parts/copied.bin"]},
            {"Sid": "SecretsmanagerSecret", "Effect": "Allow",
             "Action": ["secretsmanager:CreateSecret", "secretsmanager:GetSecretValue"],
             "Resource": format!("arn:aws:secretsmanager:us-east-1:{acct}:secret:iamref/proxy-secret-??????")},
            {"Sid": "SqsQueue", "Effect": "Allow",
             "Action": ["sqs:CreateQueue", "sqs:ReceiveMessage", "sqs:SendMessage"],
             "Resource": format!("arn:aws:sqs:us-east-1:{acct}:iamref-proxy-queue")}
        ]
    });
    assert_eq!(
        policy,
        expected,
        "{}\nstderr: {stderr}",
        serde_json::to_string_pretty(&policy).unwrap()
    );
    assert!(!policy.to_string().contains("\"*\""), "{policy}");
    assert_no_object_extras(&policy);
    // The failure is kept with its status; the counters say what came.
    assert!(
        stderr.contains("s3:GetObject: failed with NoSuchKey (HTTP 404)"),
        "{stderr}"
    );
    // Every body the recorder reads was read whole.
    assert!(!stderr.contains("not read, or not whole"), "{stderr}");
    assert!(stderr.contains("proxy: 24 request(s), 0 not AWS API calls iamref knows, 0 malformed or failed, 0 tunneled"), "{stderr}");
    assert!(
        stderr.contains(&format!("AWS_CA_BUNDLE={}", ca.join("ca.pem").display())),
        "{stderr}"
    );
    for var in [
        "HTTPS_PROXY=http://",
        "NODE_EXTRA_CA_CERTS=",
        "SSL_CERT_FILE=",
    ] {
        assert!(stderr.contains(var), "{var}: {stderr}");
    }
    // One JSON line per newly needed action on the pipe, with the status.
    let lines: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(lines.iter().any(|l| l["action"] == "s3:ListBucket"
        && l["call"] == "s3:ListObjectsV2"
        && l["status"] == 200));
    // No credential, signature or body anywhere (the CA key stays in --ca-dir).
    let log = std::fs::read_to_string(dir.path().join("calls.jsonl")).unwrap();
    let policy_text = policy.to_string();
    for (what, text) in [
        ("stdout", &stdout),
        ("stderr", &stderr),
        ("calls.jsonl", &log),
        ("policy", &policy_text),
    ] {
        for secret in [
            key.as_str(),
            SECRET_KEY,
            TOKEN,
            "Signature=",
            "constructed-secret-value",
            "constructed object body",
            "constructed message body",
            "constructed-item",
            "PRIVATE KEY",
        ] {
            assert!(!text.contains(secret), "{secret} in {what}: {text}");
        }
    }
    // The call log replays (CloudTrail-shaped) to the same policy, the
    // failed call's grant included.
    assert_eq!(check_replay(dir.path(), &["--include-errors"]), expected);
    assert_eq!(log.lines().count(), 24, "{log}");
}

/// A loopback HTTP server that reads each request's body (Content-Length)
/// and answers 200 with the number of bytes it read.
fn sink() -> (u16, std::thread::JoinHandle<()>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let h = std::thread::spawn(move || {
        // Bounded: at most a few connections are expected.
        for s in l.incoming().take(8) {
            let Ok(mut s) = s else { continue };
            std::thread::spawn(move || {
                let _ = s.set_read_timeout(Some(Duration::from_secs(60)));
                let mut head = Vec::new();
                let mut b = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") && head.len() < 65536 {
                    if s.read(&mut b).unwrap_or(0) == 0 {
                        return;
                    }
                    head.push(b[0]);
                }
                let head = String::from_utf8_lossy(&head).to_ascii_lowercase();
                let len: u64 = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse().ok())
                    .unwrap_or(0);
                let mut left = len;
                let mut buf = vec![0u8; 1 << 16];
                while left > 0 {
                    match s.read(&mut buf[..left.min(1 << 16) as usize]) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => left -= n as u64,
                    }
                }
                let body = len.to_string();
                let _ = write!(
                    s,
                    "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
            });
        }
    });
    (port, h)
}

fn vm_hwm_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

fn response_of(s: &mut TcpStream) -> String {
    let _ = s.set_read_timeout(Some(Duration::from_secs(30)));
    let mut buf = vec![0u8; 4096];
    let mut got = Vec::new();
    while !got.windows(4).any(|w| w == b"\r\n\r\n") {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
    String::from_utf8_lossy(&got).into_owned()
}

#[test]
fn hostile_input_is_answered_and_counted_and_the_recorder_keeps_going() {
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca");
    let rec = Recorder::start(
        dir.path(),
        &["--proxy", "127.0.0.1:0", "--ca-dir", ca.to_str().unwrap()],
    );
    let proxy = proxy_of(dir.path());
    let pid = rec.child.id();
    let base = vm_hwm_kib(pid);
    // Garbage: answered 400.
    let mut g = TcpStream::connect(&proxy).unwrap();
    g.write_all(b"\x16\x03\x01 this is not HTTP\r\n\r\n")
        .unwrap();
    let r = response_of(&mut g);
    assert!(r.starts_with("HTTP/1.1 400"), "{r:?}");
    // Half-open: a head never finished, held open while the rest goes on.
    let mut half = TcpStream::connect(&proxy).unwrap();
    half.write_all(b"GET http://127.0.0.1:1/ HTTP/1.1\r\nHost: 127.0.0.1")
        .unwrap();
    // 1,000 connections at once, each a request that is not a proxy request.
    let mut conns: Vec<TcpStream> = (0..1000)
        .map(|_| TcpStream::connect(&proxy).expect("connect"))
        .collect();
    for c in &mut conns {
        c.write_all(b"GET /not-absolute HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
    }
    let answered = conns
        .iter_mut()
        .map(response_of)
        .filter(|r| r.starts_with("HTTP/1.1 400"))
        .count();
    assert_eq!(answered, 1000);
    drop(conns);
    // A 100 MB body streams through (plain HTTP) to a loopback sink.
    let (port, _sink) = sink();
    let mut up = TcpStream::connect(&proxy).unwrap();
    let size: u64 = 100 * 1024 * 1024;
    write!(
        up,
        "PUT http://127.0.0.1:{port}/big HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: {size}\r\n\r\n"
    )
    .unwrap();
    let chunk = vec![b'x'; 1 << 20];
    for _ in 0..100 {
        up.write_all(&chunk).unwrap();
    }
    let r = response_of(&mut up);
    assert!(r.starts_with("HTTP/1.1 200"), "{r:?}");
    // CONNECT to a host that is not AWS's: tunneled untouched (here a
    // plain HTTP request through the tunnel to the sink).
    let mut t = TcpStream::connect(&proxy).unwrap();
    write!(
        t,
        "CONNECT 127.0.0.1:{port} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n"
    )
    .unwrap();
    let r = response_of(&mut t);
    assert!(r.starts_with("HTTP/1.1 200"), "{r:?}");
    write!(
        t,
        "GET /through HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n"
    )
    .unwrap();
    let r = response_of(&mut t);
    assert!(r.starts_with("HTTP/1.1 200"), "{r:?}");
    drop(t);
    let grown = vm_hwm_kib(pid).saturating_sub(base);
    assert!(
        grown < 64 * 1024,
        "the recorder grew by {grown} KiB streaming 100 MB"
    );
    drop(half);
    let (code, _out, err) = rec.stop();
    // No AWS call recorded: exit 1 (nothing found); outputs written.
    assert_eq!(code, Some(1), "{err}");
    assert!(dir.path().join("policy.json").exists());
    // Counted: the garbage and the 1,000 (the half-open one may or may not
    // be, depending on when Ctrl-C came); the 100 MB request is no AWS call.
    let malformed: u64 = err
        .split("proxy: ")
        .last()
        .and_then(|s| s.split(" malformed").next())
        .and_then(|s| s.rsplit(", ").next())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or_else(|| panic!("{err}"));
    assert!(malformed >= 1001, "{err}");
    assert!(err.contains("1 not AWS API calls iamref knows"), "{err}");
    assert!(err.contains("1 tunneled"), "{err}");
}

#[test]
fn a_body_that_cannot_be_read_is_warned_about_and_the_call_kept() {
    // A constructed, signed-looking S3 DeleteObjects in plain HTTP whose
    // XML body is damaged, forwarded to a loopback sink.
    let (port, _sink) = sink();
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca");
    let upstream = format!("http://127.0.0.1:{port}");
    let rec = Recorder::start(
        dir.path(),
        &[
            "--proxy",
            "127.0.0.1:0",
            "--ca-dir",
            ca.to_str().unwrap(),
            "--upstream-endpoint",
            &upstream,
        ],
    );
    let proxy = proxy_of(dir.path());
    let key = iamref_policy::record::csm::access_key_for_account("ASIA", 123_456_789_012, 0x55);
    let body = "<Delete><Object><Key>a</Key></Delete>";
    let host = "constructed-bucket.s3.us-east-1.amazonaws.com";
    let mut c = TcpStream::connect(&proxy).unwrap();
    write!(
        c,
        "POST http://{host}/?delete HTTP/1.1\r\nHost: {host}\r\nAuthorization: AWS4-HMAC-SHA256 Credential={key}/20260601/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let r = response_of(&mut c);
    assert!(r.starts_with("HTTP/1.1 200"), "{r:?}");
    drop(c);
    let (code, _out, err) = rec.stop();
    assert_eq!(code, Some(0), "{err}");
    assert!(
        err.contains("iamref: warning: 1 request body(ies) not read, or not whole: the resources and roles they name may be missing from the policy\n  proxy request 1: s3:DeleteObjects: XML body not read at byte 37: </Delete> closes <Object>"),
        "{err}"
    );
    // The call is recorded all the same (no key read: the object
    // patterns scoped to the call's region and account).
    let policy = std::fs::read_to_string(dir.path().join("policy.json")).unwrap();
    assert!(policy.contains("\"s3:DeleteObject\""), "{policy}");
    assert!(!policy.contains(&key), "{policy}");
}

#[test]
fn js_sdk_v3_through_the_proxy_records_the_exact_policy_with_resources() {
    let venv = match venv() {
        Ok(v) => v,
        Err(why) => return skip(why),
    };
    let npm = match npm_dir() {
        Ok(d) => d,
        Err(why) => return skip(why),
    };
    let (_moto, port) = start_moto(&venv);
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca");
    let upstream = format!("http://127.0.0.1:{port}");
    let rec = Recorder::start(
        dir.path(),
        &[
            "--proxy",
            "127.0.0.1:0",
            "--ca-dir",
            ca.to_str().unwrap(),
            "--upstream-endpoint",
            &upstream,
        ],
    );
    let proxy = proxy_of(dir.path());
    let key = iamref_policy::record::csm::access_key_for_account("AKIA", 123_456_789_012, 0x2a);
    // The script runs from the npm folder, where its imports resolve.
    let script = npm.join("js_workload.mjs");
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/proxy/js_workload.mjs"),
        &script,
    )
    .unwrap();
    let out = run_bounded(
        Command::new("node")
            .arg(&script)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", dir.path())
            .env("HTTPS_PROXY", format!("http://{proxy}"))
            .env("NODE_EXTRA_CA_CERTS", ca.join("ca.pem"))
            .env("AWS_ACCESS_KEY_ID", &key)
            .env("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
            .env("AWS_SESSION_TOKEN", TOKEN)
            .env("AWS_CONFIG_FILE", dir.path().join("no-aws-config"))
            .env(
                "AWS_SHARED_CREDENTIALS_FILE",
                dir.path().join("no-aws-credentials"),
            )
            .env("AWS_EC2_METADATA_DISABLED", "true"),
        Duration::from_secs(180),
    )
    .expect("the JavaScript workload did not finish in 180 s");
    let (code, stdout, stderr) = rec.stop();
    assert!(
        out.status.success(),
        "workload failed: {}{}\nrecorder: {stderr}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(code, Some(0), "stderr: {stderr}");
    let policy: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("policy.json")).unwrap()).unwrap();
    let expected = json!({
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "DynamodbTable", "Effect": "Allow",
             "Action": ["dynamodb:CreateTable", "dynamodb:GetItem", "dynamodb:PutItem"],
             "Resource": "arn:aws:dynamodb:us-east-1:123456789012:table/iamref-js-table"},
            {"Sid": "S3Bucket", "Effect": "Allow",
             "Action": ["s3:CreateBucket", "s3:ListBucket"],
             "Resource": "arn:aws:s3:::iamref-js-bucket"},
            // DeleteObjects of two keys (its XML body): each one.
            {"Sid": "S3Object", "Effect": "Allow",
             "Action": ["s3:DeleteObject"],
             "Resource": ["arn:aws:s3:::iamref-js-bucket/copies/big.bin",
                          "arn:aws:s3:::iamref-js-bucket/in/b.txt"]},
            // up/big.bin: written by the multipart upload, read only as
            // CopyObject's source; copies/big.bin only written.
            {"Sid": "S3Object2", "Effect": "Allow",
             "Action": ["s3:PutObject"],
             "Resource": ["arn:aws:s3:::iamref-js-bucket/copies/big.bin",
                          "arn:aws:s3:::iamref-js-bucket/in/b.txt",
                          "arn:aws:s3:::iamref-js-bucket/up/big.bin"]},
            {"Sid": "S3Object3", "Effect": "Allow",
             "Action": ["s3:GetObject"],
             "Resource": ["arn:aws:s3:::iamref-js-bucket/in/b.txt",
                          "arn:aws:s3:::iamref-js-bucket/up/big.bin"]},
            {"Sid": "SqsQueue", "Effect": "Allow",
             "Action": ["sqs:CreateQueue", "sqs:ReceiveMessage", "sqs:SendMessage"],
             "Resource": "arn:aws:sqs:us-east-1:123456789012:iamref-js-queue"}
        ]
    });
    assert_eq!(
        policy,
        expected,
        "{}\nstderr: {stderr}",
        serde_json::to_string_pretty(&policy).unwrap()
    );
    assert!(
        stderr.contains(
            "proxy: 15 request(s), 0 not AWS API calls iamref knows, 0 malformed or failed"
        ),
        "{stderr}"
    );
    assert_eq!(check_replay(dir.path(), &[]), expected);
    let log = std::fs::read_to_string(dir.path().join("calls.jsonl")).unwrap();
    for (what, text) in [
        ("stdout", &stdout),
        ("stderr", &stderr),
        ("calls.jsonl", &log),
    ] {
        for secret in [
            key.as_str(),
            SECRET_KEY,
            TOKEN,
            "Signature=",
            "constructed object body",
            "constructed message body",
            "constructed-item",
        ] {
            assert!(!text.contains(secret), "{secret} in {what}: {text}");
        }
    }
}
