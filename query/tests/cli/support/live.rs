//! What the live tests (`record_live`, `proxy`) share: the venv with the
//! pinned boto3 and moto's server, child processes killed on drop, free
//! loopback ports.

use iamref_testkit::python::{self, pins};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Child;

/// The venv with the pinned boto3 and moto's server
/// ([`pins::LIVE_AWS`]), or why not; set up once for all the tests of the
/// binary (they run in parallel; the others wait for the first).
pub fn venv() -> Result<PathBuf, String> {
    static VENV: std::sync::OnceLock<Result<PathBuf, String>> = std::sync::OnceLock::new();
    VENV.get_or_init(|| {
        python::venv(
            Path::new(env!("CARGO_TARGET_TMPDIR")),
            "record-live",
            pins::LIVE_AWS,
        )
    })
    .clone()
}

/// A child process killed and reaped when dropped.
pub struct Killed(pub Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A loopback TCP port free at the time of asking.
pub fn free_tcp_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
