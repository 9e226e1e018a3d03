//! Throwaway Python venvs for tests that compare with other tools, with
//! every package pinned to an exact version (chosen from what PyPI served
//! when the pin was set). The venv folder's name carries a hash of its
//! pins and the interpreter, so a changed pin builds a new venv instead of
//! reusing a stale one. Every step is bounded in time.

use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

pub use crate::pins;

/// The interpreter: `$PYTHON` or `python3`.
pub fn python() -> String {
    std::env::var("PYTHON")
        .ok()
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "python3".into())
}

/// The venv folder for `name` with `packages` under `base`:
/// `base/py-venv-NAME-HASH`, HASH over the interpreter and the pins.
pub fn venv_dir(base: &Path, name: &str, packages: &[&str]) -> PathBuf {
    base.join(format!("py-venv-{name}-{}", pin_hash(&python(), packages)))
}

fn pin_hash(python: &str, packages: &[&str]) -> String {
    let mut h = Sha256::new();
    h.update(python.as_bytes());
    for p in packages {
        h.update([0]);
        h.update(p.as_bytes());
    }
    hex::encode(&h.finalize()[..6])
}

/// Run `cmd` to completion within `limit`; `None` when it cannot start or
/// takes longer (then it is killed).
pub fn run_bounded(cmd: &mut Command, limit: Duration) -> Option<Output> {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .ok()?;
    // Drain the pipes while waiting, so a chatty child cannot block.
    let mut out = child.stdout.take()?;
    let mut err = child.stderr.take()?;
    let t_out = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = std::io::Read::read_to_end(&mut out, &mut b);
        b
    });
    let t_err = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = std::io::Read::read_to_end(&mut err, &mut b);
        b
    });
    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break s,
            Ok(None) if start.elapsed() < limit => std::thread::sleep(Duration::from_millis(100)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
        }
    };
    Some(Output {
        status,
        stdout: t_out.join().unwrap_or_default(),
        stderr: t_err.join().unwrap_or_default(),
    })
}

/// A venv under `base` with exactly `packages` installed, made once and
/// then reused (a marker file holds the pin list), or why it cannot be made
/// (no python3, no venv module, pip or PyPI unavailable).
pub fn venv(base: &Path, name: &str, packages: &[&str]) -> Result<PathBuf, String> {
    if let Some(bad) = packages.iter().find(|p| !is_exact_pin(p)) {
        panic!("test dependency {bad:?} is not pinned to an exact version (name==version)");
    }
    let dir = venv_dir(base, name, packages);
    let ready = dir.join(".iamref-ready");
    let want = packages.join("\n");
    if std::fs::read_to_string(&ready).ok().as_deref() == Some(want.as_str()) {
        return Ok(dir);
    }
    let _ = std::fs::remove_dir_all(&dir);
    let py = python();
    let out = run_bounded(
        Command::new(&py).args(["-m", "venv"]).arg(&dir),
        Duration::from_secs(120),
    )
    .ok_or_else(|| format!("{py} -m venv could not run or timed out"))?;
    if !out.status.success() {
        return Err(format!(
            "{py} -m venv: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let out = run_bounded(
        Command::new(dir.join("bin/python"))
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--timeout",
                "60",
            ])
            .args(packages),
        Duration::from_secs(900),
    )
    .ok_or_else(|| {
        format!(
            "pip install {} could not run or timed out",
            packages.join(" ")
        )
    })?;
    if !out.status.success() {
        return Err(format!(
            "pip install {}: {}",
            packages.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    std::fs::write(&ready, want).map_err(|e| format!("{}: {e}", ready.display()))?;
    Ok(dir)
}

/// [`venv`], or [`crate::skip`] (a failure in strict mode) and `None`.
#[track_caller]
pub fn venv_or_skip(base: &Path, name: &str, packages: &[&str]) -> Option<PathBuf> {
    match venv(base, name, packages) {
        Ok(d) => Some(d),
        Err(why) => {
            crate::skip(format!("Python tools unavailable: {why}"));
            None
        }
    }
}

/// `name==version` or `name[extras]==version`, nothing looser.
pub fn is_exact_pin(p: &str) -> bool {
    let Some((name, version)) = p.split_once("==") else {
        return false;
    };
    let name_ok = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.[],".contains(c));
    let version_ok = !version.is_empty()
        && version
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.')
        && version.starts_with(|c: char| c.is_ascii_digit());
    name_ok && version_ok && !version.contains('*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pin_is_exact() {
        for set in pins::PYTHON {
            for p in *set {
                assert!(is_exact_pin(p), "{p}");
            }
        }
        for loose in [
            "boto3",
            "boto3>=1.0",
            "boto3==",
            "boto3==1.*",
            "boto3~=1.4",
            "==1.0",
        ] {
            assert!(!is_exact_pin(loose), "{loose}");
        }
        assert!(is_exact_pin("moto[server]==5.2.5"));
    }

    #[test]
    fn a_changed_pin_is_a_new_venv() {
        let base = Path::new("/nonexistent");
        let a = venv_dir(base, "x", &["duckdb==2.0.1"]);
        let b = venv_dir(base, "x", &["duckdb==2.0.2"]);
        let c = venv_dir(base, "x", &["duckdb==2.0.1", "boto3==1.44.8"]);
        assert_ne!(a, b);
        assert_ne!(a, c);
        assert_eq!(a, venv_dir(base, "x", &["duckdb==2.0.1"]));
        assert_ne!(a, venv_dir(base, "y", &["duckdb==2.0.1"]));
    }

    #[test]
    fn bounded_runs_stop() {
        let t = Instant::now();
        let out = run_bounded(
            Command::new("sh").args(["-c", "sleep 30"]),
            Duration::from_millis(300),
        );
        assert!(out.is_none());
        assert!(t.elapsed() < Duration::from_secs(10));
        let out = run_bounded(
            Command::new("sh").args(["-c", "echo hi; echo err >&2"]),
            Duration::from_secs(30),
        )
        .unwrap();
        assert!(out.status.success());
        assert_eq!(out.stdout, b"hi\n");
        assert_eq!(out.stderr, b"err\n");
    }
}
