//! Live end-to-end test of `iamref record` with a real SDK: boto3 calls
//! S3, SQS, DynamoDB, Step Functions, CloudWatch Logs and STS on moto's
//! server (a local mock of AWS on 127.0.0.1) with client-side monitoring
//! on, and the recorded policy is checked.
//!
//! Setup: a throwaway venv under the target folder with boto3 and
//! moto[server] installed from PyPI (kept between runs). Skips with a
//! message where python3, venv or pip (or PyPI) is unavailable. Every
//! step is bounded in time.

mod record_support;

use record_support::{check_recorded, Recorder};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Run a command to completion within `limit`; `None` on failure.
fn run_bounded(cmd: &mut Command, limit: Duration) -> Option<std::process::Output> {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .ok()?;
    let start = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(_)) => return child.wait_with_output().ok(),
            Ok(None) if start.elapsed() < limit => std::thread::sleep(Duration::from_millis(100)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
        }
    }
}

/// The venv with boto3 and moto's server, or why not.
fn venv() -> Result<PathBuf, String> {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("record-live-venv");
    let ready = dir.join(".iamref-ready");
    if ready.exists() {
        return Ok(dir);
    }
    let py = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    let out = run_bounded(
        Command::new(&py).args(["-m", "venv"]).arg(&dir),
        Duration::from_secs(120),
    )
    .ok_or_else(|| format!("{py} -m venv failed or is unavailable"))?;
    if !out.status.success() {
        return Err(format!(
            "{py} -m venv: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let out = run_bounded(
        Command::new(dir.join("bin/python")).args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "boto3",
            "moto[server]",
        ]),
        Duration::from_secs(900),
    )
    .ok_or("pip install boto3 moto[server] failed or timed out")?;
    if !out.status.success() {
        return Err(format!(
            "pip install boto3 moto[server]: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    std::fs::write(&ready, "").map_err(|e| e.to_string())?;
    Ok(dir)
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_tcp_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn boto3_on_moto_records_a_working_policy() {
    let venv = match venv() {
        Ok(v) => v,
        Err(why) => {
            eprintln!("SKIPPED boto3_on_moto_records_a_working_policy: {why}");
            return;
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
    let rec = Recorder::start(dir.path(), &[]);
    let csm_port = rec.addr.rsplit(':').next().unwrap().to_string();
    let key = iamref_policy::record::csm::access_key_for_account(
        "ASIA",
        123_456_789_012,
        0x1234_5678_9abc_def0,
    );
    let secret = "iamref-constructed-secret-not-a-key";
    let token = "IAMREFCONSTRUCTEDSESSIONTOKENNOTREAL";
    let workload = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/csm/workload.py");
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
    assert!(stderr.contains("15 call(s)"), "{stderr}");
    check_recorded(dir.path(), code, &stdout, &stderr, &[&key, secret, token]);
}
