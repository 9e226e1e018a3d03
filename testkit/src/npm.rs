//! Pinned npm packages installed once into a throwaway folder under the
//! target directory (`CARGO_TARGET_TMPDIR` of the calling test), for tests
//! that run a real JavaScript tool beside iamref.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long one `npm install` may take before it is killed.
const INSTALL_TIMEOUT: Duration = Duration::from_secs(900);

/// Installs `pin` (`name@version`, one of [`crate::pins`]) into
/// `<tmp>/npm-<name>-<version>` unless an earlier run finished there, and
/// returns that folder. `Err` says why it cannot be had (npm missing, the
/// registry unreachable, a timeout): the caller then calls
/// [`crate::skip`].
pub fn install(tmp: &Path, pin: &str) -> Result<PathBuf, String> {
    let name = pin.trim_start_matches('@').replace(['/', '@'], "-");
    install_all(tmp, &name, &[pin])
}

/// Installs the pinned packages `pins` together into `<tmp>/npm-<name>`
/// unless an earlier run installed exactly these there (a marker file
/// holds them), and returns that folder; `Err` as for [`install`].
pub fn install_all(tmp: &Path, name: &str, pins: &[&str]) -> Result<PathBuf, String> {
    // One install at a time: tests of one binary run on threads.
    static LOCK: Mutex<()> = Mutex::new(());
    let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tmp.join(format!("npm-{name}"));
    let ready = dir.join(".iamref-ready");
    let want = pins.join(" ");
    if std::fs::read_to_string(&ready).is_ok_and(|s| s == want) {
        return Ok(dir);
    }
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    std::fs::write(
        dir.join("package.json"),
        r#"{"name": "iamref-test-tools", "version": "0.0.0", "private": true}"#,
    )
    .map_err(|e| e.to_string())?;
    let mut child = Command::new("npm")
        .args(["install", "--silent", "--no-audit", "--no-fund"])
        .args(pins)
        .current_dir(&dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("npm is unavailable: {e}"))?;
    let start = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(s)) if s.success() => break,
            Ok(Some(s)) => return Err(format!("npm install {want}: {s}")),
            Ok(None) if start.elapsed() < INSTALL_TIMEOUT => {
                std::thread::sleep(Duration::from_millis(200))
            }
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "npm install {want} took over {}s",
                    INSTALL_TIMEOUT.as_secs()
                ));
            }
        }
    }
    std::fs::write(&ready, want).map_err(|e| e.to_string())?;
    Ok(dir)
}
