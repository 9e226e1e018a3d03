//! IAM's size quota on the policies `policy write`, `policy tighten` and
//! `record` produce: a policy over it is reported on standard error
//! whatever `-q` says (IAM would refuse it), and `--split PREFIX` writes it
//! as `PREFIX-1.json`, `PREFIX-2.json`, … instead, each under the quota and
//! each statement whole ([`iamref_policy::quota::split`]).

use crate::exit::input;
use anyhow::Result;
use iamref_policy::quota::{self, MANAGED};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// `--split PREFIX`, as each command declares it.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct SplitArgs {
    /// Write the policy as PREFIX-1.json, PREFIX-2.json, ... (atomically),
    /// each under the 6,144 characters of a managed policy, statements
    /// whole; their paths are printed, one per line
    #[arg(long, value_name = "PREFIX")]
    pub split: Option<PathBuf>,
}

/// The quota note, when `policy` is over it (always printed).
pub fn report(policy: &Value) {
    if let Some(o) = quota::over(policy, MANAGED) {
        crate::diag::warning(format_args!(
            "{o}; --split writes it as several policies that each fit"
        ));
    }
}

/// With `--split`: writes the parts and returns their paths (the caller
/// prints them instead of the policy). Without: reports the quota and
/// returns `None`.
pub fn write_parts(policy: &Value, a: &SplitArgs) -> Result<Option<Vec<PathBuf>>> {
    let Some(prefix) = &a.split else {
        report(policy);
        return Ok(None);
    };
    let parts = quota::split(policy, MANAGED).map_err(|e| input(format!("--split: {e}")))?;
    let name = |i: usize| -> PathBuf {
        let mut s = prefix.as_os_str().to_os_string();
        s.push(format!("-{i}.json"));
        PathBuf::from(s)
    };
    let mut paths = Vec::with_capacity(parts.len());
    for (i, part) in parts.iter().enumerate() {
        let path = name(i + 1);
        let text = crate::output::pretty_json(part)?;
        iamref_dataset::atomic::write(&path, &text, iamref_dataset::atomic::Mode::Public)?;
        paths.push(path);
    }
    // A part of an earlier, longer split is not ours to delete: said.
    let stale = name(parts.len() + 1);
    if Path::new(&stale).exists() {
        crate::diag::note(format_args!(
            "{} is left from an earlier split (this one wrote {} part(s))",
            crate::output::safe(&stale.to_string_lossy()),
            parts.len()
        ));
    }
    Ok(Some(paths))
}

/// Prints the parts' paths on `w`, one per line.
pub fn print_paths(w: &mut dyn std::io::Write, paths: &[PathBuf]) -> Result<()> {
    for p in paths {
        writeln!(w, "{}", crate::output::safe(&p.to_string_lossy()))?;
    }
    Ok(())
}
