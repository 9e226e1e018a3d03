//! Helpers shared by the `iamref record` tests (`record`, `record_fuzz`,
//! `record_live`).

use serde_json::Value;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const KEY: &str = "ASIABZPUZDIKODPLZGTY";
pub const TOKEN: &str = "IAMREFCONSTRUCTEDSESSIONTOKENNOTREAL";

pub use super::fixtures;
/// The record tests spawn and signal the binary: a `std::process::Command`.
pub use super::iamref_process as iamref;

/// A running `iamref record`, its address once it listens.
pub struct Recorder {
    pub child: Child,
    pub addr: String,
    pub dir: PathBuf,
}

impl Recorder {
    pub fn start(dir: &Path, extra: &[&str]) -> Recorder {
        let ready = dir.join("ready");
        let mut child = iamref(dir)
            .args(["record", "--port", "0", "--duration", "120", "--ready-file"])
            .arg(&ready)
            .arg("--out")
            .arg(dir.join("policy.json"))
            .arg("--log")
            .arg(dir.join("calls.jsonl"))
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let start = Instant::now();
        loop {
            if let Ok(s) = std::fs::read_to_string(&ready) {
                if s.ends_with('\n') {
                    return Recorder {
                        child,
                        addr: s.trim().to_string(),
                        dir: dir.to_path_buf(),
                    };
                }
            }
            if start.elapsed() > Duration::from_secs(120)
                || child.try_wait().ok().flatten().is_some()
            {
                let _ = child.kill();
                let out = child.wait_with_output().unwrap();
                panic!(
                    "iamref record did not start listening: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Ctrl-C, then the exit code, stdout and stderr.
    pub fn stop(mut self) -> (Option<i32>, String, String) {
        let pid = self.child.id().to_string();
        let ok = Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        assert!(ok, "could not send SIGINT");
        let start = Instant::now();
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            if start.elapsed() > Duration::from_secs(60) {
                let _ = self.child.kill();
                panic!("iamref record did not stop at SIGINT");
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        let mut out = String::new();
        let mut err = String::new();
        self.child
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut out)
            .unwrap();
        self.child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        (status.code(), out, err)
    }
}

pub fn policy_actions(policy: &Value) -> Vec<String> {
    let mut v: Vec<String> = policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["Action"].as_array().unwrap().iter())
        .map(|a| a.as_str().unwrap().to_string())
        .collect();
    v.sort();
    v
}

/// The statement resources of an action.
pub fn resources_of(policy: &Value, action: &str) -> Vec<String> {
    for s in policy["Statement"].as_array().unwrap() {
        if s["Action"].as_array().unwrap().iter().any(|a| a == action) {
            return match &s["Resource"] {
                Value::String(r) => vec![r.clone()],
                Value::Array(a) => a.iter().map(|r| r.as_str().unwrap().to_string()).collect(),
                _ => panic!("bad Resource"),
            };
        }
    }
    panic!("{action} not in the policy");
}

/// A recorded upload or copy grants none of the object actions only some
/// requests need (ACLs, legal holds, retention, tags, versions).
pub fn assert_no_object_extras(policy: &Value) {
    for not in [
        "s3:PutObjectAcl",
        "s3:PutObjectLegalHold",
        "s3:PutObjectRetention",
        "s3:PutObjectTagging",
        "s3:GetObjectVersion",
    ] {
        assert!(!policy.to_string().contains(not), "{not}: {policy:#}");
    }
}

/// Checks shared by the replay and the live test.
pub fn check_recorded(dir: &Path, code: Option<i32>, out: &str, err: &str, secrets: &[&str]) {
    assert_eq!(code, Some(0), "stderr: {err}");
    let policy: Value =
        serde_json::from_slice(&std::fs::read(dir.join("policy.json")).unwrap()).unwrap();
    let acts = policy_actions(&policy);
    for want in [
        "s3:CreateBucket",
        "s3:PutObject",
        "s3:ListBucket",
        "s3:GetObject",
        "sqs:CreateQueue",
        "sqs:SendMessage",
        "sqs:ReceiveMessage",
        "dynamodb:CreateTable",
        "dynamodb:PutItem",
        "dynamodb:GetItem",
        "states:ListStateMachines",
        "logs:CreateLogGroup",
        "logs:DescribeLogGroups",
    ] {
        assert!(
            acts.iter().any(|a| a == want),
            "{want} missing from {acts:?}"
        );
    }
    assert!(!acts.iter().any(|a| a.starts_with("sfn:")), "{acts:?}");
    assert!(
        !acts.iter().any(|a| a == "sts:GetCallerIdentity"),
        "{acts:?}"
    );
    // Parameter-dependent actions are notes, not grants.
    assert!(!acts.iter().any(|a| a == "s3:GetObjectAcl"), "{acts:?}");
    assert!(
        !acts.iter().any(|a| a == "dynamodb:TagResource"),
        "{acts:?}"
    );
    assert!(err.contains("may also need"), "{err}");
    assert!(err.contains("sts:GetCallerIdentity"), "{err}");
    // Scoped to the region and the account the access key encodes.
    assert_eq!(
        resources_of(&policy, "sqs:SendMessage"),
        ["arn:aws:sqs:us-east-1:123456789012:*"]
    );
    assert_eq!(
        resources_of(&policy, "dynamodb:PutItem"),
        ["arn:aws:dynamodb:us-east-1:123456789012:table/*"]
    );
    // One JSON line per newly needed action on the pipe.
    let lines: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(lines
        .iter()
        .any(|l| l["action"] == "s3:ListBucket" && l["call"] == "s3:ListObjectsV2"));
    let granted = lines.iter().filter(|l| l.get("action").is_some()).count();
    assert_eq!(granted, acts.len(), "{out}");
    // The failed call is kept with its status.
    assert!(err.contains("NoSuchKey"), "{err}");
    // No credential anywhere.
    let log = std::fs::read_to_string(dir.join("calls.jsonl")).unwrap();
    let pol = std::fs::read_to_string(dir.join("policy.json")).unwrap();
    for s in secrets {
        for (what, text) in [
            ("stdout", out),
            ("stderr", err),
            ("log", &log),
            ("policy", &pol),
        ] {
            assert!(!text.contains(s), "{s} found in the {what}");
        }
    }
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_file() && p.extension().is_some_and(|x| x == "json" || x == "jsonl") {
            let t = std::fs::read_to_string(&p).unwrap_or_default();
            for s in secrets {
                assert!(!t.contains(s), "{s} in {}", p.display());
            }
        }
    }
    // The call log replays to the same policy.
    let again = check_replay(dir, &[]);
    assert_eq!(policy_actions(&again), acts);
    assert_eq!(
        resources_of(&again, "sqs:SendMessage"),
        ["arn:aws:sqs:us-east-1:123456789012:*"]
    );
    let calls = iamref(dir)
        .args(["calls", "-f", "json"])
        .arg(dir.join("calls.jsonl"))
        .output()
        .unwrap();
    assert!(
        calls.status.success(),
        "{}",
        String::from_utf8_lossy(&calls.stderr)
    );
    let rows: Value = serde_json::from_slice(&calls.stdout).unwrap();
    let list = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["action"] == "s3:ListBucket")
        .unwrap();
    assert_eq!(list["needed"], "always");
    assert_eq!(list["needed_by"], serde_json::json!(["s3:ListObjectsV2"]));
}

/// Replay equals recording: the recording's call log (`calls.jsonl`)
/// through `policy write --from-cloudtrail ARGS` is the policy the
/// recording wrote (`policy.json`), statement for statement; the replayed
/// policy.
pub fn check_replay(dir: &Path, args: &[&str]) -> Value {
    let recorded: Value =
        serde_json::from_slice(&std::fs::read(dir.join("policy.json")).unwrap()).unwrap();
    let replay = iamref(dir)
        .args(["policy", "write"])
        .args(args)
        .arg("--from-cloudtrail")
        .arg(dir.join("calls.jsonl"))
        .output()
        .unwrap();
    assert!(
        replay.status.success(),
        "{}",
        String::from_utf8_lossy(&replay.stderr)
    );
    let again: Value = serde_json::from_slice(&replay.stdout).unwrap();
    assert_eq!(
        again,
        recorded,
        "the replayed call log is not the recorded policy: {}",
        serde_json::to_string_pretty(&again).unwrap()
    );
    again
}
